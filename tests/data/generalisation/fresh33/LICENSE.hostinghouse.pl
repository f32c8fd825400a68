public-file index id 37970437077 (repository not shown by find_string) @ unknown : NOASSERTION
No licence text was visible in the excerpt read; no non-commercial notice seen.
