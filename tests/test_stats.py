"""Tests of devplan.stats against published values and an independent library.

References used for expected values:

* Shrout & Fleiss (1979), Table 2 data and the ICCs/mean squares printed in the
  paper (2 decimals).
* pingouin (test-only dependency; its ICC and alpha are validated against R's
  ``psych`` package) for values to more decimals, including the values
  printed in pingouin's own documentation for its bundled datasets.
* Hand computations written out in comments.
"""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from devplan.stats import (
    CHANGE_CATEGORIES,
    AlphaResult,
    ChangeThreshold,
    cronbach_alpha,
    icc,
    raters_needed,
    reliable_change,
    reliable_change_threshold,
    sem,
    spearman_brown,
)

SEED = 20240611

# pingouin (the test-only reference) triggers a pandas deprecation warning.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The inplace keyword in DataFrame.dropna:DeprecationWarning"
)

# Shrout & Fleiss (1979), Table 2: 6 targets (rows) rated by 4 judges (columns).
SF_RATINGS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]
# Published in Shrout & Fleiss (1979), Table 4 / text, 2 decimals.
SF_PUBLISHED_ICC = {
    "ICC1": 0.17,  # ICC(1,1)
    "ICC2": 0.29,  # ICC(2,1)
    "ICC3": 0.71,  # ICC(3,1)
    "ICC1k": 0.44,  # ICC(1,4)
    "ICC2k": 0.62,  # ICC(2,4)
    "ICC3k": 0.91,  # ICC(3,4)
}
# Shrout & Fleiss (1979), Table 3 (ANOVA): BMS, JMS, EMS, WMS.
# Hand check: grand mean 127/24 = 5.2917; target means 6, 3, 6.5, 4, 7.5, 4.75
# -> SS_targets = 4 * sum((mean - 5.2917)^2) = 1349/24 = 56.2083,
# MSR = 56.2083 / 5 = 11.24; judge means 7.667, 2.5, 4.333, 6.667 ->
# SS_judges = 6 * 16.2431 = 97.4583, MSC = 97.4583 / 3 = 32.49;
# SS_total = 4055/24 = 168.9583, SS_error = 168.9583 - 56.2083 - 97.4583
# = 15.2917, MSE = 15.2917 / 15 = 1.02; MSW = (168.9583 - 56.2083) / 18 = 6.26.
SF_PUBLISHED_MS = {"MSR": 11.24, "MSW": 6.26, "MSC": 32.49, "MSE": 1.02}

# pingouin's labels for the Shrout & Fleiss forms (pingouin >= 0.6 uses the
# McGraw & Wong A/C notation for ICC2/ICC3).
PINGOUIN_TYPES = {
    "ICC1": "ICC(1,1)",
    "ICC2": "ICC(A,1)",
    "ICC3": "ICC(C,1)",
    "ICC1k": "ICC(1,k)",
    "ICC2k": "ICC(A,k)",
    "ICC3k": "ICC(C,k)",
}


def _tidy(wide_rows, target="target", rater="judge", rating="rating"):
    wide = pd.DataFrame(wide_rows)
    return (
        wide.rename_axis(target)
        .reset_index()
        .melt(id_vars=target, var_name=rater, value_name=rating)
    )


@pytest.fixture
def sf_tidy():
    return _tidy(SF_RATINGS)


@pytest.fixture
def unrounded_pingouin(monkeypatch):
    """pingouin rounds its ICC CI95 column to 2 decimals by default; disable."""
    monkeypatch.setitem(pg.options, "round.column.CI95", None)
    monkeypatch.setitem(pg.options, "round", None)
    return pg


def _pingouin_icc(df, **kwargs):
    ref = pg.intraclass_corr(df, **kwargs).set_index("Type")
    ref = ref.loc[list(PINGOUIN_TYPES.values())]
    ci = np.vstack(ref["CI95"].to_numpy())
    return ref, ci


