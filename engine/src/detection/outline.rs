//! From a grid of document logits to document outlines in photo pixels.
//!
//! Each connected region of the grid where the logit is positive is one document. Its
//! boundary is located to a fraction of a cell where the logit crosses zero between two
//! neighbouring cells, and every crossing carries the outward normal of the logit field.
//! Crossings are grouped by normal into the four sides of a quadrilateral and a straight
//! line is fitted to each group; the corners are where neighbouring lines meet, so a
//! corner outside the frame is still placed where its sides would meet. The frame's own
//! edge makes no crossing, so a cut-off document's boundary along the frame is ignored
//! rather than mistaken for a side. A side wholly outside the frame is inferred from the
//! document formats' aspect ratios.

use std::f64::consts::{PI, TAU};

use crate::geometry::{Line, Point, Quad};
use crate::probability::logistic;

/// Long-to-short side ratio of an ID-1 card, one of the formats a hidden side is
/// inferred from.
const ID1_ASPECT: f64 = 85.6 / 54.0;
/// The same for an ID-3 passport data page.
const PASSPORT_ASPECT: f64 = 125.0 / 88.0;
/// Angular width of one bin of the normal histogram.
const BIN: f64 = 5.0 * PI / 180.0;
/// How far (radians) a side's normal may stray from a right angle to its neighbour's,
/// which hand-held perspective and stretching to a square input both cause.
const SIDE_SPREAD: f64 = 40.0 * PI / 180.0;
/// Fewest crossings that make a side.
const MIN_SIDE_POINTS: usize = 4;

/// A document outline found in the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outline {
    /// Corners in photo pixels (possibly outside the photo).
    pub quad: Quad,
    /// Mean document probability over the region's cells (the model's own, 0.5..1 at
    /// the zero level; lower for a document separated at a higher level).
    pub confidence: f64,
    /// Number of sides seen in the photo (4, or fewer when the document is cut off).
    pub sides_seen: usize,
    /// With exactly one side unseen: the outline with that side at the last boundary
    /// seen instead of where the format puts it, first parallel to the side opposite,
    /// then parallel to the frame's nearest edge (under perspective the two differ by
    /// more than snapping turns a side). A document ending within a cell of the
    /// frame's edge looks cut off on the grid; if the photo shows an edge there for
    /// every side of one of these outlines, it is the right one.
    pub near_frame: [Option<Quad>; 2],
}

#[derive(Debug, Clone, Copy)]
struct Crossing {
    at: Point,
    /// Outward normal angle, radians in `[0, 2π)`.
    normal: f64,
}

/// A square grid of logits over a `width × height` photo (the grid is stretched).
#[derive(Debug, Clone, Copy)]
pub struct LogitGrid<'a> {
    /// Row-major logits, `size × size`.
    pub logits: &'a [f32],
    /// Cells per side.
    pub size: usize,
    /// Photo width in pixels.
    pub width: f64,
    /// Photo height in pixels.
    pub height: f64,
}

impl LogitGrid<'_> {
    fn at(&self, col: isize, row: isize) -> f64 {
        let n = self.size as isize;
        f64::from(self.logits[(row.clamp(0, n - 1) * n + col.clamp(0, n - 1)) as usize])
    }

    /// Gradient of the logits in photo pixels, by central differences at a cell.
    fn gradient(&self, col: isize, row: isize) -> (f64, f64) {
        let gx = (self.at(col + 1, row) - self.at(col - 1, row)) / 2.0;
        let gy = (self.at(col, row + 1) - self.at(col, row - 1)) / 2.0;
        (
            gx * self.size as f64 / self.width,
            gy * self.size as f64 / self.height,
        )
    }

    fn photo_point(&self, col: f64, row: f64) -> Point {
        Point::new(
            (col + 0.5) * self.width / self.size as f64,
            (row + 0.5) * self.height / self.size as f64,
        )
    }

    /// Size of a cell in photo pixels (the larger of its two sides).
    fn cell(&self) -> f64 {
        self.width.max(self.height) / self.size as f64
    }
}

/// Every document outline in the grid whose region covers at least `min_cells` cells,
/// largest region first.
///
/// Two documents close together can join into one region at the zero level. When an
/// outline fits its region badly, the region alone is searched again at a higher level,
/// where such a join comes apart; the higher level's crossings lie slightly inside the
/// document, which snapping to the photo's edges then corrects.
///
/// A region lying inside another document's outline is part of that document, never a
/// second one: on real photos the model's mask can leave a hole around a portrait or a
/// text block and an island inside it, and that island would otherwise read as
/// `TOO_MANY_DOCUMENTS`.
pub fn outlines(grid: &LogitGrid<'_>, min_cells: usize) -> Vec<Outline> {
    let mut found = outlines_above(grid, min_cells, 0);
    found.sort_by(|a, b| b.quad.area().total_cmp(&a.quad.area()));
    let mut kept: Vec<Outline> = Vec::with_capacity(found.len());
    for outline in found {
        let area = outline.quad.area();
        let inside = kept
            .iter()
            .any(|k| k.quad.intersection_area(&outline.quad) > INSIDE_ANOTHER * area);
        if !inside {
            kept.push(outline);
        }
    }
    kept
}

