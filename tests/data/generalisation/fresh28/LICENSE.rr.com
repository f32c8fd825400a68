Ubuntu-style forum thread (search-index file 57164624912) and public GitHub files (search-index ids 38663200151, 57180014522); repository not shown by the tool @ unknown : NOASSERTION
Single quoted server replies (facts of what a server sent); no licence notice seen.
