//! Synthetic photos of documents in scenes, with known corners: the ground truth that
//! detection and the quality rules are measured against.
//!
//! A scene is a background (plain, wood, fabric, clutter or white-on-white), documents
//! warped in by a homography (any rotation, hand-held perspective, soft shadow), then a
//! crude camera: lighting gradient, lens blur, sensor noise and JPEG.

use image::{ImageEncoder, RgbImage, RgbaImage};

use super::card::{CardStyle, DocumentFormat, random_color, render_card};
use super::hazards::{Carrier, Extras};
use super::rng::Rng;
use docliveness_engine::geometry::{Homography, Point, Quad};

/// Kinds of background a document lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    /// A uniform surface with slow shading.
    Plain,
    /// Wood grain.
    Wood,
    /// Woven fabric.
    Fabric,
    /// A desk with unrelated objects.
    Clutter,
    /// A near-white surface under a near-white card.
    WhiteOnWhite,
}

impl Background {
    /// Every kind, for cycling through scenes.
    pub const ALL: [Background; 5] = [
        Background::Plain,
        Background::Wood,
        Background::Fabric,
        Background::Clutter,
        Background::WhiteOnWhite,
    ];
}

/// One document placed in a scene.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    /// How the document looks.
    pub style: CardStyle,
    /// Where its corners land, in image pixels (top-left, top-right, bottom-right,
    /// bottom-left of the document itself).
    pub quad: Quad,
}

/// Everything needed to render a scene.
#[derive(Debug, Clone)]
pub struct SceneSpec {
    /// Seed for textures and noise.
    pub seed: u64,
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// Surface under the documents.
    pub background: Background,
    /// Documents, drawn in order.
    pub documents: Vec<Placement>,
    /// Gaussian lens blur in pixels.
    pub blur_sigma: f32,
    /// Standard deviation of sensor noise in grey levels.
    pub noise_sigma: f64,
    /// Strength of the lighting gradient (0 = even light).
    pub light_gradient: f64,
    /// JPEG quality of the saved photo.
    pub jpeg_quality: u8,
    /// Sheets, screens, fingers and glare (none in a plain scene).
    pub extras: Extras,
}

/// A rendered scene.
#[derive(Debug, Clone)]
pub struct Scene {
    /// The photo as JPEG bytes, the way a camera would deliver it.
    pub jpeg: Vec<u8>,
    /// Ground-truth corners of each document.
    pub quads: Vec<Quad>,
}

/// Places a document of `format` covering `area_fraction` of a `width × height` frame,
/// centred at `centre`, rotated by `rotation` degrees, with perspective jitter `tilt`
/// (fraction of the long side each corner may move).
pub fn place(
    rng: &mut Rng,
    format: DocumentFormat,
    (width, height): (u32, u32),
    area_fraction: f64,
    centre: Point,
    rotation: f64,
    tilt: f64,
) -> Quad {
    let area = area_fraction * f64::from(width) * f64::from(height);
    let long = (area * format.aspect()).sqrt();
    let short = long / format.aspect();
    let (s, c) = rotation.to_radians().sin_cos();
    let corners = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map(|(sx, sy)| {
        let (x, y) = (sx * long / 2.0, sy * short / 2.0);
        Point::new(
            centre.x + x * c - y * s + rng.normal() * tilt * long,
            centre.y + x * s + y * c + rng.normal() * tilt * long,
        )
    });
    Quad(corners)
}

/// A random scene that should pass every rule: one document, 15–55% of the frame, any
/// rotation, fully inside with a margin, on one of the backgrounds.
pub fn passing_scene(seed: u64, width: u32, height: u32) -> SceneSpec {
    let mut rng = Rng::new(seed);
    let background = Background::ALL[(seed % Background::ALL.len() as u64) as usize];
    let format = if rng.chance(0.7) {
        DocumentFormat::Id1
    } else {
        DocumentFormat::Passport
    };
    let (w, h) = (f64::from(width), f64::from(height));
    let margin = 0.05 * w.min(h);
    let quad = loop {
        let area = rng.range(0.15, 0.55);
        let rotation = if rng.chance(0.5) {
            rng.range(-15.0, 15.0)
        } else {
            rng.range(0.0, 360.0)
        };
        let centre = Point::new(rng.range(0.3, 0.7) * w, rng.range(0.3, 0.7) * h);
        let q = place(
            &mut rng,
            format,
            (width, height),
            area,
            centre,
            rotation,
            0.03,
        );
        let (x0, y0, x1, y1) = q.bounds();
        let fits = x0 > margin && y0 > margin && x1 < w - margin && y1 < h - margin;
        if fits && q.is_convex() && (x1 - x0) < 0.9 * w && (y1 - y0) < 0.9 * h {
            break q;
        }
    };
    SceneSpec {
        seed,
        width,
        height,
        background,
        documents: vec![Placement {
            style: CardStyle {
                format,
                front: rng.chance(0.6),
                pale: background == Background::WhiteOnWhite,
                portrait: true,
            },
            quad,
        }],
        blur_sigma: rng.range(0.3, 1.6) as f32,
        noise_sigma: rng.range(1.0, 5.0),
        light_gradient: rng.range(0.0, 0.35),
        jpeg_quality: rng.int(75, 95) as u8,
        extras: Extras::default(),
    }
}

