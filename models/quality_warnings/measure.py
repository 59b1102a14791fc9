"""Measures the image-quality warnings (blur, glare, exposure) on real photos.

Two questions, both on the genuine photos a person screened (`real_screening.csv`):
- false warnings: how often each warning fires on photos labelled sharp, free of glare
  and well exposed (it should be rare: <= 5%);
- triggers: each good photo is also rebuilt with a known defect (Gaussian blur, a
  blown-out reflection, under- and over-exposure in linear light, each at two or three
  strengths), and the warning built for it should fire (>= 95% at the strength a reviewer
  would reject).

The photos go through the release binary (`check --region whole --json`, no models, the
lowered image gate of `real/measure.toml`), so what is measured is what ships. The train
group sets the thresholds and the validation group reports them.

    models/training/.venv/bin/python models/quality_warnings/measure.py \
        --corpus /work/real-corpus --out /tmp/quality-warnings
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from collections import defaultdict

import numpy as np
from PIL import Image, ImageFilter, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BINARY = os.path.join(ROOT, "target", "release", "docliveness")
GATE = os.path.join(ROOT, "models", "training", "real", "measure.toml")

# Defects, each as (name, warning it should raise, strength). Blur sigma is a share of
# the photo's longer side, so a 1600 px messenger copy and a 4032 px original are blurred
# alike as a reviewer sees them; exposure steps are in stops of linear light; a glare spot
# covers the given share of the frame.
DEFECTS = [
    ("blur-0.10%", "BLURRED", 0.0010),
    ("blur-0.20%", "BLURRED", 0.0020),
    ("blur-0.35%", "BLURRED", 0.0035),
    ("glare-1.5%", "GLARE", 0.015),
    ("glare-4%", "GLARE", 0.04),
    ("dark-2EV", "UNDEREXPOSED", -2.0),
    ("dark-3EV", "UNDEREXPOSED", -3.0),
    ("bright+1.5EV", "OVEREXPOSED", 1.5),
    ("bright+2.5EV", "OVEREXPOSED", 2.5),
]
# The strengths a reviewer would send back: the >= 95% target applies to these.
REJECTED = {"blur-0.20%", "blur-0.35%", "glare-1.5%", "glare-4%", "dark-3EV", "bright+2.5EV"}


# sRGB <-> linear light through tables: the photos are 12 MP, and the exact curves on
# every pixel in float64 would take longer than the whole measurement.
_LEVELS = np.arange(256) / 255.0
_TO_LINEAR = np.where(_LEVELS <= 0.04045, _LEVELS / 12.92, ((_LEVELS + 0.055) / 1.055) ** 2.4).astype(np.float32)
_STEPS = 4096
_FINE = np.arange(_STEPS + 1) / _STEPS
_TO_SRGB = (np.where(_FINE <= 0.0031308, _FINE * 12.92, 1.055 * _FINE ** (1 / 2.4) - 0.055) * 255.0 + 0.5).astype(np.uint8)


def to_linear(a: np.ndarray) -> np.ndarray:
    return _TO_LINEAR[a]


def to_srgb(a: np.ndarray) -> np.ndarray:
    return _TO_SRGB[(np.clip(a, 0.0, 1.0) * _STEPS + 0.5).astype(np.int32)]


def with_defect(img: Image.Image, kind: str, strength: float, rng: np.random.Generator) -> Image.Image:
    if kind == "BLURRED":
        return img.filter(ImageFilter.GaussianBlur(radius=strength * max(img.size)))
    lin = to_linear(np.asarray(img, dtype=np.uint8))
    if kind in ("UNDEREXPOSED", "OVEREXPOSED"):
        return Image.fromarray(to_srgb(lin * np.float32(2.0 ** strength)))
    # A specular reflection: an ellipse blown out to white with a soft rim, somewhere in
    # the middle half of the frame, covering `strength` of it.
    h, w = lin.shape[:2]
    area = strength * w * h
    aspect = rng.uniform(1.0, 2.5)
    a = np.sqrt(area * aspect / np.pi)
    b = area / (np.pi * a)
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    angle = rng.uniform(0, np.pi)
    # Only the spot's bounding box is touched (its rim reaches 1.25 radii).
    reach = 1.25 * a
    x0, x1 = int(max(0, cx - reach)), int(min(w, cx + reach + 1))
    y0, y1 = int(max(0, cy - reach)), int(min(h, cy + reach + 1))
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dx, dy = xx - cx, yy - cy
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / a
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / b
    r = np.sqrt(u * u + v * v)
    lin[y0:y1, x0:x1] += (np.clip((1.25 - r) / 0.25, 0.0, 1.0)[..., None] * 4.0).astype(np.float32)
    return Image.fromarray(to_srgb(lin))


def check(folder: str) -> dict[str, dict]:
    out = subprocess.run(
        [BINARY, "check", "--json", "--region", "whole", "--config", GATE, "--models", os.path.join(folder, "no-models"), folder],
        check=True, capture_output=True, text=True,
    ).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {os.path.relpath(r["path"], folder): r for r in rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(os.path.join(HERE, "real_screening.csv")) as f:
        screened = list(csv.DictReader(f))
    good = [r for r in screened if (r["sharp"], r["glare"], r["exposure"]) == ("sharp", "none", "ok")]
    bad = [r for r in screened if "blurred" == r["sharp"] or "glare" == r["glare"] or r["exposure"] in ("dark", "bright")]
    os.makedirs(args.out, exist_ok=True)
    plan = []  # (relative name, split, what it is, warning expected or None)
    for i, r in enumerate(good + bad):
        name = f"{i:04d}"
        # One stream per photo: a rerun that finds some photos built draws the same spots.
        rng = np.random.default_rng([20261206, i])
        src = os.path.join(args.corpus, r["file"])
        img = ImageOps.exif_transpose(Image.open(src)).convert("RGB")
        state = "good" if r in good else "bad"
        dest = os.path.join(args.out, f"{name}-as-taken.jpg")
        if not os.path.exists(dest):
            img.save(dest, quality=95)
        expected = None
        if state == "bad":
            expected = "BLURRED" if r["sharp"] == "blurred" else "GLARE" if r["glare"] == "glare" else {"dark": "UNDEREXPOSED", "bright": "OVEREXPOSED"}[r["exposure"]]
        plan.append((os.path.basename(dest), r["split"], f"{state}-as-taken", expected))
        if state == "good":
            for label, warning, strength in DEFECTS:
                dest = os.path.join(args.out, f"{name}-{label}.jpg")
                if not os.path.exists(dest):
                    with_defect(img, warning, strength, rng).save(dest, quality=95)
                plan.append((os.path.basename(dest), r["split"], label, warning))
        print(f"built {i + 1}/{len(good) + len(bad)}", file=sys.stderr, flush=True)
    results = check(args.out)
    table: dict = defaultdict(lambda: defaultdict(lambda: {"photos": 0, "fired": defaultdict(int)}))
    measures = []
    for name, split, what, expected in plan:
        r = results[name]
        cell = table[split][what]
        cell["photos"] += 1
        for w in r.get("warnings", []):
            cell["fired"][w["code"]] += 1
        q = r.get("quality") or {}
        measures.append({"photo": name, "split": split, "what": what, **q})
    report = {
        split: {
            what: {"photos": c["photos"], "fired": dict(c["fired"]),
                   "rates": {k: round(v / c["photos"], 3) for k, v in c["fired"].items()}}
            for what, c in sorted(by.items())
        }
        for split, by in table.items()
    }
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump({"report": report, "measures": measures, "rejected_strengths": sorted(REJECTED)}, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
