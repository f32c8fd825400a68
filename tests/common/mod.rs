//! Shared by the corpus score test and the classification bench: loading the labelled
//! corpora (tests/data/corpus, see its README for the subsets and labels), KumoMTA's
//! shipped rules (tests/data/kumomta) applied the way KumoMTA applies them, and a
//! code-only baseline.
#![allow(dead_code)]

use std::path::PathBuf;

use tempfail::classify::{Classifier, UserRule};
use tempfail::{Category, Disposition, Reply, Stage};

/// One scored row.
#[derive(Clone, Debug)]
pub struct Row {
    /// `sisimai` or `crisp`.
    pub corpus: &'static str,
    pub reply: String,
    pub stage: Stage,
    /// The label as given (Sisimai reason, or Crisp `reason/name_hint`).
    pub label: String,
    /// Accepted categories; empty when the category is not scored.
    pub accepted: Vec<Category>,
    /// The label says the reply was a success (Sisimai `delivered`).
    pub success: bool,
    /// Crisp's disposition label, when scored.
    pub disposition: Option<Disposition>,
    /// Either disposition counts (a full mailbox).
    pub either_disposition: bool,
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The corpus README's stage mapping.
pub fn stage_of(cmd: Option<&str>) -> Stage {
    match cmd.map(|s| s.trim().to_ascii_uppercase()) {
        Some(s) if s == "RCPT" || s == "RCPT TO" => Stage::RcptTo,
        Some(s) if s == "MAIL" || s == "MAIL FROM" => Stage::MailFrom,
        Some(s) if s == "DATA" => Stage::DataEnd,
        Some(s) if s == "CONN" => Stage::Greeting,
        Some(s) if s == "EHLO" || s == "HELO" => Stage::Ehlo,
        _ => Stage::Unknown,
    }
}

fn cats(names: &[&str]) -> Vec<Category> {
    names
        .iter()
        .map(|n| Category::from_name(n).unwrap_or_else(|| panic!("unknown category {n}")))
        .collect()
}

/// The README's table for Sisimai reasons.
fn sisimai_accepted(reason: &str) -> Vec<Category> {
    cats(match reason {
        "userunknown" | "hasmoved" => &["user_unknown"],
        "filtered" => &["user_unknown", "mailbox_disabled", "policy", "spam_content"],
        "suspend" => &["mailbox_disabled"],
        "mailboxfull" => &["mailbox_full"],
        "exceedlimit" => &["message_too_big", "mailbox_full"],
        "mesgtoobig" => &["message_too_big"],
        "hostunknown" => &["domain_not_found"],
        "notaccept" => &["no_mail_service", "domain_not_found"],
        "networkerror" => &["network", "dns", "domain_not_found", "server_error"],
        "blocked" => &["blocklisted", "reputation", "policy", "rate_limited"],
        "badreputation" => &["reputation", "blocklisted", "rate_limited"],
        "requireptr" => &["reputation", "blocklisted", "policy"],
        "toomanyconn" => &[
            "too_many_connections",
            "rate_limited",
            "too_many_recipients",
        ],
        "speeding" => &["rate_limited"],
        "spamdetected" => &["spam_content"],
        "virusdetected" => &["virus_content"],
        "authfailure" => &["sender_authentication"],
        "securityerror" => &[
            "auth_required",
            "auth_failed",
            "tls_required",
            "sender_authentication",
            "policy",
        ],
        "failedstarttls" => &["tls_required", "tls_failed"],
        "norelaying" => &["relay_denied"],
        "rejected" => &["sender_rejected", "policy"],
        "policyviolation" => &["policy", "spam_content", "content_format"],
        "contenterror" | "notcompliantrfc" => &["content_format"],
        "syntaxerror" => &["protocol"],
        "systemerror" => &["server_error", "service_unavailable"],
        "systemfull" => &["server_error", "mailbox_full"],
        _ => &[],
    })
}

/// The README's table for Crisp reasons and name hints.
fn crisp_accepted(label: &str) -> Vec<Category> {
    cats(match label {
        "no_such_recipient" | "recipient_unknown" | "does_not_exist" | "address_rejected" => {
            &["user_unknown"]
        }
        "mailbox_full" | "mailbox_over_quota" => &["mailbox_full"],
        "recipient_disabled_or_recipient_rate_limited" | "account_disabled" => {
            &["mailbox_disabled", "rate_limited"]
        }
        "action_not_taken_mailbox_rate_limited" | "rate_limited" | "deferred" => &["rate_limited"],
        "too_many_connections" => &["too_many_connections", "rate_limited"],
        "spam_content" | "spam" | "message_rejected" => &["spam_content", "policy"],
        "ip_blocked_spam" | "reputation" => &["blocklisted", "reputation", "rate_limited"],
        "blocked" => &["blocklisted", "reputation"],
        "mailbox_unavailable" => &["user_unknown", "mailbox_disabled"],
        "authentication_failure" => &["sender_authentication"],
        "server_unknown" => &["domain_not_found", "dns", "network", "no_mail_service"],
        "unknown_server_unknown" | "unkown_server" => &["domain_not_found", "dns", "network"],
        "server_timeout"
        | "timeout"
        | "unknown_server_timeout"
        | "unknown_server_connection"
        | "hops" => &["network"],
        "server_busy" | "action_aborted_local_error" | "unknown_temporary" => {
            &["server_error", "service_unavailable"]
        }
        "sender_blocked" => &["sender_rejected", "policy", "blocklisted"],
        "restricted_permissions" | "policy_violation" | "not_allowed" | "service_refused" => {
            &["policy", "relay_denied"]
        }
        "equal_headers" => &["content_format"],
        _ => &[],
    })
}

fn read_jsonl(name: &str) -> Vec<serde_json::Value> {
    let path = data_dir().join("corpus").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line is JSON"))
        .collect()
}

fn s<'a>(v: &'a serde_json::Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(|x| x.as_str())
}

