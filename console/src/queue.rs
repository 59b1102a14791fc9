//! The queue panel: the list of cases with its filters, loaded a page at a time from
//! the database thread, and the selection that opens a case in the inspector.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use egui::{RichText, Sense};

use super::app::PAGE;
use super::app::{ConsoleApp, Tab};
use super::jobs::DbRequest;
use docliveness_engine::{ErrorCode, WarningCode};
use docliveness_review::{CaseFilter, ReviewCase};
use docliveness_review::{Origin, SortOrder, Status};

/// How often the queue on screen is read again: cases filed by the API, the command line
/// or another console appear, and cases others decided leave, without a key pressed.
pub const QUEUE_POLL: Duration = Duration::from_secs(5);

/// The queue list: its filter and order, the pages loaded, the selected row.
pub struct QueueState {
    pub(super) filter: CaseFilter,
    pub(super) order: SortOrder,
    /// Bumped on every reload, so answers to an older list are recognised and dropped.
    pub(super) generation: u64,
    pub(super) total: Option<u64>,
    pub(super) pages: HashMap<u64, Vec<ReviewCase>>,
    pub(super) requested: HashSet<u64>,
    pub(super) selected_row: Option<u64>,
    pub(super) open_selected_when_loaded: bool,
    /// The last count of the queue failed (the status line says why).
    pub(super) count_failed: bool,
    /// When the list was last asked for, and how often it is asked for again.
    pub(super) last_read: Instant,
    pub(super) poll_every: Duration,
    /// The rows laid out in the last frame.
    pub(super) visible: std::ops::Range<u64>,
}

impl Default for QueueState {
    fn default() -> Self {
        QueueState {
            filter: CaseFilter::default(),
            order: SortOrder::ScoreAscending,
            generation: 0,
            total: None,
            pages: HashMap::new(),
            requested: HashSet::new(),
            selected_row: Some(0),
            open_selected_when_loaded: true,
            count_failed: false,
            last_read: Instant::now(),
            poll_every: QUEUE_POLL,
            visible: 0..0,
        }
    }
}

impl QueueState {
    /// The case at a row of the list, if its page is loaded.
    pub(super) fn loaded_row(&self, row: u64) -> Option<&ReviewCase> {
        self.pages
            .get(&(row / PAGE))
            .and_then(|rows| rows.get((row % PAGE) as usize))
    }
}

impl ConsoleApp {
    /// Reloads the queue list and its count.
    pub(super) fn refresh_queue(&mut self) {
        self.queue.generation += 1;
        self.queue.pages.clear();
        self.queue.requested.clear();
        self.queue.total = None;
        self.queue.count_failed = false;
        self.queue.last_read = Instant::now();
        self.analyst.stats_requested = false;
        self.db.send(DbRequest::Count {
            filter: self.queue.filter.clone(),
            generation: self.queue.generation,
        });
        self.request_page(self.queue.selected_row.unwrap_or(0) / PAGE);
    }

    /// Reads the list on screen again when `poll_every` has passed since it was last
    /// read. The rows shown stay until their new reading arrives, so the list does not
    /// flicker, and the highlight keeps to the case in the inspector
    /// (`follow_shown_case`).
    pub(super) fn poll_queue(&mut self) {
        if self.queue.last_read.elapsed() < self.queue.poll_every {
            return;
        }
        self.queue.generation += 1;
        self.queue.requested.clear();
        self.queue.last_read = Instant::now();
        self.db.send(DbRequest::Count {
            filter: self.queue.filter.clone(),
            generation: self.queue.generation,
        });
        // Only the pages on screen (and the highlighted row's) are read again; the rest
        // are dropped and read when scrolled to, so a long scroll does not make every
        // poll read the whole queue.
        let visible = self.queue.visible.clone();
        let selected = self.queue.selected_row.map(|r| r / PAGE);
        let keep = |page: u64| {
            Some(page) == selected
                || (page * PAGE < visible.end && (page + 1) * PAGE > visible.start)
        };
        self.queue.pages.retain(|page, _| keep(*page));
        let mut pages: Vec<u64> = self.queue.pages.keys().copied().collect();
        if pages.is_empty() {
            pages.push(selected.unwrap_or(0));
        }
        for page in pages {
            self.request_page(page);
        }
    }

    /// After a reading the rows can move under the highlight (a case filed with a lower
    /// score sorts above it): the highlight follows the case in the inspector, so that
    /// the row a reviewer sees marked is the case a verdict goes to. Where that case is
    /// in no page read (it left the list), nothing is highlighted.
    pub(super) fn follow_shown_case(&mut self) {
        // A case being opened is the one about to be shown.
        let Some(id) = self
            .form
            .awaiting_open
            .or_else(|| self.inspector.shown.as_ref().map(|s| s.data.case.id))
        else {
            return;
        };
        let found = self.queue.pages.iter().find_map(|(page, rows)| {
            rows.iter()
                .position(|c| c.id == id)
                .map(|i| page * PAGE + i as u64)
        });
        match found {
            Some(row) => self.queue.selected_row = Some(row),
            None => {
                if self
                    .queue
                    .selected_row
                    .is_some_and(|row| self.queue.pages.contains_key(&(row / PAGE)))
                {
                    self.queue.selected_row = None;
                }
            }
        }
    }

