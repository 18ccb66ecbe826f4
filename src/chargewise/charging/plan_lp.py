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

import itertools
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

from chargewise.charging.plan_model import Limit, Plan, PlanRequest, summarise

CUT_ROUNDS = 12
REL_TOL = 1e-7
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
    sess: list[Ints] = []
    slot: list[Ints] = []
    for i, s in enumerate(request.sessions):
        ts = np.arange(max(0, s.arrival), min(n, s.departure), dtype=np.int64)
        sess.append(np.full(ts.size, i, dtype=np.int64))
        slot.append(ts)
    cat_s = np.concatenate(sess) if sess else np.zeros(0, dtype=np.int64)
    cat_t = np.concatenate(slot) if slot else np.zeros(0, dtype=np.int64)
    return Layout(sess=cat_s, slot=cat_t, n_x=int(cat_s.size), n_sessions=len(request.sessions))


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
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
        self._build()

    def _columns(self) -> tuple[Floats, Floats, Floats]:
        req, lay = self.request, self.lay
        prices = np.array(req.prices, dtype=np.float64)
        kwh = self.kpa[lay.sess] * self.hours[lay.slot]
        bonus = req.early_bonus * (lay.slot + 1) / max(1, self.n)
        cost = kwh * (prices[lay.slot] + bonus)
        hi = np.array([req.sessions[i].max_at(int(t)) for i, t in zip(lay.sess, lay.slot, strict=True)])
        lo = np.array([req.sessions[i].min_at(int(t)) for i, t in zip(lay.sess, lay.slot, strict=True)])
        hi = np.maximum(hi.astype(np.float64), 0.0) if hi.size else np.zeros(0)
        lo = np.minimum(lo.astype(np.float64), hi) if lo.size else np.zeros(0)
        penalty = req.shortfall_penalty()
        cost = np.concatenate([cost, np.full(lay.n_sessions, penalty), [req.demand_charge]])
        lower = np.concatenate([lo, np.zeros(lay.n_sessions), [req.prior_peak_kw]])
        upper = np.concatenate([hi, np.full(lay.n_sessions, highspy.kHighsInf), [highspy.kHighsInf]])
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
        for lim in self.linear:
            coef = coefficient_vector(lim, req).real[lay.sess]
            mask = coef != 0
            rows.append(base + lay.slot[mask])
            cols.append(xcols[mask])
            vals.append(coef[mask])
            lower.append(np.full(n, -highspy.kHighsInf))
            upper.append(np.array(lim.caps, dtype=np.float64))
            base += n
        for lim, pcoef in zip(self.phasor, self.phasor_coef, strict=True):
            for grad in seed_gradients(pcoef):
                g = grad[lay.sess]
                mask = g != 0
                rows.append(base + lay.slot[mask])
                cols.append(xcols[mask])
                vals.append(g[mask])
                lower.append(np.full(n, -highspy.kHighsInf))
                upper.append(np.array(lim.caps, dtype=np.float64))
                base += n
        if req.demand_charge > 0:
            # peak rows: site kW in slot t - peak <= 0
            rows += [base + lay.slot, base + np.arange(n, dtype=np.int64)]
            cols += [xcols, np.full(n, lay.n_x + lay.n_sessions, dtype=np.int64)]
            vals += [self.kpa[lay.sess], -np.ones(n)]
            lower.append(np.full(n, -highspy.kHighsInf))
            upper.append(np.zeros(n))
            base += n
        cost, col_lo, col_hi = self._columns()
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        order = np.lexsort((r, c))
        num_col = lay.n_x + lay.n_sessions + 1
        lp = highspy.HighsLp()
        lp.num_col_ = num_col
        lp.num_row_ = base
        lp.col_cost_ = cost
        lp.col_lower_ = col_lo
        lp.col_upper_ = col_hi
        lp.row_lower_ = np.concatenate(lower)
        lp.row_upper_ = np.concatenate(upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.searchsorted(c[order], np.arange(num_col + 1)).astype(np.int32)
        lp.a_matrix_.index_ = r[order].astype(np.int32)
        lp.a_matrix_.value_ = v[order]
        self.highs.passModel(lp)

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
        hi = np.array(self.highs.getLp().col_upper_)[: self.lay.n_x]
        x = np.clip(x, 0.0, hi)
        return self._scale_back(x)

    def _phasor_sums(self, x: Floats, coef: NDArray[np.complex128]) -> NDArray[np.complex128]:
        w = coef[self.lay.sess] * x
        re = np.bincount(self.lay.slot, weights=w.real, minlength=self.n)
        im = np.bincount(self.lay.slot, weights=w.imag, minlength=self.n)
        return np.asarray(re + 1j * im, dtype=np.complex128)

    def _add_cuts(self, x: Floats) -> bool:
        added = False
        for lim, coef in zip(self.phasor, self.phasor_coef, strict=True):
            caps = np.array(lim.caps, dtype=np.float64)
            z = self._phasor_sums(x, coef)
            over = np.nonzero(np.abs(z) > caps * (1 + REL_TOL) + 1e-9)[0]
            for t in over:
                cols = np.nonzero(self.lay.slot == t)[0]
                g = (np.conj(z[t]) * coef[self.lay.sess[cols]]).real / abs(z[t])
                keep = g != 0
                self.highs.addRows(
                    1,
                    np.array([-highspy.kHighsInf]),
                    np.array([caps[t]]),
                    int(keep.sum()),
                    np.array([0], dtype=np.int32),
                    cols[keep].astype(np.int32),
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


def seed_gradients(coef: NDArray[np.complex128]) -> list[NDArray[np.float64]]:
    """Tangent directions at the corners of the phase groups (sessions with the same coefficient angle)."""
    nonzero = np.abs(coef) > 0
    angles = np.round(np.angle(coef[nonzero]), 6)
    groups = sorted(set(angles.tolist()))
    corners: list[NDArray[np.float64]] = []
    subsets = (
        [c for k in range(1, len(groups) + 1) for c in itertools.combinations(groups, k)]
        if len(groups) <= 4
        else [(g,) for g in groups] + [tuple(groups)]
    )
    full = np.angle(coef)
    for subset in subsets:
        point = np.where(nonzero & np.isin(np.round(full, 6), subset), 1.0 / np.maximum(np.abs(coef), 1e-12), 0.0)
        z = complex(np.sum(coef * point))
        if abs(z) < 1e-12:
            continue
        corners.append(np.asarray((np.conj(z) * coef).real / abs(z), dtype=np.float64))
    return corners


def solve(request: PlanRequest) -> Plan:
    """The optimal plan (see module doc); sessions whose energy cannot fit get a shortfall, not an error."""
    model = Model(request)
    x = model.solve() if model.lay.n_x else np.zeros(0)
    n = len(request.slots)
    amps = {s.id: [0.0] * n for s in request.sessions}
    for k, (i, t) in enumerate(zip(model.lay.sess.tolist(), model.lay.slot.tolist(), strict=True)):
        amps[request.sessions[i].id][t] = float(x[k])
    return summarise(request, amps, "lp")
