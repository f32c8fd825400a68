code index file id 10888418976 @ unknown : NOASSERTION
Repository and licence not shown by the search tool for this file; no licence text seen.
