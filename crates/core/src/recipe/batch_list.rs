//! A prompt batch's list, as the CLI's `batch FILE` and the app's Batch dialog read it:
//! one prompt a line (`.txt`; blank lines and `#` comments skipped), a CSV whose header
//! names `prompt` and/or a template's slots, or JSON lines (one recipe a line:
//! `prompt`, and optionally `template`, `vars`, `styles`, `brand`, `model`, `provider`,
//! `aspect`, `size`, `count`, `seed`). Every line is read before anything is sent, so a
//! wrong one is named with its number and nothing half-starts.

use std::collections::BTreeMap;

use serde_json::Value;

/// How the list is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ListKind {
    /// One prompt a line.
    #[default]
    Lines,
    /// A CSV with a header.
    Csv,
    /// One JSON recipe a line.
    JsonLines,
}

impl ListKind {
    /// Every kind, in the order a picker shows them.
    pub const ALL: [ListKind; 3] = [ListKind::Lines, ListKind::Csv, ListKind::JsonLines];

    /// The kind a file's extension says (`txt`, `csv`, `jsonl`), or what is wrong.
    pub fn from_extension(ext: &str) -> Result<Self, String> {
        match ext.to_ascii_lowercase().as_str() {
            "txt" => Ok(ListKind::Lines),
            "csv" => Ok(ListKind::Csv),
            "jsonl" => Ok(ListKind::JsonLines),
            other => Err(format!(
                "a batch is a .txt, .csv or .jsonl file, not .{other}"
            )),
        }
    }

    /// What a picker calls it.
    pub fn label(self) -> &'static str {
        match self {
            ListKind::Lines => "One prompt a line",
            ListKind::Csv => "CSV with a header",
            ListKind::JsonLines => "JSON lines",
        }
    }

    /// The kind pasted text most likely is: JSON lines when its first line is an object,
    /// CSV when its first line names `prompt` or a slot among commas, else lines.
    pub fn guess(text: &str, slots: &[String]) -> Self {
        let Some(first) = text.lines().find(|l| !l.trim().is_empty()) else {
            return ListKind::Lines;
        };
        if first.trim_start().starts_with('{') {
            return ListKind::JsonLines;
        }
        let names: Vec<String> = csv_fields(first)
            .into_iter()
            .map(|c| c.trim().to_owned())
            .collect();
        let named = names.iter().any(|c| {
            c.eq_ignore_ascii_case("prompt") || slots.iter().any(|s| s.eq_ignore_ascii_case(c))
        });
        if named && (names.len() > 1 || text.lines().count() > 1) {
            ListKind::Csv
        } else {
            ListKind::Lines
        }
    }
}

/// One line of the list: the prompt, slot values, and the options it sets itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchLine {
    /// Where it is in the list (1-based), for messages.
    pub number: usize,
    /// The prompt (or the words added after a template).
    pub prompt: String,
    /// Slot values, by slot name as the header or `vars` spell it.
    pub vars: BTreeMap<String, String>,
    /// A JSON line's whole object, for the options it sets.
    pub own: Option<Value>,
}

impl BatchLine {
    /// A JSON line's text option, if it sets one.
    pub fn text(&self, key: &str) -> Option<String> {
        self.own
            .as_ref()
            .and_then(|o| o[key].as_str())
            .map(str::to_owned)
    }

    /// A JSON line's option as it is, if it sets one.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.own.as_ref().map(|o| &o[key]).filter(|v| !v.is_null())
    }

    /// A JSON line's style names, if it sets them.
    pub fn styles(&self) -> Option<Vec<String>> {
        self.value("styles").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
    }
}

/// Reads a list, or says what is wrong with it (naming the line). `template` says
/// whether a template is chosen, which a CSV naming slots needs.
pub fn read(text: &str, kind: ListKind, template: bool) -> Result<Vec<BatchLine>, String> {
    let lines = match kind {
        ListKind::Lines => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|(i, l)| BatchLine {
                number: i + 1,
                prompt: l.trim().to_owned(),
                ..BatchLine::default()
            })
            .collect(),
        ListKind::Csv => csv_lines(text, template)?,
        ListKind::JsonLines => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| json_line(i + 1, l))
            .collect::<Result<_, _>>()?,
    };
    if lines.is_empty() {
        return Err("there is nothing in it to make".to_owned());
    }
    Ok(lines)
}

fn json_line(number: usize, text: &str) -> Result<BatchLine, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("line {number}: not a JSON object ({e})"))?;
    if !value.is_object() {
        return Err(format!("line {number}: not a JSON object"));
    }
    let vars = value["vars"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    Ok(BatchLine {
        number,
        prompt: value["prompt"].as_str().unwrap_or_default().to_owned(),
        vars,
        own: Some(value),
    })
}

