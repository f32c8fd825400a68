//! The matcher: one hashed table over every rule phrase's first four bytes (and the
//! retry-hint triggers), plus tables keyed by basic and enhanced code.
//!
//! Cost of one classification: one pass over the text (linear in its length, no
//! backtracking), a few table look-ups, a bounded check of the phrases that lie inside
//! longer ones that matched, then the candidate rules — only those whose phrase
//! occurred or whose code table entry matched — are checked in priority order. Rules
//! that cannot match are never looked at, so adding rules does not slow down replies
//! that do not mention them.
//!
//! The pass keeps the last four bytes of the text (ASCII case folded) as one 32-bit
//! word; at each byte it tests that word's bit in a small filter (a bit per hash
//! bucket, 1 KiB for the built-in rules), and only where the bit is set looks in the
//! bucket for the phrases that start with those four bytes, confirms up to their first
//! eight bytes with one masked 64-bit comparison and then the rest in place. Phrases
//! shorter than four bytes ("spf", "ube") are looked for where their first byte occurs.
//! The work per text byte is bounded by the most phrases sharing one four-byte start,
//! times the longest phrase. An Aho-Corasick automaton over the same phrases did the
//! job before (0.9 to 1.4 µs on a 96-byte reply, its DFA table 2.5 MB, mostly out of
//! cache); the filter's tables stay in the first-level cache.

use std::collections::HashMap;
use std::time::Duration;

use aho_corasick::{AhoCorasickBuilder, MatchKind};

use super::TransportFailure;
use super::hint;
use super::rule::{EnhPat, Rule, failure_bit, stage_bit};
use super::{Evidence, Stage};
use crate::reply::{EnhancedCode, ReplyCode};

#[derive(Clone, Copy, Debug)]
enum PatKind {
    /// A rule phrase: index into `phrase_rules`.
    Rules,
    /// A retry-hint trigger; `true` when it asks for a retry ([`hint::asks_for_retry`]).
    Hint(bool),
    /// A request to retry later with no duration ([`hint::LATER`]).
    Later,
}

#[derive(Clone, Copy, Debug)]
struct PatMeta {
    kind: PatKind,
    word_start: bool,
    word_end: bool,
}

/// Compiled rules, in priority order (index 0 is tried first).
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) rules: Vec<Rule>,
    /// The phrase filter the scan looks in.
    scan: Scan,
    /// Each phrase, lower case.
    phrases: Vec<Box<[u8]>>,
    meta: Vec<PatMeta>,
    /// For each pattern id, the rules that list it.
    phrase_rules: Vec<Vec<u32>>,
    /// For each pattern id, the longer rule phrases that contain it (sorted): where
    /// one of them matched around it and has a rule that holds, it gives way.
    containers: Vec<Box<[u32]>>,
    /// For each pattern id, whether it contains a shorter phrase or lies inside a
    /// longer one (its matches are held back until the scan ends).
    held: Vec<bool>,
    /// For each pattern id, the rules that count even inside a longer phrase: those
    /// that also name a code or a stage (535's "suspended" is our account, whatever the
    /// wording around it) and user rules tried in order (no evidence kind).
    kept_inside: Vec<Box<[u32]>>,
    /// Phrase-less rules by basic code (`code - 200`).
    by_code: Vec<Vec<u32>>,
    /// Phrase-less rules by enhanced subject (index 0–999).
    by_enh: Vec<EnhBucket>,
    /// Phrase-less rules with an enhanced pattern whose subject is a wildcard.
    enh_any: Vec<u32>,
    /// Rules with no phrase and no code condition (stage-only or unconditional).
    always: Vec<u32>,
    /// Transport-failure rules, in priority order (never matched against a reply).
    failure_rules: Vec<u32>,
}

