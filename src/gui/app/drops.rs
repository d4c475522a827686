//! What comes into the window from outside: files dropped on it, images and image paths
//! pasted, and the highlight that says what a drop does while files hover.

use std::sync::Arc;

use crate::engine::InputSource;
use crate::imaging::Rgba;

/// Files dropped on the window, images pasted, and pasted paths of image files
/// (when no text field has focus, so a pasted path in the prompt stays text).
pub(super) fn incoming_inputs(ctx: &egui::Context) -> Vec<InputSource> {
    let dropped = ctx.input_mut(|i| std::mem::take(&mut i.raw.dropped_files));
    let mut sources: Vec<InputSource> = dropped
        .iter()
        .map(|f| InputSource::File(f.path().to_path_buf()))
        .collect();
    let typing = ctx.memory(|m| m.focused().is_some());
    ctx.input(|i| {
        for event in &i.events {
            match event {
                egui::Event::PasteImage(image) => {
                    let [w, h] = image.size;
                    let pixels = image.as_raw().to_vec();
                    sources.push(InputSource::Pixels {
                        name: "pasted image".into(),
                        pixels: Arc::new(Rgba {
                            width: w as u32,
                            height: h as u32,
                            pixels,
                        }),
                    });
                }
                egui::Event::Paste(text) if !typing => {
                    let path = std::path::PathBuf::from(text.trim().trim_matches('"'));
                    if path.is_file() {
                        sources.push(InputSource::File(path));
                    }
                }
                _ => {}
            }
        }
    });
    sources
}

/// A highlight over the window while files hover, saying what a drop does.
pub(super) fn drop_highlight(ctx: &egui::Context) {
    let hovering = ctx.input(|i| i.raw.hovered_files.len());
    if hovering == 0 {
        return;
    }
    let screen = ctx.content_rect();
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop-highlight"),
    ));
    painter.rect_filled(screen, 0.0, egui::Color32::from_black_alpha(170));
    painter.rect_stroke(
        screen.shrink(6.0),
        8.0,
        egui::Stroke::new(3.0, super::super::theme::SANDBOX),
        egui::StrokeKind::Inside,
    );
    let plural = if hovering == 1 { "image" } else { "images" };
    painter.text(
        screen.center(),
        egui::Align2::CENTER_CENTER,
        format!("Drop to add {hovering} {plural} as input"),
        egui::FontId::proportional(28.0),
        egui::Color32::WHITE,
    );
}
