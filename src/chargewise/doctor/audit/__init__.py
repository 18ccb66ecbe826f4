"""The offline site audit: a site file (and the router exports and blocklists it names) in, findings out.

Pure: the caller reads the files and passes their text. Start with
:func:`chargewise.doctor.audit.site.parse_site`, read the files its ``inputs`` name, build the network with
:func:`chargewise.doctor.audit.site.build_network`, then run :func:`chargewise.doctor.audit.rules.audit`.
Facts come from ``connectivity.md`` (§0, §3 A-H, §4.1, §4.3) and the seed document, cited in each table.
"""
