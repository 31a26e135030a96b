"""Track assignment: every rule, precedence, missing input, and ground truth."""

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from devplan import (
    CompetencyScorer,
    Config,
    TrackClassifier,
    TrackConfig,
    assign_tracks,
    cross_validated_report,
    track_features,
    track_summary,
)
from devplan.datasets import make_organisation

SEED = 5


def _employee(employee_id, **values):
    row = {
        "employee_id": employee_id,
        "role_id": "r",
        "is_people_manager": True,
        "months_in_role": 40.0,
        "performance_rating": 3.2,
        "potential_rating": "medium",
    }
    row.update(values)
    return row


def _case(employees, needs=None, percentile=50.0):
    """Employees plus a profile: ``needs`` maps employee to critical gaps."""
    employees = pd.DataFrame(employees)
    employees["potential_rating"] = employees["potential_rating"].astype(
        pd.CategoricalDtype(["low", "medium", "high"])
    )
    employees["is_people_manager"] = employees["is_people_manager"].astype("boolean")
    rows = []
    for e in employees["employee_id"]:
        gaps = (needs or {}).get(e, [])
        for k, comp in enumerate(["delegation", "prioritising", "conflict", "empathy"]):
            need = comp in gaps
            rows.append(
                {
                    "employee_id": e,
                    "competency_id": comp,
                    "is_need": need,
                    "is_strength": False,
                    "importance": "critical",
                    "percentile": percentile,
                    "weighted_gap": (1.0 - 0.1 * k) if need else 0.0,
                    "self_other_gap": 0.0,
                    "confidence": 0.8,
                }
            )
    return employees, pd.DataFrame(rows)


def _one(tracks, employee_id):
    return tracks.set_index("employee_id").loc[employee_id]


def test_new_manager_by_months_in_role():
    emp, prof = _case([_employee("a", months_in_role=7.0)])
    row = _one(assign_tracks(emp, prof), "a")
    assert row["track"] == "new_manager"
    assert row["reasons"] == "7 months in role (≤ 12)"
    assert row["decided_by"] == "new_manager:months_in_role"
    assert row["confidence"] == 1.0


def test_struggling_by_performance_and_by_critical_gaps():
    emp, prof = _case(
        [
            _employee("low", performance_rating=2.1),
            _employee("gaps"),
            _employee("one_gap"),
        ],
        needs={
            "gaps": ["delegation", "prioritising", "conflict"],
            "one_gap": ["conflict"],
        },
    )
    t = assign_tracks(emp, prof)
    low, gaps, one = _one(t, "low"), _one(t, "gaps"), _one(t, "one_gap")
    assert low["track"] == "struggling_manager"
    assert low["reasons"] == "performance 2.1 < 2.5"
    assert low["decided_by"] == "struggling_manager:performance"
    assert gaps["track"] == "struggling_manager"
    # largest weighted gap first
    # performance 3.2 is below solid (3.5): both sides named
    assert gaps["reasons"] == (
        "3 critical gaps: delegation, prioritising, conflict; "
        "performance 3.2 < 3.5 (solid)"
    )
    assert gaps["decided_by"] == "struggling_manager:critical_gaps"
    assert gaps["confidence"] == pytest.approx(0.8)  # the profile's confidence
    assert one["track"] == "core"


def test_solid_performance_with_critical_gaps_is_not_struggling():
    emp, prof = _case(
        [
            _employee("star", potential_rating="high", performance_rating=5.0),
            _employee("solid", performance_rating=4.5),
        ],
        needs={
            "star": ["delegation", "prioritising"],
            "solid": ["conflict", "empathy"],
        },
    )
    t = assign_tracks(emp, prof)
    star, solid = _one(t, "star"), _one(t, "solid")
    assert star["track"] == "high_potential"
    assert star["decided_by"] == "high_potential:ratings"
    assert star["reasons"] == (
        "potential high and performance 5 ≥ 3.5; 2 critical gaps to develop "
        "(performance 5 ≥ 3.5 solid): delegation, prioritising"
    )
    assert pd.isna(star["also"])  # the struggling rule did not fire
    assert solid["track"] == "core"
    assert solid["reasons"].endswith(
        "; 2 critical gaps to develop (performance 4.5 ≥ 3.5 solid): conflict, empathy"
    )


