"""Psychometric reliability and change statistics.

Small, dependency-light implementations of the reliability statistics used to
judge assessment data and of the reliable-change statistics used to judge
whether a re-assessment shows real change:

* :func:`cronbach_alpha` -- internal consistency of a multi-item scale
  (Cronbach 1951) with Feldt's (1965) F-based confidence interval.
* :func:`icc` -- the six Shrout & Fleiss (1979) intraclass correlations for a
  fully crossed targets x raters design, with the F-tests and confidence
  intervals of Shrout & Fleiss (1979) and McGraw & Wong (1996).
* :func:`spearman_brown` and :func:`raters_needed` -- the Spearman-Brown
  prophecy formula and its inverse.
* :func:`sem` -- the standard error of measurement.
* :func:`reliable_change` and :func:`reliable_change_threshold` -- the
  Jacobson & Truax (1991) reliable change index with the Christensen &
  Mendoza (1986) standard error of the difference.

Every function takes plain numbers, array-likes or DataFrames and returns
numbers, a small ``NamedTuple`` or a DataFrame. Invalid input raises
``ValueError`` or ``TypeError`` naming the parameter, the value received and
what is allowed.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as _sps

__all__ = [
    "AlphaResult",
    "ChangeThreshold",
    "CHANGE_CATEGORIES",
    "ICC_TYPES",
    "cronbach_alpha",
    "icc",
    "raters_needed",
    "reliable_change",
    "reliable_change_threshold",
    "sem",
    "spearman_brown",
]

#: ICC forms returned by :func:`icc`, in row order (Shrout & Fleiss 1979).
ICC_TYPES = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")

_ICC_DESCRIPTIONS = (
    "Single raters absolute",
    "Single random raters",
    "Single fixed raters",
    "Average raters absolute",
    "Average random raters",
    "Average fixed raters",
)

#: Categories of :func:`reliable_change`, in (ordered) category order.
CHANGE_CATEGORIES = (
    "reliable_decline",
    "no_reliable_change",
    "reliable_improvement",
)


class AlphaResult(NamedTuple):
    """Result of :func:`cronbach_alpha`.

    Attributes
    ----------
    alpha : float
        Cronbach's coefficient alpha.
    ci_low, ci_high : float
        Lower and upper bounds of the Feldt confidence interval.
    n : int
        Number of respondents the confidence interval is based on.
    k : int
        Number of items.
    """

    alpha: float
    ci_low: float
    ci_high: float
    n: int
    k: int


class ChangeThreshold(NamedTuple):
    """Result of :func:`reliable_change_threshold`.

    Attributes
    ----------
    sem : float or numpy.ndarray
        Standard error of measurement, ``sd * sqrt(1 - reliability)``.
    s_diff : float or numpy.ndarray
        Standard error of the difference of two scores, ``sqrt(2) * sem``.
    critical_change : float or numpy.ndarray
        Smallest absolute change that is reliable at the requested level,
        ``z * s_diff``.
    """

    sem: Any
    s_diff: Any
    critical_change: Any


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------


def _as_float_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as a float array or raise ``TypeError``."""
    if isinstance(value, pd.Series | pd.Index):
        if pd.api.types.is_bool_dtype(value) or not pd.api.types.is_numeric_dtype(
            value
        ):
            raise TypeError(
                f"Got {name} with dtype {value.dtype}; expected numeric values."
            )
        return value.to_numpy(dtype=np.float64, na_value=np.nan)
    if value is None or isinstance(value, str | bytes):
        raise TypeError(f"Got {name}={value!r}; expected a number or array of numbers.")
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"Got {name}={value!r}; expected a number or array of numbers.")
    return arr.astype(np.float64)


def _check_range(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    low_closed: bool,
    high_closed: bool,
) -> np.ndarray:
    """Convert ``value`` to floats and check every element lies in the interval."""
    arr = _as_float_array(name, value)
    above = arr >= low if low_closed else arr > low
    below = arr <= high if high_closed else arr < high
    bad = ~(np.isfinite(arr) & above & below)
    if bad.any():
        left = "[" if low_closed else "("
        right = "]" if high_closed else ")"
        interval = f"{left}{low:g}, {high:g}{right}"
        if arr.ndim == 0:
            shown = f"{name}={arr.item()!r}"
        else:
            pos = int(np.flatnonzero(bad.ravel())[0])
            shown = f"{name} with element {float(arr.ravel()[pos])!r} at position {pos}"
        raise ValueError(f"Got {shown}; expected a number in {interval}.")
    return arr


