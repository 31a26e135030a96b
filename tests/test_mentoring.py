"""Internal mentor matching: constraints, optimality, privacy, wiring."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from pandas.testing import assert_frame_equal
from scipy.optimize import linear_sum_assignment

import devplan
from devplan import Config, match_mentors
from devplan._mentoring import plan_hours, solve_assignment
from devplan.datasets import load_sample, make_organisation

SEED = 20261123


# -- tiny hand-made organisations ----------------------------------------------


def person(eid, manager=None, language="en", location="Amsterdam", **kw):
    row = {
        "employee_id": eid,
        "manager_id": manager,
        "role_id": kw.pop("role_id", "r_ind"),
        "language": language,
        "location": location,
        "modality_preference": kw.pop("modality_preference", "any"),
        "learning_hours_per_month": kw.pop("hours", 4.0),
        "age_band": kw.pop("age_band", "30-39"),
        "gender": kw.pop("gender", "female"),
    }
    assert not kw
    return row


ROLES = pd.DataFrame(
    {
        "role_id": ["r_ind", "r_mid", "r_sen"],
        "role_level": ["individual", "middle", "senior"],
        "competency_id": ["X", "X", "X"],
        "required_level": [3.0, 3.0, 3.0],
    }
)


def profile(eid, comp, score, *, strength=False, confidence=0.9, **kw):
    return {
        "employee_id": eid,
        "competency_id": comp,
        "score": score,
        "is_strength": strength,
        "confidence": confidence,
        "required_level": kw.get("required_level", np.nan),
        "scored": kw.get("scored", True),
        "n_raters": kw.get("n_raters", 5),
        "percentile": 90.0,
        "others_score": score,
    }


def needs_of(*pairs):
    return pd.DataFrame(pairs, columns=["employee_id", "competency_id"])


def run(employees, profiles, needs, risks=None, **mentoring):
    return match_mentors(
        pd.DataFrame(profiles),
        pd.DataFrame(employees),
        Config(mentoring=mentoring),
        needs=needs,
        transfer_risks=risks,
        roles=ROLES,
    )


def mentor_of(result, mentee, comp="X"):
    row = result[(result["mentee_id"] == mentee) & (result["competency_id"] == comp)]
    assert len(row) == 1
    value = row["mentor_id"].iloc[0]
    return None if pd.isna(value) else value


# -- the fit ---------------------------------------------------------------------


def test_fit_is_strength_level_times_need_size():
    employees = [person("M"), person("E")]
    profiles = [profile("M", "X", 4.5, strength=True, confidence=0.8)]
    profiles += [profile("E", "X", 2.5)]
    result = run(employees, profiles, needs_of(("E", "X")))
    # strength level 0.8 * (4.5 - 1) / 4 = 0.7; need size (5 - 2.5) / 4 = 0.625
    assert result["mentor_id"].tolist() == ["M"]
    assert_allclose(result["fit"], [0.7 * 0.625])
    assert list(result.columns[:5]) == [
        "mentee_id",
        "mentor_id",
        "competency_id",
        "fit",
        "reason",
    ]
    assert "M is strong in X (score 4.5, confidence 0.80)" in result["reason"].iloc[0]


# -- each constraint ---------------------------------------------------------------


def test_capacity_limits_mentees_per_mentor_over_all_competencies():
    employees = [person("M")] + [person(f"E{i}") for i in range(4)]
    profiles = [
        profile("M", "X", 4.8, strength=True),
        profile("M", "Y", 4.8, strength=True),
    ]
    profiles += [profile(f"E{i}", c, 2.0) for i in range(4) for c in "XY"]
    needs = needs_of(("E0", "X"), ("E1", "X"), ("E2", "Y"), ("E3", "Y"))
    assert run(employees, profiles, needs)["mentor_id"].notna().sum() == 2
    assert run(employees, profiles, needs, capacity=3)["mentor_id"].notna().sum() == 3
    full = run(employees, profiles, needs, capacity=1)
    assert full["mentor_id"].notna().sum() == 1
    assert full["reason"].str.contains("at capacity").sum() == 3


def test_mentoring_time_must_fit_in_the_mentor_learning_time():
    # M has 4 h a month over 12 months = 48 h; a 40 h plan leaves room for
    # no 12 h mentee, a 20 h plan for two
    employees = [person("M"), person("E1"), person("E2")]
    profiles = [profile("M", "X", 4.8, strength=True)]
    profiles += [profile(e, "X", 2.0) for e in ("E1", "E2")]
    plans = pd.DataFrame(
        {
            "employee_id": ["M", "E1", "E2"],
            "competency_id": ["Y", "X", "X"],
            "kind": ["course", "mentoring", "mentoring"],
            "hours": [40.0, 19.0, 19.0],
            "step": [1, 1, 1],
        }
    )
    busy = match_mentors(
        pd.DataFrame(profiles), pd.DataFrame(employees), plans=plans, roles=ROLES
    )
    assert busy["mentor_id"].isna().all()
    plans.loc[0, "hours"] = 20.0
    free = match_mentors(
        pd.DataFrame(profiles), pd.DataFrame(employees), plans=plans, roles=ROLES
    )
    assert free["mentor_id"].tolist() == ["M", "M"]


def test_planned_hours_stand_in_for_the_plan_rows_they_sum():
    # the same 20 h plan, as rows or as M's planned hours with only the
    # mentoring items: M takes both mentees either way (48 h - 20 h = 28 h
    # leave room for two at 12 h); at 40 h, for none
    employees = pd.DataFrame([person("M"), person("E1"), person("E2")])
    profiles = [profile("M", "X", 4.8, strength=True)]
    profiles = pd.DataFrame(profiles + [profile(e, "X", 2.0) for e in ("E1", "E2")])
    plans = pd.DataFrame(
        {
            "employee_id": ["M", "M", "E1", "E2"],
            "competency_id": ["Y", "Z", "X", "X"],
            "kind": ["course", "course", "mentoring", "mentoring"],
            "hours": [12.5, 7.5, 19.0, 19.0],
            "step": [1, 2, 1, 1],
        }
    )
    whole = match_mentors(profiles, employees, plans=plans, roles=ROLES)
    items = plans[plans["kind"] == "mentoring"]
    hours = plan_hours(plans)
    assert hours.to_dict() == {"M": 20.0, "E1": 19.0, "E2": 19.0}
    given = match_mentors(
        profiles, employees, plans=items, planned_hours=hours, roles=ROLES
    )
    pd.testing.assert_frame_equal(given, whole)
    assert given["mentor_id"].tolist() == ["M", "M"]
    busy = match_mentors(
        profiles, employees, plans=items, planned_hours=hours + 20.0, roles=ROLES
    )
    assert busy["mentor_id"].isna().all()


def test_plan_hours_of_parts_are_those_of_the_whole_to_the_bit():
    # sums whose value depends on the order of addition: split by person,
    # each part's sums are the whole table's
    rng = np.random.default_rng(0)
    people = rng.choice([f"E{i}" for i in range(50)], 2_000)
    plans = pd.DataFrame({"employee_id": people, "hours": rng.random(2_000) * 1e3})
    plans.loc[::7, "hours"] = 1e-9
    whole = plan_hours(plans)
    first = plans["employee_id"].isin([f"E{i}" for i in range(25)])
    parts = pd.concat([plan_hours(plans[first]), plan_hours(plans[~first])])
    assert (parts.reindex(whole.index).to_numpy() == whole.to_numpy()).all()
    # against a plain loop in row order
    loop = {}
    for e, h in zip(plans["employee_id"], plans["hours"], strict=True):
        loop[e] = loop.get(e, 0.0) + h
    assert whole.to_dict() == loop


@pytest.mark.parametrize(
    "mentor_manager, mentee_manager, levels, allowed",
    [
        (None, "M", 1, False),  # the mentor is the mentee's manager
        ("E", None, 1, False),  # the mentor reports to the mentee
        ("B", "A", 1, True),  # elsewhere in the organisation
        ("B", "B", 1, True),  # a peer with the same manager
        (None, "A", 1, True),  # M is the mentee's manager's manager...
        (None, "A", 2, False),  # ...excluded with two levels
    ],
)
def test_reporting_line_is_excluded(mentor_manager, mentee_manager, levels, allowed):
    employees = [
        person("M", manager=mentor_manager),
        person("E", manager=mentee_manager),
        person("A", manager="M"),
        person("B"),
    ]
    profiles = [profile("M", "X", 4.8, strength=True), profile("E", "X", 2.0)]
    needs = needs_of(("E", "X"))
    result = run(employees, profiles, needs, reporting_line_levels=levels)
    assert (mentor_of(result, "E") == "M") is allowed
    switched_off = run(employees, profiles, needs, exclude_reporting_line=False)
    assert mentor_of(switched_off, "E") == "M"


@pytest.mark.parametrize(
    "mentor_lang, mentee_lang, allowed",
    [("nl", "en", False), ("en", "en", True), (None, "en", True), ("en", None, True)],
)
def test_language(mentor_lang, mentee_lang, allowed):
    employees = [person("M", language=mentor_lang), person("E", language=mentee_lang)]
    profiles = [profile("M", "X", 4.8, strength=True), profile("E", "X", 2.0)]
    needs = needs_of(("E", "X"))
    assert (mentor_of(run(employees, profiles, needs), "E") == "M") is allowed
    assert mentor_of(run(employees, profiles, needs, same_language=False), "E") == "M"


@pytest.mark.parametrize(
    "mentor_place, mentee_place, mentor_modality, allowed",
    [
        ("Antwerp", "Amsterdam", "in_person", False),
        ("Antwerp", "Amsterdam", "online", True),  # both remote-friendly
        ("Amsterdam", "Amsterdam", "in_person", True),
    ],
)
def test_location_or_remote(mentor_place, mentee_place, mentor_modality, allowed):
    employees = [
        person("M", location=mentor_place, modality_preference=mentor_modality),
        person("E", location=mentee_place),
    ]
    profiles = [profile("M", "X", 4.8, strength=True), profile("E", "X", 2.0)]
    needs = needs_of(("E", "X"))
    # off by default
    assert mentor_of(run(employees, profiles, needs), "E") == "M"
    on = run(employees, profiles, needs, same_location=True)
    assert (mentor_of(on, "E") == "M") is allowed


def test_seniority_at_least_the_mentee_level():
    employees = [person("M", role_id="r_ind"), person("E", role_id="r_sen")]
    profiles = [profile("M", "X", 4.8, strength=True), profile("E", "X", 2.0)]
    needs = needs_of(("E", "X"))
    assert mentor_of(run(employees, profiles, needs), "E") is None
    assert mentor_of(run(employees, profiles, needs, min_seniority="any"), "E") == "M"
    employees[0]["role_id"] = "r_sen"
    assert mentor_of(run(employees, profiles, needs), "E") == "M"


def test_mentor_must_lead_the_mentee_and_reach_the_requirement():
    employees = [person("M"), person("E")]
    needs = needs_of(("E", "X"))
    # lead 4.3 - 4.0 = 0.3 < 0.5
    close = [profile("M", "X", 4.3, strength=True), profile("E", "X", 4.0)]
    assert mentor_of(run(employees, close, needs), "E") is None
    assert mentor_of(run(employees, close, needs, min_lead=0.2), "E") == "M"
    # lead is enough but the mentee's role asks 4.5
    short = [
        profile("M", "X", 4.3, strength=True),
        profile("E", "X", 3.0, required_level=4.5),
    ]
    assert mentor_of(run(employees, short, needs), "E") is None


# -- privacy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags",
    [
        {"scored": False},  # e.g. only a self rating, or only suppressed groups
        {"n_raters": 0},  # no visible rater other than self
        {"confidence": 0.3},  # below min_confidence
    ],
)
def test_only_strengths_that_may_be_shown_count(flags):
    employees = [person("M"), person("E")]
    confidence = flags.pop("confidence", 0.9)
    profiles = [
        profile("M", "X", 4.8, strength=True, confidence=confidence, **flags),
        profile("E", "X", 2.0),
    ]
    result = run(employees, profiles, needs_of(("E", "X")))
    assert mentor_of(result, "E") is None
    assert "nobody else has a shown, confident strength" in result["reason"].iloc[0]


def test_a_self_only_strength_from_the_scorer_is_never_used():
    # end to end: M rates themself 5 on X, nobody else rates M on X
    b = make_organisation(60, random_state=SEED, item_level=False)
    a = b.assessments
    m = "M_SELF"
    emp = b.employees.iloc[[0]].assign(employee_id=m, manager_id=None)
    comp = a["competency_id"].dropna().iloc[0]
    extra = a.iloc[[0]].assign(
        employee_id=m, rater_type="self", rater_id=m, competency_id=comp, score=5.0
    )
    b = devplan.Bundle.from_frames(
        employees=pd.concat([b.employees, emp], ignore_index=True),
        competencies=b.competencies,
        assessments=pd.concat([a, extra], ignore_index=True),
        roles=b.roles,
        catalog=b.catalog,
    )
    profiles = devplan.CompetencyScorer().fit(b).profiles(b)
    row = profiles[(profiles["employee_id"] == m) & (profiles["competency_id"] == comp)]
    assert row["not_scored_reason"].iloc[0] == "only a self rating"
    needs = profiles.loc[profiles["competency_id"] == comp, ["employee_id"]].assign(
        competency_id=comp
    )
    result = match_mentors(profiles, b.employees, needs=needs, roles=b.roles)
    assert m not in set(result["mentor_id"].dropna())


# -- optimality ----------------------------------------------------------------------


def brute_force(need, mentor, weight, n_need, capacity, priority):
    """Best (priority needs covered, total weight) over every assignment."""
    options = [
        [-1] + [e for e in range(len(need)) if need[e] == i] for i in range(n_need)
    ]
    best = (-1, -np.inf)
    for pick in itertools.product(*options):
        used = [mentor[e] for e in pick if e >= 0]
        if any(used.count(m) > capacity for m in set(used)):
            continue
        value = (
            sum(bool(priority[i]) for i, e in enumerate(pick) if e >= 0),
            sum(weight[e] for e in pick if e >= 0),
        )
        if value[0] > best[0] or (value[0] == best[0] and value[1] > best[1] + 1e-12):
            best = value
    return best


def achieved(chosen, weight, priority):
    taken = chosen >= 0
    return int(np.sum(priority[taken])), float(np.sum(weight[chosen[taken]]))


@pytest.mark.parametrize("case", range(40))
def test_assignment_equals_the_brute_force_optimum(case):
    rng = np.random.default_rng(SEED + case)
    n_need, n_mentor = rng.integers(2, 6), rng.integers(1, 4)
    capacity = int(rng.integers(1, 3))
    pairs = [(i, m) for i in range(n_need) for m in range(n_mentor)]
    keep = rng.random(len(pairs)) < 0.7
    need = np.array([p[0] for p, k in zip(pairs, keep, strict=True) if k], dtype=int)
    mentor = np.array([p[1] for p, k in zip(pairs, keep, strict=True) if k], dtype=int)
    weight = rng.random(len(need))
    priority = rng.random(n_need) < 0.3
    chosen = solve_assignment(need, mentor, weight, n_need, capacity, priority=priority)
    # a valid assignment: own edges, capacity kept
    assert ((chosen < 0) | (need[np.maximum(chosen, 0)] == np.arange(n_need))).all()
    counts = np.bincount(mentor[chosen[chosen >= 0]], minlength=n_mentor)
    assert counts.max(initial=0) <= capacity
    best = brute_force(need, mentor, weight, n_need, capacity, priority)
    got = achieved(chosen, weight, priority)
    assert got[0] == best[0]
    assert_allclose(got[1], best[1], rtol=1e-12)


def test_assignment_equals_scipy_dense_assignment_on_the_expanded_matrix():
    rng = np.random.default_rng(SEED)
    n_need, n_mentor, capacity = 60, 25, 2
    dense = rng.random((n_need, n_mentor)) * (rng.random((n_need, n_mentor)) < 0.3)
    need, mentor = np.nonzero(dense)
    weight = dense[need, mentor]
    chosen = solve_assignment(need, mentor, weight, n_need, capacity)
    # reference: every mentor repeated `capacity` times, maximise
    expanded = np.repeat(dense, capacity, axis=1)
    rows, cols = linear_sum_assignment(expanded, maximize=True)
    reference = expanded[rows, cols].sum()
    assert_allclose(weight[chosen[chosen >= 0]].sum(), reference, rtol=1e-12)


def test_optimal_not_first_come_first_served():
    # A is strong in X and Y, B only in X, one mentee each: first come,
    # first served gives E1 the best X mentor (A) and leaves E2 without one
    employees = [person("A"), person("B"), person("E1"), person("E2")]
    profiles = [
        profile("A", "X", 4.9, strength=True),
        profile("A", "Y", 4.9, strength=True),
        profile("B", "X", 4.6, strength=True),
        profile("E1", "X", 2.0),
        profile("E2", "Y", 2.0),
    ]
    result = run(employees, profiles, needs_of(("E1", "X"), ("E2", "Y")), capacity=1)
    assert mentor_of(result, "E1") == "B" and mentor_of(result, "E2", "Y") == "A"


def test_transfer_risk_needs_are_covered_first():
    # one mentor, two needs: E_big has the larger need, E_risk a weak manager
    employees = [person("M"), person("E_big"), person("E_risk"), person("W")]
    profiles = [
        profile("M", "X", 4.8, strength=True),
        profile("E_big", "X", 1.5),
        profile("E_risk", "X", 3.5),
    ]
    needs = needs_of(("E_big", "X"), ("E_risk", "X"))
    plain = run(employees, profiles, needs, capacity=1)
    assert mentor_of(plain, "E_big") == "M"
    risks = pd.DataFrame(
        {"employee_id": ["E_risk"], "manager_id": ["W"], "competency_id": ["X"]}
    )
    first = run(employees, profiles, needs_of(("E_big", "X")), risks, capacity=1)
    assert mentor_of(first, "E_risk") == "M" and mentor_of(first, "E_big") is None
    assert first["transfer_risk"].tolist() == [False, True]
    assert "transfer risk" in first["reason"].iloc[1]


@pytest.fixture(scope="module")
def org():
    bundle = make_organisation(500, random_state=SEED)
    return bundle, devplan.generate_plans(bundle)


def objective(result):
    matched = result["mentor_id"].notna()
    return int((matched & result["transfer_risk"]).sum()), result["fit"].sum()


def test_default_on_a_synthetic_organisation_is_the_full_optimum(org):
    bundle, result = org
    kwargs = {
        "plans": result.plans,
        "transfer_risks": result.transfer_risks,
        "roles": bundle.roles,
    }
    default = match_mentors(result.profiles, bundle.employees, bundle.config, **kwargs)
    every = Config(mentoring={"candidates_per_need": 100_000})
    full = match_mentors(result.profiles, bundle.employees, every, **kwargs)
    assert default.attrs["exact"] and full.attrs["exact"]
    assert not default.attrs["greedy"]
    assert default["mentor_id"].notna().sum() > 20
    got, best = objective(default), objective(full)
    assert got[0] == best[0]
    assert_allclose(got[1], best[1], rtol=1e-9)
    # few candidates: pruning bites, and the result says it is not proven
    few = match_mentors(
        result.profiles,
        bundle.employees,
        Config(mentoring={"candidates_per_need": 2}),
        **kwargs,
    )
    assert not few.attrs["exact"]
    assert few["fit"].sum() < best[1]


def random_org(rng, n_people=14, comps="XYZ"):
    employees = [person(f"P{i:02d}") for i in range(n_people)]
    profiles = []
    for i in range(n_people):
        for c in comps:
            strong = rng.random() < 0.35
            score = rng.uniform(4.0, 5.0) if strong else rng.uniform(1.5, 3.5)
            conf = rng.uniform(0.5, 1.0)
            profiles.append(
                profile(f"P{i:02d}", c, score, strength=strong, confidence=conf)
            )
    pairs = {(f"P{rng.integers(n_people):02d}", c) for c in comps for _ in range(4)}
    needs = needs_of(*sorted(pairs))
    risks = needs.sample(frac=0.3, random_state=int(rng.integers(1000)))
    return employees, profiles, needs, risks.assign(manager_id="P99")


@pytest.mark.parametrize("case", range(30))
def test_pruning_proven_exact_equals_the_full_optimum(case):
    # on small random organisations: whenever the pruning certificate says
    # nothing was lost, the pruned solve equals the unpruned one
    rng = np.random.default_rng(SEED + 100 + case)
    employees, profiles, needs, risks = random_org(rng)
    k = int(rng.integers(1, 5))
    capacity = int(rng.integers(1, 4))
    full = run(employees, profiles, needs, risks, capacity=capacity)
    pruned = run(
        employees, profiles, needs, risks, capacity=capacity, candidates_per_need=k
    )
    assert full.attrs["exact"]
    if pruned.attrs["exact"]:
        got, best = objective(pruned), objective(full)
        assert got[0] == best[0]
        assert_allclose(got[1], best[1], rtol=1e-12)
    else:
        assert (pruned["n_candidates"] > k).any()


def test_the_pruning_certificate_is_sometimes_met_and_sometimes_not():
    met = []
    for case in range(30):
        rng = np.random.default_rng(SEED + 100 + case)
        employees, profiles, needs, risks = random_org(rng)
        k, capacity = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        pruned = run(
            employees, profiles, needs, risks, capacity=capacity, candidates_per_need=k
        )
        if (pruned["n_candidates"] > k).any():
            met.append(pruned.attrs["exact"])
    # the parametrised test above covers both branches
    assert any(met) and not all(met)


# -- the organisation-wide result ---------------------------------------------------


def test_results_respect_every_constraint_on_a_synthetic_organisation(org):
    bundle, result = org
    m = result.mentoring
    done = m[m["mentor_id"].notna()]
    assert len(done) > 20
    assert done.groupby("mentor_id").size().max() <= 2
    emp = bundle.employees.set_index("employee_id")
    mgr = emp["manager_id"]
    assert (done["mentor_id"].map(mgr) != done["mentee_id"]).all()
    assert (done["mentee_id"].map(mgr) != done["mentor_id"]).all()
    assert (done["mentee_id"] != done["mentor_id"]).all()
    lang = emp["language"]
    assert (done["mentee_id"].map(lang) == done["mentor_id"].map(lang)).all()
    # the mentor's profile row: a shown, confident strength
    p = result.profiles.set_index(["employee_id", "competency_id"])
    rows = p.loc[list(zip(done["mentor_id"], done["competency_id"], strict=True))]
    assert rows["is_strength"].all() and rows["scored"].all()
    assert (rows["n_raters"] > 0).all() and (rows["confidence"] >= 0.5).all()
    assert_allclose(rows["score"].to_numpy(), done["mentor_score"].to_numpy())
    assert (done["fit"] > 0).all() and (done["fit"] <= 1).all()


def test_plans_name_the_mentor_and_credit_the_mentor(org):
    bundle, result = org
    m = result.mentoring
    done = m[m["mentor_id"].notna()]
    plans = result.plans
    items = plans[plans["kind"].eq("mentoring") & plans["mentee_id"].isna()]
    named = items[items["mentor_id"].notna()]
    key = done.set_index(["mentee_id", "competency_id"])["mentor_id"]
    expected = key.reindex(
        pd.MultiIndex.from_frame(named[["employee_id", "competency_id"]])
    )
    assert (expected.to_numpy() == named["mentor_id"].to_numpy()).all()
    assert (named["rationale"].str.contains("mentor: ")).all()
    # every match of a plan item named in that item
    from_items = done[done["item_id"].notna()]
    assert len(named.drop_duplicates(["employee_id", "competency_id"])) == len(
        from_items
    )
    roles = plans[plans["mentee_id"].notna()]
    assert len(roles) == len(done)
    assert (roles["purpose"] == "leverage_strength").all()
    assert (roles["kind"] == "mentoring").all()
    pairs = set(zip(roles["employee_id"], roles["mentee_id"], strict=True))
    assert pairs == set(zip(done["mentor_id"], done["mentee_id"], strict=True))
    # totals follow the rows, and the plan documents validate
    per = plans.groupby("employee_id")["hours"].sum()
    s = result.plan_summary.set_index("employee_id")
    assert_allclose(s.loc[per.index, "hours"], per)
    mentor = roles["employee_id"].iloc[0]
    plan = result.plan(mentor)
    assert any(i.mentee_id is not None for i in plan.items)
    assert plan.total_hours == pytest.approx(sum(i.hours for i in plan.items))


def test_protected_attributes_never_change_a_match(org):
    bundle, result = org
    rng = np.random.default_rng(SEED)
    employees = bundle.employees.copy()
    employees["gender"] = rng.permutation(employees["gender"].to_numpy())
    employees["age_band"] = "60+"
    a = match_mentors(
        result.profiles, bundle.employees, plans=result.plans, roles=bundle.roles
    )
    b = match_mentors(
        result.profiles, employees, plans=result.plans, roles=bundle.roles
    )
    pd.testing.assert_frame_equal(a, b)


def test_row_order_of_the_inputs_does_not_matter(org):
    bundle, result = org
    kwargs = {"roles": bundle.roles, "transfer_risks": result.transfer_risks}
    a = match_mentors(result.profiles, bundle.employees, plans=result.plans, **kwargs)
    shuffled = result.profiles.sample(frac=1, random_state=1)
    plans = result.plans.sample(frac=1, random_state=2)
    b = match_mentors(shuffled, bundle.employees, plans=plans, **kwargs)
    pd.testing.assert_frame_equal(a, b)


def test_batch_run_writes_the_same_mentoring_table(tmp_path):
    bundle = load_sample()
    whole = devplan.generate_plans(bundle)
    report = devplan.run_batch(
        "data/samples/demo", tmp_path / "out", format="parquet", progress=False
    )
    written = pd.read_parquet(tmp_path / "out" / "mentoring.parquet")
    # Parquet keeps dates in milliseconds
    written = written.astype({"start_on": "datetime64[s]", "end_on": "datetime64[s]"})
    assert report.counts["mentoring_matched"] == whole.mentoring["mentor_id"].count()
    pd.testing.assert_frame_equal(
        written, whole.mentoring, check_dtype=False, check_exact=True
    )
    plans = pd.read_parquet(tmp_path / "out" / "plans.parquet")
    assert plans["mentee_id"].notna().sum() == whole.mentoring["mentor_id"].count()


def test_switched_off_mentoring_leaves_plans_as_they_were():
    bundle = load_sample()
    off = devplan.generate_plans(bundle, Config(mentoring={"enabled": False}))
    assert len(off.mentoring) == 0
    assert "mentee_id" not in off.plans.columns


# -- bad input ------------------------------------------------------------------------


def test_bad_settings_and_tables_are_named():
    with pytest.raises(ValueError, match="mentoring.capacity"):
        Config.from_dict({"mentoring": {"capacity": 0}})
    with pytest.raises(ValueError, match="mentoring.colour"):
        Config.from_dict({"mentoring": {"colour": "red"}})
    with pytest.raises(ValueError, match=r"profiles table without column\(s\)"):
        match_mentors(
            pd.DataFrame({"employee_id": ["E"], "competency_id": ["X"]}),
            pd.DataFrame({"employee_id": ["E"]}),
        )
    with pytest.raises(TypeError, match="config"):
        match_mentors(pd.DataFrame(), pd.DataFrame(), {"capacity": 2})
    with pytest.raises(ValueError, match="repeated"):
        solve_assignment([0, 0], [1, 1], [0.5, 0.6], 1, 1)


# -- too many pairs for the exact solver: the greedy ----------------------------------


def over_budget(bundle, **mentoring):
    """The bundle's settings with an edge budget too small for any pair."""
    return bundle.config.model_copy(
        update={"mentoring": Config(mentoring={"max_edges": 1, **mentoring}).mentoring}
    )


