//! The top bar (views, opening photos, the reviewer, the theme) and the status bar
//! (progress of a batch, the last message).

use egui::RichText;

use super::app::{ConsoleApp, Tab};
use super::shortcuts::{self, Action};

impl ConsoleApp {
    pub(super) fn top_bar(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("top").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("docliveness");
                ui.separator();
                for (tab, label, action) in [
                    (Tab::Queue, "Queue", Action::ShowQueue),
                    (Tab::Intake, "Intake", Action::ShowIntake),
                    (Tab::Analyst, "Analyst", Action::ShowAnalyst),
                ] {
                    let label = shortcuts::label(ui.ctx(), label, action);
                    if ui.selectable_label(self.tab == tab, label).clicked() {
                        self.tab = tab;
                    }
                }
                ui.separator();
                if ui
                    .button("Open photos...")
                    .on_hover_text(shortcuts::keys(ui.ctx(), Action::OpenFiles))
                    .clicked()
                {
                    self.act_open(false);
                }
                if ui
                    .button("Open folder...")
                    .on_hover_text(shortcuts::keys(ui.ctx(), Action::OpenFolder))
                    .clicked()
                {
                    self.act_open(true);
                }
                ui.separator();
                let reviewer = if self.settings.reviewer.is_empty() {
                    "reviewer: not set".to_string()
                } else {
                    format!("reviewer: {}", self.settings.reviewer)
                };
                ui.label(reviewer);
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let help = shortcuts::keys(ui.ctx(), Action::Help);
                    if ui
                        .button(help)
                        .on_hover_text("keyboard shortcuts")
                        .clicked()
                    {
                        self.act(Action::Help);
                    }
                    if ui
                        .button(if self.settings.dark { "Light" } else { "Dark" })
                        .clicked()
                    {
                        self.settings.dark ^= true;
                    }
                    let model = match (self.engine.model_version(), self.engine.backend_label()) {
                        (Some(v), Some(b)) => format!("model {v} on {b}"),
                        _ => "no liveness model installed: checks without scores".to_string(),
                    };
                    ui.label(RichText::new(model).small());
                });
            });
        });
    }

    fn act_open(&mut self, folder: bool) {
        let action = if folder {
            super::shortcuts::Action::OpenFolder
        } else {
            super::shortcuts::Action::OpenFiles
        };
        self.act(action);
    }

    pub(super) fn status_bar(&mut self, ui: &mut egui::Ui) {
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                let (done, total) = (
                    self.intake
                        .jobs
                        .done
                        .load(std::sync::atomic::Ordering::Relaxed),
                    self.intake
                        .jobs
                        .total
                        .load(std::sync::atomic::Ordering::Relaxed),
                );
                if done < total {
                    ui.add(
                        egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                            .desired_width(200.0)
                            .text(format!("{done}/{total}")),
                    );
                    if ui.button("Cancel").clicked() {
                        self.intake.jobs.cancel();
                        self.status = "analysis cancelled".into();
                    }
                    let (mean, max) = self.frame_times();
                    ui.label(RichText::new(format!("frame {mean:.0} ms (max {max:.0})")).small());
                }
                ui.label(&self.status);
            });
        });
    }
}
