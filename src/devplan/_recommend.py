"""Strength-focused à-la-carte learning paths: candidate benefit and selection.

For every person the recommender scores every catalog item by its expected
benefit (effect on the competencies it targets × the person's need, strength
and track weights × level fit), filters what the person cannot take
(language, modality, track, level, prerequisites, completed before, hours,
money) and selects a set in three pools:

1. critical gaps first, each only up to its required level;
2. of the hours left, ``strength_focus`` to leveraging signature strengths;
3. the rest to important gaps and the track's core content.

Selection is a greedy on benefit per unit of resource, run for all people
of a chunk at once (one vectorised round picks at most one item per pool for
every person). Data flow: profiles + tracks + employees + catalog → selected
items and unmet needs (DataFrames); scheduling happens downstream.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from devplan._schema import IMPORTANCES, ITEM_LEVELS, KIND_GROUP, TRACKS

GROUPS = ("experience", "exposure", "education")
PURPOSES = ("leverage_strength", "develop_need", "track_core")
#: Default expected gain (scale points) of completing an item, by kind.
KIND_EFFECT = {
    "stretch_assignment": 0.35,
    "coaching": 0.30,
    "practice": 0.25,
    "mentoring": 0.25,
    "workshop": 0.20,
    "peer_group": 0.20,
    "course": 0.15,
    "elearning": 0.08,
    "reading": 0.05,
}
#: Multiplier of the effect by item level.
LEVEL_EFFECT = {"foundation": 0.8, "intermediate": 1.0, "advanced": 1.2}
#: Level fit: rows the person's level in the competency (low, mid, high),
#: columns the item level (foundation, intermediate, advanced).
LEVEL_FIT = np.array(
    [
        [1.0, 0.7, 0.0],
        [0.4, 1.0, 0.6],
        [0.0, 0.4, 1.0],
    ]
)
_SENIOR = ("senior", "executive")
_NEED_WEIGHT = {"critical": 1.0, "important": 0.6, "useful": 0.0}


class PathRecommender(BaseEstimator):
    """Choose each person's learning items under their constraints.

    Parameters
    ----------
    strength_focus : float, default=0.7
        Share of the hours left after critical gaps that goes to leveraging
        signature strengths.
    talent_multiplier : float, default=1.5
        Value of a unit of growth in a signature strength relative to a unit
        of gap closed ("talent × effort").
    track_weight : float, default=0.5
        Value of a unit of growth in a competency of the person's track core.
    max_items_per_competency : int, default=2
        Diversity: at most this many items serve one competency.
    mix_targets : tuple of 3 floats, default=(0.7, 0.2, 0.1)
        Target shares of plan hours for experience, exposure and education.
    mix_tolerance : float, default=0.15
        70-20-10 as a constraint on learning time: the hours a plan gives a
        group never exceed (target + tolerance) × the person's learning hours
        over the horizon (so at most 25% of someone's learning time goes to
        education by default). The realised shares of plan hours are
        reported per plan.
    level_bounds : tuple of 2 floats, default=(2.5, 3.75)
        Scores below the first are "low", from the second "high", for level
        fit.
    chunk_size : int, default=4096
        People scored at once (memory is chunk × catalog).

    Attributes
    ----------
    items_ : DataFrame
        The catalog as fitted (index item position).
    competencies_ : Index
        Competencies of the effect matrix.
    effects_ : ndarray of shape (n_items, n_competencies)
        Expected gain of each item on each competency.

    Notes
    -----
    The benefit of item :math:`j` for person :math:`p` is
    :math:`f_{pj} \\sum_c [\\min(e_{jc}, r_{pc}) n_{pc} + e_{jc} (\\lambda
    s_{pc} + \\tau t_{pc})]` with effects :math:`e`, remaining gaps
    :math:`r`, need weights :math:`n` (critical 1, important 0.6), strength
    flags :math:`s`, track weights :math:`t` and level fit :math:`f`. Items
    are taken greedily by benefit per unit of resource
    (:math:`h_j/H_p + c_j/B_p`, hours and money as shares of what the person
    has). For a single resource this greedy, compared with the best single
    item, is within a factor 2 of the optimum (the classic knapsack bound);
    with two resources and the side constraints it is a heuristic, and the
    tests compare it against random and gap-only plans.
    """

    def __init__(
        self,
        *,
        strength_focus: float = 0.7,
        talent_multiplier: float = 1.5,
        track_weight: float = 0.5,
        max_items_per_competency: int = 2,
        mix_targets=(0.7, 0.2, 0.1),
        mix_tolerance: float = 0.15,
        level_bounds=(2.5, 3.75),
        chunk_size: int = 4096,
    ):
        self.strength_focus = strength_focus
        self.talent_multiplier = talent_multiplier
        self.track_weight = track_weight
        self.max_items_per_competency = max_items_per_competency
        self.mix_targets = mix_targets
        self.mix_tolerance = mix_tolerance
        self.level_bounds = level_bounds
        self.chunk_size = chunk_size

    def _check_params(self):
        if not 0 <= self.strength_focus <= 1:
            raise ValueError(
                f"Got strength_focus={self.strength_focus!r}; expected a number "
                "between 0 and 1."
            )
        if len(tuple(self.mix_targets)) != 3 or not np.isclose(
            sum(self.mix_targets), 1.0
        ):
            raise ValueError(
                f"Got mix_targets={self.mix_targets!r}; expected three shares "
                "(experience, exposure, education) that add up to 1."
            )
        if not 0 <= self.mix_tolerance <= 1:
            raise ValueError(
                f"Got mix_tolerance={self.mix_tolerance!r}; expected a number "
                "between 0 and 1."
            )
        if (
            not isinstance(self.max_items_per_competency, int | np.integer)
            or self.max_items_per_competency < 1
        ):
            raise ValueError(
                f"Got max_items_per_competency={self.max_items_per_competency!r}; "
                "expected an integer >= 1."
            )

    @classmethod
    def from_config(cls, config, **overrides) -> PathRecommender:
        """A recommender with the plan settings of a :class:`Config`."""
        p = config.plan
        params = {
            "strength_focus": p.strength_focus,
            "max_items_per_competency": p.max_items_per_competency,
            "mix_targets": tuple(p.mix_targets),
            "mix_tolerance": p.mix_tolerance,
        }
        params.update(overrides)
        return cls(**params)

    def fit(self, catalog: pd.DataFrame, *, competencies=None, item_effects=None):
        """Learn the catalog: item attributes and the item × competency effects.

        Parameters
        ----------
        catalog : DataFrame
            A validated ``catalog`` table.
        competencies : array-like of str or None, default=None
            Competency ids (columns of the effect matrix); default: those the
            catalog names.
        item_effects : DataFrame or None, default=None
            ``item_id, competency_id, effect``: known effects (for example
            learned from outcomes) that replace the defaults for those pairs.

        Returns
        -------
        self : PathRecommender
        """
        from devplan._validate import catalog_links

        self._check_params()
        cat = catalog.reset_index(drop=True)
        links = catalog_links(cat)
        if competencies is None:
            competencies = pd.unique(links["competency_id"])
        self.competencies_ = pd.Index(competencies, dtype="str")
        kind = cat["kind"].astype(str)
        level = cat["level"].astype(str)
        base = kind.map(KIND_EFFECT).to_numpy() * level.map(LEVEL_EFFECT).to_numpy()
        j = pd.Index(cat["item_id"].astype(str)).get_indexer(links["item_id"])
        c = self.competencies_.get_indexer(links["competency_id"])
        ok = (j >= 0) & (c >= 0)
        effects = np.zeros((len(cat), len(self.competencies_)))
        effects[j[ok], c[ok]] = links["weight"].to_numpy()[ok] * base[j[ok]]
        if item_effects is not None and len(item_effects):
            jj = pd.Index(cat["item_id"].astype(str)).get_indexer(
                item_effects["item_id"].astype(str)
            )
            cc = self.competencies_.get_indexer(
                item_effects["competency_id"].astype(str)
            )
            known = (jj >= 0) & (cc >= 0)
            effects[jj[known], cc[known]] = item_effects["effect"].to_numpy()[known]
        self.effects_ = effects
        self.items_ = pd.DataFrame(
            {
                "item_id": cat["item_id"].astype(str),
                "title": cat["title"].astype(str),
                "kind": kind,
                "group": kind.map(KIND_GROUP),
                "level": level,
                "hours": cat["hours"].astype(float),
                "cost": cat["cost"].fillna(0.0).astype(float),
                "modality": cat["modality"].astype(str),
                "language": cat["language"].astype(object),
                "tracks": cat["tracks"].astype(object),
                "prerequisites": cat["prerequisites"].astype(object),
            }
        )
        # primary competency: the one with the largest effect
        self.primary_ = np.where(effects.max(axis=1) > 0, effects.argmax(axis=1), -1)
        self._prereq_pairs = _prerequisite_pairs(self.items_)
        self.slots_ = _slots(effects)
        return self

    # ------------------------------------------------------------------

    def recommend(
        self,
        profiles: pd.DataFrame,
        tracks: pd.DataFrame,
        employees: pd.DataFrame,
        *,
        enrolments: pd.DataFrame | None = None,
        track_content: pd.DataFrame | None = None,
        horizon_months: int = 12,
        role_levels: pd.Series | None = None,
    ):
        """Select the items of every person's plan.

        Parameters
        ----------
        profiles : DataFrame
            The ``profiles`` table (scored).
        tracks : DataFrame
            The ``tracks`` table (``employee_id, track``).
        employees : DataFrame
            Validated employees: language, modality preference, learning
            hours per month and budget.
        enrolments : DataFrame or None, default=None
            History; completed items are not repeated and count as met
            prerequisites.
        track_content : DataFrame or None, default=None
            ``track, competency_id, weight``: each track's core.
        horizon_months : int, default=12
            Plan length; hours available = hours per month × horizon.
        role_levels : Series or None, default=None
            Role level per employee_id, for level fit of senior people.

        Returns
        -------
        selected : DataFrame
            One row per person × item: ``employee_id, item_id, title, kind,
            group, level, purpose, competency_id, hours, cost, benefit,
            phase, prerequisites, priority``.
        unmet : DataFrame
            ``employee_id, competency_id, importance, gap, reason`` for
            critical and important needs that no selected item serves.
        """
        check_is_fitted(self, "effects_")
        people = pd.Index(tracks["employee_id"].astype(str))
        state = _person_state(
            self, people, profiles, tracks, employees, track_content, role_levels
        )
        hours = state["hours_per_month"] * horizon_months
        budget = state["budget"]
        allowed = self._allowed(state, enrolments, people)
        selected_parts, unmet_parts = [], []
        for start in range(0, len(people), int(self.chunk_size)):
            stop = min(start + int(self.chunk_size), len(people))
            sel, unmet = self._select_chunk(
                state, allowed, hours, budget, start, stop, people
            )
            selected_parts.append(sel)
            unmet_parts.append(unmet)
        selected = pd.concat(selected_parts, ignore_index=True)
        unmet = pd.concat(unmet_parts, ignore_index=True)
        return selected, unmet

    def _allowed(self, state, enrolments, people):
        """Boolean person × item matrix of what each person may take."""
        items = self.items_
        n_p, n_j = len(people), len(items)
        lang = items["language"].fillna("").astype(str).to_numpy()
        person_lang = state["language"]
        ok = (lang[None, :] == "") | (lang[None, :] == person_lang[:, None])
        ok |= (person_lang == "")[:, None]
        modality = items["modality"].to_numpy()
        pref = state["modality_preference"]
        # "any" and "blended" people take every modality; others only theirs
        ok &= np.isin(pref, ("any", "blended"))[:, None] | (
            modality[None, :] == pref[:, None]
        )
        # track suitability
        track_sets = items["tracks"].fillna("").astype(str).to_numpy()
        person_track = state["track"]
        for t in TRACKS:
            suits = np.array([(not s) or (t in s.split(";")) for s in track_sets])
            ok[person_track == t] &= suits[None, :]
        # completed before
        completed = np.zeros((n_p, n_j), dtype=bool)
        if enrolments is not None and len(enrolments):
            done = enrolments[enrolments["status"].astype(str) == "completed"]
            p = people.get_indexer(done["employee_id"].astype(str))
            j = pd.Index(items["item_id"]).get_indexer(done["item_id"].astype(str))
            keep = (p >= 0) & (j >= 0)
            completed[p[keep], j[keep]] = True
        ok &= ~completed
        ok &= (self.primary_ >= 0)[None, :]
        return {"ok": ok, "completed": completed}

    def _select_chunk(self, state, allowed, hours, budget, start, stop, people):
        sl = slice(start, stop)
        n = stop - start
        n_j = len(self.items_)
        eff = self.effects_
        h = self.items_["hours"].to_numpy()
        cost = self.items_["cost"].to_numpy()
        group = pd.Index(GROUPS).get_indexer(self.items_["group"])
        level = pd.Index(ITEM_LEVELS).get_indexer(self.items_["level"])
        prim = np.maximum(self.primary_, 0)
        slot_c, slot_e = self.slots_
        score = state["score"][sl]
        remaining = state["need_gap"][sl].copy()
        need_w = state["need_weight"][sl]
        critical_w = need_w * state["critical"][sl]
        strength = state["strength"][sl]
        track_w = state["track_weight"][sl]
        # level fit of each item for each person, via the item's primary
        lo, hi = self.level_bounds
        person_level = score[:, prim]
        bucket = np.where(person_level < lo, 0, np.where(person_level >= hi, 2, 1))
        bucket = np.where(np.isnan(person_level), 1, bucket)
        fit = LEVEL_FIT[bucket, level[None, :]]
        # senior people: no foundation item touching a competency where they
        # are not weak (unscored counts as not weak)
        strongest = np.full(fit.shape, -np.inf)
        for k in range(slot_c.shape[1]):
            level_k = np.where(
                np.isnan(score[:, slot_c[:, k]]), lo, score[:, slot_c[:, k]]
            )
            strongest = np.where(
                slot_e[None, :, k] > 0, np.maximum(strongest, level_k), strongest
            )
        senior = state["senior"][sl][:, None]
        fit = np.where(senior & (level[None, :] == 0) & (strongest >= lo), 0.0, fit)
        ok = allowed["ok"][sl] & (fit > 0)
        completed = allowed["completed"][sl]

        h_total = hours[sl].astype(float)
        m_left = budget[sl].astype(float).copy()
        scale = (
            h[None, :] / np.maximum(h_total, 1e-9)[:, None]
            + cost[None, :] / (np.maximum(budget[sl].astype(float), 1e-9)[:, None])
        )
        taken = np.zeros((n, n_j), dtype=bool)
        per_comp = np.zeros(score.shape, dtype=np.int64)
        group_hours = np.zeros((n, 3))
        caps = np.asarray(self.mix_targets, dtype=float) + self.mix_tolerance
        rows_all = np.arange(n)
        out_rows, out_items, out_phase, out_value = [], [], [], []

        def gather(matrix):
            """Sum over an item's competency slots of matrix[:, competency]."""
            total = np.zeros((n, n_j))
            for k in range(slot_c.shape[1]):
                total += matrix[:, slot_c[:, k]] * slot_e[None, :, k]
            return total

        strength_value = gather(strength) * self.talent_multiplier * fit
        track_value = gather(track_w) * self.track_weight * fit
        n_cap = int(self.max_items_per_competency)

        def need_value(weights, a):
            total = np.zeros((len(a), n_j))
            for k in range(slot_c.shape[1]):
                c = slot_c[:, k]
                gain = np.minimum(slot_e[None, :, k], remaining[a][:, c])
                total += gain * weights[a][:, c]
            return total * fit[a]

        def feasible(pool_hours, a):
            avail = ok[a] & ~taken[a]
            avail &= h[None, :] <= pool_hours[a, None] + 1e-9
            avail &= cost[None, :] <= m_left[a, None] + 1e-9
            # diversity: every competency an item serves stays under the cap
            used_comp = per_comp[a]
            for k in range(slot_c.shape[1]):
                full = used_comp[:, slot_c[:, k]] >= n_cap
                avail &= ~(full & (slot_e[None, :, k] > 0))
            # 70-20-10: no group beyond its cap of the person's learning time
            avail &= group_hours[a][:, group] + h[None, :] <= (
                caps[group][None, :] * h_total[a, None] + 1e-9
            )
            if self._prereq_pairs is not None:
                items_with, starts, k = self._prereq_pairs
                met = taken[a][:, k] | completed[a][:, k]
                # an item is blocked while any of its prerequisites is unmet
                blocked = np.logical_or.reduceat(~met, starts, axis=1)
                avail[:, items_with] &= ~blocked
            return avail

        def step(value_of, pool_hours, phase, a):
            """One round: every active person takes their best feasible item.

            Returns the people still active (those who found one).
            """
            value = value_of(a)
            avail = feasible(pool_hours, a) & (value > 1e-9)
            density = np.where(avail, value / (scale[a] + 1e-12), -np.inf)
            best = np.argmax(density, axis=1)
            found = np.isfinite(density[np.arange(len(a)), best])
            rows, items = a[found], best[found]
            if not len(rows):
                return rows
            taken[rows, items] = True
            m_left[rows] -= cost[items]
            pool_hours[rows] -= h[items]
            for k in range(slot_c.shape[1]):
                per_comp[rows, slot_c[items, k]] += slot_e[items, k] > 0
            group_hours[rows, group[items]] += h[items]
            remaining[rows] = np.maximum(remaining[rows] - eff[items], 0.0)
            out_rows.append(rows)
            out_items.append(items)
            out_phase.append(np.full(len(rows), phase, dtype=object))
            out_value.append(value[found, items])
            return rows

        # 1. critical gaps, only up to their required level
        crit_hours = h_total.copy()
        active = np.flatnonzero((remaining * critical_w).sum(axis=1) > 0)
        while len(active):
            active = step(
                lambda a: need_value(critical_w, a), crit_hours, "critical", active
            )
        left = crit_hours
        # 2. and 3.: the rest split between strengths and needs + track core
        s_hours = left * self.strength_focus
        n_hours = left - s_hours
        active_s = np.flatnonzero(strength.sum(axis=1) > 0)
        active_n = rows_all
        while len(active_s) or len(active_n):
            if len(active_s):
                active_s = step(
                    lambda a: strength_value[a], s_hours, "strength", active_s
                )
            if len(active_n):
                active_n = step(
                    lambda a: need_value(need_w, a) + track_value[a],
                    n_hours,
                    "need",
                    active_n,
                )
        records = (
            np.concatenate(out_rows) + start if out_rows else np.zeros(0, np.int64),
            np.concatenate(out_items) if out_items else np.zeros(0, np.int64),
            np.concatenate(out_phase) if out_phase else np.zeros(0, object),
            np.concatenate(out_value) if out_value else np.zeros(0),
        )
        return self._records(records, state, start, stop, people, remaining, ok)

    def _records(self, records, state, start, stop, people, remaining, ok):
        items = self.items_
        eff = self.effects_
        rows, j, phase, benefit = records
        rows = rows.astype(np.int64)
        j = j.astype(np.int64)
        contrib_s = eff[j] * state["strength"][rows]
        contrib_n = eff[j] * (state["need_gap"][rows] > 0)
        contrib_t = eff[j] * state["track_weight"][rows]
        purpose = np.where(
            phase == "strength",
            "leverage_strength",
            np.where(
                (phase == "critical") | (contrib_n.max(axis=1, initial=0) > 0),
                "develop_need",
                "track_core",
            ),
        )
        comp = np.where(
            purpose == "leverage_strength",
            np.argmax(contrib_s, axis=1),
            np.where(
                purpose == "develop_need",
                np.argmax(contrib_n, axis=1),
                np.argmax(contrib_t, axis=1),
            ),
        )
        # an item chosen for no weighted competency is listed under its main one
        comp = np.where(eff[j, comp] <= 0, self.primary_[j], comp)
        selected = pd.DataFrame(
            {
                "employee_id": people.to_numpy()[rows],
                "item_id": items["item_id"].to_numpy()[j],
                "title": items["title"].to_numpy()[j],
                "kind": items["kind"].to_numpy()[j],
                "group": items["group"].to_numpy()[j],
                "level": items["level"].to_numpy()[j],
                "purpose": purpose,
                "competency_id": self.competencies_.to_numpy()[comp],
                "hours": items["hours"].to_numpy()[j],
                "cost": items["cost"].to_numpy()[j],
                "benefit": benefit.astype(float),
                "phase": phase,
                "prerequisites": items["prerequisites"].to_numpy()[j],
            }
        )
        selected["priority"] = selected["benefit"] + np.where(
            phase == "critical", 1e3, 0
        )
        unmet = self._unmet(state, start, stop, people, remaining, ok)
        return selected.astype({"employee_id": "str", "item_id": "str"}), unmet

    def _unmet(self, state, start, stop, people, remaining, ok):
        """Critical and important needs no selected item served, with why."""
        sl = slice(start, stop)
        need = state["need_gap"][sl] > 0
        left = need & (remaining > 1e-9)
        served_any = (self.effects_ > 0).any(axis=0)
        rows, cols = np.nonzero(left)
        if not len(rows):
            return pd.DataFrame(
                {
                    "employee_id": [],
                    "competency_id": [],
                    "importance": [],
                    "gap": [],
                    "reason": [],
                }
            ).astype(
                {
                    "employee_id": "str",
                    "competency_id": "str",
                    "importance": "str",
                    "gap": float,
                    "reason": "str",
                }
            )
        reachable = ok[rows][:, :] & (self.effects_[:, cols].T > 0)
        reason = np.where(
            ~served_any[cols],
            "no catalog item develops it",
            np.where(
                ~reachable.any(axis=1),
                "no catalog item fits (language, modality, track, level or done)",
                "not within the hours, budget or mix left for the plan",
            ),
        )
        importance = np.array(IMPORTANCES, dtype=object)[
            state["importance"][sl][rows, cols]
        ]
        return pd.DataFrame(
            {
                "employee_id": people.to_numpy()[start + rows],
                "competency_id": self.competencies_.to_numpy()[cols],
                "importance": importance,
                "gap": remaining[rows, cols],
                "reason": reason,
            }
        ).astype({"employee_id": "str", "competency_id": "str", "importance": "str"})


