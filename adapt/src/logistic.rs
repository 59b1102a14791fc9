//! Logistic regression, classes weighted equally, with a Gaussian prior on each weight:
//! the fit `models/training/liveness_training/calibrate.py` makes for the shipped scale,
//! repeated here on a deployment's decided photos.

use docliveness_engine::probability::logistic;

/// Prior standard deviation of each weight, in score log-odds per evidence log-odds. Where
/// the photos are separated perfectly the unpenalised slope grows without bound and the
/// score becomes a step that a re-save could flip; the prior says no input is certain.
pub const PRIOR_SD: f64 = 2.0;

/// `-ln(logistic(margin))`, computed without overflow: the loss of a photo whose verdict
/// the log-odds favour by `margin` (negative when they point the other way).
pub fn surprise(margin: f64) -> f64 {
    if margin > 0.0 {
        (-margin).exp().ln_1p()
    } else {
        -margin + margin.exp().ln_1p()
    }
}

/// Slope and offset of `P(genuine) = logistic(slope · x + offset)` fitted to `x` and the
/// labels `genuine` (see `fit_many`).
pub fn fit(x: &[f64], genuine: &[bool]) -> Option<(f64, f64)> {
    let rows: Vec<[f64; 1]> = x.iter().map(|&v| [v]).collect();
    fit_many(&rows, genuine).map(|(w, offset)| (w[0], offset))
}

/// Weights and offset of `P(genuine) = logistic(w · x + offset)` fitted to the rows `x`
/// and the labels `genuine`, each class weighted to half the total, with the prior
/// (`PRIOR_SD`) on every weight (not the offset), by Newton's method. `None` when either
/// class is empty or the fit does not settle on finite numbers.
pub fn fit_many<const K: usize>(x: &[[f64; K]], genuine: &[bool]) -> Option<([f64; K], f64)> {
    let rows: Vec<&[f64]> = x.iter().map(|r| r.as_slice()).collect();
    let base = vec![0.0; x.len()];
    // The first input starts at weight 1, as calibrate.py starts.
    let (w, offset) = fit_rows(&rows, &base, genuine, PRIOR_SD, 1.0)?;
    let mut weights = [0.0; K];
    weights.copy_from_slice(&w);
    Some((weights, offset))
}

