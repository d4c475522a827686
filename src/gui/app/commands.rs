//! What the panels ask for, carried out: each `Command` a panel returns and each
//! notice's button, turned into engine calls and panel changes (never awaited here).

use super::super::save_dialog::default_folder;
use super::super::toasts::Level;
use super::BananaApp;
use crate::engine::InputSource;
use crate::gui::Command;

/// The longest side of the photo the mask painter shows.
const PAINT_SIDE_PX: u32 = 1600;

/// The feather a new mask starts with, in pixels.
const DEFAULT_FEATHER_PX: f32 = 8.0;

impl BananaApp {
    /// Puts a recipe back in the prompt panel: its typed words, template and slot
    /// values, styles and kit as they were chosen, not the composed prompt.
    pub(super) fn restore_recipe(&mut self, mut recipe: crate::recipe::Recipe) {
        self.state.seed_fixed = recipe.seed.is_some();
        self.state.refine_from = None;
        self.state.library = match recipe.composition.take() {
            Some(c) => {
                recipe.prompt = c.typed.clone();
                // Reference images the library added come back with the kit and styles.
                let added: Vec<_> = self
                    .prompt_library
                    .styles
                    .iter()
                    .filter(|(s, _)| c.styles.iter().any(|(n, _)| n == &s.name))
                    .flat_map(|(s, _)| s.references.clone())
                    .chain(
                        self.prompt_library
                            .brands
                            .iter()
                            .filter(|(k, _)| c.brand.as_ref().is_some_and(|(n, _, _)| n == &k.name))
                            .flat_map(|(k, _)| k.references.clone()),
                    )
                    .collect();
                recipe.inputs.retain(|i| !added.contains(i));
                crate::gui::state::LibraryChoice {
                    template: c.template,
                    values: c.values,
                    styles: c.styles.into_iter().map(|(n, _)| n).collect(),
                    brand: c.brand.map(|(n, _, _)| n),
                    structured: c.structured,
                }
            }
            None => Default::default(),
        };
        // A masked edit comes back with its photo, the first input.
        self.state.mask_for = recipe
            .mask
            .as_ref()
            .and(recipe.inputs.first())
            .map(|i| i.sha256.clone());
        self.state.draft = recipe;
    }

    /// Adds a reference set's pictures after the draft's inputs, as far as the model
    /// takes them; the ones left out are named.
    fn add_reference_set(&mut self, name: &str) {
        let Some((set, _)) = self
            .prompt_library
            .sets
            .iter()
            .find(|(s, _)| s.name == name)
        else {
            return;
        };
        let draft = &mut self.state.draft;
        let room = self
            .catalog
            .model(draft.provider, &draft.model)
            .map_or(usize::MAX, |m| m.max_inputs as usize);
        let fresh: Vec<_> = set
            .references
            .iter()
            .filter(|r| !draft.inputs.contains(r))
            .cloned()
            .collect();
        let fits = room.saturating_sub(draft.inputs.len()).min(fresh.len());
        let left_out = fresh.len() - fits;
        draft.inputs.extend(fresh.into_iter().take(fits));
        let n = draft.inputs.len();
        if left_out > 0 {
            self.toasts.add(
                Level::Error,
                format!(
                    "“{name}”: {fits} picture{} added, {left_out} left out: the model takes {room}                      inputs ({n} of {room} now); remove some, or pick a model that takes more",
                    if fits == 1 { "" } else { "s" }
                ),
            );
        } else {
            self.toasts.add(
                Level::Info,
                format!(
                    "“{name}”: {fits} picture{} added ({n} of {room} inputs)",
                    if fits == 1 { "" } else { "s" }
                ),
            );
        }
    }