def test_solid_performance_below_struggling_threshold_is_rejected():
    with pytest.raises(ValueError, match="struggling_solid_performance"):
        TrackConfig(struggling_max_performance=3.0, struggling_solid_performance=2.8)


def test_reasons_use_competency_names_from_a_bundle():
    bundle = make_organisation(400, random_state=SEED)
    prof = CompetencyScorer().fit(bundle).profiles(bundle)
    t = assign_tracks(bundle, prof)
    by_gaps = t[t["decided_by"] == "struggling_manager:critical_gaps"]
    names = set(bundle.competencies["name"])
    assert len(by_gaps)
    for reason in by_gaps["reasons"]:
        listed = reason.split(": ", 1)[1].split("; ")[0].split(", ")
        assert set(listed) <= names


def test_high_potential_by_ratings_and_by_profile():
    emp, prof = _case(
        [
            _employee("hp", potential_rating="high", performance_rating=3.8),
            _employee("hp_low_perf", potential_rating="high", performance_rating=3.0),
            _employee("hp_profile", potential_rating="high", performance_rating=None),
        ],
        percentile=80.0,
    )
    t = assign_tracks(emp, prof)
    assert _one(t, "hp")["track"] == "high_potential"
    assert _one(t, "hp")["reasons"] == "potential high and performance 3.8 ≥ 3.5"
    assert _one(t, "hp_low_perf")["track"] == "core"
    row = _one(t, "hp_profile")
    assert row["track"] == "high_potential"
    assert row["decided_by"] == "high_potential:profile"
    assert "no performance rating, profile at the 80th percentile" in row["reasons"]
    assert (
        "no performance rating: struggling judged on the profile only" in row["reasons"]
    )
    # one of four inputs missing, and the profile decided (confidence 0.8)
    assert row["confidence"] == pytest.approx(0.8 * 3 / 4)


def test_precedence_and_secondary_flags():
    emp, prof = _case(
        [
            _employee("x", months_in_role=5.0, performance_rating=2.0),
            _employee(
                "y", months_in_role=5.0, potential_rating="high", performance_rating=4.0
            ),
        ]
    )
    t = assign_tracks(emp, prof)
    assert _one(t, "x")["track"] == "new_manager"
    assert _one(t, "x")["also"] == "struggling_manager"
    assert _one(t, "y")["track"] == "new_manager"
    assert _one(t, "y")["also"] == "high_potential"
    cfg = TrackConfig(
        precedence=("struggling_manager", "high_potential", "new_manager")
    )
    t2 = assign_tracks(emp, prof, cfg)
    assert _one(t2, "x")["track"] == "struggling_manager"
    assert _one(t2, "x")["also"] == "new_manager"
    assert _one(t2, "y")["track"] == "high_potential"


def test_core_for_everyone_else_with_the_evidence():
    emp, prof = _case(
        [_employee("ic", is_people_manager=False, months_in_role=3.0), _employee("m")]
    )
    t = assign_tracks(emp, prof)
    assert _one(t, "ic")["track"] == "core"
    assert _one(t, "ic")["reasons"] == "not a people manager"
    assert _one(t, "m")["reasons"] == (
        "people manager, no track rule fired (40 months in role, performance 3.2, "
        "potential medium, 0 critical gaps)"
    )