/// Share of an outline's area that, lying inside a larger outline, makes it part of
/// that document. Two real documents can overlap at a corner (one card on another),
/// never by half.
const INSIDE_ANOTHER: f64 = 0.5;

/// Logit steps between the levels tried, and how many higher levels are tried.
const LEVEL_STEP: f32 = 2.5;
const MAX_DEPTH: usize = 3;
/// Overlap (IoU over grid cells) between an outline and its region that counts as a fit.
const GOOD_FIT: f64 = 0.9;

/// `outlines` at `depth` levels up (the grid's logits already lowered by that many steps).
fn outlines_above(grid: &LogitGrid<'_>, min_cells: usize, depth: usize) -> Vec<Outline> {
    let (labels, sizes) = regions(grid);
    let mut order: Vec<usize> = (0..sizes.len())
        .filter(|&r| sizes[r] >= min_cells)
        .collect();
    order.sort_by_key(|&r| std::cmp::Reverse(sizes[r]));
    let mut out = Vec::new();
    for r in order {
        let cells = cells_of(&labels, r);
        let crossings = crossings(grid, &labels, r);
        let fitted = fit_quad(grid, &crossings, &cells);
        let fit = fitted.map_or(0.0, |(q, _, _)| cell_overlap(grid, &q, &cells));
        if fit < GOOD_FIT
            && depth == 0
            && let Some(whole) = whole_below(grid, &labels, &sizes, r, &cells, fit, min_cells)
        {
            out.push(whole);
            continue;
        }
        if fit < GOOD_FIT && depth < MAX_DEPTH {
            let raised = alone_one_level_up(grid, &labels, r);
            let higher = LogitGrid {
                logits: &raised,
                ..*grid
            };
            // The same smallest region at every level: a split must yield documents,
            // not a document and a speck (which would read as two documents).
            let parts = outlines_above(&higher, min_cells, depth + 1);
            // One outline up there replaces this level's when it fits this region
            // better: a ragged boundary at this level (a dark header band the model is
            // unsure of) can bend a side's fit, and whether the bent fit still closed
            // into a quadrilateral would then hang on a pixel of JPEG noise.
            let better = |part: &Outline| cell_overlap(grid, &part.quad, &cells) > fit;
            if parts.len() > 1 || (parts.len() == 1 && (fitted.is_none() || better(&parts[0]))) {
                out.extend(parts);
                continue;
            }
        }
        let confidence = confidence(grid, &cells, depth);
        let (quad, sides_seen, near_frame) = match fitted {
            Some(f) => f,
            None => (
                boxed_region(grid, &cells, dominant_direction(&crossings)).canonical(),
                0,
                [None; 2],
            ),
        };
        out.push(Outline {
            quad,
            confidence,
            sides_seen,
            near_frame,
        });
    }
    out
}

