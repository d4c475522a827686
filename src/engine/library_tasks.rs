//! The engine's library work: history pages, decoded pixels, comparisons, culling and
//! exports, each on a blocking thread with its answer as an event.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Engine, Event};
use crate::imaging::{self, Rgba};
use crate::library::{HistoryQuery, ImageId, Library, LibraryError, Mark};
use crate::recipe::OutputFormat;

impl Engine {
    /// Reads a page of history; `Event::History` follows.
    pub fn load_history(&self, query: HistoryQuery) {
        let inner = self.inner.clone();
        self.spawn(async move {
            let lib = inner.clone();
            let q = query.clone();
            let result = tokio::task::spawn_blocking(move || lib.library.generations(&q)).await;
            match result {
                Ok(Ok(generations)) => inner.emit(Event::History { query, generations }),
                Ok(Err(e)) => inner.emit(Event::HistoryFailed {
                    message: e.to_string(),
                }),
                Err(e) => inner.emit(Event::HistoryFailed {
                    message: e.to_string(),
                }),
            }
        });
    }

    fn load_pixels(&self, image: ImageId, thumbnail: bool) {
        let inner = self.inner.clone();
        self.spawn(async move {
            let lib = inner.clone();
            let result = tokio::task::spawn_blocking(move || -> Result<Rgba, String> {
                let record = lib
                    .library
                    .image(image)
                    .map_err(|e| e.to_string())?
                    .ok_or("the image is not in the history")?;
                let path = if thumbnail {
                    &record.thumb_path
                } else {
                    &record.path
                };
                let bytes = std::fs::read(path)
                    .map_err(|e| format!("could not read {}: {e}", path.display()))?;
                let img = imaging::decode(&bytes).map_err(|e| e.to_string())?;
                Ok(Rgba::from(img))
            })
            .await;
            let event = match result {
                Ok(Ok(pixels)) if thumbnail => Event::Thumbnail {
                    image,
                    pixels: Arc::new(pixels),
                },
                Ok(Ok(pixels)) => Event::Image {
                    image,
                    pixels: Arc::new(pixels),
                },
                Ok(Err(message)) => Event::ImageFailed { image, message },
                Err(e) => Event::ImageFailed {
                    image,
                    message: e.to_string(),
                },
            };
            inner.emit(event);
        });
    }

    /// Decodes a thumbnail off the UI thread; `Event::Thumbnail` follows.
    pub fn load_thumbnail(&self, image: ImageId) {
        self.load_pixels(image, true);
    }

    /// Decodes a full image off the UI thread; `Event::Image` follows.
    pub fn load_image(&self, image: ImageId) {
        self.load_pixels(image, false);
    }

    /// Compares an image with its parent (or, for an edit, its first input) off the UI
    /// thread; `Event::Comparison` follows.
    pub fn load_comparison(&self, image: ImageId) {
        let inner = self.inner.clone();
        self.spawn(async move {
            let lib = inner.clone();
            let result =
                tokio::task::spawn_blocking(move || compare_with_origin(&lib.library, image)).await;
            let (against, result) = match result {
                Ok(Ok((against, c))) => (against, Ok(Arc::new(c))),
                Ok(Err(message)) => (String::new(), Err(message)),
                Err(e) => (String::new(), Err(e.to_string())),
            };
            inner.emit(Event::Comparison {
                image,
                against,
                result,
            });
        });
    }

    fn library_task<F>(&self, work: F)
    where
        F: FnOnce(&Library) -> Result<Option<String>, LibraryError> + Send + 'static,
    {
        let inner = self.inner.clone();
        self.spawn(async move {
            let lib = inner.clone();
            match tokio::task::spawn_blocking(move || work(&lib.library)).await {
                Ok(Ok(message)) => inner.emit(Event::LibraryChanged { message }),
                Ok(Err(e)) => inner.emit(Event::LibraryFailed {
                    message: e.to_string(),
                }),
                Err(e) => inner.emit(Event::LibraryFailed {
                    message: e.to_string(),
                }),
            }
        });
    }

