"""End to end: bundle → plans, follow-ups, calendars, documents; and benefit."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import devplan
from devplan import PathRecommender, generate_plans, plan_json_schema
from devplan._plans import dumps_schema
from devplan._recommend import _slots
from devplan.datasets import load_sample, make_organisation

SEED = 17
DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def sample_result():
    return generate_plans(load_sample())


def test_every_employee_gets_a_plan_and_nothing_is_lost(sample_result):
    bundle = load_sample()
    ids = set(bundle.employees["employee_id"])
    assert set(sample_result.plan_summary["employee_id"]) == ids
    assert set(sample_result.tracks["employee_id"]) == ids
    assert len(sample_result.plans) > len(ids)  # several items a person


def test_every_item_has_a_purpose_and_a_rationale_naming_evidence(sample_result):
    plans = sample_result.plans
    assert (
        plans["purpose"]
        .isin(["leverage_strength", "develop_need", "track_core", "broaden_role"])
        .all()
    )
    assert plans["rationale"].str.len().gt(10).all()
    strength = plans[plans["purpose"] == "leverage_strength"]["rationale"]
    assert strength.str.fullmatch(
        r"builds on your strength in [^;()]+ \(\d+th percentile; others rate you "
        r"\d\.\d/5\)( by mentoring E\d+ \(teaching is developing\))?"
        r"(; mentor: E\d+)?"
    ).all()
    need = plans[plans["purpose"] == "develop_need"]["rationale"]
    assert need.str.fullmatch(
        r"closes (a critical|an important) gap: [^;]+ \d\.\d → required \d\.\d"
        r"(; mentor: E\d+)?"
    ).all()
    core = plans[plans["purpose"] == "track_core"]["rationale"]
    assert core.str.fullmatch(
        r"(core of the (new-manager|struggling-manager|high-potential) track"
        r"|part of the core curriculum): [^;]+(; mentor: E\d+)?"
    ).all()
    broaden = plans[plans["purpose"] == "broaden_role"]["rationale"]
    assert broaden.str.fullmatch(
        r"broadens what your role asks for: [^;()]+ \((you are at \d\.\d|not "
        r"assessed yet); "
        r"the role asks \d\.\d\)(; mentor: E\d+)?"
    ).all()

    # no doubled words anywhere ("core track core", "workshop (workshop)")
    def doubled(text):
        return text.str.extract(r"\b([^\W\d_]+)\W+\1\b", expand=False).notna()

    assert doubled(pd.Series(["Delegation — workshop (workshop)"])).all()
    for text in (plans["rationale"], plans["title"]):
        assert not doubled(text).any(), text[doubled(text)].head()
        assert not text.str.contains("track core").any()
    for col in ("step", "start_on", "end_on", "hours", "cost", "competency_id"):
        assert plans[col].notna().all(), col


def test_plans_fit_time_and_budget(sample_result):
    bundle = load_sample()
    emp = bundle.employees.set_index("employee_id")
    per = sample_result.plans.groupby("employee_id")[["hours", "cost"]].sum()
    cap = emp.loc[per.index, "learning_hours_per_month"] * 12
    assert (per["hours"] <= cap + 1e-9).all()
    assert (per["cost"] <= emp.loc[per.index, "budget"] + 1e-9).all()
    start = pd.Timestamp(sample_result.start_date)
    assert (sample_result.plans["start_on"] >= start).all()
    assert (sample_result.plans["end_on"] < start + pd.DateOffset(months=12)).all()


def test_followups_cover_a_year_and_involve_the_manager(sample_result):
    f = sample_result.followups
    counts = pd.crosstab(f["employee_id"], f["kind"])
    planned = sample_result.plans["employee_id"].unique()
    assert (counts.loc[planned, "manager_kickoff"] == 1).all()
    assert (counts.loc[planned, "checkin"] == 3).all()
    assert (counts.loc[planned, "quarterly_review"] == 3).all()
    assert (counts.loc[planned, "annual_review"] == 1).all()
    assert (
        pd.to_datetime(f["reminder_on"])
        == pd.to_datetime(f["date"]) - pd.Timedelta(days=1)
    ).all()
    kickoffs = sample_result.manager_actions
    assert set(kickoffs.loc[kickoffs["action"] == "kickoff", "employee_id"]) == set(
        planned
    )


def test_transfer_risks_flag_managers_weak_where_the_plan_develops(sample_result):
    risks = sample_result.transfer_risks
    profiles = sample_result.profiles
    weak = set(
        zip(
            profiles.loc[profiles["is_need"], "employee_id"],
            profiles.loc[profiles["is_need"], "competency_id"],
            strict=True,
        )
    )
    assert len(risks)
    for m, c in zip(risks["manager_id"], risks["competency_id"], strict=True):
        assert (m, c) in weak
    coached = risks.dropna(subset=["suggested_coach_id"])
    strong = set(
        zip(
            profiles.loc[profiles["is_strength"], "employee_id"],
            profiles.loc[profiles["is_strength"], "competency_id"],
            strict=True,
        )
    )
    for coach, c in zip(
        coached["suggested_coach_id"], coached["competency_id"], strict=True
    ):
        assert (coach, c) in strong
    assert risks["suggestion"].str.contains("add .+ to the manager's own plan").all()


def test_plan_documents_validate_against_the_published_schema(sample_result, tmp_path):
    import jsonschema

    assert (DOCS / "plan.schema.json").read_text() == dumps_schema()
    path = sample_result.write_jsonl(tmp_path / "plans.jsonl")
    lines = path.read_text().splitlines()
    assert len(lines) == len(sample_result.plan_summary)
    schema = plan_json_schema()
    for line in lines[:50]:
        jsonschema.validate(json.loads(line), schema)
    plan = sample_result.plan(json.loads(lines[0])["employee_id"])
    assert plan.total_hours == pytest.approx(sum(i.hours for i in plan.items))
    # the fast writer gives exactly what the validated models dump
    assert lines == [p.model_dump_json() for p in sample_result.iter_plans()]


def test_ics_files_parse_and_hold_every_followup(sample_result, tmp_path):
    from icalendar import Calendar

    from devplan._schedule import write_ics

    paths = write_ics(sample_result.followups, tmp_path)
    f = sample_result.followups
    emp_files = [p for p in paths if p.name.startswith("employee_")]
    assert len(emp_files) == f["employee_id"].nunique()
    one = emp_files[0]
    employee = one.stem.removeprefix("employee_")
    events = Calendar.from_ical(one.read_bytes()).walk("VEVENT")
    assert len(events) == (f["employee_id"] == employee).sum()
    assert all(e.walk("VALARM") for e in events)


def test_same_inputs_give_byte_identical_outputs(tmp_path):
    from devplan._cli import main

    for run in ("a", "b"):
        assert (
            main(
                [
                    "plan",
                    str(DOCS.parent / "data/samples/demo"),
                    "--out",
                    str(tmp_path / run),
                    "--quiet",
                ]
            )
            == 0
        )
    for name in (
        "plans.csv",
        "followups.csv",
        "tracks.csv",
        "profiles.csv",
        "plans.jsonl",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (
            tmp_path / "b" / name
        ).read_bytes()


def _true_benefit(selected, rec, state_people, truth_effects):
    """Benefit of plans measured with the true item effects (same weights)."""
    from devplan._recommend import _person_state

    people, profiles, tracks, employees, content = state_people
    state = _person_state(rec, people, profiles, tracks, employees, content, None)
    true = np.zeros_like(rec.effects_)
    j = pd.Index(rec.items_["item_id"]).get_indexer(
        truth_effects["item_id"].astype(str)
    )
    c = rec.competencies_.get_indexer(truth_effects["competency_id"].astype(str))
    ok = (j >= 0) & (c >= 0)
    true[j[ok], c[ok]] = truth_effects["effect"].to_numpy()[ok]
    p = people.get_indexer(selected["employee_id"])
    jj = pd.Index(rec.items_["item_id"]).get_indexer(selected["item_id"])
    gain = true[jj]  # per selected item, per competency
    value = (
        np.minimum(gain, state["need_gap"][p]) * state["need_weight"][p]
        + gain * state["strength"][p] * rec.talent_multiplier
        + gain * state["track_weight"][p] * rec.track_weight
    )
    return value.sum()


def test_ablation_beats_random_and_gap_only_plans_on_true_benefit():
    bundle, truth = make_organisation(1500, random_state=SEED, return_truth=True)
    result = generate_plans(bundle)
    profiles, tracks = result.profiles, result.tracks
    people = pd.Index(tracks["employee_id"].astype(str))
    content = bundle.track_content()
    args = (people, profiles, tracks, bundle.employees, content)
    kwargs = {"enrolments": bundle.enrolments, "track_content": content}

    def run(rec):
        rec.fit(bundle.catalog, competencies=bundle.competencies["competency_id"])
        selected, _ = rec.recommend(profiles, tracks, bundle.employees, **kwargs)
        return rec, selected

    rec, ours = run(PathRecommender())
    _, gap_only = run(PathRecommender(strength_focus=0.0))
    rng = np.random.default_rng(SEED)
    # A random feasible plan: the same constraints (time, money, language,
    # modality, track, level, prerequisites, 70-20-10, diversity), but items
    # valued at random, blind to the person's profile.
    rnd = PathRecommender()
    rnd.fit(bundle.catalog, competencies=bundle.competencies["competency_id"])
    rnd.effects_ = rng.random(rnd.effects_.shape)
    rnd.slots_ = (
        np.tile(np.arange(rnd.effects_.shape[1]), (rnd.effects_.shape[0], 1)),
        rnd.effects_,
    )
    blind = profiles.assign(is_strength=True, is_need=False)
    random_plans, _ = rnd.recommend(blind, tracks, bundle.employees, **kwargs)
    # random among the relevant items only (same targeting, random choice)
    rel = PathRecommender()
    rel.fit(bundle.catalog, competencies=bundle.competencies["competency_id"])
    rel.effects_ = rng.random(rel.effects_.shape) * (rel.effects_ > 0)
    rel.slots_ = _slots(rel.effects_)
    relevant_random, _ = rel.recommend(profiles, tracks, bundle.employees, **kwargs)
    b_ours = _true_benefit(ours, rec, args, truth.item_effects)
    b_gap = _true_benefit(gap_only, rec, args, truth.item_effects)
    b_rand = _true_benefit(random_plans, rec, args, truth.item_effects)
    b_rel = _true_benefit(relevant_random, rec, args, truth.item_effects)
    print(
        f"true benefit ratio: ours/random {b_ours / b_rand:.2f}, "
        f"ours/random-relevant {b_ours / b_rel:.2f}, "
        f"ours/gap-only {b_ours / b_gap:.2f}"
    )
    assert b_ours > b_rand
    assert b_ours > b_gap
    # even against random choice among the right competencies' items
    assert b_ours >= 0.95 * b_rel
    # the same budgets: nobody's plan costs more time or money than allowed
    for plans in (ours, gap_only, random_plans):
        per = plans.groupby("employee_id")["hours"].sum()
        cap = bundle.employees.set_index("employee_id")["learning_hours_per_month"] * 12
        assert (per <= cap.loc[per.index] + 1e-9).all()


def test_public_one_call_api():
    assert devplan.generate_plans is generate_plans


def test_a_broken_bundle_still_plans_everyone_it_can(tmp_path):
    from devplan._cli import main

    out = tmp_path / "out"
    broken = DOCS.parent / "data" / "samples" / "broken"
    assert main(["plan", str(broken), "--out", str(out), "--quiet"]) == 0
    run = json.loads((out / "run.json").read_text())
    counts = run["counts"]
    # 14 employee rows: 3 valid (001, 002, 003) and 11 set aside
    planned = counts["employees_with_a_plan"] + counts["employees_without_a_plan"]
    assert (planned, counts["employees_in_errors"]) == (3, 11)
    assert run["nothing_lost"] is True
    assert pd.read_csv(out / "errors.csv").shape[0] == 72
