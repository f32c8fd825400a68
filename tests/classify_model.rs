//! The learned tie-breaker (src/classify/model.rs): where its weights come from, how
//! its gate was chosen, and what it may never do.
//!
//! - `weights_are_fresh`: retrains on the shipped corpora and fails unless
//!   src/classify/model_weights.rs is exactly what training gives. With
//!   `TEMPFAIL_TRAIN=1` it writes the file instead:
//!   `TEMPFAIL_TRAIN=1 cargo test --all-features --test classify_model weights_are_fresh`.
//! - `cross_validation` (ignored, slow-ish): leave-one-system-out cross-validation on
//!   the generalisation corpus's tuning systems, the model trained each time without
//!   the left-out system's rows, for a grid of gates and training options; prints the
//!   figures with and without the model and the best gate:
//!   `cargo test --release --all-features --test classify_model cross_validation -- --ignored --nocapture`.
//! - `leave_one_set_out` (ignored): each retired held-out set left out of training in
//!   turn and scored with the model leading and behind the gate.
//!
//! Training rows: the Sisimai evaluation subset and Crisp (tests/data/corpus, each
//! row's first accepted category, at weight [`CORPUS_WEIGHT`]) and the tuning rows of
//! tests/data/generalisation ([`common::TUNING_FILES`], their labelled category,
//! weight 1). The held-out set ([`common::HELDOUT_FILE`]) is never read here.
#![cfg(feature = "model-training")]

mod common;

use std::collections::BTreeSet;

use tempfail::classify::model::{Gate, Model, TrainingInput, TrainingOptions, TrainingRow};
use tempfail::{Category, Classification, Classifier, Stage};

/// The weight of a Sisimai or Crisp row (their labels map to a set of categories of
/// this taxonomy; the first is used): chosen by the cross-validation.
const CORPUS_WEIGHT: f64 = 0.5;

/// The gate written into the generated table: chosen by `cross_validation` (fourth
/// round, 292 systems: `weak` 35 gains three rows of category and three of scope over
/// 25, with tie 0 fewer model decisions than tie 5 for the same category).
const CHOSEN_GATE: Gate = Gate {
    weak: 35,
    tie: 0,
    margin: 100,
};

use common::GenRow as GRow;

/// The generalisation corpus's tuning rows (`common::TUNING_FILES`: each earlier
/// held-out set joined them once its figure was recorded). The held-out set,
/// `common::HELDOUT_FILE`, is never read here.
fn tuning_rows() -> Vec<GRow> {
    common::generalisation_tuning_rows()
}

/// The Sisimai and Crisp rows with a category label: (text, stage, first accepted).
fn corpus_rows() -> Vec<(String, Stage, Category)> {
    common::sisimai()
        .into_iter()
        .chain(common::crisp())
        .filter_map(|r| r.accepted.first().map(|c| (r.reply.clone(), r.stage, *c)))
        .collect()
}

fn training<'a>(
    corpus: &'a [(String, Stage, Category)],
    tuning: &'a [GRow],
    leave_out: Option<&str>,
    corpus_weight: f64,
) -> Vec<TrainingRow<'a>> {
    let mut rows: Vec<TrainingRow<'a>> = corpus
        .iter()
        .map(|(t, stage, c)| TrainingRow {
            input: TrainingInput::Text(t),
            stage: *stage,
            category: *c,
            weight: corpus_weight,
        })
        .collect();
    for r in tuning {
        if Some(r.system.as_str()) == leave_out {
            continue;
        }
        rows.push(TrainingRow {
            input: match &r.live {
                Some(reply) => TrainingInput::Reply(reply),
                None => TrainingInput::Text(&r.reply),
            },
            stage: r.stage,
            category: r.category,
            weight: 1.0,
        });
    }
    rows
}

fn weights_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/classify/model_weights.rs")
}

