//! The small working copy of a photo that document detection runs on, and its edges.
//!
//! Detection only needs the outline of a card, which survives downscaling; working at a
//! few hundred pixels keeps the cost far below that of decoding the photo itself.

use image::RgbImage;

/// The working cell (of `cells` along a side of `size` photo pixels) that photo pixel
/// `i` falls in, or None when it is not read (every other pixel, counted from the
/// nearer edge, when `step` is 2).
///
/// Both choices are symmetric about the middle of the side, so a photo turned or
/// mirrored any of the eight ways reads the same pixels into the same cells, and the
/// detector sees the same image in every orientation. (Counting from the top-left
/// corner, a mirrored photo of even width read its odd columns where the original read
/// its even ones, and the outline of one held-out photo moved by 6 px with the turn.)
fn bin_of(i: usize, size: usize, cells: usize, step: usize) -> Option<usize> {
    if !i.min(size - 1 - i).is_multiple_of(step) {
        return None;
    }
    // The pixel's centre, (i + ½) / size of the way along, in cells.
    cell_at(2 * i + 1, 2 * size, cells)
}

/// The cell of `cells` that holds the point `num / den` (a fraction of the side); a
/// point exactly on a boundary goes to the cell nearer the middle, and on the middle
/// boundary itself to neither (None), so that mirroring never changes the answer.
fn cell_at(num: usize, den: usize, cells: usize) -> Option<usize> {
    let scaled = num * cells;
    let (m, on_boundary) = (scaled / den, scaled.is_multiple_of(den));
    if !on_boundary {
        return Some(m.min(cells - 1));
    }
    match (2 * m).cmp(&cells) {
        std::cmp::Ordering::Less => Some(m),
        std::cmp::Ordering::Greater => Some(m - 1),
        std::cmp::Ordering::Equal => None,
    }
}

/// The photo pixel (of `size`) under the point `num / den` of the side, a point on a
/// pixel boundary taking the pixel nearer the middle (either, at the very middle).
fn middle_index(num: usize, den: usize, size: usize) -> usize {
    cell_at(num, den, size).unwrap_or(size / 2).min(size - 1)
}

/// A planar floating-point RGB image at working resolution.
#[derive(Debug, Clone)]
pub struct WorkImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Three planes (R, G, B), each `width * height`, values 0..255.
    pub planes: [Vec<f32>; 3],
    /// Original pixels per working pixel.
    pub scale: f64,
}

impl WorkImage {
    /// Box-filters `rgb` down so that its longer side is at most `max_side`.
    ///
    /// Every source pixel is read once, so the cost is one pass over the photo.
    pub fn from_rgb(rgb: &RgbImage, max_side: usize) -> WorkImage {
        let (sw, sh) = (rgb.width() as usize, rgb.height() as usize);
        let scale = (sw.max(sh) as f64 / max_side as f64).max(1.0);
        let width = ((sw as f64 / scale).round() as usize).max(1);
        let height = ((sh as f64 / scale).round() as usize).max(1);
        WorkImage::stretched(rgb, width, height)
    }

    /// Box-filters `rgb` to exactly `width × height`, stretching when the aspect ratio
    /// differs (a model with a fixed square input sees every photo this way). `scale`
    /// is then the horizontal factor.
    pub fn stretched(rgb: &RgbImage, width: usize, height: usize) -> WorkImage {
        let (sw, sh) = (rgb.width() as usize, rgb.height() as usize);
        let scale = (sw as f64 / width as f64).min(sh as f64 / height as f64);
        // When a working pixel covers at least 3×3 photo pixels, every other row and
        // column still gives each box several samples, at a quarter of the reads; the
        // photo's own lens blur keeps this from aliasing.
        let step = if scale >= 3.0 { 2 } else { 1 };
        // (byte offset in a row, cell) of each column read.
        let columns: Vec<(usize, usize)> = (0..sw)
            .filter_map(|x| bin_of(x, sw, width, step).map(|bin| (3 * x, bin)))
            .collect();
        let mut sums = vec![[0u32; 4]; width * height];
        let raw = rgb.as_raw();
        for y in 0..sh {
            let Some(row) = bin_of(y, sh, height, step) else {
                continue;
            };
            let row = row * width;
            let src = &raw[y * sw * 3..(y + 1) * sw * 3];
            for &(offset, bin) in &columns {
                let px = &src[offset..offset + 3];
                let cell = &mut sums[row + bin];
                cell[0] += u32::from(px[0]);
                cell[1] += u32::from(px[1]);
                cell[2] += u32::from(px[2]);
                cell[3] += 1;
            }
        }
        // Enlarging leaves cells no source pixel fell in; they take the pixel under
        // their centre.
        for (i, cell) in sums.iter_mut().enumerate().filter(|(_, c)| c[3] == 0) {
            let x = middle_index(2 * (i % width) + 1, 2 * width, sw);
            let y = middle_index(2 * (i / width) + 1, 2 * height, sh);
            let px = rgb.get_pixel(x as u32, y as u32);
            *cell = [u32::from(px[0]), u32::from(px[1]), u32::from(px[2]), 1];
        }
        let plane =
            |c: usize| -> Vec<f32> { sums.iter().map(|s| s[c] as f32 / s[3] as f32).collect() };
        WorkImage {
            width,
            height,
            planes: [plane(0), plane(1), plane(2)],
            scale: sw as f64 / width as f64,
        }
    }

