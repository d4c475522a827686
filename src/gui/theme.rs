//! The dark and light looks, and following the system's. egui's own visuals, with text
//! that keeps a readable contrast (WCAG AA: 4.5:1 for text, 3:1 for weak text) on every
//! background it is drawn on.

// The one place colours are written as numbers (clippy.toml keeps `from_rgb` here).
#![allow(clippy::disallowed_methods)]

use egui::Color32;

use crate::settings::Theme;

/// The sandbox's banner and outlines: the banana yellow, never used for model output.
pub const SANDBOX: Color32 = Color32::from_rgb(250, 205, 40);
/// The "SANDBOX IMAGE" label on a sandbox result.
pub const SANDBOX_LABEL: Color32 = Color32::from_rgb(230, 170, 20);
/// The selection outline in a comparison.
pub const SELECTED: Color32 = SANDBOX;
/// An error notice's fill (white text on it).
pub const ERROR_FILL: Color32 = Color32::from_rgb(120, 24, 24);
/// A job that succeeded.
pub const SUCCESS: Color32 = Color32::from_rgb(80, 170, 90);

/// The primary action's fill (Generate): a blue no model output or warning uses, with
/// white text at WCAG AA contrast.
pub const ACCENT: Color32 = Color32::from_rgb(58, 78, 214);
/// The tint of a mask's region in the painter: the magenta the model sees (see
/// `imaging::mask`), premultiplied at 45%.
pub const MASK_TINT: Color32 = Color32::from_rgba_premultiplied(115, 0, 115, 115);

/// The outline of a mask rectangle being drawn.
pub const MASK_EDGE: Color32 = Color32::from_rgb(255, 0, 255);

/// The mark-up colours offered first (sRGB): ones that stand out on most photos.
pub const MARK_COLOURS: [([u8; 3], &str); 6] = [
    ([235, 40, 40], "Red"),
    ([255, 200, 0], "Yellow"),
    ([30, 200, 90], "Green"),
    ([0, 190, 255], "Cyan"),
    ([255, 255, 255], "White"),
    ([20, 20, 20], "Black"),
];

/// A colour the user chose (a mark's, a swatch's): theirs, not the theme's.
pub fn chosen(c: [u8; 3]) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}

/// A reject's cross on a thumbnail.
pub const REJECT: Color32 = Color32::from_rgb(240, 90, 80);

/// The difference heatmap's colour for a change `d` (0 none, 255 most), for its legend.
pub fn heat(d: u8) -> Color32 {
    let [r, g, b, _] = crate::imaging::heat(d);
    Color32::from_rgb(r, g, b)
}

/// A favourite's heart.
pub const HEART: Color32 = Color32::from_rgb(226, 72, 96);

/// A set rating star and a pick's flag: gold, darker on the light look so it reads.
pub fn star(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgb(240, 180, 30)
    } else {
        Color32::from_rgb(176, 116, 0)
    }
}

/// The spacing scale, in points: every gap in the window is one of these.
pub mod space {
    /// Between the parts of one control.
    pub const S: f32 = 4.0;
    /// Between controls.
    pub const M: f32 = 8.0;
    /// Between groups.
    pub const L: f32 = 16.0;
}

/// The canvas around the image: a neutral mid-grey in both looks, so the surround does
/// not shift how its colours read (pure white or black does).
pub fn canvas(dark: bool) -> Color32 {
    if dark {
        Color32::from_gray(74)
    } else {
        Color32::from_gray(138)
    }
}

/// Sets the looks, the type sizes and spacing, and which look shows.
pub fn apply(ctx: &egui::Context, theme: Theme) {
    ctx.set_visuals_of(egui::Theme::Dark, visuals(egui::Theme::Dark));
    ctx.set_visuals_of(egui::Theme::Light, visuals(egui::Theme::Light));
    ctx.all_styles_mut(type_and_spacing);
    ctx.set_theme(preference(theme));
}

/// Body text at 14 px and nothing under 12 (egui's small text is 9), on the spacing scale.
pub fn type_and_spacing(style: &mut egui::Style) {
    use egui::{FontFamily, FontId, TextStyle};
    style.text_styles = [
        (
            TextStyle::Heading,
            FontId::new(19.0, FontFamily::Proportional),
        ),
        (TextStyle::Body, FontId::new(14.0, FontFamily::Proportional)),
        (
            TextStyle::Button,
            FontId::new(14.0, FontFamily::Proportional),
        ),
        (
            TextStyle::Small,
            FontId::new(12.0, FontFamily::Proportional),
        ),
        (
            TextStyle::Monospace,
            FontId::new(13.0, FontFamily::Monospace),
        ),
    ]
    .into();
    style.spacing.item_spacing = egui::vec2(space::M, 6.0);
    style.spacing.button_padding = egui::vec2(space::M, 3.0);
    style.spacing.interact_size.y = 24.0;
}

