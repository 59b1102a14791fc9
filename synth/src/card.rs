//! Procedurally drawn identity documents: ID-1 cards and passport data pages with
//! background patterns, text blocks, a portrait area, an emblem and MRZ-like lines.
//! Nothing here is a real document design.

use std::sync::OnceLock;

use image::{RgbImage, Rgba, RgbaImage};

use super::rng::Rng;

/// Physical document formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    /// ID-1 card, 85.6 × 54 mm (ISO/IEC 7810).
    Id1,
    /// Passport data page (ID-3), 125 × 88 mm.
    Passport,
}

impl DocumentFormat {
    /// Long side over short side.
    pub fn aspect(self) -> f64 {
        match self {
            DocumentFormat::Id1 => 85.6 / 54.0,
            DocumentFormat::Passport => 125.0 / 88.0,
        }
    }
}

/// How the card should look.
#[derive(Debug, Clone, Copy)]
pub struct CardStyle {
    /// Physical format.
    pub format: DocumentFormat,
    /// Front (with portrait) or back.
    pub front: bool,
    /// Pale, near-white card (for white-on-white scenes).
    pub pale: bool,
    /// Draw a portrait in the portrait area (false leaves it blank).
    pub portrait: bool,
}

/// A public-domain portrait photo (NASA, via scikit-image; see `assets/README.md`), so
/// that generated fronts carry a real face for the portrait detector to find.
static FACE_JPEG: &[u8] = include_bytes!("../../assets/faces/astronaut.jpg");

fn face() -> &'static RgbImage {
    static FACE: OnceLock<RgbImage> = OnceLock::new();
    FACE.get_or_init(|| {
        image::load_from_memory(FACE_JPEG)
            .expect("the bundled face photo decodes")
            .to_rgb8()
    })
}

/// Draws the face photo into the portrait area, varied per card (zoom, position,
/// mirror, grey or colour, exposure) the way issuers' portraits vary.
fn paste_face(img: &mut RgbaImage, rng: &mut Rng, x0: f64, y0: f64, w: f64, h: f64) {
    let src = face();
    let (sw, sh) = (f64::from(src.width()), f64::from(src.height()));
    let zoom = rng.range(1.0, 1.15);
    let (cw, ch) = (sw / zoom, sh / zoom);
    let (ox, oy) = (rng.range(0.0, sw - cw), rng.range(0.0, sh - ch));
    let mirror = rng.chance(0.5);
    let grey = rng.chance(0.3);
    let gain = rng.range(0.85, 1.1);
    for y in y0.floor() as i64..(y0 + h).ceil() as i64 {
        for x in x0.floor() as i64..(x0 + w).ceil() as i64 {
            let (u, v) = ((x as f64 - x0) / w, (y as f64 - y0) / h);
            let u = if mirror { 1.0 - u } else { u };
            let sx = (ox + u * cw).clamp(0.0, sw - 1.0) as u32;
            let sy = (oy + v * ch).clamp(0.0, sh - 1.0) as u32;
            let p = src.get_pixel(sx, sy).0.map(f64::from);
            let c = if grey {
                let l = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
                [l; 3]
            } else {
                p
            };
            blend(img, x, y, c.map(|v| v * gain), 1.0);
        }
    }
}

fn blend(img: &mut RgbaImage, x: i64, y: i64, color: [f64; 3], alpha: f64) {
    if x < 0 || y < 0 || x >= i64::from(img.width()) || y >= i64::from(img.height()) {
        return;
    }
    let p = img.get_pixel_mut(x as u32, y as u32);
    for c in 0..3 {
        p[c] = (f64::from(p[c]) * (1.0 - alpha) + color[c] * alpha)
            .round()
            .clamp(0.0, 255.0) as u8;
    }
}

fn fill_rect(img: &mut RgbaImage, x0: f64, y0: f64, x1: f64, y1: f64, color: [f64; 3], alpha: f64) {
    for y in y0.floor() as i64..y1.ceil() as i64 {
        for x in x0.floor() as i64..x1.ceil() as i64 {
            blend(img, x, y, color, alpha);
        }
    }
}

