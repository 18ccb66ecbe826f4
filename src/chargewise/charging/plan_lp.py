"""The joint plan as one LP solved by HiGHS (``highspy``), the sparse matrix built directly with numpy.

Variables: each session's amps in each slot it is present, its shortfall kWh, and (with a demand charge) the
peak kW. Rows: energy per session (delivered + shortfall = wanted), one row per linear limit and slot, the peak
rows, and tangent cuts for phasor limits. A phasor limit ``|sum a_i x_i| <= cap`` is a norm of the currents, so
the tangent at any point ``x0`` (``g_i = Re(conj(z0) a_i) / |z0|``, with ``z0 = sum a_i x0_i``) is a valid cut
``g.x <= cap``: cuts seeded at the corners of the phase groups are added before the first solve, cuts at the
violating points after each solve (warm-started), and a final exact check scales each slot back onto the
limit, so the schedule is feasible whatever the number of rounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

from chargewise.charging.plan_model import Limit, Plan, PlanRequest, summarise

CUT_ROUNDS = 4
SEED_DEGREES = 5.0  # seed cuts overshoot the disc by at most 1/cos(2.5 deg) - 1 = 0.095 %
FAR_DEGREES = 15.0  # beyond NEAR_MINUTES: inner cuts, at most 1 - cos(7.5 deg) = 0.86 % under the disc
NEAR_MINUTES = 60.0
REFINE = 1e-3  # add cuts (and re-solve) only where a limit is exceeded by more than this fraction
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True, kw_only=True)
class Layout:
    """Where each session's (slot) variables sit: column k is session ``sess[k]`` in slot ``slot[k]``."""

    sess: Ints
    slot: Ints
    n_x: int
    n_sessions: int


def layout(request: PlanRequest) -> Layout:
    n = len(request.slots)
    spans = [(max(0, s.arrival), max(max(0, s.arrival), min(n, s.departure))) for s in request.sessions]
    counts = np.array([b - a for a, b in spans], dtype=np.int64)
    sess = np.repeat(np.arange(len(spans), dtype=np.int64), counts)
    firsts = np.array([a for a, _ in spans], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]) if counts.size else np.zeros(0, dtype=np.int64)
    slot = np.arange(sess.size, dtype=np.int64) - np.repeat(offsets - firsts, counts) if sess.size else sess
    return Layout(sess=sess, slot=slot, n_x=int(sess.size), n_sessions=len(request.sessions))


def per_slot(values: float | tuple[float, ...], first: int, last: int) -> Floats:
    """A session's bound (one value, or one per slot) over its slots [first, last)."""
    if isinstance(values, float | int):
        return np.full(last - first, float(values))
    return np.asarray(values[first:last], dtype=np.float64)


def coefficient_vector(limit: Limit, request: PlanRequest) -> NDArray[np.complex128]:
    return np.array([complex(limit.coefficients.get(s.id, 0.0)) for s in request.sessions], dtype=np.complex128)


