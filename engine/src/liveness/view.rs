//! The whole view: the document and its surroundings, rectified and shrunk, through the
//! liveness model's whole-view companion (`models/liveness/view/`).
//!
//! A native-resolution patch cannot tell a screen whose pixel grid the camera does not
//! resolve from a card: the lens erased the grid before the sensor sampled it. What the
//! photo still shows is what surrounds the document on a display: the panel's own
//! background, its edge, the bezel, the device. The view is the document's outline
//! widened `expand` times about its centre, rectified with the long side across, each
//! view pixel the mean of `samples²` points in linear light (the photo is box-filtered
//! first, so that fine print and resolved screen grids average as light does instead of
//! aliasing). Its four symmetric forms (as is, mirrored either way, half-turned) run in
//! batches of the manifest's size and their log-odds are averaged, so neither the
//! photo's orientation nor the corner the outline starts at can change the answer.

use std::path::Path;

use image::RgbImage;
use ndarray::Array4;

use crate::config::ModelsConfig;
use crate::geometry::{Homography, Point, Quad};
use crate::liveness::aggregate::mean_log_odds;
use crate::liveness::outputs::{OUTPUT_FEATURES, OUTPUT_LIVENESS};
use crate::onnx::{Backend, Manifest, OnnxError, OnnxModel, ViewSpec};

/// The view's four symmetric forms.
const FORMS: usize = 4;
/// Smallest distance of a form's live probability from 0 and 1 before its log-odds are
/// taken, so that one sure form cannot outvote the other three on its own.
const CLAMP: f64 = 1e-3;

/// The installed whole-view model.
#[derive(Debug)]
pub struct ViewModel {
    model: OnnxModel,
    spec: ViewSpec,
}

impl ViewModel {
    /// Loads the model in `dir`, which must describe its view and have a liveness
    /// output and a batch that divides its four forms.
    pub fn load(dir: &Path, cfg: &ModelsConfig) -> Result<ViewModel, OnnxError> {
        let model = OnnxModel::load(dir, cfg)?;
        let manifest = model.manifest();
        let problem = if manifest.view.is_none() {
            Some("a whole-view model needs a \"view\" section".to_string())
        } else if !matches!(manifest.batch, Some(b) if b > 0 && FORMS.is_multiple_of(b as usize)) {
            Some(format!(
                "a whole-view model runs its {FORMS} forms in equal batches (of 1, 2 or 4)"
            ))
        } else if !manifest
            .outputs
            .iter()
            .any(|o| o.meaning == OUTPUT_LIVENESS)
        {
            Some(format!(
                "a whole-view model needs an output with meaning \"{OUTPUT_LIVENESS}\""
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            return Err(OnnxError::Manifest {
                path: dir.join("manifest.json"),
                message,
            });
        }
        let spec = manifest.view.expect("checked above");
        Ok(ViewModel { model, spec })
    }

    /// The model's manifest.
    pub fn manifest(&self) -> &Manifest {
        self.model.manifest()
    }

    /// The backend running the model.
    pub fn backend(&self) -> &Backend {
        self.model.backend()
    }

    /// Mean log-odds of "live" over the view's four forms, for the document in `area`,
    /// and the mean of their features when the model gives them.
    pub fn judge(&self, image: &RgbImage, area: &Quad) -> Result<ViewJudgement, OnnxError> {
        let input = &self.model.manifest().input;
        let (w, h) = (input.width as usize, input.height as usize);
        let view = render(image, area, w, h, &self.spec);
        let batch = self.model.manifest().batch.unwrap_or(1) as usize;
        let mut live = Vec::with_capacity(FORMS);
        let mut features: Option<Vec<f64>> = None;
        for first in (0..FORMS).step_by(batch) {
            let mut tensor = Array4::<f32>::zeros((batch, 3, h, w));
            for (slot, form) in (first..first + batch).enumerate() {
                let (mirror_x, mirror_y) = (form & 1 == 1, form & 2 == 2);
                for y in 0..h {
                    for x in 0..w {
                        let sx = if mirror_x { w - 1 - x } else { x };
                        let sy = if mirror_y { h - 1 - y } else { y };
                        let px = view[sy * w + sx];
                        for c in 0..3 {
                            tensor[[slot, c, y, x]] = input.normalise(c, f32::from(px[c]) / 255.0);
                        }
                    }
                }
            }
            let outputs = self.model.run(tensor.view())?;
            let values = outputs
                .iter()
                .zip(&self.model.manifest().outputs)
                .find(|(_, spec)| spec.meaning == OUTPUT_LIVENESS)
                .map(|((_, _, values), _)| values)
                .filter(|values| values.len() >= batch)
                .ok_or_else(|| {
                    OnnxError::Run("the whole-view model gave no liveness values".into())
                })?;
            live.extend_from_slice(&values[..batch]);
            let found = outputs
                .iter()
                .zip(&self.model.manifest().outputs)
                .find(|(_, spec)| spec.meaning == OUTPUT_FEATURES);
            if let Some(((_, _, values), _)) = found {
                super::add_rows(&mut features, values, batch, batch);
            }
        }
        let m = mean_log_odds(live.iter().map(|&p| f64::from(p)), CLAMP);
        if !m.is_finite() {
            return Err(OnnxError::Run(
                "the whole-view model gave a value that is not a number".into(),
            ));
        }
        Ok(ViewJudgement {
            log_odds: m,
            features: features.map(|sums| sums.iter().map(|s| (s / FORMS as f64) as f32).collect()),
        })
    }
}

/// What the whole view said about one document.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewJudgement {
    /// Mean log-odds of "live" over the view's forms.
    pub log_odds: f64,
    /// The mean of the forms' features, when the model gives them.
    pub features: Option<Vec<f32>>,
}

/// sRGB (0..255) to linear light, scaled to 0..65535.
fn linear_table() -> [u16; 256] {
    std::array::from_fn(|i| {
        let v = i as f64 / 255.0;
        let l = if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        };
        (l * 65535.0).round() as u16
    })
}

