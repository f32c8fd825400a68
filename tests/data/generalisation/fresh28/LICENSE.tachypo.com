public GitHub file, search-index id 35633406512 (repository not shown) @ unknown : NOASSERTION
No licence notice seen.
