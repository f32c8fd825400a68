//! Destination health against a real Postfix that limits its clients with anvil
//! (`tests/servers/postfix-limits.sh`: 2 concurrent connections, 10 messages per 2 s,
//! loopback not exempt). `pace` must deliver every message, provoke at most a fifth
//! of the transient replies `pace --naive` provokes in the same run, and take at most
//! twice as long. Both results are printed (`--nocapture`) for BENCHMARKS.md.
//!
//! Runs when Postfix is installed and the test runs as root; otherwise prints a
//! notice and passes, unless `TEMPFAIL_REQUIRE_SMTP_SINK=1` (CI).

mod smtp_sink_util;

#[allow(dead_code)]
#[path = "../examples/pace.rs"]
mod pace;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/servers/postfix-limits.sh"
);

struct Limits {
    dir: String,
    addr: String,
}

impl Limits {
    fn start(conn: u32, rate: u32, unit_secs: u32) -> Option<Limits> {
        let missing = ["/usr/sbin/postfix", "/usr/sbin/postconf"]
            .iter()
            .any(|p| !Path::new(p).exists());
        if missing || !smtp_sink_util::is_root() {
            if std::env::var("TEMPFAIL_REQUIRE_SMTP_SINK").as_deref() == Ok("1") {
                panic!("TEMPFAIL_REQUIRE_SMTP_SINK=1 but postfix is not installed or not root");
            }
            eprintln!("notice: postfix (as root) is needed: skipping this real-server test");
            return None;
        }
        let port = smtp_sink_util::free_port();
        let dir = std::env::temp_dir()
            .join("tempfail-postfix-limits")
            .to_string_lossy()
            .into_owned();
        let st = Command::new("bash")
            .args([
                SCRIPT,
                "start",
                &port.to_string(),
                &conn.to_string(),
                &rate.to_string(),
                &unit_secs.to_string(),
                &dir,
            ])
            .status()
            .expect("run postfix-limits.sh");
        assert!(
            st.success(),
            "postfix-limits.sh start failed (see {dir}/maillog)"
        );
        Some(Limits {
            dir,
            addr: format!("127.0.0.1:{port}"),
        })
    }
}

impl Drop for Limits {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([SCRIPT, "stop", &self.dir])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn pace_delivers_everything_with_a_fifth_of_the_naive_transients() {
    let Some(pf) = Limits::start(2, 10, 2) else {
        return;
    };
    let opts = |naive| pace::Options {
        server: pf.addr.clone(),
        from: "sender@example.org".into(),
        to: "rcpt@example.com".into(),
        messages: 40,
        naive,
        json: false,
        max: Duration::from_secs(90),
    };
    let health = pace::run(&opts(false));
    println!("pace:         {}", health.to_json());
    // Let the server's anvil windows and connection counts run out between the runs.
    std::thread::sleep(Duration::from_secs(3));
    let naive = pace::run(&opts(true));
    println!("pace --naive: {}", naive.to_json());
    assert_eq!(health.delivered, 40, "{health:?}");
    assert!(
        health.transient_replies * 5 <= naive.transient_replies,
        "pace provoked {} transient replies, naive {}",
        health.transient_replies,
        naive.transient_replies
    );
    assert!(
        health.wall_secs <= 2.0 * naive.wall_secs,
        "pace took {:.1} s, naive {:.1} s",
        health.wall_secs,
        naive.wall_secs
    );
    // The server's own limits were met: never more than its two connections at once
    // after the first push-back (the first flight is the initial window of 5).
    assert!(health.peak_concurrency <= 5, "{health:?}");
    // The server did push back on the naive sender (otherwise this proves nothing).
    assert!(naive.transient_replies >= 20, "{naive:?}");
}

#[test]
fn pace_refuses_bad_arguments() {
    let args = |a: &[&str]| pace::parse_args(a.iter().map(|s| (*s).to_owned()));
    assert!(args(&["--server", "x:25", "--from", "a@b", "--to", "c@d"]).is_err());
    assert!(
        args(&[
            "--server",
            "x:25",
            "--from",
            "a@b",
            "--to",
            "c@d",
            "--messages",
            "0"
        ])
        .is_err()
    );
    assert!(args(&["--messages", "x"]).is_err());
    let o = args(&[
        "--server",
        "x:25",
        "--from",
        "a@b",
        "--to",
        "c@d",
        "--messages",
        "3",
        "--naive",
    ])
    .unwrap();
    assert!(o.naive && o.messages == 3);
}