def test_greedy_respects_every_constraint_and_covers_risks_first(org):
    bundle, result = org
    kwargs = {
        "plans": result.plans,
        "transfer_risks": result.transfer_risks,
        "roles": bundle.roles,
    }
    m = match_mentors(result.profiles, bundle.employees, over_budget(bundle), **kwargs)
    assert not m.attrs["exact"] and m.attrs["edges"] == 0 and m.attrs["greedy"]
    done = m[m["mentor_id"].notna()]
    assert len(done) > 20
    assert done.groupby("mentor_id").size().max() <= 2
    emp = bundle.employees.set_index("employee_id")
    mgr, lang = emp["manager_id"], emp["language"]
    assert (done["mentor_id"].map(mgr) != done["mentee_id"]).all()
    assert (done["mentee_id"].map(mgr) != done["mentor_id"]).all()
    assert (done["mentee_id"] != done["mentor_id"]).all()
    assert (done["mentee_id"].map(lang) == done["mentor_id"].map(lang)).all()
    levels = {name: i for i, name in enumerate(devplan._schema.ROLE_LEVELS)}
    level = (
        emp["role_id"]
        .map(bundle.roles.drop_duplicates("role_id").set_index("role_id")["role_level"])
        .map(levels)
    )
    ahead = done["mentor_id"].map(level).astype(float).to_numpy()
    assert (ahead >= done["mentee_id"].map(level).astype(float).to_numpy()).all()
    p = result.profiles.set_index(["employee_id", "competency_id"])
    rows = p.loc[list(zip(done["mentor_id"], done["competency_id"], strict=True))]
    assert rows["is_strength"].all() and rows["scored"].all()
    assert (rows["n_raters"] > 0).all() and (rows["confidence"] >= 0.5).all()
    lead = rows["score"].to_numpy() - done["mentee_score"].to_numpy()
    assert (np.nan_to_num(lead, nan=np.inf) >= 0.5 - 1e-9).all()
    # the exact optimum of the same problem bounds it: no assignment covers
    # more transfer risks, or more fit with as many risks
    best = objective(match_mentors(result.profiles, bundle.employees, **kwargs))
    got = objective(m)
    assert got[0] <= best[0] and (got[0] < best[0] or got[1] <= best[1] + 1e-9)
    # the candidate counts do not depend on the solver
    exact = match_mentors(result.profiles, bundle.employees, bundle.config, **kwargs)
    assert (m["n_candidates"] == exact["n_candidates"]).all()