# ---------------------------------------------------------------------------
# ICC
# ---------------------------------------------------------------------------


def test_icc_shape_order_and_columns(sf_tidy):
    res = icc(sf_tidy, targets="target", raters="judge", ratings="rating")
    assert list(res.columns) == [
        "type",
        "description",
        "icc",
        "F",
        "df1",
        "df2",
        "pval",
        "ci_low",
        "ci_high",
    ]
    assert list(res["type"]) == list(SF_PUBLISHED_ICC)
    assert res.loc[0, "description"] == "Single raters absolute"
    assert res.loc[4, "description"] == "Average random raters"


def test_icc_matches_shrout_fleiss_published_values(sf_tidy):
    res = icc(sf_tidy, targets="target", raters="judge", ratings="rating")
    # compared at the 2 decimals printed in the paper
    assert_allclose(
        np.round(res["icc"].to_numpy(), 2),
        list(SF_PUBLISHED_ICC.values()),
        atol=1e-12,
    )
    ms = res.attrs["mean_squares"]
    for name, published in SF_PUBLISHED_MS.items():
        assert_allclose(round(ms[name], 2), published, atol=1e-12, err_msg=name)
    # exact mean squares from the hand computation in the comment above
    assert_allclose(ms["MSR"], 1349 / 24 / 5, rtol=1e-12)
    assert_allclose(ms["MSC"], 2339 / 24 / 3, rtol=1e-12)
    assert_allclose(ms["MSE"], (4055 - 1349 - 2339) / 24 / 15, rtol=1e-12)
    assert_allclose(ms["MSW"], (4055 - 1349) / 24 / 18, rtol=1e-12)


def test_icc_matches_pingouin_shrout_fleiss(sf_tidy, unrounded_pingouin):
    res = icc(sf_tidy, targets="target", raters="judge", ratings="rating")
    ref, ref_ci = _pingouin_icc(
        sf_tidy, targets="target", raters="judge", ratings="rating"
    )
    assert_allclose(res["icc"], ref["ICC"], atol=1e-6)
    assert_allclose(res["F"], ref["F"], atol=1e-6)
    assert_allclose(res["df1"], ref["df1"], atol=0)
    assert_allclose(res["df2"], ref["df2"], atol=0)
    assert_allclose(res["pval"], ref["pval"], atol=1e-8)
    assert_allclose(res["ci_low"], ref_ci[:, 0], atol=1e-6)
    assert_allclose(res["ci_high"], ref_ci[:, 1], atol=1e-6)


def test_icc_matches_pingouin_wine_dataset(unrounded_pingouin):
    data = pg.read_dataset("icc")
    res = icc(data, targets="Wine", raters="Judge", ratings="Scores")
    ref, ref_ci = _pingouin_icc(data, targets="Wine", raters="Judge", ratings="Scores")
    assert_allclose(res["icc"], ref["ICC"], atol=1e-6)
    assert_allclose(res["F"], ref["F"], atol=1e-6)
    assert_allclose(res["ci_low"], ref_ci[:, 0], atol=1e-6)
    assert_allclose(res["ci_high"], ref_ci[:, 1], atol=1e-6)
    # values printed in pingouin's documentation (3 decimals)
    assert_allclose(res["icc"], [0.728, 0.728, 0.729, 0.914, 0.914, 0.915], atol=5e-4)


