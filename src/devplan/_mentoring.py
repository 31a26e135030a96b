"""Internal mentoring: match people's needs to colleagues strong in them.

Needs come from the plans (every competency a ``mentoring`` item serves)
and from transfer risks (a person developing a competency their own manager
is weak in). Candidate mentors are people with a shown, confident strength
in that competency. The match maximises total fit over the whole
organisation as an assignment problem on a sparse graph of needs × mentor
capacity slots (:func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching`),
not first come, first served.

Data flow: profiles + employees (+ plans, transfer risks) → needs and
candidates → assignment → ``mentoring`` table → mentor rows in plans.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from devplan._config import Config
from devplan._recommend import _positions as _hashed_positions
from devplan._schema import ROLE_LEVELS, require_columns

#: Columns of the ``mentoring`` table: the data contract's five, then extras.
COLUMNS = (
    "mentee_id",
    "mentor_id",
    "competency_id",
    "fit",
    "reason",
    "transfer_risk",
    "item_id",
    "start_on",
    "end_on",
    "mentee_score",
    "mentor_score",
    "mentor_confidence",
    "mentor_percentile",
    "mentor_others_score",
    "n_candidates",
)
#: Cells of one feasibility block (needs × candidates), to bound memory.
_BLOCK_CELLS = 4_000_000


def empty_mentoring() -> pd.DataFrame:
    """An empty ``mentoring`` table with its columns and dtypes."""
    return _frame(
        {
            name: np.zeros(0, dtype=object if name not in _NUMERIC else float)
            for name in COLUMNS
        }
    )


_NUMERIC = (
    "fit",
    "mentee_score",
    "mentor_score",
    "mentor_confidence",
    "mentor_percentile",
    "mentor_others_score",
)


def match_mentors(
    profiles: pd.DataFrame,
    employees: pd.DataFrame,
    config: Config | None = None,
    *,
    plans: pd.DataFrame | None = None,
    transfer_risks: pd.DataFrame | None = None,
    needs: pd.DataFrame | None = None,
    roles: pd.DataFrame | None = None,
    competency_names=None,
    planned_hours: pd.Series | None = None,
) -> pd.DataFrame:
    """Propose an internal mentor for every need flagged for mentoring.

    Parameters
    ----------
    profiles : DataFrame
        The ``profiles`` table of the whole organisation (``employee_id,
        competency_id, score, is_strength, confidence``; ``required_level``,
        ``scored`` and ``n_raters`` are used when present).
    employees : DataFrame
        The ``employees`` table. Read: ``employee_id``, ``manager_id``,
        ``role_id``, ``language``, ``location``, ``modality_preference``;
        never ``age_band`` or ``gender``.
    config : Config or None, default=None
        Settings; the ``[mentoring]`` section (:class:`MentoringConfig`) and
        the rating scale are used. ``None`` means the defaults.
    plans : DataFrame or None, default=None
        The ``plans`` table: each competency a ``kind == "mentoring"`` item
        serves is a need (its item and dates are carried along).
    transfer_risks : DataFrame or None, default=None
        ``employee_id, manager_id, competency_id`` of plans that develop a
        competency the person's manager is weak in. Each is a need, matched
        first: the assignment covers as many of them as possible before it
        maximises fit.
    needs : DataFrame or None, default=None
        Further needs, ``employee_id, competency_id``.
    roles : DataFrame or None, default=None
        The ``roles`` table, for role levels (seniority constraint).
    competency_names : mapping or Series or None, default=None
        Display names of competencies, for reasons.
    planned_hours : Series or None, default=None
        Learning hours each person's plan already holds, indexed by
        ``employee_id`` (as :func:`plan_hours` gives them), which bound
        how many mentees they can take. ``None`` means summed from
        ``plans``; given, ``plans`` need hold only the ``mentoring`` items,
        which is how a batch run over many chunks calls it.

    Returns
    -------
    DataFrame
        One row per mentee × competency, sorted by ``mentee_id,
        competency_id``: ``mentee_id, mentor_id`` (missing when no mentor
        was found), ``competency_id, fit`` (0-1, missing without a mentor),
        ``reason``, ``transfer_risk`` (bool), ``item_id, start_on, end_on``
        (the mentee's mentoring item, when the need came from one),
        ``mentee_score, mentor_score, mentor_confidence`` and
        ``n_candidates`` (colleagues who meet every constraint).

    Notes
    -----
    A colleague *covers* a need when their profile row for the competency
    is a strength (``is_strength``), rests on ratings that may be shown
    (``scored``, at least one visible rater other than self: a self-only
    or suppressed score never counts), has ``confidence >=
    min_confidence``, and their score reaches both the mentee's score plus
    ``min_lead`` and the mentee's required level. The other constraints:
    not the mentee, not in their reporting line, same language, same
    location or both remote-friendly, seniority at least the mentee's (see
    :class:`MentoringConfig`).

    With :math:`r = s_{max} - s_{min}`, the fit of mentor :math:`m` for
    need :math:`i` is strength level × need size,

    .. math:: fit = c_m \\frac{x_m - s_{min}}{r} \\cdot \\frac{s_{max} - x_i}{r}

    with :math:`x` scores and :math:`c_m` the confidence of the mentor's
    score (a mentee without a score has need size 0.5). Each mentor has
    ``capacity`` slots over all competencies. The assignment maximises
    :math:`\\sum fit + P \\cdot n_{risk}` with :math:`P` larger than any
    total fit, so transfer-risk needs are covered first. By default the
    solver sees every feasible need × mentor pair when they fit in
    ``max_edges``; with ``candidates_per_need`` each need keeps only its
    best that many. Pruning is checked: when every pruned need's kept
    mentors have more slots than there are other needs that could take
    them, some optimum uses kept edges only and the result is exact.
    When the pairs do not fit in ``max_edges`` (and ``candidates_per_need``
    is not set), a greedy matches instead: transfer-risk needs first, then
    the rest; within a competency the largest needs take the strongest
    allowed mentors with places left. It is fast and respects every
    constraint, but is not proven optimal.
    ``result.attrs["exact"]`` says whether the result is proven optimal,
    ``result.attrs["edges"]`` how many pairs the solver saw (0 for the
    greedy) and ``result.attrs["greedy"]`` whether the greedy ran.

    Examples
    --------
    >>> import devplan
    >>> b = devplan.datasets.load_sample()
    >>> result = devplan.generate_plans(b)
    >>> m = devplan.match_mentors(
    ...     result.profiles, b.employees, b.config, plans=result.plans,
    ...     transfer_risks=result.transfer_risks, roles=b.roles)
    >>> list(m.columns[:5])
    ['mentee_id', 'mentor_id', 'competency_id', 'fit', 'reason']
    >>> bool((m["mentor_id"] != m["mentee_id"]).all())
    True
    """
    config = Config() if config is None else config
    if not isinstance(config, Config):
        raise TypeError(
            f"Got config of type {type(config).__name__}; expected devplan.Config"
            " or None."
        )
    cfg = config.mentoring
    require_columns(profiles, "profiles", ("employee_id", "competency_id", "score"))
    require_columns(profiles, "profiles", ("is_strength", "confidence"))
    require_columns(employees, "employees", ("employee_id",))
    need = _collect_needs(plans, transfer_risks, needs)
    if not len(need):
        return empty_mentoring()
    names = _names(competency_names)

    people = _people(employees, roles, cfg.reporting_line_levels, cfg.pool_size)
    ids = people["ids"]
    # sorted, so that nothing depends on the order of rows
    # (distinct values first: a profiles table has many rows, few competencies)
    distinct = pd.Series(pd.unique(profiles["competency_id"])).astype(str)
    comps = pd.Index(
        np.unique(
            np.concatenate(
                [
                    distinct.to_numpy(dtype=str),
                    pd.unique(need["competency_id"]).astype(str),
                ]
            )
        )
    )
    n_comp = len(comps)
    prow_person = _positions(ids, profiles["employee_id"])
    prow_comp = _positions(comps, profiles["competency_id"])
    pkey = np.where(prow_person >= 0, prow_person * n_comp + prow_comp, -1)
    known = pkey >= 0
    if pd.Index(pkey[known]).has_duplicates:
        raise ValueError(
            "Got a profiles table with repeated (employee_id, competency_id) "
            "rows; expected one row per employee × competency."
        )
    score = profiles["score"].to_numpy(dtype=float)
    required = (
        profiles["required_level"].to_numpy(dtype=float)
        if "required_level" in profiles.columns
        else np.full(len(profiles), np.nan)
    )
    confidence = profiles["confidence"].to_numpy(dtype=float)

    # the needs: mentee's score and requirement
    n_need = len(need)
    mentee = _positions(ids, need["employee_id"])
    ncomp = _positions(comps, need["competency_id"])
    row = pd.Index(pkey[known]).get_indexer(
        np.where(mentee >= 0, mentee * n_comp + ncomp, -2)
    )
    row = np.where(row >= 0, np.flatnonzero(known)[np.maximum(row, 0)], -1)
    has = row >= 0
    mentee_score = np.where(has, score[np.maximum(row, 0)], np.nan)
    mentee_required = np.where(has, required[np.maximum(row, 0)], np.nan)
    smin, smax = float(config.scale_min), float(config.scale_max)
    span = smax - smin
    need_size = np.where(
        np.isnan(mentee_score),
        0.5,
        np.clip((smax - mentee_score) / span, 0.0, 1.0),
    )
    with np.errstate(invalid="ignore"):
        bar = np.fmax(mentee_score + cfg.min_lead, mentee_required)
    bar = np.where(np.isnan(bar), -np.inf, bar)

    # the candidates: shown, confident strengths
    ok = known & _as_bool(profiles["is_strength"]) & ~np.isnan(score)
    ok &= confidence >= cfg.min_confidence
    if "scored" in profiles.columns:
        ok &= _as_bool(profiles["scored"])
    if "n_raters" in profiles.columns:
        ok &= profiles["n_raters"].fillna(0).to_numpy(dtype=float) > 0
    cand = np.flatnonzero(ok)
    cand_person = prow_person[cand]
    cand_comp = prow_comp[cand]
    cand_score = score[cand]
    cand_conf = confidence[cand]
    extra = {
        name: profiles[name].to_numpy(dtype=float)[cand]
        if name in profiles.columns
        else np.full(len(cand), np.nan)
        for name in ("percentile", "others_score")
    }
    strength = cand_conf * np.clip((cand_score - smin) / span, 0.0, 1.0)
    # best first; ties by employee_id text, so the order never depends on
    # the order of rows
    id_rank = np.argsort(np.argsort(ids.to_numpy(dtype=str), kind="stable"))
    order = np.lexsort((id_rank[cand_person], -strength, cand_comp))
    cand, cand_person, cand_comp = cand[order], cand_person[order], cand_comp[order]
    extra = {name: values[order] for name, values in extra.items()}
    cand_score, cand_conf, strength = (
        cand_score[order],
        cand_conf[order],
        strength[order],
    )
    bounds = np.searchsorted(cand_comp, np.arange(n_comp + 1))
    if planned_hours is None and plans is not None and "hours" in plans.columns:
        planned_hours = plan_hours(plans)
    capacity = _capacity(people, employees, planned_hours, config)
    available = capacity[cand_person] > 0
    # the competencies each available mentor may be matched in, and the
    # needs per competency: the pruning certificate reads them
    strong_in = np.zeros((len(ids) + 1, n_comp), dtype=bool)
    strong_in[cand_person[available], cand_comp[available]] = True
    needs_in = np.bincount(ncomp[mentee >= 0], minlength=n_comp)
    by_comp = [
        (c, rows[mentee[rows] >= 0])
        for c, rows in pd.Series(np.arange(n_need))
        .groupby(ncomp, sort=True)
        .indices.items()
    ]
    risk = need["transfer_risk"].to_numpy(dtype=bool)
    # colleagues strong in the competency at all (the mentee not counted)
    listed = pd.Index(cand_person * n_comp + cand_comp)
    mine = np.where(mentee >= 0, mentee * n_comp + ncomp, -1)
    n_strong = np.where(
        mentee >= 0,
        (bounds[ncomp + 1] - bounds[ncomp]) - (listed.get_indexer(mine) >= 0),
        0,
    ).astype(np.int64)
    lang = people["language"]

    pool = people["pool"]

    def groups():
        """Needs of one competency, language and pool with the available
        candidates that may serve them, best first."""
        for rows, cands in languages():
            if pool.max() == 0:
                yield rows, cands
                continue
            mentee_pool = pool[mentee[rows]]
            cand_pool = pool[cand_person[cands]]
            for g in np.unique(mentee_pool):
                sub = cands[cand_pool == g]
                if len(sub):
                    yield rows[mentee_pool == g], sub

    def languages():
        for c, rows in by_comp:
            lo, hi = bounds[c], bounds[c + 1]
            cands = lo + np.flatnonzero(available[lo:hi])
            if not len(rows) or not len(cands):
                continue
            if not cfg.same_language:
                yield rows, cands
                continue
            # a known language only meets the same or an unknown one
            mentee_lang = lang[mentee[rows]]
            cand_lang = lang[cand_person[cands]]
            for g in np.unique(mentee_lang):
                sub = cands if g < 0 else cands[(cand_lang == g) | (cand_lang < 0)]
                if len(sub):
                    yield rows[mentee_lang == g], sub

    def feasible(rows, cands):
        """Blocks of needs × candidates: who may mentor whom."""
        step = max(_BLOCK_CELLS // len(cands), 1)
        for s in range(0, len(rows), step):
            block = rows[s : s + step]
            ok = _allowed(
                mentee[block][:, None],
                cand_person[cands][None, :],
                cand_score[cands][None, :] >= bar[block][:, None],
                people,
                cfg,
            )
            yield block, ok

    def allowed(rows, cands):
        """The same, pair by pair."""
        return _allowed(
            mentee[rows],
            cand_person[cands],
            cand_score[cands] >= bar[rows],
            people,
            cfg,
        )

    # one pass: counts, and the pairs (all while they fit in max_edges, or
    # each need's best k)
    k = cfg.candidates_per_need
    n_candidates = np.zeros(n_need, dtype=np.int64)
    certified, over, n_edges = True, False, 0
    edge_need, edge_cand = [], []
    for rows, cands in groups():
        for block, ok in feasible(rows, cands):
            count = ok.sum(axis=1)
            n_candidates[block] = count
            if over:
                continue
            i, j = np.nonzero(ok)
            if k is not None and (count > k).any():
                # row-major: rank of each pair among its need's candidates
                rank = np.arange(len(i)) - (np.cumsum(count) - count)[i]
                i, j = i[rank < k], j[rank < k]
                pruned = (count > k)[i]
                if certified:
                    certified = _certified(
                        i[pruned],
                        cand_person[cands[j[pruned]]],
                        capacity,
                        strong_in,
                        needs_in,
                    )
            n_edges += len(i)
            if k is None and n_edges > cfg.max_edges:
                over, edge_need, edge_cand = True, [], []
                continue
            edge_need.append(block[i])
            edge_cand.append(cands[j])
    if over:
        # too many pairs for the exact solver: greedy, best first
        pick = _greedy(
            groups,
            allowed,
            feasible,
            n_candidates,
            need_size,
            risk,
            cand_person,
            capacity,
        )
        certified, n_edges = False, 0
    else:
        edge_need = np.concatenate(edge_need) if edge_need else np.zeros(0, np.int64)
        edge_cand = np.concatenate(edge_cand) if edge_cand else np.zeros(0, np.int64)
        fit = strength[edge_cand] * need_size[edge_need]
        chosen = solve_assignment(
            edge_need,
            cand_person[edge_cand],
            fit,
            n_need,
            capacity,
            priority=risk,
        )
        pick = np.full(n_need, -1, dtype=np.int64)
        pick[chosen >= 0] = edge_cand[chosen[chosen >= 0]]
        n_edges = len(edge_need)
    matched = pick >= 0
    fit = strength[pick[matched]] * need_size[matched]
    pick = pick[matched]

    def chosen_of(values, missing=np.nan):
        out = np.full(n_need, missing, dtype=object if missing is None else float)
        out[matched] = values
        return out

    out = {
        "mentee_id": need["employee_id"].to_numpy(dtype=object),
        "mentor_id": chosen_of(ids.to_numpy(dtype=object)[cand_person[pick]], None),
        "competency_id": need["competency_id"].to_numpy(dtype=object),
        "fit": chosen_of(fit),
        "transfer_risk": risk,
        "item_id": need["item_id"].to_numpy(dtype=object),
        "start_on": need["start_on"].to_numpy(),
        "end_on": need["end_on"].to_numpy(),
        "mentee_score": mentee_score,
        "mentor_score": chosen_of(cand_score[pick]),
        "mentor_confidence": chosen_of(cand_conf[pick]),
        "mentor_percentile": chosen_of(extra["percentile"][pick]),
        "mentor_others_score": chosen_of(extra["others_score"][pick]),
        "n_candidates": n_candidates,
    }
    out["reason"] = _reasons(out, names, n_strong, mentee >= 0, cfg.min_lead)
    frame = _frame(out)
    frame.attrs["exact"] = bool(certified)
    frame.attrs["edges"] = int(n_edges)
    frame.attrs["greedy"] = bool(over)
    return frame


def solve_assignment(
    need, mentor, weight, n_need, capacity, *, priority=None
) -> np.ndarray:
    """Maximum-weight assignment of needs to mentors with capacity.

    Parameters
    ----------
    need, mentor : array of int
        The allowed pairs (edges): need index and mentor key per edge.
    weight : array of float
        Each edge's fit (> 0 to be worth taking).
    n_need : int
        Number of needs (rows); a need without edges stays unmatched.
    capacity : int or array of int
        Needs one mentor takes at most: one number for all, or an array
        indexed by mentor key.
    priority : array of bool or None, default=None
        Needs to cover first (lexicographically before total weight).

    Returns
    -------
    ndarray of int
        Per need, the index of its chosen edge, -1 when unmatched.

    Notes
    -----
    Each mentor becomes as many identical slots as its capacity, and each need gets a
    private dummy slot of weight 0, so a full matching of the needs always
    exists; the minimum-cost full matching with cost ``W + 1 - weight``
    (``W`` the largest weight) is then the maximum-weight matching.
    """
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import connected_components

    need = np.asarray(need, dtype=np.int64)
    weight = np.asarray(weight, dtype=float)
    mentor = np.asarray(mentor, dtype=np.int64)
    if len(mentor):
        low, span = mentor.min(), int(mentor.max() - mentor.min()) + 1
        repeated = pd.Index(need * span + (mentor - low)).has_duplicates
    else:
        repeated = False
    if repeated:
        raise ValueError(
            "Got repeated (need, mentor) pairs; expected each allowed pair once."
        )
    if priority is not None and np.any(priority):
        # one covered priority need outweighs any total of fits (each <= 1)
        bonus = float(max(weight.max(initial=0.0), 1.0) * (n_need + 1))
        weight = weight + bonus * np.asarray(priority, dtype=bool)[need]
    if np.ndim(capacity) == 0:
        cap_of = np.full(len(mentor), int(capacity), dtype=np.int64)
    else:
        cap_of = np.asarray(capacity, dtype=np.int64)[mentor]
    useful = (weight > 0) & (cap_of > 0)
    edges = np.flatnonzero(useful)
    chosen = np.full(n_need, -1, dtype=np.int64)
    if not len(edges):
        return chosen
    keys, first, mentor_code = np.unique(
        mentor[edges], return_index=True, return_inverse=True
    )
    caps = cap_of[edges][first]
    # parts that share no mentor (languages, say) are solved apart: the
    # same optimum, and faster than one large problem
    link = csr_array(
        (np.ones(len(edges)), (need[edges], n_need + mentor_code)),
        shape=(n_need + len(keys),) * 2,
    )
    _, label = connected_components(link, directed=False)
    part = label[need[edges]]
    order = np.argsort(part, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(part[order])) + 1):
        sub = edges[group]
        rows, local_need = np.unique(need[sub], return_inverse=True)
        codes, local_mentor = np.unique(mentor_code[group], return_inverse=True)
        picked = _solve_part(
            local_need, local_mentor, weight[sub], len(rows), caps[codes]
        )
        found = picked >= 0
        chosen[rows[found]] = sub[picked[found]]
    return chosen


def _solve_part(need, mentor, weight, n_need, caps) -> np.ndarray:
    """:func:`solve_assignment` on one connected part: needs and mentors
    numbered from 0, ``caps`` per mentor; the chosen edge per need or -1."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    offset = np.concatenate([[0], np.cumsum(caps)])
    n_slots = int(offset[-1])
    top = weight.max() + 1.0
    # every edge once per slot of its mentor
    per_edge = caps[mentor]
    slot_edge = np.repeat(np.arange(len(need)), per_edge)
    slot_rows = need[slot_edge]
    within = np.arange(len(slot_edge)) - np.repeat(
        np.cumsum(per_edge) - per_edge, per_edge
    )
    slot_cols = offset[np.repeat(mentor, per_edge)] + within
    slot_cost = top - weight[slot_edge]
    rows = np.concatenate([slot_rows, np.arange(n_need)])
    cols = np.concatenate([slot_cols, n_slots + np.arange(n_need)])
    cost = np.concatenate([slot_cost, np.full(n_need, top)])
    graph = csr_array((cost, (rows, cols)), shape=(n_need, n_slots + n_need))
    r, c = min_weight_full_bipartite_matching(graph)
    real = c < n_slots
    r, c = r[real], c[real]
    # the edge behind each (need, slot) pair
    chosen = np.full(n_need, -1, dtype=np.int64)
    lookup = pd.Index(slot_rows * n_slots + slot_cols)
    chosen[r] = slot_edge[lookup.get_indexer(r * n_slots + c)]
    return chosen


