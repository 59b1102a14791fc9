"""Trains the patch classifier on generated patches and calibrates its temperature."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import torch
from PIL import Image
from torch import nn

from .model import MEAN, PATCH, STD, PatchNet

# Weight of the two views' disagreement: the score must not move when the same photo
# is re-saved, turned or outlined a few pixels differently. Doubled (from 1) when the
# views began to differ by a re-save in another orientation, which the held-out
# invariance check showed to move the score most.
CONSISTENCY = 2.0
# The engine cuts patches on the photo's 8 px block grid, so training crops do too.
BLOCK = 8
RESAVE_CHANCE = 0.7

_MEAN = torch.tensor(MEAN).view(1, 3, 1, 1)
_STD = torch.tensor(STD).view(1, 3, 1, 1)


def to_tensor(x: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255.0
    return (t - _MEAN) / _STD


def _resaved(window: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The window re-saved as JPEG as it would be after the photo was turned or
    mirrored (as a phone or an EXIF-aware editor does) and turned back, as the engine's
    patch cut turns it back. The window's origin and side lie on the photo's 8 px block
    grid, so the new blocks line up with the old in every orientation."""
    turns, mirror = int(rng.integers(4)), rng.random() < 0.5
    w = np.rot90(window, turns)
    w = w[:, ::-1] if mirror else w
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(w)).save(buffer, format="JPEG", quality=int(rng.integers(70, 101)))
    w = np.asarray(Image.open(buffer).convert("RGB"))
    w = w[:, ::-1] if mirror else w
    return np.rot90(w, -turns)


def _view(window: np.ndarray, y: int, x: int, rng: np.random.Generator) -> np.ndarray:
    """One 96 px view of a window: often re-saved, then cropped and turned or mirrored
    as the engine's patch cut can ask for."""
    if rng.random() < RESAVE_CHANCE:
        window = _resaved(window, rng)
    p = window[y : y + PATCH, x : x + PATCH]
    p = np.rot90(p, rng.integers(4))
    if rng.random() < 0.5:
        p = p[:, ::-1]
    return p


def _block_offset(limit: int, rng: np.random.Generator) -> int:
    return int(rng.integers(0, limit // BLOCK + 1)) * BLOCK


def augment(batch: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two views of each window: crops on the block grid, the second one block from the
    first or at the same place (the outline moves a few pixels between photos of the
    same document, which can move a patch by a block), each with its own re-save and
    orientation. Training asks both views for the same answer."""
    n, h, w, _ = batch.shape
    views = np.empty((2, n, PATCH, PATCH, 3), np.uint8)
    for i in range(n):
        y, x = _block_offset(h - PATCH, rng), _block_offset(w - PATCH, rng)
        views[0, i] = _view(batch[i], y, x, rng)
        y2 = int(np.clip(y + BLOCK * rng.integers(-1, 2), 0, (h - PATCH) // BLOCK * BLOCK))
        x2 = int(np.clip(x + BLOCK * rng.integers(-1, 2), 0, (w - PATCH) // BLOCK * BLOCK))
        views[1, i] = _view(batch[i], y2, x2, rng)
    return views[0], views[1]


def centre(batch: np.ndarray) -> np.ndarray:
    h, w = batch.shape[1:3]
    y, x = (h - PATCH) // 2 // BLOCK * BLOCK, (w - PATCH) // 2 // BLOCK * BLOCK
    return batch[:, y : y + PATCH, x : x + PATCH]


def predict_logits(model: PatchNet, x: np.ndarray, batch: int = 256) -> torch.Tensor:
    model.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            outs.append(model.logits(to_tensor(np.ascontiguousarray(centre(x[i : i + batch])))))
    return torch.cat(outs)


def fit_temperature(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Temperature that minimises the validation negative log-likelihood, so that
    probabilities (and so 0.25 and 0.5) mean what they say on held-out data."""
    best = (float("inf"), 1.0)
    for t in np.exp(np.linspace(np.log(0.3), np.log(10), 120)):
        nll = nn.functional.cross_entropy(logits / float(t), y).item()
        best = min(best, (nll, float(t)))
    return best[1]


def consistency(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Symmetric KL divergence between the class distributions of two views."""
    la, lb = torch.log_softmax(a, 1), torch.log_softmax(b, 1)
    return 0.5 * ((la.exp() * (la - lb)).sum(1) + (lb.exp() * (lb - la)).sum(1)).mean()


def train(train_path: str, val_path: str, out_path: str, epochs: int, seed: int = 7, threads: int = 2) -> dict:
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    tr = np.load(train_path)
    va = np.load(val_path)
    x, y = tr["x"], torch.from_numpy(tr["y"])
    model = PatchNet(pretrained=True)
    head_params = list(model.head.parameters()) + list(model.classify.parameters())
    opt = torch.optim.AdamW([
        {"params": model.features.parameters(), "lr": 1e-3},
        {"params": head_params, "lr": 3e-3},
    ], weight_decay=1e-4)
    batch = 32  # windows per step, two views each
    steps = epochs * (len(x) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[1e-3, 3e-3], total_steps=steps, pct_start=0.1)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.02)
    step, start = 0, time.time()
    log = []
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(x))
        running = 0.0
        for i in range(0, len(order) - batch + 1, batch):
            idx = np.sort(order[i : i + batch])
            a, b = augment(x[idx], rng)
            logits = model.logits(to_tensor(np.concatenate([a, b])))
            la, lb = logits[:batch], logits[batch:]
            loss = (loss_fn(la, y[idx]) + loss_fn(lb, y[idx])) / 2 + CONSISTENCY * consistency(la, lb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 50 == 0:
                print(f"  epoch {epoch} step {step}/{steps} loss {running:.4f} {time.time() - start:.0f}s", flush=True)
        vl = predict_logits(model, va["x"])
        acc = (vl.argmax(1).numpy() == va["y"]).mean()
        live_acc = ((vl.argmax(1) == 0).numpy() == (va["y"] == 0)).mean()
        print(f"epoch {epoch}: val 4-class accuracy {acc:.4f}, live-vs-attack {live_acc:.4f}", flush=True)
        log.append({"epoch": epoch, "val_accuracy": float(acc), "val_live_accuracy": float(live_acc)})
    vl = predict_logits(model, va["x"])
    t = fit_temperature(vl, torch.from_numpy(va["y"]))
    model.temperature.fill_(t)
    torch.save(model.state_dict(), out_path)
    summary = {"epochs": epochs, "samples": int(len(x)), "seconds": round(time.time() - start), "temperature": t, "log": log}
    with open(out_path + ".json", "w") as f:
        json.dump(summary, f, indent=2)
    return summary
