//! The shipped document detector gives the same answer whichever of the eight ways the
//! camera was held: its logit grid and the document's outline, mapped back to the
//! upright photo, agree. Without this a turned photo moved the outline by up to a grid
//! cell, and the liveness patches and whole view with it.

mod common;

use common::orientation::held;
use docliveness::config::Config;
use docliveness::engine::geometry::Point;
use docliveness::engine::internals::DocumentModel;
use docliveness_synth::passing_scene;
use docliveness_synth::scene::render_rgb;

/// Where cell `(x, y)` of a square `n`-grid over the upright photo lies in the `k`-th
/// photo's grid.
fn cell_in(k: usize, (mut x, mut y): (usize, usize), n: usize) -> (usize, usize) {
    if k >= 4 {
        x = n - 1 - x;
    }
    for _ in 0..k % 4 {
        (x, y) = (n - 1 - y, x);
    }
    (x, y)
}

/// A point of the `k`-th photo back in the upright `width × height` photo.
fn upright(k: usize, p: Point, width: f64, height: f64) -> Point {
    // Undo the quarter turns one by one. A clockwise turn takes (x, y) of a photo
    // `h` tall to (h − y, x); undoing it from the turned photo, `w` wide (that `h`),
    // gives (y, w − x), and the photo before the turn was as wide as this one is tall.
    let turns = k % 4;
    let (mut w, mut h) = if turns.is_multiple_of(2) {
        (width, height)
    } else {
        (height, width)
    };
    let (mut x, mut y) = (p.x, p.y);
    for _ in 0..turns {
        (x, y) = (y, w - x);
        (w, h) = (h, w);
    }
    if k >= 4 {
        x = w - x;
    }
    Point::new(x, y)
}

#[test]
fn every_orientation_gives_the_same_grid_and_outline() {
    let config = Config::default();
    let dir = config.models.resolved_dir().join("detector");
    let model = DocumentModel::load(&dir, &config.models).expect("the shipped detector loads");
    // Sides that are multiples of the 256 px input, under three times it: every working
    // pixel then averages the same photo pixels in every orientation.
    let (width, height) = (768u32, 512u32);
    for seed in [3u64, 8] {
        let photo = render_rgb(&passing_scene(seed, width, height));
        let (base, n) = model.logits(&photo, true).expect("runs");
        let base_doc = model.detect(&photo, &config.detection).expect("runs");
        assert_eq!(base_doc.len(), 1, "seed {seed}: one document expected");
        let base_corners = base_doc[0].quad.canonical().0;
        for k in 1..8 {
            let turned = held(&photo, k);
            let (logits, m) = model.logits(&turned, true).expect("runs");
            assert_eq!(m, n);
            let mut worst = 0f32;
            for y in 0..n {
                for x in 0..n {
                    let (u, v) = cell_in(k, (x, y), n);
                    worst = worst.max((logits[v * n + u] - base[y * n + x]).abs());
                }
            }
            assert!(
                worst < 1e-3,
                "seed {seed}, way {k}: logits differ by {worst}"
            );
            let docs = model.detect(&turned, &config.detection).expect("runs");
            assert_eq!(docs.len(), 1, "seed {seed}, way {k}");
            let back = docs[0]
                .quad
                .0
                .map(|p| upright(k, p, f64::from(width), f64::from(height)));
            let corners = docliveness::engine::geometry::Quad(back).canonical().0;
            let moved = corners
                .iter()
                .zip(&base_corners)
                .map(|(a, b)| a.distance(*b))
                .fold(0.0, f64::max);
            assert!(
                moved < 1.0,
                "seed {seed}, way {k}: a corner moved {moved:.2} px"
            );
        }
    }
}

#[test]
fn the_single_pass_setting_runs_the_network_once() {
    // `symmetric_forms = false` is the single pass the detector had before: its grid
    // differs from the four forms' mean and moves when the photo is turned.
    let config = Config::default();
    let dir = config.models.resolved_dir().join("detector");
    let model = DocumentModel::load(&dir, &config.models).expect("the shipped detector loads");
    let photo = render_rgb(&passing_scene(3, 768, 512));
    let (single, n) = model.logits(&photo, false).expect("runs");
    let (mean, _) = model.logits(&photo, true).expect("runs");
    let apart = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max)
    };
    assert!(
        apart(&single, &mean) > 0.1,
        "the single pass gave the four forms' mean"
    );
    let (turned, _) = model.logits(&held(&photo, 2), false).expect("runs");
    let back: Vec<f32> = (0..n * n)
        .map(|i| {
            let (u, v) = cell_in(2, (i % n, i / n), n);
            turned[v * n + u]
        })
        .collect();
    assert!(
        apart(&single, &back) > 0.1,
        "a single pass did not move when the photo was turned"
    );
}