/// Renders a scene to JPEG.
pub fn render(spec: &SceneSpec) -> Scene {
    let rgb = render_rgb(spec);
    Scene {
        jpeg: encode_jpeg(&rgb, spec.jpeg_quality),
        quads: spec.documents.iter().map(|d| d.quad).collect(),
    }
}

/// Encodes pixels as a baseline JPEG at `quality`.
pub fn encode_jpeg(rgb: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encoding to memory cannot fail");
    out
}

/// Renders a scene to pixels (before JPEG).
pub fn render_rgb(spec: &SceneSpec) -> RgbImage {
    let mut rng = Rng::new(spec.seed.wrapping_mul(31).wrapping_add(7));
    let (w, h) = (spec.width as usize, spec.height as usize);
    let mut buf = background(&mut rng, spec.background, w, h);
    for carrier in &spec.extras.carriers {
        draw_carrier(&mut rng, &mut buf, w, h, carrier);
    }
    for doc in &spec.documents {
        let mut card_rng = Rng::new(rng.next_u64());
        let (x0, _, x1, _) = doc.quad.bounds();
        let texture_width =
            ((x1 - x0).max(doc.quad.0[0].distance(doc.quad.0[1])) * 1.1).clamp(64.0, 2400.0) as u32;
        let card = render_card(&mut card_rng, doc.style, texture_width);
        let shadow_strength = if spec.background == Background::WhiteOnWhite {
            0.12
        } else {
            rng.range(0.05, 0.3)
        };
        let offset = Point::new(rng.range(2.0, 8.0), rng.range(2.0, 8.0));
        // A document printed on a sheet or shown on a screen casts no shadow of its own.
        if spec.extras.carriers.is_empty() {
            draw_shadow(&mut buf, w, h, &doc.quad, offset, 6.0, shadow_strength);
        }
        draw_card(&mut buf, w, h, &card, &doc.quad);
    }
    for finger in &spec.extras.fingers {
        draw_capsule(
            &mut buf,
            w,
            h,
            finger.from,
            finger.to,
            finger.radius,
            finger.color,
        );
    }
    for glare in &spec.extras.glares {
        add_glare(&mut buf, w, h, glare.centre, glare.radius, glare.strength);
    }
    apply_lighting(&mut rng, &mut buf, w, h, spec.light_gradient);
    if spec.blur_sigma > 0.05 {
        blur(&mut buf, w, h, spec.blur_sigma);
    }
    let mut out = RgbImage::new(spec.width, spec.height);
    for (o, v) in out.as_mut().iter_mut().zip(&buf) {
        *o = (v + fast_normal(&mut rng) as f32 * spec.noise_sigma as f32)
            .round()
            .clamp(0.0, 255.0) as u8;
    }
    out
}

fn fast_normal(rng: &mut Rng) -> f64 {
    // Sum of four uniforms from one draw: close enough to Gaussian for sensor noise, and cheap.
    let r = rng.next_u64();
    let s: f64 = (0..4)
        .map(|k| ((r >> (16 * k)) & 0xFFFF) as f64 / 65535.0)
        .sum();
    (s - 2.0) * 1.732
}

