//! Checking a result and making its thumbnail in one pass. A 4K PNG decodes to 50 MB of
//! pixels; here its rows are read one at a time (every chunk's CRC checked, the stream
//! read to its end) and averaged into the thumbnail as they come, so no full-size buffer
//! is ever made. Formats and shapes the pass does not cover take the full decode.

use std::io::Cursor;

use image::DynamicImage;

use super::{ImagingError, MAX_ALLOC_BYTES, MAX_SIDE_PX, THUMB_SIDE_PX, decode, thumbnail_png};
use banana_core::recipe::OutputFormat;

/// A checked image: its size and its thumbnail as PNG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inspected {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The thumbnail, at most [`THUMB_SIDE_PX`] on the long side.
    pub thumb_png: Vec<u8>,
}

/// Checks untrusted bytes decode whole (within the limits) and makes their thumbnail.
pub fn inspect(bytes: &[u8]) -> Result<Inspected, ImagingError> {
    inspect_yielding(bytes, &mut || {})
}

/// Rows of a streamed PNG read between two calls of a `yield_now` hook.
pub const ROWS_BETWEEN_YIELDS: u64 = 64;

/// [`inspect`], calling `yield_now` every [`ROWS_BETWEEN_YIELDS`] rows of a streamed PNG:
/// background work can step aside there for work that matters more, mid-image.
pub fn inspect_yielding(
    bytes: &[u8],
    yield_now: &mut dyn FnMut(),
) -> Result<Inspected, ImagingError> {
    match streamed(bytes, THUMB_SIDE_PX, yield_now) {
        Some(result) => {
            let (width, height, thumb) = result?;
            Ok(Inspected {
                width,
                height,
                thumb_png: super::encode(&thumb, OutputFormat::Png)?,
            })
        }
        None => {
            let img = decode(bytes)?;
            Ok(Inspected {
                width: img.width(),
                height: img.height(),
                thumb_png: thumbnail_png(&img)?,
            })
        }
    }
}

/// Decodes untrusted bytes to at most `max_side` pixels on the long side (never
/// enlarged), each pixel the average of the source pixels it covers: what a view of a
/// screen's size needs, without a 4K image's 67 MB of pixels. A plain PNG is read row
/// by row; other images are decoded whole and then shrunk.
pub fn decode_fitted(bytes: &[u8], max_side: u32) -> Result<DynamicImage, ImagingError> {
    let max_side = max_side.max(1);
    if let Some(result) = streamed(bytes, max_side, &mut || {}) {
        return result.map(|(_, _, fitted)| fitted);
    }
    let img = decode(bytes)?;
    if img.width().max(img.height()) <= max_side {
        return Ok(img);
    }
    let (w, h) = fitted_size(img.width(), img.height(), max_side);
    Ok(img.thumbnail_exact(w, h))
}

fn corrupt(e: png::DecodingError) -> ImagingError {
    ImagingError::Corrupt(e.to_string())
}

/// A size, with the images averaged down to it.
type Averaged = (u32, u32, DynamicImage);

/// The one-pass path for a plain PNG larger than `side`: its size, and its pixels
/// averaged down to `side` on the long side. None where the full decode must do
/// (another format, interlacing, an EXIF orientation, a small image).
fn streamed(
    bytes: &[u8],
    side: u32,
    yield_now: &mut dyn FnMut(),
) -> Option<Result<Averaged, ImagingError>> {
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return None;
    }
    // The size a bomb claims is told from the header alone, before any reading.
    let (width, height) = match super::dimensions(bytes) {
        Ok(size) => size,
        Err(e) => return Some(Err(e)),
    };
    if width > MAX_SIDE_PX || height > MAX_SIDE_PX {
        return Some(Err(ImagingError::TooLarge {
            width,
            height,
            limit: MAX_SIDE_PX,
        }));
    }
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: MAX_ALLOC_BYTES as usize,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = match decoder.read_info() {
        Ok(reader) => reader,
        Err(e) => return Some(Err(corrupt(e))),
    };
    let info = reader.info();
    if (info.width, info.height) != (width, height) {
        return Some(Err(ImagingError::Corrupt(
            "the header contradicts itself".into(),
        )));
    }
    if info.interlaced
        || info.exif_metadata.is_some()
        || width.max(height) <= side
        || info.is_animated()
    {
        return None;
    }
    let channels = match reader.output_color_type() {
        (png::ColorType::Grayscale, png::BitDepth::Eight) => 1,
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => 2,
        (png::ColorType::Rgb, png::BitDepth::Eight) => 3,
        (png::ColorType::Rgba, png::BitDepth::Eight) => 4,
        _ => return None,
    };
    Some(average_rows(
        &mut reader,
        (width, height, channels),
        side,
        yield_now,
    ))
}