/// Linear light (0..1) to sRGB, rounded to 0..255 as the training views are stored.
fn to_srgb_byte(l: f64) -> u8 {
    let l = l.clamp(0.0, 1.0);
    let v = if l <= 0.003_130_8 {
        l * 12.92
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    };
    (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8
}

/// The photo in linear light, box-filtered by `factor` over the cells that meet the
/// pixels `[x0, x1) × [y0, y1)`: cell `(i, j)` is the mean of the photo pixels it covers.
///
/// The cells tile the photo from its centre outwards (see `grid_origin`), not from the
/// area's corner: a photo turned or mirrored any of the eight ways then groups exactly
/// the same pixels into cells, and gives the same view. Anchored at the area's corner,
/// the cells fell on other pixels in each orientation, and on a genuine photo the view's
/// live probability moved from 0.51 to 0.63.
struct Reduced {
    factor: u32,
    /// Photo coordinates of the first cell's top-left corner (it may lie outside the
    /// photo; a cell holds only the pixels inside it).
    left: i64,
    top: i64,
    width: usize,
    height: usize,
    /// Row-major linear RGB, 0..1.
    cells: Vec<[f32; 3]>,
}

/// A cell boundary at or before 0 on a grid of `factor` that is symmetric about the
/// middle of `size` pixels: mirrored, the grid maps onto itself. A photo side with an
/// odd number of pixels needs an odd factor (`cell_factor`).
fn grid_origin(size: u32, factor: u32) -> i64 {
    let f = i64::from(factor);
    // Boundaries at size / 2 + k·f, or at size / 2 + (k + ½)·f when size is odd.
    let boundary = (i64::from(size) + if size % 2 == 1 { f } else { 0 }) / 2;
    let origin = boundary.rem_euclid(f);
    if origin > 0 { origin - f } else { origin }
}

/// The box filter's side for a sample spacing: whole pixels, and odd when a side of the
/// photo has an odd number of pixels, so that `grid_origin` can centre the grid.
fn cell_factor(spacing: f64, photo_width: u32, photo_height: u32) -> u32 {
    let f = (spacing.floor() as u32).max(1);
    if f.is_multiple_of(2) && !(photo_width.is_multiple_of(2) && photo_height.is_multiple_of(2)) {
        f - 1
    } else {
        f
    }
}

impl Reduced {
    fn new(image: &RgbImage, factor: u32, [x0, y0, x1, y1]: [u32; 4]) -> Reduced {
        let table = linear_table();
        let f = i64::from(factor);
        let (gx, gy) = (
            grid_origin(image.width(), factor),
            grid_origin(image.height(), factor),
        );
        let first = |v: u32, g: i64| g + (i64::from(v) - g).div_euclid(f) * f;
        let (left, top) = (first(x0, gx), first(y0, gy));
        let width = (i64::from(x1) - 1 - left).div_euclid(f) as usize + 1;
        let height = (i64::from(y1) - 1 - top).div_euclid(f) as usize + 1;
        // A cell's pixels along one axis, clipped to the photo.
        let span = |start: i64, i: usize, size: u32| {
            let a = start + i as i64 * f;
            (
                a.max(0) as usize,
                (a + f).min(i64::from(size)).max(0) as usize,
            )
        };
        let columns: Vec<(usize, usize)> =
            (0..width).map(|i| span(left, i, image.width())).collect();
        let mut sums = vec![[0u64; 3]; width];
        let mut cells = Vec::with_capacity(width * height);
        let raw = image.as_raw();
        let stride = image.width() as usize * 3;
        for j in 0..height {
            sums.iter_mut().for_each(|s| *s = [0; 3]);
            let (row0, row1) = span(top, j, image.height());
            for y in row0..row1 {
                let row = &raw[y * stride..(y + 1) * stride];
                for (s, &(c0, c1)) in sums.iter_mut().zip(&columns) {
                    // One cell row fits u32 (under 65 537 pixels); a whole cell of a
                    // panorama's huge cells may not.
                    let (mut r, mut g, mut b) = (0u32, 0u32, 0u32);
                    for px in row[c0 * 3..c1 * 3].chunks_exact(3) {
                        r += u32::from(table[px[0] as usize]);
                        g += u32::from(table[px[1] as usize]);
                        b += u32::from(table[px[2] as usize]);
                    }
                    s[0] += u64::from(r);
                    s[1] += u64::from(g);
                    s[2] += u64::from(b);
                }
            }
            let rows = row1.saturating_sub(row0) as u64;
            cells.extend(sums.iter().zip(&columns).map(|(s, &(c0, c1))| {
                let d = 65535.0 * (rows * c1.saturating_sub(c0) as u64).max(1) as f64;
                s.map(|v| (v as f64 / d) as f32)
            }));
        }
        Reduced {
            factor,
            left,
            top,
            width,
            height,
            cells,
        }
    }

    /// Bilinear value at photo coordinates (pixel centres at `i + 0.5`), the edge
    /// repeated beyond the reduced area.
    fn at(&self, p: Point) -> [f32; 3] {
        let f = f64::from(self.factor);
        let u = ((p.x - self.left as f64) / f - 0.5).clamp(0.0, (self.width - 1) as f64);
        let v = ((p.y - self.top as f64) / f - 0.5).clamp(0.0, (self.height - 1) as f64);
        let (i, j) = (u as usize, v as usize);
        let (fu, fv) = ((u - i as f64) as f32, (v - j as f64) as f32);
        let (i1, j1) = ((i + 1).min(self.width - 1), (j + 1).min(self.height - 1));
        let c = |i: usize, j: usize| self.cells[j * self.width + i];
        let (a, b, cc, d) = (c(i, j), c(i1, j), c(i, j1), c(i1, j1));
        std::array::from_fn(|k| {
            let top = a[k] + (b[k] - a[k]) * fu;
            let bottom = cc[k] + (d[k] - cc[k]) * fu;
            top + (bottom - top) * fv
        })
    }
}

/// The whole view of the document outlined by `area`: `width × height` sRGB pixels,
/// row-major, long side across. Pure: the same photo and outline give the same view.
pub fn render(
    image: &RgbImage,
    area: &Quad,
    width: usize,
    height: usize,
    spec: &ViewSpec,
) -> Vec<[u8; 3]> {
    let (corners, _, _) = area.canonical().long_side_first();
    let map = Homography::unit_square_to(&corners);
    let [c0, c1, c2, c3] = corners.0;
    let side = (c0.distance(c1) + c3.distance(c2)) / 2.0;
    let n = spec.samples.max(1) as usize;
    let spacing = side * spec.expand / (width * n) as f64;
    // Sample points of the view, in photo coordinates, row by row.
    let point = |x: usize, y: usize, a: usize, b: usize| {
        let s = (x as f64 + (a as f64 + 0.5) / n as f64) / width as f64;
        let t = (y as f64 + (b as f64 + 0.5) / n as f64) / height as f64;
        map.apply(Point::new(
            (s - 0.5) * spec.expand + 0.5,
            (t - 0.5) * spec.expand + 0.5,
        ))
    };
    let (iw, ih) = (f64::from(image.width()), f64::from(image.height()));
    // The photo area the samples reach (the view's corners bound it: a homography maps
    // the view's rectangle to a convex quadrilateral).
    let (min_x, min_y, max_x, max_y) = Quad([
        point(0, 0, 0, 0),
        point(width - 1, 0, n - 1, 0),
        point(width - 1, height - 1, n - 1, n - 1),
        point(0, height - 1, 0, n - 1),
    ])
    .bounds();
    let x0 = (min_x.floor() - 1.0).clamp(0.0, iw) as u32;
    let y0 = (min_y.floor() - 1.0).clamp(0.0, ih) as u32;
    let x1 = (max_x.ceil() + 1.0).clamp(0.0, iw) as u32;
    let y1 = (max_y.ceil() + 1.0).clamp(0.0, ih) as u32;
    if x1 <= x0 || y1 <= y0 {
        return vec![spec.fill; width * height];
    }
    let factor = cell_factor(spacing, image.width(), image.height());
    let reduced = Reduced::new(image, factor, [x0, y0, x1, y1]);
    let mut out = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let mut sum = [0f64; 3];
            let mut count = 0u32;
            for b in 0..n {
                for a in 0..n {
                    let p = point(x, y, a, b);
                    if p.x >= 0.0 && p.x < iw && p.y >= 0.0 && p.y < ih {
                        let v = reduced.at(p);
                        for k in 0..3 {
                            sum[k] += f64::from(v[k]);
                        }
                        count += 1;
                    }
                }
            }
            out.push(if count == 0 {
                spec.fill
            } else {
                sum.map(|s| to_srgb_byte(s / f64::from(count)))
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: ViewSpec = ViewSpec {
        expand: 2.0,
        samples: 3,
        fill: [124, 116, 104],
    };

    fn quad(c: [(f64, f64); 4]) -> Quad {
        Quad(c.map(|(x, y)| Point::new(x, y)))
    }

    /// The four symmetric forms of a view, as the model is fed them.
    fn forms(view: &[[u8; 3]], w: usize, h: usize) -> Vec<Vec<[u8; 3]>> {
        (0..4)
            .map(|form| {
                let mut out = Vec::with_capacity(w * h);
                for y in 0..h {
                    for x in 0..w {
                        let sx = if form & 1 == 1 { w - 1 - x } else { x };
                        let sy = if form & 2 == 2 { h - 1 - y } else { y };
                        out.push(view[sy * w + sx]);
                    }
                }
                out
            })
            .collect()
    }

    #[test]
    fn the_document_fills_the_middle_and_the_rest_is_its_surroundings() {
        // A white card on a black table, upright, well inside the photo.
        let card = quad([
            (100.0, 100.0),
            (260.0, 100.0),
            (260.0, 200.0),
            (100.0, 200.0),
        ]);
        let image = RgbImage::from_fn(400, 300, |x, y| {
            image::Rgb(
                if card.contains(Point::new(f64::from(x) + 0.5, f64::from(y) + 0.5)) {
                    [255; 3]
                } else {
                    [0; 3]
                },
            )
        });
        let (w, h) = (32, 20);
        let view = render(&image, &card, w, h, &SPEC);
        assert_eq!(view[10 * w + 16], [255; 3], "the centre is the card");
        assert_eq!(view[h / 2 * w + 1], [0; 3], "left of the card is the table");
        assert_eq!(view[w + w / 2], [0; 3], "above the card is the table");
    }

    #[test]
    fn view_pixels_beyond_the_photo_hold_the_fill_colour() {
        // A card at the photo's top-left corner: the view reaches outside.
        let card = quad([(0.0, 0.0), (160.0, 0.0), (160.0, 100.0), (0.0, 100.0)]);
        let image = RgbImage::from_pixel(400, 300, image::Rgb([200, 10, 10]));
        let view = render(&image, &card, 32, 20, &SPEC);
        assert_eq!(view[0], SPEC.fill);
        assert_eq!(view[19 * 32 + 31], [200, 10, 10]);
    }

    #[test]
    fn fine_patterns_average_as_light_does() {
        // One-pixel black and white stripes average to half the light: sRGB 188, not
        // the 128 that averaging the stored values would give.
        let image = RgbImage::from_fn(600, 400, |x, _| {
            image::Rgb([if x % 2 == 0 { 255 } else { 0 }; 3])
        });
        let card = quad([
            (200.0, 150.0),
            (400.0, 150.0),
            (400.0, 275.0),
            (200.0, 275.0),
        ]);
        let view = render(&image, &card, 32, 20, &SPEC);
        for px in &view {
            assert!((i32::from(px[0]) - 188).abs() <= 2, "{px:?}");
        }
    }

    #[test]
    fn every_orientation_of_the_photo_gives_the_same_four_forms() {
        // Pixel noise, the content most sensitive to which pixels share a box-filter
        // cell, on a photo with odd sides (the grid needs an odd factor to centre).
        let image = RgbImage::from_fn(301, 207, |x, y| {
            let h = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663))
                .wrapping_mul(2_654_435_761);
            image::Rgb([(h >> 24) as u8, (h >> 16) as u8, (h >> 8) as u8])
        });
        let card = quad([(91.3, 60.7), (213.9, 68.1), (206.2, 141.4), (82.6, 130.9)]);
        let (w, h) = (24, 16);
        let reference = forms(&render(&image, &card, w, h, &SPEC), w, h);
        for k in 0..8 {
            let (photo, outline) = crate::test_support::held(&image, card, k);
            let got = forms(&render(&photo, &outline.canonical(), w, h, &SPEC), w, h);
            for form in &got {
                let nearest = reference
                    .iter()
                    .map(|r| {
                        r.iter()
                            .zip(form)
                            .flat_map(|(a, b)| {
                                (0..3).map(move |c| (i32::from(a[c]) - i32::from(b[c])).abs())
                            })
                            .max()
                            .unwrap_or(0)
                    })
                    .min()
                    .unwrap_or(i32::MAX);
                // Rounding alone: the same pixels, the same cells, the same samples.
                assert!(
                    nearest <= 1,
                    "orientation {k}: a form differs by {nearest} levels"
                );
            }
        }
    }

    #[test]
    fn the_cell_grid_mirrors_onto_itself() {
        for size in [40u32, 41, 50, 301, 3264] {
            for factor in [1u32, 3, 4, 7, 12] {
                if size % 2 == 1 && factor % 2 == 0 {
                    continue;
                }
                let g = grid_origin(size, factor);
                assert!(g <= 0 && g > -i64::from(factor), "{size} {factor}: {g}");
                // Mirrored, the boundary at g + k·f lands on another boundary.
                let mirrored = i64::from(size) - g;
                assert_eq!(
                    (mirrored - g).rem_euclid(i64::from(factor)),
                    0,
                    "{size} {factor}"
                );
            }
        }
        assert_eq!(cell_factor(8.7, 301, 207), 7);
        assert_eq!(cell_factor(8.7, 300, 200), 8);
        assert_eq!(cell_factor(0.4, 301, 200), 1);
    }

    #[test]
    fn each_reduced_cell_is_the_mean_light_of_the_pixels_it_covers() {
        // An area whose sides are no multiple of the factor, on a grid centred on the
        // photo: the outer cells reach past the photo's edge and must average only the
        // pixels they hold.
        let image = RgbImage::from_fn(50, 40, |x, y| {
            image::Rgb([(x * 37 + y * 11) as u8, (x * y) as u8, (255 - x * 5) as u8])
        });
        let table = linear_table();
        let (factor, area) = (4u32, [0, 5, 50, 39]);
        let reduced = Reduced::new(&image, factor, area);
        // Columns: boundaries at 25 ± 4k, so the first cell starts at -3; rows at 20 ± 4k.
        assert_eq!((reduced.left, reduced.top), (-3, 4));
        assert_eq!((reduced.width, reduced.height), (14, 9));
        let f = i64::from(factor);
        for j in 0..reduced.height {
            for i in 0..reduced.width {
                let xs = reduced.left + i as i64 * f;
                let ys = reduced.top + j as i64 * f;
                let mut sum = [0f64; 3];
                let mut n = 0.0;
                for y in ys.max(0)..(ys + f).min(40) {
                    for x in xs.max(0)..(xs + f).min(50) {
                        let px = image.get_pixel(x as u32, y as u32).0;
                        for c in 0..3 {
                            sum[c] += f64::from(table[px[c] as usize]) / 65535.0;
                        }
                        n += 1.0;
                    }
                }
                assert!(n > 0.0, "cell ({i}, {j}) holds no pixel");
                let cell = reduced.cells[j * reduced.width + i];
                for c in 0..3 {
                    assert!(
                        (f64::from(cell[c]) - sum[c] / n).abs() < 1e-5,
                        "cell ({i}, {j}) channel {c}"
                    );
                }
            }
        }
    }
}