/// A primary action's button: accent fill and white text, the shortcut shown beside it.
/// While it cannot be used it is a plain button (added disabled, it fades like any
/// other): a faded accent still reads as ready on a dark panel.
pub fn primary_button<'a>(text: &str, shortcut: &str, enabled: bool) -> egui::Button<'a> {
    if !enabled {
        return egui::Button::new(egui::RichText::new(text).strong())
            .shortcut_text(egui::RichText::new(shortcut.to_owned()));
    }
    egui::Button::new(egui::RichText::new(text).strong().color(Color32::WHITE))
        .fill(ACCENT)
        .shortcut_text(egui::RichText::new(shortcut.to_owned()).color(Color32::from_gray(225)))
}

/// egui's theme preference for a setting.
pub fn preference(theme: Theme) -> egui::ThemePreference {
    match theme {
        Theme::Dark => egui::ThemePreference::Dark,
        Theme::Light => egui::ThemePreference::Light,
        Theme::System => egui::ThemePreference::System,
    }
}

/// The visuals of one look.
pub fn visuals(theme: egui::Theme) -> egui::Visuals {
    let mut v = match theme {
        egui::Theme::Dark => egui::Visuals::dark(),
        egui::Theme::Light => egui::Visuals::light(),
    };
    // egui's weak text is the text colour at 60%: too faint on the light look's panels.
    // Darken (or lighten) it until it reads on the faintest background it is drawn on.
    let backgrounds = [v.panel_fill, v.window_fill, v.extreme_bg_color];
    // Weak text is drawn opaque: a faded colour blends differently on every background.
    let text = v.text_color();
    let target = match theme {
        egui::Theme::Dark => egui::Color32::WHITE,
        egui::Theme::Light => egui::Color32::BLACK,
    };
    let base = v.panel_fill;
    let readable = |c: egui::Color32| backgrounds.iter().all(|bg| contrast(c, *bg) >= 4.5);
    // From egui's faintness towards the text colour, then beyond it, in small steps.
    let weak = (0..=20)
        .map(|step| {
            let t = step as f32 / 20.0;
            if t <= 0.5 {
                base.lerp_to_gamma(text, 0.6 + 0.8 * t)
            } else {
                text.lerp_to_gamma(target, (t - 0.5) * 2.0)
            }
        })
        .find(|c| readable(*c))
        .unwrap_or(target);
    v.weak_text_color = Some(weak);
    v
}

/// The WCAG contrast ratio of two colours (1 to 21).
pub fn contrast(a: egui::Color32, b: egui::Color32) -> f32 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

fn luminance(c: egui::Color32) -> f32 {
    let channel = |v: u8| {
        let v = f32::from(v) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(c.r()) + 0.7152 * channel(c.g()) + 0.0722 * channel(c.b())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_ratios_match_wcag() {
        let c = contrast(egui::Color32::BLACK, egui::Color32::WHITE);
        assert!((c - 21.0).abs() < 0.01, "{c}");
        assert!((contrast(egui::Color32::GRAY, egui::Color32::GRAY) - 1.0).abs() < 0.001);
    }

    #[test]
    fn the_primary_button_and_marks_read() {
        assert!(contrast(Color32::WHITE, ACCENT) >= 4.5);
        assert!(contrast(Color32::from_gray(225), ACCENT) >= 4.5);
        // Stars and hearts stand out from the panels (3:1, as for any non-text mark).
        for dark in [true, false] {
            let v = visuals(if dark {
                egui::Theme::Dark
            } else {
                egui::Theme::Light
            });
            for bg in [v.panel_fill, v.window_fill] {
                assert!(contrast(star(dark), bg) >= 3.0, "star, dark {dark}");
                assert!(contrast(HEART, bg) >= 3.0, "heart, dark {dark}");
            }
        }
    }

    #[test]
    fn text_reads_on_every_background_in_both_looks() {
        for theme in [egui::Theme::Dark, egui::Theme::Light] {
            let v = visuals(theme);
            for (name, bg) in [
                ("panel", v.panel_fill),
                ("window", v.window_fill),
                ("field", v.extreme_bg_color),
            ] {
                let text = contrast(v.text_color(), bg);
                let weak = contrast(v.weak_text_color(), bg);
                let strong = contrast(v.strong_text_color(), bg);
                assert!(text >= 4.5, "{theme:?} text on {name}: {text:.2}");
                assert!(weak >= 4.5, "{theme:?} weak text on {name}: {weak:.2}");
                assert!(
                    strong >= 4.5,
                    "{theme:?} strong text on {name}: {strong:.2}"
                );
                let error = contrast(v.error_fg_color, bg);
                assert!(error >= 3.0, "{theme:?} error text on {name}: {error:.2}");
            }
            // Buttons: their label on their fill, at rest and hovered.
            for (name, w) in [
                ("button", &v.widgets.inactive),
                ("hovered button", &v.widgets.hovered),
            ] {
                let c = contrast(w.fg_stroke.color, w.weak_bg_fill);
                assert!(c >= 4.5, "{theme:?} {name} label: {c:.2}");
            }
        }
    }
}
