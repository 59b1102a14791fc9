"""Detector training photos from the physical capture simulator of `liveness_training`:
genuine cards, screens and prints, with fingers, glare and documents on sheets or
devices, rendered small (the detector only sees a 256 px copy) and stretched to the
model's square input the way the engine stretches a photo.

The label is the document's own outline (never the device's or the sheet's), so the
detector learns to find the document inside whatever carries it.
"""

from __future__ import annotations

import json
import os
from multiprocessing import Pool

import numpy as np
from PIL import Image

from liveness_training.capture import Scene
from liveness_training.documents import draw_document, load_faces

FRAMES = [(512, 384), (384, 512), (512, 288), (288, 512), (448, 336)]
KINDS = ["genuine", "genuine", "screen", "print", "digital"]


def _one(args):
    seed, side = args
    rng = np.random.default_rng([seed, 77])
    doc = draw_document(rng, load_faces())
    kind = KINDS[seed % len(KINDS)]
    frame = FRAMES[(seed // len(KINDS)) % len(FRAMES)]
    scene = Scene(rng, doc, kind, resolution=None if kind == "digital" else frame)
    pixels = scene.render_full()
    w, h = scene.frame_w, scene.frame_h
    small = np.asarray(Image.fromarray(pixels).resize((side, side), Image.BOX))
    corners = scene.target_corners().tolist()
    return small, {"seed": seed, "kind": kind, "width": w, "height": h, "quads": [corners]}


def generate(out_dir: str, seeds: range, side: int, workers: int) -> None:
    """Writes `images.u8` and `scenes.jsonl` in the layout of the Rust generator."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "images.u8"), "wb") as images, open(os.path.join(out_dir, "scenes.jsonl"), "w") as scenes:
        with Pool(workers) as pool:
            for i, (small, meta) in enumerate(pool.imap(_one, [(s, side) for s in seeds], chunksize=4)):
                images.write(small.tobytes())
                scenes.write(json.dumps(meta) + "\n")
                if i % 100 == 0:
                    print(f"  {out_dir}: {i}/{len(seeds)} scenes", flush=True)
