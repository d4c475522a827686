//! Input images: read, checked and prepared off the UI thread, then stored by content.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Event, Inner};
use banana_core::recipe::{InputImage, OutputFormat};
use banana_imaging::{self as imaging, DEFAULT_MAX_SIDE_PX, MAX_INPUT_BYTES, Rgba};
use banana_library::ImageId;

/// Where an input comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum InputSource {
    /// A file on disk (Open…, a drop, a pasted path, `--input`).
    File(PathBuf),
    /// Pixels from the clipboard.
    Pixels {
        /// A name for messages ("pasted image").
        name: String,
        /// The pixels.
        pixels: Arc<Rgba>,
    },
    /// A stored result ("Use as input").
    Stored(ImageId),
}

/// A prepared input with a small preview for the input tray.
#[derive(Clone, Debug)]
pub struct AddedInput {
    /// The input as a recipe refers to it.
    pub input: InputImage,
    /// The name the user knows it by.
    pub name: String,
    /// A small preview.
    pub preview: Arc<Rgba>,
    /// Whether it was scaled down to the provider's limit.
    pub downscaled: bool,
    /// The recipe the file carries, when it is a Banana Studio export.
    pub recipe: Option<banana_core::recipe::Recipe>,
}

/// The longest side of an input preview.
const PREVIEW_SIDE_PX: u32 = 96;

fn read_source(inner: &Inner, source: &InputSource) -> Result<(String, Vec<u8>), String> {
    match source {
        InputSource::File(path) => {
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let len = std::fs::metadata(path)
                .map_err(|e| format!("{name}: cannot be opened ({e})"))?
                .len();
            if len > MAX_INPUT_BYTES as u64 {
                return Err(format!("{name}: {}", imaging::too_large_message(len)));
            }
            let bytes = std::fs::read(path).map_err(|e| format!("{name}: cannot be read ({e})"))?;
            Ok((name, bytes))
        }
        InputSource::Pixels { name, pixels } => {
            let img =
                image::RgbaImage::from_raw(pixels.width, pixels.height, pixels.pixels.clone())
                    .ok_or_else(|| format!("{name}: the pasted pixels are incomplete"))?;
            let png = imaging::encode(&image::DynamicImage::ImageRgba8(img), OutputFormat::Png)
                .map_err(|e| format!("{name}: {e}"))?;
            Ok((name.clone(), png))
        }
        InputSource::Stored(id) => {
            let record = inner
                .library
                .image(*id)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("image {id} is not in the history"))?;
            let bytes = std::fs::read(&record.path)
                .map_err(|e| format!("image {id} cannot be read ({e})"))?;
            Ok((format!("image {id}"), bytes))
        }
    }
}

/// An input read and checked, not yet stored.
pub(super) struct Prepared {
    name: String,
    original: Vec<u8>,
    from_file: bool,
    prepared: imaging::PreparedInput,
}

/// Reads and checks one input (decoded, upright, bounded); nothing is written.
pub(super) fn prepare_one(inner: &Inner, source: &InputSource) -> Result<Prepared, String> {
    let (name, bytes) = read_source(inner, source)?;
    let prepared =
        imaging::prepare_input(&name, &bytes, DEFAULT_MAX_SIDE_PX).map_err(|e| e.to_string())?;
    Ok(Prepared {
        name,
        original: bytes,
        from_file: matches!(source, InputSource::File(_)),
        prepared,
    })
}

/// Stores a checked input in the library.
pub(super) fn store_one(inner: &Inner, input: Prepared) -> Result<AddedInput, String> {
    let Prepared {
        name,
        original,
        from_file,
        prepared,
    } = input;
    let sha256 = inner
        .library
        .put_input_file(&prepared.bytes, prepared.mime)
        .map_err(|e| format!("{name}: {e}"))?;
    if original != prepared.bytes
        && let Some(mime) = imaging::sniff_mime(&original)
    {
        // The file as it came, for a masked edit to put the answer back into; a failure
        // here costs only that, so the input is still added.
        let kept = imaging::dimensions(&original).ok().and_then(|(w, h)| {
            let sha = inner.library.put_input_file(&original, mime).ok()?;
            Some(InputImage {
                sha256: sha,
                mime: mime.to_owned(),
                width: w,
                height: h,
            })
        });
        match kept {
            Some(kept) => {
                if let Err(e) = inner.library.record_input_original(&sha256, &kept) {
                    tracing::warn!("{name}: the original could not be recorded ({e})");
                }
            }
            None => tracing::warn!("{name}: the original file could not be kept"),
        }
    }
    let preview = preview_of(&prepared.bytes).map_err(|e| format!("{name}: {e}"))?;
    let recipe = if from_file {
        banana_library::export::recipe_from_export(&inner.library, &original)
    } else {
        None
    };
    Ok(AddedInput {
        input: InputImage {
            sha256,
            mime: prepared.mime.to_owned(),
            width: prepared.width,
            height: prepared.height,
        },
        name,
        preview: Arc::new(preview),
        downscaled: prepared.downscaled,
        recipe,
    })
}

/// Prepares and stores one input.
pub(super) fn add_one(inner: &Inner, source: &InputSource) -> Result<AddedInput, String> {
    store_one(inner, prepare_one(inner, source)?)
}

/// Checks every source first and stores them only when all pass, so a refused set
/// leaves nothing behind in `inputs/`.
pub(super) fn add_all_or_none(
    inner: &Inner,
    sources: &[InputSource],
) -> Result<Vec<AddedInput>, Vec<String>> {
    let mut prepared = Vec::with_capacity(sources.len());
    let mut errors = Vec::new();
    for source in sources {
        match prepare_one(inner, source) {
            Ok(p) => prepared.push(p),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    prepared
        .into_iter()
        .map(|p| store_one(inner, p))
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| vec![e])
}

fn preview_of(bytes: &[u8]) -> Result<Rgba, imaging::ImagingError> {
    let img = imaging::decode(bytes)?;
    Ok(Rgba::from(img.thumbnail(PREVIEW_SIDE_PX, PREVIEW_SIDE_PX)))
}

/// The preview of an input already stored (after a restart).
pub(super) fn preview(inner: &Inner, input: &InputImage) -> Result<Rgba, crate::TaskError> {
    let bytes = inner.library.read_input(input)?;
    Ok(preview_of(&bytes)?)
}

/// Prepares every source; failures are reported one by one, the rest still added.
pub(super) fn add_all(inner: &Inner, sources: &[InputSource]) -> Event {
    let mut added = Vec::new();
    let mut errors = Vec::new();
    for source in sources {
        match add_one(inner, source) {
            Ok(input) => added.push(input),
            Err(message) => {
                tracing::warn!("input refused: {message}");
                errors.push(message);
            }
        }
    }
    Event::InputsAdded { added, errors }
}
