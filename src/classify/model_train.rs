//! Training the learned tie-breaker (feature `model-training`): counting, vocabulary
//! selection, the fixed-point table and its generated source.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Gate, Model, SCALE, feature_name, features, table_of};
use crate::classify::{Category, Stage, classifier};
use crate::reply::Reply;

/// What a training row says, read as the classifier reads it.
#[derive(Clone, Copy, Debug)]
pub enum TrainingInput<'a> {
    /// A live reply ([`Classifier::classify`](crate::Classifier::classify)'s input).
    Reply(&'a Reply),
    /// Bounce or log text ([`Classifier::classify_text`](crate::Classifier::classify_text)'s input).
    Text(&'a str),
}

/// One labelled reply to train on.
#[derive(Clone, Copy, Debug)]
pub struct TrainingRow<'a> {
    /// The reply.
    pub input: TrainingInput<'a>,
    /// The stage it answered ([`Stage::Unknown`] when not known).
    pub stage: Stage,
    /// Its labelled category.
    pub category: Category,
    /// How much the row counts (1.0 for a row of the taxonomy's own corpus).
    pub weight: f64,
}

/// Training's knobs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainingOptions {
    /// Additive (Laplace/Lidstone) smoothing of feature counts.
    pub alpha: f64,
    /// A feature enters the vocabulary when at least this many rows have it.
    pub min_rows: u32,
    /// At most this many features (the most frequent; ties by name).
    pub max_vocabulary: usize,
    /// Train a multinomial logistic regression (full-batch gradient descent) instead
    /// of naive Bayes.
    pub logistic: bool,
    /// Logistic regression: L2 penalty per unit of row weight.
    pub l2: f64,
    /// Logistic regression: gradient descent steps.
    pub iterations: u32,
    /// Logistic regression: step size.
    pub rate: f64,
}

impl TrainingOptions {
    /// The options the built-in model is trained with. The L2 penalty is 0.001 since
    /// the twenty-first round: leaving each of the 21 retired held-out sets out of
    /// training in turn (`leave_one_set_out` in tests/classify_model.rs), it classified
    /// 3,213 of their 3,783 rows' categories against 3,195 at 0.003 (BENCHMARKS.md,
    /// "Twenty-first round").
    pub const BUILTIN: TrainingOptions = TrainingOptions {
        alpha: 0.5,
        min_rows: 2,
        max_vocabulary: 4000,
        logistic: true,
        l2: 0.001,
        iterations: 300,
        rate: 1.0,
    };
}

/// `ln(x)` for `x > 0` from `+ - * /` only (the same bits on every platform).
fn ln(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    // ln(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut k = 1.0;
    for _ in 0..30 {
        sum += term / k;
        term *= s2;
        k += 2.0;
    }
    (e as f64) * std::f64::consts::LN_2 + 2.0 * sum
}

/// `exp(x)` from `+ - * /` only (the same bits on every platform).
fn exp(x: f64) -> f64 {
    let x = x.clamp(-700.0, 700.0);
    let k = (x / std::f64::consts::LN_2).round();
    let r = x - k * std::f64::consts::LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..=24 {
        term = term * r / f64::from(i);
        sum += term;
    }
    let bits = ((k as i64 + 1023) as u64) << 52;
    sum * f64::from_bits(bits)
}

fn fixed(x: f64) -> i64 {
    (x * f64::from(SCALE)).round() as i64
}

/// The (code, enhanced code, stage, text) the classifier reads from a row.
fn read(row: &TrainingRow<'_>, f: &mut dyn FnMut(u32, &[&[u8]])) -> bool {
    match row.input {
        TrainingInput::Reply(r) => {
            if r.code().is_positive() {
                return false;
            }
            let (code, enh, text) = classifier::reply_input(r);
            features(Some(code), enh, row.stage, &text, f);
            true
        }
        TrainingInput::Text(t) => {
            let (stage, code, enh) = classifier::text_input(t, row.stage);
            if code.is_some_and(|c| c.is_positive()) {
                return false;
            }
            features(code, enh, stage, t.as_bytes(), f);
            true
        }
    }
}

