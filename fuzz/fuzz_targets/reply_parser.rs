//! Fuzzes `ReplyParser` and `Reply::parse_loose`.
//!
//! Input: four header bytes choose the mode, the limits and where the stream is cut;
//! the rest is what the server sends. Properties checked, not just survival:
//! - the replies and errors do not depend on how the bytes are split;
//! - the parser's buffers stay within `max_line_len + max_reply_bytes`;
//! - every reply respects the limits and has at least one line;
//! - every reply renders to wire bytes that parse back to an equal reply;
//! - loose parsing of the same bytes (as text) never panics and returns a code that
//!   is in the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tempfail::Reply;
use tempfail::reply::{Limits, ParseError, ReplyParser};

fn run(
    limits: Limits,
    strict: bool,
    input: &[u8],
    cuts: &[usize],
) -> Vec<Result<Reply, ParseError>> {
    let mut p = ReplyParser::with_limits(limits).strict(strict);
    let bound = limits.max_line_len + limits.max_reply_bytes;
    let mut out = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain([&input.len()]) {
        let mut piece = &input[start..end];
        while let Some(r) = p.parse(&mut piece) {
            out.push(r);
        }
        assert!(
            piece.is_empty(),
            "parse stopped before the end of its input"
        );
        assert!(
            p.buffered_bytes() <= bound,
            "{} > {bound}",
            p.buffered_bytes()
        );
        start = end;
    }
    let _ = p.take_warnings().count();
    out
}

fuzz_target!(|data: &[u8]| {
    let (header, input) = data.split_at(data.len().min(4));
    let h = |i: usize| header.get(i).copied().unwrap_or(0);
    let flags = h(0);
    let limits = if flags & 2 != 0 {
        Limits {
            max_line_len: 4 + usize::from(h(1)),
            max_lines: 1 + usize::from(h(2) % 8),
            max_reply_bytes: 4 + 2 * usize::from(h(3)),
        }
    } else {
        Limits::default()
    };
    let strict = flags & 1 != 0;

    // Cut points from a small LCG seeded by the header.
    let mut seed = u32::from_le_bytes([h(0), h(1), h(2), h(3)]) | 1;
    let mut cuts: Vec<usize> = (0..(flags >> 4))
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 8) as usize % (input.len() + 1)
        })
        .collect();
    cuts.sort_unstable();

    let whole = run(limits, strict, input, &[]);
    let split = run(limits, strict, input, &cuts);
    assert_eq!(whole, split, "split at {cuts:?} changed the result");
    if input.len() <= 64 {
        let bytewise: Vec<usize> = (0..input.len()).collect();
        assert_eq!(whole, run(limits, strict, input, &bytewise));
    }

    let wide = ReplyParser::with_limits(Limits {
        max_line_len: usize::MAX / 4,
        max_lines: usize::MAX / 4,
        max_reply_bytes: usize::MAX / 4,
    });
    for r in whole.iter().flatten() {
        let lines = r.lines().len();
        assert!(lines >= 1 && lines <= limits.max_lines);
        for l in r.lines() {
            assert!(!l.contains(&b'\n'));
            assert!(l.len() + 4 <= limits.max_line_len);
        }
        let wire = r.to_wire();
        let mut w = &wire[..];
        let mut again = wide.clone();
        let back = again.parse(&mut w);
        if r.has_mixed_codes() {
            // The wire form has one code: the reply comes back with the code it was
            // read by (never a positive one over a negative one), its lines agreeing.
            let back = back.expect("a reply").expect("it parses");
            assert_eq!(back.code(), r.code(), "render/parse mismatch");
            assert!(back.lines().eq(r.lines()));
        } else {
            assert_eq!(back, Some(Ok(r.clone())), "render/parse mismatch");
        }
        assert!(w.is_empty() && again.is_idle());
    }

    let text = String::from_utf8_lossy(input);
    if let Some(r) = Reply::parse_loose(&text) {
        assert!(text.contains(&r.code().to_string()));
        assert!(r.lines().all(|l| !l.contains(&b'\n')));
    }
});
