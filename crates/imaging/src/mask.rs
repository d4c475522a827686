//! Masked edits: the mask read and checked, the guide the model sees (the photo with
//! the region to change tinted), and the answer composited back so that outside the
//! mask and its feathered edge every pixel is the original's, bit for bit.

use image::{DynamicImage, GrayImage, Luma, Rgba, RgbaImage, imageops::FilterType};

use super::{ImagingError, decode};

/// The tint that shows the model the region to change: magenta, which photos rarely
/// hold, at this share.
const TINT: [u8; 3] = [255, 0, 255];
const TINT_SHARE: f32 = 0.45;

/// The words sent with the guide image, after the user's prompt: when the model takes
/// the clean photo and the guide, and when it takes the guide alone.
pub const GUIDE_WORDS: (&str, &str) = (
    "Edit only the region tinted magenta in the second image; keep everything else \
     exactly as it is in the first image. Return the first image edited, without any \
     magenta tint.",
    "Edit only the region tinted magenta; keep everything else exactly as it is. Return \
     the image edited, without any magenta tint.",
);

/// Reads a mask (white = change, black = keep; grey between) at the size of the image
/// it is for, scaled when its own size differs. A mask that is not an image, or has no
/// white, says so.
pub fn load_mask(bytes: &[u8], width: u32, height: u32) -> Result<GrayImage, ImagingError> {
    let mask = decode(bytes)
        .map_err(|e| ImagingError::Corrupt(format!("the mask is not an image ({e})")))?
        .to_luma8();
    if !mask.pixels().any(|p| p.0[0] >= 128) {
        return Err(ImagingError::Corrupt(
            "the mask has no white pixels: paint white where the image should change".into(),
        ));
    }
    if mask.dimensions() == (width, height) {
        Ok(mask)
    } else {
        Ok(image::imageops::resize(
            &mask,
            width,
            height,
            FilterType::Triangle,
        ))
    }
}

/// The photo with the region to change tinted, for the model to see where.
pub fn guide(original: &RgbaImage, mask: &GrayImage) -> RgbaImage {
    let mut out = original.clone();
    for (pixel, m) in out.pixels_mut().zip(mask.pixels()) {
        let share = TINT_SHARE * f32::from(m.0[0]) / 255.0;
        for (c, tint) in pixel.0.iter_mut().take(3).zip(TINT) {
            *c = (f32::from(*c) * (1.0 - share) + f32::from(tint) * share).round() as u8;
        }
    }
    out
}

/// The mask softened over `radius` pixels, so the edit blends in; pixels further than
/// that from any white stay exactly 0.
pub fn feather(mask: &GrayImage, radius: f32) -> GrayImage {
    if radius < 0.5 {
        return mask.clone();
    }
    let blurred = image::imageops::blur(mask, radius / 2.0);
    // A blur spreads a little everywhere; what it spreads under 1/255 is not an edit.
    let mut out = blurred;
    for p in out.pixels_mut() {
        if p.0[0] < 1 {
            *p = Luma([0]);
        }
    }
    out
}

/// The original with the answer put in where the (feathered) mask says: the answer is
/// scaled to the original's size first. Where the mask is 0 the original's pixel is
/// kept as it is.
pub fn composite(
    original: &RgbaImage,
    answer: &DynamicImage,
    mask: &GrayImage,
) -> Result<RgbaImage, ImagingError> {
    let (w, h) = original.dimensions();
    if mask.dimensions() != (w, h) {
        return Err(ImagingError::Encode(
            "the mask and the image differ in size".into(),
        ));
    }
    let answer = if (answer.width(), answer.height()) == (w, h) {
        answer.to_rgba8()
    } else {
        answer.resize_exact(w, h, FilterType::Lanczos3).to_rgba8()
    };
    let mut out = original.clone();
    for ((o, a), m) in out.pixels_mut().zip(answer.pixels()).zip(mask.pixels()) {
        let m = m.0[0];
        if m == 0 {
            continue;
        }
        if m == 255 {
            *o = Rgba([a.0[0], a.0[1], a.0[2], o.0[3]]);
            continue;
        }
        let t = f32::from(m) / 255.0;
        for i in 0..3 {
            o.0[i] = (f32::from(o.0[i]) * (1.0 - t) + f32::from(a.0[i]) * t).round() as u8;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::encode;
    use banana_core::recipe::OutputFormat;

    fn photo(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            Rgba([
                (x * 7 % 256) as u8,
                (y * 13 % 256) as u8,
                ((x + y) % 256) as u8,
                255,
            ])
        })
    }

    fn square_mask(w: u32, h: u32, from: u32, to: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            Luma([if (from..to).contains(&x) && (from..to).contains(&y) {
                255
            } else {
                0
            }])
        })
    }

    #[test]
    fn outside_the_feathered_mask_every_pixel_is_the_originals() {
        let original = photo(200, 120);
        // The model answers at another size, in other colours everywhere.
        let answer =
            DynamicImage::ImageRgba8(RgbaImage::from_pixel(100, 60, Rgba([9, 200, 30, 255])));
        let mask = feather(&square_mask(200, 120, 40, 80), 6.0);
        let out = composite(&original, &answer, &mask).unwrap();
        assert_eq!(out.dimensions(), (200, 120), "the original's size");
        let mut changed_outside = 0;
        let mut changed_inside = 0;
        for (x, y, p) in out.enumerate_pixels() {
            let m = mask.get_pixel(x, y).0[0];
            if m == 0 {
                if p != original.get_pixel(x, y) {
                    changed_outside += 1;
                }
            } else if m == 255 && p.0[..3] == [9, 200, 30] {
                changed_inside += 1;
            }
        }
        assert_eq!(changed_outside, 0, "bit-identical outside");
        assert!(
            changed_inside > 20 * 20,
            "the inside is the answer: {changed_inside}"
        );
        // Far from the square nothing moved; the feather reaches only a few pixels out.
        assert_eq!(out.get_pixel(150, 100), original.get_pixel(150, 100));
        assert_eq!(mask.get_pixel(20, 60).0[0], 0);
    }

    #[test]
    fn a_mask_is_scaled_to_the_image_and_must_have_white() {
        let png = encode(
            &DynamicImage::ImageLuma8(square_mask(50, 30, 10, 20)),
            OutputFormat::Png,
        )
        .unwrap();
        let mask = load_mask(&png, 200, 120).unwrap();
        assert_eq!(mask.dimensions(), (200, 120));
        let black = encode(
            &DynamicImage::ImageLuma8(GrayImage::new(10, 10)),
            OutputFormat::Png,
        )
        .unwrap();
        assert!(
            load_mask(&black, 10, 10)
                .unwrap_err()
                .to_string()
                .contains("no white")
        );
        assert!(
            load_mask(b"not an image", 10, 10)
                .unwrap_err()
                .to_string()
                .contains("not an image")
        );
    }

    #[test]
    fn the_guide_tints_only_the_masked_region() {
        let original = photo(40, 40);
        let mask = square_mask(40, 40, 10, 20);
        let g = guide(&original, &mask);
        assert_eq!(g.get_pixel(0, 0), original.get_pixel(0, 0));
        let (o, t) = (original.get_pixel(15, 15), g.get_pixel(15, 15));
        assert!(t.0[0] >= o.0[0] && t.0[2] >= o.0[2] && t.0[1] <= o.0[1] && t != o);
    }
}
