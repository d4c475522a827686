//! The engine's library work: history pages, decoded pixels, comparisons, culling and
//! exports, each on a blocking thread with its answer as an event.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Engine, Event};
use banana_imaging::{self as imaging, Rgba};
use banana_library::{HistoryQuery, ImageId, Library, LibraryError, Mark};

impl Engine {
    /// Reads a page of history; `Event::History` follows, carrying the number returned
    /// here. Reads run side by side and may answer out of order: the number tells which
    /// answer is the newest.
    pub fn load_history(&self, query: HistoryQuery) -> u64 {
        let request = self
            .inner
            .history_requests
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let inner = self.inner.clone();
        self.spawn(async move {
            let q = query.clone();
            let result = inner
                .blocking(move |lib| lib.library.generations(&q).map_err(|e| e.to_string()))
                .await;
            inner.emit(match result {
                Ok(generations) => Event::History {
                    request,
                    query,
                    generations,
                },
                Err(message) => Event::HistoryFailed { message },
            });
        });
        request
    }

    fn load_pixels(&self, image: ImageId, thumbnail: bool) {
        let inner = self.inner.clone();
        self.spawn(async move {
            let result = inner
                .blocking(move |lib| {
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
                    Ok(Arc::new(Rgba::from(img)))
                })
                .await;
            inner.emit(match result {
                Ok(pixels) if thumbnail => Event::Thumbnail { image, pixels },
                Ok(pixels) => Event::Image { image, pixels },
                Err(message) => Event::ImageFailed { image, message },
            });
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
            let result = inner
                .blocking(move |lib| compare_with_origin(&lib.library, image))
                .await;
            let (against, result) = match result {
                Ok((against, c)) => (against, Ok(Arc::new(c))),
                Err(message) => (String::new(), Err(message)),
            };
            inner.emit(Event::Comparison {
                image,
                against,
                result,
            });
        });
    }

    /// Runs a library change; `reload` says whether the gallery must read history again
    /// (a mark is already shown by the app; trash changes what is listed).
    fn library_task<F>(&self, reload: bool, work: F)
    where
        F: FnOnce(&Library) -> Result<Option<String>, LibraryError> + Send + 'static,
    {
        let inner = self.inner.clone();
        self.spawn_write(async move {
            let result = inner
                .blocking(move |lib| work(&lib.library).map_err(|e| e.to_string()))
                .await;
            inner.emit(match result {
                Ok(message) => Event::LibraryChanged { message, reload },
                Err(message) => Event::LibraryFailed { message },
            });
        });
    }

    /// Rates, picks, rejects or favourites an image.
    pub fn mark(&self, image: ImageId, mark: Mark) {
        self.library_task(false, move |lib| lib.mark(image, mark).map(|()| None));
    }

    /// Moves images to the library's trash (undo with [`Self::restore`]).
    pub fn trash(&self, images: Vec<ImageId>) {
        self.library_task(true, move |lib| lib.trash(&images).map(|()| None));
    }

    /// Brings trashed images back.
    pub fn restore(&self, images: Vec<ImageId>) {
        self.library_task(true, move |lib| lib.restore(&images).map(|()| None));
    }

    /// Deletes the trash for good.
    pub fn empty_trash(&self) {
        self.library_task(true, |lib| {
            lib.empty_trash()
                .map(|n| Some(format!("Emptied the trash: {n} images deleted for good")))
        });
    }

    /// Saves an image to `path` with its recipe (unless `embed_metadata` is off), converting when the extension names
    /// another format; `Event::Exported` follows.
    pub fn export_image(&self, image: ImageId, path: PathBuf, embed_metadata: bool) {
        let inner = self.inner.clone();
        self.spawn_write(async move {
            let result = inner
                .blocking(move |lib| {
                    banana_library::export::save_image_as(
                        &lib.library,
                        image,
                        &path,
                        embed_metadata,
                    )
                    .map_err(|e| e.to_string())
                })
                .await;
            inner.emit(match result {
                Ok(path) => Event::Exported { image, path },
                Err(message) => Event::ExportFailed { image, message },
            });
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
