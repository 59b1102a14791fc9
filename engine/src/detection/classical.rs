//! Finding identity documents in a photo: every card- or passport-shaped quadrilateral,
//! with corners in original-image pixels, also where a corner lies outside the frame.
//!
//! Classical method: colour edges on a small working copy, straight lines from an
//! orientation-guided Hough transform, and every pair of roughly parallel line pairs
//! tried as an outline. An outline is scored by how much of its visible perimeter is
//! backed by image edges running the same way; the best non-overlapping outlines above
//! the confidence threshold are the documents. Corners come from intersecting lines, so
//! a cut-off corner is still placed where its sides meet, outside the image.

use std::f64::consts::PI;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::config::DetectionConfig;
use crate::geometry::{Line, Point, Quad, angle_between, clip_segment, normalise_angle};
use crate::photo::raster::{EdgeMap, WorkImage};

/// A document found in a photo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectedDocument {
    /// Corners in original-image pixel coordinates, clockwise from the top-left-most;
    /// they may lie outside the image when the document is cut off.
    pub quad: Quad,
    /// How sure the detector is (0..1). Learned detector: the model's mean document
    /// probability over the region. Classical detector: the fraction of the visible
    /// outline backed by image edges.
    pub confidence: f64,
}

const THETA_BINS: usize = 180;
/// Edge pixels vote for line angles this many bins either side of their own direction.
const VOTE_SPREAD: isize = 6;
/// An edge supports an outline side when its direction is within this angle of the side's normal.
const ALIGN_TOLERANCE: f64 = 20.0 * PI / 180.0;
/// Width of an orientation group, in angle bins (degrees).
const ORIENTATION_GROUP: usize = 5;
/// Most lines kept per orientation group.
const LINES_PER_ORIENTATION: usize = 12;
/// Largest fraction of an inferred side that may fall inside the frame.
const HIDDEN_SIDE_VISIBLE: f64 = 0.3;
/// How much less support an enclosing outline may have and still be preferred.
const ENCLOSING_MARGIN: f64 = 0.08;
/// Search distance (working pixels) either side of an outline for a supporting edge.
const SUPPORT_REACH: i32 = 2;

