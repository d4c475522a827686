//! Preparing a user's image as a model input: checked, upright, bounded, re-encoded
//! without metadata (GPS and the rest never leave the machine).

use image::{DynamicImage, GenericImageView};

use super::{ImagingError, decode, encode};
use banana_core::recipe::OutputFormat;

/// Largest input file accepted.
pub const MAX_INPUT_BYTES: usize = 50 * 1024 * 1024;

/// Largest input accepted, in pixels.
pub const MAX_INPUT_PIXELS: u64 = 100_000_000;

/// The longest side sent to a provider unless the catalog says otherwise.
pub const DEFAULT_MAX_SIDE_PX: u32 = 3072;

/// The words for a file that starts like an image but cannot be decoded.
const DAMAGED: &str = "is damaged or cut off; open it in an editor and save it again";

/// An input ready to send: re-encoded, metadata stripped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedInput {
    /// PNG when transparency matters, else JPEG.
    pub mime: &'static str,
    /// Encoded bytes.
    pub bytes: Vec<u8>,
    /// Pixel width after preparation.
    pub width: u32,
    /// Pixel height after preparation.
    pub height: u32,
    /// Whether it was scaled down to fit.
    pub downscaled: bool,
}

/// Why a file cannot be an input, naming the file and what to change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct InputError {
    /// The file's name as the user knows it.
    pub name: String,
    /// What is wrong and what to do.
    pub reason: String,
}

/// What the bytes seem to be, when they are no image we read.
fn describe_unreadable(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(64)];
    let brand = bytes.get(4..12);
    if matches!(brand, Some(b) if b.starts_with(b"ftyp") && (b.ends_with(b"heic") || b.ends_with(b"heix") || b.ends_with(b"mif1") || b.ends_with(b"msf1") || b.ends_with(b"hevc")))
    {
        return "is a HEIC/HEIF photo, which this app cannot decode; export it as JPEG or PNG first".into();
    }
    if matches!(brand, Some(b) if b.starts_with(b"ftyp") && b.ends_with(b"avif")) {
        return "is an AVIF image, which this app cannot decode; export it as JPEG or PNG first"
            .into();
    }
    if head.starts_with(b"%PDF") {
        return "is a PDF document, not an image; export the page as PNG or JPEG".into();
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return "is a TIFF image, which this app does not read; use PNG, JPEG, WebP or GIF".into();
    }
    let printable = head
        .iter()
        .filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        .count();
    if !head.is_empty() && printable * 10 >= head.len() * 9 {
        return "is text, not an image; pick a PNG, JPEG, WebP or GIF file".into();
    }
    "is not an image this app can read; use PNG, JPEG, WebP or GIF".into()
}

/// The message for a file over [`MAX_INPUT_BYTES`].
pub fn too_large_message(len: u64) -> String {
    format!(
        "is {:.1} MB; the limit is {} MB, so export a smaller copy",
        len as f64 / (1024.0 * 1024.0),
        MAX_INPUT_BYTES / (1024 * 1024)
    )
}

/// Whether any pixel is not fully opaque.
fn has_transparency(img: &DynamicImage) -> bool {
    img.color().has_alpha() && img.pixels().any(|(_, _, p)| p.0[3] < 255)
}

/// Checks, decodes (upright, first frame), bounds and re-encodes an input image.
pub fn prepare_input(name: &str, bytes: &[u8], max_side: u32) -> Result<PreparedInput, InputError> {
    let fail = |reason: String| InputError {
        name: name.to_owned(),
        reason,
    };
    if bytes.is_empty() {
        return Err(fail("is empty (0 bytes)".into()));
    }
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(fail(too_large_message(bytes.len() as u64)));
    }
    let (width, height) = match super::dimensions(bytes) {
        Ok(d) => d,
        Err(ImagingError::Unsupported) => return Err(fail(describe_unreadable(bytes))),
        Err(_) => return Err(fail(DAMAGED.into())),
    };
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_INPUT_PIXELS {
        return Err(fail(format!(
            "is {width}x{height} ({} megapixels); the limit is {} megapixels, so scale it down first",
            pixels / 1_000_000,
            MAX_INPUT_PIXELS / 1_000_000
        )));
    }
    let img = decode(bytes).map_err(|e| match e {
        ImagingError::Corrupt(_) => fail(DAMAGED.into()),
        other => fail(other.to_string()),
    })?;
    let downscaled = img.width().max(img.height()) > max_side;
    let img = super::fit_within(&img, max_side);
    let (format, img) = if has_transparency(&img) {
        (OutputFormat::Png, DynamicImage::ImageRgba8(img.to_rgba8()))
    } else {
        (OutputFormat::Jpeg, DynamicImage::ImageRgb8(img.to_rgb8()))
    };
    let encoded = encode(&img, format).map_err(|e| fail(e.to_string()))?;
    Ok(PreparedInput {
        mime: format.mime(),
        bytes: encoded,
        width: img.width(),
        height: img.height(),
        downscaled,
    })
}
