"""Scheduling: rules never violated, hand-worked dates, follow-ups, calendars.

Capacity accounting checked here (independently of the implementation): an
item's hours are spread over its days in proportion to each day's share of
its month (``1 / days_in_month``), then summed per calendar month.
"""

import datetime as dt
import hashlib
import os

import icalendar
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devplan._schedule import (
    FOLLOWUP_COLUMNS,
    PLAN_COLUMNS,
    followups,
    manager_actions,
    schedule,
    to_ics,
    write_ics,
)
from devplan._schema import ITEM_KINDS, KIND_GROUP

SEED = 20260101
START = dt.date(2026, 1, 1)  # a Thursday
RANK = {"education": 0, "exposure": 1, "experience": 2}


def _selected(rows):
    """A ``selected`` frame from dicts, with the recommender's other columns."""
    df = pd.DataFrame(rows)
    defaults = {
        "employee_id": "e1",
        "title": df["item_id"].str.upper() if "item_id" in df else "",
        "kind": "course",
        "level": "intermediate",
        "purpose": "develop_need",
        "competency_id": "delegation",
        "cost": 0.0,
        "priority": 0.0,
        "prerequisites": "",
        "rationale": "because",
    }
    for column, value in defaults.items():
        if column not in df:
            df[column] = value
        else:
            df[column] = df[column].fillna(value)
    df["group"] = df["kind"].map(KIND_GROUP)
    text = (
        "employee_id",
        "item_id",
        "title",
        "kind",
        "group",
        "level",
        "purpose",
        "competency_id",
        "prerequisites",
        "rationale",
    )
    return df.astype(dict.fromkeys(text, "str"))


def _employees(capacity, managers=None):
    ids = list(capacity)
    return pd.DataFrame(
        {
            "employee_id": pd.Series(ids, dtype="str"),
            "manager_id": pd.Series(
                [(managers or {}).get(i) for i in ids], dtype="str"
            ),
            "learning_hours_per_month": [float(capacity[i]) for i in ids],
        }
    )


def _d(text):
    return pd.Timestamp(text)


# --------------------------------------------------------------------------- #
# independent rule checks
# --------------------------------------------------------------------------- #
def _monthly_load(plans, capacity):
    """Hours per (employee, calendar month), spread as documented."""
    length = (plans["end_on"] - plans["start_on"]).dt.days.to_numpy() + 1
    row = np.repeat(np.arange(len(plans)), length)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(length) - length, length)
    days = pd.DatetimeIndex(
        plans["start_on"].to_numpy()[row] + offset.astype("timedelta64[D]")
    )
    share = 1.0 / days.days_in_month.to_numpy()
    total = np.bincount(row, weights=share, minlength=len(plans))
    spread = pd.DataFrame(
        {
            "employee_id": plans["employee_id"].to_numpy()[row],
            "month": days.to_period("M"),
            "hours": plans["hours"].to_numpy()[row] * share / total[row],
        }
    )
    # Every item's days hold enough capacity: sum(c / D) >= hours.
    per_item = plans["employee_id"].map(capacity).to_numpy()
    assert (per_item * total >= plans["hours"].to_numpy() - 1e-9).all()
    return spread.groupby(["employee_id", "month"], as_index=False)["hours"].sum()


def _pairs(plans, on):
    """All ordered pairs of a person's planned items sharing ``on``."""
    pairs = plans.merge(plans, on=on, suffixes=("_a", "_b"))
    return pairs[pairs["item_id_a"] != pairs["item_id_b"]]


