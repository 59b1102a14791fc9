"""Trains the whole-view classifier on generated views and calibrates its temperature."""

from __future__ import annotations

import json
import time

import numpy as np
import torch
from scipy import ndimage
from torch import nn

from .model import PatchNet
from .train import fit_temperature, load_sets, to_tensor


def symmetries(x: np.ndarray) -> list[np.ndarray]:
    """The four views of a rectified document that keep its long side across: as it
    is, mirrored either way, and turned half round. The engine scores all four."""
    return [x, x[:, :, ::-1], x[:, ::-1, :], x[:, ::-1, ::-1]]


def perturb(xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What a view cut from a real photo adds to the rendered one: half the views a
    little softer (the lens and the outline's scale vary more than the renderer's
    one blur per scene, up to 0.6 view pixels more), and sensor and JPEG residue of
    up to 2 levels. Each view pixel averages hundreds of camera pixels, and renderer
    and engine still differ by a level or two there: differences that small must not
    decide."""
    out = xb.astype(np.float32)
    for i in range(len(out)):
        if rng.random() < 0.5:
            s = rng.uniform(0.1, 0.6)
            out[i] = ndimage.gaussian_filter(out[i], (s, s, 0), mode="nearest")
    noise = rng.uniform(0, 2, (len(out), 1, 1, 1)) * rng.standard_normal(out.shape)
    return np.clip(out + noise + 0.5, 0, 255).astype(np.uint8)


def predict_logits(model: PatchNet, x: np.ndarray, batch: int = 256) -> torch.Tensor:
    """Logits averaged over the four symmetric views, as the engine averages them."""
    model.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            views = symmetries(x[i : i + batch])
            outs.append(torch.stack([model.logits(to_tensor(np.ascontiguousarray(v))) for v in views]).mean(0))
    return torch.cat(outs)


def train(train_paths: list[str], val_path: str, out_path: str, epochs: int, seed: int = 11, threads: int = 2) -> dict:
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    x, y = load_sets(train_paths)
    y, va = torch.from_numpy(y), np.load(val_path)
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
    step, start, log = 0, time.time(), []
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(x))
        running = 0.0
        for i in range(0, len(order) - batch + 1, batch):
            idx = np.sort(order[i : i + batch])
            xb = x[idx]
            # Each view in one of its four symmetric forms.
            flip_x, flip_y = rng.random(batch) < 0.5, rng.random(batch) < 0.5
            xb = np.where(flip_x[:, None, None, None], xb[:, :, ::-1], xb)
            xb = np.where(flip_y[:, None, None, None], xb[:, ::-1, :], xb)
            xb = perturb(xb, rng)
            loss = loss_fn(model.logits(to_tensor(np.ascontiguousarray(xb))), y[idx])
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
    # The temperature that fits the validation views is recorded, not applied: on views
    # the simulator renders it sharpens the answers (below 1), and the engine's views,
    # cut from photos, are not quite those; the image-level fit (`calibrate.py`) sets
    # the whole view's weight on views the engine made, so the model keeps its own
    # scale and the ranking the clamp would flatten.
    vl = predict_logits(model, va["x"])
    t = fit_temperature(vl, torch.from_numpy(va["y"]))
    torch.save(model.state_dict(), out_path)
    summary = {"epochs": epochs, "samples": int(len(x)), "seconds": round(time.time() - start), "temperature": 1.0, "validation_temperature": t, "log": log}
    with open(out_path + ".json", "w") as f:
        json.dump(summary, f, indent=2)
    return summary
