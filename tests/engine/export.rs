//! Export: the recipe embedded and read back by independent readers (the png crate,
//! kamadak-exif), Unicode included; clean export; names that never overwrite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use banana_studio::engine::{Engine, EngineConfig, Event};
use banana_studio::keys::NoKeys;
use banana_studio::library::export::{ExportOptions, export_image};
use banana_studio::library::{Generation, Library};
use banana_studio::recipe::{AspectRatio, Catalog, ImageSize, OutputFormat, ProviderId, Recipe};

const PROMPT: &str = "Ein Café in Zürich — 東京の夜 🌃, \"quoted\" & <tagged>";

fn generate(dir: &Path, format: OutputFormat) -> Generation {
    let mut config = EngineConfig::new(dir, Arc::new(NoKeys));
    config.force_sandbox = true;
    config.sandbox = Some(banana_studio::fake::Sandbox::standard());
    let engine = Engine::start(config).unwrap();
    let mut recipe = Recipe::new(PROMPT, ProviderId::Gemini, &Catalog::bundled());
    recipe.aspect = AspectRatio::Ratio(16, 9);
    recipe.size = Some(ImageSize::K1);
    recipe.seed = Some(42);
    recipe.format = format;
    engine.submit(recipe).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(Event::JobSucceeded { generation, .. }) =
            engine.next_event(Duration::from_millis(50))
        {
            return *generation;
        }
    }
    panic!("no result");
}

/// The images here come from the sandbox, and their text says so.
const PARAMS_LINE: &str = "Steps: not used, Sampler: gemini-nano-banana-2.1, CFG scale: not used, \
    Seed: 42, Size: 1376x768, Model: gemini-nano-banana-2.1, Provider: gemini, Aspect: \"16:9\", \
    Image size: 1K, Sandbox: \"offline stand-in, not model output\"";

/// The `Key: value` pairs of an A1111-style parameters line, read as the web UI's PNG
/// Info does (written here from its documented form, not from our writer): a key is a
/// word character then words, spaces, '-' or '/'; a value is a quoted string or runs to
/// the next comma. The last line counts only with at least three pairs.
fn a1111_pairs(parameters: &str) -> (String, Vec<(String, String)>) {
    let lines: Vec<&str> = parameters.trim().lines().collect();
    let last = lines.last().copied().unwrap_or_default();
    let mut pairs = Vec::new();
    let mut rest = last.trim_start();
    while !rest.is_empty() {
        let Some(colon) = rest.find(':') else { break };
        let key = rest[..colon].trim();
        let key_ok = key
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
            && key
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || " -/".contains(c));
        if !key_ok {
            break;
        }
        let after = rest[colon + 1..].trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').expect("a closed quote");
            (quoted[..end].to_owned(), &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        pairs.push((key.to_owned(), value));
        rest = next.trim_start_matches(',').trim_start();
    }
    if pairs.len() < 3 {
        return (parameters.to_owned(), Vec::new());
    }
    (lines[..lines.len() - 1].join("\n"), pairs)
}

#[test]
fn a1111_readers_find_the_prompt_and_the_generation_pairs() {
    let (prompt, pairs) = a1111_pairs(&format!("{PROMPT}\n{PARAMS_LINE}"));
    assert_eq!(prompt, PROMPT);
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    let core = ["Steps", "Sampler", "CFG scale", "Seed"];
    assert!(keys.contains(&"Sampler"), "{keys:?}");
    assert!(
        core.iter().filter(|k| keys.contains(k)).count() >= 3,
        "{keys:?}"
    );
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("Seed"), Some("42"));
    assert_eq!(
        get("Aspect"),
        Some("16:9"),
        "a quoted value keeps its colon"
    );
    assert_eq!(get("Steps"), Some("not used"));
    assert_eq!(get("Size"), Some("1376x768"));
    assert_eq!(get("Sandbox"), Some("offline stand-in, not model output"));
}

