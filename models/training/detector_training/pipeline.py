"""Rebuilds the shipped document detector: data -> train -> export.

    python -m detector_training          # every step
    python -m detector_training train    # one step (others reuse work/ files)

Training photos come from two generators with disjoint seeds: the Rust scene generator
(`cargo run --release --example detector_data`, seeds from 1 000 000; the detector tests
use seeds below 1 000) and the physical capture simulator of `liveness_training`
(seeds from 500 000). Held-out validation: Rust seeds from 2 000 000 and simulator seeds
from 600 000. Generated data lives in models/training/work/detector/, never committed.
The detector is measured by the Rust tests (`tests/detection.rs`) on scenes it never saw.
"""

from __future__ import annotations

import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(TRAINING))
WORK = os.environ.get("DETECTOR_WORK", os.path.join(TRAINING, "work", "detector"))
MODEL_DIR = os.path.join(ROOT, "models", "detector")

RUST_TRAIN = (1_000_000, 6000)
RUST_VAL = (2_000_000, 400)
PHYS_TRAIN = range(500_000, 501_200)
PHYS_VAL = range(600_000, 600_100)
EPOCHS = 6
VERSION = "detector-mnv2fpn-256-1"
STEPS = ["data", "train", "export"]
TRAIN_DIRS = ["rust-train", "phys-train"]
VAL_DIRS = ["rust-val", "phys-val"]


def _rust_scenes(name: str, first: int, count: int) -> None:
    from .model import SIDE

    subprocess.run(["cargo", "build", "--release", "--example", "detector_data"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "examples", "detector_data")
    subprocess.run([exe, os.path.join(WORK, name), str(first), str(count), str(SIDE)], check=True)


def step_data(workers: int) -> None:
    from .model import SIDE
    from .physics_scenes import generate

    _rust_scenes("rust-val", *RUST_VAL)
    _rust_scenes("rust-train", *RUST_TRAIN)
    generate(os.path.join(WORK, "phys-val"), PHYS_VAL, SIDE, workers)
    generate(os.path.join(WORK, "phys-train"), PHYS_TRAIN, SIDE, workers)


def step_train(workers: int) -> None:
    from .train import train

    summary = train([os.path.join(WORK, d) for d in TRAIN_DIRS], [os.path.join(WORK, d) for d in VAL_DIRS], os.path.join(WORK, "detector.pt"), EPOCHS, threads=workers)
    with open(os.path.join(WORK, "training.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))


def step_export(workers: int) -> None:
    from .export import export

    training = (
        f"{RUST_TRAIN[1]} scenes from the Rust scene generator (hazards: fingers, clutter, low contrast, cut off, "
        f"two documents, printed sheets, screens, glare; plus edge cases) and {len(PHYS_TRAIN)} photos from the "
        "physical capture simulator (genuine, screen, print, digital), 256 px; built by models/training "
        "(python -m detector_training)"
    )
    print(export(os.path.join(WORK, "detector.pt"), MODEL_DIR, VERSION, training))


def main() -> None:
    from steps import run_steps

    run_steps(__doc__, {name: globals()[f"step_{name}"] for name in STEPS}, WORK)