def test_icc_random_shuffled_design_with_omit_matches_pingouin(unrounded_pingouin):
    rng = np.random.default_rng(SEED)
    n, k = 15, 3
    true = rng.normal(50, 10, size=(n, 1))
    bias = np.array([[0.0, 3.0, -2.0]])
    wide = true + bias + rng.normal(0, 5, size=(n, k))
    tidy = _tidy(wide, rater="rater")
    tidy["rater"] = tidy["rater"].map({0: "self", 1: "manager", 2: "peer"})
    tidy = tidy.sample(frac=1.0, random_state=SEED).reset_index(drop=True)
    # drop two ratings -> two incomplete targets
    incomplete = tidy.drop(index=tidy.index[:2])
    n_bad = incomplete.groupby("target")["rating"].count().lt(k).sum()
    assert n_bad == 2

    res = icc(
        incomplete,
        targets="target",
        raters="rater",
        ratings="rating",
        nan_policy="omit",
    )
    ref, ref_ci = _pingouin_icc(
        incomplete,
        targets="target",
        raters="rater",
        ratings="rating",
        nan_policy="omit",
    )
    assert res.attrs["n_targets"] == n - 2
    assert_allclose(res["icc"], ref["ICC"], atol=1e-6)
    assert_allclose(res["F"], ref["F"], atol=1e-6)
    assert_allclose(res["df2"], ref["df2"], atol=0)
    assert_allclose(res["ci_low"], ref_ci[:, 0], atol=1e-6)
    assert_allclose(res["ci_high"], ref_ci[:, 1], atol=1e-6)


def test_icc_average_forms_are_spearman_brown_of_single_forms(sf_tidy):
    # Shrout & Fleiss (1979, p. 426): the k-rater forms are the Spearman-Brown
    # step-up of the single-rater forms.
    res = icc(sf_tidy, targets="target", raters="judge", ratings="rating")
    single = res["icc"].to_numpy()[:3]
    average = res["icc"].to_numpy()[3:]
    assert_allclose(spearman_brown(single, 4), average, rtol=1e-12)


def test_icc_ci_level(sf_tidy):
    wide = icc(sf_tidy, targets="target", raters="judge", ratings="rating", ci=0.95)
    narrow = icc(sf_tidy, targets="target", raters="judge", ratings="rating", ci=0.8)
    assert (narrow["ci_low"] > wide["ci_low"]).all()
    assert (narrow["ci_high"] < wide["ci_high"]).all()
    assert_allclose(narrow["icc"], wide["icc"])


def test_icc_incomplete_design_raises_with_counts(sf_tidy):
    incomplete = sf_tidy.drop(index=[0])  # target 0, judge 0 missing
    with pytest.raises(ValueError, match=r"1 of 6 targets and 1 of 4 raters"):
        icc(incomplete, targets="target", raters="judge", ratings="rating")
    nan_rating = sf_tidy.assign(rating=sf_tidy["rating"].astype(float))
    nan_rating.loc[[0, 7], "rating"] = np.nan
    with pytest.raises(ValueError, match=r"2 of 6 targets and 2 of 4 raters"):
        icc(nan_rating, targets="target", raters="judge", ratings="rating")
    res = icc(
        incomplete,
        targets="target",
        raters="judge",
        ratings="rating",
        nan_policy="omit",
    )
    assert res.attrs["n_targets"] == 5


def test_icc_input_errors(sf_tidy):
    kw = {"targets": "target", "raters": "judge", "ratings": "rating"}
    with pytest.raises(ValueError, match="duplicated"):
        icc(pd.concat([sf_tidy, sf_tidy.head(1)]), **kw)
    with pytest.raises(ValueError, match="ratings='score'"):
        icc(sf_tidy, targets="target", raters="judge", ratings="score")
    with pytest.raises(ValueError, match="nan_policy='drop'"):
        icc(sf_tidy, nan_policy="drop", **kw)
    with pytest.raises(ValueError, match="ci=1.5"):
        icc(sf_tidy, ci=1.5, **kw)
    with pytest.raises(TypeError, match="ratings"):
        icc(sf_tidy.assign(rating=sf_tidy["rating"].astype(str)), **kw)
    with pytest.raises(TypeError, match="DataFrame"):
        icc(SF_RATINGS, **kw)
    with pytest.raises(ValueError, match="at least 2 raters"):
        icc(sf_tidy[sf_tidy["judge"] == 0], **kw)
    with pytest.raises(ValueError, match="at least 2 targets"):
        icc(sf_tidy[sf_tidy["target"] == 0], **kw)


