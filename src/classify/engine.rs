//! The matcher: one hashed table over every rule phrase's first four bytes (and the
//! retry-hint triggers), plus tables keyed by basic and enhanced code.
//!
//! Cost of one classification: one pass over the text (linear in its length, no
//! backtracking), a few table look-ups, a bounded check of the phrases that lie inside
//! longer ones that matched, then the candidate rules — only those whose phrase
//! occurred or whose code table entry matched — are checked in priority order. Rules
//! that cannot match are never looked at.
//!
//! The pass keeps the last four bytes of the text (ASCII case folded) as one 32-bit
//! word; at each byte it tests that word's hash in a bit filter (about eight bits per
//! phrase: 4 KiB for the built-in rules, small enough to stay in the first-level cache,
//! and the only table most bytes touch). Only where the bit is set does it look in the
//! hash bucket at the groups of phrases that start with those four bytes, rule most of
//! them out with two masked 64-bit comparisons (bytes 0–8 of the group, bytes 8–16 of
//! each phrase) and compare the rest in place. Phrases shorter than four bytes ("spf",
//! "ube") are looked for where their first byte occurs, each confirmed by one masked
//! comparison of the next four bytes. The work per text byte is
//! bounded by [`MAX_BUCKET_GROUPS`] groups, [`MAX_GROUP_PHRASES`] phrases and
//! [`MAX_SHORT_PER_BYTE`] short phrases (the built-in rules use at most 34, 61 and 2),
//! times the longest phrase. It replaced an Aho-Corasick DFA over each phrase's first
//! eight bytes (twenty-fifth round), whose table had grown to 2.5 MB, most of its
//! look-ups missing the cache.
//!
//! A phrase set past those bounds (a user rule set with thousands of phrases sharing
//! their first four bytes, or many phrases of one to three bytes starting alike) is
//! scanned by an Aho-Corasick automaton over the whole phrases instead, linear in the
//! text and its matches whatever the phrases.

use std::collections::HashMap;
use std::time::Duration;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

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

/// How the scan finds phrases (see the module's documentation).
#[derive(Debug)]
enum Scan {
    /// The bit filter, when the phrase set's shape keeps its work per byte small.
    Filter(Filter),
    /// An automaton over the whole phrases, for a phrase set that does not (a large user
    /// rule set with many phrases sharing their first bytes): linear in the text and its
    /// matches whatever the phrases.
    Automaton(AhoCorasick),
}

/// Most groups of phrases one bucket of the filter may hold, most phrases one group may
/// hold, and most phrases shorter than four bytes one first byte may start: past any
/// of them the scan is an automaton instead, so that the work per text byte stays
/// bounded whatever the rules (the built-in rules use at most 34, 61 and 2).
const MAX_BUCKET_GROUPS: usize = 64;
const MAX_GROUP_PHRASES: usize = 128;
const MAX_SHORT_PER_BYTE: usize = 16;

/// The table the filter scan looks phrases up in.
#[derive(Debug)]
struct Filter {
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
    /// The phrases shorter than four bytes, by their first byte (lower case): each
    /// with its bytes as a little-endian word and the mask of the bytes it has, so a
    /// masked comparison of the text's next four bytes confirms it.
    short: Vec<Vec<Short>>,
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
    /// Their range in `Filter::pids`.
    from: u32,
    to: u32,
}

/// A phrase shorter than four bytes.
#[derive(Debug, Clone, Copy)]
struct Short {
    pid: u32,
    word: u32,
    mask: u32,
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
    /// The scan over the phrases `phrases` (lower case): the filter if their shape fits
    /// its bounds, else an automaton.
    fn new(phrases: &[Box<[u8]>]) -> Scan {
        match Filter::new(phrases) {
            Some(f) => Scan::Filter(f),
            None => Scan::automaton(phrases),
        }
    }

