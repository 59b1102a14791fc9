//! What the liveness models' outputs mean: the names their manifests give them. Both the
//! patch model and the whole-view model read these, so they live apart from either.

/// Output meaning of the live probability (per patch, or of the whole view).
pub const OUTPUT_LIVENESS: &str = "liveness";
/// Output meaning of the per-patch attack probabilities, in this order.
pub const OUTPUT_ATTACKS: &str = "attacks:screen,print,digital";
/// Output meaning of the pooled features the network's classifier reads (per patch, or
/// per form of the whole view): what a deployment's head is fitted on (`head.rs`).
pub const OUTPUT_FEATURES: &str = "features";
