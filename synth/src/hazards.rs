//! What makes real photos hard for a document detector, added to a scene: the document
//! printed on a sheet of paper or shown on a screen, fingers over its edges, glare on
//! its lamination; and `hard_scene`, which builds seeded scenes around one such hazard.

use super::card::{CardStyle, DocumentFormat};
use super::rng::Rng;
use super::scene::{Background, Placement, SceneSpec, place};
use docliveness_engine::geometry::{Point, Quad};

/// Something a document is printed on or shown on, drawn under it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Carrier {
    /// A sheet of white paper (its corners) with the document printed on it.
    Sheet(Quad),
    /// A phone, tablet or monitor: the device's outer corners (bezel) and the lit panel's.
    Screen {
        /// Outer corners of the device.
        device: Quad,
        /// Corners of the lit panel.
        panel: Quad,
    },
}

/// A finger: a capsule from `from` to `to` of radius `radius` pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finger {
    /// Where the finger enters (usually outside the frame).
    pub from: Point,
    /// Its tip.
    pub to: Point,
    /// Half its width in pixels.
    pub radius: f64,
    /// Skin colour.
    pub color: [f64; 3],
}

/// A specular highlight: a Gaussian spot of added light.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glare {
    /// Centre in pixels.
    pub centre: Point,
    /// Standard deviation in pixels.
    pub radius: f64,
    /// Added grey levels at the centre.
    pub strength: f64,
}

/// Everything added to a plain scene to make it hard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    /// Sheets and screens, drawn before the documents.
    pub carriers: Vec<Carrier>,
    /// Fingers, drawn over the documents.
    pub fingers: Vec<Finger>,
    /// Highlights, added last.
    pub glares: Vec<Glare>,
}

/// The hazard a hard scene is built around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hazard {
    /// One or two fingers over the document's edges.
    Fingers,
    /// A desk with unrelated objects.
    Clutter,
    /// A pale card on a near-white table.
    LowContrast,
    /// Part of the document outside the frame.
    Cropped,
    /// Two documents in view.
    TwoDocuments,
    /// The document printed on a sheet of paper.
    PrintedSheet,
    /// The document shown on a screen.
    Screen,
    /// Glare on the lamination.
    Glare,
}

impl Hazard {
    /// Every hazard, for cycling through scenes.
    pub const ALL: [Hazard; 8] = [
        Hazard::Fingers,
        Hazard::Clutter,
        Hazard::LowContrast,
        Hazard::Cropped,
        Hazard::TwoDocuments,
        Hazard::PrintedSheet,
        Hazard::Screen,
        Hazard::Glare,
    ];
}

fn style(rng: &mut Rng, pale: bool) -> CardStyle {
    CardStyle {
        format: if rng.chance(0.7) {
            DocumentFormat::Id1
        } else {
            DocumentFormat::Passport
        },
        front: rng.chance(0.6),
        pale,
        portrait: true,
    }
}

fn inside(q: &Quad, w: f64, h: f64, margin: f64) -> bool {
    let (x0, y0, x1, y1) = q.bounds();
    x0 > margin && y0 > margin && x1 < w - margin && y1 < h - margin
}

fn rotation(rng: &mut Rng) -> f64 {
    if rng.chance(0.6) {
        rng.range(-20.0, 20.0)
    } else {
        rng.range(0.0, 360.0)
    }
}

/// A document of `area` (fraction of the frame) placed wholly inside with `margin` pixels.
fn placed(
    rng: &mut Rng,
    style: CardStyle,
    (w, h): (u32, u32),
    area: (f64, f64),
    margin: f64,
) -> Quad {
    let (fw, fh) = (f64::from(w), f64::from(h));
    for attempt in 0.. {
        // Shrink the request when a large document keeps failing to fit.
        let shrink = 0.97f64.powi(attempt / 10);
        let a = rng.range(area.0, area.1) * shrink;
        let centre = Point::new(rng.range(0.2, 0.8) * fw, rng.range(0.2, 0.8) * fh);
        let turn = rotation(rng);
        let q = place(rng, style.format, (w, h), a, centre, turn, 0.03);
        if inside(&q, fw, fh, margin) && q.is_convex() {
            return q;
        }
    }
    unreachable!()
}

