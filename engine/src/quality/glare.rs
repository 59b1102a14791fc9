//! Glare: blown-out patches over the region, their share of it and where they lie.

use super::cells::Grid;

/// A cell is part of a reflection when at least this share of its pixels is blown out;
/// a lone white speck (a highlight on a letter, a hologram glint) is not glare.
const CELL_SHARE: f64 = 0.5;

/// At most this many areas are reported, largest first.
const MAX_REGIONS: usize = 4;

/// Which cells are part of a reflection, row-major as the grid's.
pub(super) fn glaring(grid: &Grid) -> Vec<bool> {
    grid.cells
        .iter()
        .map(|c| c.pixels > 0 && f64::from(c.clipped) >= CELL_SHARE * f64::from(c.pixels))
        .collect()
}

/// Share of the region's pixels that lie in reflection cells and are blown out.
pub(super) fn share(grid: &Grid, marked: &[bool]) -> f64 {
    let blown: u64 = grid
        .cells
        .iter()
        .zip(marked)
        .filter(|(_, m)| **m)
        .map(|(c, _)| u64::from(c.clipped))
        .sum();
    blown as f64 / grid.pixels().max(1) as f64
}

/// Bounding boxes `[x, y, w, h]` in photo pixels of the connected reflection areas,
/// largest (by blown-out pixels) first.
pub(super) fn regions(grid: &Grid, marked: &[bool]) -> Vec<[u32; 4]> {
    let mut seen = vec![false; marked.len()];
    let mut found: Vec<(u64, [usize; 4])> = Vec::new();
    for start in 0..marked.len() {
        if !marked[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![start];
        let (mut c0, mut r0, mut c1, mut r1) = (usize::MAX, usize::MAX, 0, 0);
        let mut blown = 0u64;
        while let Some(i) = stack.pop() {
            let (c, r) = (i % grid.columns, i / grid.columns);
            (c0, r0, c1, r1) = (c0.min(c), r0.min(r), c1.max(c), r1.max(r));
            blown += u64::from(grid.cells[i].clipped);
            let mut visit = |j: usize| {
                if marked[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if c > 0 {
                visit(i - 1);
            }
            if c + 1 < grid.columns {
                visit(i + 1);
            }
            if r > 0 {
                visit(i - grid.columns);
            }
            if r + 1 < grid.rows {
                visit(i + grid.columns);
            }
        }
        found.push((blown, [c0, r0, c1, r1]));
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    let s = grid.side;
    found
        .into_iter()
        .take(MAX_REGIONS)
        .map(|(_, [c0, r0, c1, r1])| {
            let (c0, r0) = (c0 as u32, r0 as u32);
            let (c1, r1) = (c1 as u32 + 1, r1 as u32 + 1);
            let (x0, y0) = (grid.origin.0 + c0 * s, grid.origin.1 + r0 * s);
            let x1 = (grid.origin.0 + c1 * s).min(grid.end.0);
            let y1 = (grid.origin.1 + r1 * s).min(grid.end.1);
            [x0, y0, x1 - x0, y1 - y0]
        })
        .collect()
}
