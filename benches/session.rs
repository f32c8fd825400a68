//! Session machine benchmarks.
//!
//! - `session/in_memory`: the machine alone, a pipelined 1-recipient transaction with
//!   a 1 KB body on a session that is already past its handshake (submit, replies,
//!   body, final reply, every output drained).
//! - `session/loopback`: messages per second against Postfix's `smtp-sink` on
//!   127.0.0.1 (started here; skipped with a notice when it is not installed), one
//!   message at a time on a connection that stays open: this crate's session with a
//!   blocking `std::net` driver (as in `examples/send.rs`) versus lettre's
//!   `SmtpTransport` (its default pooled connection, reused across messages), same messages,
//!   same run. Plus `examples/send.rs`'s own `run` (100 messages per connection,
//!   the next envelope pipelined behind each body).

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use tempfail::session::{Envelope, Event, MessageInfo, Output, Session, SessionConfig, TlsMode};

#[path = "../tests/smtp_sink_util/mod.rs"]
mod smtp_sink_util;

#[allow(dead_code)]
#[path = "../examples/send.rs"]
mod send;

fn body_1k() -> Vec<u8> {
    let mut b =
        b"From: <a@example.org>\r\nTo: <b@example.com>\r\nSubject: benchmark\r\n\r\n".to_vec();
    while b.len() < 1024 - 2 {
        b.extend_from_slice(b"The quick brown fox jumps over the lazy dog. .0123456789\r\n");
    }
    b.truncate(1022);
    b.extend_from_slice(b"\r\n");
    b
}

fn config() -> SessionConfig {
    let mut c = SessionConfig::new("client.example.org");
    c.tls = TlsMode::Disabled;
    c
}

/// Drains the session's outputs; streams `body` on request; returns bytes to send
/// and whether the transaction finished.
fn drain(s: &mut Session, now: Instant, body: &[u8], wire: &mut Vec<u8>) -> bool {
    let mut done = false;
    while let Some(o) = s.poll_output() {
        match o {
            Output::Transmit(b) => {
                wire.extend_from_slice(&b);
                s.handle_written(now, b.len()).unwrap();
            }
            Output::Event(Event::BodyWanted { .. }) => {
                s.send_body_chunk(now, body).unwrap();
                s.finish_body(now).unwrap();
            }
            Output::Event(Event::TransactionDone { delivered, .. }) => {
                assert_eq!(delivered, 1);
                done = true;
            }
            Output::Event(_) | Output::Timeout(_) => {}
            Output::StartTls | Output::Close => panic!("unexpected output"),
        }
    }
    done
}

#[allow(clippy::disallowed_methods)] // the benchmark's virtual clock origin
fn in_memory(c: &mut Criterion) {
    let body = body_1k();
    let now = Instant::now();
    let mut s = Session::new(config(), now);
    let mut wire = Vec::new();
    s.handle_input(now, b"220 mx.example.com ESMTP Postfix\r\n");
    s.handle_input(
        now,
        b"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n",
    );
    drain(&mut s, now, &body, &mut wire);
    let mut g = c.benchmark_group("session");
    g.throughput(Throughput::Elements(1));
    g.bench_function("in_memory/pipelined_1rcpt_1KiB", |b| {
        b.iter(|| {
            wire.clear();
            s.submit(Envelope::new(
                MessageInfo::new("a@example.org").size(1024),
                ["b@example.com"],
            ))
            .unwrap();
            drain(&mut s, now, &body, &mut wire);
            s.handle_input(
                now,
                b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
            );
            drain(&mut s, now, &body, &mut wire);
            s.handle_input(now, b"250 2.0.0 Ok: queued as 4ABCDEF\r\n");
            let done = drain(&mut s, now, &body, &mut wire);
            assert!(done);
            black_box(wire.len())
        })
    });
    g.finish();
}