# ---------------------------------------------------------------------------
# Cronbach's alpha
# ---------------------------------------------------------------------------

# Hand-computed case, 4 respondents x 3 items:
#   q1 = 1 2 3 4  mean 2.50  squared deviations 2.25 .25 .25 2.25 -> var 5/3
#   q2 = 2 3 3 5  mean 3.25  1.5625 .0625 .0625 3.0625         -> var 4.75/3
#   q3 = 3 3 4 5  mean 3.75  .5625 .5625 .0625 1.5625           -> var 2.75/3
#   sum of item variances = 12.5 / 3
#   totals 6 8 10 14, mean 9.5, squared deviations 12.25 2.25 .25 20.25
#   -> total variance 35 / 3
#   alpha = 3/2 * (1 - 12.5/35) = 27/28 = 0.964286
HAND = pd.DataFrame({"q1": [1, 2, 3, 4], "q2": [2, 3, 3, 5], "q3": [3, 3, 4, 5]})


def test_alpha_hand_computed():
    res = cronbach_alpha(HAND)
    assert isinstance(res, AlphaResult)
    assert_allclose(res.alpha, 27 / 28, rtol=1e-12)
    assert (res.n, res.k) == (4, 3)
    assert res.ci_low < res.alpha < res.ci_high


def _feldt_ci_from_pingouin_icc(wide):
    """Feldt's interval equals the ICC(C,k) interval (McGraw & Wong 1996).

    alpha == ICC(3,k) for complete data, and pingouin's unrounded ICC CI gives
    the interval to full precision (its cronbach_alpha rounds to 3 decimals).
    """
    tidy = (
        wide.reset_index(drop=True)
        .rename_axis("subj")
        .reset_index()
        .melt(id_vars="subj", var_name="item", value_name="score")
    )
    ref = pg.intraclass_corr(tidy, targets="subj", raters="item", ratings="score")
    row = ref.set_index("Type").loc["ICC(C,k)"]
    return row["ICC"], np.asarray(row["CI95"])


def test_alpha_tidy_dataset_matches_pingouin(unrounded_pingouin):
    data = pg.read_dataset("cronbach_alpha")  # bundled with pingouin, offline
    res = cronbach_alpha(data, subject="Subj", item="Items", score="Scores")
    # value printed in pingouin's docs: (0.5917188485995826, [0.195, 0.84])
    assert_allclose(res.alpha, 0.5917188485995826, atol=1e-10)
    assert_allclose([res.ci_low, res.ci_high], [0.195, 0.840], atol=5e-4 + 1e-12)
    ref_alpha, ref_ci = pg.cronbach_alpha(
        data, items="Items", scores="Scores", subject="Subj"
    )
    assert_allclose(res.alpha, ref_alpha, atol=1e-10)
    assert_allclose([res.ci_low, res.ci_high], ref_ci, atol=5e-4 + 1e-12)
    # 4+ decimals for the interval via the ICC(C,k) identity
    wide = data.pivot_table(index="Subj", columns="Items", values="Scores")
    icc_alpha, icc_ci = _feldt_ci_from_pingouin_icc(wide)
    assert_allclose(res.alpha, icc_alpha, atol=1e-8)
    assert_allclose([res.ci_low, res.ci_high], icc_ci, atol=1e-6)
    # wide input gives the same answer; so does selecting the item columns
    assert_allclose(cronbach_alpha(wide), res, rtol=1e-12)
    selected = cronbach_alpha(wide.assign(other="x"), items=list(wide.columns))
    assert_allclose(selected, res, rtol=1e-12)


def test_alpha_ci_level_and_hand_case_vs_pingouin(unrounded_pingouin):
    res = cronbach_alpha(HAND, ci=0.9)
    icc_alpha, _ = _feldt_ci_from_pingouin_icc(HAND)
    assert_allclose(res.alpha, icc_alpha, atol=1e-10)
    ref_alpha, ref_ci = pg.cronbach_alpha(HAND, ci=0.9)
    assert_allclose([res.ci_low, res.ci_high], ref_ci, atol=5e-4 + 1e-12)


