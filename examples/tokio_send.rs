//! The same as `examples/send.rs`, driven from tokio: the sans-io [`Session`] in an
//! async sender. Reads wait for input or the session's deadline, whichever is first.
//!
//! ```text
//! cargo run --example tokio_send -- --server 127.0.0.1:2525 --from a@example.org \
//!     --to b@example.com [--to c@example.com ...] [--count N] [--json] [--timeout SECS]
//! ```

#[allow(dead_code)]
#[path = "send.rs"]
pub mod blocking;

use std::collections::HashMap;
use std::io;

use blocking::{Line, Options, Report, message, parse_args};
use tempfail::session::{
    Envelope, Event, MessageInfo, Output, Session, SessionConfig, Timeouts, TlsMode,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Delivers `opts.count` messages over one connection.
pub async fn run(opts: &Options) -> io::Result<Report> {
    let mut report = Report::default();
    let mut stream = TcpStream::connect(&opts.server).await?;
    stream.set_nodelay(true)?;
    let mut cfg = SessionConfig::new("client.example.org");
    cfg.tls = TlsMode::Disabled;
    if let Some(t) = opts.timeout {
        cfg.timeouts = Timeouts::all(t);
    }
    // tokio's clock (pausable in tests) drives the machine's std Instants.
    let mut session = Session::new(cfg, Instant::now().into_std());
    let mut message_of = HashMap::new();
    let bodies: Vec<Vec<u8>> = (0..opts.count).map(|i| message(opts, i)).collect();
    for (i, body) in bodies.iter().enumerate() {
        let env = Envelope::new(
            MessageInfo::new(opts.from.as_str()).size(body.len() as u64),
            opts.to.iter().map(String::as_str),
        );
        let id = session
            .submit(env)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        message_of.insert(id, i);
    }
    session.quit();

    let mut rbuf = vec![0u8; 64 * 1024];
    let mut wbuf = Vec::with_capacity(8192);
    loop {
        let mut deadline = None;
        while let Some(out) = session.poll_output() {
            match out {
                Output::Transmit(bytes) => wbuf.extend_from_slice(&bytes),
                Output::Event(Event::BodyWanted { transaction }) => {
                    let i = message_of.get(&transaction).copied().unwrap_or(0);
                    let now = Instant::now().into_std();
                    session
                        .send_body_chunk(now, &bodies[i])
                        .and_then(|()| session.finish_body(now))
                        .map_err(|e| io::Error::other(e.to_string()))?;
                }
                Output::Event(Event::Recipient {
                    transaction,
                    outcome,
                }) => {
                    let i = message_of.get(&transaction).copied().unwrap_or(0);
                    let rcpt = opts.to.get(outcome.rcpt).cloned().unwrap_or_default();
                    let line = Line::from_outcome(i, rcpt, &outcome);
                    if opts.json {
                        println!("{}", line.to_json());
                    }
                    report.lines.push(line);
                }
                Output::Event(Event::Ready) => {
                    report.capabilities = session.capabilities().cloned();
                }
                Output::Event(_) => {}
                Output::StartTls => unreachable!("TLS is disabled in this example"),
                Output::Close => {}
                Output::Timeout(d) => deadline = Some(d),
            }
        }
        if !wbuf.is_empty() {
            report.writes += 1;
            let r = stream.write_all(&wbuf).await;
            wbuf.clear();
            if r.is_err() {
                session.handle_eof(Instant::now().into_std());
                continue;
            }
        }
        if session.is_closed() {
            break;
        }
        let read = stream.read(&mut rbuf);
        let r = match deadline {
            Some(d) => match tokio::time::timeout_at(Instant::from_std(d), read).await {
                Ok(r) => r,
                Err(_elapsed) => {
                    session.handle_timeout(Instant::now().into_std());
                    continue;
                }
            },
            None => read.await,
        };
        let now = Instant::now().into_std();
        match r {
            Ok(0) | Err(_) => session.handle_eof(now),
            Ok(n) => session.handle_input(now, &rbuf[..n]),
        }
    }
    Ok(report)
}

#[allow(dead_code)] // the tests include this file for `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "{e}\nusage: tokio_send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...] [--count N] [--json] [--timeout SECS]"
            );
            std::process::exit(2);
        }
    };
    match run(&opts).await {
        Ok(r) => {
            if !opts.json {
                let delivered = r.lines.iter().filter(|l| l.outcome == "delivered").count();
                println!(
                    "{delivered} of {} recipient deliveries accepted",
                    r.lines.len()
                );
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
