//! The prompt library as a file to share: the user's templates, styles, brand kits,
//! reference sets and saved prompts in one JSON document, with the pictures they refer
//! to inside it (so a kit's logo travels with the kit). Importing checks the whole
//! document first (every picture against its hash, every item) and writes nothing when
//! any part is wrong.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::prompts::{Origin, PromptItem};
use super::{Library, LibraryError, store};
use banana_core::recipe::InputImage;
use banana_core::recipe::compose::{BrandKit, ReferenceSet, SavedPrompt, Style, Template};

/// The key that marks a prompt-library file, and the version of its shape.
const MARK: &str = "banana_studio_prompt_library";
const VERSION: u64 = 1;

/// The largest prompt-library file read (its pictures inline).
pub const MAX_PROMPT_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// What an import brought in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Items added, by kind ("templates", ...), counted.
    pub added: BTreeMap<&'static str, usize>,
    /// Names of the user's items that were replaced by one of the same name.
    pub replaced: Vec<String>,
    /// Pictures stored.
    pub pictures: usize,
}

impl ImportReport {
    /// "3 templates, 1 brand kit and 2 pictures; replaced “Acme”".
    pub fn in_words(&self) -> String {
        let mut parts: Vec<String> = self
            .added
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(kind, n)| format!("{n} {}", if *n == 1 { singular(kind) } else { kind }))
            .collect();
        if self.pictures > 0 {
            parts.push(format!(
                "{} picture{}",
                self.pictures,
                if self.pictures == 1 { "" } else { "s" }
            ));
        }
        let mut words = if parts.is_empty() {
            "nothing new".to_owned()
        } else {
            parts.join(", ")
        };
        if !self.replaced.is_empty() {
            let names: Vec<String> = self.replaced.iter().map(|n| format!("“{n}”")).collect();
            words.push_str(&format!("; replaced {}", names.join(", ")));
        }
        words
    }
}

