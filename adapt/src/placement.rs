//! Where a refit puts the bands. The likelihood fit only orders the photos: it puts 0.5
//! where a genuine photo and an attack are equally likely, which is not where a fraud
//! team wants it. The refit's log-odds are then scaled and shifted so that, on the
//! decided photos it was fitted on, 0.5 and 0.25 sit where the operating targets put them,
//! as the shipped calibration places its bands on real photos
//! (`models/training/liveness_training/calibrate.py`, `placement`).

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

/// A placement: the refit's log-odds `z` become `scale · z + shift`, so that its score
/// crosses the pass and fail thresholds where this placement says.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// Factor on the fitted log-odds.
    pub scale: f64,
    /// Added after scaling.
    pub shift: f64,
    /// What set 0.5.
    pub pass_set_by: PassSetBy,
    /// The genuine photos' fail point lay at or above the pass point (they are all but
    /// separated from the attacks), so the fit's own slope was kept and only 0.5 moved.
    pub slope_kept: bool,
}

/// Why the fitted rule is kept as fitted: separating the fail point from the pass point
/// would steepen the fit more than `Settings::max_scale` times, and the score would become
/// a step that a re-save could flip.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TooSteep {
    /// The scale it would take.
    pub scale: f64,
}

impl std::fmt::Display for TooSteep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "placing the bands would steepen the fit {:.1} times and make the score a step",
            self.scale
        )
    }
}

/// What the placement (or its refusal) did, in words for the command line, the console
/// and the overlay's record; `fitted` are the genuine and attack photos it was placed on.
pub fn words(
    placement: &Result<Placement, TooSteep>,
    fitted: (usize, usize),
    settings: &Settings,
) -> String {
    let (genuine, attack) = fitted;
    let p = match placement {
        Err(steep) => return format!("the bands are where the likelihood fit puts them: {steep}"),
        Ok(p) => p,
    };
    let pass = match p.pass_set_by {
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
    let fail = if p.slope_kept {
        "the fail threshold keeps the fit's slope (nearly every genuine photo lies above the pass threshold)".to_string()
    } else {
        format!(
            "{:.0}% of the genuine photos fall below the fail threshold",
            100.0 * settings.fail_placed_at
        )
    };
    format!(
        "{pass}; {fail} (log-odds scaled by {:.3}, shifted by {:.3})",
        p.scale, p.shift
    )
}

/// numpy's linear quantile of `values` (sorted ascending), as the shipped calibration
/// computes it, so that the two place alike on the same photos.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (low, high) = (at.floor() as usize, at.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (at - low as f64)
}

/// The placement for the fitted log-odds of the genuine and the attack photos (neither
/// empty), for thresholds whose log-odds are `thresholds` (fail, pass; with the shipped
/// 0.25 and 0.5, -ln 3 and 0; below, "0.25" and "0.5" stand for them): 0.25 where
/// `fail_placed_at` of the genuine photos fall below it; 0.5 at least
/// as high as the point that catches `attacks_caught` of the attacks and at most as high
/// as the one that passes `genuine_passed` of the genuine photos, and between the two
/// where the photos are fewest wrong (attacks passed plus genuine photos not passed, each
/// as a share of its class; the lowest such stretch, at its middle).
/// Where the genuine photos leave no room for 0.25 below 0.5 (fewer than
/// `fail_placed_at` of them would fall below 0.5 itself), the fit's slope is kept.
pub fn place(
    genuine: &[f64],
    attack: &[f64],
    thresholds: (f64, f64),
    settings: &Settings,
) -> Result<Placement, TooSteep> {
    let (z_fail, z_pass) = thresholds;
    let sort = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v
    };
    let (genuine, attack) = (sort(genuine), sort(attack));
    let by_attacks = quantile(&attack, settings.attacks_caught);
    let by_genuine = quantile(&genuine, 1.0 - settings.genuine_passed);
    let (at_pass, pass_set_by) = if by_attacks < by_genuine {
        (
            least_wrong(&genuine, &attack, by_attacks, by_genuine),
            PassSetBy::Both,
        )
    } else {
        (by_genuine, PassSetBy::Genuine)
    };
    let at_fail = quantile(&genuine, settings.fail_placed_at);
    // Without a review band (the two thresholds equal) there is no fail point to place.
    let slope_kept = at_fail >= at_pass || z_pass <= z_fail;
    let scale = if slope_kept {
        1.0
    } else {
        (z_pass - z_fail) / (at_pass - at_fail)
    };
    if scale > settings.max_scale {
        return Err(TooSteep { scale });
    }
    Ok(Placement {
        scale,
        shift: z_pass - scale * at_pass,
        pass_set_by,
        slope_kept,
    })
}

