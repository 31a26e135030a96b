"""Plan selection: constraints never violated, strengths first, real benefit."""

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devplan import PathRecommender
from devplan._schema import ITEM_KINDS, ITEM_LEVELS, MODALITIES, TRACKS

SEED = 3
COMPS = ["c0", "c1", "c2", "c3"]


@st.composite
def cases(draw):
    n_items = draw(st.integers(3, 25))
    rows = []
    for j in range(n_items):
        comps = draw(
            st.lists(st.sampled_from(COMPS), min_size=1, max_size=2, unique=True)
        )
        weights = [draw(st.sampled_from([1.0, 0.5, 0.25])) for _ in comps]
        prereq = []
        if j > 0 and draw(st.booleans()):
            prereq = [f"k{draw(st.integers(0, j - 1))}"]
        tracks = draw(st.lists(st.sampled_from(TRACKS), max_size=2, unique=True))
        rows.append(
            {
                "item_id": f"k{j}",
                "title": f"Item {j}",
                "kind": draw(st.sampled_from(ITEM_KINDS)),
                "competencies": ";".join(
                    f"{c}:{w}" for c, w in zip(comps, weights, strict=True)
                ),
                "level": draw(st.sampled_from(ITEM_LEVELS)),
                "hours": float(draw(st.integers(1, 40))),
                "cost": float(draw(st.sampled_from([0, 50, 200, 900]))),
                "modality": draw(st.sampled_from(MODALITIES)),
                "language": draw(st.sampled_from([None, "nl", "en"])),
                "tracks": ";".join(tracks) or None,
                "prerequisites": ";".join(prereq) or None,
            }
        )
    catalog = pd.DataFrame(rows)
    n_people = draw(st.integers(1, 6))
    people, prof, track_rows = [], [], []
    for p in range(n_people):
        e = f"e{p}"
        people.append(
            {
                "employee_id": e,
                "language": draw(st.sampled_from([None, "nl", "en"])),
                "modality_preference": draw(st.sampled_from([*MODALITIES, "any"])),
                "learning_hours_per_month": float(draw(st.integers(1, 8))),
                "budget": float(draw(st.sampled_from([0, 300, 2000]))),
            }
        )
        track_rows.append({"employee_id": e, "track": draw(st.sampled_from(TRACKS))})
        for c in COMPS:
            score = draw(st.floats(1.0, 5.0))
            required = draw(st.floats(1.0, 5.0))
            prof.append(
                {
                    "employee_id": e,
                    "competency_id": c,
                    "score": score,
                    "is_strength": draw(st.booleans()),
                    "is_need": required > score,
                    "gap": required - score,
                    "importance": draw(
                        st.sampled_from(["critical", "important", "useful"])
                    ),
                }
            )
    senior = {
        p["employee_id"]: draw(st.sampled_from(["individual", "senior"]))
        for p in people
    }
    completed = [
        {"employee_id": p["employee_id"], "item_id": f"k{j}", "status": "completed"}
        for p in people
        for j in range(n_items)
        if draw(st.integers(0, 9)) == 0
    ]
    return (
        catalog,
        pd.DataFrame(people),
        pd.DataFrame(prof),
        pd.DataFrame(track_rows),
        pd.Series(senior),
        pd.DataFrame(completed, columns=["employee_id", "item_id", "status"]),
        draw(st.floats(0.0, 1.0)),
    )