fn singular(kind: &str) -> &str {
    match kind {
        "brand kits" => "brand kit",
        "reference sets" => "reference set",
        "saved prompts" => "saved prompt",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

/// The kinds, as the file names them and as words.
const KINDS: [(&str, &str); 5] = [
    ("templates", "templates"),
    ("styles", "styles"),
    ("brand_kits", "brand kits"),
    ("reference_sets", "reference sets"),
    ("saved_prompts", "saved prompts"),
];

impl Library {
    /// The user's prompt library (bundled items are in every copy of the app and are
    /// left out), with its pictures inline.
    pub fn export_prompt_library(&self) -> Result<Value, LibraryError> {
        fn mine<T: PromptItem>(lib: &Library) -> Result<Vec<T>, LibraryError> {
            Ok(lib
                .prompt_items::<T>()?
                .into_iter()
                .filter(|(_, o)| *o == Origin::User)
                .map(|(t, _)| t)
                .collect())
        }
        let styles = mine::<Style>(self)?;
        let brands = mine::<BrandKit>(self)?;
        let sets = mine::<ReferenceSet>(self)?;
        let pictures: Vec<&InputImage> = styles
            .iter()
            .flat_map(|s| &s.references)
            .chain(brands.iter().flat_map(|b| &b.references))
            .chain(sets.iter().flat_map(|s| &s.references))
            .collect();
        let mut files = serde_json::Map::new();
        for picture in pictures {
            if files.contains_key(&picture.sha256) {
                continue;
            }
            let bytes = self.read_input(picture)?;
            files.insert(
                picture.sha256.clone(),
                json!({"mime": picture.mime,
                       "base64": base64::engine::general_purpose::STANDARD.encode(bytes)}),
            );
        }
        Ok(json!({
            MARK: VERSION,
            "templates": mine::<Template>(self)?,
            "styles": styles,
            "brand_kits": brands,
            "reference_sets": sets,
            "saved_prompts": mine::<SavedPrompt>(self)?,
            "files": files,
        }))
    }

    /// Brings in a prompt-library document: every picture and item is checked before
    /// anything is written; an item of the same kind and name as one of the user's
    /// replaces it. Err names what is wrong and nothing is kept.
    pub fn import_prompt_library(&self, doc: &Value) -> Result<ImportReport, LibraryError> {
        let bad = |what: String| LibraryError::Invalid(what);
        match doc.get(MARK).and_then(Value::as_u64) {
            Some(VERSION) => {}
            Some(v) => {
                return Err(bad(format!(
                    "this prompt library was written by a newer Banana Studio (version {v}); \
                     update the app to read it"
                )));
            }
            None => {
                return Err(bad(
                    "this is not a Banana Studio prompt library (Export in the Prompt \
                     library dialog writes one)"
                        .to_owned(),
                ));
            }
        }
        // The pictures, each checked against its name.
        let mut files: BTreeMap<String, (String, Vec<u8>)> = BTreeMap::new();
        if let Some(map) = doc.get("files").and_then(Value::as_object) {
            for (sha, file) in map {
                let bytes = file["base64"]
                    .as_str()
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .ok_or_else(|| bad(format!("the picture {sha} is not readable base64")))?;
                if store::sha256_hex(&bytes) != *sha {
                    return Err(bad(format!(
                        "the picture {sha} is damaged (its contents do not match its name)"
                    )));
                }
                let mime = banana_core::media::sniff_mime(&bytes)
                    .ok_or_else(|| bad(format!("the picture {sha} is not an image")))?;
                files.insert(sha.clone(), (mime.to_owned(), bytes));
            }
        }
        // Every item read, and every picture it names present (in the file or here).
        fn items<T: DeserializeOwned>(doc: &Value, key: &str) -> Result<Vec<T>, LibraryError> {
            match doc.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                    LibraryError::Invalid(format!(
                        "its {} cannot be read: {e}",
                        key.replace('_', " ")
                    ))
                }),
            }
        }
        let templates: Vec<Template> = items(doc, "templates")?;
        let styles: Vec<Style> = items(doc, "styles")?;
        let brands: Vec<BrandKit> = items(doc, "brand_kits")?;
        let sets: Vec<ReferenceSet> = items(doc, "reference_sets")?;
        let saved: Vec<SavedPrompt> = items(doc, "saved_prompts")?;
        let named: Vec<(&str, &Vec<InputImage>)> = styles
            .iter()
            .map(|s| (s.name.as_str(), &s.references))
            .chain(brands.iter().map(|b| (b.name.as_str(), &b.references)))
            .chain(sets.iter().map(|s| (s.name.as_str(), &s.references)))
            .collect();
        for (name, references) in &named {
            for r in references.iter() {
                if !files.contains_key(&r.sha256) && self.read_input(r).is_err() {
                    return Err(bad(format!(
                        "“{name}” names a picture the file does not hold ({})",
                        r.sha256
                    )));
                }
            }
        }
        let all_names = templates
            .iter()
            .map(|t| t.name.as_str())
            .chain(named.iter().map(|(n, _)| *n))
            .chain(saved.iter().map(|s| s.name.as_str()));
        for name in all_names {
            if name.trim().is_empty() {
                return Err(bad("an item has no name".to_owned()));
            }
        }
        // Then written: pictures first, so no item ever names a missing one.
        let mut report = ImportReport::default();
        for (sha, (mime, bytes)) in &files {
            let stored = self.put_input_file(bytes, mime)?;
            debug_assert_eq!(&stored, sha);
            report.pictures += 1;
        }
        fn keep<T: PromptItem>(
            lib: &Library,
            list: &[T],
            words: &'static str,
            report: &mut ImportReport,
        ) -> Result<(), LibraryError> {
            let mine: Vec<String> = lib
                .prompt_items::<T>()?
                .into_iter()
                .filter(|(_, o)| *o == Origin::User)
                .map(|(t, _)| t.name().to_owned())
                .collect();
            for item in list {
                if mine.iter().any(|n| n == item.name().trim()) {
                    report.replaced.push(item.name().to_owned());
                }
                lib.save_prompt_item(item)?;
                *report.added.entry(words).or_default() += 1;
            }
            Ok(())
        }
        let words = |key: &str| {
            KINDS
                .iter()
                .find(|(k, _)| *k == key)
                .map_or("items", |(_, w)| *w)
        };
        keep(self, &templates, words("templates"), &mut report)?;
        keep(self, &styles, words("styles"), &mut report)?;
        keep(self, &brands, words("brand_kits"), &mut report)?;
        keep(self, &sets, words("reference_sets"), &mut report)?;
        keep(self, &saved, words("saved_prompts"), &mut report)?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn png() -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(4, 4, image::Rgb([200, 10, 10]))
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn a_library_travels_with_its_pictures_to_another_library() {
        let here = tempfile::tempdir().unwrap();
        let there = tempfile::tempdir().unwrap();
        let a = Library::open(here.path()).unwrap();
        let bytes = png();
        let sha = a.put_input_file(&bytes, "image/png").unwrap();
        let logo = InputImage {
            sha256: sha.clone(),
            mime: "image/png".into(),
            width: 4,
            height: 4,
        };
        let kit = BrandKit {
            name: "Acme".into(),
            prefix: "Acme style:".into(),
            palette: vec!["#ff0000".into()],
            references: vec![logo.clone()],
            ..BrandKit::default()
        };
        a.save_prompt_item(&kit).unwrap();
        let set = ReferenceSet {
            name: "Mara".into(),
            note: "our mascot".into(),
            references: vec![logo.clone()],
        };
        a.save_prompt_item(&set).unwrap();
        let template = Template {
            name: "Poster".into(),
            text: "A poster of [THING]".into(),
        };
        a.save_prompt_item(&template).unwrap();
        let doc = a.export_prompt_library().unwrap();
        assert_eq!(
            doc["templates"].as_array().unwrap().len(),
            1,
            "bundled ones left out"
        );
        assert_eq!(
            doc["files"].as_object().unwrap().len(),
            1,
            "one picture, once"
        );

        let b = Library::open(there.path()).unwrap();
        let report = b.import_prompt_library(&doc).unwrap();
        assert_eq!(
            report.in_words(),
            "1 brand kit, 1 reference set, 1 template, 1 picture"
        );
        assert_eq!(b.prompt_item::<BrandKit>("acme").unwrap(), Some(kit));
        assert_eq!(b.prompt_item::<ReferenceSet>("Mara").unwrap(), Some(set));
        assert_eq!(b.read_input(&logo).unwrap(), bytes);
        // Again: the same names are replaced, not doubled.
        let report = b.import_prompt_library(&doc).unwrap();
        assert_eq!(report.replaced.len(), 3);
        assert_eq!(b.prompt_items::<ReferenceSet>().unwrap().len(), 1);
    }

    #[test]
    fn a_wrong_file_is_named_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(dir.path()).unwrap();
        let e = lib
            .import_prompt_library(&json!({"templates": []}))
            .unwrap_err();
        assert!(
            e.to_string().contains("not a Banana Studio prompt library"),
            "{e}"
        );
        let e = lib.import_prompt_library(&json!({MARK: 9})).unwrap_err();
        assert!(e.to_string().contains("newer Banana Studio"), "{e}");
        // A damaged picture: nothing of the file is kept, not even its good template.
        let bytes = png();
        let doc = json!({
            MARK: 1,
            "templates": [{"name": "Poster", "text": "A [THING]"}],
            "files": {"0000": {"mime": "image/png",
                               "base64": base64::engine::general_purpose::STANDARD.encode(&bytes)}},
        });
        let e = lib.import_prompt_library(&doc).unwrap_err();
        assert!(e.to_string().contains("damaged"), "{e}");
        assert!(lib.prompt_item::<Template>("Poster").unwrap().is_none());
        // A set naming a picture the file does not hold.
        let doc = json!({
            MARK: 1,
            "reference_sets": [{"name": "Mara", "references": [
                {"sha256": "ab", "mime": "image/png", "width": 1, "height": 1}]}],
        });
        let e = lib.import_prompt_library(&doc).unwrap_err();
        assert!(e.to_string().contains("“Mara” names a picture"), "{e}");
    }
}