    /// Separable Gaussian blur of every plane, in place.
    pub fn blur(&mut self, sigma: f32) {
        for plane in &mut self.planes {
            // Two sigmas hold 95% of the weight; the rest only costs time here.
            *plane = blur_plane(plane, self.width, self.height, sigma, 2.0);
        }
    }
}

/// A Gaussian blur of one `w` x `h` plane, its kernel reaching `reach` sigmas either
/// side; edge pixels repeat outwards.
pub fn blur_plane(plane: &[f32], w: usize, h: usize, sigma: f32, reach: f32) -> Vec<f32> {
    convolve_separable(plane, w, h, &gaussian_kernel(sigma, reach))
}

fn gaussian_kernel(sigma: f32, reach: f32) -> Vec<f32> {
    let radius = (reach * sigma).ceil().max(1.0) as i32;
    let mut k: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    k
}

fn convolve_separable(src: &[f32], w: usize, h: usize, kernel: &[f32]) -> Vec<f32> {
    let r = kernel.len() / 2;
    let mut tmp = vec![0f32; w * h];
    let mut padded = vec![0f32; w + 2 * r];
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        // Edge pixels repeat outwards, so the inner loop needs no bounds logic.
        padded[r..r + w].copy_from_slice(row);
        padded[..r].fill(row[0]);
        padded[r + w..].fill(row[w - 1]);
        let out = &mut tmp[y * w..(y + 1) * w];
        for (x, o) in out.iter_mut().enumerate() {
            *o = padded[x..x + kernel.len()]
                .iter()
                .zip(kernel)
                .map(|(a, b)| a * b)
                .sum();
        }
    }
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        let dst = &mut out[y * w..(y + 1) * w];
        for (k, &kv) in kernel.iter().enumerate() {
            let yi = (y + k).saturating_sub(r).min(h - 1);
            for (d, s) in dst.iter_mut().zip(&tmp[yi * w..(yi + 1) * w]) {
                *d += s * kv;
            }
        }
    }
    out
}

/// Thin edges of a working image: where the colour gradient peaks across an edge.
#[derive(Debug, Clone)]
pub struct EdgeMap {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Gradient magnitude at edge pixels, 0 elsewhere.
    pub strength: Vec<f32>,
    /// Gradient direction (radians, `[0, π)`: the edge normal, undirected) at edge pixels.
    pub direction: Vec<f32>,
}

impl EdgeMap {
    /// Finds edges with Sobel gradients on the strongest colour channel per pixel, thinned
    /// by non-maximum suppression. The threshold adapts to the noise floor of the photo
    /// (a multiple of the median gradient) but never falls below `min_strength`.
    pub fn detect(img: &WorkImage, min_strength: f32, noise_factor: f32) -> EdgeMap {
        let (w, h) = (img.width, img.height);
        let mut mag = vec![0f32; w * h];
        let mut gx_best = vec![0f32; w * h];
        let mut gy_best = vec![0f32; w * h];
        for plane in &img.planes {
            for y in 1..h.saturating_sub(1) {
                let (up, mid, down) = (
                    &plane[(y - 1) * w..y * w],
                    &plane[y * w..(y + 1) * w],
                    &plane[(y + 1) * w..(y + 2) * w],
                );
                for x in 1..w - 1 {
                    let gx = (up[x + 1] + 2.0 * mid[x + 1] + down[x + 1]
                        - up[x - 1]
                        - 2.0 * mid[x - 1]
                        - down[x - 1])
                        / 8.0;
                    let gy = (down[x - 1] + 2.0 * down[x] + down[x + 1]
                        - up[x - 1]
                        - 2.0 * up[x]
                        - up[x + 1])
                        / 8.0;
                    let m = gx * gx + gy * gy;
                    let i = y * w + x;
                    if m > mag[i] {
                        mag[i] = m;
                        gx_best[i] = gx;
                        gy_best[i] = gy;
                    }
                }
            }
        }
        // Squared magnitudes above; roots once per pixel, not once per channel.
        mag.iter_mut().for_each(|m| *m = m.sqrt());
        let threshold = min_strength.max(noise_factor * median(&mag));
        let mut strength = vec![0f32; w * h];
        let mut direction = vec![0f32; w * h];
        for y in 1..h.saturating_sub(1) {
            for x in 1..w.saturating_sub(1) {
                let i = y * w + x;
                let m = mag[i];
                if m < threshold {
                    continue;
                }
                let angle = gy_best[i].atan2(gx_best[i]);
                // Compare with the two neighbours across the edge (gradient direction, 4 bins).
                let a = angle.rem_euclid(std::f32::consts::PI);
                let (dx, dy): (isize, isize) = if !(std::f32::consts::FRAC_PI_8
                    ..7.0 * std::f32::consts::FRAC_PI_8)
                    .contains(&a)
                {
                    (1, 0)
                } else if a < 3.0 * std::f32::consts::FRAC_PI_8 {
                    (1, 1)
                } else if a < 5.0 * std::f32::consts::FRAC_PI_8 {
                    (0, 1)
                } else {
                    (-1, 1)
                };
                let n1 = mag[((y as isize + dy) as usize) * w + (x as isize + dx) as usize];
                let n2 = mag[((y as isize - dy) as usize) * w + (x as isize - dx) as usize];
                if m >= n1 && m > n2 {
                    strength[i] = m;
                    direction[i] = a;
                }
            }
        }
        EdgeMap {
            width: w,
            height: h,
            strength,
            direction,
        }
    }
}

