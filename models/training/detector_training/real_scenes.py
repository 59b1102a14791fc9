"""Detector training photos on real backgrounds: everyday scenes photographed by real
phones (the corpus's `object_scene` photos, `models/training/real/`), some left as they
are and some with one or two documents laid into them.

The generators' procedural backgrounds taught the detector that anything with a sharp
rectangular outline and print inside it is a document; on real photos it then outlined
portraits, text blocks, packaging and tiles as documents. Real scenes with no document
(mask all zero) are the hard negatives; documents composited into real scenes keep the
positives in the same surroundings, so the scene itself never answers the question.

Documents are generated identity documents (`liveness_training.documents`), generated
sheets of paper (`paper_documents.py`: pages, forms, notepad sheets, receipts) and real
specimen designs of the corpus's training split, each warped into a random
perspective quadrilateral at twice the output size and box-filtered down, lit to match
the scene where it lands, with a soft contact shadow, blur and sensor noise, then
JPEG-compressed as a phone would.
"""

from __future__ import annotations

import csv
import io
import json
import os
from multiprocessing import Pool

import numpy as np
from PIL import Image, ImageFilter

from liveness_training.documents import draw_document, load_faces
from liveness_training.real_data import load

from .paper_documents import draw_paper

REAL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "real")
# Training scenes a person looked at and found a sheet, page, receipt or card in: left
# out, because as empty scenes they would teach that such a thing is no document.
SCREENING = os.path.join(REAL, "scene_screening.csv")

# Frames (width, height) the composites are built in; the detector sees them stretched
# to its square input, as the engine stretches a photo.
FRAMES = [(512, 384), (384, 512), (512, 288), (288, 512), (448, 448)]
# Share of samples left with no document.
NEGATIVE_SHARE = 0.25
# Share of documents that are real specimen designs, and of those left that are sheets
# of paper rather than generated identity documents.
SPECIMEN_SHARE = 0.2
PAPER_SHARE = 0.35
# Share of positive samples with two documents.
TWO_SHARE = 0.12
# Share of generated card backs with a magnetic stripe. Real specimen designs are fronts,
# and a detector that never saw a stripe cut it off real card backs (on a dark desk it
# kept only the light part of the card).
STRIPE_SHARE = 0.8
# Share of scenes darkened to a dark desk, where a card's dark parts meet the surface.
DARK_SHARE = 0.15


def screened_out() -> set[tuple[str, str]]:
    """(repo, path) of the scenes the screening list leaves out."""
    with open(SCREENING, newline="") as f:
        return {(r["repo"], r["path"]) for r in csv.DictReader(f)}


