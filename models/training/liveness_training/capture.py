"""Physically motivated capture simulation: genuine photos and three presentation attacks.

Light is handled in linear units end to end. A scene is a radiance function of camera
coordinates, evaluated on a supersampled grid and integrated by the camera model:

* genuine: the document itself, lit by the room, with specular glare on lamination;
* screen: a display panel whose sub-pixels (RGB stripe or PenTile) emit the document
  picture. The sub-pixel apertures are box-filtered analytically over each sample's
  footprint, so the moiré in the photo comes from the camera sampling the real grid,
  never from stripes painted on;
* print: paper whose reflectance is set by ink dots: rotated clustered-dot CMYK screens
  (laser) or dispersed dots on a printer grid (inkjet), or black only (grey copies);
* digital: screenshots, flatbed scans and pasted composites with little or no capture.

Genuine, screen and print images then go through one camera pipeline: lens blur, pixel
area integration, Bayer mosaic, shot and read noise, 10-bit quantisation, bilinear
demosaicing, white balance, colour matrix, noise reduction, tone curve, sharpening and
JPEG. Every parameter is drawn from a range real devices show, and is recorded so the
evaluation can report error rates per condition.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy import ndimage

from .documents import Document

SUPERSAMPLE = 3
MARGIN = 10  # output pixels rendered around a window so filters see real neighbours

RESOLUTIONS = [(1920, 1080), (2560, 1440), (3264, 2448), (4000, 3000)]


_SRGB_LUT = np.arange(256, dtype=np.float32) / 255.0
_SRGB_LUT = np.where(_SRGB_LUT <= 0.04045, _SRGB_LUT / 12.92, ((_SRGB_LUT + 0.055) / 1.055) ** 2.4).astype(np.float32)


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    if v.dtype == np.uint8:
        return _SRGB_LUT[v]
    v = v.astype(np.float32) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def document_texture(doc: Document, px_per_mm: float) -> np.ndarray:
    """The document in linear light, area-averaged down to at most `px_per_mm`.

    Documents are drawn finer than most photos sample them; sampling that texture
    point-wise at a coarser rate would alias detail a real pixel integrates away, so it
    is pre-filtered first, in linear light as the sensor adds up photons."""
    lin = srgb_to_linear(doc.image)
    tw = int(round(doc.width_mm * px_per_mm))
    if tw >= doc.image.shape[1]:
        return lin
    th = max(int(round(doc.height_mm * px_per_mm)), 1)
    return np.stack([np.asarray(Image.fromarray(lin[..., c]).resize((max(tw, 1), th), Image.BOX)) for c in range(3)], -1)


def block_mean(a: np.ndarray, s: int) -> np.ndarray:
    """Mean of each `s` x `s` block of an H x W x C array (H and W multiples of `s`).

    The nine sums are formed in the order NumPy's `reshape(...).mean((1, 3))` forms
    them, and divided the same way, so the values are bit for bit the same (checked on
    rendered windows and photos), four times faster: NumPy reduces over two short
    strided axes one element at a time."""
    h, w = a.shape[0] // s, a.shape[1] // s
    blocks = a.reshape(h, s, w, s, a.shape[2])
    acc = blocks[:, 0, :, 0].copy()
    for i in range(s):
        for j in range(s):
            if i or j:
                acc += blocks[:, i, :, j]
    return np.true_divide(acc, np.intp(s * s), out=acc, casting="unsafe")


def channel_mean(a: np.ndarray) -> np.ndarray:
    """`a.mean(-1, keepdims=True)` for three channels, bit for bit (the same two
    additions and division), without NumPy's slow reduction over a length-3 axis."""
    acc = a[..., 0] + a[..., 1]
    acc += a[..., 2]
    return np.true_divide(acc, np.intp(3), out=acc, casting="unsafe")[..., None]


def tinted(values: np.ndarray, colour: np.ndarray, op=np.multiply) -> np.ndarray:
    """`op(values, colour)` for a colour of C values and an array whose last axis is C
    or 1 (an image or a plane), computed one channel at a time.

    Each value comes from the same operation on the same operands in the same types, so
    the result is bit for bit `op`'s own; but NumPy runs a broadcast of a short vector
    over an image a few elements per inner loop, about three times slower than C
    passes over planes, and the simulator colours planes in nearly every step."""
    colour = np.asarray(colour)
    plane = values[..., 0] if values.shape[-1] == 1 else None
    first = op(values[..., 0], colour[0])
    out = np.empty(values.shape[:-1] + colour.shape, first.dtype)
    out[..., 0] = first
    for c in range(1, len(colour)):
        op(plane if plane is not None else values[..., c], colour[c], out=out[..., c])
    return out


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    v = np.clip(v, 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055)


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """3x3 matrix mapping the 4 points `src` onto `dst`."""
    a = []
    for (x, y), (u, v) in zip(src, dst):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.asarray(a, np.float64))
    h = vt[-1].reshape(3, 3)
    return h / h[2, 2]