fn check_recipe_json(text: &str, generation: &Generation) {
    let recipe: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(recipe["prompt"], PROMPT);
    assert_eq!(recipe["provider"], "gemini");
    assert_eq!(recipe["model"], "gemini-nano-banana-2.1");
    assert_eq!(recipe["parameters"]["seed"], 42);
    assert_eq!(recipe["parameters"]["aspect"], "16:9");
    assert_eq!(recipe["job"], generation.job.id);
    assert_eq!(recipe["app_version"], env!("CARGO_PKG_VERSION"));
    assert!(recipe["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(recipe["input_sha256"].as_array().unwrap().is_empty());
}

#[test]
fn png_export_carries_parameters_and_recipe_in_itxt() {
    let dir = tempfile::tempdir().unwrap();
    let generation = generate(dir.path(), OutputFormat::Png);
    let library = Library::open(dir.path()).unwrap();
    let out = dir.path().join("out");
    let path = export_image(
        &library,
        generation.images[0].id,
        &out,
        &ExportOptions::default(),
    )
    .unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.ends_with("_Ein-Café-in-Zürich-—-東京の夜-🌃,-_quoted_-&-_tagged__1.png"),
        "{name}"
    );

    let decoder = png::Decoder::new(Cursor::new(std::fs::read(&path).unwrap()));
    let reader = decoder.read_info().unwrap();
    let texts: Vec<(String, String)> = reader
        .info()
        .utf8_text
        .iter()
        .map(|c| (c.keyword.clone(), c.get_text().unwrap()))
        .collect();
    let parameters = &texts.iter().find(|(k, _)| k == "parameters").unwrap().1;
    assert_eq!(parameters, &format!("{PROMPT}\n{PARAMS_LINE}"));
    let recipe = &texts.iter().find(|(k, _)| k == "banana-studio").unwrap().1;
    check_recipe_json(recipe, &generation);

    // A second export of the same image never overwrites the first.
    let again = export_image(
        &library,
        generation.images[0].id,
        &out,
        &ExportOptions::default(),
    )
    .unwrap();
    assert_ne!(again, path);
    assert!(again.to_str().unwrap().ends_with("_1-2.png"));
}

fn user_comment(exif: &exif::Exif) -> String {
    let field = exif
        .get_field(exif::Tag::UserComment, exif::In::PRIMARY)
        .unwrap();
    let exif::Value::Undefined(bytes, _) = &field.value else {
        panic!("UserComment is not UNDEFINED")
    };
    assert_eq!(&bytes[..8], b"UNICODE\0");
    let units: Vec<u16> = bytes[8..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

fn description(exif: &exif::Exif) -> String {
    let field = exif
        .get_field(exif::Tag::ImageDescription, exif::In::PRIMARY)
        .unwrap();
    let exif::Value::Ascii(parts) = &field.value else {
        panic!("not ASCII")
    };
    String::from_utf8(parts[0].clone()).unwrap()
}

fn xmp_recipe(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let start = text.find("<banana:recipe>").unwrap() + "<banana:recipe>".len();
    let end = text.find("</banana:recipe>").unwrap();
    text[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn jpeg_and_webp_exports_carry_exif_and_xmp() {
    for format in [OutputFormat::Jpeg, OutputFormat::Webp] {
        let dir = tempfile::tempdir().unwrap();
        let generation = generate(dir.path(), format);
        let library = Library::open(dir.path()).unwrap();
        let path = export_image(
            &library,
            generation.images[0].id,
            &dir.path().join("out"),
            &ExportOptions::default(),
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let exif = exif::Reader::new()
            .read_from_container(&mut Cursor::new(&bytes))
            .unwrap();
        let expected = format!("{PROMPT}\n{PARAMS_LINE}");
        assert_eq!(user_comment(&exif), expected, "{format}");
        assert_eq!(description(&exif), expected, "{format}");
        check_recipe_json(&xmp_recipe(&bytes), &generation);
        let decoded = banana_studio::imaging::decode(&bytes).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            (1376, 768),
            "{format} still decodes"
        );
    }
}

#[test]
fn clean_export_strips_everything() {
    for format in [OutputFormat::Png, OutputFormat::Jpeg, OutputFormat::Webp] {
        let dir = tempfile::tempdir().unwrap();
        let generation = generate(dir.path(), format);
        let library = Library::open(dir.path()).unwrap();
        let options = ExportOptions {
            embed_metadata: false,
            ..ExportOptions::default()
        };
        let path = export_image(
            &library,
            generation.images[0].id,
            &dir.path().join("out"),
            &options,
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for needle in ["Café", "banana-studio", "Exif", "xpacket", "iTXt", "tEXt"] {
            assert!(
                !text.contains(needle),
                "{format}: {needle} left in a clean export"
            );
        }
        assert!(banana_studio::imaging::decode(&bytes).is_ok(), "{format}");
    }
}
