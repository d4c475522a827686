//! The prompt library's file on disk: written whole (to a temporary name, then moved),
//! read with a size limit, with what went wrong in words naming the file.

use std::path::Path;

use banana_library::Library;
use banana_library::prompt_files::MAX_PROMPT_FILE_BYTES;

/// Writes the user's prompt library to `path`; says what was written.
pub(crate) fn export(library: &Library, path: &Path) -> Result<String, String> {
    let doc = library
        .export_prompt_library()
        .map_err(|e| format!("the prompt library could not be read: {e}"))?;
    let count = |key: &str| doc[key].as_array().map_or(0, Vec::len);
    let items = [
        "templates",
        "styles",
        "brand_kits",
        "reference_sets",
        "saved_prompts",
    ]
    .iter()
    .map(|k| count(k))
    .sum::<usize>();
    let pictures = doc["files"].as_object().map_or(0, serde_json::Map::len);
    let text = serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())?;
    let temp = path.with_extension("json.part");
    std::fs::write(&temp, &text)
        .and_then(|()| std::fs::rename(&temp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            format!("{} could not be written: {e}", path.display())
        })?;
    Ok(format!(
        "Exported {items} item{} and {pictures} picture{} to {}",
        if items == 1 { "" } else { "s" },
        if pictures == 1 { "" } else { "s" },
        path.display()
    ))
}

/// Reads a prompt-library file into the library; says what came in.
pub(crate) fn import(library: &Library, path: &Path) -> Result<String, String> {
    let name = path.display();
    let size = std::fs::metadata(path)
        .map_err(|e| format!("{name} could not be read: {e}"))?
        .len();
    if size > MAX_PROMPT_FILE_BYTES {
        return Err(format!(
            "{name} is {} MB; a prompt library file is at most {} MB",
            size / (1024 * 1024),
            MAX_PROMPT_FILE_BYTES / (1024 * 1024)
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{name} could not be read: {e}"))?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{name} is not a prompt library (not JSON: {e})"))?;
    let report = library
        .import_prompt_library(&doc)
        .map_err(|e| format!("{name}: {e}; nothing was imported"))?;
    Ok(format!("Imported {}", report.in_words()))
}
