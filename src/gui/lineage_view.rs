//! The lineage tree of the selected image: where its line began, every refinement below,
//! and a summary of its parent, siblings and children. Rows are clickable.

use std::sync::Arc;

use egui::{RichText, TextureHandle, vec2};

use super::Command;
use super::gallery_text::marks_text;
use super::thumbs::{Thumb, ThumbCache};
use crate::engine::{Event, LineageAnswer};
use crate::library::{ImageId, LineageTree};

const ROW: f32 = 44.0;
const INDENT: f32 = 18.0;

/// The lineage view's state.
#[derive(Default)]
pub struct LineageView {
    tree: Option<Arc<LineageTree>>,
    requested: Option<ImageId>,
    /// The answer to the newest request; an older one is dropped with its handle.
    answer: Option<LineageAnswer>,
    error: Option<String>,
}

/// Parent, siblings and children of the focus, in words.
fn summary(tree: &LineageTree) -> String {
    let Some(focus) = tree.nodes.iter().find(|n| n.image.id == tree.focus) else {
        return String::new();
    };
    let siblings = tree
        .nodes
        .iter()
        .filter(|n| {
            n.parent == focus.parent && n.depth == focus.depth && n.image.id != focus.image.id
        })
        .count();
    let children = tree
        .nodes
        .iter()
        .filter(|n| n.parent == Some(focus.image.id))
        .count();
    let parent = match focus.parent {
        Some(p) => format!("Parent #{p}"),
        None => "No parent (the line starts here)".to_owned(),
    };
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{parent} · {} · {}",
        plural(siblings, "sibling", "siblings"),
        plural(children, "child", "children")
    )
}

impl LineageView {
    /// Drops the tree after a change that may add to it (a new refinement, a delete).
    pub fn on_event(&mut self, event: &Event) {
        if let Event::JobSucceeded { .. } | Event::LibraryChanged { reload: true, .. } = event {
            self.requested = None;
        }
    }

    /// Waits for the tree asked for by the last `ui`.
    pub fn expect(&mut self, answer: LineageAnswer) {
        self.answer = Some(answer);
    }

    /// Takes the tree once it has come.
    pub fn poll(&mut self) {
        if let Some(answer) = &mut self.answer
            && let Some(result) = answer.take()
        {
            self.answer = None;
            match result {
                Ok(tree) if Some(tree.focus) == self.requested => {
                    self.tree = Some(tree);
                    self.error = None;
                }
                Ok(_) => {}
                Err(e) => self.error = Some(format!("The lineage could not be read: {e}")),
            }
        }
    }

    /// Draws the tree of `selected`; returns what the user asked.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        selected: Option<ImageId>,
        thumbs: &mut ThumbCache<TextureHandle>,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let Some(selected) = selected else {
            ui.weak("Select an image to see where it came from and what came of it.");
            return commands;
        };
        if self.requested != Some(selected) {
            self.requested = Some(selected);
            self.error = None;
            commands.push(Command::LoadLineage(selected));
        }
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
            return commands;
        }
        let Some(tree) = self.tree.clone() else {
            ui.weak("Reading the lineage…");
            return commands;
        };
        if tree.focus != selected {
            ui.weak("Reading the lineage…");
        }
        ui.label(summary(&tree));
        let generations = tree
            .nodes
            .iter()
            .map(|n| n.depth)
            .max()
            .map_or(0, |d| d + 1);
        ui.weak(format!(
            "{} images over {generations} step{}",
            tree.nodes.len(),
            if generations == 1 { "" } else { "s" }
        ));
        if tree.truncated > 0 {
            ui.weak(format!("{} more not shown.", tree.truncated));
        }
        egui::ScrollArea::vertical()
            .id_salt("lineage-scroll")
            .auto_shrink([false, false])
            .show_rows(ui, ROW, tree.nodes.len(), |ui, rows| {
                for node in &tree.nodes[rows] {
                    ui.horizontal(|ui| {
                        ui.set_height(ROW - ui.spacing().item_spacing.y);
                        ui.add_space(node.depth as f32 * INDENT);
                        let edge = ROW - 8.0;
                        match thumbs.get(node.image.id) {
                            Thumb::Ready(tex) => {
                                ui.add(
                                    egui::Image::new(tex)
                                        .max_size(vec2(edge, edge))
                                        .alt_text(""),
                                );
                            }
                            _ => {
                                ui.add_sized([edge, edge], egui::Label::new("…"));
                            }
                        }
                        let mut text = format!(
                            "#{} {}{}",
                            node.image.id,
                            crate::recipe::preview(&node.prompt, 48),
                            marks_text(&node.image)
                        );
                        if node.is_final {
                            text.push_str(" · final of its draft");
                        }
                        if node.image.deleted_at_ms.is_some() {
                            text.push_str(" (in the trash)");
                        }
                        let focus = node.image.id == tree.focus;
                        let text = if focus {
                            RichText::new(text).strong()
                        } else {
                            RichText::new(text)
                        };
                        let r = ui
                            .selectable_label(focus, text)
                            .on_hover_text(format!("{} · {}", node.model, node.prompt));
                        if r.clicked() && !focus {
                            commands.push(Command::Select(node.image.id));
                        }
                    });
                }
            });
        commands
    }
}
