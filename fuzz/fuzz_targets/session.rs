//! Fuzz the SMTP client session with arbitrary server bytes, splits and inputs.
//!
//! Input: 4 header bytes (options, recipients per transaction, envelopes, split
//! seed), then the server's byte stream. `0xFF` followed by an op byte is a control
//! instead of data: 0 flush (a flight boundary), 1 timer fires after advancing the
//! clock, 2 EOF, 3 TLS established, 4 TLS failed, 5 quit, 6 submit another envelope,
//! 7 advance the clock 10 minutes, 8 the peer stops (or resumes) reading our
//! writes. Data between controls is fed in chunks whose sizes come from the split
//! seed.
//!
//! Asserted: no panic; outputs and awaited replies stay bounded; no recipient gets
//! two outcomes, no outcome names a recipient that was not submitted; no recipient
//! is delivered unless the end-of-data reply was positive and unambiguous (a `2yz`
//! whose lines agree, after the body; never after the session reported a desync or
//! a mixed reply for that reply); once the
//! session ends (forced with EOF at the end), every submitted recipient has exactly
//! one outcome and every transaction one `TransactionDone`.
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use tempfail::session::{
    Envelope, Event, MessageInfo, Output, Session, SessionConfig, TlsMode, TransactionId,
};

struct Run {
    s: Session,
    now: Instant,
    rcpts: HashMap<TransactionId, usize>,
    seen: HashMap<(TransactionId, usize), u32>,
    done: HashMap<TransactionId, u32>,
    closed: bool,
    max_rcpts: usize,
    body_mode: u8,
    /// The peer stopped reading: transmits are not reported written.
    stalled: bool,
    /// The session reported a desynchronised pipeline.
    desync: bool,
}

impl Run {
    fn drain(&mut self) {
        let mut bytes = 0usize;
        let mut outputs = 0usize;
        while let Some(o) = self.s.poll_output() {
            outputs += 1;
            assert!(outputs < 100_000, "unbounded outputs");
            assert!(!self.closed, "output after Close");
            match o {
                Output::Transmit(b) => {
                    bytes += b.len();
                    assert!(bytes < 4 << 20, "unbounded transmit");
                    // A peer that stops reading: some writes are never reported,
                    // and the write timer must end the session.
                    if !self.stalled {
                        self.s.handle_written(self.now, b.len()).expect("written");
                    }
                }
                Output::Event(Event::BodyWanted { .. }) => {
                    let body: &[u8] = match self.body_mode % 3 {
                        0 => b"Subject: x\r\n\r\n.dot\r\nline",
                        1 => b"",
                        _ => b"\r\r\n\n..\n.",
                    };
                    for c in body.chunks(3) {
                        self.s.send_body_chunk(self.now, c).expect("body wanted");
                    }
                    if self.body_mode % 5 != 4 {
                        self.s.finish_body(self.now).expect("body in progress");
                    }
                }
                Output::Event(Event::Recipient {
                    transaction,
                    outcome,
                }) => {
                    let n = *self
                        .rcpts
                        .get(&transaction)
                        .expect("outcome for a submitted transaction");
                    assert!(
                        outcome.rcpt < n,
                        "outcome for a recipient that does not exist"
                    );
                    let c = self.seen.entry((transaction, outcome.rcpt)).or_default();
                    *c += 1;
                    assert_eq!(*c, 1, "two outcomes for one recipient");
                    if outcome.is_success() {
                        // Delivered only on a clear verdict on the message itself.
                        assert_eq!(
                            outcome.stage,
                            tempfail::Stage::DataEnd,
                            "success before the end of data"
                        );
                        let reply = outcome.reply.as_ref().expect("a delivery has its reply");
                        assert!(
                            reply.code().is_positive_completion(),
                            "success without a 2yz"
                        );
                        assert!(
                            !reply.has_mixed_codes(),
                            "success on a reply whose lines disagree"
                        );
                        assert!(!self.desync, "success after a desync was reported");
                    }
                }
                Output::Event(Event::TransactionDone {
                    transaction,
                    delivered,
                    transient,
                    permanent,
                }) => {
                    let n = self.rcpts[&transaction];
                    assert_eq!(delivered + transient + permanent, n);
                    *self.done.entry(transaction).or_default() += 1;
                }
                Output::Event(Event::Lost {
                    reason: tempfail::session::LossReason::Desync(_),
                    ..
                }) => self.desync = true,
                Output::Event(_) => {}
                Output::StartTls => {}
                Output::Close => self.closed = true,
                Output::Timeout(_) => {}
            }
        }
        assert!(
            self.s.replies_awaited() <= self.max_rcpts + 8,
            "unbounded commands in flight"
        );
    }

