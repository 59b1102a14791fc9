//! Liveness scoring: patches of the judged region at native resolution through the
//! installed liveness model.
//!
//! Screen moiré and print halftone live at the scale of single pixels, so patches are
//! cut from the full-resolution photo and never downscaled. The manifest says how large a
//! patch is, how many to take and what each output means; the per-patch results form the
//! coarse evidence map.
//!
//! Beside this file: the whole view (`view.rs`), how patch and view evidence become one
//! score (`aggregate.rs`), the patches' JPEG re-save (`resave.rs`), a deployment's own
//! calibration (`overlay.rs`) and head on the networks' features (`head.rs`), and the
//! models' output names (`outputs.rs`).

pub(crate) mod aggregate;
pub(crate) mod head;
pub(crate) mod outputs;
pub(crate) mod overlay;
pub(crate) mod resave;
pub(crate) mod view;

pub use aggregate::{Aggregation, mean_log_odds};
pub use head::{FeatureHead, MAX_STANDARD, Scale, rule_log_odds, standardise};
pub use overlay::{FitRecord, HeldBackRoutes, OVERLAY_FILE, Overlay};
pub use resave::jpeg_round_trip;
pub use view::{ViewJudgement, ViewModel, render};

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use image::RgbImage;
use ndarray::{Array4, ArrayViewMut3, Axis};

use crate::analysis::{AttackScores, EvidenceMap};
use crate::config::ModelsConfig;
use crate::geometry::{Homography, Point, Quad};
use crate::onnx::{Backend, InputSpec, Manifest, OnnxError, OnnxModel, Outputs};
use crate::probability::logistic;
use aggregate::share_attacks;

pub use outputs::{OUTPUT_ATTACKS, OUTPUT_FEATURES, OUTPUT_LIVENESS};

/// The installed liveness model, with its whole-view companion when one is installed
/// in its `view/` folder.
#[derive(Debug)]
pub struct LivenessModel {
    model: OnnxModel,
    view: Option<ViewModel>,
    /// The deployment's refitted score scale, when one is installed.
    overlay: Option<Overlay>,
}

/// What the model said about one region.
#[derive(Debug, Clone, PartialEq)]
pub struct LivenessResult {
    /// The patches' live probabilities combined by the manifest's aggregation rule, 0..1.
    pub score: f64,
    /// `1 − score` shared among the attack types in proportion to their mean patch
    /// probabilities, when the model has that output: which attack the patches saw, on
    /// the same scale as the score.
    pub attacks: Option<AttackScores>,
    /// Per-patch attack evidence (1 − live probability), and the whole view's live
    /// probability when a whole-view model is installed.
    pub evidence: EvidenceMap,
}

impl LivenessModel {
    /// Loads the model in `dir` (and the whole-view model in `dir/view/`, when there is
    /// one) and checks that it has a liveness output and everything its rule needs.
    pub fn load(dir: &Path, cfg: &ModelsConfig) -> Result<LivenessModel, OnnxError> {
        let model = OnnxModel::load(dir, cfg)?;
        let manifest_error = |message: String| OnnxError::Manifest {
            path: dir.join("manifest.json"),
            message,
        };
        if !model
            .manifest()
            .outputs
            .iter()
            .any(|o| o.meaning == OUTPUT_LIVENESS)
        {
            return Err(manifest_error(format!(
                "a liveness model needs an output with meaning \"{OUTPUT_LIVENESS}\""
            )));
        }
        let view_dir = dir.join("view");
        let view = if view_dir.join("manifest.json").exists() {
            Some(ViewModel::load(&view_dir, cfg)?)
        } else {
            None
        };
        if view.is_none() && model.manifest().aggregation.unwrap_or_default().uses_view() {
            return Err(manifest_error(format!(
                "the aggregation weighs the whole view, but {} holds no whole-view model",
                view_dir.display()
            )));
        }
        let overlay = Overlay::load(dir)?;
        if let Some(overlay) = &overlay {
            let overlay_error = |message: String| OnnxError::Manifest {
                path: dir.join(crate::liveness::overlay::OVERLAY_FILE),
                message,
            };
            if let Some(problem) = overlay.mismatch(&model.manifest().version) {
                return Err(overlay_error(problem));
            }
            if view.is_none() && overlay.aggregation.uses_view() {
                return Err(overlay_error(
                    "it weighs the whole view, but no whole-view model is installed".into(),
                ));
            }
            let gives_features =
                |m: &Manifest| m.outputs.iter().any(|o| o.meaning == OUTPUT_FEATURES);
            if overlay.head.is_some()
                && !(gives_features(model.manifest())
                    && view.as_ref().is_none_or(|v| gives_features(v.manifest())))
            {
                return Err(overlay_error(format!(
                    "its head reads the networks' features, but the installed model has no \"{OUTPUT_FEATURES}\" output"
                )));
            }
        }
        Ok(LivenessModel {
            model,
            view,
            overlay,
        })
    }

