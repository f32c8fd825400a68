//! The sender against scripted servers in the test process (plain TCP on
//! loopback, names from a `StaticResolver`): which failures move on to the next
//! MX and which end the attempt, deadlines, bounded memory against a server
//! that never ends a line, connection reuse and its limits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tempfail::route::{MxAnswer, MxRecord};
use tempfail::session::{Envelope, Timeouts, TlsMode};
use tempfail::{Category, Disposition, Stage};
use tempfail_tokio::{Destination, Reuse, Sender, SenderConfig, StaticResolver, TlsSettings};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What a scripted server does with each connection.
#[derive(Clone, Copy, Debug)]
enum Script {
    /// A well-behaved server; `RCPT` to an address starting with `bad` is `550
    /// 5.1.1`, with `full` `452 4.2.2`.
    Accept,
    /// `421` at the greeting.
    Busy,
    /// Accepts the connection and says nothing.
    Silent,
    /// Sends bytes without a line end, forever (until the client goes).
    Flood,
    /// Closes the connection after reading the final dot, without a reply.
    DropAfterDot,
    /// `421 4.3.2` to `DATA`.
    BusyAtData,
    /// Like `Accept`, but closes the connection after each message's `250`.
    OneMessage,
    /// Answers `354` to `DATA`, then stops reading.
    StopReading,
}

struct Server {
    addr: SocketAddr,
    /// Connections accepted.
    conns: Arc<AtomicUsize>,
    /// Messages accepted (`250` after the dot).
    messages: Arc<AtomicUsize>,
}

async fn serve(s: TcpStream, script: Script, messages: Arc<AtomicUsize>) {
    let (r, mut w) = s.into_split();
    match script {
        Script::Busy => {
            let _ = w.write_all(b"421 4.3.2 busy, try later\r\n").await;
            return;
        }
        Script::Silent => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        Script::Flood => {
            let chunk = vec![b'x'; 64 * 1024];
            let _ = w.write_all(b"220-").await;
            while w.write_all(&chunk).await.is_ok() {}
            return;
        }
        _ => {}
    }
    let _ = w.write_all(b"220 mx.scripted.test ESMTP\r\n").await;
    let mut lines = BufReader::new(r).lines();
    let mut in_data = false;
    while let Ok(Some(line)) = lines.next_line().await {
        if in_data {
            if line == "." {
                in_data = false;
                if matches!(script, Script::DropAfterDot) {
                    return;
                }
                messages.fetch_add(1, Ordering::SeqCst);
                let _ = w.write_all(b"250 2.0.0 queued\r\n").await;
                if matches!(script, Script::OneMessage) {
                    return;
                }
            }
            continue;
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-mx.scripted.test\r\n250 PIPELINING\r\n"
        } else if upper.starts_with("MAIL") {
            b"250 2.1.0 ok\r\n"
        } else if upper.starts_with("RCPT") {
            if upper.contains("<BAD") {
                b"550 5.1.1 no such user\r\n"
            } else if upper.contains("<FULL") {
                b"452 4.2.2 mailbox full\r\n"
            } else {
                b"250 2.1.5 ok\r\n"
            }
        } else if upper == "DATA" {
            if matches!(script, Script::BusyAtData) {
                let _ = w.write_all(b"421 4.3.2 shutting down\r\n").await;
                return;
            }
            in_data = true;
            if matches!(script, Script::StopReading) {
                let _ = w.write_all(b"354 go ahead\r\n").await;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            b"354 go ahead\r\n"
        } else if upper == "RSET" {
            b"250 ok\r\n"
        } else if upper == "QUIT" {
            let _ = w.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"502 5.5.2 what\r\n"
        };
        if w.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// A sender whose domain `example.test` has one MX per server, in order
/// (`mx0.example.test` at 10, `mx1` at 20, …), each on its own loopback
/// address; the servers share one port, the sender's MX port.
fn sender_for(servers: &[&Server], timeout: Duration) -> Sender<StaticResolver> {
    let mut dns = StaticResolver::new();
    let mut records = Vec::new();
    for (i, s) in servers.iter().enumerate() {
        let name = format!("mx{i}.example.test");
        records.push(MxRecord::new(10 * (i as u16 + 1), name.clone()));
        dns = dns.host(&name, [s.addr.ip()]);
    }
    dns = dns.mx("example.test", MxAnswer::Records(records));
    let port = servers.first().map_or(25, |s| s.addr.port());
    let mut cfg = SenderConfig::new("client.test", TlsSettings::disabled());
    cfg.port = port;
    cfg.connect_timeout = timeout;
    cfg.session.timeouts = Timeouts::all(timeout);
    cfg.session.tls = TlsMode::Disabled;
    Sender::new(cfg, dns)
}

/// Servers on distinct loopback addresses and one port: binds the first on a
/// free port, the others on the same port of other addresses.
async fn servers_on_one_port(scripts: &[Script]) -> Vec<Server> {
    'retry: for _ in 0..20 {
        let first = server_at([127, 0, 1, 1], 0, scripts[0]).await;
        let port = first.addr.port();
        let mut v = vec![first];
        for (i, s) in scripts.iter().enumerate().skip(1) {
            let ip = [127, 0, 1, 1 + i as u8];
            let Ok(l) = TcpListener::bind(SocketAddr::from((ip, port))).await else {
                continue 'retry;
            };
            drop(l);
            let srv = server_at(ip, port, *s).await;
            v.push(srv);
        }
        return v;
    }
    panic!("no common free port");
}

async fn server_at(ip: [u8; 4], port: u16, script: Script) -> Server {
    let l = TcpListener::bind(SocketAddr::from((ip, port)))
        .await
        .unwrap();
    let addr = l.local_addr().unwrap();
    let conns = Arc::new(AtomicUsize::new(0));
    let messages = Arc::new(AtomicUsize::new(0));
    let (c, m) = (conns.clone(), messages.clone());
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(s, script, m.clone()));
        }
    });
    Server {
        addr,
        conns,
        messages,
    }
}

