//! Properties of the session machine, against a reactive fake server (it answers
//! whatever complete commands the client sent, following a generated script) and
//! a model of the expected outcomes.

mod session_util;

use proptest::prelude::*;
use session_util::Harness;
use tempfail::session::{BodyEncoder, Envelope, Event};
use tempfail::{Disposition, Stage};

#[derive(Clone, Debug)]
struct Script {
    pipelining: bool,
    /// Offer STARTTLS (the client is opportunistic) and AUTH PLAIN (the client has
    /// credentials).
    starttls: bool,
    auth: bool,
    mail: Vec<u16>,
    rcpt: Vec<u16>,
    data: Vec<u16>,
    dot: Vec<u16>,
    /// After this many replies, the server says 421 (true) or just closes (false).
    cut: Option<(usize, bool)>,
}

fn line(code: u16) -> &'static str {
    match code {
        250 => "250 2.0.0 Ok\r\n",
        354 => "354 End data with <CR><LF>.<CR><LF>\r\n",
        421 => "421 4.3.2 Service shutting down\r\n",
        450 => "450 4.2.0 <x@example.com>: Recipient address rejected: Greylisted\r\n",
        451 => "451 4.3.0 Error: queue file write error\r\n",
        452 => "452 4.2.2 Mailbox full\r\n",
        503 => "503 5.5.1 Error: need RCPT command\r\n",
        550 => "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown\r\n",
        552 => "552 5.3.4 Message size exceeds fixed limit\r\n",
        553 => "553 5.7.1 Sender address rejected\r\n",
        554 => "554 5.7.1 Rejected\r\n",
        _ => unreachable!(),
    }
}

/// A server that answers complete command lines following the script.
struct FakeServer {
    s: Script,
    buf: Vec<u8>,
    in_data: bool,
    counts: [usize; 4],
    replies: usize,
    dead: bool,
    tls: bool,
}

impl FakeServer {
    fn new(s: Script) -> Self {
        FakeServer {
            s,
            buf: Vec::new(),
            in_data: false,
            counts: [0; 4],
            replies: 0,
            dead: false,
            tls: false,
        }
    }

    fn greeting(&mut self) -> (Vec<u8>, bool) {
        self.reply(b"220 mx.example.com ESMTP\r\n")
    }

    fn reply(&mut self, r: &[u8]) -> (Vec<u8>, bool) {
        if self.dead {
            return (Vec::new(), true);
        }
        if let Some((at, say_421)) = self.s.cut {
            if self.replies == at {
                self.dead = true;
                let out = if say_421 {
                    line(421).as_bytes().to_vec()
                } else {
                    Vec::new()
                };
                return (out, true);
            }
        }
        self.replies += 1;
        (r.to_vec(), false)
    }

    fn pick(&mut self, k: usize) -> u16 {
        let v = match k {
            0 => &self.s.mail,
            1 => &self.s.rcpt,
            2 => &self.s.data,
            _ => &self.s.dot,
        };
        let c = v[self.counts[k] % v.len()];
        self.counts[k] += 1;
        c
    }

    /// Feeds client bytes; returns the server's answer and whether it then closes.
    fn feed(&mut self, client: &[u8]) -> (Vec<u8>, bool) {
        self.buf.extend_from_slice(client);
        let mut out = Vec::new();
        while let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
            let l: Vec<u8> = self.buf.drain(..i + 2).collect();
            let l = &l[..l.len() - 2];
            let r: Vec<u8> = if self.in_data {
                if l != b"." {
                    continue;
                }
                self.in_data = false;
                line(self.pick(3)).into()
            } else if l.starts_with(b"EHLO") {
                let mut r = b"250-mx.example.com\r\n".to_vec();
                if self.s.pipelining {
                    r.extend_from_slice(b"250-PIPELINING\r\n");
                }
                if self.s.starttls && !self.tls {
                    r.extend_from_slice(b"250-STARTTLS\r\n");
                }
                if self.s.auth {
                    r.extend_from_slice(b"250-AUTH LOGIN PLAIN\r\n");
                }
                r.extend_from_slice(b"250 ENHANCEDSTATUSCODES\r\n");
                r
            } else if l == b"STARTTLS" {
                self.tls = true;
                let (mut r, close) = self.reply(b"220 2.0.0 Ready to start TLS\r\n");
                out.append(&mut r);
                // Nothing more is read before the handshake.
                self.buf.clear();
                return (out, close);
            } else if l.starts_with(b"AUTH PLAIN ") {
                b"235 2.7.0 Authentication successful\r\n".to_vec()
            } else if l.starts_with(b"MAIL") {
                line(self.pick(0)).into()
            } else if l.starts_with(b"RCPT") {
                line(self.pick(1)).into()
            } else if l == b"DATA" {
                let c = self.pick(2);
                self.in_data = c == 354;
                line(c).into()
            } else if l == b"RSET" {
                line(250).into()
            } else if l == b"QUIT" {
                let (mut r, _) = self.reply(b"221 2.0.0 Bye\r\n");
                out.append(&mut r);
                return (out, true);
            } else {
                b"500 5.5.2 Error: command not recognized\r\n".to_vec()
            };
            let (mut r, close) = self.reply(&r);
            out.append(&mut r);
            if close {
                return (out, true);
            }
        }
        (out, false)
    }
}