    /// The rule in force: the installed overlay's, else the manifest's.
    pub fn aggregation(&self) -> Aggregation {
        self.overlay.as_ref().map_or_else(
            || self.model.manifest().aggregation.unwrap_or_default(),
            |o| o.aggregation,
        )
    }

    /// The head on the networks' features in force: the installed overlay's, if it has one.
    pub fn head(&self) -> Option<&FeatureHead> {
        self.overlay.as_ref().and_then(|o| o.head.as_ref())
    }

    /// The scale in force: the rule and the head.
    pub fn scale(&self) -> Scale {
        Scale {
            rule: self.aggregation(),
            head: self.head().cloned(),
        }
    }

    /// The version every analysis records: the model's, with the overlay's after a `+`
    /// when one is installed.
    pub fn version(&self) -> String {
        let base = &self.model.manifest().version;
        match &self.overlay {
            Some(o) => format!("{base}+{}", o.version),
            None => base.clone(),
        }
    }

    /// Whether a whole-view model is installed beside the patch model.
    pub fn has_view(&self) -> bool {
        self.view.is_some()
    }

    /// Version of the installed whole-view model, if any.
    pub fn view_version(&self) -> Option<&str> {
        self.view.as_ref().map(|v| v.manifest().version.as_str())
    }

    /// The model's manifest.
    pub fn manifest(&self) -> &Manifest {
        self.model.manifest()
    }

    /// The backend running the model.
    pub fn backend(&self) -> &Backend {
        self.model.backend()
    }