/// The Sisimai evaluation subset (README: 404 rows, 400 with a category label).
pub fn sisimai() -> Vec<Row> {
    const EXCLUDED: &[&str] = &[
        "feedback",
        "vacation",
        "onhold",
        "undefined",
        "expired",
        "mailererror",
    ];
    read_jsonl("sisimai.jsonl")
        .into_iter()
        .filter_map(|v| {
            let reply = s(&v, "reply")?.to_owned();
            if !reply.chars().any(|c| c.is_alphabetic()) {
                return None;
            }
            if v.get("reply_names_reason").and_then(|x| x.as_bool()) == Some(true) {
                return None;
            }
            let reason = s(&v, "reason").unwrap_or("").to_owned();
            if EXCLUDED.contains(&reason.as_str()) {
                return None;
            }
            Some(Row {
                corpus: "sisimai",
                stage: stage_of(s(&v, "smtp_command")),
                accepted: sisimai_accepted(&reason),
                success: reason == "delivered",
                disposition: None,
                either_disposition: false,
                label: reason,
                reply,
            })
        })
        .collect()
}

/// Every Crisp row with a reply (README: 108 rows, 107 with a category label, 99 with
/// a disposition label). A row's category is correct when it is accepted for its
/// `reason` or for its `name_hint` (both are Crisp's labels).
pub fn crisp() -> Vec<Row> {
    read_jsonl("crisp.jsonl")
        .into_iter()
        .filter_map(|v| {
            let reply = s(&v, "reply")?.to_owned();
            if reply.trim().is_empty() {
                return None;
            }
            let reason = s(&v, "reason").unwrap_or("");
            let hint = s(&v, "name_hint").unwrap_or("");
            let mut accepted = crisp_accepted(reason);
            for c in crisp_accepted(hint) {
                if !accepted.contains(&c) {
                    accepted.push(c);
                }
            }
            let full = ["mailbox_full", "mailbox_over_quota"];
            Some(Row {
                corpus: "crisp",
                stage: stage_of(s(&v, "smtp_command")),
                accepted,
                success: false,
                disposition: s(&v, "disposition").and_then(Disposition::from_name),
                either_disposition: full.contains(&reason) || full.contains(&hint),
                label: format!("{reason}/{hint}"),
                reply,
            })
        })
        .collect()
}

