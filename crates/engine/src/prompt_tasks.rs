//! The prompt library for the window: read it, keep an item, forget one. Each change
//! is followed by `Event::PromptLibrary` with the whole library as it now is.

use banana_core::recipe::compose::{BrandKit, ReferenceSet, SavedPrompt, Style, Template};
use banana_library::prompts::{Origin, PromptItem, PromptKind};
use banana_library::{Library, LibraryError};

use std::path::PathBuf;

use super::{Answer, Engine, Event, prompt_library_file};

/// Every item of the prompt library, bundled ones first in each kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PromptLibrary {
    /// Templates with their origin.
    pub templates: Vec<(Template, Origin)>,
    /// Styles with their origin.
    pub styles: Vec<(Style, Origin)>,
    /// Brand kits.
    pub brands: Vec<(BrandKit, Origin)>,
    /// Saved prompts.
    pub saved: Vec<(SavedPrompt, Origin)>,
    /// Reference sets.
    pub sets: Vec<(ReferenceSet, Origin)>,
}

impl PromptLibrary {
    fn read(library: &Library) -> Result<Self, LibraryError> {
        Ok(Self {
            templates: library.prompt_items()?,
            styles: library.prompt_items()?,
            brands: library.prompt_items()?,
            saved: library.prompt_items()?,
            sets: library.prompt_items()?,
        })
    }
}

impl Engine {
    /// Reads the prompt library; `Event::PromptLibrary` follows.
    pub fn load_prompt_library(&self) {
        self.prompt_task(|_| Ok(()));
    }

    /// Keeps an item under its name (replacing one of that kind and name).
    pub fn save_prompt_item<T: PromptItem + Send + 'static>(&self, item: T) {
        self.prompt_task(move |library| library.save_prompt_item(&item));
    }

    /// Forgets the user's item of a kind and name.
    pub fn delete_prompt_item(&self, kind: PromptKind, name: String) {
        self.prompt_task(move |library| library.delete_prompt_item(kind, &name).map(|_| ()));
    }

    /// Writes the user's prompt library, pictures included, to a JSON file; Ok says
    /// what was written, in words.
    pub fn export_prompt_library(&self, path: PathBuf) -> Answer<Result<String, String>> {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn_write(async move {
            let done = inner
                .blocking(move |lib| prompt_library_file::export(&lib.library, &path))
                .await;
            reply.send(done);
        });
        answer
    }

    /// Reads a prompt-library file into the library (nothing is kept when any part is
    /// wrong); Ok says what came in, in words. `Event::PromptLibrary` follows.
    pub fn import_prompt_library(&self, path: PathBuf) -> Answer<Result<String, String>> {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn_write(async move {
            let done = inner
                .blocking(move |lib| prompt_library_file::import(&lib.library, &path))
                .await;
            if done.is_ok()
                && let Ok(now) = inner
                    .blocking(|lib| PromptLibrary::read(&lib.library).map_err(|e| e.to_string()))
                    .await
            {
                inner.emit(Event::PromptLibrary(Box::new(now)));
            }
            reply.send(done);
        });
        answer
    }

    fn prompt_task<F>(&self, change: F)
    where
        F: FnOnce(&Library) -> Result<(), LibraryError> + Send + 'static,
    {
        self.change_then_tell(change, PromptLibrary::read, |library| {
            Event::PromptLibrary(Box::new(library))
        });
    }
}
