//! Base64 as proto3 JSON readers must take it: the standard or the URL-safe alphabet,
//! padded or not (a gateway built on Google's Python SDK sends URL-safe without padding).

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Decodes base64 in either alphabet, with or without padding.
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    if text.contains(['-', '_']) {
        URL_SAFE.decode(text)
    } else {
        STANDARD.decode(text)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

    #[test]
    fn every_proto3_spelling_reads_the_same_bytes() {
        // Bytes whose encoding uses + and / (or - and _) and needs padding.
        let bytes: Vec<u8> = (0u8..=255).rev().chain([0xfb, 0xff]).collect();
        for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
            let text = engine.encode(&bytes);
            assert_eq!(super::decode(&text).ok(), Some(bytes.clone()), "{text}");
        }
        assert!(super::decode("not base64!").is_err());
        assert!(super::decode("ab+c-d").is_err(), "alphabets are not mixed");
    }
}
