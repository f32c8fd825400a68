//! Reply parsing from real server replies, limits, resynchronisation, and properties.

use proptest::prelude::*;
use tempfail::reply::{Limits, ParseError, ParseWarning, ReplyParser};
use tempfail::{EnhancedCode, Reply, ReplyCode};

/// Every reply (or error) the parser yields for `input` fed in one piece.
fn parse_all(parser: &mut ReplyParser, mut input: &[u8]) -> Vec<Result<Reply, ParseError>> {
    let mut out = Vec::new();
    while let Some(r) = parser.parse(&mut input) {
        out.push(r);
    }
    assert!(
        input.is_empty(),
        "parse returned None before consuming the input"
    );
    out
}

fn one(input: &[u8]) -> Reply {
    let mut p = ReplyParser::new().strict(true);
    let mut got = parse_all(&mut p, input);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(p.is_idle());
    got.remove(0).unwrap()
}

fn code(n: u16) -> ReplyCode {
    ReplyCode::new(n).unwrap()
}

fn enhanced(s: &str) -> Option<EnhancedCode> {
    Some(s.parse().unwrap())
}

const GMAIL_421: &[u8] = b"421-4.7.28 [192.0.2.1      15] Our system has detected an unusual rate of\r\n\
421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n\
421-4.7.28 users from spam, mail sent from your IP address has been temporarily\r\n\
421-4.7.28 rate limited. Please visit\r\n\
421-4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to\r\n\
421 4.7.28 review our Bulk Email Senders Guidelines. d9443c01a7336-2a1b2c3d4e5si123456.7 - gsmtp\r\n";

#[test]
fn gmail_multi_line_421_4_7_28() {
    let r = one(GMAIL_421);
    assert_eq!(r.code(), code(421));
    assert!(r.is_transient());
    assert_eq!(r.enhanced(), enhanced("4.7.28"));
    assert_eq!(
        r.enhanced().unwrap().description(),
        Some("Mail flood detected")
    );
    assert_eq!(r.lines().len(), 6);
    let text: Vec<&[u8]> = r.text_lines().collect();
    assert_eq!(
        text[0],
        b"[192.0.2.1      15] Our system has detected an unusual rate of"
    );
    // The extra space before the URL is the server's; only the code and its spaces go.
    assert_eq!(
        text[4],
        b"https://support.google.com/mail/?p=UnsolicitedRateLimitError to"
    );
    assert!(r.text().ends_with("- gsmtp"));
    assert_eq!(r.to_wire(), GMAIL_421);
}

#[test]
fn outlook_451_4_7_500() {
    let wire = b"451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719) [BN8NAM12FT041.eop-nam12.prod.protection.outlook.com]\r\n";
    let r = one(wire);
    assert_eq!((r.code(), r.enhanced()), (code(451), enhanced("4.7.500")));
    // Microsoft's own range: not in the IANA registry, but its subject is.
    assert_eq!(r.enhanced().unwrap().description(), None);
    assert_eq!(
        r.enhanced().unwrap().subject_description(),
        "Security or policy status"
    );
    assert!(r.text().starts_with("Server busy."));
}

#[test]
fn yahoo_421_4_7_0_tss04() {
    let wire = b"421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes\r\n";
    let r = one(wire);
    assert_eq!((r.code(), r.enhanced()), (code(421), enhanced("4.7.0")));
    assert!(r.text().starts_with("[TSS04] Messages from 192.0.2.1"));
    assert_eq!(r.to_wire(), wire);
}

#[test]
fn postgrey_450_4_2_0() {
    let wire = b"450 4.2.0 <user@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html\r\n";
    let r = one(wire);
    assert_eq!((r.code(), r.enhanced()), (code(450), enhanced("4.2.0")));
    assert_eq!(
        r.enhanced().unwrap().description(),
        Some("Other or undefined mailbox status")
    );
    assert!(r.is_transient());
}