/// Finds every document in an upright photo.
pub fn detect_documents(rgb: &RgbImage, cfg: &DetectionConfig) -> Vec<DetectedDocument> {
    let mut work = WorkImage::from_rgb(rgb, cfg.work_side);
    work.blur(cfg.blur_sigma);
    let edges = EdgeMap::detect(&work, cfg.min_edge_strength, cfg.noise_factor);
    let lines = hough_lines(&edges, cfg.max_lines);
    let candidates = outline_candidates(&lines, &edges, cfg);
    let chosen = select(candidates, cfg.min_confidence, cfg.secondary_ratio);
    let (sx, sy) = (
        f64::from(rgb.width()) / work.width as f64,
        f64::from(rgb.height()) / work.height as f64,
    );
    chosen
        .into_iter()
        .map(|c| {
            let quad = refine(&c.quad, &edges);
            DetectedDocument {
                quad: Quad(quad.0.map(|p| Point::new(p.x * sx, p.y * sy))).canonical(),
                confidence: c.score,
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
struct HoughLine {
    line: Line,
    votes: u32,
}

fn hough_lines(edges: &EdgeMap, max_lines: usize) -> Vec<HoughLine> {
    let (w, h) = (edges.width, edges.height);
    let diag = ((w * w + h * h) as f64).sqrt().ceil() as usize + 1;
    let rho_bins = 2 * diag + 1;
    let trig: Vec<(f64, f64)> = (0..THETA_BINS)
        .map(|t| {
            let a = t as f64 * PI / THETA_BINS as f64;
            (a.cos(), a.sin())
        })
        .collect();
    let mut acc = vec![0u32; THETA_BINS * rho_bins];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if edges.strength[i] <= 0.0 {
                continue;
            }
            let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
            let centre = (f64::from(edges.direction[i]) / PI * THETA_BINS as f64).round() as isize;
            for dt in -VOTE_SPREAD..=VOTE_SPREAD {
                let t = (centre + dt).rem_euclid(THETA_BINS as isize) as usize;
                let (c, s) = trig[t];
                let r = (px * c + py * s).round() as isize + diag as isize;
                acc[t * rho_bins + r as usize] += 1;
            }
        }
    }
    // A side must be long enough to matter: a tenth of the shorter working side.
    let min_votes = (w.min(h) as u32 / 10).max(12);
    let value = |t: isize, r: isize| -> u32 {
        // Angles wrap at π with the sign of rho flipped.
        let (t, r) = if t < 0 {
            (t + THETA_BINS as isize, 2 * diag as isize - r)
        } else if t >= THETA_BINS as isize {
            (t - THETA_BINS as isize, 2 * diag as isize - r)
        } else {
            (t, r)
        };
        if r < 0 || r >= rho_bins as isize {
            0
        } else {
            acc[t as usize * rho_bins + r as usize]
        }
    };
    let mut peaks = Vec::new();
    for t in 0..THETA_BINS as isize {
        for r in 0..rho_bins as isize {
            let v = acc[t as usize * rho_bins + r as usize];
            if v < min_votes {
                continue;
            }
            let mut is_peak = true;
            'window: for dt in -4..=4isize {
                for dr in -4..=4isize {
                    if (dt, dr) == (0, 0) {
                        continue;
                    }
                    let n = value(t + dt, r + dr);
                    // Ties go to the earlier cell so a flat peak yields one line.
                    if n > v || (n == v && (dt, dr) < (0, 0)) {
                        is_peak = false;
                        break 'window;
                    }
                }
            }
            if is_peak {
                peaks.push(HoughLine {
                    line: Line {
                        theta: t as f64 * PI / THETA_BINS as f64,
                        rho: (r - diag as isize) as f64,
                    },
                    votes: v,
                });
            }
        }
    }
    // Votes alone favour texture: a woven or grained surface yields many long lines
    // made of short dashes. A document side is one unbroken edge, so the strongest
    // peaks are re-ranked by their longest continuous run of aligned edge pixels.
    peaks.sort_by_key(|p| std::cmp::Reverse(p.votes));
    peaks.truncate(max_lines * 4);
    let min_run = w.min(h) as u32 / 12;
    for p in &mut peaks {
        p.votes = longest_run(p.line, edges);
    }
    peaks.retain(|p| p.votes >= min_run);
    peaks.sort_by_key(|p| std::cmp::Reverse(p.votes));
    // Grain and weave give many parallel lines of one orientation; cap each orientation
    // so that they cannot crowd out the sides of a document that runs another way.
    let mut per_orientation = [0usize; THETA_BINS / ORIENTATION_GROUP];
    peaks.retain(|p| {
        let group = ((p.line.theta / PI * THETA_BINS as f64) as usize / ORIENTATION_GROUP)
            .min(per_orientation.len() - 1);
        per_orientation[group] += 1;
        per_orientation[group] <= LINES_PER_ORIENTATION
    });
    peaks.truncate(max_lines);
    peaks
}

/// Length (pixels) of the longest stretch of `line` backed by aligned edges, bridging
/// gaps of up to eight pixels (glare, fingers, a weave under a shadow).
fn longest_run(line: Line, edges: &EdgeMap) -> u32 {
    let (w, h) = (edges.width as f64, edges.height as f64);
    let (c, s) = line.normal();
    let foot = Point::new(line.rho * c, line.rho * s);
    let far = w + h;
    let a = Point::new(foot.x + s * far, foot.y - c * far);
    let b = Point::new(foot.x - s * far, foot.y + c * far);
    let Some((p, q)) = clip_segment(a, b, w - 1.0, h - 1.0) else {
        return 0;
    };
    let len = p.distance(q);
    let (dx, dy) = ((q.x - p.x) / len, (q.y - p.y) / len);
    let (mut best, mut run, mut gap) = (0u32, 0u32, 0u32);
    for step in 0..len as usize {
        let (x, y) = (p.x + dx * step as f64, p.y + dy * step as f64);
        let hit = (-SUPPORT_REACH..=SUPPORT_REACH).any(|o| {
            edge_at(edges, x + c * f64::from(o), y + s * f64::from(o))
                .is_some_and(|dir| angle_between(dir, line.theta) <= ALIGN_TOLERANCE)
        });
        if hit {
            run += 1 + gap;
            gap = 0;
            best = best.max(run);
        } else {
            gap += 1;
            if gap > 8 {
                run = 0;
                gap = 0;
            }
        }
    }
    best
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    quad: Quad,
    score: f64,
    /// One side was inferred outside the frame rather than seen.
    cut_off: bool,
}

/// A line pair that could be two opposite sides of one document.
struct SidePair {
    a: Line,
    b: Line,
    direction: f64,
}

fn outline_candidates(
    lines: &[HoughLine],
    edges: &EdgeMap,
    cfg: &DetectionConfig,
) -> Vec<Candidate> {
    let (w, h) = (edges.width as f64, edges.height as f64);
    let min_sep = w.min(h) * 0.08;
    let mut pairs = Vec::new();
    for (i, a) in lines.iter().enumerate() {
        for b in &lines[i + 1..] {
            // Perspective makes opposite sides converge, but not by much on a hand-held shot.
            if angle_between(a.line.theta, b.line.theta) > 25f64.to_radians() {
                continue;
            }
            // Distance between the lines, measured where the first passes nearest the centre.
            let mid = Point::new(w / 2.0, h / 2.0);
            let (nx, ny) = a.line.normal();
            let d = a.line.signed_distance(mid);
            let foot = Point::new(mid.x - d * nx, mid.y - d * ny);
            if b.line.signed_distance(foot).abs() < min_sep {
                continue;
            }
            pairs.push(SidePair {
                a: a.line,
                b: b.line,
                direction: mean_angle(a.line.theta, b.line.theta),
            });
        }
    }
    let image_area = w * h;
    let mut out = Vec::new();
    for (i, p) in pairs.iter().enumerate() {
        for q in &pairs[i + 1..] {
            if angle_between(p.direction, q.direction) < 60f64.to_radians() {
                continue;
            }
            let corners = [
                p.a.intersect(q.a),
                p.a.intersect(q.b),
                p.b.intersect(q.b),
                p.b.intersect(q.a),
            ];
            let [Some(c0), Some(c1), Some(c2), Some(c3)] = corners else {
                continue;
            };
            let quad = Quad([c0, c1, c2, c3]);
            if !plausible_shape(&quad, w, h, image_area, cfg)
                || !outside_corners_reach_border(&quad, edges)
            {
                continue;
            }
            out.extend(scored(quad, false, edges, cfg));
        }
    }
    out.extend(cut_off_candidates(&pairs, lines, edges, cfg));
    out
}

/// Outlines of documents with one whole side outside the frame: a line pair and a
/// crossing line give three sides, and the fourth is put where the document's format
/// says it must be. Only kept when that side is entirely outside the image, so a fully
/// visible document is always judged by its own four edges.
fn cut_off_candidates(
    pairs: &[SidePair],
    lines: &[HoughLine],
    edges: &EdgeMap,
    cfg: &DetectionConfig,
) -> Vec<Candidate> {
    let (w, h) = (edges.width as f64, edges.height as f64);
    let aspects = [85.6 / 54.0, 125.0 / 88.0];
    let mut out = Vec::new();
    for p in pairs {
        for l in lines {
            if angle_between(p.direction, l.line.theta) < 60f64.to_radians() {
                continue;
            }
            let (Some(ca), Some(cb)) = (p.a.intersect(l.line), p.b.intersect(l.line)) else {
                continue;
            };
            let span = ca.distance(cb);
            for ratio in aspects.iter().flat_map(|a| [*a, 1.0 / a]) {
                for sign in [1.0, -1.0] {
                    let hidden = Line {
                        theta: l.line.theta,
                        rho: l.line.rho + sign * span * ratio,
                    };
                    let (Some(cb2), Some(ca2)) = (p.b.intersect(hidden), p.a.intersect(hidden))
                    else {
                        continue;
                    };
                    // The inferred side must lie (almost) wholly outside the frame; a short
                    // stretch inside is allowed because its position is only estimated and
                    // a stub that short yields no line of its own.
                    let hidden_length = cb2.distance(ca2);
                    if clip_segment(cb2, ca2, w, h)
                        .is_some_and(|(p, q)| p.distance(q) > HIDDEN_SIDE_VISIBLE * hidden_length)
                    {
                        continue;
                    }
                    let quad = Quad([ca, cb, cb2, ca2]);
                    if !plausible_shape(&quad, w, h, w * h, cfg)
                        || !runs_into_border(cb, cb2, edges)
                        || !runs_into_border(ca, ca2, edges)
                        || continues_past(ca2, ca, edges)
                        || continues_past(cb2, cb, edges)
                        || continues_past(cb, ca, edges)
                        || continues_past(ca, cb, edges)
                    {
                        continue;
                    }
                    out.extend(scored(quad, true, edges, cfg));
                }
            }
        }
    }
    out
}

/// For every corner outside the frame, both sides that meet there must be backed by
/// edges up to the border; otherwise the corner is an artefact of a wrong line.
fn outside_corners_reach_border(quad: &Quad, edges: &EdgeMap) -> bool {
    let (w, h) = (edges.width as f64, edges.height as f64);
    let c = quad.0;
    (0..4).all(|i| {
        let p = c[i];
        let inside = p.x >= 0.0 && p.y >= 0.0 && p.x <= w && p.y <= h;
        inside
            || (runs_into_border(c[(i + 1) % 4], p, edges)
                && runs_into_border(c[(i + 3) % 4], p, edges))
    })
}

/// True when the side from `inside` towards `outside` is backed by an edge right up to
/// the image border: the document really continues past the frame, rather than ending
/// just inside it (which is a document close to the border, not a cut-off one).
fn runs_into_border(inside: Point, outside: Point, edges: &EdgeMap) -> bool {
    let (w, h) = (edges.width as f64, edges.height as f64);
    let Some((p, q)) = clip_segment(inside, outside, w, h) else {
        return false;
    };
    let len = p.distance(q);
    if len < 6.0 {
        return false;
    }
    let (dx, dy) = ((q.x - p.x) / len, (q.y - p.y) / len);
    let normal = normalise_angle(dy.atan2(dx) + PI / 2.0);
    let (nx, ny) = (-dy, dx);
    // Sobel leaves the outermost pixel row without edges, so start two pixels in.
    let hits = [2.0, 3.0, 4.0, 5.0]
        .iter()
        .filter(|&&back| {
            let (x, y) = (q.x - dx * back, q.y - dy * back);
            (-SUPPORT_REACH..=SUPPORT_REACH).any(|o| {
                edge_at(edges, x + nx * f64::from(o), y + ny * f64::from(o))
                    .is_some_and(|dir| angle_between(dir, normal) <= ALIGN_TOLERANCE)
            })
        })
        .count();
    hits >= 3
}

/// True when the edge running from `from` to `corner` goes on past the corner: texture
/// lines and long object edges do, the sides of a card stop where they meet.
fn continues_past(from: Point, corner: Point, edges: &EdgeMap) -> bool {
    let (w, h) = (edges.width as f64, edges.height as f64);
    if corner.x < 0.0 || corner.y < 0.0 || corner.x > w || corner.y > h {
        return false;
    }
    let len = from.distance(corner).max(1e-9);
    let (dx, dy) = ((corner.x - from.x) / len, (corner.y - from.y) / len);
    let normal = normalise_angle(dy.atan2(dx) + PI / 2.0);
    let (nx, ny) = (-dy, dx);
    let hits = (3..=8)
        .filter(|&ahead| {
            let (x, y) = (
                corner.x + dx * f64::from(ahead),
                corner.y + dy * f64::from(ahead),
            );
            (-1..=1).any(|o| {
                edge_at(edges, x + nx * f64::from(o), y + ny * f64::from(o))
                    .is_some_and(|dir| angle_between(dir, normal) <= ALIGN_TOLERANCE)
            })
        })
        .count();
    hits > 3
}

/// The outline as a candidate if its edge support is worth keeping.
fn scored(quad: Quad, cut_off: bool, edges: &EdgeMap, cfg: &DetectionConfig) -> Option<Candidate> {
    edge_support(&quad, edges)
        .filter(|score| *score >= cfg.min_confidence * 0.8)
        .map(|score| Candidate {
            quad,
            score,
            cut_off,
        })
}

fn mean_angle(a: f64, b: f64) -> f64 {
    let d = (b - a).rem_euclid(PI);
    let d = if d > PI / 2.0 { d - PI } else { d };
    normalise_angle(a + d / 2.0)
}

fn plausible_shape(quad: &Quad, w: f64, h: f64, image_area: f64, cfg: &DetectionConfig) -> bool {
    if !quad.is_convex() {
        return false;
    }
    // A document mostly outside the photo cannot be judged; keep corners near the frame.
    if quad
        .0
        .iter()
        .any(|p| p.x < -0.5 * w || p.x > 1.5 * w || p.y < -0.5 * h || p.y > 1.5 * h)
    {
        return false;
    }
    let area = quad.area();
    if area < cfg.min_area_fraction * image_area || area > 2.0 * image_area {
        return false;
    }
    if !(cfg.min_aspect..=cfg.max_aspect).contains(&quad.aspect()) {
        return false;
    }
    let s = quad.sides().map(|(a, b)| a.distance(b));
    if s[0].min(s[2]) / s[0].max(s[2]) < 0.6 || s[1].min(s[3]) / s[1].max(s[3]) < 0.6 {
        return false;
    }
    // Corner angles of a hand-held card stay well away from degenerate.
    let c = quad.0;
    (0..4).all(|i| {
        let (prev, cur, next) = (c[(i + 3) % 4], c[i], c[(i + 1) % 4]);
        let v1 = (prev.x - cur.x, prev.y - cur.y);
        let v2 = (next.x - cur.x, next.y - cur.y);
        let cos = (v1.0 * v2.0 + v1.1 * v2.1) / (v1.0.hypot(v1.1) * v2.0.hypot(v2.1));
        cos.abs() < 50f64.to_radians().cos()
    })
}

/// Fraction of the outline's visible length that runs along aligned image edges, or
/// `None` when too little of it is visible or one visible side is unsupported.
fn edge_support(quad: &Quad, edges: &EdgeMap) -> Option<f64> {
    let (w, h) = (edges.width as f64, edges.height as f64);
    let perimeter: f64 = quad.sides().iter().map(|(a, b)| a.distance(*b)).sum();
    let mut visible_total = 0.0;
    let mut supported_total = 0.0;
    let mut per_side = [(0.0f64, 0.0f64); 4];
    for (k, (a, b)) in quad.sides().into_iter().enumerate() {
        let Some((p, q)) = clip_segment(a, b, w - 1.0, h - 1.0) else {
            continue;
        };
        let (visible, supported) = side_support(p, q, edges);
        per_side[k] = (visible, supported);
        visible_total += visible;
        supported_total += supported;
    }
    if visible_total < 0.5 * perimeter {
        return None;
    }
    for (visible, supported) in per_side {
        if visible >= 8.0 && supported / visible < 0.45 {
            return None;
        }
    }
    Some(supported_total / visible_total)
}

fn side_support(p: Point, q: Point, edges: &EdgeMap) -> (f64, f64) {
    let len = p.distance(q);
    let steps = len.floor() as usize;
    if steps == 0 {
        return (0.0, 0.0);
    }
    let (dx, dy) = ((q.x - p.x) / len, (q.y - p.y) / len);
    let normal = normalise_angle(dy.atan2(dx) + PI / 2.0);
    let (nx, ny) = (-dy, dx);
    let mut hits = 0usize;
    for s in 0..steps {
        let (x, y) = (p.x + dx * (s as f64 + 0.5), p.y + dy * (s as f64 + 0.5));
        let found = (-SUPPORT_REACH..=SUPPORT_REACH).any(|o| {
            let (ex, ey) = (x + nx * f64::from(o), y + ny * f64::from(o));
            edge_at(edges, ex, ey).is_some_and(|dir| angle_between(dir, normal) <= ALIGN_TOLERANCE)
        });
        hits += usize::from(found);
    }
    (steps as f64, hits as f64)
}

fn edge_at(edges: &EdgeMap, x: f64, y: f64) -> Option<f64> {
    if x < 0.0 || y < 0.0 {
        return None;
    }
    let (xi, yi) = (x as usize, y as usize);
    if xi >= edges.width || yi >= edges.height {
        return None;
    }
    let i = yi * edges.width + xi;
    (edges.strength[i] > 0.0).then(|| f64::from(edges.direction[i]))
}

/// Keeps the best outlines that do not overlap, preferring an enclosing outline of
/// nearly the same support over one inside it (a printed frame on a card, say).
///
/// A second document must be nearly as well supported as the first (`secondary_ratio`):
/// outlines pieced together from the edges of unrelated objects reach the absolute
/// threshold now and then, but a second real card is as crisp as the first.
fn select(
    mut candidates: Vec<Candidate>,
    min_confidence: f64,
    secondary_ratio: f64,
) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    // Outlines with an inferred side are weaker evidence: they may stand for a document
    // only when no fully seen outline does, or as the true extent of one that is seen.
    let mut chosen = pick_anchors(&candidates, false, min_confidence);
    if chosen.is_empty() {
        chosen = pick_anchors(&candidates, true, min_confidence);
        chosen.truncate(1);
    }
    let best = chosen.iter().map(|c| c.score).fold(0.0, f64::max);
    chosen.retain(|c| c.score >= secondary_ratio * best);
    chosen
}

