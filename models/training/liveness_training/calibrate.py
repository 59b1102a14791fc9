"""Image-level calibration: how the 16 patch probabilities become a score for which 0.25
and 0.5 mean what the spec says.

The patches' softmax is temperature-calibrated per patch, but the score routes a whole
photo. This step scores the calibration photos (their own seeds, used for nothing else)
through the release binary, reads each photo's per-patch live probabilities from its
evidence map (and, with a whole-view model installed, the whole view's probability),
and fits the score's scale on them: a logistic function of the mean patch log-odds and, with
a whole view, either one of its log-odds with the score the lower of the two, or one
logistic function of both together (the rule whose worst attack type has the lower EER on
these photos is chosen; on a tie, the lower BPCER at APCER 5% there), fitted to genuine photos against the hardest attack type with
both classes weighted equally. Fitting against all attacks pooled would let the easy
ones (prints, digital images) set the scale and wave the hard ones through.

The fit orders the photos; where 0.5 and 0.25 sit on that order is then placed on the
real calibration photos (`placement`): 0.5 where the product's screen target is met on
them, as far as its genuine target allows, and 0.25 where few genuine photos fall.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .capture import CLASSES
from .evaluate import ATTACKS, check, operating_points

CLAMP = 1e-3  # a patch's probability is held in [CLAMP, 1 - CLAMP] (as the engine does)


def patch_probabilities(results: list[dict], folder: str | None) -> list[tuple[str, np.ndarray, float | None]]:
    """(class, live probability per patch, whole-view log-odds or None) for every scored
    photo. The evidence map holds 1 - p as 32-bit floats: exact enough inside the clamp;
    the whole view's probability is a 64-bit float."""
    out = []
    for r in results:
        if r.get("score") is None or not r.get("evidence"):
            continue
        label = r["label"] if folder is None else os.path.relpath(r["path"], folder).split(os.sep)[0]
        view = r["evidence"].get("view")
        out.append((label, 1.0 - np.asarray(r["evidence"]["values"], dtype=np.float64), None if view is None else logit(view)))
    return out


def score_of(rule: dict, live: np.ndarray, view: float | None) -> float:
    """The score a manifest's `aggregation` gives (as the engine's
    `engine/src/liveness/aggregate.rs` computes it)."""
    if rule["rule"] == "mean":
        return float(np.mean(live))
    m = mean_logit(live, rule["clamp"])
    if rule["rule"] == "jointLogit":
        return float(1 / (1 + np.exp(-(rule["slope"] * m + rule["viewSlope"] * view + rule["offset"]))))
    patches = float(1 / (1 + np.exp(-(rule["slope"] * m + rule["offset"]))))
    if rule.get("viewSlope"):
        # The engine leaves a zero viewOffset out of the manifest.
        return min(patches, float(1 / (1 + np.exp(-(rule["viewSlope"] * view + rule.get("viewOffset", 0.0))))))
    return patches


# Where the score's 0.5 and 0.25 sit, read off the real calibration photos. A likelihood
# fit puts 0.5 where a genuine photo and a screen are equally likely on the calibration
# photos; v6 placed that way passed 94% of the real genuine validation photos and let 18%
# of the screens through, against the targets of at least 80% and at most 10%. A genuine
# photo between 0.25 and 0.5 goes to a reviewer, a screen above 0.5 passes unseen, so 0.5
# goes where SCREEN_CAUGHT of the real screens fall below it, unless more than
# GENUINE_BELOW_PASS of the real genuine photos would fall there too (the genuine target,
# with no margin: the screen target gives way first). 0.25 goes where GENUINE_BELOW_FAIL
# of the real genuine photos fall below it (the target allows 5%). The points are
# numpy's linear quantiles: with 89 screens the 90% point lies between the 80th and 81st
# lowest, so 80 (89.9%) fall below it; with 106 genuine photos the 2% point lies between
# the third and fourth lowest, so 3 (2.8%) do. A deployment's refit (adapt/src/placement.rs)
# places its bands from the same targets with three differences: between the screen point
# and the genuine bound it takes the point where the fewest photos are routed wrong (a
# team's decided cases can be separated, and the screen point would then pass a tenth of
# the attacks); where 0.25 cannot be placed it keeps the fit's slope and still moves 0.5
# (here the whole placement is dropped); and it places the deployment's own thresholds.
SCREEN_CAUGHT = 0.90
GENUINE_BELOW_PASS = 0.20
GENUINE_BELOW_FAIL = 0.02
# The most the placement may steepen the fitted rule. Where the genuine photos' 2% and
# pass points nearly coincide the scale that separates them grows without bound and the
# score becomes a step (what PRIOR_SD guards the fit against); the rule then stays as
# fitted. The shipped placements flatten (v7: 0.35).
MAX_SCALE = 4.0