fn background(rng: &mut Rng, kind: Background, w: usize, h: usize) -> Vec<f32> {
    let mut buf = vec![0f32; w * h * 3];
    let base = match kind {
        Background::Plain => random_color(rng, 20.0, 230.0),
        Background::Wood => [
            rng.range(110.0, 190.0),
            rng.range(70.0, 130.0),
            rng.range(30.0, 80.0),
        ],
        Background::Fabric => random_color(rng, 30.0, 200.0),
        Background::Clutter => random_color(rng, 60.0, 200.0),
        Background::WhiteOnWhite => {
            let g = rng.range(200.0, 225.0);
            [g, g + rng.range(-3.0, 3.0), g + rng.range(-5.0, 2.0)]
        }
    };
    let angle = rng.range(0.0, std::f64::consts::PI);
    let (ca, sa) = (angle.cos(), angle.sin());
    let (f1, f2, wobble) = (
        rng.range(0.01, 0.05),
        rng.range(0.002, 0.01),
        rng.range(5.0, 25.0),
    );
    let weave = rng.range(0.15, 0.45);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f64, y as f64);
            let (u, v) = (fx * ca + fy * sa, -fx * sa + fy * ca);
            let m = match kind {
                Background::Wood => {
                    1.0 + 0.12 * ((v + wobble * (u * f2).sin()) * f1).sin()
                        + 0.05 * ((v * f1 * 3.1).sin())
                }
                Background::Fabric => 1.0 + 0.08 * ((u * weave).sin() * (v * weave).sin()),
                _ => 1.0 + 0.03 * ((u * f2).sin()),
            };
            let i = (y * w + x) * 3;
            for c in 0..3 {
                buf[i + c] = (base[c] * m) as f32;
            }
        }
    }
    if kind == Background::Clutter {
        for _ in 0..rng.int(8, 16) {
            let color = [
                rng.range(0.0, 255.0),
                rng.range(0.0, 255.0),
                rng.range(0.0, 255.0),
            ];
            let centre = Point::new(rng.range(0.0, w as f64), rng.range(0.0, h as f64));
            let size = rng.range(0.03, 0.25) * w.min(h) as f64;
            // Shapes that are not document-shaped: round things, squares, long strips.
            let aspect = if rng.chance(0.5) {
                rng.range(1.0, 1.08)
            } else {
                rng.range(3.0, 8.0)
            };
            if rng.chance(0.4) {
                fill_polygon(
                    &mut buf,
                    w,
                    h,
                    &ellipse_polygon(centre, size, size / aspect.min(1.6)),
                    color,
                );
            } else {
                let rot = rng.range(0.0, 180.0);
                let q = rect_quad(centre, size * aspect.sqrt(), size / aspect.sqrt(), rot);
                fill_polygon(&mut buf, w, h, &q.0, color);
            }
        }
    }
    buf
}

fn rect_quad(centre: Point, long: f64, short: f64, rotation: f64) -> Quad {
    let (s, c) = rotation.to_radians().sin_cos();
    Quad(
        [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map(|(sx, sy)| {
            let (x, y) = (sx * long / 2.0, sy * short / 2.0);
            Point::new(centre.x + x * c - y * s, centre.y + x * s + y * c)
        }),
    )
}

fn ellipse_polygon(centre: Point, rx: f64, ry: f64) -> Vec<Point> {
    (0..48)
        .map(|k| {
            let t = k as f64 / 48.0 * std::f64::consts::TAU;
            Point::new(centre.x + rx * t.cos(), centre.y + ry * t.sin())
        })
        .collect()
}

/// Signed distance from `p` to the boundary of a convex polygon, positive inside.
fn inside_distance(poly: &[Point], p: Point, clockwise: bool) -> f64 {
    let n = poly.len();
    let mut d = f64::INFINITY;
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        let len = a.distance(b).max(1e-9);
        let cross = ((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)) / len;
        d = d.min(if clockwise { cross } else { -cross });
    }
    d
}

fn is_clockwise_on_screen(poly: &[Point]) -> bool {
    let n = poly.len();
    (0..n)
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            a.x * b.y - b.x * a.y
        })
        .sum::<f64>()
        > 0.0
}

fn fill_polygon(buf: &mut [f32], w: usize, h: usize, poly: &[Point], color: [f64; 3]) {
    let cw = is_clockwise_on_screen(poly);
    let (x0, y0, x1, y1) = bounds_of(poly, w, h);
    for y in y0..y1 {
        for x in x0..x1 {
            let cover = (inside_distance(poly, Point::new(x as f64 + 0.5, y as f64 + 0.5), cw)
                + 0.5)
                .clamp(0.0, 1.0);
            if cover > 0.0 {
                let i = (y * w + x) * 3;
                for c in 0..3 {
                    buf[i + c] = buf[i + c] * (1.0 - cover as f32) + (color[c] * cover) as f32;
                }
            }
        }
    }
}

