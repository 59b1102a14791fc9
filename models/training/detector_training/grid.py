"""The detector's output grid and the masks it is trained on: plain numpy, so that the
measurement code and its tests run without torch."""

from __future__ import annotations

import numpy as np

# The photo is stretched to SIDE x SIDE pixels; the network answers on a GRID x GRID grid.
SIDE = 256
GRID = 64


def mask(quads: np.ndarray, grid: int = GRID, sub: int = 4) -> np.ndarray:
    """Fraction of each grid cell covered by any of the convex quads (256 px units)."""
    step = SIDE / grid
    t = (np.arange(grid * sub) + 0.5) / sub * step
    xs, ys = np.meshgrid(t, t)
    cover = np.zeros(xs.shape, bool)
    for q in quads:
        signs = []
        for i in range(4):
            (x0, y0), (x1, y1) = q[i], q[(i + 1) % 4]
            signs.append((x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0))
        s = np.stack(signs)
        cover |= np.all(s >= 0, 0) | np.all(s <= 0, 0)
    return cover.reshape(grid, sub, grid, sub).mean((1, 3)).astype(np.float32)