def _check_rules(selected, employees, plans, unscheduled, start, horizon, heavy=16.0):
    end = pd.Timestamp(start) + pd.DateOffset(months=horizon)
    capacity = employees.set_index("employee_id")["learning_hours_per_month"]
    # Columns and dtypes.
    assert list(plans.columns) == list(PLAN_COLUMNS)
    assert plans["start_on"].dtype == "datetime64[s]"
    assert plans["end_on"].dtype == "datetime64[s]"
    assert list(unscheduled.columns) == ["employee_id", "item_id", "reason"]
    # Nothing lost, nothing twice.
    planned = set(zip(plans["employee_id"], plans["item_id"], strict=True))
    dropped = set(zip(unscheduled["employee_id"], unscheduled["item_id"], strict=True))
    wanted = set(zip(selected["employee_id"], selected["item_id"], strict=True))
    assert len(planned) == len(plans) and len(dropped) == len(unscheduled)
    assert not planned & dropped
    assert planned | dropped == wanted
    assert unscheduled["reason"].str.len().gt(0).all()
    # Inside the horizon, start <= end.
    assert (plans["start_on"] >= pd.Timestamp(start)).all()
    assert (plans["end_on"] < end).all()
    assert (plans["start_on"] <= plans["end_on"]).all()
    # Steps 1..n in start order; one item at a time, next the day after.
    step = plans.groupby("employee_id").cumcount() + 1
    assert (plans["step"] == step).all()
    first = plans["step"] == 1
    assert (plans.loc[first, "start_on"] == pd.Timestamp(start)).all()
    previous_end = plans.groupby("employee_id")["end_on"].shift(1)
    gap = plans["start_on"] - previous_end
    assert (gap[~first] == pd.Timedelta(days=1)).all()
    # Heavy items never overlap.
    big = _pairs(plans[plans["hours"] >= heavy], "employee_id")
    disjoint = (big["end_on_a"] < big["start_on_b"]) | (
        big["end_on_b"] < big["start_on_a"]
    )
    assert disjoint.all()
    # Capacity in every calendar month (and enough room for every item).
    load = _monthly_load(plans, capacity)
    limit = load["employee_id"].map(capacity)
    assert (load["hours"] <= limit + 1e-9).all(), load[load["hours"] > limit]
    # Prerequisites within the selection: kept only with them, strictly before.
    needs = selected.assign(pre=selected["prerequisites"].str.split(";")).explode("pre")
    needs = needs[needs["pre"].isin(selected["item_id"])][
        ["employee_id", "item_id", "pre"]
    ]
    needs = needs.merge(
        selected[["employee_id", "item_id"]].rename(columns={"item_id": "pre"})
    )  # only prerequisites selected for the same person
    status = plans.set_index(["employee_id", "item_id"])[["start_on", "end_on"]]
    dep = needs.join(status, on=["employee_id", "item_id"])
    pre = needs.join(status, on=["employee_id", "pre"])
    kept = dep["start_on"].notna()
    assert pre.loc[kept, "end_on"].notna().all(), "item kept without prerequisite"
    assert (pre.loc[kept, "end_on"] < dep.loc[kept, "start_on"]).all()
    # Education before exposure before experience, per competency.
    same = _pairs(plans, ["employee_id", "competency_id"])
    ordered = same["group_a"].map(RANK) < same["group_b"].map(RANK)
    assert (same.loc[ordered, "end_on_a"] < same.loc[ordered, "start_on_b"]).all()


# --------------------------------------------------------------------------- #
# random plans
# --------------------------------------------------------------------------- #
@st.composite
def _cases(draw):
    n_people = draw(st.integers(1, 4))
    rows, capacity, managers = [], {}, {}
    for e in range(n_people):
        person = f"e{e}"
        capacity[person] = draw(st.floats(2, 10).map(lambda x: round(x, 2)))
        if e and draw(st.booleans()):
            managers[person] = "e0"
        n_items = draw(st.integers(0, 7))
        items = []
        for i in range(n_items):
            kind = draw(st.sampled_from(ITEM_KINDS))
            items.append(
                {
                    "employee_id": person,
                    "item_id": f"i{i}",
                    "kind": kind,
                    "competency_id": draw(st.sampled_from(["c1", "c2", "c3"])),
                    "hours": draw(st.floats(1, 60).map(lambda x: round(x, 1))),
                    "priority": float(draw(st.integers(0, 3))),
                    "order": (RANK[KIND_GROUP[kind]], draw(st.integers(0, 99))),
                }
            )
        # Acyclic prerequisites consistent with the group order: an item may
        # only require items earlier in an order sorted by group.
        items.sort(key=lambda r: r["order"])
        for pos, item in enumerate(items):
            earlier = [r["item_id"] for r in items[:pos]]
            chosen = (
                draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True))
                if earlier
                else []
            )
            if draw(st.booleans()):
                chosen.append("done-before")  # not selected: already completed
            item["prerequisites"] = ";".join(chosen)
            del item["order"]
        rows += items
    if not rows:
        rows = [{"employee_id": "e0", "item_id": "i0", "hours": 1.0}]
    start = draw(
        st.sampled_from(
            [dt.date(2026, 1, 1), dt.date(2026, 3, 15), dt.date(2028, 2, 29)]
        )
    )
    horizon = draw(st.sampled_from([1, 3, 12, 14]))
    return _selected(rows), _employees(capacity, managers), start, horizon


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases(), st.randoms(use_true_random=False))
def test_rules_never_violated(case, rnd):
    selected, employees, start, horizon = case
    plans, unscheduled = schedule(
        selected, employees, start_date=start, horizon_months=horizon
    )
    _check_rules(selected, employees, plans, unscheduled, start, horizon)
    # The input's row order does not matter.
    shuffled = selected.sample(frac=1.0, random_state=rnd.randint(0, 10**6))
    again, again_unscheduled = schedule(
        shuffled, employees, start_date=start, horizon_months=horizon
    )
    pd.testing.assert_frame_equal(plans, again)
    pd.testing.assert_frame_equal(unscheduled, again_unscheduled)