def _certified(rows, person, capacity, strong_in, needs_in) -> bool:
    """Whether pruning these needs' candidates provably loses nothing.

    ``rows`` and ``person`` are the kept pairs of pruned needs (a need
    number per pair, pairs of one need together) and the kept mentors.
    Exchange argument: if a need's kept mentors have more slots than there
    are other needs that could ever take them (every need of a competency
    any of them may be matched in), one slot stays free in any optimum, and
    moving the need there loses nothing (kept mentors are its best). When
    that holds for every pruned need, some optimum of the full problem uses
    kept edges only.
    """
    if not len(rows):
        return True
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    slots = np.add.reduceat(capacity[person], starts)
    reach = np.logical_or.reduceat(strong_in[person], starts, axis=0)
    rivals = reach.astype(np.int64) @ needs_in - 1
    return not (slots <= rivals).any()


def _greedy(
    groups,
    allowed,
    feasible,
    n_candidates,
    need_size,
    risk,
    cand_person,
    capacity,
) -> np.ndarray:
    """Best-first matching when there are too many pairs for the exact solver.

    Transfer-risk needs first, then the rest; competencies (and languages)
    with the fewest mentor places per need first, as their mentors are the
    hardest to replace; within one, the largest needs take the strongest
    mentors with places left, in order (the rearrangement that maximises a
    sum of products when every pair is allowed). Needs whose mentor in that
    order is not allowed to mentor them then propose to their best allowed
    mentor with places left, round by round, until every need is matched
    or has none left.
    Returns the chosen candidate per need, -1 when unmatched.
    """
    left = capacity.copy()
    pick = np.full(len(need_size), -1, dtype=np.int64)
    passes = (risk, ~risk) if risk.any() else (np.ones(len(risk), dtype=bool),)
    for now in passes:
        todo = [
            (rows[now[rows] & (n_candidates[rows] > 0)], cands)
            for rows, cands in groups()
        ]
        # the scarcest first: fewest mentor places per need
        scarce = [
            left[cand_person[cands]].sum() / max(len(rows), 1) for rows, cands in todo
        ]
        for at in np.argsort(scarce, kind="stable"):
            rows, cands = todo[at]
            # largest need first; ties by need number
            rows = rows[np.argsort(-need_size[rows], kind="stable")]
            zipped = True
            while len(rows):
                free = cands[left[cand_person[cands]] > 0]
                if not len(free):
                    break
                if zipped:
                    # each need in order takes the next free place
                    slots = np.repeat(free, left[cand_person[free]])
                    n = min(len(rows), len(slots))
                    ok = allowed(rows[:n], slots[:n])
                    took, chosen = rows[:n][ok], slots[:n][ok]
                    rows = np.concatenate([rows[:n][~ok], rows[n:]])
                    # zip again while it places most of the needs
                    zipped = ok.mean() > 0.5
                else:
                    took, chosen, rows = _spread(
                        rows, free, feasible, left[cand_person[free]]
                    )
                    if not len(took):
                        break
                pick[took] = chosen
                np.subtract.at(left, cand_person[chosen], 1)
    return pick