    /// Scores the document outlined by `area` (the whole frame's rectangle for
    /// `--region whole`).
    ///
    /// Patches sit on a grid laid over the outline itself, not over its bounding box, so
    /// a tilted or rotated document is never judged by the table beside it. They run in
    /// batches of the manifest's size, spread over the model's sessions in parallel.
    pub fn score(&self, image: &RgbImage, area: &Quad) -> Result<LivenessResult, OnnxError> {
        let manifest = self.model.manifest();
        let input = &manifest.input;
        let count = manifest.patches.unwrap_or(9).max(1);
        let columns = (f64::from(count).sqrt().ceil() as u32).max(1);
        let rows = count.div_ceil(columns);
        let placements = placements(
            area,
            image.width(),
            image.height(),
            input,
            columns,
            rows,
            count,
        );
        let batch = manifest.batch.unwrap_or(1).max(1) as usize;
        let chunks: Vec<&[Placement]> = placements.chunks(batch).collect();
        let Finished {
            batches: outputs,
            view,
        } = self.run_jobs(image, area, &chunks, batch);
        let view = view.transpose()?;
        let mut live = Vec::with_capacity(placements.len());
        let mut attack_sums = [0f64; 3];
        let mut has_attacks = false;
        let mut feature_sums: Option<Vec<f64>> = None;
        for (chunk, result) in chunks.iter().zip(outputs) {
            let result = result?;
            for ((_, _, values), spec) in result.iter().zip(&manifest.outputs) {
                match spec.meaning.as_str() {
                    OUTPUT_LIVENESS => live.extend(
                        values
                            .iter()
                            .take(chunk.len())
                            .map(|v| f64::from(*v).clamp(0.0, 1.0)),
                    ),
                    OUTPUT_ATTACKS if values.len() >= 3 * chunk.len() => {
                        has_attacks = true;
                        for patch in values.chunks(3).take(chunk.len()) {
                            for (sum, v) in attack_sums.iter_mut().zip(patch) {
                                *sum += f64::from(*v);
                            }
                        }
                    }
                    OUTPUT_FEATURES if values.len() >= batch => {
                        add_rows(&mut feature_sums, values, batch, chunk.len())
                    }
                    _ => {}
                }
            }
        }
        let n = live.len().max(1) as f64;
        // The patches' mean features, then the view's: one vector, as the head reads it.
        let features: Option<Vec<f32>> = feature_sums.map(|sums| {
            let patches = sums.iter().map(|s| (s / n) as f32);
            match view.as_ref().and_then(|v| v.features.as_ref()) {
                Some(v) => patches.chain(v.iter().copied()).collect(),
                None => patches.collect(),
            }
        });
        if let Some(head) = self.head() {
            let given = features.as_ref().map_or(0, Vec::len);
            if given != head.weights.len() {
                // A head fitted without a whole-view model reads 128 features; one
                // installed since gives 256. Say so rather than fail as a bad number.
                return Err(OnnxError::Run(format!(
                    "the installed overlay's head was fitted on {} features, but the installed \
                     models give {given}; run `docliveness queue adapt --apply` again or delete {}",
                    head.weights.len(),
                    overlay::OVERLAY_FILE
                )));
            }
        }
        let view_log_odds = view.as_ref().map(|v| v.log_odds);
        let score = head::score(
            &self.aggregation(),
            self.head(),
            &live,
            view_log_odds,
            features.as_deref(),
        );
        // A NaN would slip through every threshold comparison; it is a model failure.
        if live.is_empty() || !score.is_finite() || attack_sums.iter().any(|v| !v.is_finite()) {
            return Err(OnnxError::Run(
                "the model produced no value or a value that is not a number".into(),
            ));
        }
        let region = area.clamped_bounds(image.width(), image.height());
        Ok(LivenessResult {
            score,
            attacks: has_attacks.then(|| {
                let [screen, print, digital] = share_attacks(attack_sums.map(|s| s / n), score);
                AttackScores {
                    screen,
                    print,
                    digital,
                }
            }),
            evidence: EvidenceMap {
                columns,
                rows,
                values: (0..(columns * rows) as usize)
                    .map(|i| live.get(i).map_or(0.0, |l| (1.0 - l) as f32))
                    .collect(),
                region,
                corners: Some(area.0.map(|p| [p.x, p.y])),
                view: view_log_odds.map(logistic),
                features,
            },
        })
    }