/// Source pixels averaged per thumbnail pixel along each side, at most: a 4x4 grid
/// spread evenly over the cell is as smooth as the full box at thumbnail size, and a
/// 4K image's cells are some 21x21 pixels.
const SAMPLES_PER_SIDE: u64 = 4;

/// For each of `source` positions, the thumbnail position it is averaged into, or None
/// where it is not sampled (up to [`SAMPLES_PER_SIDE`] evenly spread per thumbnail
/// position; all of them where a cell is smaller).
fn samples(source: u32, thumb: u32) -> Vec<Option<usize>> {
    let (source, thumb) = (u64::from(source), u64::from(thumb));
    let mut out = vec![None; source as usize];
    for t in 0..thumb {
        // The cell: the source positions whose `p * thumb / source` is `t`.
        let start = (t * source).div_ceil(thumb);
        let end = ((t + 1) * source).div_ceil(thumb).min(source);
        let len = end.saturating_sub(start);
        if len <= SAMPLES_PER_SIDE {
            (start..end).for_each(|p| out[p as usize] = Some(t as usize));
        } else {
            for k in 0..SAMPLES_PER_SIDE {
                let p = start + (2 * k + 1) * len / (2 * SAMPLES_PER_SIDE);
                out[p as usize] = Some(t as usize);
            }
        }
    }
    out
}

/// Reads every row (so the whole stream is checked), averaging a spread of each
/// cell's source pixels into its pixel of the image `side` long.
fn average_rows(
    reader: &mut png::Reader<Cursor<&[u8]>>,
    (width, height, channels): (u32, u32, usize),
    side: u32,
    yield_now: &mut dyn FnMut(),
) -> Result<Averaged, ImagingError> {
    let (tw, th) = fitted_size(width, height, side);
    // The sampled source columns, each with its thumbnail column.
    let columns: Vec<(usize, usize)> = samples(width, tw)
        .into_iter()
        .enumerate()
        .filter_map(|(x, c)| c.map(|c| (x, c)))
        .collect();
    let row_cells = samples(height, th);
    let mut sums = vec![0u32; tw as usize * th as usize * 4];
    // How many source rows were averaged into each thumbnail row.
    let mut rows_in = vec![0u32; th as usize];
    let mut y = 0u64;
    while let Some(row) = reader.next_row().map_err(corrupt)? {
        if y % ROWS_BETWEEN_YIELDS == ROWS_BETWEEN_YIELDS - 1 {
            yield_now();
        }
        if y >= u64::from(height) {
            return Err(ImagingError::Corrupt(
                "more rows than the header says".into(),
            ));
        }
        let Some(ty) = row_cells[y as usize] else {
            y += 1;
            continue;
        };
        let base = ty * tw as usize;
        let data = row.data();
        if data.len() < width as usize * channels {
            return Err(ImagingError::Corrupt(
                "a row is shorter than the header says".into(),
            ));
        }
        let cells = &mut sums[base * 4..(base + tw as usize) * 4];
        for &(x, column) in &columns {
            let px = &data[x * channels..(x + 1) * channels];
            let sum = &mut cells[(column * 4)..(column * 4 + 4)];
            match channels {
                3 | 4 => {
                    sum[0] += u32::from(px[0]);
                    sum[1] += u32::from(px[1]);
                    sum[2] += u32::from(px[2]);
                    sum[3] += px.get(3).map_or(255, |a| u32::from(*a));
                }
                _ => {
                    let v = u32::from(px[0]);
                    sum[0] += v;
                    sum[1] += v;
                    sum[2] += v;
                    sum[3] += px.get(1).map_or(255, |a| u32::from(*a));
                }
            }
        }
        rows_in[ty] += 1;
        y += 1;
    }
    if y != u64::from(height) {
        return Err(ImagingError::Corrupt(format!(
            "the image has {y} of its {height} rows"
        )));
    }
    // The rest of the file, to its end chunk, must read too (a cut-off file fails here).
    reader.finish().map_err(corrupt)?;
    let mut per_column = vec![0u32; tw as usize];
    for (_, c) in &columns {
        per_column[*c] += 1;
    }
    let alpha = channels.is_multiple_of(2);
    let mut pixels = Vec::with_capacity(tw as usize * th as usize * if alpha { 4 } else { 3 });
    for cell in 0..tw as usize * th as usize {
        let n = (rows_in[cell / tw as usize] * per_column[cell % tw as usize]).max(1);
        let sum = &sums[cell * 4..cell * 4 + 4];
        let avg = |v: u32| ((v + n / 2) / n) as u8;
        pixels.extend([avg(sum[0]), avg(sum[1]), avg(sum[2])]);
        if alpha {
            pixels.push(avg(sum[3]));
        }
    }
    let averaged = if alpha {
        image::RgbaImage::from_raw(tw, th, pixels).map(DynamicImage::ImageRgba8)
    } else {
        image::RgbImage::from_raw(tw, th, pixels).map(DynamicImage::ImageRgb8)
    }
    .ok_or_else(|| ImagingError::Encode("the averaged size does not add up".into()))?;
    Ok((width, height, averaged))
}

