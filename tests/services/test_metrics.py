"""The hot path's counters: messages by action and result, CallErrors by code, histograms as Prometheus wants."""

from __future__ import annotations

from chargewise.services.metrics import BUCKETS, Histogram, Metrics


def test_a_histogram_is_cumulative_with_inf_last() -> None:
    h = Histogram()
    for seconds in (0.0005, 0.003, 0.003, 100.0):
        h.observe(seconds)
    pairs = h.cumulative()
    assert pairs[0] == ("0.001", 1) and dict(pairs)["0.005"] == 3 and pairs[-1] == ("+Inf", 4)
    assert len(pairs) == len(BUCKETS) + 1 and abs(h.total - 100.0065) < 1e-9


def test_messages_commands_and_call_errors_are_counted() -> None:
    m = Metrics()
    m.served("Heartbeat", "ok", 0.001)
    m.served("Heartbeat", "ok", 0.002)
    m.served("StartTransaction", "SecurityError", 0.001)
    m.command_ended("W", "Reset", "timeout", None)
    m.call_error("received", "NotSupported")
    assert m.messages == {("Heartbeat", "ok"): 2, ("StartTransaction", "SecurityError"): 1}
    assert m.call_errors == {("sent", "SecurityError"): 1, ("received", "NotSupported"): 1}
    assert m.commands == {("Reset", "timeout"): 1} and m.command_latency == {}
    assert m.latency["Heartbeat"].cumulative()[-1] == ("+Inf", 2)
