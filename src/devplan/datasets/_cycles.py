"""The next assessment cycle of a synthetic organisation.

:func:`simulate_next_cycle` plays out one plan year: people complete the items
of their plans with some probability, their true competency levels rise by the
true effects of what they completed, and the same raters rate them again a
year later with the same rating model as :func:`make_tables`. The result is a
second bundle (both cycles' ratings, the updated learning history) and the
updated ground truth, so that outcome evaluation and learning from outcomes
can be checked against what really happened.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from devplan._schema import ENROLMENTS
from devplan.datasets._generator import (
    _BASE_EFFECT,
    _LEVEL_EFFECT,
    _P_SATISFACTION_MISSING,
    _SCALE_MAX,
    _SCALE_MIN,
    _SD_ASSESSOR_NOISE,
    _SD_NOISE,
    ITEM_KINDS,
    ITEM_LEVELS,
    OrganisationTruth,
    _check_random_state,
)

__all__ = ["simulate_next_cycle"]

#: Noise of a direct competency rating (the mean of a rater's item scores,
#: rounded to halves): about the item noise over the square root of 3 items.
_SD_COMPETENCY_NOISE = 0.35
_ASSESSOR = "assessor"


def simulate_next_cycle(
    bundle,
    truth: OrganisationTruth,
    plans,
    *,
    completion_rate: float = 0.7,
    assessed_on=None,
    random_state=None,
):
    """Play out one plan year and re-assess everyone.

    Parameters
    ----------
    bundle : Bundle
        A synthetic organisation from :func:`make_organisation` (or the
        result of an earlier call).
    truth : OrganisationTruth
        Its ground truth.
    plans : DataFrame or PlanResult
        The plans of the year: ``employee_id, item_id`` (one row per plan
        step; other columns are ignored).
    completion_rate : float, default=0.7
        Probability that a planned item is completed before the next
        assessment; the rest are dropped (half) or still in progress.
    assessed_on : str, date or None, default=None
        Date of the new assessment; ``None`` is one year after the latest
        assessment in ``bundle``.
    random_state : int, numpy.random.Generator or None, default=None
        Seed or generator.

    Returns
    -------
    bundle : Bundle
        The same organisation a year later: ``assessments`` holds both the
        earlier ratings and the new cycle (the scorer scores the latest),
        ``enrolments`` the earlier history plus one row per plan item
        (``completed``, ``dropped`` or ``in_progress``, with dates and, for
        completions, a satisfaction rating that rises with the item's true
        quality), and ``months_in_role`` is 12 months higher.
    truth : OrganisationTruth
        The updated ground truth: ``levels`` are the new true levels (old
        levels plus the true effects of the completed items, clipped to the
        scale) and ``levels_by_cycle`` gains the new cycle.

    Notes
    -----
    Every rater who rated a person in the latest cycle rates them again on
    the same items with the rating model of :func:`make_tables`::

        score = clip(round(level_pc + offset_i + leniency_r
                           + [r is p] inflation_p + noise), 1, 5)

    (noise sd 0.6; reverse-keyed items stored reversed; straight-liners give
    their constant score again). Assessor ratings are redrawn around the new
    level with noise sd 0.25 and rounded to halves; direct competency
    ratings with noise sd 0.35. Nobody changes except through the items they
    complete, so the true effect of an item is exactly the gain it causes
    (up to the ceiling of the scale).

    Examples
    --------
    >>> import devplan
    >>> from devplan.datasets import make_organisation, simulate_next_cycle
    >>> b, truth = make_organisation(60, random_state=0, return_truth=True)
    >>> plans = devplan.generate_plans(b).plans
    >>> b2, truth2 = simulate_next_cycle(b, truth, plans, random_state=0)
    >>> b2.assessments["assessed_on"].dt.year.unique().tolist()
    [2026, 2027]
    >>> bool((truth2.levels >= truth.levels - 1e-12).all().all())
    True
    """
    from devplan._bundle import Bundle

    rng = _check_random_state(random_state)
    if not 0.0 <= float(completion_rate) <= 1.0:
        raise ValueError(
            f"Got completion_rate={completion_rate!r}; expected a number in [0, 1]."
        )
    if hasattr(plans, "plans"):
        plans = plans.plans
    for col in ("employee_id", "item_id"):
        if col not in plans.columns:
            raise ValueError(
                f"Got a plans table without the column {col!r}; expected "
                "employee_id and item_id (the plans table of a PlanResult)."
            )
    a = bundle.assessments
    latest = pd.Timestamp(a["assessed_on"].max())
    new_date = (
        latest + pd.DateOffset(years=1)
        if assessed_on is None
        else pd.Timestamp(assessed_on)
    )
    if new_date <= latest:
        raise ValueError(
            f"Got assessed_on={assessed_on!r}; expected a date after the latest "
            f"assessment ({latest.date()})."
        )

    people = pd.Index(truth.levels.index.astype(str))
    comps = pd.Index(truth.levels.columns.astype(str))
    catalog = bundle.catalog.reset_index(drop=True)
    item_ids = pd.Index(catalog["item_id"].astype(str))

    # Plan items: completed, dropped or still in progress.
    steps = plans[["employee_id", "item_id"]].astype(str).drop_duplicates()
    p = people.get_indexer(steps["employee_id"])
    j = item_ids.get_indexer(steps["item_id"])
    keep = (p >= 0) & (j >= 0)
    steps, p, j = steps[keep], p[keep], j[keep]
    m = len(steps)
    u = rng.random(m)
    done = u < completion_rate
    dropped = ~done & (u < completion_rate + (1.0 - completion_rate) / 2)
    status = np.where(done, "completed", np.where(dropped, "dropped", "in_progress"))
    span = max((new_date - latest).days - 30, 2)
    completed_on = latest + pd.to_timedelta(1 + (rng.random(m) * span), unit="D")
    hours = catalog["hours"].to_numpy(dtype=float)[j]
    started_on = completed_on - pd.to_timedelta(
        np.maximum(1, np.round(hours * (1.5 + 2.5 * rng.random(m)))), unit="D"
    )

    # True effects as a dense item x competency matrix.
    eff = truth.item_effects
    effects = np.zeros((len(item_ids), len(comps)))
    ej = item_ids.get_indexer(eff["item_id"].astype(str))
    ec = comps.get_indexer(eff["competency_id"].astype(str))
    ok = (ej >= 0) & (ec >= 0)
    effects[ej[ok], ec[ok]] = eff["effect"].to_numpy(dtype=float)[ok]

    # Satisfaction rises with the item's true quality (as in make_tables).
    kind_code = pd.Index(ITEM_KINDS).get_indexer(catalog["kind"].astype(str))
    base = (
        _BASE_EFFECT[kind_code]
        * _LEVEL_EFFECT[pd.Index(ITEM_LEVELS).get_indexer(catalog["level"].astype(str))]
    )
    if truth.kind_effects is not None:  # the world's multipliers are not quality
        base = base * truth.kind_effects.reindex(ITEM_KINDS).to_numpy()[kind_code]
    primary = eff.drop_duplicates("item_id")  # primary competency comes first
    quality = np.ones(len(item_ids))
    pj = item_ids.get_indexer(primary["item_id"].astype(str))
    quality[pj[pj >= 0]] = np.where(  # a zero multiplier hides quality: average
        base[pj] > 0,
        primary["effect"].to_numpy(dtype=float) / np.maximum(base[pj], 1e-9),
        1.0,
    )[pj >= 0]
    log_q = np.clip(np.log(np.maximum(quality[j], 1e-9)), -3.0, 1.0)
    satisfaction = np.clip(
        np.round(3.7 + 0.35 * log_q + rng.normal(0.0, 0.7, m)), 1.0, 5.0
    )
    satisfaction[~done | (rng.random(m) < _P_SATISFACTION_MISSING)] = np.nan

    # New true levels.
    counts = np.zeros((len(people), len(item_ids)))
    np.add.at(counts, (p[done], j[done]), 1.0)
    old = truth.levels.to_numpy(dtype=float)
    new = np.clip(old + counts @ effects, _SCALE_MIN, _SCALE_MAX)

    new_ratings = _rerate(rng, bundle, truth, new, people, comps, latest, new_date)

    history = bundle.enrolments
    pair = history["employee_id"].astype(str) + "\x1f" + history["item_id"].astype(str)
    replaced = pair.isin(steps["employee_id"] + "\x1f" + steps["item_id"])
    fresh = pd.DataFrame(
        {
            "employee_id": steps["employee_id"].to_numpy(),
            "item_id": steps["item_id"].to_numpy(),
            "started_on": started_on.to_numpy(dtype="datetime64[s]"),
            "completed_on": np.where(
                done, completed_on.to_numpy(dtype="datetime64[s]"), np.datetime64("NaT")
            ).astype("datetime64[s]"),
            "status": status,
            "satisfaction": satisfaction,
        }
    )
    enrolments = pd.concat(
        [_plain(history[~replaced.to_numpy()]), fresh], ignore_index=True
    )[ENROLMENTS.names]
    employees = bundle.employees.copy()
    employees["months_in_role"] = employees["months_in_role"] + 12.0
    assessments = pd.concat([_plain(a), new_ratings], ignore_index=True)
    out = Bundle.from_frames(
        employees=employees,
        competencies=bundle.competencies,
        items=bundle.items,
        assessments=assessments,
        roles=bundle.roles,
        catalog=bundle.catalog,
        enrolments=enrolments,
        track_competencies=bundle.track_competencies,
        config=bundle.config,
    )
    levels = pd.DataFrame(new, index=truth.levels.index, columns=truth.levels.columns)
    cycle = int(truth.levels_by_cycle["cycle"].max()) + 1
    long = pd.DataFrame(
        {
            "cycle": cycle,
            "assessed_on": np.datetime64(new_date.date(), "s"),
            "employee_id": np.repeat(people.to_numpy(), len(comps)),
            "competency_id": np.tile(comps.to_numpy(), len(people)),
            "level": new.ravel(),
        }
    )
    by_cycle = pd.concat(
        [_plain(truth.levels_by_cycle), long], ignore_index=True
    ).astype({"employee_id": "category", "competency_id": "category"})
    return out, dataclasses.replace(truth, levels=levels, levels_by_cycle=by_cycle)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as strings (so that tables concatenate cleanly)."""
    cats = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    return df.astype(dict.fromkeys(cats, "str")) if cats else df