/// The table the scan looks phrases up in (see the module's documentation).
#[derive(Debug)]
struct Scan {
    /// How far a 32-bit word's hash is shifted to give its bucket.
    shift: u32,
    /// One bit per bucket: whether any phrase's first four bytes hash there.
    filter: Vec<u64>,
    /// Where each bucket's groups start in `groups` (one more than the buckets).
    starts: Vec<u32>,
    /// The phrases of four bytes or more with one first eight bytes, bucket by bucket.
    groups: Vec<Group>,
    /// The phrases of each group, in groups' order.
    pids: Vec<Member>,
    /// The phrases shorter than four bytes, by their first byte (lower case).
    short: Vec<Vec<u32>>,
    /// One bit per byte value: whether `short` has phrases starting with it.
    short_first: [u64; 4],
}

/// The phrases (of four bytes or more) that share their first eight bytes (or all of
/// them, if shorter).
#[derive(Debug, Clone, Copy)]
struct Group {
    /// Their first four bytes, lower case, as the scan's word holds them.
    word: u32,
    /// Their first eight bytes (fewer if shorter), lower case, little-endian.
    head: u64,
    /// Which bytes of `head` they have.
    mask: u64,
    /// Their range in `Scan::pids`.
    from: u32,
    to: u32,
}

/// A phrase in its group: its bytes 8 to 16 (if it has them), lower case,
/// little-endian, to rule it out with one comparison.
#[derive(Debug, Clone, Copy)]
struct Member {
    pid: u32,
    tail: u64,
    mask: u64,
}

/// The scan's four-byte word after `b` (already lower case).
fn push_byte(word: u32, b: u8) -> u32 {
    (word << 8) | u32::from(b)
}

/// Up to eight bytes from `bytes`, little-endian, with the mask of those present.
fn head_of(bytes: &[u8]) -> (u64, u64) {
    let mut head = 0u64;
    let mut mask = 0u64;
    for (k, &b) in bytes.iter().take(8).enumerate() {
        head |= u64::from(b) << (8 * k);
        mask |= 0xff << (8 * k);
    }
    (head, mask)
}

impl Scan {
    /// The table over the phrases `phrases` (lower case).
    fn new(phrases: &[Box<[u8]>]) -> Scan {
        let long: Vec<usize> = (0..phrases.len())
            .filter(|&p| phrases[p].len() >= 4)
            .collect();
        // About eight buckets per phrase, at least 1,024: most bits of the filter stay
        // clear, so most text bytes cost one bit test.
        let bits = (long
            .len()
            .saturating_mul(8)
            .max(1024)
            .next_power_of_two()
            .trailing_zeros())
        .min(20);
        let shift = 32 - bits;
        let n_buckets = 1usize << bits;
        // Each bucket: its groups (word, head, mask), each with its phrases in
        // ascending order.
        type Pending = (u32, u64, u64, Vec<u32>);
        let mut by_bucket: Vec<Vec<Pending>> = vec![Vec::new(); n_buckets];
        for &pid in &long {
            let p = &phrases[pid];
            let word = p[..4].iter().fold(0u32, |w, &b| push_byte(w, b));
            let (head, mask) = head_of(p);
            let list = &mut by_bucket[bucket(word, shift)];
            match list
                .iter_mut()
                .find(|g| (g.0, g.1, g.2) == (word, head, mask))
            {
                Some(g) => g.3.push(pid as u32),
                None => list.push((word, head, mask, vec![pid as u32])),
            }
        }
        let mut filter = vec![0u64; n_buckets.div_ceil(64)];
        let mut starts = Vec::with_capacity(n_buckets + 1);
        let mut groups = Vec::new();
        let mut pids = Vec::with_capacity(long.len());
        for (b, list) in by_bucket.into_iter().enumerate() {
            starts.push(groups.len() as u32);
            if !list.is_empty() {
                filter[b / 64] |= 1 << (b % 64);
            }
            for (word, head, mask, members) in list {
                let from = pids.len() as u32;
                pids.extend(members.into_iter().map(|pid| {
                    let (tail, mask) = head_of(phrases[pid as usize].get(8..).unwrap_or(&[]));
                    Member { pid, tail, mask }
                }));
                groups.push(Group {
                    word,
                    head,
                    mask,
                    from,
                    to: pids.len() as u32,
                });
            }
        }
        starts.push(groups.len() as u32);
        let mut short = vec![Vec::new(); 256];
        let mut short_first = [0u64; 4];
        for (pid, p) in phrases.iter().enumerate() {
            if let (true, Some(&b)) = (p.len() < 4, p.first()) {
                short[usize::from(b)].push(pid as u32);
                short_first[usize::from(b / 64)] |= 1 << (b % 64);
            }
        }
        Scan {
            shift,
            filter,
            starts,
            groups,
            pids,
            short,
            short_first,
        }
    }
}

