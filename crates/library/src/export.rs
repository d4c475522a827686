//! Export: file names from a template (sanitised, never overwriting) and the recipe
//! embedded in the file, or a clean export with no metadata at all.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::dates::{rfc3339, utc_parts};
use super::{ImageId, ImageRecord, JobId, JobRecord, Library, LibraryError};
use banana_core::ErrorKind;
use banana_core::recipe::OutputFormat;
use banana_imaging::metadata::{self, Embedded};

/// Why an image could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No such image (or it was deleted for good).
    #[error("image {0} is not in the history")]
    UnknownImage(ImageId),
    /// The image's job is gone.
    #[error("job {0} is not in the history")]
    UnknownJob(JobId),
    /// The history could not be read.
    #[error(transparent)]
    Library(#[from] LibraryError),
    /// The stored file could not be read.
    #[error("image {image} cannot be read: {source}")]
    Read {
        /// Which image.
        image: ImageId,
        /// The cause.
        source: std::io::Error,
    },
    /// The image could not be re-encoded (metadata or format).
    #[error("image {image}: {message}")]
    Encode {
        /// Which image.
        image: ImageId,
        /// What the encoder said.
        message: String,
    },
    /// The destination could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// Where.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl ExportError {
    /// What the user can do about it: an unknown image is a wrong argument (exit 2),
    /// the rest fail on this machine (exit 6).
    pub fn kind(&self) -> ErrorKind {
        match self {
            ExportError::UnknownImage(_) | ExportError::UnknownJob(_) => ErrorKind::InvalidInput,
            ExportError::Library(_)
            | ExportError::Read { .. }
            | ExportError::Encode { .. }
            | ExportError::Write { .. } => ErrorKind::Storage,
        }
    }
}

/// The default file name template.
pub const DEFAULT_TEMPLATE: &str = "{date}_{prompt}_{n}.{ext}";

/// Longest file name stem, in characters (the extension comes on top).
pub const MAX_STEM_CHARS: usize = 120;

/// How to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// Tokens: {date} {time} {prompt} {n} {job} {id} {model} {provider} {seed} {ext}.
    pub template: String,
    /// Embed the recipe (default) or write a clean file.
    pub embed_metadata: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            template: DEFAULT_TEMPLATE.to_owned(),
            embed_metadata: true,
        }
    }
}

const WINDOWS_RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Unicode format characters (general category Cf: bidi controls, zero-width joiners
/// and spaces, the byte-order mark, tags), which change how a name reads without showing.
fn is_format_char(c: char) -> bool {
    matches!(u32::from(c),
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

/// Makes one path component safe on every desktop OS: no separators or characters
/// Windows forbids, no `..`, no reserved device names, no trailing dots or spaces,
/// at most [`MAX_STEM_CHARS`] characters before the extension, no invisible format
/// characters (bidi overrides, zero-width joiners). Other Unicode is kept.
pub fn sanitize_file_name(name: &str) -> String {
    // Invisible format characters go first: a right-to-left override can make
    // "photo\u{202E}gnp.exe" read as "photoexe.png".
    let name: String = name.chars().filter(|c| !is_format_char(*c)).collect();
    let name = name.as_str();
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e))
            if !s.is_empty()
                && !e.is_empty()
                && e.len() <= 5
                && e.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            (s, Some(e))
        }
        _ => (name, None),
    };
    let mut clean: String = stem
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    while clean.contains("..") {
        clean = clean.replace("..", ".");
    }
    let mut clean: String = clean
        .trim()
        .trim_matches('.')
        .chars()
        .take(MAX_STEM_CHARS)
        .collect();
    clean = clean.trim_end_matches([' ', '.']).to_owned();
    if clean.is_empty() {
        clean = "image".to_owned();
    }
    let base = clean.split('.').next().unwrap_or("").to_ascii_uppercase();
    if WINDOWS_RESERVED.contains(&base.as_str()) {
        clean = format!("_{clean}");
    }
    match ext {
        Some(e) => format!("{clean}.{}", e.to_ascii_lowercase()),
        None => clean,
    }
}

/// The prompt as a file-name fragment: words joined by '-', at most 60 characters.
fn prompt_slug(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split_whitespace().collect();
    let slug: String = words.join("-").chars().take(60).collect();
    slug.trim_end_matches('-').to_owned()
}

