//! Exposure: the judged region's mean brightness against the configured limits.

use super::cells::Grid;
use super::{QualityWarning, WarningCode};
use crate::config::WarningsConfig;

/// Mean luma of the region, 0..255.
pub(super) fn mean_luma(grid: &Grid) -> f64 {
    let sum: u64 = grid.cells.iter().map(|c| c.luma).sum();
    sum as f64 / grid.pixels().max(1) as f64
}

/// `UNDEREXPOSED` or `OVEREXPOSED` when the mean lies outside the limits.
pub(super) fn warning(mean: f64, cfg: &WarningsConfig) -> Option<QualityWarning> {
    let (code, limit) = if mean < cfg.dark_mean {
        (WarningCode::Underexposed, cfg.dark_mean)
    } else if mean > cfg.bright_mean {
        (WarningCode::Overexposed, cfg.bright_mean)
    } else {
        return None;
    };
    Some(QualityWarning {
        code,
        measured: mean,
        limit,
        regions: Vec::new(),
    })
}
