//! The logistic function, the one link between the models' logits and probabilities
//! (document cells, portrait anchors, patch and whole-view evidence, the score's scale).

/// `1 / (1 + e^-z)`; saturates to exactly 0 or 1 for very large |z| instead of
/// producing NaN.
pub fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
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
}