    /// An automaton over the whole phrases, ASCII case folded as the filter does.
    fn automaton(phrases: &[Box<[u8]>]) -> Scan {
        let build = |kind| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(kind)
                .build(phrases)
        };
        // A DFA over a very large rule set can exceed the builder's size limit; the
        // contiguous NFA has the same linear-time guarantee.
        match build(Some(AhoCorasickKind::DFA)).or_else(|_| build(None)) {
            Ok(ac) => Scan::Automaton(ac),
            // Only past the automaton's own limits (billions of states): no phrase
            // matches rather than a panic.
            Err(_) => Scan::Filter(Filter::empty()),
        }
    }
}

impl Filter {
    /// A filter that finds nothing.
    fn empty() -> Filter {
        Filter {
            shift: 22,
            filter: vec![0; 16],
            starts: vec![0; 1025],
            groups: Vec::new(),
            pids: Vec::new(),
            short: vec![Vec::new(); 256],
            short_first: [0; 4],
        }
    }

    /// The table over the phrases `phrases` (lower case), if their shape fits the
    /// filter's bounds.
    fn new(phrases: &[Box<[u8]>]) -> Option<Filter> {
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
        let mut where_: HashMap<(u32, u64, u64), (usize, usize)> = HashMap::new();
        for &pid in &long {
            let p = &phrases[pid];
            let word = p[..4].iter().fold(0u32, |w, &b| push_byte(w, b));
            let (head, mask) = head_of(p);
            let b = bucket(word, shift);
            let list = &mut by_bucket[b];
            match where_.get(&(word, head, mask)) {
                Some(&(b, g)) => by_bucket[b][g].3.push(pid as u32),
                None => {
                    where_.insert((word, head, mask), (b, list.len()));
                    list.push((word, head, mask, vec![pid as u32]));
                }
            }
        }
        let too_big = by_bucket.iter().any(|list| {
            list.len() > MAX_BUCKET_GROUPS || list.iter().any(|g| g.3.len() > MAX_GROUP_PHRASES)
        });
        if too_big {
            return None;
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
                // Under four bytes, so the head's low 32 bits hold all of it.
                let (word, mask) = head_of(p);
                short[usize::from(b)].push(Short {
                    pid: pid as u32,
                    word: word as u32,
                    mask: mask as u32,
                });
                short_first[usize::from(b / 64)] |= 1 << (b % 64);
            }
        }
        if short.iter().any(|l| l.len() > MAX_SHORT_PER_BYTE) {
            return None;
        }
        Some(Filter {
            shift,
            filter,
            starts,
            groups,
            pids,
            short,
            short_first,
        })
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
    /// boundaries respected within `text`), in the scan's order: the verdict does not
    /// depend on it, except on hostile text past `MAX_SPANS` held-back matches, where
    /// which ones are held back follows it.
    fn each_phrase(&self, text: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        let scan = match &self.scan {
            Scan::Filter(scan) => scan,
            Scan::Automaton(ac) => {
                for m in ac.find_overlapping_iter(text) {
                    let (pid, start, end) = (m.pattern().as_usize(), m.start(), m.end());
                    let Some(meta) = self.meta.get(pid) else {
                        continue;
                    };
                    if meta.word_start && start > 0 && is_word(text[start - 1]) {
                        continue;
                    }
                    if meta.word_end && end < text.len() && is_word(text[end]) {
                        continue;
                    }
                    f(pid, start, end);
                }
                return;
            }
        };
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
                    // The text's next four bytes (the padding's zeros past its end).
                    let mut next = [0u8; 4];
                    if let Some(w) = lower.get(i..i + 4) {
                        next.copy_from_slice(w);
                    }
                    let next = u32::from_le_bytes(next);
                    for sh in scan.short.get(usize::from(b)).map_or(&[][..], |l| &l[..]) {
                        if next & sh.mask == sh.word {
                            confirm(sh.pid, i, 4);
                        }
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
    use crate::classify::{Category, Classifier, UserRule};

    /// Cases per property, and every how many phrases the slow comparison runs: the
    /// slow way is slow without optimisation, so an unoptimised build tries fewer.
    const CASES: u32 = if cfg!(debug_assertions) { 12 } else { 64 };
    const SLOW_EVERY: usize = if cfg!(debug_assertions) { 997 } else { 91 };

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

    /// The built-in rules' engine with the filter scan (as shipped) or the automaton.
    fn builtin(automaton: bool) -> Engine {
        let mut e = Engine::new(crate::classify::builtin::compiled().to_vec());
        if automaton {
            e.scan = Scan::automaton(&e.phrases);
        }
        e
    }

    /// Text made of pieces of `e`'s phrases (cut anywhere, case changed), spaces,
    /// punctuation and other scripts' bytes: where phrase starts, near misses and
    /// word boundaries are dense.
    fn text_of(e: &Engine, picks: &[(usize, usize, usize, u8)]) -> Vec<u8> {
        let mut t = Vec::new();
        for &(pid, cut, sep, case) in picks {
            let p = &e.phrases[pid % e.phrases.len()];
            let cut = cut % (p.len() + 1);
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
                4 => "\u{e9}".as_bytes(),
                5 => b"x",
                _ => b"\0",
            });
        }
        t
    }

