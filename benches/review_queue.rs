//! Queue queries on 100k cases: the filtered pages the console's queue view asks for.
//! Prints its figures; `cargo bench --bench review_queue`. Target: < 50 ms per page.

use std::time::Instant;

use docliveness::engine::ErrorCode;
use docliveness::review::{CaseFilter, Origin, SortOrder, Status, Store};

fn main() {
    let dir = std::env::temp_dir().join(format!("docliveness-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("review.db");
    let store = Store::open(&path).expect("store");
    let t = Instant::now();
    docliveness_synth::queue::fill_queue(&path, 100_000, 1).expect("generate");
    println!(
        "generated 100000 cases in {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let queries: [(&str, CaseFilter, SortOrder, u64); 6] = [
        (
            "open, review band, by score",
            CaseFilter {
                score_min: Some(0.25),
                score_max: Some(0.5),
                ..Default::default()
            },
            SortOrder::ScoreAscending,
            0,
        ),
        (
            "open, review band, page 100",
            CaseFilter {
                score_min: Some(0.25),
                score_max: Some(0.5),
                ..Default::default()
            },
            SortOrder::ScoreAscending,
            5000,
        ),
        (
            "all, oldest first",
            CaseFilter {
                status: Status::All,
                ..Default::default()
            },
            SortOrder::OldestFirst,
            0,
        ),
        (
            "origin api, newest first",
            CaseFilter {
                origin: Some(Origin::Api),
                status: Status::All,
                ..Default::default()
            },
            SortOrder::NewestFirst,
            0,
        ),
        (
            "error DOCUMENT_CROPPED",
            CaseFilter {
                error_code: Some(ErrorCode::DocumentCropped),
                status: Status::All,
                ..Default::default()
            },
            SortOrder::NewestFirst,
            0,
        ),
        (
            "decided by alice",
            CaseFilter {
                reviewer: Some("alice".into()),
                status: Status::Decided,
                ..Default::default()
            },
            SortOrder::NewestFirst,
            0,
        ),
    ];
    println!(
        "{:<32} {:>10} {:>10} {:>10}",
        "query (50 rows)", "page ms", "count ms", "matches"
    );
    let mut worst: f64 = 0.0;
    for (name, filter, order, offset) in queries {
        let mut times = Vec::new();
        for _ in 0..21 {
            let t = Instant::now();
            let page = store.list(&filter, order, 50, offset).expect("list");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(!page.is_empty());
        }
        times.sort_by(f64::total_cmp);
        let t = Instant::now();
        let n = store.count(&filter).expect("count");
        let count_ms = t.elapsed().as_secs_f64() * 1000.0;
        worst = worst.max(times[10]);
        println!("{name:<32} {:>10.2} {count_ms:>10.2} {n:>10}", times[10]);
    }
    let t = Instant::now();
    let stats = store
        .statistics(
            &CaseFilter {
                status: Status::All,
                ..Default::default()
            },
            Default::default(),
        )
        .expect("stats");
    println!(
        "statistics over {} cases: {:.1} ms",
        stats.cases,
        t.elapsed().as_secs_f64() * 1000.0
    );
    println!(
        "slowest page {worst:.2} ms (target < 50 ms): {}",
        if worst < 50.0 { "met" } else { "NOT met" }
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
