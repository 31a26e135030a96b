"""HTML reports for people: one employee, one manager's team, the organisation.

Each report is one self-contained HTML file: CSS inline, charts as inline
SVG drawn with :mod:`devplan.plot`, no script and no external address, so it
opens offline in any browser and can be mailed or archived as is. Text from
the input data (names, titles, identifiers, reasons) is escaped by jinja2's
autoescaping; a competency called ``<script>`` shows as that text.

Data flow: a :class:`~devplan.PlanResult` (+ the bundle for names, roles and
the line of management, + a :class:`~devplan.TNAResult` for the
organisation) → plain rows and inline SVG per report → templates in
``devplan/templates/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from devplan._plans import PlanResult

_PURPOSE_LABELS = {
    "leverage_strength": "leverage a strength",
    "develop_need": "develop a need",
    "track_core": "track core",
    "broaden_role": "broaden the role",
}
_FOLLOWUP_LABELS = {
    "manager_kickoff": "kick-off",
    "checkin": "check-in",
    "quarterly_review": "quarterly review",
    "annual_review": "year-end review",
}


# -- rendering helpers ---------------------------------------------------------


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("devplan", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


_ENV = None


def _render(template: str, **context) -> str:
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    from devplan import __version__

    return _ENV.get_template(template).render(version=__version__, **context)


_XML_NOISE = re.compile(
    r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>", re.DOTALL
)


def _svg(ax) -> str:
    """The figure of ``ax`` as inline SVG markup (text as text, no metadata)."""
    import io

    import matplotlib as mpl
    from markupsafe import Markup

    fig = ax.figure
    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "devplan"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = _XML_NOISE.sub("", buffer.getvalue()).strip()
    # scale with the page; matplotlib gives a fixed size in pt
    text = re.sub(
        r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"',
        r'<svg\1 class="chart" style="max-width:\2pt"',
        text,
        count=1,
    )
    # matplotlib escapes every text it writes into the SVG (XML rules);
    # the markup itself is the library's own, so it is marked safe
    return Markup(text)  # noqa: S704


def _draw(function, *args, **kwargs) -> str:
    """Call a :mod:`devplan.plot` function on a figure made without pyplot
    and return it as inline SVG."""
    from devplan import plot

    with plot._without_pyplot():
        ax = function(*args, **kwargs)
    return _svg(ax)


def _num(value, digits: int = 0, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}{unit}"


def _pct(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return f"{value:.0%}"


def _day(value) -> str:
    if value is None or pd.isna(value):
        return ""
    return pd.Timestamp(value).date().isoformat()


def _text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def _records(frame: pd.DataFrame, formats: dict) -> list[dict]:
    """Rows as dicts of display text, one formatter per output key."""
    return [
        {key: fn(row) for key, fn in formats.items()}
        for row in frame.to_dict("records")
    ]


def file_name(identifier: str) -> str:
    """A safe file name for an identifier (letters, digits, ``._-`` only).

    Identifiers with other characters keep their safe characters and get a
    short hash, so that two identifiers never share a file.

    Parameters
    ----------
    identifier : str

    Returns
    -------
    str

    Examples
    --------
    >>> file_name("E000001")
    'E000001.html'
    >>> file_name("../<script>")
    '____script_-40b70f97.html'
    """
    text = str(identifier)
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", text)[:80] or "_"
    if safe != text:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        safe = f"{safe}-{digest}"
    return f"{safe}.html"


class _Lookup:
    """Rows of the result's tables by employee, grouped once (not per person)."""

    def __init__(self, result: PlanResult, bundle=None):
        self.result = result
        self.bundle = bundle
        self._groups: dict[str, dict] = {}
        names = {}
        if bundle is not None:
            comps = bundle.competencies
            names = dict(
                zip(
                    comps["competency_id"].astype(str),
                    comps["name"].astype(str),
                    strict=True,
                )
            )
        self.names = names
        if bundle is not None:
            emp = bundle.employees.drop_duplicates("employee_id")
            self.employees = emp.set_index(emp["employee_id"].astype(str))
            roles = bundle.roles.drop_duplicates("role_id")
            self.role_names = (
                roles.set_index(roles["role_id"].astype(str))["role_name"]
                .astype(object)
                .to_dict()
                if "role_name" in roles
                else {}
            )
        else:
            self.employees = None
            self.role_names = {}

    def norms(self) -> pd.DataFrame:
        """The norm band of every competency (computed once)."""
        if "norms" not in self._groups:
            from devplan.plot import norm_band

            self._groups["norms"] = norm_band(self.result.profiles)
        return self._groups["norms"]

    def name(self, competency_id) -> str:
        text = _text(competency_id)
        return self.names.get(text, text)

    def rows(self, table: str, key: str, value: str, columns=None) -> pd.DataFrame:
        """The rows of ``table`` whose ``key`` is ``value`` (optionally only
        some columns, which is faster for wide tables)."""
        frame = getattr(self.result, table)
        if columns is not None:
            slim = self._groups.get((table, tuple(columns)))
            if slim is None:
                slim = frame[list(columns)].astype(
                    {c: object for c in columns if frame[c].dtype.kind not in "Mfiub"}
                )
                self._groups[(table, tuple(columns))] = slim
            frame = slim
        groups = self._groups.get((table, key))
        if groups is None:
            source = getattr(self.result, table)
            if not len(source):
                groups = {}
            else:
                groups = source.groupby(source[key].astype(str), sort=False).indices
            self._groups[(table, key)] = groups
        at = groups.get(str(value))
        return frame.iloc[at] if at is not None else frame.iloc[0:0]

    def team_table(self) -> pd.DataFrame:
        """Per employee: track, plan summary and hours by purpose (once)."""
        if "team_table" not in self._groups:
            result = self.result
            summary = result.plan_summary
            table = summary.set_index(summary["employee_id"].astype(str))[
                ["n_items", "hours", "cost", "strength_share", "n_unmet"]
            ]
            tracks = result.tracks
            table = table.join(
                tracks.set_index(tracks["employee_id"].astype(str))["track"].astype(
                    object
                ),
                how="left",
            )
            plans = result.plans
            hours = pd.DataFrame(0.0, index=table.index, columns=list(_PURPOSE_LABELS))
            if len(plans):
                pivot = plans.pivot_table(
                    index=plans["employee_id"].astype(str),
                    columns="purpose",
                    values="hours",
                    aggfunc="sum",
                    fill_value=0.0,
                ).reindex(index=table.index, columns=list(_PURPOSE_LABELS))
                hours = pivot.fillna(0.0)
            table = table.join(hours)
            table.index = table.index.astype(object)
            self._groups["team_table"] = table
        return self._groups["team_table"]

    def team(self, manager_id: str) -> list[str]:
        """The manager's direct reports (the bundle; else the plans' records)."""
        if self.employees is not None and "manager_id" in self.employees:
            key = ("team", "")
            if key not in self._groups:
                m = self.employees["manager_id"]
                m = m[m.notna()].astype(str)
                self._groups[key] = m.groupby(m, sort=False).groups
            ids = self._groups[key].get(str(manager_id))
            return [] if ids is None else [str(i) for i in ids]
        rows = self.rows("manager_actions", "manager_id", manager_id)
        return list(pd.unique(rows["employee_id"].astype(str)))


