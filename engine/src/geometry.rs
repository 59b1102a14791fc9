//! Plane geometry on document outlines: points, quadrilaterals, polygon clipping and IoU.
//!
//! Coordinates are continuous pixel coordinates: pixel `(i, j)` covers `[i, i+1) × [j, j+1)`,
//! so its centre is `(i + 0.5, j + 0.5)` and an image of width `w` spans `0..=w`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why four corners given by a person are not a document outline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum OutlineError {
    /// A coordinate is not a number.
    #[error("the outline's corners must be finite numbers")]
    NotFinite,
    /// The corners enclose next to nothing (repeated or in one line).
    #[error("the outline is degenerate: its corners are repeated or lie in one line")]
    Degenerate,
    /// The sides cross, or the outline bends inwards.
    #[error(
        "the outline must be convex, its four corners given in order round the document (its sides cross or it bends inwards)"
    )]
    NotConvex,
}

/// Least area (square pixels) a given outline may enclose: less is a slip of the hand,
/// not a document.
const MIN_OUTLINE_AREA: f64 = 16.0;

/// A point in continuous pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Horizontal position, growing to the right.
    pub x: f64,
    /// Vertical position, growing downwards.
    pub y: f64,
}

impl Point {
    /// Makes a point.
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    /// Euclidean distance to another point.
    pub fn distance(self, other: Point) -> f64 {
        (self.x - other.x).hypot(self.y - other.y)
    }

    /// This point with both coordinates multiplied by `factor`.
    pub fn scaled(self, factor: f64) -> Point {
        Point::new(self.x * factor, self.y * factor)
    }
}

/// A straight line in normal form: `x·cos(theta) + y·sin(theta) = rho`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// Angle of the line's normal, radians in `[0, π)`.
    pub theta: f64,
    /// Signed distance of the line from the origin.
    pub rho: f64,
}

impl Line {
    /// The unit normal of the line.
    pub fn normal(self) -> (f64, f64) {
        (self.theta.cos(), self.theta.sin())
    }

    /// Signed distance of `p` from the line.
    pub fn signed_distance(self, p: Point) -> f64 {
        let (c, s) = self.normal();
        p.x * c + p.y * s - self.rho
    }

    /// Where two lines cross, or `None` when they are (nearly) parallel.
    pub fn intersect(self, other: Line) -> Option<Point> {
        let (a1, b1) = self.normal();
        let (a2, b2) = other.normal();
        let det = a1 * b2 - a2 * b1;
        if det.abs() < 1e-6 {
            return None;
        }
        Some(Point::new(
            (self.rho * b2 - other.rho * b1) / det,
            (a1 * other.rho - a2 * self.rho) / det,
        ))
    }

    /// Total-least-squares fit through weighted points; `None` with fewer than two points.
    pub fn fit(points: &[(Point, f64)]) -> Option<Line> {
        let total: f64 = points.iter().map(|(_, w)| w).sum();
        if points.len() < 2 || total <= 0.0 {
            return None;
        }
        let mx = points.iter().map(|(p, w)| p.x * w).sum::<f64>() / total;
        let my = points.iter().map(|(p, w)| p.y * w).sum::<f64>() / total;
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        for (p, w) in points {
            let (dx, dy) = (p.x - mx, p.y - my);
            sxx += w * dx * dx;
            sxy += w * dx * dy;
            syy += w * dy * dy;
        }
        // The normal is the eigenvector of the scatter matrix with the smaller eigenvalue.
        let direction = 0.5 * (2.0 * sxy).atan2(sxx - syy);
        let theta = normalise_angle(direction + std::f64::consts::FRAC_PI_2);
        let rho = mx * theta.cos() + my * theta.sin();
        Some(Line { theta, rho })
    }
}

/// Maps an angle to `[0, π)`, the range of undirected line angles.
pub fn normalise_angle(theta: f64) -> f64 {
    theta.rem_euclid(std::f64::consts::PI)
}

/// Smallest angle between two undirected line angles, in `[0, π/2]`.
pub fn angle_between(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(std::f64::consts::PI);
    d.min(std::f64::consts::PI - d)
}

/// A document outline: four corners in order around the outline (either direction).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quad(pub [Point; 4]);

impl Quad {
    /// Area enclosed by the outline (shoelace formula).
    pub fn area(&self) -> f64 {
        polygon_area(&self.0)
    }

    /// The four sides as pairs of corners.
    pub fn sides(&self) -> [(Point, Point); 4] {
        let c = self.0;
        [(c[0], c[1]), (c[1], c[2]), (c[2], c[3]), (c[3], c[0])]
    }

