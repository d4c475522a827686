//! The prompt panel's library part: a template with a field per [SLOT], styles, the
//! active brand kit, saved prompts, and "What will be sent", the composed prompt with
//! its length against the model's limit. What it shows is what [`compose`] makes.

use egui::RichText;

use super::Command;
use super::state::{LibraryChoice, UiState};
use crate::engine::PromptLibrary;
use crate::library::prompts::PromptKind;
use crate::recipe::compose::{
    BrandKit, SECTIONS, SavedPrompt, Structured, Style, assemble, compose,
};

/// The template picker's entry for the structured prompt.
const STRUCTURED: &str = "Structured prompt";
use crate::recipe::{InputImage, ModelInfo, Recipe};

/// The recipe the panel sends: the draft with the prompt put together from the
/// library choice, the parts recorded, and the styles' and kit's reference images after
/// the user's inputs as far as the model takes them. Err names what to change.
pub fn recipe(
    state: &UiState,
    library: &PromptLibrary,
    model: Option<&ModelInfo>,
) -> Result<(Recipe, Vec<String>), String> {
    let mut recipe = state.draft.clone();
    if !state.seed_fixed {
        recipe.seed = None;
    }
    let choice = &state.library;
    if choice.template.is_none()
        && choice.structured.is_none()
        && choice.styles.is_empty()
        && choice.brand.is_none()
    {
        recipe.composition = None;
        return Ok((recipe, Vec::new()));
    }
    let template = match &choice.template {
        Some(name) => Some(
            library
                .templates
                .iter()
                .map(|(t, _)| t)
                .find(|t| &t.name == name)
                .ok_or_else(|| format!("the template {name:?} is gone; pick another"))?,
        ),
        None => None,
    };
    let styles: Vec<&Style> = choice
        .styles
        .iter()
        .map(|name| {
            library
                .styles
                .iter()
                .map(|(s, _)| s)
                .find(|s| &s.name == name)
                .ok_or_else(|| format!("the style {name:?} is gone; take it off"))
        })
        .collect::<Result<_, _>>()?;
    let brand: Option<&BrandKit> = match &choice.brand {
        Some(name) => Some(
            library
                .brands
                .iter()
                .map(|(k, _)| k)
                .find(|k| &k.name == name)
                .ok_or_else(|| format!("the brand kit {name:?} is gone; pick another"))?,
        ),
        None => None,
    };
    let (mut composition, references) = assemble(
        template,
        &choice.values,
        &state.draft.prompt,
        &styles,
        brand,
    );
    if template.is_none() {
        composition.structured = choice.structured.clone();
    }
    recipe.prompt = compose(&composition).map_err(|e| e.to_string())?;
    recipe.composition = Some(composition);
    let left_out = add_references(&mut recipe.inputs, references, model);
    Ok((recipe, left_out))
}

/// Adds reference images after `inputs` as far as the model takes them; returns the
/// ones left out, in words.
fn add_references(
    inputs: &mut Vec<InputImage>,
    references: Vec<InputImage>,
    model: Option<&ModelInfo>,
) -> Vec<String> {
    let room = model
        .map_or(usize::MAX, |m| m.max_inputs as usize)
        .saturating_sub(inputs.len());
    let mut left_out = Vec::new();
    let fresh: Vec<InputImage> = references
        .into_iter()
        .filter(|r| !inputs.contains(r))
        .collect();
    for (i, image) in fresh.into_iter().enumerate() {
        if i < room {
            inputs.push(image);
        } else {
            left_out.push(format!("reference {}", i + 1));
        }
    }
    left_out
}

