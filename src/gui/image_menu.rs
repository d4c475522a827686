//! The actions on one image, listed once for every menu that offers them: the viewer's
//! overflow and right-click menus, and a thumbnail's right-click menu.

use super::Command;
use crate::library::{ImageId, JobId};

/// Draws the image's actions as menu items; a click asks for the action and closes the
/// menu. `with_copy` adds Copy (the decoded pixels, which only the viewer holds).
pub fn items(
    ui: &mut egui::Ui,
    image: ImageId,
    job: Option<JobId>,
    with_copy: bool,
    commands: &mut Vec<Command>,
) {
    let mut item = |ui: &mut egui::Ui, text: &str, hover: &str, command: Command| {
        if ui.button(text).on_hover_text(hover).clicked() {
            commands.push(command);
            ui.close();
        }
    };
    item(
        ui,
        "Refine",
        "Change this image step by step, keeping the conversation",
        Command::StartRefine(image),
    );
    if let Some(job) = job {
        item(
            ui,
            "Variations",
            "Four more of the same",
            Command::Regenerate(job, Some(4)),
        );
        item(
            ui,
            "Regenerate",
            "The same recipe with a new seed",
            Command::Regenerate(job, None),
        );
        item(
            ui,
            "Use these settings",
            "Put this recipe back in the prompt panel",
            Command::UseSettings(job),
        );
    }
    item(
        ui,
        "Use as input",
        "Edit this image next",
        Command::UseAsInput(image),
    );
    item(
        ui,
        "Paint a region…",
        "Change only part of this image: it becomes the first input and you paint where",
        Command::DrawOn(image, super::DrawKind::Mask),
    );
    item(
        ui,
        "Mark up…",
        "Draw arrows, boxes, circles and words on this image to show what to change",
        Command::DrawOn(image, super::DrawKind::Markup),
    );
    item(
        ui,
        "Render final",
        "This draft's recipe again on the final model and size of Settings (Nano Banana Pro \
         at 4K unless you chose otherwise), the draft attached",
        Command::RenderFinal(image),
    );
    ui.separator();
    item(
        ui,
        "Save as…",
        "Write this image to a file",
        Command::SaveAs(image),
    );
    if with_copy {
        item(
            ui,
            "Copy",
            "Copy the image to the clipboard",
            Command::CopyImage,
        );
    }
    item(
        ui,
        "Copy file",
        "Copy the file's address, to paste into a file manager or a browser",
        Command::CopyFile(image),
    );
    item(
        ui,
        "Reveal",
        "Show the file in the file manager",
        Command::Reveal(image),
    );
}