    /// The mean length of the longer pair of opposite sides over that of the shorter
    /// pair: a document's proportions, roughly, whatever the perspective.
    pub fn aspect(&self) -> f64 {
        let s = self.sides().map(|(a, b)| a.distance(b));
        let (one, other) = ((s[0] + s[2]) / 2.0, (s[1] + s[3]) / 2.0);
        one.max(other) / one.min(other)
    }

    /// Axis-aligned bounds `(min_x, min_y, max_x, max_y)`.
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        let xs = self.0.iter().map(|p| p.x);
        let ys = self.0.iter().map(|p| p.y);
        (
            xs.clone().fold(f64::INFINITY, f64::min),
            ys.clone().fold(f64::INFINITY, f64::min),
            xs.fold(f64::NEG_INFINITY, f64::max),
            ys.fold(f64::NEG_INFINITY, f64::max),
        )
    }

    /// The outline moved by `(dx, dy)`.
    pub fn translated(&self, dx: f64, dy: f64) -> Quad {
        Quad(self.0.map(|p| Point::new(p.x + dx, p.y + dy)))
    }

    /// The mean of the four corners.
    pub fn centre(&self) -> Point {
        let [a, b, c, d] = self.0;
        Point::new((a.x + b.x + c.x + d.x) / 4.0, (a.y + b.y + c.y + d.y) / 4.0)
    }

    /// True when `p` lies inside the convex outline or on it (either corner order).
    pub fn contains(&self, p: Point) -> bool {
        let cross = self
            .sides()
            .map(|(a, b)| (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x));
        cross.iter().all(|&s| s >= 0.0) || cross.iter().all(|&s| s <= 0.0)
    }

    /// The outline with every coordinate multiplied by `factor`.
    pub fn scaled(&self, factor: f64) -> Quad {
        Quad(self.0.map(|p| p.scaled(factor)))
    }

    /// Axis-aligned bounds kept inside a `width × height` image, as `[x, y, w, h]` with
    /// at least one pixel each way.
    pub fn clamped_bounds(&self, width: u32, height: u32) -> [u32; 4] {
        let (x0, y0, x1, y1) = self.bounds();
        let x0 = x0.clamp(0.0, f64::from(width - 1)) as u32;
        let y0 = y0.clamp(0.0, f64::from(height - 1)) as u32;
        let x1 = x1.clamp(f64::from(x0 + 1), f64::from(width)) as u32;
        let y1 = y1.clamp(f64::from(y0 + 1), f64::from(height)) as u32;
        [x0, y0, x1 - x0, y1 - y0]
    }

    /// The same outline renumbered so that its first side belongs to the longer pair of
    /// opposite sides, with the mean lengths `(long, short)` of the two pairs.
    pub fn long_side_first(&self) -> (Quad, f64, f64) {
        let c = self.0;
        let first = (c[0].distance(c[1]) + c[2].distance(c[3])) / 2.0;
        let second = (c[1].distance(c[2]) + c[3].distance(c[0])) / 2.0;
        if first >= second {
            (*self, first, second)
        } else {
            (Quad([c[1], c[2], c[3], c[0]]), second, first)
        }
    }

    /// True when the corners turn the same way at each vertex (a convex, non-degenerate outline).
    pub fn is_convex(&self) -> bool {
        let c = self.0;
        let mut sign = 0.0;
        for i in 0..4 {
            let (a, b, d) = (c[i], c[(i + 1) % 4], c[(i + 2) % 4]);
            let cross = (b.x - a.x) * (d.y - b.y) - (b.y - a.y) * (d.x - b.x);
            if cross.abs() < 1e-9 || (sign != 0.0 && cross.signum() != sign) {
                return false;
            }
            sign = cross.signum();
        }
        true
    }

    /// A document outline from four corners given by a person (a reviewer's correction,
    /// `check --quad`, the API's `frontSideQuad`), in order round the document either way
    /// and possibly outside the photo for a cut-off document; returned clockwise from the
    /// top-left-most, as the detectors give theirs.
    pub fn from_corners(corners: [(f64, f64); 4]) -> Result<Quad, OutlineError> {
        if corners
            .iter()
            .any(|(x, y)| !x.is_finite() || !y.is_finite())
        {
            return Err(OutlineError::NotFinite);
        }
        let quad = Quad(corners.map(|(x, y)| Point::new(x, y)));
        // A bow tie encloses no area either, but its corners spread out: say what is
        // wrong with it rather than call it degenerate.
        let (x0, y0, x1, y1) = quad.bounds();
        if (x1 - x0) * (y1 - y0) < MIN_OUTLINE_AREA {
            return Err(OutlineError::Degenerate);
        }
        if !quad.is_convex() {
            return Err(OutlineError::NotConvex);
        }
        if quad.area() < MIN_OUTLINE_AREA {
            return Err(OutlineError::Degenerate);
        }
        Ok(quad.canonical())
    }

    /// Corners rotated so the first is the top-left-most (smallest x + y), clockwise on screen.
    pub fn canonical(&self) -> Quad {
        let mut c = self.0;
        if polygon_signed_area(&c) < 0.0 {
            c.reverse();
        }
        let start = (0..4)
            .min_by(|&a, &b| (c[a].x + c[a].y).total_cmp(&(c[b].x + c[b].y)))
            .unwrap_or(0);
        c.rotate_left(start);
        Quad(c)
    }

    /// Intersection over union with another convex outline.
    pub fn iou(&self, other: &Quad) -> f64 {
        let inter = intersection_area(&self.0, &other.0);
        let union = self.area() + other.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// Area of the overlap with another convex outline.
    pub fn intersection_area(&self, other: &Quad) -> f64 {
        intersection_area(&self.0, &other.0)
    }
}

