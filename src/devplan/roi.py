"""Return on investment and utility of development, in money.

Pure, vectorised formulas (numbers, numpy arrays or pandas objects in, the
same shape out) and two table functions built on them:

- Phillips ROI: :func:`adjusted_benefits`, :func:`benefit_cost_ratio`,
  :func:`roi_percent`;
- Brogden–Cronbach–Gleser utility of a training programme: :func:`utility`,
  :func:`break_even_d`, with :func:`sd_y_from_salary` (the 40% rule) and
  :func:`sd_y_from_measures` (business measures) for the money value of one
  standard deviation of job performance;
- effect sizes: :func:`effect_size` (Cohen's d or Hedges' g from gains) and
  :func:`pooled_effect_size` (an evaluation table pooled per programme);
  default effect sizes from meta-analyses in :data:`ARTHUR_2003` and
  :data:`LACERENZA_2017`, chosen by :func:`default_effect_size`;
- :func:`forecast` (per plan or per programme, before it runs),
  :func:`actual` (after an evaluation) and :func:`in_business_measures`
  (results framed as revenue, waste, retention and expense).

Units: money in the organisation's currency, ``years`` in years, effect
sizes in standard deviations of job performance.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "ARTHUR_2003",
    "BUSINESS_MEASURES",
    "CRITERIA",
    "LACERENZA_2017",
    "SD_Y_SALARY_SHARE",
    "actual",
    "adjusted_benefits",
    "benefit_cost_ratio",
    "break_even_d",
    "default_effect_size",
    "effect_size",
    "forecast",
    "in_business_measures",
    "pooled_effect_size",
    "roi_percent",
    "sd_y_from_measures",
    "sd_y_from_salary",
    "utility",
]

#: Kirkpatrick levels (evaluation criteria) of the default effect sizes.
CRITERIA = ("reaction", "learning", "behaviour", "results")

#: Mean effect sizes (d) of organisational training by evaluation criterion.
#: Source: Arthur, W., Bennett, W., Edens, P. S., & Bell, S. T. (2003).
#: Effectiveness of training in organizations: a meta-analysis of design and
#: evaluation features. *Journal of Applied Psychology*, 88(2), 234–245.
ARTHUR_2003 = {"reaction": 0.60, "learning": 0.63, "behaviour": 0.62, "results": 0.62}

#: Mean effect sizes (d) of leadership training by evaluation criterion.
#: Source: Lacerenza, C. N., Reyes, D. L., Marlow, S. L., Joseph, D. L., &
#: Salas, E. (2017). Leadership training design, delivery, and
#: implementation: a meta-analysis. *Journal of Applied Psychology*, 102(12),
#: 1686–1718.
LACERENZA_2017 = {
    "reaction": 0.63,
    "learning": 0.73,
    "behaviour": 0.82,
    "results": 0.72,
}

#: SD_y as a share of mean salary (the "40% rule"). Source: Schmidt, F. L., &
#: Hunter, J. E. (1983). Individual differences in productivity: an empirical
#: test of estimates derived from studies of selection procedure utility.
#: *Journal of Applied Psychology*, 68(3), 407–414 (SD_y is at least 40% of
#: mean salary; 40% is the conservative end).
SD_Y_SALARY_SHARE = 0.40

#: Business measures (domain brief section 6) and the direction that pays.
BUSINESS_MEASURES = {
    "revenue": "up",
    "retention": "up",
    "waste": "down",
    "expense": "down",
}

_TABLES = {"general": ARTHUR_2003, "leadership": LACERENZA_2017}


def _out(value):
    """A Python float for scalar results, the array otherwise."""
    arr = np.asarray(value, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def _nonneg(name, value):
    arr = np.asarray(value, dtype=float)
    if np.any(arr < 0) or np.any(np.isnan(arr)):
        raise ValueError(f"Got {name}={value!r}; expected numbers >= 0.")
    return value


def _share(name, value):
    arr = np.asarray(value, dtype=float)
    if np.any((arr < 0) | (arr > 1)) or np.any(np.isnan(arr)):
        raise ValueError(f"Got {name}={value!r}; expected shares between 0 and 1.")
    return value


# ----------------------------------------------------------------------
# Phillips ROI


def adjusted_benefits(benefits, *, attribution=1.0, confidence=1.0):
    """Monetary benefits adjusted Phillips-style for attribution and confidence.

    Parameters
    ----------
    benefits : float or array-like
        Benefits in money (for example a year of improvement in a business
        measure).
    attribution : float or array-like, default=1.0
        Share of the improvement attributed to the programme (0–1), as
        estimated by participants or managers.
    confidence : float or array-like, default=1.0
        Confidence (0–1) in that estimate.

    Returns
    -------
    float or array
        ``benefits × attribution × confidence``.

    Examples
    --------
    >>> from devplan import roi
    >>> roi.adjusted_benefits(100_000, attribution=0.6, confidence=0.8)
    48000.0
    """
    _share("attribution", attribution)
    _share("confidence", confidence)
    return _out(np.asarray(benefits, dtype=float) * attribution * confidence)


def benefit_cost_ratio(benefits, costs, *, attribution=1.0, confidence=1.0):
    """Phillips benefit–cost ratio (BCR).

    Parameters
    ----------
    benefits : float or array-like
        Monetary benefits of the programme.
    costs : float or array-like
        Fully loaded programme costs (> 0).
    attribution, confidence : float or array-like, default=1.0
        Adjustments of the benefits, see :func:`adjusted_benefits`.

    Returns
    -------
    float or array
        ``adjusted benefits / costs``.

    Examples
    --------
    >>> from devplan import roi
    >>> roi.benefit_cost_ratio(60_000, 20_000)
    3.0
    """
    costs = np.asarray(costs, dtype=float)
    if np.any(~(costs > 0)):
        raise ValueError(f"Got costs={costs!r}; expected amounts > 0.")
    adj = adjusted_benefits(benefits, attribution=attribution, confidence=confidence)
    return _out(adj / costs)


def roi_percent(benefits, costs, *, attribution=1.0, confidence=1.0):
    """Phillips return on investment in percent.

    Parameters
    ----------
    benefits : float or array-like
        Monetary benefits of the programme.
    costs : float or array-like
        Fully loaded programme costs (> 0).
    attribution, confidence : float or array-like, default=1.0
        Adjustments of the benefits, see :func:`adjusted_benefits`.

    Returns
    -------
    float or array
        ``(adjusted benefits − costs) / costs × 100``.

    Examples
    --------
    >>> from devplan import roi
    >>> roi.roi_percent(60_000, 20_000)
    200.0
    """
    bcr = benefit_cost_ratio(
        benefits, costs, attribution=attribution, confidence=confidence
    )
    return _out((np.asarray(bcr) - 1.0) * 100.0)


# ----------------------------------------------------------------------
# Utility (Brogden–Cronbach–Gleser)


def _total_cost(n_trained, total_cost, cost_per_trainee):
    if (total_cost is None) == (cost_per_trainee is None):
        raise ValueError(
            f"Got total_cost={total_cost!r} and cost_per_trainee="
            f"{cost_per_trainee!r}; expected exactly one of them."
        )
    if total_cost is not None:
        return np.asarray(_nonneg("total_cost", total_cost), dtype=float)
    per = np.asarray(_nonneg("cost_per_trainee", cost_per_trainee), dtype=float)
    return np.asarray(n_trained, dtype=float) * per


def utility(
    n_trained,
    d,
    sd_y,
    *,
    years=1.0,
    total_cost=None,
    cost_per_trainee=None,
):
    """Money value of a training programme (Brogden–Cronbach–Gleser).

    Parameters
    ----------
    n_trained : float or array-like
        N, people trained.
    d : float or array-like
        True effect of the training on job performance, in standard
        deviations (trained minus untrained).
    sd_y : float or array-like
        SD_y, money value of one standard deviation of job performance per
        person and year (see :func:`sd_y_from_salary`).
    years : float or array-like, default=1.0
        T, years the effect lasts.
    total_cost : float or array-like or None, default=None
        C, the TOTAL cost of the programme for all N trainees.
    cost_per_trainee : float or array-like or None, default=None
        Cost per trainee instead; C = N × cost_per_trainee. Give exactly one
        of ``total_cost`` and ``cost_per_trainee``.

    Returns
    -------
    float or array
        ΔU in money.

    Notes
    -----
    :math:`\\Delta U = N \\cdot T \\cdot d \\cdot SD_y - C` with C the total
    programme cost (Schmidt, Hunter & Pearlman, 1982, *Personnel
    Psychology*, 35, 333–347, write the cost per trainee, :math:`N C`).

    Examples
    --------
    >>> from devplan import roi
    >>> roi.utility(30, 0.70, 10_000, years=1, total_cost=60_000)
    150000.0
    >>> roi.utility(30, 0.70, 10_000, years=1, cost_per_trainee=2_000)
    150000.0
    """
    cost = _total_cost(n_trained, total_cost, cost_per_trainee)
    n = np.asarray(_nonneg("n_trained", n_trained), dtype=float)
    t = np.asarray(_nonneg("years", years), dtype=float)
    sd = np.asarray(_nonneg("sd_y", sd_y), dtype=float)
    return _out(n * t * np.asarray(d, dtype=float) * sd - cost)


def break_even_d(n_trained, sd_y, *, years=1.0, total_cost=None, cost_per_trainee=None):
    """Smallest effect size at which a programme pays for itself (ΔU = 0).

    Parameters
    ----------
    n_trained, sd_y, years, total_cost, cost_per_trainee
        As in :func:`utility`.

    Returns
    -------
    float or array
        :math:`d = C / (N \\cdot T \\cdot SD_y)`; ``inf`` when the
        denominator is 0 and the cost is positive.

    Examples
    --------
    >>> from devplan import roi
    >>> roi.break_even_d(30, 10_000, total_cost=60_000)
    0.2
    """
    cost = _total_cost(n_trained, total_cost, cost_per_trainee)
    denom = (
        np.asarray(n_trained, dtype=float)
        * np.asarray(years, dtype=float)
        * np.asarray(sd_y, dtype=float)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(denom > 0, cost / np.where(denom > 0, denom, 1.0), np.inf)
    out = np.where((denom <= 0) & (cost == 0), 0.0, out)
    return _out(out)


def sd_y_from_salary(salary, *, share=SD_Y_SALARY_SHARE):
    """SD_y from salary by the 40% rule.

    Parameters
    ----------
    salary : float or array-like
        Annual salary (money) per person or the mean salary of a group.
    share : float, default=0.40
        SD_y as a share of salary (:data:`SD_Y_SALARY_SHARE`, Schmidt &
        Hunter, 1983).

    Returns
    -------
    float or array
        ``share × salary``.

    Examples
    --------
    >>> from devplan import roi
    >>> roi.sd_y_from_salary(50_000)
    20000.0
    """
    _nonneg("salary", salary)
    _nonneg("share", share)
    return _out(np.asarray(salary, dtype=float) * share)


def _check_measures(measures: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(measures, pd.DataFrame):
        raise TypeError(
            f"Got measures of type {type(measures).__name__}; expected a DataFrame "
            "with columns measure, value_per_unit, sd_per_person."
        )
    missing = [c for c in ("measure", "value_per_unit") if c not in measures]
    if missing:
        raise ValueError(
            f"Table measures lacks column(s) {missing}; expected measure, "
            "value_per_unit and sd_per_person (unit optional)."
        )
    bad = ~measures["measure"].astype(str).isin(list(BUSINESS_MEASURES))
    if bad.any():
        raise ValueError(
            "Table measures, column measure: got "
            f"{measures['measure'][bad].iloc[0]!r}; "
            f"expected one of {list(BUSINESS_MEASURES)}."
        )
    for col in ("value_per_unit", "sd_per_person"):
        if col in measures:
            values = pd.to_numeric(measures[col], errors="coerce")
            if values.isna().any() or (values < 0).any():
                raise ValueError(
                    f"Table measures, column {col}: got "
                    f"{measures[col].tolist()!r}; expected numbers >= 0."
                )
    return measures


def sd_y_from_measures(measures: pd.DataFrame) -> float:
    """SD_y built up from business measures with known money values.

    Parameters
    ----------
    measures : DataFrame
        One row per business measure, with columns ``measure`` (revenue,
        retention, waste or expense), ``value_per_unit`` (money per unit of
        the measure, ≥ 0) and ``sd_per_person`` (standard deviation across
        people of the units each person moves in a year, ≥ 0); ``unit``
        (label) is optional.

    Returns
    -------
    float
        :math:`\\sum_m sd_m \\cdot v_m`. This assumes the measures move
        together (one SD of job performance is one SD in each); list
        measures that do not overlap, or the sum counts money twice.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan import roi
    >>> m = pd.DataFrame({"measure": ["revenue", "waste"],
    ...                   "value_per_unit": [1.0, 30.0],
    ...                   "sd_per_person": [8_000, 100]})
    >>> roi.sd_y_from_measures(m)
    11000.0
    """
    m = _check_measures(measures)
    if "sd_per_person" not in m:
        raise ValueError(
            "Table measures lacks column sd_per_person; it is needed to "
            "compute SD_y (or give sd_y yourself)."
        )
    return float((m["value_per_unit"].astype(float) * m["sd_per_person"]).sum())


# ----------------------------------------------------------------------
# Effect sizes


def default_effect_size(criterion="behaviour", programme="general", overrides=None):
    """Meta-analytic default effect size d.

    Parameters
    ----------
    criterion : {"reaction", "learning", "behaviour", "results"}, \