def test_alpha_missing_values_pingouin_documented():
    data = pg.read_dataset("cronbach_wide_missing")  # 12 x 11, 4 missing cells
    # pingouin docs, "In R: psych:alpha(data, use='pairwise')"
    pair = cronbach_alpha(data)
    assert_allclose(pair.alpha, 0.732660835214447, atol=1e-10)
    assert_allclose([pair.ci_low, pair.ci_high], [0.435, 0.909], atol=5e-4 + 1e-12)
    assert (pair.n, pair.k) == (12, 11)
    # pingouin docs, "In R: psych:alpha(data, use='complete.obs')"
    listwise = cronbach_alpha(data, nan_policy="listwise")
    assert_allclose(listwise.alpha, 0.8016949152542373, atol=1e-10)
    assert listwise.n == 9
    # pingouin 0.7 keeps n = 12 (rows before deletion) in the listwise interval
    # ([0.581, 0.933]); we use the 9 complete respondents, which is what
    # pingouin gives on the already-reduced data:
    ref_alpha, ref_ci = pg.cronbach_alpha(data.dropna())
    assert_allclose(listwise.alpha, ref_alpha, atol=1e-10)
    assert_allclose([listwise.ci_low, listwise.ci_high], ref_ci, atol=5e-4 + 1e-12)


def test_alpha_injected_missing_values_match_pingouin(unrounded_pingouin):
    rng = np.random.default_rng(SEED)
    wide = (
        pg.read_dataset("cronbach_alpha")
        .pivot_table(index="Subj", columns="Items", values="Scores")
        .astype(float)
    )
    mask = rng.random(wide.shape) < 0.12
    holed = wide.mask(mask)
    assert holed.isna().any(axis=1).sum() > 2

    pair = cronbach_alpha(holed, nan_policy="pairwise")
    ref_alpha, ref_ci = pg.cronbach_alpha(holed, nan_policy="pairwise")
    assert_allclose(pair.alpha, ref_alpha, atol=1e-10)
    assert_allclose([pair.ci_low, pair.ci_high], ref_ci, atol=5e-4 + 1e-12)
    assert pair.n == len(wide)

    listwise = cronbach_alpha(holed, nan_policy="listwise")
    complete = holed.dropna()
    assert listwise.n == len(complete)
    ref_alpha, _ = pg.cronbach_alpha(holed, nan_policy="listwise")
    assert_allclose(listwise.alpha, ref_alpha, atol=1e-10)
    icc_alpha, icc_ci = _feldt_ci_from_pingouin_icc(complete)
    assert_allclose(listwise.alpha, icc_alpha, atol=1e-8)
    assert_allclose([listwise.ci_low, listwise.ci_high], icc_ci, atol=1e-6)

    # tidy input with the missing rows simply absent gives the same result
    tidy = (
        holed.reset_index()
        .melt(id_vars="Subj", var_name="Items", value_name="s")
        .dropna(subset=["s"])
    )
    tidy_res = cronbach_alpha(tidy, subject="Subj", item="Items", score="s")
    assert_allclose(tidy_res.alpha, pair.alpha, rtol=1e-12)


