//! The inspector: the photo with its overlays, the score and route, the facts of each
//! side, and under them the decision form (`decision_form.rs`).

use egui::{Color32, RichText};

use super::app::{ConsoleApp, Tab};
use super::shortcuts::{self, Action};
use super::viewer;
use docliveness_engine::{Analysis, Outcome, PortraitCheck};

use super::app::Shown;
use super::jobs::result_words;
use super::outline_editor::OutlineEdit;
use super::viewer::View;

/// What the inspector shows and how the photo is framed.
#[derive(Default)]
pub struct InspectorState {
    pub(super) shown: Option<Shown>,
    pub(super) view: View,
    /// The outline being corrected (`outline_editor.rs`).
    pub(super) edit: Option<OutlineEdit>,
}

impl ConsoleApp {
    /// Says when a side is shown on a reviewer's corrected outline, by whom, and what the
    /// filed analysis (which the case's score and route still come from) said.
    fn correction_note(&self, ui: &mut egui::Ui, a: &Analysis) {
        let Some(shown) = self
            .inspector
            .shown
            .as_ref()
            .filter(|_| self.tab == Tab::Queue)
        else {
            return;
        };
        let Some((stored, _)) = shown.data.sides.iter().find(|(s, _)| s.side == a.side) else {
            return;
        };
        let Some(c) = shown.data.correction(a.side) else {
            return;
        };
        ui.colored_label(
            Color32::from_rgb(40, 220, 255),
            format!(
                "outline corrected by {} at {}: {} (as filed: {})",
                c.reviewer,
                c.corrected_at,
                result_words(&c.analysis),
                result_words(&stored.analysis)
            ),
        );
    }

    /// Asks the database thread for a case; it shows when it arrives.
    pub(super) fn open_case(&mut self, id: i64) {
        self.form.awaiting_open = Some(id);
        self.db.send(super::jobs::DbRequest::Open { id });
    }

    pub(super) fn inspector_panel(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        // Gather what to show: a stored case, or an intake photo.
        let (analyses, textures, case) = match self.tab {
            Tab::Intake => match self.intake.selected_item {
                Some(i) => {
                    let texture = Self::analysis_texture(&ctx, &mut self.intake.items[i]);
                    (
                        vec![self.intake.items[i].result.analysis.clone()],
                        vec![texture],
                        None,
                    )
                }
                None => (vec![], vec![], None),
            },
            // A side whose outline a reviewer corrected shows the analysis made on it.
            _ => match &self.inspector.shown {
                Some(s) => (
                    s.data.current().into_iter().cloned().collect::<Vec<_>>(),
                    s.textures.clone(),
                    Some(s.data.case.clone()),
                ),
                None => (vec![], vec![], None),
            },
        };
        // The facts hold long lines (model versions, camera names) that would widen the
        // panel over the photos; it keeps under half of the room, and its lines are clipped.
        let most = (ui.available_width() * 0.45).max(280.0);
        egui::Panel::right("details")
            .default_size(360.0_f32.min(most))
            .max_size(most)
            .resizable(true)
            .show(ui, |ui| {
                // Lines wider than the panel scroll sideways inside it instead of spilling
                // over the photos.
                egui::ScrollArea::both()
                    .auto_shrink([false, false])
                    .show(ui, |ui| self.details(ui, &analyses, case.as_ref()));
            });
        egui::CentralPanel::default().show(ui, |ui| {
            // The room the panel was given, read before any row can widen it: the photos
            // are sized to it, so they never reach under the facts panel.
            let room = ui.available_width();
            if analyses.is_empty() {
                let keys = |a| shortcuts::keys(ui.ctx(), a);
                let hint = match self.tab {
                    Tab::Intake => {
                        format!("Drop photos here, or press {}", keys(Action::OpenFiles))
                    }
                    _ => format!(
                        "Select a case ({}/{} to move, {} for all shortcuts)",
                        keys(Action::Next),
                        keys(Action::Previous),
                        keys(Action::Help)
                    ),
                };
                ui.centered_and_justified(|ui| {
                    ui.label(hint);
                });
                return;
            }
            ui.horizontal(|ui| {
                let label = |name, action| shortcuts::label(ui.ctx(), name, action);
                let outline = label("outline, glare", Action::ToggleOutline);
                let portrait = label("portrait", Action::TogglePortrait);
                let evidence = label("evidence", Action::ToggleHeatmap);
                ui.checkbox(&mut self.settings.overlays.outline, outline);
                ui.checkbox(&mut self.settings.overlays.portrait, portrait);
                ui.checkbox(&mut self.settings.overlays.heatmap, evidence);
                let keys = |action| shortcuts::keys(ui.ctx(), action);
                let hint = format!(
                    "wheel: zoom at cursor | drag/arrows: pan | {}: fit | {}: 1:1",
                    keys(Action::Fit),
                    keys(Action::ActualSize)
                );
                ui.add(egui::Label::new(RichText::new(hint).small()).truncate());
            });
            let n = analyses.len();
            let width = room.min(ui.available_width()) / n as f32;
            let height = ui.available_height();
            ui.horizontal(|ui| {
                for (i, (a, t)) in analyses.iter().zip(&textures).enumerate() {
                    let edit = self
                        .inspector
                        .edit
                        .as_mut()
                        .filter(|e| e.side == i && self.tab == Tab::Queue);
                    ui.allocate_ui(egui::vec2(width - 4.0, height), |ui| {
                        ui.vertical(|ui| {
                            ui.label(RichText::new(format!("{:?} side", a.side)).strong());
                            viewer::show(
                                ui,
                                t.as_ref(),
                                a,
                                &mut self.inspector.view,
                                self.settings.overlays,
                                edit,
                            );
                        });
                    });
                }
            });
        });
    }