def test_greedy_is_optimal_when_every_pair_is_allowed():
    # one competency, no reporting lines, one language and level, every
    # mentor far ahead of every mentee: the largest needs taking the
    # strongest mentors in order is the optimum (rearrangement inequality);
    # reference: scipy's dense assignment on mentors repeated per place
    rng = np.random.default_rng(SEED)
    n_mentor, n_mentee, capacity = 6, 15, 2
    employees = [person(f"M{i}") for i in range(n_mentor)]
    employees += [person(f"E{i:02d}") for i in range(n_mentee)]
    strong = rng.uniform(4.6, 5.0, n_mentor)
    conf = rng.uniform(0.5, 1.0, n_mentor)
    weak = rng.uniform(1.0, 3.0, n_mentee)
    profiles = [
        profile(f"M{i}", "X", strong[i], strength=True, confidence=conf[i])
        for i in range(n_mentor)
    ]
    profiles += [profile(f"E{i:02d}", "X", weak[i]) for i in range(n_mentee)]
    needs = needs_of(*[(f"E{i:02d}", "X") for i in range(n_mentee)])
    result = run(employees, profiles, needs, capacity=capacity, max_edges=1)
    assert not result.attrs["exact"]
    fit = np.outer(conf * (strong - 1) / 4, (5 - weak) / 4)  # mentors × mentees
    rows, cols = linear_sum_assignment(np.repeat(fit, capacity, axis=0), maximize=True)
    assert result["mentor_id"].notna().sum() == len(rows) == n_mentor * capacity
    assert_allclose(result["fit"].sum(), fit.repeat(capacity, 0)[rows, cols].sum())


