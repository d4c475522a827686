//! Every keyboard shortcut in one table, and the window `?` opens to show them.

/// What each key does, in the order the help lists them.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Ctrl+Enter", "Generate (in the prompt)"),
    (
        "Ctrl+V",
        "Paste an image or an image file's path as an input",
    ),
    ("Ctrl+O", "Open images as inputs"),
    ("Ctrl+S", "Save the selected images to a folder"),
    ("Ctrl+,", "Settings"),
    ("Ctrl+[ / Ctrl+]", "Show or hide the prompt / history panel"),
    ("Ctrl+0 / Ctrl+1", "Fit the image / show it at 100%"),
    ("Hold Z", "Loupe: 2x under the pointer (Shift+Z: 4x)"),
    ("Esc", "Close a dialog without changes"),
    (
        "Left / Right",
        "Previous / next image in the gallery and viewer",
    ),
    (
        "Up / Down",
        "Newer / older generation in the gallery and viewer",
    ),
    ("Ctrl+A", "Select every image listed"),
    (
        "Ctrl+click / Shift+click",
        "Add to the selection / select a range",
    ),
    ("1 to 5, 0", "Rate the selected images, clear the rating"),
    ("P / X / U", "Pick, reject, unflag"),
    ("F", "Favourite"),
    ("Delete", "Move to the trash"),
    ("Ctrl+Z", "Bring back what was just deleted"),
    ("?", "Show this list"),
];

/// The shortcut list's window.
#[derive(Default)]
pub struct ShortcutHelp {
    /// Whether it is shown.
    pub open: bool,
}

impl ShortcutHelp {
    /// Opens on `?` typed outside a text field; shows the list while open.
    pub fn ui(&mut self, ctx: &egui::Context) {
        let typing = ctx.memory(|m| m.focused().is_some());
        if !typing
            && ctx.input(|i| {
                i.events
                    .iter()
                    .any(|e| matches!(e, egui::Event::Text(t) if t == "?"))
            })
        {
            self.open = !self.open;
        }
        if !self.open {
            return;
        }
        let mut open = self.open;
        let screen = ctx.content_rect();
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .frame(
                egui::Frame::window(&ctx.global_style())
                    .fill(ctx.global_style().visuals.window_fill),
            )
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                ui.set_width(560.0_f32.min(screen.width() - 40.0));
                // Scrolls on a short screen; descriptions wrap at word ends, never cut.
                egui::ScrollArea::vertical()
                    .max_height((screen.height() - 240.0).max(160.0))
                    .auto_shrink([false, true])
                    .show(ui, |ui| {
                        egui::Grid::new("shortcut-grid")
                            .num_columns(2)
                            .spacing([24.0, 6.0])
                            .striped(true)
                            .max_col_width(330.0)
                            .show(ui, |ui| {
                                for (keys, action) in SHORTCUTS {
                                    ui.label(egui::RichText::new(*keys).monospace().strong());
                                    ui.add(egui::Label::new(*action).wrap());
                                    ui.end_row();
                                }
                            });
                    });
                if ui.button("Close").clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                    self.open = false;
                }
            });
        self.open &= open;
    }
}
