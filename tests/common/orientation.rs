//! The eight ways a camera can be held, for the tests that check an answer does not
//! depend on it.

use image::RgbImage;
use image::imageops::{flip_horizontal, rotate90};

/// The photo as the camera records it held the `k`-th way (`k` in 0..8: mirrored for
/// `k >= 4`, then turned a quarter clockwise `k % 4` times).
pub fn held(image: &RgbImage, k: usize) -> RgbImage {
    let mut v = if k >= 4 {
        flip_horizontal(image)
    } else {
        image.clone()
    };
    for _ in 0..k % 4 {
        v = rotate90(&v);
    }
    v
}