# -- the employee --------------------------------------------------------------


def _person_context(look: _Lookup, employee_id: str, *, charts: bool) -> dict:
    result = look.result
    e = str(employee_id)
    profiles = look.rows("profiles", "employee_id", e)
    tracks = look.rows("tracks", "employee_id", e)
    summary = look.rows("plan_summary", "employee_id", e)
    if not len(tracks) and not len(summary) and not len(profiles):
        raise KeyError(f"Got employee_id={employee_id!r}; no plan or profile for it.")
    plans = look.rows("plans", "employee_id", e).sort_values("step")
    track = tracks.iloc[0] if len(tracks) else None
    s = summary.iloc[0] if len(summary) else None
    person = {}
    if look.employees is not None and e in look.employees.index:
        row = look.employees.loc[e]
        role = _text(row.get("role_id"))
        person = {
            "role": _text(look.role_names.get(role, role)),
            "unit": _text(row.get("business_unit")),
            "manager": _text(row.get("manager_id")),
        }
    scored = profiles
    if "scored" in profiles:
        scored = profiles[profiles["scored"].fillna(False).astype(bool).to_numpy()]
    strengths = scored[scored["is_strength"].fillna(False).astype(bool).to_numpy()]
    needs = scored[scored["is_need"].fillna(False).astype(bool).to_numpy()]
    if "strength_rank" in strengths:
        strengths = strengths.sort_values("strength_rank")
    if "need_rank" in needs:
        needs = needs.sort_values("need_rank")
    flags = (
        scored[scored["flag"].notna().to_numpy()] if "flag" in scored else scored[:0]
    )

    def profile_row(r):
        return {
            "competency": look.name(r["competency_id"]),
            "score": _num(r.get("score"), 1),
            "percentile": _num(r.get("percentile"), 0),
            "others": _num(r.get("others_score"), 1),
            "self": _num(r.get("self_score"), 1),
            "required": _num(r.get("required_level"), 1),
            "gap": _num(r.get("gap"), 1),
            "importance": _text(r.get("importance")),
            "flag": _text(r.get("flag")).replace("_", " "),
        }

    context = {
        "employee_id": e,
        "person": person,
        "track": _text(track["track"]).replace("_", " ") if track is not None else "",
        "track_reasons": _text(track["reasons"]) if track is not None else "",
        "nine_box": _text(track.get("nine_box_label")) if track is not None else "",
        "totals": {
            "items": _num(s["n_items"]) if s is not None else "0",
            "hours": _num(s["hours"], 0, " h") if s is not None else "0 h",
            "cost": _num(s["cost"]) if s is not None else "0",
            "strength_share": _pct(s["strength_share"]) if s is not None else "–",
            "mix": " / ".join(
                _pct(s[f"{g}_share"]) for g in ("experience", "exposure", "education")
            )
            if s is not None
            else "–",
        },
        "strengths": _records(strengths, {"row": profile_row}),
        "needs": _records(needs, {"row": profile_row}),
        "flags": _records(flags, {"row": profile_row}),
        "steps": _records(
            plans,
            {
                "step": lambda r: str(r["step"]),
                "start": lambda r: _day(r["start_on"]),
                "end": lambda r: _day(r["end_on"]),
                "title": lambda r: _text(r.get("title", r["item_id"])),
                "kind": lambda r: _text(r.get("kind")).replace("_", " "),
                "purpose": lambda r: _PURPOSE_LABELS.get(r["purpose"], r["purpose"]),
                "purpose_key": lambda r: _text(r["purpose"]),
                "competency": lambda r: look.name(r["competency_id"]),
                "hours": lambda r: _num(r["hours"], 1),
                "cost": lambda r: _num(r["cost"]),
                "rationale": lambda r: _text(r["rationale"]),
            },
        ),
        "actions": _records(
            look.rows("manager_actions", "employee_id", e).sort_values("date"),
            {
                "date": lambda r: _day(r["date"]),
                "action": lambda r: _text(r["action"]).replace("_", " "),
                "description": lambda r: _text(r["description"]),
            },
        ),
        "followups": _records(
            look.rows("followups", "employee_id", e).sort_values("date"),
            {
                "date": lambda r: _day(r["date"]),
                "kind": lambda r: _FOLLOWUP_LABELS.get(r["kind"], _text(r["kind"])),
                "with_whom": lambda r: _text(r["with_whom"]),
                "agenda": lambda r: _text(r["agenda"]),
                "reminder": lambda r: _day(r.get("reminder_on")),
                "milestone": lambda r: _text(r.get("milestone")),
            },
        ),
        "unmet": _records(
            look.rows("unmet_needs", "employee_id", e),
            {
                "competency": lambda r: look.name(r["competency_id"]),
                "importance": lambda r: _text(r.get("importance")),
                "gap": lambda r: _num(r.get("gap"), 1),
                "reason": lambda r: _text(r["reason"]),
            },
        ),
        "risks": _records(
            look.rows("transfer_risks", "employee_id", e),
            {
                "competency": lambda r: look.name(r["competency_id"]),
                "manager": lambda r: _text(r["manager_id"]),
                "coach": lambda r: _text(r.get("suggested_coach_id")),
                "suggestion": lambda r: _text(r["suggestion"]),
            },
        ),
        "profile_chart": "",
        "timeline_chart": "",
    }
    if charts:
        from devplan import plot

        scale = (result.config.scale_min, result.config.scale_max)
        if len(scored):
            context["profile_chart"] = _draw(
                plot.profile_chart,
                profiles,
                e,
                names=look.names or None,
                scale=scale,
                norms=look.norms(),
            )
        if len(plans):
            context["timeline_chart"] = _draw(plot.plan_timeline, plans, e)
    return context


