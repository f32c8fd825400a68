//! Real servers on loopback for the driver's tests, started once per test binary
//! while any test holds them: dnsmasq on a private port with the records below,
//! and a private Postfix with STARTTLS on 127.0.0.3 and without it on 127.0.0.4
//! (same port), nothing at all on 127.0.0.2. Started by
//! `tests/servers/dnsmasq.sh` and `tests/servers/postfix-tls.sh`.
//!
//! Without dnsmasq or Postfix (or without root), the tests print a notice and
//! pass, unless `TEMPFAIL_REQUIRE_SERVERS=1` or `TEMPFAIL_REQUIRE_SMTP_SINK=1`
//! (CI), which make the absence a failure.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const POSTFIX_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/servers/postfix-tls.sh"
);
pub const DNSMASQ_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/servers/dnsmasq.sh"
);

/// The MX host that refuses connections, the Postfix service with STARTTLS,
/// and the one without.
pub const REFUSE_ADDR: &str = "127.0.0.2";
pub const TLS_ADDR: &str = "127.0.0.3";
pub const PLAIN_ADDR: &str = "127.0.0.4";

/// Domains Postfix accepts mail for.
pub const DOMAINS: &str =
    "good.test plainfirst.test plainonly.test badcert.test badcertonly.test implicit.test";
/// Names the server's certificate is valid for.
pub const SANS: &str = "mx-tls.good.test implicit.test";

/// The zone: MX, A, null MX; any other name under `.test` does not exist.
pub const RECORDS: &str = "\
local=/test/
host-record=mx-refuse.good.test,127.0.0.2
host-record=mx-tls.good.test,127.0.0.3
host-record=mx-plain.good.test,127.0.0.4
host-record=wrong-name.badcert.test,127.0.0.3
host-record=implicit.test,127.0.0.3
mx-host=good.test,mx-refuse.good.test,10
mx-host=good.test,mx-tls.good.test,20
mx-host=plainfirst.test,mx-plain.good.test,10
mx-host=plainfirst.test,mx-tls.good.test,20
mx-host=plainonly.test,mx-plain.good.test,10
mx-host=badcert.test,wrong-name.badcert.test,10
mx-host=badcert.test,mx-tls.good.test,20
mx-host=badcertonly.test,wrong-name.badcert.test,10
mx-host=nullmx.test,.,0
";

pub fn required() -> bool {
    ["TEMPFAIL_REQUIRE_SERVERS", "TEMPFAIL_REQUIRE_SMTP_SINK"]
        .iter()
        .any(|v| std::env::var(v).as_deref() == Ok("1"))
}

/// True when running as root.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn which(names: &[&str]) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin"]
        .iter()
        .flat_map(|d| names.iter().map(move |n| Path::new(d).join(n)))
        .find(|p| p.exists())
}

