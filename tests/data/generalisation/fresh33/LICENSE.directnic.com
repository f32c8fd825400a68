https://github.com/mitodl/micromasters/issues/2958 @ n/a : NOASSERTION
GitHub issue thread text (mitodl/micromasters); no licence stated for issue content. Only the quoted server reply is used.
