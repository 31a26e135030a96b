"""Strength-focused à-la-carte learning paths: candidate benefit and selection.

For every person the recommender values every catalog item by its expected
growth in the competencies it develops (effect × level fit × modality
factor), filters what the person cannot take (language, track, level,
prerequisites, completed before, hours, money) and chooses the set that
maximises one objective (:mod:`devplan._select`): gaps closed up to the
role's requirement, diminishing-returns growth in signature strengths, the
track's core and the rest of the role, and a 70-20-10 bonus. People with a
signature strength the catalog can serve spend ``strength_focus`` ± a
tolerance of their hours on it (the strength band), unless critical gaps
come first.

Selection is a vectorised greedy over all people of a chunk at once,
improved by exact-valued swaps; ``solver="exact"`` solves each person's
plan with HiGHS instead. Data flow: profiles + tracks + employees + catalog
→ selected items and unmet needs (DataFrames); scheduling happens
downstream.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from devplan import _select
from devplan._schema import IMPORTANCES, ITEM_LEVELS, KIND_GROUP, TRACKS

GROUPS = ("experience", "exposure", "education")
PURPOSES = ("leverage_strength", "develop_need", "track_core", "broaden_role")
PHASES = _select.PHASES
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
#: Level fit by code (3 × person bucket + item level), and 0 (code 9) for
#: a foundation item a senior person does not need.
FIT_VALUES = np.append(LEVEL_FIT.ravel(), 0.0)
#: Whether a level-fit code allows the item at all.
_FITS = FIT_VALUES > 0
_SENIOR = ("senior", "executive")
#: Plans using at least this share of the hours available need no reason.
USED_ENOUGH = 0.9
#: Why a plan leaves time unused (``plan_summary.unused_reason``).
UNUSED_REASONS = {
    "no_time": "no learning time",
    "nothing_fits": (
        "no catalog item fits (language, track, level, prerequisites, budget "
        "or completed before)"
    ),
    "exhausted": (
        "catalog exhausted: every item that fits and develops a competency of "
        "value is planned"
    ),
    "too_long": "the items left are longer than the hours left",
    "budget": "budget: the items left that fit the hours cost more than is left",
    "band": "the items left would take the plan off its strength share",
    "no_value": "the items left add nothing the plan still needs",
}
_NEED_WEIGHT = {"critical": 1.0, "important": 0.6, "useful": 0.0}


class PathRecommender(BaseEstimator):
    """Choose each person's learning items under their constraints.

    Every person's plan maximises one explicit objective (see Notes and
    ``docs/recommendation.md``) under hard rules: hours and money available,
    language, track, prerequisites, nothing completed before or twice, level
    fit (no foundation item where the person has no need, none for a senior
    person who is not weak there) and the strength band.

    Parameters
    ----------
    strength_focus : float, default=0.7
        Target share of plan hours on strength items for everyone who has a
        signature strength the catalog can serve (the strength band), except
        the people whose critical gaps come first.
    strength_tolerance : float, default=0.05
        Half-width of the strength band around ``strength_focus``.
    talent_multiplier : float, default=1.5
        Value of growth in a signature strength relative to a unit of gap
        closed ("talent × effort").
    track_weight : float, default=0.5
        Value of growth in a competency of the person's track core (times the
        track's weight for it).
    role_weight : float, default=0.2
        Value of growth in any other competency the person's role profile
        lists (broadening the role beyond its gaps).
    saturation : float, default=0.5
        ``G``: scale points of growth in one competency after which the
        returns of strength and track growth have fallen to ``1/e``
        (diminishing returns within a competency).
    mix_targets : tuple of 3 floats, default=(0.7, 0.2, 0.1)
        Target shares of the person's learning hours for experience, exposure
        and education (70-20-10, a soft term).
    mix_weight : float, default=0.3
        Value of a plan that fills every group's target share, relative to a
        unit of gap closed; hours beyond a group's target earn no bonus.
    modality_discount : float, default=0.7
        Value factor of an item outside the person's preferred modality
        (blended items suit every preference).
    blocking_margin : float, default=0.5
        A critical gap larger than this (scale points) is blocking: the
        person's gap hours come first, as for the struggling-manager track.
    max_items_per_competency : int or None, default=None
        Optional hard cap on the items serving one competency.
    level_bounds : tuple of 2 floats, default=(2.5, 3.75)
        Scores below the first are "low", from the second "high", for level
        fit.
    solver : {"greedy", "exact"}, default="greedy"
        ``"greedy"``: the vectorised greedy (all people of a block at once);
        ``"exact"``: the optimum of the piecewise-linear objective per person
        with HiGHS (``scipy.optimize.milp``), for small organisations.
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
    With :math:`x_j \\in \\{0, 1\\}` the items chosen, :math:`v_{jc} = e_{jc}
    f_{pj} d_{pj}` (effect × level fit × modality factor) and growth
    :math:`R_c = \\sum_j x_j v_{jc}`, a plan is worth

    .. math::

        F(x) = \\sum_c \\left[a_c \\min(R_c, g_c)
               + b_c G (1 - e^{-R_c / G})\\right]
               + \\mu \\sum_k \\min(H_k, t_k H) / H

    with gap weights :math:`a` (critical 1, important 0.6) up to the gaps
    :math:`g`, saturating weights :math:`b = \\lambda s + \\tau t + \\rho q`
    (strength flags, track weights and the role's other competencies),
    hours :math:`H_k` per 70-20-10 group and the person's hours :math:`H`.
    The greedy takes, for all people of a block at once, the item of
    largest marginal gain per unit of resource (:math:`h_j/H + c_j/B`),
    steering to the strength band; tests compare it with the exact optimum.

    Examples
    --------
    >>> from devplan import CompetencyScorer, PathRecommender, assign_tracks
    >>> from devplan.datasets import load_sample
    >>> b = load_sample()
    >>> profiles = CompetencyScorer().fit(b).profiles(b)
    >>> tracks = assign_tracks(b, profiles)
    >>> rec = PathRecommender().fit(
    ...     b.catalog, competencies=b.competencies["competency_id"])
    >>> selected, unmet = rec.recommend(
    ...     profiles, tracks, b.employees, enrolments=b.enrolments,
    ...     track_content=b.track_content())
    >>> sorted(selected["purpose"].unique())
    ['broaden_role', 'develop_need', 'leverage_strength', 'track_core']
    >>> hours = selected.groupby("employee_id")["hours"].sum()
    >>> limit = b.employees.set_index("employee_id")["learning_hours_per_month"] * 12
    >>> bool((hours <= limit.reindex(hours.index)).all())
    True
    """

    def __init__(
        self,
        *,
        strength_focus: float = 0.7,
        strength_tolerance: float = 0.05,
        talent_multiplier: float = 1.5,
        track_weight: float = 0.5,
        role_weight: float = 0.2,
        saturation: float = 0.5,
        mix_targets=(0.7, 0.2, 0.1),
        mix_weight: float = 0.3,
        modality_discount: float = 0.7,
        blocking_margin: float = 0.5,
        max_items_per_competency: int | None = None,
        level_bounds=(2.5, 3.75),
        solver: str = "greedy",
        chunk_size: int = 4096,
    ):
        self.strength_focus = strength_focus
        self.strength_tolerance = strength_tolerance
        self.talent_multiplier = talent_multiplier
        self.track_weight = track_weight
        self.role_weight = role_weight
        self.saturation = saturation
        self.mix_targets = mix_targets
        self.mix_weight = mix_weight
        self.modality_discount = modality_discount
        self.blocking_margin = blocking_margin
        self.max_items_per_competency = max_items_per_competency
        self.level_bounds = level_bounds
        self.solver = solver
        self.chunk_size = chunk_size

    def _check_params(self):
        for name in ("strength_focus", "strength_tolerance", "modality_discount"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(
                    f"Got {name}={value!r}; expected a number between 0 and 1."
                )
        for name in (
            "talent_multiplier",
            "track_weight",
            "role_weight",
            "mix_weight",
            "blocking_margin",
        ):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"Got {name}={value!r}; expected a number >= 0.")
        if not self.saturation > 0:
            raise ValueError(
                f"Got saturation={self.saturation!r}; expected a number > 0."
            )
        if len(tuple(self.mix_targets)) != 3 or not np.isclose(
            sum(self.mix_targets), 1.0
        ):
            raise ValueError(
                f"Got mix_targets={self.mix_targets!r}; expected three shares "
                "(experience, exposure, education) that add up to 1."
            )
        cap = self.max_items_per_competency
        if cap is not None and (not isinstance(cap, int | np.integer) or cap < 1):
            raise ValueError(
                f"Got max_items_per_competency={cap!r}; expected None or an "
                "integer >= 1."
            )
        if self.solver not in ("greedy", "exact"):
            raise ValueError(
                f"Got solver={self.solver!r}; expected 'greedy' or 'exact'."
            )

    @classmethod
    def from_config(cls, config, **overrides) -> PathRecommender:
        """A recommender with the plan settings of a :class:`Config`.

        Examples
        --------
        >>> from devplan import Config, PathRecommender
        >>> PathRecommender.from_config(Config(plan={"strength_focus": 0.6}))
        PathRecommender(strength_focus=0.6)
        """
        p = config.plan
        params = {
            name: getattr(p, name)
            for name in (
                "strength_focus",
                "strength_tolerance",
                "talent_multiplier",
                "track_weight",
                "role_weight",
                "saturation",
                "mix_weight",
                "modality_discount",
                "blocking_margin",
                "max_items_per_competency",
                "solver",
            )
        }
        params["mix_targets"] = tuple(p.mix_targets)
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
        self._prereqs = _prerequisite_matrix(self.items_)
        self._group = pd.Index(GROUPS).get_indexer(self.items_["group"])
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
        return_people: bool = False,
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
        return_people : bool, default=False
            Also return the per-person table.

        Returns
        -------
        selected : DataFrame
            One row per person × item: ``employee_id, item_id, title, kind,
            group, level, purpose, competency_id, hours, cost, benefit,
            phase, prerequisites, priority``.
        unmet : DataFrame
            ``employee_id, competency_id, importance, gap, reason`` for
            critical and important needs the selected items do not close
            (``gap``: what remains after the plan's expected growth).
        people : DataFrame
            Only with ``return_people=True``: one row per person,
            ``employee_id, expected_benefit, unused_reason``: the value of
            the plan's objective and, when the plan uses less than 90% of the
            hours available, what binds (see :data:`UNUSED_REASONS`).
        """
        check_is_fitted(self, "effects_")
        selected_parts, unmet_parts, people_parts, ids = [], [], [], None
        for chunk in self._chunks(
            profiles,
            tracks,
            employees,
            enrolments,
            track_content,
            horizon_months,
            role_levels,
        ):
            sel, unmet, mine = self._select_chunk(*chunk)
            selected_parts.append(sel)
            unmet_parts.append(unmet)
            people_parts.append(mine)
            ids = chunk[-1]
        selected = pd.concat(selected_parts, ignore_index=True)
        unmet = pd.concat(unmet_parts, ignore_index=True)
        if not return_people:
            return selected, unmet
        value, reason = (np.concatenate(x) for x in zip(*people_parts, strict=True))
        table = pd.DataFrame(
            {
                "employee_id": pd.Index(ids, dtype="str"),
                "expected_benefit": value,
                "unused_reason": pd.Index(reason, dtype="str"),
            }
        )
        return selected, unmet, table

    def _chunks(
        self,
        profiles,
        tracks,
        employees,
        enrolments,
        track_content,
        horizon_months,
        role_levels,
    ):
        """The arguments of :meth:`_select_chunk` for each chunk of people."""
        people = pd.Index(tracks["employee_id"].astype(str))
        state = _person_state(
            self, people, profiles, tracks, employees, track_content, role_levels
        )
        hours = state["hours_per_month"] * horizon_months
        budget = state["budget"]
        rules = self._rules(state, enrolments, people)
        for start in range(0, len(people), int(self.chunk_size)):
            stop = min(start + int(self.chunk_size), len(people))
            allowed = self._allowed(rules, start, stop)
            yield state, allowed, hours, budget, start, stop, people

    def _selection_blocks(
        self,
        profiles,
        tracks,
        employees,
        *,
        enrolments=None,
        track_content=None,
        horizon_months=12,
        role_levels=None,
    ):
        """The selection's blocks, as :meth:`recommend` builds them.

        Internal hook for benchmarks and tests that compare solvers: yields
        ``(people, block)`` with the employee ids of the block's rows.
        """
        check_is_fitted(self, "effects_")
        for chunk in self._chunks(
            profiles,
            tracks,
            employees,
            enrolments,
            track_content,
            horizon_months,
            role_levels,
        ):
            _, blocks = self._chunk_blocks(*chunk[:-1])
            start, people = chunk[4], chunk[-1]
            for rows, blk in blocks:
                yield people[rows + start], blk

    def _rules(self, state, enrolments, people):
        """Per-person codes for the item filters, and completed items."""
        items = self.items_
        # language and modality as codes in one vocabulary per attribute;
        # -1 is "any" (an item without language, a person without one)
        lang_vocab = pd.Index(
            pd.unique(np.concatenate([items["language"].dropna(), state["language"]]))
        )
        item_lang = lang_vocab.get_indexer(items["language"].fillna("").astype(str))
        person_lang = lang_vocab.get_indexer(state["language"])
        item_lang[items["language"].fillna("").astype(str).to_numpy() == ""] = -1
        person_lang[state["language"] == ""] = -1
        modality_vocab = pd.Index(pd.unique(items["modality"]))
        pref = state["modality_preference"]
        person_modality = modality_vocab.get_indexer(pref)
        # "any" and "blended" people prefer every modality, others theirs;
        # a blended item suits every preference
        person_modality[np.isin(pref, ("any", "blended"))] = -1
        person_modality[(person_modality < 0) & ~np.isin(pref, ("any", "blended"))] = -2
        track_sets = items["tracks"].fillna("").astype(str).to_numpy()
        suits = np.array(
            [[(not s) or (t in s.split(";")) for s in track_sets] for t in TRACKS]
        )
        done_p = np.zeros(0, dtype=np.int64)
        done_j = np.zeros(0, dtype=np.int64)
        if enrolments is not None and len(enrolments):
            done = enrolments[enrolments["status"].astype(str) == "completed"]
            p = _positions(people, done["employee_id"])
            j = _positions(pd.Index(items["item_id"]), done["item_id"])
            keep = (p >= 0) & (j >= 0)
            order = np.argsort(p[keep], kind="stable")
            done_p, done_j = p[keep][order], j[keep][order]
        return {
            "item_lang": item_lang,
            "person_lang": person_lang,
            "item_modality": np.where(
                items["modality"].to_numpy() == "blended",
                -1,
                modality_vocab.get_indexer(items["modality"]),
            ),
            "person_modality": person_modality,
            "suits": suits & (self.primary_ >= 0)[None, :],
            "person_track": pd.Index(TRACKS).get_indexer(state["track"]),
            "done_p": done_p,
            "done_j": done_j,
        }

    def _allowed(self, rules, start, stop):
        """Boolean people × items matrices for rows ``start:stop``.

        ``ok``: what each person may take (language, track, not completed
        before); ``completed``: what they completed before; ``preferred``:
        items in the person's preferred modality (others are discounted).
        """
        sl = slice(start, stop)
        n_j = len(self.items_)
        item_lang, person_lang = rules["item_lang"], rules["person_lang"][sl]
        ok = (item_lang[None, :] == -1) | (item_lang[None, :] == person_lang[:, None])
        ok |= (person_lang == -1)[:, None]
        person_modality = rules["person_modality"][sl]
        item_modality = rules["item_modality"][None, :]
        preferred = (person_modality == -1)[:, None] | (item_modality == -1)
        preferred |= item_modality == person_modality[:, None]
        ok &= rules["suits"][np.maximum(rules["person_track"][sl], 0)]
        completed = np.zeros((stop - start, n_j), dtype=bool)
        lo, hi = np.searchsorted(rules["done_p"], [start, stop])
        completed[rules["done_p"][lo:hi] - start, rules["done_j"][lo:hi]] = True
        ok &= ~completed
        return {"ok": ok, "completed": completed, "preferred": preferred}

    def _level_fit(self, score, senior, need):
        """Level fit codes (people × items), via each item's primary competency.

        Codes index :data:`FIT_VALUES`. Nobody gets a foundation item in a
        competency where they have no need and are not weak, and senior
        people none touching a competency where they are not weak (unscored
        counts as not weak): code 9, fit 0.
        """
        level = pd.Index(ITEM_LEVELS).get_indexer(self.items_["level"])
        slot_c, slot_e = self.slots_
        lo, hi = self.level_bounds
        # the person's level bucket per competency (unscored: middle), then
        # per item via its primary competency
        bucket = (score >= lo).astype(np.int8) + (score >= hi)
        bucket[np.isnan(score)] = 1
        primary = np.maximum(self.primary_, 0)
        # (np.take keeps rows contiguous, as everything downstream reads them)
        code = np.take(bucket, primary, axis=1) * np.int8(3)
        code += level.astype(np.int8)[None, :]
        basic = level == 0
        if basic.any():
            no_need = ~np.take(need | (score < lo), primary, axis=1)
            code[:, basic] = np.where(no_need[:, basic], np.int8(9), code[:, basic])
        seniors = np.flatnonzero(senior)
        if len(seniors) and basic.any():
            not_weak = ~(score[seniors] < lo)
            strong_there = np.zeros((len(seniors), len(level)), dtype=bool)
            for k in range(slot_c.shape[1]):
                strong_there |= not_weak[:, slot_c[:, k]] & (slot_e[None, :, k] > 0)
            code[seniors] = np.where(
                basic[None, :] & strong_there, np.int8(9), code[seniors]
            )
        return code

    def _select_chunk(self, state, allowed, hours, budget, start, stop, people):
        need_gap = state["need_gap"][start:stop]
        ok, blocks = self._chunk_blocks(state, allowed, hours, budget, start, stop)
        objective = self._objective()
        growth = np.zeros(need_gap.shape)
        plan_value = np.zeros(stop - start)
        reason = np.where(
            hours[start:stop] > 0,
            UNUSED_REASONS["nothing_fits"],
            UNUSED_REASONS["no_time"],
        ).astype(object)
        parts = []
        for rows, blk in blocks:
            if self.solver == "exact":
                taken = _select.exact(blk, objective)
                when, phase = _select.order(blk, taken)
            else:
                taken, when, phase, _ = _select.greedy(blk, objective)
            benefit = _select.replay(blk, objective, taken, when)
            growth[rows] = _select.growth(blk, taken)
            plan_value[rows] = _select.objective(blk, objective, taken)
            reason[rows] = _unused(blk, objective, taken)
            r, k = np.nonzero(taken)
            parts.append(
                (rows[r], blk.idx[r, k], when[r, k], phase[r, k], benefit[r, k])
            )
        if parts:
            rows, items, stage, phase, value = (
                np.concatenate(x) for x in zip(*parts, strict=True)
            )
        else:
            rows = items = stage = np.zeros(0, np.int64)
            phase, value = np.zeros(0, np.int64), np.zeros(0)
        # records in the order of selection: round, then person
        sort = np.lexsort((rows, stage))
        records = (rows[sort] + start, items[sort], phase[sort], value[sort])
        remaining = np.maximum(need_gap - growth, 0.0) * (need_gap > 0)
        selected, unmet = self._records(
            records, state, start, stop, people, remaining, ok
        )
        return selected, unmet, (plan_value, reason)

    def _chunk_blocks(self, state, allowed, hours, budget, start, stop):
        """Candidates of a chunk and its blocks.

        Returns ``ok`` (allowed items per person of the chunk) and a
        generator of ``(rows, block)`` (rows: positions within the chunk).
        """
        sl = slice(start, stop)
        eff = self.effects_
        need_gap = state["need_gap"][sl]
        need_w = state["need_weight"][sl]
        strength = state["strength"][sl]
        track_w = state["track_weight"][sl]
        h_total = hours[sl].astype(float)
        money = budget[sl].astype(float)
        fit = self._level_fit(state["score"][sl], state["senior"][sl], need_gap > 0)
        ok = allowed["ok"] & np.take(_FITS, fit)
        # the objective's weights per competency: a (gap, linear up to the
        # remaining gap) and b (strengths and track core, saturating)
        a = need_w * (need_gap > 0)
        b = self.talent_multiplier * strength + self.track_weight * track_w
        b = b + self.role_weight * state["in_role"][sl]
        critical = (state["critical"][sl] > 0) & (need_gap > 0)
        exception = (state["track"][sl] == "struggling_manager") & critical.any(axis=1)
        exception |= (critical & (need_gap > self.blocking_margin)).any(axis=1)

        # Candidates: allowed items that touch a competency of value (nothing
        # else can ever add to the objective) and fit the hours and money at
        # all. The selection works on compressed people × candidates
        # matrices, people sorted by candidate count and cut into blocks so
        # that little padding is carried.
        relevant = ((a > 0) | (b > 0)).astype(np.float32)
        touches = (relevant @ (eff.T > 0).astype(np.float32)) > 0
        h = self.items_["hours"].to_numpy()
        cost = self.items_["cost"].to_numpy()
        cand = ok & touches
        cand &= h[None, :] <= h_total[:, None] + 1e-9
        cand &= cost[None, :] <= money[:, None] + 1e-9
        counts = cand.sum(axis=1)
        order = np.argsort(counts, kind="stable")
        order = order[counts[order] > 0]

        def blocks():
            for block in _blocks(counts[order], self._BLOCK_CELLS):
                rows = order[block]
                yield (
                    rows,
                    self._block(
                        cand[rows],
                        fit[rows],
                        allowed["preferred"][rows],
                        allowed["completed"][rows],
                        strength[rows],
                        a[rows],
                        need_gap[rows],
                        b[rows],
                        critical[rows],
                        h_total[rows],
                        money[rows],
                        exception[rows],
                    ),
                )

        return ok, blocks()

    #: Cells (people × candidates) per block of the selection.
    _BLOCK_CELLS = 1 << 16

    def _objective(self) -> _select.Objective:
        return _select.Objective(
            saturation=float(self.saturation),
            mix_weight=float(self.mix_weight),
            mix_targets=tuple(float(t) for t in self.mix_targets),
            strength_focus=float(self.strength_focus),
            strength_tolerance=float(self.strength_tolerance),
            max_items_per_competency=self.max_items_per_competency,
        )

    def _block(
        self,
        cand,
        fit,
        preferred,
        done,
        strength,
        a,
        gap,
        b,
        critical,
        h_total,
        money,
        exception,
    ) -> _select.Block:
        """The compressed people × candidates arrays of one block."""
        n = len(cand)
        slot_c, slot_e = self.slots_
        counts = cand.sum(axis=1)
        m = max(int(counts.max(initial=0)), 1)
        r, j = np.nonzero(cand)
        pos = np.arange(len(r)) - np.repeat(np.cumsum(counts) - counts, counts)
        # idx holds item positions in ascending order, so that ties break
        # towards the catalog's first item
        idx = np.zeros((n, m), dtype=np.int64)
        valid = np.zeros((n, m), dtype=bool)
        idx[r, pos] = j
        valid[r, pos] = True
        # slot-major (slot, person, candidate): each slot's matrix contiguous
        sc = np.take(slot_c.T, idx, axis=1)
        factor = FIT_VALUES[np.take_along_axis(fit, idx, axis=1)]
        factor *= np.where(
            np.take_along_axis(preferred, idx, axis=1), 1.0, self.modality_discount
        )
        v = np.take(slot_e.T, idx, axis=1) * (factor * valid)[None]
        # a strength item puts at least half its growth into strengths
        on_strength = np.zeros((n, m))
        for c, e in zip(sc, v, strict=True):
            on_strength += np.take_along_axis(strength, c, axis=1) * e
        strong = (
            valid & (on_strength >= 0.5 * v.sum(axis=0) - 1e-12) & (on_strength > 0)
        )
        # prerequisites not met before, as candidate positions; one that is
        # not a candidate can never be met
        if self._prereqs is None:
            pre = np.full((1, n, m), -1, dtype=np.int64)
        else:
            items = np.take(self._prereqs.T, idx, axis=1)
            slot_of = np.full((n, len(self.items_)), -1, dtype=np.int64)
            slot_of[r, j] = pos
            pre = np.full(items.shape, -1, dtype=np.int64)
            for p, item in enumerate(items):
                open_ = (item >= 0) & ~np.take_along_axis(done, np.maximum(item, 0), 1)
                where = np.take_along_axis(slot_of, np.maximum(item, 0), axis=1)
                pre[p] = np.where(open_, where, -1)
                valid &= ~(open_ & (where < 0))
            # along chains: an item whose prerequisite can never be taken
            # cannot be taken either
            while True:
                blocked = np.zeros_like(valid)
                for p in pre:
                    has = p >= 0
                    blocked |= has & ~np.take_along_axis(valid, np.maximum(p, 0), 1)
                blocked &= valid
                if not blocked.any():
                    break
                valid &= ~blocked
        v *= valid[None]
        strong &= valid
        # the strength band holds for people whose strength items can fill
        # their share of the time; for the others strengths simply come first
        # by value
        low = self.strength_focus - self.strength_tolerance
        supply = np.where(strong, self.items_["hours"].to_numpy()[idx], 0.0).sum(1)
        band = strong.any(axis=1) & ~exception & (supply >= low * h_total - 1e-9)
        return _select.Block(
            idx=idx,
            valid=valid,
            sc=sc,
            v=v,
            h=self.items_["hours"].to_numpy()[idx],
            cost=self.items_["cost"].to_numpy()[idx],
            group=self._group[idx],
            strong=strong,
            pre=pre,
            a=a,
            gap=gap,
            b=b,
            critical=critical,
            hours=h_total,
            budget=money,
            band=band,
            exception=exception,
        )

    def _records(self, records, state, start, stop, people, remaining, ok):
        items = self.items_
        eff = self.effects_
        rows, j, phase, benefit = records
        rows = rows.astype(np.int64)
        j = j.astype(np.int64)
        contrib_n = eff[j] * (state["need_gap"][rows] > 0)
        contrib_t = eff[j] * state["track_weight"][rows]
        # purpose codes index PURPOSES
        purpose = np.select(
            [
                phase == PHASES.index("strength"),
                (phase == PHASES.index("critical"))
                | (contrib_n.max(axis=1, initial=0) > 0),
                contrib_t.max(axis=1, initial=0) > 0,
            ],
            [0, 1, 2],
            3,
        )
        # the competency it contributes most to, by its purpose's weights
        comp = np.argmax(contrib_n, axis=1)
        for code, weights in (
            (0, state["strength"]),
            (2, state["track_weight"]),
            (3, state["in_role"]),
        ):
            these = np.flatnonzero(purpose == code)
            if len(these):
                contrib = eff[j[these]] * weights[rows[these]]
                comp[these] = np.argmax(contrib, axis=1)
        # an item chosen for no weighted competency is listed under its main one
        comp = np.where(eff[j, comp] <= 0, self.primary_[j], comp)

        def text(values, codes):
            return pd.Index(values, dtype="str").take(codes)

        selected = pd.DataFrame(
            {
                "employee_id": text(people, rows),
                "item_id": text(items["item_id"], j),
                "title": text(items["title"], j),
                "kind": text(items["kind"], j),
                "group": text(items["group"], j),
                "level": text(items["level"], j),
                "purpose": text(PURPOSES, purpose),
                "competency_id": text(self.competencies_, comp),
                "hours": items["hours"].to_numpy()[j],
                "cost": items["cost"].to_numpy()[j],
                "benefit": benefit.astype(float),
                "phase": text(PHASES, phase),
                "prerequisites": text(items["prerequisites"], j),
                "priority": benefit
                + np.where(phase == PHASES.index("critical"), 1e3, 0),
            }
        )
        unmet = self._unmet(state, start, stop, people, remaining, ok)
        return selected, unmet

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
                "no catalog item fits (language, track, level or done)",
                "not within the hours or budget left for the plan",
            ),
        )
        importance = np.array(IMPORTANCES, dtype=object)[
            state["importance"][sl][rows, cols]
        ]
        return pd.DataFrame(
            {
                "employee_id": pd.Index(people, dtype="str").take(start + rows),
                "competency_id": pd.Index(self.competencies_, dtype="str").take(cols),
                "importance": pd.Index(importance, dtype="str"),
                "gap": remaining[rows, cols],
                "reason": reason,
            }
        )