/// Runs a session against the fake server; `splits` cuts each server flight into
/// pieces (sizes cycled), `body_chunks` the body.
fn converse(
    s: &Script,
    envs: &[Envelope],
    max_rcpts: usize,
    splits: &[usize],
    body_chunks: &[usize],
    body: &[u8],
) -> Harness {
    let mut cfg = Harness::config();
    cfg.max_recipients_per_transaction = max_rcpts;
    if s.starttls {
        cfg.tls = tempfail::session::TlsMode::Opportunistic;
    }
    if s.auth {
        cfg.credentials = Some(tempfail::session::Credentials::password("user", "pass"));
        cfg.auth_requires_tls = false;
    }
    let mut h = Harness::new(cfg);
    h.body = body.to_vec();
    h.chunks = body_chunks.to_vec();
    for e in envs {
        h.s.submit(e.clone()).unwrap();
    }
    h.quit();
    let mut server = FakeServer::new(s.clone());
    let (mut flight, mut close) = server.greeting();
    let mut k = 0;
    let mut tls_done = 0;
    for _round in 0..1000 {
        let mut rest = &flight[..];
        while !rest.is_empty() {
            let n = if splits.is_empty() {
                rest.len()
            } else {
                splits[k % splits.len()].clamp(1, rest.len())
            };
            k += 1;
            h.input(&rest[..n]);
            rest = &rest[n..];
        }
        if close {
            h.eof();
        }
        if h.closed {
            break;
        }
        if h.starttls > tls_done {
            tls_done = h.starttls;
            h.tls_established();
        }
        let sent = h.take_wire();
        h.sent.push_str(&sent);
        let (f, c) = server.feed(sent.as_bytes());
        if f.is_empty() && !c {
            panic!("no progress: the client waits for nothing the server will send");
        }
        flight = f;
        close = c;
    }
    assert!(h.closed, "the session must end");
    h
}

fn script() -> impl Strategy<Value = Script> {
    (
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::collection::vec(prop::sample::select(vec![250u16, 250, 250, 451, 553]), 1..3),
        prop::collection::vec(prop::sample::select(vec![250u16, 250, 450, 452, 550]), 1..6),
        prop::collection::vec(prop::sample::select(vec![354u16, 354, 354, 451, 554]), 1..3),
        prop::collection::vec(prop::sample::select(vec![250u16, 250, 451, 552]), 1..3),
        prop::option::of((0usize..30, any::<bool>())),
    )
        .prop_map(
            |((pipelining, starttls, auth), mail, rcpt, data, dot, cut)| Script {
                pipelining,
                starttls,
                auth,
                mail,
                rcpt,
                data,
                dot,
                cut,
            },
        )
}

fn envelopes() -> impl Strategy<Value = Vec<Envelope>> {
    prop::collection::vec(1usize..7, 1..4).prop_map(|sizes| {
        sizes
            .iter()
            .enumerate()
            .map(|(t, &n)| {
                Envelope::new(
                    format!("s{t}@example.org"),
                    (0..n).map(|i| format!("r{i}@example.com")),
                )
            })
            .collect()
    })
}

/// Every byte the client sent, in order.
fn wire(h: &Harness) -> String {
    h.sent.clone() + &String::from_utf8_lossy(&h.wire)
}

