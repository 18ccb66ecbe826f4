"""Load-generator mode, small: the measurement pipeline against the sink CSMS in this process."""

from __future__ import annotations

from picows import ws_create_server

from chargewise.simulator.loadgen import _sink_factory, measure


async def test_measure_reports_memory_and_cpu_per_charger() -> None:
    server = await ws_create_server(_sink_factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        # a window of several simulated meter intervals: a 1 s window at speed 30 could fall between two
        report = await measure(f"ws://127.0.0.1:{port}/ocpp", chargers=50, ramp_s=0.5, window_s=3.0, speed=60)
    finally:
        server.close()
        await server.wait_closed()
    assert report.connected == 50
    assert 0 <= report.rss_kib_per_charger < 500 and report.cpu_us_per_charger_second >= 0  # 50 fit in freed pages
    assert report.frames_per_second > 0 and "KiB RSS per charger" in "\n".join(report.lines())
