//! Section: what real SMTP replies are made of.
//!
//! Bytes from real servers arrive in arbitrary pieces; the parser turns them into
//! replies, and each reply's codes say what happened.

use tempfail::Reply;
use tempfail::reply::{ParseError, ReplyParser};

/// What real servers sent, as one byte stream (CRLF and bare LF, a multi-line EHLO
/// ending with `250 ` as Postfix's smtp-sink does, a bare `250`).
const SERVER_BYTES: &[u8] = b"220 mx.example.com ESMTP\r\n\
250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n250 \r\n\
250 2.1.0 Ok\r\n\
450 4.2.0 <bob@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html\r\n\
421-4.7.28 [192.0.2.1      15] Our system has detected an unusual rate of\r\n\
421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n\
421-4.7.28 users from spam, mail sent from your IP address has been temporarily\r\n\
421 4.7.28 rate limited. - gsmtp\r\n\
451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719)\n\
421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints\r\n\
550-Verification failed for <nobody@example.org>\r\n550 Sender verify failed\r\n\
550 5.1.1 Benutzer \xfcnbekannt\r\n\
250\r\n";

pub fn show() {
    crate::heading("SMTP replies");
    println!("The server's bytes arrive in pieces of 7, 1 and 30 bytes, cut anywhere:");
    println!();
    let mut parser = ReplyParser::new();
    let mut pieces = Vec::new();
    let mut rest = SERVER_BYTES;
    for size in [7usize, 1, 30].into_iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    for mut piece in pieces {
        while let Some(result) = parser.parse(&mut piece) {
            match result {
                Ok(reply) => describe(&reply),
                Err(e) => println!("  error: {e}"),
            }
        }
    }
    println!();
    println!("Nothing left half-read: is_idle() = {}", parser.is_idle());

    println!();
    println!("A server that never ends its line hits a limit, with an error that names it:");
    let mut parser = ReplyParser::new();
    let junk = vec![b'x'; 10_000];
    let mut input = &junk[..];
    if let Some(Err(e @ ParseError::LineTooLong { .. })) = parser.parse(&mut input) {
        println!("  error: {e}");
    }
    println!("  buffered afterwards: {} bytes", parser.buffered_bytes());

    println!();
    println!("Replies quoted in bounces and logs:");
    for text in [
        "host mx.example.com[192.0.2.1] said: 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)",
        "550-'5.7.1 <000001321defbd2a@email-bounces.amazonses.com>... Access denied' (delivery attempts: 0)",
        "smtp; 550-5.7.26 This mail has been blocked because the sender is unauthenticated. 550 5.7.26 Gmail requires all senders to authenticate. - gsmtp",
    ] {
        println!("  {text}");
        match Reply::parse_loose(text) {
            Some(reply) => describe(&reply),
            None => println!("    (no reply found)"),
        }
    }
}

fn describe(r: &Reply) {
    let kind = if r.is_positive() {
        "positive"
    } else if r.is_transient() {
        "transient"
    } else {
        "permanent"
    };
    let lines = r.lines().len();
    let text = r.text().trim_end().to_owned();
    let text = if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    };
    println!("  {} {kind:<9} {lines} line(s)  {text:?}", r.code());
    if let Some(e) = r.enhanced() {
        let what = e.description().unwrap_or("not in the IANA registry");
        println!(
            "      {e}: {} / {} / {what}",
            e.class_description(),
            e.subject_description()
        );
    }
}
