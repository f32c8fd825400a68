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

use std::io;
use std::time::SystemTime;

use blocking::driver::Driver;
use blocking::{Line, Options, Report, config, message, parse_args};
use tempfail::delivery::{Delivery, MessageInfo, Recipient};
use tempfail::policy::{Preset, RetryPolicy};
use tempfail::session::Session;
use tempfail::{Classifier, Timestamp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Delivers `opts.count` messages over one connection: the same shared drive loop
/// as `send` (`examples/driver`), with async I/O around it. Every read and write
/// waits at most until the session's next deadline (reply, write, budget).
pub async fn run(opts: &Options) -> io::Result<Report> {
    let mut report = Report::default();
    let mut stream = TcpStream::connect(&opts.server).await?;
    stream.set_nodelay(true)?;
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let classifier = Classifier::builtin();
    #[allow(clippy::disallowed_methods)] // a driver reads the clock for the machine
    let wall = Timestamp::from(SystemTime::now());
    let bodies: Vec<Vec<u8>> = (0..opts.count).map(|i| message(opts, i)).collect();
    let mut deliveries: Vec<Delivery> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let to = opts.to.iter().map(|t| Recipient::new(t.as_str())).collect();
            Delivery::new(wall, i as u64, to)
                .with_message(MessageInfo::new(opts.from.as_str()).size(body.len() as u64))
        })
        .collect();
    // tokio's clock (pausable in tests) drives the machine's std Instants.
    let now = || Instant::now().into_std();
    let mut driver = Driver::new(Session::new(config(opts), now()), &policy);
    for (d, body) in deliveries.iter_mut().zip(&bodies) {
        driver
            .add(d, body, wall, &opts.server)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    }
    driver.session.quit();

    let mut rbuf = vec![0u8; 64 * 1024];
    loop {
        let step = driver.poll(now(), wall);
        if let Some(caps) = step.ready {
            report.capabilities = Some(caps);
        }
        for (i, o) in &step.outcomes {
            let rcpt = opts.to.get(o.rcpt).cloned().unwrap_or_default();
            let line = Line::from_outcome(*i, rcpt, o);
            if opts.json {
                println!("{}", line.to_json());
            }
            report.lines.push(line);
        }
        let s = &mut driver.session;
        if !step.transmit.is_empty() {
            report.writes += 1;
            let mut bytes = &step.transmit[..];
            while !bytes.is_empty() && !s.is_closed() {
                let write = stream.write(bytes);
                let r = match s.deadline() {
                    Some(d) => tokio::time::timeout_at(Instant::from_std(d), write).await,
                    None => Ok(write.await),
                };
                match r {
                    Ok(Ok(n)) if n > 0 => {
                        let _ = s.handle_written(now(), n);
                        bytes = &bytes[n..];
                    }
                    Ok(_) => s.handle_eof(now()),
                    Err(_elapsed) => s.handle_timeout(now()),
                }
            }
            continue;
        }
        if step.close {
            break;
        }
        let read = stream.read(&mut rbuf);
        let r = match step.deadline {
            Some(d) => match tokio::time::timeout_at(Instant::from_std(d), read).await {
                Ok(r) => r,
                Err(_elapsed) => {
                    s.handle_timeout(now());
                    continue;
                }
            },
            None => read.await,
        };
        match r {
            Ok(0) | Err(_) => s.handle_eof(now()),
            Ok(n) => s.handle_input(now(), &rbuf[..n]),
        }
    }
    driver.finish(wall, &classifier);
    Ok(report)
}

#[allow(dead_code)] // the tests include this file for `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        print!(
            "{}",
            blocking::HELP
                .replacen("send: ", "tokio_send: ", 1)
                .replace("blocking socket", "tokio socket")
                .replace("usage: send", "usage: tokio_send")
        );
        return;
    }
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "{e}\nusage: tokio_send --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...] [--count N] [--json] [--timeout SECS] [--budget SECS]"
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
