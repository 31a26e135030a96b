"""Training-needs analysis (TNA) for the organisation.

From scored profiles: where the gaps are (by competency, role and unit),
what it would take to close them with the current catalog (hours and
money), which needs the catalog cannot serve, and how to spend a budget
across programmes for the largest expected utility.

Data flow: profiles + employees + roles + catalog → needs → closing paths
(catalog items per competency and level, cheapest per point of gain first)
→ gap, coverage and allocation tables in a :class:`TNAResult`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from devplan import roi
from devplan._recommend import _NEED_WEIGHT, LEVEL_FIT, PathRecommender
from devplan._schema import ITEM_LEVELS

#: Person level buckets (rows of the recommender's level-fit table).
PERSON_LEVELS = ("low", "middle", "high")


@dataclasses.dataclass
class TNAResult:
    """The tables of a training-needs analysis (see :func:`tna`).

    Attributes
    ----------
    gaps_by_competency, gaps_by_role, gaps_by_unit : DataFrame
        Gap totals per competency, per role × competency and per
        business unit × competency: ``n_assessed, n_needs, n_critical,
        total_gap, mean_gap, hours, cost, n_not_closable``.
    needs : DataFrame
        One row per need (employee × competency): ``employee_id, role_id,
        business_unit, competency_id, importance, score, gap,
        person_level, items_needed, hours, cost, closable, gap_left``.
    closing_paths : DataFrame
        Per competency and person level, the fitting catalog items in the
        order they are used: ``competency_id, person_level, order,
        item_id, title, level, effect, hours, cost, cumulative_effect,
        cumulative_hours, cumulative_cost``. A need uses the first
        ``items_needed`` items of its path.
    coverage_gaps : DataFrame
        Needs the catalog cannot serve or close: ``competency_id,
        person_level, fitting_levels, n_needs, total_gap, n_items_any_level,
        n_items_fitting, max_gain, n_not_closable, problem``.
    allocation : DataFrame
        One row per programme (closing the gaps in one competency):
        ``competency_id, n_needs, hours, cost, d, benefit, utility, bcr,
        funded_people, funded_hours, funded_cost, funded_benefit,
        funded_utility``, best first.
    budget : float
        The budget allocated (``inf`` when none was given).

    Examples
    --------
    >>> import devplan
    >>> b = devplan.datasets.load_sample()
    >>> profiles = devplan.CompetencyScorer().fit(b).profiles(b)
    >>> result = devplan.tna(profiles, b.employees, b.roles, b.catalog)
    >>> sorted(result.tables)[:3]
    ['tna_allocation', 'tna_closing_paths', 'tna_coverage_gaps']
    """

    gaps_by_competency: pd.DataFrame
    gaps_by_role: pd.DataFrame
    gaps_by_unit: pd.DataFrame
    needs: pd.DataFrame
    closing_paths: pd.DataFrame
    coverage_gaps: pd.DataFrame
    allocation: pd.DataFrame
    budget: float

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """All tables by output name (``tna_...``)."""
        return {
            f"tna_{f.name}": getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "budget"
        }

    def summary(self) -> str:
        """A few lines for people."""
        needs = self.needs
        closable = int(needs["closable"].sum())
        alloc = self.allocation
        lines = [
            f"{len(needs):,} needs of {needs['employee_id'].nunique():,} people "
            f"in {needs['competency_id'].nunique():,} competencies "
            f"(total gap {needs['gap'].sum():,.1f} scale points).",
            f"Closing them with the catalog: {needs['hours'].sum():,.0f} hours, "
            f"{needs['cost'].sum():,.0f} in costs; {closable:,} of "
            f"{len(needs):,} fully closable.",
            f"Coverage gaps: {len(self.coverage_gaps):,} "
            "(competency × level needs the catalog cannot serve or close).",
        ]
        if len(alloc):
            budget = "no limit" if np.isinf(self.budget) else f"{self.budget:,.0f}"
            lines.append(
                f"Budget ({budget}): {alloc['funded_cost'].sum():,.0f} spent on "
                f"{int(alloc['funded_people'].sum()):,} needs in "
                f"{int((alloc['funded_people'] > 0).sum()):,} programmes; expected "
                f"utility {alloc['funded_utility'].sum():,.0f}."
            )
        return "\n".join(lines)


def tna(
    profiles: pd.DataFrame,
    employees: pd.DataFrame,
    roles: pd.DataFrame,
    catalog: pd.DataFrame,
    *,
    competencies: pd.DataFrame | None = None,
    budget: float | None = None,
    sd_y=None,
    salary=None,
    years: float = 1.0,
    criterion: str = "behaviour",
    effect_sizes=None,
    importance_weights=None,
    hourly_cost: float = 0.0,
    item_effects: pd.DataFrame | None = None,
    recommender: PathRecommender | None = None,
) -> TNAResult:
    """Training-needs analysis: gaps, cost to close them, coverage, budget.

    Parameters
    ----------
    profiles : DataFrame
        The ``profiles`` table (``employee_id, competency_id, score, gap,
        is_need, importance``; ``scored`` when present).
    employees : DataFrame
        Employees (``role_id``; ``business_unit`` and
        ``is_people_manager`` when present).
    roles : DataFrame
        Role profiles (``role_id``; ``role_name`` when present).
    catalog : DataFrame
        The validated catalog.
    competencies : DataFrame or None, default=None
        The ``competencies`` table, for names and the competency list.
    budget : float or None, default=None
        Money to allocate across programmes; ``None``: no limit (every need
        whose expected utility is positive is funded).
    sd_y : float or Series or None, default=None
        Money value of one SD of job performance per person-year (a Series
        by employee_id for one per person); or give ``salary``. Without
        either, programmes are ranked by effect size per unit of money and
        the money columns are NaN.
    salary : float or str or None, default=None
        Salary or an employees column; SD_y by the 40% rule.
    years : float, default=1.0
        T, years the effect lasts.
    criterion : str, default="behaviour"
        Which default effect size to use (:func:`devplan.roi.default_effect_size`).
    effect_sizes : mapping or None, default=None
        Overrides of the default effect sizes.
    importance_weights : mapping or None, default=None
        Relevance of a gap to job performance by importance; default the
        recommender's need weights: critical 1.0, important 0.6, useful 0.
    hourly_cost : float, default=0.0
        Money per learner hour, added to an item's cost when choosing the
        cheapest items (participants' time); 0 ranks by money, then hours.
    item_effects : DataFrame or None, default=None
        ``item_id, competency_id, effect``: known effects (for example
        learned from outcomes) replacing the catalog defaults.
    recommender : PathRecommender or None, default=None
        A fitted recommender whose effect matrix and level bounds to use;
        default one fitted on ``catalog``.

    Returns
    -------
    TNAResult

    Notes
    -----
    A need is a scored profile row with ``is_need`` and a positive gap
    (required minus score). Its person level is low, middle or high by the
    recommender's ``level_bounds``; the items that fit it are those with an
    effect on the competency and a positive level fit (low: foundation or
    intermediate; middle: any; high: intermediate or advanced), their gain
    the effect × the level fit. Items are used cheapest per point of gain
    first ((cost + hourly_cost × hours) / gain, then hours / gain), each
    once, gains adding up, until the gap is closed; a gap larger than all
    fitting items together is not closable and ``gap_left`` says by how
    much. (The per-person filters of planning (language, modality, track,
    prerequisites, senior level rules) are not applied: this is the
    organisation view.)

    Budget allocation: a programme closes the gaps in one competency; each
    need is a seat with cost :math:`c_i`, effect size
    :math:`d_i = d \\cdot w_i \\cdot \\min(1, gain_i / gap_i)` (the default
    meta-analytic d, leadership for people managers, times the importance
    weight, times the share of the gap the catalog closes) and expected
    utility :math:`T d_i SD_{y,i} - c_i` (:func:`devplan.roi.utility` with
    N = 1). Seats with positive utility are funded in order of benefit per
    unit of money (free seats first) while the running cost stays within
    the budget.

    Examples
    --------
    >>> import devplan
    >>> b = devplan.datasets.load_sample()
    >>> profiles = devplan.CompetencyScorer().fit(b).profiles(b)
    >>> result = devplan.tna(profiles, b.employees, b.roles, b.catalog,
    ...                      budget=20_000, sd_y=20_000)
    >>> bool(result.allocation["funded_cost"].sum() <= 20_000)
    True
    >>> list(result.gaps_by_competency.columns[:4])
    ['competency_id', 'name', 'n_assessed', 'n_needs']
    """
    for name, table, cols in (
        (
            "profiles",
            profiles,
            ("employee_id", "competency_id", "score", "gap", "is_need", "importance"),
        ),
        ("employees", employees, ("employee_id", "role_id")),
        ("roles", roles, ("role_id",)),
    ):
        missing = [c for c in cols if c not in table]
        if missing:
            raise ValueError(f"Table {name} lacks column(s) {missing}.")
    if budget is not None and not budget >= 0:
        raise ValueError(f"Got budget={budget!r}; expected an amount >= 0 or None.")
    for name, value in (("years", years), ("hourly_cost", hourly_cost)):
        if not value >= 0:
            raise ValueError(f"Got {name}={value!r}; expected a number >= 0.")
    weights = dict(_NEED_WEIGHT if importance_weights is None else importance_weights)
    if recommender is None:
        comps = None if competencies is None else competencies["competency_id"]
        recommender = PathRecommender().fit(
            catalog, competencies=comps, item_effects=item_effects
        )
    names = None
    if competencies is not None and "name" in competencies:
        names = competencies.set_index(competencies["competency_id"].astype(str))[
            "name"
        ].astype(str)

    emp = employees.set_index(employees["employee_id"].astype(str))
    emp = emp[~emp.index.duplicated()]
    prof = profiles
    if "scored" in prof:
        prof = prof[prof["scored"].fillna(False).astype(bool).to_numpy()]
    prof = prof.assign(
        employee_id=prof["employee_id"].astype(str),
        competency_id=prof["competency_id"].astype(str),
    )
    prof["role_id"] = emp["role_id"].astype(str).reindex(prof["employee_id"]).to_numpy()
    unit = (
        emp["business_unit"].astype(object)
        if "business_unit" in emp
        else pd.Series(np.nan, index=emp.index, dtype=object)
    )
    prof["business_unit"] = unit.reindex(prof["employee_id"]).fillna("").to_numpy()
    gap = prof["gap"].to_numpy(dtype=float)
    is_need = prof["is_need"].fillna(False).astype(bool).to_numpy() & (gap > 0)
    needs = prof.loc[
        is_need,
        [
            "employee_id",
            "role_id",
            "business_unit",
            "competency_id",
            "importance",
            "score",
            "gap",
        ],
    ].reset_index(drop=True)
    needs["importance"] = needs["importance"].astype(str)
    paths, needs = _close(recommender, needs, hourly_cost)

    group_cols = {
        "gaps_by_competency": [],
        "gaps_by_role": ["role_id"],
        "gaps_by_unit": ["business_unit"],
    }
    gap_tables = {
        name: _gap_table(prof, needs, keys, names) for name, keys in group_cols.items()
    }
    if "role_name" in roles:
        role_names = (
            roles.drop_duplicates("role_id")
            .set_index(roles.drop_duplicates("role_id")["role_id"].astype(str))[
                "role_name"
            ]
            .astype(str)
        )
        t = gap_tables["gaps_by_role"]
        t.insert(1, "role_name", role_names.reindex(t["role_id"]).to_numpy())
    coverage = _coverage(recommender, needs, paths)
    allocation = _allocate(
        needs,
        emp,
        budget=np.inf if budget is None else float(budget),
        sd_y=sd_y,
        salary=salary,
        years=years,
        criterion=criterion,
        effect_sizes=effect_sizes,
        weights=weights,
        names=names,
    )
    return TNAResult(
        **gap_tables,
        needs=needs,
        closing_paths=paths,
        coverage_gaps=coverage,
        allocation=allocation,
        budget=np.inf if budget is None else float(budget),
    )


def _person_level(recommender, score):
    lo, hi = recommender.level_bounds
    bucket = (score >= lo).astype(np.int64) + (score >= hi)
    return np.where(np.isnan(score), 1, bucket)


def _close(recommender, needs, hourly_cost):
    """Closing paths per competency × person level, and each need's share."""
    items = recommender.items_
    eff = recommender.effects_
    comps = recommender.competencies_
    item_level = pd.Index(ITEM_LEVELS).get_indexer(items["level"])
    hours = items["hours"].to_numpy(dtype=float)
    cost = items["cost"].to_numpy(dtype=float)
    price = cost + hourly_cost * hours
    c = comps.get_indexer(needs["competency_id"])
    level = _person_level(recommender, needs["score"].to_numpy(dtype=float))
    combo = np.where(c >= 0, c * 3 + level, -1)
    gaps = needs["gap"].to_numpy(dtype=float)
    n = len(needs)
    items_needed = np.zeros(n, dtype=np.int64)
    need_hours = np.zeros(n)
    need_cost = np.zeros(n)
    gain = np.zeros(n)
    path_parts = []
    for code in np.unique(combo[combo >= 0]):
        ci, b = divmod(int(code), 3)
        g = eff[:, ci] * LEVEL_FIT[b, item_level]
        j = np.flatnonzero(g > 0)
        rows = np.flatnonzero(combo == code)
        if not len(j):
            continue
        order = np.lexsort((j, hours[j] / g[j], price[j] / g[j]))
        j = j[order]
        cum_g, cum_h, cum_c = np.cumsum(g[j]), np.cumsum(hours[j]), np.cumsum(cost[j])
        path_parts.append(
            pd.DataFrame(
                {
                    "competency_id": comps[ci],
                    "person_level": PERSON_LEVELS[b],
                    "order": np.arange(1, len(j) + 1),
                    "item_id": items["item_id"].to_numpy()[j],
                    "title": items["title"].to_numpy()[j],
                    "level": items["level"].to_numpy()[j],
                    "effect": g[j],
                    "hours": hours[j],
                    "cost": cost[j],
                    "cumulative_effect": cum_g,
                    "cumulative_hours": cum_h,
                    "cumulative_cost": cum_c,
                }
            )
        )
        # the first k items whose cumulative gain reaches the gap
        k = np.searchsorted(cum_g, gaps[rows] - 1e-12, side="left")
        last = np.minimum(k, len(j) - 1)
        items_needed[rows] = last + 1
        need_hours[rows] = cum_h[last]
        need_cost[rows] = cum_c[last]
        gain[rows] = cum_g[last]
    paths = (
        pd.concat(path_parts, ignore_index=True)
        if path_parts
        else pd.DataFrame(
            columns=[
                "competency_id",
                "person_level",
                "order",
                "item_id",
                "title",
                "level",
                "effect",
                "hours",
                "cost",
                "cumulative_effect",
                "cumulative_hours",
                "cumulative_cost",
            ]
        )
    )
    out = needs.copy()
    out["person_level"] = np.array(PERSON_LEVELS, dtype=object)[level]
    out["items_needed"] = items_needed
    out["hours"] = need_hours
    out["cost"] = need_cost
    out["gain"] = np.minimum(gain, gaps)
    out["gap_left"] = np.maximum(gaps - gain, 0.0)
    out["closable"] = out["gap_left"] <= 1e-9
    return paths, out


def _gap_table(prof, needs, keys, names):
    by = [*keys, "competency_id"]
    assessed = prof.groupby(by, sort=True).size().rename("n_assessed")
    crit = needs["importance"] == "critical"
    g = needs.assign(_crit=crit, _open=~needs["closable"]).groupby(by, sort=True)
    table = pd.concat(
        [
            assessed,
            g.size().rename("n_needs"),
            g["_crit"].sum().rename("n_critical"),
            g["gap"].sum().rename("total_gap"),
            g["gap"].mean().rename("mean_gap"),
            g["hours"].sum().rename("hours"),
            g["cost"].sum().rename("cost"),
            g["_open"].sum().rename("n_not_closable"),
        ],
        axis=1,
    )
    for col in ("n_needs", "n_critical", "n_not_closable"):
        table[col] = table[col].fillna(0).astype(np.int64)
    for col in ("total_gap", "hours", "cost"):
        table[col] = table[col].fillna(0.0)
    table = table.reset_index()
    if names is not None:
        table.insert(
            len(keys) + 1,
            "name",
            names.reindex(table["competency_id"]).to_numpy(),
        )
    else:
        table.insert(len(keys) + 1, "name", table["competency_id"])
    return table.sort_values(
        [*keys, "total_gap", "competency_id"],
        ascending=[True] * len(keys) + [False, True],
    ).reset_index(drop=True)


def _coverage(recommender, needs, paths):
    """Competency × person level needs that the catalog cannot serve or close."""
    comps = recommender.competencies_
    any_item = pd.Series(
        (recommender.effects_ > 0).sum(axis=0), index=comps.astype(str)
    )
    n_fit = paths.groupby(["competency_id", "person_level"]).size()
    max_gain = paths.groupby(["competency_id", "person_level"])["effect"].sum()
    g = needs.assign(_open=~needs["closable"]).groupby(
        ["competency_id", "person_level"], sort=True
    )
    table = pd.concat(
        [
            g.size().rename("n_needs"),
            g["gap"].sum().rename("total_gap"),
            g["_open"].sum().rename("n_not_closable"),
        ],
        axis=1,
    ).reset_index()
    key = pd.MultiIndex.from_frame(table[["competency_id", "person_level"]])
    table["n_items_any_level"] = (
        any_item.reindex(table["competency_id"]).fillna(0).astype(np.int64).to_numpy()
    )
    table["n_items_fitting"] = n_fit.reindex(key).fillna(0).astype(np.int64).to_numpy()
    table["max_gain"] = max_gain.reindex(key).fillna(0.0).to_numpy()
    fitting = {
        name: ";".join(lvl for k, lvl in enumerate(ITEM_LEVELS) if LEVEL_FIT[b, k] > 0)
        for b, name in enumerate(PERSON_LEVELS)
    }
    table.insert(2, "fitting_levels", table["person_level"].map(fitting))
    problem = np.select(
        [
            table["n_items_any_level"] == 0,
            table["n_items_fitting"] == 0,
            table["n_not_closable"] > 0,
        ],
        [
            "no catalog item develops it",
            "no catalog item at a fitting level",
            "the fitting items together cannot close the largest gaps",
        ],
        default="",
    )
    table["problem"] = problem
    table["n_not_closable"] = table["n_not_closable"].astype(np.int64)
    return table[table["problem"] != ""].reset_index(drop=True)


def _allocate(
    needs, emp, *, budget, sd_y, salary, years, criterion, effect_sizes, weights, names
):
    """Fund the seats (needs) of programmes by benefit per unit of money."""
    people = pd.Index(needs["employee_id"])
    general = roi.default_effect_size(criterion, "general", effect_sizes)
    leader = roi.default_effect_size(criterion, "leadership", effect_sizes)
    manager = np.zeros(len(needs), dtype=bool)
    if "is_people_manager" in emp:
        manager = (
            emp["is_people_manager"].reindex(people).fillna(False).astype(bool)
        ).to_numpy()
    w = needs["importance"].map(weights).fillna(0.0).to_numpy(dtype=float)
    gaps = needs["gap"].to_numpy(dtype=float)
    closed = np.divide(
        needs["gain"].to_numpy(dtype=float),
        gaps,
        out=np.zeros(len(needs)),
        where=gaps > 0,
    )
    d = np.where(manager, leader, general) * w * np.minimum(closed, 1.0)
    cost = needs["cost"].to_numpy(dtype=float)
    money = sd_y is not None or salary is not None
    if money:
        unique = pd.Index(pd.unique(people))
        sd_unique = roi._sd_y_per_person(
            unique, sd_y, salary, None, emp.reset_index(drop=True)
        )
        sd = sd_unique[unique.get_indexer(people)]
        benefit = years * d * sd
        util = np.asarray(roi.utility(1, d, sd, years=years, total_cost=cost))
        worth = util > 0
    else:
        # no money value of performance: rank by effect per unit of money
        benefit = years * d
        util = np.full(len(needs), np.nan)
        worth = d > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cost > 0, benefit / np.where(cost > 0, cost, 1), np.inf)
    order = np.lexsort((np.arange(len(needs)), -ratio))
    order = order[worth[order]]
    funded = np.zeros(len(needs), dtype=bool)
    within = np.cumsum(cost[order]) <= budget + 1e-9
    funded[order[within]] = True
    seats = pd.DataFrame(
        {
            "competency_id": needs["competency_id"],
            "n_needs": 1,
            "hours": needs["hours"],
            "cost": cost,
            "d": d,
            "benefit": benefit if money else np.nan,
            "utility": util,
            "funded_people": funded.astype(np.int64),
            "funded_hours": needs["hours"].to_numpy() * funded,
            "funded_cost": cost * funded,
            "funded_benefit": (benefit * funded) if money else np.nan,
            "funded_utility": util * funded,
        }
    )
    sums = seats.groupby("competency_id", sort=True).sum(min_count=1)
    sums["n_needs"] = sums["n_needs"].astype(np.int64)
    sums["funded_people"] = sums["funded_people"].astype(np.int64)
    sums["d"] = seats.groupby("competency_id", sort=True)["d"].mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        sums.insert(
            sums.columns.get_loc("utility") + 1,
            "bcr",
            np.where(sums["cost"] > 0, sums["benefit"] / sums["cost"], np.nan),
        )
    out = sums.reset_index()
    out.insert(
        1,
        "name",
        names.reindex(out["competency_id"]).to_numpy()
        if names is not None
        else out["competency_id"],
    )
    sort_key = out["funded_utility"] if money else out["funded_people"]
    out = out.assign(_key=sort_key.fillna(0.0), _d=out["d"])
    out = out.sort_values(
        ["_key", "_d", "competency_id"], ascending=[False, False, True]
    )
    return out.drop(columns=["_key", "_d"]).reset_index(drop=True)
