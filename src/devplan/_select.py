"""The plan objective and its two solvers: a vectorised greedy and an exact MILP.

Everything here works on a :class:`Block`: a group of people and, per person,
their candidate items (compressed: row ``i`` holds person ``i``'s candidates
in ascending catalog position, padded). :class:`~devplan.PathRecommender`
builds the blocks (filters, level fit, value weights); this module only
optimises. The objective is documented with its formulas in
``docs/recommendation.md``.

Per person, with :math:`x_j \\in \\{0, 1\\}` over the candidates,
:math:`v_{jc} = e_{jc} f_{j} d_{j}` (effect × level fit × modality factor)
and raw growth :math:`R_c = \\sum_j x_j v_{jc}`:

.. math::

    F(x) = \\sum_c \\left[a_c \\min(R_c, g_c)
           + b_c G (1 - e^{-R_c / G})\\right]
           + \\mu \\sum_k \\min(H_k, t_k H) / H

under hours, budget, prerequisites, the strength band and (optionally) a
cap on items per competency.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

#: Selection phases: critical-gap items of exception people, strength items,
#: the rest.
PHASES = ("critical", "strength", "need")
_EPS = 1e-9
#: Greedy variants: candidates ranked by value / resource**alpha.
_ALPHAS = (1.0, 0.5, 0.0)
#: Ruin-and-recreate rounds after the exchanges (the largest items first).
_REBUILDS = 3
#: Breakpoints of the piecewise-linear saturation, in units of G (the
#: interpolation error of G (1 - exp(-R/G)) is below 0.002 G up to 2 G).
_PWL_POINTS = np.concatenate([np.linspace(0.0, 2.0, 17), [2.5, 3, 4, 5, 7, 10, 15]])


@dataclass(frozen=True)
class Objective:
    """The constants of the objective and the hard rules shared by all people.

    Parameters
    ----------
    saturation : float
        ``G``: scale points of growth at which returns within a competency
        have fallen to ``1/e``.
    mix_weight : float
        ``mu``: weight of the 70-20-10 mix bonus.
    mix_targets : tuple of 3 floats
        ``t``: target shares of the person's hours (experience, exposure,
        education).
    strength_focus : float
        ``f``: target share of plan hours on strength items.
    strength_tolerance : float
        ``delta``: half-width of the strength band.
    max_items_per_competency : int or None
        Optional hard cap on the items serving one competency.
    """

    saturation: float
    mix_weight: float
    mix_targets: tuple[float, float, float]
    strength_focus: float
    strength_tolerance: float
    max_items_per_competency: int | None = None

    def band(self):
        """The strength band's bounds ``(f - delta, f + delta)``."""
        return (
            self.strength_focus - self.strength_tolerance,
            self.strength_focus + self.strength_tolerance,
        )


@dataclass
class Block:
    """People × candidates arrays of one block (n people, m candidate slots).

    Attributes
    ----------
    idx : ndarray (n, m) of int
        Catalog position of each candidate (ascending per row).
    valid : ndarray (n, m) of bool
        Real candidates (False on padding and on items whose prerequisite
        can never be met).
    sc, v : ndarray (W, n, m)
        Each candidate's competencies and growth ``v = e f d`` on them
        (``v = 0`` on padding slots).
    h, cost : ndarray (n, m)
        Hours and cost of each candidate.
    group : ndarray (n, m) of int
        70-20-10 group (0 experience, 1 exposure, 2 education).
    strong : ndarray (n, m) of bool
        Strength item for this person.
    pre : ndarray (P, n, m) of int
        Candidate positions of unmet prerequisites (-1: none).
    a, gap, b : ndarray (n, C)
        Gap weight, remaining gap and saturation weight per competency.
    critical : ndarray (n, C) of bool
        Critical competencies.
    hours, budget : ndarray (n,)
        Hours and money available.
    band, exception : ndarray (n,) of bool
        Whether the strength band applies; whether critical gaps come first.
    """

    idx: np.ndarray
    valid: np.ndarray
    sc: np.ndarray
    v: np.ndarray
    h: np.ndarray
    cost: np.ndarray
    group: np.ndarray
    strong: np.ndarray
    pre: np.ndarray
    a: np.ndarray
    gap: np.ndarray
    b: np.ndarray
    critical: np.ndarray
    hours: np.ndarray
    budget: np.ndarray
    band: np.ndarray
    exception: np.ndarray

    def take(self, rows) -> Block:
        """The sub-block of ``rows``."""
        out = {}
        for name, value in vars(self).items():
            out[name] = value[:, rows] if value.ndim == 3 else value[rows]
        return Block(**out)


def growth(blk: Block, taken: np.ndarray) -> np.ndarray:
    """Raw growth ``R`` (n, C) of the selections ``taken`` (n, m)."""
    n, n_c = blk.a.shape
    rows = np.arange(n)[:, None] * n_c
    total = np.zeros(n * n_c)
    for c, v in zip(blk.sc, blk.v, strict=True):
        total += np.bincount(
            (rows + c).ravel(), weights=(v * taken).ravel(), minlength=n * n_c
        )
    return total.reshape(n, n_c)