impl Model {
    /// Trains a model on `rows` (deterministic: the same rows, in any order of equal
    /// rows, give the same table).
    pub fn train(rows: &[TrainingRow<'_>], options: &TrainingOptions) -> Model {
        // Each row's features, with their names.
        let mut docs: Vec<(Category, f64, Vec<u32>)> = Vec::new();
        let mut names: BTreeMap<u32, String> = BTreeMap::new();
        let mut df: BTreeMap<u32, u32> = BTreeMap::new();
        for row in rows {
            let mut hs: Vec<u32> = Vec::new();
            let ok = read(row, &mut |h, parts| {
                hs.push(h);
                names.entry(h).or_insert_with(|| feature_name(parts));
            });
            if !ok || row.weight <= 0.0 {
                continue;
            }
            let mut distinct = hs.clone();
            distinct.sort_unstable();
            distinct.dedup();
            for h in distinct {
                *df.entry(h).or_default() += 1;
            }
            docs.push((row.category, row.weight, hs));
        }
        // The vocabulary: the most frequent features (ties by name).
        let mut vocab: Vec<(u32, u32, &str)> = df
            .iter()
            .filter(|(_, n)| **n >= options.min_rows)
            .map(|(h, n)| (*h, *n, names.get(h).map_or("", String::as_str)))
            .collect();
        vocab.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.2.cmp(b.2)));
        vocab.truncate(options.max_vocabulary);
        vocab.sort_by_key(|v| v.0);
        let index: BTreeMap<u32, usize> = vocab.iter().enumerate().map(|(i, v)| (v.0, i)).collect();
        let v = vocab.len() as f64;
        // The categories seen, in declaration order.
        let categories: Vec<Category> = Category::ALL
            .iter()
            .copied()
            .filter(|c| docs.iter().any(|d| d.0 == *c))
            .collect();
        let pos = |c: Category| categories.iter().position(|&x| x == c);
        let k = categories.len();
        let mut rows_w = vec![0.0f64; k];
        let mut total_w = vec![0.0f64; k];
        let mut counts: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); vocab.len()];
        for (cat, w, hs) in &docs {
            let Some(j) = pos(*cat) else { continue };
            rows_w[j] += *w;
            for h in hs {
                if let Some(&i) = index.get(h) {
                    *counts[i].entry(j).or_default() += *w;
                    total_w[j] += *w;
                }
            }
        }
        if options.logistic {
            return logistic(&docs, &index, &vocab, categories, options);
        }
        let all_rows: f64 = rows_w.iter().sum();
        let a = options.alpha;
        let prior: Vec<i32> = rows_w
            .iter()
            .map(|r| fixed(ln((r + 1.0) / (all_rows + k as f64))) as i32)
            .collect();
        let unseen: Vec<i32> = total_w
            .iter()
            .map(|n| fixed(ln(a / (n + v * a))) as i32)
            .collect();
        let mut starts = Vec::with_capacity(vocab.len() + 1);
        let mut entries = Vec::new();
        for c in &counts {
            starts.push(entries.len() as u32);
            for (&j, &n) in c {
                let w = fixed(ln((n + a) / a)).clamp(0, i64::from(i16::MAX)) as i16;
                if w > 0 {
                    entries.push((j as u8, w));
                }
            }
        }
        starts.push(entries.len() as u32);
        Model {
            categories: Cow::Owned(categories),
            prior: Cow::Owned(prior),
            unseen: Cow::Owned(unseen),
            hashes: Cow::Owned(vocab.iter().map(|v| v.0).collect()),
            starts: Cow::Owned(starts),
            entries: Cow::Owned(entries),
            names: vocab.iter().map(|v| v.2.to_owned()).collect(),
            table: table_of(&vocab.iter().map(|v| v.0).collect::<Vec<_>>()),
        }
    }

    /// The Rust source of `model_weights.rs` for this model and gate.
    pub fn to_source(&self, gate: Gate) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "//! Generated by `TEMPFAIL_TRAIN=1 cargo test --all-features --test classify_model`\n\
             //! from the shipped corpora (see `model.rs`); do not edit. `cargo test --test\n\
             //! classify_model` fails unless this is exactly what training gives.\n\
             //!\n\
             //! {} categories, {} features, {} (feature, category) entries.\n",
            self.categories.len(),
            self.hashes.len(),
            self.entries.len()
        );
        let _ = writeln!(s, "use super::Gate;\nuse crate::classify::Category;\n");
        let _ = writeln!(
            s,
            "/// The gate chosen by cross-validation on the tuning systems.\n\
             pub(super) const GATE: Gate = Gate {{\n    weak: {},\n    tie: {},\n    margin: {},\n}};\n",
            gate.weak, gate.tie, gate.margin
        );
        let _ = writeln!(
            s,
            "/// The categories, in the order the tables index them.\npub(super) static CATEGORIES: [Category; {}] = [",
            self.categories.len()
        );
        for c in self.categories.iter() {
            let _ = writeln!(s, "    Category::{c:?},");
        }
        let _ = writeln!(s, "];\n");
        let _ = writeln!(
            s,
            "/// Each category's log prior.\npub(super) static PRIOR: [i32; {}] = {:?};\n",
            self.prior.len(),
            self.prior
        );
        let _ = writeln!(
            s,
            "/// Each category's log probability of a feature it was never seen with.\npub(super) static UNSEEN: [i32; {}] = {:?};\n",
            self.unseen.len(),
            self.unseen
        );
        let _ = writeln!(
            s,
            "/// The features' hashes, ascending (32-bit FNV-1a of the name in the comment).\npub(super) static HASHES: [u32; {}] = [",
            self.hashes.len()
        );
        for (i, h) in self.hashes.iter().enumerate() {
            let name = self.names.get(i).map_or("", String::as_str);
            let _ = writeln!(s, "    0x{h:08x}, // {}", name.escape_debug());
        }
        let _ = writeln!(s, "];\n");
        let _ = writeln!(
            s,
            "/// Where each feature's entries start in `ENTRIES` (and the end).\npub(super) static STARTS: [u32; {}] = [",
            self.starts.len()
        );
        for chunk in self.starts.chunks(16) {
            let line: Vec<String> = chunk.iter().map(u32::to_string).collect();
            let _ = writeln!(s, "    {},", line.join(", "));
        }
        let _ = writeln!(s, "];\n");
        let _ = writeln!(
            s,
            "/// (category index, extra log likelihood over an unseen feature) per feature.\npub(super) static ENTRIES: [(u8, i16); {}] = [",
            self.entries.len()
        );
        for chunk in self.entries.chunks(10) {
            let line: Vec<String> = chunk.iter().map(|(c, w)| format!("({c}, {w})")).collect();
            let _ = writeln!(s, "    {},", line.join(", "));
        }
        let _ = writeln!(s, "];");
        s
    }
}

