"""CompetencyScorer.fit_blocks: the fit from blocks of employees.

Three kinds of check: small cases worked by hand where a rater's ratings
fall in several blocks; Cronbach's alpha against pingouin on the whole
response matrix; and fits cut into many blocks against the fit of one block
(bit for bit when the ratings come grouped by employee, to rounding
otherwise), in memory and with a work folder.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from devplan import Bundle, CompetencyScorer, _scoring
from devplan.datasets import load_sample, make_organisation

SEED = 11

FLOAT_ATTRIBUTES = (
    "item_variance_",
    "type_error_",
    "typical_items_",
    "competency_mean_",
    "true_variance_",
    "profile_variance_",
)
DISCRETE_PROFILE_COLUMNS = (
    "employee_id",
    "competency_id",
    "is_strength",
    "is_need",
    "flag",
    "strength_rank",
    "need_rank",
    "ipsative_rank",
    "n_raters",
    "scored",
    "not_scored_reason",
    "peer_suppressed",
    "direct_report_suppressed",
)


def _tiny(ratings, *, employees=("A", "B", "C", "D")):
    """A validated bundle of competency-level ratings.

    Ratings are tuples (employee, rater type, rater, competency, score).
    """
    assessments = pd.DataFrame(
        ratings,
        columns=["employee_id", "rater_type", "rater_id", "competency_id", "score"],
    )
    bundle = Bundle.from_frames(
        employees=pd.DataFrame({"employee_id": list(employees), "role_id": "r"}),
        competencies=pd.DataFrame({"competency_id": ["c", "d"], "name": ["C", "D"]}),
        assessments=assessments,
        roles=pd.DataFrame(
            {
                "role_id": ["r", "r"],
                "competency_id": ["c", "d"],
                "required_level": [3.0, 3.0],
                "importance": ["critical", "useful"],
            }
        ),
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


def _blocks(bundle, groups, *, compact=True):
    """Blocks of the given employee ids, as a batch run would read them.

    With ``compact`` every id column keeps only its own categories (as when
    each block comes from its own file), so categories differ between blocks.
    """
    a = bundle.assessments

    def blocks():
        for ids in groups:
            part = a[a["employee_id"].astype(str).isin(ids)]
            if compact:
                part = part.assign(
                    **{
                        c: part[c].astype(str).astype("category")
                        for c in ("employee_id", "rater_id", "competency_id")
                        if c in part
                    }
                )
            yield pd.Index(ids), part

    return blocks


def _fit_blocks(bundle, groups, **params):
    return CompetencyScorer(**params).fit_blocks(
        _blocks(bundle, groups),
        items=bundle.items if len(bundle.items) else None,
        employees=bundle.employees,
        roles=bundle.roles,
        competencies=bundle.competencies,
    )


# ----------------------------------------------------------------------
# worked by hand


def test_a_rater_is_judged_on_all_their_ratings_across_blocks():
    # F gives 3 to everything: 2 ratings of A (block 1) and 2 of C (block 2),
    # 4 in all. With min_ratings_to_judge=4, F is non-discriminating only when
    # both blocks are counted. G varies (3, 4 / 2, 5).
    b = _tiny(
        [
            ("A", "peer", "F", "c", 3),
            ("A", "peer", "F", "d", 3),
            ("A", "peer", "G", "c", 3),
            ("A", "peer", "G", "d", 4),
            ("C", "peer", "F", "c", 3),
            ("C", "peer", "F", "d", 3),
            ("C", "peer", "G", "c", 2),
            ("C", "peer", "G", "d", 5),
        ]
    )
    params = {"min_ratings_to_judge": 4, "peer_min_raters": 1}
    scorer = _fit_blocks(b, [["A", "B"], ["C", "D"]], **params)
    assert list(scorer.non_discriminating_) == ["F"]
    flags = scorer.rater_flags_.set_index("rater_id")
    assert flags.loc["F", "n_ratings"] == 4
    # left out before anything else: no ratees behind a leniency
    assert flags.loc["F", "n_ratees"] == 0
    assert flags.loc["G", "n_ratees"] == 2
    assert bool(flags.loc["F", "non_discriminating"])
    assert not bool(flags.loc["G", "non_discriminating"])
    # F is left out: C's peer score on c is G's 2 alone
    p = scorer.profiles(b)
    row = p[(p["employee_id"] == "C") & (p["competency_id"] == "c")].iloc[0]
    assert row["peer_score"] == pytest.approx(2.0)
    assert row["n_peer"] == 1


def test_own_mean_leniency_pools_a_raters_ratings_across_blocks():
    # L rates A (block 1) 4 and C (block 2) 5; M rates A, C 3 and B, D 2.
    # Grand mean of all ratings: (4 + 3 + 5 + 3 + 2 + 2) / 6 = 19/6.
    # L: 9/2 - 19/6 = 4/3; M: 10/4 - 19/6 = -2/3.
    b = _tiny(
        [
            ("A", "manager", "L", "c", 4),
            ("A", "manager", "M", "c", 3),
            ("B", "manager", "M", "c", 2),
            ("C", "manager", "L", "c", 5),
            ("C", "manager", "M", "c", 3),
            ("D", "manager", "M", "c", 2),
        ]
    )
    scorer = _fit_blocks(
        b,
        [["A", "B"], ["C", "D"]],
        leniency_method="own_mean",
        leniency_min_ratees=2,
    )
    assert_allclose(scorer.leniency_.loc[["L", "M"]], [4 / 3, -2 / 3], rtol=1e-12)
    flags = scorer.rater_flags_.set_index("rater_id")
    assert list(flags["n_ratees"].loc[["L", "M"]]) == [2, 4]


def test_raters_are_numbered_in_sorted_order_over_blocks_with_other_categories():
    b = _tiny(
        [
            ("A", "peer", "Z", "c", 3),
            ("A", "peer", "M", "c", 4),
            ("C", "peer", "B", "c", 2),
            ("C", "peer", "M", "d", 5),
        ]
    )
    scorer = _fit_blocks(b, [["A", "B"], ["C", "D"]], peer_min_raters=1)
    flags = scorer.rater_flags_
    assert list(flags["rater_id"]) == ["B", "M", "Z"]
    assert list(flags["n_ratings"]) == [1, 2, 1]


def test_blocks_may_list_employees_without_ratings():
    # B and D have no ratings; E is in no table at all but listed in a block
    b = _tiny([("A", "manager", "M", "c", 4), ("C", "manager", "M", "c", 2)])
    scorer = _fit_blocks(b, [["A", "B"], ["C", "D", "E"]])
    assert scorer.n_employees_ == 2
    # the norm holds the two scored people: A above C
    p = scorer.profiles(b)
    c = p[p["competency_id"] == "c"].set_index("employee_id")["percentile"]
    assert c["A"] > c["C"]


# ----------------------------------------------------------------------
# Cronbach's alpha against pingouin


def test_alpha_from_blocks_matches_pingouin_on_the_whole_response_matrix():
    pingouin = pytest.importorskip("pingouin")
    bundle = make_organisation(300, random_state=SEED)
    ids = list(bundle.employees["employee_id"])
    groups = [ids[i : i + 41] for i in range(0, len(ids), 41)]
    # raw ratings of every rater: no leniency, no one left out
    params = {"leniency_correction": False, "exclude_non_discriminating": False}
    scorer = _fit_blocks(bundle, groups, **params)
    rel = scorer.reliability_.set_index("competency_id")

    # the response matrix of one competency: one row per rater of a person
    a = bundle.assessments.astype({"employee_id": str, "rater_id": str})
    items = bundle.items.set_index("item_id")["competency_id"]
    comp = "delegation"
    mine = a[a["item_id"].astype(str).map(items) == comp]
    reverse = bundle.items.set_index("item_id")["reverse_keyed"].fillna(False)
    flip = mine["item_id"].astype(str).map(reverse).astype(bool)
    mine = mine.assign(score=mine["score"].where(~flip, 1 + 5 - mine["score"]))
    rater = np.where(mine["rater_type"] == "self", "", mine["rater_id"])
    wide = mine.assign(rater=rater).pivot_table(
        index=["employee_id", "rater_type", "rater"],
        columns="item_id",
        values="score",
        observed=True,
    )
    wide = wide[wide.notna().sum(axis=1) >= 2]
    alpha, ci = pingouin.cronbach_alpha(wide, nan_policy="pairwise")
    assert rel.loc[comp, "n_responses"] == len(wide)
    assert rel.loc[comp, "alpha"] == pytest.approx(alpha, rel=1e-12)
    # pingouin rounds its interval to 3 decimals
    assert rel.loc[comp, "alpha_ci_low"] == pytest.approx(ci[0], abs=5e-4)
    assert rel.loc[comp, "alpha_ci_high"] == pytest.approx(ci[1], abs=5e-4)


# ----------------------------------------------------------------------
# many blocks against one


def _grouped(bundle):
    """The bundle with its ratings grouped by employee, in table order."""
    a = bundle.assessments
    order = pd.Index(bundle.employees["employee_id"]).get_indexer(
        a["employee_id"].astype(str)
    )
    return dataclasses.replace(
        bundle, assessments=a.iloc[np.argsort(order, kind="stable")]
    )


def _unnamed(bundle, share):
    rng = np.random.default_rng(SEED)
    a = bundle.assessments
    drop = (a["rater_type"] != "self").to_numpy() & (rng.random(len(a)) < share)
    rater = a["rater_id"].astype(object).to_numpy().copy()
    rater[drop] = None
    return dataclasses.replace(bundle, assessments=a.assign(rater_id=rater))


def _flat_raters(bundle, n):
    """``n`` raters who give 3 to everyone."""
    rng = np.random.default_rng(SEED)
    a = bundle.assessments
    others = a["rater_type"] != "self"
    ids = pd.unique(a.loc[others, "rater_id"].astype(str))
    flat = others & a["rater_id"].astype(str).isin(rng.choice(ids, n, replace=False))
    return dataclasses.replace(
        bundle, assessments=a.assign(score=a["score"].where(~flat, 3.0))
    )


@pytest.fixture(scope="module")
def organisations():
    org = make_organisation(250, random_state=SEED)
    return {
        "sample": load_sample(),
        "items": org,
        "competency_level": make_organisation(250, random_state=SEED, item_level=False),
        "two_cycles": make_organisation(200, random_state=SEED, n_cycles=2),
        "unnamed": _unnamed(org, 0.5),
        "flat_raters": _flat_raters(org, 12),
    }


CASES = [
    ("sample", {}),
    ("sample", {"leniency_method": "own_mean"}),
    ("sample", {"shrinkage": False}),
    ("items", {}),
    ("items", {"norm_by": "role_level", "min_norm_size": 20}),
    ("items", {"leniency_correction": False}),
    ("competency_level", {}),
    ("competency_level", {"leniency_method": "own_mean", "shrinkage": False}),
    ("two_cycles", {}),
    ("unnamed", {}),
    ("flat_raters", {}),
    ("flat_raters", {"exclude_non_discriminating": False}),
]


def _fit(bundle, block_size, monkeypatch, **params):
    monkeypatch.setattr(_scoring, "FIT_BLOCK_EMPLOYEES", block_size)
    scorer = CompetencyScorer(**params).fit(bundle)
    return scorer, scorer.profiles(bundle)


def _same_fit(one, many, *, rtol):
    """Fitted attributes equal (floats to ``rtol``, everything else exactly)."""
    for name in ("competencies_", "non_discriminating_"):
        assert getattr(many, name).equals(getattr(one, name)), name
    assert many.n_employees_ == one.n_employees_
    assert_array_equal(many.use_profile_, one.use_profile_)
    flags_one, flags_many = one.rater_flags_, many.rater_flags_
    for column in ("rater_id", "n_ratings", "n_ratees", "non_discriminating"):
        assert_array_equal(flags_many[column], flags_one[column], err_msg=column)
    assert_allclose(flags_many["leniency"], flags_one["leniency"], rtol=rtol)
    assert many.leniency_.index.equals(one.leniency_.index)
    assert_allclose(many.leniency_, one.leniency_, rtol=rtol)
    for name in FLOAT_ATTRIBUTES:
        assert_allclose(getattr(many, name), getattr(one, name), rtol=rtol)
    rel_one, rel_many = one.reliability_, many.reliability_
    assert_array_equal(rel_many["n_responses"], rel_one["n_responses"])
    for column in ("alpha", "alpha_ci_low", "alpha_ci_high"):
        # item-pair sums per block are added block by block: equal to rounding
        assert_allclose(rel_many[column], rel_one[column], rtol=max(rtol, 1e-12))
    assert set(many.norms_) == set(one.norms_)
    for level, norm in one.norms_.items():
        assert_allclose(many.norms_[level].quantiles_, norm.quantiles_, rtol=rtol)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_many_blocks_give_the_one_block_fit_bit_for_bit(
    organisations, monkeypatch, name, params
):
    # Ratings grouped by employee: every sum over people adds the same
    # numbers in the same order as the one-block fit (alpha to rounding).
    bundle = _grouped(organisations[name])
    one, p_one = _fit(bundle, 10**6, monkeypatch, **params)
    for size in (37, 150):
        many, p_many = _fit(bundle, size, monkeypatch, **params)
        _same_fit(one, many, rtol=0)
        pd.testing.assert_frame_equal(p_many, p_one, check_exact=True)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_many_blocks_agree_with_one_block_for_ratings_in_any_order(
    organisations, monkeypatch, name, params
):
    bundle = organisations[name]
    rng = np.random.default_rng(SEED)
    shuffled = bundle.assessments.iloc[rng.permutation(len(bundle.assessments))]
    bundle = dataclasses.replace(bundle, assessments=shuffled)
    one, p_one = _fit(bundle, 10**6, monkeypatch, **params)
    many, p_many = _fit(bundle, 37, monkeypatch, **params)
    _same_fit(one, many, rtol=1e-9)
    floats = [c for c in p_one.columns if p_one[c].dtype == np.float64]
    # differences of nearly equal numbers (gaps, ipsative) are near 0
    assert_allclose(p_many[floats], p_one[floats], rtol=1e-9, atol=1e-12)
    if params.get("shrinkage", True):
        # Without shrinkage a person's competencies can tie exactly (one
        # manager's same rating less the same leniency); the order of tied
        # scores then rests on rounding, in either fit.
        discrete = list(DISCRETE_PROFILE_COLUMNS)
        pd.testing.assert_frame_equal(p_many[discrete], p_one[discrete])


def test_a_work_folder_holds_the_blocks_between_passes_and_is_cleared(
    tmp_path, monkeypatch
):
    bundle = make_organisation(120, random_state=SEED)
    ids = list(bundle.employees["employee_id"])
    groups = [ids[i : i + 50] for i in range(0, len(ids), 50)]
    seen = []
    inner = _blocks(bundle, groups)

    def blocks():
        for ids, part in inner():
            # what the earlier blocks of this pass left in the folder
            seen.append(sorted(p.name for p in tmp_path.rglob("*.npy")))
            yield ids, part

    kept = CompetencyScorer().fit_blocks(
        blocks,
        items=bundle.items,
        employees=bundle.employees,
        roles=bundle.roles,
        competencies=bundle.competencies,
        workdir=tmp_path,
    )
    # pass 1 (3 blocks) keeps nothing; pass 2 has block 0's arrays by block 1
    assert seen[:4] == [[], [], [], []]
    assert "0-cell.npy" in seen[4] and "0-als_rater.npy" in seen[4]
    assert "1-cell.npy" in seen[5]
    assert list(tmp_path.rglob("*")) == []  # the subfolder is gone
    in_memory = _fit_blocks(bundle, groups)
    _same_fit(in_memory, kept, rtol=0)
    pd.testing.assert_frame_equal(
        kept.profiles(bundle), in_memory.profiles(bundle), check_exact=True
    )


def test_fit_equals_fit_blocks_on_blocks_cut_the_same_way(monkeypatch):
    # What a batch run does: blocks of FIT_BLOCK_EMPLOYEES employees in the
    # order of the employees table, each with its own categories.
    bundle = make_organisation(230, random_state=SEED)
    bundle = dataclasses.replace(
        bundle, employees=bundle.employees.sample(frac=1.0, random_state=SEED)
    )
    monkeypatch.setattr(_scoring, "FIT_BLOCK_EMPLOYEES", 60)
    fitted = CompetencyScorer().fit(bundle)
    ids = list(bundle.employees["employee_id"])
    blocked = _fit_blocks(bundle, [ids[i : i + 60] for i in range(0, len(ids), 60)])
    _same_fit(fitted, blocked, rtol=0)
    pd.testing.assert_frame_equal(
        blocked.reliability_, fitted.reliability_, check_exact=True
    )
    pd.testing.assert_frame_equal(
        blocked.profiles(bundle), fitted.profiles(bundle), check_exact=True
    )


# ----------------------------------------------------------------------
# errors


def _simple():
    return _tiny([("A", "manager", "M", "c", 4), ("C", "manager", "M", "c", 2)])


def test_blocks_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        CompetencyScorer().fit_blocks([(["A"], _simple().assessments)])


def test_a_block_must_be_a_pair_with_a_table():
    with pytest.raises(TypeError, match="pair"):
        CompetencyScorer().fit_blocks(lambda: iter([_simple().assessments]))
    with pytest.raises(TypeError, match="DataFrame"):
        CompetencyScorer().fit_blocks(lambda: iter([(["A"], [1, 2])]))


def test_ratings_of_employees_outside_the_block_are_refused():
    b = _simple()
    with pytest.raises(ValueError, match=r"\['C'\] in block 0"):
        CompetencyScorer().fit_blocks(lambda: iter([(["A"], b.assessments)]))


def test_an_employee_in_two_blocks_is_refused():
    b = _simple()
    blocks = _blocks(b, [["A", "B"], ["B", "C"]])
    with pytest.raises(ValueError, match=r"more than one block, e.g. \['B'\]"):
        CompetencyScorer().fit_blocks(blocks)


def test_blocks_must_be_the_same_on_every_call():
    b = _simple()
    calls = []

    def blocks():
        calls.append(1)
        groups = [["A", "B"], ["C", "D"]] if len(calls) == 1 else [["A", "B", "C"]]
        return _blocks(b, groups)()

    with pytest.raises(ValueError, match="same blocks"):
        CompetencyScorer().fit_blocks(blocks)


def test_a_file_is_not_a_work_folder(tmp_path):
    b = _simple()
    path = tmp_path / "file"
    path.write_text("")
    with pytest.raises(ValueError, match="expected a folder"):
        CompetencyScorer().fit_blocks(_blocks(b, [["A", "B", "C", "D"]]), workdir=path)


def test_row_blocks_of_the_estimate_change_no_bit(monkeypatch):
    """The empirical-Bayes step works on blocks of rows (a million people's
    matrices are 200 MB each); every step is within a row, so blocks of 17
    rows give the same fit and scores, bit for bit, as one block."""
    from devplan import _scoring
    from devplan.datasets import load_sample

    bundle = load_sample()
    whole = CompetencyScorer().fit(bundle)
    expected = whole.profiles(bundle)
    monkeypatch.setattr(_scoring._row_blocks, "__defaults__", (17,))
    blocked = CompetencyScorer().fit(bundle)
    assert np.array_equal(blocked.profile_variance_, whole.profile_variance_)
    assert np.array_equal(blocked.use_profile_, whole.use_profile_)
    pd.testing.assert_frame_equal(blocked.profiles(bundle), expected, check_exact=True)
