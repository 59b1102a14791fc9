"""Trains the patch classifier on generated patches and calibrates its temperature."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import torch
from torch import nn

from .model import MEAN, PATCH, STD, PatchNet

_MEAN = torch.tensor(MEAN).view(1, 3, 1, 1)
_STD = torch.tensor(STD).view(1, 3, 1, 1)


def to_tensor(x: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255.0
    return (t - _MEAN) / _STD


def augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random 96 px crops and the eight orientations an EXIF tag can ask for."""
    n, h, w, _ = batch.shape
    out = np.empty((n, PATCH, PATCH, 3), np.uint8)
    for i in range(n):
        y, x = rng.integers(0, h - PATCH + 1), rng.integers(0, w - PATCH + 1)
        p = batch[i, y : y + PATCH, x : x + PATCH]
        p = np.rot90(p, rng.integers(4))
        if rng.random() < 0.5:
            p = p[:, ::-1]
        out[i] = p
    return out


def centre(batch: np.ndarray) -> np.ndarray:
    h, w = batch.shape[1:3]
    y, x = (h - PATCH) // 2, (w - PATCH) // 2
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
    batch = 64
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
            xb = to_tensor(augment(x[idx], rng))
            loss = loss_fn(model.logits(xb), y[idx])
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
