//! Pixels: safe decoding with limits, resizing, encoding, thumbnails.

mod compare;
pub mod drawing;
mod input;
mod inspect;
pub mod mask;
pub mod metadata;
mod png_check;

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, imageops::FilterType};

pub use banana_core::media::sniff_mime;
pub use compare::{CHANGED_THRESHOLD, Comparison, compare, heat};
pub use input::{
    DEFAULT_MAX_SIDE_PX, InputError, MAX_INPUT_BYTES, MAX_INPUT_PIXELS, PreparedInput,
    prepare_input, too_large_message,
};
pub use inspect::{Inspected, ROWS_BETWEEN_YIELDS, decode_fitted, inspect, inspect_yielding};
pub use png_check::png_structure;

use banana_core::recipe::OutputFormat;

/// The longest side of a thumbnail, in pixels.
pub const THUMB_SIDE_PX: u32 = 256;

/// Largest width or height we decode from an untrusted source.
pub const MAX_SIDE_PX: u32 = 16_384;

/// Largest allocation a decode may make.
pub const MAX_ALLOC_BYTES: u64 = 1 << 30;

/// Why pixels could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    /// Not an image format we can read.
    #[error("not an image this app can read (PNG, JPEG, WebP or GIF)")]
    Unsupported,
    /// Bigger than the limits.
    #[error("the image is {width}x{height} pixels; the limit is {limit} on each side")]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The limit per side.
        limit: u32,
    },
    /// The bytes are damaged or truncated.
    #[error("the image data is damaged: {0}")]
    Corrupt(String),
    /// Encoding failed.
    #[error("could not encode the image: {0}")]
    Encode(String),
}

/// Decoded RGBA pixels, ready for a texture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rgba {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Row-major RGBA, 4 bytes a pixel.
    pub pixels: Vec<u8>,
}

impl From<DynamicImage> for Rgba {
    fn from(img: DynamicImage) -> Self {
        let rgba = img.into_rgba8();
        Rgba {
            width: rgba.width(),
            height: rgba.height(),
            pixels: rgba.into_raw(),
        }
    }
}

/// The format of encoded bytes, by their magic numbers.
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    image::guess_format(bytes).ok()
}

/// Width and height from the header, without decoding pixels.
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32), ImagingError> {
    let mut reader = reader(bytes)?;
    // Only the header is read here, so the size a bomb claims can be told in numbers;
    // the limits stay on for decoding.
    reader.no_limits();
    reader
        .into_dimensions()
        .map_err(|e| ImagingError::Corrupt(e.to_string()))
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, ImagingError> {
    let format = sniff_format(bytes).ok_or(ImagingError::Unsupported)?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif
    ) {
        return Err(ImagingError::Unsupported);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    limits.max_alloc = Some(MAX_ALLOC_BYTES);
    reader.limits(limits);
    Ok(reader)
}

/// Decodes untrusted bytes with size limits, applying EXIF orientation.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, ImagingError> {
    let (width, height) = dimensions(bytes)?;
    if sniff_mime(bytes) == Some("image/jpeg") && !jpeg_is_complete(bytes) {
        // The JPEG decoder fills a cut-off scan with grey instead of failing.
        return Err(ImagingError::Corrupt(
            "the JPEG file is cut short (its end marker is missing)".into(),
        ));
    }
    if width > MAX_SIDE_PX || height > MAX_SIDE_PX {
        return Err(ImagingError::TooLarge {
            width,
            height,
            limit: MAX_SIDE_PX,
        });
    }
    let mut decoder = reader(bytes)?
        .into_decoder()
        .map_err(|e| ImagingError::Corrupt(e.to_string()))?;
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => ImagingError::TooLarge {
            width,
            height,
            limit: MAX_SIDE_PX,
        },
        other => ImagingError::Corrupt(other.to_string()),
    })?;
    if let Some(orientation) = orientation {
        img.apply_orientation(orientation);
    }
    Ok(img)
}

/// Whether a JPEG stream reaches its end: walking the marker segments from the start to
/// the first scan, an end-of-image marker (FF D9) must follow it. Inside a scan an FF
/// byte is always followed by 00 or a restart marker, so FF D9 there is the real end;
/// an EXIF thumbnail's own end marker comes before the scan and does not count.
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2; // After SOI.
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return false;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1; // Fill byte.
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if marker == 0xDA {
            let scan = (at + 2 + len).min(bytes.len());
            return bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9]);
        }
        at += 2 + len;
    }
    false
}

