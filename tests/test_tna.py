"""Training-needs analysis: gaps, cost to close them, coverage, allocation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import devplan
from devplan import tna


def _catalog():
    return pd.DataFrame(
        {
            "item_id": ["A", "B", "C"],
            "title": ["Workshop x", "Course x", "Coaching y"],
            # default effects: workshop 0.20, course 0.15, coaching 0.30 x
            # 1.2 for advanced = 0.36
            "kind": ["workshop", "course", "coaching"],
            "competencies": ["x", "x", "y"],
            "level": ["intermediate", "intermediate", "advanced"],
            "hours": [10.0, 8.0, 6.0],
            "cost": [100.0, 300.0, 500.0],
            "modality": ["online"] * 3,
            "language": [None] * 3,
            "tracks": [None] * 3,
            "prerequisites": [None] * 3,
        }
    )


def _frames():
    employees = pd.DataFrame(
        {
            "employee_id": ["e1", "e2", "e3", "e4", "e5"],
            "role_id": ["r1", "r1", "r2", "r2", "r1"],
            "business_unit": ["U1", "U2", "U1", "U1", "U2"],
            "is_people_manager": [False] * 5,
        }
    )
    roles = pd.DataFrame(
        {"role_id": ["r1", "r2"], "role_name": ["Role one", "Role two"]}
    )
    profiles = pd.DataFrame(
        {
            "employee_id": ["e1", "e2", "e3", "e4", "e5"],
            "competency_id": ["x", "x", "y", "z", "x"],
            "score": [3.0, 3.0, 2.0, 3.0, 3.0],
            "gap": [0.3, 0.5, 0.2, 0.4, 0.1],
            "is_need": [True, True, True, True, False],
            "importance": ["critical", "important", "critical", "critical", "useful"],
        }
    )
    return profiles, employees, roles


def test_hand_computed_case():
    profiles, employees, roles = _frames()
    result = tna(profiles, employees, roles, _catalog(), sd_y=10_000, budget=450)
    needs = result.needs.set_index("employee_id")
    # x, middle level: A (100 / 0.20 = 500 per point) before B (300 / 0.15 =
    # 2,000). e1's gap 0.3 needs A and B (0.20 < 0.3 <= 0.35): 18 h, 400
    assert needs.loc["e1", "items_needed"] == 2
    assert needs.loc["e1", "hours"] == 18.0
    assert needs.loc["e1", "cost"] == 400.0
    assert needs.loc["e1", "closable"]
    # e2's gap 0.5 > 0.35: not closable, 0.15 left
    assert not needs.loc["e2", "closable"]
    assert needs.loc["e2", "gap_left"] == pytest.approx(0.15)
    # e5 is not a need
    assert "e5" not in needs.index
    by_comp = result.gaps_by_competency.set_index("competency_id")
    assert by_comp.loc["x", "n_needs"] == 2
    assert by_comp.loc["x", "n_assessed"] == 3
    assert by_comp.loc["x", "total_gap"] == pytest.approx(0.8)
    assert by_comp.loc["x", "cost"] == 800.0
    assert by_comp.loc["x", "n_not_closable"] == 1
    by_role = result.gaps_by_role.set_index(["role_id", "competency_id"])
    assert by_role.loc[("r1", "x"), "role_name"] == "Role one"
    assert by_role.loc[("r2", "z"), "n_needs"] == 1
    by_unit = result.gaps_by_unit.set_index(["business_unit", "competency_id"])
    assert by_unit.loc[("U1", "x"), "total_gap"] == pytest.approx(0.3)
    # coverage: y for a low scorer has only an advanced item (no fit); z has
    # no item; x cannot close e2's gap
    cov = result.coverage_gaps.set_index("competency_id")["problem"]
    assert cov["y"] == "no catalog item at a fitting level"
    assert cov["z"] == "no catalog item develops it"
    assert cov["x"].startswith("the fitting items together")
    # allocation, general d 0.62 (Arthur et al. 2003, behaviour):
    # e1 critical: d = 0.62 x 1 x 1 = 0.62, benefit 0.62 x 10,000 = 6,200,
    #   cost 400, utility 5,800, 15.5 per unit of money
    # e2 important, closes 0.35 / 0.5 = 0.7: d = 0.62 x 0.6 x 0.7 = 0.2604,
    #   benefit 2,604, cost 400, utility 2,204
    # budget 450 funds e1 only
    alloc = result.allocation.set_index("competency_id")
    assert alloc.loc["x", "n_needs"] == 2
    assert alloc.loc["x", "funded_people"] == 1
    assert alloc.loc["x", "funded_cost"] == 400.0
    assert alloc.loc["x", "funded_utility"] == pytest.approx(5_800)
    assert alloc.loc["x", "utility"] == pytest.approx(5_800 + 2_204)
    assert alloc.loc["x", "d"] == pytest.approx((0.62 + 0.2604) / 2)
    # y and z: no gain possible, nothing funded
    assert alloc.loc[["y", "z"], "funded_people"].sum() == 0
    # no limit: both funded
    free = tna(profiles, employees, roles, _catalog(), sd_y=10_000)
    assert free.allocation.set_index("competency_id").loc["x", "funded_people"] == 2


def test_hourly_cost_changes_the_cheapest_item():
    profiles, employees, roles = _frames()
    # with 100 per hour: A (100 + 1,000) / 0.2 = 5,500; B (300 + 800) / 0.15
    # = 7,333: A still first. With 1,000 per hour A 50,500 vs B 55,333: A;
    # make A longer instead to flip it
    cat = _catalog()
    cat.loc[0, "hours"] = 40.0
    # A (100 + 4,000) / 0.2 = 20,500 > B (300 + 800) / 0.15 = 7,333
    res = tna(profiles, employees, roles, cat, hourly_cost=100)
    path = res.closing_paths
    x = path[(path["competency_id"] == "x") & (path["person_level"] == "middle")]
    assert x["item_id"].tolist() == ["B", "A"]
    # without money value of performance the money columns are empty
    assert res.allocation["utility"].isna().all()


@pytest.fixture(scope="module")
def org():
    bundle = devplan.datasets.make_organisation(400, random_state=5)
    profiles = devplan.CompetencyScorer().fit(bundle).profiles(bundle)
    return bundle, profiles


def test_organisation_totals_and_budget(org):
    bundle, profiles = org
    kw = {"competencies": bundle.competencies, "sd_y": 20_000}
    result = tna(profiles, bundle.employees, bundle.roles, bundle.catalog, **kw)
    scored = profiles[profiles["scored"]]
    n_needs = int((scored["is_need"] & (scored["gap"] > 0)).sum())
    assert len(result.needs) == n_needs > 0
    for name in ("gaps_by_competency", "gaps_by_role", "gaps_by_unit"):
        table = getattr(result, name)
        assert table["n_needs"].sum() == n_needs
        assert_allclose(table["cost"].sum(), result.needs["cost"].sum())
    # every closing path item develops its competency
    rec = devplan.PathRecommender().fit(
        bundle.catalog, competencies=bundle.competencies["competency_id"]
    )
    j = pd.Index(rec.items_["item_id"]).get_indexer(result.closing_paths["item_id"])
    c = rec.competencies_.get_indexer(result.closing_paths["competency_id"])
    assert (rec.effects_[j, c] > 0).all()
    # a need's cost is the cumulative cost of the first items of its path
    path = result.closing_paths.set_index(["competency_id", "person_level", "order"])
    need = result.needs.iloc[0]
    key = (need["competency_id"], need["person_level"], need["items_needed"])
    assert need["cost"] == path.loc[key, "cumulative_cost"]
    # budgets are respected and more money never buys less utility
    funded = []
    for budget in (0, 5_000, 50_000, 500_000):
        res = tna(
            profiles,
            bundle.employees,
            bundle.roles,
            bundle.catalog,
            budget=budget,
            **kw,
        )
        assert res.allocation["funded_cost"].sum() <= budget + 1e-6
        funded.append(res.allocation["funded_utility"].sum())
    assert np.all(np.diff(funded) >= 0)
    assert "needs of" in result.summary()


def test_bad_input_is_named(org):
    bundle, profiles = org
    with pytest.raises(ValueError, match="profiles lacks"):
        tna(
            profiles.drop(columns="gap"), bundle.employees, bundle.roles, bundle.catalog
        )
    with pytest.raises(ValueError, match="hourly_cost=-5"):
        tna(profiles, bundle.employees, bundle.roles, bundle.catalog, hourly_cost=-5)
    with pytest.raises(ValueError, match="budget"):
        tna(profiles, bundle.employees, bundle.roles, bundle.catalog, budget=-1)


def test_cli_report_tna(org, tmp_path):
    from devplan import write_bundle
    from devplan._cli import main

    bundle, profiles = org
    write_bundle(bundle, tmp_path / "bundle")
    out = tmp_path / "out"
    argv = ["report", str(tmp_path / "bundle"), "--tna", "--out", str(out)]
    assert main([*argv, "--budget", "10000", "--sd-y", "20000"]) == 0
    alloc = pd.read_csv(out / "tna_allocation.csv")
    assert alloc["funded_cost"].sum() <= 10_000
    by_comp = pd.read_csv(out / "tna_gaps_by_competency.csv")
    # the same totals as the Python API on the same bundle
    api = tna(profiles, bundle.employees, bundle.roles, bundle.catalog)
    assert by_comp["n_needs"].sum() == len(api.needs)
    # without --tna: the organisation's HTML report
    assert main(["report", str(tmp_path / "bundle"), "--out", str(out)]) == 0
    assert (out / "organisation.html").exists()