    /// Rates, picks, rejects or favourites an image.
    pub fn mark(&self, image: ImageId, mark: Mark) {
        self.library_task(move |lib| lib.mark(image, mark).map(|()| None));
    }

    /// Moves images to the library's trash (undo with [`Self::restore`]).
    pub fn trash(&self, images: Vec<ImageId>) {
        self.library_task(move |lib| lib.trash(&images).map(|()| None));
    }

    /// Brings trashed images back.
    pub fn restore(&self, images: Vec<ImageId>) {
        self.library_task(move |lib| lib.restore(&images).map(|()| None));
    }

    /// Deletes the trash for good.
    pub fn empty_trash(&self) {
        self.library_task(|lib| {
            lib.empty_trash()
                .map(|n| Some(format!("Emptied the trash: {n} images deleted for good")))
        });
    }

    /// Saves an image to `path`, converting when the extension names another format.
    pub fn export_image(&self, image: ImageId, path: PathBuf) {
        let inner = self.inner.clone();
        self.spawn(async move {
            let lib = inner.clone();
            let target = path.clone();
            let result =
                tokio::task::spawn_blocking(move || export(&lib.library, image, &target)).await;
            match result {
                Ok(Ok(path)) => inner.emit(Event::Exported { image, path }),
                Ok(Err(message)) => inner.emit(Event::ExportFailed { image, message }),
                Err(e) => inner.emit(Event::ExportFailed {
                    image,
                    message: e.to_string(),
                }),
            }
        });
    }
}

/// What an image came from, decoded, and the comparison with it.
fn compare_with_origin(
    library: &Library,
    image: ImageId,
) -> Result<(String, imaging::Comparison), String> {
    let record = library
        .image(image)
        .map_err(|e| e.to_string())?
        .ok_or("the image is not in the history")?;
    let job = library
        .job(record.job_id)
        .map_err(|e| e.to_string())?
        .ok_or("its job is not in the history")?;
    let (against, before_bytes) = if let Some(parent) = job.parent_image_id {
        let parent_record = library
            .image(parent)
            .map_err(|e| e.to_string())?
            .ok_or("its parent image was deleted")?;
        let bytes = std::fs::read(&parent_record.path)
            .map_err(|e| format!("the parent image cannot be read: {e}"))?;
        (format!("parent image {parent}"), bytes)
    } else if let Some(input) = job.recipe.inputs.first() {
        let bytes = library.read_input(input).map_err(|e| e.to_string())?;
        ("input 1".to_owned(), bytes)
    } else {
        return Err("made from the prompt alone: there is no earlier image to compare with".into());
    };
    let after =
        std::fs::read(&record.path).map_err(|e| format!("the image cannot be read: {e}"))?;
    let after = imaging::decode(&after).map_err(|e| e.to_string())?;
    let before = imaging::decode(&before_bytes).map_err(|e| e.to_string())?;
    Ok((against, imaging::compare(&before, &after)))
}

fn export(library: &Library, image: ImageId, path: &Path) -> Result<PathBuf, String> {
    let record = library
        .image(image)
        .map_err(|e| e.to_string())?
        .ok_or("the image is not in the history")?;
    let bytes =
        std::fs::read(&record.path).map_err(|e| format!("could not read the stored image: {e}"))?;
    let own = OutputFormat::from_mime(&record.mime).unwrap_or(OutputFormat::Png);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let (path, bytes) = match OutputFormat::from_extension(ext) {
        Some(format) if format != own => (
            path.to_path_buf(),
            imaging::convert(&bytes, format).map_err(|e| e.to_string())?,
        ),
        Some(_) => (path.to_path_buf(), bytes),
        None => (path.with_extension(own.extension()), bytes),
    };
    // The recipe travels with the file, as in every export.
    let job = library
        .job(record.job_id)
        .map_err(|e| e.to_string())?
        .ok_or("its job is not in the history")?;
    let embedded = crate::library::export::embedded_for(&job, &record);
    let bytes = imaging::metadata::rewrite(&bytes, Some(&embedded)).map_err(|e| e.to_string())?;
    crate::library::store::write_atomic(&path, &bytes)
        .map_err(|e| format!("could not write {}: {e}", path.display()))?;
    Ok(path)
}