/// Encodes pixels in a format: PNG, high-quality JPEG (no alpha), lossless WebP.
pub fn encode(img: &DynamicImage, format: OutputFormat) -> Result<Vec<u8>, ImagingError> {
    let mut out = Cursor::new(Vec::new());
    let result = match format {
        OutputFormat::Png => img.write_to(&mut out, ImageFormat::Png),
        OutputFormat::Jpeg => {
            let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92);
            rgb.write_with_encoder(encoder)
        }
        OutputFormat::Webp => {
            let rgba = DynamicImage::ImageRgba8(img.to_rgba8());
            rgba.write_to(&mut out, ImageFormat::WebP)
        }
    };
    result.map_err(|e| ImagingError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}

/// Re-encodes bytes in `format` unless they already are in it.
pub fn convert(bytes: &[u8], format: OutputFormat) -> Result<Vec<u8>, ImagingError> {
    let current = sniff_mime(bytes).and_then(OutputFormat::from_mime);
    if current == Some(format) {
        return Ok(bytes.to_vec());
    }
    encode(&decode(bytes)?, format)
}

/// A copy whose longest side is at most `max_side` pixels (never enlarged).
pub fn fit_within(img: &DynamicImage, max_side: u32) -> DynamicImage {
    if img.width().max(img.height()) <= max_side {
        return img.clone();
    }
    img.resize(max_side, max_side, FilterType::Triangle)
}

/// A PNG thumbnail of at most [`THUMB_SIDE_PX`] on the long side.
pub fn thumbnail_png(img: &DynamicImage) -> Result<Vec<u8>, ImagingError> {
    let thumb = img.thumbnail(THUMB_SIDE_PX, THUMB_SIDE_PX);
    encode(&thumb, OutputFormat::Png)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(w, h, image::Rgb([9, 8, 7])));
        encode(&img, OutputFormat::Png).unwrap()
    }

    fn noise(w: u32, h: u32) -> DynamicImage {
        let mut state = 7u32;
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |_, _| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let [a, b, c, _] = state.to_le_bytes();
            image::Rgb([a, b, c])
        }))
    }

    #[test]
    fn a_cut_off_image_fails_to_decode_in_every_format() {
        let img = noise(200, 150);
        for format in [OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::Webp] {
            let bytes = encode(&img, format).unwrap();
            assert!(decode(&bytes).is_ok(), "{format:?} whole");
            // The last cut lies inside the pixel data of each (PNG ends with a 12-byte IEND).
            for cut in [bytes.len() / 3, bytes.len() * 2 / 3, bytes.len() - 20] {
                let result = decode(&bytes[..cut]);
                assert!(
                    matches!(
                        result,
                        Err(ImagingError::Corrupt(_) | ImagingError::Unsupported)
                    ),
                    "{format:?} cut at {cut} of {} decoded",
                    bytes.len()
                );
            }
        }
        // Bytes after the end marker (some cameras add them) do not make a JPEG damaged.
        let mut jpeg = encode(&img, OutputFormat::Jpeg).unwrap();
        jpeg.extend_from_slice(b"trailing");
        assert!(decode(&jpeg).is_ok());
    }

    #[test]
    fn round_trip_and_convert() {
        let bytes = png(40, 20);
        assert_eq!(dimensions(&bytes).unwrap(), (40, 20));
        assert_eq!(sniff_mime(&bytes), Some("image/png"));
        let jpeg = convert(&bytes, OutputFormat::Jpeg).unwrap();
        assert_eq!(sniff_mime(&jpeg), Some("image/jpeg"));
        let webp = convert(&bytes, OutputFormat::Webp).unwrap();
        assert_eq!(sniff_mime(&webp), Some("image/webp"));
        assert_eq!(decode(&webp).unwrap().width(), 40);
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        assert!(matches!(
            decode(b"hello world"),
            Err(ImagingError::Unsupported)
        ));
        let bytes = png(64, 64);
        assert!(decode(&bytes[..bytes.len() / 2]).is_err());
        assert!(decode(&[]).is_err());
    }

    #[test]
    fn thumbnails_fit_the_box() {
        let img = decode(&png(1000, 500)).unwrap();
        let thumb = decode(&thumbnail_png(&img).unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (256, 128));
    }
}