def test_alpha_input_errors():
    with pytest.raises(ValueError, match="nan_policy='drop'"):
        cronbach_alpha(HAND, nan_policy="drop")
    with pytest.raises(ValueError, match="at least 2 items"):
        cronbach_alpha(HAND[["q1"]])
    with pytest.raises(ValueError, match="at least 2 respondents"):
        cronbach_alpha(HAND.head(1))
    with pytest.raises(ValueError, match="at least 2 respondents"):
        cronbach_alpha(HAND.assign(q1=[1, np.nan, 3, 4]).head(2), nan_policy="listwise")
    with pytest.raises(ValueError, match="ci=0"):
        cronbach_alpha(HAND, ci=0)
    with pytest.raises(ValueError, match="score=None"):
        cronbach_alpha(HAND, subject="q1", item="q2")
    with pytest.raises(ValueError, match="items="):
        cronbach_alpha(HAND, items=["q1", "nope"])
    with pytest.raises(TypeError, match="non-numeric"):
        cronbach_alpha(HAND.assign(q3=list("abcd")))
    with pytest.raises(TypeError, match="DataFrame"):
        cronbach_alpha(HAND.to_numpy())
    with pytest.raises(ValueError, match="variance"):
        cronbach_alpha(pd.DataFrame({"a": [1, 1, 1], "b": [2, 2, 2]}))


# ---------------------------------------------------------------------------
# Spearman-Brown, raters needed, SEM
# ---------------------------------------------------------------------------


def test_spearman_brown_hand_values():
    # 2 * .5 / (1 + .5) = 2/3 ; 5 * .2 / (1 + 4 * .2) = 1 / 1.8
    assert_allclose(spearman_brown(0.5, 2), 2 / 3, rtol=1e-12)
    assert_allclose(spearman_brown([0.5, 0.2], [2, 5]), [2 / 3, 1 / 1.8], rtol=1e-12)
    assert isinstance(spearman_brown(0.5, 2), float)
    # Shrout & Fleiss: ICC(2,1) = .29 -> ICC(2,4) ~ .62
    assert round(spearman_brown(0.29, 4), 2) == 0.62


def test_raters_needed_values():
    # .7 * (1 - .29) / (.29 * .3) = .497 / .087 = 5.7126
    assert_allclose(raters_needed(0.29, 0.7, integer=False), 0.497 / 0.087)
    assert raters_needed(0.29, 0.7) == 6
    assert isinstance(raters_needed(0.29, 0.7), int)
    # exact step-up values do not gain a rater from floating-point noise
    assert raters_needed(0.5, spearman_brown(0.5, 3)) == 3
    assert raters_needed(0.8, 0.5) == 1  # target below single-rater reliability
    np.testing.assert_array_equal(raters_needed([0.29, 0.5], [0.7, 0.8]), [6, 4])


@given(
    r=st.floats(min_value=0.02, max_value=0.98),
    k=st.floats(min_value=1.0, max_value=50.0),
)
def test_raters_needed_inverts_spearman_brown(r, k):
    target = spearman_brown(r, k)
    assert_allclose(raters_needed(r, target, integer=False), k, rtol=1e-7)


def test_sem_values():
    # 10.5 * sqrt(1 - .931) = 10.5 * .262679 = 2.758 ; 15 * sqrt(.09) = 4.5
    assert_allclose(sem(10.5, 0.931), 2.758, atol=5e-4)
    assert_allclose(sem([15, 10], [0.91, 0.75]), [4.5, 5.0], rtol=1e-12)


@pytest.mark.parametrize(
    ("func", "args", "match"),
    [
        (spearman_brown, (1.2, 2), r"reliability=1\.2; expected a number in \[0, 1\]"),
        (spearman_brown, (0.5, 0), r"factor=0"),
        (spearman_brown, ([0.5, -0.1], 2), r"reliability with element -0\.1"),
        (raters_needed, (0.0, 0.8), r"reliability=0\.0; expected a number in \(0, 1\)"),
        (raters_needed, (0.5, 1.0), r"target=1\.0"),
        (sem, (-1, 0.8), r"sd=-1"),
        (sem, (10, np.nan), r"reliability=nan"),
        (reliable_change_threshold, (10, 1.0), r"reliability=1\.0; .*\[0, 1\)"),
        (reliable_change_threshold, (0, 0.8), r"sd=0"),
    ],
)
def test_value_errors_name_parameter(func, args, match):
    with pytest.raises(ValueError, match=match):
        func(*args)


