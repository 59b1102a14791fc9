"""The detector on real photos: `real/detector_validation.csv` through the release binary.

Each row of the list names a corpus photo (repository and path, pinned by sha256 in the
corpus manifest) and what a person sees in it:

    one   one whole document in view          -> exactly one outline, no geometry stop
                                                 that says otherwise (not found, too many,
                                                 cropped), and where corners were placed,
                                                 an outline with IoU > 0.5 against them
    cut   one document cut off by the frame    -> exactly one outline; DOCUMENT_CROPPED
                                                 or a too-close code counts as right
    none  no document (an everyday scene, a    -> DOCUMENT_NOT_FOUND
          printed photo of one)
    two   two documents                        -> TOO_MANY_DOCUMENTS

and, where they could be placed, the document's corners in upright photo pixels (the
photo as its EXIF orientation shows it). The figures: the share of rows with the right
outcome per expectation, the false `TOO_MANY_DOCUMENTS` rate (rows that do not show two
documents), and the outline IoU on rows with corners, counting a photo that reports more
than one document as 0 (and, beside it, the IoU of the first outline reported).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess

import numpy as np

REAL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "real")
VALIDATION = os.path.join(REAL, "detector_validation.csv")
MEASURE_CONFIG = os.path.join(REAL, "measure.toml")
RIGHT = {
    "one": lambda n, code: n == 1 and code not in ("DOCUMENT_NOT_FOUND", "TOO_MANY_DOCUMENTS", "DOCUMENT_CROPPED"),
    "cut": lambda n, code: n == 1 and code in ("DOCUMENT_CROPPED", "DOCUMENT_TOO_CLOSE_TO_CAMERA", "DOCUMENT_TOO_CLOSE_TO_BORDER"),
    "none": lambda n, code: code == "DOCUMENT_NOT_FOUND",
    "two": lambda n, code: code == "TOO_MANY_DOCUMENTS",
}


def rows(corpus: str) -> list[dict]:
    """The validation list with each row's file in the rebuilt corpus."""
    with open(os.path.join(corpus, "index.csv"), newline="") as f:
        files = {(r["repo"], r["path"]): os.path.join(corpus, r["file"]) for r in csv.DictReader(f)}
    out = []
    with open(VALIDATION, newline="") as f:
        for r in csv.DictReader(f):
            if r["expect"] not in RIGHT:
                raise SystemExit(f"{VALIDATION}: unknown expectation {r['expect']!r} for {r['path']}")
            file = files.get((r["repo"], r["path"]))
            if file is None:
                raise SystemExit(f"{r['repo']}/{r['path']} is not in the corpus at {corpus}: rebuild it (real/rebuild.py)")
            corners = [float(v) for v in r["corners"].split()] if r["corners"].strip() else None
            out.append({**r, "file": file, "corners": np.array(corners).reshape(4, 2) if corners else None})
    return out


def _area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _clip(subject: list, a: np.ndarray, b: np.ndarray) -> list:
    """Sutherland-Hodgman: the part of `subject` on the left of the directed line a->b."""

    def side(p):
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])

    out = []
    for i, p in enumerate(subject):
        q = subject[(i + 1) % len(subject)]
        sp, sq = side(p), side(q)
        if sp >= 0:
            out.append(p)
        if (sp >= 0) != (sq >= 0):
            t = sp / (sp - sq)
            out.append(p + t * (q - p))
    return out


def _ccw(q: np.ndarray) -> np.ndarray:
    x, y = q[:, 0], q[:, 1]
    signed = float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    return q if signed > 0 else q[::-1]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two convex quadrilaterals."""
    a, b = _ccw(np.asarray(a, float)), _ccw(np.asarray(b, float))
    inter = list(a)
    for i in range(4):
        if not inter:
            break
        inter = _clip(inter, b[i], b[(i + 1) % 4])
    common = _area(np.array(inter)) if len(inter) >= 3 else 0.0
    union = _area(a) + _area(b) - common
    return common / union if union > 0 else 0.0


def check(binary: str, items: list[dict]) -> list[dict]:
    """`docliveness check --json` in document mode under the measurement config."""
    out = subprocess.run([binary, "check", "--json", "--side", "back", "--config", MEASURE_CONFIG, *[r["file"] for r in items]], check=False, capture_output=True, text=True)
    results = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            results[os.path.abspath(r["path"])] = r
    missing = [r["file"] for r in items if os.path.abspath(r["file"]) not in results]
    if missing:
        raise RuntimeError(f"docliveness check gave no result for {len(missing)} photos, e.g. {missing[0]}: {out.stderr[-2000:]}")
    return [results[os.path.abspath(r["file"])] for r in items]


def evaluate(binary: str, corpus: str) -> dict:
    items = rows(corpus)
    results = check(binary, items)
    by = {}
    ious, firsts, per_photo = [], [], []
    too_many_false = too_many_base = 0
    for item, res in zip(items, results):
        docs = [np.array(d["quad"], float) for d in res.get("documents") or []]
        code = res.get("error")
        right = RIGHT[item["expect"]](len(docs), code)
        record = {"repo": item["repo"], "path": item["path"], "expect": item["expect"], "error": code, "documents": len(docs)}
        if item["corners"] is not None:
            first = iou(docs[0], item["corners"]) if docs else 0.0
            strict = first if len(docs) == 1 else 0.0
            ious.append(strict)
            firsts.append(first)
            record.update(iou=strict, first_iou=first)
            # As in the synthetic measure: the outline must also be the document's.
            right = right and strict > 0.5
        record["right"] = bool(right)
        by.setdefault(item["expect"], []).append(right)
        if item["expect"] != "two":
            too_many_base += 1
            too_many_false += code == "TOO_MANY_DOCUMENTS"
        per_photo.append(record)
    codes = {}
    for r in per_photo:
        key = r["error"] or "scored"
        codes.setdefault(r["expect"], {}).setdefault(key, 0)
        codes[r["expect"]][key] += 1
    return {
        "photos": len(items),
        "codes": codes,
        "right": {k: {"photos": len(v), "right": int(sum(v))} for k, v in sorted(by.items())},
        "too_many_false": {"photos": too_many_base, "too_many": too_many_false},
        "iou": {"photos": len(ious), "mean": float(np.mean(ious)) if ious else None, "at_least_09": int(sum(v >= 0.9 for v in ious)), "mean_first_outline": float(np.mean(firsts)) if firsts else None},
        "per_photo": per_photo,
    }


def lines(report: dict) -> list[str]:
    """The figures, one per line, with the photos behind each and the issue's targets."""
    out = []
    for k, v in report["right"].items():
        seen = ", ".join(f"{c} {n}" for c, n in sorted(report["codes"][k].items(), key=lambda x: -x[1]))
        out.append(f"expect {k}: right outcome {v['right']}/{v['photos']} = {v['right'] / v['photos']:.1%} ({seen})")
    t = report["too_many_false"]
    if t["photos"]:
        rate = t["too_many"] / t["photos"]
        out.append(f"false TOO_MANY_DOCUMENTS: {t['too_many']}/{t['photos']} = {rate:.1%} (target <= 2%) {'met' if rate <= 0.02 else 'NOT met'}")
    i = report["iou"]
    if i["photos"]:
        out.append(f"outline IoU on {i['photos']} annotated photos: mean {i['mean']:.3f} (target >= 0.90) {'met' if i['mean'] >= 0.9 else 'NOT met'}, >= 0.9 in {i['at_least_09']}; first outline only: mean {i['mean_first_outline']:.3f}")
    return out
