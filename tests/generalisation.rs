//! Scores the classifier on the generalisation corpus (tests/data/generalisation, see
//! its README): real replies from receiving systems, in tuning files and one held-out
//! set. Held-out sets rotate (design.md, "Held-out sets rotate"): each is measured once,
//! its figure recorded in BENCHMARKS.md, then it joins the tuning files
//! (`common::TUNING_FILES`: `replies.jsonl`, whose first held-out part was `heldout.txt`,
//! then `fresh/`, `fresh2/` and so on up to `fresh36/`); the held-out set now is
//! `common::HELDOUT_FILE`.
//!
//! - `tuning_split`: every tuning row, and each retired part on its own. Run with
//!   `cargo test --test generalisation tuning -- --nocapture` to see every miss; only
//!   tuning rows are ever printed.
//! - `heldout_split`: the held-out rows. Prints totals and per-category confusion
//!   counts, never a row, and asserts that they do not fall below the figures first
//!   measured; `heldout_split_targets` (ignored until it passes) asserts the issue's
//!   thresholds: category ≥ 90 %, scope ≥ 90 %, disposition ≥ 99 %.
//!
//! How a row is scored:
//!
//! - A row whose `reply` is a well-formed SMTP reply (every line starts with the same
//!   basic code) is classified as a live reply: [`Classifier::classify`] with the row's
//!   stage. Any other row (no basic code, a `smtp;` prefix, a provider token before the
//!   code) goes through the text path, [`Classifier::classify_text`], as a bounce's
//!   `Diagnostic-Code` would. Rows without a `stage` use [`Stage::Unknown`].
//! - Category: right when it is the row's `category` or its `also`.
//! - Disposition: right when it equals the label (LABELLING.md).
//! - Scope: the corpus labels `recipient`, `message` or `destination`; LABELLING.md
//!   puts "421 closures, TLS or AUTH requirements" under `destination`. tempfail's
//!   fourth scope, `connection` (this session or its set-up), is counted as right for
//!   a `destination` label only when the category is one whose usual scope is
//!   `connection` (auth, TLS, protocol, service unavailable): what must wait is the
//!   receiving host's session. Any other `connection` verdict is counted wrong.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::Kumo;
use tempfail::classify::Classifier;
use tempfail::{Category, Disposition, Scope};

use common::GenRow as Row;

fn rows() -> Vec<Row> {
    rows_from("replies.jsonl")
}

/// The rows of `file` under tests/data/generalisation.
fn rows_from(file: &str) -> Vec<Row> {
    common::generalisation_rows(file)
}

/// What `c` says of `row`, as [`score`] takes it.
fn said(c: &Classifier, row: &Row) -> Said {
    let v = row.classify(c);
    (
        v.category.unwrap_or(Category::Other),
        Some(v.disposition),
        Some(v.scope),
        v.rule.to_string(),
    )
}

/// What a classifier said: category, disposition (if any), scope (if any), rule.
type Said = (Category, Option<Disposition>, Option<Scope>, String);

#[derive(Default, Clone, Copy)]
struct Score {
    n: usize,
    cat: usize,
    scope: usize,
    disp: usize,
}

fn pct(a: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        100.0 * a as f64 / n as f64
    }
}

impl Score {
    fn line(&self) -> String {
        format!(
            "category {:.1}% ({}/{}), scope {:.1}% ({}/{}), disposition {:.1}% ({}/{})",
            pct(self.cat, self.n),
            self.cat,
            self.n,
            pct(self.scope, self.n),
            self.scope,
            self.n,
            pct(self.disp, self.n),
            self.disp,
            self.n
        )
    }
}

/// How much [`score`] prints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Show {
    /// The totals only.
    Totals,
    /// The totals and the per-category confusion counts.
    Confusion,
    /// Those and every miss (only ever for tuning rows).
    Rows,
}

