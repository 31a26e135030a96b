"""Competency scoring: 360 rules, norms, reliability, strengths and needs.

Data flow of :class:`CompetencyScorer` (all vectorised over whole chunks):

1. select each employee's latest assessment cycle;
2. map items to competencies and apply reverse keys;
3. subtract each rater's leniency (learned in ``fit``) and drop
   non-discriminating raters;
4. average each rater's items per competency (rater level);
5. average raters per rater type, suppressing peer and direct-report groups
   below their anonymity threshold;
6. combine the visible rater types other than self into the score, with its
   standard error from variance components learned in ``fit``;
7. place the score against the fitted norm (percentile), the person's own
   average (ipsative) and their role's requirement (gap), and flag strengths,
   needs, blind spots and hidden strengths.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from devplan._config import Config
from devplan._schema import IMPORTANCES, RATER_TYPES
from devplan._text import TEXT, join_groups

SELF, MANAGER, PEER, DIRECT_REPORT, ASSESSOR = range(len(RATER_TYPES))
OTHERS = (MANAGER, PEER, DIRECT_REPORT, ASSESSOR)
#: Weight of a gap per importance of the competency for the role.
IMPORTANCE_WEIGHTS = {"critical": 1.0, "important": 0.6, "useful": 0.3}
FLAGS = ("blind_spot", "hidden_strength")
AGREEMENT = (
    "over_estimator",
    "under_estimator",
    "in_agreement_good",
    "in_agreement_poor",
)
_NS_PER_DAY = 86_400 * 10**9
_LENIENCY_ROUNDS = 8
#: Fewest replicated cells for a variance estimate of its own.
_MIN_CELLS = 10


class NormPercentiles(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Percentile of each value within its column's fitted distribution.

    A numeric transformer: ``fit`` stores a grid of quantiles per column
    (missing values ignored), ``transform`` returns the mid-rank percentile
    (0-100) of every value, so a value tied with many norm values lands in the
    middle of its tie block. Missing values stay missing.

    Parameters
    ----------
    n_quantiles : int, default=1001
        Size of the stored quantile grid (0, 0.1, ..., 100 by default).

    Attributes
    ----------
    quantiles_ : ndarray of shape (n_quantiles, n_features_in_)
        Fitted quantiles per column (NaN for a column without data).
    n_samples_per_feature_ : ndarray of shape (n_features_in_,)
        Non-missing values per column seen in ``fit``.

    Notes
    -----
    With :math:`F` the empirical CDF interpolated from the quantile grid,
    the percentile of :math:`x` is :math:`50\\,(F(x^-) + F(x))`.

    Examples
    --------
    >>> import numpy as np
    >>> from devplan import NormPercentiles
    >>> norm = NormPercentiles().fit(np.array([[1.0], [2.0], [3.0], [4.0]]))
    >>> norm.transform(np.array([[1.0], [2.5], [5.0]])).round(1).ravel().tolist()
    [0.0, 50.0, 100.0]
    """

    def __init__(self, *, n_quantiles: int = 1001):
        self.n_quantiles = n_quantiles

    def fit(self, X, y=None):
        """Store the quantile grid of every column.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Norm group values; NaN means missing.
        y : None
            Ignored.

        Returns
        -------
        self : NormPercentiles
        """
        if not isinstance(self.n_quantiles, int | np.integer) or self.n_quantiles < 2:
            raise ValueError(
                f"Got n_quantiles={self.n_quantiles!r}; expected an integer >= 2."
            )
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        self.grid_ = np.linspace(0.0, 100.0, int(self.n_quantiles))
        self.n_samples_per_feature_ = (~np.isnan(X)).sum(axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            self.quantiles_ = np.nanpercentile(X, self.grid_, axis=0)
        return self

    def transform(self, X):
        """Mid-rank percentile of every value in its column's norm.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Percentiles from 0 to 100; NaN where ``X`` is NaN or the column had
            no norm data.
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False
        )
        out = np.full(X.shape, np.nan)
        for j in range(X.shape[1]):
            out[:, j] = percentile_of(X[:, j], self.quantiles_[:, j], self.grid_)
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def percentile_of(x: np.ndarray, quantiles: np.ndarray, grid: np.ndarray):
    """Mid-rank percentile of ``x`` given a non-decreasing quantile grid."""
    out = np.full(x.shape, np.nan)
    if np.isnan(quantiles).any():
        return out
    ok = ~np.isnan(x)
    values = x[ok]
    out[ok] = 0.5 * (
        _cdf(values, quantiles, grid, "left") + _cdf(values, quantiles, grid, "right")
    )
    return out


def _cdf(x, q, p, side):
    i = np.searchsorted(q, x, side=side)
    res = np.where(i == 0, 0.0, 100.0)
    mid = (i > 0) & (i < len(q))
    a, b = i[mid] - 1, i[mid]
    frac = (x[mid] - q[a]) / (q[b] - q[a])
    res[mid] = p[a] + frac * (p[b] - p[a])
    return res


class CompetencyScorer(TransformerMixin, BaseEstimator):
    """Score competencies from 360 and psychometric ratings.

    ``fit`` learns the norm group (the distribution of every competency's
    score), the item map, rater leniency and the variance components behind
    standard errors; ``transform`` scores any assessments, including new
    people, against them. :meth:`profiles` gives the full per employee ×
    competency table of the data contract.

    Parameters
    ----------
    scale_min, scale_max : float, default=1, 5
        The rating scale; reverse-keyed items score
        ``scale_min + scale_max - score``.
    rater_weights : dict or None, default=None
        Weight of each rater type other than self in the score, e.g.
        ``{"manager": 2, "peer": 1, "direct_report": 1, "assessor": 1}``.
        ``None`` weighs every visible type by the precision of its mean (the
        inverse of its error variance), so five peers count for more than one
        manager. Types that are missing or suppressed for a person drop out
        and the rest are re-weighted.
    peer_min_raters, direct_report_min_raters : int, default=3
        Anonymity thresholds. A smaller peer or direct-report group is
        suppressed in every output and not folded into the score.
    leniency_correction : bool, default=True
        Centre every rater who rated at least ``leniency_min_ratees`` people
        (self ratings are never corrected).
    leniency_method : {"co_rater", "own_mean"}, default="co_rater"
        What a rater is centred on. ``"own_mean"``: their mean rating minus
        the grand mean of all ratings by others. ``"co_rater"``: their effect
        in the additive model score = person × competency + rater + error,
        estimated only where others rated the same people, so that someone
        who happens to rate a strong (or senior) team is not mistaken for a
        lenient rater.
    leniency_min_ratees : int, default=3
        How many people a rater must have rated (with co-raters, for
        ``"co_rater"``) to be centred.
    exclude_non_discriminating : bool, default=True
        Leave out raters who gave one and the same score to every item of
        every person (at least ``min_ratings_to_judge`` ratings).
    min_ratings_to_judge : int, default=6
        Ratings needed before a rater can be judged non-discriminating.
    cycle : "latest" or str date, default="latest"
        Which assessment cycle to score per employee: the latest, or the
        latest on or before the given date.
    cycle_window_days : int, default=120
        Ratings within this many days before a cycle's last rating belong to
        the same cycle. Undated ratings belong to no particular cycle and
        count with the latest one.
    norm_by : None or "role_level", default=None
        Norms over everyone, or per role level (levels with fewer than
        ``min_norm_size`` people use the overall norm).
    min_norm_size : int, default=30
        Smallest norm group per role level.
    strength_percentile : float, default=75
        Percentile a competency must reach to be a strength.
    ipsative_top : int, default=5
        A strength must also be among the person's own top competencies.
    min_strength_confidence : float, default=0.5
        A strength needs at least this confidence.
    need_z : float, default=1.0
        A need is a shortfall larger than ``need_z`` standard errors of the
        others score (the measurement error of the ratings).
    blind_spot_threshold : float or None, default=None
        Self minus others gap for a blind spot (negative: hidden strength);
        ``None`` means one third of the scale points.
    agreement_threshold : float, default=0.5
        Mean self minus others gap beyond which a person over- or
        under-estimates themselves.
    shrinkage : bool, default=True
        Report as ``score`` the empirical Bayes estimate of the true level:
        the observed others score pulled toward what the person's other
        competencies predict, the more the less reliable it is (Kelley's
        formula). ``others_score`` always keeps what the raters said.

    Attributes
    ----------
    competencies_ : Index
        Competencies scored (the output columns of ``transform``).
    item_competency_ : Series
        Competency of each item (index item_id).
    item_reverse_ : Series
        Whether each item is reverse keyed.
    leniency_ : Series
        Offset subtracted from each corrected rater's ratings (index rater_id).
    non_discriminating_ : Index
        Raters flagged as giving no variance.
    rater_flags_ : DataFrame
        ``rater_id, n_ratings, n_ratees, leniency, non_discriminating``.
    item_variance_ : ndarray of shape (n_competencies,)
        Pooled variance of items around their rater's mean (sigma squared).
    type_error_ : ndarray of shape (n_competencies, 5)
        Error variance of one rater's competency score per rater type.
    typical_items_ : ndarray of shape (n_competencies, 5)
        Items a rater of each type usually answers per competency.
    true_variance_ : ndarray of shape (n_competencies,)
        Variance of true scores in the norm group.
    reliability_ : DataFrame
        Per competency: ``competency_id, alpha, alpha_ci_low, alpha_ci_high,
        n_items, n_responses``.
    norms_ : dict
        NormPercentiles per norm group (``"all"`` and, with ``norm_by``, each
        role level).

    Notes
    -----
    For rater type :math:`t` with :math:`n_t` raters, each with error
    variance :math:`v_t` (learned in ``fit``: from the spread within rater
    groups, or of single raters around the group consensus), plus
    :math:`\\sigma^2 (1/m - 1/\\bar m_t)` for a rater who answered :math:`m`
    items instead of the usual :math:`\\bar m_t`, the error variance of the
    type's mean is :math:`SE_t^2 = v_t / n_t`; the score's standard error
    combines the types with their weights, :math:`SE^2 = \\sum_t w_t^2
    SE_t^2 / (\\sum_t w_t)^2`, and confidence is the reliability of the score,
    :math:`\\sigma^2_{true} / (\\sigma^2_{true} + SE^2)`.

    Examples
    --------
    >>> from devplan import CompetencyScorer
    >>> from devplan.datasets import load_sample
    >>> bundle = load_sample()
    >>> scorer = CompetencyScorer().fit(bundle)
    >>> wide = scorer.transform(bundle)
    >>> wide.shape == (200, len(scorer.competencies_))
    True
    >>> prof = scorer.profiles(bundle)
    >>> sorted(prof.columns[:4])
    ['competency_id', 'employee_id', 'n_raters', 'score']
    """

    def __init__(
        self,
        *,
        scale_min: float = 1.0,
        scale_max: float = 5.0,
        rater_weights: dict | None = None,
        peer_min_raters: int = 3,
        direct_report_min_raters: int = 3,
        leniency_correction: bool = True,
        leniency_method: str = "co_rater",
        leniency_min_ratees: int = 3,
        exclude_non_discriminating: bool = True,
        min_ratings_to_judge: int = 6,
        cycle: str = "latest",
        cycle_window_days: int = 120,
        norm_by: str | None = None,
        min_norm_size: int = 30,
        strength_percentile: float = 75.0,
        ipsative_top: int = 5,
        min_strength_confidence: float = 0.5,
        need_z: float = 1.0,
        blind_spot_threshold: float | None = None,
        agreement_threshold: float = 0.5,
        shrinkage: bool = True,
    ):
        self.scale_min = scale_min
        self.scale_max = scale_max
        self.rater_weights = rater_weights
        self.peer_min_raters = peer_min_raters
        self.direct_report_min_raters = direct_report_min_raters
        self.leniency_correction = leniency_correction
        self.leniency_method = leniency_method
        self.leniency_min_ratees = leniency_min_ratees
        self.exclude_non_discriminating = exclude_non_discriminating
        self.min_ratings_to_judge = min_ratings_to_judge
        self.cycle = cycle
        self.cycle_window_days = cycle_window_days
        self.norm_by = norm_by
        self.min_norm_size = min_norm_size
        self.strength_percentile = strength_percentile
        self.ipsative_top = ipsative_top
        self.min_strength_confidence = min_strength_confidence
        self.need_z = need_z
        self.blind_spot_threshold = blind_spot_threshold
        self.agreement_threshold = agreement_threshold
        self.shrinkage = shrinkage

    @classmethod
    def from_config(cls, config: Config, **overrides) -> CompetencyScorer:
        """A scorer with the scale and scoring settings of a :class:`Config`.

        Parameters
        ----------
        config : Config
            Run settings.
        **overrides
            Any constructor parameter, taking precedence.

        Returns
        -------
        CompetencyScorer
        """
        params = config.scoring.model_dump()
        params.update(
            scale_min=config.scale_min,
            scale_max=config.scale_max,
            blind_spot_threshold=config.blind_spot_threshold,
        )
        params.update(overrides)
        return cls(**params)

    # ------------------------------------------------------------------
    # parameters and inputs

    def _check_params(self) -> None:
        if not self.scale_min < self.scale_max:
            raise ValueError(
                f"Got scale_min={self.scale_min!r} and scale_max={self.scale_max!r};"
                " expected scale_min < scale_max."
            )
        for name in (
            "peer_min_raters",
            "direct_report_min_raters",
            "leniency_min_ratees",
            "min_ratings_to_judge",
            "ipsative_top",
            "min_norm_size",
            "cycle_window_days",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"Got {name}={value!r}; expected an integer >= 1.")
        if self.leniency_method not in ("co_rater", "own_mean"):
            raise ValueError(
                f"Got leniency_method={self.leniency_method!r}; expected 'co_rater' "
                "or 'own_mean'."
            )
        if self.norm_by not in (None, "role_level"):
            raise ValueError(
                f"Got norm_by={self.norm_by!r}; expected None or 'role_level'."
            )
        if not 0 < self.strength_percentile < 100:
            raise ValueError(
                f"Got strength_percentile={self.strength_percentile!r}; expected a "
                "number between 0 and 100."
            )
        if not 0 <= self.min_strength_confidence <= 1:
            raise ValueError(
                f"Got min_strength_confidence={self.min_strength_confidence!r}; "
                "expected a number between 0 and 1."
            )
        self._weights()
        if self.cycle != "latest":
            try:
                pd.Timestamp(self.cycle)
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"Got cycle={self.cycle!r}; expected 'latest' or an ISO date."
                ) from exc

    def _weights(self) -> np.ndarray:
        weights = np.zeros(len(RATER_TYPES))
        weights[list(OTHERS)] = 1.0
        if self.rater_weights is not None:
            for key, value in dict(self.rater_weights).items():
                if key not in RATER_TYPES or key == "self":
                    raise ValueError(
                        f"Got rater_weights key {key!r}; expected manager, peer, "
                        "direct_report or assessor."
                    )
                if not np.isfinite(value) or value < 0:
                    raise ValueError(
                        f"Got rater_weights[{key!r}]={value!r}; expected a number >= 0."
                    )
                weights[RATER_TYPES.index(key)] = float(value)
        if weights[list(OTHERS)].sum() <= 0:
            raise ValueError("Got rater_weights that are all 0; expected one > 0.")
        return weights

    @property
    def _blind_spot(self) -> float:
        if self.blind_spot_threshold is not None:
            return float(self.blind_spot_threshold)
        return (self.scale_max - self.scale_min + 1) / 3

    # ------------------------------------------------------------------
    # fit

    def fit(self, X, y=None, *, items=None, employees=None, roles=None):
        """Learn norms, the item map, rater leniency and error variances.

        Parameters
        ----------
        X : Bundle or DataFrame
            A validated bundle, or its ``assessments`` table.
        y : None
            Ignored.
        items, employees, roles : DataFrame or None, default=None
            Tables of the bundle when ``X`` is a DataFrame: ``items`` maps item
            ratings to competencies; ``employees`` and ``roles`` give role
            levels for ``norm_by="role_level"``.

        Returns
        -------
        self : CompetencyScorer
        """
        self._check_params()
        tables = _tables(X, items=items, employees=employees, roles=roles)
        a = tables["assessments"]
        self._fit_items(tables["items"], a, tables["competencies"])
        rows = self._rows(a, fitting=True)
        groups = self._groups(rows)
        self._fit_leniency(rows, groups)
        self._correct(groups)
        levels = self._levels(groups, len(rows["employees"]), fitting=True)
        observed, observed_se = levels["observed"], levels["observed_se"]
        self.n_employees_ = int((~np.isnan(observed)).any(axis=1).sum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # unrated competencies
            total = np.nanvar(observed, axis=0)
            error = np.nanmean(observed_se**2, axis=0)
            self.competency_mean_ = np.nanmean(observed, axis=0)
        self.true_variance_ = np.maximum(total - error, 0.01 * total)
        self._fit_prior(observed, observed_se)
        matrix, _ = self._estimate(observed, observed_se)
        level_of = _role_levels(rows["employees"], tables["employees"], tables["roles"])
        self.norms_ = {"all": NormPercentiles().fit(matrix)}
        if self.norm_by == "role_level":
            for level in pd.unique(level_of.dropna()):
                member = (level_of == level).to_numpy()
                if member.sum() >= self.min_norm_size:
                    self.norms_[str(level)] = NormPercentiles().fit(matrix[member])
        self.reliability_ = self._reliability(rows, groups)
        return self

    def _fit_items(self, items, a: pd.DataFrame, known=None) -> None:
        comps = set() if known is None else {str(c) for c in pd.unique(known)}
        if items is not None and len(items):
            self.item_competency_ = pd.Series(
                items["competency_id"].astype(str).to_numpy(),
                index=pd.Index(items["item_id"].astype(str), name="item_id"),
                name="competency_id",
            )
            reverse = items.get("reverse_keyed", pd.Series(False, index=items.index))
            self.item_reverse_ = pd.Series(
                reverse.fillna(False).astype(bool).to_numpy(),
                index=self.item_competency_.index,
                name="reverse_keyed",
            )
            comps |= set(self.item_competency_)
        else:
            self.item_competency_ = pd.Series([], dtype="str", name="competency_id")
            self.item_reverse_ = pd.Series([], dtype=bool, name="reverse_keyed")
        direct = a["competency_id"].dropna()
        comps |= {str(c) for c in pd.unique(direct.astype(str))}
        order = (
            list(pd.unique(self.item_competency_)) if len(self.item_competency_) else []
        )
        order += sorted(comps - set(order))
        self.competencies_ = pd.Index(order, name="competency_id", dtype="str")

    # ------------------------------------------------------------------
    # row level: cycle, item map, reverse keys, leniency

    def _rows(self, a: pd.DataFrame, *, fitting: bool, universe=None) -> dict:
        """Rating rows as integer codes, ready for aggregation.

        Every column is turned into codes through its categories (one lookup
        per category, one take per row), and rows are selected once.
        """
        emp = _categorical(a["employee_id"])
        if universe is None:
            employees = pd.Index(emp.cat.categories, dtype="str")
        else:
            employees = pd.Index(universe, dtype="str")
        e = _take(employees.get_indexer(emp.cat.categories), emp)
        keep = e >= 0
        keep &= self._cycle_mask(a, e, len(employees))

        rater_type = _categorical(a["rater_type"])
        t = _take(
            pd.Index(RATER_TYPES).get_indexer(rater_type.cat.categories), rater_type
        )
        keep &= t >= 0

        c = np.full(len(a), -1, dtype=np.int32)
        i = c
        rev = np.zeros(len(a), dtype=bool)
        if "item_id" in a and len(self.item_competency_):
            item = _categorical(a["item_id"])
            cats = pd.Index(item.cat.categories.astype(str))
            comp_of = self.competencies_.get_indexer(
                self.item_competency_.reindex(cats).to_numpy()
            )
            c = _take(comp_of, item)
            i = _take(self.item_competency_.index.get_indexer(cats), item)
            rev_of = self.item_reverse_.reindex(cats).fillna(False).to_numpy(bool)
            rev = _take(rev_of.astype(np.int32), item, missing=0).astype(bool)
        if "competency_id" in a:
            direct = _categorical(a["competency_id"])
            dcomp = self.competencies_.get_indexer(direct.cat.categories.astype(str))
            c = np.where(c >= 0, c, _take(dcomp, direct))
        keep &= c >= 0

        x = a["score"].to_numpy(dtype=np.float64)
        keep &= ~np.isnan(x)
        if rev.any():
            x = np.where(rev, self.scale_min + self.scale_max - x, x)

        if "rater_id" in a:
            rater = _categorical(a["rater_id"])
            raters = pd.Index(rater.cat.categories.astype(str))
            r = rater.cat.codes.to_numpy().astype(np.int64)
        else:
            raters = pd.Index([], dtype="str")
            r = np.full(len(a), -1, dtype=np.int64)
        if not fitting and self.exclude_non_discriminating:
            flat = raters.isin(self.non_discriminating_).astype(np.int32)
            keep &= _take(flat, r, missing=0) == 0

        if not keep.all():
            e, t, c, x, r, i = e[keep], t[keep], c[keep], x[keep], r[keep], i[keep]
        if fitting:
            self._flag_raters(t, x, r, raters)
            if self.exclude_non_discriminating and len(self.non_discriminating_):
                flat = raters.isin(self.non_discriminating_).astype(np.int32)
                ok = _take(flat, r, missing=0) == 0
                e, t, c, x, r, i = e[ok], t[ok], c[ok], x[ok], r[ok], i[ok]
        # Named raters other than self can be corrected for leniency.
        named = (r >= 0) & (t != SELF)
        # Self ratings come from one rater; unnamed other raters are told
        # apart by the order of their ratings of the same item.
        r = np.where(t == SELF, 0, r)
        unnamed = r < 0
        if unnamed.any():
            # the k-th rating of the same item (or competency) is rater k
            n_items = len(self.item_competency_)
            unit = np.where(i >= 0, i, n_items + c)[unnamed].astype(np.int64)
            span = n_items + len(self.competencies_)
            key = (e[unnamed].astype(np.int64) * span + unit) * len(RATER_TYPES) + t[
                unnamed
            ]
            order = pd.Series(key).groupby(key).cumcount().to_numpy()
            r[unnamed] = len(raters) + order
        return {
            "e": e.astype(np.int64),
            "t": t,
            "c": c,
            "x": x,
            "r": r,
            "i": i,
            "named": named,
            "raters": raters,
            "employees": employees,
        }

    def _cycle_mask(self, a: pd.DataFrame, e: np.ndarray, n_emp: int) -> np.ndarray:
        if "assessed_on" not in a:
            return np.ones(len(a), dtype=bool)
        values = a["assessed_on"].to_numpy()
        if values.dtype.kind != "M":
            values = pd.to_datetime(a["assessed_on"]).to_numpy()
        unit = np.datetime_data(values.dtype)[0]
        dates = values.view(np.int64)
        per_day = int(np.timedelta64(1, "D") / np.timedelta64(1, unit))
        nat = np.iinfo(np.int64).min
        dated = dates != nat
        if self.cycle != "latest":
            limit = np.datetime64(pd.Timestamp(self.cycle).date(), unit).view(np.int64)
            dated &= dates <= limit
        valid = e >= 0
        use = valid & dated
        if not len(dates):
            return np.zeros(0, dtype=bool)
        if use.all() and dates.min() == dates.max():
            emp_latest = dates  # one date for everyone
        else:
            latest = np.full(n_emp, nat, dtype=np.int64)
            per_person = pd.Series(dates[use]).groupby(e[use]).max()
            latest[per_person.index.to_numpy()] = per_person.to_numpy()
            emp_latest = np.where(valid, latest[np.maximum(e, 0)], nat)
        window = int(self.cycle_window_days) * per_day
        in_cycle = dated & (dates >= emp_latest - window) & (dates <= emp_latest)
        if self.cycle == "latest":
            # Undated ratings carry no cycle: they count with the latest one.
            in_cycle |= dates == nat
        return in_cycle

    def _flag_raters(self, t, x, r, raters: pd.Index) -> None:
        """Ratings per rater and raters who never vary (non-discriminating)."""
        others = (r >= 0) & (t != SELF)
        n_r = len(raters)
        ro, xo = r[others], x[others]
        n_ratings = np.bincount(ro, minlength=n_r)
        sums = np.bincount(ro, weights=xo, minlength=n_r)
        squares = np.bincount(ro, weights=xo**2, minlength=n_r)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = sums / n_ratings
            var = squares / n_ratings - mean**2
        flat = (n_ratings >= self.min_ratings_to_judge) & (np.abs(var) < 1e-12)
        self.non_discriminating_ = pd.Index(raters[flat], name="rater_id")
        self.rater_flags_ = pd.DataFrame(
            {
                "rater_id": raters,
                "n_ratings": n_ratings,
                "mean": mean,
                "non_discriminating": flat,
            }
        )

    def _groups(self, rows: dict) -> dict:
        """Rater-level aggregates: one group per rater × person × competency."""
        e, t, c, x, r = rows["e"], rows["t"], rows["c"], rows["x"], rows["r"]
        g, cell1, first = _rater_groups(e, t, c, r, len(self.competencies_))
        n_groups = len(cell1)
        rater = np.where(rows["named"][first], r[first], -1)
        return {
            "g": g,
            "cell": cell1,
            "n": np.bincount(g, minlength=n_groups),
            "sum": np.bincount(g, weights=x, minlength=n_groups),
            "squares": np.bincount(g, weights=x**2, minlength=n_groups),
            "rater": rater,  # named rater other than self, else -1
        }

    def _fit_leniency(self, rows: dict, groups: dict) -> None:
        """Leniency offsets per named rater, from rater-level aggregates."""
        raters = rows["raters"]
        n_r = len(raters)
        n_comp, n_type = len(self.competencies_), len(RATER_TYPES)
        named = groups["rater"] >= 0
        rater, n, total = (
            groups["rater"][named],
            groups["n"][named],
            groups["sum"][named],
        )
        person_comp = groups["cell"][named] // n_type
        person = person_comp // n_comp
        n_emp = len(rows["employees"])
        pairs = np.unique(rater * n_emp + person)
        n_ratees = np.bincount(pairs // n_emp, minlength=n_r)
        if self.leniency_method == "own_mean":
            count = np.bincount(rater, weights=n, minlength=n_r)
            sums = np.bincount(rater, weights=total, minlength=n_r)
            with np.errstate(invalid="ignore", divide="ignore"):
                deviation = sums / count - total.sum() / max(n.sum(), 1)
            support = n_ratees
        else:
            deviation, support = _co_rater_effects(
                rater, person_comp, total, n, n_r, n_emp, n_comp
            )
        centred = (support >= self.leniency_min_ratees) & bool(self.leniency_correction)
        offset = np.where(centred, deviation, 0.0)
        self.rater_flags_ = self.rater_flags_.assign(
            n_ratees=n_ratees, leniency=np.where(centred, offset, np.nan)
        )[["rater_id", "n_ratings", "n_ratees", "leniency", "non_discriminating"]]
        self.leniency_ = pd.Series(
            offset[centred], index=raters[centred], name="leniency"
        )

    def _correct(self, groups: dict, raters: pd.Index | None = None) -> None:
        """Subtract each named rater's leniency from their group sums."""
        if not len(self.leniency_):
            groups["offset"] = np.zeros(len(groups["n"]))
            return
        if raters is None:
            raters = self.rater_flags_["rater_id"]
        offset = self.leniency_.reindex(pd.Index(raters)).fillna(0.0).to_numpy()
        per_group = _take(offset, groups["rater"], missing=0.0)
        groups["offset"] = per_group
        groups["sum"] = groups["sum"] - groups["n"] * per_group

    # ------------------------------------------------------------------
    # rater and rater-type levels

    def _levels(self, groups: dict, n_emp: int, *, fitting: bool = False) -> dict:
        """Aggregate rater-level groups to rater-type level, then the score."""
        n_comp, n_type = len(self.competencies_), len(RATER_TYPES)
        cell1, n1, s1 = groups["cell"], groups["n"], groups["sum"]
        m1 = s1 / n1
        size = n_emp * n_comp * n_type
        n2 = np.bincount(cell1, minlength=size).reshape(n_emp, n_comp, n_type)
        s2 = np.bincount(cell1, weights=m1, minlength=size).reshape(n2.shape)
        items2 = np.bincount(cell1, weights=n1, minlength=size).reshape(n2.shape)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean2 = s2 / n2
        suppressed = np.zeros(n2.shape, dtype=bool)
        suppressed[..., PEER] = (n2[..., PEER] > 0) & (
            n2[..., PEER] < self.peer_min_raters
        )
        suppressed[..., DIRECT_REPORT] = (n2[..., DIRECT_REPORT] > 0) & (
            n2[..., DIRECT_REPORT] < self.direct_report_min_raters
        )
        visible = np.where(suppressed, np.nan, mean2)
        if fitting:
            with np.errstate(invalid="ignore", divide="ignore"):
                mbar = items2 / n2
            within = groups["squares"] - (s1 + n1 * groups["offset"]) ** 2 / n1
            self._fit_variances(within, n1, m1, cell1, n2, s2, mbar, visible)
        # Weights and errors only for cells that have raters (a minority of
        # the person × competency × type grid), summed back per person ×
        # competency with bincount.
        present = np.flatnonzero(n2.ravel())
        type_p = present % n_type
        comp_p = (present // n_type) % n_comp
        pair_p = present // n_type
        n_p = n2.ravel()[present]
        mean_p = s2.ravel()[present] / n_p
        error_p = self.type_error_[comp_p, type_p]
        # a rater who answered fewer items than usual is less precise
        extra = self.item_variance_[comp_p] * (
            n_p / items2.ravel()[present] - 1.0 / self.typical_items_[comp_p, type_p]
        )
        err_p = np.maximum(error_p + extra, 0.05 * error_p) / n_p
        weights = self._weights()
        use_p = ~suppressed.ravel()[present] & (weights[type_p] > 0)
        if self.rater_weights is None:
            # precision weights: each visible type by 1 / its error variance
            w_p = np.where(use_p, 1.0 / err_p, 0.0)
        else:
            w_p = np.where(use_p, weights[type_p], 0.0)
        cells = n_emp * n_comp
        w_sum = np.bincount(pair_p, weights=w_p, minlength=cells)
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.bincount(pair_p, weights=w_p * mean_p, minlength=cells) / w_sum
            se = np.sqrt(np.bincount(pair_p, weights=w_p**2 * err_p, minlength=cells))
            se = se / w_sum
        score = score.reshape(n_emp, n_comp)
        se = se.reshape(n_emp, n_comp)
        w_sum = w_sum.reshape(n_emp, n_comp)
        n_raters = np.bincount(
            pair_p, weights=np.where(use_p, n_p, 0), minlength=cells
        ).reshape(n_emp, n_comp)
        score[w_sum == 0] = np.nan
        se[w_sum == 0] = np.nan
        if fitting:
            estimate, estimate_se = score, se  # the prior is fitted afterwards
        else:
            estimate, estimate_se = self._estimate(score, se)
        return {
            "observed": score,
            "observed_se": se,
            "score": estimate,
            "se": estimate_se,
            "type_mean": visible,
            "type_n": n2,
            "suppressed": suppressed,
            "n_raters": n_raters.astype(np.int64),
        }

    def _fit_variances(self, within, n1, m1, cell1, n2, s2, mbar, visible):
        """Error variance of one rater's competency score, per type.

        Types rated by groups (peers, direct reports) take it from the spread
        of raters within a group; single raters (manager, assessor, self) from
        their spread around the visible group consensus of the same people,
        less the consensus's own error and the type's mean difference.
        """
        n_comp, n_type = n2.shape[1], n2.shape[2]
        # sigma^2: items around their rater's mean, pooled per competency
        comp1 = (cell1 // n_type) % n_comp
        num = np.bincount(comp1, weights=within, minlength=n_comp)
        den = np.bincount(comp1, weights=n1 - 1, minlength=n_comp)
        with np.errstate(invalid="ignore", divide="ignore"):
            sigma2 = num / den
        finite = np.isfinite(sigma2) & (sigma2 > 0)
        fallback = sigma2[finite].mean() if finite.any() else 0.5
        sigma2 = np.where(finite, sigma2, fallback)

        sq2 = np.bincount(cell1, weights=m1**2, minlength=n2.size).reshape(n2.shape)
        present = n2 > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            typical = np.where(present, mbar, 0.0).sum(axis=0) / present.sum(axis=0)
            multi = n2 > 1
            spread = np.where(multi, sq2 - s2**2 / n2, 0.0).sum(axis=0)
            dof = np.where(multi, n2 - 1, 0).sum(axis=0)
            error = spread / dof
        error[dof < _MIN_CELLS] = np.nan

        # consensus: visible peer and direct-report groups pooled
        group = [PEER, DIRECT_REPORT]
        n_ref = np.where(np.isnan(visible[..., group]), 0, n2[..., group]).sum(axis=2)
        s_ref = np.where(np.isnan(visible[..., group]), 0.0, s2[..., group]).sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            ref = s_ref / n_ref
            known = np.isfinite(error[:, group])
            group_error = np.where(known, error[:, group], 0.0).sum(axis=1) / known.sum(
                axis=1
            )
            ref_err = group_error[None, :] / n_ref
        for t in (SELF, MANAGER, ASSESSOR):
            single = (n2[..., t] == 1) & (n_ref > 0)
            count = single.sum(axis=0)
            diff = np.where(single, s2[..., t] - ref, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                bias = diff.sum(axis=0) / count
                spread_t = (np.where(single, (diff - bias) ** 2, 0.0)).sum(axis=0)
                noise = np.where(single, ref_err, 0.0).sum(axis=0) / count
                estimate = spread_t / np.maximum(count - 1, 1) - noise
            estimate[count < _MIN_CELLS] = np.nan
            error[:, t] = np.where(np.isnan(error[:, t]), estimate, error[:, t])
        # anything still unknown: the competency's pooled value, else sigma^2
        known = np.isfinite(error)
        with np.errstate(invalid="ignore", divide="ignore"):
            pooled = np.where(known, error, 0.0).sum(axis=1) / known.sum(axis=1)
        pooled = np.where(np.isfinite(pooled), pooled, sigma2)
        error = np.where(known, error, pooled[:, None])
        typical = np.where(np.isfinite(typical) & (typical > 0), typical, 1.0)
        self.item_variance_ = sigma2
        self.type_error_ = np.maximum(error, 0.05 * sigma2[:, None])
        self.typical_items_ = typical

    def _fit_prior(self, observed: np.ndarray, observed_se: np.ndarray) -> None:
        """Spread of true scores around the person's level, per competency."""
        deviation = observed - self.competency_mean_[None, :]
        level = _leave_one_out_mean(deviation)
        residual = deviation - level
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # unrated competencies
            spread = np.nanvar(residual, axis=0) - np.nanmean(observed_se**2, axis=0)
        spread = np.where(np.isfinite(spread), spread, self.true_variance_)
        # the person's other competencies only help where they predict this
        # one better than the population does
        self.use_profile_ = spread < self.true_variance_
        self.profile_variance_ = np.maximum(
            np.minimum(spread, self.true_variance_), 0.05 * self.true_variance_
        )

    def _estimate(self, observed: np.ndarray, observed_se: np.ndarray):
        """Empirical Bayes estimate of the true level and its standard error.

        The prior for a person's competency is the competency mean shifted by
        the person's average deviation on their other competencies; the
        estimate moves from it toward the observed score in proportion to
        the score's reliability, ``B = tau^2 / (tau^2 + SE^2)``.
        """
        if not self.shrinkage:
            return observed, observed_se
        deviation = observed - self.competency_mean_[None, :]
        level = _leave_one_out_mean(deviation)
        alone = np.isnan(level) | ~self.use_profile_[None, :]
        prior = self.competency_mean_[None, :] + np.where(alone, 0.0, level)
        spread = np.where(
            alone, self.true_variance_[None, :], self.profile_variance_[None, :]
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            weight = spread / (spread + observed_se**2)
        estimate = prior + weight * (observed - prior)
        return estimate, np.sqrt(weight) * observed_se

    def _reliability(self, rows: dict, groups: dict) -> pd.DataFrame:
        """Cronbach's alpha of each competency's items over all responses.

        A response is one rater's ratings of one person (a rater-level group);
        its items are the columns. Pairwise deletion keeps responses with
        skipped items. Ratings are leniency-corrected first.
        """
        from devplan.stats import cronbach_alpha

        n_comp = len(self.competencies_)
        item_comp = self.competencies_.get_indexer(self.item_competency_.to_numpy())
        n_items = np.bincount(item_comp[item_comp >= 0], minlength=n_comp)
        records = pd.DataFrame(
            {
                "competency_id": list(self.competencies_),
                "alpha": np.nan,
                "alpha_ci_low": np.nan,
                "alpha_ci_high": np.nan,
                "n_items": n_items,
                "n_responses": 0,
            }
        )
        i, g = rows["i"], groups["g"]
        item_rows = np.flatnonzero(i >= 0)
        if not len(item_rows):
            return records
        x = rows["x"][item_rows] - groups["offset"][g[item_rows]]
        comp = rows["c"][item_rows].astype(np.int16)
        order = np.argsort(comp, kind="stable")
        bounds = np.searchsorted(comp[order], np.arange(n_comp + 1))
        # column of each item within its competency
        column = np.zeros(len(item_comp), dtype=np.int64)
        for j in range(n_comp):
            members = np.flatnonzero(item_comp == j)
            column[members] = np.arange(len(members))
        alpha = np.full((n_comp, 3), np.nan)
        n_responses = np.zeros(n_comp, dtype=np.int64)
        for j in range(n_comp):
            if n_items[j] < 2 or bounds[j] == bounds[j + 1]:
                continue
            sel = order[bounds[j] : bounds[j + 1]]
            resp = _first_seen_codes(g[item_rows[sel]])
            wide = np.full((resp.max() + 1, n_items[j]), np.nan)
            wide[resp, column[i[item_rows[sel]]]] = x[sel]
            wide = wide[(~np.isnan(wide)).sum(axis=1) >= 2]
            if len(wide) < 3:
                continue
            try:
                res = cronbach_alpha(pd.DataFrame(wide), nan_policy="pairwise")
            except ValueError:
                continue  # no variance or too little overlap: alpha undefined
            alpha[j] = res.alpha, res.ci_low, res.ci_high
            n_responses[j] = len(wide)
        records[["alpha", "alpha_ci_low", "alpha_ci_high"]] = alpha
        records["n_responses"] = n_responses
        return records

    # ------------------------------------------------------------------
    # transform and profiles

    def _score(self, X, *, items=None, employees=None, roles=None):
        check_is_fitted(self, "norms_")
        tables = _tables(X, items=items, employees=employees, roles=roles)
        emp = tables["employees"]
        universe = None if emp is None else emp["employee_id"].astype(str)
        rows = self._rows(tables["assessments"], fitting=False, universe=universe)
        groups = self._groups(rows)
        self._correct(groups, rows["raters"])
        levels = self._levels(groups, len(rows["employees"]))
        return tables, rows["employees"], levels

    def transform(self, X, *, items=None, employees=None, roles=None):
        """Scores of every employee (rows) on every competency (columns).

        Parameters
        ----------
        X : Bundle or DataFrame
            A validated bundle, or an ``assessments`` table.
        items, employees, roles : DataFrame or None, default=None
            Only used when ``X`` is a DataFrame; ``employees`` fixes the rows.

        Returns
        -------
        DataFrame
            Index ``employee_id``; one column per competency
            (:meth:`get_feature_names_out`); NaN where not scored.
        """
        _, employees_index, levels = self._score(
            X, items=items, employees=employees, roles=roles
        )
        return pd.DataFrame(
            levels["score"],
            index=pd.Index(employees_index, name="employee_id"),
            columns=list(self.competencies_),
        )

    def get_feature_names_out(self, input_features=None):
        """Competency ids, the columns of :meth:`transform`."""
        check_is_fitted(self, "competencies_")
        return np.asarray(self.competencies_, dtype=object)

    def profiles(self, X, *, items=None, employees=None, roles=None) -> pd.DataFrame:
        """The ``profiles`` table: one row per employee × competency.

        Rows exist for every competency a person was rated on or their role
        requires.

        Parameters
        ----------
        X : Bundle or DataFrame
            A validated bundle, or an ``assessments`` table.
        items, employees, roles : DataFrame or None, default=None
            Tables of the bundle when ``X`` is a DataFrame.

        Returns
        -------
        DataFrame
            Columns: ``employee_id, competency_id, score`` (the estimated
            true level: ``others_score`` shrunk by reliability, see
            ``shrinkage``), ``n_raters`` (raters behind the score),
            ``percentile`` (mid-rank, against the fitted norm),
            ``is_strength, is_need, gap`` (required level minus score),
            ``confidence`` (reliability of the others score, 0-1),
            ``self_other_gap`` (self minus others score), ``others_score``
            (weighted mean of the visible rater types other than self) and
            its standard error ``others_se``, ``se`` (standard error of
            ``score``),
            ``ipsative`` (score minus the person's mean), ``ipsative_rank``,
            ``required_level, importance, weighted_gap`` (positive gap times
            the importance weight), ``strength_rank, need_rank``,
            ``flag`` (blind_spot / hidden_strength), one ``<type>_score`` and
            ``n_<type>`` per rater type, ``peer_suppressed,
            direct_report_suppressed``, ``scored, not_scored_reason``.
        """
        tables, employees_index, lv = self._score(
            X, items=items, employees=employees, roles=roles
        )
        score, se = lv["score"], lv["se"]
        n_emp, n_comp = score.shape
        scored = ~np.isnan(score)

        level_of = _role_levels(employees_index, tables["employees"], tables["roles"])
        percentile = self.norms_["all"].transform(score)
        for level, norm in self.norms_.items():
            if level == "all":
                continue
            member = (level_of == level).to_numpy()
            if member.any():
                # competencies with too little data at this level keep the
                # overall norm
                enough = norm.n_samples_per_feature_ >= self.min_norm_size
                level_pct = norm.transform(score[member])
                percentile[member] = np.where(
                    enough[None, :], level_pct, percentile[member]
                )

        with np.errstate(invalid="ignore"):
            confidence = self.true_variance_[None, :] / (
                self.true_variance_[None, :] + lv["observed_se"] ** 2
            )
        person_mean = _row_nanmean(score)
        ipsative = score - person_mean[:, None]
        rank = _row_rank(score)

        required, importance = _requirements(
            employees_index, tables["employees"], tables["roles"], self.competencies_
        )
        gap = required - score
        imp_weight = np.array([IMPORTANCE_WEIGHTS[i] for i in IMPORTANCES])
        weight = np.where(importance >= 0, imp_weight[np.maximum(importance, 0)], 0.0)
        with np.errstate(invalid="ignore"):
            weighted_gap = np.where(gap > 0, gap * weight, 0.0)
            # a need must exceed the measurement error of the ratings
            is_need = scored & (gap > self.need_z * lv["observed_se"])
            is_strength = (
                scored
                & (percentile >= self.strength_percentile)
                & (rank <= self.ipsative_top)
                & (ipsative > 0)
                & (confidence >= self.min_strength_confidence)
            )
        strength_rank = _row_rank(np.where(is_strength, score, np.nan))
        need_rank = _row_rank(np.where(is_need, weighted_gap + gap * 1e-9, np.nan))

        self_score = lv["type_mean"][..., SELF]
        self_gap = self_score - lv["observed"]
        threshold = self._blind_spot
        flag = np.full(score.shape, -1, dtype=np.int8)
        flag[self_gap >= threshold - 1e-12] = 0
        flag[self_gap <= -threshold + 1e-12] = 1

        n_type = lv["type_n"]
        others_n = n_type[..., list(OTHERS)].sum(axis=2)
        reason = np.full(score.shape, -1, dtype=np.int8)
        reason[~scored & (n_type.sum(axis=2) == 0)] = 0
        reason[~scored & (n_type.sum(axis=2) > 0) & (others_n == 0)] = 1
        visible_n = np.where(lv["suppressed"], 0, n_type)[..., list(OTHERS)].sum(axis=2)
        reason[~scored & (others_n > 0)] = 2
        reason[~scored & (visible_n > 0)] = 3
        reasons = np.array(
            [
                "no ratings",
                "only a self rating",
                "only rater groups below the anonymity threshold",
                "only rater types weighted 0",
            ],
            dtype=object,
        )

        include = (n_type.sum(axis=2) > 0) | ~np.isnan(required)
        ei, ci = np.nonzero(include)

        def take(values):
            return values[ei, ci]

        comps = np.asarray(self.competencies_, dtype=object)
        out = {
            "employee_id": pd.Series(np.asarray(employees_index, dtype=object)[ei]),
            "competency_id": pd.Series(comps[ci]),
            "score": take(score),
            "n_raters": take(lv["n_raters"]).astype(np.int64),
            "percentile": take(percentile),
            "is_strength": take(is_strength),
            "is_need": take(is_need),
            "gap": take(gap),
            "confidence": take(confidence),
            "self_other_gap": take(self_gap),
            "others_score": take(lv["observed"]),
            "others_se": take(lv["observed_se"]),
            "se": take(se),
            "ipsative": take(ipsative),
            "ipsative_rank": take(rank),
            "required_level": take(required),
            "importance": pd.Categorical.from_codes(
                take(importance), categories=list(IMPORTANCES)
            ),
            "weighted_gap": take(np.where(np.isnan(gap), np.nan, weighted_gap)),
            "strength_rank": take(strength_rank),
            "need_rank": take(need_rank),
            "flag": pd.Categorical.from_codes(take(flag), categories=list(FLAGS)),
        }
        for code, name in enumerate(RATER_TYPES):
            out[f"{name}_score"] = take(lv["type_mean"][..., code])
        for code, name in enumerate(RATER_TYPES):
            out[f"n_{name}"] = take(n_type[..., code]).astype(np.int64)
        out["peer_suppressed"] = take(lv["suppressed"][..., PEER])
        out["direct_report_suppressed"] = take(lv["suppressed"][..., DIRECT_REPORT])
        out["scored"] = take(scored)
        out["not_scored_reason"] = pd.Series(
            np.where(take(reason) >= 0, reasons[np.maximum(take(reason), 0)], None)
        ).astype("str")
        profiles = pd.DataFrame(out)
        profiles = profiles.astype({"employee_id": "str", "competency_id": "str"})
        for column in ("ipsative_rank", "strength_rank", "need_rank"):
            profiles[column] = profiles[column].astype("Int64")
        return profiles

    # ------------------------------------------------------------------
    # persistence

    def save(self, path: str | Path) -> Path:
        """Save the fitted scorer, so next year's cycle uses the same norms.

        Parameters
        ----------
        path : str or Path
            Target file (joblib format).

        Returns
        -------
        Path
        """
        from devplan import __version__
        from devplan._bundle import atomic_path

        check_is_fitted(self, "norms_")
        path = Path(path)
        with atomic_path(path) as tmp:
            joblib.dump({"devplan_version": __version__, "model": self}, tmp)
        return path

    @classmethod
    def load(cls, path: str | Path) -> CompetencyScorer:
        """Load a scorer saved with :meth:`save`.

        Only load files you trust: joblib files can run code when loaded.

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        CompetencyScorer
        """
        content = joblib.load(path)
        model = content.get("model") if isinstance(content, dict) else None
        if not isinstance(model, cls):
            raise ValueError(f"{path}: not a saved {cls.__name__}.")
        return model


# ----------------------------------------------------------------------
# helpers


def _tables(X, *, items, employees, roles) -> dict:
    from devplan._bundle import Bundle

    if isinstance(X, Bundle):
        return {
            "assessments": X.assessments,
            "items": X.items if len(X.items) else None,
            "employees": X.employees,
            "roles": X.roles,
            "competencies": X.competencies["competency_id"],
        }
    if isinstance(X, pd.DataFrame):
        missing = {"employee_id", "rater_type", "score"} - set(X.columns)
        if missing:
            raise ValueError(
                f"Got an assessments table without {', '.join(sorted(missing))}; "
                "expected the columns of the data contract."
            )
        return {
            "assessments": X,
            "items": items,
            "employees": employees,
            "roles": roles,
            "competencies": None if roles is None else roles["competency_id"],
        }
    raise TypeError(
        f"Got X of type {type(X).__name__}; expected a devplan Bundle or an "
        "assessments DataFrame."
    )


def _co_rater_effects(rater, cell, total, n, n_r, n_emp, n_comp):
    """Rater effects of the additive model score = cell + rater + error.

    Works on rater-level aggregates (``total`` of ``n`` ratings by ``rater``
    in person × competency ``cell``). Alternating least squares: cell means
    of the corrected scores, then each rater's mean difference from them,
    using only cells that more than one rater scored (a rater alone on a
    person says nothing about their own leniency). Effects are centred on
    zero (weighted by ratings), so scores keep their level. Returns the
    effects and the number of co-rated people behind each.
    """
    cells, local = np.unique(cell, return_inverse=True)
    raters_in_cell = np.bincount(local)
    shared = raters_in_cell[local] > 1
    rs, cs, ts, ns = rater[shared], local[shared], total[shared], n[shared]
    n_cell = np.bincount(cs, weights=ns, minlength=len(cells))
    n_rated = np.bincount(rs, weights=ns, minlength=n_r)
    effect = np.zeros(n_r)
    for _ in range(_LENIENCY_ROUNDS):
        corrected = ts - ns * effect[rs]
        level = np.bincount(cs, weights=corrected, minlength=len(cells))
        level = level / np.maximum(n_cell, 1)
        residual = np.bincount(rs, weights=ts - ns * level[cs], minlength=n_r)
        effect = np.where(n_rated > 0, residual / np.maximum(n_rated, 1), 0.0)
        if n_rated.sum():
            effect -= (effect * n_rated).sum() / n_rated.sum()
    people = np.unique(rs * n_emp + cells[cs] // n_comp)
    support = np.bincount(people // n_emp, minlength=n_r)
    return effect, support


def _rater_groups(e, t, c, r, n_comp):
    """Group ratings by rater × person × competency (× type).

    Returns the group of every row, each group's person × competency × type
    cell, and one row of each group. Exports usually hold one rater's form
    for one person in consecutive rows, competencies in order: then groups
    are runs, found in one pass. Forms in one run each but competencies
    mixed take a dense key; anything else hashes every row.
    """
    n_type = len(RATER_TYPES)
    n = len(e)
    if n:
        change = np.empty(n, dtype=bool)
        change[0] = True
        np.not_equal(e[1:], e[:-1], out=change[1:])
        change[1:] |= r[1:] != r[:-1]
        change[1:] |= t[1:] != t[:-1]
        starts = np.flatnonzero(change)
        span = int(r.max()) + 2
        form = (e[starts] * span + r[starts] + 1) * n_type + t[starts]
        if len(pd.unique(form)) == len(starts):  # every form is one run
            step = np.empty(n, dtype=bool)
            step[0] = False
            np.less(c[1:], c[:-1], out=step[1:])
            if not (step & ~change).any():
                # competencies in order inside each form: groups are runs
                boundary = change.copy()
                boundary[1:] |= c[1:] != c[:-1]
                first = np.flatnonzero(boundary)
                g = np.cumsum(boundary) - 1
                return g, (e[first] * n_comp + c[first]) * n_type + t[first], first
            run = np.cumsum(change) - 1
            dense = run * n_comp + c
            counts = np.bincount(dense, minlength=len(starts) * n_comp)
            present = np.flatnonzero(counts)
            position = np.full(len(counts), -1, dtype=np.int64)
            position[present] = np.arange(len(present))
            g = position[dense]
            form_cell = (e[starts] * n_comp) * n_type + t[starts]
            cell1 = form_cell[present // n_comp] + (present % n_comp) * n_type
            return g, cell1, _first_rows(g, len(present))
    cell = (e * n_comp + c) * n_type + t
    span = int(r.max(initial=0)) + 2
    g, uniques = pd.factorize(cell * span + (r + 1))
    return g, uniques // span, _first_rows(g, len(uniques))


def _first_rows(g: np.ndarray, n_groups: int) -> np.ndarray:
    """Index of the first row of every group."""
    first = np.empty(n_groups, dtype=np.int64)
    first[g[::-1]] = np.arange(len(g) - 1, -1, -1)
    return first


def _take(per_category: np.ndarray, codes, *, missing=-1) -> np.ndarray:
    """``per_category[codes]`` with ``missing`` where a code is −1.

    ``codes`` is an integer array or a categorical Series.
    """
    if isinstance(codes, pd.Series):
        codes = codes.cat.codes.to_numpy()
    per_category = np.asarray(per_category)
    dtype = np.int32 if per_category.dtype.kind in "iu" else per_category.dtype
    extended = np.append(per_category, missing).astype(dtype)
    return extended[codes]


def _categorical(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s
    text = s.astype("str")
    return text.astype("category")


def _leave_one_out_mean(values: np.ndarray) -> np.ndarray:
    """Mean of each row without the cell itself; NaN when no other cell."""
    present = ~np.isnan(values)
    count = present.sum(axis=1, keepdims=True)
    total = np.where(present, values, 0.0).sum(axis=1, keepdims=True)
    own = np.where(present, values, 0.0)
    rest = count - present
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rest > 0, (total - own) / rest, np.nan)


def _row_nanmean(values: np.ndarray) -> np.ndarray:
    present = ~np.isnan(values)
    count = present.sum(axis=1)
    total = np.where(present, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _row_rank(values: np.ndarray) -> np.ndarray:
    """1 for the largest value in each row; NaN stays NaN (ties by column)."""
    filled = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(-filled, axis=1, kind="stable")
    rank = np.empty_like(order)
    rows = np.arange(values.shape[0])[:, None]
    rank[rows, order] = np.arange(1, values.shape[1] + 1)[None, :]
    return np.where(np.isnan(values), np.nan, rank.astype(float))


def _role_levels(universe, employees, roles) -> pd.Series:
    index = pd.Index(universe, dtype="str")
    if employees is None or roles is None or "role_level" not in roles:
        return pd.Series(pd.NA, index=index, dtype="str")
    level = roles.dropna(subset=["role_level"]).drop_duplicates("role_id")
    level = level.set_index("role_id")["role_level"].astype("str")
    role_of = employees.drop_duplicates("employee_id").set_index("employee_id")[
        "role_id"
    ]
    return role_of.reindex(index).map(level).astype("str")


def _requirements(universe, employees, roles, competencies):
    """Required level and importance code per employee × competency."""
    n_emp, n_comp = len(universe), len(competencies)
    required = np.full((n_emp, n_comp), np.nan)
    importance = np.full((n_emp, n_comp), -1, dtype=np.int8)
    if employees is None or roles is None or not len(roles):
        return required, importance
    role_ids = pd.Index(pd.unique(roles["role_id"].astype(str)))
    r = role_ids.get_indexer(roles["role_id"].astype(str))
    c = pd.Index(competencies).get_indexer(roles["competency_id"].astype(str))
    ok = c >= 0
    role_req = np.full((len(role_ids), n_comp), np.nan)
    role_imp = np.full((len(role_ids), n_comp), -1, dtype=np.int8)
    role_req[r[ok], c[ok]] = roles["required_level"].to_numpy(dtype=float)[ok]
    imp = pd.Index(IMPORTANCES).get_indexer(
        roles["importance"].astype(object).fillna("important")
    )
    role_imp[r[ok], c[ok]] = imp[ok]
    role_of = employees.drop_duplicates("employee_id").set_index("employee_id")[
        "role_id"
    ]
    codes = role_ids.get_indexer(
        role_of.reindex(pd.Index(universe, dtype="str")).astype(object)
    )
    has = codes >= 0
    required[has] = role_req[codes[has]]
    importance[has] = role_imp[codes[has]]
    return required, importance


def _first_seen_codes(keys: np.ndarray) -> np.ndarray:
    """Codes ``0, 1, ...`` of ``keys`` in order of first appearance.

    What ``pd.factorize(keys)[0]`` gives, without hashing when equal keys
    sit in runs of ascending keys (rater-level groups in row order do).
    """
    if len(keys) and np.all(keys[1:] >= keys[:-1]):
        codes = np.zeros(len(keys), dtype=np.int64)
        np.cumsum(keys[1:] != keys[:-1], out=codes[1:])
        return codes
    return pd.factorize(keys)[0]


def summarise_profiles(profiles: pd.DataFrame, *, agreement_threshold: float = 0.5):
    """One row per employee: signature strengths, ranked needs, self-other fit.

    Parameters
    ----------
    profiles : DataFrame
        A table from :meth:`CompetencyScorer.profiles`.
    agreement_threshold : float, default=0.5
        Mean self minus others gap (scale points) beyond which a person is an
        over- or under-estimator.

    Returns
    -------
    DataFrame
        Columns ``employee_id, n_scored, n_strengths, n_needs,
        signature_strengths`` (``;``-list, strongest first), ``needs``
        (``;``-list, largest weighted gap first), ``mean_self_other_gap,
        mean_percentile, self_other_category`` (over_estimator,
        under_estimator, in_agreement_good, in_agreement_poor: Atwater &
        Yammarino's categories, "good" meaning others rate the person at or
        above the norm median on average).

    Examples
    --------
    >>> from devplan import CompetencyScorer, summarise_profiles
    >>> from devplan.datasets import load_sample
    >>> bundle = load_sample()
    >>> summary = summarise_profiles(CompetencyScorer().fit(bundle).profiles(bundle))
    >>> len(summary)
    200
    """
    p = profiles
    grouped = p.groupby("employee_id", sort=False)
    # people in order of first appearance, as the groupby gives them
    person, people = pd.factorize(p["employee_id"])
    out = pd.DataFrame(
        {
            "n_scored": grouped["scored"].sum().astype(np.int64),
            "n_strengths": grouped["is_strength"].sum().astype(np.int64),
            "n_needs": grouped["is_need"].sum().astype(np.int64),
            "mean_self_other_gap": grouped["self_other_gap"].mean(),
            "mean_percentile": grouped["percentile"].mean(),
        }
    )
    for column, flag, rank in (
        ("signature_strengths", "is_strength", "strength_rank"),
        ("needs", "is_need", "need_rank"),
    ):
        rows = np.flatnonzero(p[flag].to_numpy(dtype=bool))
        rows = rows[np.lexsort((p[rank].to_numpy()[rows], person[rows]))]
        ids = pa.array(p["competency_id"].astype("str").to_numpy()[rows], TEXT)
        joined = join_groups(person[rows], ids, len(people), ";")
        text = joined.to_numpy(zero_copy_only=False)
        out[column] = pd.Series(text, index=out.index, dtype="str")
    gap = out["mean_self_other_gap"]
    category = np.where(
        gap > agreement_threshold,
        AGREEMENT[0],
        np.where(
            gap < -agreement_threshold,
            AGREEMENT[1],
            np.where(out["mean_percentile"] >= 50, AGREEMENT[2], AGREEMENT[3]),
        ),
    )
    category = np.where(gap.isna(), None, category)
    out["self_other_category"] = pd.Categorical(category, categories=list(AGREEMENT))
    out = out.reset_index()
    columns = [
        "employee_id",
        "n_scored",
        "n_strengths",
        "n_needs",
        "signature_strengths",
        "needs",
        "mean_self_other_gap",
        "mean_percentile",
        "self_other_category",
    ]
    return out[columns]
