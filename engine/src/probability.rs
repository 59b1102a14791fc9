//! The logistic function, the one link between the models' logits and probabilities
//! (document cells, portrait anchors, patch and whole-view evidence, the score's scale).

/// `1 / (1 + e^-z)`; saturates to exactly 0 or 1 for very large |z| instead of
/// producing NaN.
pub fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The inverse of `logistic`, with `p` first held inside `[1e-12, 1 − 1e-12]` so that a
/// probability of exactly 0 or 1 gives a finite number.
pub fn log_odds(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centred_symmetric_and_saturating() {
        assert_eq!(logistic(0.0), 0.5);
        assert!((logistic(2.0) + logistic(-2.0) - 1.0).abs() < 1e-15);
        assert_eq!(logistic(-1000.0), 0.0);
        assert_eq!(logistic(1000.0), 1.0);
    }

    #[test]
    fn log_odds_undoes_the_logistic_function() {
        for z in [-6.9, -1.0, 0.0, 0.3, 6.9] {
            assert!((log_odds(logistic(z)) - z).abs() < 1e-9, "{z}");
        }
        assert!(log_odds(0.0).is_finite() && log_odds(1.0).is_finite());
    }
}