def corpus_rows(corpus: str, split: str, kinds: tuple[str, ...], leave_out: set[tuple[str, str]] = frozenset()) -> list[str]:
    """Paths of the corpus's photos of `kinds` in `split`, in index order, less `leave_out`."""
    with open(os.path.join(corpus, "index.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == split and r["kind"] in kinds and (r["repo"], r["path"]) not in leave_out]
    paths = [os.path.join(corpus, r["file"]) for r in rows]
    # Pillow cannot always read WebP copies here; they are few and not needed.
    return [p for p in paths if not p.lower().endswith(".webp")]


def _crop_frame(rng: np.random.Generator, photo: Image.Image, frame: tuple[int, int]) -> Image.Image:
    """A random window of the photo with the frame's aspect, resized to the frame."""
    fw, fh = frame
    w, h = photo.size
    scale = min(w / fw, h / fh) * rng.uniform(0.55, 1.0)
    cw, ch = fw * scale, fh * scale
    x0, y0 = rng.uniform(0, w - cw), rng.uniform(0, h - ch)
    return photo.resize((fw, fh), Image.BOX, box=(x0, y0, x0 + cw, y0 + ch))


def _perspective_coeffs(dst: np.ndarray, w: int, h: int) -> list[float]:
    """PIL's PERSPECTIVE coefficients mapping output pixels (inside `dst`) back to the
    source rectangle `w x h`."""
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    a, b = [], []
    for (x, y), (u, v) in zip(dst, src):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.extend([u, v])
    return np.linalg.solve(np.array(a), np.array(b)).tolist()


def _quad(rng: np.random.Generator, fw: int, fh: int, aspect: float, placed: list[np.ndarray]) -> np.ndarray | None:
    """Corners (clockwise from the document's top left) of a document of `aspect`
    placed in the frame: any rotation, mild perspective, up to a fifth cut off by the
    frame, and clear of the documents already `placed`."""
    for _ in range(20):
        long_side = rng.uniform(0.3, 0.95) * max(fw, fh) * (0.75 if placed else 1.0)
        w, h = long_side, long_side / aspect
        angle = rng.uniform(0, 2 * np.pi) if rng.random() < 0.5 else rng.normal(0, 0.15) + rng.integers(4) * np.pi / 2
        c, s = np.cos(angle), np.sin(angle)
        corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
        corners = corners + rng.normal(0, 0.04 * long_side, (4, 2))
        corners = corners @ np.array([[c, s], [-s, c]])
        centre = np.array([rng.uniform(0.1, 0.9) * fw, rng.uniform(0.1, 0.9) * fh])
        q = corners + centre
        inside = np.clip(q, [0, 0], [fw, fh])
        if np.abs(inside - q).max() > 0.2 * long_side / aspect:
            continue
        if any(_overlap(q, p) for p in placed):
            continue
        return q
    return None


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two quads' bounding boxes, grown by a little, meet."""
    pad = 8
    return not (a[:, 0].max() + pad < b[:, 0].min() or b[:, 0].max() + pad < a[:, 0].min() or a[:, 1].max() + pad < b[:, 1].min() or b[:, 1].max() + pad < a[:, 1].min())


def _document(rng: np.random.Generator, faces, specimens: list[str]) -> np.ndarray:
    if specimens and rng.random() < SPECIMEN_SHARE:
        return load(specimens[rng.integers(len(specimens))])
    if rng.random() < PAPER_SHARE:
        return draw_paper(rng)
    doc = draw_document(rng, faces, dpi=rng.uniform(160, 260))
    if doc.kind == "id-card" and doc.side == "back" and rng.random() < STRIPE_SHARE:
        return magnetic_stripe(rng, doc.image, doc.height_mm)
    return doc.image


def magnetic_stripe(rng: np.random.Generator, card: np.ndarray, height_mm: float) -> np.ndarray:
    """The card back with a magnetic stripe along one long edge, edge to edge.

    The stripe's band follows ISO/IEC 7811: it starts 4-6 mm in from the card's edge and
    is 9.5-12.7 mm wide. It is near black, sometimes brown or a glossy dark grey, so on
    a dark desk the card's edge there has almost no contrast: the outline must still
    take the stripe in."""
    out = card.astype(np.float32).copy()
    h = card.shape[0]
    px_per_mm = h / height_mm
    top = int(round(rng.uniform(4.0, 6.0) * px_per_mm))
    bottom = min(h, top + int(round(rng.uniform(9.5, 12.7) * px_per_mm)))
    base = rng.choice([(12, 12, 14), (38, 28, 20), (55, 55, 60)])
    # A soft sheen across the band: light catches a glossy stripe along its length.
    rows = np.linspace(-1, 1, bottom - top)[:, None]
    sheen = rng.uniform(0, 40) * np.exp(-(((rows - rng.uniform(-0.5, 0.5)) / 0.35) ** 2))
    out[top:bottom] = np.clip(np.asarray(base, np.float32)[None, None, :] + sheen[..., None], 0, 255)
    if rng.random() < 0.5:
        out = out[::-1]
    return np.ascontiguousarray(out.astype(np.uint8))


def _lay(rng: np.random.Generator, frame: np.ndarray, doc: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The frame with the document warped into `quad`, lit like the scene around it."""
    fh, fw = frame.shape[:2]
    big = 2
    dh, dw = doc.shape[:2]
    coeffs = _perspective_coeffs(quad * big, dw, dh)
    size = (fw * big, fh * big)
    warped = Image.fromarray(doc).transform(size, Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    alpha = Image.new("L", (dw, dh), 255).transform(size, Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    warped = np.asarray(warped.resize((fw, fh), Image.BOX), np.float32)
    a = np.asarray(alpha.resize((fw, fh), Image.BOX), np.float32)[..., None] / 255.0
    # Light: the scene's brightness where the document lands sets its exposure, with a
    # tint and a gradient across it, as a real camera exposes for the whole frame.
    region = frame[a[..., 0] > 0.5]
    level = region.mean() / 255.0 if len(region) else 0.5
    gain = np.clip(rng.uniform(0.75, 1.25) * (0.55 + 0.6 * level), 0.35, 1.25) * rng.uniform(0.93, 1.07, 3)
    ys, xs = np.mgrid[0:fh, 0:fw].astype(np.float32)
    g = rng.normal(0, 1, 2)
    ramp = 1 + 0.25 * rng.random() * ((xs / fw - 0.5) * g[0] + (ys / fh - 0.5) * g[1])
    lit = np.clip(warped * gain * ramp[..., None], 0, 255)
    out = frame.astype(np.float32)
    if rng.random() < 0.6:
        # A soft contact shadow, offset a little, under the document.
        shadow = Image.fromarray((a[..., 0] * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(2, 8)))
        shift = rng.integers(-5, 6, 2)
        sh = _shifted(np.asarray(shadow, np.float32) / 255.0, shift)[..., None]
        out *= 1 - rng.uniform(0.15, 0.45) * sh
    out = out * (1 - a) + lit * a
    return out


def _shifted(a: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """`a` moved by (rows, columns), zeros coming in: a shadow must not wrap round to
    the far side of the frame."""
    dy, dx = int(shift[0]), int(shift[1])
    out = np.zeros_like(a)
    h, w = a.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = a[max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    return out


def _finish(rng: np.random.Generator, frame: np.ndarray) -> np.ndarray:
    """Blur, sensor noise and phone JPEG over the whole frame."""
    im = Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.3)))
    px = np.asarray(im, np.float32) + rng.normal(0, rng.uniform(0.5, 4), (im.height, im.width, 1))
    im = Image.fromarray(np.clip(px, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=int(rng.integers(45, 95)))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def _one(args):
    seed, background, specimens, side = args
    rng = np.random.default_rng([seed, 31])
    frame_wh = FRAMES[rng.integers(len(FRAMES))]
    frame = np.asarray(_crop_frame(rng, Image.fromarray(load(background)), frame_wh))
    if rng.random() < DARK_SHARE:
        frame = (frame.astype(np.float32) * rng.uniform(0.15, 0.45)).astype(np.uint8)
    quads = []
    if rng.random() >= NEGATIVE_SHARE:
        faces = load_faces()
        for _ in range(2 if rng.random() < TWO_SHARE else 1):
            doc = _document(rng, faces, specimens)
            aspect = max(doc.shape[1], doc.shape[0]) / min(doc.shape[1], doc.shape[0])
            if doc.shape[0] > doc.shape[1]:
                doc = np.ascontiguousarray(np.rot90(doc))
            q = _quad(rng, frame_wh[0], frame_wh[1], aspect, quads)
            if q is None:
                continue
            frame = _lay(rng, frame, doc, q)
            quads.append(q)
    pixels = _finish(rng, frame)
    small = np.asarray(Image.fromarray(pixels).resize((side, side), Image.BOX))
    meta = {"seed": seed, "kind": "real-background", "background": os.path.basename(background), "width": frame_wh[0], "height": frame_wh[1], "quads": [q.tolist() for q in quads]}
    return small, meta


def generate(out_dir: str, corpus: str, split: str, count: int, first_seed: int, side: int, workers: int) -> None:
    """Writes `count` samples (`images.u8`, `scenes.jsonl`, the layout of the other
    generators) over the `split`'s real scenes, each scene used in turn."""
    backgrounds = corpus_rows(corpus, split, ("object_scene",), screened_out())
    specimens = corpus_rows(corpus, split, ("specimen_design",))
    if not backgrounds:
        raise SystemExit(f"no real scenes in the {split} split of {corpus}: set REAL_CORPUS to a rebuilt corpus (models/training/real/rebuild.py)")
    os.makedirs(out_dir, exist_ok=True)
    jobs = [(first_seed + i, backgrounds[i % len(backgrounds)], specimens, side) for i in range(count)]
    with open(os.path.join(out_dir, "images.u8"), "wb") as images, open(os.path.join(out_dir, "scenes.jsonl"), "w") as scenes:
        with Pool(workers) as pool:
            for i, (small, meta) in enumerate(pool.imap(_one, jobs, chunksize=4)):
                images.write(small.tobytes())
                scenes.write(json.dumps(meta) + "\n")
                if i % 200 == 0:
                    print(f"  {out_dir}: {i}/{count} scenes", flush=True)