// ---- KumoMTA ---------------------------------------------------------------------

/// KumoMTA's rule files, as one ordered list of (class, regex): iana.toml first, then
/// the community file, each in file order (KumoMTA's load order).
pub fn kumo_rules() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in ["bounce_classifier-iana.toml", "community-bounces.toml"] {
        let path = data_dir().join("kumomta").join(f);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        out.extend(parse_kumo_toml(&text));
    }
    out
}

/// The subset of TOML these two files use: `Class = [ "regex", … ]` under `[rules]`,
/// basic strings with `\\` and `\"` escapes, `#` comments.
fn parse_kumo_toml(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut class: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || t.is_empty() || t == "[rules]" {
            continue;
        }
        if let Some((name, rest)) = t.split_once('=') {
            if !name.trim().starts_with('"') && rest.trim_start().starts_with('[') {
                class = Some(name.trim().to_owned());
                let rest = rest.trim_start()[1..].trim();
                if let Some(r) = first_string(rest) {
                    out.push((class.clone().unwrap_or_default(), r));
                }
                if rest.ends_with(']') {
                    class = None;
                }
                continue;
            }
        }
        if t.starts_with(']') {
            class = None;
            continue;
        }
        if let (Some(c), Some(r)) = (&class, first_string(t)) {
            out.push((c.clone(), r));
            if t.trim_end().ends_with(']') {
                class = None;
            }
        }
    }
    out
}

fn first_string(t: &str) -> Option<String> {
    let rest = t.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            '"' => return Some(out),
            c => out.push(c),
        }
    }
    None
}

/// KumoMTA's classes mapped to tempfail categories.
pub fn kumo_category(class: &str) -> Category {
    match class {
        "InvalidRecipient" => Category::UserUnknown,
        "BadDomain" => Category::DomainNotFound,
        "InactiveMailbox" => Category::MailboxDisabled,
        "InvalidSender" => Category::SenderRejected,
        "QuotaIssues" => Category::MailboxFull,
        "NoAnswerFromHost" | "BadConnection" => Category::Network,
        "DNSFailure" => Category::Dns,
        "RoutingErrors" => Category::RelayDenied,
        "TransientFailure" => Category::ServerError,
        "ProtocolErrors" => Category::Protocol,
        "AuthenticationFailed" => Category::SenderAuthentication,
        "PolicyRelated" => Category::Policy,
        "SpamBlock" => Category::Blocklisted,
        "SpamContent" => Category::SpamContent,
        _ => Category::Other,
    }
}

/// KumoMTA's classifier: one `RegexSet` over `"CODE X.Y.Z text"`, the lowest-numbered
/// matching rule wins. The reply is found in the text as tempfail finds it (KumoMTA
/// itself classifies live replies only; text without a reply is uncategorised).
pub struct Kumo {
    pub set: regex::RegexSet,
    pub classes: Vec<Category>,
}

impl Kumo {
    pub fn load() -> Kumo {
        let rules = kumo_rules();
        let set = regex::RegexSet::new(rules.iter().map(|(_, r)| r.as_str()))
            .expect("KumoMTA's regexes compile");
        Kumo {
            set,
            classes: rules.iter().map(|(c, _)| kumo_category(c)).collect(),
        }
    }

    /// The one-line form KumoMTA matches: `"550 5.1.1 text"` (no enhanced code: `"550 text"`).
    pub fn line(reply: &Reply) -> String {
        match reply.enhanced() {
            Some(e) => format!("{} {} {}", reply.code(), e, reply.text()),
            None => format!("{} {}", reply.code(), reply.text()),
        }
    }

