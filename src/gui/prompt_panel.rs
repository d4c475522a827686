//! The prompt panel: what to make, with every option the model takes.

use egui::{Key, KeyboardShortcut, Modifiers, RichText};

use super::Command;
use super::input_tray::InputTray;
use super::state::UiState;
use crate::engine::ProviderStatus;
use crate::recipe::{
    AspectRatio, Catalog, ImageSize, ModelInfo, ModelStatus, OutputFormat, ProviderId,
    no_size_reason, ratio_reason,
};

/// Ctrl+Enter (Cmd+Enter on macOS) generates.
pub const GENERATE_SHORTCUT: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);

/// Draws the panel; returns a command when the user asks to generate.
pub fn ui(
    ui: &mut egui::Ui,
    state: &mut UiState,
    catalog: &Catalog,
    status_of: &dyn Fn(ProviderId) -> ProviderStatus,
    tray: &mut InputTray,
    refine_label: Option<&str>,
    library: &crate::engine::PromptLibrary,
) -> Vec<Command> {
    ui.heading(if refine_label.is_some() {
        "Refining"
    } else {
        "Prompt"
    });
    if let Some(what) = refine_label {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.label(RichText::new(format!("Refining {what}")).strong());
            ui.weak("The next generation continues its conversation.");
            if ui.small_button("Stop refining").clicked() {
                state.refine_from = None;
            }
        });
    }
    let templated = super::prompt_library::template_ui(ui, &mut state.library, library);
    let label = ui.label(if templated {
        "Your words, added after the template"
    } else {
        "Describe the image, or what to change"
    });
    let text_edit = egui::TextEdit::multiline(&mut state.draft.prompt)
        .hint_text(
            RichText::new(if templated {
                "For example: with steam rising from the cup"
            } else {
                "For example: a banana-yellow armchair in a sunlit Bauhaus studio, 35 mm photo"
            })
            .italics(),
        )
        .desired_rows(if templated { 2 } else { 4 })
        .desired_width(f32::INFINITY);
    ui.add(text_edit).labelled_by(label.id);
    let chars = state.draft.prompt.chars().count();
    ui.label(
        RichText::new(format!("{chars} characters · Ctrl+Enter generates"))
            .weak()
            .small(),
    );
    let mut commands = super::prompt_library::styles_and_brand_ui(ui, state, library);
    ui.add_space(super::theme::space::M);
    let model = catalog.model(state.draft.provider, &state.draft.model);
    commands.extend(tray.ui(ui, &mut state.draft.inputs, model));
    // One row of what to do with the inputs: reference sets, a mask, mark-up.
    ui.horizontal_wrapped(|ui| {
        commands.extend(super::prompt_library::reference_sets_ui(ui, state, library));
        commands.extend(super::mask_painter::mask_row(ui, state));
        commands.extend(super::markup_painter::markup_row(ui, state));
    });
    ui.add_space(super::theme::space::L);

    egui::Grid::new("recipe-options")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            provider_row(ui, state, catalog, status_of);
            let model = catalog
                .model(state.draft.provider, &state.draft.model)
                .cloned();
            model_row(ui, state, catalog);
            if let Some(model) = model {
                aspect_row(ui, state, catalog, &model);
                format_row(ui, state);
                count_row(ui, state);
                size_row(ui, state, catalog, &model);
                seed_row(ui, state, &model);
                commands.extend(thinking_row(ui, state, &model));
                search_row(ui, state, &model);
            }
        });
    if let Some(note) = &state.adjusted {
        ui.colored_label(ui.visuals().warn_fg_color, note);
    }
    // What will be sent, with the form it comes from.
    let model = catalog.model(state.draft.provider, &state.draft.model);
    let composed = super::prompt_library::recipe(state, library, model);
    super::prompt_library::preview_ui(ui, &composed, model);
    commands
}