fn pick_anchors(candidates: &[Candidate], cut_off: bool, min_confidence: f64) -> Vec<Candidate> {
    let mut chosen: Vec<Candidate> = Vec::new();
    for anchor in candidates.iter().filter(|c| c.cut_off == cut_off) {
        if anchor.score < min_confidence {
            break;
        }
        let area = anchor.quad.area();
        let overlaps = chosen.iter().any(|kept| {
            anchor.quad.intersection_area(&kept.quad) > 0.2 * area.min(kept.quad.area())
        });
        // An object partly under a card borrows the card's edge as one of its sides;
        // such an outline is not a second document.
        if overlaps
            || chosen
                .iter()
                .any(|kept| shares_side(&anchor.quad, &kept.quad))
        {
            continue;
        }
        // Among outlines nearly as well supported that enclose this one, the largest is
        // the document's own edge; the others are printed frames or header bands.
        let outer = candidates
            .iter()
            .filter(|c| c.score >= anchor.score - ENCLOSING_MARGIN && c.score >= min_confidence)
            .filter(|c| {
                c.quad.area() > 1.05 * area && c.quad.intersection_area(&anchor.quad) > 0.9 * area
            })
            .max_by(|a, b| a.quad.area().total_cmp(&b.quad.area()));
        chosen.push(*outer.unwrap_or(anchor));
    }
    chosen
}

