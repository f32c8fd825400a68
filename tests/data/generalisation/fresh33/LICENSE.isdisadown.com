public-file index ids 68948734668, 69112291339 (repository not shown by find_string) @ unknown : NOASSERTION
No licence text was visible in the excerpt read; no non-commercial notice seen.
