//! The engine's library work: history pages, decoded pixels, comparisons, culling and
//! exports, each on a blocking thread. Reads and exports answer the asker through an
//! [`Answer`]; culling changes are news (`Event::LibraryChanged`).

use std::path::PathBuf;
use std::sync::Arc;

use super::{
    ComparisonAnswer, Engine, Event, ExportAnswer, HistoryAnswer, PixelsAnswer, TaskError,
};
use banana_imaging::{self as imaging, Rgba};
use banana_library::{HistoryQuery, ImageId, Library, LibraryError, Mark};

impl Engine {
    /// Reads a page of history. Reads run side by side; the asker keeps the answer of
    /// the newest request, so an older page can never replace a newer one.
    pub fn load_history(&self, query: HistoryQuery) -> HistoryAnswer {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn(async move {
            let result = inner
                .run_blocking(move |lib| lib.library.generations(&query))
                .await;
            if let Err(e) = &result {
                tracing::warn!("history could not be read: {e}");
            }
            reply.send(result);
        });
        answer
    }

    fn load_pixels(&self, image: ImageId, size: Pixels) -> PixelsAnswer {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        let gate = match size {
            Pixels::Thumbnail => inner.thumb_gate.clone(),
            Pixels::Fitted(_) | Pixels::Full => inner.view_gate.clone(),
        };
        self.spawn(async move {
            if size == Pixels::Thumbnail {
                // One still being made after its job is waited for, not made twice.
                super::thumbs::wait_for(&inner, image).await;
            }
            let _turn = gate.acquire_owned().await;
            if !reply.wanted() {
                return;
            }
            let result = inner
                .run_blocking(move |lib| {
                    let record = lib
                        .library
                        .image(image)?
                        .ok_or(TaskError::Missing("the image"))?;
                    let read = || {
                        std::fs::read(&record.path).map_err(|e| TaskError::read(&record.path, e))
                    };
                    let img = match size {
                        Pixels::Thumbnail => thumbnail_or_remade(&lib.library, &record)?,
                        Pixels::Fitted(side) => imaging::decode_fitted(&read()?, side)?,
                        Pixels::Full => imaging::decode(&read()?)?,
                    };
                    Ok::<_, TaskError>(Arc::new(Rgba::from(img)))
                })
                .await;
            reply.send(result);
        });
        answer
    }

    /// Decodes a thumbnail off the UI thread.
    pub fn load_thumbnail(&self, image: ImageId) -> PixelsAnswer {
        self.load_pixels(image, Pixels::Thumbnail)
    }

    /// Decodes a full image off the UI thread.
    pub fn load_image(&self, image: ImageId) -> PixelsAnswer {
        self.load_pixels(image, Pixels::Full)
    }

    /// Decodes an image off the UI thread at most `max_side` pixels on its long side
    /// (the whole image where it is no larger): what a view of that size shows.
    pub fn load_image_fitted(&self, image: ImageId, max_side: u32) -> PixelsAnswer {
        self.load_pixels(image, Pixels::Fitted(max_side))
    }

    /// Compares an image with its parent (or, for an edit, its first input) off the UI
    /// thread.
    pub fn load_comparison(&self, image: ImageId) -> ComparisonAnswer {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn(async move {
            let result = inner
                .run_blocking(move |lib| compare_with_origin(&lib.library, image))
                .await;
            reply.send(result.map(Arc::new));
        });
        answer
    }