    /// Draft to final: the draft's recipe on the final model (by brand, on the draft's
    /// provider) at the final size of Settings, the size lowered to the largest the
    /// model makes when it makes less.
    fn render_final(&mut self, draft: crate::library::ImageId) {
        let Some((g, _)) = self.gallery.image(draft) else {
            return;
        };
        let provider = g.job.recipe.provider;
        let brand = self
            .settings
            .final_brand
            .clone()
            .unwrap_or_else(|| crate::settings::DEFAULT_FINAL_BRAND.to_owned());
        let model = self
            .catalog
            .models_of(provider)
            .find(|m| m.brand == brand && m.status != crate::recipe::ModelStatus::Retired)
            .or_else(|| self.catalog.model(provider, &g.job.recipe.model))
            .cloned();
        let Some(model) = model else {
            self.toasts.add(
                Level::Error,
                format!(
                    "{} has no {brand}: pick the final model in Settings",
                    provider.label()
                ),
            );
            return;
        };
        let wanted = self.settings.final_size;
        let size = if model.sizes.is_empty() {
            None
        } else if model.sizes.contains(&wanted) {
            Some(wanted)
        } else {
            // The largest it makes (ImageSize::ALL runs from small to large).
            crate::recipe::ImageSize::ALL
                .into_iter()
                .rev()
                .find(|s| model.sizes.contains(s))
        };
        self.toasts.add(
            Level::Info,
            format!(
                "Rendering the final on {}{}",
                model.brand,
                size.map_or(String::new(), |s| format!(" at {s}"))
            ),
        );
        self.engine.render_final(draft, model.id.clone(), size);
    }

