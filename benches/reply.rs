//! Reply parsing throughput on a realistic mix of server replies, side by side with
//! lettre's `Response::from_str` and smtp-proto's `ResponseReceiver`.
//!
//! `cargo bench --bench reply`
//!
//! Criterion measures each contender in turn; on a shared machine the load changes
//! between them, so the bench then runs paired rounds (each contender once per round,
//! rotating order) and prints the median of the per-round ratios too.
//!
//! The mix is what a sending MTA reads: whole sessions (greeting, an EHLO list, MAIL,
//! RCPT, DATA, end of data, QUIT) interleaved with the deferrals and rejections big
//! receivers send (Gmail's multi-line 421 4.7.28 and 550 5.1.1, Outlook's 451 4.7.500,
//! Yahoo's 421 4.7.0 [TSS04], postgrey's 450 4.2.0, an Exim 550 without enhanced codes).
//! All of it is CRLF-terminated ASCII so every parser accepts every reply.

use std::hint::black_box;
use std::str::FromStr;

use criterion::{Criterion, Throughput, criterion_group};
use tempfail::Reply;
use tempfail::reply::ReplyParser;

const SESSION: &[&str] = &[
    "220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n",
    "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n",
    "250 2.1.0 Ok\r\n",
    "250 2.1.5 Ok\r\n",
    "354 End data with <CR><LF>.<CR><LF>\r\n",
    "250 2.0.0 Ok: queued as 4XyZ1a2B3cD\r\n",
    "221 2.0.0 Bye\r\n",
];

const FAILURES: &[&str] = &[
    "421-4.7.28 [192.0.2.1      15] Our system has detected an unusual rate of\r\n\
     421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n\
     421-4.7.28 users from spam, mail sent from your IP address has been temporarily\r\n\
     421-4.7.28 rate limited. Please visit\r\n\
     421-4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to\r\n\
     421 4.7.28 review our Bulk Email Senders Guidelines. d9443c01a7336-2a1b2c3d4e5si123456.7 - gsmtp\r\n",
    "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n\
     550-5.1.1 double-checking the recipient's email address for typos or\r\n\
     550-5.1.1 unnecessary spaces. For more information, go to\r\n\
     550 5.1.1  https://support.google.com/mail/?p=NoSuchUser 41be03b00d2f7-5a1b2c3d4e5si123.45 - gsmtp\r\n",
    "451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719) [BN8NAM12FT041.eop-nam12.prod.protection.outlook.com 2025-01-01T00:00:00.000Z 08DC1234567890AB]\r\n",
    "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes\r\n",
    "450 4.2.0 <user@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html\r\n",
    "550-Verification failed for <nobody@example.org>\r\n550-Unrouteable address\r\n550 Sender verify failed\r\n",
];

/// 400 sessions, with a failure reply after every session.
fn mix() -> Vec<&'static str> {
    let mut out = Vec::new();
    for i in 0..400 {
        out.extend_from_slice(SESSION);
        out.push(FAILURES[i % FAILURES.len()]);
    }
    out
}

fn tempfail_stream(input: &[u8]) -> usize {
    let mut parser = ReplyParser::new();
    let mut input = input;
    let mut n = 0;
    while let Some(r) = parser.parse(&mut input) {
        let r = r.expect("the mix is valid");
        n += usize::from(r.code().as_u16()) + r.lines().len();
        black_box(&r);
    }
    n
}

fn tempfail_chunked(input: &[u8]) -> usize {
    let mut parser = ReplyParser::new();
    let mut n = 0;
    // TCP-segment-sized reads.
    for mut chunk in input.chunks(1460) {
        while let Some(r) = parser.parse(&mut chunk) {
            let r = r.expect("the mix is valid");
            n += usize::from(r.code().as_u16()) + r.lines().len();
            black_box(&r);
        }
    }
    n
}

fn tempfail_whole(replies: &[&str]) -> usize {
    let mut n = 0;
    for s in replies {
        let r = Reply::parse(s.as_bytes()).expect("the mix is valid");
        n += usize::from(r.code().as_u16()) + r.lines().len();
        black_box(&r);
    }
    n
}

fn lettre_whole(replies: &[&str]) -> usize {
    let mut n = 0;
    for s in replies {
        let r = lettre::transport::smtp::response::Response::from_str(s).expect("the mix is valid");
        n += usize::from(u16::from(r.code())) + r.message().count();
        black_box(&r);
    }
    n
}