    pub(super) fn request_page(&mut self, page: u64) {
        if self.queue.requested.insert(page) {
            self.db.send(DbRequest::Page {
                filter: self.queue.filter.clone(),
                order: self.queue.order,
                offset: page * PAGE,
                limit: PAGE as u32,
                generation: self.queue.generation,
            });
        }
    }

    /// The case at a row of the list, if loaded (asking for it otherwise).
    pub(super) fn row(&mut self, row: u64) -> Option<ReviewCase> {
        if !self.queue.pages.contains_key(&(row / PAGE)) {
            self.request_page(row / PAGE);
        }
        self.queue.loaded_row(row).cloned()
    }

    pub(super) fn select_row(&mut self, row: u64) {
        self.queue.selected_row = Some(row);
        match self.row(row) {
            Some(case) => {
                self.open_case(case.id);
                self.queue.open_selected_when_loaded = false;
            }
            None => self.queue.open_selected_when_loaded = true,
        }
    }

    pub(super) fn move_selection(&mut self, delta: i64) {
        match self.tab {
            Tab::Intake => {
                if !self.intake.items.is_empty() {
                    let i = self.intake.selected_item.map_or(0, |i| {
                        (i as i64 + delta).clamp(0, self.intake.items.len() as i64 - 1) as usize
                    });
                    self.intake.selected_item = Some(i);
                }
            }
            _ => {
                let total = self.queue.total.unwrap_or(0);
                if total > 0 {
                    let row = self
                        .queue
                        .selected_row
                        .map_or(0, |r| (r as i64 + delta).clamp(0, total as i64 - 1) as u64);
                    self.select_row(row);
                }
            }
        }
    }