def employee_report(
    result: PlanResult,
    employee_id: str,
    *,
    bundle=None,
    charts: bool = True,
) -> str:
    """One employee's report: profile, strengths and needs, plan, follow-ups.

    Parameters
    ----------
    result : PlanResult
        From :func:`devplan.generate_plans` or :func:`devplan.build_plans`.
    employee_id : str
    bundle : Bundle or None, default=None
        The bundle the plans came from: competency and role names, unit and
        manager. Without it identifiers are shown.
    charts : bool, default=True
        Include the profile chart and the plan timeline (inline SVG).

    Returns
    -------
    str
        A complete HTML document with sections ``summary``, ``profile``
        (chart, strengths, needs, self–other differences), ``plan``
        (timeline and steps with their rationale), ``manager-actions``,
        ``followups`` (the year's calendar) and ``unmet-needs``.

    Examples
    --------
    >>> import devplan
    >>> b = devplan.datasets.load_sample()
    >>> result = devplan.generate_plans(b)
    >>> html = devplan.employee_report(result, "E000001", bundle=b)
    >>> html.startswith("<!DOCTYPE html>"), 'id="followups"' in html
    (True, True)
    """
    look = _Lookup(result, bundle)
    return _render(
        "employee.html",
        title=f"Development plan: {employee_id}",
        **_person_context(look, employee_id, charts=charts),
    )


