//! Scaffolding shared by the engine's unit tests.

use image::RgbImage;

use crate::geometry::{Point, Quad};

/// The photo as held the `k`-th of the eight ways (turned `k % 4` quarters clockwise,
/// then mirrored for `k >= 4`), with the outline moved the same way. The order of the
/// corners is left as it falls, for the caller to put in canonical order or not.
pub fn held(image: &RgbImage, quad: Quad, k: usize) -> (RgbImage, Quad) {
    let (mut photo, mut outline) = (image.clone(), quad);
    for _ in 0..k % 4 {
        let h = f64::from(photo.height());
        photo = image::imageops::rotate90(&photo);
        outline = Quad(outline.0.map(|p| Point::new(h - p.y, p.x)));
    }
    if k >= 4 {
        let w = f64::from(photo.width());
        photo = image::imageops::flip_horizontal(&photo);
        outline = Quad(outline.0.map(|p| Point::new(w - p.x, p.y)));
    }
    (photo, outline)
}
