"""Writes the measured figures into the model card (models/README.md) and the manifest."""

from __future__ import annotations

import json
import re

from .calibrate import placement_words, why_chosen

START, END = "<!-- liveness-card:start -->", "<!-- liveness-card:end -->"


def pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def sources(cal: dict) -> str:
    """How many calibration photos of each source and class were scored."""
    parts = [f"{v['n']} {k}" for k, v in cal["after"].items()]
    return "scored: " + ", ".join(parts)


def calibration_lines(cal: dict) -> list[str]:
    """The image-level calibration: what was fitted on which photos, and how the ways
    of combining the evidence ranked those photos."""
    agg = cal["aggregation"]
    if agg["rule"] == "jointLogit":
        formula = (
            f"the logistic function of {agg['slope']:.3f} × (mean patch log-odds) + {agg['viewSlope']:.3f} × (whole-view log-odds) "
            f"{agg['offset']:+.3f}, chosen over the lower of two functions, one of each, because "
            f"{why_chosen(cal['ranking'], cal.get('chosen', 'joint'))} (table)"
        )
    else:
        view = (
            f", or, when lower, the logistic function of {agg['viewSlope']:.3f} × (whole-view log-odds) {agg['viewOffset']:+.3f}"
            if agg.get("viewSlope") else ""
        )
        formula = f"the logistic function of {agg['slope']:.3f} × (mean patch log-odds) {agg['offset']:+.3f}{view}"
    lines = [
        "",
        f"Score: {formula}; each patch "
        f"probability held in [{agg['clamp']:g}, {1 - agg['clamp']:g}]; fitted on {cal['scored']} calibration photos "
        f"({sources(cal)}), genuine against {cal['fitted_against']}, the hardest attack type for the "
        "patches there, classes weighted equally and, inside a class, the real and the generated photos equally, "
        "each slope with a Gaussian prior (sd 2).",
        "",
    ]
    place = cal.get("placement")
    if place:
        lines[-2] += (
            f" The fit orders the photos; the thresholds are then placed on the real ones: the fitted log-odds are multiplied by "
            f"{place['scale']:.3f} and shifted by {place['shift']:+.3f} (the formula above includes it), so that "
            f"{placement_words(place)} (interpolated quantile points; the counts after placing are below)."
        )
    fitted = cal.get("candidates", {}).get("fitted", agg)
    names = {
        "mean": "patches, mean",
        "meanLogit": "patches, mean log-odds",
        "view": "whole view alone",
        "fitted": "lower of two, fitted" if fitted.get("viewSlope") else "patches, fitted",
        "joint": "one function of both, fitted",
    }
    shown = [n for n in names if n in cal["ranking"]]
    lines += [
        "| attack type (calibration photos) | " + " | ".join(f"EER, {names[n]}" for n in shown) + " | "
        + " | ".join(f"BPCER at APCER 5%, {names[n]}" for n in shown) + " |",
        "|---|" + "---|" * (2 * len(shown)),
    ]
    for k in cal["ranking"]["mean"]:
        row = [cal["ranking"][n][k] for n in shown]
        lines.append(f"| {k} | " + " | ".join(pct(r["eer"]) for r in row) + " | " + " | ".join(pct(r["bpcer_at_apcer5"]) for r in row) + " |")
    after = cal["after"]
    lines += ["", ("After placing the bands" if place else "After the fit") + ", on the same photos: " + "; ".join(
        f"{k} {v['below_025']} of {v['n']} under 0.25, {v['below_05']} under 0.5" for k, v in after.items()) + "."]
    return lines


