"""Training windows and whole views cut from the real-photo corpus (`models/training/real/`).

The simulator taught the models its own camera: on 408 real validation photos the
patches separated genuine captures from screens no better than chance (AUC 0.47, see
models/README.md). Real photos of physical things and of screens teach what a real
phone's denoising, sharpening, tone mapping and compression leave in both, so that
neither can be the cue.

Photos are split by repository, never at random, because one photographer's phone and
scenes recur across their photos: `CALIBRATION_REPOS` are kept out of training and set
the score's scale (`calibrate.py`), the corpus's validation split measures, and the
rest trains. Labels: genuine (a camera photo of something physical), screen (a camera
photo of a screen), digital (a rendered design or a flatbed scan, never photographed).
"""

from __future__ import annotations

import csv
import os
from multiprocessing import Pool

import numpy as np
from PIL import Image, ImageOps

from .capture import linear_to_srgb, srgb_to_linear
from .dataset import WINDOW
from .whole_view import FILL, HEIGHT, WIDTH, sample_points

LABELS = {"genuine": 0, "screen": 1, "print": 2, "digital": 3, "scan": 3}
# Two training repositories with both genuine and screen photos, held out of training
# for the image-level calibration (106 genuine, 89 screen photos).
CALIBRATION_REPOS = ("ShubhSharma34/spot-fake-photo", "yash2607-del/Salescode-ai-screen_recapture_detector")
WINDOWS_PER_PHOTO = 22
# Whole views per photo: the frame itself (what `--region whole` judges) and outlines
# placed at random, shaped like an ID-1 card or a passport page, as the detector would
# report a document lying somewhere in the scene.
RANDOM_OUTLINES = 3
BLOCK = 8
# Photos are decoded once and windows cut from them; a real photo is never resized, so
# the sensor's, the phone's and the messenger's traces stay at their own scale.
Image.MAX_IMAGE_PIXELS = 80_000_000


