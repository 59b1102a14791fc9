"""The whole view: the document and what lies around it, rectified and shrunk.

A patch at native resolution cannot tell a screen whose pixel grid the camera does not
resolve from a card: the lens has erased the grid before the sensor sampled it. What the
camera still sees is the display around the document: the panel's own background, its
edge, the bezel and the device, the cover glass. The whole view is the document's
outline widened `EXPAND` times about its centre, rectified so that the document's long
side runs across, and averaged down to `WIDTH` x `HEIGHT` pixels in linear light, as the
engine computes it from the photo (`engine/src/liveness/view.rs`). Where the widened outline
leaves the photo the view holds the `FILL` colour, which the model's normalisation
turns into zero.

Views are rendered straight from the scene's radiance (a coarse camera: exposure, white
balance, saturation and clipping, each sample integrating its own footprint), because at
this scale the sensor noise, demosaicing, sharpening and JPEG of the full photo average
away; drawing the documents at 80 dpi saves the 700 dpi drawing the view cannot see.
What does not average away is blur: the lens's and the engine's own filtering, both
applied to the samples (`photo_blur`).
"""

from __future__ import annotations

import json
import os
from multiprocessing import Pool

import numpy as np
from scipy import ndimage

from .capture import CLASSES, Scene, apply_h, bilinear, homography, linear_to_srgb, srgb_to_linear
from .documents import draw_document, load_faces

WIDTH, HEIGHT = 128, 80
EXPAND = 2.0
SAMPLES = 3  # per view pixel and axis
FILL = (124, 116, 104)  # the ImageNet mean colour, normalised to zero
VIEW_DPI = 80.0
VIEWS_PER_SCENE = 1
JITTER = 0.006  # of the document's size: the detector's outline is about this precise


def long_side_first(corners: np.ndarray) -> np.ndarray:
    """The corners turned so that the first side is a long one, as the engine orders
    them (`Quad::long_side_first`)."""
    c = np.asarray(corners, np.float64)
    first = (np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[3] - c[2])) / 2
    second = (np.linalg.norm(c[2] - c[1]) + np.linalg.norm(c[0] - c[3])) / 2
    return c if first >= second else np.roll(c, -1, axis=0)