#[test]
fn weights_are_fresh() {
    let corpus = corpus_rows();
    let tuning = tuning_rows();
    let rows = training(&corpus, &tuning, None, CORPUS_WEIGHT);
    let model = Model::train(&rows, &TrainingOptions::BUILTIN);
    let source = model.to_source(CHOSEN_GATE);
    if std::env::var_os("TEMPFAIL_TRAIN").is_some() {
        std::fs::write(weights_path(), &source).expect("write model_weights.rs");
        println!(
            "wrote {} ({} features)",
            weights_path().display(),
            model.vocabulary()
        );
        return;
    }
    let committed = std::fs::read_to_string(weights_path()).expect("model_weights.rs");
    assert!(
        committed == source,
        "src/classify/model_weights.rs is not what training on the shipped corpora gives: \
         run `TEMPFAIL_TRAIN=1 cargo test --all-features --test classify_model weights_are_fresh`"
    );
    let builtin = Model::builtin();
    assert_eq!(builtin.vocabulary(), model.vocabulary());
    assert_eq!(builtin.categories(), model.categories());
    assert_eq!(Gate::BUILTIN, CHOSEN_GATE);
}

#[derive(Default, Clone, Copy, Debug)]
struct Score {
    n: usize,
    cat: usize,
    scope: usize,
    disp: usize,
    decided: usize,
}

impl Score {
    fn add(&mut self, row: &GRow, v: &Classification) {
        let cat = v.category.unwrap_or(Category::Other);
        self.n += 1;
        self.cat += usize::from(row.category_ok(cat));
        self.scope += usize::from(row.scope_ok(cat, v.scope));
        self.disp += usize::from(v.disposition == row.disposition);
        self.decided += usize::from(v.rule == "model.category");
    }
    fn merge(&mut self, o: &Score) {
        self.n += o.n;
        self.cat += o.cat;
        self.scope += o.scope;
        self.disp += o.disp;
        self.decided += o.decided;
    }
    fn line(&self) -> String {
        let p = |a: usize| 100.0 * a as f64 / self.n.max(1) as f64;
        format!(
            "category {:.1}% ({}/{}), scope {:.1}% ({}/{}), disposition {:.1}% ({}/{}); model decided {}",
            p(self.cat),
            self.cat,
            self.n,
            p(self.scope),
            self.scope,
            self.n,
            p(self.disp),
            self.disp,
            self.n,
            self.decided
        )
    }
}

fn option_name(cw: f64, o: &TrainingOptions) -> String {
    if o.logistic {
        format!(
            "logistic, corpus weight {cw}, l2 {}, {} steps of {}",
            o.l2, o.iterations, o.rate
        )
    } else {
        format!("naive Bayes, corpus weight {cw}, alpha {}", o.alpha)
    }
}

/// The training options the cross-validation compares (`TEMPFAIL_CV=nb|lr|both|chosen`).
fn cv_option_sets() -> Vec<(f64, TrainingOptions)> {
    let which = std::env::var("TEMPFAIL_CV").unwrap_or_else(|_| "both".to_owned());
    let mut v = Vec::new();
    if which == "both" || which == "nb" {
        for cw in [0.25, 0.5, 1.0] {
            for alpha in [0.1, 0.5, 1.0] {
                v.push((
                    cw,
                    TrainingOptions {
                        alpha,
                        logistic: false,
                        ..TrainingOptions::BUILTIN
                    },
                ));
            }
        }
    }
    if which == "chosen" {
        v.push((CORPUS_WEIGHT, TrainingOptions::BUILTIN));
    } else if which != "nb" {
        for cw in [0.5, 1.0] {
            for l2 in [0.0003, TrainingOptions::BUILTIN.l2] {
                v.push((
                    cw,
                    TrainingOptions {
                        logistic: true,
                        l2,
                        ..TrainingOptions::BUILTIN
                    },
                ));
            }
        }
    }
    v
}

