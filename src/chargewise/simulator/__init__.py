"""Charger simulator: firmware behaviour on the charger side of the sans-I/O OCPP core, EVs, network faults,
arrival workloads, and an asyncio runner that drives thousands of chargers against any CSMS.

Pure parts (no I/O, time passed in): templates, settings, profiles, composite, ev, rf, faults, workload,
outbox, connector, firmware and the per-version dialects. Adapters: transport (WebSocket), files (HTTP
uploads/downloads), driver (one charger's pump), runner (many chargers), cli, site (demo) and loadgen.
"""
