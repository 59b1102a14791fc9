"""Rebuilds the shipped document detector: data -> real data -> train -> export, then
measures it on annotated real photos (realeval).

    python -m detector_training          # every step
    python -m detector_training train    # one step (others reuse work/ files)

Training photos come from two generators with disjoint seeds: the Rust scene generator
(`cargo run --release --example detector_data`, seeds from 1 000 000; the detector tests
use seeds below 1 000) and the physical capture simulator of `liveness_training`
(seeds from 500 000); and from real phone photos of everyday scenes, the real-capture
corpus's training split less the scenes that show paper or cards
(`real/scene_screening.csv`; `real_scenes.py`, seeds from 700 000: scenes left empty,
and scenes with identity documents or sheets of paper laid in). Held-out validation: Rust seeds from 2 000 000,
simulator seeds from 600 000, and the corpus's validation split (seeds from 800 000).
Generated data lives in models/training/work/detector/, never committed.
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
REAL_TRAIN = (700_000, 2600)
REAL_VAL = (800_000, 200)
EPOCHS = 4
VERSION = "detector-mnv2fpn-256-real3"
STEPS = ["data", "realdata", "train", "export", "realeval"]
TRAIN_DIRS = ["rust-train", "phys-train", "real-train"]
VAL_DIRS = ["rust-val", "phys-val", "real-val"]


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


def step_realdata(workers: int) -> None:
    """Real everyday scenes, empty and with documents laid in (`real_scenes.py`)."""
    from liveness_training.pipeline import real_corpus

    from .model import SIDE
    from .real_scenes import generate

    corpus = real_corpus()
    generate(os.path.join(WORK, "real-val"), corpus, "validation", REAL_VAL[1], REAL_VAL[0], SIDE, workers)
    generate(os.path.join(WORK, "real-train"), corpus, "train", REAL_TRAIN[1], REAL_TRAIN[0], SIDE, workers)


def step_train(workers: int) -> None:
    from .train import train

    summary = train([os.path.join(WORK, d) for d in TRAIN_DIRS], [os.path.join(WORK, d) for d in VAL_DIRS], os.path.join(WORK, "detector.pt"), EPOCHS, threads=workers)
    with open(os.path.join(WORK, "training.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))


def step_export(workers: int) -> None:
    from .export import export
    from .real_scenes import DARK_SHARE, NEGATIVE_SHARE, PAPER_SHARE, SPECIMEN_SHARE, STRIPE_SHARE

    training = (
        f"{RUST_TRAIN[1]} scenes from the Rust scene generator (hazards: fingers, clutter, low contrast, cut off, "
        f"two documents, printed sheets, screens, glare; plus edge cases) and {len(PHYS_TRAIN)} photos from the "
        "physical capture simulator (genuine, screen, print, digital), "
        f"{REAL_TRAIN[1]} real phone photos of everyday scenes, screened for paper and cards ({1 - NEGATIVE_SHARE:.0%} with documents laid in: "
        f"{SPECIMEN_SHARE:.0%} real specimen designs, {(1 - SPECIMEN_SHARE) * PAPER_SHARE:.0%} generated sheets of paper (pages, forms, receipts), "
        f"the rest generated identity documents, {STRIPE_SHARE:.0%} of their card backs with a magnetic stripe; "
        f"{DARK_SHARE:.0%} of scenes darkened to a dark desk; the others empty: hard negatives), 256 px; built by models/training "
        "(python -m detector_training)"
    )
    print(export(os.path.join(WORK, "detector.pt"), MODEL_DIR, VERSION, training))


def step_realeval(workers: int) -> None:
    """The shipped detector on the annotated real validation list (`real_eval.py`)."""
    from liveness_training.pipeline import BINARY, build_binary, real_corpus

    from .real_eval import evaluate, lines

    build_binary()
    report = evaluate(BINARY, real_corpus())
    with open(os.path.join(WORK, "real_report.json"), "w") as f:
        json.dump(report, f, indent=2)
    print("\n".join(lines(report)))


def main() -> None:
    from steps import run_steps

    run_steps(__doc__, {name: globals()[f"step_{name}"] for name in STEPS}, WORK)
