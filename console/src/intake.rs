//! The intake panel: photos opened or dropped here, analysed in the background, filed
//! to the queue when their score is in the review band or when the reviewer adds them.

use egui::RichText;

use super::app::{ConsoleApp, Tab, result_words};
use super::shortcuts::{self, Action};
use std::sync::Arc;

use egui::TextureHandle;

use super::app::IntakeItem;
use super::jobs::{DbRequest, Intake, IntakeResult};

/// Intake: the analysis workers, the photos analysed so far, and the batch's frame
/// times (the console's responsiveness figure).
pub struct IntakeState {
    pub(super) jobs: Intake,
    pub(super) items: Vec<IntakeItem>,
    pub(super) selected_item: Option<usize>,
    /// Frame times while a batch is analysed.
    pub(super) batch_frames: Vec<f32>,
    /// Time spent in `draw` per frame during a batch.
    pub(super) batch_draw_ms: Vec<f32>,
    pub(super) batch_started: Option<std::time::Instant>,
}

impl IntakeState {
    /// Intake over running workers.
    pub(super) fn new(jobs: Intake) -> IntakeState {
        IntakeState {
            jobs,
            items: Vec::new(),
            selected_item: None,
            batch_frames: Vec::new(),
            batch_draw_ms: Vec::new(),
            batch_started: None,
        }
    }
}

impl ConsoleApp {
    pub(super) fn file(&mut self, result: &IntakeResult) {
        match file_request(result) {
            Ok(request) => self.db.send(request),
            Err(why) => self.status = why,
        }
    }

    /// Files the selected intake photo as a case, unless it is one already.
    pub(super) fn file_selected_item(&mut self) {
        if self.tab == Tab::Intake
            && let Some(i) = self.intake.selected_item
            && self.intake.items[i].case_id.is_none()
        {
            match file_request(&self.intake.items[i].result) {
                Ok(request) => self.db.send(request),
                Err(why) => self.status = why,
            }
        }
    }

    /// Logs the frame times of a finished intake batch (the console's responsiveness figure).
    pub(super) fn log_batch(&mut self, seconds: f64) {
        let summary = |v: &[f32]| {
            (
                v.iter().sum::<f32>() / v.len().max(1) as f32,
                v.iter().copied().fold(0.0, f32::max),
            )
        };
        let frames = std::mem::take(&mut self.intake.batch_frames);
        let draws = std::mem::take(&mut self.intake.batch_draw_ms);
        let (frame_mean, frame_max) = summary(&frames);
        let (draw_mean, draw_max) = summary(&draws);
        tracing::info!(
            photos = self.intake.items.len(),
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
                super::app::texture_options(),
            ));
        }
        item.texture.clone()
    }

    pub(super) fn intake_panel(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        ui.label(format!(
            "Photos opened or dropped here. Review-band results go to the queue; press {} to add any other.",
            shortcuts::keys(&ctx, Action::FileCase)
        ));
        if self.intake.items.is_empty() {
            ui.add_space(20.0);
            ui.label(
                RichText::new(format!(
                    "Drop photos or folders onto this window, or press {}.",
                    shortcuts::keys(&ctx, Action::OpenFiles)
                ))
                .italics(),
            );
        }
        let mut clicked = None;
        egui::ScrollArea::vertical().auto_shrink(false).show_rows(
            ui,
            22.0,
            self.intake.items.len(),
            |ui, range| {
                for i in range {
                    let item = &self.intake.items[i];
                    let name = item.result.path.file_name().map_or_else(
                        || item.result.path.display().to_string(),
                        |n| n.to_string_lossy().to_string(),
                    );
                    let mut text = format!("{name}   {}", result_words(&item.result.analysis));
                    if let Some(id) = item.case_id {
                        text.push_str(&format!("   -> case #{id}"));
                    }
                    if ui
                        .selectable_label(self.intake.selected_item == Some(i), text)
                        .clicked()
                    {
                        clicked = Some(i);
                    }
                }
            },
        );
        if let Some(i) = clicked {
            self.intake.selected_item = Some(i);
        }
    }
}

/// The request that files an analysed photo as a case, or why it cannot be filed.
fn file_request(result: &IntakeResult) -> Result<DbRequest, String> {
    if result.bytes.is_empty() {
        return Err(format!(
            "{} cannot be filed: it could not be read",
            result.path.display()
        ));
    }
    Ok(DbRequest::File {
        path: result.path.clone(),
        bytes: Arc::clone(&result.bytes),
        analysis: Box::new(result.analysis.clone()),
    })
}
