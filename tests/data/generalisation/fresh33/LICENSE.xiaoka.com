https://github.com/jabberd2/jabberd2/issues/139 @ n/a : NOASSERTION
Reply text quoted by a user in a public GitHub issue thread (GitHub Terms of Service; no separate licence stated for issue content). Only the short server reply is reproduced.
