//! The image viewer: zoom to the cursor, pan by dragging or with the arrow keys, fit and
//! 1:1, and the overlays (document outline with any glare areas, portrait box, evidence
//! heat-map). The view
//! is kept when moving between cases, so a reviewer can compare the same spot.

use egui::{Color32, Pos2, Rect, Sense, Shape, Stroke, TextureHandle, Vec2, pos2};

use super::outline_editor::{Mapping, OutlineEdit};
use docliveness_engine::Analysis;
use docliveness_engine::PortraitCheck;
use docliveness_engine::geometry::{Homography, Point, Quad};

/// How the image is scaled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zoom {
    /// Whole image in view.
    Fit,
    /// Screen pixels per image pixel.
    Scale(f32),
}

/// The view shared by both sides of a case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    /// Scale.
    pub zoom: Zoom,
    /// Offset of the image centre from the view centre, in screen points.
    pub pan: Vec2,
}

impl Default for View {
    fn default() -> Self {
        View {
            zoom: Zoom::Fit,
            pan: Vec2::ZERO,
        }
    }
}

/// Which overlays are drawn.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Overlays {
    /// Document outline.
    pub outline: bool,
    /// Portrait box.
    pub portrait: bool,
    /// Evidence heat-map.
    pub heatmap: bool,
}

impl Default for Overlays {
    fn default() -> Self {
        Overlays {
            outline: true,
            portrait: true,
            heatmap: true,
        }
    }
}

impl View {
    fn scale(&self, image: Vec2, area: Rect) -> f32 {
        match self.zoom {
            Zoom::Fit => (area.width() / image.x).min(area.height() / image.y),
            Zoom::Scale(s) => s,
        }
    }

    /// Multiplies the scale by `factor`, keeping the image point under `anchor` still.
    pub fn zoom_by(&mut self, factor: f32, anchor: Pos2, image: Vec2, area: Rect) {
        let old = self.scale(image, area);
        let new = (old * factor).clamp(0.02, 32.0);
        // Screen = centre + pan + (p - image/2) * scale; keep `anchor` on the same p.
        let centre = area.center().to_vec2() + self.pan;
        let p = (anchor.to_vec2() - centre) / old;
        self.pan = anchor.to_vec2() - area.center().to_vec2() - p * new;
        self.zoom = Zoom::Scale(new);
    }

    /// Moves the image by `delta` screen points.
    pub fn pan_by(&mut self, delta: Vec2) {
        self.pan += delta;
    }
}

fn to_screen(p: Pos2, image: Vec2, area: Rect, view: &View) -> Pos2 {
    let s = view.scale(image, area);
    area.center() + view.pan + (p.to_vec2() - image / 2.0) * s
}

