//! A request's input checked against the JSON schema a service publishes for a model
//! (Eachlabs' model pages), before anything is sent: the part of JSON Schema such pages
//! use (type, enum, minimum, maximum, maxLength, minItems, maxItems, required,
//! additionalProperties), and the coercions the services make themselves (a number
//! where the schema says string, and back).

use serde_json::{Map, Value};

/// Fields that may be left out when a model's schema lacks them: the app makes up for
/// them itself (it converts the format of what comes back).
const MAY_DROP: [&str; 3] = ["output_format", "sync_mode", "limit_generations"];

/// Makes `input` fit `schema`, or says in words which field does not and what the
/// model takes instead.
pub fn conform(input: &mut Value, schema: &Value) -> Result<(), String> {
    let Some(fields) = input.as_object_mut() else {
        return Err("the input is not an object".into());
    };
    let properties = schema["properties"].as_object();
    for required in schema["required"].as_array().into_iter().flatten() {
        if let Some(name) = required.as_str()
            && !fields.contains_key(name)
        {
            return Err(match name {
                "image_urls" => {
                    "it needs an input image (it only edits): add one, or pick another model"
                        .to_owned()
                }
                _ => format!("it needs {name}, which this app does not send"),
            });
        }
    }
    let Some(properties) = properties else {
        return Ok(());
    };
    let closed = schema["additionalProperties"] == Value::Bool(false);
    let names: Vec<String> = fields.keys().cloned().collect();
    for name in names {
        match properties.get(&name) {
            Some(rule) => {
                if let Some(value) = fields.get_mut(&name) {
                    check(&name, value, rule)?;
                }
            }
            None if MAY_DROP.contains(&name.as_str()) => {
                fields.remove(&name);
            }
            None if closed => {
                return Err(format!("it takes no {name}; {}", takes(properties)));
            }
            None => {}
        }
    }
    Ok(())
}

fn takes(properties: &Map<String, Value>) -> String {
    let names: Vec<&str> = properties.keys().map(String::as_str).collect();
    format!("it takes {}", names.join(", "))
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Checks one field against its rule, coercing a number or a string to the type asked.
fn check(name: &str, value: &mut Value, rule: &Value) -> Result<(), String> {
    match rule["type"].as_str() {
        Some("integer" | "number") => {
            if let Value::String(text) = value {
                match text.trim().parse::<i64>() {
                    Ok(n) => *value = Value::from(n),
                    Err(_) => return Err(format!("{name} must be a number, not \"{text}\"")),
                }
            }
            let Some(n) = value.as_f64() else {
                return Err(format!("{name} must be a number"));
            };
            if let Some(min) = rule["minimum"].as_f64()
                && n < min
            {
                return Err(format!("{name} must be at least {min}, not {n}"));
            }
            if let Some(max) = rule["maximum"].as_f64()
                && n > max
            {
                return Err(format!("{name} must be at most {max}, not {n}"));
            }
        }
        Some("string") => {
            if let Value::Number(n) = value {
                *value = Value::String(n.to_string());
            }
            let Some(text) = value.as_str() else {
                return Err(format!("{name} must be text"));
            };
            if let Some(max) = rule["maxLength"].as_u64()
                && text.chars().count() as u64 > max
            {
                return Err(format!(
                    "{name} is {} characters; it takes at most {max}",
                    text.chars().count()
                ));
            }
        }
        Some("boolean") if !value.is_boolean() => {
            return Err(format!("{name} must be true or false"));
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                return Err(format!("{name} must be a list"));
            };
            if let Some(min) = rule["minItems"].as_u64()
                && (items.len() as u64) < min
            {
                return Err(format!("{name} needs at least {min}"));
            }
            if let Some(max) = rule["maxItems"].as_u64()
                && items.len() as u64 > max
            {
                return Err(format!(
                    "{name} takes at most {max} images, not {}; remove {}",
                    items.len(),
                    items.len() as u64 - max
                ));
            }
        }
        _ => {}
    }
    if let Some(allowed) = rule["enum"].as_array()
        && !allowed.iter().any(|a| a == value)
    {
        let listed: Vec<String> = allowed.iter().map(shown).collect();
        return Err(format!(
            "{name} {} is not offered; it takes {}",
            shown(value),
            listed.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "required": ["prompt"], "additionalProperties": false,
            "properties": {
                "prompt": {"type": "string", "maxLength": 10},
                "num_images": {"type": "integer", "minimum": 1, "maximum": 4},
                "label": {"type": "string"},
                "aspect_ratio": {"type": "string", "enum": ["1:1", "16:9"]},
                "image_urls": {"type": "array", "maxItems": 2}}})
    }

    #[test]
    fn an_input_that_fits_is_coerced_to_the_types_asked() {
        let mut input = json!({"prompt": "a cat", "num_images": "2", "label": 7,
                               "output_format": "png"});
        conform(&mut input, &schema()).unwrap();
        assert_eq!(
            input,
            json!({"prompt": "a cat", "num_images": 2, "label": "7"})
        );
    }

    #[test]
    fn each_misfit_is_named_with_what_the_model_takes() {
        let cases = [
            (json!({"num_images": 1}), "it needs prompt"),
            (
                json!({"prompt": "a very long cat"}),
                "prompt is 15 characters; it takes at most 10",
            ),
            (
                json!({"prompt": "a", "num_images": 5}),
                "num_images must be at most 4, not 5",
            ),
            (
                json!({"prompt": "a", "aspect_ratio": "8:1"}),
                "aspect_ratio 8:1 is not offered; it takes 1:1, 16:9",
            ),
            (
                json!({"prompt": "a", "image_urls": ["x", "y", "z"]}),
                "image_urls takes at most 2 images, not 3; remove 1",
            ),
            (
                json!({"prompt": "a", "resolution": "4K"}),
                "it takes no resolution; it takes ",
            ),
        ];
        for (mut input, words) in cases {
            let err = conform(&mut input, &schema()).unwrap_err();
            assert!(err.starts_with(words), "{err} / {words}");
        }
        let mut edit = json!({"prompt": "a"});
        let needs = json!({"required": ["prompt", "image_urls"], "properties": {}});
        assert!(conform(&mut edit, &needs).unwrap_err().contains("add one"));
    }
}
