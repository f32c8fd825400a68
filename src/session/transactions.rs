//! Mail transactions: `MAIL`, `RCPT`, `DATA`, the final dot, `RSET`; parts of a
//! split envelope, pipelined flights, and each recipient's one outcome.

use super::*;

impl Session {
    /// Keeps a refusal decided from a reply in a mail transaction until the replies
    /// are proven aligned (a `354` to `DATA`, `RSET`'s `250`): a server that sent one
    /// reply too many or too few shifts every later reply, and a refusal read from a
    /// shifted reply must not become final. A loss before then gives the recipient
    /// the loss's transient outcome instead.
    pub(super) fn hold(
        &mut self,
        txn: TransactionId,
        rcpt: usize,
        reply: Option<Reply>,
        stage: Stage,
        c: Classification,
    ) {
        self.held.push((txn, rcpt, reply, stage, c));
    }

    /// The replies so far were aligned: the held refusals become outcomes.
    pub(super) fn release(&mut self) {
        for (txn, rcpt, reply, stage, c) in core::mem::take(&mut self.held) {
            self.outcome(txn, rcpt, reply, stage, c);
        }
    }

    pub(super) fn part_index(&self, seq: u64) -> Option<usize> {
        self.parts.iter().position(|p| p.seq == seq)
    }

    pub(super) fn on_mail_reply(&mut self, seq: u64, reply: Reply) {
        let Some(pi) = self.part_index(seq) else {
            return;
        };
        let code = reply.code();
        if code.is_positive_completion() {
            if !self.pipelining() {
                self.send_next_rcpt(pi);
            }
        } else if code.is_intermediate() {
            self.unexpected(reply);
        } else {
            let c = self.classify(&reply, Stage::MailFrom);
            if self.pipelining() {
                self.parts[pi].mail_failed = Some((reply, c));
            } else {
                let (txn, start, end) = {
                    let p = &self.parts[pi];
                    (p.txn, p.start, p.end)
                };
                for i in start..end {
                    self.hold(txn, i, Some(reply.clone()), Stage::MailFrom, c.clone());
                }
                self.parts.remove(pi);
                self.rset();
            }
        }
    }

    pub(super) fn send_next_rcpt(&mut self, pi: usize) {
        let caps = self.caps.take().unwrap_or_default();
        self.send_next_rcpt_with(pi, &caps);
        self.caps = Some(caps);
    }

    pub(super) fn send_next_rcpt_with(&mut self, pi: usize, caps: &Capabilities) {
        let (seq, txn, i) = {
            let p = &mut self.parts[pi];
            let i = p.next_rcpt;
            p.next_rcpt += 1;
            (p.seq, p.txn, i)
        };
        if let Some(t) = self.txns.iter().find(|t| t.id == txn) {
            if let Some(r) = t.env.recipients.get(i) {
                let mut line = Vec::with_capacity(64);
                command::rcpt_to(r, caps, &mut line);
                self.send(|b| b.extend_from_slice(&line));
            }
        }
        self.expect(Expect::Rcpt(seq, i));
    }

    pub(super) fn on_rcpt_reply(&mut self, seq: u64, i: usize, reply: Reply) {
        let Some(pi) = self.part_index(seq) else {
            return;
        };
        let code = reply.code();
        if code.is_intermediate() {
            self.unexpected(reply);
            return;
        }
        let txn = self.parts[pi].txn;
        if let Some((mreply, mc)) = self.parts[pi].mail_failed.clone() {
            self.hold(txn, i, Some(mreply), Stage::MailFrom, mc);
        } else if code.is_positive_completion() && !reply.has_mixed_codes() {
            self.parts[pi].accepted.push(i);
        } else {
            // A refusal, or an acceptance whose lines disagree: not a clear yes.
            let c = self.classify(&reply, Stage::RcptTo);
            self.hold(txn, i, Some(reply), Stage::RcptTo, c);
        }
        if self.pipelining() {
            return;
        }
        let p = &self.parts[pi];
        if p.next_rcpt < p.end {
            self.send_next_rcpt(pi);
        } else if p.accepted.is_empty() {
            self.parts.remove(pi);
            self.rset();
        } else {
            self.send_line(b"DATA");
            self.expect(Expect::Data(seq));
        }
    }