def _prerequisite_pairs(items: pd.DataFrame):
    """Items with prerequisites, where each one's run starts, and the runs.

    Returns ``(items_with, starts, prerequisite)``: the prerequisites of
    ``items_with[i]`` are ``prerequisite[starts[i]:starts[i + 1]]``; None
    when no item has any.
    """
    pre = items["prerequisites"].fillna("").astype(str)
    ids = pd.Index(items["item_id"])
    with_, starts, ks = [], [], []
    for j, text in enumerate(pre):
        k = ids.get_indexer(text.split(";")) if text else np.zeros(0, dtype=int)
        k = k[k >= 0]
        if len(k):
            with_.append(j)
            starts.append(len(ks))
            ks.extend(k.tolist())
    if not with_:
        return None
    return np.asarray(with_), np.asarray(starts), np.asarray(ks)


def _slots(effects: np.ndarray):
    """Each item's competencies with non-zero effect, padded to equal width."""
    width = max(int((effects > 0).sum(axis=1).max(initial=0)), 1)
    comp = np.zeros((len(effects), width), dtype=np.int64)
    value = np.zeros((len(effects), width))
    for j in range(len(effects)):
        nz = np.flatnonzero(effects[j] > 0)
        comp[j, : len(nz)] = nz
        value[j, : len(nz)] = effects[j, nz]
    return comp, value