/// A size `side` long on the long side, the shape kept, at least 1 on each.
fn fitted_size(width: u32, height: u32, side: u32) -> (u32, u32) {
    let (w, h, long) = (u64::from(width), u64::from(height), u64::from(side));
    if w >= h {
        (side, ((h * long + w / 2) / w).max(1) as u32)
    } else {
        (((w * long + h / 2) / h).max(1) as u32, side)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode;
    use crate::metadata::png_push_chunk;

    fn picture(w: u32, h: u32, alpha: bool) -> DynamicImage {
        let mut state = 11u32;
        let rgb = image::RgbaImage::from_fn(w, h, |x, y| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let grain = (state >> 24) as u8 % 16;
            image::Rgba([
                (x * 255 / w) as u8 / 2 + grain,
                (y * 255 / h) as u8 / 2 + grain,
                120,
                if alpha { (x % 256) as u8 } else { 255 },
            ])
        });
        if alpha {
            DynamicImage::ImageRgba8(rgb)
        } else {
            DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgb).into_rgb8())
        }
    }

    fn mean_difference(a: &[u8], b: &[u8]) -> f64 {
        mean_pixel_difference(&decode(a).unwrap(), &decode(b).unwrap())
    }

    /// The mean difference of two same-sized images' RGBA bytes.
    fn mean_pixel_difference(a: &DynamicImage, b: &DynamicImage) -> f64 {
        let (a, b) = (a.to_rgba8(), b.to_rgba8());
        assert_eq!(a.dimensions(), b.dimensions());
        let total: u64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| u64::from(x.abs_diff(*y)))
            .sum();
        total as f64 / a.as_raw().len() as f64
    }

    #[test]
    fn one_pass_thumbnail_matches_the_full_decode() {
        for (w, h, alpha) in [(1200, 700, false), (500, 900, true), (257, 3000, false)] {
            let img = picture(w, h, alpha);
            let bytes = encode(&img, OutputFormat::Png).unwrap();
            assert!(
                streamed(&bytes, THUMB_SIDE_PX, &mut || {}).is_some(),
                "{w}x{h} takes the one pass"
            );
            let fast = inspect(&bytes).unwrap();
            assert_eq!((fast.width, fast.height), (w, h));
            let full = thumbnail_png(&img).unwrap();
            let diff = mean_difference(&fast.thumb_png, &full);
            assert!(diff < 3.0, "{w}x{h}: mean difference {diff}");
        }
    }

    /// Background work steps aside between rows, not only between images, and the
    /// thumbnail is the same whether it did or not.
    #[test]
    fn a_streamed_png_yields_every_few_rows() {
        let img = picture(400, 1000, false);
        let bytes = encode(&img, OutputFormat::Png).unwrap();
        let mut yields = 0u64;
        let yielding = inspect_yielding(&bytes, &mut || yields += 1).unwrap();
        assert_eq!(yields, 1000 / ROWS_BETWEEN_YIELDS);
        assert_eq!(yielding, inspect(&bytes).unwrap());
    }

    #[test]
    fn every_thumbnail_pixel_averages_an_even_spread_of_its_cell() {
        for (source, thumb) in [(5504, 256), (3072, 143), (257, 256), (300, 7), (1, 1)] {
            let cells = samples(source, thumb);
            let mut taken = vec![Vec::new(); thumb as usize];
            for (p, t) in cells.iter().enumerate() {
                if let Some(t) = t {
                    // A sample lies in its own cell.
                    assert_eq!(*t as u64, p as u64 * u64::from(thumb) / u64::from(source));
                    taken[*t].push(p);
                }
            }
            for (t, ps) in taken.iter().enumerate() {
                assert!(
                    (1..=SAMPLES_PER_SIDE as usize).contains(&ps.len()),
                    "{source}->{thumb}: cell {t} has {} samples",
                    ps.len()
                );
            }
        }
    }

    #[test]
    fn a_big_thumbnail_is_as_smooth_as_the_full_box() {
        // Cells of some 11x11 pixels, of which 4x4 are averaged.
        let img = picture(2752, 1536, false);
        let bytes = encode(&img, OutputFormat::Png).unwrap();
        let fast = inspect(&bytes).unwrap();
        let diff = mean_difference(&fast.thumb_png, &thumbnail_png(&img).unwrap());
        assert!(diff < 2.0, "mean difference {diff}");
    }

    #[test]
    fn grey_and_sixteen_bit_pngs_take_the_one_pass_too() {
        let grey = DynamicImage::ImageLuma8(picture(600, 400, false).into_luma8());
        let deep = DynamicImage::ImageRgb16(picture(600, 400, false).into_rgb16());
        for img in [grey, deep] {
            let bytes = encode(&img, OutputFormat::Png).unwrap();
            let fast = inspect(&bytes).unwrap();
            assert_eq!((fast.width, fast.height), (600, 400));
            let diff = mean_difference(&fast.thumb_png, &thumbnail_png(&img).unwrap());
            assert!(diff < 3.0, "mean difference {diff}");
        }
    }

    #[test]
    fn a_cut_off_or_damaged_png_fails() {
        let bytes = encode(&picture(800, 600, false), OutputFormat::Png).unwrap();
        for cut in [
            bytes.len() / 3,
            bytes.len() * 2 / 3,
            bytes.len() - 20,
            bytes.len() - 4,
        ] {
            assert!(
                matches!(inspect(&bytes[..cut]), Err(ImagingError::Corrupt(_))),
                "cut at {cut} of {}",
                bytes.len()
            );
        }
        let mut flipped = bytes.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x55;
        assert!(inspect(&flipped).is_err(), "a changed byte breaks a CRC");
    }

    #[test]
    fn a_bomb_is_refused_by_its_header() {
        // A valid header claiming 40000x40000 pixels, and a scrap of data.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend(40_000u32.to_be_bytes());
        ihdr.extend(40_000u32.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        png_push_chunk(&mut png, b"IHDR", &ihdr);
        png_push_chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x63, 0, 0]);
        png_push_chunk(&mut png, b"IEND", &[]);
        let result = inspect(&png);
        assert!(
            matches!(result, Err(ImagingError::TooLarge { width: 40_000, .. })),
            "{result:?}"
        );
    }

    #[test]
    fn other_formats_and_small_images_take_the_full_decode() {
        let jpeg = encode(&picture(800, 600, false), OutputFormat::Jpeg).unwrap();
        assert!(streamed(&jpeg, THUMB_SIDE_PX, &mut || {}).is_none());
        assert_eq!(inspect(&jpeg).unwrap().width, 800);
        let small = encode(&picture(100, 80, false), OutputFormat::Png).unwrap();
        assert!(streamed(&small, THUMB_SIDE_PX, &mut || {}).is_none());
        assert_eq!(inspect(&small).unwrap().height, 80);
    }

    #[test]
    fn a_fitted_decode_averages_down_to_the_side_asked_and_never_enlarges() {
        let img = picture(3000, 1400, false);
        let png = encode(&img, OutputFormat::Png).unwrap();
        let jpeg = encode(&img, OutputFormat::Jpeg).unwrap();
        for bytes in [&png, &jpeg] {
            let fitted = decode_fitted(bytes, 1200).unwrap();
            assert_eq!((fitted.width(), fitted.height()), (1200, 560));
            // Against the full decode shrunk with a triangle filter.
            let full = decode(bytes).unwrap().resize_exact(
                1200,
                560,
                image::imageops::FilterType::Triangle,
            );
            let mean = mean_pixel_difference(&fitted, &full);
            assert!(mean < 4.0, "mean difference {mean}");
        }
        let small = decode_fitted(&png, 4000).unwrap();
        assert_eq!(
            (small.width(), small.height()),
            (3000, 1400),
            "never enlarged"
        );
        let tall = encode(&picture(300, 900, true), OutputFormat::Png).unwrap();
        let fitted = decode_fitted(&tall, 450).unwrap();
        assert_eq!((fitted.width(), fitted.height()), (150, 450));
        assert!(fitted.color().has_alpha(), "transparency is kept");
        let cut = &png[..png.len() / 2];
        assert!(matches!(
            decode_fitted(cut, 1200),
            Err(ImagingError::Corrupt(_))
        ));
    }
}