/// Scores `rows`, printing as `show` says.
fn score(name: &str, rows: &[&Row], f: &dyn Fn(&Row) -> Said, show: Show) -> Score {
    let show_rows = show == Show::Rows;
    let mut s = Score::default();
    let mut confusion: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    let mut misses = Vec::new();
    for row in rows {
        let (cat, disp, scope, rule) = f(row);
        s.n += 1;
        let cat_ok = row.category_ok(cat);
        let scope_ok = scope.is_some_and(|sc| row.scope_ok(cat, sc));
        let disp_ok = disp == Some(row.disposition);
        s.cat += usize::from(cat_ok);
        s.scope += usize::from(scope_ok);
        s.disp += usize::from(disp_ok);
        if !cat_ok {
            *confusion
                .entry(row.category.name())
                .or_default()
                .entry(cat.name())
                .or_default() += 1;
        }
        if show_rows && !(cat_ok && scope_ok && disp_ok) {
            let mut what = Vec::new();
            if !cat_ok {
                what.push(format!("cat {}->{}", row.category, cat));
            }
            if !scope_ok {
                what.push(format!(
                    "scope {}->{}",
                    row.scope,
                    scope.map_or("-", |s| s.name())
                ));
            }
            if !disp_ok {
                what.push(format!(
                    "disp {}->{}",
                    row.disposition,
                    disp.map_or("-", |d| d.name())
                ));
            }
            misses.push(format!(
                "  {} [{}] {} ({rule}) stage {}: {:.160}",
                row.id,
                row.system,
                what.join(", "),
                row.stage,
                row.reply.replace("\r\n", " | ")
            ));
        }
    }
    println!("{name}: {}", s.line());
    if show_rows {
        for m in &misses {
            println!("{m}");
        }
    }
    if show != Show::Totals && !confusion.is_empty() {
        println!("  category confusion (label: predicted × count), misses only:");
        for (label, got) in &confusion {
            let cells: Vec<String> = got.iter().map(|(c, n)| format!("{c}×{n}")).collect();
            println!("    {label}: {}", cells.join(", "));
        }
    }
    s
}

/// The rows rules may be written from: every row of the tuning files
/// ([`common::TUNING_FILES`]; each earlier held-out set was retired into them once its
/// one measurement was recorded).
fn tuning_rows() -> Vec<Row> {
    common::generalisation_tuning_rows()
}

fn all_three(label: &str, rows: &[Row], show_rows: bool) -> (Score, Score, Score) {
    let builtin = Classifier::builtin();
    let code_only = common::code_only();
    let kumo = Kumo::load();
    let refs: Vec<&Row> = rows.iter().collect();
    println!("== {label}: {} rows ==", rows.len());
    let ours_f = |row: &Row| said(&builtin, row);
    let t = score(
        "tempfail built-in rules",
        &refs,
        &ours_f,
        if show_rows {
            Show::Rows
        } else {
            Show::Confusion
        },
    );
    let rules_only = Classifier::builtin().with_model(false);
    let rules_f = |row: &Row| said(&rules_only, row);
    score(
        "tempfail built-in rules, model off",
        &refs,
        &rules_f,
        Show::Confusion,
    );
    let kumo_f = |row: &Row| {
        let (c, d) = kumo.classify_text(&row.reply);
        (c, d, None, "kumomta".to_owned())
    };
    let k = score("KumoMTA shipped rules", &refs, &kumo_f, Show::Confusion);
    let code_f = |row: &Row| said(&code_only, row);
    let c = score("code-only baseline", &refs, &code_f, Show::Confusion);
    (t, k, c)
}

#[test]
fn the_split_is_the_readme_one() {
    let h = common::heldout_systems();
    assert_eq!(h.len(), 25);
    let all = rows();
    assert_eq!(all.len(), 1110);
    let held = all.iter().filter(|r| h.contains(&r.system)).count();
    assert_eq!(held, 267);
    let ids: BTreeSet<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), all.len(), "ids are unique");
}

#[test]
fn tuning_split() {
    let all = tuning_rows();
    let (t, k, c) = all_three("tuning systems", &all, true);
    // The parts, for comparison with the figures measured while they were held out.
    let h = common::heldout_systems();
    let (first, rest): (Vec<Row>, Vec<Row>) =
        rows().into_iter().partition(|r| h.contains(&r.system));
    all_three("tuning: first held-out part (retired)", &first, false);
    all_three("tuning: original tuning part", &rest, false);
    // Every later tuning file is a retired held-out set.
    for file in &common::TUNING_FILES[1..] {
        let set = file.trim_end_matches("replies.jsonl");
        all_three(&format!("tuning: {set} (retired)"), &rows_from(file), false);
    }
    // A guard against regressions on the rows the rules were tuned on (the figures in
    // BENCHMARKS.md); the held-out rows carry the thresholds. Disposition sits
    // lower since `fresh5/` joined: its replies quoted without a basic code are labelled
    // from their sources' words, where the classifier stays transient. Category sits
    // lower since `fresh6/` joined: its filters' terse verdicts scatter across causes.
    // Category and scope sit lower still since `fresh17/` joined: administrators' own
    // reject texts and list managers' pipe output, many of which no rule decides, and the
    // model retrained with them moved a few older rows (BENCHMARKS.md, "Seventeenth round");
    // and again since `fresh18/` joined, mostly administrators' header and body checks
    // (BENCHMARKS.md, "Eighteenth round"), and category again since `fresh19/` joined,
    // administrators' configurations ("Nineteenth round"). Scope has about 25 rows
    // of slack with `fresh21/` (BENCHMARKS.md, "Twenty-first round").
    assert!(pct(t.cat, t.n) >= 86.0, "tuning category {}", t.line());
    assert!(pct(t.scope, t.n) >= 87.5, "tuning scope {}", t.line());
    assert!(pct(t.disp, t.n) >= 97.5, "tuning disposition {}", t.line());
    assert!(t.cat > k.cat && t.cat > c.cat);
}

