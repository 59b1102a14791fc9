//! Document detection measured on seeded synthetic scenes with known corners: the
//! classical detector (the fallback when no detector model is installed) on plain
//! scenes, and the default engine (the learned detector) on plain scenes and on scenes
//! built for each DOCUMENT_* code.

use docliveness::config::{Config, DetectionConfig};
use docliveness::engine::Engine;
use docliveness::engine::decode;
use docliveness::engine::internals::detect_documents;
use docliveness_synth::{passing_scene, render};

const SCENES: u64 = 200;

#[test]
fn detection_rate_and_iou_on_passing_scenes() {
    let cfg = DetectionConfig::default();
    let mut detected = 0;
    let mut iou_sum = 0.0;
    let mut per_background = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    let mut lowest_true = f64::INFINITY;
    let offset: u64 = std::env::var("DETECTION_SEED_OFFSET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for seed in offset..offset + SCENES {
        let spec = passing_scene(seed, 1920, 1080);
        let scene = render(&spec);
        let image = decode(&scene.jpeg, 50_000_000).expect("scene decodes");
        let docs = detect_documents(&image.rgb, &cfg);
        let truth = scene.quads[0];
        let best = docs.iter().map(|d| d.quad.iou(&truth)).fold(0.0, f64::max);
        let entry = per_background
            .entry(format!("{:?}", spec.background))
            .or_insert((0, 0, 0.0));
        entry.0 += 1;
        if docs.len() == 1 && best > 0.5 {
            detected += 1;
            entry.1 += 1;
        } else {
            failures.push((seed, spec.background, docs.len(), best));
        }
        iou_sum += if docs.len() == 1 { best } else { 0.0 };
        if let Some(d) = docs.iter().find(|d| d.quad.iou(&truth) > 0.5) {
            lowest_true = lowest_true.min(d.confidence);
        }
        entry.2 += if docs.len() == 1 { best } else { 0.0 };
    }
    let rate = detected as f64 / SCENES as f64;
    let mean_iou = iou_sum / SCENES as f64;
    println!(
        "detection over {SCENES} passing scenes: rate {:.1}%, mean IoU {:.4}",
        rate * 100.0,
        mean_iou
    );
    println!("  lowest confidence of a correct detection: {lowest_true:.3}");
    for (bg, (n, ok, iou)) in &per_background {
        println!(
            "  {bg:<13} {ok}/{n} detected, mean IoU {:.4}",
            iou / *n as f64
        );
    }
    for f in &failures {
        println!(
            "  miss: seed {} {:?}: {} documents, best IoU {:.3}",
            f.0, f.1, f.2, f.3
        );
    }
    assert!(rate >= 0.98, "detection rate {rate}");
    assert!(mean_iou >= 0.90, "mean IoU {mean_iou}");
}

#[test]
fn learned_detection_on_passing_scenes() {
    let engine = Engine::new(Config::default()).expect("default engine");
    assert!(
        engine.detector_version().is_some(),
        "the shipped detector is installed"
    );
    let (mut detected, mut iou_sum) = (0, 0.0);
    for seed in 0..SCENES {
        let scene = render(&passing_scene(seed, 1920, 1080));
        let image = decode(&scene.jpeg, 50_000_000).expect("scene decodes");
        let docs = engine.detect(&image.rgb);
        let best = docs
            .iter()
            .map(|d| d.quad.iou(&scene.quads[0]))
            .fold(0.0, f64::max);
        if docs.len() == 1 && best > 0.5 {
            detected += 1;
            iou_sum += best;
        } else {
            println!(
                "  miss: seed {seed}: {} documents, best IoU {best:.3}",
                docs.len()
            );
        }
    }
    let rate = detected as f64 / SCENES as f64;
    let mean_iou = iou_sum / SCENES as f64;
    println!(
        "learned detector over {SCENES} passing scenes: rate {:.1}%, mean IoU {mean_iou:.4}",
        rate * 100.0
    );
    assert!(rate >= 0.99, "detection rate {rate}");
    assert!(mean_iou >= 0.95, "mean IoU {mean_iou}");
}

mod built {
    use docliveness::config::Config;
    use docliveness::engine::geometry::Point;
    use docliveness::engine::{Engine, ErrorCode, Region, Side};
    use docliveness_synth::{
        Background, CardStyle, DocumentFormat, Placement, Rng, SceneSpec, place, render,
    };

    const W: u32 = 1920;
    const H: u32 = 1080;
    const PER_CODE: u64 = 20;

    fn card(rng: &mut Rng, area: (f64, f64), rotation: (f64, f64)) -> Placement {
        let area = rng.range(area.0, area.1);
        let rotation = rng.range(rotation.0, rotation.1);
        let format = if rng.chance(0.7) {
            DocumentFormat::Id1
        } else {
            DocumentFormat::Passport
        };
        let quad = place(
            rng,
            format,
            (W, H),
            area,
            Point::new(960.0, 540.0),
            rotation,
            0.015,
        );
        Placement {
            style: CardStyle {
                format,
                front: false,
                pale: false,
                portrait: true,
            },
            quad,
        }
    }