class Model:
    """The HiGHS model of one request; `solve` returns the exact-feasible schedule as an (n_x,) array."""

    def __init__(self, request: PlanRequest) -> None:
        self.request = request
        self.lay = layout(request)
        self.n = len(request.slots)
        self.hours = np.array([m / 60.0 for m in request.slots.minutes], dtype=np.float64)
        self.kpa = np.array([s.kw_per_amp for s in request.sessions], dtype=np.float64)
        self.linear = [lim for lim in request.limits if lim.linear]
        self.phasor = [lim for lim in request.limits if not lim.linear]
        self.phasor_coef = [coefficient_vector(lim, request) for lim in self.phasor]
        # sessions with the same coefficients in every phasor limit (a phase pair) share one aggregate column
        # per slot, so a cut row has one entry per group rather than one per session
        if self.phasor:
            stacked = np.round(np.array(self.phasor_coef), 9)  # (limits, sessions)
            keys = np.concatenate([stacked.real, stacked.imag]).T
            unique, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
            self.group = np.asarray(inverse, dtype=np.int64).ravel()
            self.group_coef = [c[first] for c in self.phasor_coef]
            self.n_groups = int(unique.shape[0])
        else:
            self.group = np.zeros(len(request.sessions), dtype=np.int64)
            self.group_coef = []
            self.n_groups = 0
        self.y0 = self.lay.n_x + self.lay.n_sessions + 1
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
        if self.phasor:  # many seed cuts, few binding: presolve costs more than it saves, and the primal
            # simplex takes about 40 % less time than the dual on these (bench-charging, 54-EVSE ACN)
            self.highs.setOptionValue("presolve", "off")
            self.highs.setOptionValue("simplex_strategy", 4)
        self._build()

    def _columns(self) -> tuple[Floats, Floats, Floats]:
        req, lay = self.request, self.lay
        prices = np.array(req.prices, dtype=np.float64)
        kwh = self.kpa[lay.sess] * self.hours[lay.slot]
        # earlier is better, and more so for a session that leaves sooner: on a tie the slot now goes to the
        # most urgent session (as EDF would), which keeps later capacity for arrivals the plan cannot see. (A
        # least-laxity tie-break measured the same energy over the month, 95.47 % mean on the 3-phase ACN,
        # and doubled the simplex iterations of the 1,000-EV case; bench-charging.)
        spans = [(max(0, s.arrival), max(max(0, s.arrival), min(self.n, s.departure))) for s in req.sessions]
        pieces = [
            (per_slot(s.max_amps, a, b), per_slot(s.min_amps, a, b))
            for s, (a, b) in zip(req.sessions, spans, strict=True)
        ]
        departs = np.array([min(self.n, s.departure) for s in req.sessions], dtype=np.float64)
        urgency = 2.0 - departs / max(1, self.n)
        bonus = req.early_bonus * (lay.slot + 1) / max(1, self.n) * urgency[lay.sess]
        cost = kwh * (prices[lay.slot] + bonus)
        hi = np.maximum(np.concatenate([p[0] for p in pieces]), 0.0) if lay.n_x else np.zeros(0)
        lo = np.minimum(np.concatenate([p[1] for p in pieces]), hi) if lay.n_x else np.zeros(0)
        penalty = req.shortfall_penalty()
        # a hair more per kWh for the smaller need, so an infeasible site shares the shortfall instead of
        # starving a car that needs little (the total energy delivered stays the most possible)
        wanted = np.array([max(0.0, s.energy_kwh) for s in req.sessions], dtype=np.float64)
        weights = np.array([s.weight for s in req.sessions], dtype=np.float64)
        shares = penalty * weights * (1.0 + 1e-3 / (1.0 + wanted))
        ny = self.n_groups * self.n
        cost = np.concatenate([cost, shares, [req.demand_charge], np.zeros(ny)])
        lower = np.concatenate([lo, np.zeros(lay.n_sessions), [req.prior_peak_kw], np.full(ny, -highspy.kHighsInf)])
        upper = np.concatenate([hi, np.full(lay.n_sessions + 1 + ny, highspy.kHighsInf)])
        return cost, lower, upper

    def _build(self) -> None:
        req, lay, n = self.request, self.lay, self.n
        rows: list[Ints] = []
        cols: list[Ints] = []
        vals: list[Floats] = []
        lower: list[Floats] = []
        upper: list[Floats] = []
        xcols = np.arange(lay.n_x, dtype=np.int64)
        # energy rows: delivered kWh + shortfall == wanted kWh
        rows += [lay.sess, np.arange(lay.n_sessions, dtype=np.int64)]
        cols += [xcols, lay.n_x + np.arange(lay.n_sessions, dtype=np.int64)]
        vals += [self.kpa[lay.sess] * self.hours[lay.slot], np.ones(lay.n_sessions)]
        wanted = np.array([max(0.0, s.energy_kwh) for s in req.sessions], dtype=np.float64)
        lower.append(wanted)
        upper.append(wanted)
        base = lay.n_sessions
        cost, col_lo, col_hi = self._columns()
        hi = col_hi[: lay.n_x]
        for lim in self.linear:
            coef = coefficient_vector(lim, req).real[lay.sess]
            caps = np.array(lim.caps, dtype=np.float64)
            # a slot where every session it loads at its maximum stays under the cap needs no row
            reach = np.bincount(lay.slot, weights=coef * hi, minlength=n)
            ts = np.nonzero(reach > caps + 1e-9)[0]
            where = np.full(n, -1, dtype=np.int64)
            where[ts] = np.arange(ts.size)
            mask = (coef != 0) & (where[lay.slot] >= 0)
            rows.append(base + where[lay.slot[mask]])
            cols.append(xcols[mask])
            vals.append(coef[mask])
            lower.append(np.full(ts.size, -highspy.kHighsInf))
            upper.append(caps[ts])
            base += ts.size
        slots = np.arange(n, dtype=np.int64)
        for g in range(self.n_groups):
            # group rows: sum of the group's session amps in slot t - y[g, t] == 0
            member = self.group[lay.sess] == g
            rows += [base + lay.slot[member], base + slots]
            cols += [xcols[member], self.y0 + g * n + slots]
            vals += [np.ones(int(member.sum())), -np.ones(n)]
            lower.append(np.zeros(n))
            upper.append(np.zeros(n))
            base += n
        if self.phasor:
            # the most current each group can draw in each slot: a limit its groups cannot exceed needs no cut
            ymax = np.zeros((self.n_groups, n))
            np.add.at(ymax, (self.group[lay.sess], lay.slot), hi)
        # fine cuts (outer, SEED_DEGREES) in the slots of the first NEAR_MINUTES, which are applied soon and
        # checked exactly; coarser inner cuts after that (never above a limit, at most 1 - cos(FAR_DEGREES / 2)
        # under it), which are re-planned before they are applied
        near = np.cumsum((0.0, *req.slots.minutes))[:n] < NEAR_MINUTES
        for lim, gcoef in zip(self.phasor, self.group_coef, strict=True):
            caps = np.array(lim.caps, dtype=np.float64)
            binds = np.abs(gcoef) @ ymax > caps + 1e-9
            for ts, degrees, scale in (
                (np.nonzero(binds & near)[0], SEED_DEGREES, 1.0),
                (np.nonzero(binds & ~near)[0], FAR_DEGREES, float(np.cos(np.radians(FAR_DEGREES / 2)))),
            ):
                grads = seeds(gcoef, degrees)
                cut, grp = np.nonzero(grads)
                k = np.arange(ts.size)
                rows.append((base + cut[:, None] * ts.size + k[None, :]).ravel())
                cols.append((self.y0 + grp[:, None] * n + ts[None, :]).ravel())
                vals.append(np.repeat(grads[cut, grp], ts.size))
                lower.append(np.full(grads.shape[0] * ts.size, -highspy.kHighsInf))
                upper.append(np.tile(caps[ts] * scale, grads.shape[0]))
                base += grads.shape[0] * ts.size
        if req.demand_charge > 0:
            # peak rows: site kW in slot t - peak <= 0
            rows += [base + lay.slot, base + np.arange(n, dtype=np.int64)]
            cols += [xcols, np.full(n, lay.n_x + lay.n_sessions, dtype=np.int64)]
            vals += [self.kpa[lay.sess], -np.ones(n)]
            lower.append(np.full(n, -highspy.kHighsInf))
            upper.append(np.zeros(n))
            base += n
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        order = np.argsort(c, kind="stable")
        num_col = self.y0 + self.n_groups * n
        self.col_hi = col_hi
        self.highs.passModel(
            num_col,
            base,
            int(r.size),
            1,  # column-wise
            1,  # minimise
            0.0,
            cost,
            col_lo,
            col_hi,
            np.concatenate(lower),
            np.concatenate(upper),
            np.searchsorted(c[order], np.arange(num_col)).astype(np.int32),
            r[order].astype(np.int32),
            v[order].astype(np.float64),
            np.zeros(num_col, dtype=np.int32),  # every column continuous
        )

    def _values(self) -> Floats:
        sol = np.array(self.highs.getSolution().col_value, dtype=np.float64)[: self.lay.n_x]
        return np.asarray(sol, dtype=np.float64)

    def solve(self) -> Floats:
        """Solve, add cuts where a phasor limit is exceeded, and return the exactly feasible amps."""
        self.highs.run()
        x = self._values()
        for _ in range(CUT_ROUNDS):
            if not self._add_cuts(x):
                break
            self.highs.run()
            x = self._values()
        x = np.clip(x, 0.0, self.col_hi[: self.lay.n_x])
        return self._scale_back(x)

    def _phasor_sums(self, x: Floats, coef: NDArray[np.complex128]) -> NDArray[np.complex128]:
        w = coef[self.lay.sess] * x
        re = np.bincount(self.lay.slot, weights=w.real, minlength=self.n)
        im = np.bincount(self.lay.slot, weights=w.imag, minlength=self.n)
        return np.asarray(re + 1j * im, dtype=np.complex128)

    def _add_cuts(self, x: Floats) -> bool:
        added = False
        for lim, coef, gcoef in zip(self.phasor, self.phasor_coef, self.group_coef, strict=True):
            caps = np.array(lim.caps, dtype=np.float64)
            z = self._phasor_sums(x, coef)
            over = np.nonzero(np.abs(z) > caps * (1 + REFINE) + 1e-9)[0]
            for t in over:
                g = (np.conj(z[t]) * gcoef).real / abs(z[t])
                keep = np.nonzero(g)[0]
                self.highs.addRows(
                    1,
                    np.array([-highspy.kHighsInf]),
                    np.array([caps[t]]),
                    int(keep.size),
                    np.array([0], dtype=np.int32),
                    (self.y0 + keep * self.n + t).astype(np.int32),
                    g[keep].astype(np.float64),
                )
                added = True
        return added

    def _scale_back(self, x: Floats) -> Floats:
        """Scale each slot's currents down until every phasor limit holds exactly (norms are homogeneous)."""
        factor = np.ones(self.n)
        for lim, coef in zip(self.phasor, self.phasor_coef, strict=True):
            mag = np.abs(self._phasor_sums(x, coef))
            caps = np.array(lim.caps, dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(mag > caps, caps / np.where(mag > 0, mag, 1.0) * (1 - 1e-9), 1.0)
            factor = np.minimum(factor, f)
        return np.asarray(x * factor[self.lay.slot], dtype=np.float64)


def seed_gradients(coef: NDArray[np.complex128], degrees: float = SEED_DEGREES) -> list[NDArray[np.float64]]:
    """Supporting half-planes of the disc ``|z| <= cap`` in directions spread over the cone ``z`` can reach.

    ``|z| <= cap`` holds iff ``Re(conj(u) z) <= cap`` for every unit ``u``; with x >= 0, ``z`` lies in the cone
    of the coefficients' angles, so directions every `SEED_DEGREES` across that cone (both edges included) leave
    at most ``1/cos(SEED_DEGREES/2) - 1`` (0.1 %) to the cuts added after the solve and the final scale-back.
    """
    nonzero = coef[np.abs(coef) > 0]
    if nonzero.size == 0:
        return []
    angles = np.sort(np.angle(nonzero))
    gaps = np.diff(np.concatenate([angles, [angles[0] + 2 * np.pi]]))
    widest = int(np.argmax(gaps))
    if gaps[widest] <= np.pi:  # the coefficients surround the origin: any direction may be needed
        lo, width = 0.0, 2 * np.pi
    else:  # the cone runs from the angle after the widest gap round to the one before it
        lo = float(angles[(widest + 1) % angles.size])
        width = float(2 * np.pi - gaps[widest])
    steps = max(1, int(np.ceil(np.degrees(width) / degrees)))
    directions = np.exp(1j * (lo + width * np.arange(steps + 1) / steps))
    return [np.asarray((np.conj(u) * coef).real, dtype=np.float64) for u in directions]


_SEEDS: dict[bytes, Floats] = {}


def seeds(gcoef: NDArray[np.complex128], degrees: float) -> Floats:
    """`seed_gradients` as one (directions, groups) array, remembered per coefficient vector."""
    key = np.round(gcoef, 12).tobytes() + np.float64(degrees).tobytes()
    if key not in _SEEDS:
        if len(_SEEDS) > 256:
            _SEEDS.clear()
        _SEEDS[key] = np.array(seed_gradients(gcoef, degrees), dtype=np.float64).reshape(-1, gcoef.size)
    return _SEEDS[key]


def solve(request: PlanRequest) -> Plan:
    """The optimal plan (see module doc); sessions whose energy cannot fit get a shortfall, not an error."""
    model = Model(request)
    x = model.solve() if model.lay.n_x else np.zeros(0)
    n = len(request.slots)
    amps = {s.id: [0.0] * n for s in request.sessions}
    for k, (i, t) in enumerate(zip(model.lay.sess.tolist(), model.lay.slot.tolist(), strict=True)):
        amps[request.sessions[i].id][t] = float(x[k])
    return summarise(request, amps, "lp")
