//! Big base64 pictures in a JSON answer, decoded as the bytes arrive.
//!
//! A 4K picture is some 31 MB of base64 inside a Gemini answer. Read whole and then
//! parsed, it lives three times over: the body, the parsed string and the decoded bytes.
//! The [`Lifter`] takes the body chunk by chunk instead. The `data` string of every
//! `inlineData` (or `inline_data`) object is decoded into bytes while it arrives. In the
//! JSON it leaves a short marker, and the rest of the JSON (a few KB) is parsed as usual.
//!
//! Only canonical, padded, standard base64 is lifted. That is the spelling Google sends,
//! and its bytes encode back to exactly the text that came, so a refine can send the
//! turn back byte for byte. Any other spelling, or an escape in the string, puts the text
//! back into the JSON as it came, and the ordinary path reads it.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::spool::{Open, Spool, Spooled};

/// What a lifted string becomes in the JSON: this, then the picture's index. A NUL
/// cannot start base64, so no real value reads as a marker.
pub const MARKER: &str = "\u{0}banana-lifted:";

/// A JSON answer with its pictures taken out.
#[derive(Debug, Default)]
pub struct Lifted {
    /// The JSON, each lifted string replaced by its marker.
    pub json: Vec<u8>,
    /// The decoded pictures, by marker index. [`Lifted::take`] empties a slot.
    pub pictures: Vec<Option<Vec<u8>>>,
    /// What the spool made of each picture, if the lifter had one (see
    /// [`Lifter::spooling`]), by marker index.
    pub spooled: Vec<Option<Spooled>>,
}

impl Lifted {
    /// The bytes behind `value` when it is a marker, once.
    pub fn take(&mut self, value: &str) -> Option<Vec<u8>> {
        self.pictures.get_mut(Self::index(value)?)?.take()
    }

    /// What the spool made of the picture behind `value`, once.
    pub fn take_spooled(&mut self, value: &str) -> Option<Spooled> {
        self.spooled.get_mut(Self::index(value)?)?.take()
    }

    fn index(value: &str) -> Option<usize> {
        value.strip_prefix(MARKER)?.parse().ok()
    }