def test_rules_hold_on_a_larger_organisation():
    rng = np.random.default_rng(SEED)
    n, k = 300, 8
    kinds = rng.choice(ITEM_KINDS, n * k)
    item = np.tile([f"i{j}" for j in range(k)], n)
    rank = pd.Series(kinds).map(KIND_GROUP).map(RANK).to_numpy()
    # Prerequisite on the previous item when it is of the same or lower group.
    prev = np.r_[0, rank[:-1]]
    first = np.arange(n * k) % k == 0
    link = (~first) & (prev <= rank) & (rng.random(n * k) < 0.4)
    prereq = np.where(link, np.concatenate([[""], item[:-1]]), "")
    selected = _selected(
        {
            "employee_id": np.repeat([f"e{i:03d}" for i in range(n)], k),
            "item_id": item,
            "kind": kinds,
            "competency_id": rng.choice(["c1", "c2", "c3", "c4"], n * k),
            "hours": rng.uniform(1, 60, n * k).round(1),
            "priority": rng.integers(0, 5, n * k).astype(float),
            "prerequisites": prereq,
        }
    )
    capacity = dict(
        zip([f"e{i:03d}" for i in range(n)], rng.uniform(2, 10, n), strict=True)
    )
    employees = _employees(capacity)
    plans, unscheduled = schedule(selected, employees, start_date=START)
    _check_rules(selected, employees, plans, unscheduled, START, 12)
    assert len(plans) > n  # most people get several items
    assert unscheduled["reason"].str.startswith("does not fit").any()
    assert unscheduled["reason"].str.startswith("prerequisite").any()


# --------------------------------------------------------------------------- #
# hand-worked schedules
# --------------------------------------------------------------------------- #
def test_hand_worked_dates_one_hour_a_day():
    # 31 h/month: every January day holds exactly 31 / 31 = 1 h.
    # a (5 h, priority 2) first: Jan 1..Jan 5 (5 days x 1 h).
    # b (10 h, priority 1) the next day: Jan 6..Jan 15 (10 days x 1 h).
    selected = _selected(
        [
            {"item_id": "b", "hours": 10.0, "priority": 1.0, "competency_id": "x"},
            {"item_id": "a", "hours": 5.0, "priority": 2.0, "competency_id": "y"},
        ]
    )
    plans, unscheduled = schedule(selected, _employees({"e1": 31}), start_date=START)
    assert plans["item_id"].tolist() == ["a", "b"]
    assert plans["step"].tolist() == [1, 2]
    assert plans["start_on"].tolist() == [_d("2026-01-01"), _d("2026-01-06")]
    assert plans["end_on"].tolist() == [_d("2026-01-05"), _d("2026-01-15")]
    assert plans["month"].tolist() == [0, 0]
    assert unscheduled.empty


def test_hand_worked_item_spanning_two_months():
    # 31 h/month. x (40 h): January gives 31 days x 1 h = 31 h; 9 h remain.
    # February days hold 31/28 = 1.107 h: 8 days give 8.86 h < 9, 9 days give
    # 9.96 h >= 9, so x ends on Feb 9. y (1 h) starts Feb 10 and one February
    # day (1.107 h) is enough: Feb 10..Feb 10, month 1.
    selected = _selected(
        [
            {"item_id": "x", "hours": 40.0, "priority": 2.0, "competency_id": "p"},
            {"item_id": "y", "hours": 1.0, "priority": 1.0, "competency_id": "q"},
        ]
    )
    plans, _ = schedule(selected, _employees({"e1": 31}), start_date=START)
    assert plans["start_on"].tolist() == [_d("2026-01-01"), _d("2026-02-10")]
    assert plans["end_on"].tolist() == [_d("2026-02-09"), _d("2026-02-10")]
    assert plans["month"].tolist() == [0, 1]


