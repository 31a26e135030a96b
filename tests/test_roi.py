"""ROI and utility: reference values, effect sizes, forecasts and actuals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from devplan import roi

SEED = 20260


def test_phillips_reference():
    # benefits 60,000, costs 20,000: BCR = 60,000 / 20,000 = 3.0;
    # ROI = (60,000 - 20,000) / 20,000 x 100 = 200%
    assert roi.benefit_cost_ratio(60_000, 20_000) == pytest.approx(3.0)
    assert roi.roi_percent(60_000, 20_000) == pytest.approx(200.0)


def test_phillips_adjustments():
    # 100,000 x 0.5 attributed x 0.8 confidence = 40,000 against 20,000:
    # BCR 2.0, ROI 100%
    kw = {"attribution": 0.5, "confidence": 0.8}
    assert roi.adjusted_benefits(100_000, **kw) == pytest.approx(40_000)
    assert roi.benefit_cost_ratio(100_000, 20_000, **kw) == pytest.approx(2.0)
    assert roi.roi_percent(100_000, 20_000, **kw) == pytest.approx(100.0)
    # vectorised
    assert_allclose(roi.roi_percent([60_000, 10_000], [20_000, 20_000]), [200, -50])


def test_utility_reference():
    # 30 trainees x 1 year x d 0.70 x SD_y 10,000 = 210,000; minus the total
    # cost 60,000 gives 150,000
    assert roi.utility(30, 0.70, 10_000, years=1, total_cost=60_000) == 150_000
    # the same with the cost per trainee: 30 x 2,000 = 60,000
    assert roi.utility(30, 0.70, 10_000, cost_per_trainee=2_000) == pytest.approx(
        150_000
    )


def test_break_even_d():
    # d = C / (N T SD_y) = 60,000 / (30 x 1 x 10,000) = 0.2, and utility at
    # that d is 0
    d = roi.break_even_d(30, 10_000, total_cost=60_000)
    assert d == pytest.approx(0.2)
    assert roi.utility(30, d, 10_000, total_cost=60_000) == pytest.approx(0.0)
    # two years halve it: 60,000 / (30 x 2 x 10,000) = 0.1
    assert roi.break_even_d(30, 10_000, years=2, total_cost=60_000) == pytest.approx(
        0.1
    )
    assert roi.break_even_d(0, 10_000, total_cost=5) == np.inf


def test_cost_must_be_given_once():
    with pytest.raises(ValueError, match="exactly one"):
        roi.utility(30, 0.7, 10_000)
    with pytest.raises(ValueError, match="exactly one"):
        roi.utility(30, 0.7, 10_000, total_cost=1, cost_per_trainee=1)
    with pytest.raises(ValueError, match="attribution"):
        roi.roi_percent(1, 1, attribution=1.5)
    with pytest.raises(ValueError, match="costs"):
        roi.roi_percent(1, 0)


def test_default_effect_sizes_are_the_published_ones():
    # Arthur et al. (2003) and Lacerenza et al. (2017), as in the sources
    assert [roi.default_effect_size(c) for c in roi.CRITERIA] == [
        0.60,
        0.63,
        0.62,
        0.62,
    ]
    assert [roi.default_effect_size(c, "leadership") for c in roi.CRITERIA] == [
        0.63,
        0.73,
        0.82,
        0.72,
    ]
    over = {"leadership": {"behaviour": 0.5}}
    assert roi.default_effect_size("behaviour", "leadership", over) == 0.5
    assert roi.default_effect_size("behaviour", "general", over) == 0.62
    with pytest.raises(ValueError, match="criterion"):
        roi.default_effect_size("transfer")


def test_effect_size_against_pingouin():
    pg = pytest.importorskip("pingouin")
    rng = np.random.default_rng(SEED)
    a = rng.normal(0.6, 1.0, 40)
    b = rng.normal(0.1, 1.2, 55)
    assert roi.effect_size(a, b) == pytest.approx(
        pg.compute_effsize(a, b, eftype="cohen")
    )
    assert roi.effect_size(a, b, hedges=True) == pytest.approx(
        pg.compute_effsize(a, b, eftype="hedges"), rel=1e-3
    )


def test_effect_size_hand_computation():
    # gains 1, 2, 3 (mean 2, var 1) vs 0, 1, 2 (mean 1, var 1): pooled SD 1,
    # d = 1; Hedges: 1 - 3 / (4 x 6 - 9) = 0.8
    assert roi.effect_size([1, 2, 3], [0, 1, 2]) == pytest.approx(1.0)
    assert roi.effect_size([1, 2, 3], [0, 1, 2], hedges=True) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="at least 2"):
        roi.effect_size([1], [0, 1])


def test_pooled_effect_size_inverse_variance():
    ev = pd.DataFrame(
        {
            "item_id": ["a", "b", "c"],
            "competency_id": ["x", "x", "y"],
            "d": [0.2, 0.8, 0.5],
            "n_completers": [10, 40, 30],
            "n_comparison": [10, 40, 30],
        }
    )
    out = roi.pooled_effect_size(ev, by="competency_id")
    # hand: v_a = 20/100 + 0.04/40 = 0.201; v_b = 80/1600 + 0.64/160 = 0.054
    # d_x = (0.2/0.201 + 0.8/0.054) / (1/0.201 + 1/0.054)
    va, vb = 0.201, 0.054
    dx = (0.2 / va + 0.8 / vb) / (1 / va + 1 / vb)
    assert_allclose(out["d"], [dx, 0.5])
    assert_allclose(out.loc[0, "se"], 1 / np.sqrt(1 / va + 1 / vb))
    assert out["n_completers"].tolist() == [50, 30]
    assert out["k"].tolist() == [2, 1]


def test_sd_y_rules():
    # 40% of 60,000 = 24,000
    assert roi.sd_y_from_salary(60_000) == pytest.approx(24_000)
    m = pd.DataFrame(
        {
            "measure": ["revenue", "retention"],
            "value_per_unit": [1.0, 40_000.0],
            "sd_per_person": [5_000.0, 0.1],
        }
    )
    # 5,000 x 1 + 0.1 x 40,000 = 9,000
    assert roi.sd_y_from_measures(m) == pytest.approx(9_000)
    with pytest.raises(ValueError, match="column measure"):
        roi.sd_y_from_measures(m.assign(measure=["revenue", "happiness"]))


@pytest.fixture
def plans():
    return pd.DataFrame(
        {
            "employee_id": ["a", "a", "b", "c"],
            "item_id": ["x", "y", "x", "z"],
            "hours": [8.0, 4.0, 8.0, 10.0],
            "cost": [1000.0, 500.0, 1000.0, 0.0],
        }
    )


def test_forecast_per_plan(plans):
    employees = pd.DataFrame(
        {
            "employee_id": ["a", "b", "c"],
            "is_people_manager": [True, False, False],
            "salary": [50_000.0, 40_000.0, 30_000.0],
        }
    )
    f = roi.forecast(plans, employees=employees, salary="salary", hourly_cost=10)
    assert f["employee_id"].tolist() == ["a", "b", "c"]
    # a: manager, leadership behaviour d 0.82; SD_y 0.4 x 50,000 = 20,000;
    # benefit 1 x 1 x 0.82 x 20,000 = 16,400; cost 1,500 + 12 h x 10 = 1,620
    # b: d 0.62, SD_y 16,000: benefit 9,920; cost 1,000 + 80 = 1,080
    # c: d 0.62, SD_y 12,000: benefit 7,440; cost 0 + 100 = 100
    assert_allclose(f["d"], [0.82, 0.62, 0.62])
    assert_allclose(f["benefit"], [16_400, 9_920, 7_440])
    assert_allclose(f["total_cost"], [1_620, 1_080, 100])
    assert_allclose(f["utility"], [14_780, 8_840, 7_340])
    assert_allclose(f["roi_percent"], [(16_400 / 1_620 - 1) * 100, 818.5185185, 7340])


def test_forecast_per_programme(plans):
    f = roi.forecast(plans, by="item_id", sd_y=10_000, effect_sizes=0.5)
    x = f.set_index("item_id").loc["x"]
    # programme x: a and b, N 2, cost 2,000; 2 x 1 x 0.5 x 10,000 - 2,000
    assert x["n_trained"] == 2
    assert x["utility"] == pytest.approx(8_000)
    assert x["break_even_d"] == pytest.approx(2_000 / 20_000)
    # a free programme has no ratio
    assert np.isnan(f.set_index("item_id").loc["z", "bcr"])
    # by a column of another table
    tracks = pd.DataFrame({"employee_id": ["a", "b", "c"], "track": ["t", "t", "u"]})
    g = roi.forecast(plans, by="track", tracks=tracks, sd_y=10_000, effect_sizes=0.5)
    assert g["n_trained"].tolist() == [2, 1]
    assert_allclose(g["direct_cost"], [2_500, 0])
    # d per person: a 0.2, b 0.4 -> x: 2 x mean(0.3) x 10,000 - 2,000 = 4,000
    per = pd.Series({"a": 0.2, "b": 0.4, "c": 0.1})
    h = roi.forecast(plans, by="item_id", sd_y=10_000, effect_sizes=per)
    assert h.set_index("item_id").loc["x", "utility"] == pytest.approx(4_000)
    with pytest.raises(ValueError, match="employee 'c'"):
        roi.forecast(plans, sd_y=1, effect_sizes=per.drop("c"))
    with pytest.raises(ValueError, match="sd_y, salary or measures"):
        roi.forecast(plans)
    with pytest.raises(ValueError, match="by='unit'"):
        roi.forecast(plans, by="unit", sd_y=1)


def test_actual_from_an_evaluation_table():
    ev = pd.DataFrame(
        {
            "item_id": ["x", "y"],
            "competency_id": ["c", "c"],
            "n_completers": [30, 10],
            "n_comparison": [30, 10],
            "d": [0.70, -0.1],
        }
    )
    catalog = pd.DataFrame({"item_id": ["x", "y"], "cost": [2_000.0, 100.0]})
    a = roi.actual(ev, sd_y=10_000, catalog=catalog)
    # x: the reference case, 210,000 - 60,000; y: 10 x -0.1 x 10,000 - 1,000
    assert_allclose(a["utility"], [150_000, -11_000])
    assert a["item_id"].tolist() == ["x", "y"]
    assert_allclose(a["total_cost"], [60_000, 1_000])


def test_in_business_measures():
    res = roi.actual([0.5, 0.2], [10, 20], sd_y=1_000, total_cost=0)
    m = pd.DataFrame(
        {
            "measure": ["revenue", "expense"],
            "unit": ["EUR", "EUR"],
            "value_per_unit": [1.0, 1.0],
            "sd_per_person": [3_000.0, 500.0],
        }
    )
    out = roi.in_business_measures(res, m)
    # row 1: N T d = 5 -> revenue 15,000 up, expense 2,500 down;
    # row 2: N T d = 4 -> 12,000 and 2,000
    assert out["measure"].tolist() == ["revenue", "expense"] * 2
    assert out["direction"].tolist() == ["up", "down"] * 2
    assert_allclose(out["change_units"], [15_000, 2_500, 12_000, 2_000])
    # and SD_y from the same measures reproduces the money benefit
    f = roi.actual([0.5], [10], measures=m, total_cost=0)
    assert f.loc[0, "benefit"] == pytest.approx(15_000 + 2_500)