/// The foot of the prompt panel, always in view: the cost, Generate and what stops it.
/// Drawn before the form, so Ctrl+Enter is taken before the text field sees it.
pub fn actions(
    ui: &mut egui::Ui,
    state: &mut UiState,
    catalog: &Catalog,
    status_of: &dyn Fn(ProviderId) -> ProviderStatus,
    library: &crate::engine::PromptLibrary,
) -> Vec<Command> {
    let mut commands = Vec::new();
    let shortcut = ui.input_mut(|i| i.consume_shortcut(&GENERATE_SHORTCUT));
    let status = status_of(state.draft.provider);
    let sandbox = status.sandbox;
    // The prompt as the library puts it together, as "What will be sent" shows it.
    let model = catalog.model(state.draft.provider, &state.draft.model);
    let composed = super::prompt_library::recipe(state, library, model);
    let (recipe, composing) = match composed {
        Ok((recipe, _)) => (recipe, None),
        Err(problem) => (state.draft.clone(), Some(problem)),
    };
    let cost = recipe.estimate_cost(catalog);
    let cost_text = if sandbox {
        format!(
            "Sandbox: free (the real service would charge {})",
            cost.label()
        )
    } else {
        format!("Estimated cost: {}", cost.label())
    };
    ui.label(cost_text);
    if let Some(left) = status.credits_left {
        ui.label(format!(
            "{}: {left} credits left{}",
            state.draft.provider.label(),
            if sandbox { " (sandbox account)" } else { "" }
        ));
    }
    let validation = match composing {
        Some(problem) => Err(crate::recipe::ValidationError::new("prompt", problem)),
        None => recipe.validate(catalog),
    };
    ui.add_space(super::theme::space::S);
    // Generate takes the row; Batch… (many requests from a list) sits at its end.
    let (response, batch) = ui
        .horizontal(|ui| {
            let batch_width = 64.0;
            let button = super::theme::primary_button("Generate", "Ctrl+Enter", validation.is_ok()).min_size(
                egui::vec2(
                    ui.available_width() - batch_width - ui.spacing().item_spacing.x,
                    36.0,
                ),
            );
            let response = ui.add_enabled(validation.is_ok(), button);
            let batch = ui
                .add(egui::Button::new("Batch…").min_size(egui::vec2(batch_width, 36.0)))
                .on_hover_text(
                    "Many requests from a list of prompts, a CSV or JSON lines, with these settings",
                );
            (response, batch)
        })
        .inner;
    if batch.clicked() {
        commands.push(Command::OpenBatch);
    }
    // Its name is "Generate"; the shortcut beside it is not part of it.
    super::icons::named(&response, "Generate");
    let response = response
        .on_hover_text("Send this recipe to the model (Ctrl+Enter)")
        .on_disabled_hover_text("Write a prompt first");
    match &validation {
        Ok(()) => {
            if response.clicked() || shortcut {
                commands.push(match state.refine_from {
                    Some(parent) => Command::Refine(parent, recipe),
                    None => Command::Submit(recipe),
                });
            }
        }
        Err(e) => {
            // An empty prompt needs no scolding; anything else says what to change.
            let nothing_yet = e.field == "prompt"
                && state.draft.prompt.trim().is_empty()
                && state.library.template.is_none();
            if !nothing_yet {
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
            }
            // A shut-down model (a recipe brought back from an old image): its successor
            // is one click away.
            let next = catalog
                .model(state.draft.provider, &state.draft.model)
                .filter(|m| m.status == crate::recipe::ModelStatus::Retired)
                .and_then(|m| catalog.successor(m));
            if e.field == "model"
                && let Some(next) = next
                && ui
                    .button(format!("Use {}", next.brand))
                    .on_hover_text("The model that took this one's place")
                    .clicked()
            {
                state.draft.model = next.id.clone();
                if !state.draft.size.is_some_and(|s| next.sizes.contains(&s)) {
                    state.draft.size = next.default_size;
                }
            }
        }
    }
    commands
}

fn provider_row(
    ui: &mut egui::Ui,
    state: &mut UiState,
    catalog: &Catalog,
    status_of: &dyn Fn(ProviderId) -> ProviderStatus,
) {
    let label = ui.label("Provider");
    let before = state.draft.provider;
    egui::ComboBox::from_id_salt("provider")
        .selected_text(state.draft.provider.label())
        .show_ui(ui, |ui| {
            for p in ProviderId::ALL {
                let status = status_of(p);
                let text = if status.sandbox {
                    format!("{} (sandbox)", p.label())
                } else {
                    p.label().to_owned()
                };
                ui.add_enabled_ui(status.available, |ui| {
                    ui.selectable_value(&mut state.draft.provider, p, text);
                })
                .response
                .on_disabled_hover_text(format!(
                    "{} is not supported in this version yet",
                    p.label()
                ));
            }
        })
        .response
        .labelled_by(label.id);
    ui.end_row();
    if before != state.draft.provider
        && let Some(model) = catalog.default_model(state.draft.provider)
    {
        state.draft.model = model.id.clone();
        state.draft.size = model.default_size;
    }
}