def placement(genuine: np.ndarray, screen: np.ndarray) -> dict | None:
    """The scale and shift of a rule's log-odds that put 0.5 and 0.25 where the comment
    above says, from the log-odds of the real genuine and screen calibration photos; None
    where there are no such photos, the two points would not be in order, or the scale
    would pass MAX_SCALE."""
    if len(genuine) == 0 or len(screen) == 0:
        return None
    by_screens = float(np.quantile(screen, SCREEN_CAUGHT))
    by_genuine = float(np.quantile(genuine, GENUINE_BELOW_PASS))
    at_pass = min(by_screens, by_genuine)
    at_fail = float(np.quantile(genuine, GENUINE_BELOW_FAIL))
    if not at_fail < at_pass:
        return None
    scale = float(np.log(3.0) / (at_pass - at_fail))
    if scale > MAX_SCALE:
        return None
    return {"scale": scale, "shift": -scale * at_pass, "passSetBy": "screens" if by_screens <= by_genuine else "genuine", "genuine": int(len(genuine)), "screen": int(len(screen))}


def placed(rule: dict, place: dict) -> dict:
    """`rule` with its log-odds scaled and shifted by `place`: every function the rule
    takes the score from is scaled alike, so the lower of two stays the lower."""
    out = dict(rule)
    a, b = place["scale"], place["shift"]
    out["slope"] = rule["slope"] * a
    out["offset"] = rule["offset"] * a + b
    if rule.get("viewSlope"):
        out["viewSlope"] = rule["viewSlope"] * a
        if rule["rule"] != "jointLogit":
            out["viewOffset"] = rule.get("viewOffset", 0.0) * a + b
    return out


def placement_words(place: dict) -> str:
    """What `place` did, in words for the card and the manifest."""
    return (
        f"0.5 catches {SCREEN_CAUGHT:.0%} of the {place['screen']} real screen photos (at most {GENUINE_BELOW_PASS:.0%} of the "
        f"{place['genuine']} real genuine ones below it; set by the {place['passSetBy']}) and {GENUINE_BELOW_FAIL:.0%} of the "
        "real genuine ones fall below 0.25"
    )


def worst(rule_ranking: dict) -> tuple[float, float]:
    """A rule's worst attack type's EER and worst BPCER at APCER 5% (`choose` ranks by them)."""
    return max(r["eer"] for r in rule_ranking.values()), max(r["bpcer_at_apcer5"] for r in rule_ranking.values())


def why_chosen(ranking: dict, chosen: str) -> str:
    """Why `choose` took `chosen` over the other candidate, in words for the card and the
    manifest."""
    worst_of = {n: worst(k) for n, k in ranking.items() if n in ("fitted", "joint")}
    others = [n for n in worst_of if n != chosen]
    if not others:
        return "the only candidate"
    eer, bpcer = worst_of[chosen]
    other_eer, other_bpcer = worst_of[others[0]]
    if eer < other_eer:
        return f"its worst attack type's EER on these photos is lower, {eer:.1%} against {other_eer:.1%}"
    if bpcer < other_bpcer:
        return f"the two tie on their worst attack type's EER ({eer:.1%}) and its BPCER at APCER 5% there is lower, {bpcer:.1%} against {other_bpcer:.1%}"
    return f"the two tie on their worst attack type's EER ({eer:.1%}) and BPCER at APCER 5% ({bpcer:.1%}), and a tie keeps the lower of two"


def joint_rule(weights: np.ndarray, offset: float) -> dict | None:
    """The joint rule of fitted weights (patches, view), or None where a weight is not
    positive: it would read evidence of a live photo as an attack."""
    if not (weights > 0).all():
        return None
    return {"rule": "jointLogit", "clamp": CLAMP, "slope": float(weights[0]), "viewSlope": float(weights[1]), "offset": float(offset)}


