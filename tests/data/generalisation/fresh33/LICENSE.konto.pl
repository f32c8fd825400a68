https://support.konto.pl/kb/a2164/blad-5_1_0.aspx @ unknown : NOASSERTION
Provider help page (konto.pl knowledge base); no licence notice seen; only the short reply strings are recorded.
