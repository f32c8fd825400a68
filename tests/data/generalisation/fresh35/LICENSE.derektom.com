http://www.derektom.com/main/archives/000170.html @ page : NOASSERTION (short reply strings quoted as facts)
No licence text in the source; short reply strings are quoted as facts.
