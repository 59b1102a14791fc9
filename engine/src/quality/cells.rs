//! One pass over the judged region at native resolution, gathering per-cell statistics
//! that the blur, glare and exposure measures read.

use image::RgbImage;

use crate::geometry::Quad;

/// Re-blur reach of the blur measure: a 9-pixel box, as in Crété et al. (2007), "The blur
/// effect: perception and estimation with a new no-reference perceptual blur metric".
pub(super) const BOX: usize = 9;

/// The blur measure is also taken on the photo binned 2×2 and 4×4: a strong blur spreads
/// an edge over more pixels than the 9-pixel re-blur reaches, and at native resolution
/// what is left (sensor and JPEG noise) would read as detail.
pub(super) const SCALES: usize = 3;

/// Statistics of one cell of the region.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cell {
    /// Pixels of the region in the cell.
    pub pixels: u32,
    /// Sum of their luma.
    pub luma: u64,
    /// Of them, blown out (every channel at the clipping level).
    pub clipped: u32,
    /// Blur sums per scale (native, 2×2, 4×4), horizontal then vertical: the total
    /// neighbour difference of the photo, and how much of it a re-blur removes (both
    /// times `BOX`, to stay in integers).
    pub diff: [[u64; 2]; SCALES],
    pub lost: [[u64; 2]; SCALES],
}

impl Cell {
    /// Adds one pixel's blur reading at `scale` in direction `k` (0 across, 1 down) from
    /// `[pixel, previous, BOX/2 ahead, BOX/2 + 1 behind]`: the step to the previous
    /// pixel, and the same step after a `BOX`-wide box re-blur (its running sum moves by
    /// the pixel entering less the one leaving).
    fn tally(&mut self, scale: usize, k: usize, [v, prev, ahead, behind]: [u16; 4]) {
        let d = BOX as u64 * u64::from(v.abs_diff(prev));
        let reblurred = u64::from(ahead.abs_diff(behind));
        self.diff[scale][k] += d;
        self.lost[scale][k] += d.saturating_sub(reblurred);
    }
}

/// The region's cells, row-major, with where they lie in the photo.
#[derive(Debug)]
pub(super) struct Grid {
    /// Cell side in pixels.
    pub side: u32,
    /// Cells across and down.
    pub columns: usize,
    pub rows: usize,
    /// Top-left of the first cell and bottom-right of the last, in photo pixels (the last
    /// row and column of cells may be cut short there).
    pub origin: (u32, u32),
    pub end: (u32, u32),
    pub cells: Vec<Cell>,
}

