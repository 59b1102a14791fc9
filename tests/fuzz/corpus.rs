//! The seed inputs mutations start from: the repository's real photos, and small images
//! made here in every encoding variant the decoders have separate code for.

use std::io::Cursor;
use std::path::Path;

use docliveness_synth::{Rng, passing_scene, render};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};

use super::mutate::crc32;

/// Seed inputs, grouped by what they cost to decode.
pub struct Corpus {
    /// Small images (up to a few hundred pixels a side): cheap to decode, the bulk.
    pub small: Vec<Vec<u8>>,
    /// Synthetic photos of a document, small enough to analyse quickly but with a
    /// document to detect, so that mutants reach detection and scoring.
    pub scenes: Vec<Vec<u8>>,
    /// The repository's real photos (1080p and up): what users send, slow to decode.
    pub large: Vec<Vec<u8>>,
    /// EXIF (TIFF) blocks, generated and taken from the real photos.
    pub exif: Vec<Vec<u8>>,
}

impl Corpus {
    /// Builds the corpus; the same every time.
    pub fn build() -> Corpus {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut large = Vec::new();
        let mut small = Vec::new();
        for dir in [
            "tests/fixtures/captures",
            "assets/samples",
            "assets/faces",
            "assets",
        ] {
            let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| docliveness::image_files::is_image_name(p))
                .collect();
            files.sort();
            for file in files {
                let bytes = std::fs::read(&file).unwrap();
                if bytes.len() < 64 << 10 {
                    small.push(bytes);
                } else {
                    large.push(bytes);
                }
            }
        }
        let mut exif: Vec<Vec<u8>> = large.iter().filter_map(|b| exif_of(b)).collect();
        let mut rng = Rng::new(0xC0_4905);
        for little in [true, false] {
            for orientation in [0u16, 1, 3, 6, 8, 9] {
                exif.push(tiff(little, orientation, &mut rng));
            }
        }
        for (i, &(w, h)) in [
            (1, 1),
            (2, 3),
            (8, 8),
            (17, 9),
            (33, 64),
            (64, 48),
            (160, 100),
            (320, 200),
        ]
        .iter()
        .enumerate()
        {
            let rgb = pixels(&mut rng, w, h, 3);
            let grey = pixels(&mut rng, w, h, 1);
            for q in [10, 75, 100] {
                small.push(image_jpeg(&rgb, w, h, ExtendedColorType::Rgb8, q));
            }
            small.push(image_jpeg(&grey, w, h, ExtendedColorType::L8, 90));
            small.extend(encoder_jpegs(
                &mut rng,
                &rgb,
                &grey,
                w,
                h,
                &exif[exif.len() - 12..],
            ));
            for (kind, channels, depth) in [
                (ExtendedColorType::L8, 1, 1),
                (ExtendedColorType::La8, 2, 1),
                (ExtendedColorType::Rgb8, 3, 1),
                (ExtendedColorType::Rgba8, 4, 1),
                (ExtendedColorType::L16, 1, 2),
                (ExtendedColorType::Rgb16, 3, 2),
                (ExtendedColorType::Rgba16, 4, 2),
            ] {
                let data = pixels(&mut rng, w, h, channels * depth);
                let (compression, filter) = if (i + channels as usize).is_multiple_of(2) {
                    (CompressionType::Fast, FilterType::Sub)
                } else {
                    (CompressionType::Best, FilterType::Adaptive)
                };
                let png = png(&data, w, h, kind, compression, filter);
                // Every other one carries orientation in an eXIf chunk, as phones write.
                if i.is_multiple_of(2) && channels == 3 {
                    let block = &exif[exif.len() - 12 + (i % 12)];
                    small.push(with_png_exif(&png, block));
                }
                small.push(png);
            }
        }
        let scenes = [(480, 270, 1), (640, 360, 2), (360, 640, 3), (400, 300, 4)]
            .iter()
            .map(|&(w, h, seed)| render(&passing_scene(seed, w, h)).jpeg)
            .collect();
        Corpus {
            small,
            scenes,
            large,
            exif,
        }
    }
}

/// Smooth gradients with noise: compressible like a photo, not like a flat colour.
fn pixels(rng: &mut Rng, w: u32, h: u32, channels: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity((w * h * channels) as usize);
    for y in 0..h {
        for x in 0..w {
            for c in 0..channels {
                let base = (x * 255 / w.max(1) + y * 128 / h.max(1) + c * 60) as i64;
                out.push((base + rng.int(-12, 12)).clamp(0, 255) as u8);
            }
        }
    }
    out
}

fn image_jpeg(data: &[u8], w: u32, h: u32, kind: ExtendedColorType, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(data, w, h, kind)
        .unwrap();
    out
}