fn fill_ellipse(
    img: &mut RgbaImage,
    cx: f64,
    cy: f64,
    rx: f64,
    ry: f64,
    color: [f64; 3],
    alpha: f64,
) {
    for y in (cy - ry).floor() as i64..=(cy + ry).ceil() as i64 {
        for x in (cx - rx).floor() as i64..=(cx + rx).ceil() as i64 {
            let d = ((x as f64 + 0.5 - cx) / rx).powi(2) + ((y as f64 + 0.5 - cy) / ry).powi(2);
            if d <= 1.0 {
                blend(img, x, y, color, alpha);
            }
        }
    }
}

/// A colour with each channel uniform in `[lo, hi)`.
pub(super) fn random_color(rng: &mut Rng, lo: f64, hi: f64) -> [f64; 3] {
    [rng.range(lo, hi), rng.range(lo, hi), rng.range(lo, hi)]
}

/// Draws a line of glyph-like dark blobs, the way text looks at a glance.
fn text_line(
    img: &mut RgbaImage,
    rng: &mut Rng,
    x0: f64,
    y: f64,
    width: f64,
    height: f64,
    color: [f64; 3],
) {
    let mut x = x0;
    while x < x0 + width {
        let word = rng.int(2, 9) as usize;
        for _ in 0..word {
            let gw = height * rng.range(0.45, 0.8);
            if x + gw > x0 + width {
                return;
            }
            let top = if rng.chance(0.3) {
                y
            } else {
                y + height * 0.25
            };
            fill_rect(img, x, top, x + gw * 0.8, y + height, color, 0.9);
            x += gw;
        }
        x += height * 0.6;
    }
}