def _segments(g: float):
    """Intercepts and slopes of the piecewise-linear saturation's segments.

    The interpolation of the concave ``G (1 - exp(-R/G))`` at the
    breakpoints is concave, so it is the minimum of its segments' lines
    (the last one extended beyond the last breakpoint).
    """
    x = _PWL_POINTS * g
    y = g * (1 - np.exp(-_PWL_POINTS))
    slope = np.diff(y) / np.diff(x)
    return y[:-1] - slope * x[:-1], slope


def saturation(r: np.ndarray, g: float, *, pwl: bool = False) -> np.ndarray:
    """``G (1 - exp(-R/G))``, or its piecewise-linear form (``pwl=True``)."""
    if not pwl:
        return g * -np.expm1(-r / g)
    alpha, beta = _segments(g)
    lines = alpha[:, None] + beta[:, None] * np.ravel(r)[None, :]
    return lines.min(axis=0).reshape(np.shape(r))


def group_hours(blk: Block, taken: np.ndarray) -> np.ndarray:
    """Hours of the selections per 70-20-10 group, shape (n, 3)."""
    hours = np.where(taken, blk.h, 0.0)
    return np.stack([(hours * (blk.group == k)).sum(axis=1) for k in range(3)], 1)


def objective(
    blk: Block, obj: Objective, taken: np.ndarray, *, pwl: bool = False
) -> np.ndarray:
    """``F`` of the selections ``taken`` (n, m), one value per person.

    ``pwl=True`` evaluates the piecewise-linear form the exact solver
    optimises (the one optimality ratios compare).
    """
    r = growth(blk, taken)
    value = blk.a * np.minimum(r, blk.gap) + blk.b * saturation(
        r, obj.saturation, pwl=pwl
    )
    target = np.asarray(obj.mix_targets)[None, :] * blk.hours[:, None]
    bonus = np.minimum(group_hours(blk, taken), target).sum(axis=1)
    mix = np.divide(bonus, blk.hours, out=np.zeros(len(bonus)), where=blk.hours > 0)
    return value.sum(axis=1) + obj.mix_weight * mix


def _slot_take(matrix, sc):
    """``matrix[i, sc[w, i, k]]`` for every slot ``w``: shape (W, n, m)."""
    return np.stack([np.take_along_axis(matrix, c, axis=1) for c in sc])