fn polygon_signed_area(points: &[Point]) -> f64 {
    let n = points.len();
    let mut s = 0.0;
    for i in 0..n {
        let (a, b) = (points[i], points[(i + 1) % n]);
        s += a.x * b.y - b.x * a.y;
    }
    0.5 * s
}

/// Area of a simple polygon.
pub fn polygon_area(points: &[Point]) -> f64 {
    polygon_signed_area(points).abs()
}

/// Area of the intersection of two convex polygons (Sutherland–Hodgman clipping).
pub fn intersection_area(subject: &[Point], clip: &[Point]) -> f64 {
    let mut clip: Vec<Point> = clip.to_vec();
    if polygon_signed_area(&clip) < 0.0 {
        clip.reverse();
    }
    let mut output: Vec<Point> = subject.to_vec();
    for i in 0..clip.len() {
        if output.is_empty() {
            return 0.0;
        }
        let (a, b) = (clip[i], clip[(i + 1) % clip.len()]);
        let inside = |p: Point| (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x) >= 0.0;
        let input = std::mem::take(&mut output);
        for j in 0..input.len() {
            let (p, q) = (input[j], input[(j + 1) % input.len()]);
            let (pin, qin) = (inside(p), inside(q));
            if pin {
                output.push(p);
            }
            if pin != qin {
                output.push(segment_cross(p, q, a, b));
            }
        }
    }
    polygon_area(&output)
}

fn segment_cross(p: Point, q: Point, a: Point, b: Point) -> Point {
    let (r, s) = ((q.x - p.x, q.y - p.y), (b.x - a.x, b.y - a.y));
    let denom = r.0 * s.1 - r.1 * s.0;
    if denom.abs() < 1e-12 {
        return p;
    }
    let t = ((a.x - p.x) * s.1 - (a.y - p.y) * s.0) / denom;
    Point::new(p.x + t * r.0, p.y + t * r.1)
}

/// The part of segment `a..b` inside the rectangle `[0, w] × [0, h]` (Liang–Barsky), if any.
pub fn clip_segment(a: Point, b: Point, w: f64, h: f64) -> Option<(Point, Point)> {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, a.x), (dx, w - a.x), (-dy, a.y), (dy, h - a.y)] {
        if p.abs() < 1e-12 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 < t1).then(|| {
        (
            Point::new(a.x + t0 * dx, a.y + t0 * dy),
            Point::new(a.x + t1 * dx, a.y + t1 * dy),
        )
    })
}