/// A port free on every address the tests use.
fn free_tcp_port() -> u16 {
    for _ in 0..50 {
        let Ok(l) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
        drop(l);
        let free = [REFUSE_ADDR, TLS_ADDR, PLAIN_ADDR]
            .iter()
            .all(|a| TcpListener::bind((*a, port)).is_ok());
        if port != 0 && free {
            return port;
        }
    }
    panic!("no free loopback port");
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

/// The running servers.
pub struct Servers {
    /// The SMTP port of every MX host.
    pub port: u16,
    /// dnsmasq's address.
    pub dns: SocketAddr,
    /// The CA that signed the server's certificate (PEM).
    pub ca_pem: Vec<u8>,
    /// A CA that signed nothing (PEM).
    pub other_ca_pem: Vec<u8>,
    pub postfix_dir: PathBuf,
    pub dns_dir: PathBuf,
}

impl Servers {
    pub fn maillog(&self) -> String {
        std::fs::read_to_string(self.postfix_dir.join("maillog")).unwrap_or_default()
    }

    pub fn dns_log(&self) -> String {
        std::fs::read_to_string(self.dns_dir.join("dnsmasq.log")).unwrap_or_default()
    }

    fn start() -> Option<Servers> {
        let missing: Vec<&str> = [
            ("dnsmasq", which(&["dnsmasq"]).is_none()),
            (
                "postfix",
                which(&["postfix"]).is_none() || which(&["postconf"]).is_none(),
            ),
            ("openssl", which(&["openssl"]).is_none()),
            ("root", !is_root()),
        ]
        .iter()
        .filter(|(_, m)| *m)
        .map(|(n, _)| *n)
        .collect();
        if !missing.is_empty() {
            if required() {
                panic!(
                    "TEMPFAIL_REQUIRE_SERVERS=1 but missing: {} (apt-get install dnsmasq-base postfix openssl; run as root)",
                    missing.join(", ")
                );
            }
            eprintln!(
                "notice: dnsmasq, postfix and openssl (as root) are needed, missing {}: skipping this real-server test",
                missing.join(", ")
            );
            return None;
        }
        let tmp = std::env::temp_dir();
        let postfix_dir = tmp.join("tempfail-postfix-tls");
        let dns_dir = tmp.join("tempfail-dnsmasq");
        let port = free_tcp_port();
        let st = Command::new("bash")
            .args([
                POSTFIX_SCRIPT,
                "start",
                &port.to_string(),
                TLS_ADDR,
                PLAIN_ADDR,
                DOMAINS,
                SANS,
                &postfix_dir.to_string_lossy(),
            ])
            .status()
            .expect("run postfix-tls.sh");
        assert!(st.success(), "postfix-tls.sh start failed");
        std::fs::create_dir_all(&dns_dir).expect("dnsmasq dir");
        let records = dns_dir.join("records.conf");
        std::fs::write(&records, RECORDS).expect("write records");
        let mut dns = None;
        for _ in 0..5 {
            let p = free_udp_port();
            let st = Command::new("bash")
                .args([
                    DNSMASQ_SCRIPT,
                    "start",
                    &p.to_string(),
                    &records.to_string_lossy(),
                    &dns_dir.to_string_lossy(),
                ])
                .status()
                .expect("run dnsmasq.sh");
            if st.success() {
                dns = Some(p);
                break;
            }
        }
        let dns_port = dns.expect("dnsmasq did not start");
        let ca_pem = std::fs::read(postfix_dir.join("tls/ca.pem")).expect("ca.pem");
        let other_ca_pem =
            std::fs::read(postfix_dir.join("tls/other-ca.pem")).expect("other-ca.pem");
        Some(Servers {
            port,
            dns: SocketAddr::from(([127, 0, 0, 1], dns_port)),
            ca_pem,
            other_ca_pem,
            postfix_dir,
            dns_dir,
        })
    }

    fn stop(&self) {
        let _ = Command::new("bash")
            .args([POSTFIX_SCRIPT, "stop", &self.postfix_dir.to_string_lossy()])
            .status();
        let _ = Command::new("bash")
            .args([DNSMASQ_SCRIPT, "stop", &self.dns_dir.to_string_lossy()])
            .status();
    }
}

/// Shared by the tests running at the same time; stopped when the last lets go.
static SHARED: Mutex<(usize, Option<Arc<Servers>>)> = Mutex::new((0, None));

/// A hold on the servers.
pub struct Hold(pub Arc<Servers>);

impl std::ops::Deref for Hold {
    type Target = Servers;
    fn deref(&self) -> &Servers {
        &self.0
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut g = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        g.0 = g.0.saturating_sub(1);
        if g.0 == 0 {
            if let Some(s) = g.1.take() {
                s.stop();
            }
        }
    }
}

/// The servers, started if no test holds them; `None` (after a notice) when
/// they cannot run here and are not required.
pub fn servers() -> Option<Hold> {
    let mut g = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if g.1.is_none() {
        let s = Servers::start()?;
        g.1 = Some(Arc::new(s));
    }
    g.0 += 1;
    g.1.clone().map(Hold)
}

/// Waits up to 10 s for `pred` on the Postfix log; returns the log.
pub fn wait_log(s: &Servers, pred: impl Fn(&str) -> bool) -> Option<String> {
    for _ in 0..100 {
        let log = s.maillog();
        if pred(&log) {
            return Some(log);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// The Postfix queue id of the message whose Message-ID is `mid`.
pub fn queue_id(log: &str, mid: &str) -> Option<String> {
    log.lines()
        .find(|l| l.contains("cleanup[") && l.contains(&format!("message-id=<{mid}>")))
        .and_then(|l| l.split(": ").nth(1))
        .map(|q| q.trim().to_string())
}