class _Greedy:
    """State of the vectorised greedy over one block (see :func:`greedy`)."""

    #: Rounds of improving exchanges after the greedy.
    SWAP_ROUNDS = 20

    def __init__(self, blk: Block, obj: Objective, *, alpha: float = 1.0):
        self.blk, self.obj = blk, obj
        n, m = blk.h.shape
        g = obj.saturation
        self.r = np.zeros(blk.a.shape)
        self.taken = np.zeros((n, m), dtype=bool)
        # open: may still be taken (a candidate not taken nor removed)
        self.open = blk.valid.copy()
        self.when = np.full((n, m), -1, dtype=np.int64)
        self.phase = np.zeros((n, m), dtype=np.int8)
        self.gain = np.zeros((n, m))
        self.hours_left = blk.hours.astype(float)
        self.money_left = blk.budget.astype(float)
        self.group_hours = np.zeros((n, 3))
        self.s = np.zeros(n)
        self.t = np.zeros(n)
        self.pending = (blk.pre >= 0).sum(axis=0)
        self.a_slot = _slot_take(blk.a, blk.sc)
        self.b_slot = _slot_take(blk.b, blk.sc) * g
        # the saturation gain of a candidate is b G exp(-R/G) (1 - exp(-v/G))
        self.sat_slot = self.b_slot * -np.expm1(-blk.v / g)
        # resource use of each candidate, to the power alpha: 1 ranks by
        # value per resource, 0 by value alone
        self.scale = (
            blk.h / np.maximum(blk.hours, _EPS)[:, None]
            + blk.cost / np.maximum(blk.budget, _EPS)[:, None]
            + 1e-12
        ) ** alpha
        self.target = np.asarray(obj.mix_targets)[blk.group] * blk.hours[:, None]
        self.mix_unit = np.divide(
            obj.mix_weight, blk.hours, out=np.zeros(n), where=blk.hours > 0
        )
        self.cap = obj.max_items_per_competency
        self.per_comp = np.zeros(blk.a.shape, dtype=np.int64)
        self.lo, self.hi = obj.band()
        self.round = 0
        # pools of the first pass: strength and other hours of strength-led
        # people (everyone else: one pool, their hours)
        lo, hi = obj.band()
        hours = blk.hours.astype(float)
        self.pool = np.stack(
            [
                np.where(blk.band, hi * hours, hours),
                np.where(blk.band, (1 - lo) * hours, hours),
            ],
            axis=1,
        )

    # -- values ---------------------------------------------------------

    def gains(self, a):
        """Marginal gain of every candidate of the people ``a``."""
        blk, g = self.blk, self.obj.saturation
        r = self.r[a]
        rem = np.maximum(blk.gap[a] - r, 0.0)
        q = np.exp(-r / g)
        total = np.zeros((len(a), blk.h.shape[1]))
        for w in range(len(blk.sc)):
            c = blk.sc[w][a]
            total += self.a_slot[w][a] * np.minimum(
                blk.v[w][a], np.take_along_axis(rem, c, axis=1)
            )
            total += self.sat_slot[w][a] * np.take_along_axis(q, c, axis=1)
        done = np.take_along_axis(self.group_hours[a], blk.group[a], axis=1)
        room = np.clip(self.target[a] - done, 0.0, blk.h[a])
        return total + self.mix_unit[a, None] * room

    def losses(self, a):
        """What removing each taken item of the people ``a`` would cost."""
        blk, g = self.blk, self.obj.saturation
        r, gap = self.r[a], blk.gap[a]
        total = np.zeros((len(a), blk.h.shape[1]))
        for w in range(len(blk.sc)):
            c, v = blk.sc[w][a], blk.v[w][a]
            rc = np.take_along_axis(r, c, axis=1)
            gc = np.take_along_axis(gap, c, axis=1)
            total += self.a_slot[w][a] * (np.minimum(rc, gc) - np.minimum(rc - v, gc))
            total += self.b_slot[w][a] * (np.exp(-(rc - v) / g) - np.exp(-rc / g))
        done = np.take_along_axis(self.group_hours[a], blk.group[a], axis=1)
        target = self.target[a]
        mix = np.minimum(done, target) - np.minimum(done - blk.h[a], target)
        return total + self.mix_unit[a, None] * mix

    def feasible(self, a):
        """Candidates of ``a`` that fit every hard rule but the band."""
        blk = self.blk
        ok = self.open[a] & (self.pending[a] == 0)
        ok &= blk.h[a] <= self.hours_left[a, None] + _EPS
        ok &= blk.cost[a] <= self.money_left[a, None] + _EPS
        if self.cap is not None:
            counts = self.per_comp[a]
            for w in range(len(blk.sc)):
                full = np.take_along_axis(counts, blk.sc[w][a], axis=1) >= self.cap
                ok &= ~(full & (blk.v[w][a] > 0))
        return ok

    def band_ok(self, a, *, inside_only):
        """Whether adding each candidate suits the strength band.

        An item is fine when the plan stays inside the band after it, or
        (unless ``inside_only``) when it brings a plan outside the band
        closer to it; an empty plan may start with anything.
        """
        blk = self.blk
        h = blk.h[a]
        s = self.s[a, None] + h * blk.strong[a]
        t = self.t[a, None] + h
        after = _outside(s, t, self.lo, self.hi)
        ok = after <= _EPS
        if not inside_only:
            before = _outside(self.s[a], self.t[a], self.lo, self.hi)[:, None]
            ok |= (after < before - _EPS) | (self.t[a] <= _EPS)[:, None]
        else:
            ok |= (self.t[a] <= _EPS)[:, None]
        return ok | ~blk.band[a, None]

    def serves_critical(self, a):
        """Candidates that close part of an open critical gap."""
        blk = self.blk
        open_gap = blk.critical[a] & (blk.gap[a] - self.r[a] > _EPS)
        hit = np.zeros((len(a), blk.h.shape[1]), dtype=bool)
        for w in range(len(blk.sc)):
            hit |= np.take_along_axis(open_gap, blk.sc[w][a], axis=1) & (
                blk.v[w][a] > 0
            )
        return hit

    # -- moves ----------------------------------------------------------

    def step(self, a, mode):
        """Every person in ``a`` takes their best item; returns who did.

        Exception people take items that close open critical gaps first in
        every mode. ``mode`` "pool": strength-led people fill two pools,
        ``strength_focus`` of their hours with strength items and the rest
        with others; "main": anything that fits, steering to the band's
        under-full side and never moving away from the band; "keep": only
        items that keep the plan inside the band.
        """
        blk = self.blk
        gain = self.gains(a)
        feasible = self.feasible(a) & (gain > _EPS)
        strong = blk.strong[a]
        if mode == "pool":
            room = np.where(strong, self.pool[a, :1], self.pool[a, 1:])
            feasible &= blk.h[a] <= room + _EPS
        elif mode != "free":
            feasible &= self.band_ok(a, inside_only=mode == "keep")
        density = np.where(feasible, gain / self.scale[a], -np.inf)
        prefer = np.ones(density.shape, dtype=bool)
        if mode == "main":
            under = self.s[a] <= self.strength_target(a) + _EPS
            want = np.where(under[:, None], strong, ~strong)
            prefer = np.where(blk.band[a, None], want, True)
        critical = self.serves_critical(a) & blk.exception[a, None]
        first = (feasible & critical).any(axis=1)
        prefer = np.where(first[:, None], critical, prefer)
        best = np.argmax(np.where(prefer, density, -np.inf), axis=1)
        missing = ~np.isfinite(density[np.arange(len(a)), best])
        best[missing] = np.argmax(density[missing], axis=1)
        rows = np.arange(len(a))
        found = np.isfinite(density[rows, best])
        phase = np.where(
            critical[rows, best],
            0,
            np.where(strong[rows, best], 1, 2),
        )
        took, k = a[found], best[found]
        self.commit(took, k, gain[found, k], phase[found])
        if mode == "pool":
            side = np.where(blk.strong[took, k], 0, 1)
            self.pool[took, side] -= blk.h[took, k]
        return took

    def strength_target(self, a):
        return self.obj.strength_focus * self.t[a]

    def _book(self, rows, k, sign):
        blk = self.blk
        for w in range(len(blk.sc)):
            c, v = blk.sc[w][rows, k], blk.v[w][rows, k]
            self.r[rows, c] += sign * v
            self.per_comp[rows, c] += sign * (v > 0)
        h = blk.h[rows, k]
        self.hours_left[rows] -= sign * h
        self.money_left[rows] -= sign * blk.cost[rows, k]
        self.group_hours[rows, blk.group[rows, k]] += sign * h
        self.s[rows] += sign * h * blk.strong[rows, k]
        self.t[rows] += sign * h
        self.pending[rows] -= sign * (blk.pre[:, rows, :] == k[:, None]).sum(axis=0)

    def commit(self, rows, k, gain, phase):
        self.taken[rows, k] = True
        self.open[rows, k] = False
        self.when[rows, k] = self.round
        self.gain[rows, k] = gain
        self.phase[rows, k] = phase
        self._book(rows, k, 1)

    def remove(self, a):
        """Each person in ``a`` drops one item (never a prerequisite of
        another planned item): of those whose removal puts the plan inside
        the band, else of the band's over-full side, the one that costs
        least value per resource. Removed items are not taken again."""
        blk = self.blk
        taken = self.taken[a]
        needed = np.zeros(taken.shape, dtype=bool)
        for p in blk.pre[:, a]:
            rr, kk = np.nonzero(taken & (p >= 0))
            needed[rr, p[rr, kk]] = True
        over = (self.s[a] > self.hi * self.t[a] + _EPS)[:, None]
        side = np.where(over, blk.strong[a], ~blk.strong[a])
        free = taken & ~needed
        # the share each removal leaves: removals that land inside the band
        # come first, then those of the over-full side
        h = blk.h[a]
        after = _outside(
            self.s[a, None] - h * blk.strong[a], self.t[a, None] - h, self.lo, self.hi
        )
        tiers = (
            free & (after <= _EPS) & (self.t[a, None] - h > _EPS),
            free & side,
            free,
        )
        prefer = tiers[-1]
        for tier in tiers[-2::-1]:
            prefer = np.where(tier.any(axis=1)[:, None], tier, prefer)
        cost = np.where(prefer, self.losses(a) / self.scale[a], np.inf)
        k = np.argmin(cost, axis=1)
        rows = a[np.isfinite(cost[np.arange(len(a)), k])]
        k = k[np.isfinite(cost[np.arange(len(a)), k])]
        self.taken[rows, k] = False
        self.when[rows, k] = -1
        self._book(rows, k, -1)
        return rows

    def swap(self, a):
        """Each person in ``a`` makes the best improving 1-for-1 exchange.

        Every pair (taken item ``i``, open candidate ``j``) is valued
        exactly: the change of ``F`` is ``j``'s gain minus ``i``'s loss plus,
        on a competency both serve, the interaction
        ``phi(R - v_i + v_j) - phi(R - v_i) - phi(R + v_j) + phi(R)``, and
        the change of the 70-20-10 term. Pairs must keep every hard rule and
        the band. Returns who exchanged; the item given up is not taken
        again.
        """
        blk, obj = self.blk, self.obj
        g = obj.saturation
        taken = self.taken[a]
        counts = taken.sum(axis=1)
        mt = int(counts.max(initial=0))
        if not mt:
            return a[:0]
        # the taken slots of each person, padded with the first slot
        order = np.argsort(~taken, axis=1, kind="stable")[:, :mt]
        real = np.arange(mt)[None, :] < counts[:, None]
        ri = order  # (n, mt) candidate positions of taken items
        r, gap = self.r[a], blk.gap[a]
        aw, bw = blk.a[a], blk.b[a]

        def phi(c, x):
            return np.take_along_axis(aw, c, 1) * np.minimum(
                x, np.take_along_axis(gap, c, 1)
            ) + np.take_along_axis(bw, c, 1) * g * -np.expm1(-x / g)

        def lift(matrix, c):
            return np.take_along_axis(matrix, c, 1)

        n, m = taken.shape
        flat = lambda x: x.reshape(len(a), -1)  # noqa: E731
        delta = np.zeros((len(a), mt, m))
        slots_i = [
            (
                np.take_along_axis(blk.sc[w][a], ri, 1),
                np.take_along_axis(blk.v[w][a], ri, 1),
            )
            for w in range(len(blk.sc))
        ]
        slots_j = [(blk.sc[w][a], blk.v[w][a]) for w in range(len(blk.sc))]
        for ci, vi in slots_i:  # minus i's loss
            rc = lift(r, ci)
            delta -= (phi(ci, rc) - phi(ci, rc - vi))[:, :, None]
        for cj, vj in slots_j:  # plus j's gain
            rc = lift(r, cj)
            delta += (phi(cj, rc + vj) - phi(cj, rc))[:, None, :]
        for ci, vi in slots_i:  # shared competencies
            for cj, vj in slots_j:
                same = ci[:, :, None] == cj[:, None, :]
                if not same.any():
                    continue
                c = np.broadcast_to(ci[:, :, None], delta.shape)
                rc = lift(r, flat(c)).reshape(delta.shape)
                v_i = np.broadcast_to(vi[:, :, None], delta.shape)
                v_j = np.broadcast_to(vj[:, None, :], delta.shape)
                cf = flat(c)
                inter = (
                    phi(cf, flat(rc - v_i + v_j))
                    - phi(cf, flat(rc - v_i))
                    - phi(cf, flat(rc + v_j))
                    + phi(cf, flat(rc))
                ).reshape(delta.shape)
                delta += np.where(same, inter, 0.0)
        # the 70-20-10 term
        hi_, hj = np.take_along_axis(blk.h[a], ri, 1), blk.h[a]
        gi, gj = np.take_along_axis(blk.group[a], ri, 1), blk.group[a]
        done, target = self.group_hours[a], np.asarray(obj.mix_targets)
        target = target[None, :] * blk.hours[a, None]
        unit = self.mix_unit[a, None, None]
        di, ti = lift(done, gi)[:, :, None], lift(target, gi)[:, :, None]
        dj, tj = lift(done, gj)[:, None, :], lift(target, gj)[:, None, :]
        same_g = gi[:, :, None] == gj[:, None, :]
        hi3, hj3 = hi_[:, :, None], hj[:, None, :]
        mix_same = np.minimum(di - hi3 + hj3, ti) - np.minimum(di, ti)
        mix_diff = (np.minimum(di - hi3, ti) - np.minimum(di, ti)) + (
            np.minimum(dj + hj3, tj) - np.minimum(dj, tj)
        )
        delta += unit * np.where(same_g, mix_same, mix_diff)
        # hard rules
        ok = real[:, :, None] & (self.open[a] & (self.pending[a] == 0))[:, None, :]
        needed = np.zeros((len(a), m), dtype=bool)
        for p in blk.pre[:, a]:
            rr, kk = np.nonzero(taken & (p >= 0))
            needed[rr, p[rr, kk]] = True
            # j may not build on the item given up
            ok &= ~(p[:, None, :] == ri[:, :, None])
        ok &= ~np.take_along_axis(needed, ri, 1)[:, :, None]
        ok &= hj3 - hi3 <= self.hours_left[a, None, None] + _EPS
        ci_cost = np.take_along_axis(blk.cost[a], ri, 1)[:, :, None]
        ok &= blk.cost[a][:, None, :] - ci_cost <= self.money_left[a, None, None] + _EPS
        if self.cap is not None:
            for cj, vj in slots_j:
                count = lift(self.per_comp[a], cj)[:, None, :]
                for ci, vi in slots_i:
                    count = count - (
                        (ci[:, :, None] == cj[:, None, :]) & (vi[:, :, None] > 0)
                    )
                ok &= ~((vj[:, None, :] > 0) & (count >= self.cap))
        si = np.take_along_axis(blk.strong[a], ri, 1)[:, :, None]
        sj = blk.strong[a][:, None, :]
        s_new = self.s[a, None, None] - hi3 * si + hj3 * sj
        t_new = self.t[a, None, None] - hi3 + hj3
        before = _outside(self.s[a], self.t[a], self.lo, self.hi)[:, None, None]
        after = _outside(s_new, t_new, self.lo, self.hi)
        ok &= (after <= before + _EPS) | ~blk.band[a, None, None]
        delta = np.where(ok, delta, -np.inf)
        best = np.argmax(flat(delta), axis=1)
        gain = flat(delta)[np.arange(len(a)), best]
        do = gain > 1e-9
        bi, bj = np.divmod(best[do], m)
        who, k_out = a[do], ri[do, bi]
        self.taken[who, k_out] = False
        self.when[who, k_out] = -1
        self._book(who, k_out, -1)
        k_in = bj
        phase = np.where(blk.strong[who, k_in], 1, 2)
        self.commit(who, k_in, gain[do], phase)
        return who

    def outside_band(self):
        out = _outside(self.s, self.t, self.lo, self.hi) > _EPS
        return np.flatnonzero(self.blk.band & (self.t > 0) & out)

    def repair(self):
        """Drop items of the over-full side until every plan is in the band."""
        stuck = self.outside_band()
        while len(stuck) and len(self.remove(stuck)):
            stuck = self.outside_band()

    def fill(self, mode):
        active = np.flatnonzero(self.blk.valid.any(axis=1))
        while len(active):
            active = self.step(active, mode)
            self.round += 1

    def load(self, other):
        """Take over another state's selection, item by item in its order."""
        rank = np.argsort(np.argsort(np.where(other.taken, other.when, 1 << 40), 1), 1)
        for k in range(int(other.taken.sum(axis=1).max(initial=0))):
            at = other.taken & (rank == k)
            rows = np.flatnonzero(at.any(axis=1))
            cols = np.argmax(at[rows], axis=1)
            self.commit(rows, cols, other.gain[rows, cols], other.phase[rows, cols])
            self.when[rows, cols] = other.when[rows, cols]
        self.round = int(other.when.max(initial=0)) + 1
        return self

    def build(self):
        """The greedy passes: pools, steering, band repair, fill."""
        self.fill("pool")
        self.fill("main")
        self.repair()
        self.fill("keep")
        self.repair()
        return self

    def build_free(self):
        """Another start: everything that fits by value, then band repair."""
        self.fill("free")
        self.repair()
        self.fill("keep")
        self.repair()
        return self

    def improve(self):
        """Local search: improving exchanges, each followed by a fill."""
        active = np.flatnonzero(self.taken.any(axis=1))
        for _ in range(self.SWAP_ROUNDS):
            if not len(active):
                break
            active = self.swap(active)
            self.round += 1
            self.fill("keep")
        return self

    def run(self):
        return self.build().improve()

    #: Per-person state arrays (first axis: people), for copies and merges.
    _ROWS = (
        "r taken open when phase gain hours_left money_left group_hours s t "
        "pending per_comp pool"
    ).split()

    def copy(self):
        other = object.__new__(_Greedy)
        other.__dict__.update(self.__dict__)
        for name in self._ROWS:
            setattr(other, name, getattr(self, name).copy())
        return other

    def adopt(self, other, rows):
        """Take over the people ``rows`` of another state."""
        for name in self._ROWS:
            getattr(self, name)[rows] = getattr(other, name)[rows]
        self.round = max(self.round, other.round)

    def value(self):
        """``F`` of every plan, minus a large penalty outside the band."""
        lo, hi = self.obj.band()
        outside = _outside(self.s, self.t, lo, hi)
        return objective(self.blk, self.obj, self.taken) - 1e6 * np.where(
            self.blk.band, outside, 0.0
        )

    def rebuild(self, rank):
        """Ruin and recreate: every person drops their ``rank``-th largest
        item (by hours; never a prerequisite of another planned item),
        which is not taken again, and refills; the new plan is kept where it
        is worth more. Escapes what 1-for-1 exchanges cannot, such as one
        long item that several shorter ones beat."""
        blk = self.blk
        trial = self.copy()
        needed = np.zeros(self.taken.shape, dtype=bool)
        for p in blk.pre:
            rr, kk = np.nonzero(self.taken & (p >= 0))
            needed[rr, p[rr, kk]] = True
        free = self.taken & ~needed
        hours = np.where(free, blk.h, -np.inf)
        order = np.argsort(-hours, axis=1, kind="stable")
        rows = np.flatnonzero(free.sum(axis=1) > rank)
        if not len(rows):
            return rows
        k = order[rows, rank]
        trial.taken[rows, k] = False
        trial.open[rows, k] = False
        trial.when[rows, k] = -1
        trial._book(rows, k, -1)
        trial.fill("main")
        trial.repair()
        trial.fill("keep")
        trial.improve()
        better = rows[trial.value()[rows] > self.value()[rows] + 1e-9]
        self.adopt(trial, better)
        return better


