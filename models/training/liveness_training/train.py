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
# Share of view pairs that differ only in the last JPEG save.
QUALITY_PAIRS = 0.5
# Weight of the squared difference between the two views' live log-odds: the engine
# averages those, and near the decision they move the score while the class
# distributions (which the KL term compares) barely change. At 2 (from p96-8s; 0.5
# before) the held-out JPEG 90 vs 100 change fell from 0.024 to 0.021 and the turned
# and re-saved one from 0.030 to 0.023, for 0.9 points of validation accuracy.
LOG_ODDS_CONSISTENCY = 2.0
# The settling phase after the main schedule (`settle`): a low, decaying learning rate,
# three quarters of the pairs differing only in the last JPEG save, and the log-odds
# term four times heavier. It took the largest JPEG 90 vs 100 score change on the
# held-out check from 0.040 to 0.024 for 0.3 points of validation accuracy; 800 steps
# gave 0.033, and weight 5 over 600 steps gave 0.040 and cost 4 points of accuracy.
SETTLE_STEPS = 400
SETTLE_QUALITY_PAIRS = 0.75
SETTLE_LOG_ODDS_CONSISTENCY = 2.0
SETTLE_LR = 1e-4

_MEAN = torch.tensor(MEAN).view(1, 3, 1, 1)
_STD = torch.tensor(STD).view(1, 3, 1, 1)


def device() -> torch.device:
    """A CUDA GPU where one is present, else the CPU. The GPU is a bonus, never needed:
    on an H200 a step took 63 ms against about 450 ms on 2 CPU cores, and there the
    JPEG re-saves of the augmentation, not the network, set the pace."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_tensor(x: np.ndarray, on: torch.device | None = None) -> torch.Tensor:
    """NHWC uint8 pixels -> normalised NCHW floats, on `on` (the CPU by default)."""
    t = torch.from_numpy(x).to(on or "cpu").permute(0, 3, 1, 2).float() / 255.0
    return (t - _MEAN.to(t.device)) / _STD.to(t.device)


def _resaved(window: np.ndarray, quality: int, turns: int, mirror: bool) -> np.ndarray:
    """The window re-saved as JPEG at `quality` as it would be after the photo was
    turned or mirrored (as a phone or an EXIF-aware editor does) and turned back, as the
    engine's patch cut turns it back. The window's origin and side lie on the photo's
    8 px block grid, so the new blocks line up with the old in every orientation."""
    w = np.rot90(window, turns)
    w = w[:, ::-1] if mirror else w
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(w)).save(buffer, format="JPEG", quality=quality)
    w = np.asarray(Image.open(buffer).convert("RGB"))
    w = w[:, ::-1] if mirror else w
    return np.rot90(w, -turns)


def _random_resave(window: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _resaved(window, int(rng.integers(70, 101)), int(rng.integers(4)), rng.random() < 0.5)


def _crop(window: np.ndarray, y: int, x: int, turns: int, mirror: bool) -> np.ndarray:
    """A 96 px crop, turned or mirrored as the engine's patch cut can ask for."""
    p = np.rot90(window[y : y + PATCH, x : x + PATCH], turns)
    return p[:, ::-1] if mirror else p


def _view(window: np.ndarray, y: int, x: int, rng: np.random.Generator) -> np.ndarray:
    """One 96 px view of a window: often re-saved, then cropped and turned or mirrored."""
    if rng.random() < RESAVE_CHANCE:
        window = _random_resave(window, rng)
    return _crop(window, y, x, int(rng.integers(4)), rng.random() < 0.5)