/// The template picker and its slot fields, above the prompt. Returns whether a
/// template is in use (the prompt field then holds words added after it).
pub fn template_ui(ui: &mut egui::Ui, choice: &mut LibraryChoice, library: &PromptLibrary) -> bool {
    ui.horizontal(|ui| {
        let label = ui.label("Template");
        let shown = match (&choice.template, &choice.structured) {
            (Some(name), _) => name.clone(),
            (None, Some(_)) => STRUCTURED.to_owned(),
            (None, None) => "None".to_owned(),
        };
        egui::ComboBox::from_id_salt("template")
            .selected_text(shown)
            .width(ui.available_width() - 8.0)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(
                        choice.template.is_none() && choice.structured.is_none(),
                        "None: type the whole prompt",
                    )
                    .clicked()
                {
                    choice.template = None;
                    choice.structured = None;
                }
                if ui
                    .selectable_label(choice.structured.is_some(), STRUCTURED)
                    .on_hover_text(
                        "Goal, Subject, Scene, Camera & lighting, Style, Constraints: each a field",
                    )
                    .clicked()
                {
                    choice.template = None;
                    choice.structured.get_or_insert(Structured {
                        no_text: true,
                        ..Structured::default()
                    });
                }
                for (t, _) in &library.templates {
                    if ui
                        .selectable_label(choice.template.as_ref() == Some(&t.name), &t.name)
                        .on_hover_text(&t.text)
                        .clicked()
                    {
                        choice.template = Some(t.name.clone());
                        choice.structured = None;
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
    if let Some(structured) = choice.structured.as_mut() {
        egui::Grid::new("structured-sections")
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                for section in SECTIONS {
                    let label = ui.label(section);
                    let words = structured.sections.entry(section.to_owned()).or_default();
                    ui.add(egui::TextEdit::singleline(words).desired_width(f32::INFINITY))
                        .labelled_by(label.id);
                    ui.end_row();
                }
            });
        ui.checkbox(&mut structured.no_text, "No text unless requested");
        return true;
    }
    let Some(template) = choice
        .template
        .as_ref()
        .and_then(|name| library.templates.iter().find(|(t, _)| &t.name == name))
        .map(|(t, _)| t)
    else {
        return false;
    };
    egui::Grid::new("template-slots")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            for slot in template.slots() {
                let label = ui.label(slot_words(&slot));
                let value = choice.values.entry(slot.clone()).or_default();
                ui.add(
                    egui::TextEdit::singleline(value)
                        .hint_text(RichText::new(format!("[{slot}]")).italics())
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
                ui.end_row();
            }
        });
    true
}

/// "TIME OF DAY" as "Time of day".
fn slot_words(slot: &str) -> String {
    let lower = slot.to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// Styles (in order, each removable) and the brand kit, under the prompt; saved prompts.
pub fn styles_and_brand_ui(
    ui: &mut egui::Ui,
    state: &mut UiState,
    library: &PromptLibrary,
) -> Vec<Command> {
    let mut commands = Vec::new();
    let choice = &mut state.library;
    ui.horizontal_wrapped(|ui| {
        ui.menu_button("Styles…", |ui| {
            for (s, _) in &library.styles {
                let mut on = choice.styles.contains(&s.name);
                if ui
                    .checkbox(&mut on, &s.name)
                    .on_hover_text(&s.text)
                    .changed()
                {
                    if on {
                        choice.styles.push(s.name.clone());
                    } else {
                        choice.styles.retain(|n| n != &s.name);
                    }
                }
            }
        })
        .response
        .on_hover_text("Words said after the prompt, in the order picked");
        let mut remove = None;
        for name in &choice.styles {
            if ui
                .small_button(format!("{name} {}", super::icons::CLOSE))
                .on_hover_text("Take this style off")
                .clicked()
            {
                remove = Some(name.clone());
            }
        }
        if let Some(name) = remove {
            choice.styles.retain(|n| n != &name);
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Brand kit");
        egui::ComboBox::from_id_salt("brand-kit")
            .selected_text(choice.brand.clone().unwrap_or_else(|| "None".to_owned()))
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(choice.brand.is_none(), "None")
                    .clicked()
                {
                    choice.brand = None;
                }
                for (k, _) in &library.brands {
                    let hover = format!("Before: {}\nAfter: {}", k.prefix, k.suffix);
                    if ui
                        .selectable_label(choice.brand.as_ref() == Some(&k.name), &k.name)
                        .on_hover_text(hover)
                        .clicked()
                    {
                        choice.brand = Some(k.name.clone());
                    }
                }
                if library.brands.is_empty() {
                    ui.weak("No kits yet: Prompt library… makes one");
                }
            })
            .response
            .labelled_by(label.id);
        if let Some(kit) = choice
            .brand
            .as_ref()
            .and_then(|n| library.brands.iter().find(|(k, _)| &k.name == n))
        {
            for swatch in &kit.0.palette {
                if let Some(colour) = hex_colour(swatch) {
                    let (rect, _) =
                        ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
                    ui.painter().rect_filled(rect, 2.0, colour);
                }
            }
        }
    });
    ui.horizontal_wrapped(|ui| {
        // Clicks inside (the find field) keep it open; a pick or a click outside closes it.
        let keep_open = egui::containers::menu::MenuConfig::new()
            .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside);
        egui::containers::menu::MenuButton::new("Saved prompts…")
            .config(keep_open)
            .ui(ui, |ui| {
                if library.saved.is_empty() {
                    ui.weak("None yet: write a prompt, then Save this prompt");
                } else {
                    let field = ui.add(
                        egui::TextEdit::singleline(&mut state.saved_search)
                            .hint_text(RichText::new("Find by name or words").italics())
                            .desired_width(200.0),
                    );
                    super::icons::named(&field, "Find a saved prompt");
                }
                let words: Vec<String> = state
                    .saved_search
                    .split_whitespace()
                    .map(str::to_lowercase)
                    .collect();
                let found = library.saved.iter().filter(|(p, _)| {
                    let hay = format!("{} {}", p.name, p.text).to_lowercase();
                    words.iter().all(|w| hay.contains(w.as_str()))
                });
                let mut any = false;
                for (p, _) in found {
                    any = true;
                    if ui.button(&p.name).on_hover_text(&p.text).clicked() {
                        state.draft.prompt = p.text.clone();
                        state.library.template = None;
                        state.saved_search.clear();
                        ui.close();
                    }
                }
                if !any && !library.saved.is_empty() {
                    ui.weak("No saved prompt has those words");
                }
            });
        let can_save = !state.draft.prompt.trim().is_empty();
        if ui
            .add_enabled(can_save, egui::Button::new("Save this prompt").small())
            .on_hover_text("Keep the prompt under a name, to load it in one click")
            .clicked()
        {
            state.naming_prompt = Some(String::new());
        }
        if ui
            .small_button("Library…")
            .on_hover_text(
                "Templates, styles, brand kits, reference sets and saved prompts: make, edit, \
                 import and export them",
            )
            .clicked()
        {
            commands.push(Command::OpenLibrary(PromptKind::Template));
        }
    });
    if let Some(name) = state.naming_prompt.as_mut() {
        let mut done = None;
        ui.horizontal(|ui| {
            let label = ui.label("Name");
            let field = ui
                .add(egui::TextEdit::singleline(name).desired_width(140.0))
                .labelled_by(label.id);
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.small_button("Save").clicked() || enter) && !name.trim().is_empty() {
                done = Some(true);
            }
            if ui.small_button("Cancel").clicked() {
                done = Some(false);
            }
        });
        match done {
            Some(true) => {
                commands.push(Command::SavePrompt(SavedPrompt {
                    name: name.trim().to_owned(),
                    text: state.draft.prompt.trim().to_owned(),
                }));
                state.naming_prompt = None;
            }
            Some(false) => state.naming_prompt = None,
            None => {}
        }
    }
    commands
}