def _outside(s, t, lo, hi):
    """How far the strength share ``s / t`` lies outside ``[lo, hi]`` (0 if
    inside or ``t == 0``)."""
    share = np.divide(s, t, out=np.zeros(np.broadcast(s, t).shape), where=t > 0)
    return np.where(t > 0, np.maximum(np.maximum(lo - share, share - hi), 0.0), 0.0)


def greedy(blk: Block, obj: Objective):
    """Vectorised greedy for a block: all people take one item per round.

    Items are taken by marginal gain of ``F`` per unit of resource
    (``h/H + cost/B``), ties to the lowest catalog position. Exception
    people take items that close open critical gaps first; strength-led
    people take strength items while their strength hours are below
    ``strength_focus`` × plan hours, other items otherwise (each falling
    back to the other side when one is exhausted). People left outside
    the band then take an item that brings them inside or drop the
    cheapest item of the over-full side, and a last pass adds whatever
    still fits and adds value without leaving the band.

    Returns
    -------
    taken, when, phase, gain : ndarray (n, m)
        Selection, round of selection, phase code (:data:`PHASES`) and
        marginal gain at selection.
    """
    # the greedy ranked by value per resource and by value alone (the
    # classic guard against lumpy items), the better per person improved
    states = [_Greedy(blk, obj, alpha=alpha).build() for alpha in _ALPHAS]
    states += [_Greedy(blk, obj, alpha=alpha).build_free() for alpha in _ALPHAS]
    lo, hi = obj.band()
    value = np.stack(
        [
            objective(blk, obj, st.taken)
            # a plan outside its band loses to any plan inside it
            - 1e6 * np.where(blk.band, _outside(st.s, st.t, lo, hi), 0.0)
            for st in states
        ]
    )
    best = np.argmax(value, axis=0)
    chosen = SimpleNamespace(
        **{
            name: np.choose(best[:, None], [getattr(st, name) for st in states])
            for name in ("taken", "when", "gain", "phase")
        }
    )
    state = _Greedy(blk, obj).load(chosen).improve()
    for rank in range(_REBUILDS):
        state.rebuild(rank)
    out = state.taken, state.when, state.phase, state.gain
    # where no plan inside the band was found (money or prerequisites can
    # make it impossible), the band is lifted: strengths then come first by
    # value, never an empty plan for want of a band
    lo, hi = obj.band()
    # (an empty plan inside the band counts as none found)
    off = np.flatnonzero(
        blk.band
        & (
            (_outside(state.s, state.t, lo, hi) > _EPS)
            | (~state.taken.any(axis=1) & blk.valid.any(axis=1))
        )
    )
    if len(off):
        sub = _without_band(blk, off)
        for whole, part in zip(out, greedy(sub, obj), strict=True):
            whole[off] = part
    return out


