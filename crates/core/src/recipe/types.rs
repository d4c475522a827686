//! Option types of a recipe: provider, aspect ratio, output format, size, inputs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value that could not be parsed, with what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} '{got}' is not valid; use {expected}")]
pub struct ParseError {
    /// The kind of value, e.g. "aspect ratio".
    pub what: &'static str,
    /// What the user gave.
    pub got: String,
    /// What would have been accepted.
    pub expected: String,
}

/// The services that serve Nano Banana models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderId {
    /// Google's Gemini API.
    Gemini,
    /// fal.ai.
    Fal,
    /// Eachlabs.
    Eachlabs,
    /// Oxen.ai.
    Oxen,
    /// Vydra.
    Vydra,
}

impl ProviderId {
    /// Every provider, in the order the app lists them.
    pub const ALL: [ProviderId; 5] = [
        ProviderId::Gemini,
        ProviderId::Fal,
        ProviderId::Eachlabs,
        ProviderId::Oxen,
        ProviderId::Vydra,
    ];

    /// The id used on the command line and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderId::Gemini => "gemini",
            ProviderId::Fal => "fal",
            ProviderId::Eachlabs => "eachlabs",
            ProviderId::Oxen => "oxen",
            ProviderId::Vydra => "vydra",
        }
    }

    /// The name people know.
    pub fn label(self) -> &'static str {
        match self {
            ProviderId::Gemini => "Gemini API",
            ProviderId::Fal => "fal.ai",
            ProviderId::Eachlabs => "Eachlabs",
            ProviderId::Oxen => "Oxen.ai",
            ProviderId::Vydra => "Vydra",
        }
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        ProviderId::ALL
            .into_iter()
            .find(|p| p.as_str() == lower)
            .ok_or_else(|| ParseError {
                what: "provider",
                got: s.to_owned(),
                expected: "gemini, fal, eachlabs, oxen or vydra".to_owned(),
            })
    }
}

/// The shape of the output image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AspectRatio {
    /// Follow the first input image, or square without inputs.
    Auto,
    /// Width to height, e.g. 16:9.
    Ratio(u16, u16),
}

impl AspectRatio {
    /// The ten ratios every Nano Banana model takes.
    pub const CLASSIC: [AspectRatio; 10] = [
        AspectRatio::Ratio(1, 1),
        AspectRatio::Ratio(2, 3),
        AspectRatio::Ratio(3, 2),
        AspectRatio::Ratio(3, 4),
        AspectRatio::Ratio(4, 3),
        AspectRatio::Ratio(4, 5),
        AspectRatio::Ratio(5, 4),
        AspectRatio::Ratio(9, 16),
        AspectRatio::Ratio(16, 9),
        AspectRatio::Ratio(21, 9),
    ];

    /// Width divided by height, when fixed.
    pub fn value(self) -> Option<f32> {
        match self {
            AspectRatio::Auto => None,
            AspectRatio::Ratio(w, h) => Some(f32::from(w) / f32::from(h.max(1))),
        }
    }
}

impl fmt::Display for AspectRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AspectRatio::Auto => f.write_str("auto"),
            AspectRatio::Ratio(w, h) => write!(f, "{w}:{h}"),
        }
    }
}

impl FromStr for AspectRatio {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseError {
            what: "aspect ratio",
            got: s.to_owned(),
            expected: "W:H such as 16:9, or auto".to_owned(),
        };
        let t = s.trim();
        if t.eq_ignore_ascii_case("auto") {
            return Ok(AspectRatio::Auto);
        }
        let (w, h) = t.split_once(':').ok_or_else(err)?;
        let w: u16 = w.trim().parse().map_err(|_| err())?;
        let h: u16 = h.trim().parse().map_err(|_| err())?;
        if w == 0 || h == 0 {
            return Err(err());
        }
        Ok(AspectRatio::Ratio(w, h))
    }
}

