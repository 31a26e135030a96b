"""Fairness audit: disparities are flagged, fair plans pass, and protected
attributes never change a profile, track or plan."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import devplan
from devplan import audit_fairness
from devplan._fairness import high_visibility
from devplan.datasets import make_organisation

SEED = 3


@pytest.fixture(scope="module")
def org():
    bundle = make_organisation(600, random_state=SEED)
    return bundle, devplan.generate_plans(bundle)


def test_fair_plans_pass(org):
    bundle, result = org
    audit = audit_fairness(result, bundle.employees, catalog=bundle.catalog)
    assert audit.passed, audit.summary()
    assert set(audit.groups["group_column"]) == {"age_band", "gender"}
    # people per group add up to everyone planned, for each group column
    sums = audit.groups.groupby("group_column")["n_people"].sum()
    assert (sums == len(result.plan_summary)).all()


def test_stripping_high_visibility_items_from_women_is_flagged(org):
    bundle, result = org
    women = bundle.employees.loc[bundle.employees["gender"] == "female", "employee_id"]
    plans = result.plans
    # every high-visibility row: catalog items, and mentor roles (no item)
    visible = plans["item_id"].map(high_visibility(bundle.catalog)).fillna(False)
    visible = visible.to_numpy(dtype=bool) | plans["mentee_id"].notna().to_numpy()
    biased = plans[~(plans["employee_id"].isin(women) & visible)]
    audit = audit_fairness(biased, bundle.employees, catalog=bundle.catalog)
    assert not audit.passed
    flags = audit.flags
    assert set(flags["group_column"]) == {"gender"}
    assert set(flags["group"]) == {"female"}
    assert "any_high_visibility" in set(flags["metric"])
    row = flags.set_index("metric").loc["any_high_visibility"]
    assert row["value"] == 0.0
    assert row["ratio"] == 0.0


def test_cutting_older_peoples_plans_is_flagged(org):
    # the domain's finding: less is spent on older employees
    bundle, result = org
    old = bundle.employees.loc[bundle.employees["age_band"] == "50+", "employee_id"]
    plans = result.plans
    biased = plans[~(plans["employee_id"].isin(old) & (plans["step"] > 1))]
    audit = audit_fairness(biased, bundle.employees, catalog=bundle.catalog)
    flagged = audit.flags
    assert set(flagged["group"]) == {"50+"}
    assert {"hours", "spend"} <= set(flagged["metric"])


def test_ratios_and_tests_against_hand_and_scipy():
    # 40 people per group; group a: 20 of 40 get a stretch assignment, b: 8
    ids = [f"E{i:03d}" for i in range(80)]
    employees = pd.DataFrame({"employee_id": ids, "gender": ["a"] * 40 + ["b"] * 40})
    catalog = pd.DataFrame(
        {
            "item_id": ["S", "C"],
            "kind": ["stretch_assignment", "course"],
            "modality": ["in_person", "online"],
            "competencies": ["x", "x"],
            "level": ["intermediate", "intermediate"],
            "title": ["Stretch", "Course"],
            "hours": [10.0, 2.0],
            "cost": [0.0, 100.0],
            "language": [None, None],
            "tracks": [None, None],
            "prerequisites": [None, None],
        }
    )
    stretch = ids[:20] + ids[40:48]
    plans = pd.DataFrame(
        {
            "employee_id": stretch + ids,
            "item_id": ["S"] * len(stretch) + ["C"] * 80,
            "competency_id": "x",
            "hours": [10.0] * len(stretch) + [2.0] * 80,
            "cost": [0.0] * len(stretch) + [100.0] * 80,
        }
    )
    audit = audit_fairness(
        plans, employees, catalog=catalog, groups="gender", min_group_size=10
    )
    row = audit.impact.set_index(["group", "metric"]).loc[("b", "any_stretch")]
    # rates 8/40 = 0.2 and 20/40 = 0.5: ratio 0.4
    assert row["reference_group"] == "a"
    assert row["ratio"] == pytest.approx(0.4)
    expected = stats.fisher_exact([[8, 32], [20, 20]]).pvalue
    assert row["p_value"] == pytest.approx(expected)
    assert row["flagged"]
    # hours: a 20 x 12 + 20 x 2 = 280 / 40 = 7; b 8 x 12 + 32 x 2 = 160 / 40 = 4
    hours = audit.groups.set_index("group")["mean_hours"]
    assert hours.to_dict() == pytest.approx({"a": 7.0, "b": 4.0})
    # expected benefit from the default effects (stretch 0.35, course 0.15,
    # both intermediate: x 1.0): a (20 x 0.35 + 40 x 0.15) / 40 = 0.325,
    # b (8 x 0.35 + 40 x 0.15) / 40 = 0.22
    benefit = audit.groups.set_index("group")["mean_expected_benefit"]
    assert benefit.to_dict() == pytest.approx({"a": 0.325, "b": 0.22})
    # spend is equal (100 each): never flagged
    spend = audit.impact.set_index(["group", "metric"]).loc[("b", "spend")]
    assert spend["ratio"] == pytest.approx(1.0)
    assert not spend["flagged"]
    # too small a group is reported but not judged
    small = audit_fairness(
        plans, employees, catalog=catalog, groups="gender", min_group_size=50
    )
    assert small.passed
    assert small.impact["reason"].str.contains("not judged").all()


def test_holm_adjustment_matches_hand_computation():
    from devplan._fairness import _holm

    # p sorted 0.01, 0.02, 0.04 of m = 3: 0.03, 0.04, max(0.04, 0.04) = 0.04
    assert np.allclose(
        _holm(np.array([0.04, 0.01, np.nan, 0.02])),
        [0.04, 0.03, np.nan, 0.04],
        equal_nan=True,
    )


def test_bad_input_is_named(org):
    bundle, result = org
    with pytest.raises(ValueError, match="none is a column"):
        audit_fairness(result, bundle.employees, catalog=bundle.catalog, groups="x")
    with pytest.raises(ValueError, match="not in the catalog"):
        audit_fairness(
            result.plans.assign(item_id="nope"),
            bundle.employees,
            catalog=bundle.catalog,
        )
    with pytest.raises(ValueError, match="competency_id"):
        audit_fairness(
            result.plans.drop(columns="competency_id"),
            bundle.employees,
            catalog=bundle.catalog,
        )
    with pytest.raises(ValueError, match="threshold"):
        audit_fairness(result, bundle.employees, catalog=bundle.catalog, threshold=2)


def test_protected_attributes_never_change_profiles_tracks_or_plans(org):
    bundle, result = org
    rng = np.random.default_rng(SEED)
    employees = bundle.employees
    shuffled = employees.assign(
        gender=rng.permutation(employees["gender"].to_numpy()),
        age_band=rng.permutation(employees["age_band"].to_numpy()),
    )
    assert (shuffled["gender"] != employees["gender"]).any()
    dropped = employees.drop(columns=["gender", "age_band"])
    for variant in (shuffled, dropped):
        other = devplan.generate_plans(dataclasses.replace(bundle, employees=variant))
        for name in ("profiles", "tracks", "plans", "plan_summary", "unmet_needs"):
            # byte-identical when written
            assert result.tables[name].to_csv() == other.tables[name].to_csv(), name


def test_cli_audit(org, tmp_path):
    from devplan import write_bundle
    from devplan._bundle import write_table
    from devplan._cli import main

    bundle, result = org
    write_bundle(bundle, tmp_path / "bundle")
    write_table(result.plans, tmp_path / "run" / "plans.csv")
    write_table(result.plan_summary, tmp_path / "run" / "plan_summary.csv")
    args = ["--bundle", str(tmp_path / "bundle"), "--out"]
    assert main(["audit", str(tmp_path / "run"), *args, str(tmp_path / "a")]) == 0
    groups = pd.read_csv(tmp_path / "a" / "fairness_groups.csv")
    assert set(groups["group_column"]) == {"age_band", "gender"}
    page = (tmp_path / "a" / "fairness_audit.html").read_text()
    assert "No disparity flagged." in page and 'class="flagged"' not in page
    # a biased plans file: exit 1 and the flag in the impact table
    women = bundle.employees.loc[bundle.employees["gender"] == "female", "employee_id"]
    plans = result.plans
    visible = plans["item_id"].map(high_visibility(bundle.catalog)).fillna(False)
    visible = visible.to_numpy(dtype=bool) | plans["mentee_id"].notna().to_numpy()
    write_table(
        plans[~(plans["employee_id"].isin(women) & visible)], tmp_path / "biased.csv"
    )
    code = main(["audit", str(tmp_path / "biased.csv"), *args, str(tmp_path / "b")])
    assert code == 1
    impact = pd.read_csv(tmp_path / "b" / "fairness_impact.csv")
    assert set(impact.loc[impact["flagged"], "group"]) == {"female"}
    page = (tmp_path / "b" / "fairness_audit.html").read_text()
    assert 'class="flagged"' in page and "female" in page
    # unusable input: exit 2
    assert main(["audit", str(tmp_path / "none"), *args, str(tmp_path / "c")]) == 2


def test_a_mentor_role_counts_as_a_high_visibility_mentoring_item():
    from devplan._fairness import _per_person

    catalog = pd.DataFrame(
        {"item_id": ["C"], "kind": ["course"], "modality": ["online"]}
    )
    plans = pd.DataFrame(
        {
            "employee_id": ["E1", "E2", "E2"],
            "item_id": ["C", "C", "mentoring"],  # E2 mentors a colleague
            "hours": [4.0, 4.0, 12.0],
            "cost": [100.0, 100.0, 0.0],
            "benefit": [0.5, 0.5, 0.0],
            "mentee_id": [None, None, "E9"],
        }
    )
    person = _per_person(plans, pd.Index(["E1", "E2"]), catalog, None)
    assert person["any_high_visibility"].tolist() == [False, True]
    assert person["any_stretch"].tolist() == [False, False]
    assert person["hours"].tolist() == [4.0, 16.0]
    # an unknown item that is no mentor role is still an error
    with pytest.raises(ValueError, match="not in the catalog"):
        _per_person(plans.assign(mentee_id=None), pd.Index(["E1", "E2"]), catalog, None)


def test_audit_report_escapes_group_labels(org):
    from devplan._reports import audit_report

    bundle, result = org
    hostile = "<script>alert(1)</script>"
    employees = bundle.employees.assign(
        gender=bundle.employees["gender"].replace("female", hostile)
    )
    page = audit_report(
        audit_fairness(result, employees, catalog=bundle.catalog, groups="gender")
    )
    assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page
