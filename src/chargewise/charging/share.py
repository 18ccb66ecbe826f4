"""The sharing stages of one cycle: sessions in ``now``/``plan`` (and the minimum of ``min+solar``) group by
group, then the solar sessions on the surplus. Each group is admitted at the minimum current in rank order (who
does not fit is off, waiting its turn), then water-filled up to each session's cap (:mod:`.fill`)."""

from __future__ import annotations

from collections.abc import Mapping

from chargewise.charging.fill import EPS, fill, fits, take
from chargewise.charging.needs import Need
from chargewise.charging.problem import Problem, limit_of
from chargewise.charging.site import Mode
from chargewise.charging.solar import SurplusClock, Verdict, decide, tick
from chargewise.charging.state import Cause, EvseLimit
from chargewise.charging.transition import hold

SOLAR_ROW = "solar surplus"
SOLAR_MODES = (Mode.SOLAR, Mode.MIN_SOLAR)


class Sharing:
    """Per-session working values, indexed like ``needs``."""

    def __init__(self, problem: Problem, needs: list[Need]) -> None:
        self.problem, self.needs = problem, needs
        self.x = [0.0] * len(needs)
        self.phases = [nd.phases for nd in needs]
        self.terms: list[list[tuple[int, float]]] = [[] for _ in needs]
        self.off: dict[int, tuple[Cause, str]] = {}  # not admitted: why
        self.stopped: dict[int, int | None] = {}  # the row (or own cap: None) that stopped each
        self.held: set[int] = set()  # increases held back until others' decreases are in force
        self.clocks: dict[int, SurplusClock] = {}  # solar sessions: since when the surplus covers their minimum
        self.delayed: dict[int, Verdict] = {}  # solar sessions waiting to start, or kept on while the delay runs

    def admit(self, members: list[int], cap: list[float], extra: int | None = None) -> list[int]:
        """Raise each member to its minimum in rank order while it fits (on one phase if it can switch and three
        do not fit); the rest are off. Returns the admitted."""
        rows, admitted = self.problem.rows, []
        for i in sorted(members, key=lambda i: self.needs[i].rank):
            nd = self.needs[i]
            if cap[i] < nd.evse.min_a - EPS:
                self.off[i] = (nd.cap_cause, "")
                continue
            options = [self.phases[i]] + ([1] if nd.evse.phase_switching and self.phases[i] == 3 else [])
            if nd.stay_one_phase:
                options = [1]  # cars need a pause to switch: back to three phases only after phase_hold_s
            full = None
            for phases in options:
                terms = self.problem.terms(nd.evse, phases)
                if extra is not None:
                    terms.append((extra, nd.evse.voltage_v * phases))
                full = fits(rows, terms, nd.evse.min_a)
                if full is None:
                    self._enter(i, phases, terms)
                    admitted.append(i)
                    break
            if full is not None:
                self.off[i] = (Cause.SOLAR if rows.names[full] == SOLAR_ROW else Cause.CUTOFF, rows.names[full])
        return admitted

    def _enter(self, i: int, phases: int, terms: list[tuple[int, float]]) -> None:
        self.phases[i], self.terms[i] = phases, terms
        for row, coef in terms:
            self.problem.rows.members[row].append((i, coef))
        self.x[i] = self.needs[i].evse.min_a
        take(self.problem.rows, terms, self.x[i])

    def clock(self, members: list[int], row: int, last: Mapping[str, EvseLimit]) -> dict[int, Verdict]:
        """Tick each ``solar`` session's surplus clock (does the surplus alone cover its minimum?) and decide."""
        out = {}
        policy, now = self.problem.policy, self.problem.now
        for i in members:
            evse, prev = self.needs[i].evse, last.get(self.needs[i].evse.id)
            fewest = 1 if evse.phase_switching else self.phases[i]
            enough = self.problem.rows.slack[row] >= evse.min_a * evse.voltage_v * fewest - EPS
            self.clocks[i] = tick(prev.surplus if prev is not None else None, enough, now)
            out[i] = decide(prev is not None and prev.limit_a > 0, self.clocks[i], now, policy.solar_delay_s)
            if out[i] is not Verdict.SHARE:
                self.delayed[i] = out[i]
        return out

    def join(self, i: int, row: int) -> None:
        """An admitted session also uses ``row`` from now on (its current value already counted there)."""
        coef = self.needs[i].evse.voltage_v * self.phases[i]
        self.terms[i].append((row, coef))
        self.problem.rows.members[row].append((i, coef))

    def power(self, members: list[int]) -> float:
        return sum(self.x[i] * self.needs[i].evse.voltage_v * self.phases[i] for i in members)