/// The bucket of a four-byte word.
fn bucket(word: u32, shift: u32) -> usize {
    (word.wrapping_mul(0x9E37_79B1) >> shift) as usize
}

/// Texts up to this long are folded into a buffer on the stack.
const STACK_TEXT: usize = 512;

/// Calls `f` with `text` in ASCII lower case followed by eight zero bytes.
fn with_lower<R>(text: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    let fold = |out: &mut [u8]| {
        for (o, &b) in out.iter_mut().zip(text) {
            *o = b.to_ascii_lowercase();
        }
    };
    if text.len() + 8 <= STACK_TEXT {
        let mut buf = [0u8; STACK_TEXT];
        fold(&mut buf);
        f(&buf[..text.len() + 8])
    } else {
        let mut buf = vec![0u8; text.len().saturating_add(8)];
        fold(&mut buf);
        f(&buf)
    }
}

/// Phrase-less rules for one enhanced-code subject.
#[derive(Debug, Default, Clone)]
struct EnhBucket {
    /// Rules for any detail (`X.7.*`).
    any_detail: Vec<u32>,
    /// Rules for one detail (`X.7.26`), sorted by detail (binary search).
    by_detail: Vec<(u16, Vec<u32>)>,
}

/// How many weighed rules one reply can hold at once. More than this (hostile text
/// naming every cause) keeps the heaviest.
pub(crate) const MAX_CANDIDATES: usize = 48;

/// How many phrase matches one reply's scan holds back to drop those lying inside a
/// longer match; past that (hostile text repeating phrases) every further match counts,
/// so the work stays bounded.
const MAX_SPANS: usize = 32;

/// Containment between phrases is worked out only for phrases up to this long, and
/// within at most [`CONTAINMENT_BUDGET`] occurrences in all: building stays near
/// linear in the rule set's size, whatever user rules it holds (past either limit a
/// phrase simply does not give way).
const MAX_OUTER_LEN: usize = 128;
const CONTAINMENT_BUDGET: usize = 1 << 20;

/// The most a cause's score can exceed its heaviest rule's weight (agreement from
/// other kinds of evidence, see `category_score`).
pub(crate) const MAX_AGREEMENT: u16 = 10;

/// What the matcher found.
#[derive(Debug)]
pub(crate) struct Found {
    /// The first rule without an evidence kind (a user rule tried in order) whose
    /// conditions all hold.
    pub(crate) first: Option<u32>,
    /// Every weighed rule whose conditions all hold (at most [`MAX_CANDIDATES`]), in
    /// no particular order.
    pub(crate) candidates: [u32; MAX_CANDIDATES],
    /// How many of `candidates` are set.
    pub(crate) n: usize,
    /// The first retry hint in the text.
    pub(crate) hint: Option<Duration>,
    /// The text asks for a later retry: a [`hint::LATER`] phrase, or a trigger that asks
    /// for one followed by a duration.
    pub(crate) retry_asked: bool,
}

impl Found {
    /// The weighed rules that hold.
    pub(crate) fn candidates(&self) -> &[u32] {
        &self.candidates[..self.n.min(MAX_CANDIDATES)]
    }
}

