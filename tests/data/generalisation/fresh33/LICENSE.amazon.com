code index file id 55622495235 (repository not named by the index) @ unknown : NOASSERTION
