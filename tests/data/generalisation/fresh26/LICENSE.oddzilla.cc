Source: alexanderchernavin-cloud/oddzilla1 (8ab3c24e740ac5f6cc3b33762f942eeb47529b30), licence: NOASSERTION
No LICENSE file found at the repository root (find_files).
