//! The console's state and its frame: panels, actions, and the hand-off to the
//! background threads. Nothing here blocks: every slow thing is a request.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, OnceLock};

use egui::{TextureHandle, TextureOptions};
use serde::{Deserialize, Serialize};

use super::analyst::AnalystState;
use super::decision_form::DecisionForm;
use super::inspector::InspectorState;
use super::intake::IntakeState;
use super::jobs::{Database, DbReply, DbRequest, Intake, IntakeResult, OpenedCase};
use super::queue::QueueState;
use super::shortcuts::{self, Action};
use super::viewer::{Overlays, View, Zoom};
use docliveness_engine::config::Thresholds;
use docliveness_engine::{Analysis, Engine, Route};
use docliveness_review::{AttackType, CaseFilter, ReviewCase, Store, Verdict};

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

/// The console: what every panel shares (the database and engine, the settings, the
/// view, the status line), and each panel's own state.
pub struct ConsoleApp {
    pub(super) db: Database,
    pub(super) engine: Arc<Engine>,
    pub(super) thresholds: Thresholds,
    pub(super) settings: Settings,
    pub(super) tab: Tab,
    pub(super) status: String,
    pub(super) help: bool,
    pub(super) dialogs: Option<Receiver<DialogAnswer>>,
    pub(super) frame_ms: std::collections::VecDeque<f32>,
    pub(super) samples_dir: Option<PathBuf>,
    repaint: Arc<OnceLock<egui::Context>>,
    /// The queue list (`queue.rs`).
    pub(super) queue: QueueState,
    /// Photos opened here (`intake.rs`).
    pub(super) intake: IntakeState,
    /// The case or photo shown (`inspector.rs`).
    pub(super) inspector: InspectorState,
    /// The decision being written (`decision_form.rs`).
    pub(super) form: DecisionForm,
    /// Statistics and the what-if (`analyst.rs`).
    pub(super) analyst: AnalystState,
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
        let db = Database::start(store, Arc::clone(&engine), thresholds, ask(&repaint))?;
        // One core stays free for drawing, so the window keeps its frame rate during a batch.
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .max(1);
        let intake = Intake::start(Arc::clone(&engine), workers, ask(&repaint));
        let mut app = ConsoleApp {
            db,
            engine,
            thresholds,
            settings,
            tab: Tab::Queue,
            status: String::new(),
            help: false,
            dialogs: None,
            frame_ms: std::collections::VecDeque::new(),
            samples_dir,
            repaint,
            queue: QueueState::default(),
            intake: IntakeState::new(intake),
            inspector: InspectorState::default(),
            form: DecisionForm::default(),
            analyst: AnalystState::new(thresholds),
        };
        app.refresh_queue();
        if !app.settings.samples_shown
            && let Some(dir) = app.samples_dir.clone()
        {
            let files = docliveness_files::expand(&[dir]);
            if !files.is_empty() {
                app.status = format!("first run: showing {} bundled sample photos", files.len());
                app.intake.jobs.add(files);
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
        self.inspector.shown.as_ref().map(|s| &s.data.case)
    }

    /// Where the corner handles of the outline being corrected were drawn last frame (in
    /// screen points), while one is: for driving the editor without a person.
    pub fn outline_handles(&self) -> Option<[egui::Pos2; 4]> {
        self.inspector.edit.as_ref().and_then(|e| e.handles)
    }

    /// How many corrected outlines the shown case has.
    pub fn shown_corrections(&self) -> usize {
        self.inspector
            .shown
            .as_ref()
            .map_or(0, |s| s.data.corrections.len())
    }

    /// Photos in intake.
    pub fn intake_items(&self) -> &[IntakeItem] {
        &self.intake.items
    }

    /// Whether the keyboard help is open.
    pub fn help_shown(&self) -> bool {
        self.help
    }

    /// The status line.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// Sets the reviewer's name (as the first-decision prompt does).
    pub fn set_reviewer(&mut self, name: &str) {
        self.settings.reviewer = name.trim().to_string();
        self.form.name_prompt = None;
    }

    /// Replaces the queue filter and reloads the list.
    pub fn set_filter(&mut self, filter: CaseFilter) {
        self.queue.filter = filter;
        self.queue.selected_row = Some(0);
        self.queue.open_selected_when_loaded = true;
        self.refresh_queue();
    }

    /// The case whose row is highlighted in the queue, when its page is loaded.
    pub fn highlighted_case(&self) -> Option<i64> {
        self.queue
            .loaded_row(self.queue.selected_row?)
            .map(|c| c.id)
    }

    /// How often the queue on screen is read again (`queue::QUEUE_POLL` unless set).
    pub fn set_queue_poll(&mut self, every: std::time::Duration) {
        self.queue.poll_every = every;
    }

    /// Rows matching the filter, once counted.
    pub fn queue_total(&self) -> Option<u64> {
        self.queue.total
    }

    /// Queues photos for analysis.
    pub fn add_paths(&mut self, paths: Vec<PathBuf>) {
        self.status = format!("looking for photos in {} places...", paths.len());
        self.intake.jobs.add(paths);
        self.tab = Tab::Intake;
    }

    fn poll(&mut self, ctx: &egui::Context) {
        while let Ok(reply) = self.db.replies.try_recv() {
            match reply {
                DbReply::Page {
                    generation,
                    offset,
                    rows,
                } if generation == self.queue.generation => {
                    let rows = match rows {
                        Ok(rows) => rows,
                        // An unreadable queue is not an empty one: say so. The page stays
                        // unloaded (and not asked for again every frame) until a refresh.
                        Err(e) => {
                            // Nothing will open from this page: decisions must not wait
                            // for it, nor land on the case still on screen.
                            if self.queue.open_selected_when_loaded {
                                self.queue.open_selected_when_loaded = false;
                                self.inspector.shown = None;
                            }
                            self.status = format!("the queue could not be read: {e}");
                            continue;
                        }
                    };
                    self.queue.pages.insert(offset / PAGE, rows);
                    if !self.queue.open_selected_when_loaded {
                        self.follow_shown_case();
                    }
                    if self.queue.open_selected_when_loaded
                        && let Some(row) = self.queue.selected_row
                    {
                        if let Some(case) = self.row(row) {
                            self.queue.open_selected_when_loaded = false;
                            self.open_case(case.id);
                        } else if self.queue.total.is_some_and(|t| row >= t) && row > 0 {
                            self.queue.selected_row = Some(row - 1);
                        }
                    }
                }
                DbReply::Count { generation, count } if generation == self.queue.generation => {
                    let count = match count {
                        Ok(count) => count,
                        Err(e) => {
                            self.status = format!("the queue could not be counted: {e}");
                            self.queue.count_failed = true;
                            continue;
                        }
                    };
                    self.queue.total = Some(count);
                    if count == 0 {
                        self.queue.selected_row = None;
                        if self.tab == Tab::Queue {
                            self.inspector.shown = None;
                        }
                    } else if self.queue.selected_row.is_none()
                        && self.inspector.shown.is_none()
                        && self.tab == Tab::Queue
                    {
                        // Work arrived in an empty queue: open its first case, as at start.
                        self.queue.open_selected_when_loaded = true;
                        self.select_row(0);
                    }
                }
                DbReply::Page { .. } | DbReply::Count { .. } => {}
                DbReply::Opened(mut data) => {
                    let id = data.case.id;
                    if self.form.awaiting_open == Some(id) {
                        self.form.awaiting_open = None;
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
                    // An outline being edited belongs to the case it was started on.
                    if self.inspector.edit.is_some()
                        && self
                            .inspector
                            .shown
                            .as_ref()
                            .is_none_or(|s| s.data.case.id != id)
                    {
                        self.inspector.edit = None;
                    }
                    self.inspector.shown = Some(Shown {
                        data: *data,
                        textures,
                    });
                    // The highlight goes to the case now shown, wherever rows moved meanwhile.
                    if !self.queue.open_selected_when_loaded {
                        self.follow_shown_case();
                    }
                }
                DbReply::OpenFailed { id, error } => {
                    // Only the case asked for matters; an earlier request overtaken by
                    // the reviewer moving on is no news.
                    if self.form.awaiting_open == Some(id) {
                        // It is not coming: stop waiting for it, and show no case rather
                        // than the previous one, which a decision key would otherwise
                        // decide in its place.
                        self.form.awaiting_open = None;
                        self.inspector.shown = None;
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
                            self.form.last_decided = Some((id, d));
                        }
                        self.status = message;
                        self.refresh_queue();
                        if self
                            .inspector
                            .shown
                            .as_ref()
                            .is_some_and(|s| s.data.case.id == id)
                            && !self.queue.open_selected_when_loaded
                        {
                            self.open_case(id);
                        }
                    }
                    Err(message) => self.status = message,
                },
                DbReply::Corrected { id, result } => match result {
                    Ok(message) => {
                        self.status = message;
                        if self
                            .inspector
                            .shown
                            .as_ref()
                            .is_some_and(|s| s.data.case.id == id)
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
                            .intake
                            .items
                            .iter_mut()
                            .find(|i| i.result.path == path && i.case_id.is_none())
                    {
                        item.case_id = Some(id);
                    }
                    self.refresh_queue();
                }
                DbReply::Stats(stats) => self.analyst.stats = Some(stats),
                DbReply::Adapt { result, applied } => {
                    if applied && let Ok(p) = &result {
                        self.status = format!(
                            "score overlay {} installed; restart to use it",
                            p.overlay.version
                        );
                    }
                    self.analyst.adapt = super::adapt_panel::AdaptState::Done(result, applied);
                }
            }
        }
        while let Ok(result) = self.intake.jobs.results.try_recv() {
            // Review-band results go straight to the queue; others can be added by hand.
            if result.analysis.decision == Some(Route::Review) {
                self.file(&result);
            }
            self.intake.items.push(IntakeItem {
                result,
                texture: None,
                case_id: None,
            });
            if self.intake.selected_item.is_none() {
                self.intake.selected_item = Some(self.intake.items.len() - 1);
            }
            if self.intake.jobs.idle() {
                self.status = format!("{} photos analysed", self.intake.items.len());
            }
        }
        if let Some(rx) = &self.dialogs
            && let Ok(answer) = rx.try_recv()
        {
            self.dialogs = None;
            match answer {
                DialogAnswer::Picked(paths) => self.add_paths(paths),
                DialogAnswer::Cancelled => {}
                DialogAnswer::NeverShown => {
                    self.status = "no file dialog could be shown on this desktop (it needs the XDG desktop \
                                   portal); drop photos on the window, or pass them on the command line: \
                                   docliveness console PHOTOS..."
                        .into()
                }
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

    fn open_dialog(&mut self, folder: bool) {
        let (tx, rx) = channel();
        self.dialogs = Some(rx);
        // Native dialogs block their thread; never the UI's.
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let dialog = rfd::FileDialog::new().add_filter("Photos", &["jpg", "jpeg", "png"]);
            let paths = if folder {
                dialog.pick_folder().map(|p| vec![p])
            } else {
                dialog.pick_files()
            };
            let _ = tx.send(DialogAnswer::of(paths, started.elapsed()));
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
            Action::Resubmit => self.decide(action, Verdict::Resubmit, None),
            Action::Undo => self.undo(),
            Action::Next => self.move_selection(1),
            Action::Previous => self.move_selection(-1),
            Action::Fit => self.inspector.view = View::default(),
            Action::ActualSize => {
                self.inspector.view = View {
                    zoom: Zoom::Scale(1.0),
                    pan: self.inspector.view.pan,
                }
            }
            Action::ZoomIn => self.zoom_keys(1.25),
            Action::ZoomOut => self.zoom_keys(0.8),
            Action::PanLeft => self.inspector.view.pan_by(egui::vec2(step, 0.0)),
            Action::PanRight => self.inspector.view.pan_by(egui::vec2(-step, 0.0)),
            Action::PanUp => self.inspector.view.pan_by(egui::vec2(0.0, step)),
            Action::PanDown => self.inspector.view.pan_by(egui::vec2(0.0, -step)),
            Action::ToggleOutline => self.settings.overlays.outline ^= true,
            Action::ToggleHeatmap => self.settings.overlays.heatmap ^= true,
            Action::TogglePortrait => self.settings.overlays.portrait ^= true,
            Action::EditOutline => self.start_outline_edit(),
            Action::ApplyOutline => self.apply_outline_edit(),
            // Escape closes what is in front first: the help over everything.
            Action::Cancel if self.help => self.help = false,
            Action::Cancel => self.cancel_outline_edit(),
            Action::FileCase => self.file_selected_item(),
            Action::OpenFiles => self.open_dialog(false),
            Action::OpenFolder => self.open_dialog(true),
            Action::ShowQueue => self.tab = Tab::Queue,
            Action::ShowIntake => self.tab = Tab::Intake,
            Action::ShowAnalyst => self.tab = Tab::Analyst,
            Action::Help => self.help ^= true,
        }
    }

    fn zoom_keys(&mut self, factor: f32) {
        let current = match self.inspector.view.zoom {
            Zoom::Scale(s) => s,
            Zoom::Fit => 0.5,
        };
        self.inspector.view.zoom = Zoom::Scale((current * factor).clamp(0.02, 32.0));
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
        if self.tab == Tab::Queue {
            self.poll_queue();
            ctx.request_repaint_after(self.queue.poll_every);
        }
        for action in shortcuts::pressed(&ctx, self.inspector.edit.is_some(), self.help) {
            self.act(action);
        }
        if !self.analyst.stats_requested && self.tab == Tab::Analyst {
            self.analyst.stats_requested = true;
            self.db.send(DbRequest::Stats {
                filter: self.queue.filter.clone(),
                thresholds: self.analyst.what_if,
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
                self.inspector_panel(ui);
            }
            Tab::Intake => {
                egui::Panel::left("intake")
                    .default_size(430.0)
                    .resizable(true)
                    .show(ui, |ui| self.intake_panel(ui));
                self.inspector_panel(ui);
            }
            Tab::Analyst => {
                egui::CentralPanel::default().show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| self.analyst_panel(ui))
                });
            }
        }
        shortcuts::help_window(&ctx, &mut self.help);
        self.name_window(&ctx);
        if !self.intake.jobs.idle() {
            // Keep drawing at 60 frames a second while workers run: the progress bar moves,
            // and the frame interval then shows whether the UI keeps up.
            ctx.request_repaint_after(std::time::Duration::from_millis(16));
            self.intake
                .batch_started
                .get_or_insert_with(std::time::Instant::now);
            self.intake.batch_frames.push(dt);
            self.intake
                .batch_draw_ms
                .push(draw_start.elapsed().as_secs_f32() * 1000.0);
        } else if let Some(started) = self.intake.batch_started.take() {
            self.log_batch(started.elapsed().as_secs_f64());
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

    /// The engine in use.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// Sharp pixels when zoomed in (screen grids and print dots must stay visible), smooth
/// when zoomed out.
pub(super) fn texture_options() -> TextureOptions {
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
        (None, None, docliveness_engine::LivenessStatus::NoModel) => "no liveness model".into(),
        _ => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;

    #[test]
    fn the_analyst_tab_asks_for_statistics_once_not_every_frame() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("review.db")).unwrap();
        let config = docliveness_engine::config::EngineConfig::default();
        let engine = Arc::new(Engine::without_models(config).unwrap());
        let mut app = ConsoleApp::new(store, engine, Settings::default(), None).unwrap();
        // No reply ever comes: before, the console asked again on every frame until one
        // did.
        let (db, requests, _replies) = Database::detached();
        app.db = db;
        app.tab = Tab::Analyst;
        let mut h = Harness::builder()
            .with_size(egui::vec2(1200.0, 800.0))
            .build_ui_state(|ui, app: &mut ConsoleApp| app.draw(ui), app);
        for _ in 0..20 {
            h.step();
        }
        let asked = requests
            .try_iter()
            .filter(|r| matches!(r, DbRequest::Stats { .. }))
            .count();
        assert_eq!(asked, 1);
    }
}

/// What the file dialog's thread gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DialogAnswer {
    /// Photos or a folder picked.
    Picked(Vec<PathBuf>),
    /// Closed without a pick.
    Cancelled,
    /// Gone sooner than a person could close it: the dialog never showed (the portal
    /// backend answers "nothing picked" when no portal runs, as if cancelled).
    NeverShown,
}

impl DialogAnswer {
    /// Quicker than any person closes a dialog.
    const TOO_QUICK: std::time::Duration = std::time::Duration::from_millis(300);

    pub(super) fn of(paths: Option<Vec<PathBuf>>, open_for: std::time::Duration) -> DialogAnswer {
        match paths {
            Some(p) if !p.is_empty() => DialogAnswer::Picked(p),
            _ if open_for < Self::TOO_QUICK => DialogAnswer::NeverShown,
            _ => DialogAnswer::Cancelled,
        }
    }
}

#[cfg(test)]
mod dialog_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_dialog_gone_at_once_is_reported_and_one_closed_by_a_person_is_not() {
        assert_eq!(
            DialogAnswer::of(None, Duration::from_millis(20)),
            DialogAnswer::NeverShown
        );
        assert_eq!(
            DialogAnswer::of(None, Duration::from_secs(4)),
            DialogAnswer::Cancelled
        );
        let picked = vec![PathBuf::from("a.jpg")];
        assert_eq!(
            DialogAnswer::of(Some(picked.clone()), Duration::from_millis(20)),
            DialogAnswer::Picked(picked)
        );
    }
}