def choose(candidates: dict, ranking: dict) -> str:
    """The rule whose worst attack type has the lowest EER on the calibration photos; on
    a tie the one whose worst attack type has the lower BPCER at APCER 5% (the operating
    region a deployment runs in: the EER is one point of the curve, and two rules can
    share it and part widely at low APCER), and on a tie there too the lower of the two
    ("fitted"), which no live-looking view can lift."""
    return min(candidates, key=lambda n: (*worst(ranking[n]), n != "fitted"))


def logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return float(np.log(p / (1 - p)))


def mean_logit(live: np.ndarray, clamp: float = CLAMP) -> float:
    p = np.clip(live, clamp, 1 - clamp)
    return float(np.log(p / (1 - p)).mean())


# Prior standard deviation of each weight (not the offset), in log-odds of the score per
# log-odds of the evidence. Where the calibration photos are separated perfectly (as the
# whole view separates genuine photos from screens) the unpenalised fit has no solution:
# its weights grow without bound and the score becomes a step that any re-save could
# flip. The prior says what 120 photos cannot: that no input is certain.
PRIOR_SD = 2.0


def balanced_weights(live: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Each class half the total weight and, inside a class, each source (generated,
    real) an equal share: 100 real photos must not be outvoted by generated ones, nor
    the reverse."""
    w = np.zeros(len(live))
    for cls in (0, 1):
        sources = np.unique(source[live == cls])
        for src in sources:
            members = (live == cls) & (source == src)
            w[members] = 0.5 / len(sources) / members.sum()
    return w


def fit_logistic(x: np.ndarray, live: np.ndarray, prior_sd: float = PRIOR_SD, source: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Weights and offset of a logistic regression of `live` (1/0) on the columns of
    `x`, weighted by `balanced_weights` (one source when `source` is None), with a
    Gaussian prior of `prior_sd` on each weight (as if over `len(x)` photos), by
    Newton's method."""
    x = x.reshape(len(x), -1)
    w = balanced_weights(live, np.zeros(len(live)) if source is None else source)
    design = np.concatenate([x, np.ones((len(x), 1))], 1)
    ridge = np.full(design.shape[1], 1.0 / (prior_sd**2 * len(x)))
    ridge[-1] = 0.0
    theta = np.zeros(design.shape[1])
    theta[0] = 1.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-(design @ theta)))
        g = design.T @ (w * (p - live)) + ridge * theta
        hess = (design * (w * p * (1 - p))[:, None]).T @ design + np.diag(ridge) + 1e-9 * np.eye(len(theta))
        step = np.linalg.solve(hess, g)
        theta = theta - step
        if np.abs(step).max() < 1e-10:
            break
    return theta[:-1], float(theta[-1])


