"""The results table (rich) and the goals, from the results dictionary that is also saved as JSON."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

GOAL_RATIO = 10.0  # chargewise / baseline MeterValues per server CPU-second
GOAL_KIB = 20.0  # RSS per idle connection
GOAL_P99_MS = 50.0  # p99 at 80 % of peak
GOAL_IDLE = 50_000
_PAYLOADS = {
    "realistic": "with 6 sampled values (energy register, power, current L1-L3, voltage)",
    "minimal": "with the energy register only (--payload minimal)",
}


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}x"


Row = tuple[str, str, float | None, float | None, int]


def sections(results: dict[str, Any]) -> list[tuple[str, list[Row]]]:
    """(title, rows) for the main table; a row is (measure, unit, chargewise, baseline, digits)."""
    cw, bl = results.get("chargewise", {}), results.get("baseline", {})

    def pick(key: str, field: str) -> tuple[float | None, float | None]:
        return (cw.get("phases", {}).get(key, {}).get(field), bl.get("phases", {}).get(key, {}).get(field))

    out: list[tuple[str, list[Row]]] = []
    for key, label in (("metervalues", "MeterValues only"), ("mix", "Heartbeat/MeterValues 1:4")):
        full, at80 = f"{key}_full", f"{key}_80"
        out.append((f"{label} · full load (closed loop)", [
            ("messages per server CPU-second", "msg/CPU-s", *pick(full, "msgs_per_cpu_s"), 0),
            ("answered rate (the peak)", "msg/s", *pick(full, "rate"), 0),
            ("server CPU used", "cores", *pick(full, "server_cores"), 2),
            ("load generator CPU used", "cores", *pick(full, "loadgen_cores"), 2),
            ("latency p50", "ms", *pick(full, "p50_ms"), 1),
            ("latency p99", "ms", *pick(full, "p99_ms"), 1),
        ]))  # fmt: skip
        out.append((f"{label} · 80 % of its peak (open loop)", [
            ("offered rate", "msg/s", *pick(at80, "target_rate"), 0),
            ("answered rate", "msg/s", *pick(at80, "rate"), 0),
            ("messages per server CPU-second", "msg/CPU-s", *pick(at80, "msgs_per_cpu_s"), 0),
            ("latency p50", "ms", *pick(at80, "p50_ms"), 2),
            ("latency p99", "ms", *pick(at80, "p99_ms"), 2),
            ("latency p99.9", "ms", *pick(at80, "p999_ms"), 2),
            ("calls the generator sent >= 10 ms late", "%", *pick(at80, "sent_late_10ms_pct"), 2),
        ]))  # fmt: skip
    errors = [
        sum(s.get(f, 0) for s in side.get("phases", {}).values() for f in ("call_errors", "unanswered"))
        if side else None
        for side in (cw, bl)
    ]  # fmt: skip
    cw_idle, bl_idle = cw.get("idle_rss", {}), bl.get("idle_rss", {})
    out.append(("Memory and errors", [
        (f"RSS per idle connection (K={cw_idle.get('k', 0):,} / {bl_idle.get('k', 0):,})", "KiB",
         cw_idle.get("kib_per_connection"), bl_idle.get("kib_per_connection"), 2),
        ("CALLERRORs + unanswered, all phases", "calls", errors[0], errors[1], 0),
    ]))  # fmt: skip
    return out


def print_report(results: dict[str, Any], console: Console) -> None:
    m = results["machine"]
    cw, bl = results.get("chargewise", {}), results.get("baseline", {})
    console.print(
        f"[bold]chargewise benchmark[/] {results['started']}  ·  {m['cores']} cores ({m['cpu']}), "
        f"{m['memory_gib']} GiB, Python {m['python']}, Linux {m['kernel']}, open files {m['open_files_limit']:,}"
    )
    console.print(
        f"chargewise: uvloop {_yes(cw.get('uvloop'))}, SQLite WAL, strict schema validation, meter samples "
        f"written durably (group commit) before each answer.  baseline: `ocpp` {results.get('ocpp_version')} "
        f"ChargePoint + websockets {results.get('websockets_version')}, uvloop {_yes(bl.get('uvloop'))}, "
        "jsonschema validation, [bold]no database writes[/] (kept in dicts: favours the baseline).  "
        f"Load generators: picows, uvloop {_yes(cw.get('loadgen_uvloop') or bl.get('loadgen_uvloop'))}, "
        f"{results['plan']['connections']:,} chargers under load, one call in flight each, MeterValues "
        f"{_PAYLOADS[results['plan'].get('payload', 'realistic')]}; "
        f"windows of {results['plan']['seconds']:.0f} s after {results['plan']['warmup']:.0f} s warm-up."
    )
    table = Table(title="chargewise vs the ocpp-library baseline (same run)", title_justify="left")
    table.add_column("measure", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("chargewise", justify="right", no_wrap=True)
    table.add_column("baseline", justify="right", no_wrap=True)
    table.add_column("ratio cw/bl", justify="right", no_wrap=True)
    for title, rows in sections(results):
        table.add_row(f"[bold]{title}[/]", end_section=False)
        for label, unit, ours, theirs, digits in rows:
            table.add_row("  " + label, unit, _num(ours, digits), _num(theirs, digits), _x(ratio(ours, theirs)))
        table.add_section()
    console.print(table)
    idle = results.get("idle")
    if idle:
        t = Table(title=f"Idle capacity: chargewise --workers {idle['workers']}", title_justify="left")
        t.add_column("measure", no_wrap=True)
        t.add_column("value", justify="right")
        t.add_row("chargers asked for", f"{idle['requested']:,}")
        t.add_row("connected and booted (Accepted)", f"{idle['connected']:,}")
        if idle.get("skipped"):
            t.add_row(f"not tried: past the {idle['within_s']:.0f} s limit", f"{idle['skipped']:,}")
        if idle.get("failed"):
            t.add_row("failed to connect or boot", f"{idle['failed']:,}")
        t.add_row("held: answered a Heartbeat afterwards", f"{idle['held']:,}")
        t.add_row("time to connect and boot them all", f"{idle['connect_seconds']:,.0f} s")
        t.add_row("RSS, all workers (VmRSS sum)", f"{idle['rss_kib'] / 1024:,.0f} MiB")
        t.add_row("RSS per connection (after - before) / N", f"{idle['kib_per_connection']:.2f} KiB")
        t.add_row("PSS per connection (shared pages split)", f"{idle['pss_kib_per_connection']:.2f} KiB")
        console.print(t)
    sim = results.get("simulator")
    if sim and sim.get("todo"):
        console.print(f"[yellow]TODO[/] simulator cost per charger: {sim['todo']}")
    elif sim:
        t = Table(title="Charger simulator's own cost (its load-generator mode, sink CSMS)", title_justify="left")
        t.add_column("measure", no_wrap=True)
        t.add_column("value", justify="right")
        t.add_row("simulated chargers connected", f"{sim['connected']:,} of {sim['chargers']:,} ({sim['template']}, "
                  f"OCPP {sim['version']})")  # fmt: skip
        t.add_row("memory per charger (RSS)", f"{sim['rss_kib_per_charger']:.1f} KiB")
        t.add_row("CPU per charger", f"{sim['cpu_us_per_charger_second']:.2f} us per charger-second")
        if sim["frames_per_second"] >= 1:
            frames = f"{sim['frames_per_second']:,.0f}/s, {sim['cpu_us_per_frame']:.1f} us"
            t.add_row("frames, and CPU per frame", frames)
        else:
            t.add_row("frames, and CPU per frame", "n/a: the simulator counted no frames in its window")
        console.print(t)
    for line in strips(results):
        console.print(line, highlight=False, soft_wrap=True)
    console.print(goals(results))


#: the strip's glyphs and the latency (ms) each stands for, up to; the goal (50 ms) is where red starts
_LEVELS = ((5, "▁"), (10, "▂"), (20, "▃"), (35, "▄"), (50, "▅"), (100, "▆"), (200, "▇"), (float("inf"), "█"))


def strip(worst_ms: list[float]) -> str:
    """One glyph per interval for its worst latency (:data:`_LEVELS`), red from the p99 goal up; a space
    where no call was answered."""
    glyphs = []
    for ms in worst_ms:
        if ms <= 0:
            glyphs.append(" ")
            continue
        glyph = next(g for limit, g in _LEVELS if ms < limit)
        glyphs.append(f"[red]{glyph}[/]" if ms >= GOAL_P99_MS else glyph)
    return "".join(glyphs)


#: the cost strip's glyphs: the event loop's CPU per call in an interval, as a multiple of the calm intervals'
_COST_LEVELS = ((1.1, "▁"), (1.2, "▂"), (1.3, "▃"), (1.4, "▄"), (1.6, "▅"), (1.8, "▆"), (2.0, "▇"), (float("inf"), "█"))


def cost_strip(cost_us: list[float], calm_us: float | None) -> str:
    """One glyph per interval for the loop's CPU per call relative to ``calm_us`` (:data:`_COST_LEVELS`); a
    space where no call was answered or there is no calm interval to compare with."""
    glyphs = []
    for us in cost_us:
        if us <= 0 or not calm_us:
            glyphs.append(" ")
            continue
        glyphs.append(next(g for limit, g in _COST_LEVELS if us / calm_us < limit))
    return "".join(glyphs)


def strips(results: dict[str, Any]) -> list[str]:
    """Lines showing when the open-loop tail happened: the worst latency per interval of each 80 % window,
    and under it what the server's event loop did meanwhile (its CPU per call, and a summary)."""
    lines = []
    for side in ("chargewise", "baseline"):
        for key, label in (("metervalues_80", "MeterValues"), ("mix_80", "mix")):
            phase = results.get(side, {}).get("phases", {}).get(key)
            if not phase or not phase.get("worst_ms_per_strip"):
                continue
            lines.append(f"  {side:<10} {label:<11} |{strip(phase['worst_ms_per_strip'])}|")
            tvc = phase.get("tail_vs_calm")
            if tvc and phase.get("loop_us_per_call_per_strip"):
                cost = cost_strip(phase["loop_us_per_call_per_strip"], tvc["loop_us_per_call_calm"])
                lines.append(f"  {'':<10} {'CPU/call':<11} |{cost}|")
                lines.append(f"  {'':<22} {_tail_summary(tvc)}")
    if lines:
        s = results.get("chargewise", results.get("baseline", {})).get("phases", {}).get("metervalues_80", {})
        legend = "  ".join(f"{g}<{limit:g}" for limit, g in _LEVELS[:-1]) + f"  {_LEVELS[-1][1]}>=200 ms"
        cost_legend = "  ".join(f"{g}<{limit:g}x" for limit, g in _COST_LEVELS[:-1]) + f"  {_COST_LEVELS[-1][1]}>=2x"
        lines.insert(0, f"[bold]Worst latency per {s.get('strip_s', 0.25):g} s of each 80 % window[/]  ({legend})")
        lines.insert(1, f"  CPU/call: the event loop's CPU per answered call there, against the calm intervals' "
                        f"median ({cost_legend})")  # fmt: skip
    return lines


