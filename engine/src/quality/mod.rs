//! Image-quality warnings: blur, glare and exposure over the judged region, measured at
//! the photo's native resolution. They never stop scoring; they tell a reviewer why a
//! score may be unreliable and a customer what to retake.
//!
//! One pass over the region (`cells.rs`) gathers per-cell statistics; each warning reads
//! them in its own file.

mod blur;
mod cells;
mod exposure;
mod glare;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::config::WarningsConfig;
use crate::geometry::Quad;

/// A quality warning's code, as written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WarningCode {
    /// The judged region is out of focus or shaken.
    Blurred,
    /// A reflection blows part of the judged region out to white.
    Glare,
    /// The judged region is too dark to show its detail.
    Underexposed,
    /// The judged region is washed out.
    Overexposed,
}

impl WarningCode {
    /// The code as written on the wire, e.g. `GLARE`.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::Blurred => "BLURRED",
            WarningCode::Glare => "GLARE",
            WarningCode::Underexposed => "UNDEREXPOSED",
            WarningCode::Overexposed => "OVEREXPOSED",
        }
    }

    /// What the warning means and what to do, for a reviewer or a customer.
    pub fn explanation(self) -> &'static str {
        match self {
            WarningCode::Blurred => {
                "The document is blurred; fine print and security features cannot be checked. Hold the camera still and let it focus."
            }
            WarningCode::Glare => {
                "A reflection hides part of the document. Tilt it away from the light."
            }
            WarningCode::Underexposed => {
                "The photo is too dark to show the document's detail. Take it in more light."
            }
            WarningCode::Overexposed => "The photo is washed out. Take it out of direct light.",
        }
    }

    /// Every code.
    pub const ALL: [WarningCode; 4] = [
        WarningCode::Blurred,
        WarningCode::Glare,
        WarningCode::Underexposed,
        WarningCode::Overexposed,
    ];

    /// The code for its wire form.
    pub fn parse(s: &str) -> Option<WarningCode> {
        WarningCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for WarningCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One warning: what was measured against which limit, and where (glare).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityWarning {
    /// Which warning.
    pub code: WarningCode,
    /// The measure that raised it.
    pub measured: f64,
    /// The configured limit it crossed.
    pub limit: f64,
    /// The affected areas in image pixels, `[x, y, width, height]`, largest first (glare).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<[u32; 4]>,
}

/// The measures behind the warnings, kept with every analysis so that thresholds can be
/// set and re-checked on stored photos without analysing them again.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QualityMeasures {
    /// 0 = crisp, 1 = no detail; `None` when the region holds no detail to judge.
    pub blur: Option<f64>,
    /// Share of the region covered by blown-out patches.
    pub glare_share: f64,
    /// Mean luma of the region, 0..255.
    pub mean_luma: f64,
}