/// Renders a document `width` pixels wide (long side horizontal). The alpha channel
/// marks the card, with the rounded corners real cards have.
pub fn render_card(rng: &mut Rng, style: CardStyle, width: u32) -> RgbaImage {
    let height = (f64::from(width) / style.format.aspect()).round() as u32;
    let (w, h) = (f64::from(width), f64::from(height));
    let base = if style.pale {
        random_color(rng, 232.0, 250.0)
    } else {
        let mut c = random_color(rng, 120.0, 245.0);
        let k = rng.int(0, 2) as usize;
        c[k] = rng.range(170.0, 250.0);
        c
    };
    let mut img = RgbaImage::from_pixel(
        width,
        height,
        Rgba([base[0] as u8, base[1] as u8, base[2] as u8, 255]),
    );
    // Guilloche-like background: families of thin sinusoidal curves.
    let ink = random_color(rng, 60.0, 200.0);
    let families = rng.int(1, 3);
    for _ in 0..families {
        let (f, amp, phase) = (
            rng.range(2.0, 8.0),
            rng.range(0.02, 0.1) * h,
            rng.range(0.0, 6.3),
        );
        let count = rng.int(6, 16);
        let alpha = if style.pale {
            0.15
        } else {
            rng.range(0.15, 0.35)
        };
        for k in 0..count {
            let offset = h * (k as f64 + 0.5) / count as f64;
            let mut x = 0.0;
            while x < w {
                let y = offset
                    + amp * (f * x / w * std::f64::consts::TAU + phase + k as f64 * 0.4).sin();
                blend(&mut img, x as i64, y as i64, ink, alpha);
                x += 0.5;
            }
        }
    }
    // A printed frame on some cards, a little inside the edge.
    if rng.chance(0.3) {
        let m = h * rng.range(0.03, 0.06);
        let t = (h * 0.006).max(1.0);
        let c = random_color(rng, 40.0, 160.0);
        fill_rect(&mut img, m, m, w - m, m + t, c, 0.6);
        fill_rect(&mut img, m, h - m - t, w - m, h - m, c, 0.6);
        fill_rect(&mut img, m, m, m + t, h - m, c, 0.6);
        fill_rect(&mut img, w - m - t, m, w - m, h - m, c, 0.6);
    }
    // Header band.
    let band = random_color(rng, 30.0, 200.0);
    let band_alpha = if style.pale {
        0.25
    } else {
        rng.range(0.4, 0.9)
    };
    fill_rect(
        &mut img,
        0.0,
        h * 0.06,
        w,
        h * rng.range(0.14, 0.2),
        band,
        band_alpha,
    );
    let text_color = random_color(rng, 10.0, 70.0);
    let line_h = h * rng.range(0.035, 0.055);
    text_line(
        &mut img,
        rng,
        w * 0.3,
        h * 0.08,
        w * 0.5,
        line_h,
        [250.0, 250.0, 250.0],
    );
    let text_x = if style.front {
        w * rng.range(0.36, 0.42)
    } else {
        w * 0.07
    };
    if style.front {
        // Portrait area on the left, about 35 × 45 mm on a passport, 25 × 32 mm on a card.
        let (px0, py0) = (w * 0.05, h * 0.25);
        let (pw, ph) = (w * 0.27, h * 0.55);
        let bg = random_color(rng, 190.0, 240.0);
        fill_rect(&mut img, px0, py0, px0 + pw, py0 + ph, bg, 1.0);
        if style.portrait {
            paste_face(&mut img, rng, px0, py0, pw, ph);
        }
    }
    // Field labels and values.
    let mut y = h * 0.26;
    while y < h
        * (if style.format == DocumentFormat::Passport {
            0.66
        } else {
            0.8
        })
    {
        let width_frac = rng.range(0.25, 0.55);
        text_line(
            &mut img,
            rng,
            text_x,
            y,
            w * width_frac,
            line_h * 0.7,
            text_color,
        );
        y += line_h * rng.range(1.3, 2.2);
    }
    // Emblem.
    let emblem = random_color(rng, 80.0, 220.0);
    fill_ellipse(
        &mut img,
        w * 0.86,
        h * 0.35,
        h * 0.09,
        h * 0.09,
        emblem,
        0.5,
    );
    // Hologram-like overlay: a faint iridescent ring.
    let (hx, hy, hr) = (
        w * rng.range(0.3, 0.8),
        h * rng.range(0.3, 0.8),
        h * rng.range(0.08, 0.2),
    );
    for a in 0..720 {
        let t = a as f64 / 720.0 * std::f64::consts::TAU;
        let c = [
            200.0 + 50.0 * t.sin(),
            200.0 + 50.0 * (t + 2.0).sin(),
            200.0 + 50.0 * (t + 4.0).sin(),
        ];
        blend(
            &mut img,
            (hx + hr * t.cos()) as i64,
            (hy + hr * t.sin()) as i64,
            c,
            0.35,
        );
    }
    // MRZ: two or three monospace lines at the bottom (passports and card backs).
    if style.format == DocumentFormat::Passport || !style.front {
        let lines = if style.format == DocumentFormat::Passport {
            2
        } else {
            3
        };
        let mh = h * 0.045;
        for k in 0..lines {
            let my = h * 0.93 - (lines - k) as f64 * mh * 1.5;
            let mut x = w * 0.05;
            while x < w * 0.93 {
                if rng.chance(0.85) {
                    fill_rect(
                        &mut img,
                        x,
                        my,
                        x + mh * 0.55,
                        my + mh,
                        [20.0, 20.0, 20.0],
                        0.9,
                    );
                }
                x += mh * 0.75;
            }
        }
    }
    // Barcode on backs.
    if !style.front {
        let mut x = w * 0.55;
        while x < w * 0.93 {
            let bw = h * rng.range(0.004, 0.015);
            if rng.chance(0.55) {
                fill_rect(
                    &mut img,
                    x,
                    h * 0.25,
                    x + bw,
                    h * 0.5,
                    [15.0, 15.0, 15.0],
                    1.0,
                );
            }
            x += bw;
        }
    }
    // Rounded corners: 3.18 mm radius on an 85.6 mm card.
    let radius = w * 3.18 / 85.6;
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
            let cx = fx.clamp(radius, w - radius);
            let cy = fy.clamp(radius, h - radius);
            let d = (fx - cx).hypot(fy - cy);
            if d > radius - 1.0 {
                let cover = (radius - d + 0.5).clamp(0.0, 1.0);
                img.get_pixel_mut(x, y)[3] = (cover * 255.0) as u8;
            }
        }
    }
    img
}
