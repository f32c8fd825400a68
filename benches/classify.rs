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
    let no_model = classifier.clone().with_model(false);
    let mut i = 0usize;
    g.bench_function("tempfail_builtin_reply_model_off", |b| {
        b.iter(|| {
            i = (i + 1) % rows.len();
            let (reply, stage, _) = &rows[i];
            black_box(no_model.classify(black_box(reply), *stage))
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

    paired_rounds(&classifier, &kumo, &rows, &kumo_lines);
    model_rounds(&classifier, &rows);

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

/// The learned tie-breaker's cost, in paired rounds (model on, model off, alternating):
/// over the whole mix, and over the replies where the model is consulted (no rule held).
#[allow(clippy::disallowed_methods)] // a benchmark reads the clock
fn model_rounds(classifier: &Classifier, rows: &[(Reply, Stage, String)]) {
    use std::time::Instant;
    const ROUNDS: usize = 101;
    let off = classifier.clone().with_model(false);
    let consulted: Vec<(Reply, Stage, String)> = rows
        .iter()
        .filter(|(r, s, _)| off.classify(r, *s).rule.starts_with("fallback."))
        .cloned()
        .collect();
    let decided = rows
        .iter()
        .filter(|(r, s, _)| classifier.classify(r, *s).rule == "model.category")
        .count();
    let time = |c: &Classifier, set: &[(Reply, Stage, String)]| {
        let t = Instant::now();
        for (reply, stage, _) in set {
            black_box(c.classify(black_box(reply), *stage));
        }
        t.elapsed().as_nanos() as f64 / set.len().max(1) as f64
    };
    let (mut on_all, mut off_all, mut on_sub, mut off_sub) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            on_all.push(time(classifier, rows));
            off_all.push(time(&off, rows));
            on_sub.push(time(classifier, &consulted));
            off_sub.push(time(&off, &consulted));
        } else {
            off_all.push(time(&off, rows));
            on_all.push(time(classifier, rows));
            off_sub.push(time(&off, &consulted));
            on_sub.push(time(classifier, &consulted));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    eprintln!(
        "model rounds ({ROUNDS}): all {} replies: model on {:.0} ns, off {:.0} ns (median per reply); \
         the {} where no rule held (model consulted; it decided {decided}): on {:.0} ns, off {:.0} ns",
        rows.len(),
        median(&mut on_all),
        median(&mut off_all),
        consulted.len(),
        median(&mut on_sub),
        median(&mut off_sub)
    );
}

/// Paired rounds: each round classifies the whole corpus with tempfail and with the
/// KumoMTA `RegexSet`, in alternating order; the medians over rounds, and the median of
/// the per-round ratio, are robust to the load of a shared machine.
#[allow(clippy::disallowed_methods)] // a benchmark reads the clock
fn paired_rounds(
    classifier: &Classifier,
    kumo: &common::Kumo,
    rows: &[(Reply, Stage, String)],
    kumo_lines: &[String],
) {
    use std::time::Instant;
    const ROUNDS: usize = 101;
    let n = rows.len() as f64;
    let (mut ours, mut theirs, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let run_ours = || {
            let t = Instant::now();
            for (reply, stage, _) in rows {
                black_box(classifier.classify(black_box(reply), *stage));
            }
            t.elapsed().as_nanos() as f64 / n
        };
        let run_kumo = || {
            let t = Instant::now();
            for line in kumo_lines {
                black_box(kumo.classify_line(black_box(line)));
            }
            t.elapsed().as_nanos() as f64 / n
        };
        let (a, b) = if round % 2 == 0 {
            let a = run_ours();
            (a, run_kumo())
        } else {
            let b = run_kumo();
            (run_ours(), b)
        };
        ours.push(a);
        theirs.push(b);
        ratio.push(b / a);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    eprintln!(
        "paired rounds ({ROUNDS}, {} replies each): tempfail median {:.0} ns/reply, KumoMTA RegexSet median {:.0} ns/reply, ratio (KumoMTA/tempfail) median {:.1}x",
        rows.len(),
        median(&mut ours),
        median(&mut theirs),
        median(&mut ratio)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