#[test]
fn bare_250_and_250_space() {
    for wire in [&b"250\r\n"[..], b"250 \r\n", b"250\n", b"250 \n"] {
        let r = one(wire);
        assert_eq!(r.code(), ReplyCode::OK);
        assert_eq!(r.lines().collect::<Vec<_>>(), [b""]);
        assert_eq!(r.enhanced(), None);
        assert_eq!(r.text(), "");
        assert_eq!(r.to_wire(), b"250\r\n");
    }
}

#[test]
fn smtp_sink_ehlo_ends_with_250_space() {
    let wire = b"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 \r\n";
    let r = one(wire);
    assert_eq!(r.lines().len(), 9);
    assert_eq!(r.lines().last(), Some(&b""[..]));
    assert_eq!(r.lines().nth(2), Some(&b"SIZE 10240000"[..]));
}

#[test]
fn exim_550_without_enhanced_codes() {
    let wire = b"550-Verification failed for <nobody@example.org>\r\n550-Unrouteable address\r\n550 Sender verify failed\r\n";
    let r = one(wire);
    assert_eq!((r.code(), r.enhanced()), (code(550), None));
    assert_eq!(
        r.text(),
        "Verification failed for <nobody@example.org> Unrouteable address Sender verify failed"
    );
    assert!(r.is_permanent());
}

#[test]
fn enhanced_code_without_text() {
    let r = one(b"250 2.0.0\r\n");
    assert_eq!(r.enhanced(), enhanced("2.0.0"));
    assert_eq!(r.text(), "");
    assert_eq!(r.text_lines().collect::<Vec<_>>(), [b""]);
}

#[test]
fn enhanced_code_on_some_lines_only() {
    let r = one(
        b"550-Message rejected\r\n550-5.7.1 see https://example.com/policy\r\n550 for details\r\n",
    );
    assert_eq!(r.enhanced(), enhanced("5.7.1"));
    assert_eq!(
        r.text(),
        "Message rejected see https://example.com/policy for details"
    );
}

#[test]
fn non_utf8_text_is_kept_and_shown_lossily() {
    let wire = b"550 5.1.1 Benutzer \xfcnbekannt\r\n";
    let r = one(wire);
    assert_eq!(r.lines().next(), Some(&b"5.1.1 Benutzer \xfcnbekannt"[..]));
    assert_eq!(r.text(), "Benutzer \u{fffd}nbekannt");
    assert_eq!(r.to_wire(), wire);
}

#[test]
fn bare_lf_and_mixed_line_endings() {
    let r = one(b"250-one\n250-two\r\n250 three\n");
    assert_eq!(
        r.lines().collect::<Vec<_>>(),
        [&b"one"[..], b"two", b"three"]
    );
    // A CR not followed by LF belongs to the text.
    let r = one(b"250 a\rb\r\r\n");
    assert_eq!(r.lines().next(), Some(&b"a\rb\r"[..]));
    assert_eq!(Reply::parse(&r.to_wire()).unwrap(), r);
}

#[test]
fn code_mismatch_lenient_keeps_first_code_and_warns() {
    let mut p = ReplyParser::new();
    let got = parse_all(&mut p, b"250-first\r\n251-second\r\n250 third\r\n");
    let r = got[0].as_ref().unwrap();
    assert_eq!(r.code(), code(250));
    assert_eq!(r.lines().len(), 3);
    let w: Vec<_> = p.take_warnings().collect();
    assert_eq!(
        w,
        [ParseWarning::CodeMismatch {
            line: 2,
            expected: code(250),
            got: code(251),
            kept: code(250),
        }]
    );
    assert_eq!(p.take_warnings().count(), 0);
    // Two positive codes: still a positive reply, but marked.
    assert!(r.has_mixed_codes());
}