def _check(
    selected, catalog, people, profiles, tracks, senior, completed, rec, horizon
):
    items = catalog.set_index("item_id")
    emp = people.set_index("employee_id")
    assert not selected.duplicated(["employee_id", "item_id"]).any()
    assert (
        selected["purpose"]
        .isin(["leverage_strength", "develop_need", "track_core", "broaden_role"])
        .all()
    )
    for e, plan in selected.groupby("employee_id"):
        cap = emp.loc[e, "learning_hours_per_month"] * horizon
        assert plan["hours"].sum() <= cap + 1e-9
        assert plan["cost"].sum() <= emp.loc[e, "budget"] + 1e-9
        # 70-20-10 and the preferred modality are soft terms of the objective,
        # not rules; the cap on items per competency holds when one is set
        if rec.max_items_per_competency is not None:
            assert (
                plan.groupby("competency_id").size().max()
                <= rec.max_items_per_competency
            )
        done = set(completed.loc[completed["employee_id"] == e, "item_id"])
        assert not set(plan["item_id"]) & done
        planned = set(plan["item_id"])
        track = tracks.set_index("employee_id").loc[e, "track"]
        for item_id in plan["item_id"]:
            row = items.loc[item_id].where(items.loc[item_id].notna(), None)
            for pre in (row["prerequisites"] or "").split(";"):
                if pre:
                    assert pre in planned or pre in done, (item_id, pre)
            if row["language"] and pd.notna(emp.loc[e, "language"]):
                assert row["language"] == emp.loc[e, "language"]
            if row["tracks"]:
                assert track in row["tracks"].split(";")
        # a foundation item only in a competency where the person has a need
        # or a low score; for a senior person only where the score is low
        mine = profiles[profiles["employee_id"] == e].set_index("competency_id")
        for item_id in plan.loc[plan["level"] == "foundation", "item_id"]:
            # the item's primary competency: the one it develops most
            pairs = items.loc[item_id, "competencies"].split(";")
            links = {c: float(w) for c, w in (p.split(":") for p in pairs)}
            # (ties: the first in the recommender's competency order)
            top = max(links.values())
            primary = next(c for c in rec.competencies_ if links.get(c) == top)
            there = mine.loc[primary]
            low = there["score"] < rec.level_bounds[0]
            assert low or there["is_need"], (e, item_id)
            if senior[e] == "senior":
                assert low, (e, item_id)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_constraints_are_never_violated(case):
    catalog, people, profiles, tracks, senior, completed, focus = case
    rec = PathRecommender(strength_focus=focus).fit(catalog, competencies=COMPS)
    selected, unmet = rec.recommend(
        profiles,
        tracks,
        people,
        enrolments=completed,
        role_levels=senior,
        horizon_months=12,
    )
    _check(selected, catalog, people, profiles, tracks, senior, completed, rec, 12)
    # a critical or important need that no selected item develops at all is
    # reported unmet; only such needs are reported
    needs = profiles[
        profiles["is_need"] & profiles["importance"].isin(["critical", "important"])
    ]
    item_pos = pd.Index(rec.items_["item_id"])
    comp_pos = pd.Index(rec.competencies_)
    reported = set(zip(unmet["employee_id"], unmet["competency_id"], strict=True))
    assert reported <= set(
        zip(needs["employee_id"], needs["competency_id"], strict=True)
    )
    for e, c in zip(needs["employee_id"], needs["competency_id"], strict=True):
        mine = selected.loc[selected["employee_id"] == e, "item_id"]
        touched = rec.effects_[item_pos.get_indexer(mine), comp_pos.get_loc(c)] > 0
        if not touched.any():
            assert (e, c) in reported, (e, c)
    assert (unmet["reason"].str.len() > 0).all()


def _rich_catalog():
    """Many small items of every kind and level for every competency."""
    rows = []
    for c in COMPS:
        for kind in ITEM_KINDS:
            for level in ITEM_LEVELS:
                rows.append(
                    {
                        "item_id": f"{c}-{kind}-{level}",
                        "title": f"{c} {kind} {level}",
                        "kind": kind,
                        "competencies": c,
                        "level": level,
                        "hours": 2.0,
                        "cost": 0.0,
                        "modality": "online",
                        "language": None,
                        "tracks": None,
                        "prerequisites": None,
                    }
                )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("focus", [0.5, 0.7, 0.9])
def test_strength_share_follows_strength_focus_when_the_catalog_allows(focus):
    catalog = _rich_catalog()
    people = pd.DataFrame(
        {
            "employee_id": ["a"],
            "language": ["en"],
            "modality_preference": ["any"],
            "learning_hours_per_month": [2.0],
            "budget": [1000.0],
        }
    )
    profiles = pd.DataFrame(
        {
            "employee_id": "a",
            "competency_id": COMPS,
            "score": [4.6, 4.4, 2.9, 3.0],
            "is_strength": [True, True, False, False],
            "is_need": [False, False, True, True],
            "gap": [-1.0, -1.0, 0.6, 0.5],
            "importance": ["important"] * 4,
        }
    )
    tracks = pd.DataFrame({"employee_id": ["a"], "track": ["core"]})
    rec = PathRecommender(strength_focus=focus, max_items_per_competency=6)
    selected, _ = rec.fit(catalog, competencies=COMPS).recommend(
        profiles, tracks, people
    )
    hours = selected.groupby("purpose")["hours"].sum()
    share = hours.get("leverage_strength", 0) / hours.sum()
    assert share == pytest.approx(focus, abs=0.1)
    # most of the year's 24 learning hours are used (the 70-20-10 caps allow
    # at most 6 h of education and 8.4 h of exposure)
    assert 18.0 <= hours.sum() <= 24.0