    /// Runs the whole view (when installed) and every batch of patches, spread over as
    /// many threads as the model has sessions.
    ///
    /// The jobs form one queue that each thread takes from until it is empty, the view
    /// first because it is the longest (its cut from a 12 MP photo alone outlasts several
    /// patches), so the patches fill the time around it and the threads finish together.
    /// The jobs of a thread that panicked come back as failed runs.
    fn run_jobs(
        &self,
        image: &RgbImage,
        area: &Quad,
        chunks: &[&[Placement]],
        batch: usize,
    ) -> Finished {
        let views = usize::from(self.view.is_some());
        let total = views + chunks.len();
        let next = AtomicUsize::new(0);
        let work = || {
            let mut done = Vec::new();
            loop {
                let job = next.fetch_add(1, Ordering::Relaxed);
                if job >= total {
                    return done;
                }
                done.push(match (&self.view, job.checked_sub(views)) {
                    (Some(view), None) => Done::View(view.judge(image, area)),
                    (_, Some(i)) => Done::Batch(i, self.run_batch(image, chunks[i], batch)),
                    (None, None) => unreachable!("job 0 is the view only when there is one"),
                });
            }
        };
        let threads = self.model.sessions().clamp(1, total.max(1));
        let finished: Vec<Done> = std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
            let mut all = work();
            for helper in helpers {
                // A panicked helper's jobs stay missing and are reported as failed runs.
                all.extend(helper.join().unwrap_or_default());
            }
            all
        });
        let mut batches: Vec<Option<Result<Outputs, OnnxError>>> =
            chunks.iter().map(|_| None).collect();
        let mut view = None;
        for done in finished {
            match done {
                Done::View(result) => view = Some(result),
                Done::Batch(i, result) => batches[i] = Some(result),
            }
        }
        let panicked = || OnnxError::Run("a model run panicked".into());
        Finished {
            batches: batches
                .into_iter()
                .map(|b| b.unwrap_or_else(|| Err(panicked())))
                .collect(),
            view: self
                .view
                .as_ref()
                .map(|_| view.unwrap_or_else(|| Err(panicked()))),
        }
    }

    /// Runs one batch; a short last batch is padded by repeating its last patch, since
    /// the exported graph has a fixed batch size.
    fn run_batch(
        &self,
        image: &RgbImage,
        placements: &[Placement],
        batch: usize,
    ) -> Result<Outputs, OnnxError> {
        let manifest = self.model.manifest();
        let input = &manifest.input;
        let (pw, ph) = (input.width as usize, input.height as usize);
        let patches = placements
            .iter()
            .map(|&placement| {
                let patch = cut_patch(image, placement, input.width, input.height);
                match manifest.resave_quality {
                    Some(quality) => jpeg_round_trip(&patch, quality),
                    None => Ok(patch),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut tensor = Array4::<f32>::zeros((batch, 3, ph, pw));
        for b in 0..batch {
            // Padding slots take the last patch as it is, not cut and saved again.
            let patch = &patches[b.min(patches.len() - 1)];
            write_patch(tensor.index_axis_mut(Axis(0), b), patch, input);
        }
        self.model.run(tensor.view())
    }
}

/// Adds the first `rows` of a batch's `batch` rows of `values` (one output, row-major)
/// to `sums`, which takes the rows' width on first use: how the patches' and the view's
/// features are summed before their means are taken.
fn add_rows(sums: &mut Option<Vec<f64>>, values: &[f32], batch: usize, rows: usize) {
    let width = (values.len() / batch.max(1)).max(1);
    let sums = sums.get_or_insert_with(|| vec![0.0; width]);
    for row in values.chunks(width).take(rows) {
        for (sum, v) in sums.iter_mut().zip(row) {
            *sum += f64::from(*v);
        }
    }
}

/// What the jobs of one scoring gave.
struct Finished {
    /// Each batch's outputs, in the order of the batches.
    batches: Vec<Result<Outputs, OnnxError>>,
    /// The whole view's judgement, when a whole-view model is installed.
    view: Option<Result<ViewJudgement, OnnxError>>,
}

/// One finished job of [`LivenessModel::score`].
enum Done {
    /// The whole view's judgement.
    View(Result<ViewJudgement, OnnxError>),
    /// The outputs of the batch of patches with this index.
    Batch(usize, Result<Outputs, OnnxError>),
}

/// Where one patch is cut from the photo and how its pixels enter the model's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placement {
    /// Left edge of the patch in the photo.
    x: u32,
    /// Top edge of the patch in the photo.
    y: u32,
    /// Turned a quarter clockwise, so that the document's long axis runs across it.
    turn: bool,
    /// Mirrored left to right after turning.
    mirror_x: bool,
    /// Mirrored top to bottom after turning.
    mirror_y: bool,
}

/// The `count` patches of a `columns × rows` grid inside `area`, each with the view that
/// makes the set of model inputs the same whichever way the photo was taken.
///
/// A photo turned a quarter is undone by turning its patches (the outline tells which
/// axis is long); what is left is the photo upside down or mirrored, which the outline
/// cannot tell apart. So every patch is mirrored towards the document's centre: a patch
/// right of the centre is mirrored left to right, one below it top to bottom. Turning or
/// mirroring the photo then moves each patch to the opposite cell *and* mirrors its
/// content, and the two cancel: the model sees the same patches in the same
/// orientation, so the score no longer depends on orientation (up to the outline's own
/// jitter, which cutting on the block grid mostly absorbs), at no extra cost. The patch
/// model is trained on all eight orientations, so every view is one it knows.
///
/// This is exact for a square grid with an even side, as the shipped model's 16 patches
/// make. With an odd side the middle row and column map onto themselves and keep
/// whichever view they get; a square region (long axis undecided) is never turned.
fn placements(
    area: &Quad,
    width: u32,
    height: u32,
    input: &InputSpec,
    columns: u32,
    rows: u32,
    count: u32,
) -> Vec<Placement> {
    let (pw, ph) = (input.width, input.height);
    let turn = long_axis_is_vertical(area) && pw == ph;
    let centre = Homography::unit_square_to(area).apply(Point::new(0.5, 0.5));
    let mut origins = patch_origins(area, width, height, pw, ph, columns, rows);
    // The grid is the smallest square-ish one that holds `count`; score exactly
    // `count` patches, as the manifest says.
    origins.truncate(count as usize);
    origins
        .into_iter()
        .map(|(x, y)| {
            let dx = f64::from(x) + f64::from(pw) / 2.0 - centre.x;
            let dy = f64::from(y) + f64::from(ph) / 2.0 - centre.y;
            // In the turned patch, across is the photo's upward direction and down is
            // the photo's rightward one.
            let (across, down) = if turn { (-dy, dx) } else { (dx, dy) };
            Placement {
                x,
                y,
                turn,
                mirror_x: across > 0.0,
                mirror_y: down > 0.0,
            }
        })
        .collect()
}

/// Side of a JPEG block: patch corners sit on the photo's block grid.
///
/// A patch's view of the compression blocks then never depends on where the outline
/// fell to the pixel: an outline a pixel or two off (as between two photos of the same
/// document, or the same photo turned and re-saved, whose new blocks line up with the
/// old ones) cuts the same pixels, or the same kind of patch eight pixels on, instead
/// of a patch whose blocks the model sees at another phase.
const JPEG_BLOCK: u32 = 8;

/// Top-left corners of a `columns × rows` grid of `pw × ph` patches inside `area`.
///
/// Each patch is centred on its cell of the outline, pulled inwards by half a patch so
/// that it does not straddle the document's edge, moved to the nearest corner of the
/// photo's 8 px block grid, then kept inside the image.
fn patch_origins(
    area: &Quad,
    width: u32,
    height: u32,
    pw: u32,
    ph: u32,
    columns: u32,
    rows: u32,
) -> Vec<(u32, u32)> {
    let map = Homography::unit_square_to(area);
    let sides = area.sides().map(|(a, b)| a.distance(b));
    let shortest = sides.iter().copied().fold(f64::INFINITY, f64::min).max(1.0);
    let inset = (f64::from(pw.max(ph)) / 2.0 / shortest).min(0.45);
    let place = |centre: f64, size: u32, limit: u32| {
        let block = f64::from(JPEG_BLOCK);
        (((centre - f64::from(size) / 2.0) / block).round() * block)
            .clamp(0.0, f64::from(limit.saturating_sub(size))) as u32
    };
    (0..rows)
        .flat_map(|r| (0..columns).map(move |c| (c, r)))
        .map(|(c, r)| {
            let u = 0.5 + ((f64::from(c) + 0.5) / f64::from(columns) - 0.5) * (1.0 - 2.0 * inset);
            let v = 0.5 + ((f64::from(r) + 0.5) / f64::from(rows) - 0.5) * (1.0 - 2.0 * inset);
            let p = map.apply(Point::new(u, v));
            (place(p.x, pw, width), place(p.y, ph, height))
        })
        .collect()
}

/// Whether the document's long axis is nearer vertical than horizontal in the photo.
fn long_axis_is_vertical(area: &Quad) -> bool {
    let [a, b, _, _] = area.long_side_first().0.0;
    (b.y - a.y).abs() > (b.x - a.x).abs()
}

/// The patch as the model sees it: cut at `placement`, then turned and mirrored as it
/// says; pixels beyond the image edge repeat the edge.
fn cut_patch(image: &RgbImage, placement: Placement, pw: u32, ph: u32) -> RgbImage {
    let (w, h) = (image.width(), image.height());
    RgbImage::from_fn(pw, ph, |x, y| {
        let a = if placement.mirror_x { pw - 1 - x } else { x };
        let b = if placement.mirror_y { ph - 1 - y } else { y };
        let (sx, sy) = if placement.turn {
            (b, pw - 1 - a)
        } else {
            (a, b)
        };
        *image.get_pixel((placement.x + sx).min(w - 1), (placement.y + sy).min(h - 1))
    })
}

/// Writes `patch` into one CHW slot of the input tensor, normalised as the model expects.
fn write_patch(mut out: ArrayViewMut3<'_, f32>, patch: &RgbImage, input: &InputSpec) {
    for (x, y, px) in patch.enumerate_pixels() {
        for c in 0..3 {
            out[[c, y as usize, x as usize]] = input.normalise(c, f32::from(px[c]) / 255.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_stay_inside_a_rotated_document() {
        // A document turned by 30°: every patch centre must fall inside the outline,
        // where a bounding-box grid would put corner patches on the table.
        let c = [
            (600.0, 200.0),
            (1466.0, 700.0),
            (1166.0, 1220.0),
            (300.0, 720.0),
        ];
        let quad = Quad(c.map(|(x, y)| Point::new(x, y)));
        let origins = patch_origins(&quad, 2000, 1500, 96, 96, 4, 4);
        assert_eq!(origins.len(), 16);
        for (x, y) in origins {
            let centre = Point::new(f64::from(x) + 48.0, f64::from(y) + 48.0);
            let sides = quad.sides();
            let inside = sides.iter().all(|(a, b)| {
                (b.x - a.x) * (centre.y - a.y) - (b.y - a.y) * (centre.x - a.x) > 0.0
            });
            assert!(inside, "{centre:?} is outside the document");
        }
    }

    #[test]
    fn a_sideways_document_gets_turned_patches() {
        let flat = Quad(
            [(0.0, 0.0), (160.0, 0.0), (160.0, 100.0), (0.0, 100.0)].map(|(x, y)| Point::new(x, y)),
        );
        let tall = Quad(
            [(0.0, 0.0), (100.0, 0.0), (100.0, 160.0), (0.0, 160.0)].map(|(x, y)| Point::new(x, y)),
        );
        assert!(!long_axis_is_vertical(&flat));
        assert!(long_axis_is_vertical(&tall));
        // A vertical line in the photo becomes a horizontal one in the turned patch.
        let image = RgbImage::from_fn(8, 8, |x, _| {
            image::Rgb(if x == 2 { [255; 3] } else { [0; 3] })
        });
        let input = raw_input(8);
        let mut patch = ndarray::Array3::<f32>::zeros((3, 8, 8));
        let placement = Placement {
            x: 0,
            y: 0,
            turn: true,
            mirror_x: false,
            mirror_y: false,
        };
        fill_patch(patch.view_mut(), &image, placement, &input);
        for x in 0..8 {
            assert_eq!(patch[[0, 2, x]], 1.0);
            assert_eq!(patch[[0, 3, x]], 0.0);
        }
    }

    /// The patch the model is fed at `placement`, without a re-save.
    fn fill_patch(
        out: ArrayViewMut3<'_, f32>,
        image: &RgbImage,
        placement: Placement,
        input: &InputSpec,
    ) {
        write_patch(
            out,
            &cut_patch(image, placement, input.width, input.height),
            input,
        );
    }

    /// A square input of `side` pixels that passes values through unchanged.
    fn raw_input(side: u32) -> InputSpec {
        InputSpec {
            name: "input".into(),
            width: side,
            height: side,
            mean: [0.0; 3],
            std: [1.0; 3],
        }
    }

    /// The patches the model would see, as raw values, in a canonical order.
    fn fed_patches(image: &RgbImage, area: &Quad, input: &InputSpec) -> Vec<Vec<u32>> {
        let mut patches: Vec<Vec<u32>> =
            placements(area, image.width(), image.height(), input, 4, 4, 16)
                .into_iter()
                .map(|placement| {
                    let mut patch = ndarray::Array3::<f32>::zeros((3, 16, 16));
                    fill_patch(patch.view_mut(), image, placement, input);
                    patch.iter().map(|v| v.to_bits()).collect()
                })
                .collect();
        patches.sort();
        patches
    }

    #[test]
    fn every_orientation_of_a_photo_feeds_the_model_the_same_patches() {
        // Noise, so that any difference in where or how a patch is cut shows. Sides are
        // whole blocks, as cameras' are, so the block grid maps onto itself.
        let mut state = 0x2545_f491_u32;
        let image = RgbImage::from_fn(304, 208, |_, _| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            image::Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8])
        });
        // A tilted, slightly perspective card, long axis across.
        let quad = Quad(
            [(61.3, 40.7), (243.9, 58.1), (236.2, 171.4), (52.6, 160.9)]
                .map(|(x, y)| Point::new(x, y)),
        );
        let input = raw_input(16);
        let reference = fed_patches(&image, &quad, &input);
        for k in 0..8 {
            let (photo, outline) = crate::test_support::held(&image, quad, k);
            // The detectors hand over corners in canonical order, as here.
            let outline = outline.canonical();
            assert!(
                fed_patches(&photo, &outline, &input) == reference,
                "orientation {k} feeds the model other patches"
            );
        }
    }

    #[test]
    fn patch_corners_sit_on_the_block_grid() {
        let quad = Quad(
            [
                (103.7, 61.2),
                (1290.4, 95.9),
                (1271.3, 840.6),
                (88.1, 799.3),
            ]
            .map(|(x, y)| Point::new(x, y)),
        );
        let origins = patch_origins(&quad, 1920, 1080, 96, 96, 4, 4);
        assert!(origins.iter().all(|(x, y)| x % 8 == 0 && y % 8 == 0));
        // An outline two pixels off cuts the same patches.
        let moved = Quad(quad.0.map(|p| Point::new(p.x + 2.0, p.y - 2.0)));
        let shifted = patch_origins(&moved, 1920, 1080, 96, 96, 4, 4);
        let same = origins.iter().zip(&shifted).filter(|(a, b)| a == b).count();
        assert!(same >= 8, "only {same} of 16 patches stayed put");
    }

    #[test]
    fn patches_are_clamped_to_the_image() {
        let quad = Quad(
            [(0.0, 0.0), (100.0, 0.0), (100.0, 80.0), (0.0, 80.0)].map(|(x, y)| Point::new(x, y)),
        );
        for (x, y) in patch_origins(&quad, 100, 80, 96, 96, 3, 3) {
            assert!(x <= 4 && y == 0);
        }
    }
}
