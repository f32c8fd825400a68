public-file index id 13946668154 (repository not shown by find_string) @ unknown : NOASSERTION
No licence text was visible in the excerpt read; no non-commercial notice seen.