/// This thread's CPU time in nanoseconds (first field of /proc/thread-self/schedstat).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The in-memory transaction again, in batches of 100,000, timed with this thread's
/// CPU time as well as the wall clock: on a machine shared with other work, CPU
/// time is what the machine itself costs. Printed as medians of 7 batches.
#[allow(clippy::disallowed_methods)] // timing
fn cpu_time_in_memory() {
    let Some(_) = thread_cpu_ns() else {
        return;
    };
    const N: u32 = 100_000;
    let body = body_1k();
    let now = Instant::now();
    let mut s = Session::new(config(), now);
    let mut wire = Vec::new();
    s.handle_input(now, b"220 mx.example.com ESMTP Postfix\r\n");
    s.handle_input(
        now,
        b"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n",
    );
    drain(&mut s, now, &body, &mut wire);
    let mut cpu = Vec::new();
    let mut wall = Vec::new();
    for _ in 0..7 {
        let (c0, w0) = (thread_cpu_ns().unwrap_or(0), Instant::now());
        for _ in 0..N {
            wire.clear();
            s.submit(Envelope::new(
                MessageInfo::new("a@example.org").size(1024),
                ["b@example.com"],
            ))
            .unwrap();
            drain(&mut s, now, &body, &mut wire);
            s.handle_input(
                now,
                b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
            );
            drain(&mut s, now, &body, &mut wire);
            s.handle_input(now, b"250 2.0.0 Ok: queued as 4ABCDEF\r\n");
            assert!(drain(&mut s, now, &body, &mut wire));
            black_box(wire.len());
        }
        wall.push(w0.elapsed().as_nanos() as f64 / f64::from(N));
        cpu.push(thread_cpu_ns().unwrap_or(0).saturating_sub(c0) as f64 / f64::from(N));
    }
    cpu.sort_by(f64::total_cmp);
    wall.sort_by(f64::total_cmp);
    println!(
        "\nsession/in_memory/pipelined_1rcpt_1KiB in batches of {N}: median CPU time {:.2} µs, median wall time {:.2} µs per transaction",
        cpu[3] / 1000.0,
        wall[3] / 1000.0
    );
}

/// This crate's session over a kept-open connection, one message at a time.
struct Ours {
    stream: TcpStream,
    s: Session,
    rbuf: Vec<u8>,
    wire: Vec<u8>,
}

impl Ours {
    #[allow(clippy::disallowed_methods)] // a driver reads the clock
    fn connect(addr: &str) -> Ours {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        let mut o = Ours {
            stream,
            s: Session::new(config(), Instant::now()),
            rbuf: vec![0; 65536],
            wire: Vec::new(),
        };
        // Handshake until Ready.
        while !o.s.is_idle() {
            o.round(&[]);
        }
        o
    }

    /// Flushes outputs, writes, reads once.
    #[allow(clippy::disallowed_methods)]
    fn round(&mut self, body: &[u8]) -> bool {
        let now = Instant::now();
        let done = drain(&mut self.s, now, body, &mut self.wire);
        if !self.wire.is_empty() {
            self.stream.write_all(&self.wire).unwrap();
            self.wire.clear();
        }
        if done {
            return true;
        }
        let n = self.stream.read(&mut self.rbuf).unwrap();
        assert!(n > 0, "server closed");
        self.s.handle_input(Instant::now(), &self.rbuf[..n]);
        false
    }

    fn send(&mut self, body: &[u8]) {
        self.s
            .submit(Envelope::new(
                MessageInfo::new("a@example.org").size(body.len() as u64),
                ["b@example.com"],
            ))
            .unwrap();
        while !self.round(body) {}
    }
}