fn bounds_of(poly: &[Point], w: usize, h: usize) -> (usize, usize, usize, usize) {
    let minx = poly.iter().map(|p| p.x).fold(f64::INFINITY, f64::min);
    let maxx = poly.iter().map(|p| p.x).fold(f64::NEG_INFINITY, f64::max);
    let miny = poly.iter().map(|p| p.y).fold(f64::INFINITY, f64::min);
    let maxy = poly.iter().map(|p| p.y).fold(f64::NEG_INFINITY, f64::max);
    (
        minx.floor().clamp(0.0, w as f64) as usize,
        miny.floor().clamp(0.0, h as f64) as usize,
        (maxx.ceil() + 1.0).clamp(0.0, w as f64) as usize,
        (maxy.ceil() + 1.0).clamp(0.0, h as f64) as usize,
    )
}

fn draw_shadow(
    buf: &mut [f32],
    w: usize,
    h: usize,
    quad: &Quad,
    offset: Point,
    softness: f64,
    strength: f64,
) {
    let poly: Vec<Point> = quad
        .0
        .iter()
        .map(|p| Point::new(p.x + offset.x, p.y + offset.y))
        .collect();
    let cw = is_clockwise_on_screen(&poly);
    let grown: Vec<Point> = poly.iter().map(|p| Point::new(p.x, p.y)).collect();
    let (x0, y0, x1, y1) = bounds_of(&grown, w, h);
    let (x0, y0) = (
        x0.saturating_sub(softness as usize),
        y0.saturating_sub(softness as usize),
    );
    let (x1, y1) = (
        (x1 + softness as usize).min(w),
        (y1 + softness as usize).min(h),
    );
    for y in y0..y1 {
        for x in x0..x1 {
            let d = inside_distance(&poly, Point::new(x as f64 + 0.5, y as f64 + 0.5), cw);
            let cover = ((d + softness) / (2.0 * softness)).clamp(0.0, 1.0);
            let k = (1.0 - strength * cover) as f32;
            let i = (y * w + x) * 3;
            for c in 0..3 {
                buf[i + c] *= k;
            }
        }
    }
}

fn draw_card(buf: &mut [f32], w: usize, h: usize, card: &RgbaImage, quad: &Quad) {
    let Some(inverse) = Homography::unit_square_to(quad).inverse() else {
        return;
    };
    let (tw, th) = (f64::from(card.width()), f64::from(card.height()));
    let (x0, y0, x1, y1) = bounds_of(&quad.0, w, h);
    const SUB: [f64; 2] = [0.25, 0.75];
    for y in y0..y1 {
        for x in x0..x1 {
            let mut acc = [0f64; 3];
            let mut cover = 0.0;
            for sy in SUB {
                for sx in SUB {
                    let uv = inverse.apply(Point::new(x as f64 + sx, y as f64 + sy));
                    if !(0.0..1.0).contains(&uv.x) || !(0.0..1.0).contains(&uv.y) {
                        continue;
                    }
                    let px = sample(card, uv.x * tw - 0.5, uv.y * th - 0.5);
                    let a = px[3] / 255.0;
                    for c in 0..3 {
                        acc[c] += px[c] * a;
                    }
                    cover += a;
                }
            }
            if cover <= 0.0 {
                continue;
            }
            let i = (y * w + x) * 3;
            let alpha = cover / 4.0;
            for c in 0..3 {
                buf[i + c] = (f64::from(buf[i + c]) * (1.0 - alpha) + acc[c] / 4.0) as f32;
            }
        }
    }
}

fn sample(img: &RgbaImage, x: f64, y: f64) -> [f64; 4] {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (xf, yf) = (x.floor(), y.floor());
    let (fx, fy) = (x - xf, y - yf);
    let mut out = [0f64; 4];
    for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
        for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
            let px = img.get_pixel(
                ((xf as i64) + dx).clamp(0, w - 1) as u32,
                ((yf as i64) + dy).clamp(0, h - 1) as u32,
            );
            for c in 0..4 {
                out[c] += f64::from(px[c]) * wx * wy;
            }
        }
    }
    out
}

