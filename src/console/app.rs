//! The console's state and its frame: panels, actions, and the hand-off to the
//! background threads. Nothing here blocks: every slow thing is a request.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, OnceLock};

use egui::{TextureHandle, TextureOptions};
use serde::{Deserialize, Serialize};

use super::jobs::{Database, DbReply, DbRequest, Intake, IntakeResult, OpenedCase};
use super::shortcuts::{self, Action};
use super::viewer::{Overlays, View, Zoom};
use crate::config::Thresholds;
use crate::engine::{Analysis, Engine, Route};
use crate::review::{
    AttackType, CaseFilter, NewDecision, ReviewCase, SortOrder, Statistics, Store, Verdict,
};

/// Rows fetched per request of the queue list.
pub const PAGE: u64 = 100;

/// What persists between runs (window size and panel layout persist through egui).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The reviewer's name, asked once.
    pub reviewer: String,
    /// Dark theme.
    pub dark: bool,
    /// Overlays shown.
    pub overlays: Overlays,
    /// The bundled samples were shown once already.
    pub samples_shown: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            reviewer: String::new(),
            dark: true,
            overlays: Overlays::default(),
            samples_shown: false,
        }
    }
}

/// The three views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The review queue.
    Queue,
    /// Photos opened or dropped here.
    Intake,
    /// Statistics and what-if.
    Analyst,
}

/// A photo of intake, shown from memory.
pub struct IntakeItem {
    /// The analysed photo.
    pub result: IntakeResult,
    /// Its texture, made on first display.
    pub texture: Option<TextureHandle>,
    /// The case it was filed as.
    pub case_id: Option<i64>,
}

/// A case shown in the inspector, with its textures.
pub struct Shown {
    /// Data from the store.
    pub data: OpenedCase,
    /// One texture per side.
    pub textures: Vec<Option<TextureHandle>>,
}

/// A decision waiting for the reviewer's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingDecision(pub Action);

/// The console.
pub struct ConsoleApp {
    pub(super) db: Database,
    pub(super) intake: Intake,
    pub(super) engine: Arc<Engine>,
    pub(super) thresholds: Thresholds,
    pub(super) settings: Settings,
    pub(super) tab: Tab,
    pub(super) filter: CaseFilter,
    pub(super) order: SortOrder,
    pub(super) generation: u64,
    pub(super) total: Option<u64>,
    pub(super) pages: HashMap<u64, Vec<ReviewCase>>,
    pub(super) requested: HashSet<u64>,
    pub(super) selected_row: Option<u64>,
    pub(super) open_selected_when_loaded: bool,
    pub(super) shown: Option<Shown>,
    pub(super) items: Vec<IntakeItem>,
    pub(super) selected_item: Option<usize>,
    pub(super) view: View,
    pub(super) reason: String,
    pub(super) note: String,
    pub(super) name_prompt: Option<PendingDecision>,
    pub(super) name_input: String,
    /// The last decision this console wrote: (case, decision row).
    pub(super) last_decided: Option<(i64, i64)>,
    /// A case asked for and not yet shown; deciding waits for it.
    pub(super) awaiting_open: Option<i64>,
    pub(super) what_if: Thresholds,
    pub(super) stats: Option<Result<Statistics, String>>,
    pub(super) stats_requested: bool,
    /// The last count of the queue failed (the status line says why).
    pub(super) count_failed: bool,
    pub(super) adapt: super::adapt_panel::AdaptState,
    pub(super) status: String,
    pub(super) help: bool,
    pub(super) dialogs: Option<Receiver<Vec<PathBuf>>>,
    pub(super) frame_ms: std::collections::VecDeque<f32>,
    pub(super) samples_dir: Option<PathBuf>,
    /// Frame times while a batch is analysed, for the responsiveness report.
    batch_frames: Vec<f32>,
    /// Time spent in `draw` per frame during a batch.
    batch_draw_ms: Vec<f32>,
    batch_started: Option<std::time::Instant>,
    repaint: Arc<OnceLock<egui::Context>>,
}

