//! The answers the app waits for: thumbnails, exports, and the key tests, saves and
//! removals it asked the engine for, each polled every frame and told in a toast or its
//! panel. Panels that asked for their own (gallery pages, the viewer's pixels and
//! comparison, the lineage) poll theirs.

use super::super::gallery::{PageNews, texture};
use super::super::toasts::{Action, Level, Notice};
use super::BananaApp;
use crate::engine::{Answer, ExportAnswer, ExportedMany, KeyTest, PixelsAnswer};
use crate::gui::Command;
use crate::keys::{KeyError, KeyOrigin};
use crate::library::ImageId;
use crate::recipe::ProviderId;

/// Requests the app made and has not heard back from.
#[derive(Default)]
pub(super) struct Answers {
    /// Thumbnails being decoded.
    pub thumbs: Vec<(ImageId, PixelsAnswer)>,
    /// An image being decoded in full to go on the clipboard.
    pub copy: Option<(ImageId, PixelsAnswer)>,
    /// "Save as…" writes.
    pub exports: Vec<ExportAnswer>,
    /// "Save selected to folder…" writes.
    pub batch_exports: Vec<Answer<ExportedMany>>,
    /// The images of a batch to save ("Save all…").
    pub batch_images: Option<Answer<Result<Vec<ImageId>, crate::engine::TaskError>>>,
    /// A batch's requests that made nothing, to send again (deferred or not).
    pub rerun: Option<(crate::engine::deferred::FailedRequests, bool)>,
    /// The mask being made from a painting.
    pub mask: Option<crate::engine::MaskAnswer>,
    /// The marked-up copy being drawn.
    pub markup: Option<crate::engine::MarkupAnswer>,
    /// Prompt-library imports and exports.
    pub library_files: Vec<Answer<Result<String, String>>>,
    /// Key tests from Settings.
    pub key_tests: Vec<(ProviderId, Answer<KeyTest>)>,
    /// Keys being saved from Settings.
    pub key_saves: Vec<(ProviderId, Answer<Result<KeyOrigin, KeyError>>)>,
    /// Keys being removed from Settings.
    pub key_removals: Vec<(ProviderId, Answer<Result<(), KeyError>>)>,
}

/// Takes each answer that has come (or whose engine is gone) out of `pending`.
fn arrived<A, T>(pending: &mut Vec<A>, mut take: impl FnMut(&mut A) -> Option<T>) -> Vec<T> {
    let mut out = Vec::new();
    pending.retain_mut(|a| match take(a) {
        Some(v) => {
            out.push(v);
            false
        }
        None => true,
    });
    out
}

