//! The gallery: the timeline of generations, newest first, drawn a screenful at a time
//! (virtualised), paged in from the library as the user scrolls, with multi-select
//! (Ctrl+click, Shift+click, Ctrl+A) for culling and "Save selected to folder…".

mod draw;

use std::collections::{BTreeSet, HashSet};

use egui::TextureHandle;

use super::gallery_layout::Layout;
use crate::engine::Event;
pub use crate::engine::HistoryAnswer;
use crate::imaging::Rgba;
use crate::library::{Flag, Generation, HistoryQuery, ImageId, ImageRecord, JobId, PageKey};

/// Generations read per page.
pub const PAGE: u32 = 100;

/// Ask for the next page when the view is this many generations from the end.
const PREFETCH: usize = 30;

/// One step Ctrl+Z takes back.
#[derive(Clone, Debug, PartialEq)]
pub enum UndoStep {
    /// The last delete (its images are in `last_deleted`).
    Trashed,
    /// Marks changed on these images: each with its rating, flag and favourite before.
    Marked(Vec<(ImageId, u8, Flag, bool)>),
}

/// The gallery's state.
#[derive(Default)]
pub struct Gallery {
    generations: Vec<Generation>,
    job_ids: HashSet<JobId>,
    /// The image shown in the viewer.
    pub selected: Option<ImageId>,
    /// The images selected for batch actions (the shown one included).
    pub picked: BTreeSet<ImageId>,
    anchor: Option<ImageId>,
    /// The images of the last delete, for Undo (this session only).
    pub last_deleted: Vec<ImageId>,
    /// What Ctrl+Z takes back, newest last: deletes and culling marks.
    pub undo: Vec<UndoStep>,
    history_loaded: bool,
    /// The query the shown pages answer; pages of another are stale and dropped.
    query: Option<HistoryQuery>,
    /// The query of the last first page listed.
    listed: Option<HistoryQuery>,
    /// Where the next page starts: after the last job read.
    next_after: Option<PageKey>,
    exhausted: bool,
    loading_more: bool,
    /// The newest first-page read asked for and the newest next-page read, with their
    /// queries. A newer request drops the older handle, so an older page can never
    /// replace a newer one.
    first_page: Option<(HistoryQuery, HistoryAnswer)>,
    page: Option<(HistoryQuery, HistoryAnswer)>,
    scroll_to_selected: bool,
    /// Bumped whenever the list changes, so the layout is rebuilt.
    revision: u64,
    layout_key: Option<(u64, u32, u32)>,
    layout: Layout,
    /// Generations drawn last frame, for tests and the benchmark.
    drawn: std::ops::Range<usize>,
}

/// What `Gallery::poll` tells the app.
#[derive(Debug, PartialEq)]
pub enum PageNews {
    /// The first page of the listing arrived.
    FirstPage,
    /// A page could not be read, in words.
    Failed(String),
}

/// A texture from decoded pixels.
pub fn texture(ctx: &egui::Context, name: String, pixels: &Rgba) -> TextureHandle {
    let image = egui::ColorImage::from_rgba_unmultiplied(
        [pixels.width as usize, pixels.height as usize],
        &pixels.pixels,
    );
    ctx.load_texture(name, image, egui::TextureOptions::LINEAR)
}

/// Whether two queries ask for the same thing, pages aside.
fn same_filters(a: &HistoryQuery, b: &HistoryQuery) -> bool {
    HistoryQuery {
        limit: 0,
        after: None,
        ..a.clone()
    } == HistoryQuery {
        limit: 0,
        after: None,
        ..b.clone()
    }
}

impl Gallery {
    /// Applies a mark to the shown record at once (the engine stores it).
    pub fn apply_mark(&mut self, id: ImageId, mark: crate::library::Mark) {
        use crate::library::Mark;
        for image in self
            .generations
            .iter_mut()
            .flat_map(|g| g.images.iter_mut())
            .filter(|i| i.id == id)
        {
            match mark {
                Mark::Rating(r) => image.rating = r,
                Mark::Flag(f) => image.flag = f,
                Mark::Favourite(f) => image.favourite = f,
            }
        }
    }

    /// Removes images from view at once (the engine moves them to the trash).
    pub fn remove(&mut self, ids: &[ImageId]) {
        for g in &mut self.generations {
            g.images.retain(|i| !ids.contains(&i.id));
        }
        self.generations.retain(|g| !g.images.is_empty());
        self.job_ids = self.generations.iter().map(|g| g.job.id).collect();
        self.revision += 1;
        if self.selected.is_some_and(|s| ids.contains(&s)) {
            self.selected = None;
        }
        self.picked.retain(|p| !ids.contains(p));
    }

    /// Every generation loaded, newest first.
    pub fn generations(&self) -> &[Generation] {
        &self.generations
    }

    #[cfg(any(test, feature = "testing"))]
    /// Whether the first page of history has arrived.
    pub fn history_loaded(&self) -> bool {
        self.history_loaded
    }

