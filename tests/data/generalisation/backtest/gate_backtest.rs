//! Copied into an old commit's `tests/` by `gate_backtest.sh` (not compiled here): scores
//! that commit's held-out set (`common::HELDOUT_FILE`, whose one look that commit took)
//! with that commit's rules and model, for a grid of gates. Prints totals only, never a
//! row. Run only at commits whose held-out set has already been looked at and retired.
mod common;
use tempfail::classify::model::{Gate, Model};
use tempfail::{Category, Classifier};

fn score(c: &Classifier, held: &[common::GenRow]) -> (usize, usize) {
    let (mut cat, mut scope) = (0, 0);
    for r in held {
        let v = r.classify(c);
        let got = v.category.unwrap_or(Category::Other);
        cat += usize::from(r.category_ok(got));
        scope += usize::from(r.scope_ok(got, v.scope));
    }
    (cat, scope)
}

#[test]
fn gate_backtest() {
    let held = common::generalisation_rows(common::HELDOUT_FILE);
    let n = held.len();
    let (c, s) = score(&Classifier::builtin().with_model(false), &held);
    println!("{}: model off: category {c}, scope {s} of {n}", common::HELDOUT_FILE);
    for weak in [0u16, 20, 25, 35, 45, 50, 59, 65] {
        for tie in [0u16, 5] {
            for margin in [0i32, 50, 100, 200, 300] {
                let g = Gate { weak, tie, margin };
                let c = Classifier::builtin().with_trained_model(Model::builtin(), g);
                let (cat, scope) = score(&c, &held);
                println!("weak {weak} tie {tie} margin {margin}: category {cat}, scope {scope} of {n}");
            }
        }
    }
}
