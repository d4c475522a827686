//! Drawings made pixels: a painted mask rasterized at any size, with smooth edges, so
//! the same shapes give the app's preview and the stored mask at the photo's size.

use image::{GrayImage, Luma};

use banana_core::recipe::drawing::{MaskDrawing, Shape};

/// The mask a drawing paints, `width` x `height`: 255 where it adds, 0 where nothing
/// or an eraser is, edges anti-aliased; turned over when the drawing is inverted.
pub fn rasterize_mask(drawing: &MaskDrawing, width: u32, height: u32) -> GrayImage {
    let mut mask = GrayImage::new(width, height);
    let (w, h) = (width as f32, height as f32);
    let long = w.max(h);
    for shape in &drawing.shapes {
        let erase = shape.erases();
        match shape {
            Shape::Stroke { points, width, .. } => {
                let radius = (width * long / 2.0).max(0.5);
                let px: Vec<[f32; 2]> = points.iter().map(|p| [p[0] * w, p[1] * h]).collect();
                match px.as_slice() {
                    [] => {}
                    [only] => capsule(&mut mask, *only, *only, radius, erase),
                    many => {
                        for pair in many.windows(2) {
                            capsule(&mut mask, pair[0], pair[1], radius, erase);
                        }
                    }
                }
            }
            Shape::Rect { from, to, .. } => {
                let (x0, x1) = (from[0].min(to[0]) * w, from[0].max(to[0]) * w);
                let (y0, y1) = (from[1].min(to[1]) * h, from[1].max(to[1]) * h);
                let (xs, xe) = (x0.round().max(0.0) as u32, (x1.round() as u32).min(width));
                let (ys, ye) = (y0.round().max(0.0) as u32, (y1.round() as u32).min(height));
                for y in ys..ye {
                    for x in xs..xe {
                        mask.put_pixel(x, y, Luma([if erase { 0 } else { 255 }]));
                    }
                }
            }
        }
    }
    if drawing.inverted {
        for p in mask.pixels_mut() {
            p.0[0] = 255 - p.0[0];
        }
    }
    mask
}

/// Paints (or erases) the round-ended segment from `a` to `b`.
fn capsule(mask: &mut GrayImage, a: [f32; 2], b: [f32; 2], radius: f32, erase: bool) {
    let (width, height) = mask.dimensions();
    segment_cover(width, height, a, b, radius, |x, y, cover| {
        let p = mask.get_pixel_mut(x, y);
        let v = f32::from(p.0[0]);
        p.0[0] = if erase {
            (v * (1.0 - cover)).round() as u8
        } else {
            v.max(255.0 * cover).round() as u8
        };
    });
}

