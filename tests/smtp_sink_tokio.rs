//! `examples/tokio_send.rs` (the session in an async driver) against Postfix's real
//! `smtp-sink`. Skipped with a notice when smtp-sink is not installed, unless
//! `TEMPFAIL_REQUIRE_SMTP_SINK=1`.

mod smtp_sink_util;

#[allow(dead_code)]
#[path = "../examples/tokio_send.rs"]
mod tokio_send;

use std::time::Duration;

use smtp_sink_util::Sink;
use tokio_send::blocking::Options;

fn opts(sink: &Sink, timeout: Option<Duration>) -> Options {
    Options {
        server: sink.addr.clone(),
        from: "a@example.org".into(),
        to: vec!["b@example.com".into(), "c@example.com".into()],
        count: 3,
        json: false,
        timeout,
        budget: None,
        pad: 0,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn async_driver_delivers_pipelined() {
    let Some(sink) = Sink::start(&[]) else { return };
    let r = tokio_send::run(&opts(&sink, None)).await.expect("send");
    assert_eq!(r.lines.len(), 6);
    assert!(
        r.lines
            .iter()
            .all(|l| l.outcome == "delivered" && l.stage == "data_end")
    );
    assert!(r.writes <= 2 + 3, "{} writes", r.writes);
}

#[tokio::test(flavor = "current_thread")]
async fn async_driver_times_out_per_stage() {
    let Some(sink) = Sink::start(&["-p", "-W", "DATA:3"]) else {
        return;
    };
    let r = tokio_send::run(&opts(&sink, Some(Duration::from_millis(500))))
        .await
        .expect("send");
    assert_eq!(r.lines.len(), 6);
    assert!(r.lines.iter().all(|l| l.outcome == "transient"
        && l.code.is_none()
        && l.category == Some("network")
        && l.stage == "data"));
}
