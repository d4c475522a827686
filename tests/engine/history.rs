//! History at the library level: filters, paging, sessions and lineage, on temp dirs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use banana_studio::library::{
    Flag, FlagFilter, HistoryQuery, ImageId, JobId, Library, Mark, NewImage, PageKey,
};
use banana_studio::recipe::{Catalog, ProviderId, Recipe};

/// A succeeded job with `n` images of distinct content; returns its id and image ids.
fn job(
    library: &Library,
    prompt: &str,
    provider: ProviderId,
    parent: Option<ImageId>,
    n: usize,
) -> (JobId, Vec<ImageId>) {
    let recipe = Recipe::new(prompt, provider, &Catalog::bundled());
    let job = library
        .create_child_job(&recipe, true, None, parent)
        .unwrap();
    let images: Vec<NewImage> = (0..n)
        .map(|i| {
            let content = format!("{prompt}-{job}-{i}");
            let (sha, _) = library
                .put_image_file(content.as_bytes(), "image/png")
                .unwrap();
            NewImage {
                sha256: sha,
                mime: "image/png".into(),
                width: 1,
                height: 1,
                size_bytes: content.len() as u64,
                turn_index: 0,
            }
        })
        .collect();
    let ids = library
        .complete_job(job, &images, None, None, &[], None)
        .unwrap();
    (job, ids)
}

fn listed(library: &Library, query: HistoryQuery) -> Vec<(String, usize)> {
    library
        .generations(&HistoryQuery {
            limit: if query.limit == 0 { 100 } else { query.limit },
            ..query
        })
        .unwrap()
        .into_iter()
        .map(|g| (g.job.recipe.prompt, g.images.len()))
        .collect()
}

#[test]
fn filters_narrow_by_marks_provider_model_and_date() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path()).unwrap();
    let (_, fox) = job(&library, "fox", ProviderId::Gemini, None, 3);
    let (_, owl) = job(&library, "owl", ProviderId::Fal, None, 2);
    let (old, _) = job(&library, "old bear", ProviderId::Gemini, None, 1);
    library.mark(fox[0], Mark::Favourite(true)).unwrap();
    library.mark(fox[1], Mark::Rating(4)).unwrap();
    library.mark(fox[2], Mark::Flag(Flag::Reject)).unwrap();
    library.mark(owl[0], Mark::Rating(2)).unwrap();
    library.mark(owl[1], Mark::Flag(Flag::Pick)).unwrap();
    // Back-date one job to the first day of 2025 (a second connection, as another
    // process would).
    let conn = rusqlite::Connection::open(dir.path().join("library.sqlite3")).unwrap();
    conn.execute(
        "UPDATE jobs SET created_at = 1735689600000 WHERE id = ?1",
        [old],
    )
    .unwrap();

    let q = HistoryQuery::default;
    assert_eq!(listed(&library, q()).len(), 3);
    assert_eq!(
        listed(
            &library,
            HistoryQuery {
                favourites_only: true,
                ..q()
            }
        ),
        vec![("fox".to_owned(), 1)],
        "only the favourite image of the fox job"
    );
    assert_eq!(
        listed(
            &library,
            HistoryQuery {
                min_rating: 2,
                ..q()
            }
        ),
        vec![("owl".to_owned(), 1), ("fox".to_owned(), 1)]
    );
    assert_eq!(
        listed(
            &library,
            HistoryQuery {
                min_rating: 5,
                ..q()
            }
        ),
        vec![]
    );
    assert_eq!(
        listed(
            &library,
            HistoryQuery {
                flag: FlagFilter::Picked,
                ..q()
            }
        ),
        vec![("owl".to_owned(), 1)]
    );
    assert_eq!(
        listed(
            &library,
            HistoryQuery {
                flag: FlagFilter::NotRejected,
                ..q()
            }
        ),
        vec![
            ("owl".to_owned(), 2),
            ("fox".to_owned(), 2),
            ("old bear".to_owned(), 1)
        ]
    );
    assert_eq!(
        listed(
            &library,
            HistoryQuery {
                flag: FlagFilter::Rejected,
                ..q()
            }
        ),
        vec![("fox".to_owned(), 1)]
    );
    assert_eq!(
        listed(
            &library,
            HistoryQuery {
                provider: Some(ProviderId::Fal),
                ..q()
            }
        ),
        vec![("owl".to_owned(), 2)]
    );
    let fox_model = Recipe::new("", ProviderId::Gemini, &Catalog::bundled()).model;
    assert_eq!(
        listed(
            &library,
            HistoryQuery {
                model: Some(fox_model),
                ..q()
            }
        )
        .len(),
        2
    );
    assert_eq!(
        listed(
            &library,
            HistoryQuery {
                until_ms: Some(1_735_776_000_000),
                ..q()
            }
        ),
        vec![("old bear".to_owned(), 1)]
    );
    assert_eq!(
        listed(
            &library,
            HistoryQuery {
                since_ms: Some(1_735_776_000_000),
                ..q()
            }
        )
        .len(),
        2
    );
    assert_eq!(
        listed(
            &library,
            HistoryQuery {
                search: Some("fox".into()),
                min_rating: 4,
                ..q()
            }
        ),
        vec![("fox".to_owned(), 1)],
        "search and filters combine"
    );
}