/// Measures the region inside `outline` (clipped to the photo) and raises the warnings
/// whose limits it crosses. `None` when the region holds no pixel of the photo.
pub fn assess(
    rgb: &RgbImage,
    outline: &Quad,
    cfg: &WarningsConfig,
) -> Option<(QualityMeasures, Vec<QualityWarning>)> {
    let grid = cells::Grid::measure(rgb, outline, cfg.clipped_level)?;
    let glaring = glare::glaring(&grid);
    let measures = QualityMeasures {
        blur: blur::measure(&grid),
        glare_share: glare::share(&grid, &glaring),
        mean_luma: exposure::mean_luma(&grid),
    };
    let mut warnings = Vec::new();
    if let Some(b) = measures.blur.filter(|&b| b >= cfg.blur_limit) {
        warnings.push(QualityWarning {
            code: WarningCode::Blurred,
            measured: b,
            limit: cfg.blur_limit,
            regions: Vec::new(),
        });
    }
    if measures.glare_share >= cfg.glare_share {
        warnings.push(QualityWarning {
            code: WarningCode::Glare,
            measured: measures.glare_share,
            limit: cfg.glare_share,
            regions: glare::regions(&grid, &glaring),
        });
    }
    if let Some(w) = exposure::warning(measures.mean_luma, measures.glare_share, cfg) {
        warnings.push(w);
    }
    Some((measures, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Point;

    fn whole(w: u32, h: u32) -> Quad {
        Quad([
            Point::new(0.0, 0.0),
            Point::new(f64::from(w), 0.0),
            Point::new(f64::from(w), f64::from(h)),
            Point::new(0.0, f64::from(h)),
        ])
    }

    /// Fine print: a mid-grey page with thin dark strokes every few pixels, the detail a
    /// document's text and guilloches give at native resolution.
    fn print(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let stroke = (x * 7 + y * 3) % 11 < 2 || (x + 2 * y) % 13 == 0;
            let v = if stroke { 40 } else { 190 };
            image::Rgb([v, v, v])
        })
    }

    #[test]
    fn a_crisp_well_lit_page_raises_nothing() {
        let img = print(640, 480);
        let (m, warnings) =
            assess(&img, &whole(640, 480), &WarningsConfig::default()).expect("region");
        assert!(warnings.is_empty(), "{warnings:?} {m:?}");
        assert!(m.blur.expect("detail") < 0.3, "{m:?}");
    }

    #[test]
    fn the_same_page_out_of_focus_is_blurred() {
        let img = image::imageops::blur(&print(640, 480), 3.0);
        let (m, warnings) =
            assess(&img, &whole(640, 480), &WarningsConfig::default()).expect("region");
        assert_eq!(
            warnings.iter().map(|w| w.code).collect::<Vec<_>>(),
            vec![WarningCode::Blurred],
            "{m:?}"
        );
    }

    #[test]
    fn a_stronger_blur_under_sensor_noise_reads_blurrier() {
        // The noise is all the pixel-scale variation a strongly blurred photo has left;
        // read at native resolution alone, it made a strong blur look sharper than a
        // mild one.
        // A page photographed close: the print's strokes a few pixels wide.
        let small = print(640, 480);
        let page = RgbImage::from_fn(1280, 960, |x, y| *small.get_pixel(x / 2, y / 2));
        let noisy = |sigma: f32| {
            let mut img = image::imageops::blur(&page, sigma);
            let mut state = 12345u32;
            for p in img.pixels_mut() {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let n = (state >> 30) as i16 - 2;
                p.0 = p.0.map(|v| (i16::from(v) + n).clamp(0, 255) as u8);
            }
            img
        };
        let cfg = WarningsConfig::default();
        let measure = |sigma| {
            let (m, _) = assess(&noisy(sigma), &whole(1280, 960), &cfg).expect("region");
            m.blur.expect("detail")
        };
        let readings = [1.0, 3.0, 8.0].map(measure);
        assert!(
            readings.windows(2).all(|w| w[1] > w[0] + 0.05),
            "blur readings for sigma 1, 3, 8: {readings:?}"
        );
    }

    #[test]
    fn a_reflection_is_glare_and_is_located() {
        let mut img = print(640, 480);
        for y in 100..160 {
            for x in 300..380 {
                img.put_pixel(x, y, image::Rgb([255, 255, 255]));
            }
        }
        let (m, warnings) =
            assess(&img, &whole(640, 480), &WarningsConfig::default()).expect("region");
        let glare = warnings
            .iter()
            .find(|w| w.code == WarningCode::Glare)
            .unwrap_or_else(|| panic!("no glare: {m:?}"));
        let [x, y, w, h] = glare.regions[0];
        // The reported box is the reflection's, give or take a part-covered cell (16 px).
        assert!(
            x <= 316 && y <= 116 && x + w >= 364 && y + h >= 144,
            "{glare:?}"
        );
        assert!(
            x >= 284 && y >= 84 && x + w <= 396 && y + h <= 176,
            "{glare:?}"
        );
    }

    #[test]
    fn dark_and_bright_photos_are_told_apart() {
        let dim = RgbImage::from_fn(320, 240, |x, y| {
            image::Rgb([((x + y) % 30) as u8, ((x + y) % 30) as u8, 20])
        });
        let (_, warnings) = assess(&dim, &whole(320, 240), &WarningsConfig::default()).unwrap();
        assert!(warnings.iter().any(|w| w.code == WarningCode::Underexposed));
        let washed = RgbImage::from_fn(320, 240, |x, _| {
            let v = 236 + (x % 12) as u8;
            image::Rgb([v, v, v])
        });
        let (_, warnings) = assess(&washed, &whole(320, 240), &WarningsConfig::default()).unwrap();
        assert!(warnings.iter().any(|w| w.code == WarningCode::Overexposed));
    }

    #[test]
    fn only_the_region_inside_the_outline_counts() {
        // A blown-out left half, and an outline over the right half only.
        let mut img = print(640, 480);
        for y in 0..480 {
            for x in 0..300 {
                img.put_pixel(x, y, image::Rgb([255, 255, 255]));
            }
        }
        let right = Quad([
            Point::new(340.0, 20.0),
            Point::new(620.0, 30.0),
            Point::new(610.0, 460.0),
            Point::new(350.0, 450.0),
        ]);
        let (m, warnings) = assess(&img, &right, &WarningsConfig::default()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?} {m:?}");
        assert!(m.glare_share < 0.001, "{m:?}");
    }

    #[test]
    fn an_outline_off_the_photo_has_no_region() {
        let img = print(64, 64);
        let off = whole(50, 50).translated(500.0, 500.0);
        assert!(assess(&img, &off, &WarningsConfig::default()).is_none());
    }

    #[test]
    fn codes_round_trip_through_their_wire_form() {
        for code in WarningCode::ALL {
            assert_eq!(WarningCode::parse(code.as_str()), Some(code));
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
        }
    }
}