def _unused(blk: _select.Block, obj: _select.Objective, taken: np.ndarray):
    """Why each plan of a block uses less than :data:`USED_ENOUGH` of the
    hours, the first that applies: no candidate left, the ones left are
    too long, too dear, would break the strength band, or add nothing."""
    h_used = (blk.h * taken).sum(axis=1)
    money_left = blk.budget - (blk.cost * taken).sum(axis=1)
    left = blk.hours - h_used
    open_ = blk.valid & ~taken
    fits_h = open_ & (blk.h <= left[:, None] + 1e-9)
    fits = fits_h & (blk.cost <= money_left[:, None] + 1e-9)
    lo, hi = obj.band()
    s = (blk.h * taken * blk.strong).sum(axis=1)
    after = _select._outside(
        s[:, None] + blk.h * blk.strong, h_used[:, None] + blk.h, lo, hi
    )
    in_band = fits & ((after <= 1e-9) | ~blk.band[:, None])
    reason = np.select(
        [
            h_used >= USED_ENOUGH * blk.hours - 1e-9,
            ~open_.any(axis=1),
            ~fits_h.any(axis=1),
            ~fits.any(axis=1),
            ~in_band.any(axis=1),
        ],
        [
            "",
            UNUSED_REASONS["exhausted"],
            UNUSED_REASONS["too_long"],
            UNUSED_REASONS["budget"],
            UNUSED_REASONS["band"],
        ],
        UNUSED_REASONS["no_value"],
    )
    return reason.astype(object)


