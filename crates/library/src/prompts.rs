//! The prompt library: templates, saved prompts, styles and brand kits, kept in the
//! library's database by kind and name, with the bundled ones listed first. A user's
//! item of the same name as a bundled one takes its place.

use rusqlite::params;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Library, LibraryError, now_ms};
use banana_core::recipe::compose::{
    BrandKit, ReferenceSet, SavedPrompt, Style, Template, bundled_styles, bundled_templates,
};

/// What kind of item a row holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// A template with slots.
    Template,
    /// A saved prompt.
    Saved,
    /// A style.
    Style,
    /// A brand kit.
    Brand,
    /// A reference set.
    RefSet,
}

impl PromptKind {
    fn as_str(self) -> &'static str {
        match self {
            PromptKind::Template => "template",
            PromptKind::Saved => "saved",
            PromptKind::Style => "style",
            PromptKind::Brand => "brand",
            PromptKind::RefSet => "refset",
        }
    }
}

/// An item of the prompt library: its kind and name tell where it lives.
pub trait PromptItem: Serialize + DeserializeOwned + Clone {
    /// Its kind.
    const KIND: PromptKind;
    /// Its name.
    fn name(&self) -> &str;
    /// The ones every library starts with.
    fn bundled() -> Vec<Self> {
        Vec::new()
    }
}

impl PromptItem for Template {
    const KIND: PromptKind = PromptKind::Template;
    fn name(&self) -> &str {
        &self.name
    }
    fn bundled() -> Vec<Self> {
        bundled_templates()
    }
}

impl PromptItem for Style {
    const KIND: PromptKind = PromptKind::Style;
    fn name(&self) -> &str {
        &self.name
    }
    fn bundled() -> Vec<Self> {
        bundled_styles()
    }
}

impl PromptItem for BrandKit {
    const KIND: PromptKind = PromptKind::Brand;
    fn name(&self) -> &str {
        &self.name
    }
}

impl PromptItem for ReferenceSet {
    const KIND: PromptKind = PromptKind::RefSet;
    fn name(&self) -> &str {
        &self.name
    }
}

impl PromptItem for SavedPrompt {
    const KIND: PromptKind = PromptKind::Saved;
    fn name(&self) -> &str {
        &self.name
    }
}

/// Where a listed item comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Shipped with the app.
    Bundled,
    /// Made by the user.
    User,
}

impl Library {
    /// Every item of a kind: the bundled ones (unless the user has one of the same
    /// name), then the user's, by name.
    pub fn prompt_items<T: PromptItem>(&self) -> Result<Vec<(T, Origin)>, LibraryError> {
        let user: Vec<T> = {
            let conn = self.conn();
            let mut statement = conn.prepare(
                "SELECT body_json FROM prompt_items WHERE kind = ?1 ORDER BY name COLLATE NOCASE",
            )?;
            let rows = statement
                .query_map(params![T::KIND.as_str()], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            rows.iter()
                .map(|body| serde_json::from_str(body))
                .collect::<Result<_, _>>()?
        };
        let mut items: Vec<(T, Origin)> = T::bundled()
            .into_iter()
            .filter(|b| !user.iter().any(|u| u.name() == b.name()))
            .map(|b| (b, Origin::Bundled))
            .collect();
        items.extend(user.into_iter().map(|u| (u, Origin::User)));
        Ok(items)
    }

    /// The item of a kind named `name` (case-insensitive), bundled or the user's.
    pub fn prompt_item<T: PromptItem>(&self, name: &str) -> Result<Option<T>, LibraryError> {
        Ok(self
            .prompt_items::<T>()?
            .into_iter()
            .map(|(item, _)| item)
            .find(|item| item.name().eq_ignore_ascii_case(name.trim())))
    }

    /// Keeps `item` under its name, replacing one of the same kind and name.
    pub fn save_prompt_item<T: PromptItem>(&self, item: &T) -> Result<(), LibraryError> {
        let body = serde_json::to_string(item)?;
        self.conn().execute(
            "INSERT INTO prompt_items (kind, name, body_json, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kind, name) DO UPDATE SET body_json = ?3, updated_at = ?4",
            params![T::KIND.as_str(), item.name().trim(), body, now_ms()],
        )?;
        Ok(())
    }

    /// Forgets the user's item of a kind named `name`; true when there was one.
    pub fn delete_prompt_item(&self, kind: PromptKind, name: &str) -> Result<bool, LibraryError> {
        let n = self.conn().execute(
            "DELETE FROM prompt_items WHERE kind = ?1 AND name = ?2",
            params![kind.as_str(), name.trim()],
        )?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bundled_items_list_first_and_a_users_item_of_the_same_name_replaces_one() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path()).unwrap();
        let templates = library.prompt_items::<Template>().unwrap();
        assert_eq!(templates.len(), 3);
        assert!(templates.iter().all(|(_, o)| *o == Origin::Bundled));
        let mine = Template {
            name: "Studio product shot".into(),
            text: "My own [PRODUCT] shot".into(),
        };
        library.save_prompt_item(&mine).unwrap();
        let templates = library.prompt_items::<Template>().unwrap();
        assert_eq!(templates.len(), 3, "replaced, not added");
        assert_eq!(
            library
                .prompt_item::<Template>("studio PRODUCT shot")
                .unwrap(),
            Some(mine)
        );
        let kit = BrandKit {
            name: "Acme".into(),
            prefix: "Acme:".into(),
            ..BrandKit::default()
        };
        library.save_prompt_item(&kit).unwrap();
        library.save_prompt_item(&kit).unwrap();
        assert_eq!(library.prompt_items::<BrandKit>().unwrap().len(), 1);
        assert!(
            library
                .delete_prompt_item(PromptKind::Brand, "Acme")
                .unwrap()
        );
        assert!(library.prompt_items::<BrandKit>().unwrap().is_empty());
        // Kept across opening again.
        library.save_prompt_item(&kit).unwrap();
        drop(library);
        let library = Library::open(dir.path()).unwrap();
        assert_eq!(library.prompt_item::<BrandKit>("acme").unwrap(), Some(kit));
    }
}