/// `text` with its first letter upper-cased, when that letter is not ASCII.
fn capitalised(text: &str) -> Option<String> {
    let mut chars = text.chars();
    let first = chars.next()?;
    if first.is_ascii() {
        return None;
    }
    let mut upper = first.to_uppercase();
    let cap = upper.next()?;
    // 'ß' becomes "SS": no single capital letter, and an ASCII one would match text
    // the phrase never named.
    if upper.next().is_some() || cap.is_ascii() || cap == first {
        return None;
    }
    let mut out = String::from(cap);
    out.push_str(chars.as_str());
    Some(out)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// For each phrase, the longer rule phrases that contain it where it could match (its
/// word boundaries hold inside the longer one): one automaton over the whole phrases,
/// run over each phrase, ASCII case folded as the scan does.
fn containment(phrases: &[Box<[u8]>], meta: &[PatMeta]) -> Vec<Box<[u32]>> {
    let is_rule = |pid: usize| matches!(meta[pid].kind, PatKind::Rules);
    let ids: Vec<usize> = (0..phrases.len()).filter(|&p| is_rule(p)).collect();
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); phrases.len()];
    let Ok(ac) = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(ids.iter().map(|&p| &phrases[p]))
    else {
        return out.into_iter().map(Vec::into_boxed_slice).collect();
    };
    let mut budget = CONTAINMENT_BUDGET;
    'outer: for &outer in &ids {
        let text = &phrases[outer];
        if text.len() > MAX_OUTER_LEN {
            continue;
        }
        for m in ac.find_overlapping_iter(&text[..]) {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                break 'outer;
            }
            let Some(&inner) = ids.get(m.pattern().as_usize()) else {
                continue;
            };
            // Only where the shorter phrase could match: its word boundaries hold
            // inside the longer one.
            let (st, en) = (m.start(), m.end());
            let cut_start = meta[inner].word_start && st > 0 && is_word(text[st - 1]);
            let cut_end = meta[inner].word_end && en < text.len() && is_word(text[en]);
            let fits = !(cut_start || cut_end);
            if fits && m.len() < text.len() && out[inner].last() != Some(&(outer as u32)) {
                out[inner].push(outer as u32);
            }
        }
    }
    // `ids` ascends, so each list is sorted.
    out.into_iter().map(Vec::into_boxed_slice).collect()
}