# -- the manager ---------------------------------------------------------------


def _manager_context(look: _Lookup, manager_id: str, *, links: str | None) -> dict:
    m = str(manager_id)
    team = look.team(m)
    table = look.team_table().reindex(pd.Index(team, dtype=object))
    columns = {c: table[c].tolist() for c in table.columns}
    top = float(np.nanmax(columns["hours"], initial=0.0)) if team else 0.0
    rows = []
    for i, e in enumerate(team):
        bars = [
            {
                "key": key,
                "label": f"{label}: {columns[key][i]:g} h",
                "width": f"{100 * columns[key][i] / top:.1f}",
            }
            for key, label in _PURPOSE_LABELS.items()
            if columns[key][i] > 0
        ]
        rows.append(
            {
                "employee_id": e,
                "link": f"{links}/{file_name(e)}" if links else "",
                "track": _text(columns["track"][i]).replace("_", " "),
                "items": _num(columns["n_items"][i]),
                "hours": _num(columns["hours"][i], 0),
                "cost": _num(columns["cost"][i]),
                "strength_share": _pct(columns["strength_share"][i]),
                "unmet": _num(columns["n_unmet"][i]),
                "bars": bars,
            }
        )
    risks = look.rows(
        "transfer_risks",
        "manager_id",
        m,
        ["employee_id", "competency_id", "suggested_coach_id", "suggestion"],
    )
    meetings = look.rows(
        "followups", "with_whom", m, ["date", "employee_id", "kind", "agenda"]
    )
    actions = look.rows(
        "manager_actions",
        "manager_id",
        m,
        ["date", "employee_id", "action", "description"],
    )
    # the meetings to hold and the actions to take, by date then person
    calendar = [
        (_day(d), _text(e), _FOLLOWUP_LABELS.get(k, _text(k)), _text(a))
        for d, e, k, a in zip(
            meetings["date"].tolist(),
            meetings["employee_id"].tolist(),
            meetings["kind"].tolist(),
            meetings["agenda"].tolist(),
            strict=True,
        )
    ] + [
        (_day(d), _text(e), _text(k).replace("_", " "), _text(a))
        for d, e, k, a in zip(
            actions["date"].tolist(),
            actions["employee_id"].tolist(),
            actions["action"].tolist(),
            actions["description"].tolist(),
            strict=True,
        )
    ]
    calendar.sort(key=lambda row: (row[0], row[1]))
    return {
        "manager_id": m,
        "team": rows,
        "totals": {
            "people": f"{len(team):,}",
            "hours": _num(float(np.nansum(columns["hours"])), 0, " h"),
            "cost": _num(float(np.nansum(columns["cost"]))),
            "meetings": f"{len(meetings):,}",
        },
        "risks": _records(
            risks,
            {
                "employee_id": lambda r: _text(r["employee_id"]),
                "competency": lambda r: look.name(r["competency_id"]),
                "coach": lambda r: _text(r.get("suggested_coach_id")),
                "suggestion": lambda r: _text(r["suggestion"]),
            },
        ),
        "calendar": [
            dict(zip(("date", "employee_id", "what", "details"), row, strict=True))
            for row in calendar
        ],
        "purposes": list(_PURPOSE_LABELS.items()),
    }


def manager_report(
    result: PlanResult,
    manager_id: str,
    *,
    bundle=None,
    employee_links: str | None = None,
) -> str:
    """A manager's report: their team's plans, transfer risks and meetings.

    Parameters
    ----------
    result : PlanResult
    manager_id : str
    bundle : Bundle or None, default=None
        The bundle the plans came from (the team is everyone whose
        ``manager_id`` it is; without it, the people whose plans give this
        manager actions).
    employee_links : str or None, default=None
        Folder (relative URL) of the employee reports, to link each team
        member to theirs; ``None``: no links.

    Returns
    -------
    str
        A complete HTML document with sections ``summary``, ``team`` (each
        report's track, items, hours, cost, strength share and unmet
        needs, with bars of hours by purpose), ``transfer-risks`` and
        ``meetings`` (the follow-ups to hold and the actions to take, by
        date).

    Examples
    --------
    >>> import devplan
    >>> b = devplan.datasets.load_sample()
    >>> result = devplan.generate_plans(b)
    >>> html = devplan.manager_report(result, "E000009", bundle=b)
    >>> 'id="meetings"' in html
    True
    """
    look = _Lookup(result, bundle)
    return _render(
        "manager.html",
        title=f"Team development: {manager_id}",
        **_manager_context(look, manager_id, links=employee_links),
    )


