"""The doctor's numbers, as data: signal levels, counts and time ratios, each with its source.

"connectivity.md" is the project's domain notes (``../shared/domain/connectivity.md``); a section number
follows it. Times are expressed relative to the charger's own rhythm (its heartbeat interval, our ping
interval, its usual reconnect delay) wherever the physics is relative, so that a time-compressed simulator
run and a real charger get the same verdict. The few absolute numbers are radio levels (dBm) and dB steps.
"""

from __future__ import annotations

# ---------------------------------------------------------------- RSSI levels, 2.4 GHz (connectivity.md 1.5)
WEAK_DBM = -67.0  # "weak" on 2.4 GHz (Ozark SignalClassification.cs; takeaway 0.4)
VIABLE_DBM = -70.0  # "minimum viable" (ESPHome practice, FutureProofHomes/Satellite1-ESPHome#212)
CRITICAL_DBM = -75.0  # "critical"; the alarm rule: below -75 dBm sustained (1.5 "Alarm rule")
UNRELIABLE_DBM = -80.0  # "unreliable / disconnects" (MicroOcpp#337: OCPP drops after ~15 s at -80)
PLAN_DBM = -65.0  # planning target: leaves ~10 dB for shadowing plus a car before -75 (takeaway 0.4)
SUSTAINED_SAMPLES = 2  # "sustained": two reports in a row below CRITICAL_DBM (1.5 alarm rule, 5 min or more)
WEAK_SHARE = 0.5  # at least half of the reports below CRITICAL_DBM, or the median below it

# ---------------------------------------------------------------- a parked car (connectivity.md 0.3, 1.4)
# 3GPP TR 37.885 vehicle blockage: about 9 dB (sigma 4.5) with both antennas below the roofline, about 5 dB
# (sigma 4) with one above. A step of CAR_STEP_MIN_DB or more between "car parked" and "no car" reports is the
# car-shadowing signature; one under it is within the fading of a single report (shadowing sigma ~5 dB, 1.5).
CAR_STEP_MIN_DB = 4.0
CAR_STEP_MAX_DB = 25.0  # TR 38.901 in-car loss with metallized glass reaches 20 dB; beyond this it is not a car
CAR_STATUSES = frozenset({"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing", "Occupied"})

# ---------------------------------------------------------------- sticky client (connectivity.md 3 B, 1.5)
# Roaming trigger: clients keep an AP to -70 dBm and roam to one 8 dB stronger (Apple, 1.5); a sticky client
# joined the far node (go-eCharger#277: "WLAN mies -90 dBm") and stays until a reboot (go-eCharger#139).
STICKY_STEP_DB = 12.0  # a level shift this large is beyond fading (sigma ~5 dB) and a typical car (9 dB)
STICKY_MIN_SAMPLES = 2  # reports on each side of the step

# ---------------------------------------------------------------- link endings (connectivity.md 3 D, 6)
CLEAN_CODES = frozenset({1000, 1001})  # RFC 6455 normal closure / going away
NO_CLOSE_FRAME = 1006  # RFC 6455: the connection ended without a close frame
# A link is dead when the charger sent nothing for longer than it would on a live link: a live link answers
# our ping every interval ((1 + PING_SLACK) x interval covers a late pong), and without our pings it sends
# something every heartbeat interval (a Heartbeat is due after one interval of inactivity, 2.1).
PING_SLACK = 0.05
SILENT_HEARTBEATS = 1.5
KEEPALIVE_MIN_DEATHS = 2  # an idle timer repeats (lbbrhzn/ocpp#2030: ~30 reconnects an hour)
KEEPALIVE_SHARE = 0.6  # share of the ended links that died silent
HALF_OPEN_MIN_AGE_HEARTBEATS = 2.0  # without our pings: the link had worked this many heartbeats before it died

# ---------------------------------------------------------------- absence (connectivity.md 2.2, 3 C, E, G)
# How long a charger may stay away before "it is not coming back": two heartbeat intervals (the usual CSMS
# "offline" rule, 2.1) or RECONNECT_FACTOR times its usual reconnect delay (back-off, 2.2), whichever is longer.
OFFLINE_HEARTBEATS = 2.0
RECONNECT_FACTOR = 4.0
DEFAULT_HEARTBEAT_S = 300.0  # when neither we nor the charger said (a common default; EVerest uses 1800)

# ---------------------------------------------------------------- TLS (connectivity.md 2.3, 3 F)
TLS_EVENTS = frozenset({"InvalidCsmsCertificate", "InvalidTLSVersion", "InvalidTLSCipherSuite"})
CLOCK_EVENTS = frozenset({"SettingSystemTime"})  # clock jumps break certificate validation (2.3)

# ---------------------------------------------------------------- Wi-Fi join failures (connectivity.md 4.4)
# ESP32 reason codes that mean a PSK or WPA3/PMF mismatch: 15 (4WAY_HANDSHAKE_TIMEOUT), 202 AUTH_FAIL,
# 204 HANDSHAKE_TIMEOUT; and words vendors put in techInfo / info.
JOIN_FAILURE_WORDS = (
    "4way_handshake",
    "auth_fail",
    "handshake_timeout",
    "pmf",
    "sae",
    "wpa3",
    "reason 15",
    "reason 202",
    "reason 204",
)

# ---------------------------------------------------------------- server pacing (connectivity.md 3 I)
# evcc#32236: TriggerMessage every 5 s, disconnects after ~60 s; evcc#25072: our own call timeouts.
PACING_MIN_TIMEOUTS = 3  # of our calls, in the window
BURST_CALLS = 5  # this many calls of ours ...
BURST_PING_INTERVALS = 0.25  # ... within a quarter of our ping interval (or BURST_WINDOW_S without pings)
BURST_WINDOW_S = 10.0
BURST_LINK_LOSS_TIMEOUTS = 2.0  # a ping timeout / drop within this many ping timeouts after a burst

# ---------------------------------------------------------------- ranking
ALARM = 0.5  # a finding at or above this is reported as a problem (healthy comes first otherwise)
