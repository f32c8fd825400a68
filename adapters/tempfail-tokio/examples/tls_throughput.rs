//! Messages per second over STARTTLS to a local Postfix: the tokio sender with one
//! connection per message and with connection reuse, beside lettre's
//! `SmtpTransport` (rustls) with a fresh transport per message and with its pool,
//! in the same run, interleaved, several runs. Also the client's own CPU time per
//! message (this process only; Postfix's is not counted).
//!
//! ```text
//! bash tests/servers/postfix-tls.sh start 12625 127.0.0.3 127.0.0.4 good.test mx-tls.good.test /tmp/tempfail-postfix-tls-bench
//! cargo run --release -p tempfail-tokio --example tls_throughput -- \
//!     --port 12625 --ca /tmp/tempfail-postfix-tls-bench/tls/ca.pem --messages 300 --runs 5
//! bash tests/servers/postfix-tls.sh stop /tmp/tempfail-postfix-tls-bench
//! ```
//!
//! Every message must be accepted (`250` after the dot, over TLS); a run that
//! is not stops the program with status 1.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use lettre::address::Envelope as LettreEnvelope;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{SmtpTransport, Transport};
use tempfail::route::{MxAnswer, MxRecord};
use tempfail::session::{Envelope, TlsMode};
use tempfail_tokio::{Reuse, Sender, SenderConfig, StaticResolver, TlsSettings};

struct Options {
    addr: IpAddr,
    port: u16,
    name: String,
    ca: String,
    messages: usize,
    runs: usize,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        addr: IpAddr::from([127, 0, 0, 3]),
        port: 0,
        name: "mx-tls.good.test".into(),
        ca: String::new(),
        messages: 200,
        runs: 5,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--addr" => o.addr = val()?.parse().map_err(|e| format!("--addr: {e}"))?,
            "--port" => o.port = val()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--name" => o.name = val()?,
            "--ca" => o.ca = val()?,
            "--messages" => o.messages = val()?.parse().map_err(|e| format!("--messages: {e}"))?,
            "--runs" => o.runs = val()?.parse().map_err(|e| format!("--runs: {e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.port == 0 || o.ca.is_empty() || o.messages == 0 || o.runs == 0 {
        return Err("usage: tls_throughput --port PORT --ca CA.pem [--addr 127.0.0.3] [--name mx-tls.good.test] [--messages N] [--runs R]".into());
    }
    Ok(o)
}

const BODY: &[u8] = b"From: <a@tempfail.test>\r\nTo: <user@good.test>\r\nSubject: throughput\r\n\r\nA small message over STARTTLS.\r\n";

/// This process's CPU time (user + system), from /proc (Linux).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 14th
    // field, stime the 15th, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    DriverPerMessage,
    DriverReuse,
    LettrePerMessage,
    LettrePool,
}

impl Mode {
    const ALL: [Mode; 4] = [
        Mode::DriverPerMessage,
        Mode::DriverReuse,
        Mode::LettrePerMessage,
        Mode::LettrePool,
    ];
    fn name(self) -> &'static str {
        match self {
            Mode::DriverPerMessage => "tempfail-tokio, one connection per message",
            Mode::DriverReuse => "tempfail-tokio, connection reuse",
            Mode::LettrePerMessage => "lettre SmtpTransport, one connection per message",
            Mode::LettrePool => "lettre SmtpTransport, pool (reuse)",
        }
    }
}

fn driver(o: &Options, reuse: bool) -> Sender<StaticResolver> {
    let pem = std::fs::read(&o.ca).expect("read --ca");
    let tls = TlsSettings::with_ca_pem(TlsMode::Required, &pem).expect("CA");
    let mut cfg = SenderConfig::new("client.tempfail.test", tls);
    cfg.port = o.port;
    if reuse {
        cfg.reuse = Some(Reuse {
            max_messages: usize::MAX,
            max_idle: Duration::from_secs(30),
        });
    }
    let dns = StaticResolver::new()
        .mx(
            "good.test",
            MxAnswer::Records(vec![MxRecord::new(10, o.name.as_str())]),
        )
        .host(&o.name, [o.addr]);
    Sender::new(cfg, dns)
}

fn lettre_builder(
    o: &Options,
    tls: &TlsParameters,
) -> lettre::transport::smtp::SmtpTransportBuilder {
    SmtpTransport::builder_dangerous(o.addr.to_string())
        .port(o.port)
        .hello_name(ClientId::Domain("client.tempfail.test".into()))
        .tls(Tls::Required(tls.clone()))
        .timeout(Some(Duration::from_secs(30)))
}

