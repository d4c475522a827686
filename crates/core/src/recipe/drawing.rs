//! Drawings over an image: the strokes and shapes of a painted mask (and of mark-up),
//! kept as shapes rather than pixels so they can be edited and sent again. Positions
//! are fractions of the image's width and height, and stroke widths fractions of its
//! longer side, so a drawing fits the image at any size it is shown or stored at.

use serde::{Deserialize, Serialize};

/// One shape of a drawing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Shape {
    /// A freehand stroke through these points (one point: a dot).
    Stroke {
        /// Where it passes, in order.
        points: Vec<[f32; 2]>,
        /// Its width, as a share of the image's longer side.
        width: f32,
        /// Whether it takes away (an eraser) rather than adds.
        #[serde(default)]
        erase: bool,
    },
    /// A filled rectangle between two corners.
    Rect {
        /// One corner.
        from: [f32; 2],
        /// The opposite corner.
        to: [f32; 2],
        /// Whether it takes away rather than adds.
        #[serde(default)]
        erase: bool,
    },
}

impl Shape {
    /// Whether this shape takes away.
    pub fn erases(&self) -> bool {
        match self {
            Shape::Stroke { erase, .. } | Shape::Rect { erase, .. } => *erase,
        }
    }
}

/// A painted mask: white (to change) where shapes add, black where they erase, the
/// whole turned over when inverted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MaskDrawing {
    /// The shapes, in the order drawn.
    pub shapes: Vec<Shape>,
    /// Change everything except what is painted.
    #[serde(default)]
    pub inverted: bool,
}

impl MaskDrawing {
    /// Whether anything would change: a shape that adds, or the whole turned over.
    pub fn marks_anything(&self) -> bool {
        self.inverted || self.shapes.iter().any(|s| !s.erases())
    }
}

/// A colour, as sRGB bytes.
pub type Colour = [u8; 3];

/// Whether a label in this colour reads best on a dark box (a light colour) rather than
/// a pale one; the app's preview and the drawn copy agree on it.
pub fn wants_dark_box(colour: Colour) -> bool {
    colour.iter().map(|c| u32::from(*c)).sum::<u32>() > 384
}

/// A mark drawn on a photo to show the model where and what to change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mark", rename_all = "snake_case")]
pub enum Mark {
    /// A freehand line through these points.
    Pen {
        /// Where it passes, in order.
        points: Vec<[f32; 2]>,
        /// Its width, as a share of the image's longer side.
        width: f32,
        /// Its colour.
        colour: Colour,
    },
    /// A straight arrow, its head at `to`.
    Arrow {
        /// Where it starts.
        from: [f32; 2],
        /// Where it points.
        to: [f32; 2],
        /// Its width, as a share of the image's longer side.
        width: f32,
        /// Its colour.
        colour: Colour,
    },
    /// A rectangle's outline between two corners.
    Box {
        /// One corner.
        from: [f32; 2],
        /// The opposite corner.
        to: [f32; 2],
        /// Its line width, as a share of the image's longer side.
        width: f32,
        /// Its colour.
        colour: Colour,
    },
    /// An ellipse's outline inside the box between two corners.
    Ellipse {
        /// One corner of its box.
        from: [f32; 2],
        /// The opposite corner.
        to: [f32; 2],
        /// Its line width, as a share of the image's longer side.
        width: f32,
        /// Its colour.
        colour: Colour,
    },
    /// Words written on the image, their top-left corner at `at`.
    Label {
        /// Where the words start.
        at: [f32; 2],
        /// The words.
        text: String,
        /// The letters' height, as a share of the image's longer side.
        size: f32,
        /// Their colour.
        colour: Colour,
    },
}

/// Mark-up sent with a recipe: the first input is the clean photo, and the guide is
/// that photo with the marks drawn on it; the marks are kept to be edited and sent
/// again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkupSpec {
    /// The photo with the marks drawn (a stored PNG).
    pub guide: super::InputImage,
    /// The photo it was drawn on (the first input, by hash).
    pub photo: String,
    /// The marks, in the order drawn.
    pub marks: Vec<Mark>,
}
