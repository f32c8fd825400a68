Source: bengorash/postfix-smtp-proxy (0ece6119f3c740c773101dc2fae269e82f611cad), licence: NOASSERTION
No licence file found in the repository snapshot. One short reply text quoted for a research test set.