const BODY: &[u8] = b"Subject: t\r\n\r\nHello.\r\n";

#[tokio::test]
async fn a_421_greeting_moves_on_to_the_next_mx() {
    let s = servers_on_one_port(&[Script::Busy, Script::Accept]).await;
    let mut tx = sender_for(&[&s[0], &s[1]], Duration::from_secs(5));
    let sent = tx
        .send(&Envelope::new("a@x.test", ["b@example.test"]), BODY)
        .await
        .unwrap();
    assert!(sent.outcomes[0].is_success(), "{sent:#?}");
    let d = &sent.destinations[0];
    let (stage, c) = d.tries[0].failure.clone().unwrap();
    assert_eq!(stage, Stage::Greeting);
    assert_eq!(c.disposition, Disposition::Transient);
    assert_eq!(d.ended_on().unwrap().host, "mx1.example.test");
    assert_eq!(s[1].messages.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_silent_server_times_out_at_the_greeting_and_the_next_mx_is_tried() {
    let s = servers_on_one_port(&[Script::Silent, Script::Accept]).await;
    let mut tx = sender_for(&[&s[0], &s[1]], Duration::from_millis(300));
    let start = tokio::time::Instant::now();
    let sent = tx
        .send(&Envelope::new("a@x.test", ["b@example.test"]), BODY)
        .await
        .unwrap();
    assert!(sent.outcomes[0].is_success(), "{sent:#?}");
    let (stage, c) = sent.destinations[0].tries[0].failure.clone().unwrap();
    assert_eq!(
        (stage, c.category),
        (Stage::Greeting, Some(Category::Network))
    );
    // The greeting timeout, not more.
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_server_that_never_ends_a_line_is_cut_off_with_bounded_memory() {
    let s = servers_on_one_port(&[Script::Flood]).await;
    let mut tx = sender_for(&[&s[0]], Duration::from_secs(5));
    let sent = tx
        .send(&Envelope::new("a@x.test", ["b@example.test"]), BODY)
        .await
        .unwrap();
    let o = &sent.outcomes[0];
    assert_eq!(
        o.classification.disposition,
        Disposition::Transient,
        "{o:#?}"
    );
    assert_eq!(o.classification.category, Some(Category::Protocol));
    assert_eq!(o.stage, Stage::Greeting);
}

#[tokio::test]
async fn a_refused_recipient_is_final_while_the_others_are_delivered() {
    let s = servers_on_one_port(&[Script::Accept, Script::Accept]).await;
    let mut tx = sender_for(&[&s[0], &s[1]], Duration::from_secs(5));
    let env = Envelope::new(
        "a@x.test",
        ["ok@example.test", "bad@example.test", "full@example.test"],
    );
    let sent = tx.send(&env, BODY).await.unwrap();
    let got: Vec<_> = sent
        .outcomes
        .iter()
        .map(|o| {
            (
                o.classification.disposition,
                o.reply.as_ref().map(|r| r.code().as_u16()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Disposition::Success, Some(250)),
            (Disposition::Permanent, Some(550)),
            (Disposition::Transient, Some(452)),
        ]
    );
    // Replies about recipients are not host failures: the second MX is not tried.
    assert_eq!(sent.destinations[0].tries.len(), 1);
    assert_eq!(s[1].conns.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_421_at_data_moves_the_accepted_recipients_on() {
    let s = servers_on_one_port(&[Script::BusyAtData, Script::Accept]).await;
    let mut tx = sender_for(&[&s[0], &s[1]], Duration::from_secs(5));
    let env = Envelope::new("a@x.test", ["bad@example.test", "ok@example.test"]);
    let sent = tx.send(&env, BODY).await.unwrap();
    // The refusal at RCPT stays; the accepted recipient is delivered by the second MX.
    assert_eq!(
        sent.outcomes[0].classification.disposition,
        Disposition::Permanent
    );
    assert!(sent.outcomes[1].is_success(), "{sent:#?}");
    assert_eq!(sent.destinations[0].tries.len(), 2);
    assert_eq!(s[1].messages.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_lost_after_the_dot_is_not_resent_to_another_mx() {
    let s = servers_on_one_port(&[Script::DropAfterDot, Script::Accept]).await;
    let mut tx = sender_for(&[&s[0], &s[1]], Duration::from_secs(5));
    let sent = tx
        .send(&Envelope::new("a@x.test", ["b@example.test"]), BODY)
        .await
        .unwrap();
    let o = &sent.outcomes[0];
    assert_eq!(o.classification.disposition, Disposition::Transient);
    assert_eq!(o.stage, Stage::DataEnd);
    // The first MX may have taken it: a second copy would be a duplicate.
    assert_eq!(s[1].conns.load(Ordering::SeqCst), 0);
    assert_eq!(sent.destinations[0].tries.len(), 1);
}

#[tokio::test]
async fn reuse_keeps_one_connection_up_to_its_message_limit() {
    let s = servers_on_one_port(&[Script::Accept]).await;
    let mut tx = sender_for(&[&s[0]], Duration::from_secs(5));
    let mut cfg = tx.config().clone();
    cfg.reuse = Some(Reuse {
        max_messages: 2,
        max_idle: Duration::from_secs(60),
    });
    let dns = StaticResolver::new()
        .mx(
            "example.test",
            MxAnswer::Records(vec![MxRecord::new(10, "mx0.example.test")]),
        )
        .host("mx0.example.test", [s[0].addr.ip()]);
    tx = Sender::new(cfg, dns);
    let env = Envelope::new("a@x.test", ["b@example.test"]);
    for _ in 0..5 {
        assert!(tx.send(&env, BODY).await.unwrap().outcomes[0].is_success());
    }
    tx.close().await;
    assert_eq!(s[0].messages.load(Ordering::SeqCst), 5);
    // Two messages per connection: 1+2, 3+4, 5.
    assert_eq!(s[0].conns.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_kept_connection_the_server_closed_is_replaced_by_a_fresh_one() {
    let s = servers_on_one_port(&[Script::OneMessage]).await;
    let mut cfg = SenderConfig::new("client.test", TlsSettings::disabled());
    cfg.destination = Destination::Relay {
        host: s[0].addr.ip().to_string(),
        port: s[0].addr.port(),
    };
    cfg.session.tls = TlsMode::Disabled;
    cfg.reuse = Some(Reuse {
        max_messages: 100,
        max_idle: Duration::from_secs(60),
    });
    let mut tx = Sender::new(cfg, StaticResolver::new());
    // Recipients of two domains go to the one relay, in one transaction.
    let env = Envelope::new("a@x.test", ["b@example.test", "c@other.test"]);
    let sent = tx.send(&env, BODY).await.unwrap();
    assert_eq!(sent.delivered(), 2);
    assert_eq!(sent.destinations.len(), 1);
    assert_eq!(tx.idle_connections(), 1);
    // The server closed the kept connection after its 250: the reused try fails
    // before the transaction (at MAIL), and a fresh connection delivers.
    let sent = tx.send(&env, BODY).await.unwrap();
    assert_eq!(sent.delivered(), 2, "{sent:#?}");
    let d = &sent.destinations[0];
    assert_eq!(d.tries.len(), 2, "{d:#?}");
    assert!(d.tries[0].reused && d.tries[0].failure.is_some());
    assert!(!d.tries[1].reused && d.tries[1].delivered == 2);
    assert_eq!(d.ended_on, Some(1));
    assert_eq!(s[0].conns.load(Ordering::SeqCst), 2);
    assert_eq!(s[0].messages.load(Ordering::SeqCst), 2);
    tx.close().await;
}

#[tokio::test]
async fn an_address_without_a_domain_is_refused_under_mx_routing() {
    let mut tx = Sender::new(
        SenderConfig::new("client.test", TlsSettings::disabled()),
        StaticResolver::new(),
    );
    let err = tx
        .send(&Envelope::new("a@x.test", ["postmaster"]), BODY)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("postmaster"), "{err}");
    // An unknown domain in the static table is NXDOMAIN: permanent, no connection.
    let sent = tx
        .send(&Envelope::new("a@x.test", ["b@unknown.test"]), BODY)
        .await
        .unwrap();
    assert_eq!(
        sent.outcomes[0].classification.category,
        Some(Category::DomainNotFound)
    );
}

#[tokio::test]
async fn mx_hosts_without_addresses_are_transient_but_a_domain_without_any_is_permanent() {
    let dns = StaticResolver::new()
        .mx(
            "broken.test",
            MxAnswer::Records(vec![
                MxRecord::new(10, "gone1.broken.test"),
                MxRecord::new(20, "gone2.broken.test"),
            ]),
        )
        .mx("bare.test", MxAnswer::NoRecords);
    let mut tx = Sender::new(
        SenderConfig::new("client.test", TlsSettings::disabled()),
        dns,
    );
    let env = Envelope::new("a@x.test", ["u@broken.test", "v@bare.test"]);
    let sent = tx.send(&env, BODY).await.unwrap();
    // MX records whose hosts do not resolve: DNS that may be fixed.
    let o = &sent.outcomes[0];
    assert_eq!(
        o.classification.disposition,
        Disposition::Transient,
        "{o:#?}"
    );
    assert_eq!(o.classification.rule, "transport.mx_unusable");
    assert_eq!(sent.destinations[0].tries.len(), 2);
    // No MX and no address: the domain takes no mail (RFC 5321 §5.1).
    let o = &sent.outcomes[1];
    assert_eq!(
        o.classification.disposition,
        Disposition::Permanent,
        "{o:#?}"
    );
    assert_eq!(o.classification.category, Some(Category::DomainNotFound));
}

#[tokio::test]
async fn a_server_that_stops_reading_ends_by_the_write_deadline() {
    let s = servers_on_one_port(&[Script::StopReading]).await;
    let mut tx = sender_for(&[&s[0]], Duration::from_millis(500));
    // The driver hands the next body chunk only once the last is written, so the
    // body-block timer would fire with the write timer; a longer one leaves the
    // write timer to decide.
    let mut cfg = tx.config().clone();
    cfg.session.timeouts.data_block = Duration::from_secs(30);
    let dns = StaticResolver::new()
        .mx(
            "example.test",
            MxAnswer::Records(vec![MxRecord::new(10, "mx0.example.test")]),
        )
        .host("mx0.example.test", [s[0].addr.ip()]);
    tx = Sender::new(cfg, dns);
    // Far more than the socket buffers hold.
    let body = vec![b'x'; 64 << 20];
    let start = tokio::time::Instant::now();
    let sent = tx
        .send(&Envelope::new("a@x.test", ["b@example.test"]), &body)
        .await
        .unwrap();
    let o = &sent.outcomes[0];
    assert_eq!(
        o.classification.disposition,
        Disposition::Transient,
        "{o:#?}"
    );
    assert_eq!(o.classification.rule, "transport.write_timeout");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn the_attempt_budget_bounds_the_walk_over_hosts() {
    let s = servers_on_one_port(&[Script::Silent, Script::Silent, Script::Accept]).await;
    let mut tx = sender_for(&[&s[0], &s[1], &s[2]], Duration::from_secs(30));
    let mut cfg = tx.config().clone();
    cfg.max_attempt_time = Some(Duration::from_millis(600));
    let dns = StaticResolver::new()
        .mx(
            "example.test",
            MxAnswer::Records(vec![
                MxRecord::new(10, "mx0.example.test"),
                MxRecord::new(20, "mx1.example.test"),
                MxRecord::new(30, "mx2.example.test"),
            ]),
        )
        .host("mx0.example.test", [s[0].addr.ip()])
        .host("mx1.example.test", [s[1].addr.ip()])
        .host("mx2.example.test", [s[2].addr.ip()]);
    tx = Sender::new(cfg, dns);
    let start = tokio::time::Instant::now();
    let sent = tx
        .send(&Envelope::new("a@x.test", ["b@example.test"]), BODY)
        .await
        .unwrap();
    // The first silent host eats the whole budget: the greeting's 30 s do not apply.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let o = &sent.outcomes[0];
    assert_eq!(
        o.classification.disposition,
        Disposition::Transient,
        "{o:#?}"
    );
    assert_eq!(s[2].conns.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_connection_whose_budget_was_cut_for_one_send_is_not_kept() {
    let s = servers_on_one_port(&[Script::Accept]).await;
    let mut cfg = SenderConfig::new("client.test", TlsSettings::disabled());
    cfg.destination = Destination::Relay {
        host: s[0].addr.ip().to_string(),
        port: s[0].addr.port(),
    };
    cfg.reuse = Some(Reuse::default());
    let env = Envelope::new("a@x.test", ["b@example.test"]);
    // Without an attempt budget the connection is kept…
    let mut tx = Sender::new(cfg.clone(), StaticResolver::new());
    assert!(tx.send(&env, BODY).await.unwrap().outcomes[0].is_success());
    assert_eq!(tx.idle_connections(), 1);
    tx.close().await;
    // …with one, its session's budget was this send's: it is closed after it.
    cfg.max_attempt_time = Some(Duration::from_secs(60));
    let mut tx = Sender::new(cfg, StaticResolver::new());
    assert!(tx.send(&env, BODY).await.unwrap().outcomes[0].is_success());
    assert_eq!(tx.idle_connections(), 0);
}

#[tokio::test]
async fn outcomes_go_back_to_the_delivery_in_its_own_indices() {
    use tempfail::delivery::{Delivery, Recipient};
    use tempfail::policy::{Preset, RetryPolicy};
    use tempfail::{Classifier, Timestamp};

    let s = servers_on_one_port(&[Script::Accept]).await;
    let mut tx = sender_for(&[&s[0]], Duration::from_secs(5));
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let t0 = Timestamp::from_secs(1_764_288_000);
    let mut d = Delivery::new(
        t0,
        1,
        ["ok@example.test", "full@example.test", "bad@example.test"]
            .into_iter()
            .map(Recipient::new)
            .collect(),
    );
    // First attempt: delivered, 452 for `full`, 550.
    let a = d.start_attempt(t0, Some("example.test")).unwrap();
    let sent = tx.send(&a.envelope(&d), BODY).await.unwrap();
    d.handle_outcomes(t0, &policy, &sent.for_attempt(&a))
        .unwrap();
    d.end_attempt(t0, &policy, &Classifier::builtin());
    let status: Vec<&str> = d.recipients().iter().map(|r| r.status.name()).collect();
    assert_eq!(status, ["delivered", "deferred", "failed"]);
    // The retry covers `full` alone: its envelope index 0 is delivery index 1.
    let later = d.next_wakeup(&policy).unwrap();
    let a = d.start_attempt(later, Some("example.test")).unwrap();
    assert_eq!(a.recipients(), [1]);
    let sent = tx.send(&a.envelope(&d), BODY).await.unwrap();
    let back = sent.for_attempt(&a);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].rcpt, 1);
    assert_eq!(sent.outcomes[0].rcpt, 0);
}
