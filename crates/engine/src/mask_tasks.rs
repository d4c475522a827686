//! Drawings made in the app, made files. A mask: the drawing rasterized at the photo's
//! own size and kept as a grey PNG, the photo kept losslessly beside it, both named by
//! the recipe's mask (with the drawing, to edit and send again). Mark-up: the marks
//! drawn on the photo as it is sent, kept as the guide that goes with it.

use super::{Answer, Engine, Inner};
use banana_core::recipe::drawing::{Mark, MarkupSpec, MaskDrawing};
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

    /// Draws marks on `photo` (the first input) and keeps the marked-up copy, which
    /// goes with the photo as a guide. Err says what to change.
    pub fn make_markup(
        &self,
        photo: InputImage,
        marks: Vec<Mark>,
    ) -> Answer<Result<MarkupSpec, String>> {
        let inner = self.inner.clone();
        let (reply, answer) = inner.answer();
        self.spawn(async move {
            let made = inner
                .blocking(move |lib| make_markup(lib, &photo, marks))
                .await;
            reply.send(made);
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

/// Draws marks on `photo` (the input as it is sent) and keeps the marked-up copy.
fn make_markup(inner: &Inner, photo: &InputImage, marks: Vec<Mark>) -> Result<MarkupSpec, String> {
    if marks.is_empty() {
        return Err("there are no marks yet: draw where and what to change".to_owned());
    }
    let bytes = inner
        .library
        .read_input(photo)
        .map_err(|e| format!("the photo is no longer in the library ({e}); add it again"))?;
    let pixels = imaging::decode(&bytes).map_err(|e| format!("the photo: {e}"))?;
    let guide = imaging::drawing::render_markup(&pixels.to_rgba8(), &marks);
    let (w, h) = guide.dimensions();
    let png = imaging::encode(&image::DynamicImage::ImageRgba8(guide), OutputFormat::Png)
        .map_err(|e| format!("the marked-up copy: {e}"))?;
    let sha256 = inner
        .library
        .put_input_file(&png, "image/png")
        .map_err(|e| format!("the marked-up copy could not be kept: {e}"))?;
    Ok(MarkupSpec {
        guide: InputImage {
            sha256,
            mime: "image/png".to_owned(),
            width: w,
            height: h,
        },
        photo: photo.sha256.clone(),
        marks,
    })
}

/// What a front end waits on for a mask.
pub type MaskAnswer = Answer<Result<MaskSpec, String>>;

/// What a front end waits on for mark-up.
pub type MarkupAnswer = Answer<Result<MarkupSpec, String>>;
