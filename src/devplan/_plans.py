"""One call from bundle to plans: score → tracks → recommend → schedule.

``generate_plans`` runs the stages in order and gathers the output tables of
the data contract in a :class:`PlanResult`; each stage lives in its own module
and is usable alone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from devplan._config import Config
from devplan._models import Plan
from devplan._recommend import PathRecommender
from devplan._schedule import followups as make_followups
from devplan._schedule import manager_actions as make_actions
from devplan._schedule import schedule
from devplan._scoring import CompetencyScorer
from devplan._tracks import assign_tracks


@dataclass
class PlanResult:
    """Everything one planning run produced, as tables and plan documents.

    Attributes
    ----------
    profiles, tracks, plans, followups, errors : DataFrame
        The output tables of the data contract.
    manager_actions : DataFrame
        ``employee_id, manager_id, date, action, competency_id, item_id,
        description``.
    transfer_risks : DataFrame
        ``employee_id, manager_id, competency_id, suggested_coach_id,
        suggestion``.
    unmet_needs : DataFrame
        ``employee_id, competency_id, importance, gap, reason``.
    plan_summary : DataFrame
        One row per employee: ``n_items, hours, cost, strength_share,
        expected_benefit, experience_share, exposure_share,
        education_share, n_unmet``.
    start_date : date
        First day of every plan.
    """

    profiles: pd.DataFrame
    tracks: pd.DataFrame
    plans: pd.DataFrame
    followups: pd.DataFrame
    manager_actions: pd.DataFrame
    transfer_risks: pd.DataFrame
    unmet_needs: pd.DataFrame
    plan_summary: pd.DataFrame
    errors: pd.DataFrame
    start_date: dt.date
    horizon_months: int
    config: Config = field(default_factory=Config)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Output tables by name, as ``devplan plan`` writes them."""
        return {
            "profiles": self.profiles,
            "tracks": self.tracks,
            "plans": self.plans,
            "followups": self.followups,
            "manager_actions": self.manager_actions,
            "transfer_risks": self.transfer_risks,
            "unmet_needs": self.unmet_needs,
            "plan_summary": self.plan_summary,
            "errors": self.errors,
        }

    def plan(self, employee_id: str) -> Plan:
        """The plan document of one employee.

        Parameters
        ----------
        employee_id : str

        Returns
        -------
        Plan
        """
        if employee_id not in set(self.plan_summary["employee_id"]):
            raise KeyError(f"Got employee_id={employee_id!r}; no plan for it.")
        return next(self.iter_plans([employee_id]))

    def iter_plans(self, employee_ids=None) -> Iterator[Plan]:
        """Plan documents, in employee order (all, or those given)."""
        ids = self.plan_summary["employee_id"]
        if employee_ids is not None:
            ids = ids[ids.isin(list(employee_ids))]
        groups = {
            name: dict(tuple(table.groupby("employee_id", sort=False)))
            for name, table in (
                ("items", self.plans),
                ("actions", self.manager_actions),
                ("followups", self.followups),
                ("unmet", self.unmet_needs),
                ("risks", self.transfer_risks),
            )
        }
        summary = self.plan_summary.set_index("employee_id")
        tracks = self.tracks.set_index("employee_id")
        end = _add_months(self.start_date, self.horizon_months) - dt.timedelta(days=1)
        for e in ids:
            yield Plan(
                employee_id=e,
                track=str(tracks.loc[e, "track"]),
                track_reasons=str(tracks.loc[e, "reasons"]),
                start_on=self.start_date,
                end_on=end,
                total_hours=float(summary.loc[e, "hours"]),
                total_cost=float(summary.loc[e, "cost"]),
                strength_share=_none(summary.loc[e, "strength_share"]),
                expected_benefit=float(summary.loc[e, "expected_benefit"]),
                items=_records(groups["items"].get(e), _ITEM_FIELDS),
                manager_actions=_records(groups["actions"].get(e), _ACTION_FIELDS),
                followups=_records(groups["followups"].get(e), _FOLLOWUP_FIELDS),
                unmet_needs=_records(groups["unmet"].get(e), _UNMET_FIELDS),
                transfer_risks=_records(groups["risks"].get(e), _RISK_FIELDS),
            )

    def write_jsonl(self, path: str | Path) -> Path:
        """Write one plan document per line (``plans.jsonl``), atomically."""
        from devplan._bundle import atomic_path

        path = Path(path)
        with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
            for plan in self.iter_plans():
                fh.write(plan.model_dump_json() + "\n")
        return path


