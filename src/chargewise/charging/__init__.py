"""Smart charging as pure functions: the site tree, allocation, planning, demand response and the
compilation of limits into OCPP charging profiles. No I/O and no clock reads: state and time come in."""
