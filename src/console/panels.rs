//! The panels of the console: top bar, status bar, queue list with filters, intake list,
//! inspector (images, score, facts, decision) and the analyst view.

use egui::{Color32, RichText, Sense};

use super::app::{ConsoleApp, Tab, result_words};
use super::shortcuts::{self, Action};
use super::viewer;
use crate::engine::{Analysis, ErrorCode, Outcome, PortraitCheck};
use crate::review::{Origin, SortOrder, Status};

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
                    if ui.button("?").on_hover_text("keyboard shortcuts").clicked() {
                        self.help ^= true;
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
                    self.intake.done.load(std::sync::atomic::Ordering::Relaxed),
                    self.intake.total.load(std::sync::atomic::Ordering::Relaxed),
                );
                if done < total {
                    ui.add(
                        egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                            .desired_width(200.0)
                            .text(format!("{done}/{total}")),
                    );
                    if ui.button("Cancel").clicked() {
                        self.intake.cancel();
                        self.status = "analysis cancelled".into();
                    }
                    let (mean, max) = self.frame_times();
                    ui.label(RichText::new(format!("frame {mean:.0} ms (max {max:.0})")).small());
                }
                ui.label(&self.status);
            });
        });
    }

    pub(super) fn queue_panel(&mut self, ui: &mut egui::Ui) {
        let before = (self.filter.clone(), self.order);
        egui::Grid::new("filters").num_columns(2).show(ui, |ui| {
            let label = ui.label("Show").id;
            egui::ComboBox::from_id_salt("status")
                .selected_text(format!("{:?}", self.filter.status).to_lowercase())
                .show_ui(ui, |ui| {
                    for s in [Status::Open, Status::Decided, Status::All] {
                        ui.selectable_value(
                            &mut self.filter.status,
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
                let mut lo = self.filter.score_min.unwrap_or(0.0);
                let mut hi = self.filter.score_max.unwrap_or(1.0);
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
                self.filter.score_min = (lo > 0.0).then_some(lo);
                self.filter.score_max = (hi < 1.0).then_some(hi);
            });
            ui.end_row();
            let label = ui.label("Origin").id;
            egui::ComboBox::from_id_salt("origin")
                .selected_text(self.filter.origin.map_or("any", |o| o.as_str()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.filter.origin, None, "any");
                    for o in [Origin::Console, Origin::Api, Origin::Cli] {
                        ui.selectable_value(&mut self.filter.origin, Some(o), o.as_str());
                    }
                })
                .response
                .labelled_by(label);
            ui.end_row();
            let label = ui.label("Error").id;
            egui::ComboBox::from_id_salt("error")
                .selected_text(self.filter.error_code.map_or("any", |e| e.as_str()))
                .width(240.0)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.filter.error_code, None, "any");
                    for e in ErrorCode::ALL {
                        ui.selectable_value(&mut self.filter.error_code, Some(e), e.as_str());
                    }
                })
                .response
                .labelled_by(label);
            ui.end_row();
            let label = ui.label("Filed since").id;
            let mut since = self.filter.created_from.clone().unwrap_or_default();
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut since)
                        .hint_text("YYYY-MM-DD")
                        .desired_width(110.0),
                )
                .labelled_by(label);
            if r.changed() {
                self.filter.created_from =
                    (since.len() >= 10)
                        .then_some(since.clone())
                        .or(if since.is_empty() {
                            None
                        } else {
                            self.filter.created_from.clone()
                        });
            }
            ui.end_row();
            let label = ui.label("Sort").id;
            egui::ComboBox::from_id_salt("sort")
                .selected_text(order_words(self.order))
                .show_ui(ui, |ui| {
                    for o in [
                        SortOrder::ScoreAscending,
                        SortOrder::ScoreDescending,
                        SortOrder::OldestFirst,
                        SortOrder::NewestFirst,
                    ] {
                        ui.selectable_value(&mut self.order, o, order_words(o));
                    }
                })
                .response
                .labelled_by(label);
            ui.end_row();
        });
        if (self.filter.clone(), self.order) != before {
            self.selected_row = Some(0);
            self.open_selected_when_loaded = true;
            self.refresh_queue();
        }
        ui.separator();
        let total = self.total.unwrap_or(0);
        ui.label(match self.total {
            None if self.count_failed => "the queue could not be counted".to_string(),
            None => "counting...".to_string(),
            Some(0) => "no cases match".to_string(),
            Some(n) => format!("{n} cases"),
        });
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        let header = [
            "case",
            "score",
            "route",
            "error",
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
                for row in range.start as u64..range.end as u64 {
                    let selected = self.selected_row == Some(row);
                    let case = self.row(row);
                    let response = ui.horizontal(|ui| {
                        let cells: Vec<String> = match &case {
                            Some(c) => vec![
                                format!("#{}", c.id),
                                c.score.map_or("-".into(), |s| format!("{s:.3}")),
                                c.route.map_or("-".into(), |r| r.as_str().to_string()),
                                c.error_code
                                    .map_or(String::new(), |e| short_code(e).to_string()),
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

    pub(super) fn intake_panel(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        ui.label(format!(
            "Photos opened or dropped here. Review-band results go to the queue; press {} to add any other.",
            shortcuts::keys(&ctx, Action::FileCase)
        ));
        if self.items.is_empty() {
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
            self.items.len(),
            |ui, range| {
                for i in range {
                    let item = &self.items[i];
                    let name = item.result.path.file_name().map_or_else(
                        || item.result.path.display().to_string(),
                        |n| n.to_string_lossy().to_string(),
                    );
                    let mut text = format!("{name}   {}", result_words(&item.result.analysis));
                    if let Some(id) = item.case_id {
                        text.push_str(&format!("   -> case #{id}"));
                    }
                    if ui
                        .selectable_label(self.selected_item == Some(i), text)
                        .clicked()
                    {
                        clicked = Some(i);
                    }
                }
            },
        );
        if let Some(i) = clicked {
            self.selected_item = Some(i);
        }
    }

    pub(super) fn inspector(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        // Gather what to show: a stored case, or an intake photo.
        let (analyses, textures, case) = match self.tab {
            Tab::Intake => match self.selected_item {
                Some(i) => {
                    let texture = Self::analysis_texture(&ctx, &mut self.items[i]);
                    (
                        vec![self.items[i].result.analysis.clone()],
                        vec![texture],
                        None,
                    )
                }
                None => (vec![], vec![], None),
            },
            _ => match &self.shown {
                Some(s) => (
                    s.data
                        .sides
                        .iter()
                        .map(|(side, _)| side.analysis.clone())
                        .collect::<Vec<_>>(),
                    s.textures.clone(),
                    Some(s.data.case.clone()),
                ),
                None => (vec![], vec![], None),
            },
        };
        egui::Panel::right("details")
            .default_size(360.0)
            .resizable(true)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .show(ui, |ui| self.details(ui, &analyses, case.as_ref()));
            });
        egui::CentralPanel::default().show(ui, |ui| {
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
                ui.checkbox(&mut self.settings.overlays.outline, "outline (Q)");
                ui.checkbox(&mut self.settings.overlays.portrait, "portrait (R)");
                ui.checkbox(&mut self.settings.overlays.heatmap, "evidence (H)");
                ui.label(
                    RichText::new("wheel: zoom at cursor | drag/arrows: pan | F: fit | 1: 1:1")
                        .small(),
                );
            });
            let n = analyses.len();
            let width = ui.available_width() / n as f32;
            let height = ui.available_height();
            ui.horizontal(|ui| {
                for (a, t) in analyses.iter().zip(&textures) {
                    ui.allocate_ui(egui::vec2(width - 4.0, height), |ui| {
                        ui.vertical(|ui| {
                            ui.label(RichText::new(format!("{:?} side", a.side)).strong());
                            viewer::show(ui, t.as_ref(), a, &mut self.view, self.settings.overlays);
                        });
                    });
                }
            });
        });
    }

    fn details(
        &mut self,
        ui: &mut egui::Ui,
        analyses: &[Analysis],
        case: Option<&crate::review::ReviewCase>,
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
            if let Some(code) = a.error {
                ui.colored_label(
                    Color32::from_rgb(230, 110, 80),
                    format!("{}: {}", code.as_str(), code.explanation()),
                );
                if let Some(reason) = &a.invalid_reason {
                    ui.label(RichText::new(reason).small());
                }
            }
            match &a.liveness {
                crate::engine::LivenessStatus::NoModel => {
                    ui.label("No liveness model is installed, so there is no score. The image and document checks were done.");
                }
                crate::engine::LivenessStatus::Failed { message } => {
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
                    ui.label(format!(
                        "{} (confidence {})",
                        a.documents.len(),
                        a.documents
                            .iter()
                            .map(|d| format!("{:.2}", d.confidence))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    ui.end_row();
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
        let Some(case) = case else { return };
        ui.separator();
        ui.label(RichText::new("Decision").strong());
        match (case.verdict, case.decided_by.as_deref()) {
            (Some(v), Some(by)) => {
                ui.label(format!(
                    "{} {} by {by} at {}",
                    v.as_str(),
                    case.attack_type.map_or("", |a| a.as_str()),
                    case.decided_at.as_deref().unwrap_or("")
                ));
            }
            _ => {
                ui.label("open");
            }
        }
        ui.horizontal(|ui| {
            let label = ui.label("reason").id;
            egui::ComboBox::from_id_salt("reason")
                .selected_text(if self.reason.is_empty() {
                    "-"
                } else {
                    self.reason.as_str()
                })
                .show_ui(ui, |ui| {
                    for r in REASONS {
                        ui.selectable_value(&mut self.reason, r.to_string(), *r);
                    }
                })
                .response
                .labelled_by(label);
        });
        let label = ui.label("note").id;
        ui.add(
            egui::TextEdit::multiline(&mut self.note)
                .hint_text("hotkeys are off while typing")
                .desired_rows(2),
        )
        .labelled_by(label);
        ui.horizontal_wrapped(|ui| {
            for (name, action) in [
                ("Genuine", Action::Genuine),
                ("Screen", Action::Screen),
                ("Print", Action::Print),
                ("Digital", Action::Digital),
                ("Other", Action::OtherAttack),
                ("Undo", Action::Undo),
            ] {
                if ui
                    .button(shortcuts::label(ui.ctx(), name, action))
                    .clicked()
                {
                    self.act(action);
                }
            }
        });
        if let Some(shown) = &self.shown {
            ui.separator();
            ui.label(RichText::new("History").strong());
            for e in &shown.data.history {
                ui.label(
                    RichText::new(format!(
                        "{}  {}  {}  {}",
                        e.at,
                        e.actor,
                        e.action,
                        e.detail.as_deref().unwrap_or("")
                    ))
                    .small(),
                );
            }
        }
    }

    pub(super) fn analyst_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Analyst view");
        ui.label("Scores of the cases matching the queue's filter, and what other thresholds would have done with the decided ones.");
        let before = self.what_if;
        ui.horizontal(|ui| {
            let label = ui.label("fail below").id;
            ui.add(egui::Slider::new(&mut self.what_if.fail_below, 0.0..=1.0).step_by(0.01))
                .labelled_by(label);
            let label = ui.label("pass from").id;
            ui.add(egui::Slider::new(&mut self.what_if.pass_from, 0.0..=1.0).step_by(0.01))
                .labelled_by(label);
            if ui.button("reset").clicked() {
                self.what_if = self.thresholds;
            }
        });
        if self.what_if.fail_below > self.what_if.pass_from {
            self.what_if.pass_from = self.what_if.fail_below;
        }
        if self.what_if != before {
            self.stats_requested = false;
        }
        let stats = match &self.stats {
            None => {
                ui.label("loading...");
                return;
            }
            Some(Err(e)) => {
                ui.colored_label(Color32::RED, e);
                return;
            }
            Some(Ok(s)) => s.clone(),
        };
        ui.label(format!(
            "{} cases, {} open, {} decided",
            stats.cases,
            stats.open,
            stats.cases - stats.open
        ));
        let (rect, _) = ui.allocate_exact_size(
            egui::vec2(ui.available_width().min(700.0), 220.0),
            Sense::hover(),
        );
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        let max = stats.histogram.iter().copied().max().unwrap_or(1).max(1) as f32;
        let bar_w = rect.width() / 10.0;
        for (i, n) in stats.histogram.iter().enumerate() {
            let h = (rect.height() - 20.0) * (*n as f32 / max);
            let x0 = rect.left() + i as f32 * bar_w;
            let bar = egui::Rect::from_min_max(
                egui::pos2(x0 + 2.0, rect.bottom() - 16.0 - h),
                egui::pos2(x0 + bar_w - 2.0, rect.bottom() - 16.0),
            );
            painter.rect_filled(bar, 2.0, Color32::from_rgb(90, 140, 200));
            painter.text(
                egui::pos2(x0 + bar_w / 2.0, rect.bottom() - 2.0),
                egui::Align2::CENTER_BOTTOM,
                format!("{:.1}", i as f32 / 10.0),
                egui::FontId::proportional(11.0),
                ui.visuals().text_color(),
            );
            painter.text(
                egui::pos2(x0 + bar_w / 2.0, bar.top() - 2.0),
                egui::Align2::CENTER_BOTTOM,
                n.to_string(),
                egui::FontId::proportional(11.0),
                ui.visuals().text_color(),
            );
        }
        for (t, c) in [
            (self.what_if.fail_below, Color32::from_rgb(220, 80, 60)),
            (self.what_if.pass_from, Color32::from_rgb(80, 200, 110)),
        ] {
            let x = rect.left() + rect.width() * t as f32;
            painter.line_segment(
                [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
                egui::Stroke::new(2.0, c),
            );
        }
        let c = &stats.confusion;
        ui.add_space(8.0);
        egui::Grid::new("confusion").striped(true).show(ui, |ui| {
            ui.strong("decided cases would be");
            ui.strong("reviewers said genuine");
            ui.strong("reviewers said attack");
            ui.end_row();
            for (name, counts) in [
                ("passed", c.pass),
                ("reviewed", c.review),
                ("failed", c.fail),
            ] {
                ui.label(name);
                ui.label(counts.genuine.to_string());
                ui.label(counts.attack.to_string());
                ui.end_row();
            }
        });
        ui.label(
            RichText::new(format!(
                "reviewer-confirmed attacks that would pass automatically: {}",
                c.attacks_passed()
            ))
            .strong(),
        );
        ui.label(format!(
            "genuine documents that would fail automatically: {}",
            c.genuine_failed()
        ));
        ui.separator();
        for r in &stats.reviewers {
            ui.label(format!(
                "{}: {} decisions, {} undos{}",
                r.reviewer,
                r.decisions,
                r.undos,
                r.per_hour
                    .map_or(String::new(), |p| format!(", {p:.1}/hour"))
            ));
        }
        ui.separator();
        self.adapt_section(ui);
    }
}

const COLUMN_WIDTHS: [f32; 7] = [50.0, 48.0, 48.0, 90.0, 52.0, 52.0, 110.0];

/// Reasons a reviewer can pick.
const REASONS: &[&str] = &[
    "moiré / pixel grid",
    "halftone dots",
    "paper texture",
    "no lamination glare",
    "screen bezel or glare",
    "UI or editing traces",
    "looks genuine",
    "other",
];

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