    /// Puts back, as base64 text, every marker left in `value`: a picture somewhere the
    /// reader did not take it from goes on as it came.
    pub fn restore(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                let bytes = s
                    .strip_prefix(MARKER)
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| self.pictures.get(n))
                    .and_then(Option::as_ref);
                if let Some(bytes) = bytes {
                    *s = STANDARD.encode(bytes);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.restore(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.restore(v)),
            _ => {}
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between tokens.
    Between,
    /// Inside an object key.
    Key,
    /// Just after a backslash in a key.
    KeyEscape,
    /// Inside a string that stays in the JSON.
    Text,
    /// Just after a backslash in such a string.
    TextEscape,
    /// Inside a picture's base64, decoding.
    Picture,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Container {
    /// An object; `inline` when it is the value of an `inlineData` key.
    Object {
        inline: bool,
    },
    Array,
}

/// Keys longer than this are never the ones looked for.
const KEY_CAP: usize = 16;

/// Reads a JSON body chunk by chunk, decoding its pictures on the way.
#[derive(Debug)]
pub struct Lifter {
    out: Lifted,
    state: State,
    stack: Vec<Container>,
    /// The next string in the current object is a key.
    expect_key: bool,
    key: Vec<u8>,
    key_too_long: bool,
    /// The key whose value comes next, from its colon until the value starts.
    value_key: Option<Vec<u8>>,
    /// The picture being decoded.
    current: Vec<u8>,
    /// Its base64 characters not yet decoded (fewer than four).
    carry: Vec<u8>,
    /// Its text has ended with padding: anything more is not canonical.
    padded: bool,
    /// Room to make for a picture: about the size the whole body decodes to.
    size_hint: usize,
    /// Where pictures also go as they are decoded.
    spool: Option<Arc<dyn Spool>>,
    /// The current picture's writer there.
    writer: Option<Open>,
}

/// Room made for a picture when the body's length is not told (a chunked answer, as
/// Google's front ends send): a 4K PNG's size. Growing from nothing would copy the
/// picture again at each doubling; room only reserves address space, its pages are
/// touched as the picture is written, and what is left over is given back when the
/// picture closes.
const UNKNOWN_LENGTH_ROOM: usize = 32 << 20;

impl Lifter {
    /// A lifter for a body of about `expected_len` bytes (0 when unknown).
    pub fn new(expected_len: usize) -> Self {
        Self {
            out: Lifted::default(),
            state: State::Between,
            stack: Vec::new(),
            expect_key: false,
            key: Vec::with_capacity(KEY_CAP),
            key_too_long: false,
            value_key: None,
            current: Vec::new(),
            carry: Vec::with_capacity(4),
            padded: false,
            size_hint: if expected_len == 0 {
                UNKNOWN_LENGTH_ROOM
            } else {
                expected_len / 4 * 3
            },
            spool: None,
            writer: None,
        }
    }

    /// Gives each picture's bytes to `spool` too, as they are decoded.
    pub fn spooling(mut self, spool: Option<Arc<dyn Spool>>) -> Self {
        self.spool = spool;
        self
    }

    /// Bytes of JSON plus the pictures' bytes so far.
    pub fn len(&self) -> usize {
        self.out.json.len()
            + self.current.len()
            + self
                .out
                .pictures
                .iter()
                .flatten()
                .map(Vec::len)
                .sum::<usize>()
    }

    /// Nothing read yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the next bytes of the body.
    pub fn push(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            match self.state {
                State::Picture => {
                    let rest = &bytes[i..];
                    let stop = memchr::memchr2(b'"', b'\\', rest);
                    let span = &rest[..stop.unwrap_or(rest.len())];
                    self.feed_picture(span);
                    i += span.len();
                    if let Some(stop) = stop
                        && self.state == State::Picture
                    {
                        if rest[stop] == b'"' {
                            self.close_picture();
                            i += 1;
                        } else {
                            // An escape: the text goes back and is read as text.
                            self.give_back(&[]);
                        }
                    }
                }
                State::Text => {
                    let rest = &bytes[i..];
                    let stop = memchr::memchr2(b'"', b'\\', rest);
                    let span = &rest[..stop.unwrap_or(rest.len())];
                    self.out.json.extend_from_slice(span);
                    i += span.len();
                    if let Some(stop) = stop {
                        self.out.json.push(rest[stop]);
                        self.state = if rest[stop] == b'"' {
                            State::Between
                        } else {
                            State::TextEscape
                        };
                        i += 1;
                    }
                }
                State::TextEscape => {
                    self.out.json.push(bytes[i]);
                    self.state = State::Text;
                    i += 1;
                }
                State::Key => {
                    let b = bytes[i];
                    self.out.json.push(b);
                    match b {
                        b'"' => self.state = State::Between,
                        b'\\' => {
                            // Escaped keys are never the ones looked for.
                            self.key_too_long = true;
                            self.state = State::KeyEscape;
                        }
                        _ if self.key.len() < KEY_CAP => self.key.push(b),
                        _ => self.key_too_long = true,
                    }
                    i += 1;
                }
                State::KeyEscape => {
                    self.out.json.push(bytes[i]);
                    self.state = State::Key;
                    i += 1;
                }
                State::Between => {
                    self.between(bytes[i]);
                    i += 1;
                }
            }
        }
    }

    fn in_object(&self) -> bool {
        matches!(self.stack.last(), Some(Container::Object { .. }))
    }

    fn between(&mut self, b: u8) {
        match b {
            b'"' => {
                if self.expect_key && self.in_object() {
                    self.key.clear();
                    self.key_too_long = false;
                    self.expect_key = false;
                    self.state = State::Key;
                } else if self.value_key.as_deref() == Some(b"data")
                    && self.stack.last() == Some(&Container::Object { inline: true })
                {
                    self.value_key = None;
                    self.start_picture();
                    // The opening quote is written with the marker, or on giving back.
                    return;
                } else {
                    self.value_key = None;
                    self.state = State::Text;
                }
            }
            b'{' => {
                let inline = matches!(
                    self.value_key.as_deref(),
                    Some(b"inlineData" | b"inline_data")
                );
                self.value_key = None;
                self.stack.push(Container::Object { inline });
                self.expect_key = true;
            }
            b'[' => {
                self.value_key = None;
                self.stack.push(Container::Array);
                self.expect_key = false;
            }
            b'}' | b']' => {
                self.value_key = None;
                self.stack.pop();
                self.expect_key = false;
            }
            b',' => {
                self.value_key = None;
                self.expect_key = self.in_object();
            }
            b':' => {
                self.value_key = (!self.key_too_long).then(|| self.key.clone());
                self.expect_key = false;
            }
            _ => {}
        }
        self.out.json.push(b);
    }

    fn start_picture(&mut self) {
        self.state = State::Picture;
        self.current = Vec::with_capacity(self.size_hint);
        self.carry.clear();
        self.padded = false;
        self.writer = self.spool.as_ref().and_then(|s| s.open()).map(Open);
    }

    /// Decodes the next base64 characters of the picture, or gives the text back where
    /// it is not canonical padded standard base64.
    fn feed_picture(&mut self, mut span: &[u8]) {
        if span.is_empty() {
            return;
        }
        if self.padded {
            return self.give_back(span);
        }
        if !self.carry.is_empty() {
            let take = (4 - self.carry.len()).min(span.len());
            self.carry.extend_from_slice(&span[..take]);
            span = &span[take..];
            if self.carry.len() < 4 {
                return;
            }
            let group = std::mem::take(&mut self.carry);
            if !self.decode(&group) {
                self.carry = group;
                return self.give_back(span);
            }
            self.carry = group;
            self.carry.clear();
            if self.padded && !span.is_empty() {
                return self.give_back(span);
            }
        }
        let whole = span.len() / 4 * 4;
        if !self.decode(&span[..whole]) {
            return self.give_back(span);
        }
        self.carry.extend_from_slice(&span[whole..]);
    }

    /// Decodes whole groups onto the picture; false (and nothing added) where they are
    /// not strict base64.
    fn decode(&mut self, groups: &[u8]) -> bool {
        if groups.is_empty() {
            return true;
        }
        let before = self.current.len();
        // The bulk with SIMD (a 4K picture's 31 MB in a few milliseconds); the last group
        // when padded with the `base64` crate, which also refuses stray bits after the
        // data, so only canonical text is lifted.
        let padded = groups.last() == Some(&b'=');
        let (bulk, last) = groups.split_at(if padded {
            groups.len() - 4
        } else {
            groups.len()
        });
        let decoded = base64_simd::STANDARD
            .decode_append(bulk, &mut self.current)
            .is_ok()
            && STANDARD.decode_vec(last, &mut self.current).is_ok();
        if !decoded {
            self.current.truncate(before);
            return false;
        }
        self.padded = padded;
        if let Some(writer) = &mut self.writer
            && !writer.0.write(&self.current[before..])
        {
            self.writer = None;
        }
        true
    }

    fn close_picture(&mut self) {
        if !self.carry.is_empty() {
            // Unpadded: read by the ordinary path.
            self.give_back(&[]);
            self.out.json.push(b'"');
            self.state = State::Between;
            return;
        }
        let mut picture = std::mem::take(&mut self.current);
        let writer = self.writer.take();
        if picture.is_empty() {
            self.out.json.extend_from_slice(b"\"\"");
        } else {
            picture.shrink_to_fit();
            let index = self.out.pictures.len();
            self.out.pictures.push(Some(picture));
            self.out.spooled.push(writer.and_then(|w| w.0.close()));
            // The NUL as JSON spells it.
            self.out.json.extend_from_slice(
                format!("\"{}{index}\"", MARKER.replace('\u{0}', "\\u0000")).as_bytes(),
            );
        }
        self.state = State::Between;
    }

    /// Writes the picture's text so far, and `tail`, back into the JSON as a string that
    /// stays there.
    fn give_back(&mut self, tail: &[u8]) {
        self.writer = None;
        let current = std::mem::take(&mut self.current);
        self.out.json.push(b'"');
        let text = STANDARD.encode(&current);
        drop(current);
        self.out.json.extend_from_slice(text.as_bytes());
        self.out.json.extend_from_slice(&self.carry);
        self.out.json.extend_from_slice(tail);
        self.carry.clear();
        self.padded = false;
        self.state = State::Text;
    }

    /// The JSON and pictures read. A body cut off inside a picture keeps its text, so
    /// the JSON parser reports where it ends.
    pub fn finish(mut self) -> Lifted {
        if self.state == State::Picture {
            self.give_back(&[]);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn lift(body: &[u8], cuts: &[usize]) -> Lifted {
        let mut lifter = Lifter::new(body.len());
        let mut from = 0;
        for &cut in cuts {
            lifter.push(&body[from..cut]);
            from = cut;
        }
        lifter.push(&body[from..]);
        lifter.finish()
    }

    /// The JSON a lifted body parses to, with every marker put back as text.
    fn restored(lifted: &Lifted) -> Value {
        let mut value: Value = serde_json::from_slice(&lifted.json).expect("valid JSON");
        lifted.restore(&mut value);
        value
    }

    fn answer(data: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "a \"quoted\" \\ thought", "thought": true},
                {"inlineData": {"mimeType": "image/png", "data": data}, "thoughtSignature": "c2ln"},
                {"data": data, "note": {"data": data}},
            ]}}],
            "inline_data": [data],
        }))
        .unwrap()
    }

    #[test]
    fn a_picture_is_lifted_at_any_cut_of_the_body() {
        let bytes: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        let data = STANDARD.encode(&bytes);
        let body = answer(&data);
        let whole: Value = serde_json::from_slice(&body).unwrap();
        for cut in 0..=body.len() {
            let mut lifted = lift(&body, &[cut]);
            assert_eq!(lifted.pictures.len(), 1, "cut at {cut}");
            assert_eq!(restored(&lifted), whole, "cut at {cut}");
            let value: Value = serde_json::from_slice(&lifted.json).unwrap();
            let marker = value["candidates"][0]["content"]["parts"][1]["inlineData"]["data"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(lifted.take(&marker), Some(bytes.clone()), "cut at {cut}");
            assert_eq!(lifted.take(&marker), None, "taken once");
            // Only inlineData's own data is lifted; the same text elsewhere stays.
            assert_eq!(
                value["candidates"][0]["content"]["parts"][2]["data"],
                json!(data)
            );
            assert_eq!(value["inline_data"][0], json!(data));
        }
    }

    #[test]
    fn cuts_into_small_pieces_read_the_same() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
        let data = STANDARD.encode(&bytes);
        let body = answer(&data);
        for step in [1, 2, 3, 5, 7, 64] {
            let cuts: Vec<usize> = (step..body.len()).step_by(step).collect();
            let lifted = lift(&body, &cuts);
            assert_eq!(
                lifted.pictures,
                vec![Some(bytes.clone())],
                "pieces of {step}"
            );
            // The lifted copy left the JSON; the three elsewhere stayed.
            let left = body.len() - data.len() + MARKER.len() + 8;
            assert!(lifted.json.len() <= left, "{} > {left}", lifted.json.len());
        }
    }

    #[test]
    fn every_other_spelling_stays_as_text() {
        let bytes: Vec<u8> = (0..100u8).collect();
        let cases = [
            // URL-safe, unpadded, stray trailing bits, padding in the middle, an escape,
            // whitespace, and not base64 at all.
            base64::engine::general_purpose::URL_SAFE.encode([0xfbu8; 30]),
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes),
            "QR==".to_owned(),
            format!("QQ=={}", STANDARD.encode(&bytes)),
            format!("{}\\/AA", STANDARD.encode(&bytes)),
            format!("{} ", STANDARD.encode(&bytes)),
            "not base64!".to_owned(),
        ];
        for data in cases {
            let body = answer(&data).into_iter().collect::<Vec<u8>>();
            let body = String::from_utf8(body).unwrap().replace("\\\\/", "\\/");
            let whole: Value = serde_json::from_str(&body).unwrap();
            for cut in [0, body.len() / 2, body.len() - 3] {
                let lifted = lift(body.as_bytes(), &[cut]);
                assert!(lifted.pictures.is_empty(), "{data:?} at {cut}");
                assert_eq!(restored(&lifted), whole, "{data:?} at {cut}");
            }
        }
    }

    /// A spool that keeps what it is given: each picture's bytes, and whether it was
    /// closed.
    #[derive(Default)]
    struct Kept(std::sync::Mutex<Vec<(Vec<u8>, bool)>>);

    struct KeptWriter(Arc<Kept>, usize);

    impl Spool for Arc<Kept> {
        fn open(&self) -> Option<Box<dyn crate::spool::SpoolWriter>> {
            let mut pictures = self.0.lock().unwrap();
            pictures.push((Vec::new(), false));
            Some(Box::new(KeptWriter(self.clone(), pictures.len() - 1)))
        }
    }

    impl crate::spool::SpoolWriter for KeptWriter {
        fn write(&mut self, bytes: &[u8]) -> bool {
            self.0.0.lock().unwrap()[self.1].0.extend_from_slice(bytes);
            true
        }

        fn close(self: Box<Self>) -> Option<Spooled> {
            self.0.0.lock().unwrap()[self.1].1 = true;
            Some(Spooled::new(self.1))
        }
    }

    #[test]
    fn a_spool_is_given_each_lifted_picture_and_only_those() {
        let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 13 % 241) as u8).collect();
        let body = answer(&STANDARD.encode(&bytes));
        for step in [1, 7, 4096, body.len()] {
            let kept = Arc::new(Kept::default());
            let mut lifter = Lifter::new(body.len()).spooling(Some(Arc::new(kept.clone())));
            for piece in body.chunks(step) {
                lifter.push(piece);
            }
            let mut lifted = lifter.finish();
            let value: Value = serde_json::from_slice(&lifted.json).unwrap();
            let marker = value["candidates"][0]["content"]["parts"][1]["inlineData"]["data"]
                .as_str()
                .unwrap()
                .to_owned();
            let spooled = lifted.take_spooled(&marker).expect("spooled");
            assert_eq!(spooled.get::<usize>(), Some(&0));
            assert!(lifted.take_spooled(&marker).is_none(), "taken once");
            assert_eq!(
                *kept.0.lock().unwrap(),
                [(bytes.clone(), true)],
                "pieces of {step}"
            );
        }
        // Text that turns out not to be canonical base64 is given back: its writer is
        // dropped unclosed, and nothing is spooled.
        let body = answer(&format!("{} ", STANDARD.encode(&bytes)));
        let kept = Arc::new(Kept::default());
        let mut lifter = Lifter::new(body.len()).spooling(Some(Arc::new(kept.clone())));
        lifter.push(&body);
        let lifted = lifter.finish();
        assert!(lifted.pictures.is_empty() && lifted.spooled.is_empty());
        let opened = kept.0.lock().unwrap();
        assert_eq!(opened.len(), 1);
        assert!(!opened[0].1, "never closed");
    }

    #[test]
    fn an_empty_picture_stays_empty_and_a_cut_off_body_fails_to_parse() {
        let lifted = lift(&answer(""), &[]);
        assert!(lifted.pictures.is_empty());
        let body = answer(&STANDARD.encode([7u8; 99]));
        let cut = body.len() / 2;
        let lifted = lift(&body[..cut], &[cut / 2]);
        assert!(serde_json::from_slice::<Value>(&lifted.json).is_err());
    }
}
