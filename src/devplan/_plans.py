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
import pyarrow as pa
from pydantic_core import to_json

from devplan._config import Config
from devplan._json import joined_bytes, json_lists, json_objects, json_values
from devplan._mentoring import empty_mentoring
from devplan._models import Plan
from devplan._recommend import GROUPS, PathRecommender, _positions
from devplan._schedule import followups as make_followups
from devplan._schedule import manager_actions as make_actions
from devplan._schedule import schedule


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
        education_share, n_unmet`` (with mentor matching also ``n_mentees,
        mentoring_hours``).
    mentoring : DataFrame
        One row per mentee × competency: ``mentee_id, mentor_id,
        competency_id, fit, reason`` and more (see
        :func:`devplan.match_mentors`).
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
    mentoring: pd.DataFrame = field(default_factory=empty_mentoring)

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
            "mentoring": self.mentoring,
            "errors": self.errors,
        }

    def _repr_html_(self) -> str:
        # shown by Jupyter: counts, track mix and the first plan summaries
        from devplan._reports import result_html

        return result_html(self)

    def plan(self, employee_id: str) -> Plan:
        """The plan document of one employee.

        Parameters
        ----------
        employee_id : str

        Returns
        -------
        Plan
        """
        if not (self.plan_summary["employee_id"] == employee_id).any():
            raise KeyError(f"Got employee_id={employee_id!r}; no plan for it.")
        return next(self.iter_plans([employee_id]))

    def iter_plans(self, employee_ids=None) -> Iterator[Plan]:
        """Plan documents, in employee order (all, or those given)."""
        for fields in self._plan_fields(employee_ids):
            yield Plan(**fields)

    def write_jsonl(self, path: str | Path) -> Path:
        """Write one plan document per line (``plans.jsonl``), atomically.

        Each line is what :meth:`Plan.model_dump_json` gives for the plan
        (the tests check it byte for byte), built a column at a time from
        the tables (:mod:`devplan._json`), which is many times faster than
        building the models.
        """
        from devplan._bundle import atomic_path

        path = Path(path)
        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            fh.write(self.jsonl_bytes())
        return path

    def jsonl_lines(self, employee_ids=None) -> Iterator[bytes]:
        """The lines of ``plans.jsonl`` (UTF-8, each ending in a newline), of
        everyone or of the ``employee_ids`` given, in plan order."""
        yield from self._jsonl(employee_ids).cast(pa.large_binary()).to_pylist()

    def jsonl_bytes(self, employee_ids=None) -> bytes:
        """All of :meth:`jsonl_lines` as one bytes object.

        Examples
        --------
        >>> import devplan
        >>> result = devplan.generate_plans(devplan.datasets.load_sample())
        >>> text = result.jsonl_bytes(["E000008"])
        >>> text == result.plan("E000008").model_dump_json().encode() + b"\\n"
        True
        """
        return joined_bytes(self._jsonl(employee_ids))

    def _jsonl(self, employee_ids=None) -> pa.Array:
        """Each plan's JSON line, built a column at a time
        (:mod:`devplan._json`): the bytes ``to_json`` gives for
        :meth:`_plan_fields`, three to four times faster."""
        people, top = self._plan_columns(employee_ids)
        columns = {
            "employee_id": json_values(people),
            "track": json_values(top["track"]),
            "track_reasons": json_values(top["reasons"]),
            "start_on": to_json(self.start_date).decode(),
            "end_on": to_json(top["end"]).decode(),
            **{field: json_values(top[field]) for field in _PLAN_FIGURES},
        }
        for name, table in self._nested_tables().items():
            model = _NESTED[name]
            rows, bounds = _rows_by_person(table, people)
            fields = {}  # no rows: every list is empty
            if len(rows):
                fields = {
                    field: json_values(rows[field])
                    if field in rows.columns
                    else to_json(model.model_fields[field].default).decode()
                    for field in model.model_fields
                }
            columns[name] = json_lists(fields, bounds)
        return json_objects(columns, len(people), end="\n")

    def _nested_tables(self) -> dict[str, pd.DataFrame]:
        """The tables behind each plan's lists, by :class:`Plan` field."""
        return {
            "items": self.plans,
            "manager_actions": self.manager_actions,
            "followups": self.followups,
            "unmet_needs": self.unmet_needs,
            "transfer_risks": self.transfer_risks,
        }

    def _plan_columns(self, employee_ids=None) -> tuple[pd.Index, dict]:
        """The people with a plan (all, or those of ``employee_ids``) in plan
        order, and their plans' own fields as arrays in that order."""
        ids = self.plan_summary["employee_id"].astype(str)
        if employee_ids is not None:
            ids = ids[ids.isin([str(e) for e in employee_ids])]
        people = pd.Index(ids)
        at = _positions(people, self.plan_summary["employee_id"])
        keep = at >= 0
        summary = self.plan_summary[keep]
        order = np.argsort(at[keep])
        top = {}
        for name, column in _PLAN_FIGURES.items():
            if name in _PLAN_TEXTS:
                values = summary[column] if column in summary else None
                top[name] = (
                    np.full(len(order), Plan.model_fields[name].default, object)
                    if values is None
                    else values.astype(object).fillna("").to_numpy()[order]
                )
            elif column in summary:
                top[name] = summary[column].to_numpy(dtype=float)[order]
            else:
                top[name] = np.full(len(order), np.nan)
        t = _positions(people, self.tracks["employee_id"])
        for name, column in (("track", "track"), ("reasons", "reasons")):
            values = np.empty(len(people), dtype=object)
            values[t[t >= 0]] = self.tracks[column].astype(str).to_numpy()[t >= 0]
            top[name] = values
        end = _add_months(self.start_date, self.horizon_months) - dt.timedelta(days=1)
        top["end"] = end
        return people, top

    def _plan_fields(self, employee_ids=None) -> Iterator[dict]:
        """Each plan's fields, in the order and with the defaults of
        :class:`Plan` (nested rows likewise)."""
        people, top = self._plan_columns(employee_ids)
        # every table's rows as plain records, grouped by person, at once
        groups = {
            name: _grouped_records(table, _NESTED[name], people)
            for name, table in self._nested_tables().items()
        }
        for i, e in enumerate(people):
            yield {
                "employee_id": e,
                "track": top["track"][i],
                "track_reasons": top["reasons"][i],
                "start_on": self.start_date,
                "end_on": top["end"],
                **{field: _figure(top[field][i]) for field in _PLAN_FIGURES},
                **{name: groups[name][i] for name in groups},
            }