#[test]
#[ignore = "cross-validation: run with --ignored --nocapture (release recommended)"]
fn cross_validation() {
    let corpus = corpus_rows();
    let tuning = tuning_rows();
    let systems: BTreeSet<&str> = tuning.iter().map(|r| r.system.as_str()).collect();
    let without = Classifier::builtin().with_model(false);
    let mut base = Score::default();
    for r in &tuning {
        base.add(r, &r.classify(&without));
    }
    println!(
        "leave-one-system-out over {} tuning systems, {} rows",
        systems.len(),
        tuning.len()
    );
    println!("without the model: {}", base.line());
    let mut gates = Vec::new();
    for weak in [0u16, 20, 25, 35] {
        for tie in [0u16, 5, 10] {
            for margin in [0i32, 100, 200, 300, 500, 800] {
                gates.push(Gate { weak, tie, margin });
            }
        }
    }
    let mut results: Vec<(String, Gate, Score)> = Vec::new();
    let option_sets: Vec<(f64, TrainingOptions)> = cv_option_sets();
    for (cw, opts) in &option_sets {
        let mut scores = vec![Score::default(); gates.len()];
        for sys in &systems {
            let rows = training(&corpus, &tuning, Some(sys), *cw);
            let model = Model::train(&rows, opts);
            let held: Vec<&GRow> = tuning.iter().filter(|r| r.system == *sys).collect();
            for (g, s) in gates.iter().zip(scores.iter_mut()) {
                let c = Classifier::builtin().with_trained_model(model.clone(), *g);
                for r in &held {
                    s.add(r, &r.classify(&c));
                }
            }
        }
        for (g, s) in gates.iter().zip(scores) {
            results.push((option_name(*cw, opts), *g, s));
        }
    }
    results.sort_by_key(|(_, _, s)| std::cmp::Reverse((s.cat + s.scope, s.cat, s.disp)));
    if std::env::var_os("TEMPFAIL_CV_ALL").is_some() {
        for (o, g, s) in &results {
            println!(
                "  ALL {o}, weak {}, tie {}, margin {}: {}",
                g.weak,
                g.tie,
                g.margin,
                s.line()
            );
        }
    }
    println!("best 25 (by category + scope):");
    for (o, g, s) in results.iter().take(25) {
        println!(
            "  {o}, weak {}, tie {}, margin {}: {}",
            g.weak,
            g.tie,
            g.margin,
            s.line()
        );
    }
    let chosen = results
        .iter()
        .find(|(o, g, _)| {
            *g == CHOSEN_GATE && o == &option_name(CORPUS_WEIGHT, &TrainingOptions::BUILTIN)
        })
        .expect("the chosen gate is in the grid");
    println!("chosen ({}): {}", chosen.0, chosen.2.line());
    // The model never changes a disposition.
    assert!(results.iter().all(|(_, _, s)| s.disp == base.disp));
}

