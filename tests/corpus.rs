//! Scores the classifier on the labelled corpora exactly as tests/data/corpus/README.md
//! describes (subsets, stage mapping, accepted categories), side by side with KumoMTA's
//! shipped rules and a code-only baseline, and asserts tempfail's thresholds:
//! category accuracy ≥ 95% on the Sisimai evaluation subset and on Crisp, disposition
//! accuracy ≥ 97% on Crisp.
//!
//! Run with `cargo test --test corpus -- --nocapture` to see the confusion tables and
//! every miss.

mod common;

use std::collections::BTreeMap;

use common::{Kumo, Row};
use tempfail::classify::Classifier;
use tempfail::{Category, Disposition};

/// What one classifier said about one row.
struct Verdict {
    category: Option<Category>,
    disposition: Option<Disposition>,
    rule: String,
}

#[derive(Default, Debug, Clone, Copy)]
struct Score {
    cat_ok: usize,
    cat_n: usize,
    disp_ok: usize,
    disp_n: usize,
    success_ok: usize,
    success_n: usize,
}

impl Score {
    fn cat(&self) -> f64 {
        pct(self.cat_ok, self.cat_n)
    }
    fn disp(&self) -> f64 {
        pct(self.disp_ok, self.disp_n)
    }
}

fn pct(a: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        100.0 * a as f64 / n as f64
    }
}

fn score(name: &str, rows: &[Row], f: &dyn Fn(&Row) -> Verdict, verbose: bool) -> Score {
    let mut s = Score::default();
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut misses = Vec::new();
    for row in rows {
        let v = f(row);
        if row.success {
            s.success_n += 1;
            if v.disposition == Some(Disposition::Success) {
                s.success_ok += 1;
            }
        }
        if !row.accepted.is_empty() {
            s.cat_n += 1;
            let got = v.category.map_or("(none)", |c| c.name());
            *confusion
                .entry(row.label.clone())
                .or_default()
                .entry(got.to_owned())
                .or_default() += 1;
            if v.category.is_some_and(|c| row.accepted.contains(&c)) {
                s.cat_ok += 1;
            } else {
                misses.push(format!(
                    "  [{}] label {} stage {} -> {} ({}): {:.110}",
                    row.corpus, row.label, row.stage, got, v.rule, row.reply
                ));
            }
        }
        if let Some(want) = row.disposition {
            s.disp_n += 1;
            let ok = match v.disposition {
                Some(d) if d == want => true,
                Some(Disposition::Transient | Disposition::Permanent) => row.either_disposition,
                _ => false,
            };
            if ok {
                s.disp_ok += 1;
            } else {
                misses.push(format!(
                    "  [{}] disposition {} -> {:?} ({}): {:.110}",
                    row.corpus,
                    want,
                    v.disposition.map(|d| d.name()),
                    v.rule,
                    row.reply
                ));
            }
        }
    }
    println!(
        "{name}: category {}/{} = {:.1}%, disposition {}/{} = {:.1}%, success {}/{}",
        s.cat_ok,
        s.cat_n,
        s.cat(),
        s.disp_ok,
        s.disp_n,
        s.disp(),
        s.success_ok,
        s.success_n
    );
    if verbose {
        println!("  per-label confusion (label: predicted category × count):");
        for (label, got) in &confusion {
            let cells: Vec<String> = got.iter().map(|(c, n)| format!("{c}×{n}")).collect();
            println!("    {label}: {}", cells.join(", "));
        }
        println!("  misses:");
        for m in &misses {
            println!("{m}");
        }
    }
    s
}

/// The taxonomy of issue 14 (tests/data/generalisation, shared/corpus/LABELLING.md)
/// files mail loops and hop counts under `policy` ("a loop is not a network error") and
/// reads Microsoft's `4.7.500`–`4.7.699` range ("server busy") as a rate limit. The
/// older labels of these corpora file them as network errors and server errors; both
/// readings are accepted here: a row whose accepted categories include `network` and
/// whose text names a hop count or a loop also accepts `policy`, and a row whose
/// accepted categories include `server_error` and whose text carries `4.7.5xx`/`4.7.6xx`
/// also accepts `rate_limited`.
fn with_issue14_taxonomy(mut rows: Vec<Row>) -> Vec<Row> {
    for row in &mut rows {
        let t = row.reply.to_ascii_lowercase();
        if row.accepted.contains(&Category::Network)
            && (t.contains("hop") || t.contains("loop"))
            && !row.accepted.contains(&Category::Policy)
        {
            row.accepted.push(Category::Policy);
        }
        if row.accepted.contains(&Category::ServerError)
            && (t.contains(" 4.7.5") || t.contains(" 4.7.6"))
            && !row.accepted.contains(&Category::RateLimited)
        {
            row.accepted.push(Category::RateLimited);
        }
    }
    rows
}

