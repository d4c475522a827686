//! Storing a job's results: the images of a job are checked, converted, hashed, written
//! and (unless kept as PNG, see `thumbs`) thumbnailed in parallel, then recorded in one
//! transaction.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::Inner;
use banana_core::recipe::{OutputFormat, Recipe};
use banana_imaging as imaging;
use banana_library::incoming::Arrived;
use banana_library::{Generation, JobCost, JobId, NewImage};
use banana_providers::{GenerateOutput, OutputImage, TurnPart};

/// Runs `work` on every item on up to `threads` threads and returns the results in the
/// items' order.
fn parallel_map_on<T, R, F>(items: &[T], threads: usize, work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    if items.len() <= 1 {
        return items.iter().map(work).collect();
    }
    let threads = threads.max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.min(items.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = work(item);
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Files of one job written at once, at most.
const MAX_WRITERS: usize = 16;

/// An image checked before anything is written: its size, thumbnail, and its bytes in
/// the recipe's format when the service sent another. The full decode is dropped here.
/// A PNG kept as sent is checked by its structure and has no thumbnail yet: that is
/// made after the job is recorded (see `thumbs`).
pub(super) struct Checked {
    converted: Option<Vec<u8>>,
    width: u32,
    height: u32,
    thumb: Option<Vec<u8>>,
}

pub(super) enum CheckError {
    /// The service's bad answer, in words.
    Unreadable(String),
    /// A failure on this machine.
    Local(String),
}

fn check(image: &OutputImage, format: OutputFormat) -> Result<Checked, CheckError> {
    let actual = imaging::sniff_mime(&image.bytes).and_then(OutputFormat::from_mime);
    if actual == Some(format) {
        // Kept as sent. A PNG is checked by its structure; its thumbnail comes after the
        // job is recorded (see `thumbs`).
        if let Some(structure) = imaging::png_structure(&image.bytes) {
            let (width, height) = structure.map_err(|e| CheckError::Unreadable(e.to_string()))?;
            return Ok(Checked {
                converted: None,
                width,
                height,
                thumb: None,
            });
        }
        // Others are checked and thumbnailed in one pass, without a full-size copy of
        // the pixels where the format allows.
        let inspected = imaging::inspect(&image.bytes).map_err(|e| match e {
            imaging::ImagingError::Encode(e) => CheckError::Local(e),
            e => CheckError::Unreadable(e.to_string()),
        })?;
        return Ok(Checked {
            converted: None,
            width: inspected.width,
            height: inspected.height,
            thumb: Some(inspected.thumb_png),
        });
    }
    let decoded =
        imaging::decode(&image.bytes).map_err(|e| CheckError::Unreadable(e.to_string()))?;
    let converted =
        Some(imaging::encode(&decoded, format).map_err(|e| CheckError::Local(e.to_string()))?);
    let thumb = imaging::thumbnail_png(&decoded).map_err(|e| CheckError::Local(e.to_string()))?;
    Ok(Checked {
        converted,
        width: decoded.width(),
        height: decoded.height(),
        thumb: Some(thumb),
    })
}

/// An image checked, its file and thumbnail written: the file's hash and path, and its
/// size in bytes.
pub(super) type Prepared = (Checked, (String, std::path::PathBuf), u64);

/// Checks `image`, then hashes, writes and syncs its file (converted to `format` where
/// the service sent another) and its thumbnail. A damaged image is found before its file
/// is written; files of its siblings written by then are unreferenced and go with the
/// next orphan collection.
fn prepare(
    inner: &Inner,
    image: &OutputImage,
    format: OutputFormat,
    masked: Option<&Masked>,
    core: Option<tokio::sync::OwnedSemaphorePermit>,
) -> Result<Prepared, CheckError> {
    let checked = match masked {
        Some(masked) => composite(image, format, masked)?,
        None => check(image, format)?,
    };
    // The decoding is done: the core goes to the next image while this one is written.
    drop(core);
    let bytes = checked.converted.as_deref().unwrap_or(&image.bytes);
    let size = bytes.len() as u64;
    // Bytes kept as sent were written as they arrived, when the call had a spool.
    let arrived = image
        .spooled
        .as_ref()
        .and_then(|s| s.get::<Arrived>())
        .filter(|a| checked.converted.is_none() && a.bytes() == Some(size));
    // Where that file cannot be kept, the bytes are written again from memory.
    let adopted = arrived.and_then(|a| {
        inner
            .library
            .adopt_image_file(a, format.mime())
            .inspect_err(|e| {
                tracing::warn!("a picture written as it arrived is written again ({e})");
            })
            .ok()
            .flatten()
    });
    let written = adopted
        .map_or_else(|| inner.library.put_image_file(bytes, format.mime()), Ok)
        .and_then(|(sha256, path)| {
            if let Some(thumb) = &checked.thumb {
                inner.library.put_thumbnail(&sha256, thumb)?;
            }
            Ok((sha256, path))
        })
        .map_err(|e| CheckError::Local(e.to_string()))?;
    Ok((checked, written, size))
}

/// A masked edit's original and its feathered mask, read once for the job.
pub(super) struct Masked {
    /// The first input, decoded.
    pub original: image::RgbaImage,
    /// The mask at the original's size, feathered.
    pub mask: image::GrayImage,
}

/// The answer of a masked edit put back into the original: the original's size, and
/// outside the feathered mask the original's pixels exactly.
fn composite(
    image: &OutputImage,
    format: OutputFormat,
    masked: &Masked,
) -> Result<Checked, CheckError> {
    let answer =
        imaging::decode(&image.bytes).map_err(|e| CheckError::Unreadable(e.to_string()))?;
    let out = imaging::mask::composite(&masked.original, &answer, &masked.mask)
        .map_err(|e| CheckError::Local(e.to_string()))?;
    let out = image::DynamicImage::ImageRgba8(out);
    let converted =
        Some(imaging::encode(&out, format).map_err(|e| CheckError::Local(e.to_string()))?);
    let thumb = imaging::thumbnail_png(&out).map_err(|e| CheckError::Local(e.to_string()))?;
    Ok(Checked {
        converted,
        width: out.width(),
        height: out.height(),
        thumb: Some(thumb),
    })
}

/// Work started on an image's shared bytes.
type Started = (
    Arc<Vec<u8>>,
    tokio::task::JoinHandle<Result<Result<Prepared, CheckError>, tokio::task::JoinError>>,
);

/// The images of a job being prepared as they arrive, before the job's other requests
/// are back. Each is known by its shared bytes, held here so that their address stays
/// theirs.
#[derive(Default)]
pub(super) struct Early(Mutex<Vec<Started>>);

/// An image's shared bytes and what was made of them.
type Finished = (Arc<Vec<u8>>, Result<Prepared, CheckError>);

/// What [`Early`] prepared, by the address of the image's bytes.
#[derive(Default)]
pub(super) struct EarlyDone(HashMap<usize, Finished>);

impl EarlyDone {
    /// What was prepared for `image`, once.
    fn take(&mut self, image: &OutputImage) -> Option<Result<Prepared, CheckError>> {
        let key = Arc::as_ptr(&image.bytes) as usize;
        match self.0.remove(&key) {
            Some((bytes, result)) if Arc::ptr_eq(&bytes, &image.bytes) => Some(result),
            _ => None,
        }
    }
}

impl Early {
    /// Starts preparing `image` on a blocking thread once a core is free for its check:
    /// images are decoded in the order they arrived, one a core, so the first ones are
    /// stored first instead of all of them sharing the cores and ending together.
    pub(super) fn start(
        &self,
        inner: &Arc<Inner>,
        image: &OutputImage,
        format: OutputFormat,
        masked: Option<Arc<Masked>>,
    ) {
        let bytes = image.bytes.clone();
        let image = image.clone();
        let inner = inner.clone();
        let ahead = inner.ahead_of_thumbs.begin();
        let work = tokio::spawn(async move {
            let _ahead = ahead;
            // The gate closes only with the engine; then the check goes on without it.
            let core = inner.check_gate.clone().acquire_owned().await.ok();
            tokio::task::spawn_blocking(move || {
                prepare(&inner, &image, format, masked.as_deref(), core)
            })
            .await
        });
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((bytes, work));
    }

    /// Waits for the work started.
    pub(super) async fn finish(&self) -> EarlyDone {
        let started = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        let mut done = HashMap::with_capacity(started.len());
        for (bytes, work) in started {
            // A panicked check is done again by `store`.
            if let Ok(Ok(result)) = work.await {
                done.insert(Arc::as_ptr(&bytes) as usize, (bytes, result));
            }
        }
        EarlyDone(done)
    }
}

/// Decodes each result safely, converts it to the recipe's format, stores file and
/// thumbnail, then records the images and the end state in one transaction. An image
/// that does not decode (damaged, or a decompression bomb) is the service's bad answer,
/// `Ok(Err(words))`, and nothing is stored; `Err` is a problem on this machine.
pub(super) fn store(
    inner: &Inner,
    job: JobId,
    recipe: &Recipe,
    output: GenerateOutput,
    cost: JobCost,
    early: EarlyDone,
    masked: Option<Arc<Masked>>,
) -> Result<Result<Generation, String>, String> {
    let mime = recipe.format.mime();
    // Images the provider told of early were prepared as they arrived; the rest now, all
    // at once: twice as many threads as cores, so one file's sync overlaps another's
    // decoding (a check holds a few rows, not the picture).
    let mut early = early;
    let mut prepared: Vec<Option<Result<Prepared, CheckError>>> = output
        .images
        .iter()
        .map(|image| early.take(image))
        .collect();
    drop(early);
    let missing: Vec<usize> = (0..prepared.len())
        .filter(|i| prepared[*i].is_none())
        .collect();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let threads = (cores * 2).min(MAX_WRITERS);
    let late = parallel_map_on(&missing, threads, |i| {
        prepare(
            inner,
            &output.images[*i],
            recipe.format,
            masked.as_deref(),
            None,
        )
    });
    for (i, result) in missing.into_iter().zip(late) {
        prepared[i] = Some(result);
    }
    let prepared = prepared.into_iter().flatten();
    let mut ready = Vec::with_capacity(output.images.len());
    for (i, result) in prepared.into_iter().enumerate() {
        match result {
            Ok(c) => ready.push(c),
            Err(CheckError::Unreadable(e)) => {
                return Ok(Err(format!(
                    "the service sent an image this app cannot read (image {} of the answer: {e})",
                    i + 1
                )));
            }
            Err(CheckError::Local(e)) => return Err(e),
        }
    }
    let mut images = Vec::with_capacity(ready.len());
    // The paths of files that hold the bytes exactly as sent become the turn pictures'
    // hard links.
    let mut as_sent = Vec::with_capacity(ready.len());
    for (i, (checked, (sha256, path), size_bytes)) in ready.iter().enumerate() {
        as_sent.push(
            checked
                .converted
                .is_none()
                .then(|| (path.clone(), sha256.clone())),
        );
        images.push(NewImage {
            turn_index: output.image_turns.get(i).copied().unwrap_or(0) as u32,
            sha256: sha256.clone(),
            mime: mime.to_owned(),
            width: checked.width,
            height: checked.height,
            size_bytes: *size_bytes,
        });
    }
    drop(ready);
    // The pictures of each model turn are stored once; the turn keeps their hashes.
    let mut model_turns = output.model_turns;
    let mut parts = Vec::new();
    for (t, turn) in model_turns.iter_mut().enumerate() {
        let lifted = output
            .turn_parts
            .get(t)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut shas = Vec::with_capacity(lifted.len());
        for part in lifted {
            let (bytes, same_file) = match part {
                TurnPart::Image(i) => (
                    output
                        .images
                        .get(*i)
                        .map(|im| im.bytes.as_slice())
                        .unwrap_or_default(),
                    as_sent.get(*i).and_then(Option::as_ref),
                ),
                TurnPart::Other(bytes) => (bytes.as_slice(), None),
            };
            // A picture kept as sent is its image file: its hash is known already.
            let sha = match same_file {
                Some((_, sha)) => sha.clone(),
                None => banana_library::store::sha256_hex(bytes),
            };
            let sha = inner
                .library
                .put_turn_part(&sha, bytes, same_file.map(|(path, _)| path.as_path()))
                .map_err(|e| e.to_string())?;
            shas.push(sha);
        }
        banana_core::turn_parts::seal(turn, &shas)?;
        parts.extend(shas);
    }
    let turns = serde_json::to_string(&model_turns).ok();
    inner
        .library
        .complete_job(
            job,
            &images,
            output.text.as_deref(),
            turns.as_deref(),
            &parts,
            cost,
        )
        .map_err(|e| e.to_string())?;
    inner
        .library
        .generation(job)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the stored job vanished".to_owned())
        .map(Ok)
}
