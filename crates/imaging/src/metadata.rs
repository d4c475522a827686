//! Metadata in exported files: PNG iTXt chunks, JPEG and WebP EXIF and XMP; or none at all
//! for a clean export. Works on the encoded bytes: pixels are never re-encoded.

use super::ImagingError;

/// What an exported file carries about how it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Embedded {
    /// The one-paragraph summary other image tools read: the prompt, then
    /// `Steps: ..., Sampler: ..., CFG scale: ..., Seed: ..., Size: ..., Model: ...` (A1111 form).
    pub parameters: String,
    /// The full recipe as JSON.
    pub recipe_json: String,
    /// The app and its version.
    pub software: String,
}

/// The PNG keyword of the parameters paragraph.
pub const PARAMETERS_KEY: &str = "parameters";
/// The PNG keyword of the recipe JSON.
pub const RECIPE_KEY: &str = "banana-studio";

fn corrupt(what: &str) -> ImagingError {
    ImagingError::Corrupt(what.to_owned())
}

/// Rewrites `bytes` with `embedded` (replacing earlier metadata), or without any metadata
/// when `embedded` is None. PNG, JPEG and WebP are supported.
pub fn rewrite(bytes: &[u8], embedded: Option<&Embedded>) -> Result<Vec<u8>, ImagingError> {
    match super::sniff_format(bytes) {
        Some(image::ImageFormat::Png) => png(bytes, embedded),
        Some(image::ImageFormat::Jpeg) => jpeg(bytes, embedded),
        Some(image::ImageFormat::WebP) => webp(bytes, embedded),
        _ => Err(ImagingError::Unsupported),
    }
}

// ---- PNG: iTXt chunks (UTF-8), so Unicode prompts survive. ----

/// A container chunk: its four-letter type and its data.
type Chunk<'a> = ([u8; 4], &'a [u8]);

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

fn png_chunks(bytes: &[u8]) -> Result<Vec<Chunk<'_>>, ImagingError> {
    let mut rest = bytes
        .strip_prefix(PNG_SIGNATURE)
        .ok_or_else(|| corrupt("not a PNG"))?;
    let mut chunks = Vec::new();
    while rest.len() >= 12 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let kind = [rest[4], rest[5], rest[6], rest[7]];
        let data = rest
            .get(8..8 + len)
            .ok_or_else(|| corrupt("PNG chunk runs past the end"))?;
        chunks.push((kind, data));
        rest = rest
            .get(12 + len..)
            .ok_or_else(|| corrupt("PNG chunk runs past the end"))?;
        if &kind == b"IEND" {
            break;
        }
    }
    Ok(chunks)
}

/// Appends a PNG chunk (length, type, data, CRC) to `out`.
pub fn png_push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend(crc.finalize().to_be_bytes());
}

fn itxt(keyword: &str, text: &str) -> Vec<u8> {
    // keyword NUL, compression flag 0, method 0, empty language NUL, empty translation NUL.
    let mut data = keyword.as_bytes().to_vec();
    data.extend([0, 0, 0, 0, 0]);
    data.extend(text.as_bytes());
    data
}

