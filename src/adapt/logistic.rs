//! One-input logistic regression, classes weighted equally, with a Gaussian prior on the
//! slope: the fit `models/training/liveness_training/calibrate.py` makes for the shipped
//! scale, repeated here on a deployment's decided photos.

use crate::engine::probability::logistic;

/// Prior standard deviation of the slope, in score log-odds per evidence log-odds. Where
/// the photos are separated perfectly the unpenalised slope grows without bound and the
/// score becomes a step that a re-save could flip; the prior says no input is certain.
pub const PRIOR_SD: f64 = 2.0;

/// Slope and offset of `P(genuine) = logistic(slope · x + offset)` fitted to `x` and the
/// labels `genuine`, each class weighted to half the total, by Newton's method. `None`
/// when either class is empty.
pub fn fit(x: &[f64], genuine: &[bool]) -> Option<(f64, f64)> {
    let positives = genuine.iter().filter(|g| **g).count();
    let negatives = genuine.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let weight = |g: bool| {
        if g {
            0.5 / positives as f64
        } else {
            0.5 / negatives as f64
        }
    };
    // The prior as if over len(x) photos whose weights add up to 1.
    let ridge = 1.0 / (PRIOR_SD * PRIOR_SD * x.len() as f64);
    // The penalised, weighted negative log-likelihood that Newton's steps descend.
    let objective = |slope: f64, offset: f64| {
        let mut total = 0.5 * ridge * slope * slope;
        for (&xi, &gi) in x.iter().zip(genuine) {
            let z = slope * xi + offset;
            // -log(logistic(±z)), computed without overflow.
            let margin = if gi { z } else { -z };
            total += weight(gi)
                * (if margin > 0.0 {
                    (-margin).exp().ln_1p()
                } else {
                    -margin + margin.exp().ln_1p()
                });
        }
        total
    };
    let (mut slope, mut offset) = (1.0f64, 0.0f64);
    let mut current = objective(slope, offset);
    for _ in 0..200 {
        let (mut g0, mut g1, mut h00, mut h01, mut h11) = (ridge * slope, 0.0, ridge, 0.0, 0.0);
        for (&xi, &gi) in x.iter().zip(genuine) {
            let p = logistic(slope * xi + offset);
            let w = weight(gi);
            let residual = w * (p - f64::from(u8::from(gi)));
            let curvature = w * p * (1.0 - p);
            g0 += residual * xi;
            g1 += residual;
            h00 += curvature * xi * xi;
            h01 += curvature * xi;
            h11 += curvature;
        }
        h11 += 1e-12;
        let det = h00 * h11 - h01 * h01;
        if det.abs() < 1e-300 {
            break;
        }
        let step_slope = (h11 * g0 - h01 * g1) / det;
        let step_offset = (h00 * g1 - h01 * g0) / det;
        // A full Newton step can overshoot far from the optimum (wide-ranging evidence
        // makes the curvature at the start a poor guide); halve it until it descends.
        let mut t = 1.0;
        let mut moved = false;
        for _ in 0..40 {
            let (s, o) = (slope - t * step_slope, offset - t * step_offset);
            let value = objective(s, o);
            if value <= current {
                (slope, offset, current, moved) = (s, o, value, true);
                break;
            }
            t *= 0.5;
        }
        if !moved || (t * step_slope).abs().max((t * step_offset).abs()) < 1e-10 {
            break;
        }
    }
    (slope.is_finite() && offset.is_finite()).then_some((slope, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_scale() {
        // Evidence whose true P(genuine) is logistic(0.5 x - 1), sampled densely.
        let mut x = Vec::new();
        let mut g = Vec::new();
        for i in 0..4000 {
            let xi = -10.0 + 20.0 * f64::from(i) / 4000.0;
            let p = logistic(0.5 * xi - 1.0);
            // Deterministic "sampling": round(10 p) of ten copies are genuine.
            for k in 0..10 {
                x.push(xi);
                g.push(f64::from(k) + 0.5 < p * 10.0);
            }
        }
        let (slope, offset) = fit(&x, &g).unwrap();
        // Balanced weights shift the offset by the log of the class ratio, not the slope.
        assert!((slope - 0.5).abs() < 0.05, "slope {slope}");
        let ratio =
            g.iter().filter(|v| **v).count() as f64 / g.iter().filter(|v| !**v).count() as f64;
        assert!(
            (offset - (-1.0 - ratio.ln())).abs() < 0.1,
            "offset {offset}"
        );
    }

    #[test]
    fn a_perfect_separation_keeps_a_finite_slope() {
        let x = [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0];
        let g = [false, false, false, true, true, true];
        let (slope, _) = fit(&x, &g).unwrap();
        assert!(
            slope.is_finite() && slope > 0.0 && slope < 20.0,
            "slope {slope}"
        );
    }

    #[test]
    fn one_class_alone_cannot_be_fitted() {
        assert!(fit(&[1.0, 2.0], &[true, true]).is_none());
    }
}
