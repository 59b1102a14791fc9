//! Moves each side of a coarse outline onto the photo's own edge, in photo pixels.
//!
//! The learned detector places sides to a fraction of its grid cell, which is tens of
//! pixels in a large photo. Along each visible side, colour profiles across the side
//! are searched for the strongest step near the coarse position; a line is fitted
//! through the steps and replaces the side only when enough of the side agrees, so a
//! low-contrast edge or a finger keeps the learned position instead of jumping to
//! something else.

use image::RgbImage;

use crate::geometry::{Line, Point, Quad, angle_between, clip_segment};

/// Profiles taken along each side.
const SAMPLES: usize = 40;
/// Search distance either side of the coarse position, in grid cells.
const REACH: f64 = 0.6;
/// Spread of the preference for steps near the coarse position, in grid cells.
const PRIOR: f64 = 0.35;
/// Weakest colour step (grey levels across 2 px) that counts as an edge.
const MIN_STEP: f64 = 6.0;
/// Fraction of a side's profiles that must find an edge on one line.
const MIN_AGREEING: f64 = 0.45;
/// Largest turn of a snapped side, in degrees.
const MAX_TURN: f64 = 4.0;

fn sample(rgb: &RgbImage, x: f64, y: f64) -> [f64; 3] {
    let (w, h) = (i64::from(rgb.width()), i64::from(rgb.height()));
    let (xf, yf) = ((x - 0.5).floor(), (y - 0.5).floor());
    let (fx, fy) = (x - 0.5 - xf, y - 0.5 - yf);
    let mut out = [0.0; 3];
    for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
        for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
            let px = rgb.get_pixel(
                (xf as i64 + dx).clamp(0, w - 1) as u32,
                (yf as i64 + dy).clamp(0, h - 1) as u32,
            );
            for c in 0..3 {
                out[c] += f64::from(px[c]) * wx * wy;
            }
        }
    }
    out
}