#[test]
fn a_reply_whose_lines_disagree_is_read_by_its_safest_code() {
    // (wire, code read, enhanced code kept)
    let cases: [(&[u8], u16, Option<&str>); 6] = [
        (b"250-ok\r\n550 5.1.1 no such user\r\n", 550, Some("5.1.1")),
        (
            b"250-2.1.5 ok\r\n550 5.1.1 no such user\r\n",
            550,
            Some("5.1.1"),
        ),
        (b"250-ok\r\n451 4.3.0 try later\r\n", 451, Some("4.3.0")),
        // A transient code wins over a permanent one: mixed evidence is never final.
        (b"550-5.7.1 no\r\n451 4.7.1 later\r\n", 451, Some("4.7.1")),
        (
            b"451-4.7.1 later\r\n550-5.7.1 no\r\n250 ok\r\n",
            451,
            Some("4.7.1"),
        ),
        (b"354-go\r\n554 5.5.1 no\r\n", 554, Some("5.5.1")),
    ];
    for (wire, want, enh) in cases {
        let r = Reply::parse(wire).unwrap();
        assert_eq!(r.code(), code(want), "{}", wire.escape_ascii());
        assert!(r.has_mixed_codes());
        assert!(!r.code().is_positive());
        assert_eq!(r.enhanced().map(|e| e.to_string()).as_deref(), enh);
        // Any split of the bytes reads the same.
        for cut in 1..wire.len() {
            let mut p = ReplyParser::new();
            let mut got = parse_all(&mut p, &wire[..cut]);
            got.extend(parse_all(&mut p, &wire[cut..]));
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].as_ref().unwrap(), &r);
        }
    }
    // A reply whose lines agree is not marked.
    assert!(
        !Reply::parse(b"250-a\r\n250 b\r\n")
            .unwrap()
            .has_mixed_codes()
    );
}

#[test]
fn code_mismatch_strict_is_an_error_then_resyncs() {
    let mut p = ReplyParser::new().strict(true);
    let got = parse_all(
        &mut p,
        b"250-first\r\n251-second\r\n250 third\r\n220 next\r\n",
    );
    assert_eq!(
        got[0],
        Err(ParseError::CodeMismatch {
            line: 2,
            expected: code(250),
            got: code(251)
        })
    );
    // The rest of the broken reply is discarded; the next reply is read normally.
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].as_ref().unwrap().code(), code(220));
    assert!(p.is_idle());
}

#[test]
fn invalid_lines_are_errors_and_the_parser_recovers() {
    let mut p = ReplyParser::new();
    let got = parse_all(
        &mut p,
        b"hello\r\n199 no\r\n250x bad separator\r\n600 no\r\n25\r\n\r\n250 ok\r\n",
    );
    assert!(matches!(&got[0], Err(ParseError::InvalidCode { line: 1, got }) if got == "hello"));
    assert!(matches!(got[1], Err(ParseError::InvalidCode { .. })));
    assert!(matches!(&got[2], Err(ParseError::InvalidSeparator { got, .. }) if got == "x"));
    assert!(matches!(got[3], Err(ParseError::InvalidCode { .. })));
    assert!(matches!(got[4], Err(ParseError::InvalidCode { .. })));
    assert!(matches!(got[5], Err(ParseError::InvalidCode { .. })));
    assert_eq!(got[6].as_ref().unwrap().text(), "ok");
    assert_eq!(got.len(), 7);
    // Error messages say what was expected and what arrived.
    let msg = got[0].as_ref().unwrap_err().to_string();
    assert!(
        msg.contains("three-digit reply code") && msg.contains("hello"),
        "{msg}"
    );
}

#[test]
fn a_garbage_line_ends_a_multi_line_reply() {
    let mut p = ReplyParser::new();
    let got = parse_all(&mut p, b"250-one\r\n<html>\r\n250 two\r\n");
    assert!(matches!(
        got[0],
        Err(ParseError::InvalidCode { line: 2, .. })
    ));
    assert_eq!(got[1].as_ref().unwrap().text(), "two");
}