    pub fn classify_line(&self, line: &str) -> Category {
        self.set
            .matches(line)
            .into_iter()
            .next()
            .map_or(Category::Other, |i| self.classes[i])
    }

    /// Category and disposition (KumoMTA decides retry from the basic code alone).
    pub fn classify_text(&self, text: &str) -> (Category, Option<Disposition>) {
        match Reply::parse_loose(text) {
            Some(r) => {
                let d = match r.code().class() {
                    2 | 3 => Disposition::Success,
                    4 => Disposition::Transient,
                    _ => Disposition::Permanent,
                };
                (self.classify_line(&Kumo::line(&r)), Some(d))
            }
            None => (Category::Other, None),
        }
    }
}

// ---- Code-only baseline -------------------------------------------------------------

/// A classifier that looks at codes only: the RFC 3463 enhanced-code registry, then the
/// RFC 5321 basic codes, no wording and no stage. Built from user rules, replacing the
/// built-ins.
pub fn code_only() -> Classifier {
    let e = |id: &str, pat: &str, c: Category| UserRule::new(id, c).enhanced([pat]);
    let b = |id: &str, pat: &str, c: Category| UserRule::new(id, c).codes([pat]);
    use Category as C;
    let rules = vec![
        e("x.1.1", "*.1.1", C::UserUnknown),
        e("x.1.2", "*.1.2", C::DomainNotFound),
        e("x.1.3", "*.1.3", C::UserUnknown),
        e("x.1.6", "*.1.6", C::UserUnknown),
        e("x.1.7", "*.1.7", C::SenderRejected),
        e("x.1.8", "*.1.8", C::SenderRejected),
        e("x.1.10", "*.1.10", C::NoMailService),
        e("x.2.1", "*.2.1", C::MailboxDisabled),
        e("x.2.2", "*.2.2", C::MailboxFull),
        e("x.2.3", "*.2.3", C::MessageTooBig),
        e("x.3.1", "*.3.1", C::ServerError),
        e("x.3.2", "*.3.2", C::ServiceUnavailable),
        e("x.3.4", "*.3.4", C::MessageTooBig),
        e("x.3.5", "*.3.5", C::ServerError),
        e("x.4.*", "*.4.*", C::Network),
        e("x.5.3", "*.5.3", C::TooManyRecipients),
        e("x.5.*", "*.5.*", C::Protocol),
        e("x.6.*", "*.6.*", C::ContentFormat),
        e("x.7.8", "*.7.8", C::AuthFailed),
        e("x.7.13", "*.7.13", C::MailboxDisabled),
        e("x.7.25", "*.7.25", C::Reputation),
        e("x.7.26", "*.7.26", C::SenderAuthentication),
        e("x.7.*", "*.7.*", C::Policy),
        b("421", "421", C::ServiceUnavailable),
        b("450", "450", C::UserUnknown),
        b("451", "451", C::ServerError),
        b("452", "452", C::ServerError),
        b("50x", "50x", C::Protocol),
        b("530", "530", C::AuthRequired),
        b("535", "535", C::AuthFailed),
        b("550", "550", C::UserUnknown),
        b("551", "551", C::UserUnknown),
        b("552", "552", C::MailboxFull),
        b("553", "553", C::UserUnknown),
        b("554", "554", C::Policy),
    ];
    Classifier::from_rules_only(rules).expect("code-only rules are valid")
}