fn apply_lighting(rng: &mut Rng, buf: &mut [f32], w: usize, h: usize, strength: f64) {
    let angle = rng.range(0.0, std::f64::consts::TAU);
    let (ca, sa) = (angle.cos(), angle.sin());
    let diag = ((w * w + h * h) as f64).sqrt();
    for y in 0..h {
        for x in 0..w {
            let t = ((x as f64 - w as f64 / 2.0) * ca + (y as f64 - h as f64 / 2.0) * sa) / diag;
            let k = (1.0 + strength * 2.0 * t) as f32;
            let i = (y * w + x) * 3;
            for c in 0..3 {
                buf[i + c] *= k;
            }
        }
    }
}

/// Gaussian blur of an interleaved RGB buffer, three sigmas either side (a camera's
/// defocus has long tails).
fn blur(buf: &mut [f32], w: usize, h: usize, sigma: f32) {
    for c in 0..3 {
        let plane: Vec<f32> = buf.iter().skip(c).step_by(3).copied().collect();
        let blurred = docliveness_engine::internals::blur_plane(&plane, w, h, sigma, 3.0);
        for (dst, v) in buf.iter_mut().skip(c).step_by(3).zip(blurred) {
            *dst = v;
        }
    }
}

fn draw_carrier(rng: &mut Rng, buf: &mut [f32], w: usize, h: usize, carrier: &Carrier) {
    match carrier {
        Carrier::Sheet(quad) => {
            let offset = Point::new(rng.range(2.0, 8.0), rng.range(2.0, 8.0));
            draw_shadow(buf, w, h, quad, offset, 6.0, rng.range(0.05, 0.25));
            let paper = rng.range(225.0, 250.0);
            fill_polygon(
                buf,
                w,
                h,
                &quad.0,
                [
                    paper,
                    paper - rng.range(0.0, 4.0),
                    paper - rng.range(0.0, 8.0),
                ],
            );
        }
        Carrier::Screen { device, panel } => {
            let body = rng.range(10.0, 60.0);
            fill_polygon(buf, w, h, &device.0, [body, body, body * 1.05]);
            // The panel shows what the viewer app puts around the document: dark or light.
            let ui = if rng.chance(0.5) {
                rng.range(0.0, 40.0)
            } else {
                rng.range(180.0, 250.0)
            };
            fill_polygon(buf, w, h, &panel.0, [ui * 0.95, ui, ui * 1.05]);
        }
    }
}

fn draw_capsule(
    buf: &mut [f32],
    w: usize,
    h: usize,
    a: Point,
    b: Point,
    radius: f64,
    color: [f64; 3],
) {
    let (x0, y0, x1, y1) = bounds_of(&[a, b], w, h);
    let r = radius.ceil() as usize + 1;
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = (dx * dx + dy * dy).max(1e-9);
    for y in y0.saturating_sub(r)..(y1 + r).min(h) {
        for x in x0.saturating_sub(r)..(x1 + r).min(w) {
            let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
            let t = (((px - a.x) * dx + (py - a.y) * dy) / len2).clamp(0.0, 1.0);
            let d = (px - a.x - t * dx).hypot(py - a.y - t * dy);
            let cover = (radius - d + 0.5).clamp(0.0, 1.0);
            if cover <= 0.0 {
                continue;
            }
            // Rounded shading across the finger.
            let shade = (1.0 - (d / radius).powi(2)).max(0.2).sqrt();
            let i = (y * w + x) * 3;
            for c in 0..3 {
                buf[i + c] =
                    (f64::from(buf[i + c]) * (1.0 - cover) + color[c] * shade * cover) as f32;
            }
        }
    }
}

fn add_glare(buf: &mut [f32], w: usize, h: usize, centre: Point, radius: f64, strength: f64) {
    let reach = 3.0 * radius;
    let (x0, y0, x1, y1) = bounds_of(
        &[
            Point::new(centre.x - reach, centre.y - reach),
            Point::new(centre.x + reach, centre.y + reach),
        ],
        w,
        h,
    );
    for y in y0..y1 {
        for x in x0..x1 {
            let d2 = (x as f64 + 0.5 - centre.x).powi(2) + (y as f64 + 0.5 - centre.y).powi(2);
            let add = (strength * (-d2 / (2.0 * radius * radius)).exp()) as f32;
            let i = (y * w + x) * 3;
            for c in 0..3 {
                buf[i + c] = (buf[i + c] + add).min(255.0);
            }
        }
    }
}
