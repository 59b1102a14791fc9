"""Training of the document detector: per-cell binary cross-entropy against the
coverage mask plus a soft Dice term (so small documents count), AdamW with a one-cycle
learning-rate schedule."""

from __future__ import annotations

import json
import time

import numpy as np
import torch
import torch.nn.functional as F

from .data import augment, load, mask, to_tensor
from .model import DocNet


def _loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    bce = F.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits)
    inter = (p * target).sum((1, 2, 3))
    dice = 1 - (2 * inter + 1) / (p.sum((1, 2, 3)) + target.sum((1, 2, 3)) + 1)
    return bce + 0.5 * dice.mean()


def _val_iou(model: DocNet, images: np.ndarray, quads: list[np.ndarray]) -> float:
    model.eval()
    ious = []
    with torch.no_grad():
        for i in range(0, len(images), 32):
            batch = list(images[i : i + 32].astype(np.float32))
            p = torch.sigmoid(model(to_tensor(batch)))[:, 0].numpy() > 0.5
            for k, pm in enumerate(p):
                t = mask(quads[i + k]) > 0.5
                union = (pm | t).sum()
                ious.append(1.0 if union == 0 else (pm & t).sum() / union)
    model.train()
    return float(np.mean(ious))


def train(train_dirs: list[str], val_dirs: list[str], out: str, epochs: int, batch: int = 24, threads: int = 2, seed: int = 0) -> dict:
    """Trains from ImageNet weights, saving the weights to `out` after every epoch;
    returns the per-epoch loss and validation mask IoU."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    images, quads = load(train_dirs)
    val_images, val_quads = load(val_dirs)
    model = DocNet()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * (len(images) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    start = time.time()
    history = []
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(images))
        losses = []
        for b in range(len(images) // batch):
            idx = order[b * batch : (b + 1) * batch]
            views = [augment(images[i], quads[i], rng) for i in idx]
            x = to_tensor([v[0] for v in views])
            y = torch.from_numpy(np.stack([mask(v[1]) for v in views]))[:, None]
            loss = _loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            losses.append(loss.item())
            if b % 50 == 0:
                print(f"  epoch {epoch} batch {b}: loss {np.mean(losses[-50:]):.4f} ({time.time() - start:.0f} s)", flush=True)
        iou = _val_iou(model, val_images, val_quads)
        history.append({"epoch": epoch, "loss": float(np.mean(losses)), "val_mask_iou": iou, "seconds": round(time.time() - start)})
        print(json.dumps(history[-1]), flush=True)
        torch.save(model.state_dict(), out)
    return {"history": history, "train_images": len(images), "val_images": len(val_images)}
