//! The portrait detector: a face detector (MediaPipe BlazeFace, short range, converted
//! to ONNX by `models/tools/convert_blazeface.py`) run inside the detected document.
//!
//! The document is first rectified, so the face is upright and at a known scale
//! whatever the photo's perspective; it is then searched in square tiles the height of
//! the document (a portrait fills about half of that), both ways up, because a
//! document's outline does not say which way is up.

use std::path::Path;

use image::RgbImage;
use ndarray::Array4;

use crate::config::ModelsConfig;
use crate::geometry::{Homography, Point, Quad};
use crate::onnx::{Backend, Manifest, OnnxError, OnnxModel};
use crate::portrait::{FoundPortrait, PortraitDetector};
use crate::probability::logistic;

/// Output meaning of BlazeFace's box regressors, `[1, anchors, 16]`.
pub const OUTPUT_REGRESSORS: &str = "blazeface:regressors";
/// Output meaning of BlazeFace's face logits, `[1, anchors, 1]`.
pub const OUTPUT_SCORES: &str = "blazeface:scores";

/// Rectified document height in pixels: one tile, downscaled 2× to the model's input.
const TILE: u32 = 256;
/// Tile sizes tried, as fractions of the document's height, largest first, each with the
/// lowest face probability that counts there. The closer look runs more tiles over the
/// same artwork, so it asks for more: at 0.6 it took guilloche and emblems on backs and
/// on fronts whose photo was covered for faces (`tests/portrait.rs`).
const PASSES: [(f64, f64); 2] = [(1.0, MIN_FACE_SCORE), (0.75, 0.8)];
/// Lowest face probability that counts as a portrait in tiles as tall as the document.
pub const MIN_FACE_SCORE: f64 = 0.6;
/// A portrait's face is at least this fraction of the document's height. On real ID-1
/// cards and passport pages the holder's face is a quarter to a third of it; smaller
/// faces are background artwork or most ghost images.
pub const MIN_FACE_HEIGHT: f64 = 0.08;

/// The installed face detector.
#[derive(Debug)]
pub struct FaceDetector {
    model: OnnxModel,
    anchors: Vec<(f32, f32)>,
    name: String,
}

/// Anchor centres of the short-range BlazeFace model (128 px input): a 16×16 grid with
/// two anchors per cell, then an 8×8 grid with six, in the order the outputs use.
fn anchors(input: u32) -> Vec<(f32, f32)> {
    let mut out = Vec::with_capacity(896);
    for (stride, per_cell) in [(8u32, 2usize), (16, 6)] {
        let grid = input / stride;
        for y in 0..grid {
            for x in 0..grid {
                let centre = (
                    (x as f32 + 0.5) / grid as f32,
                    (y as f32 + 0.5) / grid as f32,
                );
                out.extend(std::iter::repeat_n(centre, per_cell));
            }
        }
    }
    out
}

impl FaceDetector {
    /// Loads the detector in `dir` (`manifest.json` + ONNX file).
    pub fn load(dir: &Path, cfg: &ModelsConfig) -> Result<FaceDetector, OnnxError> {
        let model = OnnxModel::load(dir, cfg)?;
        let manifest = model.manifest();
        let has = |m: &str| manifest.outputs.iter().any(|o| o.meaning == m);
        if !has(OUTPUT_REGRESSORS) || !has(OUTPUT_SCORES) {
            return Err(OnnxError::Manifest {
                path: dir.join("manifest.json"),
                message: format!(
                    "a face detector needs outputs with meanings \"{OUTPUT_REGRESSORS}\" and \"{OUTPUT_SCORES}\""
                ),
            });
        }
        let anchors = anchors(manifest.input.width);
        let name = format!("{} {}", manifest.name, manifest.version);
        Ok(FaceDetector {
            model,
            anchors,
            name,
        })
    }

    /// The model's manifest.
    pub fn manifest(&self) -> &Manifest {
        self.model.manifest()
    }

    /// The backend running the model.
    pub fn backend(&self) -> &Backend {
        self.model.backend()
    }