def _without_band(blk: Block, rows) -> Block:
    """The sub-block of ``rows`` with the strength band lifted."""
    sub = blk.take(rows)
    sub.band = np.zeros(len(rows), dtype=bool)
    return sub


def exact(blk: Block, obj: Objective, *, time_limit: float = 30.0) -> np.ndarray:
    """Maximise the piecewise-linear ``F`` for each person with HiGHS (MILP).

    Returns the selections (n, m). See ``docs/recommendation.md`` for the
    formulation.
    """
    taken = np.zeros(blk.h.shape, dtype=bool)
    for i in range(len(blk.h)):
        cand = np.flatnonzero(blk.valid[i])
        if len(cand):
            taken[i, cand] = _exact_one(blk, obj, i, cand, time_limit)
    # no plan inside the band exists: the band is lifted (as in the greedy)
    off = np.flatnonzero(blk.band & ~taken.any(axis=1) & blk.valid.any(axis=1))
    if len(off):
        taken[off] = exact(_without_band(blk, off), obj, time_limit=time_limit)
    return taken


def _exact_one(blk, obj, i, cand, time_limit):
    k = len(cand)
    n_c = blk.a.shape[1]
    growth_of = np.zeros((k, n_c))
    for c, v in zip(blk.sc[:, i, cand], blk.v[:, i, cand], strict=True):
        np.add.at(growth_of, (np.arange(k), c), v)
    a = blk.a[i] * (blk.gap[i] > 0)
    gap_c = np.flatnonzero((a > 0) & (growth_of > 0).any(axis=0))
    sat_c = np.flatnonzero((blk.b[i] > 0) & (growth_of > 0).any(axis=0))
    alpha, beta = _segments(obj.saturation)
    n_s = len(alpha)
    nz, ny = len(gap_c), len(sat_c)
    n_var = k + nz + ny + 3
    h, cost = blk.h[i, cand], blk.cost[i, cand]
    hours, budget = blk.hours[i], blk.budget[i]
    c_obj = np.zeros(n_var)
    c_obj[k : k + nz] = -a[gap_c]
    c_obj[k + nz : k + nz + ny] = -blk.b[i, sat_c]
    if hours > 0:
        c_obj[k + nz + ny :] = -obj.mix_weight / hours
    rows, lower, upper = [], [], []

    def row(x_coef, other=None, lo=-np.inf, hi=0.0):
        r = np.zeros(n_var)
        r[:k] = x_coef
        if other is not None:
            r[other[0]] = other[1]
        rows.append(r)
        lower.append(lo)
        upper.append(hi)

    for z, c in enumerate(gap_c):  # z_c <= R_c
        row(-growth_of[:, c], (k + z, 1.0))
    for y, c in enumerate(sat_c):  # y_c <= alpha_s + beta_s R_c
        for s in range(n_s):
            row(-beta[s] * growth_of[:, c], (k + nz + y, 1.0), hi=alpha[s])
    for g in range(3):  # m_g <= H_g
        row(-h * (blk.group[i, cand] == g), (k + nz + ny + g, 1.0))
    row(h, hi=hours)
    row(cost, hi=budget)
    if blk.band[i]:
        lo, hi = obj.band()
        strong = blk.strong[i, cand]
        row(h * (lo - strong))  # (f - delta) T <= S
        row(h * (strong - hi))  # S <= (f + delta) T
    pos = np.full(blk.h.shape[1], -1)
    pos[cand] = np.arange(k)
    for p in blk.pre[:, i, cand]:
        for j in np.flatnonzero(p >= 0):  # x_j <= x_prerequisite
            coef = np.zeros(k)
            coef[j], coef[pos[p[j]]] = 1.0, -1.0
            row(coef)
    if obj.max_items_per_competency is not None:
        for c in np.flatnonzero((growth_of > 0).any(axis=0)):
            row((growth_of[:, c] > 0).astype(float), hi=obj.max_items_per_competency)
    upper_bound = np.concatenate(
        [
            np.ones(k),
            blk.gap[i, gap_c],
            np.full(ny, np.inf),
            np.asarray(obj.mix_targets) * hours,
        ]
    )
    integrality = np.zeros(n_var)
    integrality[:k] = 1
    res = milp(
        c_obj,
        integrality=integrality,
        bounds=Bounds(np.zeros(n_var), upper_bound),
        constraints=LinearConstraint(sparse.csr_array(np.array(rows)), lower, upper),
        options={"time_limit": time_limit, "mip_rel_gap": 1e-7},
    )
    if res.x is None:
        raise RuntimeError(
            f"The exact solver found no plan for block row {i}: {res.message}"
        )
    return res.x[:k] > 0.5


