//! Sends N copies of a small message with the tokio sender: to the recipients'
//! domains through their MX records, or to one relay with `--server`; STARTTLS
//! off, opportunistic or required, verified against the platform's roots or a CA
//! file.
//!
//! ```text
//! cargo run -p tempfail-tokio --example send -- --from a@example.org \
//!     --to b@example.com [--to c@example.net ...] [--server HOST:PORT] \
//!     [--tls off|opportunistic|required] [--ca CA.pem] [--resolver IP:PORT] \
//!     [--port 25] [--count N] [--reuse] [--timeout SECS] [--json]
//! ```
//!
//! Without `--server`, each `--to` is routed by its domain: MX lookup (through
//! `--resolver` when given, the system's resolver otherwise), hosts in
//! preference order on `--port`. With `--json`, one line per recipient per
//! message:
//! `{"message":0,"rcpt":"b@example.com","outcome":"delivered","code":250,"enhanced":"2.0.0","category":null,"stage":"data_end","host":"mx.example.com","tls":true}`.
//! It exits with 2 for unusable arguments only; whatever the servers and DNS
//! do, every (message, recipient) gets its line and the status is 0.

use std::net::SocketAddr;
use std::time::Duration;

use tempfail::session::{Envelope, MessageInfo, Timeouts, TlsMode};
use tempfail::{Disposition, RcptOutcome};
use tempfail_tokio::{
    Destination, DnsResolver, Reuse, Sender, SenderConfig, Sent, TlsSettings, TlsSetupError,
};

const HELP: &str = "send: N copies of a small message, routed by MX (or to --server), with STARTTLS.

usage: send --from ADDR --to ADDR [--to ADDR ...] [--server HOST:PORT]
            [--tls off|opportunistic|required] [--ca CA.pem] [--resolver IP:PORT]
            [--port PORT] [--count N] [--reuse] [--timeout SECS] [--json]

Without --server, recipients are routed by their domains' MX records (through
--resolver when given), on --port (25). --tls defaults to opportunistic; the
certificate is verified against --ca when given, the platform's roots otherwise.
With --json, one line per recipient per message:
  {\"message\":0,\"rcpt\":\"b@example.com\",\"outcome\":\"delivered\",\"code\":250,\"enhanced\":\"2.0.0\",\"category\":null,\"stage\":\"data_end\",\"host\":\"mx.example.com\",\"tls\":true}
Exit status 2 for unusable arguments only.
";

/// What to send.
#[derive(Debug)]
struct Options {
    from: String,
    to: Vec<String>,
    server: Option<(String, u16)>,
    tls: TlsMode,
    ca: Option<String>,
    resolver: Option<SocketAddr>,
    port: u16,
    count: usize,
    reuse: bool,
    timeout: Option<Duration>,
    json: bool,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        from: String::new(),
        to: Vec::new(),
        server: None,
        tls: TlsMode::Opportunistic,
        ca: None,
        resolver: None,
        port: 25,
        count: 1,
        reuse: false,
        timeout: None,
        json: false,
    };
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--from" => o.from = val("--from")?,
            "--to" => o.to.push(val("--to")?),
            "--server" => {
                let v = val("--server")?;
                let (h, p) = v
                    .rsplit_once(':')
                    .ok_or(format!("--server: expected HOST:PORT, got {v:?}"))?;
                let p = p
                    .parse()
                    .map_err(|_| format!("--server: expected a port, got {p:?}"))?;
                o.server = Some((
                    h.trim_start_matches('[').trim_end_matches(']').to_string(),
                    p,
                ));
            }
            "--tls" => {
                o.tls = match val("--tls")?.as_str() {
                    "off" => TlsMode::Disabled,
                    "opportunistic" => TlsMode::Opportunistic,
                    "required" => TlsMode::Required,
                    other => {
                        return Err(format!(
                            "--tls: expected off, opportunistic or required, got {other:?}"
                        ));
                    }
                }
            }
            "--ca" => o.ca = Some(val("--ca")?),
            "--resolver" => {
                let v = val("--resolver")?;
                o.resolver = Some(
                    v.parse()
                        .map_err(|_| format!("--resolver: expected IP:PORT, got {v:?}"))?,
                );
            }
            "--port" => {
                let v = val("--port")?;
                o.port = v
                    .parse()
                    .map_err(|_| format!("--port: expected a port, got {v:?}"))?;
            }
            "--count" => {
                let v = val("--count")?;
                o.count = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or(format!("--count: expected 1 to 1000000, got {v:?}"))?;
            }
            "--timeout" => {
                let v = val("--timeout")?;
                let s: f64 = v
                    .parse()
                    .map_err(|_| format!("--timeout: expected seconds, got {v:?}"))?;
                if !s.is_finite() || s <= 0.0 || s > 86_400.0 {
                    return Err(format!("--timeout: expected 0 to 86400 seconds, got {v:?}"));
                }
                o.timeout = Some(Duration::from_secs_f64(s));
            }
            "--reuse" => o.reuse = true,
            "--json" => o.json = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.from.is_empty() || o.to.is_empty() {
        return Err("--from and at least one --to are required".into());
    }
    Ok(o)
}

