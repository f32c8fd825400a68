https://github.com/schweikert/postgrey/issues/86 @ page : NOASSERTION (short reply strings quoted as facts)
No licence text in the source; short reply strings are quoted as facts.