/// The generalisation corpus's tuning files (under tests/data/generalisation): rules
/// may be written from them and the model trains on them. Each held-out set joined
/// them once its one measurement was recorded (BENCHMARKS.md): `heldout.txt`'s systems
/// in `replies.jsonl`, then `fresh/`, then `fresh2/`, then `fresh3/`, then `fresh4/`, then
/// `fresh5/`, then `fresh6/`, then `fresh7/`, then `fresh8/`, then `fresh9/`, then `fresh10/`,
/// then `fresh11/`, then `fresh12/`, then `fresh13/`, then `fresh14/`, then `fresh15/`,
/// then `fresh16/`, then `fresh17/`, then `fresh18/`, then `fresh19/`, then `fresh20/`,
/// then `fresh21/`, then `fresh22/`, then `fresh23/`, then `fresh24/`, then `fresh25/`,
/// then `fresh26/`, then `fresh27/`, then `fresh28/`, then `fresh29/`, then `fresh30/`,
/// then `fresh31/`, then `fresh32/`, then `fresh33/`, then `fresh34/`, then `fresh35/`,
/// then `fresh36/`.
pub const TUNING_FILES: [&str; 37] = [
    "replies.jsonl",
    "fresh/replies.jsonl",
    "fresh2/replies.jsonl",
    "fresh3/replies.jsonl",
    "fresh4/replies.jsonl",
    "fresh5/replies.jsonl",
    "fresh6/replies.jsonl",
    "fresh7/replies.jsonl",
    "fresh8/replies.jsonl",
    "fresh9/replies.jsonl",
    "fresh10/replies.jsonl",
    "fresh11/replies.jsonl",
    "fresh12/replies.jsonl",
    "fresh13/replies.jsonl",
    "fresh14/replies.jsonl",
    "fresh15/replies.jsonl",
    "fresh16/replies.jsonl",
    "fresh17/replies.jsonl",
    "fresh18/replies.jsonl",
    "fresh19/replies.jsonl",
    "fresh20/replies.jsonl",
    "fresh21/replies.jsonl",
    "fresh22/replies.jsonl",
    "fresh23/replies.jsonl",
    "fresh24/replies.jsonl",
    "fresh25/replies.jsonl",
    "fresh26/replies.jsonl",
    "fresh27/replies.jsonl",
    "fresh28/replies.jsonl",
    "fresh29/replies.jsonl",
    "fresh30/replies.jsonl",
    "fresh31/replies.jsonl",
    "fresh32/replies.jsonl",
    "fresh33/replies.jsonl",
    "fresh34/replies.jsonl",
    "fresh35/replies.jsonl",
    "fresh36/replies.jsonl",
];

/// The held-out set: nobody writing rules or training the model reads its rows.
pub const HELDOUT_FILE: &str = "fresh37/replies.jsonl";