impl ConsoleApp {
    /// A console on an open review store (opened, and checked, once by the caller,
    /// before any window; the console moves it to its database thread).
    pub fn new(
        store: Store,
        engine: Arc<Engine>,
        settings: Settings,
        samples_dir: Option<PathBuf>,
    ) -> Result<ConsoleApp, String> {
        let repaint: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
        let ask = |r: &Arc<OnceLock<egui::Context>>| {
            let r = Arc::clone(r);
            move || {
                if let Some(ctx) = r.get() {
                    ctx.request_repaint();
                }
            }
        };
        let thresholds = engine.config().thresholds;
        let db = Database::start(store, thresholds, ask(&repaint))?;
        // One core stays free for drawing, so the window keeps its frame rate during a batch.
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .max(1);
        let intake = Intake::start(Arc::clone(&engine), workers, ask(&repaint));
        let mut app = ConsoleApp {
            db,
            intake,
            engine,
            thresholds,
            settings,
            tab: Tab::Queue,
            filter: CaseFilter::default(),
            order: SortOrder::ScoreAscending,
            generation: 0,
            total: None,
            pages: HashMap::new(),
            requested: HashSet::new(),
            selected_row: Some(0),
            open_selected_when_loaded: true,
            shown: None,
            items: Vec::new(),
            selected_item: None,
            view: View::default(),
            reason: String::new(),
            note: String::new(),
            name_prompt: None,
            name_input: String::new(),
            last_decided: None,
            awaiting_open: None,
            what_if: thresholds,
            stats: None,
            stats_requested: false,
            count_failed: false,
            adapt: Default::default(),
            status: String::new(),
            help: false,
            dialogs: None,
            frame_ms: std::collections::VecDeque::new(),
            samples_dir,
            batch_frames: Vec::new(),
            batch_draw_ms: Vec::new(),
            batch_started: None,
            repaint,
        };
        app.refresh_queue();
        if !app.settings.samples_shown
            && let Some(dir) = app.samples_dir.clone()
        {
            let files = crate::image_files::expand(&[dir]);
            if !files.is_empty() {
                app.status = format!("first run: showing {} bundled sample photos", files.len());
                app.intake.add(files);
                app.tab = Tab::Intake;
            }
            app.settings.samples_shown = true;
        }
        Ok(app)
    }

    /// The persisted settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The current view.
    pub fn tab(&self) -> Tab {
        self.tab
    }

    /// The case in the inspector, if any.
    pub fn shown_case(&self) -> Option<&ReviewCase> {
        self.shown.as_ref().map(|s| &s.data.case)
    }

    /// Photos in intake.
    pub fn intake_items(&self) -> &[IntakeItem] {
        &self.items
    }

    /// The status line.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// Sets the reviewer's name (as the first-decision prompt does).
    pub fn set_reviewer(&mut self, name: &str) {
        self.settings.reviewer = name.trim().to_string();
        self.name_prompt = None;
    }

    /// Replaces the queue filter and reloads the list.
    pub fn set_filter(&mut self, filter: CaseFilter) {
        self.filter = filter;
        self.selected_row = Some(0);
        self.open_selected_when_loaded = true;
        self.refresh_queue();
    }

    /// Rows matching the filter, once counted.
    pub fn queue_total(&self) -> Option<u64> {
        self.total
    }

    /// Queues photos for analysis.
    pub fn add_paths(&mut self, paths: Vec<PathBuf>) {
        self.status = format!("looking for photos in {} places...", paths.len());
        self.intake.add(paths);
        self.tab = Tab::Intake;
    }

    /// Reloads the queue list and its count.
    pub(super) fn refresh_queue(&mut self) {
        self.generation += 1;
        self.pages.clear();
        self.requested.clear();
        self.total = None;
        self.count_failed = false;
        self.stats_requested = false;
        self.db.send(DbRequest::Count {
            filter: self.filter.clone(),
            generation: self.generation,
        });
        self.request_page(self.selected_row.unwrap_or(0) / PAGE);
    }

    pub(super) fn request_page(&mut self, page: u64) {
        if self.requested.insert(page) {
            self.db.send(DbRequest::Page {
                filter: self.filter.clone(),
                order: self.order,
                offset: page * PAGE,
                limit: PAGE as u32,
                generation: self.generation,
            });
        }
    }

    /// The case at a row of the list, if loaded (asking for it otherwise).
    pub(super) fn row(&mut self, row: u64) -> Option<ReviewCase> {
        let page = row / PAGE;
        match self.pages.get(&page) {
            Some(rows) => rows.get((row % PAGE) as usize).cloned(),
            None => {
                self.request_page(page);
                None
            }
        }
    }

    pub(super) fn open_case(&mut self, id: i64) {
        self.awaiting_open = Some(id);
        self.db.send(DbRequest::Open { id });
    }