/// A document the model is sure of only in part, outlined whole one level down.
///
/// On real pages the model can be sure of a header and unsure of a table or a block of
/// text below it: the sure part is a ragged region that fits no quadrilateral, and one
/// level up it falls apart into pieces that read as several documents. One level down,
/// the unsure part joins it and the whole page stands out from the desk. That outline
/// is taken only when it is clearly a document:
/// - it fits its region well, better than the sure part's did, with all four sides seen
///   (a level that takes in the desk or runs off the frame has no four sides), in a
///   document's proportions;
/// - the model is sure of at least a fifth of it (a card the model is sure of does not
///   grow into the sheet of paper it lies on);
/// - it takes in no other sure region that is a document of its own, and the sure part
///   does not come apart one level up into two documents (two cards joined by a faint
///   bridge fill the gap between them one level down, and must stay two).
fn whole_below(
    grid: &LogitGrid<'_>,
    labels: &[Option<usize>],
    sizes: &[usize],
    region: usize,
    cells: &[usize],
    fit: f64,
    min_cells: usize,
) -> Option<Outline> {
    let lowered: Vec<f32> = grid.logits.iter().map(|v| v + LEVEL_STEP).collect();
    let lower = LogitGrid {
        logits: &lowered,
        ..*grid
    };
    let (wide_labels, _) = regions(&lower);
    let wide_id = wide_labels[*cells.first()?]?;
    let wide = cells_of(&wide_labels, wide_id);
    let (quad, sides_seen, near_frame) =
        fit_quad(&lower, &crossings(&lower, &wide_labels, wide_id), &wide)?;
    let wide_fit = cell_overlap(&lower, &quad, &wide);
    if sides_seen < 4
        || wide_fit < GOOD_FIT
        || wide_fit <= fit
        || quad.aspect() > MAX_ASPECT
        || wide.len() > SURE_SHARE * cells.len()
    {
        return None;
    }
    let substantial = |its: &[usize]| its.len() >= min_cells && 4 * its.len() >= cells.len();
    let fits_alone = |g: &LogitGrid<'_>, l: &[Option<usize>], id: usize, its: &[usize]| {
        fit_quad(g, &crossings(g, l, id), its)
            .is_some_and(|(q, _, _)| cell_overlap(g, &q, its) >= GOOD_FIT)
    };
    // The sure part alone, one level up: two documents there are two here.
    let raised = alone_one_level_up(grid, labels, region);
    let higher = LogitGrid {
        logits: &raised,
        ..*grid
    };
    let (up_labels, up_sizes) = regions(&higher);
    let apart = (0..up_sizes.len())
        .filter(|&id| {
            let its = cells_of(&up_labels, id);
            substantial(&its) && fits_alone(&higher, &up_labels, id, &its)
        })
        .count()
        >= 2;
    if apart {
        return None;
    }
    // Another sure region taken in that fits an outline of its own, and is no speck
    // beside this one, is a second document lying close: keep them apart.
    let separate = (0..sizes.len())
        .filter(|&other| other != region && sizes[other] >= min_cells)
        .any(|other| {
            let its = cells_of(labels, other);
            substantial(&its)
                && its.iter().all(|&i| wide_labels[i] == Some(wide_id))
                && fits_alone(grid, labels, other, &its)
        });
    if separate {
        return None;
    }
    // How sure the model is where it is sure, as for any outline at the zero level.
    Some(Outline {
        quad,
        confidence: confidence(grid, cells, 0),
        sides_seen,
        near_frame,
    })
}

/// The grid's logits one level up for `region` alone; other regions are pushed far
/// below it.
fn alone_one_level_up(grid: &LogitGrid<'_>, labels: &[Option<usize>], region: usize) -> Vec<f32> {
    (0..labels.len())
        .map(|i| match labels[i] {
            Some(other) if other != region => -100.0,
            _ => grid.logits[i] - LEVEL_STEP,
        })
        .collect()
}

/// The cells of region `id`.
fn cells_of(labels: &[Option<usize>], id: usize) -> Vec<usize> {
    (0..labels.len())
        .filter(|&i| labels[i] == Some(id))
        .collect()
}

/// The mean probability of `cells` from the model's own logits, on a grid `depth` levels
/// up.
fn confidence(grid: &LogitGrid<'_>, cells: &[usize], depth: usize) -> f64 {
    let lowered = f64::from(LEVEL_STEP) * depth as f64;
    cells
        .iter()
        .map(|&i| logistic(f64::from(grid.logits[i]) + lowered))
        .sum::<f64>()
        / cells.len() as f64
}

/// How many times the sure part a whole found one level down may be: the model must be
/// sure of at least a fifth of a document (on the real table pages, 0.28 and 0.85).
const SURE_SHARE: usize = 5;

/// Intersection over union, counted in grid cells, of an outline and a region.
fn cell_overlap(grid: &LogitGrid<'_>, quad: &Quad, cells: &[usize]) -> f64 {
    let n = grid.size;
    let inside = |i: usize| quad.contains(grid.photo_point((i % n) as f64, (i / n) as f64));
    let covered = (0..n * n).filter(|&i| inside(i)).count();
    let both = cells.iter().filter(|&&i| inside(i)).count();
    let union = covered + cells.len() - both;
    if union == 0 {
        0.0
    } else {
        both as f64 / union as f64
    }
}

fn dominant_direction(crossings: &[Crossing]) -> f64 {
    side_directions(crossings)
        .iter()
        .flatten()
        .next()
        .copied()
        .unwrap_or(0.0)
}

/// 4-connected regions of positive logits: a label per cell and each region's size.
fn regions(grid: &LogitGrid<'_>) -> (Vec<Option<usize>>, Vec<usize>) {
    let n = grid.size;
    let mut labels = vec![None; n * n];
    let mut sizes = Vec::new();
    let mut stack = Vec::new();
    for start in 0..n * n {
        if labels[start].is_some() || grid.logits[start] <= 0.0 {
            continue;
        }
        let id = sizes.len();
        let mut size = 0;
        labels[start] = Some(id);
        stack.push(start);
        while let Some(i) = stack.pop() {
            size += 1;
            let (r, c) = (i / n, i % n);
            let neighbours = [
                (r > 0).then(|| i - n),
                (r + 1 < n).then(|| i + n),
                (c > 0).then(|| i - 1),
                (c + 1 < n).then(|| i + 1),
            ];
            for j in neighbours.into_iter().flatten() {
                if labels[j].is_none() && grid.logits[j] > 0.0 {
                    labels[j] = Some(id);
                    stack.push(j);
                }
            }
        }
        sizes.push(size);
    }
    (labels, sizes)
}