def _quality_pair(window: np.ndarray, y: int, x: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two views that differ only in how the photo was last saved: kept as it was, or
    re-saved at one JPEG quality, against re-saved at another. A re-save at a quality
    close to the camera's own leaves double-quantisation traces that carry no evidence
    of the capture, and the held-out check found the score moving with them."""
    qa, qb = rng.choice(np.arange(70, 102), 2, replace=False)
    # 101 stands for "not re-saved".
    a, b = (window if q == 101 else _resaved(window, int(q), int(rng.integers(4)), rng.random() < 0.5) for q in (qa, qb))
    orient = int(rng.integers(4)), rng.random() < 0.5
    return _crop(a, y, x, *orient), _crop(b, y, x, *orient)


def _block_offset(limit: int, rng: np.random.Generator) -> int:
    return int(rng.integers(0, limit // BLOCK + 1)) * BLOCK


def augment(batch: np.ndarray, rng: np.random.Generator, quality_pairs: float = QUALITY_PAIRS) -> tuple[np.ndarray, np.ndarray]:
    """Two views of each window, crops on the block grid. A share `quality_pairs` of
    the pairs differ only in the photo's last JPEG save (`_quality_pair`); the rest sit at the same place or one
    block apart (the outline moves a few pixels between photos of the same document,
    which can move a patch by a block), each with its own re-save and orientation.
    Training asks both views for the same answer."""
    n, h, w, _ = batch.shape
    views = np.empty((2, n, PATCH, PATCH, 3), np.uint8)
    for i in range(n):
        y, x = _block_offset(h - PATCH, rng), _block_offset(w - PATCH, rng)
        if rng.random() < quality_pairs:
            views[0, i], views[1, i] = _quality_pair(batch[i], y, x, rng)
            continue
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
    """Logits of the windows' centres, on the CPU."""
    model.eval()
    on = next(model.parameters()).device
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            outs.append(model.logits(to_tensor(np.ascontiguousarray(centre(x[i : i + batch])), on)).cpu())
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


def live_log_odds(logits: torch.Tensor) -> torch.Tensor:
    """log p(live) - log p(attack) from the four class logits."""
    return logits[:, 0] - torch.logsumexp(logits[:, 1:], 1)


def pair_loss(model: PatchNet, a: np.ndarray, b: np.ndarray, y: torch.Tensor, loss_fn: nn.Module, log_odds_weight: float) -> torch.Tensor:
    """Both views' classification loss, their disagreement as class distributions, and
    `log_odds_weight` times their disagreement in live log-odds."""
    logits = model.logits(to_tensor(np.concatenate([a, b]), y.device))
    la, lb = logits[: len(a)], logits[len(a) :]
    loss = (loss_fn(la, y) + loss_fn(lb, y)) / 2 + CONSISTENCY * consistency(la, lb)
    return loss + log_odds_weight * (live_log_odds(la) - live_log_odds(lb)).square().mean()


def validate(model: PatchNet, va) -> tuple[float, float, torch.Tensor]:
    """4-class and live-vs-attack accuracy on the validation windows' centres, and the
    logits they came from (for the temperature)."""
    vl = predict_logits(model, va["x"])
    acc = (vl.argmax(1).numpy() == va["y"]).mean()
    live_acc = ((vl.argmax(1) == 0).numpy() == (va["y"] == 0)).mean()
    return float(acc), float(live_acc), vl


def _finish(model: PatchNet, logits: torch.Tensor, va, out_path: str, summary: dict) -> dict:
    """Fits the temperature on the validation logits, saves the weights and, beside
    them, `summary` with the temperature added."""
    summary["temperature"] = fit_temperature(logits, torch.from_numpy(va["y"]))
    model.cpu()
    model.temperature.fill_(summary["temperature"])
    torch.save(model.state_dict(), out_path)
    with open(out_path + ".json", "w") as f:
        json.dump(summary, f, indent=2)
    return summary


def load_sets(paths: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The windows and labels of every set in `paths` (generated and real) in one array."""
    sets = [np.load(p) for p in paths]
    return np.concatenate([s["x"] for s in sets]), np.concatenate([s["y"] for s in sets])


def _start(train_paths: list[str], val_path: str, seed: int, threads: int):
    """Seeds torch and a numpy generator, and loads the training windows, their labels
    (on the training device) and the validation set."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    x, y = load_sets(train_paths)
    return rng, x, torch.from_numpy(y).to(device()), np.load(val_path)


def train(train_paths: list[str], val_path: str, out_path: str, epochs: int, seed: int = 7, threads: int = 2) -> dict:
    rng, x, y, va = _start(train_paths, val_path, seed, threads)
    model = PatchNet(pretrained=True).to(device())
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
            loss = pair_loss(model, a, b, y[idx], loss_fn, LOG_ODDS_CONSISTENCY)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 50 == 0:
                print(f"  epoch {epoch} step {step}/{steps} loss {running:.4f} {time.time() - start:.0f}s", flush=True)
        acc, live_acc, vl = validate(model, va)
        print(f"epoch {epoch}: val 4-class accuracy {acc:.4f}, live-vs-attack {live_acc:.4f}", flush=True)
        log.append({"epoch": epoch, "val_accuracy": acc, "val_live_accuracy": live_acc})
    summary = {"epochs": epochs, "samples": int(len(x)), "seconds": round(time.time() - start), "device": device().type, "log": log}
    return _finish(model, vl, va, out_path, summary)


def settle(weights: str, train_paths: list[str], val_path: str, out_path: str, steps: int = SETTLE_STEPS, seed: int = 11, threads: int = 2) -> dict:
    """The settling phase: `steps` more steps from the trained `weights`, on random
    batches of the same windows, with the invariance terms weighted up (see
    `SETTLE_LOG_ODDS_CONSISTENCY`), then the temperature fitted again. A phase of its own
    (its own seed and output file) so that it can be rerun without the 40-minute main
    schedule."""
    rng, x, y, va = _start(train_paths, val_path, seed, threads)
    model = PatchNet(pretrained=False)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    model.to(device())
    opt = torch.optim.AdamW(model.parameters(), lr=SETTLE_LR, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.02)
    batch, start, running = 32, time.time(), 0.0
    for step in range(steps):
        model.train()
        idx = np.sort(rng.choice(len(x), batch, replace=False))
        a, b = augment(x[idx], rng, SETTLE_QUALITY_PAIRS)
        loss = pair_loss(model, a, b, y[idx], loss_fn, SETTLE_LOG_ODDS_CONSISTENCY)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if step % 50 == 0:
            print(f"  settle step {step}/{steps} loss {running:.4f} {time.time() - start:.0f}s", flush=True)
    acc, live_acc, vl = validate(model, va)
    summary = {"steps": steps, "seconds": round(time.time() - start), "device": device().type, "val_accuracy": acc, "val_live_accuracy": live_acc}
    return _finish(model, vl, va, out_path, summary)
