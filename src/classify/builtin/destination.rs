//! Tier 2 of the built-in rules: Destination-level wording: content URLs on blocklists, greylisting, too many connections, rate limits, blocklists, reputation, reverse DNS / HELO checks. First because a server that throttles or blocks us often does it with a recipient-looking code.
//!
//! A tier gives its rules their kind of evidence ([`super::TIERS`]); every rule that
//! holds is weighed, and the order here only breaks ties between equal weights.

use super::*;

#[rustfmt::skip]
pub(super) fn rules(v: &mut Vec<B>) {
    v.push(
        r("auth.too_many_failures", C::AuthFailed,
          "too many failed AUTH attempts from us (a lock-out after failed logins): our own credentials, however the reply names our IP or a rate")
            .t(&["too many authentication failures", "too many auth failures", "too many login failures", "too many failed logins",
                 "too many failed login attempts", "too many failed authentication*", "too many bad auth*", "too many failed attempts", "too many failed auth attempts", "fazla başarısız deneme"])
            // A lock-out answers AUTH (or closes the session before it), never a command of
            // a mail transaction, where the same words are about something else ("too many
            // failed attempts for this recipient"). It passes: a 5xx that asks for a later
            // retry is transient, like a rate limit; refused credentials stay permanent.
            .at(&all_but(&[S::MailFrom, S::RcptTo, S::Data, S::DataEnd, S::Bdat]))
            .passes(true),
    );
    v.push(
        r("text.upstream_http_failed", C::ServerError,
          "the receiver's own HTTP call failed and it passes the client library's error on ('HTTPSConnectionPool(host=…): Max retries exceeded with url', from mail-to-webhook bridges): its upstream is down, whatever network words follow; our own connection worked, since it answered")
            .t(&["httpsconnectionpool", "httpconnectionpool", "max retries exceeded with url"])
            .scope(Scope::Destination),
    );
    v.push(
        r("auth.too_many_attempts", C::RateLimited,
          "too many AUTH attempts from us, failures not said (Gmail 454 4.7.0 'Too many login attempts'): a rate limit on our logins, however the reply names our IP")
            .t(&["too many authentication attempts", "too many auth attempts", "too many login attempts"])
            .scope(Scope::Destination),
    );
    v.push(
        r("auth.account_locked", C::AuthFailed,
          "535 (RFC 4954: only ever an answer to AUTH) saying an account is locked, suspended or disabled: our own sending account, not a recipient's mailbox")
            .t(&["locked", "suspended", "disabled", "blocked", "inactive", "deactivated"])
            .codes("535"),
    );
    v.push(
        r("text.check_failed", C::ServerError,
          "a 4xx saying the receiver's own check failed to run ('error checking rate limit', 'temporary spam check failure', 'failure while validating'): its trouble, not the verdict the check would give; first, so the check's subject (a rate, spam) does not decide")
            .t(&["error checking", "error while checking", "check failure", "checking failure", "failure while validating", "error while validating", "failed to check", "unable to check", "could not check", "cannot verify recipient", "unable to verify recipient", "could not verify recipient", "validation timed out", "verification timed out"])
            .codes("4xx"),
    );
    v.push(
        r("dnsbl.content_url_listed", C::SpamContent,
          "a URL or domain in the message is on a URI blocklist (URIBL, SURBL, Spamhaus DBL): the content, not our IP")
            .t(&["uribl", "surbl", "blacklisted url", "blacklisted link", "url in this email", "url in the message", "spamtext", "spam pattern"]),
    );
    v.push(
        r(
            "google_groups.spam_classification",
            C::SpamContent,
            "Google Groups: the message was rejected by the group's spam classification",
        )
        .t(&["rejected due to spam classification", "spam classification"]),
    );
    v.push(
        r("greylisting", C::Greylisted,
          "greylisting (postgrey, milter-greylist, sqlgrey, greylistd, Exim/Rspamd greylisting): retry after the server's delay")
            .t(&["greylist*", "graylist*", "grey-list*", "gray-list*", "grey list*", "gray list*", "postgrey", "greylisted", "greylisting in action", "temporarily deferred by greylisting", "prove you are not", "not yet known here", "first delivery attempt", "first-time sender", "first time sender", "has not retried", "temporary envelope failure", "triplet",
                 "liste grise", "lista gris", "lista cinza", "lista grigia", "graue liste", "grauen liste", "grijze lijst", "szara lista", "szarej liście", "грейлист", "серый список", "сером списке", "グレイリスト", "グレーリスト", "グレイリスティング", "グレーリスティング", "灰名单"]),
    );
    v.push(
        r("qq.connection_frequency_limited", C::TooManyConnections,
          "QQ Mail 550 'Connection frequency limited': a 5xx that is temporary; QQ's help page (service.mail.qq.com, no=1000722) says our IP connects too often and to lower the rate, i.e. retry later")
            .t(&["connection frequency limited"])
            .disp(Disposition::Transient)
            .scope(Scope::Destination),
    );
    v.push(
        r("qq.frequency_limited", C::RateLimited,
          "QQ Mail 550 'Ip/Domain frequency limited': a 5xx that is temporary; QQ's help page (service.mail.qq.com, no=1000725) says our IP or domain sends too fast and to lower the rate, i.e. retry later")
            .t(&["ip frequency limited", "frequency limited", "mail frequency limited", "domain frequency limited"])
            .disp(Disposition::Transient)
            .scope(Scope::Destination),
    );
    v.push(
        r("postfix.anvil_rate", C::RateLimited,
          "Postfix's anvil limits on our client (smtpd_client_message_rate_limit 'too much mail from', smtpd_client_recipient_rate_limit 'too many recipients from'): a rate limit on our IP over anvil_rate_time_unit, so every message to this destination must slow down")
            .t(&["too much mail from", "too many recipients from", "too many messages from", "too many auth commands"])
            .scope(Scope::Destination),
    );
    v.push(
        r("postfix.anvil_connections", C::TooManyConnections,
          "Postfix's anvil limits on our connections (smtpd_client_connection_count_limit and _rate_limit 'too many connections from', smtpd_client_new_tls_session_rate_limit 'too many new TLS sessions from'): open fewer connections to this destination")
            .t(&["too many connections from"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.connection_limit_at_greeting", C::TooManyConnections,
          "a bare 'connection limit' or 'connection capacity' said instead of the greeting: our connections are over the limit (later in a session the same words may belong to a per-connection limit on recipients or messages, or to the receiver's own capacity upstream)")
            .t(&["connection limit", "connection capacity"])
            .at(&[S::Connect, S::Greeting])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.too_many_connections", C::TooManyConnections,
          "too many concurrent connections from our IP (Postfix, Exim, Sendmail, Cisco, Mimecast, Comcast, Orange OFR_104/OFR004_104 wording)")
            .t(&["too many connections", "too many concurrent", "too many simultaneous", "too many sessions", "too many open connections",
                 "too many smtp sessions", "too many smtp connections", "connection limit exceeded", "connection limit reached", "{ip|per-ip|per ip|client} connection limit",
                 "concurrency limit", "concurrent connection limit", "maximum number of connections", "maximum number of concurrent", "max connections", "trop de connexions", "eşzamanlı bağlantı",
                 "connection frequency limited", "too many connection*", "aup#cxcnct", "number of connections",
                 "too many concurrent smtp connections", "concurrent sessions", "max concurrent", "simultaneous connections", "parallel connections",
                 "number of sessions", "sessions exceeds", "connection count", "connections limit", "sessions open", "open sessions", "already connected", "one connection at a time", "parallel session*", "simultaneous session*", "concurrent session*", "open channels", "too many external connections", "слишком много соединений", "слишком много подключений", "zu viele verbindungen", "demasiadas conexiones", "troppe connessioni", "muitas conexões", "连接数过多", "连接过多", "maximum connections exceeded", "maximum connections reached", "excessive connections", "out of connection slots", "no {free |available |}connection slots",
                 "zu viele {gleichzeitige|parallele} verbindungen", "слишком много одновременных {подключений|соединений}", "количество одновременных {подключений|соединений}",
                 "zbyt wiele połączeń", "za dużo połączeń", "jednoczesnych połączeń", "同時接続数", "并发连接数"])
            .scope(Scope::Destination),
    );
    v.push(
        r("gmail.ip_reputation", C::Reputation,
          "Gmail 550 5.7.1/5.7.28 'unusual rate of unsolicited mail originating from your IP address': a reputation verdict on our IP worded as a rate, given as a refusal (Gmail SMTP error reference); the 421 4.7.28 deferral stays a rate limit")
            .t(&["unsolicited mail originating from your ip", "ipv6 sending guidelines"])
            .codes("5xx")
            .scope(Scope::Destination),
    );
    v.push(
        r("gmail.rate_limited_message", C::RateLimited,
          "Gmail 4.7.26/4.7.27/4.7.30/4.7.32 'this mail has been rate limited because …': this message (its authentication or alignment) is throttled, not our IP (Gmail SMTP error reference)")
            .t(&["has been rate limited because", "been rate limited because"])
            .scope(Scope::Message),
    );
    v.push(
        r("gmail.rate_limited", C::RateLimited,
          "Gmail: unusual rate of (unsolicited) mail / the user is receiving mail at a rate that prevents delivery (4.7.28, 4.2.1 ReceivingRate)")
            .t(&["unusual rate", "peak smtp relay limit", "daily sending quota", "daily user sending limit"]),
    );
    v.push(
        r("text.recipient_rate", C::RateLimited,
          "this recipient receives mail too fast (Gmail 4.2.1/5.2.1 ReceivingRate, Outlook, Mail.ru per-mailbox ratelimit): only this recipient must wait")
            .t(&["receiving mail at a rate", "receivingrateperm", "receivingratetemp", "receiving mail too quickly", "is receiving mail too",
                 "ratelimit exceeded for mailbox", "user is receiving mail", "recipient has exceeded",
                 "too many recent messages", "thread limit exceeded", "{rate limit|ratelimit} exceeded for this recipient",
                 "too many messages for this recipient", "too much mail for this {mailbox|recipient|user}", "reached their message limit", "mailbox receiving too", "receiving too many messages", "receiving mail faster", "receiving more mail than", "getting more mail than", "receives mail faster", "too many messages to this address", "incoming email limit", "too many incoming {msgs|messages|mails} for this {rcpt|recipient|mailbox}"])
            .scope(Scope::Recipient),
    );
    v.push(
        r("yahoo.permanently_deferred", C::Reputation,
          "Yahoo/AOL [TSS09]/[TSS11] 'all messages from <IP> will be permanently deferred; retrying will NOT succeed': a block on our IP's reputation (Yahoo Sender Hub error codes)")
            .t(&["will be permanently deferred", "retrying will not succeed"])
            .scope(Scope::Destination),
    );
    v.push(
        r("yahoo.deferred_volume_complaints", C::RateLimited,
          "Yahoo/AOL [TSS04]/[TS01]/[TS02]: temporarily deferred due to unexpected volume or user complaints (Yahoo Sender Hub error codes)")
            .t(&["[tss0*", "[ts01]", "[ts02]", "[gl01]", "unexpected volume", "temporarily deferred due to user complaints"])
            .scope(Scope::Destination),
    );
    v.push(
        r(
            "comcast.rate_limited",
            C::RateLimited,
            "Comcast RL-codes: rate limited (Comcast postmaster error codes)",
        )
        .t(&["rl0000*", "rl00*"]),
    );
    v.push(
        r("netease.codes", C::RateLimited,
          "NetEase 163/126/yeah.net RP:* codes: too many recipients, connections or errors from our IP (NetEase help pages)")
            .t(&["rp:trc", "rp:qrc", "rp:cdr", "rp:rcl", "rp:tqc", "hl:ifc", "mi:dmc", "mi:sfq"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.reverse_dns", C::Reputation,
          "our IP has no valid reverse DNS (PTR) or it does not match (Gmail 5.7.25, Comcast, GMX, Postfix reject_unknown_client_hostname)")
            .t(&["reverse dns", "reverse-dns", "rdns", "ptr record", "ptr resource record", "dns ptr", "no ptr", "missing ptr", "reverse lookup",
                 "ip name lookup failed", "name lookup failed", "cannot find your hostname", "unverifyable sending", "unverifiable sending",
                 "reverse dns lookup", "client host rejected: cannot find your", "no reverse", "invalid rdns", "fcrdns", "reverse mapping",
                 "does not resolve to", "hostname does not match", "failed ptr", "dynamic ip", "dynamic/residential", "residential ip", "dialup", "dial-up",
                 "helo is dynamic", "relay via isp", "relay via your isp", "use {your|the} smtp relay", "relay through your isp", "dynamic ip space", "dynamic address", "ip must resolve",
                 "does not have a hostname", "have a hostname", "without a hostname", "pool address", "dynamic pool", "dynamic-looking", "generic hostname", "generic-looking", "looks dynamic", "looks generic", "residential address", "residential connections", "residential network", "cannot resolve your address", "can't resolve your address", "unable to resolve your address",
                 "{cannot|could not|unable to} determine {the remote|remote|client} {address|hostname|host name}", "{cannot|could not|unable to} determine your {hostname|host name|ip address}",
                 "lookup failure of {the |}{hostname|host name} for {the |}{connection|client|connecting}", "{hostname|host name} lookup failure for {the |}{connection|client|connecting}"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.reputation_cause", C::Reputation,
          "a limit or refusal the receiver says is because of our reputation: reputation, even when worded as a rate limit")
            .t(&["due to ip reputation", "due to reputation", "due to the reputation", "due to sender reputation", "due to poor reputation",
                 "due to low reputation", "due to bad reputation", "due to your reputation", "due to domain reputation", "because of reputation",
                 "because of your reputation", "because of the reputation", "based on reputation", "reputation-based", "reputation based",
                 "trust score"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.invalid_recipient_limit", C::Policy,
          "the session named too many unknown recipients (a directory-harvest guard, Exim's 'Rejected for too many bad recipients'): a local rule about our client, not a rate; what waits is the destination")
            .t(&["too many {invalid|bad|unknown|nonexistent|non-existent} recipients", "too many recipient addresses are invalid"])
            .scope(Scope::Destination),
    );
    v.push(
        r(
            "text.rate_limited",
            C::RateLimited,
            "rate limiting or throttling wording without a specific code",
        )
        .t(&[
            "rate limit*",
            "{hourly|daily} recipient limit",
            "ratelimit*",
            "rate-limit*",
            "throttl*",
            "too many messages",
            "too many mails",
            "to many mails",
            "to many messages",
            "messaging limit*",
            "rate overlimit",
            "recipient rate limit",
            "too many emails",
            "too many recipients this hour", "sent to too many recipients", "received this hour",
            "excessive volume", "deferred due to excessive", "unexpected volume", "message per connection", "messages per connection", "messages per session",
            "message per session", "in past 24h*", "from your ip/network", "too many messages this hour", "sent too many", "frequency limit*", "volume limit*", "sending rate", "message rate", "too many login attempts", "unusual sending activity",
            "too quickly", "too fast", "slow down", "try again slower", "send slower",
            "exceeded the rate",
            "daily relay quota",
            "sending quota",
            "{send|relay} quota", "send limit {reached|hit}", "{email|mail|sending|send|message|monthly|daily|hourly} allowance {reached|exceeded|used up|exhausted}", "{monthly|weekly|daily|hourly} {mail relay|relay|send|sending} limit",
            "traffic quota", "{exceeded|reached|over} {our|the} {ip|per-ip} limit",
            // German, Spanish, Portuguese, Italian, French, Dutch, Polish, Russian for "too many messages"
            "zu viele nachrichten", "zu viele e-mails", "zu viele mails", "demasiados mensajes", "demasiados correos", "mensagens demais",
            "muitas mensagens", "troppi messaggi", "trop de messages", "trop de courriels", "te veel berichten", "zbyt wiele wiadomości",
            "zbyt wiele wiadomosci", "za dużo wiadomości", "слишком много писем", "слишком много сообщений",
            "hourly message quota",
            "daily message quota",
            "sending limit*",
            "messages per hour",
            "messages per minute",
            "emails per hour",
            "mails per",
            "hourly limit",
            "daily limit",
            "submission rate",
            "received too many messages",
            "try again later, closing connection",
            "hit our rate",
            "excessive messages",
            "excessive mail",
            "excessive sending",
            "bulk mailing",
            "connection rate",
            "rate of connections",
            "connections from your ip exceeds",
            "too many new tls sessions",
            "requests per",
            "per hour",
            "per minute",
            "per 5 minutes",
            "per day",
            "once per",
            "queue quota",
            "number of messages exceeded",
            "sending too much",
            "hourly quota",
            "daily quota",
            "rate or quota",
            "recipient rate",
            "high volume",
            "volume from your",
            "flooding",
            "per second",
            "message limit exceeded",
            "daily message limit",
            "mail limit",
            "rate control",
            "{mails|e-mails|nachrichten} pro {stunde|tag}", "{correos|mensajes} por {hora|día}", "{messages|courriels} par {heure|jour}", "policy rejection- quota exceeded",
            "{outgoing|outbound} limit*", "{outgoing|outbound} {message|messages|mail|email|send|sending} {limit*|quota}", "allowed outgoing messages",
            "send limit exceeded", "monthly {messages |emails |mails |}limit", "message limit for {today|the day}",
            "too many {recipients|messages|mails|emails} in a short time",
            "outbound quota",
            "may only send",
            "{hourly|daily|monthly} {email|e-mail|sending} quota", "number of {email|emails|messages|mails} per {hour|day|minute|second|5 minute|5 minutes|10 minutes}",
            "hour period", "cool-down", "cooldown", "slowdown", "slow-down", "pace your", "surge of", "sending budget", "message budget", "hourly budget", "daily budget", "频率过快", "发送频率", "发信频率", "过于频繁", "due to volume", "message volume",
        ])
        .scope(Scope::Destination),
    );
    v.push(
        r("netease.reputation", C::Reputation,
          "NetEase 163/126 HL:REP / HL:MEP: our IP's sending behaviour or reputation is poor (NetEase help pages)")
            .t(&["hl:rep", "hl:mep"])
            .scope(Scope::Destination),
    );
    v.push(
        r("netease.connections", C::TooManyConnections,
          "NetEase 163/126 HL:ICC: too many concurrent connections from our IP (NetEase help pages)")
            .t(&["hl:icc"])
            .scope(Scope::Destination),
    );
    v.push(
        r("comcast.blocklisted", C::Blocklisted,
          "Comcast BL-codes: the IP is on a blocklist Comcast uses (Spamhaus, Cloudmark CSI, SenderScore; Comcast postmaster error codes)")
            .t(&["bl0000*", "bl00*"]),
    );
    v.push(
        r("microsoft.banned_ip", C::Blocklisted,
          "Microsoft 365/Outlook.com: banned sending IP / on the block list (5.7.606-649, S3140/S3150); delist at sender.office.com")
            .t(&["banned sending ip", "on our block list", "part of their network is on our block list", "sender.office.com", "(s3140)", "(s3150)", "weren't sent. please contact your internet service provider"]),
    );
    v.push(
        r(
            "att.dnsbl",
            C::Blocklisted,
            "AT&T: DNSBL:RBL / DNSBL:ATTRBL 521 <ip>_is_blocked (AT&T postmaster)",
        )
        .t(&["dnsbl:rbl", "dnsbl:attrbl", "*_is_blocked"]),
    );
    v.push(
        r("proofpoint.blocked", C::Blocklisted,
          "Proofpoint (also iCloud inbound): Blocked - see ipcheck.proofpoint.com / dnsbl-lookup.cgi")
            .t(&["ipcheck.proofpoint", "proofpoint.com/dnsbl", "dnsbl-lookup"]),
    );
    v.push(
        r(
            "barracuda.reputation",
            C::Blocklisted,
            "Barracuda: blocked using Barracuda Reputation (b.barracudacentral.org)",
        )
        .t(&[
            "barracuda reputation",
            "barracudacentral",
            "barracudanetworks.com/reputation",
        ]),
    );
    v.push(
        r("spectrum.rate_limited", C::RateLimited,
          "Spectrum/Charter AUP#In-1310…1340: Cloudmark-based rate and concurrency limits on our IP (Spectrum 'understanding email error codes')")
            .t(&["aup#in-131*", "aup#in-132*", "aup#in-133*", "aup#in-134*", "aup#1310", "aup#1320", "aup#1330", "aup#1340"])
            .scope(Scope::Destination),
    );
    v.push(
        r("spectrum.blocked", C::Blocklisted,
          "Spectrum/Charter AUP#In-1370 / AUP#I-1010: our IP is blocked (Spectrum 'understanding email error codes')")
            .t(&["aup#in-1370", "aup#i-1010", "aup#i-1300"])
            .scope(Scope::Destination),
    );
    v.push(
        r(
            "cox.blocklisted",
            C::Blocklisted,
            "Cox/Spectrum AUP#CDRBL, AUP#RBL: the IP is on a DNS blocklist (Cox email error codes)",
        )
        .t(&["aup#cdrbl", "aup#rbl", "aup#bl"]),
    );
    v.push(
        r("text.sender_listed", C::SenderRejected,
          "our envelope sender address (not our IP) is on the receiver's block list: refused for this sender, not a DNSBL listing of our host")
            .t(&["sender is blacklisted", "sender is blocklisted", "sender address has been blacklisted", "sender address is blacklisted",
                 "blacklisted sender", "blocklisted sender", "sender black listed", "sender blacklisted", "sender blocklisted",
                 "sender in blacklist", "user in blacklist", "sender address is on", "sender is on our block", "sender on block list",
                 "recipient's blocklist", "recipient's blacklist", "recipient's block list", "recipient's blocked", "personal blocklist", "personal block list",
                 "personal blacklist", "user's block list", "user block list", "blocked sender list", "sender is on the recipient", "sender or domain is blacklisted", "sender or domain is blocklisted", "user's blocked list", "sender is on a user", "users blocked list", "blocked senders",
                 "sender matched {blacklist|blocklist|denylist|black list|block list}"])
            .scope(Scope::Message),
    );
    v.push(
        r("dnsbl.lookup_failed", C::Dns,
          "the receiver could not query a blocklist (an RBL or DNS lookup error): its own resolver trouble, not a listing of our IP")
            .t(&["rbl lookup error", "dnsbl lookup error", "rbl lookup failed", "dnsbl lookup failed", "blacklist lookup failed",
                 "blocklist lookup failed", "dns error on", "rbl lookup timeout", "dnsbl lookup timeout"])
            .disp(Disposition::Transient)
            .scope(Scope::Destination),
    );
    v.push(
        r("text.attachment_listed", C::VirusContent,
          "an attached file or its extension is on the receiver's block list ('the extension of the attached file is blacklisted'): the message's content, not our IP")
            .t(&["attached file", "extension of the attach*", "attachment extension", "file extension"])
            .scope(Scope::Message),
    );
    v.push(
        r("text.blocklist_boycott", C::Policy,
          "an operator's refusal of mail from or to the customers of a blocklist service ('configured to NOT deliver e-mails from UCEProtect customers'): a local rule about that sender or recipient, not a listing of our IP; before the blocklist rule, whose names it contains")
            .t(&["{from|to} uceprotect customers", "uceprotect {protected|\"protected\"} {senders|recipients}", "uses uceprotect, try reaching"]),
    );
    v.push(
        r("dnsbl.listed", C::Blocklisted,
          "our IP is on a DNS blocklist (Spamhaus, SpamCop, SORBS, CBL, UCEPROTECT, Cloudmark, ivmSIP, PSBL, Barracuda…)")
            .t(&["on the dbl", "blocked using", "blacklist*", "blackhol*",
                 // Spanish/Portuguese, Italian, French, German, Dutch, Polish, Russian for "black list"
                 "lista negra", "lista nera", "liste noire", "schwarze liste", "schwarzen liste", "zwarte lijst", "czarna lista", "czarnej liście", "czarnej liscie",
                 "*ерный список", "*ёрный список", "*ерном списке", "*ёрном списке",
                 "blocklist*", "block list", "black list", "block listed", "dnsbl*", "rbl*", "spamhaus dbl", "xbl", "pbl", "sbl", "spamhaus", "spamcop", "mailed to spamtraps",
                 "sorbs", "abuseat", "uceprotect", "psbl", "ivmsip", "cloudmark", "is listed on", "is listed in", "are listed on", "listed on our", "ip is listed", "client host blocked", "black listed", "black-listed", "ip est bloquee", "adresse ip bloquee",
                 "client host rejected: blocked", "blocked for abuse", "blocked for spam*", "bloquee pour incident de spam",
                 "ip blocked", "blocked ip", "ip address blocked", "blocked - see", "zen.spamhaus", "delist*", "banned sender",
                 "mailspike", "spamrats", "hostkarma", "s5h.net", "0spam", "nordspam", "lashback", "denylist", "denylisted", "deny list", "deny-list",
                 "block-list", "black-list", "listed at", "listed by", "you are permanently blocked", "{your |}{ip|ip address|host|network} {is |has been |}permanently blocked", "banned ip", "ip banned", "ip is banned", "ip address is banned",
                 "ip address has been blocked", "ip has been blocked", "ip was blocked", "ip address is blocked", "ip is blocked", "host has been blocked",
                 "is an open relay", "listed as an open relay", "open relay database", "possible open relay", "dsbl", "ordb", "deny register", "abuse feed*", "spam source list", "spam sources list", "reputation list", "sperrliste", "黑名单", "ブラックリスト", "블랙리스트", "kara liste", "to request removal"])
            .scope(Scope::Destination),
    );
    v.push(
        r("t_online.ip_block", C::Reputation,
          "T-Online: 554 IP=… - A problem occurred. (Ask your postmaster … tobr@rx.t-online.de): the sending IP is not accepted (T-Online postmaster)")
            .t(&["tobr@rx.t-online.de", "a problem occurred. (ask your postmaster", "(nowl)"])
            .scope(Scope::Destination),
    );
    v.push(
        r("orange.service_refused", C::Policy,
          "Orange/Wanadoo 'Service refusé, veuillez essayer plus tard' (OFR_999, OFR004_105, LPN…): the platform refuses our IP for now (Orange postmaster error codes)")
            .t(&["service refuse. veuillez", "service refusé. veuillez", "service refused, please try later", "ofr_999", "ofr004_105"])
            .scope(Scope::Destination),
    );
    v.push(
        r("microsoft.reputation", C::Reputation,
          "Microsoft: traffic not accepted from this IP / too many unwanted messages / tenant over threshold (5.7.708, 5.7.705, SC-004)")
            .t(&["traffic not accepted", "unwanted messages", "exceeded threshold", "tenant has exceeded", "client blocked from sending", "unregistered domain*"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.spam_source", C::Reputation,
          "we (our IP, host or domain) are called a source of spam or abuse: a verdict on our reputation, not on this message's content")
            .t(&["spam ip", "spam ips", "sending spam", "sending mostly spam", "sent spam", "spam source", "source of spam", "spam from your ip",
                 "spam abuse", "spam rate", "spamming", "because of sending virus", "because of sending spam", "known spammer", "spam sending",
                 "spamming activity", "spam originating", "spam host", "spamming host",
                 "{sends|has sent|is sending} spam"])
            .scope(Scope::Destination),
    );
    v.push(
        r("greeting.spam", C::Reputation,
          "spam or virus wording before any message was sent (connect, greeting, EHLO/HELO): it can only be about us as a sender")
            .t(&["spam", "virus", "malware", "junk", "unsolicited"])
            .at(&[S::Connect, S::Greeting, S::Ehlo, S::Helo])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.reputation", C::Reputation,
          "low IP or domain reputation (Gmail 5.7.1 low reputation, Microsoft 4.7.650 IP reputation, Cisco SenderBase, Mimecast, Proofpoint)")
            .t(&["reputation", "senderbase", "sender score", "senderscore", "untrusted ip", "new or untrusted", "poor reputation",
                 "bad reputation", "low reputation", "{domain|ip|ip address|server|host} has been associated with spam", "{appears|seems|suspected} to be an open relay", "openrelay", "ip score", "karma", "registered as spammer", "spam sender", "realip", "cleanip",
                 "ip_control", "is filtered", "ip is hangup", "poor sending", "ip temporarily suspended", "ip suspended", "suspicious activity", "excessive complaints", "complaint rate", "ip has been suspended",
                 "suspended due to abuse", "due to abuse", "abuse from your ip", "complaints from", "user complaints", "spam complaints",
                 "too many complaints", "high complaint", "due to complaints", "because of complaints", "complaints about", "history of sending", "sending history", "temporarily blocked", "non-static ip", "non-static-ip", "temporairement bloqu*", "intrusion prevention",
                 "from an open relay", "track record", "domain standing", "ip standing", "sender standing", "abusive sending", "associated with abuse", "rated as untrusted", "untrusted by our", "untrusted sender*",
                 // a sending domain too young to be trusted, traffic from our network the receiver found suspicious
                 "domain {was |}registered too recently", "domain is too new", "suspicious traffic from your {network|ip|ip address|server|host}", "observed suspicious traffic"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.client_host_policy", C::Policy,
          "our client host or HELO is refused (dynamic/residential space, HELO checks, not an MX, wrong network)")
            .t(&["mismatches client ip",
                 "may not be mail exchanger", "use the smtp server of your isp", "smtp server of your isp", "es0000*", "host network not allowed", "your host is not allowed",
                 "not allowed to connect", "not accepting connections", "connections not accepted",
                 "not welcome", "servers in your country", "from your country", "send to mx", "ip is not allowed to send", "ip address is not allowed to send",
                 "{mail|email|messages} not permitted from {host|your host|ip|your ip}"])
            .scope(Scope::Destination),
    );

    v.push(
        r("text.helo_policy", C::Policy,
          "our HELO/EHLO name is refused by the receiver's own access rule, not as malformed (Postfix check_helo_access 'Helo command rejected: Access denied', a HELO naming the receiver itself or a big provider, a deny list of HELO names): every message on this connection fails the same way")
            .t(&["helo command rejected: access denied", "host impersonating", "helo command rejected: impersonating", "own domain/hostname", "forged helo", "spoofed helo", "false helo",
                 "helo not allowed", "helo hostname is not allowed", "helo host name has been denied", "helo/ehlo blocked", "badhelo",
                 "ip in {helo|your helo|ehlo|your ehlo}",
                 // an Exim ACL's own words for a HELO naming the receiving system itself
                 "helo of {systems|system's|system|our|my|local} {hostname|host name|domain}", "helohost"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.helo_rejected", C::Protocol,
          "our HELO/EHLO name is refused as invalid (Postfix 'Helo command rejected: Host not found', reject_invalid_helo_hostname, need fully-qualified hostname; Haraka helo.checks; Gmail 'HELO/EHLO argument is invalid'): every message on this connection fails the same way")
            .t(&["helo command rejected: host not found", "invalid helo", "bad helo", "helo/ehlo argument", "ehlo requires", "helo requires",
                 "helo host name invalid", "invalid ehlo", "helo ip literal", "format in helo", "fully-qualified hostname", "not fully qualified", "helo mismatch",
                 "fully qualified hostname", "fully qualified domain", "hello name", "helo name", "helo should be",
                 "helo is not {an|a} fqdn", "helo domain must be", "fqdn in {helo|ehlo|helo/ehlo}", "helo must be {a|an} fqdn", "helo domain is not {a|an} fqdn",
                 // Exim ACLs' words for a bare address literal or a bad name given as the HELO argument
                 "helo of bare ip", "bare ip in {helo|ehlo}", "{domain|ip|hostname|host name|name} given in {helo|ehlo|helo/ehlo}"])
            .scope(Scope::Destination),
    );
    v.push(
        r("text.helo_missing", C::Protocol,
          "a command came before HELO/EHLO, or needs EHLO where HELO was sent ('send EHLO first', 'need HELO before MAIL', 'requires EHLO'): a sequence fault in our session, scoped by the command it answers (at MAIL FROM the message's, like other sequence faults; before a transaction the session's)")
            .t(&["helo first", "hello first", "expecting ehlo", "expecting helo", "ehlo expected", "helo expected",
                 "ehlo first", "helo or ehlo first", "need helo", "need ehlo", "say helo", "send helo", "send ehlo",
                 "helo required", "ehlo required", "helo/ehlo before", "ehlo/helo before", "requires ehlo"]),
    );
    v.push(
        r("text.helo_command_rejected", C::Protocol,
          "Postfix 'Helo command rejected' with a cause no rule names and no 5.7.x code (none, 4.x.x, 5.5.x…): our HELO name is refused as unusable; every message on this connection fails the same way")
            .t(&["helo command rejected"])
            .enh("!5.7.*")
            .scope(Scope::Destination),
    );
    v.push(
        r("text.helo_policy_code", C::Policy,
          "Postfix 'Helo command rejected: <the admin's reason>' said with a permanent policy code (5.7.x, RFC 3463's security or policy class) and no syntax or lookup wording: a local rule about our HELO name ('you are not me'), not a malformed command; declared after the HELO-syntax rule, whose specific phrases win a tie")
            .t(&["helo command rejected"])
            .enh("5.7.*")
            .scope(Scope::Destination),
    );
    v.push(
        r("rfc5321.too_many_recipients", C::TooManyRecipients,
          "too many recipients in one transaction: transient even as a 552 (RFC 5321 §4.5.3.1.10); send the rest in another transaction")
            .t(TOO_MANY_RECIPIENTS)
            .codes("452 552 451 450 455 421")
            .disp(Disposition::Transient),
    );
    v.push(
        r("text.too_many_recipients", C::TooManyRecipients,
          "too many recipients for one message, said with a code other than 452/552: the code's first digit stands")
            .t(TOO_MANY_RECIPIENTS)
            .t(&["number of rcpt to commands", "number of recipients", "recipients allowed", "multiple recipients", "total of rcpts", "recipients exceeded",
                 "single envelope recipient", "single recipient", "recipient count", "recipients in a single", "recipients in one message", "only one recipient", "max rcpt", "multiple to addresses", "only one to address", "only one to email", "only have one recipient",
                 "too many recipient address*", "too many {cc|bcc|to} recipients"])
            .scope(Scope::Message),
    );
}

/// "Too many recipients in one transaction" wording, shared by the rule for a 452/552
/// (transient by RFC 5321 §4.5.3.1.10) and the rule for any other code.
#[rustfmt::skip]
const TOO_MANY_RECIPIENTS: &[&str] = &["too many recipients", "too many rcpt*", "recipient limit exceeded", "maximum number of recipients",
    "too many addresses", "too many envelope recipients", "too many recipient attempts", "multiple destination domains per transaction",
    "recipients per message", "recipient limit reached", "recipients per connection", "recipients per connection limit reached", "{one|1} {alias|recipient|address} per transaction",
    // a server's own words for the number of RCPT commands it allows ("out of allow RCPT numbers")
    "rcpt numbers", "number of rcpts"];