def _person_state(rec, people, profiles, tracks, employees, track_content, role_levels):
    """Per-person arrays aligned with ``people`` and ``rec.competencies_``."""
    comps = rec.competencies_
    n_p, n_c = len(people), len(comps)
    p = people.get_indexer(profiles["employee_id"].astype(str))
    c = comps.get_indexer(profiles["competency_id"].astype(str))
    keep = (p >= 0) & (c >= 0)
    p, c = p[keep], c[keep]
    prof = profiles[keep]

    def wide(values, fill):
        out = np.full((n_p, n_c), fill, dtype=float)
        out[p, c] = values
        return out

    score = wide(prof["score"].to_numpy(dtype=float), np.nan)
    importance_code = pd.Index(IMPORTANCES).get_indexer(
        prof["importance"].astype(object)
    )
    importance = np.full((n_p, n_c), -1, dtype=np.int64)
    importance[p, c] = importance_code
    need_weight = np.zeros((n_p, n_c))
    weights = np.array([_NEED_WEIGHT[i] for i in IMPORTANCES])
    need_weight[p, c] = np.where(importance_code >= 0, weights[importance_code], 0.0)
    is_need = prof["is_need"].to_numpy(dtype=bool)
    gap = np.where(is_need, prof["gap"].to_numpy(dtype=float), 0.0)
    need_gap = wide(np.nan_to_num(gap), 0.0) * (need_weight > 0)
    critical = importance == IMPORTANCES.index("critical")
    strength = wide(prof["is_strength"].to_numpy(dtype=float), 0.0)

    track = tracks.set_index(tracks["employee_id"].astype(str))["track"].astype(str)
    track = track.reindex(people).fillna("core").to_numpy()
    track_weight = np.zeros((n_p, n_c))
    if track_content is not None and len(track_content):
        for t in TRACKS:
            rows = track == t
            content = track_content[track_content["track"].astype(str) == t]
            cc = comps.get_indexer(content["competency_id"].astype(str))
            good = cc >= 0
            track_weight[np.ix_(rows, cc[good])] = content["weight"].to_numpy()[good]

    emp = (
        employees.drop_duplicates("employee_id")
        .set_index(employees.drop_duplicates("employee_id")["employee_id"].astype(str))
        .reindex(people)
    )
    senior = np.zeros(n_p, dtype=bool)
    if role_levels is not None:
        senior = role_levels.reindex(people).isin(_SENIOR).to_numpy()
    return {
        "score": score,
        "need_gap": need_gap,
        "need_weight": need_weight,
        "critical": critical.astype(float),
        "importance": np.maximum(importance, 0),
        "strength": strength,
        "track": track,
        "track_weight": track_weight,
        "language": emp["language"].astype(object).fillna("").astype(str).to_numpy(),
        "modality_preference": emp["modality_preference"]
        .astype(object)
        .fillna("any")
        .astype(str)
        .to_numpy(),
        "hours_per_month": emp["learning_hours_per_month"].fillna(0.0).to_numpy(float),
        "budget": emp["budget"].fillna(0.0).to_numpy(float),
        "senior": senior,
    }
