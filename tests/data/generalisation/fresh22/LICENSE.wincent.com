Source: wincent/masochist (614e6c960fd8b114b1d60c550d663c354311aa5d), licence: NOASSERTION
Licence of the repository not checked (file read through the index only; snapshot too large to fetch). One short reply text quoted for a research test set.