impl Engine {
    pub(crate) fn new(rules: Vec<Rule>) -> Engine {
        let mut patterns: Vec<String> = Vec::new();
        let mut meta: Vec<PatMeta> = Vec::new();
        let mut phrase_rules: Vec<Vec<u32>> = Vec::new();
        let mut pat_ids: HashMap<(String, bool, bool), usize> = HashMap::new();
        let mut by_code: Vec<Vec<u32>> = vec![Vec::new(); 400];
        let mut by_enh: Vec<EnhBucket> = vec![EnhBucket::default(); 1000];
        let mut enh_any = Vec::new();
        let mut always = Vec::new();
        let mut failure_rules = Vec::new();

        for (i, r) in rules.iter().enumerate() {
            let idx = i as u32;
            if r.failures != 0 {
                failure_rules.push(idx);
                continue;
            }
            if !r.phrases.is_empty() {
                // The automaton folds ASCII case only: a phrase starting with another
                // script's letter ("слишком много писем") is also matched capitalised, as
                // it stands at the start of a sentence.
                let variants = r.phrases.iter().flat_map(|p| {
                    let text = p.text.to_string();
                    // A phrase that may start mid-word (`*щик`) needs no capital.
                    let cap = capitalised(&text).filter(|_| p.word_start);
                    std::iter::once((text, p)).chain(cap.map(|c| (c, p)))
                });
                for (text, p) in variants {
                    let key = (text.clone(), p.word_start, p.word_end);
                    let id = *pat_ids.entry(key).or_insert_with(|| {
                        patterns.push(text);
                        meta.push(PatMeta {
                            kind: PatKind::Rules,
                            word_start: p.word_start,
                            word_end: p.word_end,
                        });
                        phrase_rules.push(Vec::new());
                        patterns.len() - 1
                    });
                    if phrase_rules[id].last() != Some(&idx) {
                        phrase_rules[id].push(idx);
                    }
                }
                continue;
            }
            let index_codes = |by_code: &mut Vec<Vec<u32>>, always: &mut Vec<u32>| {
                // A rule for text without a code is looked at on every text (its
                // condition is checked there).
                if r.codes.is_empty() || r.codes_none {
                    always.push(idx);
                    return;
                }
                for v in 200u16..=599 {
                    if let Some(c) = ReplyCode::new(v) {
                        if r.codes.iter().any(|p| p.matches(c)) {
                            by_code[usize::from(v - 200)].push(idx);
                        }
                    }
                }
            };
            if r.enhanced.is_empty() {
                index_codes(&mut by_code, &mut always);
                continue;
            }
            for e in &r.enhanced {
                match *e {
                    EnhPat::Code(_, Some(s), Some(d)) => {
                        let b = &mut by_enh[usize::from(s.min(999))];
                        match b.by_detail.binary_search_by_key(&d, |(x, _)| *x) {
                            Ok(k) => b.by_detail[k].1.push(idx),
                            Err(k) => b.by_detail.insert(k, (d, vec![idx])),
                        }
                    }
                    EnhPat::Code(_, Some(s), None) => {
                        by_enh[usize::from(s.min(999))].any_detail.push(idx)
                    }
                    EnhPat::Code(_, None, _) => enh_any.push(idx),
                    EnhPat::Absent => index_codes(&mut by_code, &mut always),
                }
            }
        }
        for (list, kind, word_end) in [
            (hint::TRIGGERS, None, false),
            (hint::LATER, Some(PatKind::Later), true),
        ] {
            for t in list {
                patterns.push((*t).to_owned());
                meta.push(PatMeta {
                    kind: kind.unwrap_or(PatKind::Hint(hint::asks_for_retry(t))),
                    word_start: true,
                    word_end,
                });
                phrase_rules.push(Vec::new());
            }
        }
        let phrases: Vec<Box<[u8]>> = patterns
            .iter()
            .map(|p| p.to_ascii_lowercase().into_bytes().into_boxed_slice())
            .collect();
        let scan = Scan::new(&phrases);
        let kept_inside = phrase_rules
            .iter()
            .map(|list| {
                list.iter()
                    .copied()
                    .filter(|&i| {
                        let r = &rules[i as usize];
                        r.evidence.is_none()
                            || r.stages != 0
                            || !r.codes.is_empty()
                            || r.codes_none
                            || !r.enhanced.is_empty()
                            || !r.enhanced_not.is_empty()
                    })
                    .collect()
            })
            .collect();
        let containers = containment(&phrases, &meta);
        let mut held = vec![false; phrases.len()];
        for (pid, outers) in containers.iter().enumerate() {
            if !outers.is_empty() {
                held[pid] = true;
            }
            for &o in outers.iter() {
                held[o as usize] = true;
            }
        }
        Engine {
            rules,
            scan,
            phrases,
            meta,
            phrase_rules,
            containers,
            held,
            kept_inside,
            by_code,
            by_enh,
            enh_any,
            always,
            failure_rules,
        }
    }