# -- the organisation ----------------------------------------------------------


def organisation_report(result: PlanResult, bundle, *, analysis=None) -> str:
    """The organisation's report: training needs, tracks, budget, coverage.

    Parameters
    ----------
    result : PlanResult
    bundle : Bundle
        The bundle the plans came from.
    analysis : TNAResult or None, default=None
        A training-needs analysis; default :func:`devplan.tna` of the
        result's profiles with the bundle's catalog.

    Returns
    -------
    str
        A complete HTML document with sections ``summary``, ``gaps``
        (heat-maps of the share of people with a need by role and by
        business unit), ``tracks`` (track mix by unit and the 9-box grid),
        ``calibration`` (how many people's ratings and 360 profile disagree,
        by rule, and the most severe of them with both sides' evidence: see
        :func:`devplan.calibration`), ``budget`` (planned hours and cost by
        track, the 70-20-10 mix, the cost of closing the gaps and the
        allocation by programme) and
        ``coverage`` (needs the catalog closes, closes in part or cannot
        serve).

    Examples
    --------
    >>> import devplan
    >>> b = devplan.datasets.load_sample()
    >>> result = devplan.generate_plans(b)
    >>> html = devplan.organisation_report(result, b)
    >>> 'id="coverage"' in html
    True
    """
    from devplan import plot
    from devplan._tna import tna

    if analysis is None:
        analysis = tna(
            result.profiles,
            bundle.employees,
            bundle.roles,
            bundle.catalog,
            competencies=bundle.competencies,
        )
    return _render(
        "organisation.html",
        title="Organisation development report",
        **_organisation_context(result, bundle, analysis, plot),
    )


#: How the organisation report names each calibration rule.
CALIBRATION_RULES = {
    "rated_high_profile_low": "rated high, profile low",
    "rated_low_profile_high": "rated low, profile high",
    "high_potential_gaps": "high potential with critical gaps",
}
#: Calibration rows the organisation report shows (the most severe).
CALIBRATION_SHOWN = 25


def _calibration_rows(result: PlanResult, bundle) -> pd.DataFrame:
    """The run's :func:`devplan.calibration` rows, in its order."""
    from devplan._calibration import calibration

    return calibration(result.tracks, result.profiles, bundle, result.config)


