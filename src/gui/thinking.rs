//! What a thinking model shows while it works: its notes and its draft images, above
//! the viewer, as they stream in. They are not results: they go when the job ends and
//! are never stored.

use std::collections::BTreeMap;

use egui::{RichText, TextureHandle};

use super::gallery::texture;
use crate::engine::Event;
use crate::library::JobId;

/// One running job's thoughts so far.
struct Live {
    /// The notes, pieces joined as they came.
    text: String,
    /// The newest draft image.
    picture: Option<TextureHandle>,
    /// Draft images seen.
    pictures: usize,
}

/// Every running job's thoughts, newest job shown.
#[derive(Default)]
pub struct ThinkingView {
    live: BTreeMap<JobId, Live>,
    /// Hidden by the user until the next job thinks.
    hidden: bool,
}

/// The tallest the card gets.
const CARD_HEIGHT: f32 = 150.0;

impl ThinkingView {
    /// Follows the engine's job events.
    pub fn on_event(&mut self, ctx: &egui::Context, event: &Event) {
        match event {
            Event::JobThought {
                job,
                request,
                text,
                picture,
            } => {
                if !self.live.contains_key(job) {
                    self.hidden = false;
                }
                let live = self.live.entry(*job).or_insert_with(|| Live {
                    text: String::new(),
                    picture: None,
                    pictures: 0,
                });
                if let Some(piece) = text {
                    join_piece(&mut live.text, piece);
                }
                if let Some(pixels) = picture {
                    let name = format!("thought-{job}-{request}-{}", live.pictures);
                    live.picture = Some(texture(ctx, name, pixels));
                    live.pictures += 1;
                }
            }
            Event::JobSucceeded { generation, .. } => {
                self.live.remove(&generation.job.id);
            }
            Event::JobFailed { job, .. } => {
                self.live.remove(job);
            }
            _ => {}
        }
    }

    /// The newest heading of a job's thoughts (`**Composing**`), for its line in the
    /// jobs list.
    pub fn heading(&self, job: JobId) -> Option<String> {
        self.live.get(&job).and_then(|l| last_heading(&l.text))
    }

    #[cfg(any(test, feature = "testing"))]
    /// The thoughts shown for a job, and how many draft images came.
    pub fn shown(&self, job: JobId) -> Option<(String, usize)> {
        self.live.get(&job).map(|l| (l.text.clone(), l.pictures))
    }

    /// Draws the newest running job's thoughts as a card at the top of `ui`.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if self.hidden {
            return;
        }
        let Some((job, live)) = self.live.iter().next_back() else {
            return;
        };
        let mut hide = false;
        egui::Frame::group(ui.style())
            .fill(ui.visuals().faint_bg_color)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    ui.strong(format!("{} Thinking", super::icons::GENERATE));
                    ui.weak(format!(
                        "job #{job}{}",
                        match live.pictures {
                            0 => String::new(),
                            1 => " · 1 draft".to_owned(),
                            n => format!(" · {n} drafts"),
                        }
                    ));
                    ui.weak("· not a result, not kept");
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        let close = ui.small_button(super::icons::CLOSE);
                        super::icons::named(&close, "Hide thinking");
                        hide = close
                            .on_hover_text("Hide until the next job thinks")
                            .clicked();
                    });
                });
                ui.horizontal_top(|ui| {
                    if let Some(picture) = &live.picture {
                        let size = picture.size_vec2();
                        let scale = (CARD_HEIGHT / size.y).min(1.0);
                        ui.add(egui::Image::new(picture).fit_to_exact_size(size * scale))
                            .on_hover_text("A draft the model drew to try the composition");
                    }
                    egui::ScrollArea::vertical()
                        .id_salt(("thoughts", *job))
                        .max_height(CARD_HEIGHT)
                        .stick_to_bottom(true)
                        .auto_shrink([false, true])
                        .show(ui, |ui| ui.vertical(|ui| notes(ui, &live.text)));
                });
            });
        self.hidden = hide;
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(250));
    }
}

/// The notes, a `**Heading**` line in bold.
fn notes(ui: &mut egui::Ui, text: &str) {
    if text.is_empty() {
        ui.weak("Drafting…");
        return;
    }
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match heading_of(line) {
            Some(heading) => ui.label(RichText::new(heading).strong()),
            None => ui.label(line),
        };
    }
}

/// A line that is all `**bold**`, without its stars.
fn heading_of(line: &str) -> Option<&str> {
    line.trim()
        .strip_prefix("**")?
        .strip_suffix("**")
        .filter(|h| !h.is_empty())
}

fn last_heading(text: &str) -> Option<String> {
    text.lines().rev().find_map(heading_of).map(str::to_owned)
}

/// Adds a streamed piece; a new `**Heading**` starts a new paragraph.
fn join_piece(text: &mut String, piece: &str) {
    if piece.trim_start().starts_with("**") && !text.is_empty() && !text.ends_with('\n') {
        text.push_str("\n\n");
    }
    text.push_str(piece);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_into_paragraphs_and_the_newest_heading_is_found() {
        let mut text = String::new();
        for piece in [
            "**Composing the scene**\n\n",
            "I'm laying out the main shapes first.",
            "**Refining the details**",
            " Sharpening edges.",
        ] {
            join_piece(&mut text, piece);
        }
        assert_eq!(
            text,
            "**Composing the scene**\n\nI'm laying out the main shapes first.\n\n\
             **Refining the details** Sharpening edges."
        );
        assert_eq!(last_heading(&text).as_deref(), Some("Composing the scene"));
        assert_eq!(last_heading("**A**\n\nnotes\n**B**").as_deref(), Some("B"));
        assert_eq!(last_heading("no heading"), None);
    }
}