    /// Letters user phrases are made of: both cases, digits, spaces, NUL, DEL and
    /// other scripts' letters, so that phrases recur in texts and share their starts.
    const LETTERS: &[&str] = &[
        "a", "A", "b", "B", " ", "1", "\u{0}", "\u{e9}", "\u{c9}", "\u{449}", "\u{429}", "\u{df}",
        "-", "x", "\u{7f}",
    ];

    /// An engine over user rules whose phrases are `ps` (letters by index; the kind
    /// picks text, words, or words with a wildcard at either end).
    fn user_engine(ps: &[(Vec<u8>, u8)]) -> Option<std::sync::Arc<Engine>> {
        let (mut text, mut words) = (Vec::new(), Vec::new());
        for (ix, kind) in ps {
            let p: String = ix
                .iter()
                .map(|&i| LETTERS[usize::from(i) % LETTERS.len()])
                .collect();
            if p.trim().is_empty() {
                continue;
            }
            match kind % 4 {
                0 => text.push(p),
                1 => words.push(p),
                2 => words.push(format!("*{p}")),
                _ => words.push(format!("{p}*")),
            }
        }
        let mut rules = Vec::new();
        if !text.is_empty() {
            rules.push(UserRule::new("u.text", Category::Policy).text(text));
        }
        if !words.is_empty() {
            rules.push(UserRule::new("u.words", Category::Policy).words(words));
        }
        Classifier::from_rules_only(rules).ok().map(|c| c.engine)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        /// The scan (filter and automaton) finds exactly the occurrences the slow way
        /// finds, on text made of the built-in phrases.
        #[test]
        fn scan_finds_every_phrase_and_nothing_else(
            picks in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<usize>(), any::<u8>()), 0..12),
        ) {
            for automaton in [false, true] {
                let e = builtin(automaton);
                let text = text_of(&e, &picks);
                prop_assert_eq!(scanned(&e, &text), naive(&e, &text));
            }
        }

        /// Also on arbitrary bytes, and on text longer than the stack buffer.
        #[test]
        fn scan_matches_the_slow_way_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
            let e = builtin(false);
            prop_assert_eq!(scanned(&e, &bytes), naive(&e, &bytes));
        }

        /// User phrases of any length from 1 byte, any bytes, with wildcards, in texts
        /// just under and over the stack buffer's length.
        #[test]
        fn scan_matches_the_slow_way_on_user_phrases(
            ps in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 1..20), any::<u8>()), 1..12),
            picks in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<usize>(), any::<u8>()), 0..40),
            pad in 0usize..12,
            long in any::<bool>(),
        ) {
            let Some(e) = user_engine(&ps) else { return Ok(()); };
            let mut text = text_of(&e, &picks);
            if long {
                let mut t = vec![b' '; 500usize.saturating_sub(text.len()) + pad];
                t.extend_from_slice(&text);
                text = t;
            }
            prop_assert_eq!(scanned(&e, &text), naive(&e, &text));
        }
    }

    #[test]
    fn scan_finds_phrases_at_both_ends_and_in_any_case() {
        let e = builtin(false);
        assert!(
            matches!(e.scan, Scan::Filter(_)),
            "the built-in rules use the filter"
        );
        for text in [
            &b"SPF"[..],
            b"ube",
            b"Mailbox Full",
            b"550 5.2.2 MAILBOX FULL",
            b"mailbox full.",
            b"RATE LIMIT EXCEEDED, try again in 5 minutes",
            "\u{441}\u{43b}\u{438}\u{448}\u{43a}\u{43e}\u{43c} \u{43c}\u{43d}\u{43e}\u{433}\u{43e} \u{43f}\u{438}\u{441}\u{435}\u{43c}".as_bytes(),
        ] {
            let found = scanned(&e, text);
            assert!(!found.is_empty(), "{}", String::from_utf8_lossy(text));
            assert_eq!(found, naive(&e, text), "{}", String::from_utf8_lossy(text));
        }
        // Every 7th phrase alone at the end and at the start of texts around the stack
        // buffer's length, in both cases.
        for len in [
            0usize, 1, 3, 4, 8, 9, 16, 17, 503, 504, 505, 511, 512, 513, 520,
        ] {
            for (pid, p) in e
                .phrases
                .iter()
                .enumerate()
                .step_by(if cfg!(debug_assertions) { 29 } else { 7 })
            {
                if p.len() > len {
                    continue;
                }
                let mut at_end = vec![b' '; len - p.len()];
                at_end.extend_from_slice(p);
                let mut at_start = p.to_vec();
                at_start.resize(len, b' ');
                for mut t in [at_end, at_start] {
                    assert!(
                        scanned(&e, &t).iter().any(|&(q, _, _)| q == pid),
                        "len {len} phrase {pid}"
                    );
                    t.make_ascii_uppercase();
                    assert!(
                        scanned(&e, &t).iter().any(|&(q, _, _)| q == pid),
                        "len {len} phrase {pid}, upper case"
                    );
                    if pid % SLOW_EVERY == 0 {
                        assert_eq!(scanned(&e, &t), naive(&e, &t), "len {len} phrase {pid}");
                    }
                }
            }
        }
    }

    /// A user rule set that would make the filter's work per byte grow (thousands of
    /// phrases sharing their first four bytes, or many short phrases with one first
    /// byte) gets the automaton, and still finds exactly what is there.
    #[test]
    fn large_user_rule_sets_get_the_automaton() {
        let letters = |n: usize| -> String {
            (0..4)
                .map(|k| char::from(b'a' + ((n / 26usize.pow(k)) % 26) as u8))
                .collect()
        };
        let shared: Vec<String> = (0..2000).map(|n| format!("mail{}", letters(n))).collect();
        let short: Vec<String> = (0..200).map(|n| format!("m{}", &letters(n)[..2])).collect();
        for phrases in [shared, short] {
            let c = Classifier::from_rules_only(vec![
                UserRule::new("u.many", Category::Policy).text(phrases.clone()),
            ])
            .expect("rules build");
            assert!(matches!(c.engine.scan, Scan::Automaton(_)));
            let mut text = b"xx ".to_vec();
            for p in phrases.iter().step_by(97) {
                text.extend_from_slice(p.to_ascii_uppercase().as_bytes());
                text.extend_from_slice(b" mailzz m ");
            }
            let found = scanned(&c.engine, &text);
            assert!(!found.is_empty());
            assert_eq!(found, naive(&c.engine, &text));
        }
        // A small user rule set keeps the filter.
        let c = Classifier::from_rules_only(vec![
            UserRule::new("u.few", Category::Policy).text(vec!["mailbox gone".to_owned()]),
        ])
        .expect("rules build");
        assert!(matches!(c.engine.scan, Scan::Filter(_)));
    }
}