/// A CSV with a header: `prompt` and/or slot names. Quoted fields may hold commas and
/// doubled quotes.
fn csv_lines(text: &str, template: bool) -> Result<Vec<BatchLine>, String> {
    let mut rows = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = rows.next() else {
        return Ok(Vec::new());
    };
    let columns: Vec<String> = csv_fields(header)
        .into_iter()
        .map(|c| c.trim().to_owned())
        .collect();
    let has_prompt = columns.iter().any(|c| c.eq_ignore_ascii_case("prompt"));
    let slots: Vec<&String> = columns
        .iter()
        .filter(|c| !c.eq_ignore_ascii_case("prompt"))
        .collect();
    if !has_prompt && slots.is_empty() {
        return Err(
            "the CSV header names no `prompt` column and no template slot: name the columns \
             `prompt` or the template's slots"
                .to_owned(),
        );
    }
    if !slots.is_empty() && !template {
        return Err(format!(
            "the CSV header names {}: these fill a template's slots, so choose a template",
            slots
                .iter()
                .map(|s| format!("[{s}]"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    rows.map(|(i, row)| {
        let fields = csv_fields(row);
        if fields.len() != columns.len() {
            return Err(format!(
                "line {}: {} fields where the header has {}",
                i + 1,
                fields.len(),
                columns.len()
            ));
        }
        let mut line = BatchLine {
            number: i + 1,
            ..BatchLine::default()
        };
        for (column, value) in columns.iter().zip(fields) {
            if column.eq_ignore_ascii_case("prompt") {
                line.prompt = value;
            } else {
                line.vars.insert(column.clone(), value);
            }
        }
        Ok(line)
    })
    .collect()
}

/// The fields of one CSV line.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn csv_fields_take_quotes_and_commas() {
        assert_eq!(
            csv_fields(r#"a mug,"red, glazed",  x"#),
            vec!["a mug", "red, glazed", "  x"]
        );
        assert_eq!(csv_fields(r#""say ""hi""",b"#), vec![r#"say "hi""#, "b"]);
    }

    #[test]
    fn lines_skip_blanks_and_comments_and_keep_numbers() {
        let lines = read("a fox\n\n# note\n  a hen  \n", ListKind::Lines, false).unwrap();
        let got: Vec<(usize, &str)> = lines
            .iter()
            .map(|l| (l.number, l.prompt.as_str()))
            .collect();
        assert_eq!(got, vec![(1, "a fox"), (4, "a hen")]);
    }

    #[test]
    fn csv_rows_fill_slots_and_need_a_template() {
        let text = "PRODUCT,prompt\n\"mug, red\",on a table\nlamp,\n";
        let lines = read(text, ListKind::Csv, true).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].vars["PRODUCT"], "mug, red");
        assert_eq!(lines[0].prompt, "on a table");
        assert_eq!(lines[1].number, 3);
        let e = read(text, ListKind::Csv, false).unwrap_err();
        assert!(e.contains("[PRODUCT]") && e.contains("template"), "{e}");
        let e = read("a,b\n1,2\n", ListKind::Csv, false).unwrap_err();
        assert!(e.contains("[a], [b]"), "{e}");
        let e = read("prompt,X\nonly one\n", ListKind::Csv, true).unwrap_err();
        assert!(e.starts_with("line 2: 1 fields"), "{e}");
    }

    #[test]
    fn json_lines_keep_their_options_and_name_a_bad_line() {
        let text =
            "{\"prompt\":\"a\",\"count\":2,\"styles\":[\"Noir\"],\"vars\":{\"X\":\"y\"}}\n\n[1]\n";
        let e = read(text, ListKind::JsonLines, false).unwrap_err();
        assert_eq!(e, "line 3: not a JSON object");
        let lines = read(
            &text[..text.find('\n').unwrap()],
            ListKind::JsonLines,
            false,
        )
        .unwrap();
        assert_eq!(lines[0].prompt, "a");
        assert_eq!(lines[0].vars["X"], "y");
        assert_eq!(lines[0].styles(), Some(vec!["Noir".to_owned()]));
        assert_eq!(lines[0].value("count"), Some(&Value::from(2)));
        assert_eq!(lines[0].text("model"), None);
    }

    #[test]
    fn an_empty_list_says_so() {
        assert_eq!(
            read("\n# only a note\n", ListKind::Lines, false).unwrap_err(),
            "there is nothing in it to make"
        );
    }

    #[test]
    fn pasted_text_is_guessed() {
        let slots = vec!["PRODUCT".to_owned()];
        assert_eq!(
            ListKind::guess("{\"prompt\":1}", &slots),
            ListKind::JsonLines
        );
        assert_eq!(ListKind::guess("PRODUCT\nmug\n", &slots), ListKind::Csv);
        assert_eq!(ListKind::guess("prompt,seed\nx,1", &slots), ListKind::Csv);
        assert_eq!(
            ListKind::guess("a red fox, at dusk\n", &slots),
            ListKind::Lines
        );
        assert_eq!(ListKind::guess("", &slots), ListKind::Lines);
    }
}