/// The tokens a file-name template fills in.
pub const TOKENS: [&str; 10] = [
    "date", "time", "prompt", "n", "job", "id", "model", "provider", "seed", "ext",
];

/// The `{tokens}` of `template` that are not among [`TOKENS`]: they would be written
/// into the name as they are, so the user is told before.
pub fn unknown_tokens(template: &str) -> Vec<String> {
    let mut unknown = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let token = &after[..close];
        if !TOKENS.contains(&token) && !unknown.iter().any(|u| u == token) {
            unknown.push(token.to_owned());
        }
        rest = &after[close + 1..];
    }
    unknown
}

/// Words for a template's unknown tokens, or None when every token is known.
pub fn unknown_tokens_words(template: &str) -> Option<String> {
    let unknown = unknown_tokens(template);
    if unknown.is_empty() {
        return None;
    }
    let list: Vec<String> = unknown.iter().map(|t| format!("{{{t}}}")).collect();
    let known: Vec<String> = TOKENS.iter().map(|t| format!("{{{t}}}")).collect();
    Some(format!(
        "the file-name template has {} {}, which will be written into the names as {}; the tokens are {}",
        if unknown.len() == 1 {
            "an unknown token"
        } else {
            "unknown tokens"
        },
        list.join(", "),
        if unknown.len() == 1 {
            "it is"
        } else {
            "they are"
        },
        known.join(" ")
    ))
}

/// The file name a template gives for an image, sanitised.
pub fn file_name(template: &str, job: &JobRecord, image: &ImageRecord) -> String {
    let (y, mo, d, h, mi, s) = utc_parts(job.created_at_ms);
    let ext = image
        .path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("png");
    let seed = job
        .recipe
        .seed
        .map_or_else(|| "noseed".to_owned(), |s| s.to_string());
    let filled = template
        .replace("{date}", &format!("{y:04}-{mo:02}-{d:02}"))
        .replace("{time}", &format!("{h:02}{mi:02}{s:02}"))
        .replace("{prompt}", &prompt_slug(&job.recipe.prompt))
        .replace("{n}", &(image.index + 1).to_string())
        .replace("{job}", &job.id.to_string())
        .replace("{id}", &image.id.to_string())
        .replace("{model}", &job.recipe.model)
        .replace("{provider}", job.recipe.provider.as_str())
        .replace("{seed}", &seed)
        .replace("{ext}", ext);
    let with_ext = if filled.to_ascii_lowercase().ends_with(&format!(".{ext}")) {
        filled
    } else {
        format!("{filled}.{ext}")
    };
    sanitize_file_name(&with_ext)
}

/// `dir/name`, or `dir/name-2.ext`, `-3`, … when taken: an export never overwrites.
pub fn free_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = name
        .rsplit_once('.')
        .map_or((name, None), |(s, e)| (s, Some(e)));
    (2..)
        .map(|n| match ext {
            Some(e) => dir.join(format!("{stem}-{n}.{e}")),
            None => dir.join(format!("{stem}-{n}")),
        })
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// What a parameter with no meaning for these models says, in every field that has none
/// (documented in the README).
pub const NOT_USED: &str = "not used";

/// A value of the `Key: value` line, quoted as A1111 readers expect when it holds a
/// comma, a colon or a quote.
fn a1111_value(value: &str) -> String {
    if value.contains([',', ':', '"']) {
        serde_json::Value::from(value).to_string()
    } else {
        value.to_owned()
    }
}

