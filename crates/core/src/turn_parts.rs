//! Model turns without pixels. A model turn is kept for refinement with its text, its
//! thoughts and every `thoughtSignature`, but each picture in it is stored once as a
//! content-addressed file and the turn holds only a reference. Sending the turn back
//! puts the exact base64 text back, so Gemini sees byte for byte what it sent.
//!
//! The life of a picture in a turn: `data` (base64, as received) becomes a placeholder
//! ([`PART_KEY`], its position among the turn's pictures) while the answer is parsed,
//! then a hash ([`SHA_KEY`]) once the bytes are stored, and `data` again when the turn is
//! sent. [`SPELLING_KEY`] remembers which base64 spelling came, so the text is the same.
//! Base64 that would not come back byte for byte (line breaks, stray bits) stays inline.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

/// The placeholder of a picture not stored yet: its index among the turn's pictures.
pub const PART_KEY: &str = "bananaPart";
/// The SHA-256 of a stored picture's bytes.
pub const SHA_KEY: &str = "bananaSha256";
/// Which base64 spelling the service used.
pub const SPELLING_KEY: &str = "bananaBase64";

/// A base64 spelling proto3 JSON writers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spelling {
    /// `+/` and `=` padding (Google's own services).
    Standard,
    /// `+/`, no padding.
    StandardNoPad,
    /// `-_` and `=` padding.
    UrlSafe,
    /// `-_`, no padding (gateways built on Google's Python SDK).
    UrlSafeNoPad,
}

impl Spelling {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::StandardNoPad => "standard-no-pad",
            Self::UrlSafe => "url-safe",
            Self::UrlSafeNoPad => "url-safe-no-pad",
        }
    }

    /// The spelling a stored name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Standard,
            Self::StandardNoPad,
            Self::UrlSafe,
            Self::UrlSafeNoPad,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    fn engine(self) -> &'static base64::engine::GeneralPurpose {
        match self {
            Self::Standard => &STANDARD,
            Self::StandardNoPad => &STANDARD_NO_PAD,
            Self::UrlSafe => &URL_SAFE,
            Self::UrlSafeNoPad => &URL_SAFE_NO_PAD,
        }
    }

    /// The base64 text of `bytes` in this spelling.
    pub fn encode(self, bytes: &[u8]) -> String {
        self.engine().encode(bytes)
    }
}

/// Decodes base64 only when encoding the bytes again in the spelling found gives back
/// `text` exactly (the strict decoders reject whitespace, stray bits and odd padding).
pub fn decode_exact(text: &str) -> Option<(Spelling, Vec<u8>)> {
    let padded = text.len().is_multiple_of(4);
    // The standard alphabet first: it rejects '-' and '_', so a URL-safe text falls
    // through to its own decoder, and no separate scan of megabytes of text is needed.
    let (standard, url) = if padded {
        (Spelling::Standard, Spelling::UrlSafe)
    } else {
        (Spelling::StandardNoPad, Spelling::UrlSafeNoPad)
    };
    [standard, url].into_iter().find_map(|spelling| {
        spelling
            .engine()
            .decode(text)
            .ok()
            .map(|bytes| (spelling, bytes))
    })
}

/// A part's `inlineData` (or `inline_data`) object, if it has one.
pub fn inline_object_mut(part: &mut Value) -> Option<&mut Map<String, Value>> {
    let part = part.as_object_mut()?;
    let key = if part.contains_key("inlineData") {
        "inlineData"
    } else {
        "inline_data"
    };
    part.get_mut(key)?.as_object_mut()
}

/// The `inlineData` (or `inline_data`) objects of a turn's parts, in order.
pub fn inline_objects_mut(turn: &mut Value) -> Vec<&mut Map<String, Value>> {
    let Some(parts) = turn.get_mut("parts").and_then(Value::as_array_mut) else {
        return Vec::new();
    };
    parts.iter_mut().filter_map(inline_object_mut).collect()
}

/// Replaces a picture's base64 with the placeholder `index`.
pub fn set_placeholder(inline: &mut Map<String, Value>, index: usize, spelling: Spelling) {
    inline.remove("data");
    inline.insert(PART_KEY.into(), Value::from(index));
    inline.insert(SPELLING_KEY.into(), Value::from(spelling.as_str()));
}

/// Takes the pictures out of a turn that still holds them (one stored by an earlier
/// version): each exactly re-encodable `data` becomes a placeholder, numbered from 0;
/// returns the bytes in that order.
pub fn lift(turn: &mut Value) -> Vec<Vec<u8>> {
    let mut lifted = Vec::new();
    for inline in inline_objects_mut(turn) {
        let Some(found) = inline
            .get("data")
            .and_then(Value::as_str)
            .and_then(decode_exact)
        else {
            continue;
        };
        let (spelling, bytes) = found;
        set_placeholder(inline, lifted.len(), spelling);
        lifted.push(bytes);
    }
    lifted
}

/// Replaces each placeholder by the hash of its stored bytes, `shas[index]`.
pub fn seal(turn: &mut Value, shas: &[String]) -> Result<(), String> {
    for inline in inline_objects_mut(turn) {
        let Some(index) = inline.get(PART_KEY).and_then(Value::as_u64) else {
            continue;
        };
        let sha = shas
            .get(index as usize)
            .ok_or_else(|| format!("picture {index} of a model turn was not stored"))?;
        inline.remove(PART_KEY);
        inline.insert(SHA_KEY.into(), Value::from(sha.as_str()));
    }
    Ok(())
}

