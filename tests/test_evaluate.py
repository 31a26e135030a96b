"""Outcome evaluation: reliable change, matched effects, Kirkpatrick levels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import devplan
from devplan import evaluate
from devplan._cli import main
from devplan.datasets import make_organisation, simulate_next_cycle

SEED = 7
CATALOG = pd.DataFrame(
    {
        "item_id": ["course_a", "course_b"],
        "title": ["A", "B"],
        "kind": ["course", "workshop"],
        "competencies": ["a", "b"],
        "level": ["intermediate", "intermediate"],
        "hours": [8.0, 8.0],
        "cost": [0.0, 0.0],
        "modality": ["online", "online"],
        "language": [np.nan, np.nan],
        "tracks": [np.nan, np.nan],
        "prerequisites": [np.nan, np.nan],
    }
)


def profiles(ids, comp, scores):
    return pd.DataFrame(
        {"employee_id": ids, "competency_id": comp, "score": np.asarray(scores, float)}
    )


def completed(ids, item):
    return pd.DataFrame({"employee_id": ids, "item_id": item, "status": "completed"})


def test_reliable_change_reference_values():
    # Jacobson & Truax (1991): SD 10.5, r .931 -> SEM = 10.5 * sqrt(.069)
    # = 2.758, S_diff = sqrt(2) * 2.758 = 3.901, critical = 1.96 * 3.901 = 7.645.
    # Before scores 39.5, 50, 60.5 have a sample SD of exactly 10.5.
    ids = ["e1", "e2", "e3"]
    before = profiles(ids, "a", [39.5, 50.0, 60.5])
    after = profiles(ids, "a", [47.5, 57.0, 52.5])  # +8, +7, -8
    ev = evaluate(
        before, after, completed([], "course_a"), catalog=CATALOG, reliability=0.931
    )
    ch = ev.changes.set_index("employee_id")
    assert_allclose(ch["sd"], 10.5)
    assert_allclose(ch["se_diff"], 3.901, atol=5e-4)
    assert_allclose(ch["critical_change"], 7.645, atol=5e-4)
    assert_allclose(ch["rci"], np.array([8, 7, -8]) / 3.901, atol=1e-3)
    assert ch["category"].tolist() == [
        "reliable_improvement",
        "no_reliable_change",
        "reliable_decline",
    ]


def test_single_stratum_effect_is_welchs_interval():
    rng = np.random.default_rng(SEED)
    n1, n0 = 25, 60
    ids = [f"e{i:03d}" for i in range(n1 + n0)]
    base = 3.25 + rng.uniform(-0.2, 0.2, n1 + n0)  # one band: [3, 4)
    gain = rng.normal(0.0, 0.3, n1 + n0)
    gain[:n1] += 0.4 + rng.normal(0, 0.2, n1)  # unequal variances
    ev = evaluate(
        profiles(ids, "a", base),
        profiles(ids, "a", base + gain),
        completed(ids[:n1], "course_a"),
        catalog=CATALOG,
        reliability=0.8,
        band_width=1.0,
    )
    row = ev.items.set_index("item_id").loc["course_a"]
    ref = stats.ttest_ind(gain[:n1], gain[n1:], equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert (row["n_completers"], row["n_comparison"]) == (n1, n0)
    assert_allclose(row["mean_gain"], gain[:n1].mean())
    assert_allclose(row["comparison_gain"], gain[n1:].mean())
    assert_allclose(row["effect"], gain[:n1].mean() - gain[n1:].mean())
    assert_allclose(row["df"], ref.df)
    assert_allclose([row["ci_low"], row["ci_high"]], [ci.low, ci.high])
    # d: effect over the SD of the before scores of the competency
    assert_allclose(row["d"], row["effect"] / np.std(base, ddof=1))


def test_matching_removes_regression_to_the_mean():
    # Low scorers take the course more often, and everyone regresses toward
    # 3 (gain = -0.4 * (before - 3)); the true course effect is 0.3.
    rng = np.random.default_rng(SEED)
    n = 6000
    ids = [f"e{i:05d}" for i in range(n)]
    before = rng.uniform(1.0, 5.0, n)
    takes = rng.random(n) < np.clip(1.1 - before / 4, 0.02, 0.95)
    gain = -0.4 * (before - 3.0) + 0.3 * takes + rng.normal(0.0, 0.2, n)
    ev = evaluate(
        profiles(ids, "a", before),
        profiles(ids, "a", before + gain),
        completed(np.array(ids)[takes], "course_a"),
        catalog=CATALOG,
        reliability=0.8,
        band_width=0.25,
    )
    row = ev.items.set_index("item_id").loc["course_a"]
    naive = gain[takes].mean() - gain[~takes].mean()
    assert naive - 0.3 > 0.3  # the unmatched comparison is badly biased
    assert abs(row["effect"] - 0.3) < 0.05
    assert row["ci_low"] < 0.3 + 0.03 and row["ci_high"] > 0.3 - 0.03


def test_matching_is_exact_on_track():
    # Same baselines, but one track improves by 1 point without training;
    # only that track's people trained. Matched on track the effect is 0.
    n = 200
    ids = [f"e{i:03d}" for i in range(n)]
    track = np.where(np.arange(n) < 100, "new_manager", "core")
    rng = np.random.default_rng(SEED)
    gain = np.where(track == "new_manager", 1.0, 0.0) + rng.normal(0, 0.1, n)
    trained = (track == "new_manager") & (np.arange(n) % 2 == 0)
    base = 3.25 + rng.uniform(-0.1, 0.1, n)  # one baseline band
    ev = evaluate(
        profiles(ids, "a", base),
        profiles(ids, "a", base + gain),
        completed(np.array(ids)[trained], "course_a"),
        catalog=CATALOG,
        tracks=pd.DataFrame({"employee_id": ids, "track": track}),
        reliability=0.8,
    )
    row = ev.items.set_index("item_id").loc["course_a"]
    assert row["n_comparison"] == 50  # the untrained new managers only
    assert abs(row["effect"]) < 0.05
    prog = ev.programmes.set_index("programme")
    assert set(prog.index) == {"all", "new_manager"}


def test_completers_without_a_comparable_peer_are_left_out():
    ids = ["e1", "e2", "e3", "e4"]
    before = [1.2, 1.3, 4.5, 4.6]  # trained low scorers have no low peer
    after = [1.6, 1.7, 4.5, 4.5]
    ev = evaluate(
        profiles(ids, "a", before),
        profiles(ids, "a", after),
        completed(["e1", "e2"], "course_a"),
        catalog=CATALOG,
        reliability=0.8,
    )
    row = ev.items.set_index("item_id").loc["course_a"]
    assert (row["n_completers"], row["n_unmatched"]) == (0, 2)
    assert np.isnan(row["effect"])


def test_plans_table_share_of_targeted_competencies_improved():
    ids = ["e1", "e1", "e2", "e2"]
    comp = ["a", "b", "a", "b"]
    before = profiles(ids, comp, [2.0, 2.0, 3.0, 3.0])
    after = profiles(ids, comp, [4.0, 2.0, 3.0, 1.0])
    plans = pd.DataFrame(
        {
            "employee_id": ["e1", "e1", "e2"],
            "item_id": ["course_a", "course_b", "course_b"],
            "competency_id": ["a", "b", "b"],
        }
    )
    # SD per competency: a and b both have SD of [2, 3] = 0.7071; r = 0.5:
    # S_diff = sqrt(2) * 0.7071 * sqrt(.5) = 0.7071, critical = 1.386.
    ev = evaluate(
        before,
        after,
        completed(["e1"], "course_a"),
        plans=plans,
        catalog=CATALOG,
        reliability=0.5,
    )
    p = ev.plans.set_index("employee_id")
    assert p.loc["e1", ["n_items_planned", "n_items_completed"]].tolist() == [2, 1]
    assert p.loc["e1", ["n_targeted", "n_improved"]].tolist() == [2, 1]
    assert p.loc["e1", "share_improved"] == 0.5  # a: +2 reliable, b: 0
    assert p.loc["e2", ["n_improved", "n_declined"]].tolist() == [0, 1]  # b: -2


def test_kirkpatrick_levels_one_and_four():
    ids = [f"e{i}" for i in range(8)]
    before = profiles(ids, "a", np.linspace(2, 3, 8))
    enrol = completed(ids[:4], "course_a")
    enrol["satisfaction"] = [4.0, 5.0, 3.0, np.nan]
    rng = np.random.default_rng(SEED)
    b, a = rng.normal(100, 10, 8), rng.normal(105, 10, 8)
    business = pd.DataFrame(
        {"employee_id": ids, "measure": "revenue", "before": b, "after": a}
    )
    ev = evaluate(
        before,
        before.assign(score=before["score"] + 0.1),
        enrol,
        catalog=CATALOG,
        reliability=0.8,
        business_measures=business,
    )
    k = ev.kirkpatrick.set_index("level")
    assert_allclose(k.loc[1, "value"], 4.0)  # mean of 4, 5, 3
    assert k.loc[1, "n"] == 3
    ref = stats.ttest_ind((a - b)[:4], (a - b)[4:], equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert_allclose(k.loc[4, "value"], (a - b)[:4].mean() - (a - b)[4:].mean())
    assert_allclose([k.loc[4, "ci_low"], k.loc[4, "ci_high"]], [ci.low, ci.high])


def test_completions_outside_the_period_are_not_treatment():
    ids = ["e1", "e2", "e3"]
    enrol = completed(ids, "course_a")
    enrol["completed_on"] = pd.to_datetime(["2026-01-01", "2026-06-01", pd.NaT])
    ev = evaluate(
        profiles(ids, "a", [2, 2, 2.1]),
        profiles(ids, "a", [3, 3, 3]),
        enrol,
        catalog=CATALOG,
        reliability=0.8,
        period=("2026-03-01", "2027-03-01"),
    )
    assert ev.changes.set_index("employee_id")["trained"].tolist() == [
        False,
        True,
        True,  # no date: counted
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reliability": 1.0}, r"reliability=1\.0 for competency 'a'.*\[0, 1\)"),
        ({"reliability": {"b": 0.8}}, r"no reliability for competency \['a'\]"),
        ({"band_width": 0}, r"band_width=0"),
        ({"ci": 1.5}, r"ci=1\.5"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    ids = ["e1", "e2"]
    with pytest.raises(ValueError, match=message):
        evaluate(
            profiles(ids, "a", [2, 3]),
            profiles(ids, "a", [2, 3]),
            completed([], "course_a"),
            catalog=CATALOG,
            **{"reliability": 0.8, **kwargs},
        )


def test_bad_tables_are_named():
    ids = ["e1", "e2"]
    good = profiles(ids, "a", [2, 3])
    with pytest.raises(ValueError, match=r"after profiles table without .*'score'"):
        evaluate(good, good.drop(columns="score"), completed([], "x"), catalog=CATALOG)
    with pytest.raises(ValueError, match=r"enrolments table without .*status"):
        evaluate(good, good, completed([], "x").drop(columns="status"), catalog=CATALOG)
    with pytest.raises(ValueError, match="expected the enrolments table"):
        evaluate(good, good, catalog=CATALOG)
    with pytest.raises(ValueError, match=r"'confidence' column"):
        evaluate(good, good, completed([], "x"), catalog=CATALOG)
    with pytest.raises(ValueError, match="employee 'e1' and competency 'a' more"):
        evaluate(pd.concat([good, good]), good, completed([], "x"), catalog=CATALOG)


@pytest.fixture(scope="module")
def two_cycles():
    bundle, truth = make_organisation(600, random_state=SEED, return_truth=True)
    plans = devplan.generate_plans(bundle).plans
    bundle2, truth2 = simulate_next_cycle(bundle, truth, plans, random_state=SEED)
    return bundle, truth, plans, bundle2, truth2


def test_simulated_second_cycle_moves_true_levels_by_true_effects(two_cycles):
    bundle, truth, plans, bundle2, truth2 = two_cycles
    assert bundle2.errors.empty
    e = bundle2.enrolments
    new = e[e["completed_on"] > bundle.assessments["assessed_on"].max()]
    assert 0.6 < len(new) / len(plans.drop_duplicates(["employee_id", "item_id"]))
    # true gain of one completer = sum of true effects of their completions
    eff = truth.item_effects.pivot_table(
        index="item_id", columns="competency_id", values="effect", fill_value=0.0
    )
    eff = eff.reindex(columns=truth.levels.columns, fill_value=0.0)
    person = new["employee_id"].astype(str).iloc[0]
    items = new.loc[new["employee_id"].astype(str) == person, "item_id"].astype(str)
    expected = np.clip(
        truth.levels.loc[person] + eff.reindex(items).fillna(0.0).sum(), 1, 5
    )
    assert_allclose(truth2.levels.loc[person], expected)
    untouched = truth.levels.index.difference(new["employee_id"].astype(str))
    assert_allclose(truth2.levels.loc[untouched], truth.levels.loc[untouched])


def test_evaluation_of_two_simulated_cycles(two_cycles):
    bundle, truth, plans, bundle2, _ = two_cycles
    ev = evaluate(bundle, bundle2, plans=plans)
    assert ev.settings["score_column"] == "others_score"
    overall = ev.programmes.set_index("programme").loc["all"]
    assert overall["ci_low"] > 0  # training works on average
    # untrained competencies did not change beyond noise on average
    untrained = ev.changes.loc[~ev.changes["trained"], "change"]
    assert abs(untrained.mean()) < 3 * untrained.std() / np.sqrt(len(untrained))
    items = ev.items.merge(
        truth.item_effects.rename(columns={"effect": "true"}),
        on=["item_id", "competency_id"],
    )
    big = items[items["n_completers"] >= 10]
    assert len(big) >= 10
    assert stats.pearsonr(big["effect"], big["true"])[0] > 0.5
    assert set(ev.item_tracks.columns) >= {"item_id", "track", "effect", "n_completers"}
    assert "Reliable change" in ev.summary()


def test_cli_evaluate_writes_tables_and_plan_accepts_item_effects(two_cycles, tmp_path):
    bundle, _, plans, bundle2, _ = two_cycles
    devplan.write_bundle(bundle, tmp_path / "c1")
    devplan.write_bundle(bundle2, tmp_path / "c2")
    plans.to_csv(tmp_path / "plans.csv", index=False)
    out = tmp_path / "eval"
    status = main(
        ["evaluate", str(tmp_path / "c1"), str(tmp_path / "c2"), "--out", str(out)]
        + ["--plans", str(tmp_path / "plans.csv")]
    )
    assert status == 0
    items = pd.read_csv(out / "evaluation_items.csv")
    assert {"item_id", "effect", "ci_low", "ci_high", "d"} <= set(items.columns)
    assert len(pd.read_csv(out / "changes.csv")) > 1000
    page = (out / "evaluation.html").read_text()
    for heading in ("Kirkpatrick levels", "Programmes", "Items by track"):
        assert f"<h2>{heading}</h2>" in page
    assert items["item_id"].iloc[0] in page
    learned = devplan.read_item_effects(out / "item_effects.csv")
    assert len(learned) == len(bundle.catalog_links().drop_duplicates())
    status = main(
        ["plan", str(tmp_path / "c2"), "--out", str(tmp_path / "p")]
        + ["--item-effects", str(out / "item_effects.csv"), "--quiet"]
    )
    assert status == 0
    assert (tmp_path / "p" / "plans.csv").is_file()
    bad = tmp_path / "bad.csv"
    bad.write_text("item_id,competency_id,effect\nL0001,feedback,abc\n")
    assert (
        main(
            ["plan", str(tmp_path / "c2"), "--out", str(tmp_path / "q")]
            + ["--item-effects", str(bad)]
        )
        == 2
    )


def test_simulate_next_cycle_rejects_bad_arguments(two_cycles):
    bundle, truth, plans, _, _ = two_cycles
    with pytest.raises(ValueError, match=r"completion_rate=1\.5"):
        simulate_next_cycle(bundle, truth, plans, completion_rate=1.5)
    with pytest.raises(ValueError, match="without the column 'item_id'"):
        simulate_next_cycle(bundle, truth, plans.drop(columns="item_id"))
    with pytest.raises(ValueError, match=r"after the latest assessment \(2026-09-15\)"):
        simulate_next_cycle(bundle, truth, plans, assessed_on="2026-01-01")