    /// Best face at least `min_height` input pixels tall in one `side × side` input:
    /// probability and box `(cx, cy, w, h)` in input pixels. Small faces are skipped
    /// before the best is chosen, so a ghost image cannot hide the portrait beside it.
    fn best_face(
        &self,
        input: Array4<f32>,
        min_height: f64,
        min_score: f64,
    ) -> Result<Option<(f64, [f64; 4])>, OnnxError> {
        let side = f64::from(self.manifest().input.width);
        let outputs = self.model.run(input.view())?;
        let find = |meaning: &str| {
            self.manifest()
                .outputs
                .iter()
                .position(|o| o.meaning == meaning)
                .map(|i| &outputs[i].2)
        };
        let (Some(boxes), Some(logits)) = (find(OUTPUT_REGRESSORS), find(OUTPUT_SCORES)) else {
            return Err(OnnxError::Run("face detector outputs missing".into()));
        };
        let per = boxes.len() / self.anchors.len().max(1);
        if per < 4 || logits.len() < self.anchors.len() {
            return Err(OnnxError::Run(
                "face detector outputs have the wrong shape".into(),
            ));
        }
        let mut best: Option<(f64, [f64; 4])> = None;
        for (i, &(ax, ay)) in self.anchors.iter().enumerate() {
            let p = logistic(f64::from(logits[i]));
            if p < min_score || best.is_some_and(|(b, _)| b >= p) {
                continue;
            }
            let r = &boxes[i * per..i * per + 4];
            if f64::from(r[3]) < min_height {
                continue;
            }
            let b = [
                f64::from(ax) * side + f64::from(r[0]),
                f64::from(ay) * side + f64::from(r[1]),
                f64::from(r[2]),
                f64::from(r[3]),
            ];
            best = Some((p, b));
        }
        Ok(best)
    }
}

/// Samples `image` through `map` (tile pixel -> photo pixel) into a normalised NCHW
/// tensor of `side × side`, averaging `taps × taps` points per pixel so that a large
/// document is not aliased on its way down.
fn sample_tile(
    image: &RgbImage,
    map: &Homography,
    side: u32,
    taps: u32,
    manifest: &Manifest,
) -> Array4<f32> {
    let (w, h) = (image.width() as f64, image.height() as f64);
    let input = &manifest.input;
    let mut out = Array4::<f32>::zeros((1, 3, side as usize, side as usize));
    let n = f64::from(taps);
    for y in 0..side {
        for x in 0..side {
            let mut acc = [0f64; 3];
            for ty in 0..taps {
                for tx in 0..taps {
                    let p = map.apply(Point::new(
                        f64::from(x) + (f64::from(tx) + 0.5) / n,
                        f64::from(y) + (f64::from(ty) + 0.5) / n,
                    ));
                    let px = image.get_pixel(
                        p.x.clamp(0.0, w - 1.0) as u32,
                        p.y.clamp(0.0, h - 1.0) as u32,
                    );
                    for c in 0..3 {
                        acc[c] += f64::from(px[c]);
                    }
                }
            }
            for c in 0..3 {
                let v = (acc[c] / (n * n) / 255.0) as f32;
                out[[0, c, y as usize, x as usize]] = input.normalise(c, v);
            }
        }
    }
    out
}

impl PortraitDetector for FaceDetector {
    fn name(&self) -> &str {
        &self.name
    }

    fn find(&self, image: &RgbImage, document: &Quad) -> Result<Option<FoundPortrait>, String> {
        let side = self.manifest().input.width;
        // Put the document's long side across, so that "up" is one of two ways.
        let (upright, long, short) = document.long_side_first();
        let (corners, short) = (upright.0, short.max(1.0));
        let rect_w = (f64::from(TILE) * long / short)
            .round()
            .max(f64::from(TILE));
        let rect_h = f64::from(TILE);
        let mut best: Option<(f64, Quad)> = None;
        // First tiles as tall as the document; only when they find no face, a closer look
        // with smaller tiles, where a small portrait (or one softened by a screen or a
        // print) is large enough for a detector made for faces that fill much of its view.
        for (fraction, min_score) in PASSES {
            let search = Search {
                image,
                side,
                rect_w,
                rect_h,
                tile_side: rect_h * fraction,
                min_height: MIN_FACE_HEIGHT * f64::from(side) / fraction,
                min_score,
                // Photo pixels per tile pixel decide how many taps keep the sampling honest.
                taps: (short * fraction / f64::from(side)).ceil().clamp(1.0, 4.0) as u32,
            };
            // The document's two ways up are searched side by side.
            let found = std::thread::scope(|scope| {
                let turned = [corners[2], corners[3], corners[0], corners[1]];
                let search = &search;
                let other = scope.spawn(move || self.search(search, turned));
                let first = self.search(search, corners);
                let other = other
                    .join()
                    .unwrap_or_else(|_| Err("the face search panicked".into()));
                [first, other]
            });
            for candidate in found {
                if let Some((p, q)) = candidate?
                    && best.as_ref().is_none_or(|(b, _)| p > *b)
                {
                    best = Some((p, q));
                }
            }
            if best.is_some() {
                break;
            }
        }
        Ok(best.map(|(confidence, quad)| FoundPortrait { quad, confidence }))
    }
}