/// Zero crossings between a cell of `region` and a negative neighbour.
fn crossings(grid: &LogitGrid<'_>, labels: &[Option<usize>], region: usize) -> Vec<Crossing> {
    let n = grid.size as isize;
    let mut out = Vec::new();
    for row in 0..n {
        for col in 0..n {
            if labels[(row * n + col) as usize] != Some(region) {
                continue;
            }
            for (dc, dr) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                let (c2, r2) = (col + dc, row + dr);
                if c2 < 0 || r2 < 0 || c2 >= n || r2 >= n {
                    continue;
                }
                let (a, b) = (grid.at(col, row), grid.at(c2, r2));
                if b > 0.0 {
                    continue;
                }
                let t = a / (a - b);
                let at = grid.photo_point(col as f64 + t * dc as f64, row as f64 + t * dr as f64);
                let (ga, gb) = (grid.gradient(col, row), grid.gradient(c2, r2));
                let (gx, gy) = ((ga.0 + gb.0) / 2.0, (ga.1 + gb.1) / 2.0);
                if gx == 0.0 && gy == 0.0 {
                    continue;
                }
                out.push(Crossing {
                    at,
                    normal: (-gy).atan2(-gx).rem_euclid(TAU),
                });
            }
        }
    }
    out
}

fn angle_diff(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(TAU);
    d.min(TAU - d)
}

/// The four side directions: the strongest normal direction, then the strongest near
/// each further quarter turn; `None` for a quarter with too few crossings.
fn side_directions(crossings: &[Crossing]) -> [Option<f64>; 4] {
    let bins = (TAU / BIN).round() as usize;
    let mut hist = vec![0f64; bins];
    for c in crossings {
        hist[((c.normal / BIN) as usize).min(bins - 1)] += 1.0;
    }
    let smooth: Vec<f64> = (0..bins)
        .map(|i| {
            (-2i32..=2)
                .map(|k| {
                    hist[(i as i32 + k).rem_euclid(bins as i32) as usize] * (3 - k.abs()) as f64
                })
                .sum()
        })
        .collect();
    let peak = (0..bins)
        .max_by(|&a, &b| smooth[a].total_cmp(&smooth[b]))
        .unwrap_or(0);
    let first = (peak as f64 + 0.5) * BIN;
    let mut out = [None; 4];
    for (k, slot) in out.iter_mut().enumerate() {
        let expected = first + k as f64 * PI / 2.0;
        // The mean normal of the crossings near the expected direction.
        let near: Vec<f64> = crossings
            .iter()
            .map(|c| c.normal)
            .filter(|&a| angle_diff(a, expected) < SIDE_SPREAD)
            .collect();
        if near.len() >= MIN_SIDE_POINTS {
            let (s, c) = near
                .iter()
                .fold((0.0, 0.0), |(s, c), a| (s + a.sin(), c + a.cos()));
            *slot = Some(s.atan2(c).rem_euclid(TAU));
        }
    }
    out
}

/// Robust straight line through the crossings: a total-least-squares fit, refitted
/// twice without the points farther than `reach`.
fn robust_line(points: &[Point], reach: f64) -> Option<Line> {
    let mut kept: Vec<(Point, f64)> = points.iter().map(|p| (*p, 1.0)).collect();
    let mut line = Line::fit(&kept)?;
    for _ in 0..2 {
        let inliers: Vec<(Point, f64)> = kept
            .iter()
            .copied()
            .filter(|(p, _)| line.signed_distance(*p).abs() <= reach)
            .collect();
        if inliers.len() < MIN_SIDE_POINTS {
            break;
        }
        kept = inliers;
        line = Line::fit(&kept)?;
    }
    Some(line)
}

/// A fitted outline: corners, sides seen, and the near-frame alternatives.
type Fit = (Quad, usize, [Option<Quad>; 2]);

/// Where an unseen side is put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hidden {
    /// Where the document's format puts it.
    Format,
    /// Through the farthest boundary seen, parallel to the side opposite.
    NearFrame,
    /// Through the farthest boundary seen, parallel to the frame's nearest edge.
    NearFrameAligned,
}