    pub(super) fn details(
        &mut self,
        ui: &mut egui::Ui,
        analyses: &[Analysis],
        case: Option<&docliveness_review::ReviewCase>,
    ) {
        if analyses.is_empty() {
            return;
        }
        if let Some(c) = case {
            ui.heading(format!("Case #{}", c.id));
            ui.label(format!(
                "filed {} via {} | session {}",
                c.created_at,
                c.origin.as_str(),
                c.session_id
            ));
            if let Some(source) = &c.source {
                ui.label(format!("from {source}"));
            }
        } else {
            ui.heading("Photo");
        }
        // A filed case shows what was filed (its score and route, worked out once when it
        // was filed); a photo that is not a case shows its own outcome.
        let (score, route) = match case {
            Some(c) => (c.score, c.route),
            None => {
                let outcome = Outcome::of(analyses, &self.thresholds);
                (outcome.score(), outcome.route())
            }
        };
        ui.add_space(6.0);
        let headline = match (score, route) {
            (Some(s), Some(r)) => format!("score {s:.3} - {r}"),
            (Some(s), None) => format!("score {s:.3}"),
            (None, _) => "no score".to_string(),
        };
        ui.label(RichText::new(headline).size(18.0).strong());
        viewer::gauge(
            ui,
            score,
            self.thresholds.fail_below,
            self.thresholds.pass_from,
        );
        ui.label(
            RichText::new(format!(
                "fail < {} <= review < {} <= pass",
                self.thresholds.fail_below, self.thresholds.pass_from
            ))
            .small(),
        );
        for a in analyses {
            ui.separator();
            ui.label(RichText::new(format!("{:?} side", a.side)).strong());
            self.correction_note(ui, a);
            if let Some(code) = a.error {
                ui.colored_label(
                    Color32::from_rgb(230, 110, 80),
                    format!("{}: {}", code.as_str(), code.explanation()),
                );
                if let Some(reason) = &a.invalid_reason {
                    ui.label(RichText::new(reason).small());
                }
            }
            for w in &a.warnings {
                ui.colored_label(
                    Color32::from_rgb(255, 190, 40),
                    format!(
                        "{}: {} (measured {:.2}, limit {:.2})",
                        w.code.as_str(),
                        w.code.explanation(),
                        w.measured,
                        w.limit
                    ),
                );
            }
            match &a.liveness {
                docliveness_engine::LivenessStatus::NoModel => {
                    ui.label("No liveness model is installed, so there is no score. The image and document checks were done.");
                }
                docliveness_engine::LivenessStatus::Failed { message } => {
                    ui.colored_label(Color32::RED, format!("the model failed: {message}"));
                }
                _ => {}
            }
            if let Some(at) = &a.attack_scores {
                egui::Grid::new(("attacks", a.side as u8)).show(ui, |ui| {
                    for (name, v) in [
                        ("screen", at.screen),
                        ("print", at.print),
                        ("digital", at.digital),
                    ] {
                        ui.label(name);
                        ui.add(
                            egui::ProgressBar::new(v as f32)
                                .desired_width(160.0)
                                .text(format!("{v:.2}")),
                        );
                        ui.end_row();
                    }
                });
            }
            egui::Grid::new(("facts", a.side as u8))
                .num_columns(2)
                .show(ui, |ui| {
                    if let Some(f) = &a.image {
                        ui.label("size");
                        ui.label(format!(
                            "{} x {} px, {} KB",
                            f.width,
                            f.height,
                            f.byte_size / 1024
                        ));
                        ui.end_row();
                        ui.label("JPEG quality");
                        ui.label(f.jpeg_quality.map_or("PNG".into(), |q| q.to_string()));
                        ui.end_row();
                        ui.label("orientation");
                        ui.label(format!("EXIF {}", f.orientation));
                        ui.end_row();
                        ui.label("camera");
                        ui.label(f.camera.clone().unwrap_or_else(|| "not recorded".into()));
                        ui.end_row();
                        ui.label("software");
                        ui.label(f.software.clone().unwrap_or_else(|| "not recorded".into()));
                        ui.end_row();
                    }
                    ui.label("documents");
                    ui.label(if a.documents.is_empty() {
                        "none found".to_string()
                    } else {
                        format!(
                            "{} (confidence {})",
                            a.documents.len(),
                            a.documents
                                .iter()
                                .map(|d| format!("{:.2}", d.confidence))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    });
                    ui.end_row();
                    if let Some(q) = &a.quality {
                        // The measures, so a reviewer sees how near a photo without
                        // warnings came to one (the warnings above name their limits).
                        ui.label("quality");
                        ui.label(format!(
                            "blur {} | glare {:.1}% | light {:.0}/255",
                            q.blur.map_or("-".to_string(), |b| format!("{b:.2}")),
                            q.glare_share * 100.0,
                            q.mean_luma,
                        ));
                        ui.end_row();
                    }
                    ui.label("portrait");
                    ui.label(match &a.portrait {
                        PortraitCheck::Found { .. } => "found".to_string(),
                        PortraitCheck::NotFound => "not found".to_string(),
                        PortraitCheck::NotApplicable => "not applicable".to_string(),
                        PortraitCheck::NotChecked { reason } => format!("not checked ({reason})"),
                    });
                    ui.end_row();
                    if let Some(view) = a.evidence.as_ref().and_then(|e| e.view) {
                        // The patches' verdict is on the heat-map; this is the one
                        // judgement made from the document's surroundings.
                        ui.label("surroundings");
                        ui.label(format!("live {view:.2} (the whole-view model)"));
                        ui.end_row();
                    }
                    ui.label("detector");
                    ui.label(a.detector.as_deref().unwrap_or("not run"));
                    ui.end_row();
                    ui.label("model");
                    ui.label(format!(
                        "{} on {}",
                        a.model_version.as_deref().unwrap_or("none"),
                        a.backend.as_deref().unwrap_or("-")
                    ));
                    ui.end_row();
                });
        }
        if let Some(case) = case {
            self.decision_form(ui, case);
        }
    }
}
