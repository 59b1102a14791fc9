"""Training and validation patches cut from simulated captures.

Each drawn document is captured once per class, so every class sees the same layouts
and the model can only learn how the capture differs. Windows are rendered where they
fall inside the document, JPEG-compressed as the device would, and stored decoded.
"""

from __future__ import annotations

import io
import json
import os
from multiprocessing import Pool

import numpy as np
from PIL import Image

from .capture import CLASSES, Scene
from .documents import draw_document, load_faces

WINDOW = 112


def _one_document(args):
    seed, windows_per_scene = args
    rng = np.random.default_rng(seed)
    faces = load_faces()
    doc = draw_document(rng, faces)
    out = []
    for label, kind in enumerate(CLASSES):
        scene = Scene(rng, doc, kind)
        for _ in range(windows_per_scene):
            x0, y0 = scene.window_inside_document(rng, WINDOW)
            # Luma blocks (8 px) line up with the whole frame's; with 4:2:0 chroma the
            # 16 px chroma grid may be off by 8, which the model must tolerate anyway.
            x0, y0 = x0 // 8 * 8, y0 // 8 * 8
            pixels = scene.render_window(x0, y0, WINDOW, WINDOW)
            decoded = np.asarray(Image.open(io.BytesIO(scene.encode(pixels))).convert("RGB"))
            out.append((decoded, label, seed, scene.conditions))
    return out


def generate(path: str, seeds: range, windows_per_scene: int, workers: int) -> None:
    """Writes `path` (.npz) with patches, labels, scene groups and conditions."""
    xs, ys, groups, conds = [], [], [], []
    # In seed order, not finishing order: the training order (and so the model) is
    # drawn over row numbers, so the rows must not depend on which worker was quicker.
    with Pool(workers) as pool:
        for i, items in enumerate(pool.imap(_one_document, [(s, windows_per_scene) for s in seeds], chunksize=4)):
            for x, y, g, c in items:
                xs.append(x)
                ys.append(y)
                groups.append(g * 4 + y)
                conds.append(c)
            if i % 100 == 0:
                print(f"  {path}: {i}/{len(seeds)} documents", flush=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez(path, x=np.stack(xs), y=np.array(ys, np.int64), group=np.array(groups, np.int64), conditions=np.array([json.dumps(c) for c in conds]))