def _organisation_context(result, bundle, analysis, plot) -> dict:
    summary = result.plan_summary
    tracks = result.tracks
    plans = result.plans
    track_of = tracks.set_index(tracks["employee_id"].astype(str))["track"].astype(str)
    track_of.name = "track"
    by_track = (
        summary.assign(track=summary["employee_id"].astype(str).map(track_of))
        .groupby("track", sort=True)
        .agg(
            people=("employee_id", "size"),
            hours=("hours", "sum"),
            cost=("cost", "sum"),
            mean_hours=("hours", "mean"),
            strength_share=("strength_share", "median"),
            unmet=("n_unmet", "sum"),
        )
        .reset_index()
    )
    needs = analysis.needs
    units = (
        bundle.employees["business_unit"]
        if "business_unit" in bundle.employees
        else None
    )
    charts = {
        "gaps_role": _draw(plot.gap_heatmap, analysis, by="role"),
        "gaps_unit": _draw(plot.gap_heatmap, analysis, by="unit")
        if units is not None and units.notna().any()
        else "",
        "track_mix": _draw(
            plot.track_mix,
            tracks,
            by="business_unit" if units is not None else None,
            employees=bundle.employees,
        ),
        "nine_box": _draw(plot.nine_box_grid, tracks),
        "purpose": _draw(plot.hours_by_purpose, plans, by=track_of)
        if len(plans)
        else "",
        "mix": _draw(plot.hours_by_mix, plans, by=track_of) if len(plans) else "",
        "coverage": _draw(plot.catalog_coverage, analysis) if len(needs) else "",
    }
    calibrated = _calibration_rows(result, bundle)
    top_gaps = analysis.gaps_by_competency.sort_values(
        ["n_needs", "total_gap"], ascending=False, kind="stable"
    ).head(15)
    return {
        "totals": {
            "employees": f"{len(tracks):,}",
            "planned": f"{len(summary):,}",
            "items": f"{len(plans):,}",
            "hours": _num(summary["hours"].sum(), 0, " h"),
            "cost": _num(summary["cost"].sum()),
            "mean_hours": _num(summary["hours"].mean(), 1, " h"),
            "strength_share": _pct(summary["strength_share"].median()),
            "needs": f"{len(needs):,}",
            "unmet": f"{len(result.unmet_needs):,}",
            "risks": f"{len(result.transfer_risks):,}",
            "errors": f"{len(result.errors):,}",
        },
        "charts": charts,
        "calibration": {
            "people": f"{calibrated['employee_id'].nunique():,}",
            "by_rule": "; ".join(
                f"{n:,} {label}"
                for rule, label in CALIBRATION_RULES.items()
                if (n := int((calibrated["rule"] == rule).sum()))
            ),
            "shown": min(len(calibrated), CALIBRATION_SHOWN),
            "rows": _records(
                calibrated.head(CALIBRATION_SHOWN),
                {
                    "employee": lambda r: _text(r["employee_id"]),
                    "track": lambda r: _text(r["track"]).replace("_", " "),
                    "rule": lambda r: CALIBRATION_RULES[r["rule"]],
                    "severity": lambda r: _num(r["severity"], 3),
                    "evidence": lambda r: _text(r["evidence"]),
                },
            ),
        },
        "by_track": _records(
            by_track,
            {
                "track": lambda r: _text(r["track"]).replace("_", " "),
                "people": lambda r: _num(r["people"]),
                "hours": lambda r: _num(r["hours"]),
                "cost": lambda r: _num(r["cost"]),
                "mean_hours": lambda r: _num(r["mean_hours"], 1),
                "strength_share": lambda r: _pct(r["strength_share"]),
                "unmet": lambda r: _num(r["unmet"]),
            },
        ),
        "top_gaps": _records(
            top_gaps,
            {
                "competency": lambda r: _text(r["name"]),
                "assessed": lambda r: _num(r["n_assessed"]),
                "needs": lambda r: _num(r["n_needs"]),
                "critical": lambda r: _num(r["n_critical"]),
                "mean_gap": lambda r: _num(r["mean_gap"], 2),
                "hours": lambda r: _num(r["hours"]),
                "cost": lambda r: _num(r["cost"]),
                "open": lambda r: _num(r["n_not_closable"]),
            },
        ),
        "closing": {
            "hours": _num(needs["hours"].sum(), 0, " h"),
            "cost": _num(needs["cost"].sum()),
            "closable": f"{int(needs['closable'].sum()):,} of {len(needs):,}",
        },
        "allocation": _records(
            analysis.allocation.head(15),
            {
                "competency": lambda r: _text(r["name"]),
                "needs": lambda r: _num(r["n_needs"]),
                "hours": lambda r: _num(r["hours"]),
                "cost": lambda r: _num(r["cost"]),
                "funded": lambda r: _num(r["funded_people"]),
                "funded_cost": lambda r: _num(r["funded_cost"]),
                "utility": lambda r: _num(r["funded_utility"]),
            },
        ),
        "coverage_gaps": _records(
            analysis.coverage_gaps,
            {
                "competency": lambda r: _text(
                    analysis.gaps_by_competency.set_index("competency_id")["name"].get(
                        r["competency_id"], r["competency_id"]
                    )
                ),
                "level": lambda r: _text(r["person_level"]),
                "needs": lambda r: _num(r["n_needs"]),
                "open": lambda r: _num(r["n_not_closable"]),
                "items": lambda r: (
                    f"{r['n_items_fitting']:,} of {r['n_items_any_level']:,}"
                ),
                "problem": lambda r: _text(r["problem"]),
            },
        ),
    }


# -- writing -------------------------------------------------------------------


def managers_of(result: PlanResult, bundle=None) -> list[str]:
    """Managers with at least one planned report, in id order."""
    ids = result.manager_actions["manager_id"].dropna().astype(str)
    if bundle is not None and "manager_id" in bundle.employees:
        planned = set(result.plan_summary["employee_id"].astype(str))
        emp = bundle.employees
        has = emp["employee_id"].astype(str).isin(planned).to_numpy()
        ids = emp.loc[has, "manager_id"].dropna().astype(str)
    return sorted(pd.unique(ids))


