Source: BernardQuatermass/exim-wiki (c7cdb45984d2b97682b56191f77372726830954c), licence: NOASSERTION
(Mirror of the Exim wiki; no licence file in the repository. One quoted log line taken from How-to-force-IPv4-connections-for-specific-domains-if-IPv6-is-enabled.md.)