/// The line after the prompt in the `parameters` text, in the form A1111-style readers
/// (the web UI's PNG Info, Civitai, metadata libraries) take for a generation: `Key:
/// value` pairs with Steps, Sampler, CFG scale and Seed. A diffusion sampler has no
/// meaning here: Sampler names the model, and Steps and CFG scale say "not used".
pub fn parameters_line(job: &JobRecord, image: &ImageRecord) -> String {
    let r = &job.recipe;
    let mut pairs: Vec<(&str, String)> = vec![
        ("Steps", NOT_USED.to_owned()),
        ("Sampler", r.model.clone()),
        ("CFG scale", NOT_USED.to_owned()),
        (
            "Seed",
            r.seed
                .map_or_else(|| NOT_USED.to_owned(), |s| s.to_string()),
        ),
        ("Size", format!("{}x{}", image.width, image.height)),
        ("Model", r.model.clone()),
        ("Provider", r.provider.to_string()),
        ("Aspect", r.aspect.to_string()),
    ];
    if let Some(size) = r.size {
        pairs.push(("Image size", size.to_string()));
    }
    if let Some(c) = &r.composition {
        if let Some(t) = &c.template {
            pairs.push(("Template", t.clone()));
        }
        if !c.styles.is_empty() {
            let names: Vec<&str> = c.styles.iter().map(|(n, _)| n.as_str()).collect();
            pairs.push(("Styles", names.join("; ")));
        }
        if let Some((kit, _, _)) = &c.brand {
            pairs.push(("Brand kit", kit.clone()));
        }
    }
    // Whoever reads the file later (a viewer, a metadata tool) learns it is a stand-in.
    if job.sandbox {
        pairs.push(("Sandbox", "offline stand-in, not model output".to_owned()));
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{k}: {}", a1111_value(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The metadata an image carries out of the app.
pub fn embedded_for(job: &JobRecord, image: &ImageRecord) -> Embedded {
    let r = &job.recipe;
    let line = parameters_line(job, image);
    let inputs: Vec<&str> = r.inputs.iter().map(|i| i.sha256.as_str()).collect();
    let recipe = json!({
        "app": "banana-studio",
        "app_version": env!("CARGO_PKG_VERSION"),
        "provider": r.provider,
        "model": r.model,
        "prompt": r.prompt,
        "parameters": {"aspect": r.aspect, "format": r.format, "count": r.count, "size": r.size, "seed": r.seed,
                       "thinking": r.thinking, "search": r.search},
        "input_sha256": inputs,
        "composition": r.composition,
        "parent_image_id": job.parent_image_id,
        "job": job.id,
        "image": image.id,
        "created_at": rfc3339(job.created_at_ms),
        "sandbox": job.sandbox,
        // What a grounded answer drew on, and what the call used.
        "sources": job.grounding.as_ref().map(|g| &g.sources),
        "usage": job.usage,
    });
    Embedded {
        parameters: format!("{}\n{line}", r.prompt),
        recipe_json: recipe.to_string(),
        software: if job.sandbox {
            format!(
                "Banana Studio {} (sandbox image, not model output)",
                env!("CARGO_PKG_VERSION")
            )
        } else {
            format!("Banana Studio {}", env!("CARGO_PKG_VERSION"))
        },
    }
}

/// A stored image with its job and its file's bytes.
fn load(
    library: &Library,
    image: ImageId,
) -> Result<(JobRecord, ImageRecord, Vec<u8>), ExportError> {
    let record = library
        .image(image)?
        .ok_or(ExportError::UnknownImage(image))?;
    let job = library
        .job(record.job_id)?
        .ok_or(ExportError::UnknownJob(record.job_id))?;
    let bytes =
        std::fs::read(&record.path).map_err(|source| ExportError::Read { image, source })?;
    Ok((job, record, bytes))
}

/// Embeds the recipe (or strips all metadata) and writes the file without overwriting
/// anything half-way.
fn write(
    job: &JobRecord,
    record: &ImageRecord,
    bytes: &[u8],
    embed: bool,
    path: &Path,
) -> Result<(), ExportError> {
    let embedded = embed.then(|| embedded_for(job, record));
    let out = metadata::rewrite(bytes, embedded.as_ref()).map_err(|e| ExportError::Encode {
        image: record.id,
        message: e.to_string(),
    })?;
    super::store::write_atomic(path, &out).map_err(|source| ExportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes one stored image into `dir` under the template's name; returns the path.
pub fn export_image(
    library: &Library,
    image: ImageId,
    dir: &Path,
    options: &ExportOptions,
) -> Result<PathBuf, ExportError> {
    let (job, record, bytes) = load(library, image)?;
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = free_path(dir, &file_name(&options.template, &job, &record));
    write(&job, &record, &bytes, options.embed_metadata, &path)?;
    Ok(path)
}

/// Save as…: writes one image to the path the user chose, with its recipe embedded.
/// An extension naming another format converts; a missing one gets the image's own.
pub fn save_image_as(
    library: &Library,
    image: ImageId,
    path: &Path,
    embed_metadata: bool,
) -> Result<PathBuf, ExportError> {
    let (job, record, bytes) = load(library, image)?;
    let own = OutputFormat::from_mime(&record.mime).unwrap_or(OutputFormat::Png);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let (path, bytes) = match OutputFormat::from_extension(ext) {
        Some(format) if format != own => (
            path.to_path_buf(),
            banana_imaging::convert(&bytes, format).map_err(|e| ExportError::Encode {
                image,
                message: e.to_string(),
            })?,
        ),
        Some(_) => (path.to_path_buf(), bytes),
        None => (path.with_extension(own.extension()), bytes),
    };
    write(&job, &record, &bytes, embed_metadata, &path)?;
    Ok(path)
}

/// The recipe an exported file carries, rebuilt for the prompt panel. Input images are
/// kept only where the library still has them (by hash); returns None for files without
/// a Banana Studio recipe.
pub fn recipe_from_export(library: &Library, bytes: &[u8]) -> Option<banana_core::recipe::Recipe> {
    use banana_core::recipe::{InputImage, Recipe};
    let json: serde_json::Value =
        serde_json::from_str(&metadata::embedded_recipe_json(bytes)?).ok()?;
    if json["app"] != "banana-studio" {
        return None;
    }
    let p = &json["parameters"];
    let inputs: Vec<InputImage> = json["input_sha256"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|sha| library.stored_input(sha.as_str()?))
        .collect();
    Some(Recipe {
        prompt: json["prompt"].as_str()?.to_owned(),
        provider: serde_json::from_value(json["provider"].clone()).ok()?,
        model: json["model"].as_str()?.to_owned(),
        aspect: serde_json::from_value(p["aspect"].clone()).ok()?,
        format: serde_json::from_value(p["format"].clone()).ok()?,
        count: p["count"]
            .as_u64()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1),
        size: serde_json::from_value(p["size"].clone()).ok().flatten(),
        seed: p["seed"].as_u64(),
        inputs,
        composition: serde_json::from_value(json["composition"].clone())
            .ok()
            .flatten(),
        // The mask was for the original's pixels; a restored recipe starts without one.
        mask: None,
        markup: None,
        thinking: serde_json::from_value(p["thinking"].clone()).ok().flatten(),
        search: serde_json::from_value(p["search"].clone()).ok().flatten(),
        final_of: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_format_characters_are_dropped() {
        assert_eq!(sanitize_file_name("photo\u{202E}gnp.exe"), "photognp.exe");
        assert_eq!(
            sanitize_file_name("a\u{200D}b\u{200B}c\u{2066}d\u{FEFF}.png"),
            "abcd.png"
        );
        assert_eq!(sanitize_file_name("cat.p\u{202E}ng"), "cat.png");
        assert_eq!(sanitize_file_name("\u{202E}\u{202C}"), "image");
        // Visible Unicode stays.
        assert_eq!(sanitize_file_name("café 猫.png"), "café 猫.png");
    }

    #[test]
    fn names_are_safe_everywhere() {
        assert_eq!(sanitize_file_name("a/b\\c:d*e?.png"), "a_b_c_d_e_.png");
        assert_eq!(sanitize_file_name("../../etc/passwd"), "_._etc_passwd");
        assert_eq!(sanitize_file_name("CON.png"), "_CON.png");
        assert_eq!(sanitize_file_name("lpt1"), "_lpt1");
        assert_eq!(sanitize_file_name("  .hidden. .jpg"), "hidden.jpg");
        assert_eq!(sanitize_file_name("東京の夜🌃.webp"), "東京の夜🌃.webp");
        let long = format!("{}.png", "x".repeat(300));
        assert_eq!(
            sanitize_file_name(&long),
            format!("{}.png", "x".repeat(MAX_STEM_CHARS))
        );
        assert_eq!(sanitize_file_name(""), "image");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_651_200_000), "2026-11-26T00:00:00Z");
    }
}

#[cfg(test)]
mod token_tests {
    #[test]
    fn unknown_tokens_are_found_once_each() {
        assert!(super::unknown_tokens("{date}_{prompt}_{n}.{ext}").is_empty());
        assert_eq!(
            super::unknown_tokens("{nonsense}-{n}-{nonsense}-{Date}"),
            vec!["nonsense".to_owned(), "Date".to_owned()]
        );
        let words = super::unknown_tokens_words("{nonsense}_{n}").unwrap();
        assert!(
            words.contains("{nonsense}") && words.contains("{seed}"),
            "{words}"
        );
    }
}