/// A projective map of the plane, used to place a flat document into a scene.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    /// The map that sends the unit square's corners `(0,0) (1,0) (1,1) (0,1)` to `quad`.
    pub fn unit_square_to(quad: &Quad) -> Homography {
        let [p0, p1, p2, p3] = quad.0;
        let sx = p0.x - p1.x + p2.x - p3.x;
        let sy = p0.y - p1.y + p2.y - p3.y;
        let (dx1, dx2) = (p1.x - p2.x, p3.x - p2.x);
        let (dy1, dy2) = (p1.y - p2.y, p3.y - p2.y);
        let det = dx1 * dy2 - dx2 * dy1;
        let (g, h) = if det.abs() < 1e-12 {
            (0.0, 0.0)
        } else {
            ((sx * dy2 - dx2 * sy) / det, (dx1 * sy - sx * dy1) / det)
        };
        Homography([
            p1.x - p0.x + g * p1.x,
            p3.x - p0.x + h * p3.x,
            p0.x,
            p1.y - p0.y + g * p1.y,
            p3.y - p0.y + h * p3.y,
            p0.y,
            g,
            h,
            1.0,
        ])
    }

    /// Applies the map to a point.
    pub fn apply(&self, p: Point) -> Point {
        let m = self.0;
        let w = m[6] * p.x + m[7] * p.y + m[8];
        Point::new(
            (m[0] * p.x + m[1] * p.y + m[2]) / w,
            (m[3] * p.x + m[4] * p.y + m[5]) / w,
        )
    }

    /// The inverse map, or `None` for a degenerate one.
    pub fn inverse(&self) -> Option<Homography> {
        let m = self.0;
        let a = m[4] * m[8] - m[5] * m[7];
        let b = m[5] * m[6] - m[3] * m[8];
        let c = m[3] * m[7] - m[4] * m[6];
        let det = m[0] * a + m[1] * b + m[2] * c;
        if det.abs() < 1e-12 {
            return None;
        }
        let inv = [
            a,
            m[2] * m[7] - m[1] * m[8],
            m[1] * m[5] - m[2] * m[4],
            b,
            m[0] * m[8] - m[2] * m[6],
            m[2] * m[3] - m[0] * m[5],
            c,
            m[1] * m[6] - m[0] * m[7],
            m[0] * m[4] - m[1] * m[3],
        ];
        Some(Homography(inv.map(|v| v / det)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_outline_is_checked_and_put_in_the_detectors_order() {
        // Counter-clockwise from the bottom left; one corner outside the photo is fine.
        let q = Quad::from_corners([(0.0, 50.0), (80.0, 50.0), (80.0, 0.0), (-5.0, 0.0)]).unwrap();
        assert_eq!(q.0[0], Point::new(-5.0, 0.0));
        assert_eq!(q.0[1], Point::new(80.0, 0.0));
        assert_eq!(
            Quad::from_corners([(0.0, 0.0), (80.0, 50.0), (80.0, 0.0), (0.0, 50.0)]),
            Err(OutlineError::NotConvex),
            "a bow tie"
        );
        assert_eq!(
            Quad::from_corners([(0.0, 0.0), (10.0, 0.0), (20.0, 0.0), (30.0, 0.0)]),
            Err(OutlineError::Degenerate)
        );
        assert_eq!(
            Quad::from_corners([(0.0, 0.0), (f64::NAN, 0.0), (1.0, 1.0), (0.0, 1.0)]),
            Err(OutlineError::NotFinite)
        );
    }

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Quad {
        Quad([
            Point::new(x0, y0),
            Point::new(x1, y0),
            Point::new(x1, y1),
            Point::new(x0, y1),
        ])
    }

    #[test]
    fn iou_of_half_overlapping_squares_is_one_third() {
        let a = rect(0.0, 0.0, 2.0, 2.0);
        let b = rect(1.0, 0.0, 3.0, 2.0);
        assert!((a.iou(&b) - 1.0 / 3.0).abs() < 1e-9);
        assert!((a.iou(&a) - 1.0).abs() < 1e-9);
        assert_eq!(a.iou(&rect(5.0, 5.0, 6.0, 6.0)), 0.0);
    }

    #[test]
    fn lines_intersect_where_expected() {
        let vertical = Line {
            theta: 0.0,
            rho: 3.0,
        };
        let horizontal = Line {
            theta: std::f64::consts::FRAC_PI_2,
            rho: 4.0,
        };
        let p = vertical.intersect(horizontal).unwrap();
        assert!((p.x - 3.0).abs() < 1e-9 && (p.y - 4.0).abs() < 1e-9);
    }

    #[test]
    fn fitted_line_passes_through_points() {
        let pts: Vec<(Point, f64)> = (0..20)
            .map(|i| (Point::new(i as f64, 0.5 * i as f64 + 2.0), 1.0))
            .collect();
        let line = Line::fit(&pts).unwrap();
        for (p, _) in &pts {
            assert!(line.signed_distance(*p).abs() < 1e-6);
        }
    }

    #[test]
    fn homography_maps_square_corners_and_inverts() {
        let q = Quad([
            Point::new(10.0, 20.0),
            Point::new(110.0, 25.0),
            Point::new(105.0, 90.0),
            Point::new(12.0, 80.0),
        ]);
        let h = Homography::unit_square_to(&q);
        let unit = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
        for (i, (x, y)) in unit.iter().enumerate() {
            let p = h.apply(Point::new(*x, *y));
            assert!(p.distance(q.0[i]) < 1e-6);
        }
        let back = h.inverse().unwrap().apply(q.0[2]);
        assert!(back.distance(Point::new(1.0, 1.0)) < 1e-9);
    }

    #[test]
    fn segment_clipped_to_frame() {
        let (a, b) =
            clip_segment(Point::new(-10.0, 5.0), Point::new(20.0, 5.0), 10.0, 10.0).unwrap();
        assert!((a.x - 0.0).abs() < 1e-9 && (b.x - 10.0).abs() < 1e-9);
        assert!(
            clip_segment(Point::new(-10.0, -5.0), Point::new(-1.0, -5.0), 10.0, 10.0).is_none()
        );
    }
}
