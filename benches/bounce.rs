//! The bounce parser on Sisimai's public test messages (`set-of-emails`, read from
//! `../shared/corpus/set-of-emails/maildir/bsd`, else the committed subset in
//! tests/data/bounce/set-of-emails), side by side with Sisimai itself (Debian's
//! `libsisimai-perl`, timed on the same files by `benches/bounce_sisimai.pl` in the same
//! run when `perl -MSisimai` works).
//!
//! `cargo bench --features bounce --bench bounce`

#![allow(clippy::disallowed_methods)] // the side-by-side figure is wall time

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tempfail::bounce::Parser;

fn corpus() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/corpus/set-of-emails/maildir/bsd");
    let dir = if shared.is_dir() {
        shared
    } else {
        root.join("tests/data/bounce/set-of-emails")
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    v.sort();
    v
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn bench(c: &mut Criterion) {
    let files = corpus();
    let msgs: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect();
    let parser = Parser::new();
    let n = msgs.len();

    // Same-run side-by-side figure: medians of whole-corpus rounds.
    let rounds = 21;
    let ours = median(
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                let found: usize = msgs
                    .iter()
                    .map(|m| parser.parse(m).map_or(0, |r| r.recipients.len()))
                    .sum();
                std::hint::black_box(found);
                n as f64 / t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    println!("tempfail::bounce messages={n} rounds={rounds} median_msgs_per_sec={ours:.1}");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/bounce_sisimai.pl");
    match Command::new("perl")
        .arg(script)
        .arg("5")
        .args(&files)
        .output()
    {
        Ok(out) if out.status.success() => {
            let line = String::from_utf8_lossy(&out.stdout);
            print!("{line}");
            let theirs: Option<f64> = line
                .rsplit("median_msgs_per_sec=")
                .next()
                .and_then(|v| v.trim().parse().ok());
            if let Some(t) = theirs.filter(|t| *t > 0.0) {
                println!("ratio tempfail/sisimai = {:.1}x", ours / t);
            }
        }
        _ => println!(
            "sisimai: not measured (perl -MSisimai unavailable: apt-get install libsisimai-perl)"
        ),
    }

    let mut g = c.benchmark_group("bounce");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("tempfail_parse_corpus", |b| {
        b.iter(|| {
            msgs.iter()
                .map(|m| parser.parse(m).map_or(0, |r| r.recipients.len()))
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
