apnscp KB "Understanding message failures", public-file index id 35289206652 @ unknown : NOASSERTION
No licence text was visible in the excerpt read; no non-commercial notice seen.