def _capacity(people, employees, planned_hours, config) -> np.ndarray:
    """Mentees each person can take: ``capacity``, and (with planned hours)
    no more than their learning time left after their plan allows at
    ``mentor_hours`` each."""
    cfg = config.mentoring
    ids = people["ids"]
    cap = np.full(len(ids), cfg.capacity, dtype=np.int64)
    if planned_hours is None:
        return cap
    emp = employees.drop_duplicates("employee_id")
    monthly = np.full(len(ids), config.learning_hours_per_month)
    if "learning_hours_per_month" in emp.columns:
        given = pd.to_numeric(emp["learning_hours_per_month"], errors="coerce")
        monthly = given.fillna(config.learning_hours_per_month).to_numpy(float)
    at = _positions(ids, pd.Series(planned_hours.index))
    keep = at >= 0
    planned = np.bincount(
        at[keep],
        weights=planned_hours.to_numpy(dtype=float)[keep],
        minlength=len(ids),
    )
    spare = monthly * config.plan.horizon_months - planned
    fits = np.floor(np.maximum(spare, 0) / cfg.mentor_hours + 1e-9)
    return np.minimum(cap, fits.astype(np.int64))


def plan_hours(plans: pd.DataFrame) -> pd.Series:
    """Learning hours each person's own plan items hold.

    Parameters
    ----------
    plans : DataFrame
        A ``plans`` table (``employee_id, hours``; rows with a
        ``mentee_id``, a mentor's time for someone else, are not counted).

    Returns
    -------
    Series
        Hours per ``employee_id``, in order of first appearance. Each sum
        runs over the person's rows in table order, so the sums of the parts
        of a table split by person are those of the whole table, to the bit.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan._mentoring import plan_hours
    >>> plans = pd.DataFrame({"employee_id": ["E2", "E1", "E2"],
    ...                       "hours": [4.0, 1.5, 8.0]})
    >>> plan_hours(plans).to_dict()
    {'E2': 12.0, 'E1': 1.5}
    """
    own = np.ones(len(plans), dtype=bool)
    if "mentee_id" in plans.columns:  # a mentor's role, if already written in
        own = plans["mentee_id"].isna().to_numpy()
    own = own & plans["employee_id"].notna().to_numpy()
    codes, people = pd.factorize(plans["employee_id"][own], sort=False)
    # np.bincount adds each person's hours one row after another
    hours = np.bincount(
        codes,
        weights=plans["hours"].to_numpy(dtype=float)[own],
        minlength=len(people),
    )
    people = pd.Index(np.asarray(people, dtype=object), name="employee_id")
    return pd.Series(hours, index=people.astype(str), name="hours")