/// The held-out set ([`common::HELDOUT_FILE`], see its README): replies from receiving
/// systems absent from every tuning file, gathered and labelled by someone who did not
/// read the classifier, and never read by anyone writing rules. Prints totals and
/// confusion counts, never a row; asserts the figures first measured as a floor.
#[test]
fn heldout_split() {
    let held = rows_from(HELDOUT);
    let systems: BTreeSet<&str> = held.iter().map(|r| r.system.as_str()).collect();
    let tuned: BTreeSet<String> = tuning_rows().into_iter().map(|r| r.system).collect();
    assert!(
        systems.iter().all(|s| !tuned.contains(*s)),
        "the held-out set's systems are new"
    );
    let (t, k, c) = all_three("held-out systems", &held, false);
    println!(
        "held-out: {} rows from {} systems",
        held.len(),
        systems.len()
    );
    // KumoMTA's shipped rules are beaten on every set. The code-only baseline is beaten on
    // every set of 30 rows or more; on a smaller one a single system's few rows decide the
    // comparison (`fresh32/`, 12 rows from 4 systems: the baseline 9, tempfail 6;
    // BENCHMARKS.md, "Thirty-first round"), so it is reported, not asserted.
    assert!(t.cat > k.cat, "KumoMTA {}", t.line());
    assert!(held.len() < 30 || t.cat > c.cat, "code-only {}", t.line());
    // Per kind of receiving system (its README's per-system table), totals only.
    let kinds = system_kinds(HELDOUT);
    let builtin = Classifier::builtin();
    let mut by_kind: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in &held {
        let kind = kinds
            .get(&r.system)
            .map_or("(kind not listed)", String::as_str);
        by_kind.entry(kind).or_default().push(r);
    }
    for (kind, rows) in &by_kind {
        let f = |row: &Row| said(&builtin, row);
        let name = format!("  held-out, {kind}");
        let _ = score(&name, rows, &f, Show::Totals);
    }
    // With and without a basic code: a reply quoted without one (bounce text, a log's
    // words) is classified transient when in doubt, which is where dispositions part.
    let (coded, uncoded): (Vec<&Row>, Vec<&Row>) = held.iter().partition(|r| r.live.is_some());
    let f = |row: &Row| said(&builtin, row);
    let _ = score(
        "  held-out, live replies (every line has a basic code)",
        &coded,
        &f,
        Show::Totals,
    );
    let _ = score(
        "  held-out, text without a basic code on every line",
        &uncoded,
        &f,
        Show::Totals,
    );
    // Labels that depart from the first digit (LABELLING.md's documented exceptions): how
    // many, and how many of them the classifier also departs on.
    let (mut departing, mut matched) = (0usize, 0usize);
    for r in &coded {
        let by_code = match r.live.as_ref().map(|reply| reply.code().is_transient()) {
            Some(true) => Disposition::Transient,
            _ => Disposition::Permanent,
        };
        if r.disposition != by_code {
            departing += 1;
            matched += usize::from(said(&builtin, r).1 == Some(r.disposition));
        }
    }
    println!(
        "  held-out, labels departing from the first digit: {departing} of {} live replies; the classifier's disposition matches {matched} of them",
        coded.len()
    );
    // The set's other labellings (src/design.md, "Held-out labels are given twice"):
    // the figure against the gatherer's labels alone (when they are not the labels
    // used), against the second labeller's, and how often the independent second
    // labeller agreed with the gatherer.
    let dir = HELDOUT.trim_end_matches("replies.jsonl");
    let gatherer = common::relabelled(&held, &format!("{dir}labels_gatherer.jsonl"));
    let second = common::relabelled(&held, &format!("{dir}labels_second.jsonl"));
    if let Some(g) = gatherer.as_ref().filter(|g| !common::same_labels(g, &held)) {
        all_three("held-out systems, the gatherer's labels alone", g, false);
    }
    if let Some(s) = &second {
        all_three("held-out systems, the second labeller's labels", s, false);
    }
    if let (Some(g), Some(s)) = (&gatherer, &second) {
        let (n, mut scored, mut exact, mut overlap, mut scope, mut disp) = (g.len(), 0, 0, 0, 0, 0);
        for (a, b) in g.iter().zip(s) {
            scored += usize::from(a.category_ok(b.category));
            exact += usize::from(a.category == b.category);
            overlap +=
                usize::from(a.category_ok(b.category) || b.also.is_some_and(|x| a.category_ok(x)));
            scope += usize::from(a.scope == b.scope);
            disp += usize::from(a.disposition == b.disposition);
        }
        println!(
            "second labeller against the gatherer (scored as the classifier is): category {:.1}% ({scored}/{n}), scope {:.1}% ({scope}/{n}), disposition {:.1}% ({disp}/{n}); the same first category {:.1}% ({exact}/{n}); a category in common, either's also counted, {:.1}% ({overlap}/{n})",
            pct(scored, n),
            pct(scope, n),
            pct(disp, n),
            pct(exact, n),
            pct(overlap, n)
        );
    }
    HELDOUT_FLOOR.check(&t);
}

