https://github.com/ircf/sendy_smtp_bounce/issues/5 (issue thread) : NOASSERTION
No licence text in the source; short reply strings are quoted as facts.
