//! Masks painted in the app, made files: the drawing rasterized at the photo's own size
//! and kept as a grey PNG, the photo kept losslessly beside it; the recipe's mask then
//! names both (and keeps the drawing, so it can be edited and sent again).

use super::{Answer, Engine, Inner};
use banana_core::recipe::drawing::MaskDrawing;
use banana_core::recipe::{InputImage, MaskSpec, OutputFormat};
use banana_imaging as imaging;

/// The widest feather the app offers, in pixels.
pub const MAX_FEATHER_PX: f32 = 256.0;

impl Engine {
    /// A stored input's pixels, no longer than `max_side` (to paint on).
    pub fn load_input_pixels(&self, input: InputImage, max_side: u32) -> crate::PixelsAnswer {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn(async move {
            let pixels = inner
                .run_blocking(move |lib| -> Result<_, crate::TaskError> {
                    let bytes = lib.library.read_input(&input)?;
                    let img = imaging::decode(&bytes)?;
                    let fitted = if img.width().max(img.height()) > max_side {
                        img.thumbnail(max_side, max_side)
                    } else {
                        img
                    };
                    Ok(imaging::Rgba::from(fitted))
                })
                .await
                .map(std::sync::Arc::new);
            reply.send(pixels);
        });
        answer
    }

    /// Makes the mask of a masked edit of `photo` from a painted drawing. Err says what
    /// to change (nothing painted, a photo no longer in the library).
    pub fn make_mask(
        &self,
        photo: InputImage,
        drawing: MaskDrawing,
        feather_px: f32,
    ) -> Answer<Result<MaskSpec, String>> {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn(async move {
            let made = inner
                .blocking(move |lib| make(lib, &photo, drawing, feather_px))
                .await;
            reply.send(made);
        });
        answer
    }
}

fn make(
    inner: &Inner,
    photo: &InputImage,
    drawing: MaskDrawing,
    feather_px: f32,
) -> Result<MaskSpec, String> {
    if !drawing.marks_anything() {
        return Err(
            "the mask is empty: paint the region to change (or Invert to change \
                    everything but what is painted)"
                .to_owned(),
        );
    }
    if !(0.0..=MAX_FEATHER_PX).contains(&feather_px) {
        return Err(format!("the feather is 0 to {MAX_FEATHER_PX} pixels"));
    }
    // The photo as it came (full size, one lossy step fewer) where it was kept, else
    // the input as it is sent.
    let photo = match inner.library.input_original(&photo.sha256) {
        Ok(Some(original)) => original,
        _ => photo.clone(),
    };
    let photo = &photo;
    let bytes = inner
        .library
        .read_input(photo)
        .map_err(|e| format!("the photo is no longer in the library ({e}); add it again"))?;
    let pixels = imaging::decode(&bytes).map_err(|e| format!("the photo: {e}"))?;
    let (w, h) = (pixels.width(), pixels.height());
    let mask = imaging::drawing::rasterize_mask(&drawing, w, h);
    if !mask.pixels().any(|p| p.0[0] >= 128) {
        return Err(
            "the painted region is too thin to change anything: paint a wider stroke".to_owned(),
        );
    }
    let png = |img: image::DynamicImage, what: &str| {
        imaging::encode(&img, OutputFormat::Png).map_err(|e| format!("{what}: {e}"))
    };
    let mask_png = png(image::DynamicImage::ImageLuma8(mask), "the mask")?;
    let store = |bytes: &[u8], what: &str| {
        inner
            .library
            .put_input_file(bytes, "image/png")
            .map_err(|e| format!("{what} could not be kept: {e}"))
    };
    let mask_sha = store(&mask_png, "the mask")?;
    // A PNG input is already lossless; anything else is kept as a PNG of its pixels.
    let original_sha = if photo.mime == "image/png" {
        photo.sha256.clone()
    } else {
        store(
            &png(
                image::DynamicImage::ImageRgba8(pixels.to_rgba8()),
                "the photo",
            )?,
            "the photo",
        )?
    };
    let png_input = |sha256: String| InputImage {
        sha256,
        mime: "image/png".to_owned(),
        width: w,
        height: h,
    };
    Ok(MaskSpec {
        image: png_input(mask_sha),
        original: png_input(original_sha),
        feather_px,
        drawing: Some(drawing),
    })
}

/// Keeps the answer type in one place for front ends.
pub type MaskAnswer = Answer<Result<MaskSpec, String>>;
