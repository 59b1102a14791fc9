//! Where a refit puts the bands. The likelihood fit only orders the photos: it puts 0.5
//! where a genuine photo and an attack are equally likely, which is not where a fraud
//! team wants it. The refit's log-odds are then scaled and shifted so that, on the
//! decided photos it was fitted on, 0.5 and 0.25 sit where the operating targets put them,
//! as the shipped calibration places its bands on real photos
//! (`models/training/liveness_training/calibrate.py`, `placement`).

use docliveness_engine::probability::log_odds;

use super::Settings;

/// What set 0.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PassSetBy {
    /// 0.5 lies where the decided photos are fewest wrong among the points that catch
    /// the target share of attacks and pass the target share of genuine photos.
    Both,
    /// The two targets overlap on these photos; 0.5 stops where the target share of
    /// genuine photos still passes (a genuine user failing is what the refit exists for).
    Genuine,
}

/// How 0.25 was placed.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "how")]
pub enum FailPoint {
    /// Where `Settings::fail_placed_at` of the genuine photos fall below it.
    Placed,
    /// The genuine photos leave no room below the pass point (fewer than
    /// `fail_placed_at` of them lie below it): the fit's slope is kept.
    NoRoom,
    /// The thresholds leave no review band, or the fail threshold is 0: there is no
    /// fail point to place, and the fit's slope is kept.
    NoBand,
    /// Placing it would have steepened the fit `scale` times, more than
    /// `Settings::max_scale`: the score would have become a step that a re-save could
    /// flip, so the fit's slope is kept.
    TooSteep {
        /// The scale it would have taken.
        scale: f64,
    },
}

/// A placement: the refit's log-odds `z` become `scale · z + shift`, so that its score
/// crosses the pass and fail thresholds where this placement says.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// Factor on the fitted log-odds (1 unless the fail point was placed).
    pub scale: f64,
    /// Added after scaling.
    pub shift: f64,
    /// What set the pass point.
    pub pass_set_by: PassSetBy,
    /// How the fail point was placed.
    pub fail: FailPoint,
}

/// What the placement did, in words for the command line, the console and the overlay's
/// record; `fitted` are the genuine and attack photos it was placed on.
pub fn words(placement: &Placement, fitted: (usize, usize), settings: &Settings) -> String {
    let (genuine, attack) = fitted;
    let pass = match placement.pass_set_by {
        PassSetBy::Both => format!(
            "the pass threshold lies where the fewest of the {genuine} genuine and {attack} attack photos fitted on are routed wrong, \
             among the points that keep at least {:.0}% of the attacks from passing and let at least {:.0}% of the genuine photos pass",
            100.0 * settings.attacks_caught,
            100.0 * settings.genuine_passed
        ),
        PassSetBy::Genuine => format!(
            "the pass threshold lets {:.0}% of the {genuine} genuine photos fitted on pass (no point could also keep {:.0}% of the {attack} attacks from passing)",
            100.0 * settings.genuine_passed,
            100.0 * settings.attacks_caught
        ),
    };
    let fail = match placement.fail {
        FailPoint::Placed => format!(
            "{:.0}% of the genuine photos fall below the fail threshold",
            100.0 * settings.fail_placed_at
        ),
        FailPoint::NoRoom => format!(
            "fewer than {:.0}% of the genuine photos lie below the pass threshold, so the fail threshold keeps the fit's slope",
            100.0 * settings.fail_placed_at
        ),
        FailPoint::NoBand => {
            "the thresholds leave no fail point to place, so the fit's slope is kept".to_string()
        }
        FailPoint::TooSteep { scale } => format!(
            "placing the fail threshold would have steepened the fit {scale:.1} times (at most {:.0}: the score would become a step), so it keeps the fit's slope",
            settings.max_scale
        ),
    };
    format!(
        "{pass}; {fail} (log-odds scaled by {:.3}, shifted by {:.3})",
        placement.scale, placement.shift
    )
}

/// numpy's linear quantile of `sorted` (ascending, not empty; `q` in [0, 1]), as the
/// shipped calibration computes it, so that the two place alike on the same photos.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (low, high) = (at.floor() as usize, at.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (at - low as f64)
}

