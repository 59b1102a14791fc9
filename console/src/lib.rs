//! The review console (eframe/egui): the queue, the inspector, intake of photos and the
//! analyst view. The UI thread only draws; the database, the photo decoding and the
//! analyses run on their own threads.
//!
//! One file per panel, each with its own state and its drawing: `queue.rs`,
//! `intake.rs`, `inspector.rs` (with `outline_editor.rs`), `decision_form.rs`,
//! `analyst.rs` (with `adapt_panel.rs`), `bars.rs`; `app.rs` holds what they share and dispatches actions
//! and background replies; `shortcuts.rs` is the one table of keys.

mod adapt_panel;
mod analyst;
pub mod app;
mod bars;
mod decision_form;
mod inspector;
mod intake;
pub mod jobs;
pub mod outline_editor;
mod queue;
pub mod shortcuts;
pub mod viewer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use app::{ConsoleApp, Settings, Tab};

use docliveness_engine::Engine;

const SETTINGS_KEY: &str = "docliveness-settings";

/// The bundled sample photos, shown on the first run: beside the working folder, else in
/// the product's source tree (this crate's folder sits in it, beside `assets/`), as the
/// models are found.
pub fn samples_dir() -> Option<PathBuf> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        PathBuf::from("assets/samples"),
        crate_dir
            .parent()
            .unwrap_or(crate_dir)
            .join("assets/samples"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

struct Window(ConsoleApp);

impl eframe::App for Window {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.0.draw(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, self.0.settings());
    }
}

/// Opens the console window on the database at `db_path`, with `photos` (files or
/// folders) queued for analysis; returns when the window is closed.
pub fn run(db_path: PathBuf, engine: Arc<Engine>, photos: Vec<PathBuf>) -> Result<(), String> {
    // Refuse a foreign or newer database before any window appears; this one open store
    // then moves to the console's database thread.
    let store = docliveness_review::Store::open(&db_path).map_err(|e| e.to_string())?;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("docliveness - document liveness review")
            .with_inner_size([1440.0, 900.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let mut failure = None;
    let result = eframe::run_native(
        "docliveness",
        options,
        Box::new(|cc| {
            let settings: Settings = cc
                .storage
                .and_then(|s| eframe::get_value(s, SETTINGS_KEY))
                .unwrap_or_default();
            match ConsoleApp::new(store, engine, settings, samples_dir()) {
                Ok(mut app) => {
                    if !photos.is_empty() {
                        app.add_paths(photos);
                    }
                    Ok(Box::new(Window(app)) as Box<dyn eframe::App>)
                }
                Err(e) => {
                    failure = Some(e.clone());
                    Err(e.into())
                }
            }
        }),
    );
    if let Some(e) = failure {
        return Err(e);
    }
    result.map_err(|e| format!("the console could not open a window: {e}"))
}