fn fit_quad(grid: &LogitGrid<'_>, crossings: &[Crossing], cells: &[usize]) -> Option<Fit> {
    let directions = side_directions(crossings);
    let reach = 0.75 * grid.cell();
    let mut groups: [Vec<Point>; 4] = Default::default();
    for c in crossings {
        let nearest = (0..4)
            .filter_map(|k| directions[k].map(|d| (k, angle_diff(c.normal, d))))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((k, d)) = nearest
            && d < SIDE_SPREAD
        {
            groups[k].push(c.at);
        }
    }
    let mut lines: [Option<Line>; 4] = [None; 4];
    for k in 0..4 {
        // A side is seen along a stretch of at least two cells; a few crossings
        // bunched at a corner where the frame cuts the document are not a side.
        if groups[k].len() >= MIN_SIDE_POINTS && extent(&groups[k]) >= 2.0 * grid.cell() {
            lines[k] = robust_line(&groups[k], reach);
        }
    }
    let mut quad = close(grid, &lines, &groups, Hidden::Format);
    if quad.is_none() && lines.iter().all(Option::is_some) {
        // Four lines that make no document: one side is a stray, bent by a ragged
        // stretch of boundary (a band the model is unsure of). Each side in turn is
        // redrawn parallel to the side opposite, through the middle of its own
        // crossings, and the outline that covers the region best is kept. Inferring
        // the stray side from the formats instead jumped between the ID-1 and passport
        // proportions from one re-save to the next, and picking the side with fewest
        // crossings hung on a count that differed by one.
        let redrawn = (0..4)
            .filter_map(|k| {
                let mut trial = lines;
                trial[k] = Some(through_middle(lines[(k + 2) % 4]?, &groups[k])?);
                // Two documents joined into one region also make four sides that do
                // not close; redrawn, they would pass for one long document.
                let q = close(grid, &trial, &groups, Hidden::Format)
                    .filter(|q| q.aspect() <= MAX_ASPECT)?;
                Some((cell_overlap(grid, &q, cells), trial, q))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, trial, q)) = redrawn {
            lines = trial;
            quad = Some(q);
        } else {
            // No redrawing closes: the side with least support is inferred instead.
            let weakest = (0..4).min_by_key(|&k| groups[k].len())?;
            lines[weakest] = None;
            quad = close(grid, &lines, &groups, Hidden::Format);
        }
    }
    let seen = lines.iter().filter(|l| l.is_some()).count();
    let near_frame = if seen == 3 {
        [Hidden::NearFrame, Hidden::NearFrameAligned]
            .map(|mode| close(grid, &lines, &groups, mode).map(|q| q.canonical()))
    } else {
        [None; 2]
    };
    let quad = match quad {
        Some(q) => q,
        None if seen < 3 => boxed_region(grid, cells, directions.iter().flatten().next().copied()?),
        None => return None,
    };
    Some((quad.canonical(), seen, near_frame))
}

/// Largest [`Quad::aspect`] of a redrawn outline: the longest format (ID-1, 1.59)
/// stretched by perspective.
const MAX_ASPECT: f64 = 2.2;

/// The line parallel to `opposite` through the median of `points`' distances from it.
fn through_middle(opposite: Line, points: &[Point]) -> Option<Line> {
    let mut d: Vec<f64> = points
        .iter()
        .map(|p| opposite.signed_distance(*p))
        .collect();
    if d.is_empty() {
        return None;
    }
    d.sort_by(f64::total_cmp);
    Some(Line {
        theta: opposite.theta,
        rho: opposite.rho + d[d.len() / 2],
    })
}

/// Length of the stretch a group of crossings covers (its largest pairwise spread
/// along its principal direction).
fn extent(points: &[Point]) -> f64 {
    let Some(line) = Line::fit(&points.iter().map(|p| (*p, 1.0)).collect::<Vec<_>>()) else {
        return 0.0;
    };
    let (c, s) = line.normal();
    let along = points.iter().map(|p| -p.x * s + p.y * c);
    let (lo, hi) = along.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    hi - lo
}

/// The quadrilateral of four lines (one of them inferred when only three are seen),
/// when it is a plausible document: convex, every corner between 45° and 135°.
fn close(
    grid: &LogitGrid<'_>,
    lines: &[Option<Line>; 4],
    groups: &[Vec<Point>; 4],
    hidden: Hidden,
) -> Option<Quad> {
    let mut lines = *lines;
    if lines.iter().filter(|l| l.is_some()).count() == 3 {
        let missing = (0..4).find(|&k| lines[k].is_none())?;
        lines[missing] = infer_hidden_side(&lines, groups, missing, hidden);
    }
    let [Some(a), Some(b), Some(c), Some(d)] = lines else {
        return None;
    };
    let quad = Quad([
        d.intersect(a)?,
        a.intersect(b)?,
        b.intersect(c)?,
        c.intersect(d)?,
    ]);
    let corners_ok = (0..4).all(|i| {
        let (p, q, r) = (quad.0[(i + 3) % 4], quad.0[i], quad.0[(i + 1) % 4]);
        let (u, v) = ((p.x - q.x, p.y - q.y), (r.x - q.x, r.y - q.y));
        let cos = (u.0 * v.0 + u.1 * v.1) / (u.0.hypot(u.1) * v.0.hypot(v.1)).max(1e-9);
        cos.abs() < 45f64.to_radians().cos() && q.distance(r) > grid.cell()
    });
    (quad.is_convex() && corners_ok).then_some(quad)
}