def apply_h(h: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    return (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / w, (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / w


def bilinear(tex: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Samples an H x W x C texture at pixel coordinates (clamped to the edge)."""
    h, w = tex.shape[:2]
    x = np.clip(x - 0.5, 0, w - 1.001)
    y = np.clip(y - 0.5, 0, h - 1.001)
    x0, y0 = x.astype(np.int32), y.astype(np.int32)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    # The four corners taken from the flattened texture by one index, and the sums
    # formed in place: the same operations in the same order as the plain formula
    # (`tex[y0, x0] * (1 - fx) + ...`), so the same values, without four 2-D index
    # computations and their temporaries.
    flat = tex.reshape(h * w, -1)
    i = y0.astype(np.intp) * w + x0
    a = np.take(flat, i, axis=0) * (1 - fx)
    a += np.take(flat, i + 1, axis=0) * fx
    b = np.take(flat, i + w, axis=0) * (1 - fx)
    b += np.take(flat, i + w + 1, axis=0) * fx
    a *= 1 - fy
    b *= fy
    a += b
    return a.astype(np.float32)


class BoxWindow:
    """Windows of `width` centred on the points `x`, over a grid of `period`.

    The mean of a periodic box (on in [lo, hi) of each period) over each window has a
    closed form, so a sub-pixel grid far finer than the sampling grid averages to its
    fill factor instead of aliasing inside the simulator. The floor and remainder of
    both window ends are the same for every box on the grid (the sub-pixels of one
    colour, or one row), so they are computed once and shared."""

    def __init__(self, x: np.ndarray, period: float, width: np.ndarray):
        half = width / 2
        self.width = width
        self.ends = [self._split(x + half, period), self._split(x - half, period)]

    @staticmethod
    def _split(t: np.ndarray, period: float) -> tuple[np.ndarray, np.ndarray]:
        k = np.floor(t / period)
        return k, t - k * period

    def mean(self, lo: float, hi: float) -> np.ndarray:
        """Mean of the box on in [lo, hi) of each period, over each window."""

        def integral(k: np.ndarray, f: np.ndarray) -> np.ndarray:
            return k * (hi - lo) + np.clip(f - lo, 0, hi - lo)

        (k1, f1), (k0, f0) = self.ends
        return (integral(k1, f1) - integral(k0, f0)) / self.width


def box_average(x: np.ndarray, lo: float, hi: float, period: float, width: np.ndarray) -> np.ndarray:
    """Mean of a periodic box (on in [lo, hi) of each period) over a window of `width`
    centred on each of `x` (one box; see `BoxWindow` for several on one grid)."""
    return BoxWindow(x, period, width).mean(lo, hi)


@dataclass
class Placement:
    """Where an object plane (in mm) lands in the camera frame."""

    to_object: np.ndarray  # camera px -> object mm
    mm_per_px: float

    @staticmethod
    def random(rng, frame_w, frame_h, obj_w, obj_h, target_w, target_h, target_origin, span, max_tilt):
        """Places a rectangle so that the target part of the object spans `span` of the frame."""
        aspect = target_w / target_h
        tw = span * frame_w
        th = tw / aspect
        if th > span * frame_h * 1.15:
            th = span * frame_h
            tw = th * aspect
        scale = tw / target_w  # px per mm
        angle = rng.uniform(-0.25, 0.25) if rng.random() < 0.7 else rng.uniform(-1.2, 1.2)
        ca, sa = math.cos(angle), math.sin(angle)
        # Keep the rotated target inside the frame with a margin.
        ext_w = abs(ca) * tw + abs(sa) * th
        ext_h = abs(sa) * tw + abs(ca) * th
        cx = rng.uniform(min(ext_w / 2 + 0.04 * frame_w, frame_w / 2), max(frame_w - ext_w / 2 - 0.04 * frame_w, frame_w / 2))
        cy = rng.uniform(min(ext_h / 2 + 0.04 * frame_h, frame_h / 2), max(frame_h - ext_h / 2 - 0.04 * frame_h, frame_h / 2))
        tx, ty = target_origin
        corners_mm = np.array([[0, 0], [obj_w, 0], [obj_w, obj_h], [0, obj_h]], np.float64)
        rel = (corners_mm - [tx + target_w / 2, ty + target_h / 2]) * scale
        pts = np.stack([cx + rel[:, 0] * ca - rel[:, 1] * sa, cy + rel[:, 0] * sa + rel[:, 1] * ca], 1)
        # Perspective: the object tilts away from the camera.
        tilt = rng.uniform(0, max_tilt) * tw
        jitter = rng.normal(0, 1, (4, 2)) * tilt / 3
        pts = pts + jitter * np.array([[1, 1]])
        h_obj_to_cam = homography(corners_mm, pts)
        return Placement(np.linalg.inv(h_obj_to_cam), 1.0 / scale)


@dataclass
class Background:
    """A table, desk or cloth behind the object, computed in camera pixels."""

    kind: str
    colour: np.ndarray
    colour2: np.ndarray
    freq: float
    angle: float
    scale: float

    @staticmethod
    def random(rng, frame_w):
        kind = rng.choice(["wood", "plain", "cloth", "stone"])
        c = rng.uniform(0.05, 0.7, 3).astype(np.float32)
        if rng.random() < 0.25:
            c = np.full(3, rng.uniform(0.6, 0.9), np.float32)  # white tables are common
        return Background(kind, c, (c * rng.uniform(0.6, 1.1, 3)).astype(np.float32), rng.uniform(0.5, 3), rng.uniform(0, math.pi), frame_w / 1000)

    def albedo(self, x, y):
        x, y = x / self.scale, y / self.scale
        u = x * math.cos(self.angle) + y * math.sin(self.angle)
        v = -x * math.sin(self.angle) + y * math.cos(self.angle)
        if self.kind == "wood":
            t = 0.5 + 0.5 * np.sin(u * 0.05 * self.freq + 3 * np.sin(v * 0.004 * self.freq) + 0.5 * np.sin(u * 0.31))
        elif self.kind == "cloth":
            t = 0.5 + 0.25 * (np.sin(u * 1.3 * self.freq) + np.sin(v * 1.3 * self.freq))
        elif self.kind == "stone":
            t = 0.5 + 0.2 * np.sin(u * 0.02 * self.freq) * np.sin(v * 0.03) + 0.15 * np.sin(u * 0.37 + v * 0.23)
        else:
            t = 0.5 + 0.05 * np.sin(u * 0.01 + v * 0.013)
        t = t[..., None].astype(np.float32)
        return tinted(1 - t, self.colour) + tinted(t, self.colour2)


@dataclass
class Lighting:
    """Room light over the reflective parts of the scene (not screen emission)."""

    tint: np.ndarray
    gradient: np.ndarray
    level: float
    glare: list = field(default_factory=list)  # (x, y, radius, strength) in camera px

    @staticmethod
    def random(rng, frame_w, frame_h):
        t = rng.uniform(-0.12, 0.12)
        tint = np.array([1 + t, 1.0, 1 - t], np.float32) * rng.uniform(0.97, 1.03, 3).astype(np.float32)
        g = rng.normal(0, 0.35, 2) / max(frame_w, frame_h)
        return Lighting(tint, g, rng.uniform(0.75, 1.0))

    def illum(self, x, y, frame_w, frame_h):
        v = 1 + self.gradient[0] * (x - frame_w / 2) + self.gradient[1] * (y - frame_h / 2)
        return tinted((np.clip(v, 0.3, 1.7) * self.level)[..., None], self.tint)

    def glare_at(self, x, y):
        out = np.zeros(x.shape, np.float32)
        for gx, gy, r, s in self.glare:
            out += s * np.exp(-((x - gx) ** 2 + (y - gy) ** 2) / (2 * r * r))
        return out[..., None]


@dataclass
class Fingers:
    capsules: list  # (x0, y0, x1, y1, radius, colour)

    @staticmethod
    def random(rng, frame_w, frame_h, doc_center, doc_size):
        caps = []
        for _ in range(rng.integers(1, 3)):
            side = rng.integers(4)
            r = doc_size * rng.uniform(0.035, 0.06)
            # From the frame edge toward the document's edge.
            edge = [(rng.uniform(0, frame_w), frame_h + r), (rng.uniform(0, frame_w), -r), (-r, rng.uniform(0, frame_h)), (frame_w + r, rng.uniform(0, frame_h))][side]
            cx, cy = doc_center
            reach = rng.uniform(0.35, 0.6)
            tip = (cx + (edge[0] - cx) * reach, cy + (edge[1] - cy) * reach)
            skin = np.array([0.65, 0.42, 0.32], np.float32) * rng.uniform(0.3, 1.2)
            caps.append((edge[0], edge[1], tip[0], tip[1], r, np.clip(skin, 0, 1)))
        return Fingers(caps)

    def _reaching(self, x, y) -> list:
        """The capsules that reach the box around the points `x`, `y`; the others
        cover none of them."""
        lo_x, hi_x, lo_y, hi_y = float(x.min()), float(x.max()), float(y.min()), float(y.max())
        out = []
        for cap in self.capsules:
            x0, y0, x1, y1, r, _ = cap
            gap_x = max(min(x0, x1) - hi_x, lo_x - max(x0, x1), 0.0)
            gap_y = max(min(y0, y1) - hi_y, lo_y - max(y0, y1), 0.0)
            if math.hypot(gap_x, gap_y) < r + 2:
                out.append(cap)
        return out

    def cover(self, x, y):
        """(mask, colour) of the fingers over the points, or None where no finger
        reaches them, so that a tile far from every finger skips the blend."""
        capsules = self._reaching(x, y) if self.capsules else []
        if not capsules:
            return None
        mask = np.zeros(x.shape, np.float32)
        colour = np.zeros(x.shape + (3,), np.float32)
        for x0, y0, x1, y1, r, c in capsules:
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0, 1)
            d = np.hypot(x - (x0 + t * dx), y - (y0 + t * dy))
            m = np.clip((r - d) / 1.5, 0, 1)
            shade = np.clip(1 - (d / r) ** 2, 0.2, 1)[..., None] ** 0.5
            colour = np.where((m > mask)[..., None], c * shade, colour)
            mask = np.maximum(mask, m)
        return mask, colour


@dataclass
class Camera:
    """One phone or compact camera, from optics to JPEG."""

    lens_sigma: float
    full_well: float
    read_noise: float
    wb_error: np.ndarray
    saturation: float
    denoise: float
    sharpen: float
    sharpen_sigma: float
    exposure: float
    jpeg_quality: int
    subsampling: int

    @staticmethod
    def random(rng):
        defocus = rng.random() < 0.15
        return Camera(
            lens_sigma=float(rng.uniform(1.0, 2.2) if defocus else rng.uniform(0.35, 1.0)),
            full_well=float(np.exp(rng.uniform(np.log(250), np.log(8000)))),
            read_noise=float(rng.uniform(0.8, 5.0)),
            wb_error=rng.uniform(0.95, 1.05, 3).astype(np.float32),
            saturation=float(rng.uniform(1.0, 1.4)),
            denoise=float(rng.uniform(0.0, 0.7)),
            sharpen=float(rng.uniform(0.0, 1.5)),
            sharpen_sigma=float(rng.uniform(0.7, 1.6)),
            exposure=float(rng.uniform(0.65, 0.95)),
            jpeg_quality=int(rng.integers(70, 101)),
            subsampling=int(rng.choice([0, 2], p=[0.3, 0.7])),
        )

    def develop(self, radiance: np.ndarray, x0: int, y0: int, rng, tint: np.ndarray, s: int) -> np.ndarray:
        """Sensor to 8-bit sRGB for a radiance block supersampled `s` times whose first output pixel is (x0, y0)."""
        h, w = radiance.shape[0] // s, radiance.shape[1] // s
        # The lens blurs the light before the pixels sample it: done in this order, a
        # screen grid finer than the pixels is lost, as in a real camera, instead of
        # aliasing into moiré that the blur could no longer remove.
        blurred = ndimage.gaussian_filter(radiance, (self.lens_sigma * s, self.lens_sigma * s, 0), mode="nearest")
        pixels = block_mean(blurred[: h * s, : w * s], s) * self.exposure
        # RGGB mosaic aligned to the full frame, so windows and whole frames agree.
        yy, xx = np.mgrid[y0 : y0 + h, x0 : x0 + w]
        channel = np.where(yy % 2 == 0, np.where(xx % 2 == 0, 0, 1), np.where(xx % 2 == 0, 1, 2))
        raw = np.take_along_axis(pixels, channel[..., None], 2)[..., 0]
        electrons = np.clip(raw, 0, 1.2) * self.full_well
        electrons = electrons + rng.normal(0, 1, raw.shape) * np.sqrt(np.maximum(electrons, 0) + self.read_noise**2)
        raw = np.clip(np.round(electrons / self.full_well * 1023) / 1023, 0, 1).astype(np.float32)
        planes = np.zeros((h, w, 3), np.float32)
        for c in range(3):
            planes[..., c] = np.where(channel == c, raw, 0)
        k_rb = np.array([[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]], np.float32)
        k_g = np.array([[0, 0.25, 0], [0.25, 1, 0.25], [0, 0.25, 0]], np.float32)
        rgb = np.stack([ndimage.convolve(planes[..., c], k_g if c == 1 else k_rb, mode="mirror") for c in range(3)], -1)
        rgb = tinted(rgb, tint * self.wb_error, np.true_divide)
        grey = channel_mean(rgb)
        rgb = grey + (rgb - grey) * self.saturation
        if self.denoise > 0:
            rgb = rgb * (1 - self.denoise) + ndimage.gaussian_filter(rgb, (0.9, 0.9, 0)) * self.denoise
        out = linear_to_srgb(rgb)
        if self.sharpen > 0:
            out = out + self.sharpen * (out - ndimage.gaussian_filter(out, (self.sharpen_sigma, self.sharpen_sigma, 0)))
        return np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)


@dataclass
class Screen:
    """A display showing a picture of the document."""

    device: str
    layout: str  # "stripe" | "pentile"
    pitch_mm: float
    panel_w_mm: float
    panel_h_mm: float
    bezel_mm: float
    content: np.ndarray  # panel pixels, linear emission 0..1
    doc_origin_mm: tuple[float, float]
    doc_size_mm: tuple[float, float]
    brightness: float
    cast: np.ndarray
    bleed: float
    bgr: bool
    reflection: float

    @staticmethod
    def random(rng, doc: Document):
        device = rng.choice(["phone", "tablet", "laptop", "monitor"], p=[0.4, 0.25, 0.2, 0.15])
        pitch = {"phone": (0.045, 0.075), "tablet": (0.08, 0.13), "laptop": (0.11, 0.2), "monitor": (0.18, 0.3)}[device]
        pitch_mm = float(rng.uniform(*pitch))
        layout = "pentile" if device == "phone" and rng.random() < 0.6 else "stripe"
        panel_w_px = int(rng.uniform(1080, 2800)) if device != "phone" else int(rng.uniform(1080, 1440))
        panel_w_mm = panel_w_px * pitch_mm
        panel_h_mm = panel_w_mm * (rng.uniform(0.55, 0.75) if device != "phone" else rng.uniform(0.45, 0.6))
        fill = rng.uniform(0.55, 0.95)
        doc_aspect = doc.width_mm / doc.height_mm
        dw = min(panel_w_mm * fill, panel_h_mm * fill * doc_aspect)
        dh = dw / doc_aspect
        ox = (panel_w_mm - dw) / 2 + rng.uniform(-0.5, 0.5) * (panel_w_mm - dw) * 0.5
        oy = (panel_h_mm - dh) / 2 + rng.uniform(-0.5, 0.5) * (panel_h_mm - dh) * 0.5
        # The picture on the screen is itself a resampled copy at panel resolution.
        pw, ph = max(int(panel_w_mm / pitch_mm), 1), max(int(panel_h_mm / pitch_mm), 1)
        canvas = Image.new("RGB", (pw, ph), tuple(int(v) for v in rng.uniform(0, 60, 3)))
        shown = Image.fromarray(doc.image).resize((max(int(dw / pitch_mm), 1), max(int(dh / pitch_mm), 1)), Image.LANCZOS)
        canvas.paste(shown, (int(ox / pitch_mm), int(oy / pitch_mm)))
        gamma = rng.uniform(2.0, 2.6)
        content = (np.asarray(canvas, np.float32) / 255.0) ** gamma
        return Screen(
            device=str(device), layout=str(layout), pitch_mm=pitch_mm, panel_w_mm=panel_w_mm, panel_h_mm=panel_h_mm,
            bezel_mm=float(rng.uniform(2, 12)), content=content.astype(np.float32), doc_origin_mm=(ox, oy), doc_size_mm=(dw, dh),
            brightness=float(rng.uniform(0.7, 1.6)), cast=rng.uniform(0.9, 1.1, 3).astype(np.float32),
            bleed=float(rng.uniform(0.0, 0.04)), bgr=bool(rng.random() < 0.2), reflection=float(rng.uniform(0.005, 0.05)),
        )

    def emission(self, u, v, footprint_mm):
        """Emitted linear RGB at panel coordinates (mm), box-filtered over the footprint."""
        p = self.pitch_mm
        fu, fv = u / p, v / p
        wu = np.maximum(footprint_mm / p, 1e-3)
        ph, pw = self.content.shape[:2]
        iu = np.clip(fu.astype(np.int32), 0, pw - 1)
        iv = np.clip(fv.astype(np.int32), 0, ph - 1)
        if np.ndim(wu) == 0:
            wu = np.full(u.shape, wu, np.float32)
        # Where one sample covers several panel pixels the picture itself must be averaged too.
        c = self.content[iv, iu]
        out = np.zeros(u.shape + (3,), np.float32)
        across, down = BoxWindow(fu, 1.0, wu), BoxWindow(fv, 1.0, wu)
        if self.layout == "stripe":
            rows = down.mean(0.06, 0.94)
            order = [2, 1, 0] if self.bgr else [0, 1, 2]
            for k, ch in enumerate(order):
                out[..., ch] = across.mean(k / 3 + 0.04, (k + 1) / 3 - 0.04) * rows * 3 * c[..., ch]
        else:
            # PenTile RGBG: green in every pixel; red and blue alternate, shifted each row.
            green = across.mean(0.6, 0.9) * down.mean(0.3, 0.7)
            out[..., 1] = green / 0.12 * c[..., 1]
            # Red and blue repeat every two pixels; fu + 1 serves both red's second row
            # and blue's first. (fu + 1 + 1.0 is not always fu + 2 in floating point.)
            pairs = {0: BoxWindow(fu, 2.0, wu), 1: BoxWindow(fu + 1, 2.0, wu), 2: BoxWindow(fu + 1 + 1.0, 2.0, wu)}
            rows2 = BoxWindow(fv, 2.0, wu)
            for ch, shift in ((0, 0), (2, 1)):
                m = np.zeros(u.shape, np.float32)
                for row in (0, 1):
                    m += pairs[row + shift].mean(0.05, 0.5) * rows2.mean(row + 0.1, row + 0.9)
                out[..., ch] = m / (0.45 * 0.8 / 4) / 2 * c[..., ch]
        cu = np.clip(np.minimum(u, self.panel_w_mm - u) / (0.15 * self.panel_w_mm), 0, 1)
        cv = np.clip(np.minimum(v, self.panel_h_mm - v) / (0.15 * self.panel_h_mm), 0, 1)
        bleed = self.bleed * (1 - np.minimum(cu, cv))[..., None]
        return (tinted(out, self.cast) + bleed + 0.003) * self.brightness


@dataclass
class Printer:
    """A printer and paper that reproduce the document as ink dots."""

    method: str  # "laser" | "inkjet" | "grey"
    lpi: float
    dpi: float
    source_dpi: float  # resolution of the attacker's copy that was printed
    angles: list
    paper: np.ndarray
    gamut: float
    toner_noise: float
    dot_gain: float
    cut_out: bool
    blue_noise: np.ndarray
    offsets: list

    # Reflectance of each ink layer in R, G, B.
    INKS = np.array([[0.12, 0.62, 0.92], [0.9, 0.2, 0.55], [0.98, 0.92, 0.15], [0.08, 0.08, 0.1]], np.float32)

    @staticmethod
    def random(rng):
        method = rng.choice(["laser", "inkjet", "grey"], p=[0.45, 0.4, 0.15])
        base = 15 * math.pi / 180
        angles = [base + a * math.pi / 180 for a in (15, 75, 0, 45)]
        angles = [a + rng.uniform(-0.05, 0.05) for a in angles]
        # A blue-noise threshold tile: white noise with its low frequencies removed, like
        # the dispersed dots error diffusion leaves.
        white = rng.random((64, 64))
        f = np.fft.fft2(white)
        fy, fx = np.meshgrid(np.fft.fftfreq(64), np.fft.fftfreq(64), indexing="ij")
        f *= np.clip(np.hypot(fx, fy) / 0.2, 0, 1)
        hp = np.real(np.fft.ifft2(f))
        ranks = hp.ravel().argsort().argsort().reshape(64, 64)
        return Printer(
            method=str(method), lpi=float(rng.uniform(100, 200)), dpi=float(rng.choice([300, 600, 1200])),
            source_dpi=float(rng.uniform(300, 600)), angles=angles,
            paper=rng.uniform(0.85, 0.97, 1).astype(np.float32) * rng.uniform(0.97, 1.02, 3).astype(np.float32),
            gamut=float(rng.uniform(0.65, 0.95)), toner_noise=float(rng.uniform(0.02, 0.12)), dot_gain=float(rng.uniform(0.0, 0.15)),
            cut_out=bool(rng.random() < 0.65), blue_noise=((ranks + 0.5) / 4096).astype(np.float32),
            offsets=[tuple(rng.integers(0, 64, 2)) for _ in range(4)],
        )

    def coverage(self, rgb_lin: np.ndarray) -> np.ndarray:
        """Ink coverage C, M, Y, K for linear RGB, with the printer's reduced gamut."""
        srgb = linear_to_srgb(rgb_lin)
        grey = channel_mean(srgb)
        srgb = grey + (srgb - grey) * self.gamut
        srgb = 0.04 + srgb * 0.92  # paper white and ink black are not 0 and 1
        if self.method == "grey":
            k = 1 - channel_mean(srgb)[..., 0]
            return np.stack([np.zeros_like(k)] * 3 + [k], -1)
        k = 1 - np.maximum(np.maximum(srgb[..., 0], srgb[..., 1]), srgb[..., 2])
        cmy = (1 - srgb - k[..., None]) / np.maximum(1 - k[..., None], 1e-3)
        return np.concatenate([cmy, k[..., None]], -1)

    def mean_reflectance(self, rgb_lin):
        """Paper reflectance averaged over many dots: each ink layer covers its share."""
        cov = np.clip(self.coverage(rgb_lin) * (1 + self.dot_gain), 0, 1)
        out = np.broadcast_to(self.paper, rgb_lin.shape).copy()
        for ink in range(4):
            out = out * (1 - cov[..., ink : ink + 1] * (1 - self.INKS[ink]))
        return out

    def reflectance(self, u, v, rgb_lin, rng_noise):
        """Paper reflectance under the dots, at paper coordinates in mm."""
        cov = np.clip(self.coverage(rgb_lin) * (1 + self.dot_gain), 0, 1)
        out = np.broadcast_to(self.paper, u.shape + (3,)).copy()
        for ink in range(4):
            a = cov[..., ink]
            if not a.any():
                continue
            if self.method == "inkjet":
                pitch = 25.4 / self.dpi
                iu = (u / pitch).astype(np.int64) + self.offsets[ink][0]
                iv = (v / pitch).astype(np.int64) + self.offsets[ink][1]
                on = (a > self.blue_noise[iv % 64, iu % 64]).astype(np.float32)
            else:
                period = 25.4 / self.lpi
                ang = self.angles[ink]
                x = (u * math.cos(ang) + v * math.sin(ang)) / period
                y = (-u * math.sin(ang) + v * math.cos(ang)) / period
                spot = 0.5 - 0.25 * (np.cos(2 * math.pi * x) + np.cos(2 * math.pi * y))
                on = np.clip((a - spot) * 8 + 0.5 + rng_noise * self.toner_noise * 4, 0, 1)
            out = out * (1 - tinted(on[..., None], 1 - self.INKS[ink]))
        # Paper fibres: fine multiplicative texture.
        fibre = 1 + 0.02 * np.sin(u * 23.1 + np.sin(v * 7.3) * 3) * np.sin(v * 19.7 + u * 0.7)
        return out * fibre[..., None]


CLASSES = ["genuine", "screen", "print", "digital"]


class Scene:
    """One photo (or digital image) of one document, renderable by window or whole."""

    def __init__(self, rng: np.random.Generator, doc: Document, kind: str, resolution: tuple[int, int] | None = None):
        self.kind = kind
        self.doc = doc
        self.seed = int(rng.integers(2**31))
        self.conditions: dict = {"class": kind}
        if kind == "digital":
            self._init_digital(rng)
            return
        self.frame_w, self.frame_h = RESOLUTIONS[rng.choice(len(RESOLUTIONS), p=[0.4, 0.25, 0.2, 0.15])]
        if rng.random() < 0.3:
            self.frame_w, self.frame_h = self.frame_h, self.frame_w
        if resolution is not None:
            self.frame_w, self.frame_h = resolution
        self.camera = Camera.random(rng)
        self.light = Lighting.random(rng, self.frame_w, self.frame_h)
        self.background = Background.random(rng, self.frame_w)
        span = rng.uniform(0.4, 0.85)
        dw, dh = doc.width_mm, doc.height_mm
        if kind == "screen":
            self.screen = Screen.random(rng, doc)
            sc = self.screen
            b = sc.bezel_mm
            self.obj_w, self.obj_h = sc.panel_w_mm + 2 * b, sc.panel_h_mm + 2 * b
            target = (sc.doc_size_mm[0], sc.doc_size_mm[1], (sc.doc_origin_mm[0] + b, sc.doc_origin_mm[1] + b))
            self.conditions.update(device=sc.device, layout=sc.layout, pitch_mm=round(sc.pitch_mm, 3))
        elif kind == "print":
            self.printer = Printer.random(rng)
            pr = self.printer
            if pr.cut_out:
                m = rng.uniform(0, 1.5)
                self.obj_w, self.obj_h = dw + 2 * m, dh + 2 * m
                self.doc_origin = (m, m)
            else:
                self.obj_w, self.obj_h = (210.0, 297.0) if rng.random() < 0.5 else (297.0, 210.0)
                self.doc_origin = (rng.uniform(10, self.obj_w - dw - 10), rng.uniform(10, self.obj_h - dh - 10))
            target = (dw, dh, self.doc_origin)
            self.conditions.update(halftone=pr.method, lpi=round(pr.lpi), dpi=int(pr.dpi), cut_out=pr.cut_out)
        else:
            self.obj_w, self.obj_h = dw, dh
            target = (dw, dh, (0.0, 0.0))
        self.placement = Placement.random(rng, self.frame_w, self.frame_h, self.obj_w, self.obj_h, target[0], target[1], target[2], span, 0.12)
        self.target = target
        if kind == "screen":
            # Screen pixels per camera pixel: above 1 the camera cannot resolve the grid.
            # (The screen shows its own resampled copy, Screen.content, not the drawing.)
            self.conditions["screen_px_per_camera_px"] = round(self.placement.mm_per_px / self.screen.pitch_mm, 2)
        else:
            density = SUPERSAMPLE / self.placement.mm_per_px  # radiance samples per mm
            if kind == "print":
                density = min(density, self.printer.source_dpi / 25.4)
            self.doc_lin = document_texture(doc, density)
        corners = self.target_corners()
        centre = corners.mean(0)
        size = float(np.linalg.norm(corners[1] - corners[0]))
        glossy = (kind == "genuine" and doc.laminated) or kind == "screen"
        if glossy and rng.random() < 0.6:
            for _ in range(rng.integers(1, 3)):
                self.light.glare.append((centre[0] + rng.uniform(-0.5, 0.5) * size, centre[1] + rng.uniform(-0.3, 0.3) * size, size * rng.uniform(0.03, 0.15), rng.uniform(0.2, 1.5)))
        elif kind == "print" and rng.random() < 0.3:
            self.light.glare.append((centre[0], centre[1], size * 0.5, rng.uniform(0.03, 0.1)))  # matte sheen
        self.fingers = Fingers.random(rng, self.frame_w, self.frame_h, centre, size) if rng.random() < 0.4 else Fingers([])
        self.conditions.update(
            resolution=f"{self.frame_w}x{self.frame_h}", jpeg=self.camera.jpeg_quality, blur=round(self.camera.lens_sigma, 2),
            full_well=round(self.camera.full_well), fingers=len(self.fingers.capsules) > 0,
        )

    # -- geometry -------------------------------------------------------------------

    def target_corners(self) -> np.ndarray:
        """Camera-pixel corners of the document (what a detector should find)."""
        if self.kind == "digital":
            return self.digital_corners
        tw, th, (tx, ty) = self.target
        return self._object_to_camera(np.array([tx, tx + tw, tx + tw, tx]), np.array([ty, ty, ty + th, ty + th]))

    def object_corners(self) -> np.ndarray:
        """Camera-pixel corners of the whole object: the card, the device or the sheet."""
        return self._object_to_camera(np.array([0, self.obj_w, self.obj_w, 0.0]), np.array([0, 0, self.obj_h, self.obj_h]))

    def _object_to_camera(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        x, y = apply_h(np.linalg.inv(self.placement.to_object), u.astype(np.float64), v.astype(np.float64))
        return np.stack([x, y], 1)

    # -- radiance -------------------------------------------------------------------

    def radiance(self, x: np.ndarray, y: np.ndarray, rng, s: float = SUPERSAMPLE, coarse: bool = False) -> np.ndarray:
        """Linear radiance reaching the camera at camera coordinates. `coarse` samples
        cover many ink dots each (the whole view), so a print is its mean reflectance
        there rather than one dot's."""
        fw, fh = self.frame_w, self.frame_h
        u, v = apply_h(self.placement.to_object, x, y)
        illum = self.light.illum(x, y, fw, fh)
        inside = (u >= 0) & (u < self.obj_w) & (v >= 0) & (v < self.obj_h)
        if self.kind == "genuine":
            r = 3.18 if self.doc.kind == "id-card" else 0.5
            cu = np.maximum(np.maximum(r - u, u - (self.obj_w - r)), 0)
            cv = np.maximum(np.maximum(r - v, v - (self.obj_h - r)), 0)
            inside &= cu * cu + cv * cv <= r * r
        # Most tiles of a photo lie wholly on the object or wholly off it: only what
        # shows is computed. The background is float64 (the light's gradient is), so
        # the object's radiance is taken to float64 as the mixing would.
        ground = None if inside.all() else self.background.albedo(x, y) * illum
        if not inside.any():
            out = ground
        else:
            surface = self._surface(x, y, u, v, illum, self.placement.mm_per_px / s, coarse)
            out = np.asarray(surface, np.float64) if ground is None else np.where(inside[..., None], surface, ground)
        covered = self.fingers.cover(x, y)
        if covered is not None:
            mask, colour = covered
            out = out * (1 - mask[..., None]) + colour * illum * mask[..., None]
        return out.astype(np.float32)

    def _surface(self, x, y, u, v, illum, footprint, coarse):
        """Radiance leaving the object (card, device or sheet) at those points."""
        glare = self.light.glare_at(x, y)
        if self.kind == "genuine":
            tex = self._doc_texture(u, v, (0.0, 0.0))
            return tex * illum + glare * illum * (1.0 if self.doc.laminated else 0.15)
        if self.kind == "screen":
            sc = self.screen
            b = sc.bezel_mm
            pu, pv = u - b, v - b
            panel = (pu >= 0) & (pu < sc.panel_w_mm) & (pv >= 0) & (pv < sc.panel_h_mm)
            emission = sc.emission(np.clip(pu, 0, sc.panel_w_mm - 1e-3), np.clip(pv, 0, sc.panel_h_mm - 1e-3), footprint)
            glass = (sc.reflection + glare) * illum
            bezel = np.float32(0.03) * illum
            return np.where(panel[..., None], emission + glass, bezel + glare * illum)
        pr = self.printer
        ox, oy = self.doc_origin
        tex = self._doc_texture(u, v, (ox, oy))
        in_doc = (u >= ox) & (u < ox + self.doc.width_mm) & (v >= oy) & (v < oy + self.doc.height_mm)
        tex = np.where(in_doc[..., None], tex, 1.0)
        noise = np.sin(u * 37.7 + v * 11.1) * np.sin(v * 41.3 - u * 5.9)
        refl = pr.mean_reflectance(tex) if coarse else pr.reflectance(u, v, tex, noise)
        return refl * illum + glare * illum

    def _doc_texture(self, u, v, origin):
        h, w = self.doc_lin.shape[:2]
        return bilinear(self.doc_lin, (u - origin[0]) / self.doc.width_mm * w, (v - origin[1]) / self.doc.height_mm * h)

    # -- digital images -------------------------------------------------------------

    def _init_digital(self, rng):
        mode = rng.choice(["screenshot", "scan", "composite"], p=[0.35, 0.35, 0.3])
        self.mode = str(mode)
        doc = self.doc
        if mode == "screenshot":
            self.frame_w, self.frame_h = [(1080, 2340), (1920, 1080), (2560, 1440), (1170, 2532)][rng.integers(4)]
            scale_w = rng.uniform(0.6, 0.92) * self.frame_w / doc.image.shape[1]
            scale = min(scale_w, 0.9 * self.frame_h / doc.image.shape[0])
        elif mode == "scan":
            # Scanners crop to the content; the dpi is high enough for a usable image.
            pad = rng.uniform(1.2, 1.7)
            dpi = max(float(rng.choice([400, 600, 800])), 1100 / (doc.height_mm * pad / 25.4))
            self.frame_w, self.frame_h = int(doc.width_mm * pad / 25.4 * dpi), int(doc.height_mm * pad / 25.4 * dpi)
            scale = dpi / 25.4 * doc.width_mm / doc.image.shape[1]
        else:
            self.frame_w, self.frame_h = RESOLUTIONS[rng.integers(len(RESOLUTIONS))]
            scale = rng.uniform(0.4, 0.85) * self.frame_w / doc.image.shape[1]
        # Software resizes with a proper filter; warping the drawing at a reduced scale
        # point-wise would alias.
        image = doc.image
        if scale < 1:
            image = np.asarray(Image.fromarray(image).resize((max(int(round(image.shape[1] * scale)), 1), max(int(round(image.shape[0] * scale)), 1)), Image.LANCZOS))
        self.digital_image = image.astype(np.float32) / 255.0
        dw, dh = doc.image.shape[1] * scale, doc.image.shape[0] * scale
        angle = rng.uniform(-0.05, 0.05) if mode != "screenshot" else 0.0
        cx = rng.uniform(dw / 2 + 0.05 * self.frame_w, max(self.frame_w - dw / 2 - 0.05 * self.frame_w, dw / 2 + 0.05 * self.frame_w + 1))
        cy = rng.uniform(dh / 2 + 0.05 * self.frame_h, max(self.frame_h - dh / 2 - 0.05 * self.frame_h, dh / 2 + 0.05 * self.frame_h + 1))
        ca, sa = math.cos(angle), math.sin(angle)
        rel = np.array([[-dw / 2, -dh / 2], [dw / 2, -dh / 2], [dw / 2, dh / 2], [-dw / 2, dh / 2]])
        pts = np.stack([cx + rel[:, 0] * ca - rel[:, 1] * sa, cy + rel[:, 0] * sa + rel[:, 1] * ca], 1)
        if mode == "composite":
            pts = pts + rng.normal(0, 0.03 * dw, (4, 2))
        self.digital_corners = pts
        iw, ih = image.shape[1], image.shape[0]
        src = np.array([[0, 0], [iw, 0], [iw, ih], [0, ih]], np.float64)
        self.to_doc = np.linalg.inv(homography(src, pts))
        self.ui_colour = rng.uniform(0.0, 1.0, 3).astype(np.float32) if mode == "screenshot" else np.full(3, rng.uniform(0.85, 1.0), np.float32)
        self.background = Background.random(rng, self.frame_w)
        self.digital_blur = float(rng.uniform(0.5, 1.1)) if mode == "scan" else float(rng.uniform(0.0, 0.7))
        self.digital_noise = float(rng.uniform(0.2, 1.2)) if mode == "scan" else 0.0
        self.png = bool(mode == "screenshot" and rng.random() < 0.5)
        self.jpeg_quality = int(rng.integers(75, 101))
        self.conditions.update(mode=self.mode, resolution=f"{self.frame_w}x{self.frame_h}", jpeg=None if self.png else self.jpeg_quality, blur=round(self.digital_blur, 2))

    def _digital_window(self, x0, y0, w, h, rng):
        ys, xs = np.mgrid[y0 : y0 + h, x0 : x0 + w].astype(np.float64) + 0.5
        u, v = apply_h(self.to_doc, xs, ys)
        hh, ww = self.digital_image.shape[:2]
        inside = (u >= 0) & (u < ww) & (v >= 0) & (v < hh)
        if self.mode == "composite":
            ground = linear_to_srgb(self.background.albedo(xs, ys))
        else:
            ground = np.broadcast_to(self.ui_colour, xs.shape + (3,))
        tex = bilinear(self.digital_image, u, v)
        img = np.where(inside[..., None], tex, ground)
        if self.digital_blur > 0.05:
            img = ndimage.gaussian_filter(img, (self.digital_blur, self.digital_blur, 0))
        if self.digital_noise > 0:
            img = img + rng.normal(0, self.digital_noise / 255.0, img.shape)
        return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)

    # -- rendering --------------------------------------------------------------------

    def render_window(self, x0: int, y0: int, w: int, h: int, s: int = SUPERSAMPLE) -> np.ndarray:
        """8-bit sRGB pixels of the window, before JPEG; (x0, y0) must be even."""
        rng = np.random.default_rng([self.seed, x0, y0])
        if self.kind == "digital":
            m = 4
            img = self._digital_window(x0 - m, y0 - m, w + 2 * m, h + 2 * m, rng)
            return img[m : m + h, m : m + w]
        m = MARGIN
        xs = ((np.arange((w + 2 * m) * s) + 0.5) / s + x0 - m).astype(np.float32)
        ys = ((np.arange((h + 2 * m) * s) + 0.5) / s + y0 - m).astype(np.float32)
        gx, gy = np.meshgrid(xs, ys)
        rad = self.radiance(gx, gy, rng, s)
        img = self.camera.develop(rad, x0 - m, y0 - m, rng, self.light.tint, s)
        return img[m : m + h, m : m + w]

    def encode(self, pixels: np.ndarray) -> bytes:
        """The file a device would save."""
        buf = io.BytesIO()
        im = Image.fromarray(pixels)
        if self.kind == "digital" and self.png:
            im.save(buf, format="PNG", compress_level=1)
        else:
            q = self.jpeg_quality if self.kind == "digital" else self.camera.jpeg_quality
            sub = 0 if self.kind == "digital" else self.camera.subsampling
            im.save(buf, format="JPEG", quality=q, subsampling=sub)
        return buf.getvalue()

    def render_full(self, tile: int = 256) -> np.ndarray:
        """The whole frame, in tiles; tiles away from the object hold only smooth
        background and fingers, so they are rendered without supersampling."""
        out = np.zeros((self.frame_h, self.frame_w, 3), np.uint8)
        if self.kind == "digital":
            box = None
        else:
            o = self.object_corners()
            box = (o[:, 0].min() - 2 * MARGIN, o[:, 1].min() - 2 * MARGIN, o[:, 0].max() + 2 * MARGIN, o[:, 1].max() + 2 * MARGIN)
        for y0 in range(0, self.frame_h, tile):
            for x0 in range(0, self.frame_w, tile):
                w, h = min(tile, self.frame_w - x0), min(tile, self.frame_h - y0)
                near = box is None or not (x0 + w < box[0] or x0 > box[2] or y0 + h < box[1] or y0 > box[3])
                out[y0 : y0 + h, x0 : x0 + w] = self.render_window(x0, y0, w, h, SUPERSAMPLE if near else 1)
        return out

    def window_inside_document(self, rng, size: int) -> tuple[int, int]:
        """An even-aligned window origin centred on a random point of the document (the
        window is then kept inside the frame, which can move it off a cut-off part)."""
        c = self.target_corners()
        a, b = rng.uniform(0.05, 0.95, 2)
        top = c[0] + (c[1] - c[0]) * a
        bottom = c[3] + (c[2] - c[3]) * a
        p = top + (bottom - top) * b
        x0 = int(np.clip(p[0] - size / 2, 0, self.frame_w - size)) // 2 * 2
        y0 = int(np.clip(p[1] - size / 2, 0, self.frame_h - size)) // 2 * 2
        return x0, y0