def calibrate(binary: str, calib_dir: str, manifest_path: str, report_path: str, real: list[tuple[str, str]] | None = None) -> dict:
    """Fits the aggregation on the calibration photos and writes it into the manifest.
    With a whole-view model installed two rules are fitted: the view with a logistic
    function of its own and the score the lower of the two (evidence of an attack in
    either counts, and a view that looks live cannot lift what the patches say), and one
    logistic function of both (each counts by its weight). The one whose worst attack
    type has the lower EER on these photos is written (`choose`). The bands are then placed
    on the real photos (`placement`).
    A view scale the fit makes negative is dropped.

    `real` lists (path, label) of real calibration photos (genuine and screen, from
    repositories kept out of training), judged as whole frames under the measurement
    config; they join the fit with as much weight as the generated photos of their
    class (`balanced_weights`)."""
    from .real_eval import MEASURE_CONFIG

    results = check(binary, [os.path.join(calib_dir, c) for c in CLASSES])
    photos = [(label, live, view, 0) for label, live, view in patch_probabilities(results, calib_dir)]
    if real:
        labels = {os.path.abspath(path): label for path, label in real}
        real_results = check(binary, [path for path, _ in real], region="whole", config=MEASURE_CONFIG)
        for r in real_results:
            r["label"] = labels[os.path.abspath(r["path"])]
        photos += [(label, live, view, 1) for label, live, view in patch_probabilities(real_results, None)]
    with_view = bool(photos) and all(v is not None for _, _, v, _ in photos)
    by_class = {c: [(live, view) for label, live, view, _ in photos if label == c] for c in CLASSES}
    sources = {c: [src for label, _, _, src in photos if label == c] for c in CLASSES}
    rules = {"mean": lambda live, view: float(live.mean()), "meanLogit": lambda live, view: mean_logit(live)}
    if with_view:
        rules["view"] = lambda live, view: view
    # The rules' ranking on these photos, per attack type (EER is scale-free, so it is
    # the same before and after the fit): the record of why the rule is the one it is.
    ranking = {
        name: {k: operating_points([f(*v) for v in by_class["genuine"]], [f(*v) for v in by_class[k]]) for k in ATTACKS if by_class[k]}
        for name, f in rules.items()
    }
    hardest = max(ranking["meanLogit"], key=lambda k: ranking["meanLogit"][k]["eer"])
    chosen = by_class["genuine"] + by_class[hardest]
    live = np.concatenate([np.ones(len(by_class["genuine"])), np.zeros(len(by_class[hardest]))])
    source = np.array(sources["genuine"] + sources[hardest])
    weights, offset = fit_logistic(np.array([mean_logit(l) for l, _ in chosen]), live, source=source)
    lower = {"rule": "meanLogit", "clamp": CLAMP, "slope": float(weights[0]), "offset": offset}
    if with_view:
        view_weights, view_offset = fit_logistic(np.array([v for _, v in chosen]), live, source=source)
        if view_weights[0] > 0:
            lower.update(viewSlope=float(view_weights[0]), viewOffset=view_offset)
    candidates = {"fitted": lower}
    if with_view:
        joint_weights, joint_offset = fit_logistic(np.array([[mean_logit(l), v] for l, v in chosen]), live, source=source)
        joint = joint_rule(joint_weights, joint_offset)
        if joint:
            candidates["joint"] = joint
    for name, rule in candidates.items():
        ranking[name] = {k: operating_points([score_of(rule, *v) for v in by_class["genuine"]], [score_of(rule, *v) for v in by_class[k]]) for k in ATTACKS if by_class[k]}
    chosen_name = choose(candidates, ranking)
    fitted = candidates[chosen_name]
    real_logodds = {c: np.array([logit(score_of(fitted, live, view)) for label, live, view, src in photos if label == c and src == 1]) for c in ("genuine", "screen")}
    place = placement(real_logodds["genuine"], real_logodds["screen"])
    if place is None and all(len(v) for v in real_logodds.values()):
        print("calibrate: the bands could not be placed on the real photos (points out of order or too steep); the rule stays as fitted", flush=True)
    aggregation = placed(fitted, place) if place else fitted

    def score(l, v):
        return score_of(aggregation, l, v)

    report = {
        "photos": len(results),
        "scored": len(photos),
        "ranking": ranking,
        "fitted_against": hardest,
        "candidates": candidates,
        "chosen": chosen_name,
        "fitted": fitted,
        "placement": place,
        "aggregation": aggregation,
    }
    report["after"] = {
        f"{c} ({'real' if src else 'generated'})": {"below_025": int(sum(score(*v) < 0.25 for v, s in zip(vs, sources[c]) if s == src)), "below_05": int(sum(score(*v) < 0.5 for v, s in zip(vs, sources[c]) if s == src)), "n": int(sum(s == src for s in sources[c]))}
        for c, vs in by_class.items()
        for src in sorted(set(sources[c]))
    }
    manifest = json.load(open(manifest_path))
    manifest["aggregation"] = aggregation
    if aggregation["rule"] == "jointLogit":
        inputs = f"the mean patch log-odds and the whole view's log-odds together (chosen over the lower of two functions, one of each: {why_chosen(ranking, chosen_name)})"
    elif aggregation.get("viewSlope"):
        inputs = "the mean patch log-odds, and one of the whole view's log-odds (the score is the lower of the two)"
    else:
        inputs = "the mean patch log-odds"
    manifest["aggregationFit"] = (
        f"logistic regression of {inputs}, genuine against {hardest} (classes weighted equally, prior sd {PRIOR_SD} on each slope), "
        f"on {len(photos)} calibration photos: {sum(src == 0 for *_, src in photos)} generated with their own seeds and "
        f"{sum(src == 1 for *_, src in photos)} real photos from repositories kept out of training"
        + (f"; then scaled so that {placement_words(place)}" if place else "")
        + "; see models/README.md"
    )
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    with open(report_path, "w") as f:
        json.dump(report, f, indent=2)
    return report
