//! The header-like field blocks of report parts (RFC 3464 §2.1, RFC 5965 §3.1):
//! `Name: value` lines, folded onto continuation lines, in groups separated by
//! blank lines. Everything is bounded: field values are cut, blocks are counted.

use crate::time::Timestamp;

/// One block: lower-cased field names and their unfolded values, in order.
pub(crate) type Block = Vec<(String, String)>;

/// The blocks of `text`: at most `max_blocks` (`true` when more were left out), at most
/// `max_fields` fields a block, each value at most `max_value` bytes.
pub(crate) fn blocks(
    text: &str,
    max_blocks: usize,
    max_fields: usize,
    max_value: usize,
) -> (Vec<Block>, bool) {
    let mut out: Vec<Block> = Vec::new();
    let mut cur: Block = Vec::new();
    let mut truncated = false;
    for raw in text.split('\n') {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !cur.is_empty() {
                if out.len() >= max_blocks {
                    truncated = true;
                    cur.clear();
                    break;
                }
                out.push(core::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.last_mut() {
                if !v.is_empty() {
                    push_bounded(v, " ", max_value);
                }
                push_bounded(v, line.trim(), max_value);
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            continue;
        }
        if cur.len() >= max_fields {
            truncated = true;
            continue;
        }
        let mut v = String::new();
        push_bounded(&mut v, value.trim(), max_value);
        cur.push((name.to_ascii_lowercase(), v));
    }
    if !cur.is_empty() {
        if out.len() >= max_blocks {
            truncated = true;
        } else {
            out.push(cur);
        }
    }
    (out, truncated)
}

/// Calls `f(name, header)` for each header of the header block at the start of `raw`
/// (`header` is its whole text, continuation lines included) and returns where the
/// body starts (after the blank line; `raw.len()` when there is none). One pass.
pub(crate) fn scan_headers(raw: &[u8], mut f: impl FnMut(&[u8], &[u8])) -> usize {
    let mut at = 0usize;
    let line_len = |from: usize| -> usize {
        let rest = raw.get(from..).unwrap_or(&[]);
        memchr::memchr(b'\n', rest).map_or(rest.len(), |p| p + 1)
    };
    while at < raw.len() {
        let first = line_len(at);
        let line = raw.get(at..at + first).unwrap_or(&[]);
        if line.iter().all(u8::is_ascii_whitespace) {
            return at + first;
        }
        let mut end = at + first;
        while matches!(raw.get(end), Some(b' ' | b'\t')) {
            end += line_len(end);
        }
        if let Some(colon) = memchr::memchr(b':', line) {
            f(
                line.get(..colon).unwrap_or(&[]).trim_ascii(),
                raw.get(at..end).unwrap_or(&[]),
            );
        }
        at = end;
    }
    raw.len()
}

/// The value of one header (`Name: value`, continuation lines included), unfolded:
/// plain ASCII is unfolded here; a value with RFC 2047 words (`=?`) or 8-bit bytes is
/// decoded by `mailparse`.
pub(crate) fn header_value(header: &[u8]) -> Option<String> {
    let colon = memchr::memchr(b':', header)?;
    let raw = header.get(colon + 1..)?;
    if raw.is_ascii() && memchr::memmem::find(raw, b"=?").is_none() {
        let mut out = String::with_capacity(raw.len());
        for line in raw.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let t = core::str::from_utf8(line).ok()?;
            if !out.is_empty() && !t.trim().is_empty() {
                out.push(' ');
            }
            out.push_str(t.trim());
        }
        return Some(out);
    }
    mailparse::parse_header(header)
        .ok()
        .map(|(h, _)| h.get_value())
}

/// Quoted-printable (RFC 2045 §6.7) decoded, leniently: `=XY` is the byte XY, `=` at
/// a line's end joins the lines, anything malformed is kept as written. One pass.
pub(crate) fn decode_qp(raw: &[u8]) -> Vec<u8> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(p) = memchr::memchr(b'=', rest) {
        out.extend_from_slice(rest.get(..p).unwrap_or(&[]));
        let after = rest.get(p + 1..).unwrap_or(&[]);
        match after {
            [a, b, ..] if hex(*a).is_some() && hex(*b).is_some() => {
                out.push(hex(*a).unwrap_or(0) * 16 + hex(*b).unwrap_or(0));
                rest = after.get(2..).unwrap_or(&[]);
            }
            [b'\r', b'\n', ..] => rest = after.get(2..).unwrap_or(&[]),
            [b'\n', ..] => rest = after.get(1..).unwrap_or(&[]),
            _ => {
                // A soft break after trailing blanks (`=  \r\n`) joins the lines too.
                let blanks = after
                    .iter()
                    .take_while(|b| **b == b' ' || **b == b'\t')
                    .count();
                match after.get(blanks..) {
                    Some([b'\r', b'\n', ..]) => rest = after.get(blanks + 2..).unwrap_or(&[]),
                    Some([b'\n', ..]) => rest = after.get(blanks + 1..).unwrap_or(&[]),
                    _ => {
                        out.push(b'=');
                        rest = after;
                    }
                }
            }
        }
    }
    out.extend_from_slice(rest);
    out
}

