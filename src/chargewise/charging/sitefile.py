"""The site file (TOML, documented key by key in ``docs/sites.md``): parse and validate it into a
:class:`~chargewise.charging.site.Site` and the allocation :class:`~chargewise.charging.state.Policy`.

Call :func:`parse` with the file's text (the caller reads the file). A problem raises
:class:`~chargewise.charging.sitefile_values.SiteFileError`, one line naming the field path and the fix; things
that work but look wrong (a child limit above its parent's) come back in :attr:`SiteFile.warnings`.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chargewise.charging.site import (
    PHASES,
    UNLIMITED,
    Evse,
    LimitChange,
    Meter,
    Mode,
    Node,
    Site,
    SiteError,
    build_site,
)
from chargewise.charging.sitefile_values import (
    SiteFileError,
    choice,
    flag,
    integer,
    known_keys,
    moment,
    number,
    per_phase,
    phase,
    table,
    time_of_day,
    wiring,
)  # fmt: skip
from chargewise.charging.state import Policy, PolicyKind
from chargewise.charging.tariff import Tariff

TOP = ("site", "policy", "meter", "nodes", "chargers", "tariff", "tokens")
TARIFF_KEYS = ("file", "currency", "feed", "feed_format", "refresh_minutes")
FEED_FORMATS = ("chargewise", "market")
TOKEN_KEYS = ("mode",)
SITE_KEYS = ("name", "timezone")
POLICY_KEYS = (
    "kind",
    "margin_a",
    "ramp_a",
    "probe_a",
    "taper_gap_a",
    "rotation_s",
    "stagger",
    "solar_delay_s",
    "phase_hold_s",
)
METER_KEYS = ("node", "includes_ev")
NODE_KEYS = ("parent", "kind", "limit_a", "limit_kw", "phases", "schedule")
NODE_KINDS = ("grid", "main", "feeder", "panel", "circuit")
CHANGE_KEYS = ("at", "daily", "limit_a", "limit_kw")
CHARGER_KEYS = ("parent", "wiring", "voltage_v", "min_a", "max_a", "phases", "phase_switching", "evses",
                "priority", "mode", "limit_a")  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class TariffFeed:
    """``[tariff] feed``: a price series fetched over HTTP every ``refresh_minutes`` (``format``: ``chargewise``,
    our JSON, or ``market``, aWATTar-style market data); the tariff ``file``, when there is one, prices the
    slots the series does not cover."""

    url: str
    format: str = "chargewise"
    refresh_minutes: float = 60.0


@dataclass(frozen=True, kw_only=True, slots=True)
class SiteFile:
    """``tariff_file``: the tariff the file names (a path as written; the caller reads it, relative to the
    site file, and passes the result as ``tariff``, see ``adapters/site_files.py``). ``tokens``: the default
    mode of the sessions an id token starts (before the charger's own default)."""

    site: Site
    policy: Policy
    warnings: tuple[str, ...] = ()
    tariff_file: str | None = None
    tariff_currency: str = "EUR"
    tariff: Tariff | None = None
    tariff_feed: TariffFeed | None = None
    tokens: Mapping[str, Mode] = field(default_factory=dict)


def parse(text: str) -> SiteFile:
    """The site and policy the file describes; raises :class:`SiteFileError` (one line) when it is wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteFileError(f"not valid TOML: {exc} (see docs/sites.md for an example)") from None
    return parse_data(raw)


def parse_data(raw: Mapping[str, Any]) -> SiteFile:
    """:func:`parse` for a file already decoded (a TOML or JSON document as dicts and lists)."""
    known_keys(raw, TOP, "file")
    head = table(raw.get("site", {}), "site")
    known_keys(head, SITE_KEYS, "site")
    nodes_raw = table(raw.get("nodes", {}), "nodes")
    if not nodes_raw:
        raise SiteFileError("nodes: no nodes (add at least the main breaker: [nodes.main] limit_a = 63)")
    nodes = [_node(node_id, table(value, f"nodes.{node_id}")) for node_id, value in nodes_raw.items()]
    by_id = {n.id: n for n in nodes}
    for node in nodes:
        if node.parent is not None and node.parent not in by_id:
            raise _unknown_node(f"nodes.{node.id}.parent", node.parent, by_id)
    evses: list[Evse] = []
    for charger_id, value in table(raw.get("chargers", {}), "chargers").items():
        charger, group = _charger(charger_id, table(value, f"chargers.{charger_id}"), by_id)
        nodes.append(charger)
        evses.extend(group)
    meter = _meter(raw["meter"], by_id) if "meter" in raw else None
    try:
        site = build_site(name=str(head.get("name", "site")), nodes=nodes, evses=evses, meter=meter,
                          timezone=_zone(head.get("timezone")))  # fmt: skip
    except SiteError as exc:
        raise SiteFileError(_file_words(str(exc))) from None
    tariff = table(raw.get("tariff", {}), "tariff")
    tariff_file, currency = _tariff(tariff)
    feed = _feed(tariff)
    tokens = _tokens(raw.get("tokens", {}))
    return SiteFile(site=site, policy=_policy(raw.get("policy", {})), warnings=tuple(_warnings(site)),
                    tariff_file=tariff_file, tariff_currency=currency, tariff_feed=feed, tokens=tokens)  # fmt: skip


def _feed(values: Mapping[str, Any]) -> TariffFeed | None:
    url = values.get("feed")
    if url is None:
        for key in ("feed_format", "refresh_minutes"):
            if key in values:
                raise SiteFileError(
                    f'tariff.feed: missing for tariff.{key} (e.g. feed = "https://example.org/prices.json")'
                )
        return None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) < 10:
        raise SiteFileError(f'tariff.feed: {url!r} is not an http(s) URL (use e.g. "https://example.org/prices.json")')
    form = values.get("feed_format", "chargewise")
    if form not in FEED_FORMATS:
        raise SiteFileError(f"tariff.feed_format: {form!r} is not one of {', '.join(FEED_FORMATS)}")
    minutes = values.get("refresh_minutes", 60)
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not 1 <= minutes <= 1440:
        raise SiteFileError(f"tariff.refresh_minutes: {minutes!r} is not a number of minutes from 1 to 1440")
    return TariffFeed(url=url, format=form, refresh_minutes=float(minutes))


def _tariff(values: Mapping[str, Any]) -> tuple[str | None, str]:
    known_keys(values, TARIFF_KEYS, "tariff")
    path = values.get("file")
    if path is not None and (not isinstance(path, str) or not path.strip()):
        raise SiteFileError(f'tariff.file: {path!r} is not a file name (use e.g. "tariffs/night.toml")')
    currency = values.get("currency", "EUR")
    if not isinstance(currency, str) or not currency.strip():
        raise SiteFileError(f'tariff.currency: {currency!r} is not a currency (use e.g. "EUR")')
    if path is None and "currency" in values and "feed" not in values:
        raise SiteFileError('tariff.file: missing (the tariff file, e.g. "tariffs/night.toml", or a tariff.feed)')
    return path, currency


def _tokens(raw: Any) -> dict[str, Mode]:
    out = {}
    modes = tuple(m.value for m in Mode)
    for token, value in table(raw, "tokens").items():
        path = f"tokens.{token}"
        values = table(value, path)
        known_keys(values, TOKEN_KEYS, path)
        if "mode" not in values:
            raise SiteFileError(f"{path}.mode: missing (one of {', '.join(modes)})")
        out[token] = Mode(choice(values["mode"], f"{path}.mode", modes))
    return out


def _unknown_node(path: str, value: Any, nodes: Mapping[str, Node]) -> SiteFileError:
    close = difflib.get_close_matches(str(value), list(nodes), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(sorted(nodes))}"
    if value is None:
        return SiteFileError(f"{path}: missing (the id of the node it hangs from; {hint})")
    return SiteFileError(f"{path}: {value!r} is not a node ({hint})")


def _file_words(message: str) -> str:
    """A :class:`SiteError` in the file's terms (``nodes.x.parent``)."""
    kind, _, rest = message.partition(" ")
    if kind in ("node", "evse"):
        item, _, what = rest.partition(": ")
        if kind == "evse":
            item = item.split("/")[0]
        section = "nodes" if kind == "node" else "chargers"
        field = "parent" if "parent" in what else "wiring" if "wiring" in what else ""
        return f"{section}.{item}{'.' + field if field else ''}: {what}"
    return message


def _zone(value: Any) -> ZoneInfo | None:
    if value is None:
        return None
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise SiteFileError(f"site.timezone: {value!r} is not a time zone (use an IANA name: Europe/Berlin)") from None


def _node(node_id: str, raw: Mapping[str, Any]) -> Node:
    path = f"nodes.{node_id}"
    known_keys(raw, NODE_KEYS, path)
    if "limit_a" not in raw and "limit_kw" not in raw:
        raise SiteFileError(f"{path}: no limit (give limit_a, a current in amps, and/or limit_kw)")
    carried = _carried(raw.get("phases"), f"{path}.phases")
    limit_a = _masked(per_phase(raw["limit_a"], f"{path}.limit_a") if "limit_a" in raw else None, carried)
    limit_kw = number(raw["limit_kw"], f"{path}.limit_kw", "a power in kW") if "limit_kw" in raw else UNLIMITED
    parent = raw.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise SiteFileError(f"{path}.parent: {parent!r} is not a node id (use a name from [nodes])")
    schedule = raw.get("schedule", [])
    if not isinstance(schedule, list):
        raise SiteFileError(f"{path}.schedule: not a list (write [[{path}.schedule]] tables)")
    changes = tuple(_change(table(c, f"{path}.schedule[{i}]"), f"{path}.schedule[{i}]", carried)
                    for i, c in enumerate(schedule))  # fmt: skip
    kind = choice(raw.get("kind", "circuit"), f"{path}.kind", NODE_KINDS)
    return Node(id=node_id, parent=parent, kind=kind, limit_a=limit_a, limit_kw=limit_kw, schedule=changes)


def _carried(value: Any, path: str) -> tuple[int, ...]:
    if value is None:
        return (0, 1, 2)
    if not isinstance(value, list) or not value:
        raise SiteFileError(f'{path}: {value!r} is not a list of phases (use e.g. ["L2"])')
    return tuple(sorted({phase(v, f"{path}[{i}]") for i, v in enumerate(value)}))


def _masked(limit: tuple[float, float, float] | None, carried: tuple[int, ...]) -> tuple[float, float, float]:
    """A phase the node does not carry has limit 0 (nothing below it may draw there)."""
    base = limit if limit is not None else (UNLIMITED, UNLIMITED, UNLIMITED)
    a, b, c = (base[p] if p in carried else 0.0 for p in range(3))
    return (a, b, c)


def _change(raw: Mapping[str, Any], path: str, carried: tuple[int, ...]) -> LimitChange:
    known_keys(raw, CHANGE_KEYS, path)
    if ("at" in raw) == ("daily" in raw):
        raise SiteFileError(f'{path}: give either at (a date-time) or daily (a time of day, "17:00")')
    if "limit_a" not in raw and "limit_kw" not in raw:
        raise SiteFileError(f"{path}: no limit (give limit_a and/or limit_kw)")
    return LimitChange(
        at=moment(raw["at"], f"{path}.at") if "at" in raw else None,
        daily=time_of_day(raw["daily"], f"{path}.daily") if "daily" in raw else None,
        limit_a=_masked(per_phase(raw["limit_a"], f"{path}.limit_a"), carried) if "limit_a" in raw else None,
        limit_kw=number(raw["limit_kw"], f"{path}.limit_kw", "a power in kW") if "limit_kw" in raw else None,
    )


def _charger(charger_id: str, raw: Mapping[str, Any], nodes: Mapping[str, Node]) -> tuple[Node, list[Evse]]:
    """The charger as a node of the tree, with its EVSEs ``ID/1``, ``ID/2``... below it."""
    path = f"chargers.{charger_id}"
    known_keys(raw, CHARGER_KEYS, path)
    if charger_id in nodes:
        raise SiteFileError(f"{path}: the id is also a node (rename one of them)")
    parent = raw.get("parent")
    if not isinstance(parent, str) or parent not in nodes:
        raise _unknown_node(f"{path}.parent", parent, nodes)
    min_a = number(raw.get("min_a", 6.0), f"{path}.min_a", "a current in amps", minimum=0.0)
    max_a = number(raw.get("max_a", 32.0), f"{path}.max_a", "a current in amps")
    if max_a < min_a:
        raise SiteFileError(f"{path}.max_a: {max_a:g} is below min_a {min_a:g} (raise max_a or lower min_a)")
    phases = integer(raw.get("phases", 3), f"{path}.phases", (1, 3))
    wired = wiring(raw.get("wiring", list(PHASES)), f"{path}.wiring")
    _check_phases(path, wired, phases, charger_id, parent, nodes)
    count = integer(raw.get("evses", 1), f"{path}.evses")
    if count < 1:
        raise SiteFileError(f"{path}.evses: {count} (use 1 or more)")
    limit = per_phase(raw["limit_a"], f"{path}.limit_a") if "limit_a" in raw else (UNLIMITED,) * 3
    node = Node(id=charger_id, parent=parent, kind="charger", limit_a=(limit[0], limit[1], limit[2]))
    mode = Mode(choice(raw.get("mode", "now"), f"{path}.mode", tuple(m.value for m in Mode)))
    evses = [
        Evse(id=f"{charger_id}/{k}", parent=charger_id, charger=charger_id, wiring=wired, min_a=min_a, max_a=max_a,
             voltage_v=number(raw.get("voltage_v", 230.0), f"{path}.voltage_v", "a voltage, phase to neutral"),
             phases=phases, phase_switching=flag(raw.get("phase_switching", False), f"{path}.phase_switching"),
             priority=integer(raw.get("priority", 0), f"{path}.priority"), mode=mode)
        for k in range(1, count + 1)
    ]  # fmt: skip
    return node, evses


def _check_phases(path: str, wired: tuple[int, int, int], phases: int, charger_id: str, parent: str,
                  nodes: Mapping[str, Node]) -> None:  # fmt: skip
    """Every phase the charger uses must be carried by each node above it."""
    used = wired[:phases]
    node_id: str | None = parent
    seen: set[str] = set()
    while node_id is not None and node_id in nodes and node_id not in seen:
        seen.add(node_id)
        node = nodes[node_id]
        for p in used:
            if node.limit_a[p] == 0.0:
                raise SiteFileError(
                    f"{path}.wiring: {charger_id} draws on site {PHASES[p]}, which nodes.{node_id} does not carry "
                    "(rewire it, or set phases = 1 with wiring on a carried phase)"
                )
        node_id = node.parent


def _meter(raw: Any, nodes: Mapping[str, Node]) -> Meter:
    values = table(raw, "meter")
    known_keys(values, METER_KEYS, "meter")
    node = values.get("node")
    if not isinstance(node, str) or node not in nodes:
        raise _unknown_node("meter.node", node, nodes)
    if "includes_ev" not in values:
        raise SiteFileError("meter.includes_ev: missing (true: the reading contains the chargers; false: it does not)")
    return Meter(node=node, includes_ev=flag(values["includes_ev"], "meter.includes_ev"))


def _policy(raw: Any) -> Policy:
    values = table(raw, "policy")
    known_keys(values, POLICY_KEYS, "policy")
    base = Policy()
    kind = PolicyKind(choice(values.get("kind", base.kind.value), "policy.kind", tuple(k.value for k in PolicyKind)))
    amps = {key: number(values.get(key, getattr(base, key)), f"policy.{key}", "a current in amps", strict=False)
            for key in ("margin_a", "ramp_a", "probe_a", "taper_gap_a")}  # fmt: skip
    rotation = number(values.get("rotation_s", base.rotation_s), "policy.rotation_s", "seconds")
    if amps["ramp_a"] == 0:
        raise SiteFileError("policy.ramp_a: 0 would never let a limit rise (use a current in amps > 0)")
    stagger = flag(values.get("stagger", base.stagger), "policy.stagger")
    delay = number(values.get("solar_delay_s", base.solar_delay_s), "policy.solar_delay_s", "seconds", strict=False)
    hold = number(values.get("phase_hold_s", base.phase_hold_s), "policy.phase_hold_s", "seconds", strict=False)
    return Policy(kind=kind, rotation_s=rotation, stagger=stagger, solar_delay_s=delay, phase_hold_s=hold,
                  margin_a=amps["margin_a"], ramp_a=amps["ramp_a"], probe_a=amps["probe_a"],
                  taper_gap_a=amps["taper_gap_a"])  # fmt: skip


def _warnings(site: Site) -> list[str]:
    """Limits that cannot bind: a child's above its parent's (allowed: the parent binds)."""
    out = []
    for node in site.nodes.values():
        parent = site.nodes.get(node.parent) if node.parent is not None else None
        if parent is None or node.kind == "charger":
            continue
        section = f"nodes.{node.id}"
        for p in range(3):
            if math.isfinite(node.limit_a[p]) and node.limit_a[p] > parent.limit_a[p] > 0:
                out.append(f"{section}.limit_a: {node.limit_a[p]:g} A on {PHASES[p]} is above its parent "
                           f"nodes.{parent.id} ({parent.limit_a[p]:g} A); the parent's limit binds")  # fmt: skip
        if math.isfinite(node.limit_kw) and node.limit_kw > parent.limit_kw:
            out.append(f"{section}.limit_kw: {node.limit_kw:g} kW is above nodes.{parent.id} ({parent.limit_kw:g} kW)")
    for evse in site.evses.values():
        parent = site.nodes[site.nodes[evse.parent].parent or evse.parent]
        if evse.id.endswith("/1") and evse.max_a > min(parent.limit_a[p] for p in evse.wiring[: evse.phases]):
            out.append(f"chargers.{evse.charger}.max_a: {evse.max_a:g} A is above its parent nodes.{parent.id}; "
                       "the parent's limit binds")  # fmt: skip
    return out