    /// Calls `f(pid, start, end)` for every phrase occurring in `text` (its word
    /// boundaries respected within `text`), by where it starts.
    fn each_phrase(&self, text: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        let scan = &self.scan;
        with_lower(text, |lower| {
            let n = text.len();
            let mut confirm = |pid: u32, start: usize, from: usize| {
                let pid = pid as usize;
                let (Some(p), Some(meta)) = (self.phrases.get(pid), self.meta.get(pid)) else {
                    return;
                };
                let end = start + p.len();
                if end > n {
                    return;
                }
                if from < p.len() && lower.get(start + from..end) != p.get(from..) {
                    return;
                }
                if meta.word_start && start > 0 && is_word(text[start - 1]) {
                    return;
                }
                if meta.word_end && end < n && is_word(text[end]) {
                    return;
                }
                f(pid, start, end);
            };
            let mut word = 0u32;
            for (i, &b) in lower[..n].iter().enumerate() {
                if scan.short_first[usize::from(b / 64)] & (1 << (b % 64)) != 0 {
                    for &pid in scan.short.get(usize::from(b)).map_or(&[][..], |l| &l[..]) {
                        confirm(pid, i, 0);
                    }
                }
                word = push_byte(word, b);
                if i < 3 {
                    continue;
                }
                let k = bucket(word, scan.shift);
                if scan.filter[k / 64] & (1 << (k % 64)) == 0 {
                    continue;
                }
                let start = i - 3;
                let (Some(&lo), Some(&hi)) = (scan.starts.get(k), scan.starts.get(k + 1)) else {
                    continue;
                };
                let Some(groups) = scan.groups.get(lo as usize..hi as usize) else {
                    continue;
                };
                let mut head = [0u8; 8];
                if let Some(h) = lower.get(start..start + 8) {
                    head.copy_from_slice(h);
                }
                let head = u64::from_le_bytes(head);
                for g in groups {
                    if g.word != word || head & g.mask != g.head {
                        continue;
                    }
                    let mut tail = [0u8; 8];
                    if let Some(t) = lower.get(start + 8..start + 16) {
                        tail.copy_from_slice(t);
                    }
                    let tail = u64::from_le_bytes(tail);
                    for m in scan.pids.get(g.from as usize..g.to as usize).unwrap_or(&[]) {
                        if tail & m.mask == m.tail {
                            confirm(m.pid, start, 16);
                        }
                    }
                }
            }
        });
    }

    /// The first transport-failure rule, in priority order, for this failure at this
    /// stage.
    pub(crate) fn find_failure(&self, failure: TransportFailure, stage: Stage) -> Option<u32> {
        let fbit = failure_bit(failure);
        let sbit = stage_bit(stage);
        self.failure_rules.iter().copied().find(|&i| {
            self.rules
                .get(i as usize)
                .is_some_and(|r| r.failures & fbit != 0 && (r.stages == 0 || r.stages & sbit != 0))
        })
    }

