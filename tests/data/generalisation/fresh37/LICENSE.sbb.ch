https://github.com/mailgun/mailgun-php/issues/105 (issue thread) : NOASSERTION
No licence text in the source; short reply strings are quoted as facts.