/// Runs `n` messages in `mode`; returns the wall time and this process's CPU time.
#[allow(clippy::disallowed_methods)] // a measurement reads the clock
fn run(o: &Options, mode: Mode, rt: &tokio::runtime::Runtime) -> (Duration, Duration) {
    let n = o.messages;
    let pem = std::fs::read(&o.ca).expect("read --ca");
    let lettre_tls = TlsParameters::builder(o.name.clone())
        .add_root_certificate(Certificate::from_pem(&pem).expect("CA"))
        .build_rustls()
        .expect("lettre TLS");
    let lettre_env = LettreEnvelope::new(
        Some("a@tempfail.test".parse().unwrap()),
        vec!["user@good.test".parse().unwrap()],
    )
    .unwrap();
    let env = Envelope::new("a@tempfail.test", ["user@good.test"]);
    let (c0, t0) = (cpu(), Instant::now());
    match mode {
        Mode::DriverPerMessage | Mode::DriverReuse => rt.block_on(async {
            let mut s = driver(o, mode == Mode::DriverReuse);
            for _ in 0..n {
                let sent = s.send(&env, BODY).await.expect("envelope");
                let ok = sent.outcomes[0].is_success()
                    && sent.destinations[0].ended_on().is_some_and(|h| h.tls);
                if !ok {
                    eprintln!("not delivered over TLS: {sent:#?}");
                    std::process::exit(1);
                }
            }
            s.close().await;
        }),
        Mode::LettrePerMessage => {
            for _ in 0..n {
                // A fresh transport: one connection (QUIT when dropped).
                let t = lettre_builder(o, &lettre_tls)
                    .pool_config(PoolConfig::new().max_size(1))
                    .build();
                if let Err(e) = t.send_raw(&lettre_env, BODY) {
                    eprintln!("lettre: {e}");
                    std::process::exit(1);
                }
            }
        }
        Mode::LettrePool => {
            let t = lettre_builder(o, &lettre_tls)
                .pool_config(
                    PoolConfig::new()
                        .max_size(1)
                        .idle_timeout(Duration::from_secs(30)),
                )
                .build();
            for _ in 0..n {
                if let Err(e) = t.send_raw(&lettre_env, BODY) {
                    eprintln!("lettre: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    (t0.elapsed(), cpu().saturating_sub(c0))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 0 {
        (v[m - 1] + v[m]) / 2.0
    } else {
        v[m]
    }
}

fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let _ = SocketAddr::new(o.addr, o.port);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); Mode::ALL.len()];
    let mut cpus: Vec<Vec<f64>> = vec![Vec::new(); Mode::ALL.len()];
    for r in 0..o.runs {
        // Rotate the order each run: no mode always runs first or last.
        for k in 0..Mode::ALL.len() {
            let i = (k + r) % Mode::ALL.len();
            let (wall, cpu) = run(&o, Mode::ALL[i], &rt);
            let rate = o.messages as f64 / wall.as_secs_f64();
            let cpu_ms = cpu.as_secs_f64() * 1000.0 / o.messages as f64;
            println!(
                "run {r} {:<50} {rate:>8.1} msg/s  {cpu_ms:>6.2} ms CPU/msg",
                Mode::ALL[i].name()
            );
            rates[i].push(rate);
            cpus[i].push(cpu_ms);
        }
    }
    println!(
        "\n{} messages x {} runs, medians (ratio to lettre in the same connection mode):",
        o.messages, o.runs
    );
    let med: Vec<(f64, f64)> = (0..Mode::ALL.len())
        .map(|i| (median(&mut rates[i]), median(&mut cpus[i])))
        .collect();
    for (i, m) in Mode::ALL.iter().enumerate() {
        let peer = match m {
            Mode::DriverPerMessage => Some(2),
            Mode::DriverReuse => Some(3),
            _ => None,
        };
        let ratio = peer.map_or(String::new(), |p| {
            format!(
                "  (x{:.2} msg/s, x{:.2} CPU)",
                med[i].0 / med[p].0,
                med[i].1 / med[p].1.max(1e-9)
            )
        });
        println!(
            "{:<50} {:>8.1} msg/s  {:>6.2} ms CPU/msg{ratio}",
            m.name(),
            med[i].0,
            med[i].1
        );
    }
}
