//! The icons of the window: glyphs of the icon fonts egui already ships (its emoji-icon
//! font and Noto Emoji), so no font is added to the binary. The icon-font crate for egui
//! (egui-phosphor 0.14) is built for egui 0.36 and would pull a second egui into the
//! build; this table is the glyphs we use, by what they mean.

/// Settings.
pub const SETTINGS: &str = "\u{2699}";
/// Keyboard shortcuts, help.
pub const HELP: &str = "\u{2753}";
/// Show or hide a side panel.
pub const PANEL: &str = "\u{2630}";
/// Refine: change step by step.
pub const REFINE: &str = "\u{270F}";
/// Variations: more of the same.
pub const VARIATIONS: &str = "\u{1F3B2}";
/// Save to disk.
pub const SAVE: &str = "\u{1F4BE}";
/// Compare.
pub const COMPARE: &str = "\u{229E}";
/// More actions.
pub const MORE: &str = "\u{2026}";
/// Cancel, dismiss.
pub const CLOSE: &str = "\u{1F5D9}";
/// A failure or warning.
pub const WARNING: &str = "\u{26A0}";
/// Done.
pub const DONE: &str = "\u{2714}";
/// A rating star, set.
pub const STAR: &str = "\u{2605}";
/// A pick's flag.
pub const FLAG: &str = "\u{2691}";
/// Favourite.
pub const HEART: &str = "\u{2665}";
/// Reject.
pub const REJECT: &str = "\u{2716}";
/// Generate.
pub const GENERATE: &str = "\u{25B6}";
/// Edit the prompt.
pub const EDIT: &str = "\u{1F4DD}";
/// A session's actions.
pub const SESSION: &str = "\u{26ED}";
/// The trash.
pub const TRASH: &str = "\u{1F5D1}";

/// Gives a control that shows an icon its name, for screen readers (and tests, which
/// find controls by name).
pub fn named(response: &egui::Response, name: &str) {
    response
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, response.enabled(), name));
}
