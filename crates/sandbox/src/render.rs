//! Procedural pictures for the fakes: deterministic from the prompt and seed, so two
//! prompts look different, and edits visibly derive from their input.

use image::{DynamicImage, Rgb, RgbImage, imageops::FilterType};

/// The longest side actually drawn; larger outputs are scaled up from it.
const DRAW_SIDE_PX: u32 = 768;

/// FNV-1a, stable across runs and platforms.
pub fn stable_hash(text: &str, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A small deterministic random source (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn hsv(h: f32, s: f32, v: f32) -> [f32; 3] {
    let h = h.rem_euclid(1.0) * 6.0;
    let i = h.floor();
    let f = h - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match i as u32 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

enum Shape {
    Disc { cx: f32, cy: f32, r: f32 },
    Ring { cx: f32, cy: f32, r: f32, w: f32 },
    Rect { x0: f32, y0: f32, x1: f32, y1: f32 },
    Band { angle: f32, offset: f32, w: f32 },
}

impl Shape {
    fn contains(&self, x: f32, y: f32) -> bool {
        match *self {
            Shape::Disc { cx, cy, r } => (x - cx).powi(2) + (y - cy).powi(2) <= r * r,
            Shape::Ring { cx, cy, r, w } => {
                let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
                (d - r).abs() <= w
            }
            Shape::Rect { x0, y0, x1, y1 } => x >= x0 && x <= x1 && y >= y0 && y <= y1,
            Shape::Band { angle, offset, w } => {
                (x * angle.cos() + y * angle.sin() - offset).abs() <= w
            }
        }
    }
}

struct Scene {
    background: [[f32; 3]; 2],
    angle: f32,
    shapes: Vec<(Shape, [f32; 3], f32)>,
}

fn scene(prompt: &str, seed: u64) -> Scene {
    let mut rng = Rng(stable_hash(prompt, seed));
    let hue = rng.unit();
    let background = [hsv(hue, 0.55, 0.95), hsv(hue + 0.5, 0.7, 0.35)];
    let angle = rng.unit() * std::f32::consts::TAU;
    let count = 3 + (rng.next() % 5) as usize;
    let shapes = (0..count)
        .map(|i| {
            let kind = rng.next() % 4;
            let (cx, cy) = (rng.unit(), rng.unit());
            let size = 0.08 + rng.unit() * 0.3;
            let shape = match kind {
                0 => Shape::Disc { cx, cy, r: size },
                1 => Shape::Ring {
                    cx,
                    cy,
                    r: size,
                    w: 0.015 + rng.unit() * 0.03,
                },
                2 => Shape::Rect {
                    x0: cx - size,
                    y0: cy - size * 0.6,
                    x1: cx + size,
                    y1: cy + size * 0.6,
                },
                _ => Shape::Band {
                    angle: rng.unit() * std::f32::consts::PI,
                    offset: rng.unit(),
                    w: 0.02 + rng.unit() * 0.05,
                },
            };
            let color = hsv(hue + 0.15 * (i as f32 + 1.0), 0.8, 0.9);
            (shape, color, 0.55 + rng.unit() * 0.4)
        })
        .collect();
    Scene {
        background,
        angle,
        shapes,
    }
}

fn to_u8(c: [f32; 3]) -> Rgb<u8> {
    Rgb(c.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
}

fn draw_size(width: u32, height: u32) -> (u32, u32) {
    let long = width.max(height).max(1);
    if long <= DRAW_SIDE_PX {
        return (width.max(1), height.max(1));
    }
    let scale = DRAW_SIDE_PX as f32 / long as f32;
    (
        ((width as f32 * scale).round() as u32).max(1),
        ((height as f32 * scale).round() as u32).max(1),
    )
}

fn paint(scene: &Scene, base: Option<&RgbImage>, w: u32, h: u32) -> RgbImage {
    let (dx, dy) = (scene.angle.cos(), scene.angle.sin());
    let shape_alpha = if base.is_some() { 0.45 } else { 1.0 };
    // The picture is a centred crop of a square scene, so circles stay round.
    let long = w.max(h) as f32;
    let (off_x, off_y) = ((long - w as f32) / 2.0, (long - h as f32) / 2.0);
    RgbImage::from_fn(w, h, |px, py| {
        let x = (px as f32 + off_x) / long;
        let y = (py as f32 + off_y) / long;
        let mut c = match base {
            Some(img) => {
                // An edit keeps its input, tinted toward the prompt's colour.
                let p = img.get_pixel(px, py).0.map(|v| f32::from(v) / 255.0);
                let tint = scene.background[0];
                [0, 1, 2].map(|i| p[i] * 0.7 + tint[i] * 0.3)
            }
            None => {
                let t = ((x - 0.5) * dx + (y - 0.5) * dy + 0.5).clamp(0.0, 1.0);
                let [a, b] = scene.background;
                [0, 1, 2].map(|i| a[i] * (1.0 - t) + b[i] * t)
            }
        };
        for (shape, color, alpha) in &scene.shapes {
            if shape.contains(x, y) {
                let a = alpha * shape_alpha;
                c = [0, 1, 2].map(|i| c[i] * (1.0 - a) + color[i] * a);
            }
        }
        // A hazard stripe along the bottom marks every sandbox picture as fake.
        if py as f32 > h as f32 * 0.965 {
            let stripe = ((px + py) / 12) % 2 == 0;
            c = if stripe {
                [0.98, 0.82, 0.1]
            } else {
                [0.08, 0.08, 0.08]
            };
        }
        to_u8(c)
    })
}

/// A picture of `width` x `height` pixels, deterministic from the prompt and seed.
pub fn render(prompt: &str, seed: u64, width: u32, height: u32) -> RgbImage {
    let (w, h) = draw_size(width, height);
    let small = paint(&scene(prompt, seed), None, w, h);
    scale_to(small, width, height)
}

/// An edit of `input`: the input fills the frame, tinted, with the prompt's shapes over it.
pub fn render_edit(
    input: &DynamicImage,
    prompt: &str,
    seed: u64,
    width: u32,
    height: u32,
) -> RgbImage {
    let (w, h) = draw_size(width, height);
    let base = input.resize_to_fill(w, h, FilterType::Triangle).to_rgb8();
    let small = paint(&scene(prompt, seed), Some(&base), w, h);
    scale_to(small, width, height)
}

fn scale_to(img: RgbImage, width: u32, height: u32) -> RgbImage {
    if img.width() == width && img.height() == height {
        img
    } else {
        image::imageops::resize(&img, width, height, FilterType::Nearest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_difference(a: &RgbImage, b: &RgbImage) -> f64 {
        let total: u64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| u64::from(x.abs_diff(*y)))
            .sum();
        total as f64 / a.as_raw().len() as f64
    }

    #[test]
    fn same_prompt_same_picture_other_prompt_other_picture() {
        let a = render("a red fox", 0, 64, 48);
        assert_eq!(a, render("a red fox", 0, 64, 48));
        let b = render("a blue whale", 0, 64, 48);
        assert!(mean_difference(&a, &b) > 10.0);
        assert_eq!(render("x", 0, 3000, 1000).dimensions(), (3000, 1000));
    }

    #[test]
    fn an_edit_stays_close_to_its_input() {
        let input = DynamicImage::ImageRgb8(render("a cat", 1, 64, 64));
        let edited = render_edit(&input, "make it blue", 0, 64, 64);
        let unrelated = render("make it blue", 0, 64, 64);
        let input = input.to_rgb8();
        assert!(mean_difference(&edited, &input) < mean_difference(&unrelated, &input));
        assert!(mean_difference(&edited, &input) > 3.0);
    }

    /// Every sandbox picture, generated or edited, at any size and shape, carries the
    /// yellow-and-black hazard stripe along its bottom edge.
    #[test]
    fn every_picture_carries_the_hazard_stripe() {
        let is_yellow = |p: &image::Rgb<u8>| p.0[0] > 200 && p.0[1] > 170 && p.0[2] < 80;
        let is_dark = |p: &image::Rgb<u8>| p.0.iter().all(|&v| v < 40);
        let input = DynamicImage::ImageRgb8(render("a cat", 1, 64, 64));
        for img in [
            render("a red fox", 0, 1024, 1024),
            render("a wide one", 3, 1536, 672),
            render("a tall one", 4, 768, 1344),
            render_edit(&input, "make it blue", 0, 800, 600),
        ] {
            let (w, h) = img.dimensions();
            let bottom: Vec<_> = (0..w).map(|x| *img.get_pixel(x, h - 2)).collect();
            let yellow = bottom.iter().filter(|p| is_yellow(p)).count();
            let dark = bottom.iter().filter(|p| is_dark(p)).count();
            assert!(
                yellow > w as usize / 4 && dark > w as usize / 4,
                "{w}x{h}: {yellow} yellow, {dark} dark"
            );
            assert_eq!(
                yellow + dark,
                w as usize,
                "{w}x{h}: the bottom row is all stripe"
            );
        }
    }
}