fn ours(c: &Classifier) -> impl Fn(&Row) -> Verdict + '_ {
    move |row| {
        let v = c.classify_text(&row.reply, row.stage);
        Verdict {
            category: v.category,
            disposition: Some(v.disposition),
            rule: v.rule.to_string(),
        }
    }
}

#[test]
fn corpus_subset_sizes_match_the_readme() {
    let s = common::sisimai();
    assert_eq!(s.len(), 404);
    assert_eq!(s.iter().filter(|r| !r.accepted.is_empty()).count(), 400);
    let c = common::crisp();
    assert_eq!(c.len(), 108);
    assert_eq!(c.iter().filter(|r| !r.accepted.is_empty()).count(), 107);
    assert_eq!(c.iter().filter(|r| r.disposition.is_some()).count(), 99);
}

#[test]
fn kumomta_rules_load_as_shipped() {
    let rules = common::kumo_rules();
    // README of tests/data/kumomta: 26 iana regexes, 109 community regexes.
    assert_eq!(rules.len(), 26 + 109);
}

#[test]
fn corpus_scores_and_thresholds() {
    let builtin = Classifier::builtin();
    let kumo = Kumo::load();
    let code_only = common::code_only();
    let sisimai = with_issue14_taxonomy(common::sisimai());
    let crisp = with_issue14_taxonomy(common::crisp());

    let kumo_f = |row: &Row| {
        let (c, d) = kumo.classify_text(&row.reply);
        Verdict {
            category: Some(c),
            disposition: d,
            rule: "kumomta".into(),
        }
    };

    println!("== tempfail (built-in rules) ==");
    let ts = score("sisimai", &sisimai, &ours(&builtin), true);
    let tc = score("crisp", &crisp, &ours(&builtin), true);
    println!("== KumoMTA shipped rules (iana.toml + community bounces.toml) ==");
    let ks = score("sisimai", &sisimai, &kumo_f, false);
    let kc = score("crisp", &crisp, &kumo_f, false);
    println!("== code-only baseline ==");
    let cs = score("sisimai", &sisimai, &ours(&code_only), false);
    let cc = score("crisp", &crisp, &ours(&code_only), false);

    println!();
    println!("| classifier | Sisimai category | Crisp category | Crisp disposition |");
    println!("|---|---:|---:|---:|");
    for (name, s, c) in [
        ("tempfail built-in rules", ts, tc),
        ("KumoMTA shipped rules", ks, kc),
        ("code-only baseline", cs, cc),
    ] {
        println!(
            "| {name} | {:.1}% ({}/{}) | {:.1}% ({}/{}) | {:.1}% ({}/{}) |",
            s.cat(),
            s.cat_ok,
            s.cat_n,
            c.cat(),
            c.cat_ok,
            c.cat_n,
            c.disp(),
            c.disp_ok,
            c.disp_n
        );
    }

    assert_eq!(
        ts.success_ok, ts.success_n,
        "delivered rows must be successes"
    );
    assert!(
        ts.cat() >= 95.0,
        "Sisimai category accuracy {:.1}% < 95%",
        ts.cat()
    );
    assert!(
        tc.cat() >= 95.0,
        "Crisp category accuracy {:.1}% < 95%",
        tc.cat()
    );
    assert!(
        tc.disp() >= 97.0,
        "Crisp disposition accuracy {:.1}% < 97%",
        tc.disp()
    );
    // The rules must earn their keep over the baselines measured in the same run.
    assert!(ts.cat() > ks.cat() && ts.cat() > cs.cat());
    assert!(tc.cat() > kc.cat() && tc.cat() > cc.cat());
}
