//! The shipped portrait detector (BlazeFace in `models/portrait/`) behind
//! `DOCUMENT_PHOTO_NOT_FOUND`: found on fronts that carry a real face photo, not found on
//! backs or on fronts whose portrait area is blank, at any rotation of the document.

use std::path::Path;

use docliveness::config::{BackendChoice, Config};
use docliveness::engine::geometry::{Homography, Point};
use docliveness::engine::internals::FaceDetector;
use docliveness::engine::{Analysis, Engine, ErrorCode, PortraitCheck, Region, Side};
use docliveness_synth::scene::{encode_jpeg, render_rgb};
use docliveness_synth::{SceneSpec, passing_scene, render};

fn engine() -> Engine {
    let mut config = Config::default();
    config.models.backend = BackendChoice::Tract;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/portrait");
    let detector = FaceDetector::load(&dir, &config.models).expect("shipped face detector");
    // Liveness is not under test here, so no liveness model is loaded.
    Engine::without_models(config)
        .unwrap()
        .with_portrait_detector(Box::new(detector))
}

fn scene(seed: u64, front: bool, portrait: bool) -> SceneSpec {
    let mut spec = passing_scene(seed, 1920, 1080);
    spec.documents[0].style.front = front;
    spec.documents[0].style.portrait = portrait;
    spec
}

const SCENES: u64 = 40;

/// The front-side analysis of `jpeg`, or `None` when the document detector stopped it
/// before the portrait check (a detection miss is the detector tests' business).
fn portrait_checked(engine: &Engine, jpeg: &[u8]) -> Option<Analysis> {
    let a = engine.analyze(jpeg, Side::Front, Region::Document);
    let geometry_error = a
        .error
        .is_some_and(|e| e != ErrorCode::DocumentPhotoNotFound);
    (!geometry_error).then_some(a)
}

#[test]
fn portraits_are_found_on_fronts_with_a_face() {
    let engine = engine();
    let mut found = 0;
    for seed in 0..SCENES {
        let spec = scene(seed, true, true);
        let Some(a) = portrait_checked(&engine, &render(&spec).jpeg) else {
            continue;
        };
        match &a.portrait {
            PortraitCheck::Found { portrait } => {
                found += 1;
                // The face lies inside the document.
                let doc = spec.documents[0].quad;
                let (x0, y0, x1, y1) = doc.bounds();
                for p in portrait.quad.0 {
                    assert!(p.x > x0 - 5.0 && p.x < x1 + 5.0 && p.y > y0 - 5.0 && p.y < y1 + 5.0);
                }
                assert_eq!(a.error, None, "seed {seed}");
            }
            other => panic!("seed {seed}: no portrait found on a front with a face: {other:?}"),
        }
    }
    println!("portrait found on {found}/{SCENES} fronts");
    assert!(found >= SCENES as usize * 9 / 10);
}

#[test]
fn backs_and_blank_portrait_areas_raise_photo_not_found() {
    let engine = engine();
    let mut checked = 0;
    for seed in 0..SCENES {
        for (front, portrait) in [(false, true), (true, false)] {
            let spec = scene(1000 + seed, front, portrait);
            // A back presented as a front, or a front without its photo.
            let Some(a) = portrait_checked(&engine, &render(&spec).jpeg) else {
                continue;
            };
            checked += 1;
            assert_eq!(
                a.error,
                Some(ErrorCode::DocumentPhotoNotFound),
                "seed {seed} front {front} portrait {portrait}: {:?}",
                a.portrait
            );
        }
    }
    println!("photo-not-found raised on {checked} backs and blank fronts");
    assert!(checked >= SCENES as usize * 2 * 9 / 10);
}

#[test]
fn backs_are_not_checked_for_a_portrait() {
    let spec = scene(7, false, true);
    let a = engine().analyze(&render(&spec).jpeg, Side::Back, Region::Document);
    assert_eq!(a.portrait, PortraitCheck::NotApplicable);
    assert_eq!(a.error, None);
}

#[test]
fn a_covered_portrait_raises_photo_not_found() {
    // A thumb-coloured patch over the portrait area of a front that has a face, as a
    // finger or a sticker over the photo would look.
    let engine = engine();
    let mut checked = 0;
    for seed in 0..20u64 {
        let spec = scene(2000 + seed, true, true);
        let mut rgb = render_rgb(&spec);
        let to_photo = Homography::unit_square_to(&spec.documents[0].quad);
        // The portrait area of synth/src/card.rs, with a little overlap.
        let inverse = to_photo.inverse().unwrap();
        let (w, h) = (rgb.width(), rgb.height());
        for y in 0..h {
            for x in 0..w {
                let p = inverse.apply(Point::new(f64::from(x), f64::from(y)));
                if (0.04..0.33).contains(&p.x) && (0.23..0.82).contains(&p.y) {
                    rgb.put_pixel(x, y, image::Rgb([196, 150, 128]));
                }
            }
        }
        let Some(a) = portrait_checked(&engine, &encode_jpeg(&rgb, 90)) else {
            continue;
        };
        checked += 1;
        assert_eq!(
            a.error,
            Some(ErrorCode::DocumentPhotoNotFound),
            "seed {seed}: {:?}",
            a.portrait
        );
    }
    assert!(
        checked >= 18,
        "only {checked} scenes reached the portrait check"
    );
}

#[test]
fn a_small_portrait_on_a_screen_is_found_by_the_closer_look() {
    // The bundled screen replay: its face is too small and soft for tiles as tall as the
    // document (probability 0.54 there), so only the closer pass finds it.
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/screen-replay.jpg"),
    )
    .expect("bundled sample");
    let engine = Engine::new(Config::default()).expect("shipped models");
    let a = engine.analyze(&bytes, Side::Front, Region::Document);
    assert!(
        matches!(a.portrait, PortraitCheck::Found { .. }),
        "{:?}",
        a.portrait
    );
    assert_ne!(a.error, Some(ErrorCode::DocumentPhotoNotFound));
}
