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
            let distance = (cx * cx + cy * cy).sqrt();
            let cover = (radius + 0.5 - distance).clamp(0.0, 1.0);
            if cover <= 0.0 {
                continue;
            }
            let p = mask.get_pixel_mut(x, y);
            let v = f32::from(p.0[0]);
            p.0[0] = if erase {
                (v * (1.0 - cover)).round() as u8
            } else {
                v.max(255.0 * cover).round() as u8
            };
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