def test_an_item_filling_the_whole_horizon_exactly_fits():
    # 10 h/month x 12 months = 120 h: ends on the horizon's last day, Dec 31.
    # 0.1 h more does not fit (exact arithmetic, no rounding either way).
    exact = _selected([{"item_id": "all", "hours": 120.0}])
    plans, unscheduled = schedule(exact, _employees({"e1": 10}), start_date=START)
    assert plans["end_on"].tolist() == [_d("2026-12-31")]
    assert unscheduled.empty
    over = _selected([{"item_id": "all", "hours": 120.1}])
    plans, unscheduled = schedule(over, _employees({"e1": 10}), start_date=START)
    assert plans.empty
    assert unscheduled["item_id"].tolist() == ["all"]


def test_order_prerequisites_groups_priority_and_ties():
    # Ready at the start: edu (1), t1 (2), t2 (2); other needs t2; expo needs
    # edu (group order); exp needs edu and expo. Highest priority first, ties
    # by item_id: t1, t2, then other (3) beats edu (1), then edu, expo, exp.
    selected = _selected(
        [
            {"item_id": "exp", "kind": "stretch_assignment", "priority": 9.0},
            {"item_id": "expo", "kind": "coaching", "priority": 5.0},
            {"item_id": "edu", "kind": "course", "priority": 1.0},
            {
                "item_id": "other",
                "kind": "reading",
                "priority": 3.0,
                "competency_id": "feedback",
                "prerequisites": "t2;done-last-year",
            },
            {"item_id": "t2", "kind": "reading", "priority": 2.0, "competency_id": "g"},
            {"item_id": "t1", "kind": "reading", "priority": 2.0, "competency_id": "g"},
        ]
    ).assign(hours=2.0)
    plans, unscheduled = schedule(selected, _employees({"e1": 8}), start_date=START)
    assert plans["item_id"].tolist() == ["t1", "t2", "other", "edu", "expo", "exp"]
    assert unscheduled.empty


def test_prerequisite_wins_over_group_order():
    # The course explicitly requires the practice item of the same competency.
    selected = _selected(
        [
            {"item_id": "course", "kind": "course", "prerequisites": "practice"},
            {"item_id": "practice", "kind": "practice"},
        ]
    ).assign(hours=3.0)
    plans, unscheduled = schedule(selected, _employees({"e1": 6}), start_date=START)
    assert plans["item_id"].tolist() == ["practice", "course"]
    assert unscheduled.empty


def test_prerequisite_cycle_is_unscheduled_with_reason():
    selected = _selected(
        [
            {"item_id": "a", "prerequisites": "b"},
            {"item_id": "b", "prerequisites": "a"},
            {"item_id": "c", "prerequisites": "a"},
            {"item_id": "d", "competency_id": "other"},
        ]
    ).assign(hours=2.0)
    plans, unscheduled = schedule(selected, _employees({"e1": 6}), start_date=START)
    assert plans["item_id"].tolist() == ["d"]
    assert sorted(unscheduled["item_id"]) == ["a", "b", "c"]
    assert unscheduled["reason"].str.contains("cycle").all()


def test_too_big_item_and_its_dependents_are_dropped_smaller_ones_fit():
    # 4 h/month x 12 = 48 h: big (60 h) cannot fit; dep needs big; small fits
    # from the start: 2 h at 4/31 h a day needs 15.5 days -> Jan 1..Jan 16.
    selected = _selected(
        [
            {"item_id": "big", "hours": 60.0, "priority": 3.0},
            {"item_id": "dep", "hours": 1.0, "priority": 2.0, "prerequisites": "big"},
            {"item_id": "small", "hours": 2.0, "priority": 1.0, "competency_id": "z"},
        ]
    )
    plans, unscheduled = schedule(selected, _employees({"e1": 4}), start_date=START)
    assert plans["item_id"].tolist() == ["small"]
    assert plans["start_on"].tolist() == [_d("2026-01-01")]
    assert plans["end_on"].tolist() == [_d("2026-01-16")]
    reasons = unscheduled.set_index("item_id")["reason"]
    assert reasons["big"].startswith(
        "does not fit in the 12-month horizon at 4 h/month (60 h needed"
    )
    assert reasons["dep"] == "prerequisite big is not scheduled"


