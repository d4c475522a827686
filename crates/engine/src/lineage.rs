//! Lineage: the conversation that led to an image, for refining it.

use std::sync::Arc;

use serde_json::Value;

use banana_core::recipe::Recipe;
use banana_library::{ImageId, Library, LibraryError};
use banana_providers::{InputBytes, Turn};

/// The longest conversation sent back; older steps are left out.
const MAX_TURNS: usize = 32;

fn not_found(what: &str, id: i64) -> String {
    format!("{what} {id} is not in the history")
}

fn lib_err(e: LibraryError) -> String {
    e.to_string()
}

/// The earlier turns that led to `parent`, oldest first, as long as they were made by
/// the same provider and model as `recipe` (a conversation never crosses models).
/// Returns an empty list when the parent's own step cannot be continued.
pub(super) fn conversation(
    library: &Library,
    parent: ImageId,
    recipe: &Recipe,
) -> Result<Vec<Turn>, String> {
    let mut turns = Vec::new();
    let mut current = Some(parent);
    while let Some(image_id) = current {
        if turns.len() == MAX_TURNS {
            break;
        }
        let image = library
            .image(image_id)
            .map_err(lib_err)?
            .ok_or_else(|| not_found("image", image_id))?;
        let job = library
            .job(image.job_id)
            .map_err(lib_err)?
            .ok_or_else(|| not_found("job", image.job_id))?;
        if job.recipe.provider != recipe.provider || job.recipe.model != recipe.model {
            break;
        }
        let stored: Vec<Value> = match job.model_turns.as_deref() {
            Some(text) => serde_json::from_str(text)
                .map_err(|e| format!("job {}: stored turns are damaged ({e})", job.id))?,
            None => break,
        };
        // Blocked or empty turns never made an image, so they are never on this path.
        let Some(mut model_turn) = stored
            .into_iter()
            .nth(image.turn_index as usize)
            .filter(|t| !t.is_null())
        else {
            break;
        };
        // The pictures go back exactly as they came, or the signatures do not hold.
        library
            .put_back_turn_pictures(&mut model_turn)
            .map_err(|e| {
                format!(
                    "the conversation of image {image_id} cannot be continued: a picture of \
                     it is missing from the library ({e}); start a new edit from the image instead"
                )
            })?;
        let inputs = job
            .recipe
            .inputs
            .iter()
            .map(|i| {
                library
                    .read_input(i)
                    .map(|bytes| InputBytes {
                        mime: i.mime.clone(),
                        bytes: Arc::new(bytes),
                    })
                    .map_err(lib_err)
            })
            .collect::<Result<Vec<_>, _>>()?;
        turns.push(Turn {
            prompt: job.recipe.prompt.clone(),
            inputs,
            model_turn,
        });
        current = job.parent_image_id;
    }
    turns.reverse();
    Ok(turns)
}
