//! Correcting a document outline in the inspector: a key starts editing the shown case's
//! outline, the reviewer drags any corner (corners may go outside the photo, for a
//! cut-off document) or clicks four new ones, Enter applies and Esc cancels. Applying
//! sends the outline to the database thread, which has the photo analysed again on it
//! off the UI thread and records the result as a new analysis of the case.

use egui::{Color32, Pos2, Rect, Response, Shape, Stroke, Vec2};

use super::app::{ConsoleApp, PendingDecision, Tab};
use super::jobs::DbRequest;
use super::shortcuts::{self, Action};
use docliveness_engine::Quad;
use docliveness_engine::geometry::Point;

/// A press this close to a corner handle (screen points) grabs it.
const GRAB: f32 = 12.0;

/// An outline being edited.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlineEdit {
    /// Which side of the shown case (its index in the case's sides).
    pub side: usize,
    /// The corners, in upright photo pixels.
    pub corners: [Point; 4],
    /// A new outline being clicked in, corner by corner.
    pub clicks: Vec<Point>,
    /// The corner being dragged.
    pub dragging: Option<usize>,
    /// Where the corner handles were drawn last frame, in screen points.
    pub handles: Option<[Pos2; 4]>,
}

/// The mapping between photo pixels and the screen, as the viewer draws the photo.
pub struct Mapping {
    /// The drawn photo's top-left corner on screen.
    pub origin: Pos2,
    /// Screen points per photo pixel.
    pub scale: f32,
}

impl Mapping {
    fn to_screen(&self, p: Point) -> Pos2 {
        self.origin + Vec2::new(p.x as f32, p.y as f32) * self.scale
    }

    fn to_photo(&self, p: Pos2) -> Point {
        let v = (p - self.origin) / self.scale;
        Point::new(f64::from(v.x), f64::from(v.y))
    }
}

impl OutlineEdit {
    /// Handles the pointer over the photo. Returns true when the pointer is the
    /// editor's (a corner is dragged), so the view must not pan.
    pub fn interact(&mut self, response: &Response, map: &Mapping) -> bool {
        let handles = self.corners.map(|c| map.to_screen(c));
        // Where the button went down, not where the drag was recognised a few points on.
        if response.drag_started()
            && let Some(press) = response.ctx.input(|i| i.pointer.press_origin())
        {
            self.dragging = handles
                .iter()
                .enumerate()
                .map(|(i, h)| (i, h.distance(press)))
                .filter(|&(_, d)| d <= GRAB)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i);
        }
        let mut owned = false;
        if let Some(i) = self.dragging {
            owned = true;
            if let Some(at) = response.interact_pointer_pos() {
                self.corners[i] = map.to_photo(at);
            }
            if response.drag_stopped() || !response.is_pointer_button_down_on() {
                self.dragging = None;
            }
        } else if response.clicked()
            && let Some(at) = response.interact_pointer_pos()
        {
            self.clicks.push(map.to_photo(at));
            if self.clicks.len() == 4 {
                let clicked: Vec<Point> = std::mem::take(&mut self.clicks);
                self.corners = [clicked[0], clicked[1], clicked[2], clicked[3]];
            }
        }
        owned
    }

    /// Draws the outline being edited, its corner handles and any clicks so far.
    pub fn draw(&mut self, ui: &egui::Ui, map: &Mapping, area: Rect) {
        let painter = ui.painter_at(area);
        let cyan = Color32::from_rgb(40, 220, 255);
        let handles = self.corners.map(|c| map.to_screen(c));
        painter.add(Shape::closed_line(handles.to_vec(), Stroke::new(2.0, cyan)));
        for (i, h) in handles.iter().enumerate() {
            let grabbed = self.dragging == Some(i);
            painter.circle_stroke(*h, GRAB * 0.6, Stroke::new(2.0, cyan));
            if grabbed {
                painter.circle_filled(*h, GRAB * 0.4, cyan);
            }
        }
        let yellow = Color32::from_rgb(255, 230, 60);
        for c in &self.clicks {
            painter.circle_filled(map.to_screen(*c), 5.0, yellow);
        }
        painter.text(
            area.left_top() + Vec2::new(8.0, 8.0),
            egui::Align2::LEFT_TOP,
            format!(
                "outline: drag a corner or click four | {}: apply | {}: cancel",
                shortcuts::keys(ui.ctx(), Action::ApplyOutline),
                shortcuts::keys(ui.ctx(), Action::Cancel)
            ),
            egui::FontId::proportional(13.0),
            cyan,
        );
        self.handles = Some(handles);
    }
}

impl ConsoleApp {
    /// Starts editing the shown case's outline; pressed again on a two-sided case, moves
    /// on to the other side.
    pub(super) fn start_outline_edit(&mut self) {
        if self.tab != Tab::Queue {
            self.status = "outlines are corrected on cases: file the photo first".into();
            return;
        }
        let Some(shown) = &self.inspector.shown else {
            self.status = "select a case to correct its outline".into();
            return;
        };
        let sides = shown.data.current();
        let side = match &self.inspector.edit {
            Some(edit) => (edit.side + 1) % sides.len().max(1),
            None => 0,
        };
        let Some(&analysis) = sides.get(side) else {
            return;
        };
        if shown.textures.get(side).is_none_or(|t| t.is_none()) {
            self.status = "this side's photo is not available (purged or unreadable)".into();
            return;
        }
        let corners = match (analysis.documents.first(), &analysis.image) {
            (Some(doc), _) => doc.quad.0,
            // No outline to start from: a frame a tenth in from the photo's edges.
            (None, Some(f)) => {
                let (w, h) = (f64::from(f.width), f64::from(f.height));
                [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)]
                    .map(|(x, y)| Point::new(x * w, y * h))
            }
            (None, None) => return,
        };
        self.inspector.edit = Some(OutlineEdit {
            side,
            corners,
            clicks: Vec::new(),
            dragging: None,
            handles: None,
        });
        self.status = format!(
            "editing the {:?} side's outline: drag a corner or click four new ones (the keys to apply or cancel are on the photo)",
            analysis.side
        );
    }

    /// Sends the edited outline to be analysed and recorded; a bad outline is refused
    /// here with the reason, and editing goes on.
    pub(super) fn apply_outline_edit(&mut self) {
        let (Some(edit), Some(shown)) = (&self.inspector.edit, &self.inspector.shown) else {
            return;
        };
        let Some(&analysis) = shown.data.current().get(edit.side) else {
            return;
        };
        let quad = match Quad::from_corners(edit.corners.map(|p| (p.x, p.y))) {
            Ok(q) => q,
            Err(e) => {
                self.status = format!("this outline cannot be used: {e}");
                return;
            }
        };
        if self.settings.reviewer.is_empty() {
            self.form.name_prompt = Some(PendingDecision(Action::ApplyOutline));
            return;
        }
        let (id, side) = (shown.data.case.id, analysis.side);
        self.db.send(DbRequest::Correct {
            id,
            side,
            outline: quad,
            reviewer: self.settings.reviewer.clone(),
        });
        self.inspector.edit = None;
        self.status = format!("case {id}: analysing the photo again on the corrected outline...");
    }

    /// Drops the edit; nothing is recorded.
    pub(super) fn cancel_outline_edit(&mut self) {
        if self.inspector.edit.take().is_some() {
            self.status = "outline correction cancelled".into();
        }
    }
}