#[test]
fn limits_are_named_in_errors_and_enforced() {
    let limits = Limits {
        max_line_len: 20,
        max_lines: 3,
        max_reply_bytes: 50,
    };
    let mut p = ReplyParser::with_limits(limits);
    // 20 bytes including CRLF is accepted; 21 is not.
    let got = parse_all(&mut p, b"250 0123456789abcd\r\n250 0123456789abcde\r\n");
    assert_eq!(got[0].as_ref().unwrap().text(), "0123456789abcd");
    assert_eq!(got[1], Err(ParseError::LineTooLong { line: 1, limit: 20 }));
    assert!(
        got[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("max_line_len = 20")
    );

    let got = parse_all(
        &mut p,
        b"250-a\r\n250-b\r\n250 c\r\n250-a\r\n250-b\r\n250-c\r\n250-d\r\n250 e\r\n220 x\r\n",
    );
    assert_eq!(got[0].as_ref().unwrap().lines().len(), 3);
    assert_eq!(got[1], Err(ParseError::TooManyLines { limit: 3 }));
    assert!(
        got[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("max_lines = 3")
    );
    assert_eq!(got[2].as_ref().unwrap().code(), code(220));
    assert_eq!(got.len(), 3);

    // 3 lines of 18 bytes = 54 > 50.
    let got = parse_all(
        &mut p,
        b"250-0123456789abc\r\n250-0123456789abc\r\n250 0123456789abc\r\n220 x\r\n",
    );
    assert_eq!(got[0], Err(ParseError::ReplyTooLong { limit: 50 }));
    assert!(
        got[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("max_reply_bytes = 50")
    );
    assert_eq!(got[1].as_ref().unwrap().code(), code(220));
}

#[test]
fn hundred_megabytes_without_a_newline_stay_bounded() {
    let limits = Limits::default();
    let bound = limits.max_line_len + limits.max_reply_bytes;
    let mut p = ReplyParser::new();
    let chunk = vec![b'x'; 64 * 1024];
    let mut errors = Vec::new();
    // "250-" first, so the line counts as a continuation once it ends.
    let mut head: &[u8] = b"250-";
    assert!(p.parse(&mut head).is_none());
    for _ in 0..(100 * 1024 * 1024 / chunk.len()) {
        let mut input = &chunk[..];
        while let Some(r) = p.parse(&mut input) {
            errors.push(r);
        }
        assert!(
            p.buffered_bytes() <= bound,
            "{} > {bound}",
            p.buffered_bytes()
        );
        assert!(p.buffered_bytes() <= limits.max_line_len);
    }
    // One error, reported as soon as the line passed the limit.
    assert_eq!(
        errors,
        [Err(ParseError::LineTooLong {
            line: 1,
            limit: 4096
        })]
    );
    assert!(!p.is_idle());
    // The server finally ends the line and the reply; the parser reads what follows.
    let got = parse_all(&mut p, b"\r\n250 end of the broken reply\r\n221 bye\r\n");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].as_ref().unwrap().code(), code(221));
    assert!(p.is_idle());
}

#[test]
fn many_lines_stay_bounded() {
    let limits = Limits::default();
    let mut p = ReplyParser::new();
    let line = b"250-0123456789012345678901234567890123456789\r\n";
    let mut errors = 0;
    for _ in 0..100_000 {
        let mut input = &line[..];
        while let Some(r) = p.parse(&mut input) {
            assert_eq!(r, Err(ParseError::TooManyLines { limit: 256 }));
            errors += 1;
        }
        assert!(p.buffered_bytes() <= limits.max_line_len + limits.max_reply_bytes);
    }
    assert_eq!(errors, 1);
}

#[test]
fn reply_parse_one_whole_reply() {
    assert_eq!(Reply::parse(b"250 ok").unwrap().text(), "ok");
    assert_eq!(Reply::parse(b"250 ok\r\n").unwrap().text(), "ok");
    assert_eq!(Reply::parse(b""), Err(ParseError::Empty));
    assert_eq!(Reply::parse(b"250-more\r\n"), Err(ParseError::Incomplete));
    assert_eq!(
        Reply::parse(b"250 ok\r\n220 x\r\n"),
        Err(ParseError::TrailingData { len: 7 })
    );
    assert!(matches!(
        Reply::parse(b"ok"),
        Err(ParseError::InvalidCode { .. })
    ));
}

#[test]
fn reset_forgets_a_partial_reply() {
    let mut p = ReplyParser::new();
    assert!(parse_all(&mut p, b"250-one\r\n250 tw").is_empty());
    assert!(!p.is_idle());
    p.reset();
    assert!(p.is_idle());
    assert_eq!(
        parse_all(&mut p, b"220 fresh\r\n")[0]
            .as_ref()
            .unwrap()
            .text(),
        "fresh"
    );
}

#[test]
fn reply_new_splits_lines_at_lf() {
    let r = Reply::new(code(250), ["a\nb"]);
    assert_eq!(r.lines().collect::<Vec<_>>(), [b"a", b"b"]);
    let r = Reply::new(code(250), Vec::<Vec<u8>>::new());
    assert_eq!(r.lines().len(), 1);
}

#[test]
fn display_is_for_people() {
    let r = Reply::parse(GMAIL_421).unwrap();
    let s = r.to_string();
    assert!(
        s.starts_with(
            "421 4.7.28 [192.0.2.1      15] Our system has detected an unusual rate of unsolicited"
        ),
        "{s}"
    );
    assert_eq!(Reply::parse(b"250\r\n").unwrap().to_string(), "250");
}

#[test]
fn loose_finds_replies_in_bounce_text() {
    let r = Reply::parse_loose("Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser - gsmtp").unwrap();
    assert_eq!((r.code(), r.enhanced()), (code(550), enhanced("5.1.1")));
    assert_eq!(r.lines().len(), 4);
    let r = Reply::parse_loose("550-'5.7.1 <000001321defbd2a-788e31c8@email-bounces.amazonses.com>... Access denied' (delivery attempts: 0)").unwrap();
    assert_eq!((r.code(), r.enhanced()), (code(550), enhanced("5.7.1")));
    assert_eq!(
        r.text(),
        "<000001321defbd2a-788e31c8@email-bounces.amazonses.com>... Access denied"
    );
    assert!(
        Reply::parse_loose("connect to mx.example.com[192.0.2.1]:25: Connection refused").is_none()
    );
}

// ---- properties -------------------------------------------------------------

/// Byte streams that look like a server's: mostly valid reply lines (CRLF or LF,
/// continuation or final, with and without enhanced codes, non-UTF-8 text), some broken.
fn server_bytes() -> impl Strategy<Value = Vec<u8>> {
    let text = prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(b"abc 0123456789.-<>@:;[]".to_vec()),
            1 => any::<u8>().prop_filter("no LF", |b| *b != b'\n'),
        ],
        0..40,
    );
    let line = (
        prop::sample::select(vec![
            220u16, 250, 251, 354, 421, 450, 451, 452, 550, 554, 199, 600,
        ]),
        prop::sample::select(vec![&b"-"[..], b" ", b"", b"x"]),
        prop::option::of(prop::sample::select(vec![
            &b"2.0.0 "[..],
            b"4.7.28 ",
            b"5.1.1",
            b"5.7.500 ",
        ])),
        text,
        prop::sample::select(vec![&b"\r\n"[..], b"\n", b"\r\r\n"]),
    )
        .prop_map(|(code, sep, enh, text, end)| {
            let mut l = code.to_string().into_bytes();
            l.extend_from_slice(sep);
            if let Some(e) = enh {
                l.extend_from_slice(e);
            }
            l.extend_from_slice(&text);
            l.extend_from_slice(end);
            l
        });
    let piece = prop_oneof![
        10 => line,
        1 => prop::collection::vec(any::<u8>(), 0..30),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

fn small_limits() -> impl Strategy<Value = Limits> {
    (4usize..80, 1usize..6, 4usize..300).prop_map(|(a, b, c)| Limits {
        max_line_len: a,
        max_lines: b,
        max_reply_bytes: c,
    })
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![Just(Limits::default()), small_limits()]
}

/// Feeds `input` in pieces cut at `cuts`, returning every result and checking the
/// memory bound after each piece.
fn feed_split(
    limits: Limits,
    strict: bool,
    input: &[u8],
    cuts: &[usize],
) -> (Vec<Result<Reply, ParseError>>, bool) {
    let mut p = ReplyParser::with_limits(limits).strict(strict);
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for end in cuts.into_iter().chain([input.len()]) {
        let mut piece = &input[start..end];
        while let Some(r) = p.parse(&mut piece) {
            out.push(r);
        }
        assert!(piece.is_empty());
        assert!(p.buffered_bytes() <= limits.max_line_len + limits.max_reply_bytes);
        start = end;
    }
    (out, p.is_idle())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_split_gives_the_same_replies(
        input in server_bytes(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        limits in limits(),
        strict in any::<bool>(),
    ) {
        let whole = feed_split(limits, strict, &input, &[]);
        let split = feed_split(limits, strict, &input, &cuts);
        prop_assert_eq!(&whole, &split);
        // Byte at a time, the worst split.
        let all: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(&whole, &feed_split(limits, strict, &input, &all));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_respect_limits(
        input in prop::collection::vec(any::<u8>(), 0..2000),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        limits in limits(),
    ) {
        let (out, _) = feed_split(limits, false, &input, &cuts);
        // The fewest wire bytes a line with this text can have had: code, separator
        // (none when the text is empty), text, LF.
        let min_wire = |l: &[u8]| if l.is_empty() { 4 } else { l.len() + 5 };
        for r in out.iter().flatten() {
            prop_assert!(r.lines().len() <= limits.max_lines);
            prop_assert!(r.lines().all(|l| min_wire(l) <= limits.max_line_len));
            prop_assert!(r.lines().map(min_wire).sum::<usize>() <= limits.max_reply_bytes);
        }
    }

    #[test]
    fn parse_render_parse_round_trips(input in server_bytes()) {
        let (out, _) = feed_split(Limits::default(), false, &input, &[]);
        for r in out.into_iter().flatten() {
            let wire = r.to_wire();
            if r.has_mixed_codes() {
                // The wire form has one code: a reply whose lines disagreed comes
                // back with the code it was read by, its lines agreeing on it.
                let back = Reply::parse(&wire).unwrap();
                prop_assert_eq!(back.code(), r.code());
                prop_assert!(!back.has_mixed_codes());
                prop_assert!(back.lines().eq(r.lines()));
                continue;
            }
            prop_assert_eq!(Reply::parse(&wire), Ok(r.clone()));
            // Rendering is a fixed point.
            prop_assert_eq!(Reply::parse(&wire).unwrap().to_wire(), wire);
        }
    }

    #[test]
    fn any_reply_round_trips_through_the_wire(
        code in 200u16..600,
        lines in prop::collection::vec(
            prop::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..60), 1..8),
    ) {
        let r = Reply::new(ReplyCode::new(code).unwrap(), lines.clone());
        prop_assert_eq!(r.lines().map(<[u8]>::to_vec).collect::<Vec<_>>(), lines);
        prop_assert_eq!(Reply::parse(&r.to_wire()), Ok(r));
    }

    #[test]
    fn a_stream_of_replies_reads_back_whatever_the_line_endings(
        replies in prop::collection::vec(
            (
                prop::sample::select(vec![220u16, 250, 354, 421, 450, 451, 452, 550, 554]),
                prop::collection::vec(
                    prop::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..30),
                    1..6,
                ),
            ),
            0..12,
        ),
        endings in prop::collection::vec(any::<(bool, bool)>(), 64),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        // The model: the replies themselves. The wire: each line ended by CRLF or a bare
        // LF, and a last line with empty text written as `NNN` or `NNN `.
        let replies: Vec<Reply> = replies
            .into_iter()
            .map(|(c, lines)| Reply::new(ReplyCode::new(c).unwrap(), lines))
            .collect();
        let mut wire = Vec::new();
        let mut e = endings.iter().cycle();
        for r in &replies {
            let n = r.lines().len();
            for (i, line) in r.lines().enumerate() {
                let &(crlf, space) = e.next().unwrap();
                wire.extend_from_slice(r.code().to_string().as_bytes());
                if i + 1 < n {
                    wire.push(b'-');
                } else if !line.is_empty() || space {
                    wire.push(b' ');
                }
                wire.extend_from_slice(line);
                // A text ending in CR needs CRLF after it, or its CR would be read as part of a CRLF.
                wire.extend_from_slice(if crlf || line.ends_with(b"\r") { b"\r\n" } else { b"\n" });
            }
        }
        let (got, idle) = feed_split(Limits::default(), true, &wire, &cuts);
        prop_assert!(idle);
        let got: Vec<Reply> = got.into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(got, replies);
    }

    #[test]
    fn loose_parsing_never_panics(s in ".{0,200}") {
        if let Some(r) = Reply::parse_loose(&s) {
            prop_assert!(s.contains(&r.code().to_string()));
            prop_assert!(r.lines().all(|l| !l.contains(&b'\n')));
        }
    }

    #[test]
    fn loose_parsing_finds_a_rendered_reply(
        // MTA wording: words, then `said:` as a word of its own, or a type prefix.
        prefix in "([a-z]{1,8} ){0,3}(said: |smtp; ?)",
        code in 200u16..600,
        e in prop::option::of((1u16..8, 0u16..30)),
        text in "[a-zA-Z<>@. ]{0,40}",
    ) {
        let code = ReplyCode::new(code).unwrap();
        let class = if code.class() == 3 { 2 } else { code.class() };
        let e = e.and_then(|(s, d)| EnhancedCode::new(class, s, d));
        let body = match e { Some(e) => format!("{e} {text}"), None => text.clone() };
        let s = format!("{prefix}{code} {body}");
        let r = Reply::parse_loose(&s).unwrap();
        prop_assert_eq!(r.code(), code);
        if e.is_some() { prop_assert_eq!(r.enhanced(), e); }
    }
}

#[cfg(feature = "serde")]
mod serde_round_trip {
    use super::*;

    #[test]
    fn utf8_lines_are_strings_and_others_are_bytes() {
        let r = Reply::parse(b"550-5.1.1 Benutzer \xfcnbekannt\r\n550 5.1.1 bye\r\n").unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"code":550,"lines":[[53,46,49,46,49,32,66,101,110,117,116,122,101,114,32,252,110,98,101,107,97,110,110,116],"5.1.1 bye"]}"#
        );
        let back: Reply = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.enhanced(), enhanced("5.1.1"));
    }

    #[test]
    fn invalid_input_is_refused() {
        for bad in [
            r#"{"code":150,"lines":["x"]}"#,
            r#"{"code":250,"lines":["a\nb"]}"#,
            r#"{"code":250,"lines":[[300]]}"#,
            r#"{"code":250}"#,
        ] {
            assert!(serde_json::from_str::<Reply>(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_reply_round_trips_through_json(
            code in 200u16..600,
            lines in prop::collection::vec(
                prop::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..30), 1..5),
        ) {
            let r = Reply::new(ReplyCode::new(code).unwrap(), lines);
            let json = serde_json::to_string(&r).unwrap();
            prop_assert_eq!(serde_json::from_str::<Reply>(&json).unwrap(), r);
        }
    }
}

/// Bounce text is written by whoever sent the bounce: loose parsing must stay linear
/// in it, whatever it holds. Each case here made every candidate code rescan the
/// whole start of the text.
#[test]
#[allow(clippy::disallowed_methods)] // measures its own running time
fn loose_parsing_is_linear_on_hostile_text() {
    let n = 200_000;
    let tail = " said: 550 5.1.1 user unknown";
    let cases = [
        // Long blank start, then many bare codes that are neither at the start nor
        // introduced, and the real reply last.
        format!("{}x{}{tail}", " ".repeat(n), " 450".repeat(n / 4)),
        // The same after a long run of quotes.
        format!("{}x{}{tail}", "'".repeat(n), " 450".repeat(n / 4)),
    ];
    for s in &cases {
        let started = std::time::Instant::now();
        let r = Reply::parse_loose(s);
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(2),
            "took {took:?} on {} bytes",
            s.len()
        );
        let r = r.expect("the reply at the end");
        assert_eq!(r.code().as_u16(), 550);
        assert_eq!(
            r.enhanced().map(|e| e.to_string()).as_deref(),
            Some("5.1.1")
        );
    }
}