fn model_row(ui: &mut egui::Ui, state: &mut UiState, catalog: &Catalog) {
    let label = ui.label("Model");
    let current = catalog.model(state.draft.provider, &state.draft.model);
    let selected = current.map_or_else(|| state.draft.model.clone(), |m| m.brand.clone());
    let before = state.draft.model.clone();
    egui::ComboBox::from_id_salt("model")
        .selected_text(selected)
        .width(220.0)
        .show_ui(ui, |ui| {
            for m in catalog.models_of(state.draft.provider) {
                let mut text = m.display_name();
                if !m.status.label().is_empty() {
                    text.push_str(&format!(" · {}", m.status.label()));
                }
                if m.live == Some(false) {
                    text.push_str(" · not listed for this key");
                }
                let usable = m.status != ModelStatus::Retired;
                let r = ui
                    .add_enabled_ui(usable, |ui| {
                        ui.selectable_value(&mut state.draft.model, m.id.clone(), text)
                    })
                    .response;
                let r = r.on_disabled_hover_text(m.status_note.clone());
                if usable && !m.status_note.is_empty() {
                    r.on_hover_text(m.status_note.clone());
                }
            }
        })
        .response
        .labelled_by(label.id);
    ui.end_row();
    if before != state.draft.model
        && let Some(model) = catalog.model(state.draft.provider, &state.draft.model)
    {
        // Keep what the new model takes; what it does not is lowered, said in words,
        // and given back by the next model that takes it.
        let mut changes = Vec::new();
        let wanted_size = state.wanted_size.or(state.draft.size);
        if model.sizes.is_empty() {
            state.draft.size = None;
            if let Some(wanted) = wanted_size {
                changes.push(format!(
                    "it takes no size ({wanted} comes back with a model that makes it)"
                ));
            }
        } else if let Some(wanted) = wanted_size.filter(|s| model.sizes.contains(s)) {
            state.draft.size = Some(wanted);
        } else {
            state.draft.size = model.default_size;
            if let (Some(wanted), Some(now)) = (wanted_size, model.default_size) {
                changes.push(format!(
                    "the size is {now} ({wanted} comes back with a model that makes it)"
                ));
            }
        }
        let wanted_aspect = state.wanted_aspect.unwrap_or(state.draft.aspect);
        if model.takes_ratio(wanted_aspect) {
            state.draft.aspect = wanted_aspect;
        } else {
            state.draft.aspect = AspectRatio::Ratio(1, 1);
            changes.push(format!(
                "the aspect ratio is 1:1 (it does not take {wanted_aspect})"
            ));
        }
        let inputs = state.draft.inputs.len();
        state.draft.inputs.truncate(model.max_inputs as usize);
        if inputs > state.draft.inputs.len() {
            changes.push(format!(
                "only its first {} input images are kept",
                model.max_inputs
            ));
        }
        state.adjusted =
            (!changes.is_empty()).then(|| format!("{}: {}.", model.brand, changes.join("; ")));
    }
}

fn aspect_row(ui: &mut egui::Ui, state: &mut UiState, catalog: &Catalog, model: &ModelInfo) {
    let label = ui.label("Aspect ratio");
    let mut ratios: Vec<AspectRatio> = vec![AspectRatio::Auto];
    for m in catalog.models_of(model.provider) {
        for r in &m.ratios {
            if !ratios.contains(r) {
                ratios.push(*r);
            }
        }
    }
    egui::ComboBox::from_id_salt("aspect")
        .selected_text(state.draft.aspect.to_string())
        .show_ui(ui, |ui| {
            for r in ratios {
                let text = if r == AspectRatio::Auto {
                    "auto (follow the input)".to_owned()
                } else {
                    r.to_string()
                };
                ui.add_enabled_ui(model.takes_ratio(r), |ui| {
                    if ui
                        .selectable_value(&mut state.draft.aspect, r, text)
                        .clicked()
                    {
                        state.wanted_aspect = Some(r);
                        state.adjusted = None;
                    }
                })
                .response
                .on_disabled_hover_text(ratio_reason(catalog, model, r));
            }
        })
        .response
        .labelled_by(label.id);
    ui.end_row();
}

fn format_row(ui: &mut egui::Ui, state: &mut UiState) {
    let label = ui.label("Format");
    egui::ComboBox::from_id_salt("format")
        .selected_text(state.draft.format.to_string().to_uppercase())
        .show_ui(ui, |ui| {
            for f in OutputFormat::ALL {
                ui.selectable_value(&mut state.draft.format, f, f.to_string().to_uppercase());
            }
        })
        .response
        .labelled_by(label.id);
    ui.end_row();
}

fn count_row(ui: &mut egui::Ui, state: &mut UiState) {
    // Four buttons, not a slider: every click takes, and the choice reads at a glance.
    let label = ui.label("Count");
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 2.0;
        for n in 1..=4u8 {
            let button = ui
                .selectable_value(&mut state.draft.count, n, format!(" {n} "))
                .on_hover_text(if n == 1 {
                    "One image".to_owned()
                } else {
                    format!("{n} images: {n} requests, each charged")
                });
            button.widget_info(|| {
                egui::WidgetInfo::selected(
                    egui::Role::Button,
                    true,
                    state.draft.count == n,
                    format!("Count {n}"),
                )
            });
        }
    })
    .response
    .labelled_by(label.id);
    ui.end_row();
}

