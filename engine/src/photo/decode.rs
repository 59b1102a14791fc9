//! From untrusted bytes to an upright RGB image and the facts about it.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::photo::jpeg_quality;

/// Container formats the product accepts (the spec names JPEG and PNG only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    /// JPEG / JFIF / EXIF.
    Jpeg,
    /// Portable Network Graphics.
    Png,
}

/// What the decoder learned about an image, before any analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageFacts {
    /// Width after EXIF orientation was applied.
    pub width: u32,
    /// Height after EXIF orientation was applied.
    pub height: u32,
    /// EXIF orientation tag (1..=8; 1 when absent).
    pub orientation: u8,
    /// Estimated JPEG quality (1..=100); `None` for PNG.
    pub jpeg_quality: Option<u8>,
    /// Container format.
    pub format: ImageKind,
    /// Size of the encoded file in bytes.
    pub byte_size: usize,
    /// Camera make and model from EXIF, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
    /// Software from EXIF, when recorded (editing tools name themselves here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<String>,
}

/// A decoded, upright image with its facts.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    /// Pixels, EXIF orientation already applied.
    pub rgb: RgbImage,
    /// Facts about the image.
    pub facts: ImageFacts,
}

/// Why bytes could not be turned into an image. All of these become `IMAGE_INVALID`.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Zero bytes were given.
    #[error("the file is empty")]
    Empty,
    /// The bytes are neither JPEG nor PNG.
    #[error("not a JPEG or PNG image")]
    UnsupportedFormat,
    /// The header announces more pixels than the configured limit.
    #[error("image is {width}×{height} pixels, more than the limit of {limit} pixels")]
    TooManyPixels {
        /// Width announced by the header.
        width: u32,
        /// Height announced by the header.
        height: u32,
        /// The configured pixel limit.
        limit: u64,
    },
    /// The JPEG stops before its end-of-image marker.
    #[error("the JPEG data is truncated (no end-of-image marker)")]
    Truncated,
    /// The codec refused the data.
    #[error("the image data is corrupt: {0}")]
    Corrupt(String),
}

/// Decodes JPEG or PNG bytes, refusing anything above `max_pixels` before allocating it,
/// and applies the EXIF orientation so that everything downstream sees the upright image.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<DecodedImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => ImageKind::Jpeg,
        Ok(ImageFormat::Png) => ImageKind::Png,
        _ => return Err(DecodeError::UnsupportedFormat),
    };
    // The JPEG decoder fills missing scan data with grey rather than failing, which
    // would hand a half-grey photo to the detector; a missing EOI marker reveals it.
    if format == ImageKind::Jpeg && !has_jpeg_end_marker(bytes) {
        return Err(DecodeError::Truncated);
    }
    let mut reader = ImageReader::with_format(
        Cursor::new(bytes),
        match format {
            ImageKind::Jpeg => ImageFormat::Jpeg,
            ImageKind::Png => ImageFormat::Png,
        },
    );
    let mut limits = Limits::default();
    // Four bytes per pixel covers RGBA8 plus the codecs' working buffers for RGB8.
    limits.max_alloc = Some(max_pixels.saturating_mul(4).saturating_add(64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(DecodeError::TooManyPixels {
            width,
            height,
            limit: max_pixels,
        });
    }
    let exif = decoder.exif_metadata().ok().flatten();
    let orientation = exif
        .as_deref()
        .and_then(image::metadata::Orientation::from_exif_chunk)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let text = exif
        .as_deref()
        .map(crate::photo::exif::read_text_tags)
        .unwrap_or_default();
    let mut img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    img.apply_orientation(orientation);
    let rgb = img.into_rgb8();
    let facts = ImageFacts {
        width: rgb.width(),
        height: rgb.height(),
        orientation: orientation.to_exif(),
        jpeg_quality: match format {
            ImageKind::Jpeg => jpeg_quality::estimate_quality(bytes),
            ImageKind::Png => None,
        },
        format,
        byte_size: bytes.len(),
        camera: text.camera,
        software: text.software,
    };
    Ok(DecodedImage { rgb, facts })
}

fn corrupt(e: image::ImageError) -> DecodeError {
    match e {
        image::ImageError::Limits(_) => {
            DecodeError::Corrupt("the image needs more memory than allowed".into())
        }
        other => DecodeError::Corrupt(other.to_string()),
    }
}

fn has_jpeg_end_marker(bytes: &[u8]) -> bool {
    // Some cameras append data after EOI (previews, maker notes), so look beyond the last bytes.
    bytes
        .windows(2)
        .rev()
        .take(1 << 20)
        .any(|w| w == [0xFF, 0xD9])
}