/// Weights and offset of `P(genuine) = logistic(base + w · x + offset)`: `base` is each
/// row's log-odds from elsewhere (a rule the weights correct), every weight has a
/// Gaussian prior of standard deviation `prior_sd`, and the first weight starts at
/// `first_weight` (the others and the offset at 0). Classes weigh half the total each.
pub fn fit_rows(
    x: &[&[f64]],
    base: &[f64],
    genuine: &[bool],
    prior_sd: f64,
    first_weight: f64,
) -> Option<(Vec<f64>, f64)> {
    let positives = genuine.iter().filter(|g| **g).count();
    let negatives = genuine.len() - positives;
    let k = x.first().map_or(0, |r| r.len());
    if positives == 0 || negatives == 0 || k == 0 || x.iter().any(|r| r.len() != k) {
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
    let ridge = 1.0 / (prior_sd * prior_sd * x.len() as f64);
    // Parameters: the k weights, then the offset.
    let n = k + 1;
    let z = |theta: &[f64], row: &[f64], b: f64| -> f64 {
        b + row.iter().zip(theta).map(|(a, w)| a * w).sum::<f64>() + theta[k]
    };
    // The penalised, weighted negative log-likelihood that Newton's steps descend.
    let objective = |theta: &[f64]| {
        let mut total = 0.5 * ridge * theta[..k].iter().map(|w| w * w).sum::<f64>();
        for ((row, &gi), &b) in x.iter().zip(genuine).zip(base) {
            let zi = z(theta, row, b);
            total += weight(gi) * surprise(if gi { zi } else { -zi });
        }
        total
    };
    let mut theta = vec![0.0; n];
    theta[0] = first_weight;
    let mut current = objective(&theta);
    if !current.is_finite() {
        // An input that is not a number: no step could descend from here.
        return None;
    }
    for _ in 0..200 {
        let mut grad = vec![0.0; n];
        let mut hess = vec![vec![0.0; n]; n];
        for j in 0..k {
            grad[j] = ridge * theta[j];
            hess[j][j] = ridge;
        }
        hess[k][k] = 1e-12;
        let mut inputs = vec![1.0; n];
        for ((row, &gi), &b) in x.iter().zip(genuine).zip(base) {
            let p = logistic(z(&theta, row, b));
            let w = weight(gi);
            let residual = w * (p - f64::from(u8::from(gi)));
            let curvature = w * p * (1.0 - p);
            // The inputs with the offset's constant 1 after them.
            inputs[..k].copy_from_slice(row);
            for (i, &xi) in inputs.iter().enumerate() {
                grad[i] += residual * xi;
                let c = curvature * xi;
                // The Hessian is symmetric: fill the upper half, mirror it below.
                for (hij, &xj) in hess[i][i..].iter_mut().zip(&inputs[i..]) {
                    *hij += c * xj;
                }
            }
        }
        for i in 1..n {
            let (upper, lower) = hess.split_at_mut(i);
            for (j, row) in upper.iter().enumerate() {
                lower[0][j] = row[i];
            }
        }
        let step = solve(hess, grad)?;
        // A full Newton step can overshoot far from the optimum (wide-ranging evidence
        // makes the curvature at the start a poor guide); halve it until it descends.
        let mut t = 1.0;
        let mut moved = false;
        for _ in 0..40 {
            let trial: Vec<f64> = theta.iter().zip(&step).map(|(a, d)| a - t * d).collect();
            let value = objective(&trial);
            if value <= current {
                (theta, current, moved) = (trial, value, true);
                break;
            }
            t *= 0.5;
        }
        if !moved || step.iter().all(|d| (t * d).abs() < 1e-10) {
            break;
        }
    }
    if !theta.iter().all(|v| v.is_finite()) {
        return None;
    }
    let offset = theta[k];
    theta.truncate(k);
    Some((theta, offset))
}

/// `a⁻¹ b` by Gaussian elimination with partial pivoting; `None` for a singular `a`.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (done, rest) = a.split_at_mut(col + 1);
        let pivot_row = &done[col];
        for (offset, r) in rest.iter_mut().enumerate() {
            let f = r[col] / pivot_row[col];
            for (v, p) in r[col..].iter_mut().zip(&pivot_row[col..]) {
                *v -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let rest: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    Some(x)
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
    fn two_inputs_are_weighed_by_what_each_tells() {
        // P(genuine) = logistic(0.8 a + 0.3 b - 0.5) over a dense grid of (a, b).
        let (mut x, mut g) = (Vec::new(), Vec::new());
        for i in 0..60 {
            for j in 0..60 {
                let (a, b) = (-6.0 + 0.2 * f64::from(i), -6.0 + 0.2 * f64::from(j));
                let p = logistic(0.8 * a + 0.3 * b - 0.5);
                for k in 0..10 {
                    x.push([a, b]);
                    g.push(f64::from(k) + 0.5 < p * 10.0);
                }
            }
        }
        let (w, _) = fit_many(&x, &g).unwrap();
        // Ten copies per point round the probability to tenths, which sharpens the
        // labels a little: the weights come out a few percent steep, in proportion.
        assert!((w[0] / w[1] - 0.8 / 0.3).abs() < 0.1, "{w:?}");
        assert!(
            (w[0] - 0.8).abs() < 0.1 && (w[1] - 0.3).abs() < 0.05,
            "{w:?}"
        );
        // The second input swapped for noise that is the same for a grid point's ten
        // copies: it weighs (next to) nothing.
        let rows: Vec<[f64; 2]> = x
            .iter()
            .enumerate()
            .map(|(i, r)| [r[0], ((i / 10 * 7919) % 13) as f64 - 6.0])
            .collect();
        let (w, _) = fit_many(&rows, &g).unwrap();
        assert!(w[1].abs() < 0.02, "{w:?}");
    }

    #[test]
    fn an_input_that_is_not_a_number_gives_no_fit() {
        assert!(fit_many(&[[0.0, f64::NAN], [1.0, 2.0]], &[true, false]).is_none());
    }

    #[test]
    fn one_class_alone_cannot_be_fitted() {
        assert!(fit(&[1.0, 2.0], &[true, true]).is_none());
    }

    #[test]
    fn a_correction_is_fitted_over_log_odds_from_elsewhere() {
        // The true log-odds are base + 1.2 x - 0.3; the base is given, not fitted.
        let (mut rows, mut base, mut g) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..200 {
            for j in 0..20 {
                let (x, b) = (-3.0 + 0.03 * f64::from(i), -2.0 + 0.2 * f64::from(j));
                let p = logistic(b + 1.2 * x - 0.3);
                for k in 0..10 {
                    rows.push(vec![x]);
                    base.push(b);
                    g.push(f64::from(k) + 0.5 < p * 10.0);
                }
            }
        }
        let x: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let (w, offset) = fit_rows(&x, &base, &g, 10.0, 0.0).unwrap();
        assert!((w[0] - 1.2).abs() < 0.1, "{w:?}");
        let ratio =
            g.iter().filter(|v| **v).count() as f64 / g.iter().filter(|v| !**v).count() as f64;
        assert!((offset - (-0.3 - ratio.ln())).abs() < 0.15, "{offset}");
        // A tight prior holds the weight near zero whatever the data say.
        let (w, _) = fit_rows(&x, &base, &g, 0.001, 0.0).unwrap();
        assert!(w[0].abs() < 0.05, "{w:?}");
    }
}
