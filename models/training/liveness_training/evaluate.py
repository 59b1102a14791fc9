"""Held-out evaluation on whole generated photos, through the shipped engine.

Photos are generated with seeds never used in training, written as a labelled folder
(`genuine/`, `screen/`, `print/`, `digital/`) that `docliveness eval` reads, and scored by
the release binary, so the figures are those of the product, not of the training code.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from multiprocessing import Pool

import numpy as np
from PIL import Image

from .capture import CLASSES, Scene
from .documents import draw_document, load_faces

ATTACKS = ["screen", "print", "digital"]


def conditions_path(eval_dir: str) -> str:
    """Per-photo conditions live beside the labelled folder, not in it, because
    `docliveness eval` accepts nothing but the four label folders."""
    return eval_dir.rstrip("/") + "-conditions.jsonl"


def well_framed(scene: Scene, whole_object: bool = False) -> bool:
    """Whether the document sits where the quality rules accept it, so that held-out
    photos measure liveness rather than framing. With `whole_object`, the whole screen
    or sheet must be in the frame too (the document detector may take its outline)."""
    c = scene.target_corners()
    if whole_object and scene.kind in ("screen", "print"):
        o = scene.object_corners()
        m = 0.03 * min(scene.frame_w, scene.frame_h)
        if (o < m).any() or (o[:, 0] > scene.frame_w - m).any() or (o[:, 1] > scene.frame_h - m).any():
            return False
    w, h = scene.frame_w, scene.frame_h
    margin = 0.03 * min(w, h)
    inside = (c[:, 0] > margin).all() and (c[:, 0] < w - margin).all() and (c[:, 1] > margin).all() and (c[:, 1] < h - margin).all()
    x, y = c[:, 0], c[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / (w * h)
    span = max((x.max() - x.min()) / w, (y.max() - y.min()) / h)
    return bool(inside and area >= 0.12 and span < 0.9)


def _one_photo(args):
    seed, kind, out_dir = args
    for attempt in range(50):
        rng = np.random.default_rng([seed, attempt])
        doc = draw_document(rng, load_faces())
        scene = Scene(rng, doc, kind)
        if well_framed(scene):
            break
    data = scene.encode(scene.render_full())
    ext = "png" if data[:4] == b"\x89PNG" else "jpg"
    name = f"{kind}/{seed}.{ext}"
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(data)
    return {"file": name, "side": doc.side, "document": doc.kind, **scene.conditions}


def make_eval_set(out_dir: str, first_seed: int, per_class: int, workers: int) -> None:
    """Renders `per_class` photos of each class into `out_dir`. A photo is a pure
    function of its seed, so photos already there from an earlier run with the same
    first seed are kept (growing a set renders only the new ones); anything else in
    the folder is removed."""
    jobs = [(first_seed + i * len(CLASSES) + k, c, out_dir) for i in range(per_class) for k, c in enumerate(CLASSES)]
    wanted = {f"{c}/{seed}" for seed, c, _ in jobs}
    kept = []
    if os.path.exists(conditions_path(out_dir)) and os.path.isdir(out_dir):
        with open(conditions_path(out_dir)) as f:
            for line in f:
                rec = json.loads(line)
                if rec["file"].rsplit(".", 1)[0] in wanted and os.path.exists(os.path.join(out_dir, rec["file"])):
                    kept.append(rec)
    keep_files = {r["file"] for r in kept}
    for c in CLASSES:
        os.makedirs(os.path.join(out_dir, c), exist_ok=True)
        for name in os.listdir(os.path.join(out_dir, c)):
            if f"{c}/{name}" not in keep_files:
                os.remove(os.path.join(out_dir, c, name))
    for name in os.listdir(out_dir):
        if name not in CLASSES:
            path = os.path.join(out_dir, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    done = {r["file"].rsplit(".", 1)[0] for r in kept}
    todo = [j for j in jobs if f"{j[1]}/{j[0]}" not in done]
    print(f"  {out_dir}: {len(kept)} photos kept, {len(todo)} to render", flush=True)
    with Pool(workers) as pool, open(conditions_path(out_dir), "w") as f:
        for rec in kept:
            f.write(json.dumps(rec) + "\n")
        f.flush()
        for i, rec in enumerate(pool.imap_unordered(_one_photo, todo)):
            f.write(json.dumps(rec) + "\n")
            f.flush()
            if i % 40 == 0:
                print(f"  eval set: {i}/{len(todo)} photos", flush=True)


def check(binary: str, paths: list[str], region: str = "document", config: str | None = None) -> list[dict]:
    """Runs `docliveness check --json` and returns one result per image.

    `--side back`: liveness does not depend on the side, and the portrait check would
    stop held-out backs (and drawn faces) at DOCUMENT_PHOTO_NOT_FOUND before scoring."""
    options = ["--config", config] if config else []
    out = subprocess.run([binary, "check", "--json", "--side", "back", "--region", region, *options, *paths], check=False, capture_output=True, text=True)
    results = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if not results:
        raise RuntimeError(f"docliveness check gave no results: {out.stderr[-2000:]}")
    return results


def rates(genuine: list[float], attacks: dict[str, list[float]], threshold: float) -> dict:
    return {
        "bpcer": float(np.mean([s < threshold for s in genuine])) if genuine else None,
        "apcer": {k: float(np.mean([s >= threshold for s in v])) for k, v in attacks.items() if v},
    }


def operating_points(genuine: list[float], attack: list[float]) -> dict:
    """EER and BPCER at APCER 5% over all attacks pooled, by sweeping the threshold."""
    g, a = np.array(genuine), np.array(attack)
    cuts = np.unique(np.concatenate([g, a, [1.0 + 1e-9]]))
    best_eer, bpcer5 = (2.0, None), 1.0
    for t in cuts:
        apcer, bpcer = float((a >= t).mean()), float((g < t).mean())
        if abs(apcer - bpcer) < best_eer[0]:
            best_eer = (abs(apcer - bpcer), (apcer + bpcer) / 2)
        if apcer <= 0.05:
            bpcer5 = min(bpcer5, bpcer)
    return {"eer": best_eer[1], "bpcer_at_apcer5": bpcer5}


def bucket_of(rec: dict) -> dict[str, str]:
    """Condition buckets a photo belongs to."""
    out = {}
    if rec.get("jpeg") is not None:
        q = rec["jpeg"]
        out["jpeg"] = "70-79" if q < 80 else "80-89" if q < 90 else "90-100"
    else:
        out["jpeg"] = "png"
    w, h = (int(v) for v in rec["resolution"].split("x"))
    mp = w * h / 1e6
    out["resolution"] = "≤2.1 MP" if mp <= 2.1 else "2.1-5 MP" if mp <= 5 else ">5 MP"
    b = rec.get("blur", 0)
    out["blur"] = "sharp (<0.6 px)" if b < 0.6 else "soft (0.6-1 px)" if b < 1.0 else "defocused (≥1 px)"
    if "device" in rec:
        out["device"] = rec["device"]
        r = rec["screen_px_per_camera_px"]
        out["screen grid"] = "resolved (<0.5 screen px per camera px)" if r < 0.5 else "aliased (0.5-1)" if r < 1 else "unresolved (>1)"
    if "halftone" in rec:
        out["halftone"] = rec["halftone"]
    if "mode" in rec:
        out["digital"] = rec["mode"]
    return out


def eval_cli(binary: str, eval_dir: str) -> dict:
    """`docliveness eval --json` on the folder: the ISO/IEC 30107-3 figures, where EER and
    BPCER at an APCER target use the worst attack type (not all attacks pooled)."""
    out = subprocess.run([binary, "eval", "--json", "--side", "back", eval_dir], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def evaluate(binary: str, eval_dir: str, threshold: float = 0.25) -> dict:
    records = {}
    with open(conditions_path(eval_dir)) as f:
        for line in f:
            rec = json.loads(line)
            records[rec["file"]] = rec
    results = check(binary, [os.path.join(eval_dir, c) for c in CLASSES])
    scored, errors = [], {}
    for r in results:
        rel = os.path.relpath(r["path"], eval_dir)
        rec = records[rel]
        if r.get("score") is None:
            key = f"{rec['class']}:{r.get('error')}"
            errors[key] = errors.get(key, 0) + 1
            continue
        scored.append((rec, float(r["score"])))
    genuine = [s for rec, s in scored if rec["class"] == "genuine"]
    attacks = {k: [s for rec, s in scored if rec["class"] == k] for k in ATTACKS}
    report = {
        "images": len(results),
        "scored": len(scored),
        "unscored": errors,
        "threshold": threshold,
        "at_threshold": rates(genuine, attacks, threshold),
        "at_review": rates(genuine, attacks, 0.5),
        **operating_points(genuine, sum(attacks.values(), [])),
        "eval_cli": eval_cli(binary, eval_dir),
        "buckets": {},
    }
    # Per condition: genuine photos of the bucket against attacks of the bucket; for
    # attack-only conditions (device, halftone, digital mode) all genuine photos.
    names = sorted({(k, v) for rec, _ in scored for k, v in bucket_of(rec).items()})
    for key, value in names:
        members = [(rec, s) for rec, s in scored if bucket_of(rec).get(key) == value]
        g = [s for rec, s in members if rec["class"] == "genuine"] or (genuine if key in ("device", "screen grid", "halftone", "digital") else [])
        a = [s for rec, s in members if rec["class"] != "genuine"]
        if not g or not a:
            continue
        op = operating_points(g, a)
        report["buckets"][f"{key}={value}"] = {
            "genuine": len(g), "attacks": len(a),
            "bpcer": float(np.mean([s < threshold for s in g])),
            "apcer": float(np.mean([s >= threshold for s in a])),
            **op,
        }
    return report


def _spread(groups: dict, results: dict, names: list[str]) -> list[float]:
    """Largest minus smallest score of each group over `names`, for the groups that
    have every name and were scored under each."""
    out = []
    for g in groups.values():
        scores = [results.get(g.get(n)) for n in names]
        if all(s is not None for s in scores):
            out.append(max(scores) - min(scores))
    return out


def _split_outcomes(groups: dict, results: dict, names: list[str]) -> int:
    """How many groups have a score under some of `names` and a quality error under
    others: `_spread` cannot measure them, and a re-save that turns a scored photo into
    an error (or back) is itself a change a user sees."""
    count = 0
    for g in groups.values():
        scored = [results.get(g.get(n)) is not None for n in names if n in g]
        if any(scored) and not all(scored):
            count += 1
    return count


def _jpeg_round_trip(im: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=quality)
    return Image.open(buffer).convert("RGB")


def invariance(binary: str, eval_dir: str, files: list[str], work: str, re_encodes_only: bool = False) -> dict:
    """Largest score change over the 8 EXIF orientations (the same JPEG data, saved once
    at quality 95, tagged each of the 8 ways), over the 8 ways of turning the pixels
    and re-saving (as a camera held another way, then a JPEG encoder, would record them:
    the blocks change with the orientation), between JPEG 90 and 100 re-encodes, and
    between those two each re-saved again at 85. With `re_encodes_only` only the last
    two (the orientation figures are then None). A change is measured where every
    variant got a score; photos where some variants (or the photo as generated) got a
    score and others a quality error are counted instead (`score_or_error_changed`)."""
    if os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work)
    groups = {}
    for i, rel in enumerate(files):
        im = Image.open(os.path.join(eval_dir, rel)).convert("RGB")
        variants = {}
        for k in range(0 if re_encodes_only else 8):
            tag = Image.Exif()
            tag[0x0112] = k + 1  # EXIF Orientation
            variants[f"exif{k}"] = (im, 95, tag.tobytes())
            v = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if k >= 4 else im
            variants[f"turn{k}"] = (v.rotate(90 * (k % 4), expand=True), 95, b"")
        variants["q90"], variants["q100"] = (im, 90, b""), (im, 100, b"")
        # Each of those re-saved once more at 85, as a messaging app might: a quality
        # close to an earlier save leaves double-quantisation traces.
        for q in (90, 100):
            variants[f"q{q}_85"] = (_jpeg_round_trip(im, q), 85, b"")
        for name, (v, q, exif) in variants.items():
            path = os.path.join(work, f"{i}_{name}.jpg")
            v.save(path, quality=q, exif=exif)
            groups.setdefault(i, {})[name] = path
        groups[i]["original"] = os.path.join(eval_dir, rel)
    # One run of the binary for the variants and the photos as generated.
    results = {r["path"]: r.get("score") for r in check(binary, [work, *(g["original"] for g in groups.values())])}
    exif = _spread(groups, results, [f"exif{k}" for k in range(8)])
    turned = _spread(groups, results, [f"turn{k}" for k in range(8)])
    jpeg = _spread(groups, results, ["q90", "q100"])
    again = _spread(groups, results, ["q90_85", "q100_85"])
    split = {
        "orientation": _split_outcomes(groups, results, [f"exif{k}" for k in range(8)]),
        "turned_resaved": _split_outcomes(groups, results, [f"turn{k}" for k in range(8)]),
        "jpeg": _split_outcomes(groups, results, ["q90", "q100"]),
        "jpeg_again": _split_outcomes(groups, results, ["q90_85", "q100_85"]),
        # The photo as generated against its JPEG 90 and 100 re-saves.
        "jpeg_vs_original": _split_outcomes(groups, results, ["original", "q90", "q100"]),
    }

    def largest(v):
        return float(max(v)) if v else None

    def mean(v):
        return float(np.mean(v)) if v else None

    return {
        "images": len(files),
        "orientation_max_delta": largest(exif),
        "orientation_mean_delta": mean(exif),
        "turned_resaved_max_delta": largest(turned),
        "turned_resaved_mean_delta": mean(turned),
        "jpeg_max_delta": largest(jpeg),
        "jpeg_mean_delta": mean(jpeg),
        "jpeg_again_max_delta": largest(again),
        "jpeg_again_mean_delta": mean(again),
        "measured": {"orientation": len(exif), "turned_resaved": len(turned), "jpeg": len(jpeg), "jpeg_again": len(again)},
        "score_or_error_changed": split,
    }