/// A point that routes as `point` does but lies on no photo: midway to the next lower
/// photo. At a quantile that falls on a photo (or inside a run of equal ones, as photos
/// whose every patch is held at the clamp are) the photos at it would otherwise pass or
/// not by the last bit of rounding in the placed rule.
fn off_photos(sorted: &[f64], point: f64) -> f64 {
    let below = sorted.partition_point(|z| *z < point);
    match below.checked_sub(1) {
        Some(i) => 0.5 * (sorted[i] + point),
        // Nothing lies below: any point under the lowest photo routes alike.
        None => point - 1.0,
    }
}

/// The placement for the fitted log-odds of the genuine and the attack photos (neither
/// empty; `refit` brings at least `Settings::min_fitted_per_class` of each), for
/// thresholds whose log-odds are `thresholds` (fail, pass; with the shipped 0.25 and 0.5,
/// -ln 3 and 0):
/// - the pass point at least as high as the point that keeps `attacks_caught` of the
///   attacks from passing and at most as high as the one that lets `genuine_passed` of
///   the genuine photos pass, and between the two where the photos are fewest wrong
///   (attacks passed plus genuine photos not passed, each as a share of its class; the
///   lowest such stretch, at its middle); where the two points are out of order, at the
///   genuine one;
/// - the fail point where `fail_placed_at` of the genuine photos fall below it, unless
///   `FailPoint` says why the fit's slope is kept instead.
pub fn place(
    genuine: &[f64],
    attack: &[f64],
    thresholds: (f64, f64),
    settings: &Settings,
) -> Placement {
    let (z_fail, z_pass) = thresholds;
    let sort = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v
    };
    let (genuine, attack) = (sort(genuine), sort(attack));
    let all = sort(&[genuine.as_slice(), attack.as_slice()].concat());
    let by_attacks = quantile(&attack, settings.attacks_caught);
    let by_genuine = quantile(&genuine, 1.0 - settings.genuine_passed);
    let (at_pass, pass_set_by) = if by_attacks < by_genuine {
        (
            least_wrong(&genuine, &attack, &all, by_attacks, by_genuine),
            PassSetBy::Both,
        )
    } else {
        (off_photos(&all, by_genuine), PassSetBy::Genuine)
    };
    let at_fail = off_photos(&all, quantile(&genuine, settings.fail_placed_at));
    // A fail threshold of 0 has log-odds of -inf (held at -27.6): nothing can fail.
    let (fail, scale) = if z_pass <= z_fail || z_fail <= log_odds(0.0) {
        (FailPoint::NoBand, 1.0)
    } else if at_fail >= at_pass {
        (FailPoint::NoRoom, 1.0)
    } else {
        let scale = (z_pass - z_fail) / (at_pass - at_fail);
        if scale.is_finite() && scale <= settings.max_scale {
            (FailPoint::Placed, scale)
        } else {
            (FailPoint::TooSteep { scale }, 1.0)
        }
    };
    Placement {
        scale,
        shift: z_pass - scale * at_pass,
        pass_set_by,
        fail,
    }
}