def test_a_new_first_line_manager_without_reports_is_a_manager():
    """The HR export may not list a new manager's reports yet: the role's
    level makes them a people manager; an explicit false still wins."""
    from devplan import Bundle

    roles = pd.DataFrame(
        {
            "role_id": ["lead", "spec"],
            "role_level": ["first_line", "individual"],
            "competency_id": ["delegation", "delegation"],
            "required_level": [3.5, 3.0],
        }
    )
    employees = pd.DataFrame(
        {
            "employee_id": ["new_lead", "not_lead", "spec"],
            "role_id": ["lead", "lead", "spec"],
            "is_people_manager": [None, "false", None],
            "months_in_role": [3.0, 3.0, 3.0],
            "performance_rating": [3.2, 3.2, 3.2],
            "potential_rating": ["medium", "medium", "medium"],
        }
    )
    bundle = Bundle.from_frames(
        employees=employees,
        competencies=pd.DataFrame(
            {"competency_id": ["delegation"], "name": ["Delegation"]}
        ),
        assessments=pd.DataFrame(
            {
                "employee_id": ["new_lead"],
                "rater_type": ["self"],
                "competency_id": ["delegation"],
                "score": [3.0],
            }
        ),
        roles=roles,
        catalog=pd.DataFrame(
            {
                "item_id": ["k"],
                "title": ["Course"],
                "kind": ["course"],
                "competencies": ["delegation"],
                "hours": [8.0],
            }
        ),
    )
    _, prof = _case([_employee(e) for e in employees["employee_id"]])
    t = assign_tracks(bundle.employees, prof)
    assert _one(t, "new_lead")["track"] == "new_manager"
    assert _one(t, "new_lead")["reasons"] == "3 months in role (≤ 12)"
    for other in ("not_lead", "spec"):
        assert _one(t, other)["track"] == "core"
        assert _one(t, other)["reasons"] == "not a people manager"


def test_missing_inputs_degrade_gracefully():
    emp, prof = _case(
        [
            _employee(
                "nothing",
                months_in_role=None,
                performance_rating=None,
                potential_rating=None,
            ),
            _employee("gaps_only", performance_rating=None),
        ],
        needs={"gaps_only": ["delegation", "conflict"]},
    )
    t = assign_tracks(emp, prof)
    row = _one(t, "nothing")
    assert row["track"] == "core"
    for words in (
        "no months_in_role: new-manager rule not judged",
        "no performance rating",
        "no potential rating: high potential judged on performance and profile",
    ):
        assert words in row["reasons"]
    assert row["confidence"] == pytest.approx(1 / 4)
    gaps = _one(t, "gaps_only")
    assert gaps["track"] == "struggling_manager"
    assert gaps["reasons"].startswith("2 critical gaps: delegation, conflict")
    assert "no performance rating" in gaps["reasons"]


def test_thresholds_come_from_config():
    emp, prof = _case(
        [
            _employee("a", months_in_role=7.0),
            _employee("b", performance_rating=2.7),
        ],
        needs={"b": ["delegation"]},
    )
    default = assign_tracks(emp, prof)
    assert list(default["track"]) == ["new_manager", "core"]
    cfg = Config(
        tracks={
            "new_manager_max_months": 6,
            "struggling_max_performance": 3.0,
        }
    )
    changed = assign_tracks(emp, prof, cfg)
    assert list(changed["track"]) == ["core", "struggling_manager"]
    assert _one(changed, "b")["reasons"] == "performance 2.7 < 3"
    one_gap = assign_tracks(emp, prof, TrackConfig(struggling_min_critical_gaps=1))
    assert _one(one_gap, "b")["track"] == "struggling_manager"


def test_bad_precedence_is_rejected():
    with pytest.raises(ValueError, match="precedence"):
        TrackConfig(precedence=("new_manager", "new_manager", "high_potential"))


def test_nine_box_from_ratings_and_profile():
    emp, prof = _case(
        [
            _employee("star", potential_rating="high", performance_rating=4.2),
            _employee("risk", potential_rating="low", performance_rating=2.0),
            _employee("unrated", potential_rating=None, performance_rating=None),
        ],
        percentile=20.0,
    )
    t = assign_tracks(emp, prof).set_index("employee_id")
    assert t.loc["star", "nine_box"] == 9 and t.loc["star", "nine_box_label"] == "Star"
    assert t.loc["risk", "nine_box"] == 1
    assert t.loc["risk", "nine_box_label"] == "Talent risk"
    # profile at the 20th percentile: low performance; no strengths: low potential
    assert t.loc["unrated", "performance_level"] == "low"
    assert t.loc["unrated", "performance_source"] == "profile"
    assert t.loc["unrated", "potential_source"] == "profile"


