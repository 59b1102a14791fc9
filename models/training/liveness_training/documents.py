"""Procedurally drawn identity documents: ID-1 cards and passport data pages, front and back.

Every element is random within ranges that real documents show, so the liveness model
cannot learn one layout: background patterns and guilloche, colour schemes, text blocks
in several fonts and scripts, MRZ lines, barcodes, portraits, emblems, signatures and
hologram-like overlays. Documents are drawn at 700-800 dpi (28-31 px per mm), finer
than the simulated camera samples them in 93% of photos, because the print on a real
card (offset lines, laser engraving, microtext) is finer than a phone camera resolves:
the capture decides what detail survives, not the drawing. Pattern sizes are set at
350 dpi and scaled, so layouts are the same at any drawing resolution.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

import matplotlib

# DejaVu and STIX fonts ship inside matplotlib (licences recorded in models/README.md).
FONT_DIR = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf")
FONTS = [
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSans-Oblique.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
]
MONO = "DejaVuSansMono.ttf"

# Text in several scripts; DejaVu covers Latin, Greek, Cyrillic, Armenian and Georgian.
ALPHABETS = [
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "ÀÁÂÄÇÈÉÊËÍÎÑÓÔÖØÚÜŠŽĆČĐŁŃŚŹŻ",
    "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
    "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯ",
    "ԱԲԳԴԵԶԷԸԹԺԻԼԽԾԿՀՁՂՃՄՅՆՇՈՉՊՋՌՍՎՏՐՑՒՓՔՕՖ",
    "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",
]
LABELS = [
    "SURNAME", "GIVEN NAMES", "NATIONALITY", "DATE OF BIRTH", "SEX", "PLACE OF BIRTH",
    "DATE OF ISSUE", "DATE OF EXPIRY", "DOCUMENT NO", "AUTHORITY", "HEIGHT", "ADDRESS",
    "ФАМИЛИЯ", "ΕΠΩΝΥΜΟ", "NOM", "NACIONALIDAD", "GEBURTSDATUM", "CAN",
]

_font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    key = (name, size)
    if key not in _font_cache:
        _font_cache[key] = ImageFont.truetype(os.path.join(FONT_DIR, name), size)
    return _font_cache[key]


@dataclass
class Document:
    """A drawn document: sRGB pixels and its physical size."""

    image: np.ndarray  # H x W x 3 uint8, sRGB
    width_mm: float
    height_mm: float
    kind: str  # "id-card" | "passport"
    side: str  # "front" | "back"
    laminated: bool


def random_word(rng: np.random.Generator, lo: int = 3, hi: int = 11) -> str:
    alphabet = ALPHABETS[rng.integers(len(ALPHABETS))] if rng.random() < 0.5 else ALPHABETS[0]
    return "".join(rng.choice(list(alphabet), rng.integers(lo, hi)))


def random_value(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.3:
        return f"{rng.integers(1, 29):02d}.{rng.integers(1, 13):02d}.{rng.integers(1940, 2030)}"
    if r < 0.45:
        return "".join(rng.choice(list("0123456789ABCDEFGHJKLMNPRSTUVWXYZ"), rng.integers(6, 10)))
    return " ".join(random_word(rng) for _ in range(rng.integers(1, 3)))


def palette(rng: np.random.Generator) -> dict[str, tuple[int, int, int]]:
    hue = rng.random()
    sat = rng.uniform(0.15, 0.55)

    def hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
        import colorsys

        r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0), 1), min(max(v, 0), 1))
        return int(r * 255), int(g * 255), int(b * 255)

    return {
        "paper": hsv(hue, sat * 0.35, rng.uniform(0.86, 0.98)),
        "pattern": hsv(hue + rng.uniform(-0.1, 0.1), sat, rng.uniform(0.55, 0.85)),
        "accent": hsv(hue + rng.uniform(0.3, 0.7), rng.uniform(0.4, 0.9), rng.uniform(0.35, 0.75)),
        "header": hsv(hue + rng.uniform(-0.05, 0.05), rng.uniform(0.5, 0.9), rng.uniform(0.25, 0.6)),
        "text": hsv(rng.random(), rng.uniform(0, 0.3), rng.uniform(0.0, 0.25)),
    }


# Drawing resolution (dots per inch) and the one the pattern sizes below are set for.
DPI_RANGE = (700.0, 800.0)
LAYOUT_DPI = 350.0


# Rows of the background computed at a time: a band's float64 pixels stay in the cache
# instead of streaming a passport page's 230 MB through memory for every operation.
BAND_ROWS = 32


def background(rng: np.random.Generator, w: int, h: int, pal, k: float) -> Image.Image:
    """Gradient ground with fine line patterns and guilloche rosettes, `k` times finer
    in pixels than at the layout resolution."""
    # Computed band by band, with coordinates broadcast as a row and a column, and the
    # wave lines changing only the pixels they cover (gathered by index): every pixel
    # goes through the same operations in the same dtypes as with full-frame grids, so
    # the pixels (and the data made from them) are unchanged, in a fifth of the time.
    base = np.array(pal["paper"], np.float32)
    tint = np.array(pal["pattern"], np.float32)
    xx = np.arange(w, dtype=np.float32)[None, :]
    angle = rng.uniform(0, math.pi)
    ca, sa = np.cos(angle), np.sin(angle)

    def ramp_at(yy: np.ndarray) -> np.ndarray:
        return (ca * xx + sa * yy) / max(w, h)

    # A linear ramp is least at a corner.
    ends = ramp_at(np.array([[0], [h - 1]], np.float32))
    lowest = min(ends[0, 0], ends[0, -1], ends[1, 0], ends[1, -1])
    strength = rng.uniform(0.0, 0.25)
    # Interfering wave lines, the kind security printing uses against copying; drawn
    # from the generator in the order the full-frame version drew them.
    waves = []
    for _ in range(rng.integers(1, 4)):
        f1, f2 = rng.uniform(0.02, 0.12) / k, rng.uniform(0.002, 0.02) / k
        a = rng.uniform(5, 40) * k
        sway = a * np.sin(xx * f2 + rng.uniform(0, 6)) * f1
        threshold = rng.uniform(0.6, 0.9)
        keep = np.float32(1) - np.float32(rng.uniform(0.08, 0.3))
        waves.append((f1, sway, threshold, keep))
    ink = tint * np.float32(0.1)
    pixels = np.empty((h, w, 3), np.uint8)
    for top in range(0, h, BAND_ROWS):
        yy = np.arange(top, min(top + BAND_ROWS, h), dtype=np.float32)[:, None]
        ramp = ramp_at(yy)
        ramp -= lowest
        mix = (strength * ramp)[..., None]
        img = base * (1 - mix)
        img += tint * mix
        flat = img.reshape(-1, 3)
        for f1, sway, threshold, keep in waves:
            # The pixels a line covers, gathered: a masked ufunc visits every pixel.
            on = np.flatnonzero(np.cos((yy * f1 + sway) * 2 * math.pi) > threshold)
            covered = flat[on]
            covered *= keep
            covered += ink
            flat[on] = covered
        pixels[top : top + BAND_ROWS] = np.clip(img, 0, 255).astype(np.uint8)
    im = Image.fromarray(pixels)
    d = ImageDraw.Draw(im)
    for _ in range(rng.integers(1, 4)):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r0 = rng.uniform(0.1, 0.45) * h
        k1, k2 = int(rng.integers(5, 30)), int(rng.integers(2, 9))
        amp = rng.uniform(0.1, 0.4)
        colour = tuple(int(c) for c in (np.array(pal["pattern"]) * rng.uniform(0.6, 1.0)))
        for ring in range(rng.integers(3, 9)):
            t = np.linspace(0, 2 * math.pi, int(1400 * k))
            rr = r0 * (1 + amp * np.sin(k1 * t + ring * 0.3) * np.cos(k2 * t)) * (1 - 0.06 * ring)
            pts = list(zip(cx + rr * np.cos(t), cy + rr * np.sin(t)))
            d.line(pts, fill=colour, width=1)
    return im


def portrait_image(rng: np.random.Generator, w: int, h: int, faces: list[np.ndarray], photo: bool | None = None) -> Image.Image:
    """A face photo: a public-domain photo crop when available, else a drawn face."""
    use_photo = rng.random() < 0.5
    if faces and (use_photo if photo is None else photo):
        src = faces[rng.integers(len(faces))]
        if photo:
            # An ICAO-like head-and-shoulders crop (the bundled samples; the same crop
            # as assets/faces/astronaut.jpg), where the face fills most of the frame.
            return Image.fromarray(src[10:290, 120:340]).resize((w, h), Image.LANCZOS)
        sh, sw = src.shape[:2]
        scale = rng.uniform(0.45, 0.7)
        ch, cw = int(sh * scale), int(sh * scale * w / h)
        cw = min(cw, sw)
        x0 = int(rng.uniform(0, max(sw - cw, 1)))
        y0 = int(rng.uniform(0, max(sh - ch, 1) * 0.3))
        return Image.fromarray(src[y0 : y0 + ch, x0 : x0 + cw]).resize((w, h), Image.LANCZOS)
    bg = tuple(int(v) for v in rng.uniform(150, 240, 3))
    im = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(im)
    skin = tuple(int(v) for v in np.array([rng.uniform(90, 240), 0, 0]) + [0, 0, 0])
    base = rng.uniform(0.35, 0.95)
    skin = (int(230 * base + 20), int(190 * base + 10), int(160 * base))
    hair = tuple(int(v) for v in rng.uniform(10, 120, 3))
    cx, cy = w / 2 + rng.uniform(-0.05, 0.05) * w, h * rng.uniform(0.42, 0.5)
    fw, fh = w * rng.uniform(0.26, 0.34), h * rng.uniform(0.24, 0.3)
    d.rectangle([cx - fw * 1.6, cy + fh * 0.9, cx + fw * 1.6, h], fill=tuple(int(v) for v in rng.uniform(20, 200, 3)))
    d.rectangle([cx - fw * 0.35, cy + fh * 0.6, cx + fw * 0.35, cy + fh * 1.2], fill=skin)
    d.ellipse([cx - fw * 1.08, cy - fh * 1.25, cx + fw * 1.08, cy + fh * 0.5], fill=hair)
    d.ellipse([cx - fw, cy - fh, cx + fw, cy + fh], fill=skin)
    for s in (-1, 1):
        ex = cx + s * fw * 0.4
        d.ellipse([ex - fw * 0.16, cy - fh * 0.2, ex + fw * 0.16, cy - fh * 0.02], fill=(245, 245, 240))
        d.ellipse([ex - fw * 0.07, cy - fh * 0.18, ex + fw * 0.07, cy - fh * 0.04], fill=hair)
        d.line([ex - fw * 0.2, cy - fh * 0.32, ex + fw * 0.2, cy - fh * 0.3], fill=hair, width=max(2, w // 60))
    d.line([cx, cy - fh * 0.05, cx - fw * 0.08, cy + fh * 0.3], fill=tuple(int(c * 0.8) for c in skin), width=max(1, w // 80))
    d.arc([cx - fw * 0.4, cy + fh * 0.3, cx + fw * 0.4, cy + fh * 0.62], 20, 160, fill=(150, 60, 60), width=max(2, w // 50))
    return im.filter(ImageFilter.GaussianBlur(w / 160))


def emblem(d: ImageDraw.ImageDraw, rng: np.random.Generator, cx: float, cy: float, r: float, colour) -> None:
    n = int(rng.integers(5, 13))
    t = np.linspace(0, 2 * math.pi, 2 * n + 1)
    rr = np.where(np.arange(2 * n + 1) % 2 == 0, r, r * rng.uniform(0.4, 0.7))
    d.polygon(list(zip(cx + rr * np.sin(t), cy - rr * np.cos(t))), outline=colour, width=max(1, int(r / 15)))
    d.ellipse([cx - r * 1.15, cy - r * 1.15, cx + r * 1.15, cy + r * 1.15], outline=colour, width=max(1, int(r / 20)))


def signature(d: ImageDraw.ImageDraw, rng: np.random.Generator, x: float, y: float, w: float, h: float, colour, k: float) -> None:
    t = np.linspace(0, 1, 400)
    xs = x + w * t + rng.uniform(2, 8) * k * np.sin(t * rng.uniform(10, 40))
    ys = y + h * (0.5 + 0.4 * np.sin(t * rng.uniform(8, 30) + rng.uniform(0, 6)) * np.cos(t * 3))
    d.line(list(zip(xs, ys)), fill=colour, width=max(1, int(h / 14)))


def barcode(d: ImageDraw.ImageDraw, rng: np.random.Generator, x: int, y: int, w: int, h: int) -> None:
    if rng.random() < 0.5:
        pos = x
        while pos < x + w:
            bw = int(rng.integers(1, 5)) * max(1, w // 220)
            if rng.random() < 0.5:
                d.rectangle([pos, y, pos + bw - 1, y + h], fill=(0, 0, 0))
            pos += bw
    else:
        cell = max(2, int(h / rng.integers(12, 30)))
        for cy in range(y, y + h - cell + 1, cell):
            for cx in range(x, x + w - cell + 1, cell):
                if rng.random() < 0.5:
                    d.rectangle([cx, cy, cx + cell - 1, cy + cell - 1], fill=(0, 0, 0))


def mrz(rng: np.random.Generator, lines: int, length: int) -> list[str]:
    chars = list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    out = []
    for _ in range(lines):
        s = "".join(c if rng.random() < 0.7 else "<" for c in rng.choice(chars, length))
        out.append(s)
    return out


def hologram(im: Image.Image, rng: np.random.Generator, box: tuple[int, int, int, int], k: float) -> Image.Image:
    """A rainbow, partly transparent overlay, like the diffractive patches on IDs."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = (xx * rng.uniform(-0.05, 0.05) + yy * rng.uniform(-0.05, 0.05)) / k + rng.uniform(0, 6)
    rainbow = 0.5 + 0.5 * np.stack([np.sin(phase), np.sin(phase + 2.1), np.sin(phase + 4.2)], -1)
    r = min(w, h) / 2
    mask = (((xx - w / 2) ** 2 + (yy - h / 2) ** 2) < r * r).astype(np.float32)[..., None]
    alpha = rng.uniform(0.1, 0.3) * mask
    # Only the overlay's box goes through floating point: the rest of the page would
    # come back as the same bytes, at a third of a second per passport page.
    patch = np.asarray(im.crop((x0, y0, x1, y1)), np.float32)
    blended = np.clip(patch * (1 - alpha) + 255 * rainbow * alpha, 0, 255).astype(np.uint8)
    out = im.copy()
    out.paste(Image.fromarray(blended), (x0, y0))
    return out


