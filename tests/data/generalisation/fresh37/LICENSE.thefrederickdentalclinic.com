code-index file id 68863488957 (repository not named by the code index) : NOASSERTION
No licence text in the source; short reply strings are quoted as facts.
