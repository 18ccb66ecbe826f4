"""Charger simulator: firmware behaviour on the charger side of the sans-I/O OCPP core, EVs, network faults,
arrival workloads, and an asyncio runner that drives thousands of chargers against any CSMS (ADR 0003).

Pure (no I/O, time passed in): ``templates``, ``settings``, ``profiles``, ``composite``, ``ev``, ``rf``,
``faults``, ``workload``, ``outbox``, ``connector``, ``meter``, ``maintenance``, ``lifecycle``,
``security``, ``calls``, ``link``, ``station``, ``firmware`` and the per-version ``v16/dialect`` / ``v201/dialect``;
``ports`` names what the firmware needs and hands out, and what the dialects may ask of it.
Adapters: ``transport`` (WebSocket), ``files`` (HTTP uploads/downloads), ``driver`` (one charger's pump),
``runner`` (many chargers), ``cli`` (``chargewise simulate``), ``site`` (the demo) and ``loadgen``.
"""