def draw_document(rng: np.random.Generator, faces: list[np.ndarray], force_front_photo: bool = False, dpi: float | None = None) -> Document:
    """Draws one random document side (with `force_front_photo`, a front whose
    portrait is the face photo, as the bundled samples need). `dpi` overrides the
    drawing resolution for views that never resolve the print (the whole-view model
    sees a document a few dozen pixels across), where drawing at 700 dpi would be
    wasted time."""
    passport = rng.random() < 0.3
    front = rng.random() < 0.6 or force_front_photo
    if passport:
        wmm, hmm = 125.0, 88.0
    else:
        wmm, hmm = 85.6, 53.98
    drawn_dpi = rng.uniform(*DPI_RANGE)  # drawn either way: the layout draws that follow stay the same
    dpi = drawn_dpi if dpi is None else dpi
    k = dpi / LAYOUT_DPI
    w, h = int(wmm / 25.4 * dpi), int(hmm / 25.4 * dpi)
    pal = palette(rng)
    im = background(rng, w, h, pal, k)
    d = ImageDraw.Draw(im)
    u = h / 100.0  # layout unit
    header_h = int(u * rng.uniform(9, 16))
    if rng.random() < 0.7:
        d.rectangle([0, 0, w, header_h], fill=pal["header"])
        title_colour = (250, 250, 245)
    else:
        title_colour = pal["header"]
    title = " ".join(random_word(rng, 4, 10) for _ in range(rng.integers(1, 4)))
    d.text((u * 3, header_h * 0.2), title.upper(), font=font(FONTS[rng.integers(2)], int(header_h * 0.55)), fill=title_colour)
    emblem(d, rng, w - u * 12, header_h + u * 12, u * rng.uniform(5, 9), pal["accent"])
    text_font = FONTS[rng.integers(len(FONTS))]
    label_size, value_size = int(u * rng.uniform(3, 4)), int(u * rng.uniform(4.5, 6.5))
    left = u * 3
    if front:
        pw, ph = int(u * rng.uniform(26, 36)), 0
        ph = int(pw * 1.28)
        px = int(u * 3) if rng.random() < 0.8 else int(w - pw - u * 3)
        py = int(header_h + u * 5)
        ph = min(ph, h - py - int(u * 4))
        im.paste(portrait_image(rng, pw, ph, faces, True if force_front_photo else None), (px, py))
        d = ImageDraw.Draw(im)
        if px < w / 2:
            left = px + pw + u * 4
        if rng.random() < 0.6:  # ghost portrait
            gw = int(pw * 0.4)
            ghost = portrait_image(rng, gw, int(gw * 1.28), faces).convert("L").convert("RGB")
            gx, gy = int(w - gw - u * 5), int(h - gw * 1.28 - u * 6)
            region = im.crop((gx, gy, gx + gw, gy + int(gw * 1.28)))
            im.paste(Image.blend(region, ghost, 0.35), (gx, gy))
            d = ImageDraw.Draw(im)
        signature(d, rng, px, min(py + ph + u * 2, h - u * 10), pw, u * 7, pal["text"], k)
    y = header_h + u * 4
    columns = 2 if rng.random() < 0.5 else 1
    col_w = (w - left - u * 20) / columns
    n_fields = int(rng.integers(4, 9))
    for i in range(n_fields):
        col = i % columns
        x = left + col * col_w
        d.text((x, y), LABELS[rng.integers(len(LABELS))], font=font(text_font, label_size), fill=pal["accent"])
        d.text((x, y + label_size * 1.1), random_value(rng), font=font(text_font, value_size), fill=pal["text"])
        if col == columns - 1:
            y += label_size + value_size * 1.5
        if y > h * 0.7:
            break
    if not front or passport:
        lines, length = (2, 44) if passport else (3, 30)
        mono_size = int(min(u * 6.5, w / (length * 0.64)))
        my = h - lines * mono_size * 1.25 - u * 3
        d.rectangle([0, my - u * 2, w, h], fill=tuple(int(c * 0.98) for c in pal["paper"]))
        for i, line in enumerate(mrz(rng, lines, length)):
            d.text((u * 3, my + i * mono_size * 1.2), line, font=font(MONO, mono_size), fill=(20, 20, 25))
    if not front:
        bw, bh = int(w * rng.uniform(0.3, 0.55)), int(u * rng.uniform(12, 20))
        barcode(d, rng, int(u * 4), int(header_h + u * 40), bw, bh)
        if rng.random() < 0.5:  # small print block
            for k in range(int(rng.integers(3, 8))):
                d.text((w * 0.55, header_h + u * (6 + k * 4)), " ".join(random_word(rng) for _ in range(4)), font=font(text_font, int(u * 2.6)), fill=pal["text"])
    if rng.random() < 0.6:
        hx, hy = int(rng.uniform(0.3, 0.8) * w), int(rng.uniform(0.3, 0.7) * h)
        r = int(u * rng.uniform(8, 18))
        im = hologram(im, rng, (max(hx - r, 0), max(hy - r, 0), min(hx + r, w), min(hy + r, h)), k)
    laminated = bool(rng.random() < 0.85)
    return Document(np.asarray(im.convert("RGB")), wmm, hmm, "passport" if passport else "id-card", "front" if front else "back", laminated)


def load_faces() -> list[np.ndarray]:
    """Public-domain face photos shipped in scikit-image, when it is installed."""
    try:
        from skimage import data

        return [data.astronaut()]
    except Exception:  # noqa: BLE001 - drawn faces are the fallback
        return []