/// JPEGs from the second encoder in the variants the image crate's encoder never
/// writes: progressive, restart markers, other chroma sampling, CMYK, EXIF.
fn encoder_jpegs(
    rng: &mut Rng,
    rgb: &[u8],
    grey: &[u8],
    w: u32,
    h: u32,
    exif: &[Vec<u8>],
) -> Vec<Vec<u8>> {
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
    let mut out = Vec::new();
    let cmyk: Vec<u8> = rgb
        .chunks(3)
        .flat_map(|p| [p[0], p[1], p[2], 255 - p[1]])
        .collect();
    let variants = [
        (true, 0, SamplingFactor::F_2_2, ColorType::Rgb, 85),
        (false, 3, SamplingFactor::F_2_1, ColorType::Rgb, 60),
        (true, 1, SamplingFactor::F_1_1, ColorType::Luma, 95),
        (false, 0, SamplingFactor::F_4_2, ColorType::Rgb, 40),
        (false, 0, SamplingFactor::F_1_1, ColorType::Cmyk, 90),
        (true, 2, SamplingFactor::F_1_2, ColorType::Rgb, 98),
    ];
    for (k, (progressive, restart, sampling, color, quality)) in variants.into_iter().enumerate() {
        let mut bytes = Vec::new();
        let mut encoder = Encoder::new(&mut bytes, quality);
        encoder.set_progressive(progressive);
        if restart > 0 {
            encoder.set_restart_interval(restart);
        }
        encoder.set_sampling_factor(sampling);
        if k.is_multiple_of(2) {
            let block = &exif[rng.int(0, exif.len() as i64 - 1) as usize];
            encoder
                .add_exif_metadata(block.strip_prefix(b"Exif\0\0").unwrap_or(block))
                .unwrap();
        }
        let data = match color {
            ColorType::Luma => grey,
            ColorType::Cmyk => &cmyk,
            _ => rgb,
        };
        encoder.encode(data, w as u16, h as u16, color).unwrap();
        out.push(bytes);
    }
    out
}

fn png(
    data: &[u8],
    w: u32,
    h: u32,
    kind: ExtendedColorType,
    compression: CompressionType,
    filter: FilterType,
) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    PngEncoder::new_with_quality(&mut out, compression, filter)
        .write_image(data, w, h, kind)
        .unwrap();
    out.into_inner()
}

/// `png` with an eXIf chunk holding `block` right after IHDR.
fn with_png_exif(png: &[u8], block: &[u8]) -> Vec<u8> {
    let tiff = block.strip_prefix(b"Exif\0\0").unwrap_or(block);
    // Signature (8) and IHDR (4 + 4 + 13 + 4).
    let split = 8 + 25;
    let mut out = png[..split].to_vec();
    out.extend_from_slice(&(tiff.len() as u32).to_be_bytes());
    let mut body = b"eXIf".to_vec();
    body.extend_from_slice(tiff);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out.extend_from_slice(&png[split..]);
    out
}

/// The EXIF block of a JPEG's APP1 segment, `Exif\0\0` prefix included.
fn exif_of(jpeg: &[u8]) -> Option<Vec<u8>> {
    let at = jpeg.windows(6).position(|w| w == b"Exif\0\0")?;
    let len_at = at.checked_sub(2)?;
    let len = usize::from(u16::from_be_bytes([jpeg[len_at], jpeg[len_at + 1]]));
    jpeg.get(at..(len_at + len).max(at)).map(<[u8]>::to_vec)
}

/// A TIFF block with IFD0 holding Orientation, Make, Model and Software.
fn tiff(little: bool, orientation: u16, rng: &mut Rng) -> Vec<u8> {
    let u16b = |v: u16| {
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let u32b = |v: u32| {
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let make = *rng.pick(&["Acme", "Fuzz Phone Company Ltd"]);
    let strings: [(u16, String); 3] = [
        (0x010F, format!("{make}\0")),
        (0x0110, format!("{make} Model {}\0", rng.int(1, 99))),
        (0x0131, "Editor 3.1\0".to_string()),
    ];
    let mut t = if little {
        b"II*\0".to_vec()
    } else {
        b"MM\0*".to_vec()
    };
    t.extend_from_slice(&u32b(8));
    t.extend_from_slice(&u16b(4));
    let mut data_at = 8 + 2 + 4 * 12 + 4;
    let mut data = Vec::new();
    // Orientation: SHORT, one value, held in the entry itself.
    t.extend_from_slice(&u16b(0x0112));
    t.extend_from_slice(&u16b(3));
    t.extend_from_slice(&u32b(1));
    t.extend_from_slice(&u16b(orientation));
    t.extend_from_slice(&[0, 0]);
    for (tag, s) in &strings {
        t.extend_from_slice(&u16b(*tag));
        t.extend_from_slice(&u16b(2));
        t.extend_from_slice(&u32b(s.len() as u32));
        t.extend_from_slice(&u32b(data_at as u32));
        data.extend_from_slice(s.as_bytes());
        data_at += s.len();
    }
    t.extend_from_slice(&u32b(0));
    t.extend_from_slice(&data);
    let mut block = b"Exif\0\0".to_vec();
    block.extend_from_slice(&t);
    block
}