/// Draws one side: the photo, the overlays, and handles zoom and pan over it.
pub fn show(
    ui: &mut egui::Ui,
    texture: Option<&TextureHandle>,
    analysis: &Analysis,
    view: &mut View,
    overlays: Overlays,
    mut edit: Option<&mut OutlineEdit>,
) {
    let (area, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
    let painter = ui.painter_at(area);
    painter.rect_filled(area, 0.0, Color32::from_gray(24));
    let Some(texture) = texture else {
        painter.text(
            area.center(),
            egui::Align2::CENTER_CENTER,
            analysis
                .invalid_reason
                .as_deref()
                .unwrap_or("no image (purged by retention or unreadable)"),
            egui::FontId::proportional(14.0),
            Color32::LIGHT_GRAY,
        );
        return;
    };
    let image = texture.size_vec2();
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            let anchor = response.hover_pos().unwrap_or(area.center());
            view.zoom_by((scroll / 200.0).exp(), anchor, image, area);
        }
    }
    let mapping = |view: &View| Mapping {
        origin: to_screen(Pos2::ZERO, image, area, view),
        scale: view.scale(image, area),
    };
    // A drag that grabs an outline corner moves the corner, not the photo.
    let editing = edit
        .as_deref_mut()
        .is_some_and(|e| e.interact(&response, &mapping(view)));
    if response.dragged() && !editing {
        view.pan_by(response.drag_delta());
    }
    let top_left = to_screen(Pos2::ZERO, image, area, view);
    let bottom_right = to_screen(pos2(image.x, image.y), image, area, view);
    painter.image(
        texture.id(),
        Rect::from_min_max(top_left, bottom_right),
        Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
        Color32::WHITE,
    );
    let at = |x: f64, y: f64| to_screen(pos2(x as f32, y as f32), image, area, view);
    if overlays.heatmap
        && let Some(evidence) = &analysis.evidence
    {
        let [rx, ry, rw, rh] = evidence.region.map(|v| v as f64);
        // Cells divide the judged outline when the engine gives it, else its bounds.
        let outline = evidence.corners.unwrap_or([
            [rx, ry],
            [rx + rw, ry],
            [rx + rw, ry + rh],
            [rx, ry + rh],
        ]);
        let map = Homography::unit_square_to(&Quad(outline.map(|[x, y]| Point::new(x, y))));
        let (columns, rows) = (f64::from(evidence.columns), f64::from(evidence.rows));
        for (i, v) in evidence.values.iter().enumerate() {
            let (c, r) = (
                (i as u32 % evidence.columns) as f64,
                (i as u32 / evidence.columns) as f64,
            );
            let cell: Vec<Pos2> = [(c, r), (c + 1.0, r), (c + 1.0, r + 1.0), (c, r + 1.0)]
                .into_iter()
                .map(|(u, w)| {
                    let p = map.apply(Point::new(u / columns, w / rows));
                    at(p.x, p.y)
                })
                .collect();
            painter.add(Shape::convex_polygon(
                cell,
                Color32::from_rgba_unmultiplied(255, 40, 40, (v.clamp(0.0, 1.0) * 140.0) as u8),
                Stroke::NONE,
            ));
        }
    }
    if overlays.outline {
        let color = if analysis.error.is_some() {
            Color32::from_rgb(255, 90, 60)
        } else {
            Color32::from_rgb(60, 220, 120)
        };
        for doc in &analysis.documents {
            let points: Vec<Pos2> = doc.quad.0.iter().map(|p| at(p.x, p.y)).collect();
            painter.add(Shape::closed_line(points.clone(), Stroke::new(2.5, color)));
            for p in points {
                painter.circle_filled(p, 4.0, color);
            }
        }
        // Where a reflection blows the document out: the reviewer checks what it hides.
        let amber = Color32::from_rgb(255, 190, 40);
        for warning in &analysis.warnings {
            for &[x, y, w, h] in &warning.regions {
                let (x0, y0) = (f64::from(x), f64::from(y));
                let (x1, y1) = (x0 + f64::from(w), y0 + f64::from(h));
                let rect = Rect::from_two_pos(at(x0, y0), at(x1, y1));
                painter.rect_stroke(
                    rect,
                    0.0,
                    Stroke::new(2.0, amber),
                    egui::StrokeKind::Outside,
                );
                painter.text(
                    rect.left_top() + Vec2::new(2.0, -2.0),
                    egui::Align2::LEFT_BOTTOM,
                    warning.code.as_str().to_lowercase(),
                    egui::FontId::proportional(12.0),
                    amber,
                );
            }
        }
    }
    if overlays.portrait
        && let PortraitCheck::Found { portrait } = &analysis.portrait
    {
        let points: Vec<Pos2> = portrait.quad.0.iter().map(|p| at(p.x, p.y)).collect();
        painter.add(Shape::closed_line(
            points,
            Stroke::new(2.0, Color32::from_rgb(80, 160, 255)),
        ));
    }
    if let Some(edit) = edit {
        edit.draw(ui, &mapping(view), area);
    }
    let scale = view.scale(image, area);
    painter.text(
        area.left_bottom() + Vec2::new(6.0, -6.0),
        egui::Align2::LEFT_BOTTOM,
        format!("{:.0}%  {}x{}", scale * 100.0, image.x, image.y),
        egui::FontId::monospace(12.0),
        Color32::from_gray(200),
    );
}

/// The score on a bar with the fail, review and pass bands.
pub fn gauge(ui: &mut egui::Ui, score: Option<f64>, fail_below: f64, pass_from: f64) {
    let (rect, _) = ui.allocate_exact_size(
        Vec2::new(ui.available_width().min(320.0), 22.0),
        Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    let x = |v: f64| rect.left() + rect.width() * v as f32;
    let band = |a: f64, b: f64, c: Color32| {
        painter.rect_filled(
            Rect::from_min_max(pos2(x(a), rect.top()), pos2(x(b), rect.bottom())),
            0.0,
            c,
        )
    };
    band(0.0, fail_below, Color32::from_rgb(150, 40, 40));
    band(fail_below, pass_from, Color32::from_rgb(160, 120, 30));
    band(pass_from, 1.0, Color32::from_rgb(40, 120, 60));
    if let Some(s) = score {
        let px = x(s.clamp(0.0, 1.0));
        painter.line_segment(
            [pos2(px, rect.top() - 2.0), pos2(px, rect.bottom() + 2.0)],
            Stroke::new(3.0, Color32::WHITE),
        );
    }
}
