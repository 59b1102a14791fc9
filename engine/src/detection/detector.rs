//! The learned document detector: a segmentation network (`models/detector/`, trained by
//! `models/training`, `python -m detector_training`) that marks, on a coarse grid over
//! the photo stretched to its square input, where documents lie, including their parts
//! under fingers or glare. Outlines are then fitted to the grid's boundary in photo
//! pixels (`outline`), and each side is snapped to the photo's own edge (`snap`).

use std::path::Path;

use image::RgbImage;
use ndarray::Array4;

use crate::config::DetectionConfig;
use crate::detection::classical::DetectedDocument;
use crate::detection::outline::{LogitGrid, Outline, outlines};
use crate::detection::snap::{snap_quad, snap_sides};
use crate::onnx::{Backend, Manifest, OnnxError, OnnxModel};
use crate::photo::raster::WorkImage;

/// Output meaning of the document logits, `[1, 1, grid, grid]`.
pub const OUTPUT_DOCUMENT: &str = "document-logits";

/// The installed document detector.
#[derive(Debug)]
pub struct DocumentModel {
    model: OnnxModel,
}

impl DocumentModel {
    /// Loads the detector in `dir` (`manifest.json` + ONNX file).
    pub fn load(dir: &Path, cfg: &crate::config::ModelsConfig) -> Result<DocumentModel, OnnxError> {
        let model = OnnxModel::load(dir, cfg)?;
        let m = model.manifest();
        if !m.outputs.iter().any(|o| o.meaning == OUTPUT_DOCUMENT)
            || m.input.width != m.input.height
        {
            return Err(OnnxError::Manifest {
                path: dir.join("manifest.json"),
                message: format!(
                    "a document detector needs a square input and an output with meaning \"{OUTPUT_DOCUMENT}\""
                ),
            });
        }
        Ok(DocumentModel { model })
    }

    /// The model's manifest.
    pub fn manifest(&self) -> &Manifest {
        self.model.manifest()
    }

    /// The backend running the model.
    pub fn backend(&self) -> &Backend {
        self.model.backend()
    }