fn png(bytes: &[u8], embedded: Option<&Embedded>) -> Result<Vec<u8>, ImagingError> {
    let metadata: [&[u8; 4]; 5] = [b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"];
    let mut out = PNG_SIGNATURE.to_vec();
    let mut written = false;
    for (kind, data) in png_chunks(bytes)? {
        if metadata.contains(&&kind) {
            continue;
        }
        // Before the pixel data, where readers that stop at IDAT still find it.
        if (&kind == b"IDAT" || &kind == b"IEND")
            && !written
            && let Some(e) = embedded
        {
            written = true;
            png_push_chunk(&mut out, b"iTXt", &itxt(PARAMETERS_KEY, &e.parameters));
            png_push_chunk(&mut out, b"iTXt", &itxt(RECIPE_KEY, &e.recipe_json));
            png_push_chunk(&mut out, b"iTXt", &itxt("Software", &e.software));
        }
        png_push_chunk(&mut out, &kind, data);
    }
    Ok(out)
}

// ---- EXIF (TIFF little-endian) and XMP, shared by JPEG and WebP. ----

struct Ifd {
    entries: Vec<(u16, u16, u32, Vec<u8>)>,
}

/// A minimal TIFF writer: IFD0 with ImageDescription and Software, and an Exif IFD
/// with UserComment (UTF-16, so any prompt survives).
fn exif_tiff(e: &Embedded) -> Vec<u8> {
    let mut description = e.parameters.as_bytes().to_vec();
    description.push(0);
    let mut software = e.software.as_bytes().to_vec();
    software.push(0);
    let mut comment = b"UNICODE\0".to_vec();
    comment.extend(e.parameters.encode_utf16().flat_map(u16::to_le_bytes));

    let ifd0_entries = 3u32;
    let exif_entries = 1u32;
    let ifd0_at = 8u32;
    let exif_at = ifd0_at + 2 + ifd0_entries * 12 + 4;
    let data_at = exif_at + 2 + exif_entries * 12 + 4;

    let mut ifd0 = Ifd {
        entries: Vec::new(),
    };
    let mut exif = Ifd {
        entries: Vec::new(),
    };
    ifd0.entries
        .push((0x010E, 2, description.len() as u32, description));
    ifd0.entries
        .push((0x0131, 2, software.len() as u32, software));
    ifd0.entries
        .push((0x8769, 4, 1, exif_at.to_le_bytes().to_vec()));
    exif.entries
        .push((0x9286, 7, comment.len() as u32, comment));

    let mut out = b"II*\0".to_vec();
    out.extend(ifd0_at.to_le_bytes());
    let mut data = Vec::new();
    for ifd in [&ifd0, &exif] {
        out.extend((ifd.entries.len() as u16).to_le_bytes());
        for (tag, kind, count, value) in &ifd.entries {
            out.extend(tag.to_le_bytes());
            out.extend(kind.to_le_bytes());
            out.extend(count.to_le_bytes());
            if value.len() <= 4 {
                let mut inline = value.clone();
                inline.resize(4, 0);
                out.extend(inline);
            } else {
                out.extend((data_at + data.len() as u32).to_le_bytes());
                data.extend(value);
                if data.len() % 2 == 1 {
                    data.push(0);
                }
            }
        }
        out.extend(0u32.to_le_bytes());
    }
    out.extend(data);
    out
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An XMP packet with the parameters as dc:description and the recipe JSON.
pub fn xmp_packet(e: &Embedded) -> String {
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
         <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:banana=\"https://banana.studio/ns/1.0/\" \
         xmp:CreatorTool=\"{}\"><dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li>\
         </rdf:Alt></dc:description><banana:recipe>{}</banana:recipe></rdf:Description></rdf:RDF>\
         </x:xmpmeta><?xpacket end=\"w\"?>",
        xml_escape(&e.software),
        xml_escape(&e.parameters),
        xml_escape(&e.recipe_json)
    )
}

// ---- JPEG: APP1 Exif and APP1 XMP after SOI/APP0; other metadata segments dropped. ----

const XMP_NAMESPACE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

fn jpeg_segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) -> Result<(), ImagingError> {
    let len = u16::try_from(payload.len() + 2)
        .map_err(|_| ImagingError::Encode("metadata too large for a JPEG segment".into()))?;
    out.extend([0xFF, marker]);
    out.extend(len.to_be_bytes());
    out.extend(payload);
    Ok(())
}

fn jpeg(bytes: &[u8], embedded: Option<&Embedded>) -> Result<Vec<u8>, ImagingError> {
    if bytes.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(corrupt("not a JPEG"));
    }
    let mut out = vec![0xFF, 0xD8];
    let mut pos = 2;
    let mut inserted = false;
    let insert = |out: &mut Vec<u8>| -> Result<(), ImagingError> {
        if let Some(e) = embedded {
            let mut exif = b"Exif\0\0".to_vec();
            exif.extend(exif_tiff(e));
            jpeg_segment(out, 0xE1, &exif)?;
            let mut xmp = XMP_NAMESPACE.to_vec();
            xmp.extend(xmp_packet(e).as_bytes());
            jpeg_segment(out, 0xE1, &xmp)?;
        }
        Ok(())
    };
    loop {
        let marker = *bytes
            .get(pos + 1)
            .ok_or_else(|| corrupt("JPEG ends before its image data"))?;
        if bytes[pos] != 0xFF {
            return Err(corrupt("JPEG segment does not start with a marker"));
        }
        if marker == 0xDA {
            // Start of scan: everything from here is image data.
            if !inserted {
                insert(&mut out)?;
            }
            out.extend(&bytes[pos..]);
            return Ok(out);
        }
        let len = usize::from(u16::from_be_bytes([
            *bytes
                .get(pos + 2)
                .ok_or_else(|| corrupt("cut JPEG segment"))?,
            *bytes
                .get(pos + 3)
                .ok_or_else(|| corrupt("cut JPEG segment"))?,
        ]));
        let segment = bytes
            .get(pos..pos + 2 + len)
            .ok_or_else(|| corrupt("cut JPEG segment"))?;
        // Keep JFIF (APP0), ICC colour (APP2), Adobe colour transform (APP14) and all
        // non-APP segments; drop EXIF/XMP (APP1), IPTC (APP13), comments and the rest.
        let is_metadata =
            marker == 0xFE || ((0xE1..=0xEF).contains(&marker) && marker != 0xE2 && marker != 0xEE);
        if !inserted && marker != 0xE0 {
            insert(&mut out)?;
            inserted = true;
        }
        if !is_metadata {
            out.extend(segment);
        }
        pos += 2 + len;
    }
}