/// True when a side of `a` lies along a side of `b` (within a few working pixels).
fn shares_side(a: &Quad, b: &Quad) -> bool {
    a.sides().iter().any(|&(p, q)| {
        b.sides().iter().any(|&(r, s)| {
            let len = r.distance(s).max(1e-9);
            let dist =
                |x: Point| ((s.x - r.x) * (x.y - r.y) - (s.y - r.y) * (x.x - r.x)).abs() / len;
            dist(p) < 3.0 && dist(q) < 3.0
        })
    })
}

/// Refits each side to the edge pixels along it, for sub-pixel corners.
fn refine(quad: &Quad, edges: &EdgeMap) -> Quad {
    let (w, h) = (edges.width as f64, edges.height as f64);
    let sides = quad.sides();
    let mut lines = [None; 4];
    for (k, (a, b)) in sides.into_iter().enumerate() {
        let len = a.distance(b);
        let (dx, dy) = ((b.x - a.x) / len, (b.y - a.y) / len);
        let normal = normalise_angle(dy.atan2(dx) + PI / 2.0);
        let side_line = Line {
            theta: normal,
            rho: a.x * normal.cos() + a.y * normal.sin(),
        };
        lines[k] = Some(side_line);
        let Some((p, q)) = clip_segment(a, b, w - 1.0, h - 1.0) else {
            continue;
        };
        let (x0, x1) = (p.x.min(q.x) - 3.0, p.x.max(q.x) + 3.0);
        let (y0, y1) = (p.y.min(q.y) - 3.0, p.y.max(q.y) + 3.0);
        let mut pts = Vec::new();
        for y in (y0.max(0.0) as usize)..=(y1.min(h - 1.0) as usize) {
            for x in (x0.max(0.0) as usize)..=(x1.min(w - 1.0) as usize) {
                let i = y * edges.width + x;
                if edges.strength[i] <= 0.0 {
                    continue;
                }
                let pt = Point::new(x as f64 + 0.5, y as f64 + 0.5);
                // Stay clear of the corners, where the neighbouring side's edges start.
                let along = (pt.x - a.x) * dx + (pt.y - a.y) * dy;
                if along < 0.08 * len || along > 0.92 * len {
                    continue;
                }
                if side_line.signed_distance(pt).abs() <= 2.0
                    && angle_between(f64::from(edges.direction[i]), normal) <= ALIGN_TOLERANCE
                {
                    pts.push((pt, f64::from(edges.strength[i])));
                }
            }
        }
        lines[k] = Line::fit(&pts)
            .filter(|l| angle_between(l.theta, normal) < 3f64.to_radians() && pts.len() >= 10)
            .or(Some(side_line));
    }
    let [Some(l0), Some(l1), Some(l2), Some(l3)] = lines else {
        return *quad;
    };
    let corners = [
        l3.intersect(l0),
        l0.intersect(l1),
        l1.intersect(l2),
        l2.intersect(l3),
    ];
    match corners {
        [Some(a), Some(b), Some(c), Some(d)] => {
            let refined = Quad([a, b, c, d]);
            // A refit that moved a corner far means the edges were ambiguous; keep the original.
            if refined
                .0
                .iter()
                .zip(quad.0.iter())
                .all(|(r, o)| r.distance(*o) < 4.0)
            {
                refined
            } else {
                *quad
            }
        }
        _ => *quad,
    }
}