_ITEM_FIELDS = [
    "step",
    "item_id",
    "title",
    "kind",
    "purpose",
    "competency_id",
    "start_on",
    "end_on",
    "hours",
    "cost",
    "rationale",
]
_ACTION_FIELDS = ["date", "action", "competency_id", "item_id", "description"]
_FOLLOWUP_FIELDS = ["date", "kind", "with_whom", "agenda", "reminder_on", "milestone"]
_UNMET_FIELDS = ["competency_id", "importance", "gap", "reason"]
_RISK_FIELDS = ["competency_id", "manager_id", "suggested_coach_id", "suggestion"]


def _none(value):
    return None if value is None or pd.isna(value) else float(value)


def _records(frame: pd.DataFrame | None, fields: list[str]) -> list[dict]:
    if frame is None or not len(frame):
        return []
    out = []
    for row in frame[[f for f in fields if f in frame.columns]].to_dict("records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                value = value.date()
            elif value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                value = None
            elif isinstance(value, np.generic):
                value = value.item()
            clean[key] = value
        out.append(clean)
    return out


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def default_start_date(bundle) -> dt.date:
    """First day of the month after the bundle's latest assessment.

    Falls back to the first day of next month when no rating has a date.
    """
    dates = bundle.assessments["assessed_on"].dropna()
    latest = dates.max().date() if len(dates) else dt.date.today()
    return _add_months(dt.date(latest.year, latest.month, 1), 1)


def _rationale(selected, profiles, names, tracks, scale_max) -> pd.Series:
    """The evidence behind every selected item, in words."""
    cols = [
        "employee_id",
        "competency_id",
        "percentile",
        "others_score",
        "score",
        "required_level",
        "importance",
    ]
    if not len(selected):
        return pd.Series([], index=selected.index, dtype="str")
    prof = profiles[cols].astype({"importance": object})
    m = selected[["employee_id", "competency_id", "purpose", "phase"]].merge(
        prof, on=["employee_id", "competency_id"], how="left"
    )
    name = m["competency_id"].map(names).fillna(m["competency_id"])
    track = m["employee_id"].map(tracks.set_index("employee_id")["track"].astype(str))
    pct = _formatted(m["percentile"], ".0f")
    others = _formatted(m["others_score"], ".1f")
    score = _formatted(m["score"], ".1f")
    req = _formatted(m["required_level"], ".1f")
    importance = m["importance"].fillna("important").astype(str)
    strength = (
        "strength: "
        + name
        + ", "
        + pct
        + "th percentile, others rate you "
        + others
        + f"/{scale_max:g}"
    )
    need = importance + " gap: " + name + " " + score + " vs required " + req
    core = track.str.replace("_", " ") + " track core: " + name
    text = np.where(
        m["purpose"] == "leverage_strength",
        strength,
        np.where(m["purpose"] == "develop_need", need, core),
    )
    return pd.Series(text, index=selected.index, dtype="str")


def _formatted(values: pd.Series, spec: str) -> pd.Series:
    """Numbers as text in format ``spec``, "n/a" when missing.

    Each distinct value is formatted once.
    """
    codes, uniques = pd.factorize(values.astype(float))
    text = pd.Index([format(u, spec) for u in uniques] + ["n/a"], dtype="str")
    return pd.Series(text.take(codes), index=values.index)


def _transfer_risks(plans, profiles, employees, names) -> pd.DataFrame:
    """Plans that develop a competency the person's manager is weak in."""
    columns = [
        "employee_id",
        "manager_id",
        "competency_id",
        "suggested_coach_id",
        "suggestion",
    ]
    emp = employees.drop_duplicates("employee_id").set_index("employee_id")
    developing = plans[plans["purpose"] != "leverage_strength"][
        ["employee_id", "competency_id"]
    ].drop_duplicates()
    developing = developing.assign(
        manager_id=developing["employee_id"].map(emp["manager_id"].astype(object))
    ).dropna(subset=["manager_id"])
    weak = profiles[profiles["is_need"]][["employee_id", "competency_id"]].rename(
        columns={"employee_id": "manager_id"}
    )
    risks = developing.merge(weak, on=["manager_id", "competency_id"])
    if not len(risks):
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    # a coach: someone else with that signature strength, same unit first
    strong = profiles[profiles["is_strength"]][
        ["employee_id", "competency_id", "score"]
    ].rename(columns={"employee_id": "coach_id"})
    strong = strong.assign(
        unit=strong["coach_id"].map(emp["business_unit"].astype(object))
    ).sort_values(["competency_id", "score", "coach_id"], ascending=[True, False, True])
    risks = risks.assign(
        unit=risks["employee_id"].map(emp["business_unit"].astype(object))
    )
    # the best three coaches per competency (and unit) always include one
    # who is neither the employee nor their manager
    best_in_unit = strong.groupby(
        ["competency_id", "unit"], sort=False, dropna=False
    ).head(3)
    best = strong.groupby("competency_id", sort=False).head(3)
    same_unit = risks.merge(best_in_unit, on=["competency_id", "unit"], how="left")
    same_unit = same_unit[
        (same_unit["coach_id"] != same_unit["employee_id"])
        & (same_unit["coach_id"] != same_unit["manager_id"])
    ].drop_duplicates(["employee_id", "competency_id"])
    anyone = risks.merge(best.drop(columns="unit"), on="competency_id", how="left")
    anyone = anyone[
        (anyone["coach_id"] != anyone["employee_id"])
        & (anyone["coach_id"] != anyone["manager_id"])
    ].drop_duplicates(["employee_id", "competency_id"])
    coach = (
        pd.concat([same_unit, anyone])
        .drop_duplicates(["employee_id", "competency_id"])
        .set_index(["employee_id", "competency_id"])["coach_id"]
    )
    key = pd.MultiIndex.from_frame(risks[["employee_id", "competency_id"]])
    risks["suggested_coach_id"] = coach.reindex(key).to_numpy()
    name = risks["competency_id"].map(names).fillna(risks["competency_id"])
    with_coach = (
        "manager "
        + risks["manager_id"]
        + " is still developing "
        + name
        + ": pair with coach "
        + risks["suggested_coach_id"].fillna("")
        + " and add "
        + name
        + " to the manager's own plan"
    )
    without = (
        "manager "
        + risks["manager_id"]
        + " is still developing "
        + name
        + ": find an external coach and add "
        + name
        + " to the manager's own plan"
    )
    risks["suggestion"] = np.where(
        risks["suggested_coach_id"].notna(), with_coach, without
    )
    return risks[columns].astype({"employee_id": "str", "competency_id": "str"})


def _summary(tracks, plans, selected, unmet) -> pd.DataFrame:
    ids = tracks["employee_id"].astype(str)
    grouped = plans.groupby("employee_id")
    hours = grouped["hours"].sum()
    by_purpose = (
        plans.pivot_table(
            index="employee_id", columns="purpose", values="hours", aggfunc="sum"
        )
        if len(plans)
        else pd.DataFrame()
    )
    by_group = (
        plans.pivot_table(
            index="employee_id", columns="group", values="hours", aggfunc="sum"
        )
        if len(plans)
        else pd.DataFrame()
    )
    critical = (
        selected[selected["phase"] == "critical"]
        .merge(plans[["employee_id", "item_id"]], on=["employee_id", "item_id"])
        .groupby("employee_id")["hours"]
        .sum()
    )
    benefit = (
        selected.merge(plans[["employee_id", "item_id"]], on=["employee_id", "item_id"])
        .groupby("employee_id")["benefit"]
        .sum()
    )
    out = pd.DataFrame(index=pd.Index(ids, name="employee_id"))
    out["n_items"] = grouped.size().reindex(ids).fillna(0).astype(np.int64).to_numpy()
    out["hours"] = hours.reindex(ids).fillna(0.0).to_numpy()
    out["cost"] = grouped["cost"].sum().reindex(ids).fillna(0.0).to_numpy()
    strength_hours = (
        by_purpose.get("leverage_strength", pd.Series(dtype=float))
        .reindex(ids)
        .fillna(0)
    )
    after_critical = out["hours"] - critical.reindex(ids).fillna(0.0).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = strength_hours.to_numpy() / after_critical.to_numpy()
    out["strength_share"] = np.where(after_critical > 0, share, np.nan)
    out["expected_benefit"] = benefit.reindex(ids).fillna(0.0).to_numpy()
    for g in ("experience", "exposure", "education"):
        part = by_group.get(g, pd.Series(dtype=float)).reindex(ids).fillna(0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{g}_share"] = np.where(
                out["hours"] > 0, part.to_numpy() / out["hours"].to_numpy(), np.nan
            )
    out["n_unmet"] = (
        unmet.groupby("employee_id").size().reindex(ids).fillna(0).astype(np.int64)
    ).to_numpy()
    return out.reset_index()


def generate_plans(
    bundle,
    config: Config | None = None,
    *,
    scorer: CompetencyScorer | None = None,
    item_effects: pd.DataFrame | None = None,
) -> PlanResult:
    """Score, assign tracks and build a dated development plan for everyone.

    Parameters
    ----------
    bundle : Bundle
        A validated bundle.
    config : Config or None, default=None
        Settings; ``None`` uses the bundle's.
    scorer : CompetencyScorer or None, default=None
        A fitted scorer (for example last year's norms); ``None`` fits one on
        the bundle.
    item_effects : DataFrame or None, default=None
        ``item_id, competency_id, effect`` replacing default catalog effects.

    Returns
    -------
    PlanResult

    Examples
    --------
    >>> import devplan
    >>> result = devplan.generate_plans(devplan.datasets.load_sample())
    >>> sorted(result.tables)[:4]
    ['errors', 'followups', 'manager_actions', 'plan_summary']
    >>> result.plan("E000008").employee_id
    'E000008'
    """
    config = config or bundle.config
    if scorer is None:
        scorer = CompetencyScorer.from_config(config).fit(bundle)
    profiles = scorer.profiles(bundle)
    tracks = assign_tracks(bundle, profiles, config)
    names = bundle.competencies.set_index("competency_id")["name"].astype(str)
    levels = bundle.roles.dropna(subset=["role_level"]).drop_duplicates("role_id")
    levels = levels.set_index("role_id")["role_level"].astype(str)
    role_level = (
        bundle.employees.drop_duplicates("employee_id")
        .set_index("employee_id")["role_id"]
        .map(levels)
    )
    recommender = PathRecommender.from_config(config).fit(
        bundle.catalog,
        competencies=bundle.competencies["competency_id"],
        item_effects=item_effects,
    )
    selected, unmet = recommender.recommend(
        profiles,
        tracks,
        bundle.employees,
        enrolments=bundle.enrolments,
        track_content=bundle.track_content(),
        horizon_months=config.plan.horizon_months,
        role_levels=role_level,
    )
    selected = selected.assign(
        rationale=_rationale(selected, profiles, names, tracks, config.scale_max)
    )
    start = config.plan.start_date or default_start_date(bundle)
    plans, unscheduled = schedule(
        selected,
        bundle.employees,
        start_date=start,
        horizon_months=config.plan.horizon_months,
    )
    if len(unscheduled):
        lost = unscheduled.merge(
            selected[["employee_id", "item_id", "competency_id", "purpose"]],
            on=["employee_id", "item_id"],
        )
        lost = lost[lost["purpose"] == "develop_need"]
        unmet = pd.concat(
            [
                unmet,
                lost.assign(importance=None, gap=np.nan)[
                    ["employee_id", "competency_id", "importance", "gap", "reason"]
                ],
            ],
            ignore_index=True,
        )
    actions = make_actions(
        plans,
        bundle.employees,
        start_date=start,
        horizon_months=config.plan.horizon_months,
        competency_names=names.to_dict(),
    )
    follow = make_followups(
        plans,
        bundle.employees,
        start_date=start,
        horizon_months=config.plan.horizon_months,
        competency_names=names.to_dict(),
    )
    risks = _transfer_risks(plans, profiles, bundle.employees, names)
    summary = _summary(tracks, plans, selected, unmet)
    return PlanResult(
        profiles=profiles,
        tracks=tracks,
        plans=plans,
        followups=follow,
        manager_actions=actions,
        transfer_risks=risks,
        unmet_needs=unmet.reset_index(drop=True),
        plan_summary=summary,
        errors=bundle.errors,
        start_date=start,
        horizon_months=config.plan.horizon_months,
        config=config,
    )


def dumps_schema() -> str:
    """The plan JSON Schema as pretty-printed text (for ``docs/``)."""
    return json.dumps(Plan.model_json_schema(), indent=2, sort_keys=True) + "\n"