@pytest.fixture(scope="module")
def organisation():
    bundle, truth = make_organisation(3000, random_state=SEED, return_truth=True)
    profiles = CompetencyScorer().fit(bundle).profiles(bundle)
    return bundle, truth, profiles


def test_rule_tracks_agree_with_ground_truth(organisation):
    bundle, truth, profiles = organisation
    t = assign_tracks(bundle, profiles)
    true = truth.track.reindex(t["employee_id"]).to_numpy()
    got = t["track"].astype(str).to_numpy()
    matrix = pd.crosstab(pd.Series(true, name="true"), pd.Series(got, name="rules"))
    # Floors, justified: the generator draws every observable from the true
    # track with noise (5% of ratings missing, struggling performance "mostly"
    # below 2.5, high-potential potential "mostly" high, ~10% of core
    # managers with two critical gaps), so some cases are ambiguous by
    # design. Measured on seeds 5, 7, 11, 13: accuracy 0.980-0.986; recall
    # new 1.00, struggling 0.95-0.99, high potential 0.87-0.93; precision of
    # struggling and high potential 0.79-0.85. The floors leave room for
    # seed-to-seed variation but fail on any broken rule.
    accuracy = (true == got).mean()
    assert accuracy >= 0.95, matrix
    floors = {"new_manager": 0.95, "struggling_manager": 0.9, "high_potential": 0.8}
    for track, floor in floors.items():
        recall = (got[true == track] == track).mean()
        precision = (true[got == track] == track).mean()
        assert recall >= floor, (track, matrix)
        assert precision >= 0.7, (track, matrix)


def test_classifier_beats_the_majority_baseline(organisation):
    bundle, truth, profiles = organisation
    X = track_features(bundle, profiles)
    y = truth.track.reindex(X.index).to_numpy()
    clf = TrackClassifier(random_state=0)
    # one thread: tree boosting slows down badly when cores are shared
    with threadpool_limits(1):
        report = cross_validated_report(clf, X, y, cv=5).set_index("metric")
    assert report.loc["accuracy", "model"] > report.loc["accuracy", "majority_baseline"]
    # measured 0.949 balanced accuracy (seed 5); the baseline is 0.25
    assert report.loc["balanced_accuracy", "model"] > 0.85
    assert report.loc["balanced_accuracy", "majority_baseline"] == pytest.approx(0.25)
    proba = TrackClassifier().fit(X, y).predict_proba(X.iloc[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_summary_counts_everyone(organisation):
    bundle, _, profiles = organisation
    t = assign_tracks(bundle, profiles)
    summary = track_summary(t, bundle.employees, bundle.roles)
    assert summary["n_employees"].sum() == len(bundle.employees)
    by_rule = summary.groupby("decided_by")["n_employees"].sum()
    assert (by_rule == t["decided_by"].value_counts().reindex(by_rule.index)).all()
    assert set(summary.columns) == {
        "business_unit",
        "role_level",
        "track",
        "decided_by",
        "n_employees",
    }


def test_protected_attributes_never_change_tracks(organisation):
    bundle, _, profiles = organisation
    before = assign_tracks(bundle, profiles)
    shuffled = bundle.employees.assign(
        age_band=bundle.employees["age_band"].sample(frac=1, random_state=1).to_numpy(),
        gender=bundle.employees["gender"].sample(frac=1, random_state=2).to_numpy(),
    )
    after = assign_tracks(shuffled, profiles)
    cols = ["employee_id", "track", "decided_by", "confidence", "nine_box"]
    pd.testing.assert_frame_equal(before[cols], after[cols])