def real_lines(real: dict) -> list[str]:
    """The real-photo figures (`real_eval.py`), first: they decide, the generated ones
    are a regression check."""
    fig = real["figures"]
    names = {"genuine": "genuine (camera photos of physical things)", "screen": "screen recaptures", "print": "printed copies", "digital": "digital designs"}
    lines = [
        f"**Real photos** ({sum(fig['photos'].values())} photos of the real corpus's validation split, "
        "repositories never used in training or calibration; whole frames, quality gate lowered: "
        "`models/training/run.sh liveness realeval`):",
        "",
        "| real photos | photos | scored | score ≥ 0.5 | score < 0.25 | score < 0.5 | median |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, row in fig["scores"].items():
        n = row["scored"] or 1
        lines.append(
            f"| {names.get(k, k)} | {fig['photos'][k]} | {row['scored']} | {row['at_or_above_05']} ({row['at_or_above_05'] / n:.1%}) | "
            f"{row['below_025']} ({row['below_025'] / n:.1%}) | {row['below_05']} ({row['below_05'] / n:.1%}) | {row['median']:.3f} |"
        )
    if fig.get("genuine_by_kind"):
        lines += ["", "Genuine photos by kind: " + "; ".join(
            f"{k}: {v['at_or_above_05']} of {v['scored']} at or above 0.5, {v['below_025']} below 0.25" for k, v in fig["genuine_by_kind"].items()) + "."]
    if fig.get("errors"):
        lines += ["", "Not scored: " + "; ".join(f"{k}: " + ", ".join(f"{e} ×{c}" for e, c in v.items()) for k, v in fig["errors"].items()) + "."]
    aucs = fig.get("auc", {})
    if aucs:
        lines += ["", "Separation, genuine against each attack (AUC): " + "; ".join(
            f"{branch}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()) for branch, row in aucs.items()) + "."]
    resave = real.get("resave")
    if resave:
        lines += ["", "Score change when a real photo is re-saved (JPEG 90 against 100; then each saved again at 85), largest / 95th percentile / median: " + "; ".join(
            f"{label} ({v['photos']}): {v['jpeg_90_vs_100']['max']:.3f} / {v['jpeg_90_vs_100']['p95']:.3f} / {v['jpeg_90_vs_100']['median']:.4f}; "
            f"again at 85 {v['again_at_85']['max']:.3f} / {v['again_at_85']['p95']:.3f} / {v['again_at_85']['median']:.4f}"
            for label, v in resave.items() if v["photos"]) + "."]
    lines += ["", "Targets: " + "; ".join(real["targets"]) + ".", ""]
    return lines


def _outcome_rows(inv: dict, label: str) -> list[str]:
    """Rows for the photos a score change cannot be measured on: some of their variants
    got a score and others a quality error (a re-save moved the document's outline)."""
    split = inv.get("score_or_error_changed")
    if not split:
        return []
    names = {"orientation": "8 EXIF orientations", "turned_resaved": "turned and re-saved", "jpeg": "JPEG 90 vs 100", "jpeg_again": "again at 85", "jpeg_vs_original": "JPEG 90 or 100 vs the photo as generated"}
    parts = [f"{names[k]} {v}" for k, v in split.items() if k in names and (v or k.startswith("jpeg"))]
    return [f"| photos scored in some variants and stopped by a quality error in others{label} | {', '.join(parts)} |"]


def write_card(report: dict, summary: dict, readme: str, manifest_path: str, calibration: dict | None = None, view_summary: dict | None = None, real: dict | None = None) -> None:
    at = report["at_threshold"]
    cli = report.get("eval_cli", {})
    iso_eer = (cli.get("eer") or [None])[0]
    iso_b5 = next((p["bpcer"] for p in cli.get("bpcerAtApcer", []) if abs(p["apcerTarget"] - 0.05) < 1e-9), None)
    lines = [START, ""] + (real_lines(real) if real else []) + [
        f"Generated held-out photos: {report['images']} generated with seeds never used in training "
        + (
            f"({report['scored']} scored; the rest raised a quality error: "
            + ", ".join(f"{k} ×{v}" for k, v in sorted(report["unscored"].items()))
            + ")"
            if report["unscored"]
            else "(all scored)"
        )
        + ". Scored by the release binary (`docliveness check`), tract backend.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| EER, worst attack type (ISO/IEC 30107-3; what `docliveness eval` prints) | {pct(iso_eer)} |",
        f"| BPCER at worst-type APCER 5% (`docliveness eval`) | {pct(iso_b5)} |",
        f"| EER, all attacks pooled | {pct(report['eer'])} |",
        f"| BPCER at pooled APCER 5% | {pct(report['bpcer_at_apcer5'])} |",
        f"| BPCER at 0.25 | {pct(at['bpcer'])} |",
    ]
    for k, v in at["apcer"].items():
        lines.append(f"| APCER {k} at 0.25 | {pct(v)} |")
    lines.append(f"| BPCER at 0.5 (sent to review or failed) | {pct(report['at_review']['bpcer'])} |")
    inv = report.get("invariance", {})
    if inv:
        lines.append(f"| largest score change, 8 EXIF orientations ({inv['images']} photos) | {inv['orientation_max_delta']:.4f} |")
        if inv.get("turned_resaved_max_delta") is not None:
            lines.append(f"| largest score change, pixels turned 8 ways and re-saved | {inv['turned_resaved_max_delta']:.4f} |")
        lines.append(f"| largest score change, JPEG 90 vs 100 | {inv['jpeg_max_delta']:.4f} |")
        if inv.get("jpeg_again_max_delta") is not None:
            lines.append(f"| largest score change, JPEG 90 vs 100, each re-saved again at 85 | {inv['jpeg_again_max_delta']:.4f} |")
        lines += _outcome_rows(inv, "")
    inv = report.get("invariance_calibration", {})
    if inv:
        lines.append(f"| largest score change, JPEG 90 vs 100 ({inv['images']} genuine calibration photos) | {inv['jpeg_max_delta']:.4f} |")
        lines.append(f"| the same, each re-saved again at 85 | {inv['jpeg_again_max_delta']:.4f} |")
        lines += _outcome_rows(inv, " (calibration photos)")
    lines += ["", "By condition (genuine and attack photos of the bucket; attack-only conditions use all genuine photos; EER and BPCER@APCER5% over the bucket's attacks pooled):", ""]
    lines += ["| condition | genuine | attacks | BPCER@0.25 | APCER@0.25 | EER | BPCER@APCER5% |", "|---|---|---|---|---|---|---|"]
    for name, b in sorted(report["buckets"].items()):
        lines.append(f"| {name} | {b['genuine']} | {b['attacks']} | {pct(b['bpcer'])} | {pct(b['apcer'])} | {pct(b['eer'])} | {pct(b['bpcer_at_apcer5'])} |")
    if calibration:
        lines += calibration_lines(calibration)
    if summary:
        lines += ["", f"Training: {summary.get('samples')} windows, {summary.get('epochs')} epochs, {summary.get('seconds')} s on this machine's CPU; calibration temperature {summary.get('temperature', 1):.3f}."]
        if summary.get("settle"):
            st = summary["settle"]
            lines += ["", f"Settling phase: {st['steps']} steps, {st['seconds']} s; validation accuracy {pct(st['val_accuracy'])} over 4 classes, {pct(st['val_live_accuracy'])} live vs attack; calibration temperature {st['temperature']:.3f}."]
    if view_summary:
        lines += ["", f"Whole view: {view_summary.get('samples')} views, {view_summary.get('epochs')} epochs, {view_summary.get('seconds')} s; calibration temperature {view_summary.get('temperature', 1):.3f}."]
    lines += ["", END]
    block = "\n".join(lines)
    text = open(readme).read()
    if START in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text += "\n" + block + "\n"
    open(readme, "w").write(text)
    manifest = json.load(open(manifest_path))
    manifest["errorRates"] = {
        "heldOutImages": report["scored"],
        "eerWorstType": iso_eer,
        "bpcerAtWorstTypeApcer5": iso_b5,
        "eerPooled": report["eer"],
        "bpcerAtPooledApcer5": report["bpcer_at_apcer5"],
        "bpcerAt025": at["bpcer"],
        "apcerAt025": at["apcer"],
        "source": "models/README.md",
    }
    if real:
        manifest["errorRates"]["real"] = {"photos": real["figures"]["photos"], "scores": real["figures"]["scores"]}
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