/// The middle of the lowest stretch of `[low, high]` where a pass point leaves the
/// fewest photos wrong (`genuine`, `attack` and `all`, both together, sorted). Between
/// two neighbouring photos every point routes alike, so the stretches run from one
/// photo's log-odds to the next.
fn least_wrong(genuine: &[f64], attack: &[f64], all: &[f64], low: f64, high: f64) -> f64 {
    let inside = &all[all.partition_point(|z| *z <= low)..all.partition_point(|z| *z < high)];
    let mut edges = Vec::with_capacity(inside.len() + 2);
    edges.push(low);
    edges.extend_from_slice(inside);
    edges.push(high);
    edges.dedup();
    // A pass point inside (lo, hi] passes exactly the photos at or above hi.
    let wrong = |hi: f64| {
        let passed_attacks = attack.len() - attack.partition_point(|z| *z < hi);
        let held_genuine = genuine.partition_point(|z| *z < hi);
        passed_attacks as f64 / attack.len() as f64 + held_genuine as f64 / genuine.len() as f64
    };
    let mut best = (f64::INFINITY, 0.5 * (low + high));
    for pair in edges.windows(2) {
        let errors = wrong(pair[1]);
        // Strictly fewer: on a tie the lower stretch, which passes more genuine photos.
        if errors < best.0 - 1e-12 {
            best = (errors, 0.5 * (pair[0] + pair[1]));
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(centre: f64, n: usize, width: f64) -> Vec<f64> {
        (0..n)
            .map(|i| centre + width * (i as f64 / (n - 1) as f64 - 0.5))
            .collect()
    }

    /// The log-odds of the shipped thresholds, 0.25 and 0.5.
    fn shipped() -> (f64, f64) {
        (-(3f64.ln()), 0.0)
    }

    fn routes(p: &Placement, z: f64) -> f64 {
        docliveness_engine::probability::logistic(p.scale * z + p.shift)
    }

    #[test]
    fn quantiles_interpolate_as_numpy_does() {
        let v: Vec<f64> = (0..89).map(f64::from).collect();
        // numpy.quantile(range(89), 0.9) == 79.2
        assert!((quantile(&v, 0.9) - 79.2).abs() < 1e-9);
        assert_eq!(quantile(&[3.0], 0.2), 3.0);
        // Unevenly spaced: numpy.quantile([0, 10, 11], 0.5) == 10, ([0, 10, 11], 0.75) == 10.5
        assert_eq!(quantile(&[0.0, 10.0, 11.0], 0.5), 10.0);
        assert!((quantile(&[0.0, 10.0, 11.0], 0.75) - 10.5).abs() < 1e-12);
    }

    #[test]
    fn a_point_on_photos_moves_off_them_without_changing_their_route() {
        let sorted = [-2.0, 1.0, 1.0, 1.0, 3.0];
        // On the run of equal photos: midway down to the next lower one, so all three
        // stay at or above it.
        assert_eq!(off_photos(&sorted, 1.0), -0.5);
        // Between photos it stays between the same two.
        let between = off_photos(&sorted, 2.0);
        assert!(between > 1.0 && between < 2.0, "{between}");
        assert!(off_photos(&sorted, -2.0) < -2.0);
    }

    #[test]
    fn separated_photos_get_the_pass_point_in_the_gap_between_them() {
        // Attacks at -3..-1, genuine photos at 1..3: any point in the gap routes every
        // photo right, and the middle of it is the one least moved by a new photo.
        let (genuine, attack) = (spread(2.0, 100, 2.0), spread(-2.0, 100, 2.0));
        let p = place(&genuine, &attack, shipped(), &Settings::default());
        assert_eq!(p.pass_set_by, PassSetBy::Both);
        assert!(attack.iter().all(|z| routes(&p, *z) < 0.5));
        assert!(genuine.iter().all(|z| routes(&p, *z) >= 0.5));
        assert!(
            (-p.shift / p.scale).abs() < 1e-9,
            "0.5 at {}",
            -p.shift / p.scale
        );
        // No genuine photo lies below 0.5, so none can fall below 0.25: the fit's slope
        // stays, and the attacks furthest from the gap fail.
        assert!(p.fail == FailPoint::NoRoom && p.scale == 1.0, "{p:?}");
        assert!(genuine.iter().all(|z| routes(&p, *z) >= 0.25));
        assert!(attack.iter().filter(|z| routes(&p, **z) < 0.25).count() > 90);
    }

    #[test]
    fn the_fail_point_fails_the_target_share_of_genuine_photos() {
        let (genuine, attack) = (spread(1.0, 100, 6.0), spread(-1.0, 100, 4.0));
        let p = place(&genuine, &attack, shipped(), &Settings::default());
        assert_eq!(p.fail, FailPoint::Placed);
        let failed = genuine.iter().filter(|z| routes(&p, **z) < 0.25).count();
        // numpy's 2% point of 100 lies between the second and third lowest.
        assert_eq!(failed, 2);
    }

    #[test]
    fn overlapping_photos_catch_the_target_share_of_attacks_at_least() {
        // The attacks' top tenth overlaps the genuine photos' bottom fifth.
        let (genuine, attack) = (spread(2.5, 200, 6.0), spread(-2.5, 200, 6.0));
        let p = place(&genuine, &attack, shipped(), &Settings::default());
        let caught = attack.iter().filter(|z| routes(&p, **z) < 0.5).count();
        let passed = genuine.iter().filter(|z| routes(&p, **z) >= 0.5).count();
        assert!(caught >= 180, "{caught} of 200 attacks caught");
        assert!(passed >= 160, "{passed} of 200 genuine passed");
    }

    #[test]
    fn on_a_tie_the_lowest_stretch_wins() {
        // Equal densities: every pass point between the attacks' 90% point and the
        // genuine photos' 20% point leaves as many wrong, so the lowest, which passes
        // the most genuine photos, is taken.
        let (genuine, attack) = (spread(2.5, 200, 6.0), spread(-2.5, 200, 6.0));
        let p = place(&genuine, &attack, shipped(), &Settings::default());
        let at_pass = -p.shift / p.scale;
        assert!((-0.15..-0.05).contains(&at_pass), "0.5 at {at_pass}");
    }

    #[test]
    fn where_the_targets_overlap_the_genuine_photos_win() {
        // The attacks' 90% point lies above the genuine photos' 20% point.
        let (genuine, attack) = (spread(0.0, 100, 4.0), spread(0.0, 100, 4.0));
        let p = place(&genuine, &attack, shipped(), &Settings::default());
        assert_eq!(p.pass_set_by, PassSetBy::Genuine);
        let passed = genuine.iter().filter(|z| routes(&p, **z) >= 0.5).count();
        assert_eq!(passed, 80);
    }

    #[test]
    fn a_fail_point_that_would_make_a_step_keeps_the_slope_but_not_the_pass_point() {
        // The genuine photos' 2% and 20% points nearly coincide, and the attacks overlap
        // them, so 0.5 stops at the genuine point, and the scale that would separate
        // 0.25 from it is refused; 0.5 is placed all the same.
        let genuine: Vec<f64> = (0..50).map(|i| 1.0 + 1e-4 * f64::from(i)).collect();
        let attack = spread(1.0, 50, 0.02);
        let p = place(&genuine, &attack, shipped(), &Settings::default());
        assert!(
            matches!(p.fail, FailPoint::TooSteep { scale } if scale > Settings::default().max_scale),
            "{p:?}"
        );
        assert_eq!(p.scale, 1.0);
        let passed = genuine.iter().filter(|z| routes(&p, **z) >= 0.5).count();
        assert_eq!(passed, 40, "{p:?}");
    }

    #[test]
    fn thresholds_without_a_review_band_or_with_a_fail_threshold_of_zero_place_no_fail_point() {
        let (genuine, attack) = (spread(1.0, 100, 6.0), spread(-1.0, 100, 4.0));
        let settings = Settings::default();
        for thresholds in [(0.0, 0.0), (log_odds(0.0), 0.0)] {
            let p = place(&genuine, &attack, thresholds, &settings);
            assert_eq!(
                (p.fail, p.scale),
                (FailPoint::NoBand, 1.0),
                "{thresholds:?}"
            );
            assert!(words(&p, (100, 100), &settings).contains("no fail point"));
        }
        // Another pass threshold moves the pass point's log-odds, not the photos it passes.
        let at = |pass_from: f64| {
            let p = place(
                &genuine,
                &attack,
                (log_odds(0.1), log_odds(pass_from)),
                &settings,
            );
            genuine
                .iter()
                .filter(|z| p.scale * **z + p.shift >= log_odds(pass_from))
                .count()
        };
        assert_eq!(at(0.5), at(0.7));
    }

    #[test]
    fn the_words_say_what_set_each_point() {
        let s = Settings::default();
        let (genuine, attack) = (spread(1.0, 100, 6.0), spread(-1.0, 100, 4.0));
        let p = place(&genuine, &attack, shipped(), &s);
        let w = words(&p, (100, 100), &s);
        assert!(w.contains("lets 80% of the 100 genuine photos"), "{w}");
        assert!(w.contains("2% of the genuine photos fall below"), "{w}");
        let (genuine, attack) = (spread(2.0, 100, 2.0), spread(-2.0, 100, 2.0));
        let w = words(&place(&genuine, &attack, shipped(), &s), (100, 100), &s);
        assert!(
            w.contains("fewest of the 100 genuine and 100 attack"),
            "{w}"
        );
        assert!(w.contains("keeps the fit's slope"), "{w}");
    }
}