fn hex_colour(text: &str) -> Option<egui::Color32> {
    egui::Color32::from_hex(text.trim()).ok()
}

/// The reference sets, in the row under the inputs: add one in a click, keep the inputs
/// as one.
pub fn reference_sets_ui(
    ui: &mut egui::Ui,
    state: &UiState,
    library: &PromptLibrary,
) -> Vec<Command> {
    let mut commands = Vec::new();
    {
        ui.menu_button("Reference sets…", |ui| {
            if library.sets.is_empty() {
                ui.weak("None yet: put a character's or product's pictures in the inputs, then keep them as a set");
            }
            for (set, _) in &library.sets {
                let n = set.references.len();
                let text = format!("{} · {n} picture{}", set.name, if n == 1 { "" } else { "s" });
                let hover = if set.note.is_empty() { "Add its pictures to the inputs".to_owned() } else { set.note.clone() };
                if ui.button(text).on_hover_text(hover).clicked() {
                    commands.push(Command::AddReferenceSet(set.name.clone()));
                    ui.close();
                }
            }
            ui.separator();
            if ui
                .add_enabled(!state.draft.inputs.is_empty(), egui::Button::new("Keep the inputs as a set…"))
                .clicked()
            {
                commands.push(Command::SaveInputsAsSet);
                ui.close();
            }
            if ui.button("Edit sets…").clicked() {
                commands.push(Command::OpenLibrary(PromptKind::RefSet));
                ui.close();
            }
        })
        .response
        .on_hover_text("Named sets of pictures (a character, a product) added to the inputs in one click");
    }
    commands
}

/// "What will be sent": the composed prompt, or why there is none, and its length
/// against the model's limit.
pub fn preview_ui(
    ui: &mut egui::Ui,
    composed: &Result<(Recipe, Vec<String>), String>,
    model: Option<&ModelInfo>,
) {
    let (len, over) = match composed {
        Ok((r, _)) => {
            let n = r.prompt.chars().count();
            (n, model.is_some_and(|m| n > m.max_prompt_chars))
        }
        Err(_) => (0, false),
    };
    let limit = model.map_or(String::new(), |m| format!(" of {}", m.max_prompt_chars));
    egui::CollapsingHeader::new(format!("What will be sent ({len}{limit} characters)"))
        .id_salt("what-will-be-sent")
        .show(ui, |ui| match composed {
            Ok((r, left_out)) => {
                ui.add(egui::Label::new(RichText::new(&r.prompt).monospace()).wrap());
                if over && let Some(m) = model {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!(
                            "{} characters too long for {}",
                            len - m.max_prompt_chars,
                            m.brand
                        ),
                    );
                }
                if !left_out.is_empty() {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!(
                            "The model takes no more input images: left out {}",
                            left_out.join(", ")
                        ),
                    );
                }
            }
            Err(e) => {
                ui.colored_label(ui.visuals().warn_fg_color, e);
            }
        });
}
