//! Decoding: EXIF orientation, JPEG quality estimation, and hostile or broken input.

mod common;

use std::time::Instant;

use docliveness::engine::internals::estimate_quality;
use docliveness::engine::{DecodeError, ImageKind, decode};
use docliveness_synth::{passing_scene, scene::render_rgb};
use image::metadata::Orientation;
use image::{DynamicImage, ImageEncoder, RgbImage};

const LIMIT: u64 = 50_000_000;

/// A small asymmetric image: every orientation mistake changes some pixel.
fn base_image() -> RgbImage {
    RgbImage::from_fn(40, 24, |x, y| {
        image::Rgb([
            (x * 6) as u8,
            (y * 10) as u8,
            if x < 8 && y < 5 { 255 } else { 30 },
        ])
    })
}

/// Minimal little-endian TIFF/EXIF block holding only the orientation tag.
fn exif_with_orientation(tag: u16) -> Vec<u8> {
    let mut e = b"II*\0".to_vec();
    e.extend_from_slice(&8u32.to_le_bytes());
    e.extend_from_slice(&1u16.to_le_bytes());
    e.extend_from_slice(&0x0112u16.to_le_bytes());
    e.extend_from_slice(&3u16.to_le_bytes());
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&tag.to_le_bytes());
    e.extend_from_slice(&[0, 0]);
    e.extend_from_slice(&0u32.to_le_bytes());
    e
}

/// The pixels a camera would store so that orientation `tag` displays `upright`.
fn stored_for(upright: &RgbImage, tag: u8) -> RgbImage {
    // Tags 6 and 8 are each other's inverse; every other transform is its own.
    let inverse = match tag {
        6 => 8,
        8 => 6,
        t => t,
    };
    let mut img = DynamicImage::ImageRgb8(upright.clone());
    img.apply_orientation(Orientation::from_exif(inverse).unwrap());
    img.into_rgb8()
}

fn encode_png(img: &RgbImage, exif: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut out);
    enc.set_exif_metadata(exif).unwrap();
    enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    out
}

fn encode_jpeg(img: &RgbImage, quality: u8, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    if let Some(exif) = exif {
        enc.set_exif_metadata(exif).unwrap();
    }
    enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    out
}

#[test]
fn every_exif_orientation_gives_the_same_upright_pixels() {
    let upright = base_image();
    for tag in 1..=8u8 {
        let stored = stored_for(&upright, tag);
        let png = encode_png(&stored, exif_with_orientation(u16::from(tag)));
        let decoded = decode(&png, LIMIT).unwrap();
        assert_eq!(decoded.facts.orientation, tag);
        assert_eq!(decoded.rgb, upright, "PNG with orientation {tag}");

        let jpeg = encode_jpeg(&stored, 95, Some(exif_with_orientation(u16::from(tag))));
        let decoded = decode(&jpeg, LIMIT).unwrap();
        assert_eq!(decoded.facts.orientation, tag);
        assert_eq!(
            (decoded.rgb.width(), decoded.rgb.height()),
            (40, 24),
            "JPEG orientation {tag}"
        );
        let diff: f64 = decoded
            .rgb
            .as_raw()
            .iter()
            .zip(upright.as_raw())
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / upright.as_raw().len() as f64;
        assert!(diff < 6.0, "JPEG orientation {tag}: mean difference {diff}");
    }
}

#[test]
fn jpeg_quality_is_estimated_within_three() {
    let photo = render_rgb(&passing_scene(11, 640, 360));
    for quality in [50u8, 70, 90, 100] {
        let jpeg = encode_jpeg(&photo, quality, None);
        let estimated = estimate_quality(&jpeg).unwrap();
        println!("encoded at {quality}, estimated {estimated}");
        assert!(
            estimated.abs_diff(quality) <= 3,
            "quality {quality} estimated as {estimated}"
        );
        assert_eq!(
            decode(&jpeg, LIMIT).unwrap().facts.jpeg_quality,
            Some(estimated)
        );
    }
    let png = encode_png(&photo, exif_with_orientation(1));
    let facts = decode(&png, LIMIT).unwrap().facts;
    assert_eq!((facts.format, facts.jpeg_quality), (ImageKind::Png, None));
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    let start = Instant::now();
    let err = decode(&common::png_bomb(20_000, 20_000), LIMIT).unwrap_err();
    assert_eq!(
        err,
        DecodeError::TooManyPixels {
            width: 20_000,
            height: 20_000,
            limit: LIMIT
        }
    );
    // A JPEG whose frame header claims 30000 × 30000.
    let mut jpeg = encode_jpeg(&base_image(), 90, None);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&30_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&30_000u16.to_be_bytes());
    assert!(matches!(
        decode(&jpeg, LIMIT),
        Err(DecodeError::TooManyPixels { width: 30_000, .. })
    ));
    // Refusing must not have decoded (or allocated) anything like 1.2 GB.
    assert!(start.elapsed().as_secs_f64() < 5.0);
    // The limit is configurable.
    let small = encode_png(&base_image(), exif_with_orientation(1));
    assert!(matches!(
        decode(&small, 100),
        Err(DecodeError::TooManyPixels { .. })
    ));
}

#[test]
fn broken_input_gives_a_clear_error() {
    assert_eq!(decode(&[], LIMIT).unwrap_err(), DecodeError::Empty);
    assert_eq!(
        decode(b"hello, not an image", LIMIT).unwrap_err(),
        DecodeError::UnsupportedFormat
    );
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    assert_eq!(
        decode(gif, LIMIT).unwrap_err(),
        DecodeError::UnsupportedFormat
    );

    let jpeg = encode_jpeg(&render_rgb(&passing_scene(2, 320, 200)), 90, None);
    assert_eq!(
        decode(&jpeg[..jpeg.len() / 2], LIMIT).unwrap_err(),
        DecodeError::Truncated
    );
    assert!(decode(&jpeg[..3], LIMIT).is_err());

    let png = encode_png(&base_image(), exif_with_orientation(1));
    let err = decode(&png[..png.len() / 2], LIMIT).unwrap_err();
    assert!(matches!(err, DecodeError::Corrupt(_)), "{err:?}");
    assert!(!err.to_string().is_empty());
}