/// The hashes of the stored pictures a turn refers to, in order.
pub fn references(turn: &mut Value) -> Vec<String> {
    inline_objects_mut(turn)
        .into_iter()
        .filter_map(|inline| {
            inline
                .get(SHA_KEY)
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

/// A reference to a picture taken out of a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference<'a> {
    /// Not stored yet: its index among the turn's pictures.
    Placeholder(usize),
    /// Stored, by SHA-256.
    Stored(&'a str),
}

/// Puts the pictures back: each reference is replaced by `data`, the bytes `read`
/// returns in the spelling that came. Base64 still inline is left as it is.
pub fn put_back<E>(
    turn: &mut Value,
    mut read: impl FnMut(Reference<'_>) -> Result<Vec<u8>, E>,
) -> Result<(), E> {
    for inline in inline_objects_mut(turn) {
        let bytes = if let Some(sha) = inline.get(SHA_KEY).and_then(Value::as_str) {
            read(Reference::Stored(sha))?
        } else if let Some(index) = inline.get(PART_KEY).and_then(Value::as_u64) {
            read(Reference::Placeholder(index as usize))?
        } else {
            continue;
        };
        let spelling = inline
            .get(SPELLING_KEY)
            .and_then(Value::as_str)
            .and_then(Spelling::parse)
            .unwrap_or(Spelling::Standard);
        inline.remove(SHA_KEY);
        inline.remove(PART_KEY);
        inline.remove(SPELLING_KEY);
        inline.insert("data".into(), Value::from(spelling.encode(&bytes)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn awkward_bytes() -> Vec<u8> {
        // Bytes whose encoding uses + and / (or - and _) and needs padding.
        (0u8..=255).rev().chain([0xfb, 0xff]).collect()
    }

    #[test]
    fn every_spelling_comes_back_byte_for_byte() {
        let bytes = awkward_bytes();
        for spelling in [
            Spelling::Standard,
            Spelling::StandardNoPad,
            Spelling::UrlSafe,
            Spelling::UrlSafeNoPad,
        ] {
            let text = spelling.encode(&bytes);
            let (found, decoded) = decode_exact(&text).expect("decodes");
            assert_eq!(decoded, bytes);
            assert_eq!(found.encode(&decoded), text, "{spelling:?}");
            assert_eq!(Spelling::parse(found.as_str()), Some(found));
        }
    }

    #[test]
    fn base64_that_would_not_come_back_the_same_is_refused() {
        let text = STANDARD.encode(awkward_bytes());
        let wrapped = format!("{}\n{}", &text[..40], &text[40..]);
        assert!(decode_exact(&wrapped).is_none());
        // "QR==" and "QQ==" both decode to "A"; only the canonical one is taken.
        assert!(decode_exact("QR==").is_none());
        assert_eq!(decode_exact("QQ==").map(|(_, b)| b), Some(b"A".to_vec()));
    }

    #[test]
    fn a_turn_round_trips_through_lift_seal_and_inline() {
        let png = awkward_bytes();
        let thought = b"a rough sketch".to_vec();
        let original = json!({
            "role": "model",
            "parts": [
                {"text": "thinking", "thought": true},
                {"inline_data": {"mime_type": "image/png", "data": URL_SAFE_NO_PAD.encode(&thought)}, "thought": true},
                {"inlineData": {"mimeType": "image/png", "data": STANDARD.encode(&png)}, "thoughtSignature": "Sig_A"},
                {"inlineData": {"mimeType": "image/png", "data": "not\nexact"}},
                {"text": "done", "thoughtSignature": "Sig_B"}
            ]
        });
        let mut turn = original.clone();
        let lifted = lift(&mut turn);
        assert_eq!(lifted, vec![thought.clone(), png.clone()]);
        assert!(!turn.to_string().contains(&STANDARD.encode(&png)));
        assert_eq!(turn["parts"][3]["inlineData"]["data"], "not\nexact");
        let shas = vec!["t".to_owned(), "p".to_owned()];
        seal(&mut turn, &shas).unwrap();
        assert_eq!(references(&mut turn), shas);
        assert_eq!(turn["parts"][2]["thoughtSignature"], "Sig_A");
        put_back(&mut turn, |r| {
            Ok::<_, ()>(match r {
                Reference::Stored("t") => thought.clone(),
                Reference::Stored(_) => png.clone(),
                Reference::Placeholder(_) => unreachable!("all sealed"),
            })
        })
        .unwrap();
        assert_eq!(turn, original);
        // Lifting is idempotent: a lifted turn has nothing left to lift but the
        // base64 that would not come back the same.
        let mut again = original.clone();
        assert_eq!(lift(&mut again).len(), 2);
        assert!(lift(&mut again).is_empty());
    }

    #[test]
    fn a_placeholder_without_stored_bytes_is_an_error() {
        let mut turn =
            json!({"parts": [{"inlineData": {"mimeType": "image/png", "bananaPart": 1}}]});
        assert!(seal(&mut turn, &["only".to_owned()]).is_err());
    }
}
