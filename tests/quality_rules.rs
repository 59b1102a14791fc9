//! One scene per error code, built to trigger it, and scenes that trigger none.

use docliveness::config::Config;
use docliveness::engine::FoundPortrait;
use docliveness::engine::geometry::Point;
use docliveness::engine::{Engine, ErrorCode, PortraitCheck, PortraitDetector, Quad, Region, Side};
use docliveness_synth::{
    Background, CardStyle, DocumentFormat, Placement, Rng, SceneSpec, passing_scene, place, render,
};

const W: u32 = 1920;
const H: u32 = 1080;

fn engine() -> Engine {
    Engine::without_models(Config::default()).unwrap()
}

fn style(format: DocumentFormat) -> CardStyle {
    CardStyle {
        format,
        front: true,
        pale: false,
        portrait: true,
    }
}

fn scene(
    seed: u64,
    width: u32,
    height: u32,
    background: Background,
    documents: Vec<Placement>,
) -> SceneSpec {
    SceneSpec {
        seed,
        width,
        height,
        background,
        documents,
        blur_sigma: 0.8,
        noise_sigma: 2.0,
        light_gradient: 0.15,
        jpeg_quality: 90,
        extras: Default::default(),
    }
}

fn doc(seed: u64, format: DocumentFormat, area: f64, cx: f64, cy: f64, rotation: f64) -> Placement {
    let mut rng = Rng::new(seed);
    Placement {
        style: style(format),
        quad: place(
            &mut rng,
            format,
            (W, H),
            area,
            Point::new(cx, cy),
            rotation,
            0.0,
        ),
    }
}

fn code_of(spec: &SceneSpec, side: Side) -> Option<ErrorCode> {
    let a = engine().analyze(&render(spec).jpeg, side, Region::Document);
    println!(
        "{:?}: {:?} documents {:?}",
        a.error,
        a.documents.len(),
        a.documents.iter().map(|d| d.quad).collect::<Vec<_>>()
    );
    a.error
}

#[test]
fn image_invalid() {
    let a = engine().analyze(b"definitely not a photo", Side::Front, Region::Document);
    assert_eq!(a.error, Some(ErrorCode::ImageInvalid));
    assert!(a.invalid_reason.unwrap().contains("not a JPEG or PNG"));
    assert_eq!(a.score, None);
}

#[test]
fn image_too_small() {
    let spec = passing_scene(21, 1280, 720);
    assert_eq!(code_of(&spec, Side::Back), Some(ErrorCode::ImageTooSmall));
}

#[test]
fn image_too_compressed() {
    let mut spec = passing_scene(22, W, H);
    spec.jpeg_quality = 50;
    assert_eq!(
        code_of(&spec, Side::Back),
        Some(ErrorCode::ImageTooCompressed)
    );
}

#[test]
fn document_not_found() {
    for (seed, bg) in [
        (23, Background::Clutter),
        (24, Background::Wood),
        (25, Background::Plain),
    ] {
        assert_eq!(
            code_of(&scene(seed, W, H, bg, vec![]), Side::Back),
            Some(ErrorCode::DocumentNotFound),
            "{bg:?}"
        );
    }
}

#[test]
fn too_many_documents() {
    let docs = vec![
        doc(1, DocumentFormat::Id1, 0.14, 500.0, 540.0, 8.0),
        doc(2, DocumentFormat::Id1, 0.14, 1420.0, 540.0, -6.0),
    ];
    assert_eq!(
        code_of(&scene(26, W, H, Background::Wood, docs), Side::Back),
        Some(ErrorCode::TooManyDocuments)
    );
}

#[test]
fn document_cropped() {
    // The left corners lie about 60 px outside the frame.
    let docs = vec![doc(3, DocumentFormat::Id1, 0.22, 370.0, 540.0, 4.0)];
    assert_eq!(
        code_of(&scene(27, W, H, Background::Plain, docs), Side::Back),
        Some(ErrorCode::DocumentCropped)
    );
}