def write_reports(
    result: PlanResult,
    bundle,
    out: str | Path,
    *,
    organisation: bool = True,
    managers: bool = True,
    employees: bool | Iterable[str] = False,
    analysis=None,
    n_jobs: int = 1,
) -> list[Path]:
    """Write the HTML reports of a planning run into a folder.

    Parameters
    ----------
    result : PlanResult
    bundle : Bundle
        The bundle the plans came from.
    out : str or Path
        Folder; the reports go to ``organisation.html``,
        ``managers/<manager_id>.html`` and ``employees/<employee_id>.html``
        (identifiers made safe by :func:`file_name`).
    organisation : bool, default=True
    managers : bool, default=True
        One report per manager with a planned report.
    employees : bool or iterable of str, default=False
        One report per employee (``True``), for the ids given, or none.
        Each takes about 0.5 s of CPU (two charts): ask for them
        when people will read them.
    analysis : TNAResult or None, default=None
        For the organisation report (default: computed).
    n_jobs : int, default=1
        Processes drawing the employee reports (``-1``: all cores).

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> import devplan
    >>> b = devplan.datasets.load_sample()
    >>> result = devplan.generate_plans(b)
    >>> files = devplan.write_reports(result, b, tempfile.mkdtemp(),
    ...                               managers=False, employees=["E000001"])
    >>> sorted(p.name for p in files)
    ['E000001.html', 'organisation.html']
    """
    from devplan._bundle import atomic_path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    look = _Lookup(result, bundle)
    written = []

    def write(path: Path, html: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(html, encoding="utf-8")
        written.append(path)

    if organisation:
        write(
            out / "organisation.html",
            organisation_report(result, bundle, analysis=analysis),
        )
    if employees is True:
        people = list(result.plan_summary["employee_id"].astype(str))
    elif employees is False or employees is None:
        people = []
    else:
        people = [str(e) for e in employees]
    if people:
        written.extend(_write_employee_reports(result, bundle, out, people, n_jobs))
    if managers:
        links = "../employees" if employees is True else None
        for m in managers_of(result, bundle):
            html = _render(
                "manager.html",
                title=f"Team development: {m}",
                **_manager_context(look, m, links=links),
            )
            write(out / "managers" / file_name(m), html)
    return written


def _write_employee_reports(result, bundle, out, people, n_jobs) -> list[Path]:
    from joblib import Parallel, delayed, effective_n_jobs

    n = min(effective_n_jobs(n_jobs), len(people))
    if n <= 1:
        return _employee_batch(result, bundle, out, people)
    batches = [list(b) for b in np.array_split(np.asarray(people, dtype=object), n)]
    done = Parallel(n_jobs=n)(
        delayed(_employee_batch)(result, bundle, out, batch) for batch in batches
    )
    return [path for paths in done for path in paths]


def _employee_batch(result, bundle, out: Path, people) -> list[Path]:
    from devplan._bundle import atomic_path

    look = _Lookup(result, bundle)
    folder = out / "employees"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for e in people:
        html = _render(
            "employee.html",
            title=f"Development plan: {e}",
            **_person_context(look, e, charts=True),
        )
        path = folder / file_name(e)
        with atomic_path(path) as tmp:
            tmp.write_text(html, encoding="utf-8")
        paths.append(path)
    return paths


# -- rich display in notebooks -------------------------------------------------


def plan_html(plan) -> str:
    """A :class:`~devplan.Plan` as an HTML fragment (for notebooks)."""
    from devplan import plot

    items = pd.DataFrame([i.model_dump() for i in plan.items])
    chart = ""
    if len(items):
        items = items.assign(employee_id=plan.employee_id)
        chart = _draw(plot.plan_timeline, items, plan.employee_id)
    return _render(
        "plan_fragment.html",
        plan=plan,
        track=plan.track.replace("_", " "),
        purpose_labels=_PURPOSE_LABELS,
        followup_labels=_FOLLOWUP_LABELS,
        strength_share=_pct(plan.strength_share),
        chart=chart,
    )


def result_html(result: PlanResult, *, rows: int = 10) -> str:
    """A :class:`~devplan.PlanResult` as an HTML fragment (for notebooks)."""
    summary = result.plan_summary
    counts = result.tracks["track"].astype(str).value_counts()
    return _render(
        "result_fragment.html",
        n_people=f"{len(summary):,}",
        n_items=f"{len(result.plans):,}",
        hours=_num(summary["hours"].sum(), 0, " h"),
        cost=_num(summary["cost"].sum()),
        strength_share=_pct(summary["strength_share"].median()),
        n_unmet=f"{len(result.unmet_needs):,}",
        n_risks=f"{len(result.transfer_risks):,}",
        n_errors=f"{len(result.errors):,}",
        start=result.start_date.isoformat()
        if isinstance(result.start_date, dt.date)
        else _text(result.start_date),
        tracks=[(t.replace("_", " "), f"{n:,}") for t, n in counts.items()],
        head=_records(
            summary.head(rows),
            {
                "employee_id": lambda r: _text(r["employee_id"]),
                "items": lambda r: _num(r["n_items"]),
                "hours": lambda r: _num(r["hours"], 1),
                "cost": lambda r: _num(r["cost"]),
                "strength_share": lambda r: _pct(r["strength_share"]),
                "unmet": lambda r: _num(r["n_unmet"]),
            },
        ),
        more=max(len(summary) - rows, 0),
    )


# -- results reports (fairness audit, outcome evaluation) ----------------------


def _cell(value) -> str:
    """Display text of one table cell (numbers rounded, missing empty)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def _section(key, heading, frame, note="", *, rows=200, columns=None):
    frame = frame if columns is None else frame[[c for c in columns if c in frame]]
    flagged = (
        frame["flagged"].to_numpy(dtype=bool)
        if "flagged" in frame
        else np.zeros(len(frame), dtype=bool)
    )
    return {
        "id": key,
        "heading": heading,
        "note": note,
        "columns": [str(c) for c in frame.columns],
        "rows": [
            {"cells": [_cell(v) for v in row], "flagged": bool(flag)}
            for row, flag in zip(
                frame.head(rows).itertuples(index=False), flagged, strict=False
            )
        ],
        "more": max(len(frame) - rows, 0),
    }


def audit_report(audit) -> str:
    """A fairness audit (:func:`devplan.audit_fairness`) as one HTML page.

    The summary, the flagged comparisons first, then every group and every
    comparison; flagged rows are highlighted. Self-contained and escaped
    like the other reports.

    Parameters
    ----------
    audit : FairnessAudit

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> import devplan
    >>> from devplan._reports import audit_report
    >>> b = devplan.datasets.load_sample()
    >>> audit = devplan.audit_fairness(devplan.generate_plans(b), b.employees,
    ...                                catalog=b.catalog)
    >>> html = audit_report(audit)
    >>> "Flagged disparities" in html and "All comparisons" in html
    True
    """
    impact = audit.impact.drop(columns=["kind"], errors="ignore")
    sections = [
        _section(
            "flags",
            "Flagged disparities",
            audit.flags.drop(columns=["kind"], errors="ignore"),
            "A group is flagged when its ratio to the best group is below "
            f"{audit.threshold:g} (four-fifths rule), the Holm-adjusted p-value "
            f"is below {audit.alpha:g} and both groups have at least "
            f"{audit.min_group_size} people.",
        ),
        _section("groups", "Groups", audit.groups),
        _section("impact", "All comparisons", impact),
    ]
    return _render(
        "tables.html",
        title="Fairness audit of the development plans",
        summary=audit.summary().splitlines(),
        sections=sections,
    )


def evaluation_report(evaluation) -> str:
    """An outcome evaluation (:func:`devplan.evaluate`) as one HTML page.

    The summary, then the Kirkpatrick levels, programmes, items (those with
    the most completers first), item × track effects and plan outcomes.

    Parameters
    ----------
    evaluation : Evaluation

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> import devplan
    >>> from devplan.datasets import make_organisation, simulate_next_cycle
    >>> from devplan._reports import evaluation_report
    >>> before, truth = make_organisation(150, random_state=0, return_truth=True)
    >>> plans = devplan.generate_plans(before).plans
    >>> after, _ = simulate_next_cycle(before, truth, plans, random_state=0)
    >>> html = evaluation_report(devplan.evaluate(before, after, plans=plans))
    >>> "Kirkpatrick levels" in html and "Items by track" in html
    True
    """
    items = evaluation.items
    if "n_completers" in items:
        items = items.sort_values("n_completers", ascending=False, kind="stable")
    sections = [
        _section("kirkpatrick", "Kirkpatrick levels", evaluation.kirkpatrick),
        _section("programmes", "Programmes", evaluation.programmes),
        _section(
            "items",
            "Items: completers against comparable colleagues",
            items,
            "effect: the completers' gain minus that of untrained colleagues of "
            "the same track, role level and starting score (rating scale); d: "
            "effect in standard deviations of the first cycle's scores.",
        ),
        _section("item_tracks", "Items by track", evaluation.item_tracks),
        _section("plans", "Plan outcomes", evaluation.plans),
    ]
    return _render(
        "tables.html",
        title="Outcome evaluation",
        summary=evaluation.summary().splitlines(),
        sections=sections,
    )