impl BananaApp {
    /// Every answer that has come since the last frame.
    pub(super) fn poll_answers(&mut self, ctx: &egui::Context) {
        match self.gallery.poll() {
            // Open on the newest result, so the viewer is never empty without reason,
            // and never shows an image the list does not.
            Some(PageNews::FirstPage) if self.gallery.selected.is_none() => {
                match self
                    .gallery
                    .generations()
                    .first()
                    .and_then(|g| g.images.first())
                {
                    Some(newest) => {
                        let id = newest.id;
                        self.run(Command::Select(id));
                    }
                    None => self.viewer.clear(),
                }
            }
            Some(PageNews::FirstPage) => {}
            Some(PageNews::Failed(message)) => self.toasts.add(
                Level::Error,
                format!("The history could not be read: {message}"),
            ),
            None => {}
        }
        self.viewer.poll(ctx);
        self.poll_copy();
        self.tray.poll_previews(ctx);
        self.lineage.poll();
        for (image, result) in arrived(&mut self.answers.thumbs, |(image, a)| {
            a.take().map(|r| (*image, r))
        }) {
            match result {
                Ok(pixels) => {
                    let tex = texture(ctx, format!("thumb-{image}"), &pixels);
                    self.thumbs.loaded(image, tex);
                }
                Err(e) => self.thumbs.failed(image, e.to_string()),
            }
        }
        for result in arrived(&mut self.answers.exports, Answer::take) {
            match result {
                Ok(path) => {
                    let mut notice = Notice::new(
                        Level::Info,
                        format!("Saved {}", crate::notify::tilde(&path)),
                    );
                    if let Some(folder) = path.parent() {
                        notice = notice.with_action(Action::ShowFolder(folder.to_path_buf()));
                    }
                    self.toasts.push(notice);
                }
                Err(e) => self
                    .toasts
                    .add(Level::Error, format!("Could not save: {e}")),
            }
        }
        if let Some(found) = self.answers.batch_images.as_mut().and_then(Answer::take) {
            self.answers.batch_images = None;
            match found {
                Ok(images) if images.is_empty() => self
                    .toasts
                    .add(Level::Info, "The batch has no images to save yet"),
                Ok(images) => {
                    let s = &self.settings;
                    let folder = s
                        .save_folder
                        .clone()
                        .unwrap_or_else(super::super::save_dialog::default_folder);
                    self.export
                        .open(images, folder, &s.filename_template, s.embed_metadata);
                }
                Err(e) => self.toasts.add(
                    Level::Error,
                    format!("The batch's images could not be read: {e}"),
                ),
            }
        }
        if let Some((found, deferred)) = self
            .answers
            .rerun
            .as_mut()
            .and_then(|(a, d)| Some((a.take()?, *d)))
        {
            self.answers.rerun = None;
            match found {
                Ok((name, recipes)) if !recipes.is_empty() => {
                    self.run(Command::StartBatch(
                        format!("{name} (again)"),
                        recipes,
                        deferred,
                    ));
                }
                Ok(_) => self
                    .toasts
                    .add(Level::Info, "Every request of that batch made its image"),
                Err(e) => self.toasts.add(Level::Error, format!("The batch: {e}")),
            }
        }
        if let Some(made) = self.answers.mask.as_mut().and_then(Answer::take) {
            self.answers.mask = None;
            match made {
                Ok(mask) => {
                    self.state.draft.mask = Some(mask);
                    self.toasts.add(
                        Level::Info,
                        "Masked edit: only the painted region of the first input will change",
                    );
                }
                Err(e) => self.toasts.add(Level::Error, format!("The mask: {e}")),
            }
        }
        if let Some(made) = self.answers.markup.as_mut().and_then(Answer::take) {
            self.answers.markup = None;
            match made {
                Ok(markup) => {
                    let n = markup.marks.len();
                    self.state.draft.markup = Some(markup);
                    self.toasts.add(
                        Level::Info,
                        format!(
                            "Marked up: the first input goes with a copy showing {n} mark{}; \
                             say in the prompt what they mean",
                            if n == 1 { "" } else { "s" }
                        ),
                    );
                }
                Err(e) => self.toasts.add(Level::Error, format!("The marks: {e}")),
            }
        }
        for done in arrived(&mut self.answers.library_files, Answer::take) {
            match done {
                Ok(words) => self.toasts.add(Level::Info, words),
                Err(e) => self.toasts.add(Level::Error, e),
            }
        }
        for done in arrived(&mut self.answers.batch_exports, Answer::take) {
            self.exported_many(done);
        }
        for (provider, test) in arrived(&mut self.answers.key_tests, |(p, a)| {
            a.take().map(|t| (*p, t))
        }) {
            self.key_answer(provider, test.ok, test.message, false);
        }
        for (provider, result) in arrived(&mut self.answers.key_saves, |(p, a)| {
            a.take().map(|r| (*p, r))
        }) {
            self.key_saved(provider, result);
        }
        for (provider, result) in arrived(&mut self.answers.key_removals, |(p, a)| {
            a.take().map(|r| (*p, r))
        }) {
            self.key_removed(provider, result);
        }
    }

    fn exported_many(&mut self, done: ExportedMany) {
        let ExportedMany { dir, saved, failed } = done;
        if !saved.is_empty() {
            let n = saved.len();
            self.toasts.push(
                Notice::new(
                    Level::Info,
                    format!(
                        "Saved {n} image{} to {}",
                        if n == 1 { "" } else { "s" },
                        crate::notify::tilde(&dir)
                    ),
                )
                .with_action(Action::ShowFolder(dir)),
            );
        }
        for (image, e) in failed {
            self.toasts
                .add(Level::Error, format!("Could not save image {image}: {e}"));
        }
    }
}

impl BananaApp {
    /// Asks for the pixels of the image the viewer shows when it has none coming, sized
    /// for the view as this frame laid it out. Called once a frame is drawn, so a 4K
    /// decode does not race that frame for the cores (at start, the frame that draws the
    /// history's first page), and when several results arrive in one frame only the one
    /// shown is decoded.
    pub(super) fn load_due_view(&mut self) {
        let Some(image) = self.viewer.pixels_wanted() else {
            return;
        };
        let (width, height) = self
            .gallery
            .image(image)
            .map_or((u32::MAX, u32::MAX), |(_, i)| (i.width, i.height));
        let side = self
            .viewer
            .side_for(width, height, self.ctx.pixels_per_point());
        self.load_view(image, side);
    }

    /// Asks for the shown image's pixels at most `side` long; the viewer keeps what it
    /// shows until they come.
    pub(super) fn load_view(&mut self, image: ImageId, side: u32) {
        let answer = self.engine.load_image_fitted(image, side);
        self.viewer.expect(image, side, answer);
    }

    /// Puts an image on the clipboard once every pixel of it is decoded.
    pub(super) fn poll_copy(&mut self) {
        let Some((_, answer)) = &mut self.answers.copy else {
            return;
        };
        let Some(result) = answer.take() else {
            return;
        };
        self.answers.copy = None;
        match result {
            Ok(p) => {
                let image = egui::ColorImage::from_rgba_unmultiplied(
                    [p.width as usize, p.height as usize],
                    &p.pixels,
                );
                self.ctx.copy_image(image);
                self.toasts
                    .add(Level::Info, "Copied the image to the clipboard");
            }
            Err(e) => self
                .toasts
                .add(Level::Error, format!("Could not copy the image: {e}")),
        }
    }
}
