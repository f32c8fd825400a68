//! Retry-after hints in reply text: "try again in 5 minutes", "retry after 300
//! seconds", "come back in 00:05:00", "greylisted for 60 seconds".
//!
//! A hint is a trigger phrase (see [`TRIGGERS`]) followed by a duration: a number
//! (or `a`/`an`/`one`) and a unit (`s`, `sec`, `second(s)`, `m`, `min`, `minute(s)`,
//! `h`, `hr`, `hour(s)`, `d`, `day(s)`; no unit means seconds), or `HH:MM:SS` /
//! `MM:SS`. The result is clamped to [`MIN`]–[`MAX`] (1 s to 24 h): a server that
//! asks for 0 s would be hammered, and one that asks for a week has a policy
//! problem that the retry policy's own limits handle better.

use std::time::Duration;

/// The shortest hint reported.
pub(super) const MIN: Duration = Duration::from_secs(1);
/// The longest hint reported.
pub(super) const MAX: Duration = Duration::from_secs(24 * 3600);

/// Phrases after which a duration is looked for (lower case; matched ASCII
/// case-insensitively).
pub(super) const TRIGGERS: &[&str] = &[
    "try again in",
    "try again after",
    "try again later in",
    "retry in",
    "retry after",
    "retry-after:",
    "retry-after",
    "resend in",
    "come back in",
    "come back after",
    "greylisted for",
    "graylisted for",
    "please wait",
    "wait at least",
    "deferred for",
    "blocked for",
    "try again in about",
];

/// Phrases that ask for a later retry without saying when ("try again later"; a
/// greylisting's own words, "greylisted", "greylisting active": a greylisting is the
/// request to come back). They, and the [`TRIGGERS`] that ask for one
/// ([`asks_for_retry`]: "try again in", "retry after", not "blocked for") followed by a
/// duration, make a 5xx whose cause passes with time (a rate limit, too many
/// connections, a greylisting) transient (see `Classifier`).
pub(super) const LATER: &[&str] = &[
    "try again later",
    "retry later",
    "try later",
    "greylisted",
    "graylisted",
    "greylisting active",
    "greylisting is active",
    "greylisting in action",
];

/// Whether a [`TRIGGERS`] phrase asks the client to retry ("try again in", "retry after",
/// "resend in", "come back in"), rather than saying how long something lasts ("blocked
/// for", "deferred for", "greylisted for", "please wait").
pub(super) fn asks_for_retry(trigger: &str) -> bool {
    ["try ", "retry", "resend", "come back"]
        .iter()
        .any(|p| trigger.starts_with(p))
}

/// Clamps a duration to [`MIN`]–[`MAX`].
pub(super) fn clamp(d: Duration) -> Duration {
    d.clamp(MIN, MAX)
}

/// Parses the duration that starts at `rest` (just after a trigger phrase).
pub(crate) fn parse_after(rest: &[u8]) -> Option<Duration> {
    // Look at most this far: a hint is a few words, and this bounds the work per trigger.
    let rest = &rest[..rest.len().min(40)];
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < rest.len() && matches!(rest[*i], b' ' | b'\t' | b':' | b'=' | b'~') {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    // Optional filler words.
    for w in [&b"at least "[..], b"about ", b"approximately ", b"another "] {
        if starts_with_ci(&rest[i..], w) {
            i += w.len();
            skip_ws(&mut i);
        }
    }
    let (mut n, digits) = number(&rest[i..]);
    if digits == 0 {
        for (w, v) in [(&b"an "[..], 1u64), (b"a ", 1), (b"one ", 1)] {
            if starts_with_ci(&rest[i..], w) {
                n = v;
                i += w.len() - 1;
                break;
            }
        }
        if n == 0 {
            return None;
        }
    } else {
        i += digits;
        // HH:MM:SS or MM:SS.
        if rest.get(i) == Some(&b':') {
            let mut parts = vec![n];
            while rest.get(i) == Some(&b':') && parts.len() < 3 {
                let (v, d) = number(&rest[i + 1..]);
                if d == 0 {
                    break;
                }
                parts.push(v);
                i += 1 + d;
            }
            if parts.len() >= 2 {
                let secs = parts
                    .iter()
                    .fold(0u64, |acc, p| acc.saturating_mul(60).saturating_add(*p));
                return Some(clamp(Duration::from_secs(secs)));
            }
        }
    }
    while i < rest.len() && rest[i] == b' ' {
        i += 1;
    }
    let word_end = rest[i..]
        .iter()
        .position(|c| !c.is_ascii_alphabetic())
        .map_or(rest.len(), |p| i + p);
    let unit = &rest[i..word_end];
    let lower: Vec<u8> = unit.iter().map(u8::to_ascii_lowercase).collect();
    let mult: u64 = match lower.as_slice() {
        b"" => {
            if digits == 0 {
                return None;
            }
            1
        }
        b"s" | b"sec" | b"secs" | b"second" | b"seconds" => 1,
        b"m" | b"min" | b"mins" | b"minute" | b"minutes" => 60,
        b"h" | b"hr" | b"hrs" | b"hour" | b"hours" => 3600,
        b"d" | b"day" | b"days" => 86_400,
        // "try again in a few minutes", "retry in the future": not a hint.
        _ => return None,
    };
    Some(clamp(Duration::from_secs(n.saturating_mul(mult))))
}

fn number(b: &[u8]) -> (u64, usize) {
    let mut v: u64 = 0;
    let mut n = 0;
    while n < b.len() && b[n].is_ascii_digit() && n < 12 {
        v = v.saturating_mul(10).saturating_add(u64::from(b[n] - b'0'));
        n += 1;
    }
    (v, n)
}

fn starts_with_ci(b: &[u8], w: &[u8]) -> bool {
    b.len() >= w.len() && b[..w.len()].eq_ignore_ascii_case(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<u64> {
        parse_after(s.as_bytes()).map(|d| d.as_secs())
    }

    #[test]
    fn units_and_forms() {
        assert_eq!(p(" 5 minutes"), Some(300));
        assert_eq!(p(" 300 seconds"), Some(300));
        assert_eq!(p(" 900 seconds."), Some(900));
        assert_eq!(p(" 2h"), Some(7200));
        assert_eq!(p(" an hour"), Some(3600));
        assert_eq!(p(" 00:05:00"), Some(300));
        assert_eq!(p(" 4:30"), Some(270));
        assert_eq!(p(": 120"), Some(120));
        assert_eq!(p(" at least 10 min"), Some(600));
    }

    #[test]
    fn not_hints() {
        assert_eq!(p(" a few minutes"), None);
        assert_eq!(p(" the future"), None);
        assert_eq!(p(" later"), None);
        assert_eq!(p(""), None);
    }

    #[test]
    fn clamped() {
        assert_eq!(p(" 0 seconds"), Some(1));
        assert_eq!(p(" 30 days"), Some(86_400));
        assert_eq!(p(" 99999999999999999999 hours"), Some(86_400));
    }
}