    pub(super) fn on_data_reply(&mut self, seq: u64, reply: Reply) {
        let Some(pi) = self.part_index(seq) else {
            return;
        };
        let code = reply.code();
        if code.as_u16() == 354 || code.is_intermediate() {
            // Only DATA gets a 354: the replies of this transaction were aligned,
            // and what they refused is final.
            self.release();
            if self.parts[pi].accepted.is_empty() {
                // Every RCPT was refused (or MAIL was) but the server wants data:
                // end the transaction with an empty body.
                self.parts[pi].state = PartState::AwaitDot;
                self.send_line(b".");
                self.expect(Expect::DataEnd(seq, None));
            } else {
                self.parts[pi].state = PartState::Body;
                self.body = Some(BodyEncoder::new());
                self.body_since = self.now;
                let txn = self.parts[pi].txn;
                self.event(Event::BodyWanted { transaction: txn });
            }
        } else {
            let c = self.classify(&reply, Stage::Data);
            let txn = self.parts[pi].txn;
            let acc = core::mem::take(&mut self.parts[pi].accepted);
            for i in acc {
                self.hold(txn, i, Some(reply.clone()), Stage::Data, c.clone());
            }
            self.parts.remove(pi);
            self.rset();
        }
    }

    pub(super) fn on_data_end_reply(&mut self, seq: u64, lmtp_rcpt: Option<usize>, reply: Reply) {
        let Some(pi) = self.part_index(seq) else {
            return;
        };
        let c = self.classify(&reply, Stage::DataEnd);
        let txn = self.parts[pi].txn;
        match lmtp_rcpt {
            Some(i) => {
                self.parts[pi].accepted.retain(|a| *a != i);
                self.outcome(txn, i, Some(reply), Stage::DataEnd, c);
                if self.parts[pi].accepted.is_empty() {
                    self.parts.remove(pi);
                }
            }
            None => {
                let acc = core::mem::take(&mut self.parts[pi].accepted);
                if let Some((&last, rest)) = acc.split_last() {
                    for &i in rest {
                        self.outcome(txn, i, Some(reply.clone()), Stage::DataEnd, c.clone());
                    }
                    // The last recipient takes the reply itself.
                    self.outcome(txn, last, Some(reply), Stage::DataEnd, c);
                }
                self.parts.remove(pi);
            }
        }
    }

    pub(super) fn rset(&mut self) {
        self.send_line(b"RSET");
        self.expect(Expect::Rset);
    }

    pub(super) fn pipelining(&self) -> bool {
        self.cfg.pipelining && self.caps.as_ref().is_some_and(|c| c.pipelining)
    }

    /// Starts the next transaction or QUIT when the state allows.
    pub(super) fn pump(&mut self) {
        loop {
            if self.phase != Phase::Ready || self.body.is_some() {
                return;
            }
            let pipelining = self.pipelining();
            let may_send = if pipelining {
                self.parts.iter().all(|p| p.state == PartState::AwaitDot)
            } else {
                self.pending.is_empty() && self.parts.is_empty()
            };
            if !may_send {
                return;
            }
            let Some(ti) = self
                .txns
                .iter()
                .position(|t| t.dispatched < t.env.recipients.len())
            else {
                if self.quit_requested {
                    self.send_line(b"QUIT");
                    self.expect(Expect::Quit);
                    self.phase = Phase::Quitting;
                }
                return;
            };
            if !self.start_part(ti) {
                // Failed before sending anything: try the next one.
                continue;
            }
            if !pipelining {
                return;
            }
        }
    }

    /// Starts the next part of transaction `ti`; false if it failed without a command.
    pub(super) fn start_part(&mut self, ti: usize) -> bool {
        // Taken out and put back to avoid cloning it on every transaction.
        let caps = self.caps.take().unwrap_or_default();
        let started = self.start_part_with(ti, &caps);
        self.caps = Some(caps);
        started
    }