def order(blk: Block, taken: np.ndarray):
    """Selection round and phase of an exact solution's items.

    Items serving an open critical gap of an exception person come first,
    then strength items, then the rest, each in catalog order (the exact
    solver has no rounds of its own).

    Returns
    -------
    when, phase : ndarray (n, m)
        Round (-1 where not taken) and phase code (:data:`PHASES`).
    """
    hit = np.zeros(blk.h.shape, dtype=bool)
    for c, v in zip(blk.sc, blk.v, strict=True):
        hit |= np.take_along_axis(blk.critical, c, axis=1) & (v > 0)
    phase = np.where(
        hit & blk.exception[:, None], 0, np.where(blk.strong, 1, 2)
    ).astype(np.int8)
    # rank within a person: phase first, then catalog position (columns
    # ascend by catalog position)
    key = np.where(taken, phase * blk.h.shape[1] + np.arange(blk.h.shape[1]), -1)
    rank = np.argsort(np.argsort(np.where(taken, key, np.iinfo(np.int64).max), 1), 1)
    return np.where(taken, rank, -1), phase


def replay(blk: Block, obj: Objective, taken: np.ndarray, when: np.ndarray):
    """Each taken item's growth value, added in the order it was taken.

    The values of a person's items add up to the growth part of ``F`` (the
    70-20-10 term left out), whatever removals happened on the way.

    Examples
    --------
    >>> import numpy as np
    >>> blk = _tiny_block()
    >>> obj = Objective(0.5, 0.0, (0.7, 0.2, 0.1), 0.7, 0.05)
    >>> taken = np.array([[True, True]])
    >>> value = replay(blk, obj, taken, np.array([[0, 1]]))
    >>> bool(np.isclose(value.sum(), objective(blk, obj, taken)[0]))
    True
    """
    growth_only = Objective(
        obj.saturation,
        0.0,
        obj.mix_targets,
        obj.strength_focus,
        obj.strength_tolerance,
        obj.max_items_per_competency,
    )
    rank = np.where(
        taken, np.argsort(np.argsort(np.where(taken, when, 1 << 40), 1), 1), -1
    )
    value = np.zeros(blk.h.shape)
    before = np.zeros(len(blk.h))
    for k in range(int(taken.sum(axis=1).max(initial=0))):
        upto = taken & (rank <= k)
        now = objective(blk, growth_only, upto)
        at = rank == k
        rows = np.flatnonzero(at.any(axis=1))
        value[rows, np.argmax(at[rows], axis=1)] = (now - before)[rows]
        before = now
    return value


def _tiny_block() -> Block:
    """One person, two candidates on one strength competency (examples)."""
    return Block(
        idx=np.array([[0, 1]]),
        valid=np.ones((1, 2), dtype=bool),
        sc=np.zeros((1, 1, 2), dtype=np.int64),
        v=np.array([[[0.3, 0.2]]]),
        h=np.array([[4.0, 6.0]]),
        cost=np.zeros((1, 2)),
        group=np.array([[0, 2]]),
        strong=np.ones((1, 2), dtype=bool),
        pre=np.full((1, 1, 2), -1),
        a=np.zeros((1, 1)),
        gap=np.zeros((1, 1)),
        b=np.array([[1.5]]),
        critical=np.zeros((1, 1), dtype=bool),
        hours=np.array([10.0]),
        budget=np.array([0.0]),
        band=np.zeros(1, dtype=bool),
        exception=np.zeros(1, dtype=bool),
    )