def test_greedy_places_needs_the_in_order_pass_could_not():
    # E1 has the larger need, so in order it comes first and is given the
    # strongest mentor, A: its own manager, not allowed. E2 takes the next
    # place, B. The next round gives E1 its best allowed mentor left: C.
    employees = [person(m) for m in "ABC"]
    employees += [person("E1", manager="A"), person("E2")]
    profiles = [
        profile("A", "X", 4.9, strength=True),
        profile("B", "X", 4.7, strength=True),
        profile("C", "X", 4.5, strength=True),
        profile("E1", "X", 1.5),
        profile("E2", "X", 2.5),
    ]
    needs = needs_of(("E1", "X"), ("E2", "X"))
    result = run(employees, profiles, needs, capacity=1, max_edges=1)
    assert mentor_of(result, "E1") == "C" and mentor_of(result, "E2") == "B"
    # the exact solver finds the better pairing
    exact = run(employees, profiles, needs, capacity=1)
    assert mentor_of(exact, "E1") == "B" and mentor_of(exact, "E2") == "A"


def test_spread_round_by_hand():
    from devplan._mentoring import _spread

    allowed = np.array(
        [
            [True, True, True],  # need 0
            [True, False, True],  # need 1: not mentor 11
            [False, False, False],  # need 2: nobody
            [True, True, True],  # need 3
        ]
    )

    def feasible(rows, free):
        yield rows, allowed[rows]

    rows, free = np.array([0, 1, 2, 3]), np.array([10, 11, 12])
    took, chosen, rest = _spread(rows, free, feasible, np.array([1, 1, 2]))
    # all want mentor 10 first; need 0 gets it, need 1 (2nd) its 2nd place,
    # which is 12 (11 not allowed), need 3 (3rd) its 3rd place: 12 again
    # (places: 10, 11, 12, 12); need 2 has nobody and drops out
    assert took.tolist() == [0, 1, 3] and chosen.tolist() == [10, 12, 12]
    assert rest.tolist() == []
    took, chosen, rest = _spread(rows, free, feasible, np.array([1, 1, 1]))
    # need 1's 2nd place is 12, need 3's 3rd is 12 too: one place, the
    # first in order keeps it, need 3 waits for the next round
    assert took.tolist() == [0, 1] and chosen.tolist() == [10, 12]
    assert rest.tolist() == [3]