def share(
    problem: Problem, needs: list[Need], last: Mapping[str, EvseLimit], house_w: float | None, fixed_w: float
) -> dict[str, EvseLimit]:
    """Limits for the sessions. ``house_w``: the meter's other load (signed W; ``None``: no surplus known);
    ``fixed_w``: what offline and idle EVSEs are counted at."""
    s = Sharing(problem, needs)
    grid = [i for i, nd in enumerate(needs) if nd.mode is not Mode.SOLAR]
    cap1 = [min(nd.cap_a, nd.evse.min_a) if nd.mode is Mode.MIN_SOLAR else nd.cap_a for nd in needs]
    for group in sorted({needs[i].group for i in grid}):
        admitted = s.admit([i for i in grid if needs[i].group == group], cap1)
        s.stopped.update(fill(problem.rows, admitted, s.terms, s.x, cap1))
    solar = [i for i, nd in enumerate(needs) if nd.mode in SOLAR_MODES and i not in s.off]
    if solar:
        surplus = 0.0 if house_w is None else -(house_w + fixed_w + s.power(list(range(len(needs)))))
        row = problem.rows.add(SOLAR_ROW, max(0.0, surplus))
        for i in solar:
            if needs[i].mode is Mode.MIN_SOLAR:
                s.join(i, row)
        cap2 = [nd.cap_a for nd in needs]
        verdicts = s.clock([i for i in solar if needs[i].mode is Mode.SOLAR], row, last)
        keep = [i for i, v in verdicts.items() if v is Verdict.KEEP]
        for i in keep:
            cap2[i] = needs[i].evse.min_a  # from the grid, while the delay runs
        admitted = [i for i in solar if needs[i].mode is Mode.MIN_SOLAR] + s.admit(keep, cap2)
        admitted += s.admit([i for i, v in verdicts.items() if v is Verdict.SHARE], cap2, row)
        s.stopped.update(fill(problem.rows, admitted, s.terms, s.x, cap2))
    held = hold(problem, needs, s.x, s.phases, last) if problem.policy.stagger else {}
    for i, row in held.items():
        s.stopped[i] = row
        s.held.add(i)
    return {nd.evse.id: _explain(s, i, last.get(nd.evse.id)) for i, nd in enumerate(needs)}


REASONS = {
    Cause.EV_MAX: "at the EVSE maximum",
    Cause.RAMP: "rising at most {ramp} A a cycle",
    Cause.UNUSED: "the car draws less than offered: what it draws plus {probe} A to show it can take more",
    Cause.PLAN: "the planner's target",
    Cause.EXTERNAL: "an external limit the charger reported (NotifyChargingLimit)",
    Cause.NODE: "{binding} is full",
    Cause.CUTOFF: "its share on {binding} is under the {min} A minimum: off, waiting its turn",
    Cause.SOLAR: "the solar surplus",
    Cause.HOLD: "rises once the decreases on {binding} are in force (next cycle)",
}


def _explain(s: Sharing, i: int, last: EvseLimit | None) -> EvseLimit:
    nd, policy = s.needs[i], s.problem.policy
    if i in s.off:
        x, (cause, binding) = 0.0, s.off[i]
    else:
        x, row = s.x[i], s.stopped.get(i)
        binding = s.problem.rows.names[row] if row is not None else ""
        cause = nd.cap_cause if row is None else (Cause.SOLAR if binding == SOLAR_ROW else Cause.NODE)
        cause = Cause.HOLD if i in s.held else cause
    minimum = f"{nd.evse.min_a:g}"
    text = REASONS[cause].format(ramp=f"{policy.ramp_a:g}", probe=f"{policy.probe_a:g}", binding=binding, min=minimum)
    if x == 0.0 and cause is Cause.SOLAR:
        text = f"the solar surplus is under the {minimum} A minimum: off"
    elif x == 0.0 and cause is Cause.HOLD:
        text = f"starts once the decreases on {binding} are in force (next cycle)"
    elif x == 0.0 and cause is not Cause.CUTOFF:
        binding, text = "", f"{text} is under the {minimum} A minimum: off"
    elif nd.mode is Mode.MIN_SOLAR and cause is Cause.SOLAR:
        text = "the minimum current plus the solar surplus"
    if i in s.delayed:
        cause, binding = Cause.SOLAR, SOLAR_ROW
        since, delay = s.clocks[i].since.isoformat(), f"{policy.solar_delay_s:g}"
        if s.delayed[i] is Verdict.WAIT and s.clocks[i].enough:
            text = f"starts once the surplus has covered its minimum for {delay} s (since {since})"
        elif s.delayed[i] is Verdict.WAIT:
            text = f"the solar surplus is under the {minimum} A minimum: off"
        elif x > 0:
            text = f"the surplus is under its minimum since {since}: kept at the minimum for up to {delay} s"
    why = f"{text} (policy {policy.kind.value}, mode {nd.mode.value})"
    return limit_of(nd.evse, x, s.phases[i], cause, binding, nd.mode, why, last, s.problem.now, nd,
                    surplus=s.clocks.get(i))  # fmt: skip
