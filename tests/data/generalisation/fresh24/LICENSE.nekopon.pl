Source: nekoponpl/nazareth.nekopon.pl (cea016d500b3ebaad4e6057f8f80017afd9b1498), licence: NOASSERTION

No licence file in the repository at this commit.
