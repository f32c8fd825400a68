//! The session machine against a real Postfix with postgrey on loopback, started by
//! `tests/servers/postfix-postgrey.sh`: pipelined greylisting of one recipient while
//! another is refused as unknown and a third accepted, then delivery after the delay.
//!
//! Runs when Postfix and postgrey are installed and the test runs as root; otherwise
//! prints a notice and passes, unless `TEMPFAIL_REQUIRE_SMTP_SINK=1`.

mod smtp_sink_util;

#[allow(dead_code)]
#[path = "../examples/send.rs"]
mod send;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

struct Postfix {
    dir: String,
    addr: String,
}

impl Postfix {
    fn start() -> Option<Postfix> {
        let needed = [
            "/usr/sbin/postfix",
            "/usr/sbin/postgrey",
            "/usr/sbin/postconf",
        ];
        let missing = needed.iter().any(|p| !Path::new(p).exists());
        if missing || !smtp_sink_util::is_root() {
            if std::env::var("TEMPFAIL_REQUIRE_SMTP_SINK").as_deref() == Ok("1") {
                panic!(
                    "TEMPFAIL_REQUIRE_SMTP_SINK=1 but postfix/postgrey are not installed or not root"
                );
            }
            eprintln!(
                "notice: postfix and postgrey (as root) are needed: skipping this real-server test"
            );
            return None;
        }
        let port = smtp_sink_util::free_port();
        let pgport = smtp_sink_util::free_port();
        // One fixed directory: the script allows it once in the system's main.cf.
        let dir = std::env::temp_dir().join("tempfail-postfix");
        let dir = dir.to_string_lossy().into_owned();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/servers/postfix-postgrey.sh"
        );
        let pf = Postfix {
            dir: dir.clone(),
            addr: format!("127.0.0.1:{port}"),
        };
        let st = Command::new("bash")
            .args([
                script,
                "start",
                &port.to_string(),
                &pgport.to_string(),
                &dir,
            ])
            .status()
            .expect("run postfix-postgrey.sh");
        assert!(
            st.success(),
            "postfix-postgrey.sh start failed (see {dir}/maillog)"
        );
        Some(pf)
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/servers/postfix-postgrey.sh"
        );
        let _ = Command::new("bash")
            .args([script, "stop", &self.dir])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn pipelined_greylisting_unknown_user_and_delivery_after_the_delay() {
    let Some(pf) = Postfix::start() else { return };
    // A new sender each run: a new greylisting triplet.
    let from = format!("t{}@example.org", std::process::id());
    let mut opts = send::Options {
        server: pf.addr.clone(),
        from: from.clone(),
        to: vec![
            "root@example.com".into(),
            "nosuchuser@example.com".into(),
            "postmaster@example.com".into(),
        ],
        count: 1,
        json: false,
        timeout: Some(Duration::from_secs(30)),
        budget: None,
        pad: 0,
    };
    let r = send::run(&opts).expect("send");
    assert!(r.capabilities.as_ref().unwrap().pipelining);
    assert_eq!(r.lines.len(), 3, "{:#?}", r.lines);
    let by = |a: &str| r.lines.iter().find(|l| l.rcpt == a).unwrap().clone();
    let grey = by("root@example.com");
    assert_eq!(
        (
            grey.outcome,
            grey.code,
            grey.enhanced.as_deref(),
            grey.category,
            grey.stage
        ),
        (
            "transient",
            Some(450),
            Some("4.2.0"),
            Some("greylisted"),
            "rcpt_to"
        ),
    );
    let unknown = by("nosuchuser@example.com");
    assert_eq!(
        (
            unknown.outcome,
            unknown.code,
            unknown.enhanced.as_deref(),
            unknown.category,
            unknown.stage
        ),
        (
            "permanent",
            Some(550),
            Some("5.1.1"),
            Some("user_unknown"),
            "rcpt_to"
        ),
    );
    let ok = by("postmaster@example.com");
    assert_eq!(
        (ok.outcome, ok.code, ok.stage),
        ("delivered", Some(250), "data_end")
    );
    // Pipelined: EHLO, the envelope flight, the body flight (with QUIT).
    assert!(r.writes <= 3, "{} writes", r.writes);

    // postgrey's delay is 3 s: a retry before it is refused again, one after it
    // goes through.
    #[allow(clippy::disallowed_methods)] // postgrey's delay is wall-clock time
    let first = std::time::Instant::now();
    let mut real = vec![grey.outcome];
    opts.to = vec!["root@example.com".into()];
    std::thread::sleep(Duration::from_secs(1));
    let r = send::run(&opts).expect("send");
    assert_eq!(r.lines.len(), 1);
    let l = &r.lines[0];
    assert_eq!(
        (l.outcome, l.code, l.enhanced.as_deref(), l.category),
        ("transient", Some(450), Some("4.2.0"), Some("greylisted")),
        "{l:?}"
    );
    real.push(l.outcome);
    std::thread::sleep(Duration::from_secs(4).saturating_sub(first.elapsed()));
    let r = send::run(&opts).expect("send");
    assert_eq!(r.lines.len(), 1);
    let l = &r.lines[0];
    assert_eq!(
        (l.outcome, l.code, l.stage),
        ("delivered", Some(250), "data_end"),
        "{l:?}"
    );
    real.push(l.outcome);

    // The policy lab's greylisting model, asked at the same times, answers the same.
    #[cfg(feature = "sim")]
    greylisting_model_agrees(&real);
}

#[cfg(feature = "sim")]
fn greylisting_model_agrees(real: &[&str]) {
    use tempfail::sim::{Behaviour, Model};
    let mut model = Model::new(
        &[Behaviour::Greylisting {
            delay: Duration::from_secs(3),
            retry_window: Duration::from_secs(2 * 86_400),
        }],
        1,
    );
    let modelled: Vec<&str> = [0, 1, 4]
        .iter()
        .map(|&t| match model.answer(1, Duration::from_secs(t)) {
            Ok(()) => "delivered",
            Err(_) => "transient",
        })
        .collect();
    assert_eq!(modelled, real, "the model disagrees with the real postgrey");
}