    /// The document logits over the photo: a square grid, row-major, and its side.
    ///
    /// With `symmetric`, the network sees the photo in four forms (as it is, mirrored
    /// either way, turned half round; a portrait photo transposed first), and the
    /// logits are the mean of the four mapped back. A photo taken any of the eight ways
    /// then gives the same grid, so its outline (and every patch cut inside it) does not
    /// depend on how the camera was held.
    pub fn logits(&self, rgb: &RgbImage, symmetric: bool) -> Result<(Vec<f32>, usize), OnnxError> {
        let spec = &self.manifest().input;
        let side = spec.width as usize;
        let work = WorkImage::stretched(rgb, side, side);
        let transpose = symmetric && rgb.height() > rgb.width();
        let all = Form::ALL.map(|(mirror_x, mirror_y)| Form {
            transpose,
            mirror_x,
            mirror_y,
        });
        let forms = if symmetric { &all[..] } else { &all[..1] };
        let runs: Vec<Result<(Vec<f32>, usize), OnnxError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = forms[1..]
                .iter()
                .map(|form| scope.spawn(|| self.logits_of(&work, *form)))
                .collect();
            let first = self.logits_of(&work, forms[0]);
            std::iter::once(first)
                .chain(handles.into_iter().map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(OnnxError::Run("a model run panicked".into())))
                }))
                .collect()
        });
        let mut mean: Option<(Vec<f32>, usize)> = None;
        for (form, run) in forms.iter().zip(runs) {
            let (values, grid) = run?;
            let (sum, size) = mean.get_or_insert_with(|| (vec![0.0; grid * grid], grid));
            if *size != grid {
                return Err(OnnxError::Run(
                    "document detector output changed its shape between runs".into(),
                ));
            }
            for y in 0..grid {
                for x in 0..grid {
                    let (u, v) = form.map(x, y, grid);
                    sum[y * grid + x] += values[v * grid + u] / forms.len() as f32;
                }
            }
        }
        Ok(mean.expect("at least one form ran"))
    }

    /// The logits of one form of the working image, in that form's own grid.
    fn logits_of(&self, work: &WorkImage, form: Form) -> Result<(Vec<f32>, usize), OnnxError> {
        let spec = &self.manifest().input;
        let side = work.width;
        let mut input = Array4::<f32>::zeros((1, 3, side, side));
        for (c, plane) in work.planes.iter().enumerate() {
            for (i, v) in plane.iter().enumerate() {
                let (u, w) = form.map(i % side, i / side, side);
                input[[0, c, w, u]] = spec.normalise(c, v / 255.0);
            }
        }
        let outputs = self.model.run(input.view())?;
        let index = self
            .manifest()
            .outputs
            .iter()
            .position(|o| o.meaning == OUTPUT_DOCUMENT)
            .unwrap_or(0);
        let (_, shape, values) = outputs
            .into_iter()
            .nth(index)
            .ok_or_else(|| OnnxError::Run("document detector output missing".into()))?;
        let grid = *shape.last().unwrap_or(&0);
        if values.iter().any(|v| !v.is_finite()) {
            // A broken model or backend; the engine then answers with the classical detector.
            return Err(OnnxError::Run(
                "document detector output is not finite".into(),
            ));
        }
        if grid == 0 || values.len() != grid * grid {
            return Err(OnnxError::Run(format!(
                "document detector output has shape {shape:?}"
            )));
        }
        Ok((values, grid))
    }

    /// The outlines fitted to the model's grid, before snapping, largest first, with the
    /// grid's cell size in photo pixels.
    pub fn outlines(
        &self,
        rgb: &RgbImage,
        cfg: &DetectionConfig,
    ) -> Result<(Vec<Outline>, f64), OnnxError> {
        let (logits, size) = self.logits(rgb, cfg.symmetric_forms)?;
        let grid = LogitGrid {
            logits: &logits,
            size,
            width: f64::from(rgb.width()),
            height: f64::from(rgb.height()),
        };
        // Half the classical detector's smallest outline: a too-small document must
        // still be found, to be reported as too small.
        let min_cells = ((cfg.min_area_fraction * (size * size) as f64) / 2.0)
            .ceil()
            .max(4.0) as usize;
        Ok((
            outlines(&grid, min_cells),
            grid.width.max(grid.height) / size as f64,
        ))
    }

    /// Every document in an upright photo, largest first.
    pub fn detect(
        &self,
        rgb: &RgbImage,
        cfg: &DetectionConfig,
    ) -> Result<Vec<DetectedDocument>, OnnxError> {
        let (found, cell) = self.outlines(rgb, cfg)?;
        Ok(snapped(rgb, &found, cell))
    }
}

/// One of the forms the detector sees the square working image in: transposed or not,
/// then mirrored left to right and top to bottom or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Form {
    transpose: bool,
    mirror_x: bool,
    mirror_y: bool,
}

impl Form {
    /// The mirrorings that, with one choice of transposition, make up the forms: as is,
    /// mirrored either way, turned half round.
    const ALL: [(bool, bool); 4] = [(false, false), (true, false), (false, true), (true, true)];

    /// Where cell `(x, y)` of an `n × n` grid lies in this form.
    fn map(self, x: usize, y: usize, n: usize) -> (usize, usize) {
        let (x, y) = if self.transpose { (y, x) } else { (x, y) };
        (
            if self.mirror_x { n - 1 - x } else { x },
            if self.mirror_y { n - 1 - y } else { y },
        )
    }
}

/// The documents of `outlines` (from [`DocumentModel::outlines`], with its cell size),
/// each side snapped onto the photo's own edge.
pub fn snapped(rgb: &RgbImage, outlines: &[Outline], cell: f64) -> Vec<DetectedDocument> {
    outlines
        .iter()
        .map(|o| {
            // A document ending right at the frame's edge: trust the outline near the
            // frame only when the photo shows an edge on every one of its sides.
            let near = o
                .near_frame
                .iter()
                .flatten()
                .map(|q| snap_sides(rgb, q, cell))
                .find(|(_, sides)| *sides == 4);
            let quad = match near {
                Some((q, _)) => q,
                None => snap_quad(rgb, &o.quad, cell),
            };
            DetectedDocument {
                quad,
                confidence: o.confidence,
            }
        })
        .collect()
}
