//! The blur measure: how little of the region's pixel-to-pixel variation a re-blur
//! removes (Crété et al., 2007), judged on the sharper part of the region.

use super::cells::{BOX, Grid, SCALES};

/// Blur tiles are about this many pixels across: enough texture in each to measure, and
/// enough tiles to leave out the flat ones and a background out of focus.
const TILE_PX: u32 = 128;

/// A tile is judged when its mean neighbour difference is at least this share of the
/// 90th-percentile tile's: flat paper, sky or a plain card field carries only noise, and
/// noise would read as detail.
const DETAIL_SHARE: f64 = 0.25;

/// ... and at least this many grey levels: a region with no texture at all is not judged.
const DETAIL_FLOOR: f64 = 0.2;

/// The region is as sharp as its sharper quarter of tiles: a document photographed at an
/// angle is sharp where the camera focused, and a reviewer can read it there.
const QUANTILE: f64 = 0.25;

/// 0 (crisp) to 1 (no detail) for the region, `None` when it has no detail to judge.
pub(super) fn measure(grid: &Grid) -> Option<f64> {
    let per = (TILE_PX / grid.side).max(1) as usize;
    let mut tiles: Vec<(f64, f64)> = Vec::new(); // (detail, blur)
    for tr in (0..grid.rows).step_by(per) {
        for tc in (0..grid.columns).step_by(per) {
            let mut pixels = 0u64;
            let (mut diff, mut lost) = ([[0u64; 2]; SCALES], [[0u64; 2]; SCALES]);
            for r in tr..(tr + per).min(grid.rows) {
                for c in tc..(tc + per).min(grid.columns) {
                    let cell = grid.at(c, r);
                    pixels += u64::from(cell.pixels);
                    for s in 0..SCALES {
                        for k in 0..2 {
                            diff[s][k] += cell.diff[s][k];
                            lost[s][k] += cell.lost[s][k];
                        }
                    }
                }
            }
            if pixels == 0 || diff[0][0] + diff[0][1] == 0 {
                continue;
            }
            let detail = (diff[0][0] + diff[0][1]) as f64 / (2 * BOX as u64 * pixels) as f64;
            // The blurriest reading over the scales and both directions: a blur the
            // native reading misses under noise shows once the noise is binned away.
            let blur = (0..SCALES)
                .flat_map(|s| (0..2).map(move |k| (s, k)))
                .filter(|&(s, k)| diff[s][k] > 0)
                .map(|(s, k)| (diff[s][k] - lost[s][k]) as f64 / diff[s][k] as f64)
                .fold(0.0, f64::max);
            tiles.push((detail, blur));
        }
    }
    if tiles.is_empty() {
        return None;
    }
    let mut details: Vec<f64> = tiles.iter().map(|t| t.0).collect();
    details.sort_by(f64::total_cmp);
    let p90 = details[((details.len() - 1) as f64 * 0.9).round() as usize];
    let floor = (DETAIL_SHARE * p90).max(DETAIL_FLOOR);
    let mut judged: Vec<f64> = tiles.iter().filter(|t| t.0 >= floor).map(|t| t.1).collect();
    if judged.is_empty() {
        return None;
    }
    judged.sort_by(f64::total_cmp);
    Some(judged[((judged.len() - 1) as f64 * QUANTILE).round() as usize])
}
