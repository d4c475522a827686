//! Notices for the user, carried by the log: a log line with the target [`TARGET`] is also
//! a notice. [`NoticeLayer`] (a `tracing` layer, installed by `logs::init`) copies those
//! lines into a [`Notices`] queue the window drains into toasts and its status-bar history,
//! so code far from the window (the key store, the engine's threads) tells the user what
//! went wrong the same way it tells the log. The window's own notices go both ways at once
//! through `gui::toasts`.
//!
//! A notice may carry one action: `retry_job = N` (a Retry button for job N) or
//! `folder = "…"` (a button that opens the folder).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

use banana_library::JobId;

/// The log target of notices: `tracing::warn!(target: notify::TARGET, "…")`.
pub const TARGET: &str = banana_core::NOTICE_TARGET;

/// How many notices wait for a window at most (the CLI never drains them).
const QUEUE_CAP: usize = 100;

/// How bad a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something finished.
    Info,
    /// Something failed.
    Error,
}

/// What the user can do about a notice, in one click.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Run the failed job again.
    Retry(JobId),
    /// Open this folder in the file manager.
    ShowFolder(PathBuf),
}

impl Action {
    /// The button's label.
    pub fn label(&self) -> String {
        match self {
            Action::Retry(job) => format!("Retry job #{job}"),
            Action::ShowFolder(_) => "Show folder".to_owned(),
        }
    }
}

/// One notice.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// How bad.
    pub level: Level,
    /// What happened, in words.
    pub text: String,
    /// The one-click answer, if any.
    pub action: Option<Action>,
    /// When.
    pub at: SystemTime,
}

impl Notice {
    /// A notice made now.
    pub fn new(level: Level, text: impl Into<String>) -> Self {
        Self {
            level,
            text: text.into(),
            action: None,
            at: SystemTime::now(),
        }
    }

    /// The same notice with a button.
    pub fn with_action(mut self, action: Action) -> Self {
        self.action = Some(action);
        self
    }
}

/// A queue of notices, shared between the log layer and the window.
#[derive(Clone, Default)]
pub struct Notices(Arc<Mutex<VecDeque<Notice>>>);

impl Notices {
    /// The queue `logs::init` feeds and the window drains.
    pub fn global() -> Notices {
        static GLOBAL: OnceLock<Notices> = OnceLock::new();
        GLOBAL.get_or_init(Notices::default).clone()
    }

    /// Adds a notice, dropping the oldest beyond the cap.
    pub fn push(&self, notice: Notice) {
        let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if queue.len() >= QUEUE_CAP {
            queue.pop_front();
        }
        queue.push_back(notice);
    }

    /// Takes every waiting notice, oldest first.
    pub fn drain(&self) -> Vec<Notice> {
        let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
        queue.drain(..).collect()
    }
}

/// The `tracing` layer that turns log lines with the target [`TARGET`] into notices.
pub struct NoticeLayer {
    sink: Notices,
}

impl NoticeLayer {
    /// A layer feeding `sink`.
    pub fn new(sink: Notices) -> Self {
        Self { sink }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoticeLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if meta.target() != TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = if *meta.level() <= tracing::Level::WARN {
            Level::Error
        } else {
            Level::Info
        };
        let mut notice = Notice::new(level, fields.message);
        if let Some(job) = fields.retry_job {
            notice = notice.with_action(Action::Retry(job));
        } else if let Some(folder) = fields.folder {
            notice = notice.with_action(Action::ShowFolder(folder.into()));
        }
        self.sink.push(notice);
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    retry_job: Option<JobId>,
    folder: Option<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "folder" => self.folder = Some(format!("{value:?}").trim_matches('"').to_owned()),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            "folder" => self.folder = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "retry_job" {
            self.retry_job = JobId::try_from(value).ok();
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "retry_job" {
            self.retry_job = Some(value);
        }
    }
}

/// A path as people write it: the home folder as `~` ("~/Pictures/banana").
pub fn tilde(path: &Path) -> String {
    let home = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
    tilde_under(path, home.as_deref())
}

fn tilde_under(path: &Path, home: Option<&Path>) -> String {
    match home.and_then(|home| path.strip_prefix(home).ok()) {
        Some(rest) if rest.as_os_str().is_empty() => "~".to_owned(),
        Some(rest) => format!("~{}{}", std::path::MAIN_SEPARATOR, rest.display()),
        None => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn log_lines_with_the_notice_target_become_notices_with_their_action() {
        let sink = Notices::default();
        let subscriber = tracing_subscriber::registry().with(NoticeLayer::new(sink.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("an ordinary log line");
            tracing::warn!("an ordinary warning");
            tracing::warn!(target: TARGET, retry_job = 7, "Job #7 failed: the service is busy");
            tracing::info!(target: TARGET, folder = "/tmp/out", "Saved 3 images to /tmp/out");
            tracing::error!(target: TARGET, "The history could not be written");
        });
        let got = sink.drain();
        assert_eq!(got.len(), 3, "only notice lines: {got:?}");
        assert_eq!(got[0].level, Level::Error);
        assert_eq!(got[0].text, "Job #7 failed: the service is busy");
        assert_eq!(got[0].action, Some(Action::Retry(7)));
        assert_eq!(got[1].level, Level::Info);
        assert_eq!(
            got[1].action,
            Some(Action::ShowFolder(PathBuf::from("/tmp/out")))
        );
        assert_eq!(got[2].action, None);
        assert!(sink.drain().is_empty(), "drained");
    }

    #[test]
    fn the_queue_keeps_the_newest_hundred() {
        let sink = Notices::default();
        for n in 0..150 {
            sink.push(Notice::new(Level::Info, format!("n{n}")));
        }
        let got = sink.drain();
        assert_eq!(got.len(), QUEUE_CAP);
        assert_eq!(got[0].text, "n50");
    }

    #[test]
    fn paths_under_home_are_written_with_a_tilde() {
        let home = Path::new("/home/ada");
        let sep = std::path::MAIN_SEPARATOR;
        assert_eq!(
            tilde_under(Path::new("/home/ada/Pictures/banana"), Some(home)),
            format!("~{sep}Pictures/banana")
        );
        assert_eq!(tilde_under(home, Some(home)), "~");
        assert_eq!(tilde_under(Path::new("/srv/out"), Some(home)), "/srv/out");
        assert_eq!(tilde_under(Path::new("/srv/out"), None), "/srv/out");
    }
}