fn loopback(c: &mut Criterion) {
    let Some(sink) = smtp_sink_util::Sink::start(&[]) else {
        eprintln!("notice: smtp-sink not installed: skipping the loopback benchmarks");
        return;
    };
    let body = body_1k();
    let mut g = c.benchmark_group("session/loopback");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));

    let mut ours = Ours::connect(&sink.addr);
    g.bench_function("tempfail_session_per_message", |b| {
        b.iter(|| ours.send(&body))
    });

    use lettre::Transport;
    use lettre::address::{Address, Envelope as LEnvelope};
    let conn = lettre_transport(&sink.addr);
    let env = LEnvelope::new(
        Some("a@example.org".parse::<Address>().unwrap()),
        vec!["b@example.com".parse::<Address>().unwrap()],
    )
    .unwrap();
    g.bench_function("lettre_smtp_transport_per_message", |b| {
        b.iter(|| {
            let r = conn.send_raw(&env, &body).unwrap();
            black_box(r)
        })
    });

    // The example's own driver: 100 messages per connection (connect and QUIT
    // included), each message's envelope pipelined behind the previous body.
    g.throughput(Throughput::Elements(100));
    let opts = send::Options {
        server: sink.addr.clone(),
        from: "a@example.org".into(),
        to: vec!["b@example.com".into()],
        count: 100,
        json: false,
        timeout: None,
        budget: None,
        pad: 0,
    };
    g.bench_function("send_example_100_per_connection", |b| {
        b.iter(|| {
            let r = send::run(&opts).unwrap();
            assert_eq!(r.lines.len(), 100);
            black_box(r.writes)
        })
    });
    g.finish();
    drop(sink);
}

/// Paired rounds on loopback: each round sends the same 10 messages with every
/// contender, in rotating order; printed as medians over rounds, with the ratio to
/// lettre taken within each round (so load that comes and goes affects both alike).
#[allow(clippy::disallowed_methods)] // timing
fn paired_rounds() {
    let Some(sink) = smtp_sink_util::Sink::start(&[]) else {
        return;
    };
    use lettre::Transport;
    use lettre::address::{Address, Envelope as LEnvelope};
    const N: usize = 10;
    const ROUNDS: usize = 21;
    let body = body_1k();
    let env = LEnvelope::new(
        Some("a@example.org".parse::<Address>().unwrap()),
        vec!["b@example.com".parse::<Address>().unwrap()],
    )
    .unwrap();
    let mut ours = Ours::connect(&sink.addr);
    let conn = lettre_transport(&sink.addr);
    let opts = send::Options {
        server: sink.addr.clone(),
        from: "a@example.org".into(),
        to: vec!["b@example.com".into()],
        count: N,
        json: false,
        timeout: None,
        budget: None,
        pad: 0,
    };
    let names = [
        "tempfail_session_per_message",
        "send_example_10_per_connection",
        "lettre_smtp_transport_per_message",
    ];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); 3];
    for round in 0..ROUNDS {
        let mut t = [0f64; 3];
        for k in 0..3 {
            let c = (k + round) % 3;
            let start = Instant::now();
            match c {
                0 => (0..N).for_each(|_| ours.send(&body)),
                1 => {
                    let r = send::run(&opts).unwrap();
                    assert_eq!(r.lines.len(), N);
                }
                _ => (0..N).for_each(|_| {
                    conn.send_raw(&env, &body).unwrap();
                }),
            }
            t[c] = start.elapsed().as_secs_f64();
        }
        for c in 0..3 {
            rates[c].push(N as f64 / t[c]);
            ratios[c].push(t[2] / t[c]);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("\nsession/loopback paired rounds ({ROUNDS} rounds of {N} messages, medians):");
    println!("| contender | messages/s | speed vs lettre |");
    println!("|---|---:|---:|");
    for c in 0..3 {
        println!(
            "| {} | {:.0} | {:.1}x |",
            names[c],
            median(&mut rates[c]),
            median(&mut ratios[c])
        );
    }
}

criterion_group!(benches, in_memory, loopback);

fn main() {
    benches();
    cpu_time_in_memory();
    paired_rounds();
    Criterion::default().configure_from_args().final_summary();
}

/// lettre's `SmtpTransport` to `addr` with its default connection pool (the
/// `pool` feature): one connection, reused across messages.
fn lettre_transport(addr: &str) -> lettre::SmtpTransport {
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    lettre::SmtpTransport::builder_dangerous(host)
        .port(port.parse().expect("port"))
        .timeout(Some(Duration::from_secs(30)))
        .build()
}
