code index file id 59458893267 @ unknown : NOASSERTION
Repository and licence not shown by the search tool for this file; no licence text seen.