def _prerequisite_matrix(items: pd.DataFrame):
    """Each item's prerequisites as item positions, padded with -1.

    Returns an array of shape (n_items, width), or None when no item has a
    prerequisite in the catalog.
    """
    pre = items["prerequisites"].fillna("").astype(str)
    ids = pd.Index(items["item_id"])
    found = [ids.get_indexer(text.split(";")) if text else np.zeros(0) for text in pre]
    found = [k[k >= 0] for k in found]
    width = max((len(k) for k in found), default=0)
    if not width:
        return None
    out = np.full((len(items), width), -1, dtype=np.int64)
    for j, k in enumerate(found):
        out[j, : len(k)] = k
    return out


def _positions(index: pd.Index, values) -> np.ndarray:
    """Positions of ``values`` in ``index`` (-1 when absent).

    Text looked up in a unique text index goes to Arrow (``index_in``: one
    hash table of the index, one probe per value); anything else hashes
    each distinct value once, much faster than ``index.get_indexer(values)``
    when values repeat (people × competencies).
    """
    values = values if isinstance(values, pd.Series) else pd.Series(values)
    if values.dtype == "str" and index.dtype == "str" and index.is_unique:
        # text in text: Arrow hashes the index once and probes every value
        # (missing values find nothing)
        found = pc.index_in(
            _text_array(values), value_set=_text_array(index), skip_nulls=True
        )
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        uniques = values.cat.categories
    else:
        codes, uniques = pd.factorize(values)
    # a trailing -1 is what missing values (code -1) find
    found = np.append(index.get_indexer(pd.Index(uniques).astype(str)), -1)
    return found[codes]


