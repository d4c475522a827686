//! A PNG checked by its structure, without inflating its pixels: the signature, a sane
//! header within the limits, every chunk whole with its CRC, the image data in one run
//! starting with a valid zlib header, and the end chunk. Damage in transit (a cut-off
//! answer, a flipped bit) breaks a CRC or the end, so it is found in a few milliseconds
//! where inflating a 4K image takes a hundred.

use super::{ImagingError, MAX_SIDE_PX};

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// The largest chunk length the format allows.
const MAX_CHUNK_LEN: u32 = 0x7fff_ffff;

/// Checks a PNG's structure and returns its size from the header. None where the
/// bytes are not a plain PNG whose header tells its shown size: not a PNG, an animated
/// PNG, or one whose EXIF orientation may turn it (those take the full decode).
pub fn png_structure(bytes: &[u8]) -> Option<Result<(u32, u32), ImagingError>> {
    if !bytes.starts_with(SIGNATURE) {
        return None;
    }
    let damaged = |what: &str| Some(Err(ImagingError::Corrupt(what.to_owned())));
    let mut at = SIGNATURE.len();
    let mut size = None;
    let mut indexed = false;
    let (mut palette, mut data_began, mut data_ended) = (false, false, false);
    loop {
        let Some(head) = bytes.get(at..at + 8) else {
            return damaged("the file is cut off before its end chunk");
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if len > MAX_CHUNK_LEN {
            return damaged("a chunk claims an impossible length");
        }
        let kind: [u8; 4] = [head[4], head[5], head[6], head[7]];
        let data_at = at + 8;
        let Some(end) = data_at.checked_add(len as usize) else {
            return damaged("a chunk claims an impossible length");
        };
        let (Some(data), Some(crc)) = (bytes.get(data_at..end), bytes.get(end..end + 4)) else {
            return damaged("the file is cut off inside a chunk");
        };
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&kind);
        hasher.update(data);
        if hasher.finalize().to_be_bytes() != crc {
            return damaged(&format!(
                "the {} chunk fails its checksum",
                String::from_utf8_lossy(&kind)
            ));
        }
        if size.is_none() && &kind != b"IHDR" {
            return damaged("the header chunk is not first");
        }
        match &kind {
            b"IHDR" if size.is_some() => return damaged("the header chunk comes twice"),
            b"IHDR" => match header(data) {
                Ok((width, height, colour)) => {
                    if width > MAX_SIDE_PX || height > MAX_SIDE_PX {
                        return Some(Err(ImagingError::TooLarge {
                            width,
                            height,
                            limit: MAX_SIDE_PX,
                        }));
                    }
                    indexed = colour == 3;
                    size = Some((width, height));
                }
                Err(what) => return damaged(what),
            },
            b"PLTE" => palette = true,
            b"IDAT" if data_ended => return damaged("the image data is split by other chunks"),
            b"IDAT" => {
                if !data_began {
                    if indexed && !palette {
                        return damaged("an indexed image has no palette");
                    }
                    if !zlib_header(data) {
                        return damaged("the image data does not start as zlib data");
                    }
                }
                data_began = true;
            }
            b"acTL" | b"eXIf" => return None,
            b"IEND" if !data_began => return damaged("the file has no image data"),
            b"IEND" => return size.map(Ok),
            _ => data_ended |= data_began,
        }
        at = end + 4;
    }
}

/// Width, height and colour type from an IHDR chunk's data, checked.
fn header(data: &[u8]) -> Result<(u32, u32, u8), &'static str> {
    let [
        w0,
        w1,
        w2,
        w3,
        h0,
        h1,
        h2,
        h3,
        depth,
        colour,
        compression,
        filter,
        interlace,
    ] = data
        .try_into()
        .map_err(|_| "the header chunk has the wrong length")?;
    let (width, height) = (
        u32::from_be_bytes([w0, w1, w2, w3]),
        u32::from_be_bytes([h0, h1, h2, h3]),
    );
    if width == 0 || height == 0 {
        return Err("the header gives no size");
    }
    let depth_ok = match colour {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    if !depth_ok || compression != 0 || filter != 0 || interlace > 1 {
        return Err("the header names a kind of PNG that does not exist");
    }
    Ok((width, height, colour))
}

