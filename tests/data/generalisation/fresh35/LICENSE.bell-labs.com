https://pastebin.com/7tt2uwv0 @ page : NOASSERTION (short reply strings quoted as facts)
No licence text in the source; short reply strings are quoted as facts.
