//! A JPEG round trip for model patches: the patch saved at a fixed quality with 4:2:0
//! chroma, as phones and editors save, and decoded again.
//!
//! Why: the same photo saved at JPEG 90 and at 100 differs by a few grey levels of
//! quantisation noise that says nothing about what was photographed, yet the patch
//! network's log-odds follow it on photos near its decision (up to 0.031 of score on
//! the calibration photos). Saving every patch once more at 90, with its corners on the
//! photo's 8 px (luma) block grid, brings the two closer, since a save at or below a
//! photo's last quality changes little that is already that coarse; the change fell
//! by about a third, to 0.022 there and from 0.020 to 0.014 on the held-out photos
//! (`models/README.md`). (The 16 px chroma blocks of 4:2:0 may sit 8 px off the
//! photo's; training saw the same.) Below the qualities being compared, the
//! save adds double-quantisation traces of its own (85: 0.057). The network was trained
//! on windows re-saved at random qualities 70–100 (by Pillow's libjpeg; the tables are
//! the same IJG ones), so a re-saved patch is close to ones it knows.
//! The patch is saved in the orientation the model sees it, so that the same photo
//! turned any way still feeds the model the same pixels.

use image::RgbImage;
use thiserror::Error;

/// The JPEG qualities a patch can be saved at (the IJG tables' scale).
pub const QUALITIES: std::ops::RangeInclusive<u8> = 1..=100;

/// The largest patch side a JPEG can hold.
pub const MAX_SIDE: u32 = u16::MAX as u32;

/// A patch could not be re-saved.
#[derive(Debug, Error)]
pub enum ResaveError {
    /// The patch is larger than a JPEG can hold, or the quality is out of range.
    #[error("cannot re-save a {width}×{height} patch at JPEG quality {quality}")]
    Unsupported {
        /// Patch width.
        width: u32,
        /// Patch height.
        height: u32,
        /// The asked quality.
        quality: u8,
    },
    /// The encoder or decoder failed.
    #[error("JPEG round trip of a patch failed: {0}")]
    Codec(String),
}

/// `patch` saved as a baseline JPEG at `quality` (1–100, the IJG tables' scale) with
/// 4:2:0 chroma, and decoded again to the same size.
pub fn jpeg_round_trip(patch: &RgbImage, quality: u8) -> Result<RgbImage, ResaveError> {
    let unsupported = || ResaveError::Unsupported {
        width: patch.width(),
        height: patch.height(),
        quality,
    };
    let (Ok(width), Ok(height)) = (u16::try_from(patch.width()), u16::try_from(patch.height()))
    else {
        return Err(unsupported());
    };
    if !QUALITIES.contains(&quality) || width == 0 || height == 0 {
        return Err(unsupported());
    }
    let mut bytes = Vec::with_capacity(patch.as_raw().len() / 4);
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, quality);
    // The encoder keeps full chroma at 90 and above; cameras and the training
    // re-saves (Pillow's default) halve it at every quality.
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    encoder
        .encode(patch.as_raw(), width, height, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| ResaveError::Codec(e.to_string()))?;
    let decoded = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .map_err(|e| ResaveError::Codec(e.to_string()))?
        .to_rgb8();
    if decoded.dimensions() != patch.dimensions() {
        return Err(ResaveError::Codec(format!(
            "decoded {}×{}, saved {}×{}",
            decoded.width(),
            decoded.height(),
            patch.width(),
            patch.height()
        )));
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Smooth shading with fine detail: what a document patch holds.
    fn patch() -> RgbImage {
        let mut state = 0x9e37_79b9_u32;
        RgbImage::from_fn(96, 96, |x, y| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let base = 90.0 + 60.0 * ((x as f32) / 15.0).sin() + (y as f32) * 0.5;
            let n = (state % 24) as f32;
            image::Rgb([
                (base + n) as u8,
                (base * 0.8 + n) as u8,
                (base * 0.6 + 40.0) as u8,
            ])
        })
    }

    fn largest_difference(a: &RgbImage, b: &RgbImage) -> u8 {
        a.as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn a_second_save_at_the_same_quality_changes_little() {
        let original = patch();
        let once = jpeg_round_trip(&original, 90).unwrap();
        let twice = jpeg_round_trip(&once, 90).unwrap();
        assert_eq!(once.dimensions(), (96, 96));
        let first = largest_difference(&original, &once);
        let second = largest_difference(&once, &twice);
        assert!(
            first > 8,
            "the first save should quantise the noise ({first})"
        );
        assert!(
            second * 2 < first,
            "a second save moved pixels by {second}, the first by {first}"
        );
    }

    #[test]
    fn impossible_requests_are_refused() {
        let original = patch();
        assert!(matches!(
            jpeg_round_trip(&original, 0),
            Err(ResaveError::Unsupported { .. })
        ));
        let huge = RgbImage::new(70_000, 1);
        assert!(matches!(
            jpeg_round_trip(&huge, 90),
            Err(ResaveError::Unsupported { .. })
        ));
    }
}
