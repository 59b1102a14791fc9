//! Liveness scoring: patches of the judged region at native resolution through the
//! installed liveness model.
//!
//! Screen moiré and print halftone live at the scale of single pixels, so patches are
//! cut from the full-resolution photo and never downscaled. The manifest says how large a
//! patch is, how many to take and what each output means; the per-patch results form the
//! coarse evidence map.

use std::path::Path;

use image::RgbImage;
use ndarray::Array4;

use super::analysis::{AttackScores, EvidenceMap};
use super::onnx::{Backend, Manifest, OnnxError, OnnxModel};
use crate::config::ModelsConfig;

/// Output meaning of the per-patch live probability.
pub const OUTPUT_LIVENESS: &str = "liveness";
/// Output meaning of the per-patch attack probabilities, in this order.
pub const OUTPUT_ATTACKS: &str = "attacks:screen,print,digital";

/// The installed liveness model.
#[derive(Debug)]
pub struct LivenessModel {
    model: OnnxModel,
}

/// What the model said about one region.
#[derive(Debug, Clone, PartialEq)]
pub struct LivenessResult {
    /// Mean live probability over the patches, 0..1.
    pub score: f64,
    /// Mean attack probabilities, when the model has that output.
    pub attacks: Option<AttackScores>,
    /// Per-patch attack evidence (1 − live probability).
    pub evidence: EvidenceMap,
}

impl LivenessModel {
    /// Loads the model in `dir` and checks that it has a liveness output.
    pub fn load(dir: &Path, cfg: &ModelsConfig) -> Result<LivenessModel, OnnxError> {
        let model = OnnxModel::load(dir, cfg)?;
        if !model
            .manifest()
            .outputs
            .iter()
            .any(|o| o.meaning == OUTPUT_LIVENESS)
        {
            return Err(OnnxError::Manifest {
                path: dir.join("manifest.json"),
                message: format!(
                    "a liveness model needs an output with meaning \"{OUTPUT_LIVENESS}\""
                ),
            });
        }
        Ok(LivenessModel { model })
    }

    /// The model's manifest.
    pub fn manifest(&self) -> &Manifest {
        self.model.manifest()
    }

    /// The backend running the model.
    pub fn backend(&self) -> &Backend {
        self.model.backend()
    }

    /// Scores the region `[x, y, width, height]` of `image`.
    pub fn score(&self, image: &RgbImage, region: [u32; 4]) -> Result<LivenessResult, OnnxError> {
        let manifest = self.model.manifest();
        let input = &manifest.input;
        let count = manifest.patches.unwrap_or(9).max(1);
        let columns = (f64::from(count).sqrt().ceil() as u32).max(1);
        let rows = count.div_ceil(columns);
        let origins = patch_origins(region, input.width, input.height, columns, rows);
        let mut live = Vec::with_capacity(origins.len());
        let mut attack_sums = [0f64; 3];
        let mut has_attacks = false;
        for (px, py) in &origins {
            let tensor = patch_tensor(image, *px, *py, manifest);
            let outputs = self.model.run(tensor.view())?;
            for ((_, _, values), spec) in outputs.iter().zip(&manifest.outputs) {
                match spec.meaning.as_str() {
                    OUTPUT_LIVENESS => {
                        live.push(f64::from(*values.first().unwrap_or(&0.0)).clamp(0.0, 1.0))
                    }
                    OUTPUT_ATTACKS if values.len() >= 3 => {
                        has_attacks = true;
                        for (sum, v) in attack_sums.iter_mut().zip(values) {
                            *sum += f64::from(*v);
                        }
                    }
                    _ => {}
                }
            }
        }
        let n = live.len().max(1) as f64;
        let score = live.iter().sum::<f64>() / n;
        // A NaN would slip through every threshold comparison; it is a model failure.
        if !score.is_finite() || attack_sums.iter().any(|v| !v.is_finite()) {
            return Err(OnnxError::Run(
                "the model produced a value that is not a number".into(),
            ));
        }
        Ok(LivenessResult {
            score,
            attacks: has_attacks.then(|| AttackScores {
                screen: attack_sums[0] / n,
                print: attack_sums[1] / n,
                digital: attack_sums[2] / n,
            }),
            evidence: EvidenceMap {
                columns,
                rows,
                values: (0..(columns * rows) as usize)
                    .map(|i| live.get(i).map_or(0.0, |l| (1.0 - l) as f32))
                    .collect(),
                region,
            },
        })
    }
}

/// Top-left corners of a `columns × rows` grid of `pw × ph` patches spread over `region`.
fn patch_origins(region: [u32; 4], pw: u32, ph: u32, columns: u32, rows: u32) -> Vec<(u32, u32)> {
    let [rx, ry, rw, rh] = region;
    let spread = |start: u32, extent: u32, size: u32, n: u32, i: u32| {
        if extent <= size || n == 1 {
            start + extent.saturating_sub(size) / 2
        } else {
            start + (u64::from(extent - size) * u64::from(i) / u64::from(n - 1)) as u32
        }
    };
    (0..rows)
        .flat_map(|r| {
            (0..columns).map(move |c| (spread(rx, rw, pw, columns, c), spread(ry, rh, ph, rows, r)))
        })
        .collect()
}

/// One normalised NCHW patch; pixels beyond the image edge repeat the edge.
fn patch_tensor(image: &RgbImage, x0: u32, y0: u32, manifest: &Manifest) -> Array4<f32> {
    let input = &manifest.input;
    let (w, h) = (image.width(), image.height());
    Array4::from_shape_fn(
        (1, 3, input.height as usize, input.width as usize),
        |(_, c, y, x)| {
            let px = image.get_pixel((x0 + x as u32).min(w - 1), (y0 + y as u32).min(h - 1));
            (f32::from(px[c]) / 255.0 - input.mean[c]) / input.std[c]
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_cover_the_region_edges() {
        let o = patch_origins([100, 50, 1000, 600], 224, 224, 3, 2);
        assert_eq!(o.len(), 6);
        assert_eq!(o[0], (100, 50));
        assert_eq!(o[2], (100 + 1000 - 224, 50));
        assert_eq!(o[5], (100 + 1000 - 224, 50 + 600 - 224));
    }
}