def test_type_errors():
    with pytest.raises(TypeError, match="reliability='high'"):
        spearman_brown("high", 2)
    with pytest.raises(TypeError, match="integer=1"):
        raters_needed(0.5, 0.8, integer=1)
    with pytest.raises(TypeError, match="sd=None"):
        sem(None, 0.8)


# ---------------------------------------------------------------------------
# Reliable change
# ---------------------------------------------------------------------------


def test_reliable_change_threshold_worked_example():
    # SD = 10.5, r = .931: SEM = 10.5 * sqrt(.069) = 2.758,
    # S_diff = sqrt(2) * 2.758 = 3.901, critical = 1.96 * 3.901 = 7.645
    thr = reliable_change_threshold(10.5, 0.931)
    assert isinstance(thr, ChangeThreshold)
    assert_allclose(thr.sem, 2.758, atol=5e-4)
    assert_allclose(thr.s_diff, 3.901, atol=5e-4)
    assert_allclose(thr.critical_change, 7.645, atol=5e-4)
    # 90% level uses z = 1.645
    assert_allclose(
        reliable_change_threshold(10.5, 0.931, ci=0.9).critical_change,
        1.644854 * 3.9006,
        atol=1e-3,
    )


def test_reliable_change_categories_around_threshold():
    crit = reliable_change_threshold(10.5, 0.931).critical_change
    just_above = np.nextafter(crit, np.inf)
    just_below = np.nextafter(crit, 0)
    after = [crit, just_above, just_below, -crit, -just_above, 0.0, 20.0, -20.0]
    res = reliable_change(0.0, after, sd=10.5, reliability=0.931)
    assert list(res.columns) == [
        "before",
        "after",
        "change",
        "se_diff",
        "rci",
        "critical_change",
        "category",
    ]
    assert list(res["category"]) == [
        "no_reliable_change",  # exactly at the threshold: not reliable
        "reliable_improvement",
        "no_reliable_change",
        "no_reliable_change",
        "reliable_decline",
        "no_reliable_change",
        "reliable_improvement",
        "reliable_decline",
    ]
    assert_allclose(res["se_diff"], 3.901, atol=5e-4)
    assert_allclose(res["rci"], np.asarray(after) / res["se_diff"])
    assert_allclose(res.loc[6, "rci"], 20 / 3.9006, atol=1e-3)
    assert list(res["category"].cat.categories) == list(CHANGE_CATEGORIES)


def test_reliable_change_direction_series_alignment_and_missing():
    before = pd.Series([40.0, 40.0, 40.0, np.nan], index=["ann", "bob", "cy", "di"])
    after = pd.Series([50.0, 30.0, 41.0, 45.0], index=["bob", "ann", "cy", "di"])
    res = reliable_change(
        before, after, sd=10.5, reliability=0.931, higher_is_better=False
    )
    assert list(res.index) == ["ann", "bob", "cy", "di"]
    assert_allclose(res["change"].iloc[:3], [-10.0, 10.0, 1.0])
    assert list(res["category"].iloc[:3]) == [
        "reliable_improvement",  # lower is better: a reliable drop improves
        "reliable_decline",
        "no_reliable_change",
    ]
    assert pd.isna(res["category"].iloc[3])


def test_reliable_change_input_errors():
    with pytest.raises(ValueError, match="shape"):
        reliable_change([1, 2, 3], [1, 2], sd=10, reliability=0.8)
    with pytest.raises(ValueError, match="index"):
        reliable_change(
            pd.Series([1.0], index=["a"]),
            pd.Series([2.0], index=["b"]),
            sd=10,
            reliability=0.8,
        )
    with pytest.raises(ValueError, match=r"reliability=1\.0"):
        reliable_change(1, 2, sd=10, reliability=1.0)
    with pytest.raises(ValueError, match="ci=95"):
        reliable_change(1, 2, sd=10, reliability=0.8, ci=95)
    with pytest.raises(TypeError, match="after="):
        reliable_change(1, "2", sd=10, reliability=0.8)