/// A multinomial logistic regression on feature counts, trained by full-batch
/// gradient descent from zero in a fixed order, quantised to the table's fixed point
/// (weights under 0.05 nats dropped).
fn logistic(
    docs: &[(Category, f64, Vec<u32>)],
    index: &BTreeMap<u32, usize>,
    vocab: &[(u32, u32, &str)],
    categories: Vec<Category>,
    options: &TrainingOptions,
) -> Model {
    let k = categories.len();
    let v = vocab.len();
    // Each row: (class, weight, [(feature, count)]).
    /// A row: its class, its weight, its (feature, count) pairs.
    type Row = (usize, f64, Vec<(usize, f64)>);
    let rows: Vec<Row> = docs
        .iter()
        .filter_map(|(c, w, hs)| {
            let j = categories.iter().position(|x| x == c)?;
            let mut fs: BTreeMap<usize, f64> = BTreeMap::new();
            for h in hs {
                if let Some(&i) = index.get(h) {
                    *fs.entry(i).or_default() += 1.0;
                }
            }
            Some((j, *w, fs.into_iter().collect()))
        })
        .collect();
    let total: f64 = rows.iter().map(|r| r.1).sum::<f64>().max(1e-9);
    let mut w = vec![0.0f64; v * k];
    let mut b = vec![0.0f64; k];
    let mut gw = vec![0.0f64; v * k];
    let mut gb = vec![0.0f64; k];
    let mut p = vec![0.0f64; k];
    for _ in 0..options.iterations {
        gw.iter_mut().for_each(|x| *x = 0.0);
        gb.iter_mut().for_each(|x| *x = 0.0);
        for (y, rw, fs) in &rows {
            for (c, pc) in p.iter_mut().enumerate() {
                let mut z = b[c];
                for &(f, x) in fs {
                    z += w[f * k + c] * x;
                }
                *pc = z;
            }
            let max = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut sum = 0.0;
            for pc in p.iter_mut() {
                *pc = exp(*pc - max);
                sum += *pc;
            }
            for (c, pc) in p.iter().enumerate() {
                let g = (pc / sum - if c == *y { 1.0 } else { 0.0 }) * rw;
                gb[c] += g;
                for &(f, x) in fs {
                    gw[f * k + c] += g * x;
                }
            }
        }
        for i in 0..v * k {
            w[i] -= options.rate * (gw[i] / total + options.l2 * w[i]);
        }
        for c in 0..k {
            b[c] -= options.rate * gb[c] / total;
        }
    }
    let mut starts = Vec::with_capacity(v + 1);
    let mut entries = Vec::new();
    for f in 0..v {
        starts.push(entries.len() as u32);
        for c in 0..k {
            let q = fixed(w[f * k + c]).clamp(i64::from(i16::MIN), i64::from(i16::MAX));
            if q.abs() >= 5 {
                entries.push((c as u8, q as i16));
            }
        }
    }
    starts.push(entries.len() as u32);
    Model {
        categories: Cow::Owned(categories),
        prior: Cow::Owned(b.iter().map(|x| fixed(*x) as i32).collect()),
        unseen: Cow::Owned(vec![0; k]),
        hashes: Cow::Owned(vocab.iter().map(|x| x.0).collect()),
        starts: Cow::Owned(starts),
        entries: Cow::Owned(entries),
        names: vocab.iter().map(|x| x.2.to_owned()).collect(),
        table: table_of(&vocab.iter().map(|x| x.0).collect::<Vec<_>>()),
    }
}

#[cfg(test)]
mod tests {
    use super::{exp, ln};

    #[test]
    fn exp_is_close_to_the_platforms() {
        for x in [-50.0, -3.5, -1.0, -1e-6, 0.0, 0.3, 1.0, 2.5, 20.0] {
            let (a, b) = (exp(x), f64::exp(x));
            assert!((a - b).abs() <= 1e-12 * b, "{x}: {a} vs {b}");
        }
    }

    #[test]
    fn ln_is_close_to_the_platforms() {
        for x in [1e-9, 0.001, 0.5, 1.0, 1.5, 2.0, 3.0, 10.0, 12345.678, 1e12] {
            assert!((ln(x) - x.ln()).abs() < 1e-12, "{x}");
        }
    }
}