impl TryFrom<String> for AspectRatio {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AspectRatio> for String {
    fn from(a: AspectRatio) -> String {
        a.to_string()
    }
}

/// How long a model thinks before it draws, where it lets you choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThinkingLevel {
    /// The least: fastest.
    Minimal,
    /// A little.
    Low,
    /// The usual.
    Medium,
    /// The most: slowest, for hard layouts and text.
    High,
}

impl ThinkingLevel {
    /// Every level, least first.
    pub const ALL: [ThinkingLevel; 4] = [
        ThinkingLevel::Minimal,
        ThinkingLevel::Low,
        ThinkingLevel::Medium,
        ThinkingLevel::High,
    ];

    /// As the Gemini API spells it (`thinkingConfig.thinkingLevel`).
    pub fn wire(self) -> &'static str {
        match self {
            ThinkingLevel::Minimal => "MINIMAL",
            ThinkingLevel::Low => "LOW",
            ThinkingLevel::Medium => "MEDIUM",
            ThinkingLevel::High => "HIGH",
        }
    }

    /// As the CLI and the catalog spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ThinkingLevel::Minimal => "minimal",
            ThinkingLevel::Low => "low",
            ThinkingLevel::Medium => "medium",
            ThinkingLevel::High => "high",
        }
    }
}

impl std::fmt::Display for ThinkingLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ThinkingLevel {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ThinkingLevel::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()) || l.wire() == s.trim())
            .ok_or_else(|| ParseError {
                what: "thinking level",
                got: s.to_owned(),
                expected: "minimal, low, medium or high".to_owned(),
            })
    }
}

/// Google Search grounding: what the model may look up before it draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Search {
    /// Web pages.
    Web,
    /// Images.
    Image,
    /// Both.
    WebAndImage,
}

impl Search {
    /// Every choice, in the order a picker shows them.
    pub const ALL: [Search; 3] = [Search::Web, Search::Image, Search::WebAndImage];

    /// The grounding kinds it needs, as the catalog names them.
    pub fn kinds(self) -> &'static [&'static str] {
        match self {
            Search::Web => &["web"],
            Search::Image => &["image"],
            Search::WebAndImage => &["web", "image"],
        }
    }

    /// As the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Search::Web => "web",
            Search::Image => "image",
            Search::WebAndImage => "web+image",
        }
    }

    /// In words, for a picker.
    pub fn label(self) -> &'static str {
        match self {
            Search::Web => "the web",
            Search::Image => "images",
            Search::WebAndImage => "the web and images",
        }
    }
}

impl std::str::FromStr for Search {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Search::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseError {
                what: "search",
                got: s.to_owned(),
                expected: "web, image or web+image".to_owned(),
            })
    }
}

/// A web page an answer was grounded on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Its address.
    pub uri: String,
    /// Its title.
    pub title: String,
}

/// What a grounded answer looked up, as the service reported it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grounding {
    /// The pages it drew on.
    pub sources: Vec<Source>,
    /// The searches it ran.
    pub queries: Vec<String>,
    /// Google's search suggestions (HTML), which grounded apps are asked to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestions_html: Option<String>,
}

/// The file format images are saved in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Lossless, keeps alpha.
    Png,
    /// Small, lossy.
    Jpeg,
    /// Lossless WebP.
    Webp,
}

impl OutputFormat {
    /// Every format, in the order the app lists them.
    pub const ALL: [OutputFormat; 3] = [OutputFormat::Png, OutputFormat::Jpeg, OutputFormat::Webp];

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            OutputFormat::Png => "image/png",
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::Webp => "image/webp",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Webp => "webp",
        }
    }

    /// The format of a MIME type, if it is one of ours.
    pub fn from_mime(mime: &str) -> Option<Self> {
        match mime.trim().to_ascii_lowercase().as_str() {
            "image/png" => Some(OutputFormat::Png),
            "image/jpeg" | "image/jpg" => Some(OutputFormat::Jpeg),
            "image/webp" => Some(OutputFormat::Webp),
            _ => None,
        }
    }

    /// The format a file extension names, if any.
    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(OutputFormat::Png),
            "jpg" | "jpeg" => Some(OutputFormat::Jpeg),
            "webp" => Some(OutputFormat::Webp),
            _ => None,
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpeg => "jpeg",
            OutputFormat::Webp => "webp",
        })
    }
}