def sample_points(corners: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Camera coordinates of every sample of the view (HEIGHT, WIDTH, SAMPLES²) and the
    spacing between samples in camera pixels."""
    c = long_side_first(corners)
    h = homography(np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float64), c)
    sub = (np.arange(SAMPLES) + 0.5) / SAMPLES
    s = (np.arange(WIDTH)[:, None] + sub[None, :]).ravel() / WIDTH
    t = (np.arange(HEIGHT)[:, None] + sub[None, :]).ravel() / HEIGHT
    uu, vv = np.meshgrid((s - 0.5) * EXPAND + 0.5, (t - 0.5) * EXPAND + 0.5)
    x, y = apply_h(h, uu, vv)
    # (HEIGHT*S, WIDTH*S) -> (HEIGHT, WIDTH, S*S)
    def blocks(a):
        return a.reshape(HEIGHT, SAMPLES, WIDTH, SAMPLES).transpose(0, 2, 1, 3).reshape(HEIGHT, WIDTH, SAMPLES * SAMPLES)

    side = (np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / 2
    spacing = side * EXPAND / (WIDTH * SAMPLES)
    return blocks(x), blocks(y), float(spacing)


def _linear_light(scene: Scene, x: np.ndarray, y: np.ndarray, spacing: float, rng) -> np.ndarray:
    """Linear RGB the photo holds at camera coordinates, each sample covering `spacing`."""
    if scene.kind == "digital":
        u, v = apply_h(scene.to_doc, x + 0.5, y + 0.5)
        hh, ww = scene.digital_image.shape[:2]
        inside = ((u >= 0) & (u < ww) & (v >= 0) & (v < hh))[..., None]
        if scene.mode == "composite":
            ground = linear_to_srgb(scene.background.albedo(x, y))
        else:
            ground = np.broadcast_to(scene.ui_colour, x.shape + (3,))
        srgb = np.where(inside, bilinear(scene.digital_image, u, v), ground)
        return srgb_to_linear(np.clip(srgb, 0, 1) * 255.0)
    cam = scene.camera
    rad = scene.radiance(x.astype(np.float32), y.astype(np.float32), rng, 1.0 / spacing, coarse=True)
    lin = np.clip(rad * cam.exposure, 0, 1) / (scene.light.tint * cam.wb_error)
    grey = lin.mean(-1, keepdims=True)
    return np.clip(grey + (lin - grey) * cam.saturation, 0, 1)


def photo_blur(scene: Scene, spacing: float) -> float:
    """Standard deviation, in samples, of the blur between the scene and a view sample
    the engine takes from the photo: the lens (or a scanner's or editor's softening)
    in camera pixels, then the engine's own box filter of about one sample spacing
    followed by bilinear interpolation between its cells (variance spacing²/12 +
    spacing²/6, `engine/src/liveness/view.rs`). In a 1080p photo a sample spans about 5 camera
    pixels, so a defocused lens (2 px) blurs the view visibly; rendered without it,
    views were crisper than any the engine cuts, and defocused genuine photos looked
    unlike every genuine view the model had seen."""
    lens = scene.digital_blur if scene.kind == "digital" else scene.camera.lens_sigma
    return float(np.sqrt((lens / spacing) ** 2 + 0.25))


def _blurred(lin: np.ndarray, valid: np.ndarray, sigma: float) -> np.ndarray:
    """`lin` (HEIGHT, WIDTH, S², 3) blurred on the sample grid; samples
    outside the photo neither give nor receive light (normalised convolution), as the
    engine repeats the photo's edge and skips samples beyond it."""

    def grid(a):
        return a.reshape(HEIGHT, WIDTH, SAMPLES, SAMPLES, -1).transpose(0, 2, 1, 3, 4).reshape(HEIGHT * SAMPLES, WIDTH * SAMPLES, -1)

    def blocks(a):
        return a.reshape(HEIGHT, SAMPLES, WIDTH, SAMPLES, -1).transpose(0, 2, 1, 3, 4).reshape(HEIGHT, WIDTH, SAMPLES * SAMPLES, -1)

    w = grid(valid.astype(np.float32))
    light = ndimage.gaussian_filter(grid(lin) * w, (sigma, sigma, 0), mode="nearest")
    weight = ndimage.gaussian_filter(w, (sigma, sigma, 0), mode="nearest")
    light = np.where(weight > 1e-6, light / np.maximum(weight, 1e-6), 0.0)
    return blocks(light)


def render_view(scene: Scene, corners: np.ndarray, rng) -> np.ndarray:
    """The whole view (HEIGHT, WIDTH, 3) uint8 sRGB of the document outlined by `corners`."""
    x, y, spacing = sample_points(corners)
    lin = _linear_light(scene, x, y, spacing, rng)
    valid = ((x >= 0) & (x < scene.frame_w) & (y >= 0) & (y < scene.frame_h))[..., None]
    lin = _blurred(lin, valid, photo_blur(scene, spacing))
    count = valid.sum(2)
    mean = (lin * valid).sum(2) / np.maximum(count, 1)
    out = np.clip(linear_to_srgb(mean) * 255 + 0.5, 0, 255).astype(np.uint8)
    out[count[..., 0] == 0] = FILL
    return out


def jittered_corners(scene: Scene, rng) -> np.ndarray:
    c = scene.target_corners()
    size = float(np.linalg.norm(c[2] - c[0]))
    return c + rng.normal(0, JITTER * size, c.shape)


def _one_document(seed: int):
    rng = np.random.default_rng([seed, 7])
    doc = draw_document(rng, load_faces(), dpi=VIEW_DPI)
    out = []
    for label, kind in enumerate(CLASSES):
        scene = Scene(rng, doc, kind)
        for _ in range(VIEWS_PER_SCENE):
            out.append((render_view(scene, jittered_corners(scene, rng), rng), label, scene.conditions))
    return seed, out


def generate(path: str, seeds: range, workers: int) -> None:
    """Writes `path` (.npz) with views, labels, scene groups and conditions."""
    xs, ys, groups, conds = [], [], [], []
    # In seed order, so that a rebuild gives the same rows (see dataset.generate).
    with Pool(workers) as pool:
        for i, (seed, items) in enumerate(pool.imap(_one_document, seeds, chunksize=8)):
            for x, y, c in items:
                xs.append(x)
                ys.append(y)
                groups.append(seed * 4 + y)
                conds.append(c)
            if i % 200 == 0:
                print(f"  {path}: {i}/{len(seeds)} documents", flush=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez(path, x=np.stack(xs), y=np.array(ys, np.int64), group=np.array(groups, np.int64), conditions=np.array([json.dumps(c) for c in conds]))
