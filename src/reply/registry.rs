//! The IANA "SMTP Enhanced Status Codes" registry: subject and enumerated codes.
//!
//! Titles follow the registry's "Sample Text" column (RFC 3463, RFC 5248 and the
//! later registrations: RFC 3886, 4468, 4954, 6531, 6710, 7293, 7372, 7504, 7505,
//! 8617, 8689 and draft-levine-mailbomb-header). The registry's codes are written
//! `X.subject.detail`: a title applies to every class.

use super::EnhancedCode;

/// `(subject, detail, title)`, sorted by subject then detail.
const CODES: &[(u16, u16, &str)] = &[
    (0, 0, "Other undefined status"),
    (1, 0, "Other address status"),
    (1, 1, "Bad destination mailbox address"),
    (1, 2, "Bad destination system address"),
    (1, 3, "Bad destination mailbox address syntax"),
    (1, 4, "Destination mailbox address ambiguous"),
    (1, 5, "Destination address valid"),
    (1, 6, "Destination mailbox has moved, no forwarding address"),
    (1, 7, "Bad sender's mailbox address syntax"),
    (1, 8, "Bad sender's system address"),
    (1, 9, "Message relayed to non-compliant mailer"),
    (1, 10, "Recipient address has null MX"),
    (2, 0, "Other or undefined mailbox status"),
    (2, 1, "Mailbox disabled, not accepting messages"),
    (2, 2, "Mailbox full"),
    (2, 3, "Message length exceeds administrative limit"),
    (2, 4, "Mailing list expansion problem"),
    (3, 0, "Other or undefined mail system status"),
    (3, 1, "Mail system full"),
    (3, 2, "System not accepting network messages"),
    (3, 3, "System not capable of selected features"),
    (3, 4, "Message too big for system"),
    (3, 5, "System incorrectly configured"),
    (3, 6, "Requested priority was changed"),
    (4, 0, "Other or undefined network or routing status"),
    (4, 1, "No answer from host"),
    (4, 2, "Bad connection"),
    (4, 3, "Directory server failure"),
    (4, 4, "Unable to route"),
    (4, 5, "Mail system congestion"),
    (4, 6, "Routing loop detected"),
    (4, 7, "Delivery time expired"),
    (5, 0, "Other or undefined protocol status"),
    (5, 1, "Invalid command"),
    (5, 2, "Syntax error"),
    (5, 3, "Too many recipients"),
    (5, 4, "Invalid command arguments"),
    (5, 5, "Wrong protocol version"),
    (5, 6, "Authentication exchange line is too long"),
    (6, 0, "Other or undefined media error"),
    (6, 1, "Media not supported"),
    (6, 2, "Conversion required and prohibited"),
    (6, 3, "Conversion required but not supported"),
    (6, 4, "Conversion with loss performed"),
    (6, 5, "Conversion failed"),
    (6, 6, "Message content not available"),
    (
        6,
        7,
        "Non-ASCII addresses not permitted for that sender/recipient",
    ),
    (
        6,
        8,
        "UTF-8 string reply is required, but not permitted by the SMTP client",
    ),
    (
        6,
        9,
        "UTF-8 header message cannot be transferred to one or more recipients, so the message must be rejected",
    ),
    (
        6,
        10,
        "UTF-8 string reply is required, but not permitted by the SMTP client (deprecated duplicate of X.6.8)",
    ),
    (7, 0, "Other or undefined security status"),
    (7, 1, "Delivery not authorized, message refused"),
    (7, 2, "Mailing list expansion prohibited"),
    (7, 3, "Security conversion required but not possible"),
    (7, 4, "Security features not supported"),
    (7, 5, "Cryptographic failure"),
    (7, 6, "Cryptographic algorithm not supported"),
    (7, 7, "Message integrity failure"),
    (7, 8, "Authentication credentials invalid"),
    (7, 9, "Authentication mechanism is too weak"),
    (7, 10, "Encryption needed"),
    (
        7,
        11,
        "Encryption required for requested authentication mechanism",
    ),
    (7, 12, "A password transition is needed"),
    (7, 13, "User account disabled"),
    (7, 14, "Trust relationship required"),
    (7, 15, "Priority level is too low"),
    (7, 16, "Message is too big for the specified priority"),
    (7, 17, "Mailbox owner has changed"),
    (7, 18, "Domain owner has changed"),
    (7, 19, "RRVS test cannot be completed"),
    (7, 20, "No passing DKIM signature found"),
    (7, 21, "No acceptable DKIM signature found"),
    (7, 22, "No valid author-matched DKIM signature found"),
    (7, 23, "SPF validation failed"),
    (7, 24, "SPF validation error"),
    (7, 25, "Reverse DNS validation failed"),
    (7, 26, "Multiple authentication checks failed"),
    (7, 27, "Sender address has null MX"),
    (7, 28, "Mail flood detected"),
    (7, 29, "ARC validation failure"),
    (7, 30, "REQUIRETLS support required"),
];

