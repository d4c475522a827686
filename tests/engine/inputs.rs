//! Input preparation against generated fixtures: every awkward file either works or
//! gets its own message naming the file; none panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use banana_studio::imaging::{DEFAULT_MAX_SIDE_PX, decode, prepare_input};
use image::{DynamicImage, ImageBuffer, ImageEncoder, Rgb, RgbImage, Rgba};

fn png_of(img: &DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A TIFF-structured EXIF block with one Orientation entry.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = vec![0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00];
    exif.extend([0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00]);
    exif.extend(value.to_le_bytes());
    exif.extend([0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
    exif
}

fn left_red_right_blue(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgb([250, 0, 0])
        } else {
            Rgb([0, 0, 250])
        }
    })
}

#[test]
fn an_exif_rotated_jpeg_arrives_upright_and_without_metadata() {
    let img = left_red_right_blue(40, 20);
    let mut out = Cursor::new(Vec::new());
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95);
    encoder.set_exif_metadata(exif_orientation(6)).unwrap();
    encoder
        .write_image(img.as_raw(), 40, 20, image::ExtendedColorType::Rgb8)
        .unwrap();
    let bytes = out.into_inner();
    assert!(
        bytes.windows(4).any(|w| w == b"Exif"),
        "the fixture carries EXIF"
    );

    let prepared = prepare_input("phone.jpg", &bytes, DEFAULT_MAX_SIDE_PX).unwrap();
    assert_eq!(
        (prepared.width, prepared.height),
        (20, 40),
        "rotated 90 degrees clockwise"
    );
    assert_eq!(prepared.mime, "image/jpeg");
    assert!(
        !prepared.bytes.windows(4).any(|w| w == b"Exif"),
        "metadata is stripped"
    );
    let upright = decode(&prepared.bytes).unwrap().to_rgb8();
    let top = upright.get_pixel(10, 5).0;
    let bottom = upright.get_pixel(10, 35).0;
    assert!(
        top[0] > 200 && top[2] < 60,
        "red on top after rotation: {top:?}"
    );
    assert!(bottom[2] > 200 && bottom[0] < 60, "blue below: {bottom:?}");
}

#[test]
fn sixteen_bit_grayscale_and_alpha_png_work() {
    let deep: ImageBuffer<Rgb<u16>, Vec<u16>> =
        ImageBuffer::from_pixel(30, 30, Rgb([65535, 0, 32768]));
    let prepared =
        prepare_input("deep.png", &png_of(&DynamicImage::ImageRgb16(deep)), 3072).unwrap();
    assert_eq!(prepared.mime, "image/jpeg");
    let gray = DynamicImage::ImageLuma8(image::GrayImage::from_pixel(30, 20, image::Luma([90])));
    assert_eq!(
        prepare_input("gray.png", &png_of(&gray), 3072)
            .unwrap()
            .width,
        30
    );
    let mut clear = image::RgbaImage::from_pixel(30, 30, Rgba([10, 200, 10, 255]));
    clear.put_pixel(0, 0, Rgba([0, 0, 0, 0]));
    let prepared = prepare_input(
        "cutout.png",
        &png_of(&DynamicImage::ImageRgba8(clear)),
        3072,
    )
    .unwrap();
    assert_eq!(prepared.mime, "image/png", "transparency keeps PNG");
    let opaque = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(8, 8, Rgba([1, 2, 3, 255])));
    assert_eq!(
        prepare_input("opaque.png", &png_of(&opaque), 3072)
            .unwrap()
            .mime,
        "image/jpeg"
    );
}

#[test]
fn a_cmyk_jpeg_works() {
    let mut bytes = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut bytes, 90);
    let data: Vec<u8> = (0..32 * 32).flat_map(|_| [0u8, 200, 200, 0]).collect();
    encoder
        .encode(&data, 32, 32, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    let prepared = prepare_input("print.jpg", &bytes, 3072).unwrap();
    assert_eq!((prepared.width, prepared.height), (32, 32));
}

#[test]
fn an_animated_gif_gives_its_first_frame() {
    let mut bytes = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut bytes);
        let red = image::RgbaImage::from_pixel(16, 16, Rgba([255, 0, 0, 255]));
        let blue = image::RgbaImage::from_pixel(16, 16, Rgba([0, 0, 255, 255]));
        encoder
            .encode_frames(vec![image::Frame::new(red), image::Frame::new(blue)])
            .unwrap();
    }
    let prepared = prepare_input("anim.gif", &bytes, 3072).unwrap();
    let px = decode(&prepared.bytes).unwrap().to_rgb8().get_pixel(8, 8).0;
    assert!(px[0] > 200 && px[2] < 60, "first frame is red: {px:?}");
}

#[test]
fn a_large_photo_is_downscaled_to_the_provider_limit() {
    let big = DynamicImage::ImageRgb8(RgbImage::from_pixel(4000, 3000, Rgb([120, 130, 140])));
    let mut out = Cursor::new(Vec::new());
    big.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    let prepared = prepare_input("big.jpg", &out.into_inner(), 3072).unwrap();
    assert!(prepared.downscaled);
    assert_eq!((prepared.width, prepared.height), (3072, 2304));
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_12000_by_12000_image_is_refused_by_its_header_with_the_limit() {
    // A real PNG whose header says 12000x12000: refused before any pixel is decoded.
    let mut bytes = png_of(&DynamicImage::ImageLuma8(image::GrayImage::new(4, 4)));
    bytes[16..20].copy_from_slice(&12000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&12000u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    let err = prepare_input("huge.png", &bytes, 3072).unwrap_err();
    assert_eq!(
        err.to_string(),
        "huge.png: is 12000x12000 (144 megapixels); the limit is 100 megapixels, so scale it down first"
    );
}

#[test]
fn broken_and_foreign_files_get_their_own_message() {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(left_red_right_blue(64, 64))
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    let jpeg = out.into_inner();
    match prepare_input("cut.jpg", &jpeg[..jpeg.len() / 3], 3072) {
        Ok(p) => assert_eq!(
            (p.width, p.height),
            (64, 64),
            "a lenient decode keeps the size"
        ),
        Err(e) => assert_eq!(
            e.to_string(),
            "cut.jpg: is damaged or cut off; open it in an editor and save it again"
        ),
    }
    let text =
        prepare_input("notes.png", b"shopping list: bananas, more bananas\n", 3072).unwrap_err();
    assert_eq!(
        text.to_string(),
        "notes.png: is text, not an image; pick a PNG, JPEG, WebP or GIF file"
    );
    let empty = prepare_input("empty.png", b"", 3072).unwrap_err();
    assert_eq!(empty.to_string(), "empty.png: is empty (0 bytes)");
    let pdf =
        prepare_input("brief.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", 3072).unwrap_err();
    assert!(pdf.reason.starts_with("is a PDF document"), "{pdf}");
    let heic =
        prepare_input("IMG_0001.HEIC", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", 3072).unwrap_err();
    assert!(heic.reason.starts_with("is a HEIC/HEIF photo"), "{heic}");
    let too_big = vec![0u8; 50 * 1024 * 1024 + 1];
    let err = prepare_input("raw.bin", &too_big, 3072).unwrap_err();
    assert_eq!(
        err.to_string(),
        "raw.bin: is 50.0 MB; the limit is 50 MB, so export a smaller copy"
    );
}