fn smtp_proto_stream(input: &[u8]) -> usize {
    let mut rx = smtp_proto::response::parser::ResponseReceiver::default();
    let mut iter = input.iter();
    let mut n = 0;
    loop {
        match rx.parse(&mut iter) {
            Ok(r) => {
                // smtp-proto joins the lines into one message.
                n += usize::from(r.code) + 1 + r.message.matches('\n').count();
                black_box(&r);
                rx.reset();
            }
            Err(smtp_proto::Error::NeedsMoreData { .. }) => break,
            Err(e) => panic!("smtp-proto refused the mix: {e:?}"),
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let replies = mix();
    let stream: Vec<u8> = replies.concat().into_bytes();
    // Every contender reads the same replies.
    let replies_n = replies.len();
    let mut p = ReplyParser::new();
    let mut rest = &stream[..];
    let mut counted = 0;
    while let Some(r) = p.parse(&mut rest) {
        r.expect("the mix is valid");
        counted += 1;
    }
    assert_eq!(counted, replies_n);
    let codes = |f: &dyn Fn() -> usize| f();
    let expected = codes(&|| tempfail_stream(&stream));
    assert_eq!(tempfail_chunked(&stream), expected);
    assert_eq!(tempfail_whole(&replies), expected);
    assert_eq!(lettre_whole(&replies), expected);
    let sp = smtp_proto_stream(&stream);
    println!(
        "mix: {replies_n} replies, {} bytes (smtp-proto check {})",
        stream.len(),
        if sp == expected { "ok" } else { "differs" }
    );

    let mut g = c.benchmark_group("reply_mix");
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("tempfail_stream", |b| {
        b.iter(|| tempfail_stream(black_box(&stream)))
    });
    g.bench_function("tempfail_chunked_1460", |b| {
        b.iter(|| tempfail_chunked(black_box(&stream)))
    });
    g.bench_function("tempfail_whole_reply", |b| {
        b.iter(|| tempfail_whole(black_box(&replies)))
    });
    g.bench_function("smtp_proto_stream", |b| {
        b.iter(|| smtp_proto_stream(black_box(&stream)))
    });
    g.bench_function("lettre_from_str", |b| {
        b.iter(|| lettre_whole(black_box(&replies)))
    });
    g.finish();
}

/// Paired rounds: every contender parses the whole mix once per round, in rotating
/// order, so load from other processes hits them alike; prints each one's median time
/// and the median over rounds of its time relative to `tempfail_stream`.
#[allow(clippy::disallowed_methods)] // a benchmark reads the clock
fn paired(rounds: usize) {
    use std::time::Instant;
    let replies = mix();
    let stream: Vec<u8> = replies.concat().into_bytes();
    type Contender<'a> = (&'static str, Box<dyn Fn() -> usize + 'a>);
    let contenders: Vec<Contender<'_>> = vec![
        (
            "tempfail_stream",
            Box::new(|| tempfail_stream(black_box(&stream))),
        ),
        (
            "tempfail_chunked_1460",
            Box::new(|| tempfail_chunked(black_box(&stream))),
        ),
        (
            "tempfail_whole_reply",
            Box::new(|| tempfail_whole(black_box(&replies))),
        ),
        (
            "smtp_proto_stream",
            Box::new(|| smtp_proto_stream(black_box(&stream))),
        ),
        (
            "lettre_from_str",
            Box::new(|| lettre_whole(black_box(&replies))),
        ),
    ];
    let n = contenders.len();
    let mut times = vec![Vec::with_capacity(rounds); n];
    for round in 0..rounds {
        for k in 0..n {
            let i = (round + k) % n;
            let start = Instant::now();
            black_box((contenders[i].1)());
            times[i].push(start.elapsed().as_secs_f64());
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let base = times[0].clone();
    println!();
    println!(
        "paired rounds: {rounds} x {} replies, {} bytes",
        replies.len(),
        stream.len()
    );
    println!(
        "{:<24} {:>10} {:>12} {:>10} {:>16}",
        "contender", "median", "replies/s", "MB/s", "time / tempfail"
    );
    for (i, (name, _)) in contenders.iter().enumerate() {
        let mut ratios: Vec<f64> = times[i].iter().zip(&base).map(|(t, b)| t / b).collect();
        let t = median(&mut times[i].clone());
        println!(
            "{name:<24} {:>8.1}us {:>12.0} {:>10.1} {:>15.2}x",
            t * 1e6,
            replies.len() as f64 / t,
            stream.len() as f64 / t / 1e6,
            median(&mut ratios)
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(40)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Only under `cargo bench` (criterion passes --bench), not `cargo test --benches`.
    if std::env::args().any(|a| a == "--bench") {
        paired(400);
    }
}
