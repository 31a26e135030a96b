"""Calibration view: each rule at and just past its threshold, the evidence
text, the order, and invariance to protected attributes and chunking."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from devplan import CompetencyScorer, TrackConfig, assign_tracks, calibration
from devplan._calibration import COLUMNS, RULES, _ordered
from devplan.datasets import make_organisation

SEED = 5
COMPETENCIES = ["delegation", "prioritising", "conflict"]


def _case(people):
    """Hand-built tracks, profiles and employees.

    ``people`` maps an id to (performance, potential, percentiles of the
    three competencies, critical gaps); a NaN percentile is a competency
    not scored, left out of the mean.
    """
    employees = pd.DataFrame(
        {
            "employee_id": list(people),
            "performance_rating": [v[0] for v in people.values()],
            "potential_rating": pd.Categorical(
                [v[1] for v in people.values()], categories=["low", "medium", "high"]
            ),
            "age_band": "30-39",
            "gender": "female",
        }
    )
    rows = []
    for e, (_, _, percentiles, gaps) in people.items():
        for k, (comp, pct) in enumerate(zip(COMPETENCIES, percentiles, strict=True)):
            need = comp in gaps
            rows.append(
                {
                    "employee_id": e,
                    "competency_id": comp,
                    "is_need": need,
                    "is_strength": False,
                    "importance": "critical",
                    "percentile": pct,
                    "weighted_gap": (1.0 - 0.1 * k) if need else 0.0,
                    "self_other_gap": 0.0,
                    "confidence": 0.8,
                }
            )
    tracks = pd.DataFrame({"employee_id": list(people), "track": "core"})
    return tracks, pd.DataFrame(rows), employees


def _rules(cal):
    return {(r.employee_id, r.rule) for r in cal.itertuples()}


def test_rated_high_with_a_low_profile():
    tracks, profiles, employees = _case(
        {
            # mean of 10 and 26 (the third not scored) = 18
            "fires": (4.7, "medium", [10.0, 26.0, np.nan], []),
            "at_thresholds": (4.5, "medium", [25.0, 25.0, 25.0], []),
            "rating_below": (4.4, "medium", [10.0, 26.0, np.nan], []),
            "profile_above": (4.7, "medium", [25.0, 26.0, 25.0], []),
            "no_rating": (np.nan, "medium", [10.0, 10.0, 10.0], []),
        }
    )
    cal = calibration(tracks, profiles, employees)
    assert list(cal.columns) == list(COLUMNS)
    assert _rules(cal) == {
        ("fires", "rated_high_profile_low"),
        ("at_thresholds", "rated_high_profile_low"),
    }
    row = cal.set_index("employee_id").loc["fires"]
    assert row["evidence"] == (
        "performance rated 4.7 (≥ 4.5) but the 360 profile averages the "
        "18th percentile (≤ 25)"
    )
    # severity: (4.7 - 1) / 4 - 18 / 100 = 0.925 - 0.18 = 0.745;
    # at the thresholds (4.5 - 1) / 4 - 0.25 = 0.625
    assert_allclose(cal["severity"], [0.745, 0.625])
    assert_allclose(row["mean_percentile"], 18.0)
    assert row["performance"] == 4.7 and row["potential"] == "medium"


def test_rated_low_with_a_high_profile():
    tracks, profiles, employees = _case(
        {
            "fires": (1.8, "low", [81.0, 81.0, 81.0], []),
            "at_thresholds": (2.0, "low", [75.0, 75.0, 75.0], []),
            "rating_above": (2.1, "low", [81.0, 81.0, 81.0], []),
            "profile_below": (1.8, "low", [74.0, 75.0, 75.0], []),
        }
    )
    cal = calibration(tracks, profiles, employees)
    assert _rules(cal) == {
        ("fires", "rated_low_profile_high"),
        ("at_thresholds", "rated_low_profile_high"),
    }
    # severity: 0.81 - (1.8 - 1) / 4 = 0.61; 0.75 - (2 - 1) / 4 = 0.5
    assert_allclose(cal["severity"], [0.61, 0.5])
    assert cal["evidence"].iloc[0] == (
        "performance rated 1.8 (≤ 2) but the 360 profile averages the "
        "81st percentile (≥ 75)"
    )


def test_high_potential_with_critical_gaps():
    tracks, profiles, employees = _case(
        {
            "fires": (3.8, "high", [40.0, 52.0, 60.0], ["delegation", "conflict"]),
            "one_gap": (3.8, "high", [40.0, 52.0, 60.0], ["delegation"]),
            "medium": (3.8, "medium", [40.0, 52.0, 60.0], ["delegation", "conflict"]),
            "unrated": (3.8, None, [40.0, 52.0, 60.0], ["delegation", "conflict"]),
        }
    )
    cal = calibration(tracks, profiles, employees)
    assert _rules(cal) == {("fires", "high_potential_gaps")}
    row = cal.iloc[0]
    # gaps largest first (delegation's weighted gap 1.0, conflict's 0.8);
    # mean percentile (40 + 52 + 60) / 3 = 50.67, severity 1 - 0.5067
    assert row["evidence"] == (
        "potential rated high but the 360 profile shows 2 critical gaps (≥ 2): "
        "delegation, conflict; it averages the 51st percentile"
    )
    assert_allclose(row["severity"], 0.493)
    assert row["n_critical_gaps"] == 2


def test_several_rules_give_one_row_each_sorted_by_severity():
    tracks, profiles, employees = _case(
        {
            "b": (4.7, "high", [10.0, 26.0, np.nan], ["delegation", "prioritising"]),
            "a": (1.8, "low", [81.0, 81.0, 81.0], []),
            "c": (4.5, "medium", [25.0, 25.0, 25.0], []),
            "d": (1.8, "low", [81.0, 81.0, 81.0], []),
        }
    )
    tracks["track"] = ["high_potential", "core", "core", "core"]
    cal = calibration(tracks, profiles, employees)
    # b: high potential gaps 1 - 0.18 = 0.82, rated high 0.745; a and d
    # tie at 0.61 (by employee_id); c 0.625
    assert cal[["employee_id", "rule"]].to_numpy().tolist() == [
        ["b", "high_potential_gaps"],
        ["b", "rated_high_profile_low"],
        ["c", "rated_high_profile_low"],
        ["a", "rated_low_profile_high"],
        ["d", "rated_low_profile_high"],
    ]
    assert cal.loc[0, "track"] == "high_potential"


def test_thresholds_come_from_config():
    tracks, profiles, employees = _case(
        {
            "high": (4.7, "medium", [18.0, 18.0, 18.0], []),
            "low": (1.8, "low", [81.0, 81.0, 81.0], []),
            "gaps": (3.8, "high", [40.0, 52.0, 60.0], ["delegation", "conflict"]),
        }
    )
    cfg = TrackConfig(
        calibration_high_performance=4.8,
        calibration_low_performance=1.5,
        calibration_min_critical_gaps=3,
    )
    assert calibration(tracks, profiles, employees, cfg).empty
    cfg = TrackConfig(calibration_low_percentile=15, calibration_high_percentile=85)
    assert calibration(tracks, profiles, employees, cfg)["rule"].tolist() == [
        "high_potential_gaps"
    ]
    with pytest.raises(TypeError, match="config"):
        calibration(tracks, profiles, employees, config={"a": 1})


@pytest.fixture(scope="module")
def organisation():
    bundle = make_organisation(600, random_state=SEED)
    profiles = CompetencyScorer().fit(bundle).profiles(bundle)
    tracks = assign_tracks(bundle, profiles, bundle.config)
    return bundle, profiles, tracks


def test_calibration_of_a_generated_organisation(organisation):
    bundle, profiles, tracks = organisation
    cal = calibration(tracks, profiles, bundle, bundle.config)
    assert set(cal["rule"]) <= set(RULES)
    assert len(cal) > 0
    assert cal["severity"].is_monotonic_decreasing
    # competency names from the bundle, not ids
    gaps = cal[cal["rule"] == "high_potential_gaps"]
    names = set(bundle.competencies["name"].astype(str))
    assert all(any(name in text for name in names) for text in gaps["evidence"]), gaps[
        "evidence"
    ].head()


def test_protected_attributes_never_change_calibration(organisation):
    bundle, profiles, tracks = organisation
    before = calibration(tracks, profiles, bundle.employees)
    shuffled = bundle.employees.assign(
        age_band=bundle.employees["age_band"].sample(frac=1, random_state=1).to_numpy(),
        gender=bundle.employees["gender"].sample(frac=1, random_state=2).to_numpy(),
    )
    pd.testing.assert_frame_equal(before, calibration(tracks, profiles, shuffled))
    dropped = bundle.employees.drop(columns=["age_band", "gender"])
    pd.testing.assert_frame_equal(before, calibration(tracks, profiles, dropped))


@pytest.mark.parametrize("size", [3, 7, 100])
def test_chunks_put_together_give_the_whole_table(organisation, size):
    bundle, profiles, tracks = organisation
    whole = calibration(tracks, profiles, bundle, bundle.config)
    ids = bundle.employees["employee_id"].astype(str).to_numpy()
    parts = []
    for start in range(0, len(ids), size):
        mine = ids[start : start + size]
        parts.append(
            calibration(
                tracks[tracks["employee_id"].astype(str).isin(mine)],
                profiles[profiles["employee_id"].astype(str).isin(mine)],
                bundle,
                bundle.config,
            )
        )
    pd.testing.assert_frame_equal(_ordered(pd.concat(parts)), whole)