def test_transfer_risks_name_the_matched_mentor_as_coach():
    bundle = make_organisation(600, random_state=5, item_level=False)
    result = devplan.generate_plans(bundle)
    matched = result.mentoring[
        result.mentoring["transfer_risk"] & result.mentoring["mentor_id"].notna()
    ]
    assert len(matched) > 10
    risks = result.transfer_risks.set_index(["employee_id", "competency_id"])
    for row in matched.itertuples():
        risk = risks.loc[(row.mentee_id, row.competency_id)]
        assert risk["suggested_coach_id"] == row.mentor_id
        assert f"pair with coach {row.mentor_id} " in risk["suggestion"]


def test_plan_rows_without_any_match_leave_plans_as_they_are():
    from devplan._mentoring import empty_mentoring, mentor_plan_rows

    bundle = load_sample()
    result = devplan.generate_plans(bundle, Config(mentoring={"enabled": False}))
    plans, summary = mentor_plan_rows(
        result.plans,
        result.plan_summary,
        empty_mentoring(),
        start_date=result.start_date,
        horizon_months=12,
        mentor_hours=12.0,
    )
    assert plans["mentor_id"].isna().all() and plans["mentee_id"].isna().all()
    pd.testing.assert_frame_equal(
        plans.drop(columns=["mentor_id", "mentee_id"]), result.plans
    )
    pd.testing.assert_frame_equal(summary, result.plan_summary)


