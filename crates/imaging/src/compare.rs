//! Comparing a result with what it came from: a difference heatmap that makes
//! unasked-for changes (faces, text, background drift) visible.

use image::{DynamicImage, RgbaImage, imageops::FilterType};

use super::Rgba;

/// A per-pixel difference above this (0-255, on the brightest channel) counts as changed.
pub const CHANGED_THRESHOLD: u8 = 24;

/// Before, after and their difference, all at the after image's size.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The earlier image, scaled to the later one's size.
    pub before: Rgba,
    /// The heatmap: dark where unchanged, through red to yellow where most changed.
    pub heatmap: Rgba,
    /// Share of pixels that changed noticeably, 0 to 1.
    pub changed_fraction: f32,
}

/// The heatmap's colour for a difference `d` (0 none, 255 most), also drawn as its legend.
pub fn heat(d: u8) -> [u8; 4] {
    // Black -> red -> yellow -> white as the difference grows.
    let t = f32::from(d) / 255.0;
    let r = (t * 3.0).min(1.0);
    let g = ((t - 0.33) * 3.0).clamp(0.0, 1.0);
    let b = ((t - 0.66) * 3.0).clamp(0.0, 1.0);
    [(r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8, 255]
}

/// Compares `after` with `before` (scaled to `after`'s size when they differ).
pub fn compare(before: &DynamicImage, after: &DynamicImage) -> Comparison {
    let (w, h) = (after.width(), after.height());
    let before = if (before.width(), before.height()) == (w, h) {
        before.to_rgba8()
    } else {
        before.resize_exact(w, h, FilterType::Triangle).to_rgba8()
    };
    let after = after.to_rgba8();
    let mut changed = 0u64;
    let heatmap = RgbaImage::from_fn(w, h, |x, y| {
        let a = before.get_pixel(x, y).0;
        let b = after.get_pixel(x, y).0;
        let d = (0..3).map(|i| a[i].abs_diff(b[i])).max().unwrap_or(0);
        if d > CHANGED_THRESHOLD {
            changed += 1;
        }
        image::Rgba(heat(d))
    });
    let total = u64::from(w) * u64::from(h);
    Comparison {
        before: Rgba::from(DynamicImage::ImageRgba8(before)),
        heatmap: Rgba::from(DynamicImage::ImageRgba8(heatmap)),
        changed_fraction: if total == 0 {
            0.0
        } else {
            changed as f32 / total as f32
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_images_show_no_change_and_a_patch_shows_its_share() {
        let base = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            10,
            10,
            image::Rgb([50, 60, 70]),
        ));
        assert_eq!(compare(&base, &base).changed_fraction, 0.0);
        let mut edited = base.to_rgb8();
        for x in 0..5 {
            for y in 0..2 {
                edited.put_pixel(x, y, image::Rgb([250, 60, 70]));
            }
        }
        let c = compare(&base, &DynamicImage::ImageRgb8(edited));
        assert!((c.changed_fraction - 0.10).abs() < 1e-6);
        assert_eq!(
            &c.heatmap.pixels[..4],
            &[255, 255, 95, 255][..],
            "a big change is hot"
        );
        let small =
            DynamicImage::ImageRgb8(image::RgbImage::from_pixel(5, 5, image::Rgb([50, 60, 70])));
        assert_eq!(
            compare(&small, &base).before.width,
            10,
            "scaled to the later image"
        );
    }
}