/// One pass of the portrait search: square tiles of one size laid over the rectified
/// document (`rect_w × rect_h`), overlapping by half a tile.
struct Search<'a> {
    image: &'a RgbImage,
    side: u32,
    rect_w: f64,
    rect_h: f64,
    tile_side: f64,
    min_height: f64,
    min_score: f64,
    taps: u32,
}

impl FaceDetector {
    /// The most likely face over the pass's tiles with the document's corners in `order`
    /// (first corner top left of the rectified document), as a probability and an outline.
    fn search(&self, pass: &Search<'_>, order: [Point; 4]) -> Result<Option<(f64, Quad)>, String> {
        let to_photo = Homography::unit_square_to(&Quad(order));
        let scale = pass.tile_side / f64::from(pass.side);
        // Half a tile apart, so a face up to half a tile across is whole in some tile;
        // along the document at least three, so that one tile is centred on it.
        let spread = |room: f64, at_least: usize| -> Vec<f64> {
            let n = ((room / (pass.tile_side / 2.0)).ceil() as usize).max(at_least);
            let mut v: Vec<f64> = (0..=n).map(|i| room * i as f64 / n as f64).collect();
            // A square document needs one tile, not several identical ones.
            v.dedup_by(|a, b| (*a - *b).abs() < 1.0);
            v
        };
        let mut best: Option<(f64, Quad)> = None;
        for oy in spread(pass.rect_h - pass.tile_side, 1) {
            for ox in spread(pass.rect_w - pass.tile_side, 2) {
                // Tile pixel -> unit square -> photo.
                let tile = |p: Point| {
                    to_photo.apply(Point::new(
                        (ox + p.x * scale) / pass.rect_w,
                        (oy + p.y * scale) / pass.rect_h,
                    ))
                };
                let tile_map = homography_from(&tile, f64::from(pass.side));
                let input =
                    sample_tile(pass.image, &tile_map, pass.side, pass.taps, self.manifest());
                let Some((p, [cx, cy, bw, bh])) = self
                    .best_face(input, pass.min_height, pass.min_score)
                    .map_err(|e| e.to_string())?
                else {
                    continue;
                };
                if best.as_ref().is_some_and(|(b, _)| *b >= p) {
                    continue;
                }
                let q = Quad([
                    tile(Point::new(cx - bw / 2.0, cy - bh / 2.0)),
                    tile(Point::new(cx + bw / 2.0, cy - bh / 2.0)),
                    tile(Point::new(cx + bw / 2.0, cy + bh / 2.0)),
                    tile(Point::new(cx - bw / 2.0, cy + bh / 2.0)),
                ]);
                best = Some((p, q));
            }
        }
        Ok(best)
    }
}

/// The homography that agrees with `f` on the corners of a `side × side` square (`f` is
/// itself projective, so they agree everywhere).
fn homography_from(f: &impl Fn(Point) -> Point, side: f64) -> Homography {
    let q = Quad([
        f(Point::new(0.0, 0.0)),
        f(Point::new(side, 0.0)),
        f(Point::new(side, side)),
        f(Point::new(0.0, side)),
    ]);
    let unit = Homography::unit_square_to(&q);
    let s = 1.0 / side;
    // unit ∘ scale(1/side)
    let m = unit.0;
    Homography([
        m[0] * s,
        m[1] * s,
        m[2],
        m[3] * s,
        m[4] * s,
        m[5],
        m[6] * s,
        m[7] * s,
        m[8],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_layout_matches_the_short_range_model() {
        let a = anchors(128);
        assert_eq!(a.len(), 896);
        assert_eq!(a[0], (0.5 / 16.0, 0.5 / 16.0));
        assert_eq!(a[1], a[0]);
        assert_eq!(a[512], (0.5 / 8.0, 0.5 / 8.0));
        assert_eq!(a[895], (7.5 / 8.0, 7.5 / 8.0));
    }

    #[test]
    fn tile_homography_agrees_with_the_composed_map() {
        let to_photo = Homography::unit_square_to(&Quad(
            [(100.0, 50.0), (900.0, 80.0), (880.0, 600.0), (90.0, 560.0)]
                .map(|(x, y)| Point::new(x, y)),
        ));
        let f = |p: Point| to_photo.apply(Point::new(p.x / 300.0, p.y / 200.0));
        let h = homography_from(&f, 128.0);
        for p in [
            Point::new(10.0, 20.0),
            Point::new(64.0, 64.0),
            Point::new(127.0, 3.0),
        ] {
            assert!(h.apply(p).distance(f(p)) < 1e-6);
        }
    }
}
