//! Tier 4 of the built-in rules: Receivers' and MTAs' own wording, provider-specific before generic.
//!
//! A tier gives its rules their kind of evidence ([`super::TIERS`]); every rule that
//! holds is weighed, and the order here only breaks ties between equal weights.

use super::*;

/// Wording of a failed transport (Postfix, Exim and Sendmail bounces, RFC 5321 §3.8).
#[rustfmt::skip]
const NETWORK: &[&str] = &["connection refused", "connection timed out", "timed out", "timeout", "no route to host", "network is unreachable",
    "host is unreachable", "lost connection", "connection reset", "connection closed", "broken pipe", "conversation with",
    "connection expired", "open for too long", "lost incoming connection", "connection error", "connection dropped", "connection lost",
    "remote host closed", "connection died", "no answer from host", "{unable to|could not|cannot|can't|failed to} connect", "server unreachable"];

#[rustfmt::skip]
pub(super) fn rules(v: &mut Vec<B>) {
    v.push(
        r("text.from_header_not_permitted", C::SenderRejected,
          "the header From is an address the (authenticated) sender may not use: the sender is refused, not the message's format (submission servers' 'From header not owned by authenticated user')")
            .t(&["from header address rejected", "not authorized to send as", "not authorised to send as", "{not allowed to|may not|cannot|can't|can not} send as",
                 "from header {is not|not} {owned|permitted}", "from header not allowed for this {account|user}", "{header from|from header} must match", "from header sender domain not verified", "not {authorized|authorised} to send from this header", "restricted to sending domain",
                 // the header From differs from the envelope sender
                 "from{:|} header mismatch", "does not match smtp from", "different from{:|} header and smtp mail from"]),
    );
    v.push(
        r("text.content_format", C::ContentFormat,
          "the message breaks RFC 5322/5321 format rules (Gmail RfcMessageNonCompliant, duplicate or bad headers, 8-bit data, bare LF)")
            .t(&["lacks message-id", "lacks a message-id", "without message-id", "rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfcmessagenoncompliant", "not rfc", "duplicate header", "multiple addresses in from",
                 "multiple subject", "multiple from", "bad header", "invalid header", "malformed header", "headers too large",
                 "header too large", "too many equal", "x-headers", "8-bit data", "8bit data", "bare lf", "bare linefeed", "bare newline",
                 "missing message-id", "no message-id", "date header", "{date|dated} in the future", "{date|dated} in {the |}remote past", "fix your system clock", "no headers at all", "no headers sent", "has no from address", "mime parse error", "malformed mime", "could not parse provided data", "missing header", "improper use of 8-bit", "non-compliant", "noncompliant",
                 // the header From's own format faults (a bare "from header" would also claim alignment and ownership texts)
                 "{a|one|no|without|without a|missing|invalid|duplicate|empty|malformed} from{:|} header", "from{:|} header {is |}{missing|empty|invalid|malformed}",
                 "from header has an invalid", "unacceptable from{:|} header", "valid address in from", "single domain in the from", "utf-8 in from header",
                 "header is missing", "invalid mime", "header syntax", "header line is too long",
                 "header is ridiculously long", "not crlf terminated", "bare line-feed", "bare <lf>", "mime parts", "return-path header",
                 "disallowed header", "header value", "header size", "individual header", "same message-id", "unicode character in a",
                 "barelinefeed*", "bare linefeeds", "bare lfs",
                 // Python's email package names the fault it found (email.errors), and receivers written in Python pass the name on
                 "missingheaderbodyseparatordefect", "noboundaryinmultipartdefect", "startboundarynotfounddefect", "closeboundarynotfounddefect",
                 "firstheaderlineiscontinuationdefect", "misplacedenvelopeheaderdefect", "multipartinvariantviolationdefect",
                 "invalidmultipartcontenttransferencodingdefect", "undecodablebytesdefect", "invalidbase64paddingdefect",
                 "invalidbase64charactersdefect", "invalidbase64lengthdefect", "headermissingrequiredvalue", "invalidheaderdefect",
                 "unicode e-mail", "unicode email", "non-unicode", "invalid line ending", "smtplf", "mime type", "empty message",
                 "too short message", "message too short", "empty or too short", "header check", "has defects", "message defects", "could not parse mail", "{message|content|message content} could not be parsed", "malformed mail header*", "no valid headers",
                 "parse the message", "unparsable message", "unparseable message", "cannot be parsed", "nested too deep", "unsupported content type", "must contain exactly one address", "doesn't contain a body", "does not contain a body", "must have body", "broken sender header", "broken from header", "incorrect crlf", "mail body error", "message is empty", "broken mime", "failed to parse message", "headers contain invalid",
                 "{7 bit|7-bit|7bit} data", "mime part limit", "too many mime parts", "mime structure exceeds", "{required|missing} mime headers", "media not supported", "invalid structure", "unknown content type", "message too small", "expected exactly one from"]),
    );
    v.push(
        r("text.from_domain_format", C::ContentFormat,
          "the header From's domain is malformed or uses a reserved or unknown top-level domain, said after the data (at MAIL FROM or RCPT TO the same words are about an envelope address)")
            .t(&["malformed from domain", "{reserved|no valid} tld"])
            .at(&[S::Data, S::DataEnd, S::Bdat]),
    );
    v.push(
        r("text.content_line_too_long", C::ContentFormat,
          "a line of the message is longer than RFC 5322 allows (998 octets), said after the data")
            .t(&["line too long", "lines too long", "line is too long", "line length", "too long line"])
            .at(&[S::Data, S::DataEnd, S::Bdat]),
    );
    v.push(
        r("text.command_line_too_long", C::Protocol,
          "a command line is longer than the server accepts (RFC 5321 §4.5.3.1.4), said outside the data")
            .t(&["line too long", "too long line", "command line too long", "line is too long", "command line size", "line size exceeds", "maximum line size"])
            .at(&[S::Connect, S::Greeting, S::Ehlo, S::Helo, S::Starttls, S::Auth, S::MailFrom, S::RcptTo, S::Rset, S::Quit, S::Unknown]),
    );
    // Sender authentication (must precede the generic spam wording: Gmail's SPF text
    // says "to best protect our users from spam").
    v.push(
        r("gmail.unauthenticated", C::SenderAuthentication,
          "Gmail 5.7.26/5.7.27/5.7.30: unauthenticated email, DMARC policy, SPF/DKIM failures (Gmail SMTP error reference)")
            .t(&["unauthenticated email", "sender is unauthenticated", "gmail requires all senders to authenticate", "does not have authentication information",
                 "fails to pass spf", "hard fail policy", "authentication results:"]),
    );
    v.push(
        r("microsoft.dmarc", C::SenderAuthentication,
          "Microsoft 365 5.7.509/5.7.510/5.7.515: the sending domain does not pass DMARC/DKIM/SPF")
            .t(&["does not pass dmarc", "dmarcrejection", "the 5322.from", "domain in the 5322.from", "failed to pass the required authentication"]),
    );
    v.push(
        r(
            "text.sender_authentication",
            C::SenderAuthentication,
            "DMARC, SPF, DKIM, ARC or Sender ID failures",
        )
        .t(&[
            "published sender records",
            "dmarc",
            "spf",
            "openspf",
            "discourages use of this host",
            "dkim",
            "sender policy framework",
            "arc chain {broken|failed|invalid}",
            "aligned signature",
            "authentication checks failed",
            "failed authentication checks",
            "sender authentication",
            "purported responsible address",
            "sender id",
            "senderid",
            "domainkeys",
            "arc validation",
            "invalid ip for sending mail of domain",
            "not authorized to send on behalf",
            "not designated as permitted sender",
            "is not allowed to send mail from",
            "spoof*",
            "forged",
            "impersonation",
            "sender's policy prohibits",
            "senders policy prohibits", "permitted sender", "body hash", "signature verification", "dkim signature", "does not align", "alignment", "origin verification", "_domainkey", "published sending policy", "sender-id",
        ]),
    );
    // Content.
    v.push(
        r("text.spam_or_virus", C::SpamContent,
          "'spam or virus' classification without saying which (T-Online, various filters): treated as spam")
            .t(&["spam or virus", "spam/virus", "spam and virus"])
            .scope(Scope::Message),
    );
    v.push(
        r("netease.spam", C::SpamContent,
          "NetEase 163/126 DT:SPM / DT:SUM: the message was judged spam (NetEase help_spam pages)")
            .t(&["dt:spm", "dt:sum", "mail.163.com/help/help_spam"])
            .scope(Scope::Message),
    );
    v.push(
        r("text.scanner_failure", C::ServerError,
          "the receiver's own virus or spam scanner failed or is not ready: a receiving-side processing failure, not a verdict on the message")
            .t(&["problem running", "filter failed", "scanner failed", "scanner error", "scanner failure", "scan failed", "scanning failed", "unable to scan",
                 "could not scan", "cannot scan", "not ready", "scanner unavailable", "scanner not available", "scan error", "anti-virus unavailable", "antivirus unavailable", "virus scanner unavailable", "connect to rspamd", "connect to spamd", "connect to clamd", "connect to amavis", "scanner malfunction",
                 "{scanner|virus scanner|spam scanner|spam check|spam checker|virus check|content filter|spam filter|antivirus|anti-virus} temporarily unavailable",
                 "failed to scan", "av system is not available", "antivirus software failed", "{spam|virus|content} filter {is |}unavailable", "scanner is unavailable", "scanning {is |}{currently |temporarily |}unavailable"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.own_check_failed", C::ServerError,
          "the receiving side's own store, signer or lookup failed ('error saving email', 'DKIM signing failed', 'whitelist check failed'): its trouble, not a verdict on the message; its phrases hold the DKIM and allow-list words inside them, so the longer phrase decides")
            .t(&["error saving", "no spooler", "{dkim|arc} signing failed", "whitelist check failed", "could not queue the message", "could not be queued", "verification {is |}temporarily unavailable"]),
    );
    v.push(
        r("text.virus", C::VirusContent,
          "a virus or malware was found (ClamAV, Amavis, Sophos, Mimecast 'Email rejected due to security policies')")
            .t(&["suspicious macro", "virus", "may contain viruses", "repaired viruses", "malware", "infected", "trojan", "worm", "clamav", "rejected due to security policies", "contains a virus",
                 "banned attachment", "blacklisted attachment", "dangerous attachment", "malicious", "phishing", "illegal attachment", "potential security issue",
                 "executable*", "blocked attachment", "attachment type", "banned content", "banned: ", "file type", "tipo de {arquivo|archivo|anexo|adjunto}", "prohibited attachment",
                 "forbidden attachment", "attachment is not permitted", "attachments are not permitted", "unsafe attachment*",
                 "attachments are not allowed", "attachment is not allowed", "bad attachment", "attachments of this type", "content attachment",
                 "password-protected", "password protected", "encrypted archive", "encrypted zip", "macro detected", "dangerous macro", "dangerous content", "found something nasty", "eicar",
                 "outbreak", "macros", "office macro", "suspicious archive", "suspicious attachment*", "suspicious file", "harmful", "credential harvesting", "credential-harvesting", "fraudulent", "macro-enabled", "potentially dangerous", "credential theft", "credential phishing", "document macro",
                 // Spanish, Portuguese, French, Italian, German
                 "adjunto {ejecutable|peligroso|bloqueado|de script|prohibido}", "{doble|double} {extension|extensión}", "anexo {executável|executavel|perigoso|bloqueado}",
                 "pièce jointe {dangereuse|exécutable|bloquée|interdite}", "allegato {pericoloso|eseguibile|bloccato}", "{gefährlicher|ausführbarer|blockierter} anhang",
                 "{含有|包含|发现|检测到}病毒", "病毒邮件", "恶意软件", "{ウイルス|ウィルス|マルウェア}が検出", "{ウイルス|ウィルス}を検出", "{содержит|обнаружен} вирус", "вирус обнаружен",
                 "wirus*", "złośliw*", "schadsoftware {gefunden|erkannt|entdeckt}", "enthält schadsoftware", "logiciel malveillant", "software malicioso", "schadelijke software"]),
    );
    v.push(
        r("text.threat_verdict", C::VirusContent,
          "a scanner's verdict on the message ('threat detected', 'rejected by antivirus'), said after the data; before it the same words are about our host or sender")
            .t(&["threat detected", "rejected by {antivirus|anti-virus}"])
            .at(&[S::Data, S::DataEnd, S::Bdat]),
    );
    v.push(
        r("text.message_unparsable", C::ContentFormat,
          "the receiver could not parse the message it was sent ('error parsing email', 'invalid message format'), said after the data; before it, the same words are about an address")
            .t(&["{error|failed to|unable to|could not|cannot} pars{e|ing} {email|e-mail}", "error parsing {message|the message}", "invalid message {format|content}",
                 // a header's control character; in a command the same words are a syntax error
                 "control character"])
            .at(&[S::Data, S::DataEnd, S::Bdat]),
    );
    v.push(
        r("text.spam_content", C::SpamContent,
          "the message was judged spam (Gmail, Yahoo, iCloud, Mail.ru, Yandex, QQ, Amavis UBE, SpamAssassin, Rspamd, Proofpoint, Mimecast, Barracuda, Orange OFR_506), said anywhere but at MAIL FROM and RCPT TO: there the message is not sent yet, and the same words are a verdict on the sender or the sending host, which the reply's frame names ('Sender address rejected: spam', 'Client host rejected: too much spam')")
            .t(&["bayes probability", "looks like uce", "spam", "unsolicited", "junk*", "ube", "bulk mail", "bulk email", "bulk e-mail", "identified as bulk", "bulk identified", "mass-mailer*", "mass mailer*", "spamschutz*", "score too high", "content rejected", "message content rejected", "mail content denied",
                 "mail rejete", "ofr_506", "scored as", "high probability", "looks like spam", "spam score", "spamassassin", "mail score", "messagescoringupperlimit", "rspamd",
                 "content filter", "message filtered", "suspicious content", "fraud", "nature of the content", "url domains", "scam", "reported as spam",
                 "suspected spam", "spam message", "identified as spam", "classified as spam", "suspicious link*", "suspicious url*", "banned word*", "spammy", "content restriction*", "unacceptable content", "blocked url", "blocked link", "mass mailing*", "advertising", "advertisement*", "{rejected|refused} by {the |}scanner", "{message|mail|email} is {temporarily |}unwanted", "commercial solicitation", "unwanted mail", "unwanted message*", "unwanted advertising", "rejected by dcc", "obfuscation", "spamware", "垃圾邮件", "迷惑メール", "스팸", "спам", "correo no deseado", "bayesian filter says", "bayesian score", "bayes score", "message scored", "looks bulk*"])
            .at(&all_but(&[S::MailFrom, S::RcptTo]))
            .scope(Scope::Message),
    );
    v.push(
        r("text.spam_other_languages", C::SpamContent,
          "a spam verdict on the message in Dutch, Polish, French, Italian, Portuguese, German, Spanish, Russian or Japanese, said only about the data: their words for 'unwanted' also describe connections and senders")
            .t(&["ongewenste inhoud", "ongewenst bericht", "ongewenste e-mail", "przez filtr antyspamowy", "pourriel", "courrier indésirable", "message indésirable",
                 "posta indesiderata", "messaggio indesiderato", "lixo eletrônico", "als unerwünscht eingestuft", "mensaje no deseado", "нежелательн{ая почта|ое письмо|ое сообщение}",
                 "スパムと判定", "スパムメール"])
            .at(&[S::Data, S::DataEnd, S::Bdat, S::Unknown])
            .scope(Scope::Message),
    );
    // Domain and DNS (before "does not exist" wording for users).
    v.push(
        r("gmx.sender_domain_dns", C::SenderRejected,
          "GMX/web.de/mail.com: our sender domain has no valid MX or A record ('invalid DNS MX or A/AAAA resource record')")
            .t(&["invalid dns mx or a/aaaa", "sender domain resolve fail", "sender domain must exist", "sender domain does not exist",
                 "has no a, aaaa, or mx dns records", "domain of sender address", "unresolvable rfc.5321 from domain",
                 "{sending|sender} domain has no {mx|a|dns}*"]),
    );
    v.push(
        r("postfix.sender_address_rejected", C::SenderRejected,
          "Postfix's 'Sender address rejected:' frame: the envelope sender is refused, but the text after the colon is the operator's own and may name a more specific cause (authentication required, a lookup failure, a relay refusal), which outranks the frame")
            .t(&["sender address rejected"])
            .ev(Evidence::GenericWording),
    );
    v.push(
        r("text.internal_sender_from_outside", C::SenderRejected,
          "the envelope sender claims the receiver's own (internal) domain but the message arrives from the internet: an anti-spoofing rule on our sender (a French ministry's 'mail refusé car émetteur interne depuis internet'), the message's, whatever frame carries it")
            .t(&["{emetteur|émetteur|expediteur|expéditeur} interne", "internal sender from {the |}{internet|outside}",
                 "internal sender address from {the |}{internet|outside}", "{local|internal} sender {address |}from {an |}external {host|network|source}"])
            .scope(Scope::Message),
    );
    v.push(
        r("text.sender_rejected", C::SenderRejected,
          "the envelope sender is refused (Postfix 'Sender address rejected: Domain not found' and its other words about the address itself, Exim sender verify, Exchange SenderFilterAgent)")
            .t(&[// Postfix's frame followed by words about the sender address itself: the address's own fault, not another cause
                 "sender address rejected: {domain|undeliverable|unverified|mailbox|user|unknown|not found|address|account}",
                 "null sender not accepted", "null sender is not accepted",
                 "sender rejected", "sender unknown", "sender denied", "sender blocked", "invalid sender", "sender verify failed",
                 "sender verification failed", "unroutable sender", "unrouteable sender", "sender address does not exist", "from: domain is invalid",
                 "senderfilter*", "bad sender", "sender not allowed", "sender is not allowed", "sender suppressed", "envelope sender", "return-path",
                 "mail from address", "sender address is not valid", "permissions to send as", "sender verify", "verification failed for", "sender domain", "not a registered gateway user",
                 "fake sender", "not owned by user", "absenderdomäne", "sender is not same as", "not same as smtp authenticate*", "does not match {the |your |}{authenticated|login|smtp auth} {user|username|account|identity}", "doesn't match {the |your |}{authenticated|login|smtp auth} {user|username|account|identity}", "mail from this address {is |}prohibited", "not allowed externally", "unauthenticated local mail", "absender {nicht zulässig|unbekannt}", "from domain not trusted", "domain name required for sender", "sender address must contain",
                 "sender name is not valid", "bounces not accepted", "{faked|fake|forged|bogus} bounce", "the from address", "not allowed to send from this address", "sender address not allowed", "mailfrom domain",
                 "postmaster verification failed", "callback setup failed", "null sender is not allowed", "sender is not valid",
                 "sender has been blocked", "blocked by the recipient", "blocked by recipient", "sender address blocked", "blocked by user",
                 "not authorized to use mail from", "not authorized to send from", "not allowed in header from", "callback failure", "callback failed", "bad null sender",
                 "not accept mail from", "not accept email from", "not accept messages from", "your domain is not allowed", "domain is not allowed to send",
                 "mail from this sender", "this sender is not", "sender address verification", "sender verification",
                 "domain must resolve", "sender does not exist", "sender mailbox {not found|does not exist|unknown|disabled}", "sender domain not verified",
                 "domain is not verified", "domain not verified", "unconfigured sending domain", "sending from this domain is paused", "unknown sender address", "prohibited sender", "verify sender", "verify the sender", "null senders",
                 "sender {email|e-mail} address {is prohibited|is not allowed|not allowed|is blocked|is rejected|rejected|refused|denied}",
                 "sender not {authorized|authorised}", "not {authorized|authorised|allowed} to send {emails|email|mail|mails} {with from|from}",
                 // Spanish, Portuguese, German, French, Czech, Russian: the sender refused or blocked
                 "remitente {bloqueado|rechazado|no permitido}", "remetente {bloqueado|rejeitado}", "absender {abgelehnt|blockiert|gesperrt}",
                 "{expéditeur|expediteur} {refusé|refuse|bloqué|bloque}", "odesilatelova adresa je {zakázána|zakazana|odmítnuta|blokována}",
                 "adresa odesílatele {zakázána|odmítnuta|blokována}", "адрес отправителя {отклонён|отклонен|запрещён|запрещен|заблокирован}", "отправитель заблокирован"])
            .scope(Scope::Message),
    );
    v.push(
        r("mail_from.null_mx", C::SenderRejected,
          "at MAIL FROM, a null MX (RFC 7505) is our sender domain's: the envelope sender is refused (X.7.27)")
            .t(&["null mx", "nullmx", "rfc7505", "rfc 7505"])
            .at(&[S::MailFrom]),
    );
    v.push(
        r(
            "text.null_mx",
            C::NoMailService,
            "the domain accepts no mail: null MX (RFC 7505), 'does not accept mail'",
        )
        .t(&[
            "null mx",
            "nullmx",
            "rfc7505",
            "rfc 7505",
            "does not accept mail",
            "doesn't receive email",
            "{host|domain|server} does not receive mail",
            "{host|domain|server} doesn't do email",
            "does not receive email",
            "accepts no mail",
            "domain does not accept mail",
            "domain does not accept email",
            "no mail service",
            "recipient address has a null mx", "never accepts mail", "outbound mail only", "does not accept incoming mail",
        ]),
    );
    v.push(
        r(
            "postfix.dns_try_again",
            C::Dns,
            "Postfix: 'Host not found, try again': a temporary resolver failure (TRY_AGAIN)",
        )
        .t(&[
            "host not found, try again",
            "temporary failure in name resolution",
            "servfail",
            "malformed or unexpected name server reply",
            "dns temporary failure",
            "temporary dns",
            "dns lookup failed temporarily",
            "name server timeout",
            "dns timeout",
        ])
        .disp(Disposition::Transient),
    );
    v.push(
        r(
            "microsoft.dns_domain_missing",
            C::DomainNotFound,
            "Microsoft 365 5.4.310/5.4.316: DNS domain does not exist (InfoDomainNonexistent)",
        )
        .t(&["infodomainnonexistent", "dns domain"]),
    );
    v.push(
        r("rfc5321.501_invalid_domain", C::Policy,
          "501 'invalid domain': a 501 refuses the syntax of an argument we sent (our HELO name or sender domain, RFC 5321 §4.2.2), not the recipient domain's existence")
            .t(&["invalid domain", "invalid hostname", "invalid host name", "bad domain"])
            .codes("501")
            .scope(Scope::Destination),
    );
    v.push(
        r("rcpt.unroutable_address", C::UserUnknown,
          "a 5xx to RCPT saying 'Unrouteable address' (Exim's recipient verification): the receiving server cannot route this address within its own domains, so the recipient is unknown there; before the domain rule, which keeps the phrase elsewhere (our own MTA's account of a domain without a route)")
            .t(&["unrouteable address", "unroutable address"])
            .codes("5xx")
            .at(&[S::RcptTo])
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.mail_from_invalid", C::SenderRejected,
          "'mail from invalid' said with a refusal code (550-554) and no syntax enhanced code: the receiver refuses our envelope sender; a 501 or an X.5.x code says the MAIL command's syntax instead, which the protocol rules read")
            .t(&["mail from {is |}invalid"])
            .codes("550 551 552 553 554")
            .enh("!*.5.*")
            .scope(Scope::Message),
    );
    v.push(
        r("text.domain_not_found", C::DomainNotFound,
          "the recipient's domain or host does not exist or has no mail route (NXDOMAIN, no MX and no address record, Postfix/Sendmail/Exim wording)")
            .t(&["host unknown", "host or domain name not found", "domain not found", "domain name not found", "no such domain", "domain does not exist",
                 "domain doesn't exist", "nxdomain", "unrouteable address", "unroutable address", "domain is not reachable", "invalid domain",
                 "had no relevant answers", "no mx record", "no mx or a", "host not found", "unknown domain", "domain unknown",
                 "unrouteable mail domain", "mail domain does not exist", "no route for", "no mail exchanger", "domain has no mx", "point to non-existent hosts", "no valid mx", "find a valid mx", "unknown host or domain", "domain {not|is not} resolvable", "unresolvable domain",
                 "{收件人|收件}域名不存在"])
            .at(&[S::RcptTo, S::Data, S::DataEnd, S::Bdat, S::Unknown, S::Connect, S::Greeting]),
    );
    v.push(
        r("helo.dns", C::Dns,
          "at EHLO/HELO, DNS wording is the receiver's check of our own host name (no forward or reverse match, no such host): the code's first digit stands, unlike a resolver failure")
            .t(&["forward dns", "no dns entries", "hostname does not exist", "host name does not exist", "dns match", "does not resolve",
                 "no dns", "dns lookup", "dns error", "cannot resolve"])
            .at(&[S::Ehlo, S::Helo]),
    );
    v.push(
        r(
            "text.dns",
            C::Dns,
            "a resolver error that is not a definite 'no such domain'; never against a bad-mailbox enhanced code (Amazon's '554 5.1.1 bounced address: could not resolve address' names an address that does not exist, not a passing DNS fault)",
        )
        .t(&[
            "name service error",
            "dns error",
            "dns failure",
            "dns lookup",
            "host name lookup failure",
            "hostname lookup failure",
            "name lookup failure",
            "resolver error", "resolver failure", "host lookup did not complete", "cannot resolve", "forward dns", "no dns entries",
            "hostname does not exist", "host name does not exist", "dns resolve error", "dns resolution", "connect to dns", "dns server*",
            "could not resolve", "unable to resolve", "can't resolve", "failed to resolve", "resolver timed out", "resolver timeout", "dns timed out", "nameserver timeout", "name resolution error", "domain resolution error"])
        .enh("!*.1.1 !*.1.3 !*.1.6 !*.1.10")
        .disp(Disposition::Transient),
    );
    // Sender side (before the recipient wording: at MAIL FROM, "does not exist"
    // means our sender address).
    v.push(
        r(
            "mail_from.address_unknown",
            C::SenderRejected,
            "at MAIL FROM, 'no such user/domain' wording is about our sender address",
        )
        .t(USER_UNKNOWN).t(&["no such domain", "domain not found", "not exist"])
        .at(&[S::MailFrom]),
    );
    // Relay and our own authentication / TLS.
    v.push(
        r("auth.needs_tls", C::TlsRequired,
          "an AUTH mechanism refused as insecure without TLS ('insecure authentication mechanism requires SSL', 'use STARTTLS'): start TLS first (RFC 4954 §4, 538 5.7.11)")
            .t(&["insecure authentication", "requires ssl", "require ssl", "ssl required", "use starttls", "encryption required for requested authentication",
                 "requires a secure connection", "require a secure connection", "secure connection required", "starttls before authentication", "encrypted session required"])
            .at(&[S::Auth, S::Unknown, S::MailFrom, S::Connect, S::Greeting, S::Ehlo, S::Helo]),
    );
    v.push(
        r(
            "text.relay_denied",
            C::RelayDenied,
            "relaying refused (Postfix 'Relay access denied', qmail rcpthosts, Exim, Exchange)",
        )
        .t(&[
            "relay access denied",
            "relaying {is |}disabled", "relay is disabled",
            // a recipient domain this host does not take mail for, and Turkish 'relaying forbidden'
            "{recipient |}domain not served", "i {don't|do not} handle mail for", "{unauthorized|unauthorised} relaying", "aktarma yasak*",
            "only {delivers|delivering|accepts mail|accepting mail} {to|for} {its|our} own {hosted |}domains",
            "relaying denied",
            "relay denied",
            // German, French, Spanish, Portuguese, Italian, Russian, Japanese, Chinese
            "relaying nicht erlaubt", "relay nicht erlaubt", "relais refusé", "relais non autorisé", "relais interdit", "retransmisión denegada",
            "relay no permitido", "retransmissão negada", "relay não permitido", "relay non consentito", "релей запрещ", "ретрансляция запрещена",
            "中継は許可", "中継できません", "{不允许|禁止|拒绝}中继",
            "relay not permitted",
            "not permitted to relay",
            "relaying not allowed",
            "relay not allowed",
            "we do not relay",
            // the percent hack (user%host@domain), a relaying trick servers refuse by name
            "{percent |percent-|%-}hack",
            "not allowed to relay",
            "isn't allowed to relay",
            "unable to relay",
            "not configured to relay",
            "allowed rcpthosts",
            "open relay",
            "mail relay",
            "relaying prohibited",
            "relay prohibited",
            "no relaying",
            "cannot relay",
            "relaying disallowed",
            "relay not authorized",
            "email address is not verified",
            "as a relay",
            "relay disabled",
            "local user only",
            "not accepting email for",
            "not configured to use this mx",
            "does not accept incoming messages",
            "relaying is denied",
            "relaying is not",
            "relaying to",
            "(relaying)",
            "sending to remote addresses",
            "relaying not permitted",
            "relay access",
            "will not relay",
            "not authorized to relay",
            "not authorised to relay",
            "recipient domain not allowed",
            "recipient domain is not allowed",
            "relaying from",
            "unauthorized relay",
            "unauthorised relay",
            "user not local",
            "user is not local",
            "external routing", "forwarding to remote hosts", "do not pass mail", "will not forward", "not configured to accept mail for", "domains we don't host", "domains we do not host", "not hosted here", "host_list", "domain is not accepted", "not local host", "not a gateway", "domain is not managed", "unauthorized to domain", "don't accept mail for",
        ]),
    );
    v.push(
        r("rcpt.domain_not_served", C::RelayDenied,
          "at RCPT TO, a recipient domain this host does not take mail for ('not our domain', 'only accepts mail for example.org', 'invalid recipient domain'); at MAIL FROM the same words are about our sender")
            .t(&["not our domain", "domain not handled", "recipient domain not accepted", "invalid recipient domain", "recipient is to the wrong domain", "only accepts {mail|emails|e-mails|messages} for",
                 "not served by this {gateway|server|host|relay|system}", "not handled by this {gateway|server|host|relay|system}",
                 "not a recipient on this server", "{recipient |no such |}domain not configured", "domain is not configured", "recipient domain not local"])
            .at(&[S::RcptTo, S::Unknown]),
    );
    v.push(
        r("text.auth_required", C::AuthRequired,
          "SMTP AUTH is required (relaying without authentication, Exchange RESOLVER.RST.AuthRequired, MessageLabs)")
            .t(&["smtp auth needed", "authentication is needed", "authentication required", "authentication is required", "auth required", "authrequired", "requires authentication",
                 "must authenticate", "without authentication", "turn on smtp authentication", "unauthenticated senders",
                 "smtp authentication is required", "client was not authenticated", "not authenticated", "authenticate first",
                 "{connections|clients|sessions|users|senders} must be authenticated", "must be authenticated to {send|relay}",
                 "auth command first", "unauthenticated commands", "need auth", "kimlik doğrulama gerekli",
                 "unauthenticated session", "anonymous users are not allowed to send mail", "submission port", "must log in", "must login", "must be {signed|logged} in", "log in to send", "pop before smtp", "pop-before-smtp",
                 "receive your mail before sending", "senders to authenticate", "apop",
                 "turn authentication on", "authentication on", "authenticated session", "authentication needed", "authenticate before", "please authenticate", "you should be authenticated", "only authenticated connections", "only authenticated users", "only authenticated sessions",
                 "please {log in|login} {before sending|to send|first}", "log in with a registered", "authentication requires",
                 "authentifizierung erforderlich", "anmeldung erforderlich", "authentification requise", "authentification obligatoire", "autenticación requerida", "requiere autenticación",
                 "autenticação necessária", "autenticação obrigatória", "autenticazione richiesta", "требуется авторизация", "требуется аутентификация", "需要身份验证", "需要认证", "認証が必要", "wymagane uwierzytelnienie", "authenticatie vereist"]),
    );
    v.push(
        r("text.auth_error", C::AuthFailed,
          "a bare 'auth error' from the receiver (a server's reply table: '551 auth error.'): our login was refused; never under a syntax enhanced code (X.5.x), where it is the AUTH command's form, not our credentials")
            .t(&["auth error"])
            .enh("!*.5.*"),
    );
    v.push(
        r("text.upstream_auth_failed", C::ServerError,
          "a relay's own login to the service behind it failed ('upstream authentication failure'): the receiver's trouble, not our AUTH; before the AUTH rule, whose phrase it contains")
            .t(&["upstream authentication failure", "upstream authentication failed", "upstream auth failure", "upstream auth failed",
                 "upstream authentication error", "upstream auth service"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.auth_service_failed", C::ServerError,
          "the receiver's authentication service failed for now (RFC 4954's 454 4.7.0 'Temporary authentication failure', 'authentication busy', an internal authentication error, its link to the authentication server lost): a server failure, not refused credentials; its longer phrases outrank the AUTH rule's 'authentication failure' and the transport rule's 'connection lost'")
            .t(&["temporary {authentication|auth} {failure|error}", "authentication {is |}busy", "internal {authentication|auth} error",
                 // the receiver lost its own authentication back end
                 "{connection|link} lost to {the |}{authentication|auth} server", "{authentication|auth} server {unavailable|unreachable|not available}"])
            .scope(Scope::Destination),
    );
    v.push(
        r(
            "text.auth_failed",
            C::AuthFailed,
            "our SMTP AUTH credentials were refused (535 5.7.8 and similar)",
        )
        .t(&[
            "authentication failed",
            "authentication unsuccessful",
            "authentication temporarily blocked",
            "failed authentication",
            "authentication failures",
            "auth failures",
            "login failures",
            "failed logins",
            "invalid credentials",
            "credentials {are |}no longer valid",
            "please re-authenticate",
            "username and password not accepted",
            "bad username or password",
            "invalid {user|username}{/| or }password",
            "incorrect authentication data",
            "invalid login",
            "login failed",
            "auth failed",
            "too many auth failures",
            "authentication errors",
            "fail authentication",
            "unable to authenticate",
            "cannot authenticate",
            "application-specific password",
            "log in with your web browser",
            "auth method",
            "authentication refused",
            "authentication failure",
            "authentication canceled",
            "authentication cancelled",
            "authentication aborted",
            "auth failure",
            "authentification invalide",
            "{falha na|falha de|erro de|error de|fallo de|fallo en la} {autenticação|autenticacao|autenticación|autenticacion}",
            "{autenticação|autenticacao|autenticación|autenticacion} {falhou|fallida|fallo}",
            "password transition",
            "echec d'authentification",
            "authentication type",
            "authentication mechanism",
            "authentication string",
            "cannot base64-decode",
            "authentication credentials invalid", "password error", "wrong password", "incorrect password", "authentication fail",
        ])
        .at(&[S::Auth, S::Unknown, S::MailFrom, S::Connect, S::Greeting, S::Ehlo, S::Helo]),
    );
    v.push(
        r("text.tls_required", C::TlsRequired,
          "the server requires TLS (530 5.7.0 Must issue a STARTTLS command first; 'does not support TLS' when we require it)")
            .t(&["{plaintext|cleartext|unencrypted} {connections|sessions} {are |}{not accepted|not allowed|refused|rejected}", "{plaintext|cleartext|unencrypted} {connection|session} {is |}{not accepted|not allowed|refused|rejected}", "only talks encrypted", "starttls command first", "must issue a starttls", "starttls required", "starttls is required", "tls required", "requires tls", "tls is required",
                 "must use tls", "encryption required", "requires encryption", "not support tls", "does not support starttls",
                 "requiretls", "encryption is required", "lack of security", "encrypted smtp session", "must issue starttls", "must use encryption",
                 "use an encrypted", "via an encrypted", "requires encrypted", "encrypted message transmission",
                 "required ssl certificate", "required client certificate", "client certificate required", "encrypted channel", "encrypted connection", "transport security", "encryption needed", "secure the connection", "tls mandatory", "secure channel", "not available without tls", "requires a tls connection", "require a tls connection", "must starttls", "{auth|authentication|login} {is |}{not allowed|not permitted|refused|denied} before starttls",
                 "only accepts mail over tls", "must be sent over tls", "tls obligatoire", "chiffrement obligatoire", "chiffrement requis", "requiere cifrado", "tls erforderlich", "verschlüsselung erforderlich",
                 "tls obrigatório", "criptografia obrigatória", "tls obbligatorio", "требуется tls", "требуется шифрование", "tls必須", "必须使用tls", "only encrypted connections", "accepts only encrypted", "tls is mandatory", "starttls is mandatory"]),
    );
    v.push(
        r(
            "text.tls_failed",
            C::TlsFailed,
            "the TLS negotiation or certificate check failed",
        )
        .t(&[
            "client certificate was rejected",
            "ssl3_*",
            "tls negotiation failed",
            "tls 1.0",
            "tls 1.1",
            "tls version",
            "tlsv1",
            "tls handshake",
            "ssl handshake",
            "certificate verif*",
            "certificate verification failed for",
            "certificate has expired",
            "certificate expired",
            "certificate not yet valid",
            "ssl negotiation",
            "tls negotiation error",
            "certificate not trusted",
            "untrusted certificate",
            "cannot start tls",
            "{failed|unable} to {set up|setup} tls", "{failed|error} setting up tls", "could not {set up|setup} tls",
            "starttls failed",
            "tls error",
            "ssl error",
            "handshake failed",
            "certificate rejected",
            "tls not available",
            "tls currently unavailable",
            "tls unavailable",
            "security failure",
            "handshake error",
            "certificate error",
            "bad certificate",
            "invalid certificate", "certificate is expired", "expired certificate", "certificate name", "certificate verification failed", "protocol version", "dane/mta-sts", "dane check", "dane validation", "dane verification", "tlsa", "starttls is not supported", "starttls not supported", "tls not configured", "starttls not available", "starttls is not implemented", "failed to start tls", "starttls not offered", "starttls unavailable", "tls not supported", "starttls is not available", "starttls {is |}not enabled", "tls is not available",
        ]),
    );
    v.push(
        r("text.address_syntax", C::Protocol,
          "the recipient address we sent is malformed (RFC 3463 X.1.3 'bad destination mailbox address syntax', 'malformed address', 'invalid format'): a syntax error in our RCPT argument, not an unknown user")
            .t(&["address syntax", "malformed address", "malformed destination", "malformed e-mail address", "malformed email address",
                 "malformed recipient", "does not conform to rfc", "not a valid rfc 5321", "not a valid rfc5321", "invalid format",
                 "must specify a domain", "valid only as source", "address format", "missing domain part",
                 "{local-part|local part|domain name} too long", "imbalanced angle brackets", "address incomplete"])
            .at(RCPT_ON)
            // An address of this transaction: the recipient's at RCPT TO, else the message's.
            .scope(Scope::Message),
    );
    // Mailbox state.
    v.push(
        r("text.mailbox_full", C::MailboxFull,
          "the mailbox is over quota (RFC 3463 X.2.2 is persistent-transient; Gmail OverQuotaTemp/OverQuotaPerm, Exchange QuotaExceeded, GMX/web.de, Yandex)")
            .t(&["disk allotment", "mbox would overflow", "mailbox would overflow", "mailbox full", "mailbox is full", "mailbox quota", "over quota", "overquota*", "quota exceeded", "*quotaexceeded*", "exceeded storage", "{exceed|exceeds|exceeded} {its|their|your|the} allotted {space|storage}",
                 "disk quota", "out of storage space", "inbox is full", "user is over quota", "quota violation", "mailbox size limit", "mailbox limit",
                 "blocks limit exceeded", "inode limit exceeded", "storage allocation", "exceeds quota", "exceeded quota", "mailbox has exceeded",
                 "mailboxfull", "full mailbox", "{recipient|mailbox|user} storage full", "not enough storage", "storage is full", "quota reached", "over its quota", "over the quota",
                 "overquotatemp", "overquotaperm", "not have enough space", "mailbox has reached", "inbox has reached", "inbox is at capacity", "mailbox is at capacity", "maximum mailbox size", "postfach voll", "boite pleine", "insufficient storage for the user",
                 // French, German, Spanish, Italian, Portuguese, Dutch, Polish, Czech, Russian wording
                 "boîte pleine", "boite aux lettres pleine", "boîte aux lettres pleine", "quota depasse", "quota dépassé", "postfach ist voll", "mailbox voll",
                 "speicherplatz", "buzón lleno", "buzon lleno", "casella piena", "caixa postal cheia", "caixa cheia", "mailbox vol", "brievenbus vol",
                 "skrzynka pełna", "skrzynka jest pełna", "przepełniona", "schránka je plná", "plná schránka", "*щик переполнен", "переполнен", "recipient's storage", "mailbox storage is exhausted", "storage for this mailbox", "mailbox would exceed", "quota error", "空间不足", "容量不足", "邮箱已满", "信箱已满", "邮箱满", "容量がいっぱい", "容量超過", "容量オーバー", "사서함이 가득", "용량 초과", "caixa de correio cheia", "buzón está lleno", "{邮箱|信箱}空间已满", "{邮箱|信箱}容量已满", "信箱空間已滿", "{mailbox|postvak|brievenbus} zit vol", "*щик заполнен", "メールボックスがいっぱい"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("mailru.invalid_mailbox", C::UserUnknown,
          "Mail.ru: 'Message was not accepted -- invalid mailbox': Mail.ru's reply for an address that cannot receive mail (not created, or closed)")
            .t(&["message was not accepted -- invalid mailbox"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.own_account_blocked", C::Policy,
          "before any recipient is named (the greeting, EHLO, STARTTLS, AUTH, MAIL FROM), an account suspended, disabled, blocked or terminated is ours, the sending account: a block on everything we send through this receiver, not a recipient's mailbox; declared before the mailbox rule, whose words it shares, so it wins their tie there")
            .t(&["account {is |has been |was |}{suspended|disabled|blocked|locked|terminated|deactivated|frozen}",
                 "{user|sender|mailbox} {is |has been |}{suspended|deactivated|frozen}", "login disabled", "suspended", "frozen", "deactivated"])
            .at(&[S::Connect, S::Greeting, S::Ehlo, S::Helo, S::Starttls, S::Auth, S::MailFrom])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.command_disabled", C::Protocol,
          "the receiver has switched a command off ('VRFY command is disabled', 'DATA command is disabled', 'EXPN disabled'): the session's command is refused, not a mailbox; its phrases hold the disabled-mailbox rule's 'is disabled' inside them, so the longer phrase decides")
            .t(&["{vrfy|expn|etrn|turn|atrn|data|helo|ehlo} command {is |has been |}{disabled|deactivated}",
                 "{bdat|noop|help|auth|starttls|rset|this} command {is |has been |}{disabled|deactivated}", "command is not enabled", "command deactivated by",
                 "{vrfy|expn|etrn|turn|atrn} {is |has been |}disabled"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.mailbox_disabled", C::MailboxDisabled,
          "the mailbox exists but is disabled, inactive, suspended, frozen or locked, or is an address nobody reads ('this alias is not monitored') (Gmail DisabledUser, Yahoo 554.30, Mail.ru, i.ua)")
            .t(&["mailbox disabled", "mailbox is disabled", "account disabled", "account is disabled", "account has been disabled", "alias has been disabled", "address is not monitored", "alias is not monitored", "mailbox is not monitored", "inbox is not monitored", "account is not monitored", "alias is not actively monitored", "address is not actively monitored", "is disabled",
                 "disabled recipient", "recipient disabled", "disableduser", "suspended", "suspend", "mailbox is frozen", "frozen", "temporary locked",
                 "temporarily locked", "account is locked", "account locked", "{user|recipient} is locked", "deactivated", "not activated", "account closed", "account expired",
                 "discontinued", "account is blocked", "recipient account is blocked", "compte du destinataire est bloque", "no longer available",
                 "{mailbox|alias|user|recipient|distribution list} {is |}not active", "inactive user", "no longer in service", "no longer active", "domain not active", "domain is not active",
                 // German, Spanish, Portuguese, Italian, French, Polish, Russian
                 "konto gesperrt", "postfach gesperrt", "konto deaktiviert", "cuenta deshabilitada", "cuenta suspendida", "cuenta desactivada",
                 "conta desativada", "conta suspensa", "conta bloqueada", "account disattivato", "casella disattivata", "casella sospesa",
                 "compte désactivé", "compte desactive", "compte suspendu", "konto zablokowane", "konto nieaktywne", "*щик заблокирован",
                 "*щик отключен", "*ккаунт заблокирован", "been inactive", "inactive for", "inactive account", "inactive mailbox", "mailbox is read-only", "mailbox is read only", "account has been suspended", "mailbox has been disabled", "login disabled", "archived recipient",
                 "boite du destinataire archivee", "account inactive", "accountdisabled", "userdisabled", "service has been terminated", "account terminated", "account has been terminated", "has been retired", "dormant", "account blocked", "address no longer in use", "closed mailbox", "account is no longer valid", "account has been blocked"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.sending_suspended", C::Policy,
          "the sending account, tenant or project is suspended, frozen or inactive ('Sending is frozen', 'Sending suspended for alice', 'Tenant is not active'): a block on everything we send through this receiver, not a recipient's mailbox; its phrases hold the mailbox rule's 'suspended' and 'frozen' inside them, so the longer phrase decides")
            .t(&["sending {is |}{suspended|frozen|paused}", "sending temporarily suspended",
                 "{tenant|project|workspace} is {not active|inactive|disabled|suspended}",
                 "{your|sender|sending|trial} account {is |}{not active|inactive|expired}", "{your|sender|sending|trial} account has expired"])
            .scope(Scope::Destination),
    );
    v.push(
        r("rcpt.domain_disabled", C::MailboxDisabled,
          "at RCPT, the recipient's address, domain or organisation is switched off ('Address disabled', 'Domain disabled', 'Domain is inactive', 'Organization disabled'): the address exists but takes no mail; elsewhere 'address disabled' may be our sender's")
            .t(&["{domain|organization|organisation} {is |}{disabled|inactive}", "address {is |}disabled", "user {is |}disabled", "account {is |}not active", "account {is |has |}expired", "account is closed"])
            .at(&[S::RcptTo])
            .scope(Scope::Recipient),
    );
    v.push(
        r("exim.all_rcpt_rejected", C::Protocol,
          "Exim's reply to DATA when every RCPT failed ('All RCPT commands were rejected with this error: …', then 'Valid RCPT command must precede DATA'): the recipients' own errors came at RCPT; this one is about the transaction")
            .t(&["all rcpt commands were rejected"])
            .at(&[S::Data, S::Bdat, S::Unknown])
            .scope(Scope::Message),
    );
    v.push(
        r("text.mailbox_unavailable_transient", C::ServerError,
          "a 4xx 'mailbox unavailable' (RFC 5321's text for 450: busy, locked, being moved): the receiving side's passing trouble, not an unknown user")
            // Same weight as text.user_unknown, whose list also holds "mailbox
            // unavailable": being declared first is what makes a 4xx one this rule's.
            .t(&["mailbox unavailable", "mailbox temporarily unavailable", "mailbox is temporarily unavailable", "mailbox is unavailable"])
            .codes("4xx"),
    );
    v.push(
        r("text.user_unknown", C::UserUnknown,
          "no such user or mailbox (Postfix, Exim, Sendmail, qmail, Exchange RecipientNotFound, Gmail NoSuchUser, Yahoo, iCloud, Proton, Mail.ru, QQ/163, Orange OFR_416, Cisco, Lotus Domino)")
            .t(USER_UNKNOWN)
            .at(RCPT_ON)
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.message_too_big", C::MessageTooBig,
          "the message is larger than the receiver accepts (RFC 1870 SIZE; Microsoft RecipSizeLimit; Gmail 5.2.3)")
            .t(&["message too large", "message too big", "message is too large", "message is too big", "message size exceeds", "size exceeds",
                 "exceeds the maximum size", "exceeds maximum", "message length exceeds", "maximum message size", "message exceeded",
                 "recipsizelimit", "size limit", "mailsize limit", "databytes limit", "too large for", "mail too large", "message size", "exceeds size", "exceeded the size",
                 "exceeds the size", "exceeded fixed maximum", "exceeds fixed maximum", "mesgtoobig", "file too large", "too big", "line limit exceeded",
                 "message is larger than", "larger than the current system limit", "larger than the maximum", "larger than allowed", "{message|mail|email} exceeds the permitted {size|length}", "permitted message size",
                 "message is too long", "message length", "exceeded the allowed size", "exceeds limit of", "attachment too large", "attachment {is |}too {long|big}",
                 "attachment is too large", "attachments too large", "length of data", "message exceeds", "maximum size", "size of the message", "max size of message"]),
    );
    v.push(
        r("greeting.blocked", C::Blocklisted,
          "a 5xx greeting that says we are blocked, banned or refused: before any command, the only thing a server can block is our IP (a provider's own block list)")
            .t(&["blocked", "banned", "is rejected", "connection refused"])
            .codes("5xx")
            .at(&[S::Connect, S::Greeting])
            .scope(Scope::Destination)
            .ev(Evidence::GenericWording),
    );
    // Policy.
    v.push(
        r("text.ip_allow_list", C::Policy,
          "the receiver takes mail (or AUTH) only from client IPs on its allow-list ('restricted to allowlisted IPs'): a rule about our host, so the destination waits; before the recipient-restriction rule, whose 'restricted to' it shares a reply with")
            .t(&["{allowlisted|whitelisted|allow-listed|white-listed} {ip|ips|hosts|networks}", "{authorized|authorised} relay {ip|ips|hosts}", "{ip|host} {allowlist|allow list|whitelist|white list}"])
            .scope(Scope::Destination),
    );
    v.push(
        r("microsoft.restricted_recipient", C::Policy,
          "Microsoft 365 5.7.129 RestrictedToRecipientsPermission / 5.7.133-134 group restrictions: not authorised to send to this recipient")
            .t(&["restrictedtorecipientspermission", "not authorized to send", "not authorised to send", "restricted to", "restrictedtosenders*",
                 "sendernotauthenticatedfor*", "not authenticated for group", "not authenticated for mailbox", "not authenticated for public folder",
                 "not authenticated for mail user"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.internal_only_recipient", C::Policy,
          "the recipient (an address, list or group) takes mail only from inside its organisation ('Mail from external senders to internal-only address rejected'): a restriction on that recipient")
            .t(&["{internal-only|internal only} {address|addresses|recipient|recipients|mailbox|list|group}", "mail from external senders",
                 "external senders are not {allowed|permitted|accepted}"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.allow_list", C::Policy,
          "the receiver takes mail only from senders on its allow-list (a recipient or domain accepting only authorised senders)")
            .t(&["whitelist", "whitelisted", "allowlist", "allowlisted", "allow list", "white list", "allowed senders", "only accepting mail from",
                 "only accepts mail from", "accepts mail only from", "authorised senders", "authorized senders", "not in the allowed list",
                 "not on the allowed list", "not in the list of allowed", "not an allowed sender", "not an authorized sender", "not an authorised sender",
                 "only dmarc reports", "dmarc reports only", "approved senders", "approved sender list"]),
    );
    v.push(
        r("text.recipient_suppressed", C::Policy,
          "the recipient is on a suppression list (a relay that stopped sending to an address after bounces or complaints): only this recipient is held (after the data, the transaction's message, as every reply there)")
            .t(&["suppression list", "address suppressed", "suppressed address", "suppressed recipient", "recipient is suppressed"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.upstream_rejected", C::Other,
          "the service behind a relay refused the message and the reply gives no cause: this message, reason unknown")
            .t(&["{not accepted|rejected} by {the |}upstream", "upstream {provider|mail service|service|server|relay} rejected"])
            .scope(Scope::Message),
    );
    v.push(
        r("text.policy", C::Policy,
          "refused by the receiver's policy (Yahoo 5.7.9 'not accepted for policy reasons', GMX/web.de 'policy restrictions', iCloud CS01)")
            .t(&["policy reasons", "denied by policy", "local policy", "policy violation", "mailpolicy", "policy restrictions", "content policy",
                 "rejected by policy", "rejected per policy", "deferred by policy", "deferred due to policy", "prohibited", "administrative prohibition", "recipient preferences", "policy rejection",
                 "violates our policy", "against policy", "本地策略", "acceptable use", "aup#", "not accepted for policy", "header error", "badrcptto", "administrator rule", "transport rule*", "admin rule*", "hashcash"])
            .ev(Evidence::GenericWording),
    );
    // Server and network trouble.
    v.push(
        r("mimecast.internal_resource", C::ServerError,
          "Mimecast 451 'Internal resource temporarily unavailable': a problem inside the receiving platform (Mimecast SMTP error code list)")
            .t(&["internal resource temporarily unavailable"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.service_unavailable", C::ServiceUnavailable,
          "the service is busy, shutting down or unavailable (Microsoft 4.7.500 'Server busy', Postfix/Exim 'Service unavailable')")
            .t(&["{server|system|host} is going down", "service unavailable", "service not available", "service currently unavailable", "service is unavailable", "currently unavailable",
                 "shutting down", "try again later, closing", "closing transmission channel", "queuing declined", "try another server",
                 "service temporarily", "not available at this time", "maintenance", "{cannot|can't|unable to} {receive|accept} {mail|messages|email} at this time",
                 "server temporarily unavailable", "server is temporarily unavailable", "server currently unavailable", "server is currently unavailable",
                 "server closing connection", "temporarily shut down", "receiver shut down", "server {is |}offline", "serveroffline"])
            .ev(Evidence::GenericWording),
    );
    v.push(
        r("reply.receiver_timeout", C::ServerError,
          "a reply (with its code) after the end of the data (or to BDAT, whose last chunk ends it) that speaks of a timeout: the receiver answered, so our connection worked; what timed out is its own work (writing the spool, a queue hand-off); while the data is sent (the reply to DATA) a timeout is the receiver waiting for our bytes, a network failure, and a bounce's 'conversation … timed out' has no code and stays one too")
            .t(&["timed out", "timeout"])
            .codes("4xx 5xx")
            .at(&[S::DataEnd, S::Bdat]),
    );
    v.push(
        r("text.network", C::Network,
          "the transport failed: refused, timed out, reset, lost connection, routing loop (Postfix/Exim/Sendmail bounce wording; RFC 5321 §3.8)")
            .t(NETWORK)
            // A live greeting that says "connection refused" or "connection closed" is
            // the server refusing us (greeting.blocked), not a failed transport.
            .at(&[S::Connect, S::Ehlo, S::Helo, S::Starttls, S::Auth, S::MailFrom, S::RcptTo, S::Data, S::DataEnd, S::Bdat, S::Rset, S::Quit, S::Unknown]),
    );
    v.push(
        r("text.network_at_greeting", C::Network,
          "network wording at the greeting in text without a basic code: our MTA's own account of the transport failing while it waited for the greeting (Postfix 'lost connection with … while receiving the initial server greeting'), not a live reply")
            .t(NETWORK)
            .codes("none")
            .at(&[S::Greeting]),
    );
    v.push(
        r("text.early_talker", C::Protocol,
          "the client spoke before the server's greeting ('talked before the greeting', postscreen's PREGREET): a protocol violation by our host, which the server holds against it, outranking the 'blocked' around it")
            .t(&["{talked|spoke|talking|speaking} before the greeting", "before greeting", "pregreet*", "early talker"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.handoff_failed", C::ServerError,
          "the receiver's own onward hand-off failed ('temporary failure relaying to Exchange Online'): its trouble, not a relay refusal; its phrases hold the relay rule's 'relaying to' inside them, so the longer phrase decides")
            .t(&["{failure|failed|error} relaying to"]),
    );
    v.push(
        r("text.mail_loop", C::Policy,
          "a mail loop or too many hops (Received headers): not a network error; this message cannot be delivered as routed (RFC 5321 §6.3)")
            .t(&["too many hops", "hop count", "routing loop", "mail loop", "mailloop", "loop detected", "loops back", "loops to itself",
                 "appears to be looping", "forwarding loop", "possible loop", "too many received", "received headers", "received header fields",
                 "exceeded 50 hops", "loop detection", "looping message", "message is looping"])
            .scope(Scope::Message),
    );
    v.push(
        r("text.too_many_errors", C::Protocol,
          "the server counts our errors and gives up ('too many errors', 'too many bad commands'): the session's fault, whatever else the line says ('transaction failed')")
            .t(&["too many errors", "too many unrecognized", "too many unrecognised", "too many invalid commands", "too many bad commands",
                 "too many unimplemented", "too much failure"])
            .scope(Scope::Destination)
            .ev(Evidence::GenericWording),
    );
    v.push(
        r("text.command_limit", C::Policy,
          "the server caps the commands of one session ('Too many commands', 'Too many MAIL commands, closing connection'): a local limit on our session, and the connection ends; not a syntax fault (too many bad commands is the error counter's)")
            .t(&["too many commands", "too many {mail|mail from|helo|ehlo|helo/ehlo|nonmail|noop|rset|vrfy} commands"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.server_resources", C::ServerError,
          "the receiving side names which of its own resources failed (disk or queue full, memory, an I/O error, its configuration or working directory unreadable): its passing trouble, a specific cause that outranks a generic 'service not available' around it")
            .t(&["insufficient system", "system full", "insufficient disk space",
                 "disk full", "disk is full", "disk is too full", "out of memory", "allocate memory", "memory allocation",
                 "queue file write error", "i/o error", "io error", "server storage", "system storage", "queue full", "queue is full",
                 "unable to chdir", "read system configuration"])
            .scope(Scope::Destination),
    );
    v.push(
        r(
            "text.server_error",
            C::ServerError,
            "a server-side error (local error in processing, disk full, configuration error)",
        )
        .t(&[
            "local error",
            "internal error",
            "system error",
            "system problem",
            "ldap server",
            "ldap error",
            "internal server error",
            "nullpointerexception",
            "attributeerror",
            "keyerror",
            "typeerror",
            "indexerror",
            "runtimeerror",
            "traceback (most recent call last)",
            "nil pointer dereference",
            "temporary local problem",
            "temporary failure",
            "temporary delivery failure",
            "service error",
            "pipe command",
            "pipe mail to",
            "transaction failed",
            "configuration error",
            "misconfigur*",
            "temporarily unable to process",
            "failed to store",
            "unable to store",
            "could not store",
            "cannot store",
            "internal resource",
            "resources temporarily",
            "database error",
            "processing error",
            "temporary problem",
            "storage failure",
            "could not load",
            "server busy",
            "too busy",
            "system busy",
            "agent busy",
            "ports are busy",
            "temporarily unavailable",
            "server error",
            "temporary error",
            "backend failure",
            "no system resources",
            "too much load",
            "high load",
            "spool file",
            "spoolfile",
            "queue file",
            "queuefile",
            "spool unavailable",
            "error processing",
            "could not be saved",
            "no data saved",
            "license expired",
            "engine error",
            "temporary lookup failure",
            "failed to process",
            "failed to queue",
            "could not save",
            "unable to process",
            "not ready",
            "upstream error",
            "internal delivery error",
            "mailbox busy",
            "mailbox is busy",
            "internal mailer error",
            "technical problem",
            "technical difficulties",
            "problem on our end", "internal confusion", "internal software error", "system load", "server load", "can't create output", "cannot create output",
        ])
        .scope(Scope::Destination)
            .ev(Evidence::GenericWording),
    );
    v.push(
        r("text.transaction_sequence", C::Protocol,
          "a command out of order inside the mail transaction ('need MAIL before RCPT', 'expected RCPT TO or DATA', 'bad sequence of commands', 'no valid recipients'): this transaction's fault, so the message waits, not every message to the host; before a transaction (HELO, TLS, AUTH order) the generic protocol rule's session scope holds")
            .t(&["mail first", "rcpt first", "need mail", "need rcpt", "expected rcpt", "expected mail", "expected data", "sender not yet given",
                 "sender and recipient first", "must have sender", "must precede data", "transaction complete", "out of sequence",
                 "bad sequence of commands", "bad command sequence", "invalid command sequence", "nested mail", "mail from first",
                 "rcpt to first", "no recipients", "no valid recipients", "need quit", "{mail|rcpt} command first", "send mail first",
                 "data without", "without mail", "without rcpt", "sender already {specified|given}", "already specified", "already given"])
            .scope(Scope::Message),
    );
    v.push(
        r("text.bad_parameter", C::Protocol,
          "a MAIL or RCPT parameter the server could not parse ('Bad message size syntax', an invalid SIZE= value): a syntax fault in our command, not a message too big; its longer phrase holds back the size rule's 'message size' inside it")
            .t(&["{bad|invalid|malformed} {message size|size} {syntax|parameter|value|argument}", "size parameter {syntax|invalid|malformed}"])
            .enh("!*.2.2 !*.2.3 !*.3.4")
            .scope(Scope::Message),
    );
    v.push(
        r(
            "text.protocol",
            C::Protocol,
            "syntax or sequence errors (500/501/502/503/504 wording)",
        )
        .t(&[
            "command not recognized",
            "syntax error",
            "unrecognized command",
            "unrecognised command",
            "bad sequence",
            "improper sequence",
            "command parameter not implemented",
            "not implemented",
            "command unrecognized",
            "protocol error",
            "protocol violation",
            "pipelining",
            "too many commands pipelined",
            "invalid command",
            "unknown command",
            "parameter not recognized",
            "synchronization error",
            "tls already active", "tls is already {enabled|active}",
            "tls already negotiated",
            "already using tls",
            "already in tls",
            "synchronisation error",
            "protocol synchronization",
            "no valid recipients",
            "no recipients",
            "must precede data",
            "need rcpt",
            "sender not yet given",
            "sender and recipient first",
            "helo/ehlo first",
            "ehlo/helo before",
            "sent too many times",
            "excessive amounts of data",
            "rp:cel",
            "mi:cel",
            "mi:ccl",
            "restricted characters in address",
            "invalid syntax",
            "no helo",
            "before mail command",
            "pipelined input",
            "didn't greet", "{expn|vrfy} {is |}not available",
        ])
        .scope(Scope::Connection)
            .ev(Evidence::GenericWording),
    );
    v.push(
        r("text.refused_from_our_host", C::Reputation,
          "mail refused 'from your host/server/IP' with no other cause: a verdict on our host's standing, holding the destination; its phrases contain the sender rule's 'not accept mail from' and the no-mail-service rule's 'does not accept mail', which give way (the don't/won't/cannot forms outweigh the vague IP-refusal rule), and it is declared last of its tier, so a named cause of equal weight (SPF, TLS, relaying) wins the tie")
            .t(&["{not|does not|doesn't|don't|won't|cannot} accept mail from your {host|server|ip}",
                 "not accept {email|messages} from your {host|server|ip}"])
            .scope(Scope::Destination),
    );
    // The twenty-ninth round's words from written probes and the retired fresh29/: plain
    // wording (weight 65), declared last, so that a blocklisting, a reputation verdict or a
    // destination-level rate limit outweighs them and a named cause of equal weight declared
    // earlier wins the tie (a review found them overriding such causes in the destination
    // tier).
    v.push(
        r("text.greylisting_wording", C::Greylisted,
          "greylisting said without the word: a sender or triplet 'not seen before', 'first contact', 'legitimate servers retry', a 'waiting period'; only on a 450 or 451, where greylisting lives, and weighed as plain wording, so a blocklisting, a rate or connection limit or a named cause of the same weight wins")
            .t(&["not been seen before", "legitimate {senders|servers|mail servers|mtas} retry", "sender/recipient/ip combination", "know you yet", "first contact",
                 "waiting period", "you are new here", "tuple not seen"])
            .codes("450 451"),
    );
    v.push(
        r("text.rate_limited_wording", C::RateLimited,
          "a sending limit said as a cap, a ceiling, an allowance, a velocity or messages per minute, or in Russian, Japanese, Chinese, German, French, Spanish, Portuguese, Italian, Polish or Dutch: words from written probes, so plain wording, never against a mailbox-status, mailbox-quota, size or recipient-count enhanced code (a per-mailbox rate under a 4.2.1 must not hold the destination; a 'limite d'envoi' of 50 recipients per message under a 4.5.3 is a recipient limit); the English rule text.rate_limited takes no such veto, since real servers do put their rate limits under 4.2.2, 4.3.1 and 4.5.3 (with the veto the tuning files break 9 rows and fix 1)")
            .t(&["лимит отправки", "лимит на отправку", "送信数", "送信制限", "送信上限", "发送数量", "发信数量", "sendelimit", "versandlimit", "limite d'envoi", "quota d'envoi",
                 "límite de envío", "limite de envio", "limite di invio", "limit wysyłki", "limit wysylki", "verzendlimiet",
                 "volume cap", "send ceiling", "sending ceiling", "pace yourself", "msgs/min", "msgs/hour", "messages/min", "{hourly|daily|monthly} {message |sending |}allowance",
                 "sending velocity", "submission velocity", "velocity exceeded"])
            .enh("!*.2.0 !*.2.1 !*.2.2 !*.3.1 !*.3.4 !*.5.3")
            .scope(Scope::Destination),
    );
    v.push(
        r("text.reputation_wording", C::Reputation,
          "our host's or domain's standing said without the English 'reputation' (low trust, an IP not yet trusted, a history of unsolicited mail, excessive abuse reports, too many bounces from our server) or said in French, Spanish, Portuguese, Italian, Polish, Dutch, Russian, Chinese or Japanese: words from written probes, so plain wording, never against an unknown-user or bad-address enhanced code (a 5.1.1 that asks us to protect our reputation by removing the address is an unknown user); the English rule text.reputation stays destination-level without the veto, which real replies back (with it the tuning files lose a row)")
            .t(&["réputation", "reputación", "reputação", "reputazione", "reputacja", "reputatie", "репутац", "*信誉", "*信譽", "*声誉", "レピュテーション",
                 "has low trust", "{ip|host|server|network} {is |}not yet trusted", "history of unsolicited", "{excessive|too many} abuse reports",
                 "too many bounces from your {server|ip|host|network}", "too many {users unknown|unknown users} from {this|your} {ip|host}", "client host rejected: too much spam"])
            .enh("!*.1.0 !*.1.1 !*.1.2 !*.1.3 !*.1.6 !*.1.10")
            .scope(Scope::Destination),
    );
    v.push(
        r("text.percent_in_recipient", C::RelayDenied,
          "a '%' refused in a recipient address ('\"%\" character disallowed in recipients'): the percent hack (user%host@domain) is a relaying trick; only at RCPT TO, where the address is a recipient")
            .t(&["{\"%\"|'%'|%} {character|sign} {disallowed|not allowed}"])
            .at(&[S::RcptTo]),
    );
    v.push(
        r("text.back_off", C::RateLimited,
          "a temporary reply that asks us to back off ('421 too many errors, please back off'): a request to slow down, as plain wording declared last, so any named cause of the same weight wins, and only on a 4xx, never against a mailbox-status, quota, storage, shutdown or recipient-count enhanced code")
            .t(&["please back off", "please backoff"])
            .codes("4xx")
            .enh("!*.2.0 !*.2.1 !*.2.2 !*.3.1 !*.3.2 !*.3.4 !*.5.3")
            .scope(Scope::Destination),
    );
    v.push(
        r("text.mailbox_concurrency", C::TooManyConnections,
          "a limit on deliveries running at once to one mailbox (an LMTP server's per-user concurrency: 'Too many concurrent deliveries for user'): the recipient waits, not the destination, so only once there is a recipient (RCPT TO on), and only for a user or mailbox, never a recipient's domain or server; its longer phrases hold back the connection-limit rule's 'too many concurrent' and 'concurrency limit' inside them, declared before the plain connection-limit wording, whose 'parallel deliveries' it holds, so it wins that tie, and as plain wording it loses to any named cause of the destination tier")
            .t(&["{concurrent|parallel|simultaneous} deliveries {for|to} {this |}{user|mailbox}",
                 "too many concurrent {lmtp |}deliveries {for|to} {this |}{user|mailbox}", "too many {parallel|simultaneous} deliveries {for|to} this mailbox",
                 "{per-mailbox|mailbox} concurrency limit", "concurrent deliveries per mailbox"])
            .at(RCPT_ON)
            .scope(Scope::Recipient),
    );
    v.push(
        r("text.too_many_connections_wording", C::TooManyConnections,
          "a connection limit said without 'too many connections': simultaneous conns, parallel deliveries, sessions at once, a concurrency cap, connection slots used up; plain wording, never against a mailbox-status enhanced code (parallel deliveries to one mailbox)")
            .t(&["simultaneous conns", "parallel deliveries", "sessions from you at once", "connections from you at once", "concurrency exceeded", "concurrency cap",
                 "max conn per", "max conns per", "connection slots {exhausted|full|used up}"])
            .enh("!*.2.0 !*.2.1")
            .scope(Scope::Destination),
    );
}