/// Grows a document's quad about its centre into a carrier's outline, with the
/// document off-centre on it by up to `offset` of the carrier's size.
fn around(q: &Quad, scale_x: f64, scale_y: f64, offset: (f64, f64)) -> Quad {
    let [a, b, c, d] = q.0;
    let centre = q.centre();
    let (ux, uy) = ((b.x - a.x + c.x - d.x) / 2.0, (b.y - a.y + c.y - d.y) / 2.0);
    let (vx, vy) = ((d.x - a.x + c.x - b.x) / 2.0, (d.y - a.y + c.y - b.y) / 2.0);
    let shift = Point::new(
        centre.x + ux * offset.0 * scale_x + vx * offset.1 * scale_y,
        centre.y + uy * offset.0 * scale_x + vy * offset.1 * scale_y,
    );
    Quad(q.0.map(|p| {
        let (dx, dy) = (p.x - centre.x, p.y - centre.y);
        // Express the corner in the (u, v) frame, scale each axis, map back.
        let det = ux * vy - uy * vx;
        let s = (dx * vy - dy * vx) / det;
        let t = (ux * dy - uy * dx) / det;
        Point::new(
            shift.x + s * scale_x * ux + t * scale_y * vx,
            shift.y + s * scale_x * uy + t * scale_y * vy,
        )
    }))
}

fn fingers_over(rng: &mut Rng, q: &Quad, (w, h): (u32, u32)) -> Vec<Finger> {
    let (fw, fh) = (f64::from(w), f64::from(h));
    let side = q.0[0].distance(q.0[1]).min(q.0[1].distance(q.0[2]));
    (0..rng.int(1, 2))
        .map(|_| {
            // Aim the tip at a point on a random edge, a little inside the document.
            let k = rng.int(0, 3) as usize;
            let (a, b) = (q.0[k], q.0[(k + 1) % 4]);
            let t = rng.range(0.15, 0.85);
            let edge = Point::new(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
            let centre = q.centre();
            let (dx, dy) = (edge.x - centre.x, edge.y - centre.y);
            let len = dx.hypot(dy).max(1.0);
            let reach = rng.range(0.05, 0.2) * side;
            let to = Point::new(edge.x - dx / len * reach, edge.y - dy / len * reach);
            let from = Point::new(
                (edge.x + dx / len * fw).clamp(-0.1 * fw, 1.1 * fw),
                (edge.y + dy / len * fh).clamp(-0.1 * fh, 1.1 * fh),
            );
            let tone = rng.range(0.35, 1.15);
            Finger {
                from,
                to,
                radius: side * rng.range(0.1, 0.17),
                color: [200.0 * tone, 140.0 * tone, 115.0 * tone].map(|c: f64| c.min(255.0)),
            }
        })
        .collect()
}

fn glare_on(rng: &mut Rng, q: &Quad) -> Vec<Glare> {
    let side = q.0[0].distance(q.0[1]).min(q.0[1].distance(q.0[2]));
    (0..rng.int(1, 2))
        .map(|_| {
            let (s, t) = (rng.range(0.1, 0.9), rng.range(0.1, 0.9));
            let top = Point::new(
                q.0[0].x + (q.0[1].x - q.0[0].x) * s,
                q.0[0].y + (q.0[1].y - q.0[0].y) * s,
            );
            let bottom = Point::new(
                q.0[3].x + (q.0[2].x - q.0[3].x) * s,
                q.0[3].y + (q.0[2].y - q.0[3].y) * s,
            );
            Glare {
                centre: Point::new(
                    top.x + (bottom.x - top.x) * t,
                    top.y + (bottom.y - top.y) * t,
                ),
                radius: side * rng.range(0.05, 0.25),
                strength: rng.range(60.0, 220.0),
            }
        })
        .collect()
}

fn segment_distance(p: Point, a: Point, b: Point) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let t =
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / (dx * dx + dy * dy).max(1e-12)).clamp(0.0, 1.0);
    p.distance(Point::new(a.x + t * dx, a.y + t * dy))
}

/// Distance between two disjoint convex outlines: from a corner of one to a side of the other.
fn gap(a: &Quad, b: &Quad) -> f64 {
    let one_way = |x: &Quad, y: &Quad| {
        x.0.iter()
            .flat_map(|p| y.sides().map(|(s, e)| segment_distance(*p, s, e)))
            .fold(f64::INFINITY, f64::min)
    };
    one_way(a, b).min(one_way(b, a))
}

