//! The engine's history-panel work: sessions (news), lineage trees and saving a
//! selection to a folder (answers), each on a blocking thread.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Answer, Engine, Event, Inner, LineageAnswer, TaskError};
use banana_library::export::{ExportOptions, export_image};
use banana_library::{ImageId, Library, LibraryError, SessionId};

impl Engine {
    /// Reads the sessions; `Event::Sessions` follows.
    pub fn load_sessions(&self) {
        self.session_task(|_| Ok(()));
    }

    /// Starts a session and makes it current; `Event::Sessions` follows.
    pub fn new_session(&self, name: String) {
        self.session_task(move |lib| lib.create_session(&name).map(|_| ()));
    }

    /// Makes a session current, so new jobs go into it; `Event::Sessions` follows.
    pub fn set_session(&self, id: SessionId) {
        self.session_task(move |lib| lib.set_current_session(id).map(|_| ()));
    }

    /// Renames a session; `Event::Sessions` follows.
    pub fn rename_session(&self, id: SessionId, name: String) {
        self.session_task(move |lib| lib.rename_session(id, &name));
    }

    fn session_task<F>(&self, change: F)
    where
        F: FnOnce(&Library) -> Result<(), LibraryError> + Send + 'static,
    {
        self.change_then_tell(
            change,
            |library| Ok((library.sessions()?, library.current_session())),
            |(sessions, current)| Event::Sessions { sessions, current },
        );
    }

    /// Changes the library off the UI thread, then reads what it now holds and tells it
    /// as the event `tell` makes (or the failure, in words).
    pub(crate) fn change_then_tell<F, T>(
        &self,
        change: F,
        read: fn(&Library) -> Result<T, LibraryError>,
        tell: fn(T) -> Event,
    ) where
        F: FnOnce(&Library) -> Result<(), LibraryError> + Send + 'static,
        T: Send + 'static,
    {
        let inner = self.inner.clone();
        self.spawn_write(async move {
            let result = inner
                .blocking(move |lib: &Inner| {
                    let library = &lib.library;
                    change(library).map_err(|e| e.to_string())?;
                    read(library).map_err(|e| e.to_string())
                })
                .await;
            inner.emit(match result {
                Ok(value) => tell(value),
                Err(message) => Event::LibraryFailed { message },
            });
        });
    }

    /// Writes the settings to the data folder; `Event::SettingsFailed` follows on error.
    pub fn save_settings(&self, settings: crate::settings::Settings) {
        let inner = self.inner.clone();
        if let Ok(mut pending) = inner.settings_pending.lock() {
            *pending = Some(settings);
        }
        self.spawn(async move {
            let result = inner
                .blocking(|lib| lib.write_pending_settings().map_err(|e| e.to_string()))
                .await;
            if let Err(message) = result {
                tracing::error!("{message}");
                inner.emit(Event::SettingsFailed { message });
            }
        });
    }

    /// Reads the lineage tree of an image.
    pub fn load_lineage(&self, image: ImageId) -> LineageAnswer {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn(async move {
            let result = inner
                .run_blocking(move |lib| lib.library.lineage(image))
                .await;
            reply.send(result.map(Arc::new));
        });
        answer
    }

    /// Saves images into a folder with file names from a template, never overwriting.
    /// One failure does not stop the rest. Stopping the engine waits for it.
    pub fn export_images(
        &self,
        images: Vec<ImageId>,
        dir: PathBuf,
        options: ExportOptions,
    ) -> Answer<ExportedMany> {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        let asked = images.clone();
        self.spawn_write(async move {
            let folder = dir.clone();
            let result = inner
                .run_blocking(move |lib| {
                    let mut saved = Vec::new();
                    let mut failed = Vec::new();
                    for image in images {
                        match export_image(&lib.library, image, &folder, &options) {
                            Ok(path) => saved.push(path),
                            Err(e) => {
                                tracing::warn!(image, "could not export: {e}");
                                failed.push((image, TaskError::from(e)));
                            }
                        }
                    }
                    Ok::<_, TaskError>((saved, failed))
                })
                .await;
            reply.send(match result {
                Ok((saved, failed)) => ExportedMany { dir, saved, failed },
                // The whole batch failed (the worker died): every image says why.
                Err(e) => ExportedMany {
                    dir,
                    saved: Vec::new(),
                    failed: asked.into_iter().map(|i| (i, e.clone())).collect(),
                },
            });
        });
        answer
    }
}

/// What "Save selected to folder..." did.
#[derive(Clone, Debug)]
pub struct ExportedMany {
    /// The folder.
    pub dir: PathBuf,
    /// The files written, in the order asked.
    pub saved: Vec<PathBuf>,
    /// Images that could not be saved, with the reason.
    pub failed: Vec<(ImageId, TaskError)>,
}

impl Inner {
    /// Writes the newest settings asked for, if any are waiting. The lock is held while
    /// writing, so an older save can never land after a newer one.
    pub(super) fn write_pending_settings(&self) -> Result<(), crate::settings::SettingsError> {
        let mut pending = self
            .settings_pending
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match pending.take() {
            Some(settings) => settings.save(self.library.root()),
            None => Ok(()),
        }
    }
}