def _check_ci(ci: Any) -> float:
    if isinstance(ci, bool) or not isinstance(ci, int | float | np.number):
        raise TypeError(f"Got ci={ci!r}; expected a number in (0, 1), e.g. 0.95.")
    if not 0.0 < float(ci) < 1.0:
        raise ValueError(f"Got ci={ci!r}; expected a number in (0, 1), e.g. 0.95.")
    return float(ci)


def _scalar_or_array(result: np.ndarray, *inputs: np.ndarray) -> Any:
    """Return a Python scalar when every input was a scalar."""
    if all(np.ndim(x) == 0 for x in inputs):
        return result.item()
    return result


def _check_columns(data: pd.DataFrame, **columns: Hashable) -> None:
    for param, col in columns.items():
        if col not in data.columns:
            raise ValueError(
                f"Got {param}={col!r}, which is not a column of data; expected one "
                f"of {list(data.columns)!r}."
            )


def _tidy_to_matrix(
    data: pd.DataFrame, row: Hashable, col: Hashable, value: Hashable, names: tuple
) -> tuple[np.ndarray, pd.Index, pd.Index]:
    """Pivot tidy ``data`` to a (rows x columns) float matrix, NaN where missing.

    ``names`` are the parameter names of ``row``, ``col`` and ``value`` (for
    error messages).
    """
    row_name, col_name, value_name = names
    _check_columns(data, **{row_name: row, col_name: col, value_name: value})
    values = data[value]
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        raise TypeError(
            f"Got {value_name}={value!r} with dtype {values.dtype}; expected a "
            "numeric column."
        )
    row_codes, row_labels = pd.factorize(data[row])
    col_codes, col_labels = pd.factorize(data[col])
    for param, colname, codes in (
        (row_name, row, row_codes),
        (col_name, col, col_codes),
    ):
        if (codes < 0).any():
            raise ValueError(
                f"Got {param}={colname!r} with {int((codes < 0).sum())} missing "
                "label(s); expected every row to have a label."
            )
    cell = row_codes.astype(np.int64) * len(col_labels) + col_codes
    if pd.Series(cell).duplicated().any():
        n_dup = int(pd.Series(cell).duplicated().sum())
        raise ValueError(
            f"Got {n_dup} duplicated ({row_name}, {col_name}) pair(s) in columns "
            f"({row!r}, {col!r}); expected at most one {value_name} per pair."
        )
    matrix = np.full((len(row_labels), len(col_labels)), np.nan)
    matrix[row_codes, col_codes] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return matrix, pd.Index(row_labels), pd.Index(col_labels)


# ---------------------------------------------------------------------------
# Cronbach's alpha
# ---------------------------------------------------------------------------