#: The plan document's own figures, in field order, and the ``plan_summary``
#: column each comes from.
_PLAN_FIGURES = {
    "status": "status",
    "total_hours": "hours",
    "total_cost": "cost",
    "hours_available": "hours_available",
    "hours_used_share": "hours_used_share",
    "unused_reason": "unused_reason",
    "strength_share": "strength_share",
    "gap_share": "gap_share",
    "track_share": "track_share",
    "role_share": "role_share",
    "experience_share": "experience_share",
    "exposure_share": "exposure_share",
    "education_share": "education_share",
    "expected_benefit": "expected_benefit",
}
_PLAN_TEXTS = ("status", "unused_reason")


def _figure(value):
    """A plan figure as the model takes it: text, a float, or None for NaN."""
    if isinstance(value, str):
        return value
    return None if np.isnan(value) else float(value)


#: The nested models of a plan, by field.
_NESTED = {
    name: Plan.model_fields[name].annotation.__args__[0]
    for name in (
        "items",
        "manager_actions",
        "followups",
        "unmet_needs",
        "transfer_risks",
    )
}


def _rows_by_person(frame: pd.DataFrame, people: pd.Index):
    """The rows of ``frame`` of ``people``, grouped in their order (each
    person's rows in table order), and the bounds of each person's rows."""
    at = _positions(people, frame["employee_id"])
    order = np.flatnonzero(at >= 0)
    order = order[np.argsort(at[order], kind="stable")]
    bounds = np.searchsorted(at[order], np.arange(len(people) + 1))
    return frame.iloc[order], bounds