/// A seeded scene built around one hazard (`Hazard::ALL[seed % 8]`), with the ground
/// truth of every document in `documents`. The document's size, position and rotation
/// vary widely; apart from `Cropped`, every document is wholly in view.
pub fn hard_scene(seed: u64, width: u32, height: u32) -> (SceneSpec, Hazard) {
    let hazard = Hazard::ALL[(seed % Hazard::ALL.len() as u64) as usize];
    let mut rng = Rng::new(seed.wrapping_mul(0x9E37_79B9) ^ 0x5EED);
    let size = (width, height);
    let (w, h) = (f64::from(width), f64::from(height));
    let margin = 0.03 * w.min(h);
    let mut background = *rng.pick(&[
        Background::Plain,
        Background::Wood,
        Background::Fabric,
        Background::Clutter,
    ]);
    let mut extras = Extras::default();
    let mut documents = Vec::new();
    match hazard {
        Hazard::LowContrast | Hazard::Clutter => {
            let pale = hazard == Hazard::LowContrast;
            background = if pale {
                Background::WhiteOnWhite
            } else {
                Background::Clutter
            };
            let s = style(&mut rng, pale);
            let area = if pale { (0.1, 0.5) } else { (0.08, 0.5) };
            documents.push(Placement {
                style: s,
                quad: placed(&mut rng, s, size, area, margin),
            });
        }
        Hazard::Cropped => {
            let s = style(&mut rng, false);
            let q = placed(&mut rng, s, size, (0.12, 0.4), margin);
            let (x0, y0, x1, y1) = q.bounds();
            let out = rng.range(0.08, 0.35);
            let (dx, dy) = match rng.int(0, 3) {
                0 => (-x0 - out * (x1 - x0), 0.0),
                1 => (w - x1 + out * (x1 - x0), 0.0),
                2 => (0.0, -y0 - out * (y1 - y0)),
                _ => (0.0, h - y1 + out * (y1 - y0)),
            };
            documents.push(Placement {
                style: s,
                quad: q.translated(dx, dy),
            });
        }
        Hazard::TwoDocuments => {
            let s = style(&mut rng, false);
            let first = placed(&mut rng, s, size, (0.05, 0.2), margin);
            let t = style(&mut rng, false);
            let second = loop {
                let q = placed(&mut rng, t, size, (0.05, 0.2), margin);
                // Apart, with a visible gap (5% of the frame's short side): cards that touch
                // read as one outline to a person too.
                if q.iou(&first) == 0.0 && gap(&q, &first) > 0.05 * w.min(h) {
                    break q;
                }
            };
            documents.push(Placement {
                style: s,
                quad: first,
            });
            documents.push(Placement {
                style: t,
                quad: second,
            });
        }
        Hazard::PrintedSheet | Hazard::Screen => {
            let s = style(&mut rng, false);
            let screen = hazard == Hazard::Screen;
            let grow = if screen { (1.08, 1.8) } else { (1.3, 2.6) };
            let (q, carrier) = loop {
                let q = placed(&mut rng, s, size, (0.06, 0.35), margin);
                let (gx, gy) = (rng.range(grow.0, grow.1), rng.range(grow.0, grow.1));
                let offset = (
                    rng.range(-0.15, 0.15) * (gx - 1.0),
                    rng.range(-0.15, 0.15) * (gy - 1.0),
                );
                let outer = around(&q, gx, gy, offset);
                // The carrier may run off the frame; the document may not.
                if outer.is_convex() {
                    let carrier = if screen {
                        let bezel = rng.range(1.02, 1.1);
                        Carrier::Screen {
                            device: around(&outer, bezel, bezel, (0.0, 0.0)),
                            panel: outer,
                        }
                    } else {
                        Carrier::Sheet(outer)
                    };
                    break (q, carrier);
                }
            };
            extras.carriers.push(carrier);
            documents.push(Placement { style: s, quad: q });
        }
        Hazard::Fingers | Hazard::Glare => {
            let s = style(&mut rng, false);
            let q = placed(&mut rng, s, size, (0.1, 0.5), margin);
            if hazard == Hazard::Fingers {
                extras.fingers = fingers_over(&mut rng, &q, size);
            } else {
                extras.glares = glare_on(&mut rng, &q);
            }
            documents.push(Placement { style: s, quad: q });
        }
    }
    let spec = SceneSpec {
        seed,
        width,
        height,
        background,
        documents,
        blur_sigma: rng.range(0.3, 1.6) as f32,
        noise_sigma: rng.range(1.0, 5.0),
        light_gradient: rng.range(0.0, 0.35),
        jpeg_quality: rng.int(75, 95) as u8,
        extras,
    };
    (spec, hazard)
}