@pytest.mark.parametrize("greedy", [False, True])
def test_large_organisations_are_matched_within_pools(org, greedy):
    """With pool_size below the organisation, employees are ordered by
    business unit, then id, and cut into pools of equal size; every mentor
    comes from the mentee's pool, and a pool as large as the organisation
    changes nothing."""
    bundle, result = org
    kwargs = {
        "plans": result.plans,
        "transfer_risks": result.transfer_risks,
        "roles": bundle.roles,
    }
    base = over_budget(bundle) if greedy else bundle.config
    whole = match_mentors(result.profiles, bundle.employees, base, **kwargs)
    same = base.model_copy(
        update={"mentoring": base.mentoring.model_copy(update={"pool_size": 500})}
    )
    assert_frame_equal(
        match_mentors(result.profiles, bundle.employees, same, **kwargs), whole
    )
    pooled_cfg = base.model_copy(
        update={"mentoring": base.mentoring.model_copy(update={"pool_size": 180})}
    )
    pooled = match_mentors(result.profiles, bundle.employees, pooled_cfg, **kwargs)
    # 500 people, pools of at most 180: three pools of 167, 167 and 166,
    # in the order (business_unit, employee_id)
    emp = bundle.employees.astype({"employee_id": str})
    ordered = emp.sort_values(["business_unit", "employee_id"], kind="stable")
    pool = pd.Series(np.arange(500) * 3 // 500, index=ordered["employee_id"])
    assert pool.value_counts().sort_index().tolist() == [167, 167, 166]
    done = pooled[pooled["mentor_id"].notna()]
    assert len(done) > 10
    assert (
        done["mentor_id"].map(pool).to_numpy() == done["mentee_id"].map(pool).to_numpy()
    ).all()
    # the whole organisation's matches cross pools, so the cut is felt
    crossing = whole[whole["mentor_id"].notna()]
    assert (
        crossing["mentor_id"].map(pool).to_numpy()
        != crossing["mentee_id"].map(pool).to_numpy()
    ).any()
    # candidates are counted within the pool: never more than in the whole
    assert (pooled["n_candidates"] <= whole["n_candidates"]).all()
    assert pooled[["mentee_id", "competency_id"]].equals(
        whole[["mentee_id", "competency_id"]]
    )