/// The middle of the lowest stretch of `[low, high]` where a pass point leaves the
/// fewest photos wrong. Between two neighbouring photos every point routes alike, so the
/// stretches run from one photo's log-odds to the next.
fn least_wrong(genuine: &[f64], attack: &[f64], low: f64, high: f64) -> f64 {
    let mut edges: Vec<f64> = genuine
        .iter()
        .chain(attack)
        .copied()
        .filter(|z| *z > low && *z < high)
        .collect();
    edges.push(low);
    edges.push(high);
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    // A pass point inside (lo, hi] passes exactly the photos at or above hi.
    let wrong = |hi: f64| {
        let passed_attacks = attack.iter().filter(|z| **z >= hi).count();
        let held_genuine = genuine.iter().filter(|z| **z < hi).count();
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
    }

    #[test]
    fn separated_photos_get_the_pass_point_in_the_gap_between_them() {
        // Attacks at -3..-1, genuine photos at 1..3: any point in the gap routes every
        // photo right, and the middle of it is the one least moved by a new photo.
        let (genuine, attack) = (spread(2.0, 100, 2.0), spread(-2.0, 100, 2.0));
        let p = place(&genuine, &attack, shipped(), &Settings::default()).unwrap();
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
        assert!(p.slope_kept && p.scale == 1.0, "{p:?}");
        assert!(genuine.iter().all(|z| routes(&p, *z) >= 0.25));
        assert!(attack.iter().filter(|z| routes(&p, **z) < 0.25).count() > 90);
    }

    #[test]
    fn the_fail_point_fails_the_target_share_of_genuine_photos() {
        let (genuine, attack) = (spread(1.0, 100, 6.0), spread(-1.0, 100, 4.0));
        let p = place(&genuine, &attack, shipped(), &Settings::default()).unwrap();
        assert!(!p.slope_kept, "{p:?}");
        let failed = genuine.iter().filter(|z| routes(&p, **z) < 0.25).count();
        // numpy's 2% point of 100 lies between the second and third lowest.
        assert_eq!(failed, 2);
    }

    #[test]
    fn overlapping_photos_catch_the_target_share_of_attacks_at_least() {
        // The attacks' top tenth overlaps the genuine photos' bottom fifth.
        let (genuine, attack) = (spread(2.5, 200, 6.0), spread(-2.5, 200, 6.0));
        let p = place(&genuine, &attack, shipped(), &Settings::default()).unwrap();
        let caught = attack.iter().filter(|z| routes(&p, **z) < 0.5).count();
        let passed = genuine.iter().filter(|z| routes(&p, **z) >= 0.5).count();
        assert!(caught >= 180, "{caught} of 200 attacks caught");
        assert!(passed >= 160, "{passed} of 200 genuine passed");
    }

    #[test]
    fn where_the_targets_overlap_the_genuine_photos_win() {
        // The attacks' 90% point lies above the genuine photos' 20% point.
        let (genuine, attack) = (spread(0.0, 100, 4.0), spread(0.0, 100, 4.0));
        let p = place(&genuine, &attack, shipped(), &Settings::default()).unwrap();
        assert_eq!(p.pass_set_by, PassSetBy::Genuine);
        let passed = genuine.iter().filter(|z| routes(&p, **z) >= 0.5).count();
        assert_eq!(passed, 80);
    }

    #[test]
    fn a_placement_that_would_make_a_step_is_refused() {
        // The genuine photos' 2% and 20% points nearly coincide, and the attacks overlap
        // them, so 0.5 stops at the genuine point: the scale that separates 0.25 from it
        // is refused.
        let genuine: Vec<f64> = (0..50).map(|i| 1.0 + 1e-4 * f64::from(i)).collect();
        let attack = spread(1.0, 50, 0.02);
        let refused = place(&genuine, &attack, shipped(), &Settings::default()).unwrap_err();
        assert!(refused.scale > Settings::default().max_scale, "{refused:?}");
    }
}