/// Everything but the body-request bookkeeping, for comparing runs.
fn observable(h: &Harness) -> Vec<Event> {
    h.events.clone()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any split of the server's bytes gives the same events and the same bytes
    /// on the wire; every submitted recipient gets exactly one outcome.
    #[test]
    fn server_byte_splits_do_not_matter(
        s in script(),
        envs in envelopes(),
        max_rcpts in 1usize..5,
        splits in prop::collection::vec(1usize..9, 1..6),
    ) {
        let body = b"Subject: x\n\n.dot\nline\r\n";
        let whole = converse(&s, &envs, max_rcpts, &[], &[], body);
        let split = converse(&s, &envs, max_rcpts, &splits, &[], body);
        prop_assert_eq!(observable(&whole), observable(&split));
        prop_assert_eq!(wire(&whole), wire(&split));

        let outcomes = whole.outcomes();
        for (t, e) in envs.iter().enumerate() {
            for r in 0..e.recipients.len() {
                let n = outcomes.iter().filter(|f| f.txn == t as u64 && f.rcpt == r).count();
                prop_assert_eq!(n, 1, "txn {} rcpt {}: {:?}", t, r, outcomes);
            }
        }
        prop_assert_eq!(outcomes.len(), envs.iter().map(|e| e.recipients.len()).sum::<usize>());
        // A transaction-done event per envelope, after its last outcome.
        let done = whole.events.iter().filter(|e| matches!(e, Event::TransactionDone { .. })).count();
        prop_assert_eq!(done, envs.len());
        // Success only after the final dot's 250.
        for f in &outcomes {
            if f.disposition == Disposition::Success {
                prop_assert_eq!(f.stage, Stage::DataEnd);
                prop_assert_eq!(f.code, Some(250));
            }
        }
    }

    /// With one envelope, no cut and no splitting, the outcomes follow the model:
    /// MAIL refused → its reply for all; RCPT refused → its reply; accepted → the
    /// DATA refusal or the final reply.
    #[test]
    fn outcomes_follow_the_model(
        pipelining in any::<bool>(),
        starttls in any::<bool>(),
        auth in any::<bool>(),
        mail in prop::sample::select(vec![250u16, 451, 553]),
        rcpt in prop::collection::vec(prop::sample::select(vec![250u16, 450, 452, 550]), 1..8),
        data in prop::sample::select(vec![354u16, 451, 554]),
        dot in prop::sample::select(vec![250u16, 451, 552]),
    ) {
        let n = rcpt.len();
        let s = Script { pipelining, starttls, auth, mail: vec![mail], rcpt: rcpt.clone(), data: vec![data], dot: vec![dot], cut: None };
        let env = Envelope::new("a@example.org", (0..n).map(|i| format!("r{i}@example.com")));
        let h = converse(&s, &[env], 100, &[], &[], b"hi\n");
        let o = h.outcomes();
        prop_assert_eq!(o.len(), n);
        let any_accepted = rcpt.contains(&250);
        for f in &o {
            let (code, stage) = if mail != 250 {
                (mail, Stage::MailFrom)
            } else if rcpt[f.rcpt] != 250 {
                (rcpt[f.rcpt], Stage::RcptTo)
            } else if data != 354 {
                (data, Stage::Data)
            } else {
                (dot, Stage::DataEnd)
            };
            prop_assert_eq!((f.code, f.stage), (Some(code), stage), "{:?}", f);
            let want = match code / 100 { 2 => Disposition::Success, 4 => Disposition::Transient, _ => Disposition::Permanent };
            prop_assert_eq!(f.disposition, want);
        }
        // The body is requested only when there is someone to deliver to.
        let wanted = mail == 250 && any_accepted && data == 354;
        prop_assert_eq!(h.body_requests(), usize::from(wanted));
        prop_assert!(h.events.contains(&Event::Closed));
    }

    /// Any split of the body into chunks gives the same bytes on the wire, and
    /// those bytes are the body with CRLF line endings and dot-stuffing.
    #[test]
    fn body_chunking_does_not_matter(
        body in prop::collection::vec(prop::sample::select(b"ab.\r\n".to_vec()), 0..200),
        chunks in prop::collection::vec(1usize..13, 1..8),
    ) {
        let mut whole = Vec::new();
        let mut e = BodyEncoder::new();
        e.encode(&body, &mut whole);
        e.finish(&mut whole);
        let mut split = Vec::new();
        let mut e = BodyEncoder::new();
        let mut rest = &body[..];
        let mut k = 0;
        while !rest.is_empty() {
            let n = chunks[k % chunks.len()].min(rest.len());
            k += 1;
            e.encode(&rest[..n], &mut split);
            rest = &rest[n..];
        }
        e.finish(&mut split);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole, reference_encoding(&body));

        // Through the session too.
        let s = Script { pipelining: true, starttls: false, auth: false, mail: vec![250], rcpt: vec![250], data: vec![354], dot: vec![250], cut: None };
        let env = || vec![Envelope::new("a@example.org", ["b@example.com"])];
        let a = converse(&s, &env(), 100, &[], &[], &body);
        let b = converse(&s, &env(), 100, &[], &chunks, &body);
        prop_assert_eq!(a.events, b.events);
    }
}

/// The obvious whole-body implementation: split into lines at CRLF, CR or LF,
/// double a leading dot, join with CRLF, end with CRLF.CRLF.
fn reference_encoding(body: &[u8]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = vec![Vec::new()];
    let mut i = 0;
    let mut ended = true;
    while i < body.len() {
        match body[i] {
            b'\r' => {
                if body.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                lines.push(Vec::new());
                ended = true;
            }
            b'\n' => {
                lines.push(Vec::new());
                ended = true;
            }
            b => {
                lines.last_mut().unwrap().push(b);
                ended = false;
            }
        }
        i += 1;
    }
    if ended {
        lines.pop();
    }
    let mut out = Vec::new();
    for l in lines {
        if l.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(&l);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}