default="behaviour"
        Kirkpatrick level the effect is measured at. Utility needs the effect
        on job performance: ``"behaviour"`` (or ``"results"``).
    programme : {"general", "leadership"}, default="general"
        ``"general"``: :data:`ARTHUR_2003`; ``"leadership"``:
        :data:`LACERENZA_2017`.
    overrides : mapping or None, default=None
        ``{programme: {criterion: d}}`` or ``{criterion: d}`` (applied to
        both tables), replacing published values with your own.

    Returns
    -------
    float

    Examples
    --------
    >>> from devplan import roi
    >>> roi.default_effect_size("behaviour", "leadership")
    0.82
    >>> roi.default_effect_size("results", overrides={"results": 0.4})
    0.4
    """
    if criterion not in CRITERIA:
        raise ValueError(f"Got criterion={criterion!r}; expected one of {CRITERIA}.")
    if programme not in _TABLES:
        raise ValueError(
            f"Got programme={programme!r}; expected one of {tuple(_TABLES)}."
        )
    table = dict(_TABLES[programme])
    if overrides:
        if programme in overrides and isinstance(overrides[programme], Mapping):
            table.update(overrides[programme])
        table.update({k: v for k, v in overrides.items() if k in CRITERIA})
    return float(table[criterion])


def effect_size(completer_gains, comparison_gains, *, hedges=False) -> float:
    """Standardised mean difference of gains, completers vs a comparison group.

    Parameters
    ----------
    completer_gains : array-like
        Post minus pre scores of the people who completed the programme.
    comparison_gains : array-like
        Post minus pre scores of comparable people who did not.
    hedges : bool, default=False
        Apply Hedges' small-sample correction (g instead of d).

    Returns
    -------
    float
        :math:`d = (\\bar g_1 - \\bar g_0) / s_p`, with the pooled standard
        deviation :math:`s_p = \\sqrt{((n_1-1)s_1^2 + (n_0-1)s_0^2)/(n_1+n_0-2)}`;
        Hedges' g multiplies by :math:`1 - 3/(4(n_1+n_0)-9)`.

    Examples
    --------
    >>> from devplan import roi
    >>> roi.effect_size([1, 2, 3], [0, 1, 2])
    1.0
    """
    a = np.asarray(completer_gains, dtype=float)
    b = np.asarray(comparison_gains, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) < 2 or len(b) < 2:
        raise ValueError(
            f"Got {len(a)} completer and {len(b)} comparison gain(s); expected "
            "at least 2 of each."
        )
    n1, n0 = len(a), len(b)
    pooled = np.sqrt(
        ((n1 - 1) * a.var(ddof=1) + (n0 - 1) * b.var(ddof=1)) / (n1 + n0 - 2)
    )
    if pooled == 0:
        raise ValueError("Got gains without any spread; d is undefined.")
    d = (a.mean() - b.mean()) / pooled
    if hedges:
        d *= 1 - 3 / (4 * (n1 + n0) - 9)
    return float(d)


def pooled_effect_size(evaluation: pd.DataFrame, *, by=None) -> pd.DataFrame:
    """Pool the effect sizes of an evaluation table (fixed effect).

    Parameters
    ----------
    evaluation : DataFrame
        One row per evaluated item or programme with columns ``d``,
        ``n_completers`` and ``n_comparison`` (as the outcome evaluation
        produces it).
    by : str or list of str or None, default=None
        Columns to pool within (for example ``"competency_id"``); ``None``
        pools everything.

    Returns
    -------
    DataFrame
        The ``by`` columns and ``d`` (inverse-variance weighted mean),
        ``se``, ``ci_low``, ``ci_high`` (95%), ``n_completers`` (sum) and
        ``k`` (rows pooled).

    Notes
    -----
    Each row's sampling variance is :math:`v = (n_1+n_0)/(n_1 n_0) +
    d^2/(2(n_1+n_0))` (Hedges & Olkin, 1985); the pooled d is
    :math:`\\sum d/v / \\sum 1/v` with standard error
    :math:`1/\\sqrt{\\sum 1/v}`. Rows without d or with fewer than one
    person in either group are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan import roi
    >>> ev = pd.DataFrame({"d": [0.5, 0.5], "n_completers": [20, 40],
    ...                    "n_comparison": [20, 40]})
    >>> roi.pooled_effect_size(ev)[["d", "n_completers", "k"]]
         d  n_completers  k
    0  0.5            60  2
    """
    missing = [c for c in ("d", "n_completers", "n_comparison") if c not in evaluation]
    if missing:
        raise ValueError(
            f"Table evaluation lacks column(s) {missing}; expected d, "
            "n_completers and n_comparison."
        )
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    ev = evaluation.copy()
    d = pd.to_numeric(ev["d"], errors="coerce")
    n1 = pd.to_numeric(ev["n_completers"], errors="coerce")
    n0 = pd.to_numeric(ev["n_comparison"], errors="coerce")
    ok = d.notna() & (n1 >= 1) & (n0 >= 1)
    ev = ev[ok]
    d, n1, n0 = d[ok], n1[ok].astype(float), n0[ok].astype(float)
    var = (n1 + n0) / (n1 * n0) + d**2 / (2 * (n1 + n0))
    parts = pd.DataFrame(
        {"w": 1 / var, "wd": d / var, "n_completers": n1, "k": 1}, index=ev.index
    )
    for k in keys:
        parts[k] = ev[k]
    if keys:
        sums = parts.groupby(keys, sort=True, observed=True)[
            ["w", "wd", "n_completers", "k"]
        ].sum()
        sums = sums.reset_index()
    else:
        sums = parts[["w", "wd", "n_completers", "k"]].sum().to_frame().T
    out = sums[keys].copy() if keys else pd.DataFrame(index=sums.index)
    out["d"] = sums["wd"] / sums["w"]
    out["se"] = 1 / np.sqrt(sums["w"])
    out["ci_low"] = out["d"] - 1.959963984540054 * out["se"]
    out["ci_high"] = out["d"] + 1.959963984540054 * out["se"]
    out["n_completers"] = sums["n_completers"].astype(np.int64)
    out["k"] = sums["k"].astype(np.int64)
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------
# Tables: forecast, actual, business measures


def _sd_y_per_person(people, sd_y, salary, measures, employees):
    """SD_y for each employee id in ``people`` (float array)."""
    n = len(people)
    if sd_y is not None:
        if isinstance(sd_y, pd.Series):
            values = sd_y.set_axis(sd_y.index.astype(str)).reindex(people)
            if values.isna().any():
                raise ValueError(
                    f"Got sd_y without a value for employee "
                    f"{people[values.isna().to_numpy()][0]!r}; expected one per "
                    "employee (or a single number)."
                )
            return _nonneg("sd_y", values.to_numpy(dtype=float))
        return np.full(n, float(_nonneg("sd_y", sd_y)))
    if measures is not None:
        return np.full(n, sd_y_from_measures(measures))
    if salary is not None:
        if isinstance(salary, str):
            if employees is None or salary not in employees:
                raise ValueError(
                    f"Got salary={salary!r}; expected a column of the employees "
                    "table (pass employees=) or a number."
                )
            values = pd.to_numeric(
                employees.set_index(employees["employee_id"].astype(str))[salary],
                errors="coerce",
            ).reindex(people)
            if values.isna().any():
                raise ValueError(
                    f"Table employees, column {salary}: no number for employee "
                    f"{people[values.isna().to_numpy()][0]!r}."
                )
            return sd_y_from_salary(values.to_numpy(dtype=float))
        return np.full(n, float(sd_y_from_salary(salary)))
    raise ValueError(
        "Got no sd_y, salary or measures; expected one of them to value job "
        "performance in money (for example sd_y=20000, or salary=50000 for "
        "the 40% rule)."
    )


def forecast(
    plans: pd.DataFrame,
    *,
    by: str | None = None,
    employees: pd.DataFrame | None = None,
    tracks: pd.DataFrame | None = None,
    sd_y=None,
    salary=None,
    measures: pd.DataFrame | None = None,
    years: float = 1.0,
    criterion: str = "behaviour",
    effect_sizes=None,
    hourly_cost: float = 0.0,
) -> pd.DataFrame:
    """Utility forecast per plan or per programme, before it runs.

    Parameters
    ----------
    plans : DataFrame
        The ``plans`` table (``employee_id, hours, cost`` and the ``by``
        column); one plan is one employee's rows.
    by : str or None, default=None
        ``None``: one row per plan (employee). Otherwise a programme: a
        column of ``plans`` (for example ``item_id`` for each catalog item,
        ``competency_id``), of ``tracks`` (``track``) or of ``employees``
        (``business_unit``). A programme's N counts its distinct employees
        and its cost sums its rows.
    employees : DataFrame or None, default=None
        Needed for ``salary`` given as a column name, for ``by`` columns of
        the employees table and to choose leadership effect sizes: people
        managers (``is_people_manager``) get :data:`LACERENZA_2017`, others
        :data:`ARTHUR_2003`.
    tracks : DataFrame or None, default=None
        The ``tracks`` table, for ``by="track"``.
    sd_y : float or Series or None, default=None
        Money value of one SD of job performance per person-year (a Series
        indexed by employee_id for one per person).
    salary : float or str or None, default=None
        Instead of ``sd_y``: salary (or the name of an employees column)
        and the 40% rule, :func:`sd_y_from_salary`.
    measures : DataFrame or None, default=None
        Instead of ``sd_y``: business measures, :func:`sd_y_from_measures`.
    years : float, default=1.0
        T, years the effect lasts.
    criterion : str, default="behaviour"
        Which default effect size to use, see :func:`default_effect_size`.
    effect_sizes : float or Series or mapping or None, default=None
        A single d for everyone, a Series of d by employee_id, or overrides
        of the default tables (``{"leadership": {"behaviour": 0.5}}``). The
        published values are the mean effects of whole programmes; a light
        plan (a few hours of reading) will not reach them, so set your own
        for such plans, and use :func:`actual` once evaluated.
    hourly_cost : float, default=0.0
        Money per learner hour (participants' time, a Phillips fully loaded
        cost); 0 counts direct costs only.

    Returns
    -------
    DataFrame
        One row per plan (``employee_id``) or programme (the ``by``
        column): ``n_trained, hours, direct_cost, time_cost, total_cost, d,
        sd_y, years, benefit`` (N·T·d·SD_y), ``utility`` (benefit − total
        cost), ``break_even_d``, ``bcr`` and ``roi_percent`` (NaN when the
        cost is 0).

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan import roi
    >>> plans = pd.DataFrame({"employee_id": ["a", "a", "b"],
    ...                       "item_id": ["x", "y", "x"],
    ...                       "hours": [8.0, 4.0, 8.0],
    ...                       "cost": [1000.0, 500.0, 1000.0]})
    >>> f = roi.forecast(plans, sd_y=10_000, effect_sizes=0.5)
    >>> f[["employee_id", "total_cost", "benefit", "utility"]]
      employee_id  total_cost  benefit  utility
    0           a      1500.0   5000.0   3500.0
    1           b      1000.0   5000.0   4000.0
    """
    for col in ("employee_id", "hours", "cost"):
        if col not in plans:
            raise ValueError(
                f"Table plans lacks column {col!r}; expected employee_id, hours "
                "and cost."
            )
    _nonneg("years", years)
    _nonneg("hourly_cost", hourly_cost)
    rows = plans.assign(employee_id=plans["employee_id"].astype(str))
    people = pd.Index(pd.unique(rows["employee_id"]))
    # the effect size per person (leadership content for people managers)
    if isinstance(effect_sizes, int | float | np.number):
        d_person = np.full(len(people), float(effect_sizes))
    elif isinstance(effect_sizes, pd.Series):
        values = effect_sizes.set_axis(effect_sizes.index.astype(str))
        d_person = values.reindex(people).to_numpy(dtype=float)
        if np.isnan(d_person).any():
            raise ValueError(
                "Got effect_sizes without a value for employee "
                f"{people[np.isnan(d_person)][0]!r}; expected one per employee."
            )
    else:
        general = default_effect_size(criterion, "general", effect_sizes)
        leader = default_effect_size(criterion, "leadership", effect_sizes)
        is_manager = np.zeros(len(people), dtype=bool)
        if employees is not None and "is_people_manager" in employees:
            flag = employees.set_index(employees["employee_id"].astype(str))[
                "is_people_manager"
            ]
            is_manager = flag.reindex(people).fillna(False).astype(bool).to_numpy()
        d_person = np.where(is_manager, leader, general)
    sd_person = _sd_y_per_person(people, sd_y, salary, measures, employees)
    key = "employee_id" if by is None else by
    if key not in rows:
        for table in (tracks, employees):
            if table is not None and key in table:
                lookup = table.set_index(table["employee_id"].astype(str))[key]
                rows[key] = lookup.reindex(rows["employee_id"]).to_numpy()
                break
        else:
            raise ValueError(
                f"Got by={by!r}; expected a column of plans, tracks or employees "
                "(pass them)."
            )
    pos = people.get_indexer(rows["employee_id"])
    rows["_d"] = d_person[pos]
    rows["_sd"] = sd_person[pos]
    rows["_time"] = rows["hours"].astype(float) * hourly_cost
    # per programme: N distinct people; d and SD_y averaged over them
    first = ~rows.duplicated([key, "employee_id"])
    grouped = rows.groupby(key, sort=True, observed=True, dropna=False)
    out = grouped[["hours", "cost", "_time"]].sum()
    persons = rows[first].groupby(key, sort=True, observed=True, dropna=False)
    out["n_trained"] = persons.size()
    out["d"] = persons["_d"].mean()
    out["sd_y"] = persons["_sd"].mean()
    out = out.reset_index()
    n = out["n_trained"].to_numpy(dtype=float)
    total = out["cost"].to_numpy(float) + out["_time"].to_numpy(float)
    result = pd.DataFrame(
        {
            key: out[key],
            "n_trained": out["n_trained"].astype(np.int64),
            "hours": out["hours"].astype(float),
            "direct_cost": out["cost"].astype(float),
            "time_cost": out["_time"].astype(float),
            "total_cost": total,
        }
    )
    return _money_columns(result, n, out["d"].to_numpy(float), out["sd_y"], years)


def _money_columns(result, n, d, sd_y, years):
    total = result["total_cost"].to_numpy(dtype=float)
    sd = np.asarray(sd_y, dtype=float)
    result["d"] = d
    result["sd_y"] = sd
    result["years"] = float(years)
    benefit = n * float(years) * d * sd
    result["benefit"] = benefit
    result["utility"] = utility(n, d, sd, years=years, total_cost=total)
    result["break_even_d"] = break_even_d(n, sd, years=years, total_cost=total)
    paid = total > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(paid, benefit / np.where(paid, total, 1.0), np.nan)
    result["bcr"] = ratio
    result["roi_percent"] = (ratio - 1.0) * 100.0
    return result


def actual(
    d,
    n_trained=None,
    *,
    sd_y=None,
    salary=None,
    measures: pd.DataFrame | None = None,
    years: float = 1.0,
    total_cost=None,
    cost_per_trainee=None,
    catalog: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Utility of programmes after an evaluation, from their measured d.

    Parameters
    ----------
    d : float or array-like or DataFrame
        Measured effect sizes, or an evaluation table with columns ``d``
        and ``n_completers`` (one row per item or programme; its other
        columns, such as ``item_id``, are kept).
    n_trained : float or array-like or None, default=None
        N per programme; taken from ``n_completers`` when ``d`` is a table.
    sd_y, salary, measures : optional
        SD_y directly, from one salary by the 40% rule, or from business
        measures (see :func:`forecast`); give one.
    years : float, default=1.0
        T, years the effect lasts.
    total_cost, cost_per_trainee : float or array-like or None, default=None
        Programme costs, see :func:`utility`.
    catalog : DataFrame or None, default=None
        With an evaluation table that has ``item_id`` and no cost given:
        cost per trainee from the catalog's ``cost`` column.

    Returns
    -------
    DataFrame
        The evaluation's columns (or ``d``, ``n_trained``) and
        ``n_trained, total_cost, sd_y, years, benefit, utility,
        break_even_d, bcr, roi_percent``.

    Examples
    --------
    >>> from devplan import roi
    >>> a = roi.actual(0.70, 30, sd_y=10_000, total_cost=60_000)
    >>> float(a.loc[0, "utility"]), float(a.loc[0, "roi_percent"])
    (150000.0, 250.0)
    """
    if isinstance(d, pd.DataFrame):
        missing = [c for c in ("d", "n_completers") if c not in d]
        if missing:
            raise ValueError(
                f"Table evaluation lacks column(s) {missing}; expected d and "
                "n_completers."
            )
        result = d.reset_index(drop=True).copy()
        if n_trained is None:
            n_trained = result["n_completers"].to_numpy(dtype=float)
        if total_cost is None and cost_per_trainee is None and catalog is not None:
            if "item_id" not in result:
                raise ValueError(
                    "Got catalog= with an evaluation table without item_id; "
                    "expected item_id to look up costs."
                )
            costs = catalog.set_index(catalog["item_id"].astype(str))["cost"]
            per = costs.reindex(result["item_id"].astype(str)).fillna(0.0)
            cost_per_trainee = per.to_numpy(dtype=float)
        d_values = pd.to_numeric(result["d"], errors="coerce").to_numpy(dtype=float)
    else:
        d_values = np.atleast_1d(np.asarray(d, dtype=float))
        result = pd.DataFrame({"d": d_values})
    if n_trained is None:
        raise ValueError("Got n_trained=None; expected the number of people trained.")
    n = np.broadcast_to(np.asarray(n_trained, dtype=float), d_values.shape)
    total = np.broadcast_to(
        _total_cost(n, total_cost, cost_per_trainee), d_values.shape
    ).astype(float)
    ids = pd.Index(np.arange(len(d_values)).astype(str))
    sd = _sd_y_per_person(ids, sd_y, salary, measures, None)
    result["n_trained"] = n.astype(np.int64) if np.all(n % 1 == 0) else n
    result["total_cost"] = total
    result = result.drop(columns=["d"])
    return _money_columns(result, n, d_values, sd, years)


def in_business_measures(results: pd.DataFrame, measures: pd.DataFrame):
    """Frame utility results in business measures (revenue, waste, ...).

    Parameters
    ----------
    results : DataFrame
        A :func:`forecast` or :func:`actual` table (``n_trained, d,
        years``; other columns are kept as keys).
    measures : DataFrame
        ``measure, value_per_unit, sd_per_person`` and optional ``unit``,
        see :func:`sd_y_from_measures`.

    Returns
    -------
    DataFrame
        One row per result row × measure: the result's key columns,
        ``measure``, ``unit``, ``direction`` (up for revenue and retention,
        down for waste and expense), ``change_units`` (N·T·d·sd_per_person:
        more revenue or retained people, less waste or expense) and
        ``value`` (change_units × value_per_unit).

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan import roi
    >>> res = roi.actual(0.5, 10, sd_y=1_000, total_cost=0)
    >>> m = pd.DataFrame({"measure": ["waste"], "unit": ["kg"],
    ...                   "value_per_unit": [2.0], "sd_per_person": [100.0]})
    >>> roi.in_business_measures(res, m)[["measure", "change_units", "value"]]
      measure  change_units   value
    0   waste         500.0  1000.0
    """
    m = _check_measures(measures).reset_index(drop=True)
    if "sd_per_person" not in m:
        raise ValueError("Table measures lacks column sd_per_person.")
    for col in ("n_trained", "d", "years"):
        if col not in results:
            raise ValueError(
                f"Table results lacks column {col!r}; expected a forecast or "
                "actual table."
            )
    money = {
        "hours",
        "direct_cost",
        "time_cost",
        "total_cost",
        "sd_y",
        "benefit",
        "utility",
        "break_even_d",
        "bcr",
        "roi_percent",
    }
    keys = [c for c in results.columns if c not in money]
    left = results[keys].reset_index(drop=True)
    rep = left.loc[left.index.repeat(len(m))].reset_index(drop=True)
    mm = m.loc[np.tile(np.arange(len(m)), len(left))].reset_index(drop=True)
    scale = rep["n_trained"].astype(float) * rep["years"].astype(float) * rep["d"]
    rep["measure"] = mm["measure"].astype(str)
    rep["unit"] = mm["unit"].astype(str) if "unit" in mm else ""
    rep["direction"] = rep["measure"].map(BUSINESS_MEASURES)
    rep["change_units"] = scale * mm["sd_per_person"].astype(float)
    rep["value"] = rep["change_units"] * mm["value_per_unit"].astype(float)
    return rep