def test_different_profiles_get_different_plans():
    catalog = _rich_catalog()
    people = pd.DataFrame(
        {
            "employee_id": ["a", "b"],
            "language": "en",
            "modality_preference": "any",
            "learning_hours_per_month": 2.0,
            "budget": 1000.0,
        }
    )
    base = {
        "score": 3.0,
        "is_strength": False,
        "is_need": False,
        "gap": 0.0,
        "importance": "important",
    }
    profiles = pd.DataFrame(
        [
            {
                **base,
                "employee_id": "a",
                "competency_id": "c0",
                "score": 4.6,
                "is_strength": True,
            },
            {
                **base,
                "employee_id": "a",
                "competency_id": "c2",
                "is_need": True,
                "gap": 0.8,
            },
            {
                **base,
                "employee_id": "b",
                "competency_id": "c1",
                "score": 4.6,
                "is_strength": True,
            },
            {
                **base,
                "employee_id": "b",
                "competency_id": "c3",
                "is_need": True,
                "gap": 0.8,
            },
        ]
    )
    tracks = pd.DataFrame({"employee_id": ["a", "b"], "track": ["core", "core"]})
    rec = PathRecommender().fit(catalog, competencies=COMPS)
    selected, _ = rec.recommend(profiles, tracks, people)
    a = set(selected.loc[selected["employee_id"] == "a", "item_id"])
    b = set(selected.loc[selected["employee_id"] == "b", "item_id"])
    assert a and b and a != b
    served_a = set(selected.loc[selected["employee_id"] == "a", "competency_id"])
    assert {"c0", "c2"} <= served_a and not {"c1", "c3"} & served_a


def test_a_strong_senior_manager_never_gets_a_foundation_item():
    catalog = _rich_catalog()
    people = pd.DataFrame(
        {
            "employee_id": ["s"],
            "language": "en",
            "modality_preference": "any",
            "learning_hours_per_month": 8.0,
            "budget": 5000.0,
        }
    )
    profiles = pd.DataFrame(
        {
            "employee_id": "s",
            "competency_id": COMPS,
            "score": [4.5, 3.0, 4.2, 2.0],
            "is_strength": [True, False, True, False],
            "is_need": [False, False, False, True],
            "gap": [-1, 0, -1, 1.2],
            "importance": "critical",
        }
    )
    tracks = pd.DataFrame({"employee_id": ["s"], "track": ["core"]})
    rec = PathRecommender(max_items_per_competency=6).fit(catalog, competencies=COMPS)
    selected, _ = rec.recommend(
        profiles, tracks, people, role_levels=pd.Series({"s": "senior"})
    )
    assert len(selected)
    foundation = selected[selected["level"] == "foundation"]
    assert set(foundation["competency_id"]) <= {"c3"}  # only where weak
    strong = selected[selected["competency_id"].isin(["c0", "c2"])]
    assert (strong["level"] != "foundation").all() and len(strong)


def test_unmet_needs_say_why():
    catalog = _rich_catalog()
    catalog = catalog[~catalog["competencies"].eq("c3")]  # nothing develops c3
    people = pd.DataFrame(
        {
            "employee_id": ["a"],
            "language": "en",
            "modality_preference": "any",
            "learning_hours_per_month": 2.0,
            "budget": 0.0,
        }
    )
    profiles = pd.DataFrame(
        {
            "employee_id": "a",
            "competency_id": ["c3"],
            "score": [2.0],
            "is_strength": [False],
            "is_need": [True],
            "gap": [1.5],
            "importance": ["critical"],
        }
    )
    tracks = pd.DataFrame({"employee_id": ["a"], "track": ["core"]})
    rec = PathRecommender().fit(catalog, competencies=COMPS)
    selected, unmet = rec.recommend(profiles, tracks, people)
    assert selected.empty
    assert unmet[["competency_id", "reason"]].to_dict("records") == [
        {"competency_id": "c3", "reason": "no catalog item develops it"}
    ]


def test_bad_parameters():
    with pytest.raises(ValueError, match="strength_focus=1.5"):
        PathRecommender(strength_focus=1.5).fit(_rich_catalog())
    with pytest.raises(ValueError, match="mix_targets"):
        PathRecommender(mix_targets=(0.5, 0.2, 0.1)).fit(_rich_catalog())


def test_positions_of_present_absent_and_missing_values():
    from devplan._recommend import _positions

    index = pd.Index(["a", "b", "c"])
    got = _positions(index, pd.Series(["c", None, "x", "a", "c"], dtype="str"))
    assert got.tolist() == [2, -1, -1, 0, 2]
    as_category = pd.Series(["b", None, "z"], dtype="category")
    assert _positions(index, as_category).tolist() == [1, -1, -1]
    # nothing but missing values
    assert _positions(index, pd.Series([None, None], dtype="str")).tolist() == [-1, -1]
    assert _positions(index, pd.Series([], dtype="str")).tolist() == []