impl Grid {
    /// Measures the photo inside `outline`, clipped to the photo; `None` when nothing of it
    /// lies inside. Cells are about a 40th of the region's shorter side (16 to 64 px): small
    /// enough to outline a reflection, large enough to hold statistics.
    pub fn measure(rgb: &RgbImage, outline: &Quad, clipped_level: u8) -> Option<Grid> {
        let (w, h) = (rgb.width(), rgb.height());
        let (bx0, by0, bx1, by1) = outline.bounds();
        let x0 = bx0.max(0.0).floor() as u32;
        let y0 = by0.max(0.0).floor() as u32;
        let x1 = (bx1.min(f64::from(w)).ceil() as u32).min(w);
        let y1 = (by1.min(f64::from(h)).ceil() as u32).min(h);
        if x1 <= x0 || y1 <= y0 {
            return None;
        }
        let (bw, bh) = ((x1 - x0) as usize, (y1 - y0) as usize);
        let side = (bw.min(bh) as u32 / 40).clamp(16, 64);
        let columns = bw.div_ceil(side as usize);
        let rows = bh.div_ceil(side as usize);
        let mut grid = Grid {
            side,
            columns,
            rows,
            origin: (x0, y0),
            end: (x1, y1),
            cells: vec![Cell::default(); columns * rows],
        };

        let mut luma = vec![0u8; bw * bh];
        for (yy, row) in luma.chunks_exact_mut(bw).enumerate() {
            for (xx, l) in row.iter_mut().enumerate() {
                let [r, g, b] = rgb.get_pixel(x0 + xx as u32, y0 + yy as u32).0;
                // Rec. 601 weights in 8-bit fixed point.
                *l = ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b)) >> 8) as u8;
            }
        }
        let cell_of_x: Vec<usize> = (0..bw).map(|x| x / side as usize).collect();
        let half = BOX / 2;
        let mut any = false;
        for yy in 0..bh {
            let Some((sa, sb)) = span(outline, f64::from(y0) + yy as f64 + 0.5) else {
                continue;
            };
            let xa = (sa - f64::from(x0)).max(0.0).ceil() as usize;
            let xb = ((sb - f64::from(x0)).min(bw as f64).floor() as usize).min(bw);
            if xb <= xa {
                continue;
            }
            any = true;
            let cell_row = &mut grid.cells[(yy / side as usize) * columns..][..columns];
            let line = &luma[yy * bw..][..bw];
            for xx in xa..xb {
                let cell = &mut cell_row[cell_of_x[xx]];
                let v = line[xx];
                cell.pixels += 1;
                cell.luma += u64::from(v);
                let [r, g, b] = rgb.get_pixel(x0 + xx as u32, y0 + yy as u32).0;
                cell.clipped += u32::from(r.min(g).min(b) >= clipped_level);
                if xx > half && xx + half < bw {
                    let at = |c: usize| u16::from(line[c]);
                    cell.tally(0, 0, [at(xx), at(xx - 1), at(xx + half), at(xx - half - 1)]);
                }
                if yy > half && yy + half < bh {
                    let at = |r: usize| u16::from(luma[r * bw + xx]);
                    cell.tally(0, 1, [at(yy), at(yy - 1), at(yy + half), at(yy - half - 1)]);
                }
            }
        }
        if !any {
            return None;
        }
        for scale in 1..SCALES {
            grid.binned_blur(outline, &luma, bw, bh, scale);
        }
        Some(grid)
    }

    /// The blur sums of the luma binned `2^scale` × `2^scale`, added to the cells the
    /// binned pixels fall in.
    fn binned_blur(&mut self, outline: &Quad, luma: &[u8], bw: usize, bh: usize, scale: usize) {
        let f = 1usize << scale;
        let (w, h) = (bw / f, bh / f);
        if w <= BOX || h <= BOX {
            return;
        }
        let mut binned = vec![0u16; w * h];
        for y in 0..h {
            for x in 0..w {
                let mut sum = 0u32;
                for dy in 0..f {
                    let row = &luma[(y * f + dy) * bw + x * f..][..f];
                    sum += row.iter().map(|&v| u32::from(v)).sum::<u32>();
                }
                // Kept at 16 times luma's precision: averaging takes noise away, and
                // rounding it back to 8 bits would add its own.
                binned[y * w + x] = (sum * 16 / (f * f) as u32) as u16;
            }
        }
        let half = BOX / 2;
        let side = self.side as usize;
        let (x0, y0) = (f64::from(self.origin.0), f64::from(self.origin.1));
        for y in half + 1..h - half {
            let Some((sa, sb)) = span(outline, y0 + ((y * f) as f64 + f as f64 / 2.0)) else {
                continue;
            };
            let xa = (((sa - x0) / f as f64).ceil().max(0.0) as usize).max(half + 1);
            let xb = (((sb - x0) / f as f64).floor().max(0.0) as usize).min(w - half);
            let row = (y * f) / side * self.columns;
            for x in xa..xb {
                let at = |yy: usize, xx: usize| binned[yy * w + xx];
                let cell = &mut self.cells[row + (x * f) / side];
                let v = at(y, x);
                cell.tally(
                    scale,
                    0,
                    [v, at(y, x - 1), at(y, x + half), at(y, x - half - 1)],
                );
                cell.tally(
                    scale,
                    1,
                    [v, at(y - 1, x), at(y + half, x), at(y - half - 1, x)],
                );
            }
        }
    }

    /// The cell at column `c`, row `r`.
    pub fn at(&self, c: usize, r: usize) -> &Cell {
        &self.cells[r * self.columns + c]
    }

    /// Pixels of the region in all.
    pub fn pixels(&self) -> u64 {
        self.cells.iter().map(|c| u64::from(c.pixels)).sum()
    }
}

/// Where the horizontal line at `y` crosses the convex outline: `(left, right)`.
fn span(outline: &Quad, y: f64) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for (a, b) in outline.sides() {
        if (a.y <= y && y < b.y) || (b.y <= y && y < a.y) {
            let x = a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x);
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    (lo < hi).then_some((lo, hi))
}