    pub(super) fn queue_panel(&mut self, ui: &mut egui::Ui) {
        let before = (self.queue.filter.clone(), self.queue.order);
        egui::Grid::new("filters").num_columns(2).show(ui, |ui| {
            let label = ui.label("Show").id;
            egui::ComboBox::from_id_salt("status")
                .selected_text(format!("{:?}", self.queue.filter.status).to_lowercase())
                .show_ui(ui, |ui| {
                    for s in [Status::Open, Status::Decided, Status::All] {
                        ui.selectable_value(
                            &mut self.queue.filter.status,
                            s,
                            format!("{s:?}").to_lowercase(),
                        );
                    }
                })
                .response
                .labelled_by(label);
            ui.end_row();
            let label = ui.label("Score").id;
            ui.horizontal(|ui| {
                let mut lo = self.queue.filter.score_min.unwrap_or(0.0);
                let mut hi = self.queue.filter.score_max.unwrap_or(1.0);
                ui.add(
                    egui::DragValue::new(&mut lo)
                        .range(0.0..=1.0)
                        .speed(0.01)
                        .fixed_decimals(2),
                )
                .labelled_by(label);
                let to = ui.label("to").id;
                ui.add(
                    egui::DragValue::new(&mut hi)
                        .range(0.0..=1.0)
                        .speed(0.01)
                        .fixed_decimals(2),
                )
                .labelled_by(to);
                self.queue.filter.score_min = (lo > 0.0).then_some(lo);
                self.queue.filter.score_max = (hi < 1.0).then_some(hi);
            });
            ui.end_row();
            let label = ui.label("Origin").id;
            egui::ComboBox::from_id_salt("origin")
                .selected_text(self.queue.filter.origin.map_or("any", |o| o.as_str()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.queue.filter.origin, None, "any");
                    for o in [Origin::Console, Origin::Api, Origin::Cli] {
                        ui.selectable_value(&mut self.queue.filter.origin, Some(o), o.as_str());
                    }
                })
                .response
                .labelled_by(label);
            ui.end_row();
            let label = ui.label("Error").id;
            egui::ComboBox::from_id_salt("error")
                .selected_text(self.queue.filter.error_code.map_or("any", |e| e.as_str()))
                .width(240.0)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.queue.filter.error_code, None, "any");
                    for e in ErrorCode::ALL {
                        ui.selectable_value(&mut self.queue.filter.error_code, Some(e), e.as_str());
                    }
                })
                .response
                .labelled_by(label);
            ui.end_row();
            let label = ui.label("Warning").id;
            egui::ComboBox::from_id_salt("warning")
                .selected_text(self.queue.filter.warning.map_or("any", |w| w.as_str()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.queue.filter.warning, None, "any");
                    for w in WarningCode::ALL {
                        ui.selectable_value(&mut self.queue.filter.warning, Some(w), w.as_str());
                    }
                })
                .response
                .labelled_by(label);
            ui.end_row();
            let label = ui.label("Filed since").id;
            let mut since = self.queue.filter.created_from.clone().unwrap_or_default();
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut since)
                        .hint_text("YYYY-MM-DD")
                        .desired_width(110.0),
                )
                .labelled_by(label);
            if r.changed() {
                self.queue.filter.created_from =
                    (since.len() >= 10)
                        .then_some(since.clone())
                        .or(if since.is_empty() {
                            None
                        } else {
                            self.queue.filter.created_from.clone()
                        });
            }
            ui.end_row();
            let label = ui.label("Sort").id;
            egui::ComboBox::from_id_salt("sort")
                .selected_text(order_words(self.queue.order))
                .show_ui(ui, |ui| {
                    for o in [
                        SortOrder::ScoreAscending,
                        SortOrder::ScoreDescending,
                        SortOrder::OldestFirst,
                        SortOrder::NewestFirst,
                    ] {
                        ui.selectable_value(&mut self.queue.order, o, order_words(o));
                    }
                })
                .response
                .labelled_by(label);
            ui.end_row();
        });
        if (self.queue.filter.clone(), self.queue.order) != before {
            self.queue.selected_row = Some(0);
            self.queue.open_selected_when_loaded = true;
            self.refresh_queue();
        }
        ui.separator();
        let total = self.queue.total.unwrap_or(0);
        ui.label(match self.queue.total {
            None if self.queue.count_failed => "the queue could not be counted".to_string(),
            None => "counting...".to_string(),
            Some(0) => "no cases match".to_string(),
            Some(1) => "1 case".to_string(),
            Some(n) => format!("{n} cases"),
        });
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        let header = [
            "case",
            "score",
            "route",
            "error",
            "warnings",
            "origin",
            "age",
            "claimed / verdict",
        ];
        ui.horizontal(|ui| {
            for (h, w) in header.iter().zip(COLUMN_WIDTHS) {
                ui.add_sized(
                    [w, row_height],
                    egui::Label::new(RichText::new(*h).strong()),
                );
            }
        });
        // Only the visible rows are laid out, so 100k cases scroll like 100.
        let mut clicked = None;
        egui::ScrollArea::vertical().auto_shrink(false).show_rows(
            ui,
            row_height,
            total as usize,
            |ui, range| {
                self.queue.visible = range.start as u64..range.end as u64;
                for row in range.start as u64..range.end as u64 {
                    let selected = self.queue.selected_row == Some(row);
                    let case = self.row(row);
                    let response = ui.horizontal(|ui| {
                        let cells: Vec<String> = match &case {
                            Some(c) => vec![
                                format!("#{}", c.id),
                                c.score.map_or("-".into(), |s| format!("{s:.3}")),
                                c.route.map_or("-".into(), |r| r.as_str().to_string()),
                                c.error_code
                                    .map_or(String::new(), |e| short_code(e).to_string()),
                                c.warnings.as_ref().map_or(String::new(), |w| w.joined()),
                                c.origin.as_str().to_string(),
                                age(&c.created_at),
                                match (&c.verdict, &c.claimed_by) {
                                    (Some(v), _) => format!(
                                        "{} {}",
                                        v.as_str(),
                                        c.attack_type.map_or("", |a| a.as_str())
                                    ),
                                    (None, Some(who)) => format!("claimed: {who}"),
                                    _ => String::new(),
                                },
                            ],
                            None => vec!["...".into()],
                        };
                        for (text, w) in cells.iter().zip(COLUMN_WIDTHS) {
                            let mut t = RichText::new(text);
                            if selected {
                                t = t.strong().color(ui.visuals().strong_text_color());
                            }
                            ui.add_sized([w, row_height], egui::Label::new(t).truncate());
                        }
                    });
                    let r = ui.interact(
                        response.response.rect,
                        ui.make_persistent_id(("queue-row", row)),
                        Sense::click(),
                    );
                    if selected {
                        ui.painter().rect_stroke(
                            response.response.rect,
                            2.0,
                            egui::Stroke::new(1.0, ui.visuals().selection.stroke.color),
                            egui::StrokeKind::Inside,
                        );
                    }
                    if r.clicked() {
                        clicked = Some(row);
                    }
                }
            },
        );
        if let Some(row) = clicked {
            self.select_row(row);
        }
    }
}

fn order_words(o: SortOrder) -> &'static str {
    match o {
        SortOrder::ScoreAscending => "lowest score first",
        SortOrder::ScoreDescending => "highest score first",
        SortOrder::OldestFirst => "oldest first",
        SortOrder::NewestFirst => "newest first",
    }
}

fn short_code(e: ErrorCode) -> &'static str {
    e.as_str()
        .trim_start_matches("DOCUMENT_")
        .trim_start_matches("IMAGE_")
}

fn age(created: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(created) else {
        return String::new();
    };
    let d = chrono::Utc::now().signed_duration_since(t);
    if d.num_days() > 0 {
        format!("{}d", d.num_days())
    } else if d.num_hours() > 0 {
        format!("{}h", d.num_hours())
    } else {
        format!("{}m", d.num_minutes().max(0))
    }
}

const COLUMN_WIDTHS: [f32; 8] = [50.0, 48.0, 48.0, 90.0, 90.0, 52.0, 52.0, 110.0];