def _grouped_records(frame: pd.DataFrame, model, people: pd.Index) -> list[list[dict]]:
    """Rows of ``frame`` as plain dicts with ``model``'s fields in order
    (dates as dates, missing as None or the field's default), one list per
    person of ``people``."""
    frame, bounds = _rows_by_person(frame, people)
    columns = list(model.model_fields)
    values = {}
    for name in columns:
        if name not in frame.columns:
            default = model.model_fields[name].default
            values[name] = [default] * len(frame)
            continue
        s = frame[name]
        if s.dtype.kind == "M":
            dates = s.dt.date.astype(object)
            values[name] = dates.where(s.notna(), None).to_numpy()
        elif s.dtype.kind in "iub":
            values[name] = s.to_numpy().tolist()
        elif s.dtype.kind == "f":
            arr = s.to_numpy(dtype=float)
            values[name] = [None if v != v else v for v in arr.tolist()]
        else:
            obj = s.astype(object)
            values[name] = obj.where(s.notna(), None).to_numpy().tolist()
    records = [
        dict(zip(columns, row, strict=True))
        for row in zip(*values.values(), strict=True)
    ]
    return [records[bounds[i] : bounds[i + 1]] for i in range(len(people))]


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def default_start_date(bundle) -> dt.date:
    """First day of the month after the bundle's latest assessment.

    Falls back to the first day of next month when no rating has a date.
    """
    dates = bundle.assessments["assessed_on"].dropna()
    return start_after(dates.max().date() if len(dates) else None)


def start_after(latest: dt.date | None) -> dt.date:
    """First day of the month after ``latest`` (next month when None)."""
    latest = dt.date.today() if latest is None else latest
    return _add_months(dt.date(latest.year, latest.month, 1), 1)


def _rationale(selected, profiles, names, tracks, scale_max) -> pd.Series:
    """The evidence behind every selected item, in words."""
    if not len(selected):
        return pd.Series([], index=selected.index, dtype="str")
    # each selected item's profile row, via integer keys (person × competency)
    people = pd.Index(tracks["employee_id"].astype(str))
    comps = pd.Index(pd.unique(profiles["competency_id"].astype(str)))

    def key(frame):
        p = _positions(people, frame["employee_id"])
        c = _positions(comps, frame["competency_id"])
        return np.where((p >= 0) & (c >= 0), p * len(comps) + c, -1)

    pkey, skey = key(profiles), key(selected)
    known = np.flatnonzero(pkey >= 0)
    # keys index a dense table of profile rows (one row per person and
    # competency; repeated rows fail in get_indexer, as they always did)
    table = np.full(len(people) * len(comps) + 1, -1, dtype=np.int64)
    table[pkey[known]] = known
    if (table[pkey[known]] == known).all():
        row = table[skey]  # key -1 finds the table's last cell: -1
    else:
        row = pd.Index(pkey[known]).get_indexer(skey)
        row = np.where(row >= 0, known[np.maximum(row, 0)], -1)
    found = row >= 0

    def column(name):
        values = profiles[name].to_numpy(dtype=float)[np.maximum(row, 0)]
        return pd.Series(np.where(found, values, np.nan), index=selected.index)

    purpose = selected["purpose"].to_numpy(dtype=object)
    name = _each_value(
        selected["competency_id"].astype(str), lambda u: u.map(names).fillna(u)
    )
    parts = []
    s = purpose == "leverage_strength"
    if s.any():
        parts.append(
            "builds on your strength in "
            + name[s]
            + " ("
            + _formatted(column("percentile")[s], 0)
            + "th percentile; others rate you "
            # (a bias-corrected estimate can pass the scale's top)
            + _formatted(column("others_score")[s].clip(upper=scale_max), 1)
            + f"/{scale_max:g})"
        )
    n = purpose == "develop_need"
    if n.any():
        importance = (
            profiles["importance"].astype(object).to_numpy()[np.maximum(row[n], 0)]
        )
        importance = pd.Series(
            np.where(found[n], importance, None), index=selected.index[n]
        ).fillna("important")
        article = importance.map(_GAP_ARTICLE).fillna("a ").astype("str")
        parts.append(
            "closes "
            + article
            + importance.astype("str")
            + " gap: "
            + name[n]
            + " "
            + _formatted(column("score")[n], 1)
            + " → required "
            + _formatted(column("required_level")[n], 1)
        )
    r = purpose == "broaden_role"
    if r.any():
        score = column("score")[r]
        at = ("you are at " + _formatted(score, 1)).where(
            score.notna(), "not assessed yet"
        )
        parts.append(
            "broadens what your role asks for: "
            + name[r]
            + " ("
            + at
            + "; the role asks "
            + _formatted(column("required_level")[r], 1)
            + ")"
        )
    c = ~(s | n | r)
    if c.any():
        track = tracks.set_index(tracks["employee_id"].astype(str))["track"]
        track = _each_value(
            selected["employee_id"][c].astype(str),
            lambda u: u.map(track.astype(str)),
        )
        parts.append(track.map(TRACK_CONTENT).fillna("core of your track: ") + name[c])
    return pd.concat(parts).reindex(selected.index).astype("str")