def _spread(rows, free, feasible, places):
    """One round for needs the in-order pass could not place: a need takes
    its best allowed mentor with places left, the next need wanting that
    mentor the next allowed place on its own list, and so on; a mentor
    asked for more places than it has keeps the largest needs (first in
    ``rows``). Returns the placed needs, their candidates and the rest."""
    allowed = [ok for _, ok in feasible(rows, free)]
    if not allowed:
        return rows[:0], free[:0], rows[:0]
    ok = np.concatenate(allowed) & (places > 0)[None, :]
    # places reachable up to each mentor, per need: a cumulative sum along
    # the row, taken in blocks of rows (as integers the whole matrix would
    # be eight times the size of ``ok``)
    step = max(_BLOCK_CELLS // max(ok.shape[1], 1), 1)
    blocks = range(0, len(rows), step)

    def reach(s):
        return np.cumsum(ok[s : s + step] * places[None, :], axis=1)

    total = np.zeros(len(rows), dtype=np.int64)
    if ok.shape[1]:
        for s in blocks:
            total[s : s + step] = reach(s)[:, -1]
    has = total > 0
    first = np.where(has, ok.argmax(axis=1), -1)
    # rank among the needs that want the same first mentor, in order
    order = np.argsort(first, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(first[order])) + 1]
    rank = np.empty(len(rows), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(
        starts, np.diff(np.r_[starts, len(order)])
    )
    place = np.minimum(rank, np.maximum(total - 1, 0))
    target = np.full(len(rows), -1, dtype=np.int64)
    if ok.shape[1]:
        for s in blocks:
            passed = (reach(s) <= place[s : s + step, None]).sum(axis=1)
            target[s : s + step] = np.where(has[s : s + step], passed, -1)
    # a mentor keeps as many as it has places, first come first
    order = np.argsort(target, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(target[order])) + 1]
    within = np.empty(len(rows), dtype=np.int64)
    within[order] = np.arange(len(order)) - np.repeat(
        starts, np.diff(np.r_[starts, len(order)])
    )
    taken = has & (within < places[np.maximum(target, 0)])
    return rows[taken], free[target[taken]], rows[has & ~taken]


