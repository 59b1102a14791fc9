"""Paper documents for the detector: pages (A4, US Letter, A5) of text, tables, forms and
charts, ruled notepad sheets and till receipts.

Identity documents are not only plastic cards and passport booklets: temporary and
paper-issued permits, certificates and printouts reach fraud teams as photos of a sheet
of paper. A detector trained on cards alone learned that a sheet of paper is background,
and found none of the eight real pages of the validation list. These sheets are drawn
at about 4 px per mm, enough for the 256-pixel detector input, where print is texture
and what counts is the sheet's pale surface, its edges and its corners.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from liveness_training.documents import FONTS, MONO, font, random_value, random_word

# Pixels per millimetre the sheets are drawn at.
PX_PER_MM = 4.0
# Sheet sizes in millimetres (width, height), portrait.
PAGES = [(210, 297), (215.9, 279.4), (148, 210)]
# Till-roll widths in millimetres; a receipt's length varies with what was bought.
RECEIPT_WIDTHS = [57, 80]


def _paper_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    """White to cream or faintly tinted office paper."""
    base = rng.uniform(228, 255)
    tint = rng.normal(0, 3, 3) + (np.array([4, 2, -8]) * rng.random() if rng.random() < 0.3 else 0)
    return tuple(int(v) for v in np.clip(base + tint, 200, 255))


def _ink(rng: np.random.Generator) -> tuple[int, int, int]:
    if rng.random() < 0.8:
        v = int(rng.uniform(10, 70))
        return (v, v, v)
    return tuple(int(v) for v in rng.uniform(0, 140, 3))


def _text_line(d: ImageDraw.ImageDraw, rng: np.random.Generator, x: float, y: float, width: float, size: int, ink, name: str) -> None:
    """Words across up to `width` pixels from (x, y)."""
    f = font(name, size)
    end = x + width * rng.uniform(0.55, 1.0)
    while x < end:
        word = random_word(rng, 2, 10) if rng.random() < 0.8 else random_value(rng)
        w = d.textlength(word, font=f)
        if x + w > end:
            break
        d.text((x, y), word, fill=ink, font=f)
        x += w + size * 0.35


def _paragraphs(d, rng, x0, y0, x1, y1, ink) -> float:
    """Paragraphs of body text between y0 and y1; returns where they stopped."""
    name = FONTS[rng.integers(len(FONTS))]
    size = int(rng.uniform(2.6, 4.2) * PX_PER_MM)
    y = y0
    while y < y1 - size:
        for _ in range(rng.integers(2, 9)):
            if y >= y1 - size:
                break
            _text_line(d, rng, x0, y, x1 - x0, size, ink, name)
            y += size * rng.uniform(1.3, 1.7)
        y += size * rng.uniform(0.8, 2.0)
        if rng.random() < 0.15:
            break
    return y


def _table(d, rng, x0, y0, x1, y1, ink) -> None:
    rows, cols = rng.integers(3, 14), rng.integers(2, 6)
    h = min((y1 - y0) / rows, 9 * PX_PER_MM)
    edges = np.sort(rng.uniform(x0, x1, cols - 1))
    size = int(min(h * 0.55, 3.5 * PX_PER_MM))
    for r in range(rows + 1):
        d.line([(x0, y0 + r * h), (x1, y0 + r * h)], fill=ink, width=1)
    for x in [x0, *edges, x1]:
        d.line([(x, y0), (x, y0 + rows * h)], fill=ink, width=1)
    lefts = [x0, *edges]
    rights = [*edges, x1]
    for r in range(rows):
        if r == 0 and rng.random() < 0.6:
            d.rectangle([x0, y0, x1, y0 + h], fill=tuple(int(v) for v in rng.uniform(180, 235, 3)), outline=ink)
        for left, right in zip(lefts, rights):
            if rng.random() < 0.85:
                _text_line(d, rng, left + 3, y0 + r * h + (h - size) / 2, right - left - 6, size, ink, FONTS[0])


def _chart(d, rng, x0, y0, x1, y1, ink) -> None:
    d.line([(x0, y1), (x1, y1)], fill=ink, width=2)
    d.line([(x0, y0), (x0, y1)], fill=ink, width=2)
    colour = tuple(int(v) for v in rng.uniform(30, 220, 3))
    if rng.random() < 0.5:
        n = rng.integers(4, 14)
        w = (x1 - x0) / n
        for i in range(n):
            top = y1 - (y1 - y0) * rng.uniform(0.1, 0.95)
            d.rectangle([x0 + i * w + w * 0.15, top, x0 + (i + 1) * w - w * 0.15, y1], fill=colour)
    else:
        xs = np.linspace(x0, x1, rng.integers(6, 30))
        ys = y1 - (y1 - y0) * np.clip(np.cumsum(rng.normal(0, 0.12, len(xs))) + 0.5, 0.05, 0.95)
        d.line(list(zip(xs.tolist(), ys.tolist())), fill=colour, width=3)


def _form(d, rng, x0, y0, x1, y1, ink) -> None:
    """Labelled fields with boxes or rules to fill in, some filled by hand."""
    y = y0
    size = int(rng.uniform(2.5, 3.5) * PX_PER_MM)
    while y < y1 - 3 * size:
        label = random_word(rng, 3, 14).upper()
        d.text((x0, y), label, fill=ink, font=font(FONTS[1], size))
        bx = x0 + d.textlength(label, font=font(FONTS[1], size)) + size
        if rng.random() < 0.5:
            d.rectangle([bx, y - 2, x1, y + size * 1.6], outline=ink)
        else:
            d.line([(bx, y + size * 1.4), (x1, y + size * 1.4)], fill=ink)
        if rng.random() < 0.5:
            _scribble(d, rng, bx + 4, y, (x1 - bx) * rng.uniform(0.2, 0.8), size * 1.3)
        y += size * rng.uniform(2.2, 3.5)


def _scribble(d, rng, x, y, w, h) -> None:
    """Handwriting: a wandering pen line."""
    n = max(int(w / 3), 4)
    xs = x + np.cumsum(rng.uniform(0, 6, n))
    xs = xs[xs < x + w]
    ys = y + h / 2 + np.sin(np.arange(len(xs)) * rng.uniform(0.8, 1.6)) * h * 0.35 + rng.normal(0, h * 0.08, len(xs))
    if len(xs) > 1:
        d.line(list(zip(xs.tolist(), ys.tolist())), fill=(20, 30, int(rng.uniform(60, 160))), width=2)


def _page(rng: np.random.Generator) -> Image.Image:
    wmm, hmm = PAGES[rng.integers(len(PAGES))]
    w, h = int(wmm * PX_PER_MM), int(hmm * PX_PER_MM)
    im = Image.new("RGB", (w, h), _paper_colour(rng))
    d = ImageDraw.Draw(im)
    ink = _ink(rng)
    if rng.random() < 0.2:
        # A notepad or exercise-book sheet: ruled lines, a margin, handwriting.
        pitch = rng.uniform(6, 9) * PX_PER_MM
        rule = tuple(int(v) for v in rng.uniform([120, 150, 190], [190, 210, 240]))
        for y in np.arange(rng.uniform(15, 30) * PX_PER_MM, h, pitch):
            d.line([(0, y), (w, y)], fill=rule, width=1)
            if rng.random() < 0.7:
                _scribble(d, rng, 25 * PX_PER_MM, y - pitch * 0.8, (w - 35 * PX_PER_MM) * rng.uniform(0.3, 1.0), pitch * 0.7)
        d.line([(20 * PX_PER_MM, 0), (20 * PX_PER_MM, h)], fill=(220, 120, 120), width=2)
        return im
    margin = rng.uniform(12, 28) * PX_PER_MM
    x0, x1 = margin, w - margin
    y = margin
    if rng.random() < 0.6:
        # A letterhead: a logo block and a bold title.
        colour = tuple(int(v) for v in rng.uniform(0, 200, 3))
        box = rng.uniform(10, 25) * PX_PER_MM
        d.rectangle([x0, y, x0 + box, y + box * rng.uniform(0.5, 1.0)], fill=colour)
        _text_line(d, rng, x0 + box * 1.3, y, (x1 - x0) * 0.6, int(rng.uniform(5, 8) * PX_PER_MM), ink, FONTS[1])
        y += box + 6 * PX_PER_MM
    bottom = h - margin
    while y < bottom - 20 * PX_PER_MM:
        block_end = min(bottom, y + rng.uniform(0.15, 0.5) * h)
        r = rng.random()
        if r < 0.5:
            y = _paragraphs(d, rng, x0, y, x1, block_end, ink)
            continue
        if r < 0.7:
            _table(d, rng, x0, y, x1, block_end, ink)
        elif r < 0.85:
            _form(d, rng, x0, y, x1, block_end, ink)
        else:
            _chart(d, rng, x0 + (x1 - x0) * rng.uniform(0, 0.3), y, x1 - (x1 - x0) * rng.uniform(0, 0.3), block_end, ink)
        y = block_end + 5 * PX_PER_MM
    if rng.random() < 0.4:
        _text_line(d, rng, x0, h - margin * 0.6, (x1 - x0) * 0.4, int(2.5 * PX_PER_MM), ink, FONTS[0])
    return im


def _receipt(rng: np.random.Generator) -> Image.Image:
    wmm = RECEIPT_WIDTHS[rng.integers(len(RECEIPT_WIDTHS))]
    hmm = rng.uniform(1.6, 4.5) * wmm
    w, h = int(wmm * PX_PER_MM), int(hmm * PX_PER_MM)
    # Thermal paper is a little grey and often curled; the curl is left to the warp.
    im = Image.new("RGB", (w, h), tuple(int(v) for v in np.clip(rng.uniform(225, 250) + rng.normal(0, 2, 3), 0, 255)))
    d = ImageDraw.Draw(im)
    size = int(rng.uniform(2.6, 3.4) * PX_PER_MM)
    ink = (int(rng.uniform(20, 90)),) * 3
    margin = 4 * PX_PER_MM
    y = margin
    while y < h - margin - size:
        if rng.random() < 0.12:
            d.line([(margin, y + size / 2), (w - margin, y + size / 2)], fill=ink, width=1)
        else:
            _text_line(d, rng, margin, y, w - 2 * margin, size, ink, MONO)
        y += size * 1.35
    return im


def draw_paper(rng: np.random.Generator) -> np.ndarray:
    """A sheet of paper, H x W x 3 uint8 sRGB: a page three times in four, else a receipt."""
    im = _page(rng) if rng.random() < 0.75 else _receipt(rng)
    return np.asarray(im)
