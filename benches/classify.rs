//! Classification speed over the corpus replies: tempfail's full built-in rule set
//! against KumoMTA's shipped rules as one `regex::RegexSet`, in the same run.
//!
//! ```text
//! cargo bench --bench classify
//! ```
//!
//! Each iteration classifies the next reply of the corpus (Sisimai evaluation subset and
//! Crisp, every row with a reply code), so criterion's time per iteration is the mean
//! time per reply; the figure reported is criterion's median of those.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tempfail::{Classifier, Reply, Stage};

fn corpus() -> Vec<(Reply, Stage, String)> {
    common::sisimai()
        .into_iter()
        .chain(common::crisp())
        .filter_map(|row| Reply::parse_loose(&row.reply).map(|r| (r, row.stage, row.reply)))
        .collect()
}

fn bench(c: &mut Criterion) {
    let rows = corpus();
    let classifier = Classifier::builtin();
    let kumo = common::Kumo::load();
    let kumo_lines: Vec<String> = rows.iter().map(|(r, _, _)| common::Kumo::line(r)).collect();
    eprintln!(
        "{} corpus replies; {} tempfail rules; {} KumoMTA regexes",
        rows.len(),
        classifier.rule_count(),
        kumo.set.len()
    );

    let mut g = c.benchmark_group("classify_per_reply");
    let mut i = 0usize;
    g.bench_function("tempfail_builtin_reply", |b| {
        b.iter(|| {
            i = (i + 1) % rows.len();
            let (reply, stage, _) = &rows[i];
            black_box(classifier.classify(black_box(reply), *stage))
        })
    });
    let mut i = 0usize;
    g.bench_function("kumomta_regexset_line", |b| {
        b.iter(|| {
            i = (i + 1) % kumo_lines.len();
            black_box(kumo.classify_line(black_box(&kumo_lines[i])))
        })
    });
    let mut i = 0usize;
    g.bench_function("tempfail_builtin_bounce_text", |b| {
        b.iter(|| {
            i = (i + 1) % rows.len();
            let (_, stage, text) = &rows[i];
            black_box(classifier.classify_text(black_box(text), *stage))
        })
    });
    g.finish();

    // Linear time on hostile input: 1 MB of near-miss phrase fragments.
    let hostile: String = "try again in retry after user unknow mailbox ful spam".repeat(20_000);
    let hostile = &hostile[..1 << 20];
    let mut g = c.benchmark_group("classify_hostile");
    g.sample_size(10);
    g.bench_function("tempfail_1mb_text", |b| {
        b.iter(|| black_box(classifier.classify_text(black_box(hostile), Stage::RcptTo)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