def _allowed(e, m, leads, people, cfg) -> np.ndarray:
    """Whether mentor ``m`` may mentor mentee ``e`` (person numbers,
    broadcast against each other) whose score ``leads`` them enough."""
    ok = (e != m) & leads
    if cfg.exclude_reporting_line:
        for up in people["ancestors"]:
            ok &= (up[e] != m) & (up[m] != e)
    if cfg.same_language:
        lang = people["language"]
        ok &= (lang[e] < 0) | (lang[m] < 0) | (lang[e] == lang[m])
    if cfg.same_location:
        loc, remote = people["location"], people["remote"]
        ok &= (loc[e] < 0) | (loc[m] < 0) | (loc[e] == loc[m]) | (remote[e] & remote[m])
    if cfg.min_seniority == "same_or_higher":
        level = people["level"]
        ok &= (level[e] < 0) | (level[m] < 0) | (level[m] >= level[e])
    return ok


def _people(employees, roles, levels, pool_size=None) -> dict:
    """Per-person arrays the constraints read (no protected attributes),
    and each person's matching pool (see ``MentoringConfig.pool_size``)."""
    emp = employees.drop_duplicates("employee_id")
    ids = pd.Index(emp["employee_id"].astype(str))
    n = len(ids)

    def codes(column):
        if column not in emp.columns:
            return np.full(n, -1, dtype=np.int64)
        values = emp[column].astype(object).where(emp[column].notna(), None)
        return pd.factorize(values.to_numpy())[0].astype(np.int64)

    manager = np.full(n, -1, dtype=np.int64)
    if "manager_id" in emp.columns:
        m = emp["manager_id"]
        manager = _positions(ids, m.astype(object))
    # ancestors[k]: the manager k + 1 levels up (-1: none); index -1 maps to -1
    lookup = np.append(manager, -1)
    ancestors, up = [], np.arange(n)
    for _ in range(levels):
        up = lookup[up]
        ancestors.append(np.append(up, -1))
    level = np.full(n, -1, dtype=np.int64)
    if roles is not None and "role_level" in roles.columns and "role_id" in emp:
        known = roles.dropna(subset=["role_level"]).drop_duplicates("role_id")
        rank = known.set_index(known["role_id"].astype(str))["role_level"].map(
            {name: i for i, name in enumerate(ROLE_LEVELS)}
        )
        level = (
            emp["role_id"].astype(str).map(rank).fillna(-1).to_numpy().astype(np.int64)
        )
    remote = np.ones(n, dtype=bool)
    if "modality_preference" in emp.columns:
        remote = (emp["modality_preference"].astype(object) != "in_person").to_numpy()

    pool = np.zeros(n, dtype=np.int64)
    if pool_size is not None and n > pool_size:
        # business unit, then id: the pools never depend on the row order
        unit = np.full(n, "", dtype=object)
        if "business_unit" in emp.columns:
            unit = emp["business_unit"].astype(object).fillna("").to_numpy()
        order = np.lexsort((ids.to_numpy(dtype=str), unit.astype(str)))
        n_pools = -(-n // pool_size)
        pool[order] = np.arange(n) * n_pools // n

    def pad(a, fill):
        return np.append(a, fill)

    return {
        "ids": ids,
        "ancestors": ancestors,
        "language": pad(codes("language"), -1),
        "location": pad(codes("location"), -1),
        "remote": pad(remote, False),
        "level": pad(level, -1),
        "pool": pad(pool, -1),
    }


def _collect_needs(plans, transfer_risks, needs) -> pd.DataFrame:
    """One need per mentee × competency, sorted, with its item and flags."""
    parts = []
    if plans is not None and len(plans):
        require_columns(plans, "plans", ("employee_id", "competency_id", "kind"))
        own = plans["kind"].astype(object) == "mentoring"
        if "mentee_id" in plans.columns:  # a mentor's own role is no need
            own &= plans["mentee_id"].isna()
        rows = plans[own.to_numpy()]
        if "step" in rows.columns:
            rows = rows.sort_values(["employee_id", "step"], kind="stable")
        parts.append(
            pd.DataFrame(
                {
                    "employee_id": rows["employee_id"].astype(str).to_numpy(),
                    "competency_id": rows["competency_id"].astype(str).to_numpy(),
                    "item_id": _col(rows, "item_id"),
                    "start_on": _dates(rows, "start_on"),
                    "end_on": _dates(rows, "end_on"),
                    "transfer_risk": False,
                }
            )
        )
    for table, name, risk in (
        (transfer_risks, "transfer_risks", True),
        (needs, "needs", False),
    ):
        if table is None or not len(table):
            continue
        require_columns(table, name, ("employee_id", "competency_id"))
        parts.append(
            pd.DataFrame(
                {
                    "employee_id": table["employee_id"].astype(str).to_numpy(),
                    "competency_id": table["competency_id"].astype(str).to_numpy(),
                    "item_id": None,
                    "start_on": np.full(len(table), np.datetime64("NaT", "s")),
                    "end_on": np.full(len(table), np.datetime64("NaT", "s")),
                    "transfer_risk": risk,
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            columns=[
                "employee_id",
                "competency_id",
                "item_id",
                "start_on",
                "end_on",
                "transfer_risk",
            ]
        )
    need = pd.concat(parts, ignore_index=True)
    key = ["employee_id", "competency_id"]
    risk = need.groupby(key, sort=False)["transfer_risk"].transform("any")
    # the first mentoring item of a need (by step) carries its dates
    need = need.assign(transfer_risk=risk.astype(bool)).drop_duplicates(key)
    return need.sort_values(key, kind="stable").reset_index(drop=True)


def _reasons(out, names, n_strong, known, min_lead) -> pd.Series:
    """Why each need of ``out`` got its mentor, or none: text in Arrow
    strings, each kind of reason built only for the needs it explains (a
    1,000,000-person run has about 600,000 needs)."""
    comp = pd.Series(out["competency_id"]).astype("str")
    name = comp.map(names).fillna(comp) if names is not None else comp
    matched = pd.Series(out["mentor_id"]).notna().to_numpy()
    n_candidates = np.asarray(out["n_candidates"])
    # which reason: 0 matched, 1 mentee unknown, 2 nobody strong, 3 nobody
    # allowed, 4 everybody allowed is full
    kind = np.select(
        [matched, ~known, n_strong == 0, n_candidates == 0],
        [0, 1, 2, 3],
        default=4,
    )

    def subset(values, rows):
        return pd.Series(np.asarray(values)[rows], index=rows).astype("str")

    def text_of(k, rows):
        on = name.iloc[rows].set_axis(rows)
        if k == 0:
            return (
                subset(out["mentor_id"], rows)
                + " is strong in "
                + on
                + " (score "
                + _fmt(out["mentor_score"][rows], 1).set_axis(rows)
                + ", confidence "
                + _fmt(out["mentor_confidence"][rows], 2).set_axis(rows)
                + "); "
                + subset(out["mentee_id"], rows)
                + " is at "
                + _fmt(out["mentee_score"][rows], 1).set_axis(rows)
            )
        if k == 1:
            return pd.Series("no mentor: mentee not in employees", index=rows)
        if k == 2:
            return "no mentor: nobody else has a shown, confident strength in " + on
        if k == 3:
            return (
                "no mentor: "
                + subset(n_strong, rows)
                + " colleagues are strong in "
                + on
                + f" but none meets the constraints (a lead of {min_lead:g} "
                "points, reporting line, language, location, seniority, time "
                "to mentor)"
            )
        return (
            "no mentor: all "
            + subset(n_candidates, rows)
            + " suitable mentors are at capacity (mentees or learning time)"
        )

    # a transfer-risk need says so too
    risk = np.asarray(out["transfer_risk"], dtype=bool)
    pieces = []
    for key, rows in (
        pd.Series(kind * 2 + risk).groupby(kind * 2 + risk).indices.items()
    ):
        piece = text_of(key // 2, rows)
        if key % 2:
            piece = (
                piece
                + "; transfer risk: the line manager is still developing "
                + name.iloc[rows].set_axis(rows)
                + ", so this need was matched first"
            )
        pieces.append(piece)
    text = (
        pd.concat(pieces).sort_index().reset_index(drop=True)
        if pieces
        else pd.Series([], dtype="str")
    ).astype("str")
    return text


def mentor_plan_rows(
    plans: pd.DataFrame,
    plan_summary: pd.DataFrame,
    mentoring: pd.DataFrame,
    *,
    start_date,
    horizon_months: int,
    mentor_hours: float,
    scale_max: float = 5.0,
    competency_names=None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plans and plan summary with the matches written in.

    Mentees' mentoring items get ``mentor_id`` and a rationale naming the
    mentor; each mentor gets a ``leverage_strength`` row of kind
    ``mentoring`` for the role (``mentee_id`` set), counted in their
    summary's ``n_items``, ``hours`` and every share of plan hours (the
    mentor's hours are exposure hours on a strength). Works on any subset of employees
    (a chunk): only the plans of people in ``plan_summary`` change.
    """
    from devplan._plans import _add_months

    names = _names(competency_names)
    people = pd.Index(plan_summary["employee_id"].astype(str))
    done = mentoring[mentoring["mentor_id"].notna()]
    # only these people's matches, as mentee or as mentor (a chunk's few
    # out of an organisation's)
    done = done[
        (_positions(people, done["mentee_id"]) >= 0)
        | (_positions(people, done["mentor_id"]) >= 0)
    ]
    plans = plans.copy()
    key = pd.Index(
        done["mentee_id"].astype(str) + "\x1f" + done["competency_id"].astype(str)
    )
    own = plans["kind"].astype(object) == "mentoring"
    if "mentee_id" in plans.columns:
        own &= plans["mentee_id"].isna()
    at = key.get_indexer(
        plans["employee_id"].astype(str) + "\x1f" + plans["competency_id"].astype(str)
    )
    at = np.where(own.to_numpy(), at, -1)
    # a trailing None is what unmatched rows (-1) find, even with no match
    mentor = np.append(done["mentor_id"].to_numpy(dtype=object), None)[at]
    plans["mentor_id"] = pd.Series(mentor, index=plans.index, dtype="str")
    rationale = plans["rationale"].astype(str)
    plans["rationale"] = rationale.where(
        at < 0, rationale + "; mentor: " + plans["mentor_id"].fillna("")
    ).astype("str")
    if "mentee_id" not in plans.columns:
        plans["mentee_id"] = pd.Series(
            np.full(len(plans), None), index=plans.index, dtype="str"
        )

    mine = done[_positions(people, done["mentor_id"]) >= 0]
    mine = mine.sort_values(
        ["mentor_id", "start_on", "mentee_id", "competency_id"], kind="stable"
    )
    if not len(mine):
        return plans, plan_summary
    first = np.datetime64(start_date, "s")
    last = np.datetime64(
        _add_months(start_date, horizon_months) - pd.Timedelta(days=1), "s"
    )
    start_on = mine["start_on"].to_numpy(dtype="datetime64[s]")
    end_on = mine["end_on"].to_numpy(dtype="datetime64[s]")
    start_on = np.where(np.isnat(start_on), first, start_on)
    end_on = np.where(np.isnat(end_on), last, end_on)
    steps = plans.groupby(plans["employee_id"].astype(str))["step"].max()
    base = mine["mentor_id"].astype(str).map(steps).fillna(0).to_numpy(dtype=np.int64)
    rank = mine.groupby("mentor_id", sort=False).cumcount().to_numpy()
    comp = mine["competency_id"].astype(str)
    name = comp.map(names).fillna(comp) if names is not None else comp
    item = mine["item_id"].astype(object).where(mine["item_id"].notna(), "mentoring")
    months = start_on.astype("datetime64[M]").astype(np.int64) - first.astype(
        "datetime64[M]"
    ).astype(np.int64)
    rows = pd.DataFrame(
        {
            "employee_id": mine["mentor_id"].astype(str).to_numpy(),
            "step": base + rank + 1,
            "item_id": item.astype(str).to_numpy(),
            "purpose": "leverage_strength",
            "competency_id": comp.to_numpy(),
            "start_on": start_on,
            "end_on": end_on,
            "hours": float(mentor_hours),
            "cost": 0.0,
            "rationale": (
                "builds on your strength in "
                + name
                + " ("
                + _fmt(mine["mentor_percentile"], 0).to_numpy()
                + "th percentile; others rate you "
                + _fmt(mine["mentor_others_score"], 1).to_numpy()
                + f"/{scale_max:g}) by mentoring "
                + mine["mentee_id"].astype(str)
                + " (teaching is developing)"
            ).to_numpy(),
            "title": (
                "Mentor " + mine["mentee_id"].astype(str) + " in " + name
            ).to_numpy(),
            "kind": "mentoring",
            "group": "exposure",
            "month": months.astype(np.int64),
            "mentor_id": None,
            "mentee_id": mine["mentee_id"].astype(str).to_numpy(),
        }
    )
    rows = rows.astype({c: plans[c].dtype for c in rows.columns if c in plans.columns})
    both = pd.concat([plans, rows[plans.columns]], ignore_index=True)
    order = np.argsort(_positions(people, both["employee_id"]), kind="stable")
    plans = both.iloc[order].reset_index(drop=True)

    summary = plan_summary.copy()
    count = rows.groupby("employee_id").size()
    p = _positions(people, pd.Series(count.index))
    n_new = np.zeros(len(people), dtype=np.int64)
    n_new[p] = count.to_numpy()
    added = n_new * float(mentor_hours)
    touched = n_new > 0
    old = summary["hours"].to_numpy(dtype=float)
    new = old + added
    summary["n_items"] = summary["n_items"].to_numpy() + n_new
    summary["hours"] = new
    # the mentor's hours are exposure hours on a strength: every share of
    # plan hours is recomputed with them
    for column, extra in (
        ("experience_share", False),
        ("exposure_share", True),
        ("education_share", False),
        ("strength_share", True),
        ("gap_share", False),
        ("track_share", False),
        ("role_share", False),
    ):
        if column not in summary.columns:
            continue
        share = summary[column].to_numpy(dtype=float)
        hours = np.where(np.isnan(share), 0.0, share * old) + (added if extra else 0.0)
        summary[column] = np.where(touched, hours / np.where(new > 0, new, 1), share)
    if "hours_available" in summary.columns:
        avail = summary["hours_available"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            used = np.where(avail > 0, new / np.where(avail > 0, avail, 1), np.nan)
        summary["hours_used_share"] = used
    if "status" in summary.columns:
        summary["status"] = summary["status"].where(~touched, "planned")
    summary["n_mentees"] = n_new
    summary["mentoring_hours"] = added
    return plans, summary


def mentoring_stats(mentoring: pd.DataFrame) -> dict:
    """Needs, matches, coverage (share of needs with a mentor) and mean fit.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan._mentoring import mentoring_stats
    >>> m = pd.DataFrame({"mentor_id": ["A", None], "fit": [0.4, None]})
    >>> mentoring_stats(m)
    {'needs': 2, 'matched': 1, 'coverage': 0.5, 'mean_fit': 0.4}
    """
    matched = mentoring["mentor_id"].notna()
    n = len(mentoring)
    return {
        "needs": n,
        "matched": int(matched.sum()),
        "coverage": float(matched.mean()) if n else float("nan"),
        "mean_fit": float(mentoring.loc[matched, "fit"].mean())
        if matched.any()
        else float("nan"),
    }


# -- helpers -------------------------------------------------------------------


def _positions(index: pd.Index, values) -> np.ndarray:
    """Positions of ``values`` in ``index``; -1 when absent or missing."""
    values = values if isinstance(values, pd.Series) else pd.Series(values)
    present = values.notna().to_numpy()
    out = np.full(len(values), -1, dtype=np.int64)
    if present.any():
        out[present] = _hashed_positions(index, values[present])
    return out


def _names(competency_names):
    if competency_names is None:
        return None
    if isinstance(competency_names, pd.Series):
        return competency_names.astype(str)
    return pd.Series(dict(competency_names), dtype="str")


def _as_bool(series) -> np.ndarray:
    return series.fillna(False).to_numpy(dtype=bool)


def _col(frame, column):
    if column not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    s = frame[column].astype(object)
    return s.where(frame[column].notna(), None).to_numpy()


def _dates(frame, column):
    if column not in frame.columns:
        return np.full(len(frame), np.datetime64("NaT", "s"))
    return pd.to_datetime(frame[column]).to_numpy(dtype="datetime64[s]")


def _fmt(values, decimals) -> pd.Series:
    """Numbers as text with ``decimals`` places ("n/a" when missing); each
    distinct value is formatted once."""
    rounded = np.round(np.asarray(values, dtype=float), decimals) + 0.0
    codes, uniques = pd.factorize(rounded)
    text = [f"{u:.{decimals}f}" for u in uniques] + ["n/a"]
    return pd.Series(pd.Index(text, dtype="str").take(codes))


def _frame(out: dict) -> pd.DataFrame:
    frame = pd.DataFrame({name: out[name] for name in COLUMNS})
    frame = frame.astype(
        {
            "mentee_id": "str",
            "mentor_id": "str",
            "competency_id": "str",
            "reason": "str",
            "item_id": "str",
            "transfer_risk": bool,
            "n_candidates": np.int64,
            "start_on": "datetime64[s]",
            "end_on": "datetime64[s]",
            **dict.fromkeys(_NUMERIC, float),
        }
    )
    return frame
