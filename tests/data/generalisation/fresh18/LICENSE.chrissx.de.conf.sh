Source: chrissxMedia/chrissx.de.conf.sh (71a8ac63464a6d9f96fa49a75fb2c901cdcf6472, 820bd017678ab72c1f7023b378e95f55aa38a689), licence: NOASSERTION
No licence file found in the repository index; only short reply strings were taken.