// ---- WebP: an extended (VP8X) container with EXIF and XMP chunks. ----

fn riff_chunks(bytes: &[u8]) -> Result<Vec<Chunk<'_>>, ImagingError> {
    if bytes.get(..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WEBP") {
        return Err(corrupt("not a WebP"));
    }
    let mut rest = &bytes[12..];
    let mut chunks = Vec::new();
    while rest.len() >= 8 {
        let kind = [rest[0], rest[1], rest[2], rest[3]];
        let len = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let data = rest
            .get(8..8 + len)
            .ok_or_else(|| corrupt("WebP chunk runs past the end"))?;
        chunks.push((kind, data));
        let padded = 8 + len + (len & 1);
        rest = rest.get(padded..).unwrap_or(&[]);
    }
    Ok(chunks)
}

fn riff_push(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend(kind);
    out.extend((data.len() as u32).to_le_bytes());
    out.extend(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

fn webp(bytes: &[u8], embedded: Option<&Embedded>) -> Result<Vec<u8>, ImagingError> {
    let chunks = riff_chunks(bytes)?;
    let (width, height) = super::dimensions(bytes)?;
    let image_chunks: Vec<_> = chunks
        .iter()
        .filter(|(k, _)| !matches!(k, b"VP8X" | b"EXIF" | b"XMP "))
        .collect();
    let old_flags = chunks
        .iter()
        .find(|(k, _)| k == b"VP8X")
        .and_then(|(_, d)| d.first().copied())
        .unwrap_or(0);
    let vp8l_alpha = chunks
        .iter()
        .find(|(k, _)| k == b"VP8L")
        .and_then(|(_, d)| d.get(1..5))
        .is_some_and(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & (1 << 28) != 0);
    let has_alpha = old_flags & 0x10 != 0 || vp8l_alpha || chunks.iter().any(|(k, _)| k == b"ALPH");
    let keep_flags = old_flags & (0x20 | 0x02); // ICC and animation survive.
    let mut flags = keep_flags | if has_alpha { 0x10 } else { 0 };
    if embedded.is_some() {
        flags |= 0x08 | 0x04;
    }
    let mut body = b"WEBP".to_vec();
    if flags != 0 || old_flags != 0 {
        let mut vp8x = vec![flags, 0, 0, 0];
        vp8x.extend(&(width - 1).to_le_bytes()[..3]);
        vp8x.extend(&(height - 1).to_le_bytes()[..3]);
        riff_push(&mut body, b"VP8X", &vp8x);
    }
    for (kind, data) in image_chunks {
        riff_push(&mut body, kind, data);
    }
    if let Some(e) = embedded {
        riff_push(&mut body, b"EXIF", &exif_tiff(e));
        riff_push(&mut body, b"XMP ", xmp_packet(e).as_bytes());
    }
    let mut out = b"RIFF".to_vec();
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    Ok(out)
}

/// The text chunks of a PNG, by keyword (for restoring a recipe from an exported file).
pub fn png_text(bytes: &[u8]) -> Vec<(String, String)> {
    let Ok(chunks) = png_chunks(bytes) else {
        return Vec::new();
    };
    chunks
        .into_iter()
        .filter(|(k, _)| k == b"iTXt")
        .filter_map(|(_, data)| {
            let nul = data.iter().position(|b| *b == 0)?;
            let keyword = String::from_utf8(data[..nul].to_vec()).ok()?;
            let rest = data.get(nul + 3..)?; // Flag and method.
            let lang_end = rest.iter().position(|b| *b == 0)?;
            let rest = rest.get(lang_end + 1..)?;
            let tr_end = rest.iter().position(|b| *b == 0)?;
            let text = String::from_utf8(rest.get(tr_end + 1..)?.to_vec()).ok()?;
            Some((keyword, text))
        })
        .collect()
}

/// The recipe JSON an exported file carries (PNG iTXt, or the XMP of JPEG and WebP).
pub fn embedded_recipe_json(bytes: &[u8]) -> Option<String> {
    if let Some((_, text)) = png_text(bytes).into_iter().find(|(k, _)| k == RECIPE_KEY) {
        return Some(text);
    }
    // XMP is plain text inside JPEG and WebP files.
    let text = String::from_utf8_lossy(bytes);
    let start = text.find("<banana:recipe>")? + "<banana:recipe>".len();
    let end = start + text[start..].find("</banana:recipe>")?;
    Some(
        text[start..end]
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}