impl FromStr for OutputFormat {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_extension(s.trim()).ok_or_else(|| ParseError {
            what: "format",
            got: s.to_owned(),
            expected: "png, jpeg or webp".to_owned(),
        })
    }
}

/// The output size of models that take one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ImageSize {
    /// About 512 px on the long side.
    S512,
    /// About 1024 px.
    K1,
    /// About 2048 px.
    K2,
    /// About 4096 px.
    K4,
}

impl ImageSize {
    /// Every size, smallest first.
    pub const ALL: [ImageSize; 4] = [ImageSize::S512, ImageSize::K1, ImageSize::K2, ImageSize::K4];

    /// The exact spelling the Gemini API takes (uppercase K).
    pub fn as_str(self) -> &'static str {
        match self {
            ImageSize::S512 => "512",
            ImageSize::K1 => "1K",
            ImageSize::K2 => "2K",
            ImageSize::K4 => "4K",
        }
    }

    /// How this size scales the 1K pixel table, as numerator and denominator.
    pub fn scale(self) -> (u32, u32) {
        match self {
            ImageSize::S512 => (1, 2),
            ImageSize::K1 => (1, 1),
            ImageSize::K2 => (2, 1),
            ImageSize::K4 => (4, 1),
        }
    }
}

impl fmt::Display for ImageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImageSize {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "512" | "0.5K" => Ok(ImageSize::S512),
            "1K" => Ok(ImageSize::K1),
            "2K" => Ok(ImageSize::K2),
            "4K" => Ok(ImageSize::K4),
            _ => Err(ParseError {
                what: "size",
                got: s.to_owned(),
                expected: "512, 1K, 2K or 4K".to_owned(),
            }),
        }
    }
}

impl TryFrom<String> for ImageSize {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ImageSize> for String {
    fn from(s: ImageSize) -> String {
        s.as_str().to_owned()
    }
}

/// An input image of an edit, stored in the library by content hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputImage {
    /// SHA-256 of the prepared bytes, hex.
    pub sha256: String,
    /// MIME type of the prepared bytes.
    pub mime: String,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aspect_round_trips_and_rejects_nonsense() {
        assert_eq!("16:9".parse::<AspectRatio>(), Ok(AspectRatio::Ratio(16, 9)));
        assert_eq!("AUTO".parse::<AspectRatio>(), Ok(AspectRatio::Auto));
        assert_eq!(AspectRatio::Ratio(21, 9).to_string(), "21:9");
        assert!("16x9".parse::<AspectRatio>().is_err());
        assert!("0:9".parse::<AspectRatio>().is_err());
    }

    #[test]
    fn size_parses_any_case_and_prints_uppercase() {
        assert_eq!("2k".parse::<ImageSize>(), Ok(ImageSize::K2));
        assert_eq!(ImageSize::K2.as_str(), "2K");
        let err = "8K".parse::<ImageSize>().unwrap_err();
        assert!(err.to_string().contains("512, 1K, 2K or 4K"));
    }

    #[test]
    fn provider_and_format_parse() {
        assert_eq!("Gemini".parse::<ProviderId>(), Ok(ProviderId::Gemini));
        assert!("openai".parse::<ProviderId>().is_err());
        assert_eq!("jpg".parse::<OutputFormat>(), Ok(OutputFormat::Jpeg));
        assert_eq!(
            OutputFormat::from_mime("image/webp"),
            Some(OutputFormat::Webp)
        );
    }
}
