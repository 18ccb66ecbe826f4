"""A garage plan (TOML, meters; ``docs/doctor-rf.md``) parsed into values the RF model can price.

Call :func:`parse_plan` with the file's text; a mistake raises :class:`PlanError` whose message is one line
naming the field (``wall[2].material``) and the fix. Nothing here reads files: the CLI does.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from typing import Any

from chargewise.doctor.geometry import Box, Point, segments_cross
from chargewise.doctor.materials import (
    BANDS,
    CAR_ROOFLINE_M,
    DEFAULT_ANTENNA_GAIN_DBI,
    DEFAULT_EIRP_DBM,
    SHADOWING_SIGMA_DB,
    Band,
    MaterialError,
    PerBand,
    known_materials,
    per_band,
    suggest,
    wall_loss_db,
)

MAX_GRID_POINTS = 40_000  # about 50 x 50 m at 0.25 m; the heat map stays within seconds


class PlanError(ValueError):
    """A plan the model cannot use; the message is one line: the field, what is wrong, and the fix."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessPoint:
    name: str
    at: Point
    height_m: float
    bands: tuple[Band, ...]
    eirp_dbm: PerBand  # per band, 2.4 / 5 / 6 GHz
    mesh_node: bool = False
    floors: tuple[tuple[str, PerBand], ...] = ()  # floors between the AP and the garage: (material, loss)


@dataclass(frozen=True, kw_only=True, slots=True)
class Charger:
    name: str
    at: Point
    height_m: float
    bands: tuple[Band, ...]
    enclosure_loss_db: float = 0.0  # wall box and antenna loss (connectivity.md §1.1 suggests 3-6 dB)


@dataclass(frozen=True, kw_only=True, slots=True)
class Wall:
    name: str
    start: Point
    end: Point
    material: str
    thickness_mm: float | None
    loss_db: PerBand  # per crossing, 2.4 / 5 / 6 GHz (connectivity.md §1.3)


@dataclass(frozen=True, kw_only=True, slots=True)
class Car:
    box: Box
    roofline_m: float = CAR_ROOFLINE_M


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    name: str
    aps: tuple[AccessPoint, ...]
    charger: Charger
    walls: tuple[Wall, ...]
    car: Car | None
    bounds: Box
    grid_m: float = 0.25
    shadowing_sigma_db: float = SHADOWING_SIGMA_DB


KEYS = {
    "": {"plan", "ap", "charger", "wall", "car"},
    "plan": {"name", "grid_m", "bounds", "shadowing_sigma_db"},
    "ap": {
        "name",
        "position",
        "height_m",
        "bands",
        "eirp_dbm",
        "tx_power_dbm",
        "antenna_gain_dbi",
        "mesh_node",
        "floors",
    },
    "charger": {"name", "model", "position", "height_m", "bands", "enclosure_loss_db"},
    "wall": {"name", "from", "to", "material", "thickness_mm"},
    "car": {"from", "to", "roofline_m"},
}


