"""Smart charging as pure functions: site tree, allocation, planning, tariffs, demand response, profiles.

Time and state come in as data; nothing here reads a clock, opens a socket or awaits.
"""