def _text_array(values) -> pa.Array:
    """A ``str`` Series or Index as one Arrow array."""
    array = pa.array(values.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def _blocks(counts, cells):
    """Cut people sorted by candidate count into blocks of about ``cells``.

    Yields slices; a block's width is its last (largest) count, and it holds
    as many people as keep people × width within ``cells`` (at least one).
    """
    start = 0
    while start < len(counts):
        width = np.maximum(counts[start:], 1)
        size = np.arange(1, len(width) + 1) * width
        stop = start + max(int(np.searchsorted(size, cells, side="right")), 1)
        yield slice(start, stop)
        start = stop


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
    p = _positions(people, profiles["employee_id"])
    c = _positions(comps, profiles["competency_id"])
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
    in_role = importance >= 0
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

    ids = employees["employee_id"].astype(str)
    first = ~ids.duplicated().to_numpy()
    columns = ["language", "modality_preference", "learning_hours_per_month", "budget"]
    emp = employees.loc[first, columns].set_index(ids[first]).reindex(people)
    senior = np.zeros(n_p, dtype=bool)
    if role_levels is not None:
        senior = role_levels.reindex(people).isin(_SENIOR).to_numpy()
    return {
        "score": score,
        "need_gap": need_gap,
        "need_weight": need_weight,
        "critical": critical.astype(float),
        "importance": np.maximum(importance, 0),
        "in_role": in_role.astype(float),
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
