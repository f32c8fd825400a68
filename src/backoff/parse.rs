//! Parsers for durations and schedule strings, and the compact duration format.

use core::fmt;
use std::time::Duration;

/// A schedule string or duration that could not be parsed.
///
/// Points at the offending token: its byte offset in the input and its text,
/// and says what was expected there.
///
/// ```
/// use tempfail::backoff::parse_haraka;
/// let err = parse_haraka("1m, 5x*2").unwrap_err();
/// assert_eq!(err.position, 4);
/// assert_eq!(err.token, "5x");
/// assert_eq!(err.to_string(), "at byte 4, \"5x\": expected a duration such as 300s, 5m, 2h or 4d");
/// ```
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("at byte {position}, {token:?}: expected {expected}")]
#[non_exhaustive]
pub struct ParseError {
    /// Byte offset of the bad token in the parsed string.
    pub position: usize,
    /// The bad token (truncated to 64 bytes).
    pub token: String,
    /// What was expected instead.
    pub expected: &'static str,
}

impl ParseError {
    pub(crate) fn new(position: usize, token: &str, expected: &'static str) -> Self {
        let mut end = token.len().min(64);
        while !token.is_char_boundary(end) {
            end -= 1;
        }
        ParseError {
            position,
            token: token[..end].to_owned(),
            expected,
        }
    }

    /// The same error, with its position shifted by `offset` (for a token parsed
    /// out of a larger string).
    pub(crate) fn shifted(mut self, offset: usize) -> Self {
        self.position = self.position.saturating_add(offset);
        self
    }
}

pub(crate) const EXPECTED_DURATION: &str = "a duration such as 300s, 5m, 2h or 4d";

/// Parses a duration: `300s`, `5m`, `2h`, `4d`, `1h30m`, `1h 30m`, `250ms`.
///
/// With the `humantime` feature the full `humantime` syntax is accepted
/// (`5min`, `2 hours`, `1week`); without it, a built-in parser takes
/// sequences of `<integer><unit>` with units `ms`, `s`, `m`, `h`, `d`, `w`.
/// Either way the common forms give identical results, a bare number is
/// refused (a unit is required), and an overflowing value is an error.
///
/// ```
/// use std::time::Duration;
/// use tempfail::backoff::parse_duration;
/// assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
/// assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
/// assert_eq!(parse_duration("4d").unwrap(), Duration::from_secs(4 * 86_400));
/// assert!(parse_duration("300").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, ParseError> {
    let trimmed = s.trim();
    let lead = s.len() - s.trim_start().len();
    if trimmed.is_empty() {
        return Err(ParseError::new(lead, trimmed, EXPECTED_DURATION));
    }
    let d = parse_duration_inner(trimmed)
        .ok_or_else(|| ParseError::new(lead, trimmed, EXPECTED_DURATION))?;
    // Durations beyond what a Timestamp can hold are refused rather than silently clamped.
    if d.as_millis() > u128::from(u64::MAX) {
        return Err(ParseError::new(
            lead,
            trimmed,
            "a duration below 584 million years",
        ));
    }
    Ok(d)
}

#[cfg(feature = "humantime")]
fn parse_duration_inner(s: &str) -> Option<Duration> {
    // humantime accepts a bare "0"; a unit is required everywhere else, so keep the
    // two parsers in agreement.
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    humantime::parse_duration(s).ok()
}

#[cfg(not(feature = "humantime"))]
fn parse_duration_inner(s: &str) -> Option<Duration> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut total: u64 = 0; // milliseconds
    let mut any = false;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 19 {
            return None;
        }
        let n: u64 = s[start..i].parse().ok()?;
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit_ms: u64 = match &s[ustart..i] {
            "ms" => 1,
            "s" | "sec" | "secs" => 1000,
            "m" | "min" | "mins" => 60_000,
            "h" | "hr" | "hrs" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 604_800_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit_ms)?)?;
        any = true;
    }
    any.then(|| Duration::from_millis(total))
}

/// A duration in the compact form used throughout tempfail's output: units
/// from the largest non-zero one down to the smallest non-zero one, zeros in
/// between kept (`5d0h13m20s`, `1h20m`, `3d0h48m`, `250ms`, `0s`).
///
/// Every string it prints parses back with [`parse_duration`].
///
/// ```
/// use std::time::Duration;
/// use tempfail::backoff::Compact;
/// assert_eq!(Compact(Duration::from_secs(432_800)).to_string(), "5d0h13m20s");
/// assert_eq!(Compact(Duration::from_secs(4800)).to_string(), "1h20m");
/// assert_eq!(Compact(Duration::ZERO).to_string(), "0s");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Compact(pub Duration);

impl fmt::Display for Compact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = crate::time::duration_millis(self.0);
        if ms == 0 {
            return f.write_str("0s");
        }
        let parts = [
            (ms / 86_400_000, "d"),
            (ms / 3_600_000 % 24, "h"),
            (ms / 60_000 % 60, "m"),
            (ms / 1000 % 60, "s"),
            (ms % 1000, "ms"),
        ];
        let first = parts.iter().position(|p| p.0 != 0).unwrap_or(0);
        let last = parts.iter().rposition(|p| p.0 != 0).unwrap_or(0);
        for (n, unit) in &parts[first..=last] {
            write!(f, "{n}{unit}")?;
        }
        Ok(())
    }
}

/// The most entries a parsed Haraka list may expand to (`1s*1000000` is refused,
/// so a config string cannot allocate without bound).
pub const MAX_LIST_ENTRIES: usize = 10_000;

/// Haraka's smallest allowed interval.
pub const HARAKA_MIN_INTERVAL: Duration = Duration::from_secs(5);

