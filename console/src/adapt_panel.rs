//! The analyst view's "adapt the score" section: refit the score's scale on the cases
//! reviewers decided, see it judged on cases it never saw, and install it. The work runs
//! on the database thread (`DbRequest::Adapt`, `DbRequest::Install`); this only draws and asks.

use egui::{Color32, RichText};

use super::app::ConsoleApp;
use super::jobs::DbRequest;
use docliveness_adapt::Figures;
use docliveness_adapt::apply::Target;

/// What the section shows: nothing asked yet, waiting, or the last answer.
#[derive(Default)]
pub enum AdaptState {
    /// Nothing asked.
    #[default]
    Idle,
    /// A refit (or an install) is running on the database thread.
    Running,
    /// The last answer: the refit or why there is none, and whether it was installed.
    Done(
        Result<Box<docliveness_adapt::apply::Proposal>, String>,
        bool,
    ),
}

impl ConsoleApp {
    pub(super) fn adapt_section(&mut self, ui: &mut egui::Ui) {
        ui.heading("Adapt the score to this deployment");
        ui.label(
            "Refits how the model's outputs become a score on the cases reviewers decided, \
             judged on a share of them it never saw. The model itself does not change.",
        );
        let Some(target) = Target::of(&self.engine) else {
            ui.label("No liveness model is installed, so there is no score to refit.");
            return;
        };
        let running = matches!(self.analyst.adapt, AdaptState::Running);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!running, egui::Button::new("Refit from decided cases"))
                .clicked()
            {
                self.analyst.adapt = AdaptState::Running;
                self.db.send(DbRequest::Adapt {
                    target: target.clone(),
                });
            }
            if running {
                ui.spinner();
            }
        });
        let mut install = None;
        match &self.analyst.adapt {
            AdaptState::Idle | AdaptState::Running => {}
            AdaptState::Done(Err(e), _) => {
                ui.colored_label(Color32::from_rgb(200, 70, 50), e);
            }
            AdaptState::Done(Ok(p), applied) => {
                let r = &p.refit;
                ui.label(format!(
                    "Fitted on {} genuine and {} attack photos; held back: {} genuine, {} attack.",
                    r.fitted.0, r.fitted.1, r.after.genuine, r.after.attack
                ));
                let t = self.thresholds;
                egui::Grid::new("adapt-figures")
                    .striped(true)
                    .show(ui, |ui| {
                        ui.strong("held-back cases");
                        ui.strong("loss");
                        ui.strong(format!("genuine failed (<{})", t.fail_below));
                        ui.strong(format!("genuine not passed (<{})", t.pass_from));
                        ui.strong(format!("attacks passed (≥{})", t.pass_from));
                        ui.strong(format!("attacks not failed (≥{})", t.fail_below));
                        ui.end_row();
                        for (name, f) in [("scale in force", &r.before), ("refit", &r.after)] {
                            figures_row(ui, name, f);
                        }
                    });
                if let Some(words) = &p.overlay.fit.placement {
                    ui.label(format!("Bands: {words}."));
                }
                if let Some(words) = &p.overlay.fit.head {
                    ui.label(format!("Head: {words}."));
                }
                if r.without_features > 0 {
                    ui.label(format!(
                        "{} decided photos analysed before the model gave its features were left out.",
                        r.without_features
                    ));
                }
                ui.label(format!("Better on the held-back cases: {}.", r.why));
                if *applied {
                    ui.label(
                        RichText::new(format!(
                            "Installed as {}. Restart the console and the server to score with it.",
                            p.overlay.version
                        ))
                        .strong(),
                    );
                } else if ui
                    .add_enabled(!running, egui::Button::new("Install this refit"))
                    .clicked()
                {
                    install = Some(p.clone());
                }
            }
        }
        // What is installed is the refit the analyst saw, not a new one fitted on
        // whatever was decided since.
        if let Some(proposal) = install {
            self.analyst.adapt = AdaptState::Running;
            self.db.send(DbRequest::Install {
                dir: target.dir,
                proposal,
            });
        }
    }
}

fn figures_row(ui: &mut egui::Ui, name: &str, f: &Figures) {
    ui.label(name);
    ui.label(format!("{:.4}", f.loss));
    ui.label(format!("{}/{}", f.genuine_failed, f.genuine));
    ui.label(format!("{}/{}", f.genuine_not_passed, f.genuine));
    ui.label(format!("{}/{}", f.attack_passed, f.attack));
    ui.label(format!("{}/{}", f.attack_not_failed, f.attack));
    ui.end_row();
}