/// Whether `data` starts with a zlib header for deflate without a preset dictionary.
fn zlib_header(data: &[u8]) -> bool {
    match data {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && flg & 0x20 == 0 && {
                (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
            }
        }
        // The header may span a one-byte first chunk; the decode that follows tells.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::metadata::png_push_chunk;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 5) as u8, ((x ^ y) * 3) as u8])
        });
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    /// `png` with `chunk` put before its end chunk.
    fn with_chunk_before_end(png: &[u8], kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = png[..png.len() - 12].to_vec();
        png_push_chunk(&mut out, kind, data);
        out.extend_from_slice(&png[png.len() - 12..]);
        out
    }

    fn damage(result: Option<Result<(u32, u32), ImagingError>>) -> String {
        match result {
            Some(Err(ImagingError::Corrupt(words))) => words,
            other => panic!("expected damage, got {other:?}"),
        }
    }

    #[test]
    fn a_whole_png_tells_its_size_and_other_formats_are_left_to_the_decoder() {
        assert_eq!(png_structure(&png(37, 21)).unwrap().unwrap(), (37, 21));
        let with_text = with_chunk_before_end(&png(5, 4), b"tEXt", b"k\0v");
        assert_eq!(png_structure(&with_text).unwrap().unwrap(), (5, 4));
        assert!(png_structure(b"\xff\xd8\xff\xe0 a JPEG").is_none());
        let turned = with_chunk_before_end(&png(5, 4), b"eXIf", b"MM\0*");
        assert!(png_structure(&turned).is_none(), "EXIF may turn it");
    }

    #[test]
    fn a_cut_or_flipped_png_is_damaged_with_words() {
        let whole = png(64, 48);
        for cut in [
            9,
            20,
            40,
            whole.len() / 2,
            whole.len() - 1,
            whole.len() - 12,
        ] {
            let words = damage(png_structure(&whole[..cut]));
            assert!(words.contains("cut off"), "{cut}: {words}");
        }
        // A bit flipped inside the image data breaks that chunk's CRC.
        let mut flipped = whole.clone();
        let idat = flipped.windows(4).position(|w| w == b"IDAT").unwrap();
        flipped[idat + 20] ^= 0x10;
        assert!(damage(png_structure(&flipped)).contains("IDAT chunk fails its checksum"));
        // The length of the data chunk grown: the rest no longer lines up.
        let mut grown = whole.clone();
        grown[idat - 1] = grown[idat - 1].wrapping_add(1);
        damage(png_structure(&grown));
    }

    #[test]
    fn a_png_without_data_or_with_an_impossible_header_is_damaged() {
        let whole = png(8, 8);
        // Header and end only.
        let mut bare = whole[..33].to_vec();
        bare.extend_from_slice(&whole[whole.len() - 12..]);
        assert!(damage(png_structure(&bare)).contains("no image data"));
        // A colour type that does not exist, CRC made right.
        let mut odd = whole.clone();
        odd[25] = 5;
        let crc = crc32fast::hash(&odd[12..29]);
        odd[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(damage(png_structure(&odd)).contains("does not exist"));
        // Data that is not zlib, CRC made right.
        let idat = whole.windows(4).position(|w| w == b"IDAT").unwrap();
        let len = u32::from_be_bytes(whole[idat - 4..idat].try_into().unwrap()) as usize;
        let mut not_zlib = whole.clone();
        not_zlib[idat + 4] = 0x09;
        let crc = crc32fast::hash(&not_zlib[idat..idat + 4 + len]);
        not_zlib[idat + 4 + len..idat + 8 + len].copy_from_slice(&crc.to_be_bytes());
        assert!(damage(png_structure(&not_zlib)).contains("zlib"));
    }

    #[test]
    fn a_bomb_is_refused_by_its_header() {
        let mut bomb = png(8, 8);
        bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let crc = crc32fast::hash(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            png_structure(&bomb),
            Some(Err(ImagingError::TooLarge { width: 60_000, .. }))
        ));
    }
}