/// Calls `each` with every pixel the round-ended segment from `a` to `b` of `radius`
/// covers, and how much of it (0 to 1, edges anti-aliased), within `width` x `height`.
fn segment_cover(
    width: u32,
    height: u32,
    a: [f32; 2],
    b: [f32; 2],
    radius: f32,
    mut each: impl FnMut(u32, u32, f32),
) {
    let reach = radius + 1.0;
    let x0 = (a[0].min(b[0]) - reach).floor().max(0.0) as u32;
    let y0 = (a[1].min(b[1]) - reach).floor().max(0.0) as u32;
    let x1 = ((a[0].max(b[0]) + reach).ceil().max(0.0) as u32).min(width);
    let y1 = ((a[1].max(b[1]) + reach).ceil().max(0.0) as u32).min(height);
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    for y in y0..y1 {
        for x in x0..x1 {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let t = if len2 > 0.0 {
                (((px - a[0]) * dx + (py - a[1]) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (cx, cy) = (a[0] + t * dx - px, a[1] + t * dy - py);
            let cover = (radius + 0.5 - (cx * cx + cy * cy).sqrt()).clamp(0.0, 1.0);
            if cover > 0.0 {
                each(x, y, cover);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stroke(points: &[[f32; 2]], width: f32, erase: bool) -> Shape {
        Shape::Stroke {
            points: points.to_vec(),
            width,
            erase,
        }
    }

    #[test]
    fn a_stroke_paints_its_band_and_nothing_else() {
        let d = MaskDrawing {
            shapes: vec![stroke(&[[0.1, 0.5], [0.9, 0.5]], 0.1, false)],
            inverted: false,
        };
        let m = rasterize_mask(&d, 200, 100);
        assert_eq!(m.get_pixel(100, 50).0[0], 255);
        assert_eq!(m.get_pixel(100, 5).0[0], 0, "far above the band");
        assert_eq!(m.get_pixel(2, 50).0[0], 0, "before its start");
        // 10 px radius around y = 50: y = 42 is inside, y = 38 is out.
        assert_eq!(m.get_pixel(100, 42).0[0], 255);
        assert_eq!(m.get_pixel(100, 38).0[0], 0);
    }

    #[test]
    fn an_eraser_takes_away_and_invert_turns_it_over() {
        let mut d = MaskDrawing {
            shapes: vec![
                Shape::Rect {
                    from: [0.0, 0.0],
                    to: [0.5, 1.0],
                    erase: false,
                },
                stroke(&[[0.25, 0.5]], 0.2, true),
            ],
            inverted: false,
        };
        let m = rasterize_mask(&d, 100, 100);
        assert_eq!(m.get_pixel(5, 5).0[0], 255);
        assert_eq!(m.get_pixel(25, 50).0[0], 0, "erased");
        assert_eq!(m.get_pixel(75, 50).0[0], 0, "never painted");
        d.inverted = true;
        let m = rasterize_mask(&d, 100, 100);
        assert_eq!(m.get_pixel(5, 5).0[0], 0);
        assert_eq!(m.get_pixel(25, 50).0[0], 255);
        assert_eq!(m.get_pixel(75, 50).0[0], 255);
        assert!(d.marks_anything());
        assert!(
            !MaskDrawing {
                shapes: vec![stroke(&[[0.5, 0.5]], 0.1, true)],
                inverted: false
            }
            .marks_anything()
        );
    }

    #[test]
    fn the_same_drawing_fits_any_size() {
        let d = MaskDrawing {
            shapes: vec![Shape::Rect {
                from: [0.25, 0.25],
                to: [0.75, 0.75],
                erase: false,
            }],
            inverted: false,
        };
        let small = rasterize_mask(&d, 40, 40);
        let big = rasterize_mask(&d, 400, 400);
        let share = |m: &GrayImage| {
            m.pixels().filter(|p| p.0[0] == 255).count() as f64 / f64::from(m.width() * m.height())
        };
        assert!((share(&small) - 0.25).abs() < 0.01 && (share(&big) - 0.25).abs() < 0.01);
    }
}

/// The words sent with a marked-up copy, after the user's prompt: when the model takes
/// the clean photo and the copy, and when it takes the copy alone.
pub const MARKUP_WORDS: (&str, &str) = (
    "The second image is the first with marks drawn on it (lines, arrows, boxes, circles, \
     labels) showing where and what to change. Follow the marks and the instruction, and \
     return the first image edited, with none of the marks in it.",
    "The marks drawn on this image (lines, arrows, boxes, circles, labels) show where and \
     what to change. Follow them and the instruction, and return the image edited, with \
     none of the marks in it.",
);

/// The photo with the marks drawn on it, at its own size: lines and outlines with
/// smooth edges, arrows with heads, labels in a legible box.
pub fn render_markup(
    photo: &image::RgbaImage,
    marks: &[banana_core::recipe::drawing::Mark],
) -> image::RgbaImage {
    use banana_core::recipe::drawing::Mark;
    let mut out = photo.clone();
    let (w, h) = (out.width() as f32, out.height() as f32);
    let long = w.max(h);
    let px = |p: &[f32; 2]| [p[0] * w, p[1] * h];
    for mark in marks {
        match mark {
            Mark::Pen {
                points,
                width,
                colour,
            } => {
                let r = (width * long / 2.0).max(0.75);
                let pts: Vec<[f32; 2]> = points.iter().map(px).collect();
                polyline(&mut out, &pts, r, *colour, false);
            }
            Mark::Arrow {
                from,
                to,
                width,
                colour,
            } => {
                let r = (width * long / 2.0).max(0.75);
                let (a, b) = (px(from), px(to));
                stroke(&mut out, a, b, r, *colour);
                let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
                let len = (dx * dx + dy * dy).sqrt().max(1e-3);
                let head = (r * 6.0).max(len * 0.2).min(len);
                for turn in [0.5_f32, -0.5] {
                    let (c, s) = (turn.cos(), turn.sin());
                    let tip = [
                        b[0] + (dx * c - dy * s) / len * head,
                        b[1] + (dx * s + dy * c) / len * head,
                    ];
                    stroke(&mut out, b, tip, r, *colour);
                }
            }
            Mark::Box {
                from,
                to,
                width,
                colour,
            } => {
                let r = (width * long / 2.0).max(0.75);
                let (a, b) = (px(from), px(to));
                let corners = [a, [b[0], a[1]], b, [a[0], b[1]]];
                polyline(&mut out, &corners, r, *colour, true);
            }
            Mark::Ellipse {
                from,
                to,
                width,
                colour,
            } => {
                let r = (width * long / 2.0).max(0.75);
                let (a, b) = (px(from), px(to));
                let (cx, cy) = ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0);
                let (rx, ry) = ((b[0] - a[0]).abs() / 2.0, (b[1] - a[1]).abs() / 2.0);
                let steps = 96;
                let pts: Vec<[f32; 2]> = (0..steps)
                    .map(|i| {
                        let t = i as f32 / steps as f32 * std::f32::consts::TAU;
                        [cx + rx * t.cos(), cy + ry * t.sin()]
                    })
                    .collect();
                polyline(&mut out, &pts, r, *colour, true);
            }
            Mark::Label {
                at,
                text,
                size,
                colour,
            } => label(&mut out, px(at), text, (size * long).max(8.0), *colour),
        }
    }
    out
}

fn polyline(img: &mut image::RgbaImage, pts: &[[f32; 2]], r: f32, colour: [u8; 3], closed: bool) {
    match pts {
        [] => {}
        [only] => stroke(img, *only, *only, r, colour),
        _ => {
            for pair in pts.windows(2) {
                stroke(img, pair[0], pair[1], r, colour);
            }
            if closed && let (Some(first), Some(last)) = (pts.first(), pts.last()) {
                stroke(img, *last, *first, r, colour);
            }
        }
    }
}

/// Blends `colour` over the round-ended segment from `a` to `b`.
fn stroke(img: &mut image::RgbaImage, a: [f32; 2], b: [f32; 2], radius: f32, colour: [u8; 3]) {
    let (width, height) = img.dimensions();
    segment_cover(width, height, a, b, radius, |x, y, cover| {
        blend(img.get_pixel_mut(x, y), colour, cover);
    });
}

fn blend(p: &mut image::Rgba<u8>, colour: [u8; 3], cover: f32) {
    for (c, v) in p.0.iter_mut().take(3).zip(colour) {
        *c = (f32::from(*c) * (1.0 - cover) + f32::from(v) * cover).round() as u8;
    }
    p.0[3] = p.0[3].max((cover * 255.0).round() as u8);
}

/// Writes `text` with its top-left at `at`, `height` pixels tall, on a pale box so it
/// reads on any photo.
fn label(img: &mut image::RgbaImage, at: [f32; 2], text: &str, height: f32, colour: [u8; 3]) {
    use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
    let Ok(font) = FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT) else {
        return;
    };
    let scaled = font.as_scaled(PxScale::from(height));
    // Lay the glyphs out on one line.
    let mut x = at[0];
    let baseline = at[1] + scaled.ascent();
    let mut glyphs = Vec::new();
    let mut last = None;
    for ch in text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(prev) = last {
            x += scaled.kern(prev, id);
        }
        glyphs
            .push(id.with_scale_and_position(PxScale::from(height), ab_glyph::point(x, baseline)));
        x += scaled.h_advance(id);
        last = Some(id);
    }
    let pad = height * 0.25;
    let backdrop = if banana_core::recipe::drawing::wants_dark_box(colour) {
        [20, 20, 20]
    } else {
        [250, 250, 250]
    };
    let (bx0, by0) = (at[0] - pad, at[1] - pad);
    let (bx1, by1) = (x + pad, at[1] + scaled.height() + pad);
    let (iw, ih) = img.dimensions();
    for y in (by0.max(0.0) as u32)..(by1.max(0.0) as u32).min(ih) {
        for xx in (bx0.max(0.0) as u32)..(bx1.max(0.0) as u32).min(iw) {
            blend(img.get_pixel_mut(xx, y), backdrop, 0.72);
        }
    }
    for glyph in glyphs {
        if let Some(outlined) = font.outline_glyph(glyph) {
            let bounds = outlined.px_bounds();
            outlined.draw(|gx, gy, cover| {
                let x = bounds.min.x as i64 + i64::from(gx);
                let y = bounds.min.y as i64 + i64::from(gy);
                if x >= 0 && y >= 0 && (x as u32) < iw && (y as u32) < ih && cover > 0.0 {
                    blend(
                        img.get_pixel_mut(x as u32, y as u32),
                        colour,
                        cover.min(1.0),
                    );
                }
            });
        }
    }
}

#[cfg(test)]
mod markup_tests {
    use super::*;
    use banana_core::recipe::drawing::Mark;

    #[test]
    fn marks_are_drawn_where_they_are_and_nowhere_else() {
        let photo = image::RgbaImage::from_pixel(200, 100, image::Rgba([128, 128, 128, 255]));
        let red = [255, 0, 0];
        let marks = vec![
            Mark::Arrow {
                from: [0.1, 0.5],
                to: [0.4, 0.5],
                width: 0.02,
                colour: red,
            },
            Mark::Ellipse {
                from: [0.6, 0.2],
                to: [0.9, 0.8],
                width: 0.02,
                colour: red,
            },
            Mark::Label {
                at: [0.05, 0.05],
                text: "Logo here".into(),
                size: 0.08,
                colour: red,
            },
        ];
        let out = render_markup(&photo, &marks);
        assert_eq!(out.dimensions(), (200, 100));
        assert_eq!(
            out.get_pixel(50, 50).0,
            [255, 0, 0, 255],
            "on the arrow's shaft"
        );
        assert_eq!(
            out.get_pixel(150, 50).0,
            [128, 128, 128, 255],
            "inside the ellipse"
        );
        assert_eq!(out.get_pixel(150, 21).0[0], 255, "on the ellipse's line");
        assert_eq!(out.get_pixel(100, 95).0, [128, 128, 128, 255], "untouched");
        // The label wrote red letters on a pale box.
        let reds = (10..60)
            .flat_map(|x| (4..22).map(move |y| (x, y)))
            .filter(|&(x, y)| {
                let p = out.get_pixel(x, y).0;
                p[0] > 200 && p[1] < 80
            })
            .count();
        assert!(reds > 20, "the label's letters ({reds} red pixels)");
        assert_eq!(render_markup(&photo, &[]), photo);
    }
}