fn size_row(ui: &mut egui::Ui, state: &mut UiState, catalog: &Catalog, model: &ModelInfo) {
    let label = ui.label("Size");
    let takes_size = !model.sizes.is_empty();
    let selected = match (takes_size, state.draft.size.or(model.default_size)) {
        (false, _) => "—".to_owned(),
        (true, Some(s)) => s.to_string(),
        (true, None) => "default".to_owned(),
    };
    ui.add_enabled_ui(takes_size, |ui| {
        egui::ComboBox::from_id_salt("size")
            .selected_text(selected)
            .show_ui(ui, |ui| {
                for s in ImageSize::ALL {
                    let allowed = model.sizes.contains(&s);
                    ui.add_enabled_ui(allowed, |ui| {
                        if ui
                            .selectable_value(&mut state.draft.size, Some(s), s.as_str())
                            .clicked()
                        {
                            state.wanted_size = Some(s);
                            state.adjusted = None;
                        }
                    })
                    .response
                    .on_disabled_hover_text(format!("{} does not take {s}", model.brand));
                }
            })
            .response
            .labelled_by(label.id)
    })
    .inner
    .on_disabled_hover_text(no_size_reason(catalog, model, ImageSize::K2));
    ui.end_row();
}

/// How long the model thinks: the levels it takes, "always on" for one that always
/// thinks, nothing for one that does not. A level the model lacks goes back to its own.
fn thinking_row(ui: &mut egui::Ui, state: &mut UiState, model: &ModelInfo) -> Option<Command> {
    if state
        .draft
        .thinking
        .is_some_and(|l| !model.thinking_levels.contains(&l))
    {
        state.draft.thinking = None;
    }
    if model.thinking_levels.is_empty() {
        if model.thinking {
            ui.label("Thinking");
            ui.weak("always on")
                .on_hover_text(format!("{} always thinks before it draws", model.brand));
            ui.end_row();
            return show_thinking_row(ui, state, model);
        }
        return None;
    }
    let label = ui.label("Thinking");
    let shown = state.draft.thinking.map_or("model's own", |l| l.as_str());
    egui::ComboBox::from_id_salt("thinking-level")
        .selected_text(shown)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut state.draft.thinking, None, "model's own");
            for level in &model.thinking_levels {
                ui.selectable_value(&mut state.draft.thinking, Some(*level), level.as_str());
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text("More thinking: better layouts and text, slower and a little dearer");
    ui.end_row();
    show_thinking_row(ui, state, model)
}

/// The switch that streams a thinking model's thoughts into the viewer as it works.
fn show_thinking_row(ui: &mut egui::Ui, state: &mut UiState, model: &ModelInfo) -> Option<Command> {
    ui.label("");
    let mut show = state.show_thinking;
    let changed = ui
        .checkbox(&mut show, "Show thinking")
        .on_hover_text(format!(
            "Watch {} think: its notes and draft images appear above the viewer while the job \
             runs. They are not results and are not kept.",
            model.brand
        ))
        .changed();
    ui.end_row();
    changed.then(|| {
        state.show_thinking = show;
        Command::ShowThinking(show)
    })
}

/// Google Search grounding, where the model has it: the kinds it takes. A choice the
/// model lacks goes back to off.
fn search_row(ui: &mut egui::Ui, state: &mut UiState, model: &ModelInfo) {
    let takes = |s: crate::recipe::Search| {
        s.kinds()
            .iter()
            .all(|k| model.grounding.iter().any(|g| g == k))
    };
    if state.draft.search.is_some_and(|s| !takes(s)) {
        state.draft.search = None;
    }
    if model.grounding.is_empty() {
        return;
    }
    let label = ui.label("Search");
    let shown = state.draft.search.map_or("off", |s| s.label());
    egui::ComboBox::from_id_salt("search-grounding")
        .selected_text(shown)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut state.draft.search, None, "off");
            for choice in crate::recipe::Search::ALL {
                if takes(choice) {
                    ui.selectable_value(&mut state.draft.search, Some(choice), choice.label());
                }
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(
            "Let the model look things up on Google Search first (real products, places, \
             current events); the sources are listed under the result",
        );
    ui.end_row();
}

fn seed_row(ui: &mut egui::Ui, state: &mut UiState, model: &ModelInfo) {
    let label = ui.label("Seed");
    ui.horizontal(|ui| {
        ui.add_enabled_ui(model.seed, |ui| {
            ui.checkbox(&mut state.seed_fixed, "Fixed");
            let mut seed = state.draft.seed.unwrap_or(0);
            ui.add_enabled(
                state.seed_fixed,
                egui::DragValue::new(&mut seed).range(0..=0x7fff_ffff),
            )
            .labelled_by(label.id);
            state.draft.seed = Some(seed);
        })
        .response
        .on_disabled_hover_text(format!("{} does not take a seed", model.brand));
    });
    ui.end_row();
}