#[test]
fn pages_are_newest_first_without_gaps_or_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path()).unwrap();
    let ids: Vec<JobId> = (0..25)
        .map(|i| job(&library, &format!("p{i}"), ProviderId::Gemini, None, 1).0)
        .collect();
    let read_all = |library: &Library| {
        let mut seen = Vec::new();
        let mut after = None;
        for expected in [10, 10, 5, 0] {
            let page = library
                .generations(&HistoryQuery {
                    limit: 10,
                    after,
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(page.len(), expected);
            seen.extend(page.iter().map(|g| g.job.id));
            after = page.last().map(PageKey::of).or(after);
        }
        seen
    };
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(read_all(&library), newest_first);
    // Jobs made in the same millisecond page by id, still without gaps or repeats.
    drop(library);
    let db = rusqlite::Connection::open(dir.path().join("library.sqlite3")).unwrap();
    db.execute("UPDATE jobs SET created_at = 1000", []).unwrap();
    drop(db);
    let library = Library::open(dir.path()).unwrap();
    assert_eq!(read_all(&library), newest_first);
    // Listings leave the model turns out; the job itself still has them.
    let page = library
        .generations(&HistoryQuery {
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert!(page[0].job.model_turns.is_none());
}

#[test]
fn sessions_hold_new_jobs_filter_history_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path()).unwrap();
    let sessions = library.sessions().unwrap();
    assert_eq!(sessions.len(), 1, "a new library has one session");
    let first = sessions[0].id;
    assert_eq!(library.current_session(), first);
    job(&library, "in the first", ProviderId::Gemini, None, 2);

    let spring = library.create_session("  Spring\ncampaign ").unwrap();
    assert_eq!(library.current_session(), spring);
    job(&library, "in spring", ProviderId::Gemini, None, 1);
    let by_session = |s| {
        listed(
            &library,
            HistoryQuery {
                session: Some(s),
                ..Default::default()
            },
        )
    };
    assert_eq!(by_session(spring), vec![("in spring".to_owned(), 1)]);
    assert_eq!(by_session(first), vec![("in the first".to_owned(), 2)]);

    let sessions = library.sessions().unwrap();
    assert_eq!(
        sessions[0].name, "Spring campaign",
        "most recently used first"
    );
    assert_eq!((sessions[0].jobs, sessions[0].images), (1, 1));
    assert_eq!((sessions[1].jobs, sessions[1].images), (1, 2));
    library.rename_session(first, "Logos").unwrap();
    assert_eq!(library.session_named("logos").unwrap().unwrap().id, first);

    assert!(library.set_current_session(first).unwrap());
    assert!(!library.set_current_session(999).unwrap());
    job(&library, "logo again", ProviderId::Gemini, None, 1);
    drop(library);
    let reopened = Library::open(dir.path()).unwrap();
    assert_eq!(
        reopened.current_session(),
        first,
        "reopening continues the session used last"
    );
}

#[test]
fn lineage_lists_the_whole_family_in_tree_order() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path()).unwrap();
    let (_, root) = job(&library, "root", ProviderId::Gemini, None, 2);
    let (_, child) = job(&library, "child of a", ProviderId::Gemini, Some(root[0]), 1);
    let (_, grand) = job(
        &library,
        "grandchildren",
        ProviderId::Gemini,
        Some(child[0]),
        2,
    );
    let (_, other) = job(&library, "child of b", ProviderId::Gemini, Some(root[1]), 1);
    let (_, second) = job(
        &library,
        "second child of a",
        ProviderId::Gemini,
        Some(root[0]),
        1,
    );
    let (_, unrelated) = job(&library, "unrelated", ProviderId::Gemini, None, 1);

    let tree = library.lineage(grand[1]).unwrap();
    assert_eq!(tree.focus, grand[1]);
    let shape: Vec<(ImageId, u32, Option<ImageId>)> = tree
        .nodes
        .iter()
        .map(|n| (n.image.id, n.depth, n.parent))
        .collect();
    assert_eq!(
        shape,
        vec![
            (root[0], 0, None),
            (child[0], 1, Some(root[0])),
            (grand[0], 2, Some(child[0])),
            (grand[1], 2, Some(child[0])),
            (second[0], 1, Some(root[0])),
            (root[1], 0, None),
            (other[0], 1, Some(root[1])),
        ]
    );
    assert_eq!(tree.nodes[2].prompt, "grandchildren");
    // Every member sees the same family.
    assert_eq!(library.lineage(root[1]).unwrap().nodes.len(), 7);
    // A trashed parent still holds the line together.
    library.trash(&[child[0]]).unwrap();
    let tree = library.lineage(grand[0]).unwrap();
    assert_eq!(tree.nodes.len(), 7);
    assert!(tree.nodes[1].image.deleted_at_ms.is_some());
    let alone = library.lineage(unrelated[0]).unwrap();
    assert_eq!(alone.nodes.len(), 1);
    assert_eq!(library.lineage(123_456).unwrap().nodes.len(), 0);
}
