//! Thumbnail textures, loaded lazily and freed when unused: a panel asks for the ones it
//! draws this frame; the engine decodes them off the UI thread; past the budget the
//! least recently drawn are dropped, so texture memory stays bounded however far the
//! user scrolls.

use std::collections::HashMap;

use crate::library::ImageId;

/// Textures kept at most (a 256 px RGBA thumbnail is 256 KiB: 600 of them ~150 MiB of
/// GPU memory at worst, and a screenful is well under 200).
pub const TEXTURE_BUDGET: usize = 600;

/// Requests in flight at most: rows flown past while scrolling fast are not decoded
/// unless they are still on screen when a slot frees.
pub const MAX_IN_FLIGHT: usize = 24;

/// What a thumbnail looks like right now.
pub enum Thumb<'a, T> {
    /// Asked for, not decoded yet.
    Loading,
    /// Ready to draw.
    Ready(&'a T),
    /// Could not be loaded, with the reason.
    Failed(&'a str),
}

enum Slot<T> {
    Loading,
    Ready(T),
    Failed(String),
}

struct Entry<T> {
    slot: Slot<T>,
    last_drawn: u64,
}

/// The cache; `T` is the texture type (egui's `TextureHandle` in the app).
pub struct ThumbCache<T> {
    entries: HashMap<ImageId, Entry<T>>,
    frame: u64,
    budget: usize,
    in_flight: usize,
    requests: Vec<ImageId>,
    ready: usize,
    loaded_total: usize,
}

impl<T> Default for ThumbCache<T> {
    fn default() -> Self {
        Self::with_budget(TEXTURE_BUDGET)
    }
}

impl<T> ThumbCache<T> {
    /// A cache keeping at most `budget` textures.
    pub fn with_budget(budget: usize) -> Self {
        Self {
            entries: HashMap::new(),
            frame: 0,
            budget,
            in_flight: 0,
            requests: Vec::new(),
            ready: 0,
            loaded_total: 0,
        }
    }

    /// Starts a frame: what is drawn from now on counts as recently used.
    pub fn begin_frame(&mut self) {
        self.frame += 1;
    }

    /// The thumbnail to draw for an image, asking for it when it is not here yet (and
    /// a request slot is free).
    pub fn get(&mut self, image: ImageId) -> Thumb<'_, T> {
        let frame = self.frame;
        if !self.entries.contains_key(&image) {
            if self.in_flight >= MAX_IN_FLIGHT {
                return Thumb::Loading;
            }
            self.in_flight += 1;
            self.requests.push(image);
            self.entries.insert(
                image,
                Entry {
                    slot: Slot::Loading,
                    last_drawn: frame,
                },
            );
        }
        let Some(entry) = self.entries.get_mut(&image) else {
            return Thumb::Loading;
        };
        entry.last_drawn = frame;
        match &entry.slot {
            Slot::Loading => Thumb::Loading,
            Slot::Ready(t) => Thumb::Ready(t),
            Slot::Failed(m) => Thumb::Failed(m),
        }
    }

    #[cfg(any(test, feature = "testing"))]
    /// The texture if it is loaded, without asking for it.
    pub fn peek(&self, image: ImageId) -> Option<&T> {
        match &self.entries.get(&image)?.slot {
            Slot::Ready(t) => Some(t),
            _ => None,
        }
    }

    /// The images to ask the engine for, once each.
    pub fn take_requests(&mut self) -> Vec<ImageId> {
        std::mem::take(&mut self.requests)
    }

    /// A decoded thumbnail arrived.
    pub fn loaded(&mut self, image: ImageId, texture: T) {
        self.loaded_total += 1;
        self.settle(image, Slot::Ready(texture));
    }

    /// A thumbnail could not be loaded.
    pub fn failed(&mut self, image: ImageId, message: String) {
        // A full image failing says nothing about its thumbnail.
        if matches!(
            self.entries.get(&image).map(|e| &e.slot),
            Some(Slot::Loading)
        ) {
            self.settle(image, Slot::Failed(message));
        }
    }

    fn settle(&mut self, image: ImageId, slot: Slot<T>) {
        let last_drawn = match self.entries.remove(&image) {
            Some(old) => {
                match old.slot {
                    Slot::Loading => self.in_flight = self.in_flight.saturating_sub(1),
                    Slot::Ready(_) => self.ready -= 1,
                    Slot::Failed(_) => {}
                }
                old.last_drawn
            }
            None => self.frame,
        };
        if matches!(slot, Slot::Ready(_)) {
            self.ready += 1;
        }
        self.entries.insert(image, Entry { slot, last_drawn });
    }

    /// Forgets an image (deleted), freeing its texture.
    pub fn forget(&mut self, image: ImageId) {
        if let Some(old) = self.entries.remove(&image) {
            match old.slot {
                Slot::Loading => self.in_flight = self.in_flight.saturating_sub(1),
                Slot::Ready(_) => self.ready -= 1,
                Slot::Failed(_) => {}
            }
        }
    }

    /// Ends a frame: past the budget, frees the textures drawn longest ago (never one
    /// drawn this frame) down to three quarters of it, so the sort runs now and then
    /// rather than every frame of a long scroll.
    pub fn evict(&mut self) {
        if self.ready <= self.budget {
            return;
        }
        let mut ready: Vec<(u64, ImageId)> = self
            .entries
            .iter()
            .filter(|(_, e)| matches!(e.slot, Slot::Ready(_)) && e.last_drawn < self.frame)
            .map(|(id, e)| (e.last_drawn, *id))
            .collect();
        ready.sort_unstable();
        let excess = self.ready - self.budget * 3 / 4;
        for (_, id) in ready.into_iter().take(excess) {
            self.forget(id);
        }
    }

    #[cfg(any(test, feature = "testing"))]
    /// Textures held now.
    pub fn texture_count(&self) -> usize {
        self.ready
    }

    #[cfg(any(test, feature = "testing"))]
    /// Textures made since the start (freed ones included).
    pub fn loaded_total(&self) -> usize {
        self.loaded_total
    }

    #[cfg(any(test, feature = "testing"))]
    /// Requests sent and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws `ids` for one frame, answering every request at once.
    fn frame(cache: &mut ThumbCache<u32>, ids: impl IntoIterator<Item = ImageId>) {
        cache.begin_frame();
        for id in ids {
            let _ = cache.get(id);
        }
        for id in cache.take_requests() {
            cache.loaded(id, id as u32);
        }
        cache.evict();
    }

    #[test]
    fn scrolling_through_thousands_keeps_textures_within_budget() {
        let mut cache = ThumbCache::with_budget(100);
        for start in (0..10_000).step_by(20) {
            frame(&mut cache, start..start + 40);
            assert!(cache.texture_count() <= 100);
        }
        // What is on screen now stays.
        frame(&mut cache, 9_960..10_000);
        for id in 9_960..10_000 {
            assert!(cache.peek(id).is_some());
        }
        assert!(cache.peek(0).is_none(), "long gone rows were freed");
    }

    #[test]
    fn one_request_per_image_and_a_cap_on_requests_in_flight() {
        let mut cache: ThumbCache<u32> = ThumbCache::with_budget(1_000);
        cache.begin_frame();
        for id in 0..100 {
            assert!(matches!(cache.get(id), Thumb::Loading));
        }
        let asked = cache.take_requests();
        assert_eq!(
            asked.len(),
            MAX_IN_FLIGHT,
            "only the first ones are asked for"
        );
        cache.begin_frame();
        let _ = cache.get(0);
        assert!(cache.take_requests().is_empty(), "never asked twice");
        cache.loaded(0, 7);
        cache.failed(1, "damaged".into());
        assert_eq!(cache.in_flight(), MAX_IN_FLIGHT - 2);
        assert!(matches!(cache.get(0), Thumb::Ready(7)));
        assert!(matches!(cache.get(1), Thumb::Failed("damaged")));
        // A failure of the full image does not touch a loaded thumbnail.
        cache.failed(0, "full image failed".into());
        assert!(matches!(cache.get(0), Thumb::Ready(7)));
        cache.forget(0);
        assert_eq!(cache.texture_count(), 0);
    }

    #[test]
    fn textures_drawn_this_frame_are_never_evicted() {
        let mut cache = ThumbCache::with_budget(10);
        frame(&mut cache, 0..20);
        assert_eq!(
            cache.texture_count(),
            20,
            "a screenful larger than the budget stays"
        );
        frame(&mut cache, 0..5);
        assert_eq!(
            cache.texture_count(),
            7,
            "down to three quarters of the budget"
        );
        assert!((0..5).all(|id| cache.peek(id).is_some()));
    }
}
