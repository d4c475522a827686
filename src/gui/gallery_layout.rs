//! Where each generation sits in the gallery, computed without drawing, so the gallery
//! draws only the generations in view (a 10,000-image history costs what a screenful
//! costs).

use std::ops::Range;

/// The measures of a gallery layout, in points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    /// Width available for thumbnails.
    pub width: f32,
    /// Edge of a thumbnail cell.
    pub cell: f32,
    /// Gap between cells.
    pub gap: f32,
    /// Height of a generation's header (prompt and details).
    pub header: f32,
    /// Space after a generation.
    pub after: f32,
}

impl Metrics {
    /// Thumbnails per row (at least one).
    pub fn columns(&self) -> usize {
        (((self.width + self.gap) / (self.cell + self.gap)).floor() as usize).max(1)
    }

    /// Height of a generation with `images` thumbnails.
    pub fn block_height(&self, images: usize) -> f32 {
        let rows = images.div_ceil(self.columns()).max(1);
        self.header + rows as f32 * (self.cell + self.gap) + self.after
    }

    /// Top-left offset of thumbnail `index` inside its block.
    pub fn cell_offset(&self, index: usize) -> (f32, f32) {
        let columns = self.columns();
        let (row, col) = (index / columns, index % columns);
        (
            col as f32 * (self.cell + self.gap),
            self.header + row as f32 * (self.cell + self.gap),
        )
    }
}

/// The tops of every block and the total height.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    /// Block `i` starts at `tops[i]`; `tops[len]` is the total height.
    tops: Vec<f32>,
}

impl Layout {
    /// Lays out blocks holding these numbers of images.
    pub fn new(metrics: &Metrics, images_per_block: impl IntoIterator<Item = usize>) -> Self {
        let mut tops = vec![0.0];
        let mut y = 0.0;
        for n in images_per_block {
            y += metrics.block_height(n);
            tops.push(y);
        }
        Self { tops }
    }

    /// The total height.
    pub fn height(&self) -> f32 {
        self.tops.last().copied().unwrap_or(0.0)
    }

    /// Where block `i` starts.
    pub fn top(&self, i: usize) -> f32 {
        self.tops[i]
    }

    /// The blocks that overlap `[from, to)`, found by binary search.
    pub fn visible(&self, from: f32, to: f32) -> Range<usize> {
        let blocks = self.tops.len().saturating_sub(1);
        // First block whose bottom is below `from`.
        let start = self.tops[1..].partition_point(|bottom| *bottom <= from);
        // First block whose top is at or past `to`.
        let end = self.tops[..blocks].partition_point(|top| *top < to);
        start.min(end)..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> Metrics {
        Metrics {
            width: 300.0,
            cell: 90.0,
            gap: 10.0,
            header: 40.0,
            after: 10.0,
        }
    }

    #[test]
    fn columns_and_heights() {
        let m = metrics();
        assert_eq!(m.columns(), 3, "3*90 + 2*10 = 290 fits in 300");
        assert_eq!(m.block_height(3), 40.0 + 100.0 + 10.0);
        assert_eq!(m.block_height(4), 40.0 + 200.0 + 10.0);
        assert_eq!(m.block_height(0), 150.0, "an empty block keeps one row");
        assert_eq!(m.cell_offset(4), (100.0, 140.0));
        let narrow = Metrics { width: 10.0, ..m };
        assert_eq!(narrow.columns(), 1);
    }

    #[test]
    fn only_overlapping_blocks_are_visible() {
        let layout = Layout::new(&metrics(), [3, 4, 1, 6]);
        // Blocks: [0,150) [150,400) [400,550) [550,800).
        assert_eq!(layout.height(), 800.0);
        assert_eq!(layout.visible(0.0, 100.0), 0..1);
        assert_eq!(layout.visible(149.0, 151.0), 0..2);
        assert_eq!(layout.visible(150.0, 400.0), 1..2);
        assert_eq!(layout.visible(420.0, 10_000.0), 2..4);
        assert_eq!(layout.visible(900.0, 1000.0), 4..4);
        assert_eq!(Layout::new(&metrics(), []).visible(0.0, 100.0), 0..0);
    }

    #[test]
    fn ten_thousand_images_lay_out_in_a_straight_line() {
        let layout = Layout::new(&metrics(), std::iter::repeat_n(4, 2_500));
        assert_eq!(layout.height(), 2_500.0 * 250.0);
        let mid = layout.visible(300_000.0, 300_800.0);
        assert_eq!(mid, 1_200..1_204);
    }
}
