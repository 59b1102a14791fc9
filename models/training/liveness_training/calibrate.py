"""Image-level calibration: how the 16 patch probabilities become a score for which 0.25
and 0.5 mean what the spec says.

The patches' softmax is temperature-calibrated per patch, but the score routes a whole
photo. This step scores the calibration photos (their own seeds, used for nothing else)
through the release binary, reads each photo's per-patch live probabilities from its
evidence map, and fits the score's scale on them: a logistic function of the mean patch
log-odds, fitted to genuine photos against the hardest attack type with both classes
weighted equally. A score of 0.5 then means that a genuine photo and that attack are
equally likely; below 0.25 the attack is three times as likely. Fitting against all
attacks pooled would let the easy ones (prints, digital images) set the scale and wave
the hard ones through.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .capture import CLASSES
from .evaluate import ATTACKS, check, operating_points

CLAMP = 1e-3  # a patch's probability is held in [CLAMP, 1 - CLAMP] (as the engine does)


def patch_probabilities(results: list[dict], folder: str) -> list[tuple[str, np.ndarray]]:
    """(class, live probability per patch) for every scored photo. The evidence map holds
    1 - p as 32-bit floats: exact enough inside the clamp."""
    out = []
    for r in results:
        if r.get("score") is None or not r.get("evidence"):
            continue
        label = os.path.relpath(r["path"], folder).split(os.sep)[0]
        out.append((label, 1.0 - np.asarray(r["evidence"]["values"], dtype=np.float64)))
    return out


def mean_logit(live: np.ndarray) -> float:
    p = np.clip(live, CLAMP, 1 - CLAMP)
    return float(np.log(p / (1 - p)).mean())


def fit_logistic(x: np.ndarray, live: np.ndarray) -> tuple[float, float]:
    """Slope and offset of a logistic regression of `live` (1/0) on `x`, each class
    weighted to half the total, by Newton's method (two parameters, no prior)."""
    w = np.where(live == 1, 0.5 / max((live == 1).sum(), 1), 0.5 / max((live == 0).sum(), 1))
    a, b = 1.0, 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-(a * x + b)))
        g = w * (p - live)
        h = w * p * (1 - p)
        hess = np.array([[(h * x * x).sum(), (h * x).sum()], [(h * x).sum(), h.sum()]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, [(g * x).sum(), g.sum()])
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-10:
            break
    return float(a), float(b)


def calibrate(binary: str, calib_dir: str, manifest_path: str, report_path: str) -> dict:
    """Fits the aggregation on the calibration photos and writes it into the manifest."""
    results = check(binary, [os.path.join(calib_dir, c) for c in CLASSES])
    photos = patch_probabilities(results, calib_dir)
    by_class = {c: [live for label, live in photos if label == c] for c in CLASSES}
    rules = {"mean": lambda live: float(live.mean()), "meanLogit": mean_logit}
    # Both rules' ranking on these photos, per attack type (EER is scale-free, so it is
    # the same before and after the fit): the record of why the rule is the one it is.
    ranking = {
        name: {k: operating_points([f(v) for v in by_class["genuine"]], [f(v) for v in by_class[k]]) for k in ATTACKS if by_class[k]}
        for name, f in rules.items()
    }
    hardest = max(ranking["meanLogit"], key=lambda k: ranking["meanLogit"][k]["eer"])
    genuine = np.array([mean_logit(v) for v in by_class["genuine"]])
    attack = np.array([mean_logit(v) for v in by_class[hardest]])
    slope, offset = fit_logistic(np.concatenate([genuine, attack]), np.concatenate([np.ones(len(genuine)), np.zeros(len(attack))]))
    report = {
        "photos": len(results),
        "scored": len(photos),
        "ranking": ranking,
        "fitted_against": hardest,
        "aggregation": {"rule": "meanLogit", "clamp": CLAMP, "slope": slope, "offset": offset},
    }
    score = lambda v: 1 / (1 + np.exp(-(slope * mean_logit(v) + offset)))  # noqa: E731
    report["after"] = {
        c: {"below_025": int(sum(score(v) < 0.25 for v in vs)), "below_05": int(sum(score(v) < 0.5 for v in vs)), "n": len(vs)}
        for c, vs in by_class.items()
    }
    manifest = json.load(open(manifest_path))
    manifest["aggregation"] = report["aggregation"]
    manifest["aggregationFit"] = (
        f"logistic regression of the mean patch log-odds, genuine against {hardest} (classes weighted equally), "
        f"on {len(photos)} calibration photos generated with their own seeds; see models/README.md"
    )
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    with open(report_path, "w") as f:
        json.dump(report, f, indent=2)
    return report