def _rerate(rng, bundle, truth, new, people, comps, latest, new_date):
    """The latest cycle's ratings, redrawn around the new true levels."""
    a = bundle.assessments
    last = a["assessed_on"].groupby(a["employee_id"].astype(str)).transform("max")
    rows = a[(a["assessed_on"] == last) & (last == latest)]
    emp = rows["employee_id"].astype(str)
    p = people.get_indexer(emp)
    items = bundle.items.set_index(bundle.items["item_id"].astype(str))
    item = rows["item_id"].astype(str)
    item_comp = items["competency_id"].astype(str).reindex(item).to_numpy()
    comp = np.where(
        rows["item_id"].isna().to_numpy(), rows["competency_id"].astype(str), item_comp
    )
    c = comps.get_indexer(comp)
    ok = (p >= 0) & (c >= 0)
    rows, p, c, item = rows[ok], p[ok], c[ok], item[ok]
    is_item = rows["item_id"].notna().to_numpy()
    rater = rows["rater_id"].astype(str)
    kind = rows["rater_type"].astype(str).to_numpy()
    leniency = truth.rater_leniency.reindex(rater).fillna(0.0).to_numpy()
    inflation = truth.self_inflation.reindex(emp[ok]).fillna(0.0).to_numpy()
    offsets = (
        truth.item_offsets.reindex(item).fillna(0.0).to_numpy()
        if truth.item_offsets is not None
        else np.zeros(len(rows))
    )
    level = new[p, c]
    true_score = level + leniency + np.where(kind == "self", inflation, 0.0)
    n = len(rows)
    score = np.empty(n)
    # questionnaire items: whole points, reverse keyed stored reversed
    score_i = np.clip(
        np.rint(true_score + offsets + rng.normal(0.0, _SD_NOISE, n)),
        _SCALE_MIN,
        _SCALE_MAX,
    )
    reverse = (
        items["reverse_keyed"].reindex(item).fillna(False).to_numpy(dtype=bool)
        & is_item
    )
    score_i[reverse] = (_SCALE_MIN + _SCALE_MAX) - score_i[reverse]
    sd = np.where(kind == _ASSESSOR, _SD_ASSESSOR_NOISE, _SD_COMPETENCY_NOISE)
    score_c = np.clip(
        np.round((true_score + rng.normal(0.0, 1.0, n) * sd) * 2) / 2,
        _SCALE_MIN,
        _SCALE_MAX,
    )
    score[:] = np.where(is_item, score_i, score_c)
    liner = rater.isin(truth.straight_liners.astype(str)).to_numpy()
    score[liner] = rows["score"].to_numpy(dtype=float)[liner]
    out = _plain(rows).copy()
    out["score"] = score
    out["assessed_on"] = np.datetime64(new_date.date(), "s")
    return out.reset_index(drop=True)
