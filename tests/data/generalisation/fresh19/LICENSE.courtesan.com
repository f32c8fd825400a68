Source: openbsd/src (gnu/usr.sbin/sendmail/cf/cf/courtesan.mc, rev 1.15), licence: NOASSERTION
The file carries no licence header of its own; it is part of OpenBSD's sendmail tree, distributed
under the Sendmail licence (see gnu/usr.sbin/sendmail/LICENSE in openbsd/src). Only two reply
strings were taken from it.
