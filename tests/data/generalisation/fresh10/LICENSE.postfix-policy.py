Reply strings quoted in tests/data/generalisation/fresh10/replies.jsonl come from https://github.com/tomboland/postfix-policy.py (NOASSERTION).

The repository states no licence; only short reply strings (facts about the server's behaviour) are quoted.
