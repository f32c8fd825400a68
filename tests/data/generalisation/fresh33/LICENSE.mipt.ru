public-file index id 34905150196 (mailing-list archive message; repository not shown) @ unknown : NOASSERTION
No licence text was visible in the excerpt read; no non-commercial notice seen.
