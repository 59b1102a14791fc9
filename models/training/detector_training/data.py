"""Detector training samples: stretched 256 px photos with their documents' corners,
from the Rust scene generator and the physical simulator, augmented on the fly (flips,
quarter turns, zoom crops that cut documents off, colour) with masks drawn to match."""

from __future__ import annotations

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from .grid import GRID, SIDE, mask  # noqa: F401  (mask: the training step's import)
from .model import MEAN, STD


def load(dirs: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Images (N, 256, 256, 3) uint8 and, per image, its quads (k, 4, 2) in 256 px units."""
    images, quads = [], []
    for d in dirs:
        metas = [json.loads(line) for line in open(os.path.join(d, "scenes.jsonl"))]
        arr = np.fromfile(os.path.join(d, "images.u8"), np.uint8)
        # A generator stopped early may leave one side longer than the other.
        n = min(len(metas), arr.size // (SIDE * SIDE * 3))
        metas = metas[:n]
        images.append(arr[: n * SIDE * SIDE * 3].reshape(n, SIDE, SIDE, 3))
        for m in metas:
            q = np.array(m["quads"], np.float64).reshape(-1, 4, 2)
            q[..., 0] *= SIDE / m["width"]
            q[..., 1] *= SIDE / m["height"]
            quads.append(q)
    return np.concatenate(images), quads


def augment(img: np.ndarray, quads: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One random view of a sample: geometry first (the quads follow), then colour."""
    q = quads.copy()
    if rng.random() < 0.35:
        # Zoom: a window of the photo stretched back to the full input, so documents
        # near an edge are cut off and aspect ratios vary as with real frames.
        cw, ch = rng.uniform(0.6, 1.0, 2) * SIDE
        x0, y0 = rng.uniform(0, SIDE - cw), rng.uniform(0, SIDE - ch)
        t = torch.from_numpy(img).permute(2, 0, 1)[None].float()
        theta = torch.tensor([[[cw / SIDE, 0, (2 * x0 + cw) / SIDE - 1], [0, ch / SIDE, (2 * y0 + ch) / SIDE - 1]]], dtype=torch.float32)
        grid = F.affine_grid(theta, (1, 3, SIDE, SIDE), align_corners=False)
        img = F.grid_sample(t, grid, mode="bilinear", padding_mode="border", align_corners=False)[0].permute(1, 2, 0).numpy()
        q[..., 0] = (q[..., 0] - x0) * SIDE / cw
        q[..., 1] = (q[..., 1] - y0) * SIDE / ch
    img = np.asarray(img, np.float32)
    if rng.random() < 0.5:
        img = img[:, ::-1]
        q[..., 0] = SIDE - q[..., 0]
    if rng.random() < 0.5:
        img = img[::-1]
        q[..., 1] = SIDE - q[..., 1]
    if rng.random() < 0.5:
        img = img.transpose(1, 0, 2)
        q = q[..., ::-1]
    gain = rng.uniform(0.7, 1.3) * rng.uniform(0.9, 1.1, 3)
    img = np.clip((img - 128) * rng.uniform(0.7, 1.2) + 128, 0, 255) * gain
    return np.ascontiguousarray(np.clip(img, 0, 255)), np.ascontiguousarray(q)


def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    """HWC 0..255 images to the normalised NCHW batch the model (and the engine) uses."""
    x = torch.from_numpy(np.stack(images)).float().permute(0, 3, 1, 2) / 255.0
    return (x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]
