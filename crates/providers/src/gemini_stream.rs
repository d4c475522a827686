//! Gemini's streamed answer (`streamGenerateContent?alt=sse`): the model's thoughts are
//! told as they arrive, and the chunks are put together into the one answer
//! `generateContent` would have given, every part in the order it came (so each
//! `thoughtSignature` stays on its part for a refine).

use base64::Engine as _;
use serde_json::{Value, json};

use super::error::ProviderError;
use super::{OutputImage, Thought};

/// Splits a `text/event-stream` body into the data of its events, as the bytes come.
#[derive(Default)]
pub struct SseSplitter {
    buf: Vec<u8>,
    /// How far `buf` was searched for an event's end without finding one.
    scanned: usize,
}

impl SseSplitter {
    /// Takes the next bytes; hands each complete event's data to `on_data`.
    pub fn push(&mut self, bytes: &[u8], on_data: &mut impl FnMut(String)) {
        self.buf.extend_from_slice(bytes);
        loop {
            let from = self.scanned.saturating_sub(3);
            let Some((end, gap)) = event_end(&self.buf[from..]).map(|(e, g)| (e + from, g)) else {
                self.scanned = self.buf.len();
                return;
            };
            let event: Vec<u8> = self.buf.drain(..end + gap).take(end).collect();
            self.scanned = 0;
            if let Some(data) = event_data(&event) {
                on_data(data);
            }
        }
    }

    /// The end of the body: what is left is the last event.
    pub fn finish(mut self, on_data: &mut impl FnMut(String)) {
        let rest = std::mem::take(&mut self.buf);
        if let Some(data) = event_data(&rest) {
            on_data(data);
        }
    }
}

/// Where the first event in `buf` ends, and the length of the blank line ending it.
fn event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i + 1 < buf.len() {
        if buf[i] == b'\n' {
            if buf[i + 1] == b'\n' {
                return Some((i, 2));
            }
            if buf[i + 1] == b'\r' && buf.get(i + 2) == Some(&b'\n') {
                return Some((i, 3));
            }
        }
        i += 1;
    }
    None
}

/// An event's `data:` lines, joined; None for an event without data (a comment).
fn event_data(event: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(event);
    let mut data: Option<String> = None;
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(rest) = line.strip_prefix("data:") {
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(rest);
                }
                None => data = Some(rest.to_owned()),
            }
        }
    }
    data.filter(|d| !d.trim().is_empty())
}

/// The chunks of one streamed answer, put together.
#[derive(Default)]
pub struct Assembler {
    parts: Vec<Value>,
    finish_reason: Option<Value>,
    finish_message: Option<Value>,
    grounding: Option<Value>,
    usage: Option<Value>,
    feedback: Option<Value>,
    model_version: Option<Value>,
    chunks: usize,
}

impl Assembler {
    /// Takes one chunk (an event's data); tells each thought part to `tell`.
    pub fn push(
        &mut self,
        data: &str,
        request: usize,
        tell: &dyn Fn(Thought),
    ) -> Result<(), ProviderError> {
        let chunk: Value = serde_json::from_str(data).map_err(|e| ProviderError::BadResponse {
            message: format!("a piece of the streamed answer is not valid JSON ({e})"),
        })?;
        self.push_value(chunk, request, tell)
    }

    /// Takes one chunk, already read.
    pub fn push_value(
        &mut self,
        chunk: Value,
        request: usize,
        tell: &dyn Fn(Thought),
    ) -> Result<(), ProviderError> {
        if let Some(error) = chunk.get("error") {
            // The service can fail after it has started answering.
            let status = error.get("code").and_then(Value::as_u64).unwrap_or(500) as u16;
            let body = json!({ "error": error }).to_string();
            return Err(super::gemini::map_error(
                status,
                &Default::default(),
                body.as_bytes(),
                "",
            ));
        }
        self.chunks += 1;
        let take = |v: &Value, camel: &str, snake: &str| {
            v.get(camel)
                .or_else(|| v.get(snake))
                .filter(|x| !x.is_null())
                .cloned()
        };
        if let Some(u) = take(&chunk, "usageMetadata", "usage_metadata") {
            // Each chunk may carry the counts so far; the last one is the whole.
            self.usage = Some(u);
        }
        if let Some(f) = take(&chunk, "promptFeedback", "prompt_feedback") {
            self.feedback = Some(f);
        }
        if let Some(v) = take(&chunk, "modelVersion", "model_version") {
            self.model_version = Some(v);
        }
        let Some(candidate) = chunk
            .get("candidates")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        else {
            return Ok(());
        };
        if let Some(v) = take(candidate, "finishReason", "finish_reason") {
            self.finish_reason = Some(v);
        }
        if let Some(v) = take(candidate, "finishMessage", "finish_message") {
            self.finish_message = Some(v);
        }
        if let Some(v) = take(candidate, "groundingMetadata", "grounding_metadata") {
            self.grounding = Some(v);
        }
        let parts = candidate
            .get("content")
            .and_then(|c| c.get("parts"))
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                tell_thought(part, request, tell);
            }
            self.parts.push(part.clone());
        }
        Ok(())
    }

    /// The answer as `generateContent` would have given it.
    pub fn finish(self) -> Result<Value, ProviderError> {
        if self.chunks == 0 {
            return Err(ProviderError::BadResponse {
                message: "the streamed answer ended before anything came".into(),
            });
        }
        let mut root = json!({});
        if !self.parts.is_empty() || self.finish_reason.is_some() {
            let mut candidate = json!({"index": 0});
            if !self.parts.is_empty() {
                candidate["content"] = json!({"role": "model", "parts": self.parts});
            }
            for (key, value) in [
                ("finishReason", self.finish_reason),
                ("finishMessage", self.finish_message),
                ("groundingMetadata", self.grounding),
            ] {
                if let Some(value) = value {
                    candidate[key] = value;
                }
            }
            root["candidates"] = json!([candidate]);
        }
        for (key, value) in [
            ("usageMetadata", self.usage),
            ("promptFeedback", self.feedback),
            ("modelVersion", self.model_version),
        ] {
            if let Some(value) = value {
                root[key] = value;
            }
        }
        Ok(root)
    }
}

