//! Helpers shared by the GUI tests: the app in sandbox mode and ways to drive it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use banana_studio::engine::{Engine, EngineConfig};
use banana_studio::fake::Sandbox;
use banana_studio::gui::BananaApp;
use banana_studio::keys::NoKeys;
use banana_studio::settings::Settings;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

/// The app in sandbox mode on `dir`, past the first-start welcome.
pub fn app(dir: &std::path::Path) -> Harness<'static, BananaApp> {
    app_with_keys(dir, Arc::new(NoKeys), true)
}

/// The app with these keys; `welcomed: false` shows the first-start welcome.
pub fn app_with_keys(
    dir: &std::path::Path,
    keys: Arc<dyn banana_studio::keys::KeySource>,
    welcomed: bool,
) -> Harness<'static, BananaApp> {
    let engine = sandbox_engine(dir, keys, |settings| {
        settings.welcomed |= welcomed;
    });
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| BananaApp::new(cc, engine))
}

/// A sandbox engine on `dir`, its settings changed by `edit` first (saved when changed).
fn sandbox_engine(
    dir: &std::path::Path,
    keys: Arc<dyn banana_studio::keys::KeySource>,
    edit: impl FnOnce(&mut Settings),
) -> Engine {
    let (mut settings, _) = Settings::load(dir);
    let before = settings.clone();
    edit(&mut settings);
    if settings != before {
        std::fs::create_dir_all(dir).unwrap();
        settings.save(dir).unwrap();
    }
    let sandbox = Sandbox::standard();
    SANDBOX.with(|slot| *slot.borrow_mut() = Some(sandbox.clone()));
    let mut config = EngineConfig::new(dir, keys);
    config.force_sandbox = true;
    config.sandbox = Some(sandbox);
    Engine::start(config).unwrap()
}

thread_local! {
    /// The sandbox of the app this test thread built last.
    static SANDBOX: std::cell::RefCell<Option<Arc<Sandbox>>> = const { std::cell::RefCell::new(None) };
}

/// The sandbox behind the app this test built (the app does not hand it out), so a test
/// can script faults and read what the stand-ins received.
pub fn sandbox() -> Arc<Sandbox> {
    SANDBOX
        .with(|slot| slot.borrow().clone())
        .expect("an app was built on this thread")
}