def cronbach_alpha(
    data: pd.DataFrame,
    *,
    items: Sequence[Hashable] | None = None,
    subject: Hashable | None = None,
    item: Hashable | None = None,
    score: Hashable | None = None,
    nan_policy: Literal["pairwise", "listwise"] = "pairwise",
    ci: float = 0.95,
) -> AlphaResult:
    """Cronbach's coefficient alpha with a Feldt confidence interval.

    Parameters
    ----------
    data : pandas.DataFrame
        Either wide (one row per respondent, one column per item) or tidy (one
        row per respondent x item score; give ``subject``, ``item`` and
        ``score``).
    items : sequence of column labels, default=None
        Wide data only: the item columns to use. ``None`` uses every column.
    subject : column label, default=None
        Tidy data only: column identifying the respondent.
    item : column label, default=None
        Tidy data only: column identifying the item.
    score : column label, default=None
        Tidy data only: column holding the numeric score.
    nan_policy : {"pairwise", "listwise"}, default="pairwise"
        ``"listwise"`` drops every respondent with a missing item score.
        ``"pairwise"`` estimates each item variance from the available scores
        of that item and the total-score variance as the sum of the pairwise
        covariance matrix (:meth:`pandas.DataFrame.cov`). Respondents with no
        score at all are always dropped.
    ci : float, default=0.95
        Confidence level of the interval, in (0, 1).

    Returns
    -------
    AlphaResult
        Named tuple with fields ``alpha``, ``ci_low``, ``ci_high``, ``n``
        (respondents the interval is based on: complete respondents for
        ``"listwise"``, all respondents for ``"pairwise"``) and ``k`` (items).

    Raises
    ------
    TypeError
        If ``data`` is not a DataFrame or item scores are not numeric.
    ValueError
        On unknown ``nan_policy``, missing columns, fewer than 2 items or
        respondents, duplicated tidy rows or a zero total-score variance.

    Notes
    -----
    With ``k`` items, item (co)variance matrix ``C`` (pairwise estimates)::

        alpha = k / (k - 1) * (1 - trace(C) / sum(C))

    (Cronbach 1951). For complete data ``sum(C)`` is the variance of the total
    score. The confidence interval is Feldt's (1965; Feldt, Woodruff & Salih
    1987) F-distribution interval with ``df1 = n - 1`` and
    ``df2 = (n - 1)(k - 1)``::

        lower = 1 - (1 - alpha) * F.ppf(1 - (1 - ci) / 2, df1, df2)
        upper = 1 - (1 - alpha) * F.ppf((1 - ci) / 2, df1, df2)

    The pairwise estimate follows ``pingouin.cronbach_alpha`` and R's
    ``psych::alpha(use="pairwise")``. Unlike pingouin (0.7), the listwise
    interval uses the number of *complete* respondents as ``n``.

    References: Cronbach, L. J. (1951). Coefficient alpha and the internal
    structure of tests. *Psychometrika*, 16, 297-334. Feldt, L. S. (1965). The
    approximate sampling distribution of Kuder-Richardson reliability
    coefficient twenty. *Psychometrika*, 30, 357-370.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"q1": [1, 2, 3, 4], "q2": [2, 3, 3, 5],
    ...                      "q3": [3, 3, 4, 5]})
    >>> res = cronbach_alpha(wide)
    >>> print(round(res.alpha, 4), res.n, res.k)
    0.9643 4 3
    >>> tidy = wide.rename_axis("person").reset_index().melt(
    ...     id_vars="person", var_name="question", value_name="answer")
    >>> res = cronbach_alpha(tidy, subject="person", item="question",
    ...                      score="answer")
    >>> print(round(res.alpha, 4), round(res.ci_low, 3), round(res.ci_high, 3))
    0.9643 0.764 0.998
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"Got data of type {type(data).__name__}; expected a pandas DataFrame."
        )
    if nan_policy not in ("pairwise", "listwise"):
        raise ValueError(
            f"Got nan_policy={nan_policy!r}; expected 'pairwise' or 'listwise'."
        )
    ci = _check_ci(ci)

    tidy = {"subject": subject, "item": item, "score": score}
    if any(v is not None for v in tidy.values()):
        if any(v is None for v in tidy.values()):
            raise ValueError(
                f"Got subject={subject!r}, item={item!r}, score={score!r}; expected "
                "all three column names (tidy data) or none of them (wide data)."
            )
        if items is not None:
            raise ValueError(
                f"Got items={items!r} together with tidy columns; expected "
                "items=None for tidy data (select items by filtering rows)."
            )
        matrix, _, labels = _tidy_to_matrix(
            data, subject, item, score, ("subject", "item", "score")
        )
        wide = pd.DataFrame(matrix, columns=labels)
    else:
        if items is not None:
            if isinstance(items, str) or not pd.api.types.is_list_like(items):
                raise TypeError(
                    f"Got items={items!r}; expected a list of column labels."
                )
            missing = [c for c in items if c not in data.columns]
            if missing:
                raise ValueError(
                    f"Got items={list(items)!r}; {missing!r} are not columns of data."
                )
            data = data[list(items)]
        dtypes = data.dtypes
        bad = [
            c
            for c, dt in dtypes.items()
            if pd.api.types.is_bool_dtype(dt) or not pd.api.types.is_numeric_dtype(dt)
        ]
        if bad:
            raise TypeError(
                f"Got non-numeric item column(s) {bad!r} in data; expected numeric "
                "item scores."
            )
        wide = data.astype(np.float64)

    wide = wide.dropna(axis=0, how="all")
    if nan_policy == "listwise":
        wide = wide.dropna(axis=0, how="any")
    n, k = wide.shape
    if k < 2:
        raise ValueError(f"Got k={k} item(s); expected at least 2 items.")
    if n < 2:
        raise ValueError(
            f"Got n={n} respondent(s) (nan_policy={nan_policy!r}); expected at "
            "least 2 respondents with scores."
        )

    cov = wide.cov().to_numpy()
    if np.isnan(cov).any():
        raise ValueError(
            "Got items or item pairs with fewer than 2 jointly observed scores "
            f"(nan_policy={nan_policy!r}); expected enough data to estimate every "
            "item variance and covariance."
        )
    total = cov.sum()
    if not total > 0:
        raise ValueError(
            f"Got a total-score variance of {total!r}; expected a positive "
            "variance (are all scores constant?)."
        )
    alpha = k / (k - 1) * (1.0 - np.trace(cov) / total)

    df1 = n - 1
    df2 = df1 * (k - 1)
    tail = (1.0 - ci) / 2.0
    lower = 1.0 - (1.0 - alpha) * _sps.f.ppf(1.0 - tail, df1, df2)
    upper = 1.0 - (1.0 - alpha) * _sps.f.ppf(tail, df1, df2)
    return AlphaResult(float(alpha), float(lower), float(upper), int(n), int(k))


# ---------------------------------------------------------------------------
# Intraclass correlation
# ---------------------------------------------------------------------------


def icc(
    data: pd.DataFrame,
    *,
    targets: Hashable,
    raters: Hashable,
    ratings: Hashable,
    ci: float = 0.95,
    nan_policy: Literal["raise", "omit"] = "raise",
) -> pd.DataFrame:
    """Shrout & Fleiss intraclass correlations for a targets x raters design.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy data, one row per (target, rater) rating.
    targets : column label
        Column identifying the rated target (e.g. employee).
    raters : column label
        Column identifying the rater (or occasion).
    ratings : column label
        Column with the numeric rating.
    ci : float, default=0.95
        Confidence level of the intervals, in (0, 1).
    nan_policy : {"raise", "omit"}, default="raise"
        The design must be complete (every target rated once by every rater).
        ``"raise"`` raises a ``ValueError`` when it is not; ``"omit"`` drops
        every target with a missing rating.

    Returns
    -------
    pandas.DataFrame
        Six rows, in order ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k, with columns

        * ``type`` -- form, Shrout & Fleiss ICC(1,1), (2,1), (3,1), (1,k),
          (2,k), (3,k);
        * ``description`` -- e.g. ``"Single raters absolute"``;
        * ``icc`` -- the coefficient;
        * ``F``, ``df1``, ``df2``, ``pval`` -- F-test of ``icc = 0``;
        * ``ci_low``, ``ci_high`` -- confidence interval bounds.

        ``result.attrs["mean_squares"]`` holds the ANOVA mean squares
        ``{"MSR", "MSC", "MSE", "MSW"}`` and ``result.attrs["n_targets"]`` /
        ``result.attrs["n_raters"]`` the design size used.

    Raises
    ------
    TypeError
        If ``data`` is not a DataFrame or ratings are not numeric.
    ValueError
        On missing columns, duplicated (target, rater) pairs, an incomplete
        design with ``nan_policy="raise"``, fewer than 2 targets or raters.

    Notes
    -----
    With ``n`` targets and ``k`` raters, the two-way ANOVA gives the mean
    squares MSR (targets, ``n - 1`` df), MSC (raters, ``k - 1`` df), MSE
    (residual, ``(n - 1)(k - 1)`` df) and MSW (within targets,
    ``n(k - 1)`` df). Shrout & Fleiss (1979)::

        ICC1  = (MSR - MSW) / (MSR + (k - 1) MSW)
        ICC2  = (MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n)
        ICC3  = (MSR - MSE) / (MSR + (k - 1) MSE)
        ICC1k = (MSR - MSW) / MSR
        ICC2k = (MSR - MSE) / (MSR + (MSC - MSE) / n)
        ICC3k = (MSR - MSE) / MSR

    ICC1/ICC1k are tested with ``F = MSR / MSW`` on ``(n - 1, n(k - 1))`` df,
    the others with ``F = MSR / MSE`` on ``(n - 1, (n - 1)(k - 1))`` df.
    Intervals for ICC1, ICC3 and their averages are exact F-based intervals;
    ICC2 uses the Satterthwaite approximation of Shrout & Fleiss (1979,
    eq. 8) / McGraw & Wong (1996), and ICC2k its Spearman-Brown step-up. This
    is what ``pingouin.intraclass_corr`` and R's ``psych::ICC`` compute
    (pingouin labels ICC2/ICC3 as ICC(A,1)/ICC(C,1)).

    References: Shrout, P. E., & Fleiss, J. L. (1979). Intraclass
    correlations: Uses in assessing rater reliability. *Psychological
    Bulletin*, 86, 420-428. McGraw, K. O., & Wong, S. P. (1996). Forming
    inferences about some intraclass correlation coefficients.
    *Psychological Methods*, 1, 30-46.

    Examples
    --------
    Shrout & Fleiss (1979), Table 2: six targets rated by four judges.

    >>> import pandas as pd
    >>> wide = pd.DataFrame([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
    ...                      [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    >>> tidy = wide.rename_axis("target").reset_index().melt(
    ...     id_vars="target", var_name="judge", value_name="rating")
    >>> res = icc(tidy, targets="target", raters="judge", ratings="rating")
    >>> for t, v in zip(res["type"], res["icc"]):
    ...     print(t, round(v, 2))
    ICC1 0.17
    ICC2 0.29
    ICC3 0.71
    ICC1k 0.44
    ICC2k 0.62
    ICC3k 0.91
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"Got data of type {type(data).__name__}; expected a pandas DataFrame."
        )
    if nan_policy not in ("raise", "omit"):
        raise ValueError(f"Got nan_policy={nan_policy!r}; expected 'raise' or 'omit'.")
    ci = _check_ci(ci)
    y, _, _ = _tidy_to_matrix(
        data, targets, raters, ratings, ("targets", "raters", "ratings")
    )

    missing = np.isnan(y)
    if missing.any():
        bad_targets = missing.any(axis=1)
        if nan_policy == "raise":
            raise ValueError(
                f"Got an incomplete design: {int(bad_targets.sum())} of "
                f"{y.shape[0]} targets and {int(missing.any(axis=0).sum())} of "
                f"{y.shape[1]} raters have missing ratings; expected every target "
                "rated by every rater (or pass nan_policy='omit' to drop "
                "incomplete targets)."
            )
        y = y[~bad_targets]
        # a rater left without any rating (only rated dropped targets) goes too
        y = y[:, ~np.isnan(y).all(axis=0)] if y.size else y
    n, k = y.shape
    if n < 2:
        raise ValueError(
            f"Got n_targets={n} complete target(s); expected at least 2 targets."
        )
    if k < 2:
        raise ValueError(f"Got n_raters={k} rater(s); expected at least 2 raters.")

    grand = y.mean()
    ss_total = ((y - grand) ** 2).sum()
    ss_rows = k * ((y.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((y.mean(axis=0) - grand) ** 2).sum()
    ss_err = max(ss_total - ss_rows - ss_cols, 0.0)
    df_r, df_c, df_e, df_w = n - 1, k - 1, (n - 1) * (k - 1), n * (k - 1)
    msr = ss_rows / df_r
    msc = ss_cols / df_c
    mse = ss_err / df_e
    msw = (ss_total - ss_rows) / df_w

    tail = (1.0 - ci) / 2.0
    fdist = _sps.f
    with np.errstate(divide="ignore", invalid="ignore"):
        msr_, msc_, mse_, msw_ = (np.float64(m) for m in (msr, msc, mse, msw))
        icc1 = (msr_ - msw_) / (msr_ + (k - 1) * msw_)
        icc2 = (msr_ - mse_) / (msr_ + (k - 1) * mse_ + k * (msc_ - mse_) / n)
        icc3 = (msr_ - mse_) / (msr_ + (k - 1) * mse_)
        icc1k = (msr_ - msw_) / msr_
        icc2k = (msr_ - mse_) / (msr_ + (msc_ - mse_) / n)
        icc3k = (msr_ - mse_) / msr_

        f1 = msr_ / msw_
        f3 = msr_ / mse_
        p1 = fdist.sf(f1, df_r, df_w)
        p3 = fdist.sf(f3, df_r, df_e)

        # ICC1 / ICC3 (Shrout & Fleiss eqs. 6-7, 12-13)
        f1_low = f1 / fdist.ppf(1 - tail, df_r, df_w)
        f1_up = f1 * fdist.ppf(1 - tail, df_w, df_r)
        f3_low = f3 / fdist.ppf(1 - tail, df_r, df_e)
        f3_up = f3 * fdist.ppf(1 - tail, df_e, df_r)
        l1 = (f1_low - 1) / (f1_low + k - 1)
        u1 = (f1_up - 1) / (f1_up + k - 1)
        l3 = (f3_low - 1) / (f3_low + k - 1)
        u3 = (f3_up - 1) / (f3_up + k - 1)

        # ICC2: Satterthwaite df (Shrout & Fleiss eq. 8, McGraw & Wong table 7)
        fj = msc_ / mse_
        a = k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2
        b = n * (1 + (k - 1) * icc2) - k * icc2
        v = df_e * a**2 / (df_r * k**2 * icc2**2 * fj**2 + b**2)
        f2_up = fdist.ppf(1 - tail, df_r, v)
        f2_low = fdist.ppf(1 - tail, v, df_r)
        denom = k * msc_ + (k * n - k - n) * mse_
        l2 = n * (msr_ - f2_up * mse_) / (f2_up * denom + n * msr_)
        u2 = n * (f2_low * msr_ - mse_) / (denom + n * f2_low * msr_)
        l2k = l2 * k / (1 + l2 * (k - 1))
        u2k = u2 * k / (1 + u2 * (k - 1))

    out = pd.DataFrame(
        {
            "type": list(ICC_TYPES),
            "description": list(_ICC_DESCRIPTIONS),
            "icc": np.array([icc1, icc2, icc3, icc1k, icc2k, icc3k], dtype=float),
            "F": np.array([f1, f3, f3, f1, f3, f3], dtype=float),
            "df1": np.full(6, df_r, dtype=np.int64),
            "df2": np.array([df_w, df_e, df_e, df_w, df_e, df_e], dtype=np.int64),
            "pval": np.array([p1, p3, p3, p1, p3, p3], dtype=float),
            "ci_low": np.array(
                [l1, l2, l3, 1 - 1 / f1_low, l2k, 1 - 1 / f3_low], dtype=float
            ),
            "ci_high": np.array(
                [u1, u2, u3, 1 - 1 / f1_up, u2k, 1 - 1 / f3_up], dtype=float
            ),
        }
    )
    out.attrs["mean_squares"] = {
        "MSR": float(msr),
        "MSC": float(msc),
        "MSE": float(mse),
        "MSW": float(msw),
    }
    out.attrs["n_targets"] = int(n)
    out.attrs["n_raters"] = int(k)
    return out


# ---------------------------------------------------------------------------
# Spearman-Brown, SEM
# ---------------------------------------------------------------------------


def spearman_brown(reliability: Any, factor: Any) -> Any:
    """Reliability of a measure lengthened by ``factor`` (Spearman-Brown).

    Parameters
    ----------
    reliability : float or array-like
        Reliability of the original measure (e.g. a single rater), in [0, 1].
    factor : float or array-like
        Lengthening factor, > 0 (e.g. ``k`` raters instead of 1; values < 1
        shorten the measure). Broadcast against ``reliability``.

    Returns
    -------
    float or numpy.ndarray
        Predicted reliability; a float when both inputs are scalars.

    Notes
    -----
    ``r_k = k * r / (1 + (k - 1) * r)`` (Spearman 1910; Brown 1910). The
    inverse is :func:`raters_needed`.

    References: Spearman, C. (1910). Correlation calculated from faulty data.
    *British Journal of Psychology*, 3, 271-295. Brown, W. (1910). Some
    experimental results in the correlation of mental abilities. *British
    Journal of Psychology*, 3, 296-322.

    Examples
    --------
    >>> print(round(spearman_brown(0.29, 4), 3))
    0.62
    >>> print(spearman_brown([0.2, 0.5], 2).round(3))
    [0.333 0.667]
    """
    r = _check_range(
        "reliability", reliability, 0.0, 1.0, low_closed=True, high_closed=True
    )
    k = _check_range("factor", factor, 0.0, np.inf, low_closed=False, high_closed=False)
    out = k * r / (1.0 + (k - 1.0) * r)
    return _scalar_or_array(out, r, k)


def raters_needed(reliability: Any, target: Any, *, integer: bool = True) -> Any:
    """Number of raters needed to reach a target reliability (inverse Spearman-Brown).

    Parameters
    ----------
    reliability : float or array-like
        Single-rater reliability (e.g. ICC2 or ICC3 from :func:`icc`), in
        (0, 1).
    target : float or array-like
        Desired reliability of the averaged ratings, in (0, 1). Broadcast
        against ``reliability``.
    integer : bool, default=True
        If true, round up to a whole number of raters (at least 1); otherwise
        return the real-valued lengthening factor.

    Returns
    -------
    int, float or numpy.ndarray
        Number of raters; a Python scalar when both inputs are scalars.

    Notes
    -----
    Solving the Spearman-Brown formula for the factor::

        n = target * (1 - r) / (r * (1 - target))

    With ``integer=True`` the result is ``ceil(n)``, after rounding ``n`` to
    9 decimals so that floating-point noise (e.g. ``3.0000000000000004``)
    does not add a rater. Reference: Spearman (1910); Brown (1910); see also
    Shrout & Fleiss (1979, p. 426).

    Examples
    --------
    >>> raters_needed(0.29, 0.7)
    6
    >>> print(round(raters_needed(0.29, 0.7, integer=False), 3))
    5.713
    """
    if not isinstance(integer, bool | np.bool_):
        raise TypeError(f"Got integer={integer!r}; expected True or False.")
    r = _check_range(
        "reliability", reliability, 0.0, 1.0, low_closed=False, high_closed=False
    )
    t = _check_range("target", target, 0.0, 1.0, low_closed=False, high_closed=False)
    n = t * (1.0 - r) / (r * (1.0 - t))
    if integer:
        n = np.maximum(np.ceil(np.round(n, 9)), 1.0).astype(np.int64)
    return _scalar_or_array(n, r, t)


def sem(sd: Any, reliability: Any) -> Any:
    """Standard error of measurement.

    Parameters
    ----------
    sd : float or array-like
        Standard deviation of observed scores in the reference group, >= 0.
    reliability : float or array-like
        Reliability of the scores, in [0, 1]. Broadcast against ``sd``.

    Returns
    -------
    float or numpy.ndarray
        ``sd * sqrt(1 - reliability)``; a float when both inputs are scalars.

    Notes
    -----
    Classical test theory: ``SEM = SD * sqrt(1 - r_xx)`` (Lord & Novick
    1968, ch. 3). Reference: Lord, F. M., & Novick, M. R. (1968).
    *Statistical theories of mental test scores*. Addison-Wesley.

    Examples
    --------
    >>> print(round(sem(10.5, 0.931), 3))
    2.758
    """
    s = _check_range("sd", sd, 0.0, np.inf, low_closed=True, high_closed=False)
    r = _check_range(
        "reliability", reliability, 0.0, 1.0, low_closed=True, high_closed=True
    )
    return _scalar_or_array(s * np.sqrt(1.0 - r), s, r)


# ---------------------------------------------------------------------------
# Reliable change
# ---------------------------------------------------------------------------


def _change_inputs(sd: Any, reliability: Any, ci: Any) -> tuple:
    s = _check_range("sd", sd, 0.0, np.inf, low_closed=False, high_closed=False)
    r = _check_range(
        "reliability", reliability, 0.0, 1.0, low_closed=True, high_closed=False
    )
    return s, r, _check_ci(ci)


def reliable_change_threshold(
    sd: Any, reliability: Any, ci: float = 0.95
) -> ChangeThreshold:
    """Standard errors and critical change of the reliable change index.

    Parameters
    ----------
    sd : float or array-like
        Standard deviation of the scores (pre-test or norm group), > 0.
    reliability : float or array-like
        Reliability of the scores (e.g. test-retest or alpha), in [0, 1).
    ci : float, default=0.95
        Two-sided confidence level defining "reliable", in (0, 1).

    Returns
    -------
    ChangeThreshold
        Named tuple with fields ``sem``, ``s_diff`` and ``critical_change``
        (floats for scalar input, arrays otherwise).

    Notes
    -----
    Jacobson & Truax (1991) with the Christensen & Mendoza (1986) standard
    error of the difference::

        SEM             = sd * sqrt(1 - r)
        S_diff          = sqrt(2 * SEM**2) = sqrt(2) * SEM
        critical_change = z_(1 - (1 - ci) / 2) * S_diff

    References: Jacobson, N. S., & Truax, P. (1991). Clinical significance:
    A statistical approach to defining meaningful change in psychotherapy
    research. *Journal of Consulting and Clinical Psychology*, 59, 12-19.
    Christensen, L., & Mendoza, J. L. (1986). A method of assessing change in
    a single subject: An alteration of the RC index. *Behavior Therapy*, 17,
    305-308.

    Examples
    --------
    >>> thr = reliable_change_threshold(10.5, 0.931)
    >>> print(round(thr.sem, 3), round(thr.s_diff, 3), round(thr.critical_change, 3))
    2.758 3.901 7.645
    """
    s, r, ci = _change_inputs(sd, reliability, ci)
    z = _sps.norm.ppf(1.0 - (1.0 - ci) / 2.0)
    sem_ = s * np.sqrt(1.0 - r)
    s_diff = np.sqrt(2.0) * sem_
    return ChangeThreshold(
        _scalar_or_array(sem_, s, r),
        _scalar_or_array(s_diff, s, r),
        _scalar_or_array(z * s_diff, s, r),
    )


def _as_scores(name: str, value: Any) -> tuple[np.ndarray, pd.Index | None]:
    if isinstance(value, pd.DataFrame):
        raise TypeError(
            f"Got {name} as a DataFrame; expected a number, 1-D array-like or Series."
        )
    arr = _as_float_array(name, value)
    if arr.ndim > 1:
        raise ValueError(
            f"Got {name} with shape {arr.shape}; expected a number or a 1-D array."
        )
    index = value.index if isinstance(value, pd.Series) else None
    return arr, index


def reliable_change(
    before: Any,
    after: Any,
    *,
    sd: Any,
    reliability: Any,
    ci: float = 0.95,
    higher_is_better: bool = True,
) -> pd.DataFrame:
    """Jacobson & Truax reliable change index for each before/after pair.

    Parameters
    ----------
    before, after : float, array-like or pandas.Series
        Scores at the two occasions. Scalars broadcast; two Series are aligned
        on their (identical, unique) index labels. Missing scores give a
        missing category.
    sd : float or array-like
        Standard deviation of the scores (pre-test or norm group), > 0.
    reliability : float or array-like
        Reliability of the scores, in [0, 1).
    ci : float, default=0.95
        Two-sided confidence level defining "reliable", in (0, 1).
    higher_is_better : bool, default=True
        Direction of the scale: if false, a reliable decrease counts as
        ``"reliable_improvement"``.

    Returns
    -------
    pandas.DataFrame
        One row per pair (index of the Series input, if any) with columns
        ``before``, ``after``, ``change`` (after - before), ``se_diff``,
        ``rci`` (change / se_diff), ``critical_change`` and ``category``
        (ordered categorical: ``"reliable_decline"``,
        ``"no_reliable_change"``, ``"reliable_improvement"``).

    Notes
    -----
    ``RCI = (after - before) / S_diff`` with ``S_diff = sqrt(2) * sd *
    sqrt(1 - r)`` (Jacobson & Truax 1991; Christensen & Mendoza 1986). A
    change is reliable when ``|RCI| > z_(1 - (1 - ci) / 2)`` (1.96 for
    ``ci=0.95``), evaluated as the equivalent ``|change| > critical_change``
    so that a change exactly at the threshold is not reliable. See
    :func:`reliable_change_threshold` for references.

    Examples
    --------
    >>> res = reliable_change([20, 20, 20], [30, 25, 10], sd=10.5,
    ...                       reliability=0.931)
    >>> print(res[["change", "rci", "category"]].round(2))
       change   rci              category
    0    10.0  2.56  reliable_improvement
    1     5.0  1.28    no_reliable_change
    2   -10.0 -2.56      reliable_decline
    """
    if not isinstance(higher_is_better, bool | np.bool_):
        raise TypeError(
            f"Got higher_is_better={higher_is_better!r}; expected True or False."
        )
    b, b_index = _as_scores("before", before)
    a, a_index = _as_scores("after", after)
    if b_index is not None and a_index is not None and not b_index.equals(a_index):
        if (
            b_index.is_unique
            and a_index.is_unique
            and len(b_index) == len(a_index)
            and b_index.isin(a_index).all()
        ):
            a = pd.Series(a, index=a_index).reindex(b_index).to_numpy()
        else:
            raise ValueError(
                "Got before and after Series with different index labels; "
                "expected the same unique labels (one per person)."
            )
    s, r, ci = _change_inputs(sd, reliability, ci)
    try:
        b, a, s, r = np.broadcast_arrays(b, a, s, r)
    except ValueError:
        raise ValueError(
            f"Got before with shape {b.shape}, after with shape {a.shape}, sd with "
            f"shape {s.shape} and reliability with shape {r.shape}; expected "
            "scalars or arrays of one common length."
        ) from None
    b, a, s, r = (np.atleast_1d(x).astype(np.float64) for x in (b, a, s, r))
    index = b_index if b_index is not None else a_index
    if index is not None and len(index) != len(b):
        index = None

    thr = reliable_change_threshold(s, r, ci)
    se_diff = np.asarray(thr.s_diff, dtype=np.float64)
    critical = np.asarray(thr.critical_change, dtype=np.float64)
    change = a - b
    rci = change / se_diff
    reliable = np.abs(change) > critical  # NaN compares False
    improved = change > 0 if higher_is_better else change < 0
    codes = np.where(~reliable, 1, np.where(improved, 2, 0))
    codes = np.where(np.isnan(change), -1, codes)
    category = pd.Categorical.from_codes(
        codes, categories=list(CHANGE_CATEGORIES), ordered=True
    )
    return pd.DataFrame(
        {
            "before": b,
            "after": a,
            "change": change,
            "se_diff": se_diff,
            "rci": rci,
            "critical_change": critical,
            "category": category,
        },
        index=index,
    )
