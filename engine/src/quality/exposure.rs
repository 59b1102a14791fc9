//! Exposure: the judged region's mean brightness against the configured limits.

use super::cells::Grid;
use super::{QualityWarning, WarningCode};
use crate::config::WarningsConfig;

/// Mean luma of the region, 0..255.
pub(super) fn mean_luma(grid: &Grid) -> f64 {
    let sum: u64 = grid.cells.iter().map(|c| c.luma).sum();
    sum as f64 / grid.pixels().max(1) as f64
}

/// `UNDEREXPOSED` when the mean is below its limit; `OVEREXPOSED` when it is above its
/// limit or blown-out patches cover a broad share of the region (`blown`).
pub(super) fn warning(mean: f64, blown: f64, cfg: &WarningsConfig) -> Option<QualityWarning> {
    let (code, measured, limit) = if mean < cfg.dark_mean {
        (WarningCode::Underexposed, mean, cfg.dark_mean)
    } else if mean > cfg.bright_mean {
        (WarningCode::Overexposed, mean, cfg.bright_mean)
    } else if blown >= cfg.overexposed_share {
        (WarningCode::Overexposed, blown, cfg.overexposed_share)
    } else {
        return None;
    };
    Some(QualityWarning {
        code,
        measured,
        limit,
        regions: Vec::new(),
    })
}