    /// Runs a library change after those asked for before it; `reload` says whether the
    /// gallery must read history again (a mark is already shown by the app; trash changes
    /// what is listed).
    fn library_task<F>(&self, reload: bool, work: F)
    where
        F: FnOnce(&Library) -> Result<Option<String>, LibraryError> + Send + 'static,
    {
        let inner = self.inner.clone();
        let mut turn = inner.culling.join();
        self.spawn_write(async move {
            turn.wait().await;
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

    /// Saves an image to `path` with its recipe (unless `embed_metadata` is off),
    /// converting when the extension names another format. Answers with the path
    /// written. Stopping the engine waits for it.
    pub fn export_image(
        &self,
        image: ImageId,
        path: PathBuf,
        embed_metadata: bool,
    ) -> ExportAnswer {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn_write(async move {
            let result = inner
                .run_blocking(move |lib| {
                    banana_library::export::save_image_as(
                        &lib.library,
                        image,
                        &path,
                        embed_metadata,
                    )
                })
                .await;
            if let Err(e) = &result {
                tracing::warn!(image, "could not export: {e}");
            }
            reply.send(result);
        });
        answer
    }
}

/// The pixels asked of an image.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pixels {
    /// Its thumbnail (remade from the image when lost).
    Thumbnail,
    /// At most this many pixels on the long side.
    Fitted(u32),
    /// Every pixel.
    Full,
}

/// An image compared with what it came from.
#[derive(Clone, Debug)]
pub struct Compared {
    /// What it is compared with, in words ("its parent", "input 1").
    pub against: String,
    /// Before, heatmap and the share of changed pixels.
    pub comparison: imaging::Comparison,
}

/// What an image came from, decoded, and the comparison with it.
fn compare_with_origin(library: &Library, image: ImageId) -> Result<Compared, TaskError> {
    let record = library
        .image(image)?
        .ok_or(TaskError::Missing("the image"))?;
    let job = library
        .job(record.job_id)?
        .ok_or(TaskError::Missing("its job"))?;
    let (against, before_bytes) = if let Some(parent) = job.parent_image_id {
        let parent_record = library
            .image(parent)?
            .ok_or(TaskError::Missing("its parent image"))?;
        let bytes = std::fs::read(&parent_record.path)
            .map_err(|e| TaskError::read(&parent_record.path, e))?;
        ("its parent".to_owned(), bytes)
    } else if let Some(input) = job.recipe.inputs.first() {
        ("input 1".to_owned(), library.read_input(input)?)
    } else {
        return Err(TaskError::NothingToCompare);
    };
    let after = std::fs::read(&record.path).map_err(|e| TaskError::read(&record.path, e))?;
    let after = imaging::decode(&after)?;
    let before = imaging::decode(&before_bytes)?;
    Ok(Compared {
        against,
        comparison: imaging::compare(&before, &after),
    })
}

/// A full check of the library under way: its progress now, and its answer.
pub struct LibraryCheck {
    /// Steps done and in all.
    pub progress: Arc<banana_library::CheckProgress>,
    /// The report, once the check is done.
    pub answer: super::CheckAnswer,
}

impl Engine {
    /// Checks the whole library (the database's pages, every image file against its
    /// hash; missing thumbnails made again) off the UI thread, with progress.
    pub fn check_library(&self) -> LibraryCheck {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        let progress = Arc::new(banana_library::CheckProgress::default());
        let counting = progress.clone();
        self.spawn(async move {
            let result = inner
                .run_blocking(move |lib| lib.library.check(&counting))
                .await;
            match &result {
                Ok(report) if report.is_sound() => tracing::info!("{}", report.summary()),
                Ok(report) => tracing::warn!("{}", report.summary()),
                Err(e) => tracing::warn!("the library could not be checked: {e}"),
            }
            reply.send(result);
        });
        LibraryCheck { progress, answer }
    }
}

/// An image's thumbnail; one lost or unreadable (a power cut while it was written, a
/// folder tidied by hand) is made again from the image and kept.
fn thumbnail_or_remade(
    library: &Library,
    record: &banana_library::ImageRecord,
) -> Result<image::DynamicImage, TaskError> {
    if let Some(img) = std::fs::read(&record.thumb_path)
        .ok()
        .and_then(|bytes| imaging::decode(&bytes).ok())
    {
        return Ok(img);
    }
    let bytes = std::fs::read(&record.path).map_err(|e| TaskError::read(&record.path, e))?;
    // One pass over the rows, as after a job: no full-size copy of the pixels.
    let png = imaging::inspect(&bytes)?.thumb_png;
    if record.deleted_at_ms.is_none() {
        match library.put_thumbnail(&record.sha256, &png) {
            Ok(_) => tracing::info!("a lost thumbnail was made again from its image"),
            Err(e) => tracing::warn!("a thumbnail made again could not be kept: {e}"),
        }
    }
    Ok(imaging::decode(&png)?)
}