    /// Finds every rule that holds for one reply (or text), and the retry hint.
    ///
    /// Each candidate rule is checked once as it turns up (a phrase match or a
    /// code-table hit); no sorting and no allocation, and the work per phrase match is
    /// bounded by [`MAX_CANDIDATES`]. A phrase lying inside a longer phrase that
    /// matched around it, and has a rule that holds, counts only its rules that also
    /// name a code or stage and user rules tried in order (held back until the scan
    /// ends, at most [`MAX_SPANS`]).
    ///
    /// With `prune`, a rule that cannot decide is not even checked: a vague one (vague
    /// wording, a vague or basic code: it adds no agreement to its cause) whose weight,
    /// with the most agreement a cause can get, stays below a rule already found (the
    /// verdict is the same; [`Classifier::explain`](super::Classifier::explain) looks
    /// without pruning, to list every rule that holds).
    pub(crate) fn find(
        &self,
        code: Option<ReplyCode>,
        enh: Option<EnhancedCode>,
        stage: Stage,
        text: &[u8],
        prune: bool,
    ) -> Found {
        let sbit = stage_bit(stage);
        let rules = &self.rules;
        let holds = |i: u32| {
            let r = &rules[i as usize];
            (r.stages == 0 || r.stages & sbit != 0)
                && match code {
                    Some(c) => {
                        (r.codes.is_empty() && !r.codes_none)
                            || r.codes.iter().any(|p| p.matches(c))
                    }
                    None => r.codes.is_empty() || r.codes_none,
                }
                && (r.enhanced.is_empty() || r.enhanced.iter().any(|p| p.matches(enh)))
                && !r.enhanced_not.iter().any(|p| p.matches(enh))
        };
        let weight = |i: u32| rules[i as usize].evidence.map_or(0, |e| e.weight());
        let mut found = Found {
            first: None,
            candidates: [0; MAX_CANDIDATES],
            n: 0,
            hint: None,
            retry_asked: false,
        };
        // The heaviest rule found so far.
        let mut floor = 0u16;
        let mut consider = |list: &[u32]| {
            for &i in list {
                let Some(r) = rules.get(i as usize) else {
                    continue;
                };
                if r.evidence.is_none() {
                    if found.first.is_none_or(|f| i < f) && holds(i) {
                        found.first = Some(i);
                    }
                    continue;
                }
                let w = r.evidence.map_or(0, |e| e.weight());
                // Only vague kinds are pruned: they never add agreement to a cause, so a
                // cause whose heaviest rule they would be cannot reach the floor.
                if prune && w < Evidence::Stage.weight() && w.saturating_add(MAX_AGREEMENT) < floor
                {
                    continue;
                }
                let n = found.n.min(MAX_CANDIDATES);
                if found.candidates[..n].contains(&i) || !holds(i) {
                    continue;
                }
                floor = floor.max(w);
                if n < MAX_CANDIDATES {
                    found.candidates[n] = i;
                    found.n = n + 1;
                } else {
                    // Full: the new rule replaces the lightest one if it weighs more
                    // (ties: the earlier-declared rule stays).
                    let w = weight(i);
                    let mut low = 0;
                    for k in 1..MAX_CANDIDATES {
                        let (a, b) = (found.candidates[k], found.candidates[low]);
                        if (weight(a), core::cmp::Reverse(a)) < (weight(b), core::cmp::Reverse(b)) {
                            low = k;
                        }
                    }
                    let l = found.candidates[low];
                    if (w, core::cmp::Reverse(i)) > (weight(l), core::cmp::Reverse(l)) {
                        found.candidates[low] = i;
                    }
                }
            }
        };
        let mut hint = None;
        let mut later = false;
        // Phrases that contain or lie inside another are held back until the scan
        // ends, so that one lying inside a longer match can give way to it.
        let mut spans = [(0u32, 0u32, 0u32); MAX_SPANS];
        let mut n_spans = 0;
        self.each_phrase(text, |pid, start, end| match self.meta[pid].kind {
            PatKind::Rules => {
                let span = (u32::try_from(start), u32::try_from(end), u32::try_from(pid));
                if let (true, true, (Ok(s), Ok(e), Ok(p))) =
                    (self.held[pid], n_spans < MAX_SPANS, span)
                {
                    spans[n_spans] = (s, e, p);
                    n_spans += 1;
                } else {
                    consider(&self.phrase_rules[pid]);
                }
            }
            // Parsed only while it can still tell something: the first hint, and whether
            // a trigger that asks for a retry has its duration.
            PatKind::Hint(asks) if hint.is_none() || (asks && !later) => {
                let parsed = hint::parse_after(&text[end..]);
                later |= asks && parsed.is_some();
                if hint.is_none() {
                    hint = parsed;
                }
            }
            PatKind::Hint(_) => {}
            PatKind::Later => later = true,
        });
        let spans = &spans[..n_spans];
        for &(s, e, pid) in spans {
            // Specific wording outranks the generic wording inside it: "sent too many
            // times" is not the rate limit's "too many times", where the longer
            // phrase's own rule holds here.
            let pid = pid as usize;
            let outers = &self.containers[pid];
            let inside = !outers.is_empty()
                && spans.iter().any(|&(s2, e2, q)| {
                    s2 <= s
                        && e <= e2
                        && e2 - s2 > e - s
                        && outers.binary_search(&q).is_ok()
                        && self.phrase_rules[q as usize].iter().any(|&i| holds(i))
                });
            if inside {
                consider(&self.kept_inside[pid]);
            } else {
                consider(&self.phrase_rules[pid]);
            }
        }
        // The code tables after the text: what the wording found sets the floor below
        // which a code's rule cannot win (see `prune`).
        if let Some(c) = code {
            consider(&self.by_code[usize::from(c.as_u16() - 200)]);
        }
        if let Some(e) = enh {
            if let Some(b) = self.by_enh.get(usize::from(e.subject())) {
                if let Ok(k) = b.by_detail.binary_search_by_key(&e.detail(), |(d, _)| *d) {
                    consider(&b.by_detail[k].1);
                }
                consider(&b.any_detail);
            }
            consider(&self.enh_any);
        }
        consider(&self.always);
        found.retry_asked = later;
        found.hint = hint;
        found
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every phrase occurrence, found the slow way: each phrase compared at each
    /// position, ASCII case folded, word boundaries as the scan applies them.
    fn naive(e: &Engine, text: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for (pid, p) in e.phrases.iter().enumerate() {
            let meta = e.meta[pid];
            for start in 0..text.len() {
                let end = start + p.len();
                if end > text.len() || !text[start..end].eq_ignore_ascii_case(p) {
                    continue;
                }
                if meta.word_start && start > 0 && is_word(text[start - 1]) {
                    continue;
                }
                if meta.word_end && end < text.len() && is_word(text[end]) {
                    continue;
                }
                out.push((pid, start, end));
            }
        }
        out.sort_unstable();
        out
    }

    fn scanned(e: &Engine, text: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        e.each_phrase(text, |pid, s, t| out.push((pid, s, t)));
        out.sort_unstable();
        out
    }

    fn builtin() -> std::sync::Arc<Engine> {
        crate::Classifier::builtin().engine
    }

    /// Text made of pieces of real phrases (cut anywhere, case changed), spaces,
    /// punctuation and other scripts' bytes: where phrase starts, near misses and
    /// word boundaries are dense.
    fn text_of(e: &Engine, picks: &[(usize, usize, usize, u8)]) -> Vec<u8> {
        let mut t = Vec::new();
        for &(pid, cut, sep, case) in picks {
            let p = &e.phrases[pid % e.phrases.len()];
            let cut = if p.is_empty() { 0 } else { cut % (p.len() + 1) };
            let piece = if sep % 3 == 0 { &p[..cut] } else { &p[..] };
            t.extend(piece.iter().map(|&b| {
                if case % 2 == 1 {
                    b.to_ascii_uppercase()
                } else {
                    b
                }
            }));
            t.extend_from_slice(match sep % 7 {
                0 => &b""[..],
                1 | 2 => b" ",
                3 => b"-",
                4 => "é".as_bytes(),
                5 => b"x",
                _ => b". ",
            });
        }
        t
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The scan finds exactly the occurrences the slow way finds.
        #[test]
        fn scan_finds_every_phrase_and_nothing_else(
            picks in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<usize>(), any::<u8>()), 0..12),
        ) {
            let e = builtin();
            let text = text_of(&e, &picks);
            prop_assert_eq!(scanned(&e, &text), naive(&e, &text));
        }

        /// Also on arbitrary bytes, and on text longer than the stack buffer.
        #[test]
        fn scan_matches_the_slow_way_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1200)) {
            let e = builtin();
            prop_assert_eq!(scanned(&e, &bytes), naive(&e, &bytes));
        }
    }

    #[test]
    fn scan_finds_phrases_at_both_ends_and_in_any_case() {
        let e = builtin();
        for text in [
            &b"SPF"[..],
            b"ube",
            b"Mailbox Full",
            b"550 5.2.2 MAILBOX FULL",
            b"mailbox full.",
            b"RATE LIMIT EXCEEDED, try again in 5 minutes",
            "слишком много писем".as_bytes(),
            "Слишком много писем".as_bytes(),
        ] {
            let found = scanned(&e, text);
            assert!(!found.is_empty(), "{}", String::from_utf8_lossy(text));
            assert_eq!(found, naive(&e, text), "{}", String::from_utf8_lossy(text));
        }
        let long = b"x ".repeat(600);
        let mut t = long.clone();
        t.extend_from_slice(b"mailbox full");
        assert_eq!(scanned(&e, &t), naive(&e, &t));
        assert!(!scanned(&e, &t).is_empty());
    }
}