def parse_plan(text: str) -> Plan:
    """The plan in ``text`` (TOML); raises :class:`PlanError` on the first mistake."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"not valid TOML: {exc}; fix the syntax at that line") from None
    _check_keys(data, "", "")
    head = _table(data, "plan", "plan", optional=True)
    if "charger" not in data:
        raise PlanError("charger: missing; add a [charger] table with position = [x, y] (meters)")
    charger = _charger(_table(data, "charger", "charger"))
    aps = tuple(_ap(t, f"ap[{i}]") for i, t in enumerate(_array(data, "ap", "[[ap]]")))
    if not aps:
        raise PlanError("ap: missing; add an [[ap]] table with position = [x, y] and bands = [2.4, 5]")
    walls = tuple(_wall(t, f"wall[{i}]") for i, t in enumerate(_array(data, "wall", "[[wall]]")))
    car = _car(_table(data, "car", "car")) if "car" in data else None
    _check_off_walls(
        walls, [("charger.position", charger.at), *((f"ap[{i}].position", a.at) for i, a in enumerate(aps))]
    )
    bounds = _bounds(head, aps, charger, walls, car)
    grid_m = _number(head.get("grid_m", 0.25), "plan.grid_m", low=0.05, high=5.0)
    points = (math.floor((bounds.x1 - bounds.x0) / grid_m) + 1) * (math.floor((bounds.y1 - bounds.y0) / grid_m) + 1)
    if points > MAX_GRID_POINTS:
        raise PlanError(f"plan.grid_m: {grid_m:g} m makes {points:,} grid points; use a coarser grid_m (e.g. 0.25)")
    sigma = _number(head.get("shadowing_sigma_db", SHADOWING_SIGMA_DB), "plan.shadowing_sigma_db", low=0, high=20)
    name = _text(head.get("name", "garage"), "plan.name")
    return Plan(
        name=name,
        aps=aps,
        charger=charger,
        walls=walls,
        car=car,
        bounds=bounds,
        grid_m=grid_m,
        shadowing_sigma_db=sigma,
    )


def _check_keys(table: dict[str, Any], kind: str, path: str) -> None:
    allowed = KEYS[kind]
    for key in table:
        if key not in allowed:
            where = f"{path}.{key}" if path else key
            hint = suggest(key, sorted(allowed)) or f"; allowed: {', '.join(sorted(allowed))}"
            raise PlanError(f"{where}: unknown key{hint}")


def _table(data: dict[str, Any], key: str, path: str, *, optional: bool = False) -> dict[str, Any]:
    value = data.get(key, {} if optional else None)
    if isinstance(value, list):
        raise PlanError(f"{path}: write one [{key}] table, not [[{key}]] (one per plan)")
    if not isinstance(value, dict):
        raise PlanError(f"{path}: expected a [{key}] table")
    _check_keys(value, key, path)
    return value


def _array(data: dict[str, Any], key: str, form: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if isinstance(value, dict):
        value = [value]  # a single [ap] table reads as one AP
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PlanError(f"{key}: expected {form} tables")
    for i, table in enumerate(value):
        _check_keys(table, key, f"{key}[{i}]")
    return value


def _number(value: Any, path: str, *, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanError(f"{path}: expected a number, got {value!r}")
    if not low <= value <= high:
        raise PlanError(f"{path}: {value:g} is out of range; use a value from {low:g} to {high:g}")
    return float(value)


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise PlanError(f"{path}: expected a string in quotes, got {value!r}")
    return value


def _point(table: dict[str, Any], key: str, path: str) -> Point:
    if key not in table:
        raise PlanError(f"{path}.{key}: missing; add {key} = [x, y] (meters)")
    value = table[key]
    if not isinstance(value, list) or len(value) != 2:
        raise PlanError(f"{path}.{key}: expected [x, y] in meters, got {value!r}")
    x, y = (_number(v, f"{path}.{key}", low=-1e4, high=1e4) for v in value)
    return Point(x=x, y=y)


def _bands(value: Any, path: str) -> tuple[Band, ...]:
    if not isinstance(value, list) or not value:
        raise PlanError(f"{path}: expected a list of bands such as [2.4, 5, 6]")
    bands: list[Band] = []
    for item in value:
        text = f"{item:g}" if isinstance(item, int | float) and not isinstance(item, bool) else str(item)
        try:
            bands.append(Band(text.removesuffix("GHz").strip()))
        except ValueError:
            raise PlanError(f"{path}: unknown band {item!r}; use 2.4, 5 or 6") from None
    return tuple(b for b in BANDS if b in bands)


def _eirp(table: dict[str, Any], path: str) -> PerBand:
    if "eirp_dbm" in table and "tx_power_dbm" in table:
        raise PlanError(f"{path}.tx_power_dbm: give eirp_dbm or tx_power_dbm (+ antenna_gain_dbi), not both")
    if "tx_power_dbm" in table:
        gain = _number(
            table.get("antenna_gain_dbi", DEFAULT_ANTENNA_GAIN_DBI), f"{path}.antenna_gain_dbi", low=-10, high=20
        )
        power = _number(table["tx_power_dbm"], f"{path}.tx_power_dbm", low=-10, high=36)
        return per_band(lambda _b: power + gain)
    value = table.get("eirp_dbm")
    if value is None:
        return per_band(DEFAULT_EIRP_DBM.__getitem__)
    if not isinstance(value, dict):
        eirp = _number(value, f"{path}.eirp_dbm", low=-10, high=40)
        return per_band(lambda _b: eirp)
    for key in value:
        if key not in {b.value for b in BANDS}:
            raise PlanError(f'{path}.eirp_dbm.{key}: unknown band; use "2.4", "5" or "6" as keys')
    return per_band(
        lambda b: _number(value.get(b.value, DEFAULT_EIRP_DBM[b]), f'{path}.eirp_dbm."{b.value}"', low=-10, high=40)
    )


def _flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise PlanError(f"{path}: expected true or false, got {value!r}")
    return value


def _ap(table: dict[str, Any], path: str) -> AccessPoint:
    floors = table.get("floors", [])
    if not isinstance(floors, list):
        raise PlanError(f'{path}.floors: expected a list of floor materials such as ["timber-floor"]')
    names = [_text(floor, f"{path}.floors[{i}]") for i, floor in enumerate(floors)]
    priced = tuple(
        (name, _price(name, None, f"{path}.floors[{i}]", f"{path}.floors[{i}]")) for i, name in enumerate(names)
    )
    return AccessPoint(
        name=_text(table.get("name", path), f"{path}.name"),
        at=_point(table, "position", path),
        height_m=_number(table.get("height_m", 1.0), f"{path}.height_m", low=0, high=30),
        bands=_bands(table.get("bands", [2.4, 5]), f"{path}.bands"),
        eirp_dbm=_eirp(table, path),
        mesh_node=_flag(table.get("mesh_node", False), f"{path}.mesh_node"),
        floors=priced,
    )


def _charger(table: dict[str, Any]) -> Charger:
    name = table.get("name", table.get("model", "charger"))
    return Charger(
        name=_text(name, "charger.name"),
        at=_point(table, "position", "charger"),
        height_m=_number(table.get("height_m", 1.2), "charger.height_m", low=0, high=10),
        bands=_bands(table.get("bands", [2.4]), "charger.bands"),
        enclosure_loss_db=_number(table.get("enclosure_loss_db", 0.0), "charger.enclosure_loss_db", low=0, high=30),
    )


def _price(material: str, thickness_mm: float | None, material_path: str, thickness_path: str) -> PerBand:
    """The material's loss per band; an unknown name is blamed on ``material_path``, a thickness that does not
    fit the material on ``thickness_path``."""
    path = material_path if material not in known_materials() else thickness_path
    try:
        return per_band(lambda b: wall_loss_db(material, b, thickness_mm))
    except MaterialError as exc:
        raise PlanError(f"{path}: {exc}") from None


def _wall(table: dict[str, Any], path: str) -> Wall:
    if "material" not in table:
        raise PlanError(f'{path}.material: missing; add material = "stud-wall" (or another known material)')
    material = _text(table["material"], f"{path}.material")
    thickness = table.get("thickness_mm")
    thickness_mm = None if thickness is None else _number(thickness, f"{path}.thickness_mm", low=1, high=2000)
    start, end = _point(table, "from", path), _point(table, "to", path)
    if start == end:
        raise PlanError(f"{path}.to: the wall has no length; give its other end")
    return Wall(
        name=_text(table.get("name", path), f"{path}.name"),
        start=start,
        end=end,
        material=material,
        thickness_mm=thickness_mm,
        loss_db=_price(material, thickness_mm, f"{path}.material", f"{path}.thickness_mm"),
    )


def _car(table: dict[str, Any]) -> Car:
    a, b = _point(table, "from", "car"), _point(table, "to", "car")
    if a.x == b.x or a.y == b.y:
        raise PlanError("car.to: give the corner opposite car.from (the car is a rectangle, e.g. 4.5 x 1.8 m)")
    box = Box(x0=min(a.x, b.x), y0=min(a.y, b.y), x1=max(a.x, b.x), y1=max(a.y, b.y))
    return Car(box=box, roofline_m=_number(table.get("roofline_m", CAR_ROOFLINE_M), "car.roofline_m", low=0.5, high=5))


def _check_off_walls(walls: tuple[Wall, ...], devices: list[tuple[str, Point]]) -> None:
    for field, at in devices:
        for i, wall in enumerate(walls):
            if segments_cross(at, at, wall.start, wall.end):
                raise PlanError(f"{field}: on the line of wall[{i}]; move it 0.1 m to the side it is mounted on")


def _bounds(
    head: dict[str, Any], aps: tuple[AccessPoint, ...], charger: Charger, walls: tuple[Wall, ...], car: Car | None
) -> Box:
    if "bounds" in head:
        value = head["bounds"]
        if not isinstance(value, list) or len(value) != 4:
            raise PlanError(f"plan.bounds: expected [x0, y0, x1, y1] in meters, got {value!r}")
        x0, y0, x1, y1 = (_number(v, "plan.bounds", low=-1e4, high=1e4) for v in value)
        if x1 <= x0 or y1 <= y0:
            raise PlanError("plan.bounds: x1 and y1 must be larger than x0 and y0")
        return Box(x0=x0, y0=y0, x1=x1, y1=y1)
    points = [a.at for a in aps] + [charger.at] + [p for w in walls for p in (w.start, w.end)]
    if car is not None:
        points += [Point(x=car.box.x0, y=car.box.y0), Point(x=car.box.x1, y=car.box.y1)]
    xs, ys = [p.x for p in points], [p.y for p in points]
    return Box(x0=min(xs) - 1.0, y0=min(ys) - 1.0, x1=max(xs) + 1.0, y1=max(ys) + 1.0)