    /// Carries out what a panel asked for.
    pub(super) fn run(&mut self, command: Command) {
        match command {
            Command::ShowThinking(show) => {
                let mut settings = self.settings.clone();
                settings.show_thinking = show;
                self.apply_settings(settings);
            }
            Command::Submit(recipe) => {
                if let Err(e) = self.engine.submit(recipe) {
                    self.toasts.add(Level::Error, e.to_string());
                }
            }
            Command::Cancel(job) => self.engine.cancel(job),
            Command::Retry(job) => self.engine.retry(job),
            Command::Select(image) => {
                if self.gallery.selected != Some(image) {
                    self.gallery.select(image);
                }
                // Its pixels are asked for once this frame is drawn (`load_due_view`).
                self.viewer.show(image);
            }
            Command::SaveAs(image) => {
                // Named by the template every export uses (Settings, File names).
                let name = match self.gallery.image(image) {
                    Some((g, i)) => crate::library::export::file_name(
                        &self.settings.filename_template,
                        &g.job,
                        i,
                    ),
                    None => format!("banana-image-{image}.png"),
                };
                let folder = self
                    .settings
                    .save_folder
                    .clone()
                    .unwrap_or_else(default_folder);
                self.save.open(image, folder.join(name));
            }
            Command::LoadPage(query) => {
                let answer = self.engine.load_history(query.clone());
                self.gallery.expect_page(query, answer);
            }
            Command::ReloadHistory => self.reload_history(),
            Command::SetSession(id) => {
                self.engine.set_session(id);
                // Listing it even when it already was current (after "All sessions").
                self.history.current = Some(id);
                self.reload_history();
            }
            Command::NewSession(name) => self.engine.new_session(name),
            Command::RenameSession(id, name) => self.engine.rename_session(id, name),
            Command::LoadLineage(image) => {
                let answer = self.engine.load_lineage(image);
                self.lineage.expect(answer);
            }
            Command::SaveSelected => {
                let images = self.gallery.targets();
                if !images.is_empty() {
                    let s = &self.settings;
                    let folder = s.save_folder.clone().unwrap_or_else(default_folder);
                    self.export
                        .open(images, folder, &s.filename_template, s.embed_metadata);
                }
            }
            Command::TrashSelected => self.trash_selected(),
            Command::TrashImage(image) => self.trash(vec![image]),
            Command::RenderFinal(draft) => self.render_final(draft),
            Command::SavePrompt(prompt) => {
                self.toasts.add(
                    Level::Info,
                    format!("Saved the prompt as {:?}", prompt.name),
                );
                self.engine.save_prompt_item(prompt);
            }
            Command::Mark(image, mark) => self.apply_marks(&[image], &[mark]),
            Command::AddInputs(sources) => {
                let draft = &self.state.draft;
                let model = self.catalog.model(draft.provider, &draft.model);
                let sources = self.tray.within_limit(sources, draft.inputs.len(), model);
                if !sources.is_empty() {
                    self.engine.add_inputs(sources);
                }
            }
            Command::OpenInputs => self.tray.open_dialog(),
            Command::LoadInputPreview(input) => {
                let sha256 = input.sha256.clone();
                let answer = self.engine.load_input_preview(input);
                self.tray.expect_preview(sha256, answer);
            }
            Command::UseAsInput(image) => self.engine.add_inputs(vec![InputSource::Stored(image)]),
            Command::DrawOn(image, kind) => {
                self.draw_on_added = Some(kind);
                self.engine.add_inputs(vec![InputSource::Stored(image)]);
            }
            Command::StartRefine(image) => {
                if let Some((g, _)) = self.gallery.image(image) {
                    // A conversation continues on the model that began it.
                    let parent = &g.job.recipe;
                    let draft = &mut self.state.draft;
                    draft.provider = parent.provider;
                    draft.model = parent.model.clone();
                    draft.size = parent.size;
                    draft.aspect = parent.aspect;
                    draft.inputs.clear();
                    draft.prompt.clear();
                }
                self.state.refine_from = Some(image);
            }
            Command::LoadFullImage(image) => {
                let side = self.viewer.full_side();
                self.load_view(image, side);
            }
            Command::LoadComparison(image) => {
                let answer = self.engine.load_comparison(image);
                self.viewer.compare.expect(image, answer);
            }
            Command::ShowFolder(folder) => {
                if let Err(message) = crate::gui::desktop::open_folder(&folder) {
                    self.toasts.add(Level::Error, message);
                }
            }
            Command::ApplySettings(_)
            | Command::SaveKey(..)
            | Command::RemoveKey(_)
            | Command::TestKey { .. }
            | Command::CheckLibrary => self.run_settings(command),
            Command::Export(image, path) => {
                let answer = self
                    .engine
                    .export_image(image, path, self.settings.embed_metadata);
                self.answers.exports.push(answer);
            }
            Command::Regenerate(job, count) => self.engine.regenerate(job, count),
            Command::SameRecipeOn(job, provider) => {
                self.engine.rerun_on(job, provider);
                let origin = self
                    .gallery
                    .generations()
                    .iter()
                    .find(|g| g.job.id == job)
                    .and_then(|g| g.job.same_recipe_of)
                    .unwrap_or(job);
                self.show_same_recipe(origin);
                self.toasts.add(
                    Level::Info,
                    format!(
                        "Running the recipe on {}; its runs are listed side by side",
                        provider.label()
                    ),
                );
            }
            Command::ShowSameRecipe(origin) => self.show_same_recipe(origin),
            Command::RestoreRecipe(recipe) => self.restore_recipe(recipe),
            Command::UseSettings(job) => {
                if let Some(g) = self.gallery.generations().iter().find(|g| g.job.id == job) {
                    let recipe = g.job.recipe.clone();
                    self.restore_recipe(recipe);
                }
            }
            Command::CopyImage => match self.viewer.shown() {
                // Every pixel goes, whatever detail the view shows.
                Some(image) => {
                    let answer = self.engine.load_image(image);
                    self.answers.copy = Some((image, answer));
                }
                None => self
                    .toasts
                    .add(Level::Error, "Nothing is shown: pick an image to copy"),
            },
            Command::Reveal(image) => {
                if let Some((_, record)) = self.gallery.image(image)
                    && let Err(message) = crate::gui::desktop::reveal(&record.path)
                {
                    self.toasts.add(Level::Error, message);
                }
            }
            Command::CopyFile(image) => {
                if let Some((_, record)) = self.gallery.image(image) {
                    let uri = crate::gui::desktop::file_uri(&record.path);
                    self.ctx.copy_text(uri.clone());
                    self.toasts.add(
                        Level::Info,
                        format!(
                            "Copied the file's address: paste it into a file manager or a browser ({uri})"
                        ),
                    );
                }
            }
            Command::UndoDelete => {
                let images = std::mem::take(&mut self.gallery.last_deleted);
                if !images.is_empty() {
                    self.engine.restore(images);
                }
            }
            Command::EmptyTrash => {
                self.gallery.last_deleted.clear();
                self.engine.empty_trash();
            }
            Command::Refine(parent, recipe) => {
                if let Err(e) = self.engine.refine(parent, recipe) {
                    self.toasts.add(Level::Error, e.to_string());
                }
            }
            Command::OpenBatch => self.batch_dialog.open(),
            Command::RunOnSuccessor(job) => self.engine.rerun_on_successor(job),
            Command::OpenLibrary(tab) => self.library_dialog.open(tab),
            Command::SavePromptItem(item) => {
                use crate::gui::library_dialog::PromptEdit;
                match *item {
                    PromptEdit::Template(t) => self.engine.save_prompt_item(t),
                    PromptEdit::Style(s) => self.engine.save_prompt_item(s),
                    PromptEdit::Brand(b) => self.engine.save_prompt_item(b),
                    PromptEdit::Set(s) => self.engine.save_prompt_item(s),
                    PromptEdit::Saved(p) => self.engine.save_prompt_item(p),
                }
                self.toasts.add(Level::Info, "Saved in the prompt library");
            }
            Command::DeletePromptItem(kind, name) => self.engine.delete_prompt_item(kind, name),
            Command::ImportPromptLibrary(path) => {
                let answer = self.engine.import_prompt_library(path);
                self.answers.library_files.push(answer);
            }
            Command::ExportPromptLibrary(path) => {
                let answer = self.engine.export_prompt_library(path);
                self.answers.library_files.push(answer);
            }
            Command::SaveInputsAsSet => {
                self.library_dialog
                    .new_set_from(self.state.draft.inputs.clone());
            }
            Command::AddReferenceSet(name) => self.add_reference_set(&name),
            Command::PaintMask(photo) => {
                let pixels = self.engine.load_input_pixels(photo.clone(), PAINT_SIDE_PX);
                let (drawing, feather) = match &self.state.draft.mask {
                    Some(mask) => (mask.drawing.clone(), mask.feather_px),
                    None => (None, DEFAULT_FEATHER_PX),
                };
                self.mask_painter.open(photo, pixels, drawing, feather);
            }
            Command::MarkUp(photo) => {
                let pixels = self.engine.load_input_pixels(photo.clone(), PAINT_SIDE_PX);
                let marks = self
                    .state
                    .draft
                    .markup
                    .as_ref()
                    .map(|m| m.marks.clone())
                    .unwrap_or_default();
                self.markup_painter.open(photo, pixels, marks);
            }
            Command::UseMarkup { photo, marks } => {
                self.answers.markup = Some(self.engine.make_markup(photo, marks));
            }
            Command::UseMask {
                photo,
                drawing,
                feather_px,
            } => {
                self.state.mask_for = Some(photo.sha256.clone());
                self.answers.mask = Some(self.engine.make_mask(photo, drawing, feather_px));
            }
            Command::StartBatch(name, recipes, true) => {
                let n: usize = recipes.iter().map(|r| usize::from(r.count.max(1))).sum();
                match self.engine.submit_deferred(name.clone(), recipes) {
                    Ok(()) => self.toasts.add(
                        Level::Info,
                        format!(
                            "Batch “{name}”: {n} request{} going to the Gemini Batch API at half \
                             price; results within 24 hours, even if you close the app",
                            if n == 1 { "" } else { "s" }
                        ),
                    ),
                    Err(e) => self.toasts.add(Level::Error, format!("Batch: {e}")),
                }
            }
            Command::StartBatch(name, recipes, false) => {
                let n = recipes.len();
                match self.engine.start_batch(name.clone(), recipes) {
                    Ok(()) => self.toasts.add(
                        Level::Info,
                        format!(
                            "Batch “{name}”: {n} request{} on the way; its progress is above the jobs",
                            if n == 1 { "" } else { "s" }
                        ),
                    ),
                    Err(e) => self.toasts.add(Level::Error, format!("Batch: {e}")),
                }
            }
            Command::RerunBatch(batch, deferred) => {
                self.answers.rerun = Some((self.engine.failed_requests(batch), deferred));
            }
            Command::PauseBatch(batch) => self.engine.pause_batch(batch),
            Command::ResumeBatch(batch) => self.engine.resume_batch(batch),
            Command::CancelBatch(batch) => {
                if self
                    .batches
                    .all()
                    .iter()
                    .any(|b| b.id == batch && b.deferred)
                {
                    self.engine.cancel_deferred(batch);
                } else {
                    self.engine.cancel_batch(batch);
                }
            }
            Command::ShowBatch(batch) => self.show_batch(batch),
            Command::SaveBatch(batch) => {
                // Listed too, so the dialog's file-name example is one of its images.
                self.show_batch(batch);
                self.answers.batch_images = Some(self.engine.batch_images(batch));
            }
        }
    }
}