    #[cfg(any(test, feature = "testing"))]
    /// The generations drawn in the last frame (the rest are not laid out at all).
    pub fn drawn(&self) -> std::ops::Range<usize> {
        self.drawn.clone()
    }

    /// Finds an image record.
    pub fn image(&self, id: ImageId) -> Option<(&Generation, &ImageRecord)> {
        self.generations
            .iter()
            .find_map(|g| g.images.iter().find(|i| i.id == id).map(|i| (g, i)))
    }

    fn ids(&self) -> impl Iterator<Item = ImageId> + '_ {
        self.generations
            .iter()
            .flat_map(|g| g.images.iter().map(|i| i.id))
    }

    /// The images batch actions apply to: the selection when the shown image is in it
    /// (or nothing is shown), else the shown image.
    pub fn targets(&self) -> Vec<ImageId> {
        match self.selected {
            Some(s) if !self.picked.contains(&s) => vec![s],
            _ => self.picked.iter().copied().collect(),
        }
    }

    /// The image `step` places after `current` in gallery order (siblings first).
    pub fn neighbour(&self, current: ImageId, step: i64) -> Option<ImageId> {
        let ids: Vec<ImageId> = self.ids().collect();
        let at = ids.iter().position(|id| *id == current)? as i64;
        let next = at + step;
        (0..ids.len() as i64)
            .contains(&next)
            .then(|| ids[next as usize])
    }

    /// The first image of the generation `step` rows away from the one holding `current`
    /// (Up and Down in the timeline).
    pub fn neighbour_generation(&self, current: ImageId, step: i64) -> Option<ImageId> {
        let at = self
            .generations
            .iter()
            .position(|g| g.images.iter().any(|i| i.id == current))? as i64;
        let next = usize::try_from(at + step).ok()?;
        self.generations.get(next)?.images.first().map(|i| i.id)
    }

    /// Shows an image: it becomes the selection and is scrolled into view.
    pub fn select(&mut self, id: ImageId) {
        self.selected = Some(id);
        if !self.picked.contains(&id) || self.picked.len() == 1 {
            self.picked = BTreeSet::from([id]);
            self.anchor = Some(id);
        }
        self.scroll_to_selected = true;
    }

    /// A click with modifiers: Ctrl toggles, Shift extends from the last click.
    fn click(&mut self, id: ImageId, modifiers: egui::Modifiers) {
        if modifiers.shift
            && let Some(anchor) = self.anchor
        {
            let ids: Vec<ImageId> = self.ids().collect();
            if let (Some(a), Some(b)) = (
                ids.iter().position(|x| *x == anchor),
                ids.iter().position(|x| *x == id),
            ) {
                let (lo, hi) = (a.min(b), a.max(b));
                if !modifiers.command {
                    self.picked.clear();
                }
                self.picked.extend(&ids[lo..=hi]);
            }
        } else if modifiers.command {
            if !self.picked.remove(&id) {
                self.picked.insert(id);
            }
            self.anchor = Some(id);
        } else {
            self.picked = BTreeSet::from([id]);
            self.anchor = Some(id);
        }
        self.selected = Some(id);
    }

    /// Selects every loaded image.
    pub fn pick_all(&mut self) {
        self.picked = self.ids().collect();
    }

    /// Starts a new listing: later pages of an older query are dropped.
    pub fn expect(&mut self, query: HistoryQuery, answer: HistoryAnswer) {
        self.query = Some(query.clone());
        self.loading_more = false;
        self.page = None;
        self.first_page = Some((query, answer));
    }

    /// Waits for the next page, asked for by `ui`.
    pub fn expect_page(&mut self, query: HistoryQuery, answer: HistoryAnswer) {
        self.page = Some((query, answer));
    }

    /// Takes pages once they have come. Says when a first page arrived, or why a
    /// page could not be read.
    pub fn poll(&mut self) -> Option<PageNews> {
        let mut news = None;
        if let Some((query, answer)) = &mut self.first_page
            && let Some(result) = answer.take()
        {
            let query = query.clone();
            self.first_page = None;
            news = Some(match result {
                Ok(generations) => {
                    self.take_page(&query, &generations);
                    PageNews::FirstPage
                }
                Err(e) => PageNews::Failed(e.to_string()),
            });
        }
        if let Some((query, answer)) = &mut self.page
            && let Some(result) = answer.take()
        {
            let query = query.clone();
            self.page = None;
            self.loading_more = false;
            match result {
                Ok(generations) => self.take_page(&query, &generations),
                Err(e) => news = Some(PageNews::Failed(e.to_string())),
            }
        }
        news
    }

    /// The next page to read, when the view nears the end of what is loaded.
    fn next_page(&mut self) -> Option<HistoryQuery> {
        if self.exhausted || self.loading_more || self.drawn.end + PREFETCH < self.generations.len()
        {
            return None;
        }
        let mut query = self.query.clone()?;
        query.after = self.next_after;
        query.limit = PAGE;
        self.loading_more = true;
        Some(query)
    }

    /// Whether a new result can only be placed by reading history again: the listing
    /// searches prompts or filters by marks, which only the database answers.
    pub fn relists_new_jobs(&self) -> bool {
        self.query.as_ref().is_some_and(|q| {
            q.search.is_some() || q.filters_images() || q.same_recipe.is_some() || q.batch.is_some()
        })
    }

    /// Follows new results; `follow` says whether a new result becomes the selection
    /// (a batch's results do not take the viewer one by one).
    pub fn on_event(&mut self, event: &Event, follow: bool) {
        if let Event::JobSucceeded { generation, .. } = event {
            // Job-level filters are checked here; search and mark filters are the
            // database's to answer (the app reads the page again, see `relists_new_jobs`).
            let job = &generation.job;
            let in_view = !self.relists_new_jobs()
                && self.query.as_ref().is_none_or(|q| {
                    q.provider.is_none_or(|p| p == job.recipe.provider)
                        && q.model.as_ref().is_none_or(|m| *m == job.recipe.model)
                        && q.session.is_none_or(|s| job.session_id == Some(s))
                        && q.until_ms.is_none_or(|t| job.created_at_ms < t)
                });
            if in_view && self.job_ids.insert(generation.job.id) {
                self.generations.insert(0, (**generation).clone());
                self.revision += 1;
            }
            if let Some(first) = generation.images.first()
                && (follow || self.selected.is_none())
            {
                self.select(first.id);
            }
        }
    }

    /// Puts a page of `query` in the list: a first page replaces it (it is the whole
    /// truth after marks, deletions or a new filter); a page of another query is dropped.
    fn take_page(&mut self, query: &HistoryQuery, generations: &[Generation]) {
        if self.query.as_ref().is_some_and(|q| !same_filters(q, query)) {
            return;
        }
        // A new search, session or filter lists other images: what is selected and
        // not among them is no longer selected (the panel and viewer never speak of an
        // image the list does not show). A refresh of the same listing keeps it: it
        // may be on a page not read again yet.
        let new_listing =
            query.after.is_none() && self.listed.as_ref().is_none_or(|q| !same_filters(q, query));
        if query.after.is_none() {
            self.generations.clear();
            self.job_ids.clear();
            self.query = Some(query.clone());
            self.listed = Some(query.clone());
        }
        if let Some(last) = generations.last() {
            self.next_after = Some(PageKey::of(last));
        }
        self.exhausted = (generations.len() as u32) < query.limit;
        self.loading_more = false;
        for g in generations {
            if !g.images.is_empty() && self.job_ids.insert(g.job.id) {
                self.generations.push(g.clone());
            }
        }
        if query.after.is_some() {
            self.generations.sort_by(|a, b| {
                b.job
                    .created_at_ms
                    .cmp(&a.job.created_at_ms)
                    .then(b.job.id.cmp(&a.job.id))
            });
        }
        if new_listing {
            let listed: HashSet<ImageId> = self.ids().collect();
            self.picked.retain(|p| listed.contains(p));
            if self.selected.is_some_and(|s| !listed.contains(&s)) {
                self.selected = None;
            }
        }
        self.history_loaded = true;
        self.revision += 1;
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::engine::Answer;
    use crate::library::{Library, SampleSpec};

    fn page(library: &Library, query: &HistoryQuery) -> HistoryAnswer {
        Answer::ready_with(Ok(library.generations(query).unwrap()))
    }

    /// Two reads answered in either order: only the newest request is ever listed, and a
    /// next page asked before a reload is dropped with it.
    #[test]
    fn only_the_newest_request_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path()).unwrap();
        library
            .fill_sample(SampleSpec {
                jobs: 6,
                images_per_job: 1,
                edge: 8,
            })
            .unwrap();
        let all = HistoryQuery {
            limit: 2,
            ..Default::default()
        };
        let gemini = HistoryQuery {
            provider: Some(crate::recipe::ProviderId::Gemini),
            ..all.clone()
        };
        let mut gallery = Gallery::default();
        // Asked first, answered; then a newer read is asked before the app polls.
        gallery.expect(all.clone(), page(&library, &all));
        gallery.expect(gemini.clone(), page(&library, &gemini));
        assert_eq!(gallery.poll(), Some(PageNews::FirstPage));
        assert!(
            gallery
                .generations()
                .iter()
                .all(|g| g.job.recipe.provider == crate::recipe::ProviderId::Gemini)
        );
        // A next page of the old listing, then a reload: the page is never shown.
        let mut next = all.clone();
        next.after = gallery.generations().last().map(PageKey::of);
        gallery.expect_page(next.clone(), page(&library, &next));
        gallery.expect(gemini.clone(), page(&library, &gemini));
        assert_eq!(gallery.poll(), Some(PageNews::FirstPage));
        assert_eq!(gallery.generations().len(), 2);
        assert_eq!(gallery.poll(), None);
    }
}