def test_people_are_scheduled_independently():
    one = _selected([{"item_id": "a", "hours": 5.0}])
    two = pd.concat([one, one.assign(employee_id="e2")], ignore_index=True)
    plans, _ = schedule(two, _employees({"e1": 31, "e2": 31}), start_date=START)
    assert plans["employee_id"].tolist() == ["e1", "e2"]
    assert plans["step"].tolist() == [1, 1]
    assert plans["end_on"].tolist() == [_d("2026-01-05")] * 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s, e: (s.drop(columns="hours"), e), "without column"),
        (lambda s, e: (pd.concat([s, s]), e), "twice"),
        (lambda s, e: (s.assign(hours=0.0), e), "hours"),
        (lambda s, e: (s.assign(kind="lecture"), e), "kind='lecture'"),
        (lambda s, e: (s, e.assign(employee_id="someone")), "learning_hours"),
        (lambda s, e: (s, e.assign(learning_hours_per_month=0.0)), "learning_hours"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(change, message):
    selected, employees = change(
        _selected([{"item_id": "a", "hours": 2.0}]), _employees({"e1": 4})
    )
    with pytest.raises(ValueError, match=message):
        schedule(selected, employees, start_date=START)


def test_bad_arguments_are_rejected():
    selected, employees = (
        _selected([{"item_id": "a", "hours": 2.0}]),
        _employees({"e1": 4}),
    )
    with pytest.raises(TypeError, match="start_date"):
        schedule(selected, employees, start_date="2026-01-01")
    with pytest.raises(ValueError, match="horizon_months"):
        schedule(selected, employees, start_date=START, horizon_months=0)
    with pytest.raises(ValueError, match="heavy_hours"):
        schedule(selected, employees, start_date=START, heavy_hours=-1)


# --------------------------------------------------------------------------- #
# manager actions
# --------------------------------------------------------------------------- #
def _two_item_plan():
    # 10 h/month from Jan 1, 2026 (see the schedule doctest):
    # c1 (8 h) Jan 1..Jan 25; s1 (21 h) Jan 26..Mar 29.
    selected = _selected(
        [
            {"item_id": "c1", "title": "Delegation basics", "hours": 8.0},
            {
                "item_id": "s1",
                "title": "Delegate a project",
                "kind": "stretch_assignment",
                "hours": 21.0,
            },
            {"item_id": "r1", "kind": "reading", "hours": 2.0, "competency_id": "fb"},
        ]
    ).assign(priority=[2.0, 2.0, 1.0])
    employees = _employees({"e1": 10, "e2": 10}, {"e1": "m1"})
    both = pd.concat([selected, selected.assign(employee_id="e2")], ignore_index=True)
    plans, _ = schedule(both, employees, start_date=START)
    return plans, employees


def test_manager_actions_hand_worked():
    plans, employees = _two_item_plan()
    e1 = plans[plans["employee_id"] == "e1"]
    assert e1["item_id"].tolist() == ["c1", "s1", "r1"]
    assert e1["end_on"].tolist()[:2] == [_d("2026-01-25"), _d("2026-03-29")]
    actions = manager_actions(
        plans, employees, start_date=START, competency_names={"delegation": "Deleg"}
    )
    mine = actions[actions["employee_id"] == "e1"].set_index(["action", "item_id"])
    # Kick-off: Jan 1 - 7 days = Thu Dec 25, 2025.
    assert mine.loc[("kickoff", "c1"), "date"] == _d("2025-12-25")
    # Debrief c1: Jan 25 + 7 = Sun Feb 1 -> Mon Feb 2; s1: Mar 29 + 7 = Sun
    # Apr 5 -> Mon Apr 6. r1 (2 h) is not major: no debrief.
    assert mine.loc[("debrief", "c1"), "date"] == _d("2026-02-02")
    assert mine.loc[("debrief", "s1"), "date"] == _d("2026-04-06")
    debriefed = mine.xs("debrief", level="action").index
    assert "r1" not in debriefed
    # Coaching for delegation: Jan 1..Mar 29 is 87 days, middle Jan 1 + 43 =
    # Fri Feb 13.
    coaching = actions[
        (actions["action"] == "on_the_job_coaching") & (actions["employee_id"] == "e1")
    ].set_index("competency_id")
    assert coaching.loc["delegation", "date"] == _d("2026-02-13")
    assert "Deleg" in coaching.loc["delegation", "description"]
    assert set(coaching.index) == {"delegation", "fb"}
    assert (actions.loc[actions["employee_id"] == "e1", "manager_id"] == "m1").all()
    # No manager: the actions exist, manager_id is missing.
    theirs = actions[actions["employee_id"] == "e2"]
    assert len(theirs) == len(actions) / 2
    assert theirs["manager_id"].isna().all()
    assert list(actions.columns) == [
        "employee_id",
        "manager_id",
        "date",
        "action",
        "competency_id",
        "item_id",
        "description",
    ]
    assert actions["date"].dtype == "datetime64[s]"


def test_manager_actions_stay_in_horizon_and_off_weekends():
    # From Sun Feb 1, 2026, 10 h/month: 120 h end on Jan 31, 2027 (Sunday),
    # the horizon's last day. Debrief: min(Feb 7, Jan 31) = Sun Jan 31; the
    # Monday after is outside, so Fri Jan 29, 2027.
    start = dt.date(2026, 2, 1)
    selected = _selected([{"item_id": "long", "hours": 120.0}])
    employees = _employees({"e1": 10}, {"e1": "m1"})
    plans, _ = schedule(selected, employees, start_date=start)
    assert plans["end_on"].tolist() == [_d("2027-01-31")]
    actions = manager_actions(plans, employees, start_date=start).set_index("action")
    assert actions.loc["debrief", "date"] == _d("2027-01-29")
    # Kick-off: Feb 1 - 7 = Sun Jan 25 -> Mon Jan 26, still before the start.
    assert actions.loc["kickoff", "date"] == _d("2026-01-26")
    assert (actions["date"].dt.day_of_week < 5).all()


# --------------------------------------------------------------------------- #
# follow-ups
# --------------------------------------------------------------------------- #
def test_followups_hand_worked_dates():
    plans, employees = _two_item_plan()
    events = followups(
        plans, employees, start_date=START, competency_names={"fb": "Feedback"}
    )
    assert list(events.columns) == list(FOLLOWUP_COLUMNS)
    e1 = events[events["employee_id"] == "e1"].reset_index(drop=True)
    # Kick-off Thu Jan 1; +30 = Sat Jan 31 -> Mon Feb 2; +60 = Mon Mar 2;
    # +90 = Wed Apr 1; months 3, 6, 9: Apr 1, Jul 1, Oct 1; annual: horizon
    # end Jan 1, 2027 minus 3 days = Tue Dec 29, 2026.
    expected = [
        ("manager_kickoff", "2026-01-01"),
        ("checkin", "2026-02-02"),
        ("checkin", "2026-03-02"),
        ("checkin", "2026-04-01"),
        ("quarterly_review", "2026-04-01"),
        ("quarterly_review", "2026-07-01"),
        ("quarterly_review", "2026-10-01"),
        ("annual_review", "2026-12-29"),
    ]
    assert list(zip(e1["kind"], e1["date"].dt.strftime("%Y-%m-%d"), strict=True)) == (
        expected
    )
    assert (e1["reminder_on"] == e1["date"] - pd.Timedelta(days=1)).all()
    assert (e1["with_whom"] == "m1").all()
    e2 = events[events["employee_id"] == "e2"]
    assert (e2["with_whom"] == "mentor/coach").all()
    # Agendas name the competencies and what is due; milestones celebrate it.
    assert e1["agenda"].str.contains("delegation, Feedback").all()
    assert e1.loc[0, "agenda"].endswith(
        "First item: Delegation basics (course) from 2026-01-01 to 2026-01-25."
    )
    # c1 ends Jan 25: due at the Feb 2 check-in.
    assert "Due: Delegation basics (course)." in e1.loc[1, "agenda"]
    assert e1.loc[1, "milestone"] == "Completed: Delegation basics (course)"
    assert e1.loc[2, "milestone"].startswith("Under way: Delegate a project")
    # s1 ends Mar 29: due at the Apr 1 check-in. r1 (2 h at 10/31 h a day,
    # 7 days) runs Mar 30..Apr 5: in progress then.
    assert "Due: Delegate a project (stretch assignment)." in e1.loc[3, "agenda"]
    assert "In progress: R1 (reading) until 2026-04-05." in e1.loc[3, "agenda"]
    assert e1.loc[0, "milestone"] == "Plan agreed: 3 items, 31 h"
    assert e1.loc[7, "milestone"].startswith("Plan year done: 3 of 3 items")


def test_followups_are_in_date_order_and_due_since_the_previous_one():
    # From Sat Feb 1, 2025: kick-off -> Mon Feb 3; +30 = Mon Mar 3; +60 = Wed
    # Apr 2; month 3 = Thu May 1 comes before +90 = Fri May 2; month 6 = Fri
    # Aug 1; month 9 = Sat Nov 1 -> Mon Nov 3; annual: Feb 1, 2026 - 3 days =
    # Thu Jan 29, 2026.
    start = dt.date(2025, 2, 1)
    # 31 h/month; February 2025 days hold 31/28 h: 30 h take 28 days (Feb
    # 1..28, 31 h >= 30 h, 27 days give 29.9 h), so a ends Feb 28.
    selected = _selected([{"item_id": "a", "title": "Alpha", "hours": 30.0}])
    employees = _employees({"e1": 31})
    plans, _ = schedule(selected, employees, start_date=start)
    assert plans["end_on"].tolist() == [_d("2025-02-28")]
    events = followups(plans, employees, start_date=start)
    days = events["date"].dt.strftime("%Y-%m-%d")
    assert list(zip(events["kind"], days, strict=True)) == [
        ("manager_kickoff", "2025-02-03"),
        ("checkin", "2025-03-03"),
        ("checkin", "2025-04-02"),
        ("quarterly_review", "2025-05-01"),
        ("checkin", "2025-05-02"),
        ("quarterly_review", "2025-08-01"),
        ("quarterly_review", "2025-11-03"),
        ("annual_review", "2026-01-29"),
    ]
    # Alpha is due at the first check-in after Feb 28 only.
    due = events["agenda"].str.contains("Due: Alpha")
    assert due.tolist() == [False, True] + [False] * 6
    assert events.loc[1, "milestone"] == "Completed: Alpha (course)"


@settings(max_examples=15, deadline=None)
@given(
    start=st.dates(dt.date(2025, 1, 1), dt.date(2030, 12, 31)),
    manager=st.sampled_from([None, "m9", ""]),
)
def test_followups_rules(start, manager):
    selected = _selected([{"item_id": "a", "hours": 3.0}, {"item_id": "b"}]).assign(
        hours=[3.0, 20.0], kind=["course", "practice"]
    )
    employees = _employees({"e1": 6}, {"e1": manager})
    plans, _ = schedule(selected, employees, start_date=start)
    events = followups(plans, employees, start_date=start)
    end = pd.Timestamp(start) + pd.DateOffset(months=12)
    assert len(events) == 8
    assert events["kind"].value_counts().to_dict() == {
        "checkin": 3,
        "quarterly_review": 3,
        "manager_kickoff": 1,
        "annual_review": 1,
    }
    assert (events["date"].dt.day_of_week < 5).all()
    assert (events["reminder_on"] == events["date"] - pd.Timedelta(days=1)).all()
    assert events["date"].is_monotonic_increasing
    assert (events["date"] >= pd.Timestamp(start)).all()
    annual = events.loc[events["kind"] == "annual_review", "date"].iloc[0]
    assert pd.Timestamp(start) + pd.DateOffset(months=11) < annual < end
    # Each date is its planned date, or the Monday after a weekend one.
    planned = [pd.Timestamp(start) + pd.Timedelta(days=d) for d in (0, 30, 60, 90)]
    planned += [pd.Timestamp(start) + pd.DateOffset(months=m) for m in (3, 6, 9)]
    planned += [end - pd.Timedelta(days=3)]
    planned = pd.Series(planned).sort_values(kind="stable").reset_index(drop=True)
    moved = planned + pd.to_timedelta(
        np.select(
            [planned.dt.day_of_week == 5, planned.dt.day_of_week == 6], [2, 1], 0
        ),
        unit="D",
    )
    assert sorted(events["date"]) == sorted(moved)
    whom = "mentor/coach" if not manager else manager
    assert (events["with_whom"] == whom).all()


# --------------------------------------------------------------------------- #
# iCalendar
# --------------------------------------------------------------------------- #
def test_to_ics_parses_with_one_event_per_followup():
    plans, employees = _two_item_plan()
    events = followups(plans, employees, start_date=START)
    e1 = events[events["employee_id"] == "e1"]
    data = to_ics(e1, calendar_name="Plan of e1")
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "Plan of e1"
    vevents = calendar.walk("VEVENT")
    assert len(vevents) == 8
    assert len({str(v["UID"]) for v in vevents}) == 8
    got = sorted((v.decoded("DTSTART").date(), str(v["DESCRIPTION"])) for v in vevents)
    want = sorted((d.date(), a) for d, a in zip(e1["date"], e1["agenda"], strict=True))
    assert [g[0] for g in got] == [w[0] for w in want]
    for (_, description), (_, agenda) in zip(got, want, strict=True):
        assert description.startswith(agenda)
    for v in vevents:
        start = v.decoded("DTSTART")
        assert start.time() == dt.time(9, 0) and start.tzinfo is None
        assert v.decoded("DTEND") - start == dt.timedelta(minutes=30)
        assert v.decoded("DTSTAMP") == dt.datetime.combine(
            start.date(), dt.time(0, 0), tzinfo=dt.UTC
        )
        assert "e1" in str(v["SUMMARY"]) and "m1" in str(v["SUMMARY"])
        alarms = v.walk("VALARM")
        assert len(alarms) == 1
        assert alarms[0].decoded("TRIGGER") == dt.timedelta(days=-1)
        assert b"TRIGGER:-P1D" in alarms[0].to_ical()
    # The milestone is in the description.
    completed = [
        v for v in vevents if "Completed: Delegation basics" in str(v["DESCRIPTION"])
    ]
    assert completed


def test_to_ics_uid_is_a_stable_hash():
    events = pd.DataFrame(
        {
            "employee_id": ["e1"],
            "date": pd.to_datetime(["2026-02-02"]).astype("datetime64[s]"),
            "kind": ["checkin"],
            "agenda": ["x"],
        }
    )
    calendar = icalendar.Calendar.from_ical(to_ics(events, calendar_name="c"))
    uid = str(calendar.walk("VEVENT")[0]["UID"])
    digest = hashlib.sha256(b"e1\x1fcheckin\x1f2026-02-02").hexdigest()
    assert uid == digest[:32] + "@devplan"


def test_write_ics_files_managers_and_determinism(tmp_path):
    plans, employees = _two_item_plan()
    employees = pd.concat(
        [employees, _employees({"e3": 5, "x/y": 5}, {"e3": "m1", "x/y": "m2"})],
        ignore_index=True,
    )
    more = plans[plans["employee_id"] == "e1"]
    plans = pd.concat(
        [plans, more.assign(employee_id="e3"), more.assign(employee_id="x/y")],
        ignore_index=True,
    )
    events = followups(plans, employees, start_date=START)
    paths = write_ics(events, tmp_path)
    names = [p.name for p in paths]
    assert names[:3] == ["employee_e1.ics", "employee_e2.ics", "employee_e3.ics"]
    assert names[3].startswith("employee_x_y-") and names[3].endswith(".ics")
    assert names[4:] == ["manager_m1.ics", "manager_m2.ics"]
    assert sorted(os.listdir(tmp_path)) == sorted(names)  # no temporary files left

    def uids(path):
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        return sorted(str(v["UID"]) for v in calendar.walk("VEVENT"))

    per_employee = {
        e: uids(tmp_path / n) for e, n in zip(["e1", "e2", "e3"], names, strict=False)
    }
    assert all(len(u) == 8 for u in per_employee.values())
    # The manager's calendar holds all reports' events, and nothing else.
    assert uids(tmp_path / "manager_m1.ics") == sorted(
        per_employee["e1"] + per_employee["e3"]
    )
    assert len(uids(tmp_path / "manager_m2.ics")) == 8
    for path in paths:
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        for v in calendar.walk("VEVENT"):
            assert [a.decoded("TRIGGER") for a in v.walk("VALARM")] == [
                dt.timedelta(days=-1)
            ]
    # Written twice (and from shuffled rows): byte-identical.
    first = {p.name: p.read_bytes() for p in paths}
    again = write_ics(events.sample(frac=1.0, random_state=SEED), tmp_path)
    assert {p.name: p.read_bytes() for p in again} == first


def test_empty_plans_give_empty_outputs(tmp_path):
    selected = _selected([{"item_id": "a", "hours": 500.0}])
    employees = _employees({"e1": 2})
    plans, unscheduled = schedule(selected, employees, start_date=START)
    assert plans.empty and len(unscheduled) == 1
    assert manager_actions(plans, employees, start_date=START).empty
    events = followups(plans, employees, start_date=START)
    assert events.empty and list(events.columns) == list(FOLLOWUP_COLUMNS)
    assert write_ics(events, tmp_path) == []
    calendar = icalendar.Calendar.from_ical(to_ics(events, calendar_name="none"))
    assert calendar.walk("VEVENT") == []
