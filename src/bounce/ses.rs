//! Amazon SES notifications delivered by e-mail (an SNS subscription): one JSON object
//! with `notificationType` `Bounce`, `Complaint` or `Delivery` and the recipients it is
//! about. Only the few fields needed are read, by a bounded scan of JSON strings; the
//! rest of the object is skipped.

/// What a notification says about one recipient.
pub(crate) struct SesRecipient {
    pub(crate) address: String,
    pub(crate) action: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) diagnostic: Option<String>,
}

/// A notification: its type (`Bounce`, `Complaint`, `Delivery`), the bounce type
/// (`Permanent`, `Transient`), the complaint's feedback type, the delivery's SMTP
/// response, and its recipients.
pub(crate) struct Notification {
    pub(crate) kind: String,
    pub(crate) bounce_type: Option<String>,
    pub(crate) feedback_type: Option<String>,
    pub(crate) smtp_response: Option<String>,
    pub(crate) recipients: Vec<SesRecipient>,
}

/// The JSON string starting at `s` (just after its opening quote), unescaped, and
/// where it ends; `None` when it does not end.
fn string_at(s: &str) -> Option<(String, usize)> {
    string_at_max(s, super::MAX_VALUE_BYTES)
}

/// [`string_at`], keeping at most `max` bytes of the value.
fn string_at_max(s: &str, max: usize) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => {
                    let hex: String = (0..4)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    let c = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or('\u{fffd}');
                    if out.len() < max {
                        out.push(c);
                    }
                }
                other => {
                    if out.len() < max {
                        out.push(other);
                    }
                }
            },
            c => {
                if out.len() < max {
                    out.push(c);
                }
            }
        }
    }
    None
}

/// The string value of the first `"key":"value"` in `s`.
fn value(s: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\"");
    let p = s.find(&pat)?;
    let rest = s
        .get(p + pat.len()..)?
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    string_at(rest.strip_prefix('"')?).map(|(v, _)| v)
}

/// The text of the array after `"key":` (from `[` to its matching `]`, brackets inside
/// strings ignored), if any.
fn array<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\"");
    let p = s.find(&pat)?;
    let rest = s
        .get(p + pat.len()..)?
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let body = rest.strip_prefix('[')?;
    let (mut depth, mut in_str, mut esc) = (1usize, false, false);
    for (i, c) in body.char_indices() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return body.get(..i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The notification in `text`, if it is one: the notification itself, or an SNS
/// envelope (`"Type" : "Notification"`) whose `Message` string holds it.
pub(crate) fn parse(text: &str) -> Option<Notification> {
    // Sendmail cuts lines longer than its limit with `!`, a line break and a blank: a
    // one-line JSON object arrives wrapped so.
    let unwrapped;
    let text = if text.contains("!\n ") || text.contains("!\r\n ") {
        unwrapped = text.replace("!\r\n ", "").replace("!\n ", "");
        unwrapped.as_str()
    } else {
        text
    };
    if !text.contains("\"notificationType\"") {
        let p = text.find("\"Message\"")?;
        let rest = text
            .get(p + 9..)?
            .trim_start()
            .strip_prefix(':')?
            .trim_start();
        let (inner, _) = string_at_max(rest.strip_prefix('"')?, super::MAX_PART_BYTES)?;
        return if inner.contains("\"notificationType\"") {
            parse_object(&inner)
        } else {
            None
        };
    }
    parse_object(text)
}

fn parse_object(text: &str) -> Option<Notification> {
    let start = text.find("\"notificationType\"")?;
    let json = text.get(start..)?;
    let kind = value(json, "notificationType")?;
    let mut recipients = Vec::new();
    match kind.as_str() {
        "Bounce" | "Complaint" => {
            let key = if kind == "Bounce" {
                "bouncedRecipients"
            } else {
                "complainedRecipients"
            };
            let list = array(json, key)?;
            // One object per recipient: split at each `"emailAddress"`.
            let mut rest = list;
            while let Some(p) = rest.find("\"emailAddress\"") {
                let obj_start = rest.get(..p).and_then(|b| b.rfind('{')).unwrap_or(p);
                let after = rest.get(p + 1..).unwrap_or("");
                let next = after
                    .find("\"emailAddress\"")
                    .map_or(rest.len(), |n| p + 1 + n);
                let obj = rest.get(obj_start..next).unwrap_or("");
                if let Some(address) = value(obj, "emailAddress") {
                    recipients.push(SesRecipient {
                        address,
                        action: value(obj, "action"),
                        status: value(obj, "status"),
                        diagnostic: value(obj, "diagnosticCode"),
                    });
                }
                if recipients.len() >= super::MAX_RECIPIENTS {
                    break;
                }
                rest = rest.get(next..).unwrap_or("");
            }
        }
        "Delivery" => {
            let list = array(json, "recipients")?;
            let mut rest = list;
            while let Some(p) = rest.find('"') {
                let Some((address, used)) = rest.get(p + 1..).and_then(string_at) else {
                    break;
                };
                recipients.push(SesRecipient {
                    address,
                    action: None,
                    status: None,
                    diagnostic: None,
                });
                if recipients.len() >= super::MAX_RECIPIENTS {
                    break;
                }
                rest = rest.get(p + 1 + used..).unwrap_or("");
            }
        }
        _ => return None,
    }
    recipients.retain(|r| super::text::is_address(&r.address));
    Some(Notification {
        bounce_type: value(json, "bounceType"),
        feedback_type: value(json, "complaintFeedbackType"),
        smtp_response: value(json, "smtpResponse"),
        kind,
        recipients,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_notification() {
        let t = r#"{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"a@example.com","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user \"x\" unknown"},{"emailAddress":"b@example.com"}]}}"#;
        let n = parse(t).expect("a notification");
        assert_eq!(n.kind, "Bounce");
        assert_eq!(n.bounce_type.as_deref(), Some("Permanent"));
        assert_eq!(n.recipients.len(), 2);
        assert_eq!(
            n.recipients[0].diagnostic.as_deref(),
            Some("smtp; 550 5.1.1 user \"x\" unknown")
        );
        assert_eq!(n.recipients[1].address, "b@example.com");
        let d = parse(r#"{"notificationType":"Delivery","delivery":{"recipients":["c@example.com"],"smtpResponse":"250 ok"}}"#).expect("a notification");
        assert_eq!(d.recipients[0].address, "c@example.com");
        assert_eq!(d.smtp_response.as_deref(), Some("250 ok"));
        assert!(
            parse(r#"{"notificationType":"Bounce","bouncedRecipients":[{"emailAddress":"x"#)
                .is_none_or(|n| n.recipients.is_empty())
        );
    }
}
