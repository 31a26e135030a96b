"""Competency scoring: every 360 rule worked by hand, then against ground truth."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from devplan import Bundle, CompetencyScorer, Config, summarise_profiles
from devplan.datasets import make_organisation

SEED = 7


def _bundle(ratings, *, employees=("A", "B", "C", "D"), items=None, roles=None):
    """A tiny validated bundle.

    Ratings are tuples (employee, type, rater, item, score[, date]).
    """
    columns = [
        "employee_id",
        "rater_type",
        "rater_id",
        "item_id",
        "score",
        "assessed_on",
    ]
    rows = [tuple(r) + (None,) * (6 - len(r)) for r in ratings]
    if items is None:
        items = pd.DataFrame(
            {
                "item_id": ["i1", "i2", "j1", "j2"],
                "competency_id": ["c", "c", "d", "d"],
                "reverse_keyed": [False, True, False, False],
            }
        )
    if roles is None:
        roles = pd.DataFrame(
            {
                "role_id": ["r", "r"],
                "competency_id": ["c", "d"],
                "required_level": [3.0, 3.0],
                "importance": ["critical", "useful"],
            }
        )
    bundle = Bundle.from_frames(
        employees=pd.DataFrame({"employee_id": list(employees), "role_id": "r"}),
        competencies=pd.DataFrame({"competency_id": ["c", "d"], "name": ["C", "D"]}),
        items=items,
        assessments=pd.DataFrame(rows, columns=columns),
        roles=roles,
        catalog=pd.DataFrame(
            {
                "item_id": ["k"],
                "title": ["K"],
                "kind": ["course"],
                "competencies": ["c"],
                "hours": [1.0],
            }
        ),
    )
    assert bundle.errors.empty, bundle.errors.to_dict("records")
    return bundle


def _row(profiles, employee, competency="c"):
    p = profiles
    return p[(p["employee_id"] == employee) & (p["competency_id"] == competency)].iloc[
        0
    ]


def test_reverse_keys_are_applied():
    # i2 is reverse keyed: 2 on a 1-5 scale means 1 + 5 - 2 = 4.
    b = _bundle([("A", "manager", "M", "i1", 4), ("A", "manager", "M", "i2", 2)])
    p = CompetencyScorer().fit(b).profiles(b)
    assert _row(p, "A")["manager_score"] == pytest.approx(4.0)
    assert _row(p, "A")["others_score"] == pytest.approx(4.0)
    # on a 1-7 scale the same rating means 1 + 7 - 2 = 6: (4 + 6) / 2 = 5
    p7 = CompetencyScorer(scale_max=7).fit(b).profiles(b)
    assert _row(p7, "A")["others_score"] == pytest.approx(5.0)


def test_anonymity_suppresses_small_groups_and_keeps_them_out_of_others():
    ratings = [
        ("A", "manager", "M", "i1", 2),
        ("A", "peer", "P1", "i1", 5),
        ("A", "peer", "P2", "i1", 5),
        ("A", "self", "A", "i1", 4),
        ("B", "manager", "M", "i1", 2),
        ("B", "peer", "P1", "i1", 5),
        ("B", "peer", "P2", "i1", 5),
        ("B", "peer", "P3", "i1", 4),
    ]
    b = _bundle(ratings)
    scorer = CompetencyScorer(leniency_correction=False, shrinkage=False).fit(b)
    p = scorer.profiles(b)
    a = _row(p, "A")
    # two peers < 3: hidden, and the score is the manager's alone
    assert a["peer_suppressed"]
    assert np.isnan(a["peer_score"])
    assert a["others_score"] == pytest.approx(2.0)
    assert a["n_raters"] == 1
    # self is always shown, never part of the score
    assert a["self_score"] == pytest.approx(4.0)
    # three peers: visible. This tiny data set has too few cells to give each
    # type its own error variance, so all raters share one; precision weights
    # (n raters / variance) then weigh every rater alike: (2 + 5 + 5 + 4) / 4.
    bb = _row(p, "B")
    assert not bb["peer_suppressed"]
    assert bb["peer_score"] == pytest.approx(14 / 3)
    assert bb["others_score"] == pytest.approx(4.0)
    assert bb["n_raters"] == 4
    # equal type weights: mean of manager 2 and peer mean 14/3
    equal = dict.fromkeys(("manager", "peer", "direct_report", "assessor"), 1)
    pe = CompetencyScorer(rater_weights=equal, leniency_correction=False).fit(b)
    assert _row(pe.profiles(b), "B")["others_score"] == pytest.approx((2 + 14 / 3) / 2)
    # a lower threshold shows A's two peers: (2 + 5 + 5) / 3
    p2 = CompetencyScorer(peer_min_raters=2, leniency_correction=False).fit(b)
    assert _row(p2.profiles(b), "A")["others_score"] == pytest.approx(4.0)
    # suppressed groups vanish from transform as well
    wide = scorer.transform(b)
    assert wide.loc["A", "c"] == pytest.approx(2.0)


def test_rater_weights():
    ratings = [("A", "manager", "M", "i1", 2), ("A", "assessor", "X", "i1", 5)]
    b = _bundle(ratings)
    p = CompetencyScorer(rater_weights={"manager": 2, "assessor": 1}).fit(b).profiles(b)
    assert _row(p, "A")["others_score"] == pytest.approx((2 * 2 + 5) / 3)
    with pytest.raises(ValueError, match="rater_weights key 'self'"):
        CompetencyScorer(rater_weights={"self": 1}).fit(b)


def test_leniency_centring_by_hand():
    # M rates A, B, C with 4, 3, 2 (mean 3); L rates them 5, 5, 4 (mean 14/3);
    # S rates D with 5. Grand mean of all non-self ratings:
    # (4+3+2+5+5+4+5) / 7 = 4. Offsets: M 3 - 4 = -1, L 14/3 - 4 = 2/3;
    # S rated one person only and is not centred.
    ratings = [
        ("A", "manager", "M", "i1", 4),
        ("B", "manager", "M", "i1", 3),
        ("C", "manager", "M", "i1", 2),
        ("A", "peer", "L", "i1", 5),
        ("B", "peer", "L", "i1", 5),
        ("C", "peer", "L", "i1", 4),
        ("D", "peer", "S", "i1", 5),
    ]
    b = _bundle(ratings)
    scorer = CompetencyScorer(peer_min_raters=1, leniency_method="own_mean").fit(b)
    assert_allclose(scorer.leniency_.loc[["M", "L"]], [-1.0, 2 / 3])
    assert "S" not in scorer.leniency_.index
    p = scorer.profiles(b)
    assert _row(p, "A")["manager_score"] == pytest.approx(4 + 1)
    assert _row(p, "A")["peer_score"] == pytest.approx(5 - 2 / 3)
    assert _row(p, "D")["peer_score"] == pytest.approx(5.0)
    raw = CompetencyScorer(peer_min_raters=1, leniency_correction=False).fit(b)
    assert _row(raw.profiles(b), "A")["manager_score"] == pytest.approx(4.0)
    # Co-rater method (the default): additive model score = cell + rater.
    # On A, B, C both M and L rated, with differences M - L = 4-5, 3-5, 2-4
    # = -1, -2, -2 (mean -5/3); centred effects: M -5/6 and L +5/6. S is
    # alone on D: nothing to compare with, so S is not centred.
    co = CompetencyScorer(peer_min_raters=1).fit(b)
    assert_allclose(co.leniency_.loc[["M", "L"]], [-5 / 6, 5 / 6], atol=1e-9)
    assert "S" not in co.leniency_.index
    assert _row(co.profiles(b), "A")["manager_score"] == pytest.approx(4 + 5 / 6)


def test_non_discriminating_raters_are_flagged_and_left_out():
    ratings = [(e, "peer", "FLAT", i, 5) for e in "ABC" for i in ("i1", "j1")]
    ratings += [
        (e, "manager", "M", "i1", s) for e, s in zip("ABC", (2, 3, 4), strict=True)
    ]
    b = _bundle(ratings)
    scorer = CompetencyScorer(peer_min_raters=1, leniency_correction=False).fit(b)
    assert list(scorer.non_discriminating_) == ["FLAT"]
    flags = scorer.rater_flags_.set_index("rater_id")
    assert flags.loc["FLAT", "non_discriminating"]
    assert not flags.loc["M", "non_discriminating"]
    p = scorer.profiles(b)
    assert _row(p, "A")["others_score"] == pytest.approx(2.0)  # the manager alone
    keep = CompetencyScorer(
        peer_min_raters=1, leniency_correction=False, exclude_non_discriminating=False
    )
    assert _row(keep.fit(b).profiles(b), "A")["others_score"] == pytest.approx(3.5)


@pytest.mark.parametrize(
    ("self_score", "manager", "flag"),
    [
        (5, 3.5, "blind_spot"),  # 5 - 3.5 = 1.5 >= 1.5
        (5, 3.75, None),  # 1.25 < 1.5
        (2, 3.5, "hidden_strength"),  # -1.5 <= -1.5
        (2, 3.25, None),
    ],
)
def test_blind_spot_and_hidden_strength_at_the_threshold(self_score, manager, flag):
    # manager's competency score is the mean of two items (i1, j-free)
    hi, lo = manager + 0.25, manager - 0.25
    ratings = [
        ("A", "self", "A", "i1", self_score),
        ("A", "manager", "M", "i1", hi),
        ("A", "manager", "M", "i2", 1 + 5 - lo),  # reverse keyed: counts as lo
    ]
    b = _bundle(ratings)
    p = CompetencyScorer(blind_spot_threshold=1.5).fit(b).profiles(b)
    row = _row(p, "A")
    assert row["self_other_gap"] == pytest.approx(self_score - manager)
    got = None if pd.isna(row["flag"]) else row["flag"]
    assert got == flag


def test_default_blind_spot_threshold_is_a_third_of_the_scale_points():
    # 1-5 scale: five points / 3 = 1.667. Gap 1.75 flags, gap 1.5 does not.
    b = _bundle(
        [
            ("A", "self", "A", "i1", 5),
            ("A", "manager", "M", "i1", 3.25),
            ("B", "self", "B", "i1", 5),
            ("B", "manager", "M", "i1", 3.5),
        ]
    )
    p = CompetencyScorer(leniency_correction=False).fit(b).profiles(b)
    assert _row(p, "A")["flag"] == "blind_spot"
    assert pd.isna(_row(p, "B")["flag"])
    cfg = Config()
    assert CompetencyScorer.from_config(cfg)._blind_spot == pytest.approx(5 / 3)


def test_latest_cycle_is_scored_unless_another_is_asked_for():
    ratings = [
        ("A", "manager", "M", "i1", 1, "2025-03-01"),  # last year's cycle
        ("A", "manager", "M", "i1", 4, "2026-03-01"),
        ("A", "peer", "P", "i1", 5, "2026-01-15"),  # same cycle: 45 days before
        ("B", "manager", "M", "i1", 2),  # undated: B has no dated ratings
        ("A", "self", "A", "i1", 3),  # undated: counts with A's latest cycle
    ]
    b = _bundle(ratings)
    p = (
        CompetencyScorer(peer_min_raters=1, leniency_correction=False)
        .fit(b)
        .profiles(b)
    )
    assert _row(p, "A")["manager_score"] == pytest.approx(4.0)
    assert _row(p, "A")["peer_score"] == pytest.approx(5.0)
    assert _row(p, "B")["others_score"] == pytest.approx(2.0)
    assert _row(p, "A")["self_score"] == pytest.approx(3.0)
    old = CompetencyScorer(
        cycle="2025-12-31", peer_min_raters=1, leniency_correction=False
    ).fit(b)
    assert _row(old.profiles(b), "A")["others_score"] == pytest.approx(1.0)
    short = CompetencyScorer(
        cycle_window_days=30, peer_min_raters=1, leniency_correction=False
    ).fit(b)
    assert np.isnan(_row(short.profiles(b), "A")["peer_score"])


def test_missing_data_is_not_guessed_and_widens_the_error():
    ratings = [
        ("A", "self", "A", "i1", 4),  # only a self rating on c
        ("B", "peer", "P1", "i1", 4),  # peers below the threshold
        ("B", "peer", "P2", "i1", 4),
    ]
    # C and D: the same raters, but D's raters skipped item i2
    for e, skip in (("C", False), ("D", True)):
        for rater, base in (("M1", 4), ("P1", 3), ("P2", 4), ("P3", 5)):
            kind = "manager" if rater == "M1" else "peer"
            ratings.append((e, kind, rater, "i1", base))
            if not skip:
                ratings.append((e, kind, rater, "i2", 6 - (base - 1)))  # reversed
            ratings.append((e, kind, rater, "j1", 3))
            ratings.append((e, kind, rater, "j2", 4))
    b = _bundle(ratings)
    p = CompetencyScorer(leniency_correction=False).fit(b).profiles(b)
    a, bb = _row(p, "A"), _row(p, "B")
    assert not a["scored"] and a["not_scored_reason"] == "only a self rating"
    assert np.isnan(a["others_score"]) and not a["is_need"] and not a["is_strength"]
    assert not bb["scored"]
    assert bb["not_scored_reason"] == "only rater groups below the anonymity threshold"
    c, d = _row(p, "C"), _row(p, "D")
    # C: raters' means (4+3)/2, (3+2)/2, (4+3)/2, (5+4)/2 -> 3.5; D: i1 only -> 4
    assert c["others_score"] == pytest.approx(3.5)
    assert d["others_score"] == pytest.approx(4.0)
    assert d["others_se"] > c["others_se"]
    assert d["confidence"] < c["confidence"]


def test_needs_are_gaps_beyond_the_error_and_strengths_need_all_three():
    rng = np.random.default_rng(SEED)
    employees = [f"E{i:02d}" for i in range(40)]
    level = {e: rng.uniform(1.5, 4.5) for e in employees}
    ratings = []
    for e in employees:
        for k, rater in enumerate(("M", "P1", "P2", "P3")):
            kind = "manager" if k == 0 else "peer"
            for item, shift in (("i1", 0.0), ("j1", 0.8)):
                score = float(
                    np.clip(round(level[e] + shift + rng.normal(0, 0.3)), 1, 5)
                )
                ratings.append((e, kind, f"{rater}{e}", item, score))
    b = _bundle(ratings, employees=employees)
    p = CompetencyScorer(ipsative_top=1).fit(b).profiles(b)
    # need: gap = required - score beyond need_z standard errors
    need = p["gap"] > p["se"]
    assert (p["is_need"] == (need & p["scored"])).all()
    assert p["is_need"].any()
    # weighted gap: critical weight 1.0 for c, useful weight 0.3 for d
    c_rows = p[p["competency_id"] == "c"]
    assert_allclose(c_rows["weighted_gap"], c_rows["gap"].clip(lower=0))
    d_rows = p[p["competency_id"] == "d"]
    assert_allclose(d_rows["weighted_gap"], 0.3 * d_rows["gap"].clip(lower=0))
    # strength: normative, ipsative (own top 1) and confident
    s = p[p["is_strength"]]
    assert (s["percentile"] >= 75).all()
    assert (s["ipsative_rank"] == 1).all()
    assert (s["confidence"] >= 0.5).all()
    assert len(s) > 0
    summary = summarise_profiles(p)
    assert set(summary.columns) >= {
        "signature_strengths",
        "needs",
        "self_other_category",
    }
    per_person = p.groupby("employee_id", sort=False)["is_strength"].sum()
    assert (summary["n_strengths"].to_numpy() == per_person.to_numpy()).all()


def test_percentiles_are_mid_ranks_of_the_norm():
    # Four people rated 1, 2, 3, 4 by one manager. The interpolated norm CDF
    # at the k-th of n distinct sorted values is 100 (k - 1) / (n - 1), and
    # F(x-) = F(x) for distinct values: 0, 100/3, 200/3 and 100.
    ratings = [
        (e, "manager", "M", "i1", s) for e, s in zip("ABCD", (1, 2, 3, 4), strict=True)
    ]
    b = _bundle(ratings)
    p = CompetencyScorer(leniency_correction=False, shrinkage=False).fit(b).profiles(b)
    p = p[p["competency_id"] == "c"]
    pct = p.set_index("employee_id").loc[list("ABCD"), "percentile"]
    assert_allclose(pct, [0.0, 100 / 3, 200 / 3, 100.0], atol=1e-6)


def test_scorer_beats_a_plain_mean_of_all_ratings_on_ground_truth():
    bundle, truth = make_organisation(3000, random_state=SEED, return_truth=True)
    scorer = CompetencyScorer().fit(bundle)
    est = scorer.transform(bundle)
    true = truth.levels.reindex(index=est.index, columns=est.columns)
    a = bundle.assessments
    items = bundle.items.set_index("item_id")
    comp = a["item_id"].astype(object).map(items["competency_id"])
    comp = comp.fillna(a["competency_id"].astype(object))
    rev = (
        a["item_id"]
        .astype(object)
        .map(items["reverse_keyed"])
        .fillna(False)
        .astype(bool)
    )
    score = np.where(rev, 6 - a["score"], a["score"])
    plain = (
        pd.DataFrame({"e": a["employee_id"].astype(object), "c": comp, "s": score})
        .pivot_table(index="e", columns="c", values="s", aggfunc="mean")
        .reindex(index=est.index, columns=est.columns)
    )

    def corr(x):
        m = ~np.isnan(x.to_numpy()) & ~np.isnan(true.to_numpy())
        return np.corrcoef(x.to_numpy()[m], true.to_numpy()[m])[0, 1]

    r_scorer, r_plain = corr(est), corr(plain)
    assert r_scorer > r_plain
    assert r_scorer > 0.8


def test_reliability_is_reported_per_competency():
    bundle = make_organisation(500, random_state=SEED)
    rel = CompetencyScorer().fit(bundle).reliability_
    assert len(rel) == bundle.competencies.shape[0]
    multi = rel[rel["n_items"] >= 2]
    assert multi["alpha"].between(0.3, 1.0).all()
    assert (multi["alpha_ci_low"] < multi["alpha"]).all()


def test_saved_scorer_scores_a_new_cycle_against_the_same_norms(tmp_path):
    bundle = make_organisation(300, random_state=SEED)
    scorer = CompetencyScorer().fit(bundle)
    path = scorer.save(tmp_path / "scorer.joblib")
    again = CompetencyScorer.load(path)
    pd.testing.assert_frame_equal(scorer.profiles(bundle), again.profiles(bundle))
    newcomers = make_organisation(50, random_state=SEED + 1)
    # new people are scored against the saved norms, not their own
    assert_allclose(
        again.profiles(newcomers)["percentile"],
        scorer.profiles(newcomers)["percentile"],
    )
    refit = CompetencyScorer().fit(newcomers).profiles(newcomers)["percentile"]
    assert not np.allclose(refit, scorer.profiles(newcomers)["percentile"])
    (tmp_path / "other.joblib").write_bytes(b"")
    import joblib

    joblib.dump({"model": 1}, tmp_path / "other.joblib")
    with pytest.raises(ValueError, match="not a saved CompetencyScorer"):
        CompetencyScorer.load(tmp_path / "other.joblib")


def test_set_output_pandas_and_feature_names():
    bundle = make_organisation(100, random_state=SEED)
    scorer = CompetencyScorer().set_output(transform="pandas").fit(bundle)
    wide = scorer.transform(bundle)
    assert list(wide.columns) == list(scorer.get_feature_names_out())
    assert wide.index.name == "employee_id"
    assert len(wide) == 100


def test_norms_per_role_level():
    bundle = make_organisation(1500, random_state=SEED)
    scorer = CompetencyScorer(norm_by="role_level").fit(bundle)
    assert "all" in scorer.norms_ and "individual" in scorer.norms_
    p = scorer.profiles(bundle)
    overall = CompetencyScorer().fit(bundle).profiles(bundle)
    assert not np.allclose(p["percentile"], overall["percentile"], equal_nan=True)


def test_protected_attributes_do_not_change_scores():
    bundle = make_organisation(300, random_state=SEED)
    before = CompetencyScorer().fit(bundle).profiles(bundle)
    shuffled = bundle.employees.assign(
        age_band=bundle.employees["age_band"].sample(frac=1, random_state=1).to_numpy(),
        gender=bundle.employees["gender"].sample(frac=1, random_state=2).to_numpy(),
    )
    bundle.employees = shuffled
    after = CompetencyScorer().fit(bundle).profiles(bundle)
    pd.testing.assert_frame_equal(before, after)


@pytest.mark.parametrize(
    ("param", "value", "words"),
    [
        ("scale_min", 6, "scale_min < scale_max"),
        ("peer_min_raters", 0, "peer_min_raters=0"),
        ("norm_by", "unit", "norm_by='unit'"),
        ("strength_percentile", 100, "strength_percentile=100"),
        ("cycle", "soon", "cycle='soon'"),
    ],
)
def test_bad_parameters_are_named(param, value, words):
    b = _bundle([("A", "manager", "M", "i1", 4)])
    with pytest.raises(ValueError, match=words):
        CompetencyScorer(**{param: value}).fit(b)


def test_bad_input_type():
    with pytest.raises(TypeError, match="expected a devplan Bundle"):
        CompetencyScorer().fit([1, 2, 3])


def test_shrinkage_is_kelleys_formula_toward_the_persons_profile():
    bundle = make_organisation(400, random_state=SEED)
    scorer = CompetencyScorer().fit(bundle)
    p = scorer.profiles(bundle)
    p = p[p["scored"]]
    mu = pd.Series(scorer.competency_mean_, index=scorer.competencies_)
    tau2 = pd.Series(scorer.profile_variance_, index=scorer.competencies_)
    one = p[p["employee_id"] == p["employee_id"].iloc[0]]
    dev = one["others_score"].to_numpy() - mu[one["competency_id"]].to_numpy()
    # prior: competency mean + the person's mean deviation on the others
    prior = mu[one["competency_id"]].to_numpy() + (dev.sum() - dev) / (len(dev) - 1)
    b = tau2[one["competency_id"]].to_numpy()
    b = b / (b + one["others_se"].to_numpy() ** 2)
    assert_allclose(one["score"], prior + b * (one["others_score"] - prior))
    assert_allclose(one["se"], np.sqrt(b) * one["others_se"])
    assert (one["se"] < one["others_se"]).all()
    off = CompetencyScorer(shrinkage=False).fit(bundle).profiles(bundle)
    off = off[off["scored"]]
    assert_allclose(off["score"], off["others_score"])


def test_row_order_does_not_change_scores():
    # Rows grouped by rater form take a fast path; shuffled rows are hashed.
    bundle = make_organisation(300, random_state=SEED)
    scorer = CompetencyScorer().fit(bundle)
    expected = scorer.profiles(bundle)
    shuffled = bundle.assessments.sample(frac=1.0, random_state=3)
    # forms kept together, competencies mixed inside them: the dense path
    forms = shuffled.sort_values(
        ["employee_id", "rater_id", "rater_type"], kind="stable"
    )
    bundle.assessments = forms
    assert_allclose(scorer.profiles(bundle)["score"], expected["score"])
    # everything shuffled: every row is hashed
    bundle.assessments = shuffled
    assert_allclose(scorer.profiles(bundle)["score"], expected["score"])
    refit = CompetencyScorer().fit(bundle).profiles(bundle)
    assert_allclose(refit["score"], expected["score"])
    assert_allclose(refit["se"], expected["se"])


def test_without_rater_ids_raters_are_counted_per_item_not_per_rating():
    # 2 items of competency c; each rater answers both. Without rater ids
    # the k-th rating of an item is rater k: 1 manager, 2 peers, 3 reports.
    ratings = [("A", "manager", None, item, 4) for item in ("i1", "i2")]
    ratings += [("A", "peer", None, item, 3) for item in ("i1", "i2") for _ in range(2)]
    ratings += [
        ("A", "direct_report", None, item, 5) for item in ("i1", "i2") for _ in range(3)
    ]
    b = _bundle(ratings)
    row = _row(CompetencyScorer().fit(b).profiles(b), "A")
    assert (row["n_manager"], row["n_peer"], row["n_direct_report"]) == (1, 2, 3)
    assert row["peer_suppressed"] and not row["direct_report_suppressed"]
    assert row["n_raters"] == 4


def test_required_but_unrated_competency_gets_a_row_saying_so():
    b = _bundle([("A", "manager", "M", "i1", 4)])  # role requires c and d
    p = CompetencyScorer().fit(b).profiles(b)
    d = _row(p, "A", "d")
    assert not d["scored"] and d["not_scored_reason"] == "no ratings"
    assert d["required_level"] == 3.0


def test_fit_survives_a_bundle_without_valid_ratings():
    b = _bundle([("A", "manager", "M", "i1", 4)])
    b.assessments = b.assessments.iloc[:0]
    p = CompetencyScorer().fit(b).profiles(b)
    assert (~p["scored"]).all()
    assert set(p["not_scored_reason"]) == {"no ratings"}