/// Subject titles, indexed by subject (RFC 3463 §3).
const SUBJECTS: [&str; 8] = [
    "Other or undefined status",
    "Addressing status",
    "Mailbox status",
    "Mail system status",
    "Network and routing status",
    "Mail delivery protocol status",
    "Message content or media status",
    "Security or policy status",
];

impl EnhancedCode {
    /// The code's title in the IANA SMTP Enhanced Status Codes registry, or `None` for a
    /// code the registry does not list (servers invent their own, e.g. Microsoft's
    /// `4.7.500`–`4.7.699` range).
    ///
    /// ```
    /// use tempfail::EnhancedCode;
    /// let e: EnhancedCode = "5.7.26".parse().unwrap();
    /// assert_eq!(e.description(), Some("Multiple authentication checks failed"));
    /// let e: EnhancedCode = "5.1.10".parse().unwrap();
    /// assert_eq!(e.description(), Some("Recipient address has null MX"));
    /// let e: EnhancedCode = "4.7.500".parse().unwrap();
    /// assert_eq!(e.description(), None);
    /// ```
    pub fn description(self) -> Option<&'static str> {
        let key = (self.subject(), self.detail());
        CODES
            .binary_search_by(|(s, d, _)| (*s, *d).cmp(&key))
            .ok()
            .map(|i| CODES[i].2)
    }

    /// The title of the code's subject (RFC 3463 §3): `Addressing status` for `X.1.*`,
    /// `Security or policy status` for `X.7.*`, and `Unknown subject` beyond `X.7.*`.
    ///
    /// ```
    /// use tempfail::EnhancedCode;
    /// let e: EnhancedCode = "4.7.500".parse().unwrap();
    /// assert_eq!(e.subject_description(), "Security or policy status");
    /// ```
    pub fn subject_description(self) -> &'static str {
        SUBJECTS
            .get(usize::from(self.subject()))
            .copied()
            .unwrap_or("Unknown subject")
    }

    /// The title of the code's class: `Success`, `Persistent transient failure` or
    /// `Permanent failure`.
    pub fn class_description(self) -> &'static str {
        match self.class() {
            2 => "Success",
            4 => "Persistent transient failure",
            _ => "Permanent failure",
        }
    }

    /// Every `X.subject.detail` in the registry, as `(subject, detail, title)`, sorted.
    pub fn registry() -> &'static [(u16, u16, &'static str)] {
        CODES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(
            CODES
                .windows(2)
                .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1))
        );
    }

    #[test]
    fn every_registered_code_is_found_in_every_class() {
        for &(s, d, title) in CODES {
            for class in [2, 4, 5] {
                let e = EnhancedCode::new(class, s, d).unwrap();
                assert_eq!(e.description(), Some(title), "{e}");
            }
        }
        // X.0.0, X.1.0-10, X.2.0-4, X.3.0-6, X.4.0-7, X.5.0-6, X.6.0-10, X.7.0-30.
        assert_eq!(CODES.len(), 1 + 11 + 5 + 7 + 8 + 7 + 11 + 31);
    }

    #[test]
    fn unregistered_codes_have_no_title() {
        for code in ["4.7.500", "5.7.31", "5.1.11", "4.8.0", "5.9.999", "5.0.1"] {
            let e: EnhancedCode = code.parse().unwrap();
            assert_eq!(e.description(), None, "{code}");
        }
    }
}