    pub(super) fn start_part_with(&mut self, ti: usize, caps: &Capabilities) -> bool {
        let max = self.cfg.max_recipients_per_transaction;
        let t = &mut self.txns[ti];
        let start = t.dispatched;
        let end = start.saturating_add(max).min(t.env.recipients.len());
        t.dispatched = end;
        let txn = t.id;
        // Checks the server's capabilities allow before sending anything.
        let refuse = if t.env.message.smtputf8 && !caps.smtputf8 {
            Some(TransportFailure::Smtputf8NotOffered)
        } else if let (Some(n), Some(limit)) = (t.env.message.size, caps.size) {
            (limit > 0 && n > limit).then_some(TransportFailure::SizeExceedsLimit)
        } else {
            None
        };
        if let Some(failure) = refuse {
            let c = self
                .cfg
                .classifier
                .classify_failure(failure, Stage::MailFrom);
            for i in start..end {
                self.outcome(txn, i, None, Stage::MailFrom, c.clone());
            }
            return false;
        }
        let seq = self.next_part;
        self.next_part += 1;
        let pipelining = self.cfg.pipelining && caps.pipelining;
        {
            let t = &self.txns[ti];
            let buf = match self.out.back_mut() {
                Some(Output::Transmit(b)) => b,
                _ => {
                    self.out
                        .push_back(Output::Transmit(Vec::with_capacity(256)));
                    match self.out.back_mut() {
                        Some(Output::Transmit(b)) => b,
                        _ => unreachable!("the back of the output queue is a Transmit"),
                    }
                }
            };
            let before = buf.len();
            command::mail_from(&t.env, caps, buf);
            if pipelining {
                for r in &t.env.recipients[start..end] {
                    command::rcpt_to(r, caps, buf);
                }
                buf.extend_from_slice(b"DATA\r\n");
            }
            let added = buf.len() - before;
            self.out_bytes = self.out_bytes.saturating_add(added);
        }
        self.expect(Expect::Mail(seq));
        if pipelining {
            for i in start..end {
                self.expect(Expect::Rcpt(seq, i));
            }
            self.expect(Expect::Data(seq));
        }
        self.parts.push_back(Part {
            seq,
            txn,
            start,
            end,
            next_rcpt: start,
            accepted: Vec::new(),
            mail_failed: None,
            state: PartState::Envelope,
        });
        true
    }

    /// Records one recipient's outcome, and the transaction's end when it was the last.
    pub(super) fn outcome(
        &mut self,
        txn: TransactionId,
        rcpt: usize,
        reply: Option<Reply>,
        stage: Stage,
        classification: Classification,
    ) {
        let Some(ti) = self.txns.iter().position(|t| t.id == txn) else {
            return;
        };
        let t = &mut self.txns[ti];
        match t.decided.get_mut(rcpt) {
            Some(d) if !*d => *d = true,
            // Already decided (or not a recipient): exactly one outcome each.
            _ => return,
        }
        t.open = t.open.saturating_sub(1);
        match classification.disposition {
            Disposition::Success => t.delivered += 1,
            Disposition::Transient => t.transient += 1,
            Disposition::Permanent => t.permanent += 1,
        }
        let done = t.open == 0;
        self.event(Event::Recipient {
            transaction: txn,
            outcome: RcptOutcome {
                rcpt,
                reply,
                stage,
                classification,
            },
        });
        if done {
            if let Some(t) = self.txns.remove(ti) {
                self.event(Event::TransactionDone {
                    transaction: t.id,
                    delivered: t.delivered,
                    transient: t.transient,
                    permanent: t.permanent,
                });
            }
        }
    }

    /// Gives every recipient still open (in parts in flight and in queued
    /// transactions) the same outcome.
    pub(super) fn fail_open(&mut self, reply: Option<&Reply>, stage: Stage, c: &Classification) {
        // Refusals not yet proven aligned are not kept: those recipients are open.
        self.held.clear();
        self.parts.clear();
        self.pending.clear();
        self.body = None;
        let open: Vec<(TransactionId, usize)> = self
            .txns
            .iter()
            .flat_map(|t| {
                t.decided
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| !**d)
                    .map(move |(i, _)| (t.id, i))
            })
            .collect();
        for (txn, i) in open {
            self.outcome(txn, i, reply.cloned(), stage, c.clone());
        }
    }
}