    /// A scene built so that `code` (or nothing, for `None`) is the right answer.
    fn scene_for(code: Option<ErrorCode>, seed: u64) -> SceneSpec {
        let mut rng = Rng::new(seed * 7919 + 13);
        let (w, h) = (f64::from(W), f64::from(H));
        let short = w.min(h);
        let mut documents = Vec::new();
        match code {
            Some(ErrorCode::DocumentNotFound) => {}
            Some(ErrorCode::TooManyDocuments) => {
                let mut a = card(&mut rng, (0.08, 0.14), (-20.0, 20.0));
                let mut b = card(&mut rng, (0.08, 0.14), (-20.0, 20.0));
                let (dy_a, dy_b) = (rng.range(-150.0, 150.0), rng.range(-150.0, 150.0));
                a.quad = a.quad.translated(-470.0, dy_a);
                b.quad = b.quad.translated(470.0, dy_b);
                documents = vec![a, b];
            }
            Some(ErrorCode::DocumentCropped) => {
                let mut d = card(&mut rng, (0.15, 0.3), (-25.0, 25.0));
                let (x0, y0, x1, y1) = d.quad.bounds();
                let out = rng.range(0.05, 0.25);
                d.quad = match rng.int(0, 3) {
                    0 => d.quad.translated(-x0 - out * (x1 - x0), 0.0),
                    1 => d.quad.translated(w - x1 + out * (x1 - x0), 0.0),
                    2 => d.quad.translated(0.0, -y0 - out * (y1 - y0)),
                    _ => d.quad.translated(0.0, h - y1 + out * (y1 - y0)),
                };
                documents = vec![d];
            }
            Some(ErrorCode::DocumentTooCloseToCamera) => {
                // Height span 95.5–98% of the frame, fully inside.
                let span = rng.range(0.955, 0.98) * h;
                let format = DocumentFormat::Passport;
                let long = span * format.aspect();
                let area = long * span / (w * h);
                let quad = place(
                    &mut rng,
                    format,
                    (W, H),
                    area,
                    Point::new(w / 2.0, h / 2.0),
                    0.0,
                    0.0,
                );
                documents = vec![Placement {
                    style: CardStyle {
                        format,
                        front: false,
                        pale: false,
                        portrait: true,
                    },
                    quad,
                }];
            }
            Some(ErrorCode::DocumentTooCloseToBorder) => {
                let mut d = card(&mut rng, (0.12, 0.3), (-10.0, 10.0));
                let (x0, y0, x1, y1) = d.quad.bounds();
                let gap = rng.range(0.003, 0.014) * short;
                d.quad = match rng.int(0, 3) {
                    0 => d.quad.translated(gap - x0, 0.0),
                    1 => d.quad.translated(w - gap - x1, 0.0),
                    2 => d.quad.translated(0.0, gap - y0),
                    _ => d.quad.translated(0.0, h - gap - y1),
                };
                documents = vec![d];
            }
            Some(ErrorCode::DocumentTooSmall) => {
                let mut d = card(&mut rng, (0.03, 0.08), (0.0, 360.0));
                let (dx, dy) = (rng.range(-400.0, 400.0), rng.range(-200.0, 200.0));
                d.quad = d.quad.translated(dx, dy);
                documents = vec![d];
            }
            _ => unreachable!(),
        }
        SceneSpec {
            seed,
            width: W,
            height: H,
            background: Background::ALL[(seed % 5) as usize],
            documents,
            blur_sigma: rng.range(0.3, 1.4) as f32,
            noise_sigma: rng.range(1.0, 4.0),
            light_gradient: rng.range(0.0, 0.3),
            jpeg_quality: rng.int(80, 95) as u8,
            extras: Default::default(),
        }
    }

    #[test]
    fn error_codes_on_built_scenes() {
        // The learned detector, as the default engine runs it. Its rate sits near 98%
        // (353 and 354 of 360 scenes with the working image centred on the photo and
        // counted from its corner), so on these 120 a single borderline scene (a card
        // whose edge the frame cuts by a few pixels) decides 97.5% or 98.3%.
        correct_codes(&Engine::new(Config::default()).unwrap(), 0.97);
    }

    #[test]
    fn error_codes_on_built_scenes_with_the_classical_fallback() {
        correct_codes(&Engine::without_models(Config::default()).unwrap(), 0.9);
    }

