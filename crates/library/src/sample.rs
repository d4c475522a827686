//! A synthetic history for the scale benchmark and tests: many generations with real
//! (tiny) image and thumbnail files, marks, several providers and models, spread over
//! time. Written in bulk (one transaction, no per-file sync): it is test data, not work.

use rusqlite::params;

use super::{Library, LibraryError, extension_for, store};
use banana_core::recipe::{Catalog, OutputFormat, ProviderId, Recipe};
use banana_imaging as imaging;

/// What to build.
#[derive(Clone, Copy, Debug)]
pub struct SampleSpec {
    /// Generations.
    pub jobs: usize,
    /// Images per generation.
    pub images_per_job: usize,
    /// Edge of each image and thumbnail, in pixels.
    pub edge: u32,
}

const WORDS: [&str; 12] = [
    "banana", "rocket", "fox", "whale", "poster", "logo", "teapot", "forest", "neon", "studio",
    "portrait", "city",
];

/// A small PNG of one colour with a lighter square, distinct for each `n`.
fn tile(n: usize, edge: u32) -> Result<Vec<u8>, LibraryError> {
    let [r, g, b] = [
        (n * 37 % 256) as u8,
        (n * 91 % 256) as u8,
        (n * 53 % 256) as u8,
    ];
    let img = image::RgbaImage::from_fn(edge, edge, |x, y| {
        let inner = x > edge / 4 && x < edge * 3 / 4 && y > edge / 4 && y < edge * 3 / 4;
        if inner {
            image::Rgba([r / 2 + 128, g / 2 + 128, b / 2 + 128, 255])
        } else {
            image::Rgba([r, g, b, 255])
        }
    });
    imaging::encode(&image::DynamicImage::ImageRgba8(img), OutputFormat::Png).map_err(|e| {
        LibraryError::Io {
            path: "sample".into(),
            source: std::io::Error::other(e.to_string()),
        }
    })
}

impl Library {
    /// Fills the library with `spec.jobs` succeeded generations, newest last, one minute
    /// apart ending now; every 7th image is a favourite, ratings cycle 0-5, every 11th is
    /// picked and every 13th rejected; providers alternate Gemini and fal.ai.
    pub fn fill_sample(&self, spec: SampleSpec) -> Result<(), LibraryError> {
        let catalog = Catalog::bundled();
        let now = super::now_ms();
        let mut files = Vec::with_capacity(spec.jobs * spec.images_per_job);
        for n in 0..spec.jobs * spec.images_per_job {
            let bytes = tile(n, spec.edge)?;
            let sha = store::sha256_hex(&bytes);
            for (kind, ext) in [("images", extension_for("image/png")), ("thumbs", "png")] {
                let path = store::content_path(&self.root, kind, &sha, ext);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|source| LibraryError::Io {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                }
                std::fs::write(&path, &bytes).map_err(|source| LibraryError::Io {
                    path: path.clone(),
                    source,
                })?;
            }
            files.push((sha, bytes.len() as i64));
        }
        let session = self.current_session();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for job in 0..spec.jobs {
            let provider = if job % 2 == 0 {
                ProviderId::Gemini
            } else {
                ProviderId::Fal
            };
            let prompt = format!(
                "{} {} {} number {job}",
                WORDS[job % WORDS.len()],
                WORDS[(job / 3) % WORDS.len()],
                WORDS[(job / 7) % WORDS.len()]
            );
            let recipe = Recipe::new(&prompt, provider, &catalog);
            let created = now - (spec.jobs - job) as i64 * 60_000;
            tx.execute(
                "INSERT INTO jobs (created_at, updated_at, state, provider, model, prompt, recipe_json,
                     sandbox, session_id, finished_at)
                 VALUES (?1, ?1, 'succeeded', ?2, ?3, ?4, ?5, 1, ?6, ?1)",
                params![created, provider.as_str(), recipe.model, prompt, serde_json::to_string(&recipe)?, session],
            )?;
            let job_id = tx.last_insert_rowid();
            for i in 0..spec.images_per_job {
                let n = job * spec.images_per_job + i;
                let (sha, size) = &files[n];
                tx.execute(
                    "INSERT INTO images (job_id, idx, sha256, mime, width, height, size_bytes, created_at,
                         rating, flag, favourite)
                     VALUES (?1, ?2, ?3, 'image/png', ?4, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        job_id,
                        i as i64,
                        sha,
                        spec.edge,
                        size,
                        created,
                        (n % 6) as i64,
                        if n.is_multiple_of(13) { -1 } else if n.is_multiple_of(11) { 1 } else { 0 },
                        n.is_multiple_of(7)
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