#[test]
fn document_too_close_to_camera() {
    // A passport page 1480 px wide spans 96% of the 1080 px height, fully inside.
    let area = 1480.0 * (1480.0 / DocumentFormat::Passport.aspect()) / f64::from(W * H);
    let docs = vec![doc(4, DocumentFormat::Passport, area, 960.0, 540.0, 0.0)];
    assert_eq!(
        code_of(&scene(28, W, H, Background::Fabric, docs), Side::Back),
        Some(ErrorCode::DocumentTooCloseToCamera)
    );
}

#[test]
fn document_too_close_to_border() {
    // 2% of the 1080 px side is 21.6 px; the card's left edge is 12 px from the border.
    let long = (0.2 * f64::from(W * H) * DocumentFormat::Id1.aspect()).sqrt();
    let docs = vec![doc(
        5,
        DocumentFormat::Id1,
        0.2,
        12.0 + long / 2.0,
        540.0,
        0.0,
    )];
    assert_eq!(
        code_of(&scene(29, W, H, Background::Plain, docs), Side::Back),
        Some(ErrorCode::DocumentTooCloseToBorder)
    );
}

#[test]
fn document_too_small() {
    let docs = vec![doc(6, DocumentFormat::Id1, 0.06, 900.0, 500.0, 12.0)];
    assert_eq!(
        code_of(&scene(30, W, H, Background::Wood, docs), Side::Back),
        Some(ErrorCode::DocumentTooSmall)
    );
}

/// A stand-in detector with a fixed answer: the real one comes with the model issue.
struct FixedPortrait(bool);

impl PortraitDetector for FixedPortrait {
    fn name(&self) -> &str {
        "fixed answer (test)"
    }
    fn find(&self, _: &image::RgbImage, document: &Quad) -> Result<Option<FoundPortrait>, String> {
        Ok(self.0.then_some(FoundPortrait {
            quad: *document,
            confidence: 1.0,
        }))
    }
}

#[test]
fn document_photo_not_found_only_when_a_detector_ran() {
    let jpeg = render(&passing_scene(31, W, H)).jpeg;
    let with = |found: bool| {
        Engine::without_models(Config::default())
            .unwrap()
            .with_portrait_detector(Box::new(FixedPortrait(found)))
    };
    let a = with(false).analyze(&jpeg, Side::Front, Region::Document);
    assert_eq!(a.error, Some(ErrorCode::DocumentPhotoNotFound));
    assert_eq!(a.portrait, PortraitCheck::NotFound);
    // Back sides carry no portrait: the rule does not apply.
    let a = with(false).analyze(&jpeg, Side::Back, Region::Document);
    assert_eq!((a.error, a.portrait), (None, PortraitCheck::NotApplicable));
    let a = with(true).analyze(&jpeg, Side::Front, Region::Document);
    assert_eq!(a.error, None);
    assert!(matches!(a.portrait, PortraitCheck::Found { .. }));
    // Without a detector the check is reported as not done, never as passed.
    let a = engine().analyze(&jpeg, Side::Front, Region::Document);
    assert_eq!(a.error, None);
    assert!(
        matches!(a.portrait, PortraitCheck::NotChecked { .. }),
        "{:?}",
        a.portrait
    );
}

#[test]
fn well_framed_scenes_trigger_no_code() {
    for seed in 40..50 {
        let spec = passing_scene(seed, W, H);
        assert_eq!(
            code_of(&spec, Side::Back),
            None,
            "seed {seed} {:?}",
            spec.background
        );
    }
    // Portrait orientation and a 12 MP photo are fine too.
    assert_eq!(code_of(&passing_scene(51, 1080, 1920), Side::Back), None);
    assert_eq!(code_of(&passing_scene(52, 4032, 3024), Side::Back), None);
}

#[test]
fn whole_region_skips_document_rules() {
    let spec = scene(53, W, H, Background::Plain, vec![]);
    let a = engine().analyze(&render(&spec).jpeg, Side::Front, Region::Whole);
    assert_eq!(a.error, None);
    assert!(a.documents.is_empty());
    assert_eq!(a.portrait, PortraitCheck::NotApplicable);
}
