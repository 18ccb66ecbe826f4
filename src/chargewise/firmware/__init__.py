"""Firmware artifacts and staged OTA campaigns, as pure data and functions (no I/O, time passed in).

- ``errors``: :class:`~.errors.FirmwareError`, one line naming the field and the fix;
- ``artifacts``: an image's metadata (version, vendor/model, SHA-256, size, signature);
- ``selectors``: which chargers a campaign is for (``vendor=...,model=...,firmware=...,site=...,charger=...``);
- ``amounts``: ``N`` or ``P%`` of a fleet (batch sizes, failure thresholds);
- ``window``: a local-time maintenance window (``01:00-05:00``, across midnight, in a time zone);
- ``links``: expiring per-charger download tokens (HMAC);
- ``campaign``: the campaign state machine, its rules and tables in one file;
- ``store``: the port the campaign service keeps campaigns in.
"""