/// Parses a Haraka `temp_fail_intervals` string into the list of waits.
///
/// Entries are separated by commas; each is a duration, optionally `*count`
/// to repeat it; `none` (alone) is the empty list: give up at the first
/// temporary failure. Each entry must be at least 5 s, and the expanded list
/// at most [`MAX_LIST_ENTRIES`] long.
///
/// ```
/// use std::time::Duration;
/// use tempfail::backoff::parse_haraka;
/// let secs: Vec<u64> = parse_haraka("1m, 5m*2, 1h*3").unwrap().iter().map(|d| d.as_secs()).collect();
/// assert_eq!(secs, [60, 300, 300, 3600, 3600, 3600]);
/// assert!(parse_haraka("none").unwrap().is_empty());
/// assert_eq!(parse_haraka("1m, 2s").unwrap_err().token, "2s");
/// ```
pub fn parse_haraka(s: &str) -> Result<Vec<Duration>, ParseError> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (offset, raw) in split_with_offsets(s, ',') {
        let (tok, off) = trim_with_offset(raw, offset);
        if tok.is_empty() {
            return Err(ParseError::new(off, tok, "an interval such as 1m or 5m*2"));
        }
        let (dur_tok, count) = match tok.split_once('*') {
            Some((d, c)) => {
                let (ct, coff) = trim_with_offset(c, off + d.len() + 1);
                let n: usize = ct
                    .parse()
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| ParseError::new(coff, ct, "a repeat count of at least 1"))?;
                (d.trim_end(), n)
            }
            None => (tok, 1),
        };
        let d = parse_duration(dur_tok).map_err(|e| e.shifted(off))?;
        if d < HARAKA_MIN_INTERVAL {
            return Err(ParseError::new(off, dur_tok, "an interval of at least 5s"));
        }
        if count > MAX_LIST_ENTRIES.saturating_sub(out.len()) {
            return Err(ParseError::new(off, tok, "at most 10000 intervals in all"));
        }
        out.extend(core::iter::repeat_n(d, count));
    }
    Ok(out)
}

/// Splits `s` on `sep`, yielding each piece with its byte offset.
pub(crate) fn split_with_offsets(s: &str, sep: char) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    s.split(sep).map(move |piece| {
        let at = offset;
        offset += piece.len() + sep.len_utf8();
        (at, piece)
    })
}

/// Trims whitespace, returning the trimmed text and its new offset.
pub(crate) fn trim_with_offset(s: &str, offset: usize) -> (&str, usize) {
    let lead = s.len() - s.trim_start().len();
    (s.trim(), offset + lead)
}

#[cfg(feature = "serde")]
pub(crate) mod serde_duration {
    //! Durations in config: compact human strings (`5m`, `2h26m40s`).
    use super::{Compact, parse_duration};
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&Compact(*d))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_str(DurationVisitor)
    }

    /// Reads a duration string, and says which form is expected otherwise (serde
    /// would say "a string").
    pub(crate) struct DurationVisitor;

    impl serde::de::Visitor<'_> for DurationVisitor {
        type Value = Duration;
        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("a duration string such as \"300s\", \"5m\", \"2h30m\" or \"4d\"")
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Duration, E> {
            parse_duration(s).map_err(E::custom)
        }
    }

    /// A duration that reads through [`DurationVisitor`].
    struct Human(Duration);

    impl<'de> Deserialize<'de> for Human {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_str(DurationVisitor).map(Human)
        }
    }

    pub(crate) mod option {
        use super::*;
        use serde::Serialize;

        pub(crate) fn serialize<S: Serializer>(
            d: &Option<Duration>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            d.map(|d| Compact(d).to_string()).serialize(s)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Duration>, D::Error> {
            Ok(Option::<Human>::deserialize(d)?.map(|h| h.0))
        }
    }

    pub(crate) mod vec {
        use super::*;
        use serde::ser::SerializeSeq;

        pub(crate) fn serialize<S: Serializer>(v: &[Duration], s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(v.len()))?;
            for d in v {
                seq.serialize_element(&Compact(*d).to_string())?;
            }
            seq.end()
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<Duration>, D::Error> {
            struct Seq;
            impl<'de> serde::de::Visitor<'de> for Seq {
                type Value = Vec<Duration>;
                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str("a list of durations such as [\"5m\", \"1h\"]")
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> Result<Vec<Duration>, A::Error> {
                    let mut v = Vec::new();
                    while let Some(Human(d)) = seq.next_element()? {
                        if v.len() == super::super::MAX_LIST_ENTRIES {
                            return Err(serde::de::Error::custom(
                                "more than 10000 durations in a list",
                            ));
                        }
                        v.push(d);
                    }
                    Ok(v)
                }
            }
            d.deserialize_seq(Seq)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_round_trips() {
        for ms in [
            0u64,
            1,
            999,
            1000,
            61_000,
            4_800_000,
            432_800_000,
            1_234_567_890,
            90_061_001,
        ] {
            let d = Duration::from_millis(ms);
            let s = Compact(d).to_string();
            assert_eq!(parse_duration(&s).unwrap(), d, "{s}");
        }
    }

    #[test]
    fn duration_errors_point_at_token() {
        let e = parse_duration("  5q").unwrap_err();
        assert_eq!((e.position, e.token.as_str()), (2, "5q"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999999d").is_err());
    }

    #[test]
    fn haraka_errors() {
        let e = parse_haraka("1m,5m*0").unwrap_err();
        assert_eq!((e.position, e.token.as_str()), (6, "0"));
        let e = parse_haraka("1m,,2m").unwrap_err();
        assert_eq!(e.position, 3);
        assert!(parse_haraka("1m*10001").is_err());
        assert_eq!(parse_haraka("5s").unwrap(), [Duration::from_secs(5)]);
    }
}