/// The side opposite `missing`'s known side, moved out to where the document's format
/// puts it: the smallest format-consistent distance that still reaches past every
/// crossing of the two neighbouring sides (or, near the frame, just to the farthest one).
fn infer_hidden_side(
    lines: &[Option<Line>; 4],
    groups: &[Vec<Point>; 4],
    missing: usize,
    hidden: Hidden,
) -> Option<Line> {
    let opposite = lines[(missing + 2) % 4]?;
    let (a, b) = (lines[(missing + 1) % 4]?, lines[(missing + 3) % 4]?);
    let known = opposite.intersect(a)?.distance(opposite.intersect(b)?);
    let beside: Vec<Point> = groups[(missing + 1) % 4]
        .iter()
        .chain(&groups[(missing + 3) % 4])
        .copied()
        .collect();
    let farthest = *beside.iter().max_by(|p, q| {
        opposite
            .signed_distance(**p)
            .abs()
            .total_cmp(&opposite.signed_distance(**q).abs())
    })?;
    let reach = opposite.signed_distance(farthest);
    let side = reach.signum();
    // If the hidden dimension can be the short one, it is; ID-1 is preferred to the
    // passport page when both fit, being the commoner document.
    let reach = reach.abs();
    match hidden {
        // Through the farthest boundary seen, which lies inside the photo, so that
        // snapping can search the last cell for the real edge.
        Hidden::NearFrame => {
            return Some(Line {
                theta: opposite.theta,
                rho: opposite.rho + reach * side,
            });
        }
        Hidden::NearFrameAligned => {
            let quarter = std::f64::consts::FRAC_PI_2;
            let theta = ((opposite.theta / quarter).round() * quarter) % std::f64::consts::PI;
            let (c, s) = (theta.cos(), theta.sin());
            return Some(Line {
                theta,
                rho: farthest.x * c + farthest.y * s,
            });
        }
        Hidden::Format => {}
    }
    let distance = [
        known / ID1_ASPECT,
        known / PASSPORT_ASPECT,
        known * ID1_ASPECT,
    ]
    .into_iter()
    .find(|d| *d >= reach)
    .unwrap_or(reach * 1.05);
    Some(Line {
        theta: opposite.theta,
        rho: opposite.rho + distance * side,
    })
}

