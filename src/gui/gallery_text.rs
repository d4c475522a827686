//! How the gallery puts a generation and an image into words: the details line under a
//! prompt (provider, model, ratio, time, time taken, cost) and an image's marks (ratings,
//! flags, favourite) as words for labels and as a short badge on thumbnails.

use crate::library::{Flag, Generation, ImageRecord};

/// A creation time as a calendar date and time in UTC.
pub fn format_time(ms: i64) -> String {
    let (y, m, d, h, mi, _) = crate::library::dates::utc_parts(ms);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02} UTC")
}

/// An image's marks, each as words and as a short badge.
fn marks(image: &ImageRecord) -> Vec<(String, String)> {
    let mut marks = Vec::new();
    if image.rating > 0 {
        marks.push((
            format!("rated {}", image.rating),
            format!("{}/5", image.rating),
        ));
    }
    match image.flag {
        Flag::Pick => marks.push(("picked".to_owned(), "PICK".to_owned())),
        Flag::Reject => marks.push(("rejected".to_owned(), "REJECT".to_owned())),
        Flag::Unflagged => {}
    }
    if image.favourite {
        marks.push(("favourite".to_owned(), "FAV".to_owned()));
    }
    marks
}

/// " (rated 4, picked, favourite)" for an image's marks, or "".
pub fn marks_text(image: &ImageRecord) -> String {
    let words: Vec<String> = marks(image).into_iter().map(|(w, _)| w).collect();
    if words.is_empty() {
        String::new()
    } else {
        format!(" ({})", words.join(", "))
    }
}

/// One line of details under a generation's prompt, what matters most first (the
/// line is cut to the panel's width and shown whole on hover).
pub fn details(g: &Generation) -> String {
    let job = &g.job;
    let mut parts = Vec::new();
    if job.sandbox {
        parts.push("SANDBOX (not model output)".to_owned());
    }
    parts.push(job.recipe.provider.label().to_owned());
    parts.push(job.recipe.model.clone());
    parts.push(job.recipe.aspect.to_string());
    if let Some(size) = job.recipe.size {
        parts.push(size.to_string());
    }
    if let Some(finished) = job.finished_at_ms {
        let secs = (finished - job.created_at_ms).max(0) as f64 / 1000.0;
        parts.push(format!("took {secs:.1} s"));
    }
    if let Some(credits) = job.credits {
        parts.push(format!("{credits} credits"));
    }
    if !job.sandbox
        && let Some(cost) = job.cost_usd
    {
        parts.push(format!("${cost:.3}"));
    }
    parts.push(format_time(job.created_at_ms));
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_calendar_dates() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            super::format_time(1_795_651_200_000),
            "2026-11-26 00:00 UTC"
        );
    }
}
