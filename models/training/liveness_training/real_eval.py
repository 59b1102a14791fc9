"""The real-photo figures: the shipped models on real photos no one here made.

The corpus's validation split (`models/training/real/`, split by repository) is scored
through the release binary as whole frames (`--region whole`: most of its photos show
objects and screens, not documents, so the detector has nothing to find) with the
quality gate lowered (`real/measure.toml`), so that the model is what is measured. The
figures are the issue's targets: genuine photos at or above 0.5 and below 0.25, screens
below 0.5, printed copies below 0.25, digital images below 0.5, with the number of
photos behind each, and each branch's separation (AUC) beside them.
"""

from __future__ import annotations

import csv
import os

import numpy as np

from .calibrate import mean_logit
from .evaluate import check

MEASURE_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "real", "measure.toml")


def score_real(binary: str, folder: str) -> list[dict]:
    """`check` of every photo under `folder` (its sub-folders named by label) as whole
    frames under the measurement config; each result gains its `label`, and its `kind`
    from the corpus index beside the split folder (object scene, physical page, ...)."""
    paths = [os.path.join(folder, d) for d in sorted(os.listdir(folder)) if os.path.isdir(os.path.join(folder, d))]
    results = check(binary, paths, region="whole", config=MEASURE_CONFIG)
    kinds = {}
    index = os.path.join(os.path.dirname(os.path.abspath(folder)), "index.csv")
    if os.path.exists(index):
        with open(index, newline="") as f:
            corpus = os.path.dirname(index)
            kinds = {os.path.abspath(os.path.join(corpus, r["file"])): r["kind"] for r in csv.DictReader(f)}
    for r in results:
        r["label"] = os.path.relpath(r["path"], folder).split(os.sep)[0]
        r["kind"] = kinds.get(os.path.abspath(r["path"]))
    return results


def auc(positive: list[float], negative: list[float]) -> float | None:
    """Probability that a positive scores above a negative (ties count half)."""
    if not positive or not negative:
        return None
    p, n = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float((p > n).mean() + 0.5 * (p == n).mean())


# Re-encodings of each real photo: JPEG 90 and 100, and each of those saved again at 85
# (a messaging app's second pass). A score that moves between them moves on nothing a
# reviewer could see.
RESAVES = {"q90": (90,), "q100": (100,), "q90r85": (90, 85), "q100r85": (100, 85)}
RESAVE_LABELS = ("genuine", "screen")


def write_resaves(folder: str, out_dir: str) -> list[tuple[str, str]]:
    """Writes the `RESAVES` of every genuine and screen photo under `folder` (upright by
    its EXIF orientation) into `out_dir` as `<label>__<stem>__<variant>.jpg`; returns
    (label, stem) of each photo written."""
    import io

    from PIL import Image, ImageOps

    os.makedirs(out_dir, exist_ok=True)
    written = []
    for label in RESAVE_LABELS:
        for name in sorted(os.listdir(os.path.join(folder, label))):
            try:
                photo = ImageOps.exif_transpose(Image.open(os.path.join(folder, label, name))).convert("RGB")
            except OSError:
                continue  # Pillow cannot read a few WebP copies here; the scoring skips them too.
            stem = f"{label}__{os.path.splitext(name)[0]}"
            for tag, qualities in RESAVES.items():
                current, data = photo, b""
                for q in qualities:
                    buf = io.BytesIO()
                    current.save(buf, "JPEG", quality=q)
                    data = buf.getvalue()
                    current = Image.open(io.BytesIO(data)).convert("RGB")
                with open(os.path.join(out_dir, f"{stem}__{tag}.jpg"), "wb") as f:
                    f.write(data)
            written.append((label, stem))
    return written


def resave_figures(written: list[tuple[str, str]], results: list[dict]) -> dict:
    """Per label: the score's largest, 95th-percentile and median change between JPEG
    90 and 100, and between the two saved again at 85, over the photos scored in all
    four variants."""
    score = {os.path.basename(r["path"]): r.get("score") for r in results}
    out = {}
    for label in RESAVE_LABELS:
        first, again = [], []
        for lab, stem in written:
            s = [score.get(f"{stem}__{tag}.jpg") for tag in RESAVES]
            if lab != label or any(v is None for v in s):
                continue
            first.append(abs(s[0] - s[1]))
            again.append(abs(s[2] - s[3]))

        def stats(d):
            return {"max": float(np.max(d)), "p95": float(np.percentile(d, 95)), "median": float(np.median(d))} if d else None

        out[label] = {"photos": len(first), "jpeg_90_vs_100": stats(first), "again_at_85": stats(again)}
    return out


def figures(results: list[dict]) -> dict:
    """The target figures per label, and the AUC of the score and of each branch
    (patches' mean log-odds, whole view) for genuine photos against each attack."""
    by = {}
    for r in results:
        by.setdefault(r["label"], []).append(r)
    out = {"photos": {k: len(v) for k, v in sorted(by.items())}, "errors": {}}
    scored = {k: [r for r in v if r.get("score") is not None] for k, v in by.items()}
    for k, v in by.items():
        errs = {}
        for r in v:
            if r.get("score") is None:
                errs[r.get("error") or "unscored"] = errs.get(r.get("error") or "unscored", 0) + 1
        if errs:
            out["errors"][k] = errs
    rows = {}
    for k, v in sorted(scored.items()):
        s = np.array([r["score"] for r in v])
        rows[k] = {"scored": len(v), "at_or_above_05": int((s >= 0.5).sum()), "below_025": int((s < 0.25).sum()), "below_05": int((s < 0.5).sum()), "median": float(np.median(s)) if len(s) else None}
    out["scores"] = rows
    # Genuine photos by kind: the few that show documents (pages, cards) apart from
    # everyday scenes.
    kinds = {}
    for r in scored.get("genuine", []):
        kinds.setdefault(r.get("kind") or "unknown", []).append(r["score"])
    out["genuine_by_kind"] = {k: {"scored": len(v), "at_or_above_05": int(sum(s >= 0.5 for s in v)), "below_025": int(sum(s < 0.25 for s in v))} for k, v in sorted(kinds.items())}

    def branch(r, name):
        ev = r["evidence"]
        if name == "score":
            return r["score"]
        if name == "patches":
            return mean_logit(1.0 - np.asarray(ev["values"], dtype=np.float64))
        return mean_logit(np.array([ev["view"]])) if ev.get("view") is not None else None

    out["auc"] = {}
    for name in ("score", "patches", "view"):
        g = [branch(r, name) for r in scored.get("genuine", [])]
        if any(v is None for v in g):
            continue
        out["auc"][name] = {k: auc(g, [branch(r, name) for r in scored[k]]) for k in ("screen", "print", "digital") if scored.get(k)}
    return out


def targets(fig: dict) -> list[str]:
    """One line per issue target: the share, the photos behind it, met or not."""
    s = fig["scores"]
    lines = []

    def share(label, key, want, op):
        if label not in s or not s[label]["scored"]:
            return
        n, k = s[label]["scored"], s[label][key]
        value = k / n
        met = value >= want if op == ">=" else value <= want
        lines.append(f"{label} {key.replace('_', ' ')}: {k}/{n} = {value:.1%} (target {op} {want:.0%}) {'met' if met else 'NOT met'}")

    share("genuine", "at_or_above_05", 0.80, ">=")
    share("genuine", "below_025", 0.05, "<=")
    share("screen", "below_05", 0.90, ">=")
    share("print", "below_025", 0.80, ">=")
    share("digital", "below_05", 0.90, ">=")
    return lines