/// The region's bounding box in the frame of its strongest side direction, for a
/// document so cut off that fewer than three sides show. Box sides on the frame's edge
/// are pushed out, since the document goes on beyond them.
fn boxed_region(grid: &LogitGrid<'_>, cells: &[usize], direction: f64) -> Quad {
    let (u, v) = (
        (direction.cos(), direction.sin()),
        (-direction.sin(), direction.cos()),
    );
    let n = grid.size;
    let pts: Vec<Point> = cells
        .iter()
        .map(|&i| grid.photo_point((i % n) as f64, (i / n) as f64))
        .collect();
    let proj = |p: &Point, a: (f64, f64)| p.x * a.0 + p.y * a.1;
    let range = |a: (f64, f64)| {
        pts.iter()
            .map(|p| proj(p, a))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            })
    };
    let ((u0, u1), (v0, v1)) = (range(u), range(v));
    let half = grid.cell() / 2.0;
    let (mut u0, mut u1, mut v0, mut v1) = (u0 - half, u1 + half, v0 - half, v1 + half);
    let on_edge = |p: &Point| {
        p.x < grid.cell()
            || p.y < grid.cell()
            || p.x > grid.width - grid.cell()
            || p.y > grid.height - grid.cell()
    };
    let grow = 0.1 * (u1 - u0).max(v1 - v0);
    for p in pts.iter().filter(|p| on_edge(p)) {
        let (pu, pv) = (proj(p, u), proj(p, v));
        if pu - u0 < grid.cell() {
            u0 = u0.min(pu - grow);
        }
        if u1 - pu < grid.cell() {
            u1 = u1.max(pu + grow);
        }
        if pv - v0 < grid.cell() {
            v0 = v0.min(pv - grow);
        }
        if v1 - pv < grid.cell() {
            v1 = v1.max(pv + grow);
        }
    }
    let corner = |a: f64, b: f64| Point::new(a * u.0 + b * v.0, a * u.1 + b * v.1);
    Quad([
        corner(u0, v0),
        corner(u1, v0),
        corner(u1, v1),
        corner(u0, v1),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logits of a grid over a `w × h` photo: +4 inside `quad`, −4 outside, with a
    /// linear ramp across one cell at the boundary, as a trained model gives.
    fn grid_of(quad: &Quad, size: usize, w: f64, h: f64) -> Vec<f32> {
        let mut out = Vec::with_capacity(size * size);
        let poly = quad.canonical();
        for r in 0..size {
            for c in 0..size {
                let p = Point::new(
                    (c as f64 + 0.5) * w / size as f64,
                    (r as f64 + 0.5) * h / size as f64,
                );
                // Signed distance to the convex outline, positive inside, in cells.
                let d = poly
                    .sides()
                    .iter()
                    .map(|(a, b)| {
                        let len = a.distance(*b);
                        ((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)) / len
                    })
                    .fold(f64::INFINITY, f64::min);
                out.push((d / (w / size as f64) * 4.0).clamp(-4.0, 4.0) as f32);
            }
        }
        out
    }

    fn quad(pts: [(f64, f64); 4]) -> Quad {
        Quad(pts.map(|(x, y)| Point::new(x, y)))
    }

    /// The upright rectangle from (`x0`, `y0`) to (`x1`, `y1`), corners clockwise from
    /// the top left.
    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Quad {
        quad([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
    }

    /// Outlines in a 64×64 grid over a 1920×1080 photo.
    fn found_in(logits: &[f32]) -> Vec<Outline> {
        let grid = LogitGrid {
            logits,
            size: 64,
            width: 1920.0,
            height: 1080.0,
        };
        outlines(&grid, 16)
    }

    /// Logits of two cards in one 64×64 grid over a 1920×1080 photo.
    fn two_cards(a: &Quad, b: &Quad) -> Vec<f32> {
        let la = grid_of(a, 64, 1920.0, 1080.0);
        let lb = grid_of(b, 64, 1920.0, 1080.0);
        la.iter().zip(&lb).map(|(x, y)| x.max(*y)).collect()
    }

    #[test]
    fn a_tilted_card_is_recovered_to_a_fraction_of_a_cell() {
        let truth = quad([
            (600.0, 300.0),
            (1300.0, 380.0),
            (1250.0, 820.0),
            (560.0, 760.0),
        ]);
        let logits = grid_of(&truth, 64, 1920.0, 1080.0);
        let found = found_in(&logits);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].sides_seen, 4);
        assert!(
            found[0].quad.iou(&truth) > 0.97,
            "IoU {}",
            found[0].quad.iou(&truth)
        );
    }

    #[test]
    fn a_card_cut_off_by_the_frame_has_corners_outside_it() {
        let truth = quad([
            (-300.0, 200.0),
            (500.0, 230.0),
            (480.0, 720.0),
            (-320.0, 690.0),
        ]);
        let logits = grid_of(&truth, 64, 1920.0, 1080.0);
        let found = found_in(&logits);
        assert_eq!(found.len(), 1);
        let (x0, _, _, _) = found[0].quad.bounds();
        assert!(x0 < -100.0, "left corners at {x0}");
        assert!(
            found[0].quad.iou(&truth) > 0.85,
            "IoU {}",
            found[0].quad.iou(&truth)
        );
    }

    #[test]
    fn two_cards_are_two_outlines_and_noise_is_none() {
        let a = rect(100.0, 100.0, 700.0, 480.0);
        let b = quad([
            (1000.0, 500.0),
            (1700.0, 560.0),
            (1670.0, 1000.0),
            (970.0, 950.0),
        ]);
        let mut logits = two_cards(&a, &b);
        logits[5] = 3.0; // a lone positive cell is not a document
        let found = found_in(&logits);
        assert_eq!(found.len(), 2);
        assert!(found.iter().any(|o| o.quad.iou(&a) > 0.95));
        assert!(found.iter().any(|o| o.quad.iou(&b) > 0.95));
    }

    #[test]
    fn an_island_inside_a_documents_hole_is_not_a_second_document() {
        let card = quad([
            (300.0, 150.0),
            (1600.0, 200.0),
            (1560.0, 950.0),
            (260.0, 900.0),
        ]);
        let mut logits = grid_of(&card, 64, 1920.0, 1080.0);
        // As on a real page: the model is unsure around a portrait (a ring of
        // negative cells) and sure about the portrait itself (an island inside it).
        paint(&mut logits, |_, x, y, v| {
            let ring = (600.0..1100.0).contains(&x) && (350.0..750.0).contains(&y);
            let island = (700.0..1000.0).contains(&x) && (430.0..670.0).contains(&y);
            if ring && !island {
                *v = -3.0;
            }
        });
        let found = found_in(&logits);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].quad.iou(&card) > 0.8,
            "IoU {}",
            found[0].quad.iou(&card)
        );
    }

    #[test]
    fn two_cards_joined_by_a_faint_bridge_come_apart() {
        let a = rect(200.0, 300.0, 800.0, 700.0);
        let b = rect(860.0, 320.0, 1500.0, 740.0);
        let mut logits = two_cards(&a, &b);
        // The model is unsure about the narrow gap: slightly positive there.
        paint(&mut logits, |_, x, y, v| {
            if (800.0..860.0).contains(&x) && (320.0..700.0).contains(&y) {
                *v = 1.0;
            }
        });
        let found = found_in(&logits);
        assert_eq!(found.len(), 2, "{found:?}");
        // One level up, each side sits a little inside its card (snapping then fixes that).
        assert!(found.iter().any(|o| o.quad.iou(&a) > 0.8));
        assert!(found.iter().any(|o| o.quad.iou(&b) > 0.8));
    }

    /// Changes the logits of a 64×64 grid over 1920×1080 cell by cell: `change` gets
    /// each cell's column, its centre in the photo and its logit.
    fn paint(logits: &mut [f32], mut change: impl FnMut(usize, f64, f64, &mut f32)) {
        for (i, v) in logits.iter_mut().enumerate() {
            let (r, c) = (i / 64, i % 64);
            change(
                c,
                (c as f64 + 0.5) * 30.0,
                (r as f64 + 0.5) * 1080.0 / 64.0,
                v,
            );
        }
    }

    #[test]
    fn a_page_the_model_is_sure_of_only_in_part_is_one_document() {
        let page = quad([
            (500.0, 100.0),
            (1400.0, 120.0),
            (1380.0, 1000.0),
            (520.0, 980.0),
        ]);
        let mut logits = grid_of(&page, 64, 1920.0, 1080.0);
        // As on a real page with a table: the model is sure of the header, whose lower
        // edge is ragged, unsure of the rest (slightly negative, still above the desk),
        // and sure of a block inside the table.
        paint(&mut logits, |c, x, y, v| {
            if *v > 0.0 && y > 350.0 + 60.0 * (c % 5) as f64 {
                *v = -1.0;
            }
            if (900.0..1080.0).contains(&x) && (700.0..780.0).contains(&y) {
                *v = 2.0;
            }
        });
        let found = found_in(&logits);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].quad.iou(&page) > 0.9,
            "IoU {}",
            found[0].quad.iou(&page)
        );
    }

    #[test]
    fn a_card_sure_only_in_part_beside_another_is_not_merged_with_it() {
        let a = rect(200.0, 300.0, 800.0, 700.0);
        let b = rect(900.0, 300.0, 1500.0, 700.0);
        let mut logits = two_cards(&a, &b);
        paint(&mut logits, |c, x, y, v| {
            // The first card's lower part and the gap are unsure, as a table is.
            let lower_a = (200.0..800.0).contains(&x) && y > 450.0 + 40.0 * (c % 4) as f64;
            let gap = (800.0..900.0).contains(&x) && (300.0..700.0).contains(&y);
            if (lower_a && *v > 0.0) || gap {
                *v = -1.0;
            }
        });
        let found = found_in(&logits);
        assert!(
            found.iter().any(|o| o.quad.iou(&b) > 0.9),
            "the second card kept whole: {found:?}"
        );
        assert!(
            found
                .iter()
                .all(|o| o.quad.iou(&b) > 0.9 || o.quad.iou(&b) < 0.1),
            "no outline spans both cards: {found:?}"
        );
    }

    #[test]
    fn two_cards_joined_by_a_bridge_stay_two_when_their_gap_is_unsure() {
        let a = rect(600.0, 100.0, 1100.0, 420.0);
        let b = rect(600.0, 460.0, 1100.0, 780.0);
        let mut logits = two_cards(&a, &b);
        paint(&mut logits, |_, x, y, v| {
            // The gap is unsure (it fills in one level down), and a bridge across it is
            // sure, so the two cards are one region at the zero level.
            if (600.0..1100.0).contains(&x) && (420.0..460.0).contains(&y) {
                *v = if (800.0..900.0).contains(&x) {
                    1.0
                } else {
                    -1.0
                };
            }
        });
        let found = found_in(&logits);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().any(|o| o.quad.iou(&a) > 0.8), "{found:?}");
        assert!(found.iter().any(|o| o.quad.iou(&b) > 0.8), "{found:?}");
    }

    #[test]
    fn a_card_does_not_grow_into_the_sheet_it_lies_on() {
        let sheet = rect(300.0, 150.0, 1500.0, 950.0);
        let card = rect(600.0, 350.0, 1000.0, 650.0);
        let mut logits = grid_of(&card, 64, 1920.0, 1080.0);
        paint(&mut logits, |c, x, y, v| {
            // The card's lower edge is ragged; the sheet around it, unsure.
            if *v > 0.0 && y > 560.0 + 40.0 * (c % 3) as f64 {
                *v = -1.5;
            }
            if *v <= 0.0 && sheet.contains(Point::new(x, y)) {
                *v = v.max(-1.5);
            }
        });
        let found = found_in(&logits);
        assert!(!found.is_empty());
        assert!(
            found[0].quad.iou(&sheet) < 0.5,
            "the sheet was taken for the card: {found:?}"
        );
    }
}
