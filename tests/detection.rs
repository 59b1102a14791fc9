//! Document detection measured on seeded synthetic scenes with known corners.

use docliveness::config::DetectionConfig;
use docliveness::engine::decode::decode;
use docliveness::engine::document::detect_documents;
use docliveness::synth::{Background, passing_scene, render};

const SCENES: u64 = 200;

#[test]
fn detection_rate_and_iou_on_passing_scenes() {
    let cfg = DetectionConfig::default();
    let mut detected = 0;
    let mut iou_sum = 0.0;
    let mut per_background = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    let mut lowest_true = f64::INFINITY;
    let offset: u64 = std::env::var("DETECTION_SEED_OFFSET").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    for seed in offset..offset + SCENES {
        let spec = passing_scene(seed, 1920, 1080);
        let scene = render(&spec);
        let image = decode(&scene.jpeg, 50_000_000).expect("scene decodes");
        let docs = detect_documents(&image.rgb, &cfg);
        let truth = scene.quads[0];
        let best = docs.iter().map(|d| d.quad.iou(&truth)).fold(0.0, f64::max);
        let entry = per_background.entry(format!("{:?}", spec.background)).or_insert((0, 0, 0.0));
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
    println!("detection over {SCENES} passing scenes: rate {:.1}%, mean IoU {:.4}", rate * 100.0, mean_iou);
    println!("  lowest confidence of a correct detection: {lowest_true:.3}");
    for (bg, (n, ok, iou)) in &per_background {
        println!("  {bg:<13} {ok}/{n} detected, mean IoU {:.4}", iou / *n as f64);
    }
    for f in &failures {
        println!("  miss: seed {} {:?}: {} documents, best IoU {:.3}", f.0, f.1, f.2, f.3);
    }
    assert!(rate >= 0.98, "detection rate {rate}");
    assert!(mean_iou >= 0.90, "mean IoU {mean_iou}");
    let _ = Background::ALL;
}