fn median(values: &[f32]) -> f32 {
    // A histogram median: exact enough for a threshold and linear in the pixel count.
    let mut hist = [0u32; 512];
    for &v in values {
        hist[((v * 4.0) as usize).min(511)] += 1;
    }
    let half = values.len() as u32 / 2;
    let mut acc = 0;
    for (i, &c) in hist.iter().enumerate() {
        acc += c;
        if acc > half {
            return i as f32 / 4.0;
        }
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downscale_keeps_mean_and_aspect() {
        let img = RgbImage::from_fn(1000, 500, |x, _| {
            image::Rgb([if x < 500 { 0 } else { 200 }, 50, 50])
        });
        let work = WorkImage::from_rgb(&img, 200);
        assert_eq!((work.width, work.height), (200, 100));
        assert!((work.scale - 5.0).abs() < 1e-9);
        let mean: f32 = work.planes[0].iter().sum::<f32>() / work.planes[0].len() as f32;
        assert!((mean - 100.0).abs() < 0.5);
    }

    #[test]
    fn stretching_up_leaves_no_empty_cells() {
        let img = RgbImage::from_fn(100, 60, |x, _| {
            image::Rgb([if x < 50 { 10 } else { 240 }, 80, 80])
        });
        let work = WorkImage::stretched(&img, 256, 256);
        assert!(work.planes[1].iter().all(|&v| (v - 80.0).abs() < 1e-3));
        assert_eq!(work.planes[0][0], 10.0);
        assert_eq!(work.planes[0][255], 240.0);
    }

    #[test]
    fn a_mirrored_or_turned_photo_gives_the_mirrored_or_turned_working_image() {
        // Noise, on sides with no common factor with the working size, read with and
        // without the every-other-pixel shortcut.
        for (w, h, side) in [(1001u32, 767u32, 256usize), (640, 482, 256), (301, 207, 64)] {
            let photo = RgbImage::from_fn(w, h, |x, y| {
                let v = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663))
                    .wrapping_mul(2_654_435_761);
                image::Rgb([(v >> 24) as u8, (v >> 16) as u8, (v >> 8) as u8])
            });
            let base = WorkImage::stretched(&photo, side, side);
            let at = |img: &WorkImage, x: usize, y: usize| {
                [0, 1, 2].map(|c| img.planes[c][y * img.width + x])
            };
            let flipped =
                WorkImage::stretched(&image::imageops::flip_horizontal(&photo), side, side);
            let turned = WorkImage::stretched(&image::imageops::rotate90(&photo), side, side);
            for y in 0..side {
                for x in 0..side {
                    assert_eq!(
                        at(&flipped, side - 1 - x, y),
                        at(&base, x, y),
                        "{w}x{h} mirrored"
                    );
                    // rotate90: the photo's (x, y) goes to (h - 1 - y, x).
                    assert_eq!(
                        at(&turned, side - 1 - y, x),
                        at(&base, x, y),
                        "{w}x{h} turned"
                    );
                }
            }
        }
    }

    #[test]
    fn vertical_step_gives_vertical_edge() {
        let img = RgbImage::from_fn(100, 60, |x, _| {
            image::Rgb(if x < 40 {
                [30, 30, 30]
            } else {
                [220, 220, 220]
            })
        });
        let mut work = WorkImage::from_rgb(&img, 100);
        work.blur(1.0);
        let edges = EdgeMap::detect(&work, 2.0, 3.0);
        let on_edge = (5..55)
            .filter(|&y| edges.strength[y * 100 + 39] > 0.0 || edges.strength[y * 100 + 40] > 0.0)
            .count();
        assert!(on_edge >= 48, "edge pixels found on the step: {on_edge}");
        assert!(
            edges.direction[30 * 100 + 40]
                .min(std::f32::consts::PI - edges.direction[30 * 100 + 40])
                < 0.1
        );
    }
}