#: How a rationale introduces an item chosen for a track's core content.
TRACK_CONTENT = {
    "new_manager": "core of the new-manager track: ",
    "struggling_manager": "core of the struggling-manager track: ",
    "high_potential": "core of the high-potential track: ",
    "core": "part of the core curriculum: ",
}
_GAP_ARTICLE = {"critical": "a ", "important": "an ", "useful": "a "}


def _each_value(values: pd.Series, make) -> pd.Series:
    """``make(values)`` computed once per distinct value (``make`` maps a
    Series of distinct values, missing included, to one text each)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    texts = make(pd.Series(uniques, dtype=values.dtype))
    return pd.Series(texts.array.take(codes), index=values.index)


def _formatted(values: pd.Series, decimals: int) -> pd.Series:
    """Numbers rounded to ``decimals`` as text, "n/a" when missing.

    Each distinct rounded value is formatted once.
    """
    rounded = np.round(values.to_numpy(dtype=float), decimals) + 0.0
    codes, uniques = pd.factorize(rounded)
    text = [f"{u:.{decimals}f}" for u in uniques] + ["n/a"]
    return pd.Series(pd.Index(text, dtype="str").take(codes), index=values.index)


def risk_inputs(profiles: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The few profile rows transfer risks need: needs, and strengths + score."""
    weak = profiles.loc[profiles["is_need"], ["employee_id", "competency_id"]]
    strong = profiles.loc[
        profiles["is_strength"], ["employee_id", "competency_id", "score"]
    ]
    return weak.reset_index(drop=True), strong.reset_index(drop=True)


def transfer_risks(plans, weak, strong, employees, names) -> pd.DataFrame:
    """Plans that develop a competency the person's manager is weak in.

    ``weak`` and ``strong`` come from :func:`risk_inputs` over the whole
    organisation (managers and coaches may sit in any chunk).
    """
    columns = [
        "employee_id",
        "manager_id",
        "competency_id",
        "suggested_coach_id",
        "suggestion",
    ]
    emp = employees.drop_duplicates("employee_id").set_index("employee_id")

    def lookup(ids, column):
        # ``ids.map(emp[column])`` as text, by positions
        at = _positions(emp.index, ids)
        found = emp[column].astype("str").iloc[np.maximum(at, 0)]
        return found.set_axis(ids.index).where(at >= 0)

    developing = plans[["employee_id", "competency_id"]][
        (plans["purpose"] != "leverage_strength").to_numpy()
    ].drop_duplicates()
    developing = developing.assign(
        manager_id=lookup(developing["employee_id"], "manager_id")
    ).dropna(subset=["manager_id"])
    weak = weak.rename(columns={"employee_id": "manager_id"})
    risks = developing.merge(weak, on=["manager_id", "competency_id"])
    if not len(risks):
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    # a coach: someone else with that signature strength, same unit first
    strong = strong.rename(columns={"employee_id": "coach_id"})
    strong = strong.assign(
        unit=lookup(strong["coach_id"], "business_unit")
    ).sort_values(["competency_id", "score", "coach_id"], ascending=[True, False, True])
    risks = risks.assign(unit=lookup(risks["employee_id"], "business_unit"))
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
    risks["suggestion"] = _risk_suggestions(risks, names)
    return risks[columns].astype({"employee_id": "str", "competency_id": "str"})