    fn submit(&mut self, n: usize, k: usize) {
        let env = Envelope::new(
            MessageInfo::new(format!("s{k}@example.org")).size(100),
            (0..n).map(|i| format!("r{i}@example.com")),
        );
        if let Ok(id) = self.s.submit(env) {
            self.rcpts.insert(id, n);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (h, stream) = data.split_at(4);
    let mut cfg = SessionConfig::new("client.example.org");
    cfg.tls = match h[0] & 3 {
        0 => TlsMode::Disabled,
        1 => TlsMode::Opportunistic,
        _ => TlsMode::Required,
    };
    cfg.lmtp = h[0] & 4 != 0;
    if h[0] & 8 != 0 {
        cfg.credentials = Some(tempfail::session::Credentials::password("u", "p"));
        cfg.auth_requires_tls = h[0] & 16 != 0;
    }
    cfg.max_recipients_per_transaction = usize::from(h[1] % 5) + 1;
    let max_rcpts = cfg.max_recipients_per_transaction;
    let t0 = Instant::now();
    let mut r = Run {
        s: Session::new(cfg, t0),
        now: t0,
        rcpts: HashMap::new(),
        seen: HashMap::new(),
        done: HashMap::new(),
        closed: false,
        max_rcpts,
        body_mode: h[0] >> 5,
        stalled: false,
        desync: false,
    };
    let envs = usize::from(h[2] & 3) + 1;
    for k in 0..envs {
        r.submit(usize::from((h[2] >> 2) % 7) + 1 + k, k);
    }
    r.drain();
    let mut seed = u32::from(h[3]) | 0x100;
    let mut rest = stream;
    while !rest.is_empty() {
        if rest[0] == 0xFF && rest.len() >= 2 {
            match rest[1] {
                1 => {
                    r.now += Duration::from_secs(u64::from(seed % 700));
                    r.s.handle_timeout(r.now);
                }
                2 => r.s.handle_eof(r.now),
                3 => {
                    let _ = r.s.handle_tls_established(r.now);
                }
                4 => {
                    let _ = r.s.handle_tls_failed(r.now);
                }
                5 => r.s.quit(),
                6 => {
                    let k = r.rcpts.len();
                    r.submit(usize::from(rest[1] % 3) + 1, k);
                }
                7 => r.now += Duration::from_secs(600),
                8 => r.stalled = !r.stalled,
                _ => {}
            }
            rest = &rest[2..];
            r.drain();
            continue;
        }
        let end = rest
            .iter()
            .position(|b| *b == 0xFF)
            .unwrap_or(rest.len())
            .max(1);
        let mut data = &rest[..end];
        rest = &rest[end..];
        while !data.is_empty() {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let n = (seed as usize % 64 + 1).min(data.len());
            r.s.handle_input(r.now, &data[..n]);
            data = &data[n..];
            r.drain();
        }
    }
    // Force the end: every recipient must then have exactly one outcome.
    r.s.handle_eof(r.now);
    r.drain();
    assert!(r.s.is_closed());
    for (id, n) in &r.rcpts {
        for i in 0..*n {
            assert_eq!(
                r.seen.get(&(*id, i)).copied(),
                Some(1),
                "recipient {i} of {id} without an outcome"
            );
        }
        assert_eq!(
            r.done.get(id).copied(),
            Some(1),
            "transaction {id} not done exactly once"
        );
    }
});