/// The systems of the first held-out part of `replies.jsonl` (`heldout.txt`), retired
/// into tuning; kept to report that part on its own.
pub fn heldout_systems() -> std::collections::BTreeSet<String> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/generalisation/heldout.txt");
    std::fs::read_to_string(p)
        .expect("heldout.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// A corpus row's text as a live reply, when every line is a reply line.
pub fn live_reply(text: &str) -> Option<Reply> {
    let mut wire = text.replace("\r\n", "\n").replace('\n', "\r\n");
    wire.push_str("\r\n");
    Reply::parse(wire.as_bytes()).ok()
}

/// One labelled row of the generalisation corpus (tests/data/generalisation, see
/// LABELLING.md).
#[derive(Clone)]
pub struct GenRow {
    pub id: String,
    pub system: String,
    pub reply: String,
    pub stage: Stage,
    pub disposition: Disposition,
    pub category: Category,
    pub also: Option<Category>,
    pub scope: tempfail::Scope,
    /// `reply` as a live reply, when every line is a reply line.
    pub live: Option<Reply>,
}

impl GenRow {
    /// How a row is classified: a live reply through `classify` with the row's stage,
    /// anything else through `classify_text`, as a bounce's text would be.
    pub fn classify(&self, c: &Classifier) -> tempfail::Classification {
        match &self.live {
            Some(r) => c.classify(r, self.stage),
            None => c.classify_text(&self.reply, self.stage),
        }
    }

    /// Whether `cat` is the row's category or its `also`.
    pub fn category_ok(&self, cat: Category) -> bool {
        cat == self.category || Some(cat) == self.also
    }

    /// Whether `scope` is right for a verdict of `cat`: the label's, or `connection`
    /// for a `destination` label when `cat`'s usual scope is the connection (auth, TLS,
    /// protocol, service unavailable: what must wait is the host's session).
    pub fn scope_ok(&self, cat: Category, scope: tempfail::Scope) -> bool {
        use tempfail::Scope;
        scope == self.scope
            || (scope == Scope::Connection
                && self.scope == Scope::Destination
                && cat.usual_scope(Stage::Unknown) == Scope::Connection)
    }
}

/// The rows of `file` under tests/data/generalisation; a malformed row panics, naming
/// what is wrong.
pub fn generalisation_rows(file: &str) -> Vec<GenRow> {
    labelled_rows("tests/data/generalisation", file, None)
}

/// The rows of a probe set, `file` under tests/data/probes (replies written to find blind
/// spots, not real; see its README): the corpus's record without `system`, which is the
/// file's name here.
pub fn probe_rows(file: &str) -> Vec<GenRow> {
    labelled_rows("tests/data/probes", file, Some(file))
}

/// LABELLING.md records from `dir/file`; `system` is required unless `default_system`
/// names one.
fn labelled_rows(dir: &str, file: &str, default_system: Option<&str>) -> Vec<GenRow> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(dir)
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
            let cat = |k: &str| {
                s(k).map(|n| Category::from_name(&n).unwrap_or_else(|| panic!("category {n}")))
            };
            let reply = s("reply").expect("reply");
            GenRow {
                id: s("id").expect("id"),
                system: s("system")
                    .or_else(|| default_system.map(str::to_owned))
                    .expect("system"),
                stage: s("stage").map_or(Stage::Unknown, |st| {
                    Stage::parse_strict(&st).unwrap_or_else(|e| panic!("{e}"))
                }),
                disposition: Disposition::from_name(&s("disposition").expect("disposition"))
                    .expect("a disposition"),
                category: cat("category").expect("category"),
                also: cat("also"),
                scope: tempfail::Scope::from_name(&s("scope").expect("scope")).expect("a scope"),
                live: live_reply(&reply),
                reply,
            }
        })
        .collect()
}

/// `rows` with their labels (disposition, category, also, scope) taken instead from
/// `labels` (a JSON-lines file beside the corpus, one `{"id", "disposition",
/// "category", "also"?, "scope"}` per row): a held-out set's other labellings.
/// `None` when the file does not exist; panics unless it labels exactly `rows`.
pub fn relabelled(rows: &[GenRow], labels: &str) -> Option<Vec<GenRow>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/generalisation")
        .join(labels);
    let text = std::fs::read_to_string(&path).ok()?;
    let mut by_id = std::collections::BTreeMap::new();
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        let cat = |k: &str| {
            s(k).map(|n| Category::from_name(&n).unwrap_or_else(|| panic!("category {n}")))
        };
        let label = (
            Disposition::from_name(&s("disposition").expect("disposition")).expect("a disposition"),
            cat("category").expect("category"),
            cat("also"),
            tempfail::Scope::from_name(&s("scope").expect("scope")).expect("a scope"),
        );
        by_id.insert(s("id").expect("id"), label);
    }
    assert_eq!(by_id.len(), rows.len(), "{labels} labels every row once");
    Some(
        rows.iter()
            .map(|r| {
                let mut r = r.clone();
                let (d, c, a, sc) = by_id
                    .get(&r.id)
                    .unwrap_or_else(|| panic!("{labels} does not label {}", r.id));
                (r.disposition, r.category, r.also, r.scope) = (*d, *c, *a, *sc);
                r
            })
            .collect(),
    )
}

/// Whether two labellings of the same rows give every row the same labels.
pub fn same_labels(a: &[GenRow], b: &[GenRow]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.id == y.id
                && (x.disposition, x.category, x.also, x.scope)
                    == (y.disposition, y.category, y.also, y.scope)
        })
}

/// Every row of the tuning files ([`TUNING_FILES`]).
pub fn generalisation_tuning_rows() -> Vec<GenRow> {
    TUNING_FILES
        .iter()
        .flat_map(|f| generalisation_rows(f))
        .collect()
}