/// The first value of field `name` (lower case) in `block`, if not empty.
pub(crate) fn get<'a>(block: &'a Block, name: &str) -> Option<&'a str> {
    block
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Every non-empty value of field `name` in `block`.
pub(crate) fn get_all<'a>(block: &'a Block, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    block
        .iter()
        .filter(move |(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Appends `s` to `out` while `out` stays within `max` bytes (cut on a character boundary).
pub(crate) fn push_bounded(out: &mut String, s: &str, max: usize) {
    let room = max.saturating_sub(out.len());
    if s.len() <= room {
        out.push_str(s);
        return;
    }
    let mut end = room;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    out.push_str(s.get(..end).unwrap_or(""));
}

/// `s` cut to at most `max` bytes on a character boundary.
pub(crate) fn bounded(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    push_bounded(&mut out, s, max);
    out
}

/// An `address-type; address` value (`rfc822; bob@example.com`,
/// `utf-8; j\x{F6}rg@example.de`) → the address: type removed, angle brackets and
/// blanks stripped, RFC 6533 `\x{HEX}` escapes decoded for `utf-8`. A value without a
/// type is taken as the address.
pub(crate) fn typed_address(value: &str) -> Option<String> {
    let (ty, addr) = match value.split_once(';') {
        Some((t, a))
            if !t.trim().is_empty()
                && t.trim().len() <= 32
                && t.trim()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            (t.trim(), a)
        }
        _ => ("rfc822", value),
    };
    let addr = strip_angles(addr.trim());
    if addr.is_empty() {
        return None;
    }
    if ty.eq_ignore_ascii_case("utf-8") && addr.contains("\\x{") {
        return Some(decode_utf8_escapes(addr));
    }
    Some(addr.to_owned())
}

/// `<x>` → `x` (blanks inside removed); anything else unchanged.
pub(crate) fn strip_angles(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .map_or(s, str::trim)
}

/// RFC 6533 `\x{HEX}` escapes → characters; anything malformed is kept as written.
fn decode_utf8_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find("\\x{") {
        out.push_str(rest.get(..p).unwrap_or(""));
        let after = rest.get(p + 3..).unwrap_or("");
        let decoded = after.find('}').and_then(|end| {
            let hex = after.get(..end)?;
            let c = (hex.len() <= 6)
                .then(|| u32::from_str_radix(hex, 16).ok())
                .flatten()
                .and_then(char::from_u32)?;
            Some((c, end + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = after.get(used..).unwrap_or("");
            }
            None => {
                out.push_str("\\x{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `dns; mx.example.com` → `mx.example.com` (the type removed; a value without one is kept).
pub(crate) fn typed_name(value: &str) -> Option<String> {
    let v = match value.split_once(';') {
        Some((t, v)) if !t.trim().is_empty() && !t.contains(' ') => v,
        _ => value,
    };
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// An RFC 5322 date (lenient, as `mailparse` reads it) as a [`Timestamp`]; `None`
/// for anything unreadable or before 1970.
pub(crate) fn date(value: &str) -> Option<Timestamp> {
    if value.len() > 256 {
        return None;
    }
    let secs = mailparse::dateparse(value).ok()?;
    u64::try_from(secs).ok().map(Timestamp::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_fields_in_blocks() {
        let t = "Reporting-MTA: dns; a\r\n\r\nFinal-Recipient: rfc822; b@x\r\nDiagnostic-Code: smtp; 550 one\r\n  two\r\n\r\n\r\nFinal-Recipient: c@y\r\n";
        let (b, cut) = blocks(t, 10, 10, 100);
        assert!(!cut);
        assert_eq!(b.len(), 3);
        assert_eq!(get(&b[1], "diagnostic-code"), Some("smtp; 550 one two"));
        let (b, cut) = blocks(t, 2, 10, 100);
        assert!(cut);
        assert_eq!(b.len(), 2);
    }

    #[test]
    fn addresses_and_escapes() {
        assert_eq!(
            typed_address("rfc822; <bob@example.com>").as_deref(),
            Some("bob@example.com")
        );
        assert_eq!(
            typed_address("utf-8; j\\x{F6}rg@example.de").as_deref(),
            Some("jörg@example.de")
        );
        assert_eq!(
            typed_address("utf-8; a\\x{ZZ}b").as_deref(),
            Some("a\\x{ZZ}b")
        );
        assert_eq!(typed_address("rfc822;  "), None);
        assert_eq!(
            typed_name("dns; mx.example.com").as_deref(),
            Some("mx.example.com")
        );
    }

    #[test]
    fn quoted_printable_and_header_values() {
        assert_eq!(
            decode_qp(b"caf=C3=A9 =\r\nau lait=3D=\nx = y=ZZ="),
            "café au lait=x = y=ZZ=".as_bytes()
        );
        assert_eq!(decode_qp(b"a=  \r\nb"), b"ab");
        assert_eq!(
            header_value(b"To: a@b.c,\r\n  d@e.f\r\n").as_deref(),
            Some("a@b.c, d@e.f")
        );
        assert_eq!(
            header_value(b"Subject: =?UTF-8?B?Y2Fmw6k=?=\r\n").as_deref(),
            Some("café")
        );
        assert_eq!(header_value(b"no colon"), None);
    }

    #[test]
    fn bounded_cuts_on_char_boundary() {
        assert_eq!(bounded("aé", 2), "a");
        assert_eq!(bounded("abc", 10), "abc");
    }
}