fn tls(o: &Options) -> Result<TlsSettings, String> {
    let r: Result<TlsSettings, TlsSetupError> = match (&o.ca, o.tls) {
        (_, TlsMode::Disabled) => Ok(TlsSettings::disabled()),
        (Some(path), mode) => {
            let pem = std::fs::read(path).map_err(|e| format!("--ca {path}: {e}"))?;
            TlsSettings::with_ca_pem(mode, &pem)
        }
        (None, mode) => TlsSettings::platform(mode),
    };
    r.map_err(|e| e.to_string())
}

fn message(o: &Options, i: usize) -> Vec<u8> {
    format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: tempfail-tokio test message {i}\r\nMessage-ID: <{i}.{}.tempfail-tokio@example.org>\r\n\r\nThis is test message {i}.\r\n.A line that starts with a dot.\r\n",
        o.from,
        o.to.join(">, <"),
        std::process::id(),
    )
    .into_bytes()
}

fn json_line(message: usize, rcpt: &str, o: &RcptOutcome, host: Option<&str>, tls: bool) -> String {
    let c = &o.classification;
    let outcome = match c.disposition {
        Disposition::Success => "delivered",
        Disposition::Transient => "transient",
        Disposition::Permanent => "permanent",
    };
    let category = match c.disposition {
        Disposition::Success => None,
        _ => c.category.map(|c| c.name()),
    };
    fn js(s: Option<&str>) -> String {
        s.map_or_else(|| "null".into(), |s| serde_json::Value::from(s).to_string())
    }
    format!(
        "{{\"message\":{message},\"rcpt\":{},\"outcome\":{},\"code\":{},\"enhanced\":{},\"category\":{},\"stage\":{},\"host\":{},\"tls\":{tls}}}",
        js(Some(rcpt)),
        js(Some(outcome)),
        o.reply
            .as_ref()
            .map_or_else(|| "null".into(), |r| r.code().as_u16().to_string()),
        js(o.reply
            .as_ref()
            .and_then(|r| r.enhanced())
            .map(|e| e.to_string())
            .as_deref()),
        js(category),
        js(Some(o.stage.name())),
        js(host),
    )
}

/// The host each recipient's outcome came from, and whether it was over TLS.
fn host_of(sent: &Sent, rcpt: usize) -> (Option<String>, bool) {
    sent.destinations
        .iter()
        .find(|d| d.recipients.contains(&rcpt))
        .and_then(|d| d.ended_on())
        .map_or((None, false), |h| (Some(h.host.clone()), h.tls))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return;
    }
    let o = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n\n{HELP}");
            std::process::exit(2);
        }
    };
    let tls = match tls(&o) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("TLS setup: {e}");
            std::process::exit(2);
        }
    };
    let mut cfg = SenderConfig::new("client.example.org", tls);
    cfg.port = o.port;
    if let Some((host, port)) = &o.server {
        cfg.destination = Destination::Relay {
            host: host.clone(),
            port: *port,
        };
    }
    if let Some(t) = o.timeout {
        cfg.session.timeouts = Timeouts::all(t);
        cfg.connect_timeout = t;
    }
    if o.reuse {
        cfg.reuse = Some(Reuse::default());
    }
    let resolver = match o.resolver {
        Some(addr) => DnsResolver::at(addr, Duration::from_secs(5)),
        None => match DnsResolver::system() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("resolver: {e} (give --resolver IP:PORT)");
                std::process::exit(2);
            }
        },
    };
    let mut sender = Sender::new(cfg, resolver);
    let env = Envelope::new(
        MessageInfo::new(o.from.as_str()),
        o.to.iter().map(String::as_str),
    );
    let mut delivered = 0usize;
    let mut total = 0usize;
    for i in 0..o.count {
        let sent = match sender.send(&env, &message(&o, i)).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        };
        for out in &sent.outcomes {
            let rcpt = o.to.get(out.rcpt).map_or("", String::as_str);
            let (host, tls) = host_of(&sent, out.rcpt);
            total += 1;
            delivered += usize::from(out.is_success());
            if o.json {
                println!("{}", json_line(i, rcpt, out, host.as_deref(), tls));
            } else {
                println!(
                    "message {i} to {rcpt}: {} via {}{}",
                    out.classification,
                    host.as_deref().unwrap_or("(no host)"),
                    if tls { " (TLS)" } else { "" }
                );
            }
        }
    }
    sender.close().await;
    if !o.json {
        println!("{delivered} of {total} recipient deliveries accepted");
    }
}