/// Steps the app until `done` holds; fails after `timeout` with what is on screen.
pub fn step_until(
    harness: &mut Harness<'static, BananaApp>,
    timeout: Duration,
    what: &str,
    done: impl Fn(&Harness<'static, BananaApp>) -> bool,
) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        harness.step();
        if done(harness) {
            // A panel that grew with new content settles on the next frame.
            harness.run_steps(2);
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let shot = save_screenshot(harness, what);
    panic!(
        "timed out waiting for {what} (window saved to {shot}); screen: {:#?}",
        harness.root()
    );
}

/// Renders the window into `target/step_until/` (named after `what`) so a timeout can be
/// looked at; says where, or why it could not.
fn save_screenshot(harness: &mut Harness<'static, BananaApp>, what: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/step_until");
    let name: String = what
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = dir.join(format!("{name}.png"));
    match harness.render() {
        Ok(image) => match std::fs::create_dir_all(&dir).and_then(|()| {
            image
                .save(&path)
                .map_err(|e| std::io::Error::other(e.to_string()))
        }) {
            Ok(()) => path.display().to_string(),
            Err(e) => format!("nowhere: {e}"),
        },
        Err(e) => format!("nowhere: could not render: {e}"),
    }
}

/// Types a prompt, clicks Generate and waits until the result is in the viewer.
pub fn generate_in_app(harness: &mut Harness<'static, BananaApp>, prompt: &str) {
    let before = harness.state().gallery().generations().len();
    type_prompt(harness, prompt);
    harness.get_by_label("Generate").click();
    step_until(harness, Duration::from_secs(60), "the result", |h| {
        h.state().gallery().generations().len() == before + 1
            && h.query_by_label("Refine").is_some()
    });
}

pub fn type_prompt(harness: &mut Harness<'static, BananaApp>, text: &str) {
    type_into(harness, "Describe the image, or what to change", text);
}

/// Replaces what the field labelled `label` holds, as a person selecting all and typing would.
pub fn type_into(harness: &mut Harness<'static, BananaApp>, label: &str, text: &str) {
    harness.get_by_label(label).click();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness.get_by_label(label).type_text(text);
    harness.step();
}

/// Clicks the viewer so no text field holds the keyboard, as after picking an image.
pub fn leave_text_fields(harness: &mut Harness<'static, BananaApp>) {
    let zoom = harness.get_by_label("Fit").rect().center();
    harness.event(egui::Event::PointerMoved(zoom + egui::vec2(0.0, 200.0)));
    harness.event(egui::Event::PointerButton {
        pos: zoom + egui::vec2(0.0, 200.0),
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    harness.event(egui::Event::PointerButton {
        pos: zoom + egui::vec2(0.0, 200.0),
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    harness.run_steps(2);
}

/// The app in sandbox mode with settings changed by `edit`, in a harness `build` sets up,
/// showing the notices that arrive in `notices` too.
pub fn app_custom(
    dir: &std::path::Path,
    edit: impl FnOnce(&mut Settings),
    build: impl FnOnce(
        egui_kittest::HarnessBuilder<BananaApp>,
    ) -> egui_kittest::HarnessBuilder<BananaApp>,
    notices: banana_studio::notify::Notices,
) -> Harness<'static, BananaApp> {
    let engine = sandbox_engine(dir, Arc::new(NoKeys), |settings| {
        settings.welcomed = true;
        edit(settings);
    });
    build(Harness::builder().with_size([1360.0, 860.0]))
        .build_eframe(move |cc| BananaApp::new(cc, engine).with_notices(notices))
}

/// Whether some label holds `text` (a notice shows in its toast and the status bar at once).
pub fn shows(harness: &Harness<'static, BananaApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// Clicks the empty viewer, so no text field holds the keyboard.
pub fn click_empty_viewer(harness: &mut Harness<'static, BananaApp>) {
    let at = harness
        .get_by_label_contains("Generated images appear here")
        .rect()
        .center()
        + egui::vec2(0.0, 120.0);
    harness.event(egui::Event::PointerMoved(at));
    for pressed in [true, false] {
        harness.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    harness.run_steps(2);
}

/// The pixels of a draft input as the library stored them (what will be sent).
pub fn stored_input(
    dir: &std::path::Path,
    input: &banana_studio::recipe::InputImage,
) -> image::RgbImage {
    let ext = banana_studio::library::extension_for(&input.mime);
    let path = dir
        .join("inputs")
        .join(&input.sha256[..2])
        .join(format!("{}.{ext}", input.sha256));
    image::open(&path)
        .unwrap_or_else(|e| panic!("the stored input {}: {e}", path.display()))
        .to_rgb8()
}

/// The mean difference per channel of two images of one size (0 alike, 255 opposite).
pub fn mean_difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions(), "sizes differ");
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// Opens the menu named `menu` and clicks its item `item`.
pub fn choose(harness: &mut Harness<'static, BananaApp>, menu: &str, item: &str) {
    harness.get_by_label(menu).click();
    step_until(harness, Duration::from_secs(5), item, |h| {
        h.query_by_label(item).is_some()
    });
    harness.get_by_label(item).click();
    harness.run_steps(2);
}

/// Clicks `label` once it takes clicks (Retry waits a moment after a job ends).
pub fn click_when_enabled(harness: &mut Harness<'static, BananaApp>, label: &str) {
    step_until(harness, Duration::from_secs(5), label, |h| {
        h.query_by_label(label)
            .is_some_and(|n| !egui_kittest::kittest::NodeT::accesskit_node(&n).is_disabled())
    });
    harness.get_by_label(label).click();
}
