"""HTML reports: sections, content, escaping of hostile input, no network."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

import devplan
from devplan._cli import main
from devplan._reports import file_name

#: Text an attacker could put in the input data.
HOSTILE_COMPETENCY = "<script>alert('competency')</script>"
HOSTILE_TITLE = '<script>alert("title")</script> & <b>bold</b>'
HOSTILE_EMPLOYEE = "<script>alert(3)</script>"
HOSTILE = (HOSTILE_COMPETENCY, HOSTILE_TITLE, HOSTILE_EMPLOYEE)

EMPLOYEE_SECTIONS = {
    "summary",
    "profile",
    "plan",
    "manager-actions",
    "followups",
    "unmet-needs",
}
MANAGER_SECTIONS = {"summary", "team", "transfer-risks", "meetings"}
ORGANISATION_SECTIONS = {
    "summary",
    "gaps",
    "tracks",
    "calibration",
    "budget",
    "coverage",
}


def hostile_bundle():
    """The sample organisation with HTML and script in a competency name, the
    title of a catalog item and the id of a manager who has a plan.

    Returns the bundle, the hostile manager's id and the competency id and
    item id that were renamed (both part of that manager's plan).
    """
    sample = devplan.datasets.load_sample()
    result = devplan.generate_plans(sample)
    managers = sample.employees.loc[
        sample.employees["is_people_manager"], "employee_id"
    ]
    planned = result.plans[result.plans["employee_id"].isin(managers)]
    who = planned["employee_id"].iloc[0]
    mine = planned[planned["employee_id"] == who].iloc[0]
    comp, item = mine["competency_id"], mine["item_id"]

    def rename(frame, columns):
        frame = frame.copy()
        for c in columns:
            frame[c] = frame[c].astype(object).where(frame[c] != who, HOSTILE_EMPLOYEE)
        return frame

    competencies = sample.competencies.copy()
    competencies.loc[competencies["competency_id"] == comp, "name"] = HOSTILE_COMPETENCY
    catalog = sample.catalog.copy()
    catalog.loc[catalog["item_id"] == item, "title"] = HOSTILE_TITLE
    bundle = devplan.Bundle.from_frames(
        employees=rename(sample.employees, ["employee_id", "manager_id"]),
        competencies=competencies,
        assessments=rename(sample.assessments, ["employee_id", "rater_id"]),
        roles=sample.roles,
        catalog=catalog,
        items=sample.items,
        enrolments=rename(sample.enrolments, ["employee_id"]),
        track_competencies=sample.track_competencies,
        config=sample.config,
    )
    assert bundle.errors.empty
    return bundle, comp, item


@pytest.fixture(scope="module")
def hostile():
    bundle, comp, item = hostile_bundle()
    result = devplan.generate_plans(bundle)
    return bundle, result, comp, item


class _Page(HTMLParser):
    """Section ids, tags and the text of a page, as a browser parses them."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.sections, self.tags, self.text, self.attrs = [], [], [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag == "section":
            self.sections.append(dict(attrs).get("id"))

    def handle_data(self, data):
        self.text.append(data)


def _check_safe(html: str) -> _Page:
    """No script, no event handler, no external address; hostile text as text."""
    page = _Page(html)
    assert "script" not in page.tags
    assert not any(name.startswith("on") for name, _ in page.attrs)
    assert not re.search(r"<script", html, re.IGNORECASE)
    for name, value in page.attrs:
        if name in ("src", "href", "xlink:href") and value:
            # links only to other reports or to parts of the same page; the
            # heat-map's pixels are an inline PNG
            inline_png = value.startswith("data:image/png;base64,")
            assert inline_png or not re.match(r"[a-z]+:|//", value), (name, value)
    # the only addresses are the SVG namespace names (identifiers, not fetched)
    addresses = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert "@import" not in html and "url(http" not in html
    return page


def test_employee_report_sections_and_content(hostile):
    bundle, result, comp, item = hostile
    html = devplan.employee_report(result, HOSTILE_EMPLOYEE, bundle=bundle)
    page = _check_safe(html)
    assert set(page.sections) == EMPLOYEE_SECTIONS
    text = "".join(page.text)
    # every hostile string shows as the text it is
    for hostile_text in HOSTILE:
        assert hostile_text in text
    # ... and is escaped in the markup
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html
    plans = result.plans[result.plans["employee_id"] == HOSTILE_EMPLOYEE]
    followups = result.followups[result.followups["employee_id"] == HOSTILE_EMPLOYEE]
    # the plan table has a row per step and the calendar a row per follow-up
    section = html.split('id="plan"')[1].split("</section>")[0]
    assert section.count('<span class="tag ') == len(plans)
    section = html.split('id="followups"')[1].split("</section>")[0]
    assert section.count('<td class="date">') == len(followups)
    for day in followups["date"].dt.date:
        assert day.isoformat() in section
    for rationale in plans["rationale"]:
        assert rationale in text
    # both charts are inline SVG
    assert html.count("<svg") == 2


def test_manager_report(hostile):
    bundle, result, _, _ = hostile
    html = devplan.manager_report(result, HOSTILE_EMPLOYEE, bundle=bundle)
    page = _check_safe(html)
    assert set(page.sections) == MANAGER_SECTIONS
    team = bundle.employees.loc[
        bundle.employees["manager_id"] == HOSTILE_EMPLOYEE, "employee_id"
    ]
    assert len(team) > 0
    section = html.split('id="team"')[1].split("</section>")[0]
    for e in team:
        assert f"<td>{e}</td>" in section
    # the meetings: every follow-up held with this manager, and every action
    meetings = (result.followups["with_whom"] == HOSTILE_EMPLOYEE).sum()
    actions = (result.manager_actions["manager_id"] == HOSTILE_EMPLOYEE).sum()
    section = html.split('id="meetings"')[1].split("</section>")[0]
    assert section.count('<td class="date">') == meetings + actions > 0


def test_organisation_report(hostile):
    bundle, result, comp, _ = hostile
    html = devplan.organisation_report(result, bundle)
    page = _check_safe(html)
    assert set(page.sections) == ORGANISATION_SECTIONS
    text = "".join(page.text)
    # headline numbers, computed here from the tables
    assert f"{len(result.plan_summary):,}" in text
    assert f"{result.plan_summary['hours'].sum():,.0f} h" in text
    # the hostile competency name is in the gap heat-map (SVG text) as text
    svg_text = re.findall(r"<text[^>]*>([^<]*)</text>", html)
    assert any("&lt;script&gt;alert" in t for t in svg_text)
    assert HOSTILE_COMPETENCY[:20] in text
    assert html.count("<svg") >= 6
    # calibration: the people to discuss first, most severe first, as text
    calibrated = devplan.calibration(
        result.tracks, result.profiles, bundle, result.config
    )
    section = html.split('id="calibration"')[1].split("</section>")[0]
    shown = min(len(calibrated), 25)
    assert len(calibrated) > 0
    assert f"{calibrated['employee_id'].nunique():,} people whose ratings" in text
    assert section.count("<tr>") == shown + 1  # and the header
    first = _Page(section.split("<tbody>")[1].split("</tr>")[0])
    top = calibrated.iloc[0]
    assert [t for t in first.text if t.strip()] == [
        top["employee_id"],
        top["track"].replace("_", " "),
        {
            "rated_high_profile_low": "rated high, profile low",
            "rated_low_profile_high": "rated low, profile high",
            "high_potential_gaps": "high potential with critical gaps",
        }[top["rule"]],
        f"{top['severity']:.3f}",
        top["evidence"],
    ]


def test_write_reports_safe_file_names(hostile, tmp_path):
    bundle, result, _, _ = hostile
    files = devplan.write_reports(
        result, bundle, tmp_path, employees=[HOSTILE_EMPLOYEE, "E000002"]
    )
    names = {p.relative_to(tmp_path).as_posix() for p in files}
    assert "organisation.html" in names
    assert f"employees/{file_name(HOSTILE_EMPLOYEE)}" in names
    assert f"managers/{file_name(HOSTILE_EMPLOYEE)}" in names
    for path in tmp_path.rglob("*"):
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", path.name), path
    # one report per manager of a planned employee
    planned = set(result.plan_summary["employee_id"])
    emp = bundle.employees
    managers = emp.loc[emp["employee_id"].isin(planned), "manager_id"].dropna()
    assert len(list((tmp_path / "managers").iterdir())) == managers.nunique()


def test_file_names_never_collide():
    ids = ["a/b", "a_b", "a b", "../a_b", "A_B"]
    assert len({file_name(i) for i in ids}) == len(ids)


def test_unknown_employee_is_a_clear_error(hostile):
    bundle, result, _, _ = hostile
    with pytest.raises(KeyError, match="employee_id='nobody'"):
        devplan.employee_report(result, "nobody", bundle=bundle)


def test_cli_plan_html_and_report(tmp_path):
    bundle = tmp_path / "bundle"
    sample, _, _ = hostile_bundle()
    devplan.write_bundle(sample, bundle)
    out = tmp_path / "out"
    assert main(["plan", str(bundle), "--out", str(out), "--html", "--quiet"]) == 0
    run = json.loads((out / "run.json").read_text("utf-8"))
    assert "html" in run["outputs"] and "html" in run["timings_seconds"]
    organisation = (out / "html" / "organisation.html").read_text("utf-8")
    assert set(_check_safe(organisation).sections) == ORGANISATION_SECTIONS
    managers = list((out / "html" / "managers").iterdir())
    assert managers and not (out / "html" / "employees").exists()
    for path in managers:
        _check_safe(path.read_text("utf-8"))
    # the batch's report equals the one-call API's on the same bundle
    again = devplan.read_bundle(bundle)
    expected = devplan.organisation_report(devplan.generate_plans(again), again)
    assert organisation == expected

    # devplan report BUNDLE --out DIR: the organisation report alone
    report = tmp_path / "report"
    assert main(["report", str(bundle), "--out", str(report)]) == 0
    assert sorted(p.name for p in report.iterdir()) == ["organisation.html"]
    assert (report / "organisation.html").read_text("utf-8") == expected


def test_cli_plan_html_employees(tmp_path):
    small = tmp_path / "bundle"
    devplan.write_bundle(devplan.datasets.make_organisation(16, random_state=3), small)
    out = tmp_path / "out"
    argv = ["plan", str(small), "--out", str(out), "--quiet"]
    # two processes draw the employee reports
    assert main([*argv, "--html-employees", "--jobs", "2"]) == 0
    people = pd.read_csv(out / "plan_summary.csv", dtype=str)["employee_id"]
    written = sorted(p.name for p in (out / "html" / "employees").iterdir())
    assert written == sorted(file_name(e) for e in people)
    for name in written[:3]:
        page = _check_safe((out / "html" / "employees" / name).read_text("utf-8"))
        assert set(page.sections) == EMPLOYEE_SECTIONS
    # managers link to their reports' pages
    employees = pd.read_csv(small / "employees.csv", dtype=str)
    first = employees.dropna(subset=["manager_id"]).iloc[0]
    manager = (out / "html" / "managers" / file_name(first["manager_id"])).read_text(
        "utf-8"
    )
    assert f'href="../employees/{file_name(first["employee_id"])}"' in manager
    # a later run without --html removes the stale reports
    assert main(argv) == 0
    assert not (out / "html").exists()


def test_plan_renders_as_html_in_notebooks(hostile):
    _, result, _, item = hostile
    plan = result.plan(HOSTILE_EMPLOYEE)
    html = plan._repr_html_()
    page = _check_safe(html)
    text = "".join(page.text)
    assert f"Plan of {HOSTILE_EMPLOYEE}" in text
    assert HOSTILE_TITLE in text and "b" not in page.tags
    # a row per step with its rationale, and the timeline as SVG
    assert html.count("<tr><td>") >= len(plan.items) > 0
    for step in plan.items:
        assert step.rationale in text
    assert html.count("<svg") == 1
    assert f"{len(plan.followups)} follow-ups" in text


def test_plan_result_renders_as_html_in_notebooks(hostile):
    _, result, _, _ = hostile
    html = result._repr_html_()
    page = _check_safe(html)
    text = "".join(page.text)
    assert f"{len(result.plan_summary):,} plans" in text
    assert f"{len(result.plans):,} items" in text
    counts = result.tracks["track"].astype(str).value_counts()
    assert f"core {counts['core']:,}" in text
    # the first ten plans, and how many more there are
    assert html.count("<tr><td>") == 10
    assert f"and {len(result.plan_summary) - 10:,} more" in text
