//! The analyst view: the score histogram and route-against-verdict figures of the cases
//! matching the queue's filter, a threshold what-if, and the refit (`adapt_panel.rs`).

use egui::{Color32, RichText, Sense};

use super::app::ConsoleApp;
use docliveness_engine::config::Thresholds;
use docliveness_review::Statistics;

/// The analyst view's what-if thresholds and the statistics last computed with them.
pub struct AnalystState {
    pub(super) what_if: Thresholds,
    pub(super) stats: Option<Result<Statistics, String>>,
    pub(super) stats_requested: bool,
    pub(super) adapt: super::adapt_panel::AdaptState,
}

impl AnalystState {
    /// Starting from the thresholds in force.
    pub(super) fn new(thresholds: Thresholds) -> AnalystState {
        AnalystState {
            what_if: thresholds,
            stats: None,
            stats_requested: false,
            adapt: Default::default(),
        }
    }
}

impl ConsoleApp {
    pub(super) fn analyst_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Analyst view");
        ui.label("Scores of the cases matching the queue's filter, and what other thresholds would have done with the decided ones.");
        let before = self.analyst.what_if;
        ui.horizontal(|ui| {
            let label = ui.label("fail below").id;
            ui.add(
                egui::Slider::new(&mut self.analyst.what_if.fail_below, 0.0..=1.0).step_by(0.01),
            )
            .labelled_by(label);
            let label = ui.label("pass from").id;
            ui.add(egui::Slider::new(&mut self.analyst.what_if.pass_from, 0.0..=1.0).step_by(0.01))
                .labelled_by(label);
            if ui.button("reset").clicked() {
                self.analyst.what_if = self.thresholds;
            }
        });
        if self.analyst.what_if.fail_below > self.analyst.what_if.pass_from {
            self.analyst.what_if.pass_from = self.analyst.what_if.fail_below;
        }
        if self.analyst.what_if != before {
            self.analyst.stats_requested = false;
        }
        let stats = match &self.analyst.stats {
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
        if self.queue.filter.status == docliveness_review::Status::Open {
            // The queue opens on open cases, and the what-if below is about decided ones:
            // without this an analyst reads "0 decided" in a database full of decisions.
            ui.label(
                RichText::new(
                    "The queue's filter shows open cases only, so no decided case is counted in the histogram and tables above: set \"Show\" to \"decided\" or \"all\" in the queue (F1). The refit below uses every decided case whatever the filter.",
                )
                .italics(),
            );
        }
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
            (
                self.analyst.what_if.fail_below,
                Color32::from_rgb(220, 80, 60),
            ),
            (
                self.analyst.what_if.pass_from,
                Color32::from_rgb(80, 200, 110),
            ),
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