/// The kind of each system of a set (`| `system` | kind | rows | from |` rows of the
/// README beside `file`; the first table naming a system wins, so a gatherer's own
/// table further down does not relabel it).
fn system_kinds(file: &str) -> BTreeMap<String, String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/generalisation");
    let readme = dir.join(file).with_file_name("README.md");
    let text = std::fs::read_to_string(readme).unwrap_or_default();
    let mut kinds = BTreeMap::new();
    for l in text.lines() {
        let cells: Vec<&str> = l.split('|').map(str::trim).collect();
        let system = cells
            .get(1)
            .and_then(|c| c.strip_prefix('`'))
            .and_then(|c| c.strip_suffix('`'));
        if let (Some(system), Some(kind)) = (system, cells.get(2)) {
            kinds
                .entry(system.to_owned())
                .or_insert_with(|| (*kind).to_owned());
        }
    }
    kinds
}

/// Issue 14's targets on the held-out systems: category >= 90 %, scope >= 90 %,
/// disposition >= 99 %. Not reached (`fresh37/`: 73.6 %, 83.0 %, 100 % on 53 rows,
/// disposition reached but not category or scope;
/// `fresh36/`: 85.3 %, 85.3 %, 97.3 % on 75 rows;
/// `fresh35/`: 75.2 %, 86.8 %, 100 % on 121 rows,
/// disposition reached but not category or scope;
/// `fresh34/`: 84.4 %, 75.0 %, 100 % on 32 rows,
/// disposition reached but not category or scope;
/// `fresh33/`: 90.9 %, 90.9 %, 97.0 % on 33 rows, the
/// first look at or above the category and scope targets, on a small set, with one
/// disposition missed, a permanent refusal read as transient;
/// `fresh32/`: 50.0 %, 33.3 %, 100 % on 12 rows, below
/// the code-only baseline's 75.0 % category on this tiny set;
/// `fresh31/`: 84.4 %, 78.1 %, 100 % on 32 rows,
/// disposition reached but not category or scope;
/// `fresh30/`: 81.8 %, 72.7 %, 100 % on 33 rows,
/// disposition reached but not category or scope;
/// `fresh29/`: 85.5 %, 82.3 %, 100 % on 62 rows,
/// disposition reached but not category or scope;
/// `fresh28/`: 82.4 %, 80.2 %, 97.3 % on 222 rows;
/// `fresh27/`: 84.6 %, 90.0 %, 99.8 % on 409 rows, scope and disposition reached but not
/// category;
/// `fresh26/`: 77.5 %, 86.5 %, 98.3 % on 355 rows;
/// `fresh25/`: 83.3 %, 85.0 %, 97.5 % on 360 rows;
/// `fresh24/`: 80.2 %, 87.7 %, 99.2 % on 373 rows;
/// `fresh23/`: 82.3 %, 88.8 %, 95.3 % on 447 rows;
/// `fresh22/`: 78.8 %, 90.5 %, 96.5 % on 547;
/// `fresh21/`: 80.6 %, 74.9 %, 97.1 % on 418;
/// `fresh20/`: 78.5 %, 81.0 %, 96.2 % on 79;
/// `fresh19/`: 69.2 %, 86.3 %, 97.8 % on 182; `fresh18/`: 63.0 %, 68.9 %, 99.3 % on 135;
/// `fresh17/`: 64.5 %, 76.5 %, 97.7 % on 217;
/// `fresh16/`: 79.5 %, 89.0 %, 97.3 % on 146;
/// `fresh15/`: 73.0 %, 85.8 %, 98.6 % on 141;
/// `fresh14/`: 77.4 %, 74.2 %, 100 % on 31;
/// `fresh13/`: 79.9 %, 84.3 %, 99.4 % on 159; `fresh12/`: 77.7 %, 84.7 %, 99.1 % on 229;
/// `fresh11/`: 67.5 %, 81.5 %, 100 % on 151; `fresh10/`: 83.2 %, 87.3 %, 97.0 % on 197;
/// every look pooled: 78.0 %, 83.7 %, 97.9 % on 6,949; BENCHMARKS.md has each set): run with
/// `cargo test --test generalisation -- --ignored` to see how far.
#[test]
#[ignore = "issue 14's held-out targets are not reached yet; see BENCHMARKS.md"]
fn heldout_split_targets() {
    let (t, _, _) = all_three("held-out systems", &rows_from(HELDOUT), false);
    assert!(pct(t.cat, t.n) >= 90.0, "held-out category {}", t.line());
    assert!(pct(t.scope, t.n) >= 90.0, "held-out scope {}", t.line());
    assert!(
        pct(t.disp, t.n) >= 99.0,
        "held-out disposition {}",
        t.line()
    );
}