    pub(super) fn select_row(&mut self, row: u64) {
        self.selected_row = Some(row);
        match self.row(row) {
            Some(case) => {
                self.open_case(case.id);
                self.open_selected_when_loaded = false;
            }
            None => self.open_selected_when_loaded = true,
        }
    }

    fn poll(&mut self, ctx: &egui::Context) {
        while let Ok(reply) = self.db.replies.try_recv() {
            match reply {
                DbReply::Page {
                    generation,
                    offset,
                    rows,
                } if generation == self.generation => {
                    let rows = match rows {
                        Ok(rows) => rows,
                        // An unreadable queue is not an empty one: say so. The page stays
                        // unloaded (and not asked for again every frame) until a refresh.
                        Err(e) => {
                            // Nothing will open from this page: decisions must not wait
                            // for it, nor land on the case still on screen.
                            if self.open_selected_when_loaded {
                                self.open_selected_when_loaded = false;
                                self.shown = None;
                            }
                            self.status = format!("the queue could not be read: {e}");
                            continue;
                        }
                    };
                    self.pages.insert(offset / PAGE, rows);
                    if self.open_selected_when_loaded
                        && let Some(row) = self.selected_row
                    {
                        if let Some(case) = self.row(row) {
                            self.open_selected_when_loaded = false;
                            self.open_case(case.id);
                        } else if self.total.is_some_and(|t| row >= t) && row > 0 {
                            self.selected_row = Some(row - 1);
                        }
                    }
                }
                DbReply::Count { generation, count } if generation == self.generation => {
                    let count = match count {
                        Ok(count) => count,
                        Err(e) => {
                            self.status = format!("the queue could not be counted: {e}");
                            self.count_failed = true;
                            continue;
                        }
                    };
                    self.total = Some(count);
                    if count == 0 {
                        self.selected_row = None;
                        if self.tab == Tab::Queue {
                            self.shown = None;
                        }
                    }
                }
                DbReply::Page { .. } | DbReply::Count { .. } => {}
                DbReply::Opened(mut data) => {
                    let id = data.case.id;
                    if self.awaiting_open == Some(id) {
                        self.awaiting_open = None;
                    }
                    let textures = data
                        .sides
                        .iter_mut()
                        .enumerate()
                        .map(|(i, (_, pixels))| {
                            pixels.take().map(|p| {
                                ctx.load_texture(format!("case-{id}-{i}"), p, texture_options())
                            })
                        })
                        .collect();
                    self.shown = Some(Shown {
                        data: *data,
                        textures,
                    });
                }
                DbReply::OpenFailed { id, error } => {
                    // Only the case asked for matters; an earlier request overtaken by
                    // the reviewer moving on is no news.
                    if self.awaiting_open == Some(id) {
                        // It is not coming: stop waiting for it, and show no case rather
                        // than the previous one, which a decision key would otherwise
                        // decide in its place.
                        self.awaiting_open = None;
                        self.shown = None;
                        self.status = format!("case {id} could not be opened: {error}");
                    }
                }
                DbReply::Changed {
                    id,
                    decision,
                    result,
                } => match result {
                    Ok(message) => {
                        if let Some(d) = decision {
                            self.last_decided = Some((id, d));
                        }
                        self.status = message;
                        self.refresh_queue();
                        if self.shown.as_ref().is_some_and(|s| s.data.case.id == id)
                            && !self.open_selected_when_loaded
                        {
                            self.open_case(id);
                        }
                    }
                    Err(message) => self.status = message,
                },
                DbReply::Filed { path, result } => {
                    match &result {
                        Ok(id) => self.status = format!("{} filed as case {id}", path.display()),
                        Err(e) => {
                            self.status = format!("{} could not be filed: {e}", path.display())
                        }
                    }
                    if let Ok(id) = result
                        && let Some(item) = self
                            .items
                            .iter_mut()
                            .find(|i| i.result.path == path && i.case_id.is_none())
                    {
                        item.case_id = Some(id);
                    }
                    self.refresh_queue();
                }
                DbReply::Stats(stats) => self.stats = Some(stats),
                DbReply::Adapt { result, applied } => {
                    if applied && let Ok(p) = &result {
                        self.status = format!(
                            "score overlay {} installed; restart to use it",
                            p.overlay.version
                        );
                    }
                    self.adapt = super::adapt_panel::AdaptState::Done(result, applied);
                }
            }
        }
        while let Ok(result) = self.intake.results.try_recv() {
            // Review-band results go straight to the queue; others can be added by hand.
            if result.analysis.decision == Some(Route::Review) {
                self.file(&result);
            }
            self.items.push(IntakeItem {
                result,
                texture: None,
                case_id: None,
            });
            if self.selected_item.is_none() {
                self.selected_item = Some(self.items.len() - 1);
            }
            if self.intake.idle() {
                self.status = format!("{} photos analysed", self.items.len());
            }
        }
        if let Some(rx) = &self.dialogs
            && let Ok(paths) = rx.try_recv()
        {
            self.dialogs = None;
            if !paths.is_empty() {
                self.add_paths(paths);
            }
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if !dropped.is_empty() {
            self.add_paths(dropped);
        }
    }

    pub(super) fn file(&mut self, result: &IntakeResult) {
        if result.bytes.is_empty() {
            self.status = format!(
                "{} cannot be filed: it could not be read",
                result.path.display()
            );
            return;
        }
        self.db.send(DbRequest::File {
            path: result.path.clone(),
            bytes: Arc::clone(&result.bytes),
            analysis: Box::new(result.analysis.clone()),
        });
    }

    fn open_dialog(&mut self, folder: bool) {
        let (tx, rx) = channel();
        self.dialogs = Some(rx);
        // Native dialogs block their thread; never the UI's.
        std::thread::spawn(move || {
            let dialog = rfd::FileDialog::new().add_filter("Photos", &["jpg", "jpeg", "png"]);
            let paths = if folder {
                dialog.pick_folder().map(|p| vec![p])
            } else {
                dialog.pick_files()
            };
            let _ = tx.send(paths.unwrap_or_default());
        });
    }

    /// Does what an action says. Every action is named here, so a new one cannot
    /// compile without a decision on what it does.
    pub(super) fn act(&mut self, action: Action) {
        let step = 60.0;
        match action {
            Action::Genuine => self.decide(action, Verdict::Genuine, None),
            Action::Screen => self.decide(action, Verdict::Attack, Some(AttackType::Screen)),
            Action::Print => self.decide(action, Verdict::Attack, Some(AttackType::Print)),
            Action::Digital => self.decide(action, Verdict::Attack, Some(AttackType::Digital)),
            Action::OtherAttack => self.decide(action, Verdict::Attack, Some(AttackType::Other)),
            Action::Undo => self.undo(),
            Action::Next => self.move_selection(1),
            Action::Previous => self.move_selection(-1),
            Action::Fit => self.view = View::default(),
            Action::ActualSize => {
                self.view = View {
                    zoom: Zoom::Scale(1.0),
                    pan: self.view.pan,
                }
            }
            Action::ZoomIn => self.zoom_keys(1.25),
            Action::ZoomOut => self.zoom_keys(0.8),
            Action::PanLeft => self.view.pan_by(egui::vec2(step, 0.0)),
            Action::PanRight => self.view.pan_by(egui::vec2(-step, 0.0)),
            Action::PanUp => self.view.pan_by(egui::vec2(0.0, step)),
            Action::PanDown => self.view.pan_by(egui::vec2(0.0, -step)),
            Action::ToggleOutline => self.settings.overlays.outline ^= true,
            Action::ToggleHeatmap => self.settings.overlays.heatmap ^= true,
            Action::TogglePortrait => self.settings.overlays.portrait ^= true,
            Action::FileCase => self.file_selected_item(),
            Action::OpenFiles => self.open_dialog(false),
            Action::OpenFolder => self.open_dialog(true),
            Action::ShowQueue => self.tab = Tab::Queue,
            Action::ShowIntake => self.tab = Tab::Intake,
            Action::ShowAnalyst => self.tab = Tab::Analyst,
            Action::Help => self.help ^= true,
        }
    }

    /// Files the selected intake photo as a case, unless it is one already.
    fn file_selected_item(&mut self) {
        if self.tab == Tab::Intake
            && let Some(i) = self.selected_item
            && self.items[i].case_id.is_none()
        {
            let result = IntakeResult {
                path: self.items[i].result.path.clone(),
                bytes: Arc::clone(&self.items[i].result.bytes),
                analysis: self.items[i].result.analysis.clone(),
                pixels: None,
            };
            self.file(&result);
        }
    }

    fn zoom_keys(&mut self, factor: f32) {
        let current = match self.view.zoom {
            Zoom::Scale(s) => s,
            Zoom::Fit => 0.5,
        };
        self.view.zoom = Zoom::Scale((current * factor).clamp(0.02, 32.0));
    }

    fn move_selection(&mut self, delta: i64) {
        match self.tab {
            Tab::Intake => {
                if !self.items.is_empty() {
                    let i = self.selected_item.map_or(0, |i| {
                        (i as i64 + delta).clamp(0, self.items.len() as i64 - 1) as usize
                    });
                    self.selected_item = Some(i);
                }
            }
            _ => {
                let total = self.total.unwrap_or(0);
                if total > 0 {
                    let row = self
                        .selected_row
                        .map_or(0, |r| (r as i64 + delta).clamp(0, total as i64 - 1) as u64);
                    self.select_row(row);
                }
            }
        }
    }

    fn decide(&mut self, action: Action, verdict: Verdict, attack_type: Option<AttackType>) {
        if self.tab != Tab::Queue {
            return;
        }
        let Some(shown) = &self.shown else {
            self.status = "select a case to decide".into();
            return;
        };
        // A decision is for the case on screen: while another is being fetched (the
        // reviewer moved on), wait rather than decide the one still shown.
        if self.awaiting_open.is_some() || self.open_selected_when_loaded {
            self.status = "loading the next case...".into();
            return;
        }
        if self.settings.reviewer.is_empty() {
            self.name_prompt = Some(PendingDecision(action));
            return;
        }
        let id = shown.data.case.id;
        let expected = shown.data.case.decision_id;
        self.db.send(DbRequest::Decide {
            id,
            decision: NewDecision {
                reviewer: self.settings.reviewer.clone(),
                verdict: Some(verdict),
                attack_type,
                reason: Some(self.reason.trim().to_string()).filter(|s| !s.is_empty()),
                note: Some(self.note.trim().to_string()).filter(|s| !s.is_empty()),
            },
            expected,
        });
        self.reason.clear();
        self.note.clear();
        // Advance: with the open filter the next case moves up into this row.
        let row = self.selected_row.unwrap_or(0);
        let next = if self.filter.status == crate::review::Status::Open {
            row
        } else {
            row + 1
        };
        self.selected_row = Some(next);
        self.open_selected_when_loaded = true;
    }

    fn undo(&mut self) {
        // The decision on screen if the shown case has one, else this console's last one;
        // either way the store refuses if someone else's decision is in force by now.
        let target = self
            .shown
            .as_ref()
            .and_then(|s| s.data.case.decision_id.map(|d| (s.data.case.id, d)))
            .or(self.last_decided);
        let Some((id, decision)) = target else {
            self.status = "nothing to undo".into();
            return;
        };
        if self.settings.reviewer.is_empty() {
            self.status = "set your name first".into();
            return;
        }
        self.db.send(DbRequest::Undo {
            id,
            reviewer: self.settings.reviewer.clone(),
            expected: Some(decision),
        });
        self.open_case(id);
        self.open_selected_when_loaded = false;
    }

    /// One frame of the console (everything but the window itself).
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        let draw_start = std::time::Instant::now();
        let ctx = ui.ctx().clone();
        self.repaint.get_or_init(|| ctx.clone());
        ctx.set_visuals(if self.settings.dark {
            egui::Visuals::dark()
        } else {
            egui::Visuals::light()
        });
        let dt = ctx.input(|i| i.unstable_dt) * 1000.0;
        if self.frame_ms.len() >= 240 {
            self.frame_ms.pop_front();
        }
        self.frame_ms.push_back(dt);
        self.poll(&ctx);
        for action in shortcuts::pressed(&ctx) {
            self.act(action);
        }
        if !self.stats_requested && self.tab == Tab::Analyst {
            self.stats_requested = true;
            self.db.send(DbRequest::Stats {
                filter: self.filter.clone(),
                thresholds: self.what_if,
            });
        }
        self.top_bar(ui);
        self.status_bar(ui);
        match self.tab {
            Tab::Queue => {
                egui::Panel::left("queue")
                    .default_size(430.0)
                    .resizable(true)
                    .show(ui, |ui| self.queue_panel(ui));
                self.inspector(ui);
            }
            Tab::Intake => {
                egui::Panel::left("intake")
                    .default_size(430.0)
                    .resizable(true)
                    .show(ui, |ui| self.intake_panel(ui));
                self.inspector(ui);
            }
            Tab::Analyst => {
                egui::CentralPanel::default().show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| self.analyst_panel(ui))
                });
            }
        }
        shortcuts::help_window(&ctx, &mut self.help);
        self.name_window(&ctx);
        if !self.intake.idle() {
            // Keep drawing at 60 frames a second while workers run: the progress bar moves,
            // and the frame interval then shows whether the UI keeps up.
            ctx.request_repaint_after(std::time::Duration::from_millis(16));
            self.batch_started
                .get_or_insert_with(std::time::Instant::now);
            self.batch_frames.push(dt);
            self.batch_draw_ms
                .push(draw_start.elapsed().as_secs_f32() * 1000.0);
        } else if let Some(started) = self.batch_started.take() {
            self.log_batch(started.elapsed().as_secs_f64());
        }
    }

    /// Logs the frame times of a finished intake batch (the console's responsiveness figure).
    fn log_batch(&mut self, seconds: f64) {
        let summary = |v: &[f32]| {
            (
                v.iter().sum::<f32>() / v.len().max(1) as f32,
                v.iter().copied().fold(0.0, f32::max),
            )
        };
        let frames = std::mem::take(&mut self.batch_frames);
        let draws = std::mem::take(&mut self.batch_draw_ms);
        let (frame_mean, frame_max) = summary(&frames);
        let (draw_mean, draw_max) = summary(&draws);
        tracing::info!(
            photos = self.items.len(),
            seconds,
            frames = frames.len(),
            frame_interval_mean_ms = frame_mean,
            frame_interval_max_ms = frame_max,
            frames_over_33ms = frames.iter().filter(|f| **f > 33.3).count(),
            ui_thread_mean_ms = draw_mean,
            ui_thread_max_ms = draw_max,
            "intake batch finished"
        );
    }

    fn name_window(&mut self, ctx: &egui::Context) {
        let Some(pending) = self.name_prompt else {
            return;
        };
        let mut close = false;
        egui::Window::new("Who is reviewing?")
            .collapsible(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                ui.label("Your name is recorded with every decision. It is asked once and kept.");
                let label = ui.label("Your name").id;
                let r = ui
                    .text_edit_singleline(&mut self.name_input)
                    .labelled_by(label);
                // Read before focus is asked for again: asking makes the field focused
                // once more, and a field that still has focus never "lost" it to Enter.
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                let escape = ui.input(|i| i.key_pressed(egui::Key::Escape));
                if !enter && !escape {
                    r.request_focus();
                }
                ui.horizontal(|ui| {
                    if (ui.button("Save").clicked() || enter) && !self.name_input.trim().is_empty()
                    {
                        self.settings.reviewer = self.name_input.trim().to_string();
                        close = true;
                    }
                    if ui.button("Cancel").clicked() || escape {
                        self.name_prompt = None;
                        self.name_input.clear();
                    }
                });
            });
        if close {
            self.name_prompt = None;
            self.act(pending.0);
        }
    }

    /// Frame-time summary of the last frames: (mean, max) in ms.
    pub fn frame_times(&self) -> (f32, f32) {
        let n = self.frame_ms.len().max(1) as f32;
        (
            self.frame_ms.iter().sum::<f32>() / n,
            self.frame_ms.iter().copied().fold(0.0, f32::max),
        )
    }

    pub(super) fn analysis_texture(
        ctx: &egui::Context,
        item: &mut IntakeItem,
    ) -> Option<TextureHandle> {
        if item.texture.is_none()
            && let Some(p) = item.result.pixels.take()
        {
            item.texture = Some(ctx.load_texture(
                item.result.path.display().to_string(),
                p,
                texture_options(),
            ));
        }
        item.texture.clone()
    }

    /// The engine in use.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// Sharp pixels when zoomed in (screen grids and print dots must stay visible), smooth
/// when zoomed out.
fn texture_options() -> TextureOptions {
    TextureOptions {
        magnification: egui::TextureFilter::Nearest,
        minification: egui::TextureFilter::Linear,
        ..TextureOptions::default()
    }
}

/// Words for an analysis result.
pub fn result_words(a: &Analysis) -> String {
    match (a.error, a.decision, &a.liveness) {
        (Some(code), _, _) => code.as_str().to_string(),
        (None, Some(route), _) => route.to_string(),
        (None, None, crate::engine::LivenessStatus::NoModel) => "no liveness model".into(),
        _ => "-".into(),
    }
}