def coaches_from_mentors(risks, mentoring, names) -> pd.DataFrame:
    """Transfer risks whose coach is the mentor matching found for them.

    Mentor matching (:func:`devplan.match_mentors`) covers transfer risks
    first; where it found a mentor for the person and competency, that
    mentor replaces the provisional coach, so that both tables name the
    same colleague.
    """
    matched = mentoring[mentoring["mentor_id"].notna()]
    if not len(risks) or not len(matched):
        return risks
    key = pd.MultiIndex.from_frame(risks[["employee_id", "competency_id"]].astype(str))
    mentor = matched.set_index(
        [matched["mentee_id"].astype(str), matched["competency_id"].astype(str)]
    )["mentor_id"]
    found = mentor.reindex(key).to_numpy(dtype=object)
    has = pd.notna(found)
    risks = risks.copy()
    coach = risks["suggested_coach_id"]
    risks["suggested_coach_id"] = pd.Series(
        np.where(has, found, coach.to_numpy(dtype=object)), index=risks.index
    ).astype(coach.dtype)
    risks["suggestion"] = _risk_suggestions(risks, names)
    return risks


def _risk_suggestions(risks, names) -> np.ndarray:
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
    return np.where(risks["suggested_coach_id"].notna(), with_coach, without)


#: Columns of ``plan_summary``, in order (mentor matching adds
#: ``n_mentees, mentoring_hours``).
SUMMARY_COLUMNS = (
    "employee_id",
    "n_items",
    "hours",
    "cost",
    "hours_available",
    "hours_used_share",
    "strength_share",
    "gap_share",
    "track_share",
    "role_share",
    "experience_share",
    "exposure_share",
    "education_share",
    "expected_benefit",
    "n_unmet",
    "status",
    "unused_reason",
)
#: Plan purpose behind each share of ``plan_summary``.
PURPOSE_SHARES = {
    "strength_share": "leverage_strength",
    "gap_share": "develop_need",
    "track_share": "track_core",
    "role_share": "broaden_role",
}


def _summary(tracks, plans, selected, unmet, available, people=None) -> pd.DataFrame:
    """One row per person: what the plan holds and what it leaves unused.

    Every share is a plain share of the plan's hours (``strength_share`` is
    hours on ``leverage_strength`` items / all plan hours), except
    ``hours_used_share`` = plan hours / ``hours_available`` (learning hours
    per month × horizon). ``status`` is ``"planned"`` or ``"no plan"``;
    ``unused_reason`` says why time is left, from the recommender's
    ``people`` table when given.
    """
    ids = pd.Index(tracks["employee_id"].astype(str), name="employee_id")
    n = len(ids)
    p = _positions(ids, plans["employee_id"])

    def per_person(rows, **weights):
        """Rows per person, or the sums of each of ``weights`` per person."""
        keep = rows >= 0
        if not weights:
            return np.bincount(rows[keep], minlength=n)
        # pandas sums with compensation (as a groupby on ids did), all
        # columns in one pass
        frame = pd.DataFrame({name: w[keep] for name, w in weights.items()})
        sums = frame.groupby(rows[keep]).sum()
        out = {name: np.zeros(n) for name in weights}
        for name in weights:
            out[name][sums.index.to_numpy()] = sums[name].to_numpy()
        return out

    # the selected items that made it into the schedule
    sp = _positions(ids, selected["employee_id"])
    items = pd.Index(pd.unique(selected["item_id"].astype(str)))
    scheduled = np.isin(
        sp * len(items) + _positions(items, selected["item_id"]),
        p * len(items) + _positions(items, plans["item_id"]),
    )
    hours = plans["hours"].to_numpy(dtype=float)
    group = plans["group"].astype(str).to_numpy()
    purpose = plans["purpose"].astype(str).to_numpy()
    planned = per_person(
        p,
        hours=hours,
        cost=plans["cost"].to_numpy(dtype=float),
        **{share: hours * (purpose == kind) for share, kind in PURPOSE_SHARES.items()},
        **{g: hours * (group == g) for g in GROUPS},
    )
    chosen = per_person(
        sp, benefit=selected["benefit"].to_numpy(dtype=float) * scheduled
    )
    total = planned["hours"]
    out = pd.DataFrame(index=ids)
    out["n_items"] = per_person(p).astype(np.int64)
    out["hours"] = total
    out["cost"] = planned["cost"]
    avail = available.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    out["hours_available"] = avail
    out["hours_used_share"] = _share(total, avail)
    for share in PURPOSE_SHARES:
        out[share] = _share(planned[share], total)
    for g in GROUPS:
        out[f"{g}_share"] = _share(planned[g], total)
    benefit = chosen["benefit"]
    reason = np.full(n, "", dtype=object)
    if people is not None:
        at = _positions(pd.Index(people["employee_id"].astype(str)), ids.to_series())
        found = at >= 0
        if "unused_reason" in people:
            text = people["unused_reason"].astype(object).fillna("").to_numpy()
            reason = np.where(found, text[np.maximum(at, 0)], reason)
    empty = out["n_items"].to_numpy() == 0
    no_reason = empty & (reason == "")
    reason[no_reason & (avail <= 0)] = "no learning time"
    reason[no_reason & (avail > 0)] = "no catalog item fits"
    out["expected_benefit"] = benefit
    out["n_unmet"] = per_person(_positions(ids, unmet["employee_id"])).astype(np.int64)
    out["status"] = pd.Series(np.where(empty, "no plan", "planned"), index=ids)
    out["unused_reason"] = pd.Series(reason, index=ids, dtype="str")
    return out.reset_index()[list(SUMMARY_COLUMNS)].astype(
        {"status": "str", "unused_reason": "str"}
    )