def photos(corpus: str, role: str) -> list[tuple[str, int, str]]:
    """(file, label, repository) of the corpus rows in `role`: "train" (the training
    split less the calibration repositories), "calibration" or "validation"."""
    with open(os.path.join(corpus, "index.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        held = r["repo"] in CALIBRATION_REPOS
        wanted = {"train": r["split"] == "train" and not held, "calibration": r["split"] == "train" and held, "validation": r["split"] == "validation"}[role]
        if wanted and r["label"] in LABELS:
            out.append((os.path.join(corpus, r["file"]), LABELS[r["label"]], r["repo"]))
    return sorted(out)


def load(path: str) -> np.ndarray:
    """The photo upright (EXIF orientation applied, as the engine applies it), RGB."""
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def windows(img: np.ndarray, rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """`count` windows of WINDOW px on the photo's 8 px block grid (where the engine
    cuts its patches), at random places; none when the photo is smaller."""
    h, w = img.shape[:2]
    if h < WINDOW or w < WINDOW:
        return []
    ys = rng.integers(0, (h - WINDOW) // BLOCK + 1, count) * BLOCK
    xs = rng.integers(0, (w - WINDOW) // BLOCK + 1, count) * BLOCK
    return [img[y : y + WINDOW, x : x + WINDOW].copy() for y, x in zip(ys, xs)]


# The photo is averaged in linear light over BASE x BASE cells once, and each view
# averages those further: a 24 MP photo's four views then cost one pass over it.
BASE = 4


def linear_cells(img: np.ndarray, factor: int) -> np.ndarray:
    """The photo in linear light, averaged over `factor` x `factor` cells (the ragged
    right and bottom edges dropped)."""
    h, w = img.shape[:2]
    hh, ww = h // factor, w // factor
    # uint8 in: capture.py looks each level up instead of computing it per pixel.
    lin = srgb_to_linear(img[: hh * factor, : ww * factor])
    return lin.reshape(hh, factor, ww, factor, 3).mean((1, 3))


def render_view(img: np.ndarray, corners: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
    """The whole view of the outline `corners` as the engine cuts it from a photo
    (`engine/src/liveness/view.rs`): the photo averaged in linear light over cells about one
    sample apart, read bilinearly at each of the view's 3x3 samples per pixel, the
    samples averaged; outside the photo the view holds FILL. `base` is
    `linear_cells(img, BASE)`, when the caller has it."""
    x, y, spacing = sample_points(corners)
    h, w = img.shape[:2]
    if spacing >= 2 * BASE:
        base = linear_cells(img, BASE) if base is None else base
        k = int(spacing) // BASE
        hh, ww = base.shape[0] // k, base.shape[1] // k
        cells = base[: hh * k, : ww * k].reshape(hh, k, ww, k, 3).mean((1, 3))
        factor = k * BASE
    else:
        factor = max(1, int(spacing))
        cells = linear_cells(img, factor)
        hh, ww = cells.shape[:2]
    # Cell centres sit at factor * (i + 0.5) - 0.5 in photo pixels.
    cx = (x + 0.5) / factor - 0.5
    cy = (y + 0.5) / factor - 0.5
    x0 = np.clip(np.floor(cx).astype(int), 0, ww - 1)
    y0 = np.clip(np.floor(cy).astype(int), 0, hh - 1)
    x1, y1 = np.clip(x0 + 1, 0, ww - 1), np.clip(y0 + 1, 0, hh - 1)
    fx = np.clip(cx - x0, 0, 1)[..., None]
    fy = np.clip(cy - y0, 0, 1)[..., None]
    top = cells[y0, x0] * (1 - fx) + cells[y0, x1] * fx
    bottom = cells[y1, x0] * (1 - fx) + cells[y1, x1] * fx
    samples = top * (1 - fy) + bottom * fy
    valid = ((x >= 0) & (x < w) & (y >= 0) & (y < h))[..., None]
    count = valid.sum(2)
    mean = (samples * valid).sum(2) / np.maximum(count, 1)
    out = np.clip(linear_to_srgb(mean) * 255 + 0.5, 0, 255).astype(np.uint8)
    out[count[..., 0] == 0] = FILL
    return out


def frame_corners(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)


def random_corners(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A document-shaped outline (aspect 1.35-1.7, a quarter to two thirds of the
    frame's shorter side tall, turned up to 30 degrees, corners jittered as a tilted
    card's are) lying inside the frame."""
    h, w = img.shape[:2]
    aspect = rng.uniform(1.35, 1.7)
    short = rng.uniform(0.25, 0.66) * min(h, w)
    long_ = min(short * aspect, 0.95 * max(h, w))
    angle = rng.uniform(-np.pi / 6, np.pi / 6) + (np.pi / 2 if h > w and rng.random() < 0.7 else 0)
    half = np.array([[-long_, -short], [long_, -short], [long_, short], [-long_, short]]) / 2
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = half @ rot.T + rng.normal(0, 0.03 * short, (4, 2))
    lo, hi = pts.min(0), pts.max(0)
    span = np.array([w, h]) - (hi - lo)
    centre = -lo + rng.uniform(0, 1, 2) * np.maximum(span, 0)
    return pts + centre


def _one_photo(args):
    path, label, index = args
    rng = np.random.default_rng([index, 31])
    try:
        img = load(path)
    except OSError as e:
        print(f"  skipped {path}: {e}", flush=True)
        return [], []
    wins = windows(img, rng, WINDOWS_PER_PHOTO)
    base = linear_cells(img, BASE)
    outlines = [frame_corners(img)] + [random_corners(img, rng) for _ in range(RANDOM_OUTLINES)]
    views = [render_view(img, c, base) for c in outlines]
    return [(x, label, index) for x in wins], [(v, label, index) for v in views]


def generate(corpus: str, role: str, windows_path: str, views_path: str, workers: int) -> dict:
    """Writes the role's windows and views as .npz files (x, y, group, conditions, the
    layout of the generated sets, so that training reads both alike); returns counts."""
    items = [(path, label, i) for i, (path, label, _) in enumerate(photos(corpus, role))]
    wx, wy, wg, vx, vy, vg = [], [], [], [], [], []
    with Pool(workers) as pool:
        for i, (wins, views) in enumerate(pool.imap(_one_photo, items, chunksize=4)):
            for x, y, g in wins:
                wx.append(x)
                wy.append(y)
                wg.append(g)
            for x, y, g in views:
                vx.append(x)
                vy.append(y)
                vg.append(g)
            if i % 100 == 0:
                print(f"  real {role}: {i}/{len(items)} photos", flush=True)
    for path, xs, ys, gs in ((windows_path, wx, wy, wg), (views_path, vx, vy, vg)):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.savez(path, x=np.stack(xs), y=np.array(ys, np.int64), group=-1 - np.array(gs, np.int64), conditions=np.array(["{\"source\": \"real\"}"] * len(xs)))
    return {"photos": len(items), "windows": len(wx), "views": len(vx), "per_label": {int(k): int((np.array(wy) == k).sum()) for k in sorted(set(wy))}}
