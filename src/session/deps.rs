//! Stand-ins for the reply parser and classifier until they land in `reply` and
//! `classify`; replaced by re-exports of the real types.

use std::borrow::Cow;

use crate::classify::{Category, Classification, Disposition, Scope, Stage, TransportFailure};
use crate::reply::{Reply, ReplyCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(pub(crate) &'static str);

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.0)
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ReplyParser {
    line: Vec<u8>,
    lines: Vec<Vec<u8>>,
    code: Option<ReplyCode>,
}

impl ReplyParser {
    pub(crate) fn new() -> Self {
        Self::default()
    }
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
    pub(crate) fn parse(&mut self, input: &mut &[u8]) -> Option<Result<Reply, ParseError>> {
        loop {
            let nl = input.iter().position(|b| *b == b'\n');
            let take = nl.map_or(input.len(), |i| i + 1);
            if self.line.len() + take > 2048 {
                *input = &input[take..];
                self.reset();
                return Some(Err(ParseError("line too long")));
            }
            self.line.extend_from_slice(&input[..take]);
            *input = &input[take..];
            nl?;
            let mut l = core::mem::take(&mut self.line);
            l.pop();
            if l.last() == Some(&b'\r') {
                l.pop();
            }
            let Some(code) = l.get(..3).and_then(ReplyCode::from_digits) else {
                self.reset();
                return Some(Err(ParseError("not a reply line")));
            };
            if self.code.is_some_and(|c| c != code) {
                self.reset();
                return Some(Err(ParseError("code changed")));
            }
            self.code = Some(code);
            let sep = l.get(3).copied();
            let text = l.get(4..).unwrap_or(&[]).to_vec();
            if self.lines.len() >= 100 {
                self.reset();
                return Some(Err(ParseError("too many lines")));
            }
            self.lines.push(text);
            if sep != Some(b'-') {
                let lines = core::mem::take(&mut self.lines);
                self.code = None;
                return Some(Ok(Reply::new(code, lines)));
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Classifier;

impl Classifier {
    pub(crate) fn builtin() -> Self {
        Classifier
    }
    pub(crate) fn classify(&self, reply: &Reply, stage: Stage) -> Classification {
        let disposition = if reply.is_positive() {
            Disposition::Success
        } else if reply.is_transient() {
            Disposition::Transient
        } else {
            Disposition::Permanent
        };
        let category = match disposition {
            Disposition::Success => None,
            _ => Some(match reply.enhanced().map(|e| (e.subject(), e.detail())) {
                Some((1, 1)) => Category::UserUnknown,
                Some((2, 0)) if reply.text().contains("reylist") => Category::Greylisted,
                _ => Category::Other,
            }),
        };
        let scope = match stage {
            Stage::RcptTo => Scope::Recipient,
            Stage::MailFrom | Stage::Data | Stage::DataEnd => Scope::Message,
            _ => Scope::Connection,
        };
        Classification {
            disposition,
            category,
            scope,
            retry_after: None,
            rule: Cow::Borrowed("placeholder"),
            description: Cow::Borrowed("placeholder"),
            low_confidence: true,
        }
    }
    pub(crate) fn classify_failure(&self, _f: TransportFailure, _stage: Stage) -> Classification {
        Classification {
            disposition: Disposition::Transient,
            category: Some(Category::Network),
            scope: Scope::Destination,
            retry_after: None,
            rule: Cow::Borrowed("placeholder"),
            description: Cow::Borrowed("placeholder"),
            low_confidence: false,
        }
    }
}