/// The strongest colour step across the side at `p` (offset along `normal`, in pixels),
/// weighted towards the coarse position; `None` where no step is strong enough.
fn step_at(
    rgb: &RgbImage,
    p: Point,
    normal: (f64, f64),
    tangent: (f64, f64),
    cell: f64,
) -> Option<f64> {
    let reach = (REACH * cell).max(3.0).ceil() as i64;
    // Colour profile across the side, averaged over a short stretch along it.
    let profile: Vec<[f64; 3]> = (-reach - 1..=reach + 1)
        .map(|o| {
            let mut acc = [0.0; 3];
            for t in [-2.0, 0.0, 2.0] {
                let q = sample(
                    rgb,
                    p.x + normal.0 * o as f64 + tangent.0 * t,
                    p.y + normal.1 * o as f64 + tangent.1 * t,
                );
                for c in 0..3 {
                    acc[c] += q[c] / 3.0;
                }
            }
            acc
        })
        .collect();
    let strength = |i: usize| -> f64 {
        (0..3)
            .map(|c| (profile[i + 1][c] - profile[i - 1][c]).abs())
            .fold(0.0, f64::max)
    };
    let sigma = PRIOR * cell;
    let (mut best, mut best_score) = (None, 0.0);
    for i in 1..profile.len() - 1 {
        let s = strength(i);
        let offset = i as f64 - (reach + 1) as f64;
        let score = s * (-(offset * offset) / (2.0 * sigma * sigma)).exp();
        if s >= MIN_STEP && score > best_score {
            best_score = score;
            best = Some(i);
        }
    }
    let i = best?;
    // Parabola through the peak and its neighbours, for a sub-pixel position.
    let (l, m, r) = (
        if i > 1 { strength(i - 1) } else { 0.0 },
        strength(i),
        if i + 2 < profile.len() {
            strength(i + 1)
        } else {
            0.0
        },
    );
    let denom = l - 2.0 * m + r;
    let shift = if denom < 0.0 {
        (0.5 * (l - r) / denom).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    Some(i as f64 - (reach + 1) as f64 + shift)
}

fn snap_side(rgb: &RgbImage, a: Point, b: Point, cell: f64) -> Option<Line> {
    let (w, h) = (f64::from(rgb.width()), f64::from(rgb.height()));
    let len = a.distance(b);
    let tangent = ((b.x - a.x) / len, (b.y - a.y) / len);
    let normal = (-tangent.1, tangent.0);
    let (p, q) = clip_segment(a, b, w - 1.0, h - 1.0)?;
    let visible = p.distance(q);
    if visible < 2.0 * cell {
        return None;
    }
    let mut points = Vec::new();
    for k in 0..SAMPLES {
        // Clear of the corners, where the neighbouring side's edge starts.
        let t = 0.1 + 0.8 * (k as f64 + 0.5) / SAMPLES as f64;
        let s = Point::new(p.x + (q.x - p.x) * t, p.y + (q.y - p.y) * t);
        if let Some(o) = step_at(rgb, s, normal, tangent, cell) {
            points.push((Point::new(s.x + normal.0 * o, s.y + normal.1 * o), 1.0));
        }
    }
    let mut line = Line::fit(&points)?;
    let tolerance = (cell / 15.0).max(1.5);
    for _ in 0..2 {
        points.retain(|(pt, _)| line.signed_distance(*pt).abs() <= tolerance);
        line = Line::fit(&points)?;
    }
    let coarse = Line::fit(&[(a, 1.0), (b, 1.0)])?;
    let agreeing = points.len() as f64 / SAMPLES as f64;
    let mid = Point::new((p.x + q.x) / 2.0, (p.y + q.y) / 2.0);
    let ok = agreeing >= MIN_AGREEING
        && angle_between(line.theta, coarse.theta) <= MAX_TURN.to_radians()
        && line.signed_distance(mid).abs() <= REACH * cell;
    ok.then_some(line)
}

/// `quad` with every side that finds a clear edge within reach moved onto it; `cell`
/// is the coarse outline's uncertainty (the detector's grid cell) in photo pixels.
pub fn snap_quad(rgb: &RgbImage, quad: &Quad, cell: f64) -> Quad {
    snap_sides(rgb, quad, cell).0
}

/// Like [`snap_quad`], also saying how many sides found an edge (0 when the snapped
/// outline was rejected and `quad` kept).
pub fn snap_sides(rgb: &RgbImage, quad: &Quad, cell: f64) -> (Quad, usize) {
    let sides = quad.sides();
    let snapped: Vec<Option<Line>> = sides
        .iter()
        .map(|&(a, b)| snap_side(rgb, a, b, cell))
        .collect();
    let found = snapped.iter().filter(|l| l.is_some()).count();
    let lines: Vec<Line> = snapped
        .into_iter()
        .zip(sides)
        .map(|(l, (a, b))| {
            l.unwrap_or_else(|| Line::fit(&[(a, 1.0), (b, 1.0)]).expect("two points fit a line"))
        })
        .collect();
    let corners = [
        lines[3].intersect(lines[0]),
        lines[0].intersect(lines[1]),
        lines[1].intersect(lines[2]),
        lines[2].intersect(lines[3]),
    ];
    if let [Some(a), Some(b), Some(c), Some(d)] = corners {
        let snapped = Quad([a, b, c, d]);
        let moved_far = snapped
            .0
            .iter()
            .zip(quad.0.iter())
            .any(|(s, o)| s.distance(*o) > 2.0 * cell);
        if snapped.is_convex() && !moved_far {
            return (snapped.canonical(), found);
        }
    }
    (quad.canonical(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quad(pts: [(f64, f64); 4]) -> Quad {
        Quad(pts.map(|(x, y)| Point::new(x, y)))
    }

    /// A light card on a dark table, its edge blurred over about a pixel like a photo's.
    fn photo(card: &Quad) -> RgbImage {
        RgbImage::from_fn(800, 600, |x, y| {
            let mut cover = 0.0;
            for (sx, sy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let p = Point::new(f64::from(x) + sx, f64::from(y) + sy);
                if card
                    .sides()
                    .iter()
                    .all(|(a, b)| (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x) >= 0.0)
                {
                    cover += 0.25;
                }
            }
            let v = (40.0 + 170.0 * cover) as u8;
            image::Rgb([v, v, v.saturating_sub(10)])
        })
    }

    #[test]
    fn a_coarse_outline_moves_onto_the_edges() {
        let card = quad([
            (200.0, 150.0),
            (600.0, 170.0),
            (590.0, 430.0),
            (190.0, 410.0),
        ]);
        let image = photo(&card);
        let coarse = Quad(card.0.map(|p| Point::new(p.x + 6.0, p.y - 5.0)));
        let snapped = snap_quad(&image, &coarse, 12.5);
        for (s, t) in snapped.0.iter().zip(card.canonical().0.iter()) {
            assert!(s.distance(*t) < 1.0, "corner {s:?} vs {t:?}");
        }
    }

    #[test]
    fn without_an_edge_the_outline_stays() {
        let flat = RgbImage::from_pixel(800, 600, image::Rgb([120, 120, 120]));
        let coarse = quad([
            (200.0, 150.0),
            (600.0, 170.0),
            (590.0, 430.0),
            (190.0, 410.0),
        ]);
        let kept = snap_quad(&flat, &coarse, 12.5);
        for (k, c) in kept.0.iter().zip(coarse.canonical().0.iter()) {
            assert!(k.distance(*c) < 1e-6, "corner {k:?} vs {c:?}");
        }
    }
}
