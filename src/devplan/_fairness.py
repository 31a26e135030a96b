"""Fairness audit: do plans treat groups of employees alike?

Protected attributes (``age_band``, ``gender``, ...) are never inputs to
scores, tracks or plans; this module reads them only afterwards, to compare
what each group received: hours, spend, stretch and high-visibility items,
expected benefit. Disparities are measured as adverse-impact ratios (the
four-fifths rule) and checked with a statistical test.

Data flow: plans (+ plan summary) + employees + catalog → per-group table and
impact table (DataFrames) in a :class:`FairnessAudit`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import stats

from devplan._schema import FALSE_WORDS, TRUE_WORDS

#: Item kinds that count as high-visibility by default (besides in-person
#: workshops): they put a person in front of senior people or give them a
#: visible role.
HIGH_VISIBILITY_KINDS = ("stretch_assignment", "mentoring")
#: Selection-type metrics: the share of a group's people who received ...
RATE_METRICS = {
    "has_plan": "at least one item",
    "any_stretch": "at least one stretch assignment",
    "any_high_visibility": "at least one high-visibility item",
}
#: Amount metrics: the mean per person of the group.
MEAN_METRICS = {
    "hours": "plan hours",
    "spend": "plan cost",
    "expected_benefit": "expected benefit",
}
MISSING = "(missing)"


@dataclasses.dataclass
class FairnessAudit:
    """The result of :func:`audit_fairness`.

    Attributes
    ----------
    groups : DataFrame
        One row per group column × group value: ``group_column, group,
        n_people, mean_items, mean_hours, mean_spend, stretch_item_share,
        high_visibility_item_share, has_plan_rate, any_stretch_rate,
        any_high_visibility_rate, mean_expected_benefit``.
    impact : DataFrame
        One row per group column × group × metric: ``group_column, group,
        metric, kind (rate or mean), value, n_people, reference_group,
        reference_value, reference_n, ratio, test, p_value, p_adjusted
        (Holm), flagged, reason``.
    threshold, alpha, min_group_size
        The settings used.

    Examples
    --------
    >>> import devplan
    >>> b = devplan.datasets.load_sample()
    >>> audit = devplan.audit_fairness(
    ...     devplan.generate_plans(b), b.employees, catalog=b.catalog,
    ...     groups="gender")
    >>> sorted(audit.tables)
    ['fairness_groups', 'fairness_impact']
    >>> audit.flags.empty
    True
    """

    groups: pd.DataFrame
    impact: pd.DataFrame
    threshold: float
    alpha: float
    min_group_size: int

    @property
    def flags(self) -> pd.DataFrame:
        """The flagged rows of :attr:`impact`."""
        return self.impact[self.impact["flagged"]].reset_index(drop=True)

    @property
    def passed(self) -> bool:
        """True when nothing is flagged."""
        return not bool(self.impact["flagged"].any())

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """``fairness_groups`` and ``fairness_impact``, for writing."""
        return {"fairness_groups": self.groups, "fairness_impact": self.impact}

    def summary(self) -> str:
        """A few lines for people: what was compared and what is flagged."""
        cols = ", ".join(pd.unique(self.groups["group_column"]))
        lines = [
            f"Fairness audit over {cols}: "
            f"{int(self.impact['p_value'].notna().sum()):,} comparisons "
            f"(four-fifths rule at {self.threshold:g}, p < {self.alpha:g}, "
            f"groups of at least {self.min_group_size})."
        ]
        if self.passed:
            lines.append("No disparity flagged.")
        for rec in self.flags.itertuples(index=False):
            lines.append(f"  FLAG {rec.group_column}={rec.group}: {rec.reason}")
        return "\n".join(lines)


def _bool_column(values: pd.Series, name: str) -> np.ndarray:
    if values.dtype == bool:
        return values.to_numpy()
    text = values.astype(object).where(values.notna(), "false").astype(str)
    text = text.str.strip().str.lower()
    bad = ~text.isin(TRUE_WORDS | FALSE_WORDS)
    if bad.any():
        raise ValueError(
            f"Table catalog, column {name}: got {values[bad].iloc[0]!r}; "
            "expected true/false, yes/no or 1/0."
        )
    return text.isin(TRUE_WORDS).to_numpy()


def high_visibility(catalog: pd.DataFrame) -> pd.Series:
    """Which catalog items are high-visibility (bool Series by item_id).

    An optional ``high_visibility`` catalog column (true/false) decides;
    without it, stretch assignments, mentoring and in-person workshops are
    high-visibility.
    """
    ids = catalog["item_id"].astype(str)
    if "high_visibility" in catalog:
        flag = _bool_column(catalog["high_visibility"], "high_visibility")
    else:
        kind = catalog["kind"].astype(str)
        modality = (
            catalog["modality"].astype(str)
            if "modality" in catalog
            else pd.Series("", index=catalog.index)
        )
        flag = (
            kind.isin(HIGH_VISIBILITY_KINDS)
            | ((kind == "workshop") & (modality == "in_person"))
        ).to_numpy()
    return pd.Series(flag, index=pd.Index(ids, name="item_id"))


def _per_person(plans, people, catalog, plan_summary):
    """Per-person amounts and flags (DataFrame indexed like ``people``)."""
    for col in ("employee_id", "item_id", "hours", "cost"):
        if col not in plans:
            raise ValueError(
                f"Table plans lacks column {col!r}; expected employee_id, "
                "item_id, hours and cost."
            )
    for col in ("item_id", "kind"):
        if col not in catalog:
            raise ValueError(f"Table catalog lacks column {col!r}.")
    ids = plans["employee_id"].astype(str)
    pos = people.get_indexer(ids)
    keep = pos >= 0
    pos = pos[keep]
    items = plans["item_id"].astype(str)[keep]
    # a mentor's role in a colleague's plan (mentor matching) is no catalog
    # item: it counts as a high-visibility mentoring item
    role = np.zeros(len(items), dtype=bool)
    if "mentee_id" in plans:
        role = plans["mentee_id"].notna().to_numpy()[keep]
    cat_ids = pd.Index(catalog["item_id"].astype(str))
    j = cat_ids.get_indexer(items)
    unknown = (j < 0) & ~role
    if unknown.any():
        raise ValueError(
            f"Table plans, column item_id: got {items[unknown].iloc[0]!r}, which "
            "is not in the catalog; expected the catalog the plans were made with."
        )
    j = np.where(role, -1, j)
    at = np.maximum(j, 0)
    stretch = (catalog["kind"].astype(str) == "stretch_assignment").to_numpy()[at]
    stretch &= j >= 0
    visible = np.where(
        role,
        "mentoring" in HIGH_VISIBILITY_KINDS,
        high_visibility(catalog).to_numpy()[at],
    )
    n = len(people)

    def total(weights):
        return np.bincount(pos, weights=weights, minlength=n)

    out = pd.DataFrame(index=people)
    out["items"] = total(np.ones(len(pos)))
    out["hours"] = total(plans["hours"].to_numpy(dtype=float)[keep])
    out["spend"] = total(plans["cost"].fillna(0).to_numpy(dtype=float)[keep])
    out["stretch_items"] = total(stretch.astype(float))
    out["visible_items"] = total(visible.astype(float))
    if "benefit" in plans:
        out["expected_benefit"] = total(plans["benefit"].to_numpy(dtype=float)[keep])
    elif plan_summary is not None and "expected_benefit" in plan_summary:
        s = plan_summary.set_index(plan_summary["employee_id"].astype(str))
        out["expected_benefit"] = (
            s["expected_benefit"].reindex(people).fillna(0.0).to_numpy()
        )
    else:
        # default expected gain of each item on the competency it serves
        from devplan._recommend import PathRecommender

        if "competency_id" not in plans:
            raise ValueError(
                "Table plans lacks column 'competency_id' (and 'benefit'); "
                "expected one of them, or pass plan_summary."
            )

        rec = PathRecommender().fit(catalog)
        c = rec.competencies_.get_indexer(plans["competency_id"].astype(str)[keep])
        gain = np.where((c >= 0) & (j >= 0), rec.effects_[at, np.maximum(c, 0)], 0.0)
        out["expected_benefit"] = total(gain)
    out["has_plan"] = out["items"] > 0
    out["any_stretch"] = out["stretch_items"] > 0
    out["any_high_visibility"] = out["visible_items"] > 0
    return out


def audit_fairness(
    plans,
    employees: pd.DataFrame,
    *,
    catalog: pd.DataFrame,
    groups=("age_band", "gender"),
    plan_summary: pd.DataFrame | None = None,
    threshold: float = 0.8,
    alpha: float = 0.05,
    min_group_size: int = 20,
) -> FairnessAudit:
    """Compare what plans give each group of employees, and flag disparities.

    Parameters
    ----------
    plans : DataFrame or PlanResult
        The ``plans`` table (``employee_id, item_id, hours, cost``, and
        ``competency_id``), or a :class:`PlanResult` (its plans and plan
        summary are used).
    employees : DataFrame
        The employees table with the group columns.
    catalog : DataFrame
        The catalog the plans were made from (item kinds and modality; an
        optional ``high_visibility`` true/false column overrides the default
        definition: stretch assignments, mentoring and in-person workshops).
    groups : sequence of str, default=("age_band", "gender")
        Employee columns to compare across; any column may be given (for
        example ``business_unit`` or ``location``). Columns absent from the
        employees table are skipped; if none is present this is an error.
    plan_summary : DataFrame or None, default=None
        The ``plan_summary`` table. When given, the people audited are the
        ones it lists (everyone planned) and their ``expected_benefit`` is
        used; otherwise everyone in ``employees`` is audited (no plan rows:
        an empty plan) and expected benefit is the plan rows' ``benefit``
        column or, without it, the sum of each item's default effect on the
        competency it serves (scale points).
    threshold : float, default=0.8
        Adverse-impact ratio below which a disparity counts (four-fifths
        rule).
    alpha : float, default=0.05
        Significance level of the test that must also reject for a flag.
    min_group_size : int, default=20
        Groups (and reference groups) smaller than this are reported but
        never flagged or used as reference.

    Returns
    -------
    FairnessAudit
        ``groups`` and ``impact`` tables, ``flags`` and ``passed``.

    Notes
    -----
    For each group column and metric the reference group is the one with the
    highest value among groups of at least ``min_group_size`` people. The
    adverse-impact ratio is a group's value divided by the reference's. Rate
    metrics (``has_plan``, ``any_stretch``, ``any_high_visibility``: the
    share of people who received at least one such item) are tested with
    Fisher's exact test on the 2 × 2 table group vs reference; mean metrics
    (``hours``, ``spend``, ``expected_benefit`` per person) with the
    two-sided Mann–Whitney U test. The p-values of all comparisons of the
    audit are adjusted together with Holm's step-down method, so that the
    chance of any false flag in a fair plan set stays below ``alpha``. A
    row is flagged when the ratio is below ``threshold``, the adjusted
    p-value is below ``alpha`` and both groups are large enough. Missing
    group values form the group ``(missing)``. ``plan_summary`` must
    describe the same plans (its expected benefit is taken as is).

    Examples
    --------
    >>> import devplan
    >>> b = devplan.datasets.load_sample()
    >>> result = devplan.generate_plans(b)
    >>> audit = devplan.audit_fairness(result, b.employees, catalog=b.catalog)
    >>> sorted(audit.groups["group_column"].unique())
    ['age_band', 'gender']
    >>> audit.passed
    True
    """
    from devplan._plans import PlanResult

    if isinstance(plans, PlanResult):
        plan_summary = plans.plan_summary if plan_summary is None else plan_summary
        plans = plans.plans
    if not 0 < threshold <= 1:
        raise ValueError(f"Got threshold={threshold!r}; expected a number in (0, 1].")
    if not 0 < alpha < 1:
        raise ValueError(f"Got alpha={alpha!r}; expected a number in (0, 1).")
    if not isinstance(min_group_size, int | np.integer) or min_group_size < 1:
        raise ValueError(
            f"Got min_group_size={min_group_size!r}; expected an integer >= 1."
        )
    if isinstance(groups, str):
        groups = (groups,)
    present = [g for g in groups if g in employees]
    if not present:
        raise ValueError(
            f"Got groups={tuple(groups)!r}; none is a column of the employees "
            f"table (columns: {list(employees.columns)})."
        )
    emp = employees.set_index(employees["employee_id"].astype(str))
    emp = emp[~emp.index.duplicated()]
    if plan_summary is not None:
        people = pd.Index(pd.unique(plan_summary["employee_id"].astype(str)))
    else:
        people = pd.Index(emp.index)
    person = _per_person(plans, people, catalog, plan_summary)
    group_rows, impact_rows = [], []
    for col in present:
        label = (
            emp[col].reindex(people).astype(object).where(lambda s: s.notna(), MISSING)
        )
        label = label.astype(str).to_numpy()
        g_rows, i_rows = _audit_column(
            col, label, person, threshold, alpha, min_group_size
        )
        group_rows.append(g_rows)
        impact_rows.append(i_rows)
    impact = pd.concat(impact_rows, ignore_index=True)
    # Holm's step-down adjustment over every comparison of the audit
    impact.insert(
        impact.columns.get_loc("p_value") + 1,
        "p_adjusted",
        _holm(impact["p_value"].to_numpy(dtype=float)),
    )
    flagged = (
        impact.pop("judged").to_numpy()
        & (impact["ratio"].to_numpy(dtype=float) < threshold)
        & (impact["p_adjusted"].to_numpy(dtype=float) < alpha)
    )
    impact.insert(impact.columns.get_loc("p_adjusted") + 1, "flagged", flagged)
    pending = impact["reason"].str.contains("ratio", regex=False)
    adjusted = impact["p_adjusted"].map(lambda p: f", Holm-adjusted p = {p:.2g})")
    adjusted = adjusted.where(flagged, adjusted + ": not significant")
    impact["reason"] = impact["reason"].where(~pending, impact["reason"] + adjusted)
    return FairnessAudit(
        groups=pd.concat(group_rows, ignore_index=True),
        impact=impact,
        threshold=float(threshold),
        alpha=float(alpha),
        min_group_size=int(min_group_size),
    )


def _audit_column(col, label, person, threshold, alpha, min_size):
    frame = person.assign(_group=label)
    by = frame.groupby("_group", sort=True)
    items = by["items"].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        groups = pd.DataFrame(
            {
                "group_column": col,
                "group": items.index.astype(str),
                "n_people": by.size().to_numpy(),
                "mean_items": by["items"].mean().to_numpy(),
                "mean_hours": by["hours"].mean().to_numpy(),
                "mean_spend": by["spend"].mean().to_numpy(),
                "stretch_item_share": (by["stretch_items"].sum() / items).to_numpy(),
                "high_visibility_item_share": (
                    by["visible_items"].sum() / items
                ).to_numpy(),
                "has_plan_rate": by["has_plan"].mean().to_numpy(),
                "any_stretch_rate": by["any_stretch"].mean().to_numpy(),
                "any_high_visibility_rate": by["any_high_visibility"].mean().to_numpy(),
                "mean_expected_benefit": by["expected_benefit"].mean().to_numpy(),
            }
        )
    n = groups["n_people"].to_numpy()
    big = n >= min_size
    names = groups["group"].to_numpy()
    rows = []
    metrics = [(m, "rate", f"{m}_rate", d) for m, d in RATE_METRICS.items()]
    metrics += [(m, "mean", f"mean_{m}", d) for m, d in MEAN_METRICS.items()]
    for metric, kind, column, description in metrics:
        value = groups[column].to_numpy(dtype=float)
        candidates = np.flatnonzero(big)
        ref = candidates[np.argmax(value[candidates])] if len(candidates) else -1
        ref_value = value[ref] if ref >= 0 else np.nan
        ref_people = frame[metric].to_numpy()[label == names[ref]] if ref >= 0 else []
        for k, name in enumerate(names):
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = value[k] / ref_value if ref_value > 0 else np.nan
            p_value = np.nan
            test = "fisher_exact" if kind == "rate" else "mann_whitney_u"
            if ref >= 0 and k != ref:
                mine = frame[metric].to_numpy()[label == name]
                p_value = _test(kind, mine, ref_people)
            judged = bool(ref >= 0 and k != ref and big[k])
            reason = ""
            if judged and ratio < threshold:
                reason = (
                    f"{description}: {_fmt(kind, value[k])} vs "
                    f"{_fmt(kind, ref_value)} for {names[ref]} (ratio "
                    f"{ratio:.2f} < {threshold:g}"
                )
            elif not big[k]:
                reason = f"group smaller than {min_size}: not judged"
            rows.append(
                {
                    "group_column": col,
                    "group": name,
                    "metric": metric,
                    "kind": kind,
                    "value": value[k],
                    "n_people": int(n[k]),
                    "reference_group": names[ref] if ref >= 0 else None,
                    "reference_value": ref_value,
                    "reference_n": int(n[ref]) if ref >= 0 else 0,
                    "ratio": ratio,
                    "test": test,
                    "p_value": p_value,
                    "judged": judged,
                    "reason": reason,
                }
            )
    return groups, pd.DataFrame(rows)


def _test(kind, mine, ref):
    mine = np.asarray(mine, dtype=float)
    ref = np.asarray(ref, dtype=float)
    if kind == "rate":
        table = [
            [int(mine.sum()), int(len(mine) - mine.sum())],
            [int(ref.sum()), int(len(ref) - ref.sum())],
        ]
        return float(stats.fisher_exact(table).pvalue)
    if np.ptp(np.concatenate([mine, ref])) == 0:
        return 1.0
    return float(stats.mannwhitneyu(mine, ref, alternative="two-sided").pvalue)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN)."""
    out = np.full(len(p), np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = len(tested)
    if not m:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _fmt(kind, value):
    return f"{value:.0%}" if kind == "rate" else f"{value:,.2f}"