/// Leave-one-set-out: for each retired held-out set (`fresh/` to the newest tuning
/// file), the model trained without that set's rows, then scored on them twice: leading
/// (a gate that lets it overrule any verdict it outscores, so nearly the model alone)
/// and behind the shipped gate. The rules were written from every set, so the gated
/// figure flatters; the model-led one says how far the model alone carries to wording
/// it was not trained on. Chose the stem length (BENCHMARKS.md, "The model's stems"):
/// `cargo test --release --all-features --test classify_model leave_one_set_out -- --ignored --nocapture`.
#[test]
#[ignore = "leave-one-set-out: run with --ignored --nocapture (release recommended)"]
fn leave_one_set_out() {
    let corpus = corpus_rows();
    let sets: Vec<(&str, Vec<GRow>)> = common::TUNING_FILES
        .iter()
        .map(|f| (*f, common::generalisation_rows(f)))
        .collect();
    let lead = Gate {
        weak: u16::MAX,
        tie: 10,
        margin: 0,
    };
    // Candidate training options and gates, tried without editing (TEMPFAIL_LOSO_L2,
    // _VOCABULARY, _ITERATIONS, _MIN_ROWS, _CORPUS_WEIGHT, _WEAK, _TIE, _MARGIN); unset,
    // the shipped ones.
    let env = |k: &str, d: f64| {
        std::env::var(format!("TEMPFAIL_LOSO_{k}"))
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let b = TrainingOptions::BUILTIN;
    let opts = TrainingOptions {
        l2: env("L2", b.l2),
        max_vocabulary: env("VOCABULARY", b.max_vocabulary as f64) as usize,
        iterations: env("ITERATIONS", f64::from(b.iterations)) as u32,
        min_rows: env("MIN_ROWS", f64::from(b.min_rows)) as u32,
        ..b
    };
    let corpus_weight = env("CORPUS_WEIGHT", CORPUS_WEIGHT);
    let gate = Gate {
        weak: env("WEAK", f64::from(CHOSEN_GATE.weak)) as u16,
        tie: env("TIE", f64::from(CHOSEN_GATE.tie)) as u16,
        margin: env("MARGIN", f64::from(CHOSEN_GATE.margin)) as i32,
    };
    let (mut led_all, mut gated_all) = (Score::default(), Score::default());
    let off = Classifier::builtin().with_model(false);
    let mut off_all = Score::default();
    // Where the gated model decided: how often its scope was right, and how often the
    // scope the rules alone gave would have been (with the model's category).
    let (mut decided, mut model_scope, mut rules_scope) = (0usize, 0usize, 0usize);
    for (i, (name, held)) in sets.iter().enumerate().skip(1) {
        let others: Vec<GRow> = sets
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, (_, rows))| rows.iter().cloned())
            .collect();
        let model = Model::train(&training(&corpus, &others, None, corpus_weight), &opts);
        let led = Classifier::builtin().with_trained_model(model.clone(), lead);
        let gated = Classifier::builtin().with_trained_model(model, gate);
        let (mut l, mut g) = (Score::default(), Score::default());
        for r in held {
            l.add(r, &r.classify(&led));
            let v = r.classify(&gated);
            g.add(r, &v);
            let o = r.classify(&off);
            off_all.add(r, &o);
            if v.rule == "model.category" {
                let cat = v.category.unwrap_or(Category::Other);
                decided += 1;
                model_scope += usize::from(r.scope_ok(cat, v.scope));
                rules_scope += usize::from(r.scope_ok(cat, o.scope));
            }
        }
        println!("{name}: model-led {}", l.line());
        println!("{name}: gated {}", g.line());
        led_all.merge(&l);
        gated_all.merge(&g);
    }
    println!("all sets: model-led {}", led_all.line());
    println!("all sets: gated {}", gated_all.line());
    println!("all sets: model off {}", off_all.line());
    println!(
        "where the gated model decided ({decided} rows): its scope right on {model_scope}, the rules' own scope on {rules_scope}"
    );
    assert!(
        gated_all.cat >= led_all.cat,
        "the gate does better than the model alone"
    );
}

/// On every corpus row (Sisimai, Crisp, the tuning systems), at every stage, the model
/// never changes the disposition, never makes a success, and decides only where the
/// rules were weak; with it off, nothing says `model.category`.
#[test]
fn the_model_never_changes_a_disposition() {
    let with = Classifier::builtin();
    let without = Classifier::builtin().with_model(false);
    let mut decided = 0usize;
    let texts: Vec<String> = corpus_rows()
        .into_iter()
        .map(|r| r.0)
        .chain(tuning_rows().into_iter().map(|r| r.reply))
        .collect();
    for t in &texts {
        for &stage in Stage::ALL {
            let a = with.classify_text(t, stage);
            let b = without.classify_text(t, stage);
            assert_eq!(a.disposition, b.disposition);
            assert_ne!(b.rule, "model.category");
            if a.rule == "model.category" {
                decided += 1;
                assert!(a.low_confidence);
                assert!(a.category.is_some());
                let e = with.explain_text(t, stage);
                assert_eq!(e.classification, a);
                let m = e.model.expect("the model's vote is explained");
                assert!(m.decided);
                assert_eq!(Some(m.category), a.category);
                assert!(!m.features.is_empty());
                assert!(e.reason.contains("learned model"));
            } else if a.rule.starts_with("reply.") && a.description.contains("(model.category:") {
                // Codes that disagree keep the model's category, transient either way.
                assert_eq!(a.rule, b.rule);
                assert!(a.low_confidence && b.low_confidence);
            } else {
                assert_eq!(a, b);
            }
        }
    }
    assert!(decided > 0, "the model decided somewhere");
}