/// The held-out file.
const HELDOUT: &str = common::HELDOUT_FILE;

/// The floor for [`heldout_split`]: the figures first measured.
struct Floor {
    cat: usize,
    scope: usize,
    disp: usize,
}

impl Floor {
    fn check(&self, t: &Score) {
        assert!(t.cat >= self.cat, "category {}", t.line());
        assert!(t.scope >= self.scope, "scope {}", t.line());
        assert!(t.disp >= self.disp, "disposition {}", t.line());
    }
}

/// `fresh37/`'s one look (BENCHMARKS.md, "Thirty-sixth round"), at commit 4d8bd1c, against
/// the gatherers' labels: 39 / 44 / 53 of 53.
const HELDOUT_FLOOR: Floor = Floor {
    cat: 39,
    scope: 44,
    disp: 53,
};

/// The probe sets (tests/data/probes: replies written to find blind spots, not real, so
/// never a held-out figure), scored as the corpus is: `probe1` was read and rules were
/// written from it; nobody read `probe2`, which shows whether that vocabulary carries over
/// to another writer's wording. Likewise in the twenty-ninth round `probe3` and `probe5`
/// were read and `probe4` was not. Each is held at its figures on the twenty-ninth round's
/// final tree (BENCHMARKS.md, "Twenty-ninth round"); `-- --nocapture` prints them.
#[test]
fn probes_keep_their_figures() {
    let c = Classifier::builtin();
    for (file, floor) in [
        (
            "probe1.jsonl",
            Floor {
                cat: 343,
                scope: 302,
                disp: 366,
            },
        ),
        (
            "probe2.jsonl",
            Floor {
                cat: 229,
                scope: 235,
                disp: 270,
            },
        ),
        (
            "probe3.jsonl",
            Floor {
                cat: 271,
                scope: 244,
                disp: 284,
            },
        ),
        (
            "probe4.jsonl",
            Floor {
                cat: 224,
                scope: 216,
                disp: 277,
            },
        ),
        (
            "probe5.jsonl",
            Floor {
                cat: 280,
                scope: 274,
                disp: 307,
            },
        ),
    ] {
        let rows = common::probe_rows(file);
        let refs: Vec<&Row> = rows.iter().collect();
        let t = score(
            &format!("{file} ({} rows)", rows.len()),
            &refs,
            &|r| said(&c, r),
            Show::Confusion,
        );
        floor.check(&t);
    }
}