/// A thought part's text or interim image, told; a picture that does not decode is
/// skipped (it is only a preview; the turn keeps it as it came).
fn tell_thought(part: &Value, request: usize, tell: &dyn Fn(Thought)) {
    let text = part
        .get("text")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let image = part
        .get("inlineData")
        .or_else(|| part.get("inline_data"))
        .and_then(|inline| {
            let data = inline.get("data")?.as_str()?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data)
                .ok()?;
            let mime = inline
                .get("mimeType")
                .or_else(|| inline.get("mime_type"))
                .and_then(Value::as_str)
                .unwrap_or("image/png");
            Some(OutputImage::new(mime, bytes))
        });
    if text.is_some() || image.is_some() {
        tell(Thought {
            request,
            text,
            image,
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Mutex;

    use super::*;

    fn split(pieces: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        let mut splitter = SseSplitter::default();
        for piece in pieces {
            splitter.push(piece, &mut |d| out.push(d));
        }
        splitter.finish(&mut |d| out.push(d));
        out
    }

    #[test]
    fn events_are_found_across_any_cut_and_either_line_ending() {
        let body =
            b"data: {\"a\":1}\r\n\r\n: keep-alive\n\ndata: {\"b\":\ndata: 2}\n\ndata: {\"c\":3}";
        let whole = split(&[body]);
        assert_eq!(whole, ["{\"a\":1}", "{\"b\":\n2}", "{\"c\":3}"]);
        for cut in 1..body.len() {
            assert_eq!(split(&[&body[..cut], &body[cut..]]), whole, "cut at {cut}");
        }
        let bytewise: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(split(&bytewise), whole);
    }

    #[test]
    fn chunks_become_one_answer_and_thoughts_are_told_in_order() {
        let told = Mutex::new(Vec::new());
        let tell = |t: Thought| told.lock().unwrap().push(t);
        let mut a = Assembler::default();
        let chunks = [
            json!({"candidates":[{"content":{"role":"model","parts":[{"text":"**Plan**","thought":true}]}}],
                   "usageMetadata":{"promptTokenCount":9}}),
            json!({"candidates":[{"content":{"role":"model","parts":[
                {"inlineData":{"mimeType":"image/png","data":"AAEC"},"thought":true}]}}]}),
            json!({"candidates":[{"content":{"role":"model","parts":[
                {"text":"Done","thoughtSignature":"S1"},
                {"inlineData":{"mimeType":"image/jpeg","data":"/9j/"},"thoughtSignature":"S2"}]},
                "finishReason":"STOP"}],
                "usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":1130}}),
        ];
        for c in &chunks {
            a.push(&c.to_string(), 1, &tell).unwrap();
        }
        let root = a.finish().unwrap();
        let parts = root["candidates"][0]["content"]["parts"]
            .as_array()
            .unwrap();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[3]["thoughtSignature"], "S2");
        assert_eq!(root["candidates"][0]["finishReason"], "STOP");
        assert_eq!(root["usageMetadata"]["candidatesTokenCount"], 1130);
        let told = told.into_inner().unwrap();
        assert_eq!(told.len(), 2);
        assert_eq!(told[0].text.as_deref(), Some("**Plan**"));
        assert_eq!(told[1].image.as_ref().unwrap().bytes.as_slice(), &[0, 1, 2]);
        assert!(told.iter().all(|t| t.request == 1));
    }

    #[test]
    fn an_error_in_the_stream_and_an_empty_stream_are_errors() {
        let mut a = Assembler::default();
        let e = a
            .push(
                r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
                0,
                &|_| {},
            )
            .unwrap_err();
        assert!(
            matches!(e, ProviderError::Server { status: 503, .. }),
            "{e:?}"
        );
        assert!(Assembler::default().finish().is_err());
        assert!(Assembler::default().push("{not json", 0, &|_| {}).is_err());
    }
}