def _tail_summary(tvc: dict[str, Any]) -> str:
    if not tvc["tail_strips"]:
        return f"no interval had a call of {GOAL_P99_MS:.0f} ms or more"
    if not tvc["calm_strips"]:
        return f"every interval had a call of {GOAL_P99_MS:.0f} ms or more"
    return (
        f"{tvc['tail_strips']} intervals with a call >= {GOAL_P99_MS:.0f} ms: the loop ran "
        f"{100 * tvc['loop_busy_tail']:.0f} % of the time there ({100 * tvc['loop_busy_calm']:.0f} % elsewhere), "
        f"waited for a CPU {100 * tvc['loop_waited_tail']:.1f} % ({100 * tvc['loop_waited_calm']:.1f} %), "
        f"and spent {tvc['cost_ratio']:.2f}x the CPU per call"
    )


def goals(results: dict[str, Any]) -> str:
    cw, bl = results.get("chargewise", {}), results.get("baseline", {})
    lines = ["[bold]Goals (issue 2)[/]"]
    mv = ratio(
        cw.get("phases", {}).get("metervalues_full", {}).get("msgs_per_cpu_s"),
        bl.get("phases", {}).get("metervalues_full", {}).get("msgs_per_cpu_s"),
    )
    lines.append(_goal(mv is not None and mv >= GOAL_RATIO, f">= {GOAL_RATIO:.0f}x baseline MeterValues/CPU-s", _x(mv)))
    kib = cw.get("idle_rss", {}).get("kib_per_connection")
    lines.append(
        _goal(kib is not None and kib <= GOAL_KIB, f"<= {GOAL_KIB:.0f} KiB RSS per idle connection", _num(kib, 2))
    )
    for key in ("metervalues_80", "mix_80"):
        p99 = cw.get("phases", {}).get(key, {}).get("p99_ms")
        met = p99 is not None and p99 < GOAL_P99_MS
        lines.append(_goal(met, f"p99 < {GOAL_P99_MS:.0f} ms at 80 % of peak ({key[:-3]})", f"{_num(p99, 1)} ms"))
    idle = results.get("idle")
    if idle:
        asked = f"{idle['held']:,} of {idle['requested']:,} asked"
        if idle["requested"] < GOAL_IDLE:
            asked += f" (--idle {GOAL_IDLE} tests the goal)"
        lines.append(_goal(idle["held"] >= GOAL_IDLE, f"{GOAL_IDLE:,} idle chargers held", asked))
    return "\n".join(lines)


def _goal(met: bool, text: str, value: str) -> str:
    return f"  {'[green]met[/]    ' if met else '[red]not met[/]'} {text}: {value}"


def _yes(flag: object) -> str:
    return "yes" if flag else "no"