    /// Runs the built scenes of every geometry code through `engine` and checks that at
    /// least `target` of them get the code they were built for.
    fn correct_codes(engine: &Engine, target: f64) {
        let codes = [
            ErrorCode::DocumentNotFound,
            ErrorCode::TooManyDocuments,
            ErrorCode::DocumentCropped,
            ErrorCode::DocumentTooCloseToCamera,
            ErrorCode::DocumentTooCloseToBorder,
            ErrorCode::DocumentTooSmall,
        ];
        let mut total_ok = 0;
        for code in codes {
            let mut ok = 0;
            let mut wrong = Vec::new();
            for seed in 0..PER_CODE {
                let spec = scene_for(Some(code), seed + 100 * code as u64);
                let scene = render(&spec);
                let a = engine.analyze(&scene.jpeg, Side::Back, Region::Document);
                if a.error == Some(code) {
                    ok += 1;
                } else {
                    wrong.push((seed, a.error));
                    // DUMP_FAILURES=DIR keeps the scenes that got the wrong code, for study.
                    if let Some(dir) = std::env::var_os("DUMP_FAILURES") {
                        let name = format!("{}-{seed}.jpg", code.as_str());
                        std::fs::write(std::path::Path::new(&dir).join(name), &scene.jpeg).unwrap();
                        println!(
                            "  {} seed {seed}: truth {:?}, found {:?}",
                            code.as_str(),
                            scene.quads,
                            a.documents.iter().map(|d| d.quad).collect::<Vec<_>>()
                        );
                    }
                }
            }
            println!(
                "{:<30} {ok}/{PER_CODE} correct; wrong: {wrong:?}",
                code.as_str()
            );
            total_ok += ok;
        }
        let rate = f64::from(total_ok) / (codes.len() as u64 * PER_CODE) as f64;
        println!(
            "correct error code on {} built scenes: {:.1}%",
            codes.len() as u64 * PER_CODE,
            rate * 100.0
        );
        assert!(rate >= target, "correct-code rate {rate}");
    }
}

/// A detector grid from `tests/fixtures/detector_grids/` (64 × 64, little-endian f32).
fn detector_grid(name: &str) -> Vec<f32> {
    let path = format!(
        "{}/tests/fixtures/detector_grids/{name}.f32",
        env!("CARGO_MANIFEST_DIR")
    );
    let logits: Vec<f32> = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(logits.len(), 64 * 64, "{path}");
    logits
}

/// The one outline in a detector grid over a `width × height` photo.
fn only_outline(name: &str, width: f64, height: f64) -> docliveness::engine::internals::Outline {
    use docliveness::engine::internals::{LogitGrid, outlines};
    let logits = detector_grid(name);
    let grid = LogitGrid {
        logits: &logits,
        size: 64,
        width,
        height,
    };
    let all = outlines(&grid, 16);
    assert_eq!(all.len(), 1, "{name}: {all:?}");
    all[0]
}

/// The shipped detector's logit grids (64 × 64, little-endian f32) for one held-out
/// genuine photo (2448 × 3264, a card with a dark header band the model is unsure of)
/// as generated and re-saved at JPEG 100 (4:4:4; pixels within 4 levels of each other).
/// The re-save's ragged top boundary once bent a fitted side into a trapezoid with a
/// corner 144 px outside the photo, so the photo stopped at DOCUMENT_CROPPED while the
/// original passed.
#[test]
fn a_re_save_within_four_grey_levels_keeps_the_outline() {
    let (width, height) = (2448.0, 3264.0);
    let found: Vec<_> = ["steep-card-as-generated", "steep-card-resaved-q100"]
        .iter()
        .map(|name| only_outline(name, width, height))
        .collect();
    for outline in &found {
        let (x0, y0, x1, y1) = outline.quad.bounds();
        assert!(
            x0 > 0.0 && y0 > 0.0 && x1 < width && y1 < height,
            "the card lies inside the photo: {outline:?}"
        );
    }
    for (a, b) in found[0].quad.0.iter().zip(&found[1].quad.0) {
        assert!(a.distance(*b) < 5.0, "corners {a:?} and {b:?}");
    }
}

/// The shipped detector's grids for a held-out genuine passport page (3000 × 4000) whose
/// dark header band the model is unsure of, as generated and with its pixels turned a
/// quarter (4000 × 3000) and re-saved at JPEG 95. At the level where its outline is
/// fitted, the band side bends its line so that the four sides make no document. That
/// side used to be inferred from the document formats, which put it at the ID-1
/// proportion in one orientation and the passport one in the other (corners about 100 px
/// apart, scores 0.78 and 0.84); redrawn through its own crossings, both agree.
#[test]
fn a_ragged_side_is_placed_the_same_whichever_way_the_photo_was_turned() {
    let upright = only_outline("passport-page-turned-0", 3000.0, 4000.0);
    let turned = only_outline("passport-page-turned-90", 4000.0, 3000.0);
    // Turned a quarter anticlockwise: (x, y) upright is (y, 3000 - x) turned.
    let back: Vec<_> = turned
        .quad
        .0
        .iter()
        .map(|p| docliveness::engine::Point::new(3000.0 - p.y, p.x))
        .collect();
    for a in &upright.quad.0 {
        let nearest = back
            .iter()
            .map(|b| a.distance(*b))
            .fold(f64::INFINITY, f64::min);
        assert!(
            nearest < 20.0,
            "corner {a:?}: nearest turned-back corner {nearest:.0} px away ({back:?})"
        );
    }
}