def _available(employees: pd.DataFrame, horizon_months: int) -> pd.Series:
    """Learning hours each person has over the plan (index ``employee_id``)."""
    emp = employees.drop_duplicates("employee_id")
    hours = pd.to_numeric(emp["learning_hours_per_month"], errors="coerce")
    return pd.Series(
        hours.fillna(0.0).to_numpy(dtype=float) * horizon_months,
        index=pd.Index(emp["employee_id"].astype(str)),
    )


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole``, NaN where ``whole`` is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, part / np.where(whole > 0, whole, 1.0), np.nan)


def plan_tables(
    bundle,
    profiles: pd.DataFrame,
    tracks: pd.DataFrame,
    config: Config,
    recommender: PathRecommender,
    start: dt.date,
) -> dict[str, pd.DataFrame]:
    """The plan tables of one bundle (or one chunk of employees).

    Everything but transfer risks, which need the whole organisation: see
    :func:`transfer_risks`. Each person's rows depend only on their own
    profile, track and employee row, so chunks can run anywhere.
    """
    names = bundle.competencies.set_index("competency_id")["name"].astype(str)
    levels = bundle.roles.dropna(subset=["role_level"]).drop_duplicates("role_id")
    levels = levels.set_index("role_id")["role_level"].astype(str)
    role_level = (
        bundle.employees.drop_duplicates("employee_id")
        .set_index("employee_id")["role_id"]
        .map(levels)
    )
    horizon = config.plan.horizon_months
    selected, unmet, people = recommender.recommend(
        profiles,
        tracks,
        bundle.employees,
        enrolments=bundle.enrolments,
        track_content=bundle.track_content(),
        horizon_months=horizon,
        role_levels=role_level,
        return_people=True,
    )
    selected = selected.assign(
        rationale=_rationale(selected, profiles, names, tracks, config.scale_max)
    )
    plans, unscheduled = schedule(
        selected, bundle.employees, start_date=start, horizon_months=horizon
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
    by_name = names.to_dict()
    ids = pd.Index(tracks["employee_id"].astype(str))
    return {
        "plans": plans,
        "followups": make_followups(
            plans,
            bundle.employees,
            start_date=start,
            horizon_months=horizon,
            competency_names=by_name,
        ),
        "manager_actions": make_actions(
            plans,
            bundle.employees,
            start_date=start,
            horizon_months=horizon,
            competency_names=by_name,
        ),
        # in employee order whatever the chunking
        "unmet_needs": unmet.iloc[
            np.argsort(_positions(ids, unmet["employee_id"]), kind="stable")
        ].reset_index(drop=True),
        "plan_summary": _summary(
            tracks,
            plans,
            selected,
            unmet,
            _available(bundle.employees, horizon),
            people,
        ),
    }


def dumps_schema() -> str:
    """The plan JSON Schema as pretty-printed text (for ``docs/``)."""
    return json.dumps(Plan.model_json_schema(), indent=2, sort_keys=True) + "\n"
