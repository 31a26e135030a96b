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

import shutil
import tempfile
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
#: Employees per block when :meth:`CompetencyScorer.fit` cuts the ratings into
#: blocks for :meth:`CompetencyScorer.fit_blocks`; a run that cuts its blocks
#: the same way gets the same fit, bit for bit.
FIT_BLOCK_EMPLOYEES = 20_000
_ASSESSMENT_COLUMNS = (
    "employee_id",
    "rater_type",
    "rater_id",
    "item_id",
    "competency_id",
    "score",
    "assessed_on",
)
_ID_COLUMNS = ("employee_id", "rater_type", "rater_id", "item_id", "competency_id")
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

        Notes
        -----
        The ratings are cut into blocks of 20,000 employees, in the order of
        the employees table (then any other rated employee, sorted; without
        an employees table, the rated employees sorted), and fitted with
        :meth:`fit_blocks`. A run that feeds :meth:`fit_blocks` with blocks
        cut the same way gets the same fit, bit for bit.
        """
        self._check_params()
        tables = _tables(X, items=items, employees=employees, roles=roles)
        blocks = _employee_blocks(
            tables["assessments"], tables["employees"], FIT_BLOCK_EMPLOYEES
        )
        return self.fit_blocks(
            blocks,
            items=tables["items"],
            employees=tables["employees"],
            roles=tables["roles"],
            competencies=tables["competencies"],
        )

    def fit_blocks(
        self,
        blocks,
        *,
        items=None,
        employees=None,
        roles=None,
        competencies=None,
        workdir=None,
    ):
        """Fit on ratings given block by block, for organisations too large
        to hold every rating in memory.

        Every part of the fit is either a person's own (their cycle, their
        raters, their scores) or a sum over people (per rater, per
        competency and rater type, per item pair), so the ratings can come
        in blocks of employees: memory holds one block plus arrays per rater
        and per employee × competency. The fitted attributes mean exactly
        what :meth:`fit` gives them.

        Parameters
        ----------
        blocks : callable
            ``blocks()`` returns a fresh iterator of ``(employee_ids,
            assessments)`` pairs: ``employee_ids`` an index of the block's
            employees (some may have no ratings), ``assessments`` every
            validated rating row of those employees and no others. Blocks are
            disjoint and come in the same order on every call. It is called
            twice (two passes over the ratings). Id columns may be
            categoricals whose categories differ between blocks.
        items, employees, roles : DataFrame or None, default=None
            The bundle's tables: ``items`` maps item ratings to competencies;
            ``employees`` and ``roles`` give role levels for
            ``norm_by="role_level"``.
        competencies : DataFrame, list-like or None, default=None
            The framework's competencies (a table with ``competency_id`` or
            the ids); ``None`` takes those of ``roles``.
        workdir : str, Path or None, default=None
            Folder for what later steps need of each block (rater-level sums,
            item responses), written as ``.npy`` files in a fresh subfolder
            that is removed at the end. ``None`` keeps them in memory.

        Returns
        -------
        self : CompetencyScorer

        Raises
        ------
        TypeError
            If ``blocks`` is not callable or gives something other than
            pairs of ids and a DataFrame.
        ValueError
            If a block rates employees outside its ``employee_ids``, an
            employee is in two blocks, or the second call gives other blocks.

        See Also
        --------
        fit : the same fit on a bundle held in memory (it cuts the bundle
            into blocks of 20,000 employees and calls this method).

        Notes
        -----
        Pass 1 reads each block for the rated employees, rater ids (numbered
        in sorted order over all blocks), direct competency ids and each
        rater's count, sum and sum of squares (non-discriminating raters).
        Pass 2 forms the rater-level groups of each block and keeps them
        (``workdir``). The leniency rounds, the variance components, the
        observed scores and Cronbach's alpha then run block by block over
        the kept groups. Alpha uses pairwise sums of the item responses
        accumulated over blocks, equal to the pairwise covariance matrix of
        :func:`devplan.stats.cronbach_alpha` up to rounding.

        Sums over people are added row after row, a block's rows after the
        running total of the blocks before it, as one sum over all rows
        would add them. So the same blocks always give the same fit, bit for
        bit, and when the ratings come grouped by employee (in the order of
        the blocks) the fit does not depend on where the blocks are cut
        (alpha, whose item-pair sums are added block by block, to rounding
        error). Within a block, people are taken in sorted order of their
        ids. Otherwise fits agree to rounding error.

        Examples
        --------
        >>> import pandas as pd
        >>> from devplan import CompetencyScorer
        >>> from devplan.datasets import load_sample
        >>> bundle = load_sample()
        >>> a = bundle.assessments
        >>> people = pd.Index(bundle.employees["employee_id"])
        >>> def blocks():
        ...     for start in range(0, len(people), 64):
        ...         ids = people[start : start + 64]
        ...         yield ids, a[a["employee_id"].isin(ids)]
        >>> scorer = CompetencyScorer().fit_blocks(
        ...     blocks,
        ...     items=bundle.items,
        ...     employees=bundle.employees,
        ...     roles=bundle.roles,
        ...     competencies=bundle.competencies,
        ... )
        >>> whole = CompetencyScorer().fit(bundle)
        >>> float(abs(scorer.true_variance_ - whole.true_variance_).max()) < 1e-12
        True
        """
        self._check_params()
        if not callable(blocks):
            raise TypeError(
                f"Got blocks of type {type(blocks).__name__}; expected a callable "
                "that returns an iterator of (employee_ids, assessments) pairs."
            )
        self._fit_item_map(items)
        scan = self._scan(blocks)
        self._set_competencies(_competency_ids(competencies, roles), scan["direct"])
        flat = self._flag_raters(scan)
        sizes = [len(u) for u in scan["universes"]]
        with _Spill(workdir) as spill:
            sums = self._collect(blocks, scan, flat, spill)
            offset = self._fit_leniency(scan, flat, sums, spill)
            self._fit_variances(spill, sizes, offset)
            observed, observed_se = self._observed(spill, sizes, offset)
            self.reliability_ = self._reliability(spill, len(sizes), offset)
        universe = _concat(scan["universes"])
        self.n_employees_ = int((~np.isnan(observed)).any(axis=1).sum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # unrated competencies
            total = np.nanvar(observed, axis=0)
            error = np.nanmean(observed_se**2, axis=0)
            self.competency_mean_ = np.nanmean(observed, axis=0)
        self.true_variance_ = np.maximum(total - error, 0.01 * total)
        self._fit_prior(observed, observed_se)
        matrix, _ = self._estimate(observed, observed_se)
        level_of = _role_levels(universe, employees, roles)
        # no one rated: the norm is fitted on one empty row (no data)
        everyone = matrix if len(matrix) else np.full((1, matrix.shape[1]), np.nan)
        self.norms_ = {"all": NormPercentiles().fit(everyone)}
        if self.norm_by == "role_level":
            for level in pd.unique(level_of.dropna()):
                member = (level_of == level).to_numpy()
                if member.sum() >= self.min_norm_size:
                    self.norms_[str(level)] = NormPercentiles().fit(matrix[member])
        return self

    def _fit_item_map(self, items) -> None:
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
        else:
            self.item_competency_ = pd.Series([], dtype="str", name="competency_id")
            self.item_reverse_ = pd.Series([], dtype=bool, name="reverse_keyed")

    def _set_competencies(self, known, direct: set) -> None:
        """Item competencies in item order, then every other one sorted."""
        comps = set() if known is None else {str(c) for c in pd.unique(known)}
        comps |= set(self.item_competency_)
        comps |= direct
        order = (
            list(pd.unique(self.item_competency_)) if len(self.item_competency_) else []
        )
        order += sorted(comps - set(order))
        self.competencies_ = pd.Index(order, name="competency_id", dtype="str")

    def _scan(self, blocks) -> dict:
        """Pass 1: who is rated, by whom and on what; sums per rater.

        Returns every block's employee ids and rated employees (its
        universe), the direct competency ids, the rater ids sorted, and each
        rater's number, sum and sum of squares of ratings of others.
        """
        codes = _IdCodes()
        count = np.zeros(0, dtype=np.int64)
        total = np.zeros(0)
        squares = np.zeros(0)
        direct: set[str] = set()
        ids_of, universes = [], []
        item_comps = list(pd.unique(self.item_competency_))
        for b, ids, a in _pairs(blocks):
            universe = _block_universe(ids, a, b)
            ids_of.append(ids)
            universes.append(universe)
            # every row with an employee is theirs (checked above)
            rated = _categorical(a["employee_id"]).cat.codes.to_numpy() >= 0
            block_direct = (
                _used(a["competency_id"], rated) if "competency_id" in a else []
            )
            direct |= set(block_direct)
            comps = pd.Index(item_comps + list(block_direct), dtype="str").unique()
            rows = self._codes(a, universe, comps)
            cats = rows["rater_categories"]
            if cats is None:
                continue
            r, t, x = rows["r"], rows["t"], rows["x"]
            used = np.bincount(r[rated & (r >= 0)], minlength=len(cats)) > 0
            code = codes.codes(cats, used)
            others = rows["keep"] & (r >= 0) & (t != SELF)
            ro, xo = r[others], x[others]
            n = len(codes)
            count, total, squares = (_grow(v, n) for v in (count, total, squares))
            target = code[used]
            count[target] += np.bincount(ro, minlength=len(cats))[used]
            total[target] += np.bincount(ro, weights=xo, minlength=len(cats))[used]
            squares[target] += np.bincount(ro, weights=xo**2, minlength=len(cats))[used]
        everyone = _concat(ids_of)
        if everyone.has_duplicates:
            twice = everyone[everyone.duplicated()][:3].tolist()
            raise ValueError(
                f"Got employees in more than one block, e.g. {twice}; expected "
                "disjoint blocks, each with all the ratings of its employees."
            )
        raters, order = codes.sorted()
        return {
            "ids": ids_of,
            "universes": universes,
            "direct": direct,
            "raters": raters,
            "n_ratings": count[order],
            "sum": total[order],
            "squares": squares[order],
        }

    def _flag_raters(self, scan: dict) -> np.ndarray:
        """Raters who never vary (non-discriminating)."""
        n_ratings = scan["n_ratings"]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = scan["sum"] / n_ratings
            var = scan["squares"] / n_ratings - mean**2
        flat = (n_ratings >= self.min_ratings_to_judge) & (np.abs(var) < 1e-12)
        self.non_discriminating_ = pd.Index(scan["raters"][flat], name="rater_id")
        return flat

    def _collect(self, blocks, scan: dict, flat: np.ndarray, spill: _Spill) -> dict:
        """Pass 2: rater-level groups of every block, kept for what follows.

        Returns sums over blocks for the leniency: people rated per rater
        and, when raters are corrected, the per-rater sums of the method.
        """
        raters = _IdCodes(scan["raters"])
        excluded = flat if self.exclude_non_discriminating else None
        sums: dict = {}
        n_blocks = 0
        for b, ids, a in _pairs(blocks):
            if b >= len(scan["ids"]) or not scan["ids"][b].equals(ids):
                raise ValueError(
                    f"Got other employees in block {b} on the second call of "
                    "blocks(); expected the same blocks in the same order on "
                    "every call."
                )
            universe = scan["universes"][b]
            rows = self._rows(a, universe=universe, raters=raters, excluded=excluded)
            groups = self._groups(rows)
            spill.put(
                b,
                cell=groups["cell"],
                n=groups["n"],
                sum=groups["sum"],
                squares=groups["squares"],
                rater=groups["rater"],
            )
            if len(self.item_competency_):
                item_rows = np.flatnonzero(rows["i"] >= 0)
                spill.put(
                    b,
                    item_group=groups["g"][item_rows],
                    item=rows["i"][item_rows],
                    item_score=rows["x"][item_rows],
                )
            als = self._leniency_sums(groups, len(universe), sums, len(raters))
            if als:
                spill.put(b, **als)
            n_blocks += 1
        if n_blocks != len(scan["ids"]):
            raise ValueError(
                f"Got {n_blocks} blocks on the second call of blocks() and "
                f"{len(scan['ids'])} on the first; expected the same blocks on "
                "every call."
            )
        return sums

    def _leniency_sums(self, groups: dict, n_emp: int, sums: dict, n_r: int):
        """Add one block's share of the leniency fit to ``sums``.

        From the block's named groups: people rated per rater and, when
        raters are corrected, the per-rater sums of the method. Returns what
        the co-rater rounds need of the block (``None`` for other methods).
        """
        n_comp, n_type = len(self.competencies_), len(RATER_TYPES)
        named = groups["rater"] >= 0
        rater, n, total = (
            groups["rater"][named],
            groups["n"][named],
            groups["sum"][named],
        )
        person_comp = groups["cell"][named] // n_type
        person = person_comp // n_comp
        if len(rater):
            pairs = _unique(rater * n_emp + person)
            ratees = np.bincount(pairs // n_emp, minlength=n_r)
            sums["n_ratees"] = _add(sums.get("n_ratees"), ratees)
        if not self.leniency_correction:
            return None
        if self.leniency_method == "own_mean":
            count = np.bincount(rater, weights=n, minlength=n_r)
            sums["count"] = _add(sums.get("count"), count)
            sums["sums"] = _bincount_after(sums.get("sums"), rater, total, n_r)
            sums["grand_sum"] = _add(sums.get("grand_sum"), total.sum())
            sums["grand_n"] = _add(sums.get("grand_n"), n.sum())
            return None
        # co-rater model: only cells that more than one rater scored
        cells, local = _dense_unique(person_comp, n_emp * n_comp)
        raters_in_cell = np.bincount(local)
        shared = raters_in_cell[local] > 1
        rs, cs, ts, ns = rater[shared], local[shared], total[shared], n[shared]
        n_rated = np.bincount(rs, weights=ns, minlength=n_r)
        sums["n_rated"] = _add(sums.get("n_rated"), n_rated)
        people = _unique(rs * n_emp + cells[cs] // n_comp)
        support = np.bincount(people // max(n_emp, 1), minlength=n_r)
        sums["support"] = _add(sums.get("support"), support)
        here, rs_local = np.unique(rs, return_inverse=True)
        return {
            "als_raters": here,
            "als_rater": rs_local,
            "als_cell": cs,
            "als_sum": ts,
            "als_n": ns,
            "als_cell_n": np.bincount(cs, weights=ns, minlength=len(cells)),
        }

    def _fit_leniency(self, scan: dict, flat, sums: dict, spill: _Spill) -> np.ndarray:
        """Leniency offsets per named rater, from rater-level sums.

        Returns the offset of every rater of ``scan["raters"]`` (0 where not
        corrected).
        """
        raters = scan["raters"]
        n_r = len(raters)
        zeros = np.zeros(n_r)
        n_ratees = sums.get("n_ratees", np.zeros(n_r, dtype=np.int64))
        centred = np.zeros(n_r, dtype=bool)
        offset = zeros
        if self.leniency_correction:
            if self.leniency_method == "own_mean":
                count, total = sums.get("count", zeros), sums.get("sums", zeros)
                grand = sums.get("grand_sum", 0.0) / max(sums.get("grand_n", 0), 1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    deviation = total / count - grand
                support = n_ratees
            else:
                deviation = _co_rater_effects(
                    spill, len(scan["ids"]), sums.get("n_rated", zeros)
                )
                support = sums.get("support", np.zeros(n_r, dtype=np.int64))
            centred = support >= self.leniency_min_ratees
            offset = np.where(centred, deviation, 0.0)
        self.rater_flags_ = pd.DataFrame(
            {
                "rater_id": raters,
                "n_ratings": scan["n_ratings"],
                "n_ratees": n_ratees,
                "leniency": np.where(centred, offset, np.nan),
                "non_discriminating": flat,
            }
        )
        self.leniency_ = pd.Series(
            offset[centred], index=raters[centred], name="leniency"
        )
        return offset

    def _offsets(self, raters: pd.Index) -> np.ndarray | None:
        """Leniency offset of each rater of ``raters`` (None: no correction)."""
        if not len(self.leniency_):
            return None
        return self.leniency_.reindex(pd.Index(raters)).fillna(0.0).to_numpy()

    def _correct(self, groups: dict, offset: np.ndarray | None) -> None:
        """Subtract each named rater's leniency from their group sums."""
        if offset is None or not len(self.leniency_):
            groups["offset"] = np.zeros(len(groups["n"]))
            return
        per_group = _take(offset, groups["rater"], missing=0.0)
        groups["offset"] = per_group
        groups["sum"] = groups["sum"] - groups["n"] * per_group

    def _corrected(self, spill: _Spill, sizes: list, offset):
        """Each block's kept rater-level groups, leniency corrected."""
        for b, n_emp in enumerate(sizes):
            cell, n, total, squares, rater = spill.get(
                b, "cell", "n", "sum", "squares", "rater"
            )
            groups = {
                "cell": cell,
                "n": n,
                "sum": total,
                "squares": squares,
                "rater": rater,
            }
            self._correct(groups, offset)
            yield b, groups, n_emp

    def _fit_variances(self, spill: _Spill, sizes: list, offset) -> None:
        """Error variance of one rater's competency score, per type.

        Types rated by groups (peers, direct reports) take it from the spread
        of raters within a group; single raters (manager, assessor, self) from
        their spread around the visible group consensus of the same people,
        less the consensus's own error and the type's mean difference. Two
        rounds over the blocks: sums first, then the spread of single raters
        around their type's mean difference.
        """
        n_comp, n_type = len(self.competencies_), len(RATER_TYPES)
        first: dict = {}
        for _, groups, n_emp in self._corrected(spill, sizes, offset):
            _variance_sums(groups, self._cells(groups, n_emp), first)
        if not first:
            shape = (n_comp, n_type)
            first = {
                "num": np.zeros(n_comp),
                "den": np.zeros(n_comp),
                "typical": np.zeros(shape),
                "present": np.zeros(shape, dtype=np.int64),
                "spread": np.zeros(shape),
                "dof": np.zeros(shape, dtype=np.int64),
                "count": np.zeros((len(_SINGLE), n_comp), dtype=np.int64),
                "diff": np.zeros((len(_SINGLE), n_comp)),
            }
        # sigma^2: items around their rater's mean, pooled per competency
        with np.errstate(invalid="ignore", divide="ignore"):
            sigma2 = first["num"] / first["den"]
        finite = np.isfinite(sigma2) & (sigma2 > 0)
        fallback = sigma2[finite].mean() if finite.any() else 0.5
        sigma2 = np.where(finite, sigma2, fallback)
        with np.errstate(invalid="ignore", divide="ignore"):
            typical = first["typical"] / first["present"]
            error = first["spread"] / first["dof"]
        error[first["dof"] < _MIN_CELLS] = np.nan
        group = [PEER, DIRECT_REPORT]
        count = first["count"]
        with np.errstate(invalid="ignore", divide="ignore"):
            known = np.isfinite(error[:, group])
            group_error = np.where(known, error[:, group], 0.0).sum(axis=1) / known.sum(
                axis=1
            )
            bias = first["diff"] / count
        second = None
        for _, groups, n_emp in self._corrected(spill, sizes, offset):
            cells = self._cells(groups, n_emp)
            second = _single_rater_sums(cells, group_error, bias, second)
        if second is None:
            second = np.zeros((2, len(_SINGLE), n_comp))
        for k, t in enumerate(_SINGLE):
            with np.errstate(invalid="ignore", divide="ignore"):
                noise = second[1, k] / count[k]
                estimate = second[0, k] / np.maximum(count[k] - 1, 1) - noise
            estimate[count[k] < _MIN_CELLS] = np.nan
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

    def _observed(self, spill: _Spill, sizes: list, offset):
        """Observed scores and their errors, employee × competency."""
        n_comp = len(self.competencies_)
        observed = np.full((sum(sizes), n_comp), np.nan)
        observed_se = np.full((sum(sizes), n_comp), np.nan)
        start = 0
        for _, groups, n_emp in self._corrected(spill, sizes, offset):
            levels = self._levels(groups, n_emp, estimate=False)
            observed[start : start + n_emp] = levels["observed"]
            observed_se[start : start + n_emp] = levels["observed_se"]
            start += n_emp
        return observed, observed_se

    # ------------------------------------------------------------------
    # row level: cycle, item map, reverse keys, leniency

    def _codes(self, a: pd.DataFrame, employees: pd.Index, competencies, raters=None):
        """Rating rows as integer codes, and which rows can be scored.

        Every column is turned into codes through its categories (one lookup
        per category, one take per row). ``raters`` (an :class:`_IdCodes`)
        numbers raters across blocks; ``None`` uses the table's categories.
        """
        emp = _categorical(a["employee_id"])
        e = _take(employees.get_indexer(_as_str(emp.cat.categories)), emp)
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
            comp_of = competencies.get_indexer(
                self.item_competency_.reindex(cats).to_numpy()
            )
            c = _take(comp_of, item)
            i = _take(self.item_competency_.index.get_indexer(cats), item)
            rev_of = self.item_reverse_.reindex(cats).fillna(False).to_numpy(bool)
            rev = _take(rev_of.astype(np.int32), item, missing=0).astype(bool)
        if "competency_id" in a:
            direct = _categorical(a["competency_id"])
            dcomp = competencies.get_indexer(direct.cat.categories.astype(str))
            c = np.where(c >= 0, c, _take(dcomp, direct))
        keep &= c >= 0

        x = a["score"].to_numpy(dtype=np.float64)
        keep &= ~np.isnan(x)
        if rev.any():
            x = np.where(rev, self.scale_min + self.scale_max - x, x)

        categories = None
        if "rater_id" in a:
            rater = _categorical(a["rater_id"])
            categories = rater.cat.categories
            if raters is None:
                index = pd.Index(categories.astype(str))
                r = rater.cat.codes.to_numpy().astype(np.int64)
            else:
                index = raters.index
                r = _take(raters.codes(categories), rater).astype(np.int64)
        else:
            index = pd.Index([], dtype="str") if raters is None else raters.index
            r = np.full(len(a), -1, dtype=np.int64)
        return {
            "e": e,
            "t": t,
            "c": c,
            "x": x,
            "r": r,
            "i": i,
            "keep": keep,
            "raters": index,
            "rater_categories": categories,
        }

    def _rows(self, a: pd.DataFrame, *, universe=None, raters=None, excluded=None):
        """Rating rows that can be scored, as integer codes ready for
        aggregation, with raters numbered.

        ``excluded`` leaves raters out: a boolean per rater of ``raters``, or
        an index of rater ids.
        """
        if universe is None:
            emp = _categorical(a["employee_id"])
            employees = pd.Index(emp.cat.categories, dtype="str")
        else:
            employees = pd.Index(universe, dtype="str")
        rows = self._codes(a, employees, self.competencies_, raters)
        keep, raters_index = rows["keep"], rows["raters"]
        e, t, c, x, r, i = (rows[k] for k in ("e", "t", "c", "x", "r", "i"))
        if isinstance(excluded, pd.Index):
            excluded = raters_index.isin(excluded)
        if excluded is not None and excluded.any():
            keep &= _take(excluded.astype(np.int32), r, missing=0) == 0
        if not keep.all():
            e, t, c, x, r, i = e[keep], t[keep], c[keep], x[keep], r[keep], i[keep]
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
            r[unnamed] = len(raters_index) + order
        return {
            "e": e.astype(np.int64),
            "t": t,
            "c": c,
            "x": x,
            "r": r,
            "i": i,
            "named": named,
            "raters": raters_index,
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

    # ------------------------------------------------------------------
    # rater and rater-type levels

    def _cells(self, groups: dict, n_emp: int) -> dict:
        """Rater-level groups summed per person × competency × rater type."""
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
        return {
            "m1": m1,
            "n2": n2,
            "s2": s2,
            "items2": items2,
            "suppressed": suppressed,
            "visible": np.where(suppressed, np.nan, mean2),
        }

    def _levels(self, groups: dict, n_emp: int, *, estimate: bool = True) -> dict:
        """Aggregate rater-level groups to rater-type level, then the score."""
        n_comp, n_type = len(self.competencies_), len(RATER_TYPES)
        cells = self._cells(groups, n_emp)
        n2, s2, items2 = cells["n2"], cells["s2"], cells["items2"]
        suppressed = cells["suppressed"]
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
        pairs = n_emp * n_comp
        w_sum = np.bincount(pair_p, weights=w_p, minlength=pairs)
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.bincount(pair_p, weights=w_p * mean_p, minlength=pairs) / w_sum
            se = np.sqrt(np.bincount(pair_p, weights=w_p**2 * err_p, minlength=pairs))
            se = se / w_sum
        score = score.reshape(n_emp, n_comp)
        se = se.reshape(n_emp, n_comp)
        w_sum = w_sum.reshape(n_emp, n_comp)
        n_raters = np.bincount(
            pair_p, weights=np.where(use_p, n_p, 0), minlength=pairs
        ).reshape(n_emp, n_comp)
        score[w_sum == 0] = np.nan
        se[w_sum == 0] = np.nan
        if estimate:
            estimate_, estimate_se = self._estimate(score, se)
        else:
            estimate_, estimate_se = score, se  # the prior is not fitted yet
        return {
            "observed": score,
            "observed_se": se,
            "score": estimate_,
            "se": estimate_se,
            "type_mean": cells["visible"],
            "type_n": n2,
            "suppressed": suppressed,
            "n_raters": n_raters.astype(np.int64),
        }

    def _fit_prior(self, observed: np.ndarray, observed_se: np.ndarray) -> None:
        """Spread of true scores around the person's level, per competency."""
        # row by row (in blocks of rows, so that the temporaries stay small)
        residual = np.empty_like(observed)
        for rows in _row_blocks(len(observed)):
            deviation = observed[rows] - self.competency_mean_[None, :]
            residual[rows] = deviation - _leave_one_out_mean(deviation)
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
        estimate, estimate_se = np.empty_like(observed), np.empty_like(observed)
        # every step is within a person's row: blocks of rows keep the
        # temporaries small (a million people: 200 MB per whole matrix)
        for rows in _row_blocks(len(observed)):
            x, se = observed[rows], observed_se[rows]
            deviation = x - self.competency_mean_[None, :]
            level = _leave_one_out_mean(deviation)
            alone = np.isnan(level) | ~self.use_profile_[None, :]
            prior = self.competency_mean_[None, :] + np.where(alone, 0.0, level)
            spread = np.where(
                alone, self.true_variance_[None, :], self.profile_variance_[None, :]
            )
            with np.errstate(invalid="ignore", divide="ignore"):
                weight = spread / (spread + se**2)
            estimate[rows] = prior + weight * (x - prior)
            estimate_se[rows] = np.sqrt(weight) * se
        return estimate, estimate_se

    def _reliability(self, spill: _Spill, n_blocks: int, offset) -> pd.DataFrame:
        """Cronbach's alpha of each competency's items over all responses.

        A response is one rater's ratings of one person (a rater-level group);
        its items are the columns. Pairwise deletion keeps responses with
        skipped items. Ratings are leniency-corrected first. Each block adds
        the pairwise counts, sums and cross-products of its responses; the
        pairwise covariance matrix of the items follows from the totals.
        """
        n_type = len(RATER_TYPES)
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
        if not len(self.item_competency_):
            return records
        # column of each item within its competency
        column = np.zeros(len(item_comp), dtype=np.int64)
        for j in range(n_comp):
            members = np.flatnonzero(item_comp == j)
            column[members] = np.arange(len(members))
        shift = (self.scale_min + self.scale_max) / 2
        moments = [None] * n_comp
        responses = np.zeros(n_comp, dtype=np.int64)
        for b in range(n_blocks):
            g, i, x, cell = spill.get(b, "item_group", "item", "item_score", "cell")
            if not len(g):
                continue
            if offset is not None and len(self.leniency_):
                (rater,) = spill.get(b, "rater")
                x = x - _take(offset, rater, missing=0.0)[g]
            # one row per response (group), its competency's items as columns
            wide = np.full((len(cell), n_items.max()), np.nan)
            wide[g, column[i]] = x - shift  # moments around the midpoint
            answered = (~np.isnan(wide)).sum(axis=1) >= 2
            comp = np.where(answered, (cell // n_type) % n_comp, -1)
            order = np.argsort(comp, kind="stable")
            bounds = np.cumsum(np.bincount(comp + 1, minlength=n_comp + 1))
            for j in range(n_comp):
                rows = order[bounds[j] : bounds[j + 1]]
                if n_items[j] < 2 or not len(rows):
                    continue
                part = _pair_moments(wide[rows, : n_items[j]])
                moments[j] = _add(moments[j], part)
                responses[j] += len(rows)
        alpha = np.full((n_comp, 3), np.nan)
        n_responses = np.zeros(n_comp, dtype=np.int64)
        for j in range(n_comp):
            result = _pairwise_alpha(moments[j], responses[j])
            if result is not None:  # else alpha is undefined
                alpha[j] = result
                n_responses[j] = responses[j]
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
        excluded = self.non_discriminating_ if self.exclude_non_discriminating else None
        rows = self._rows(tables["assessments"], universe=universe, excluded=excluded)
        groups = self._groups(rows)
        self._correct(groups, self._offsets(rows["raters"]))
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


def _row_blocks(n: int, size: int = 50_000):
    """Slices of consecutive rows, for row-wise work on large matrices."""
    for start in range(0, max(n, 1), size):
        yield slice(start, min(start + size, n))


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


#: Rater types scored by one rater per person, whose error comes from their
#: spread around the peer and direct-report consensus.
_SINGLE = (SELF, MANAGER, ASSESSOR)


def _variance_sums(groups: dict, cells: dict, sums: dict) -> None:
    """Add one block's sums behind the error variances (first round)."""
    n2, s2, items2 = cells["n2"], cells["s2"], cells["items2"]
    n_comp, n_type = n2.shape[1], n2.shape[2]
    cell1, n1, s1, m1 = groups["cell"], groups["n"], groups["sum"], cells["m1"]
    within = groups["squares"] - (s1 + n1 * groups["offset"]) ** 2 / n1
    comp1 = (cell1 // n_type) % n_comp
    sq2 = np.bincount(cell1, weights=m1**2, minlength=n2.size).reshape(n2.shape)
    present = n2 > 0
    multi = n2 > 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mbar = items2 / n2
        spread = np.where(multi, sq2 - s2**2 / n2, 0.0)
    n_ref, ref = _consensus(cells)
    count = np.zeros((len(_SINGLE), n_comp), dtype=np.int64)
    diff = np.zeros((n2.shape[0], len(_SINGLE), n_comp))
    for k, t in enumerate(_SINGLE):
        single = (n2[..., t] == 1) & (n_ref > 0)
        count[k] = single.sum(axis=0)
        diff[:, k] = np.where(single, s2[..., t] - ref, 0.0)
    sums["num"] = _bincount_after(sums.get("num"), comp1, within, n_comp)
    sums["den"] = _bincount_after(sums.get("den"), comp1, n1 - 1, n_comp)
    sums["typical"] = _sum_after(sums.get("typical"), np.where(present, mbar, 0.0))
    sums["present"] = _add(sums.get("present"), present.sum(axis=0))
    sums["spread"] = _sum_after(sums.get("spread"), spread)
    sums["dof"] = _add(sums.get("dof"), np.where(multi, n2 - 1, 0).sum(axis=0))
    sums["count"] = _add(sums.get("count"), count)
    sums["diff"] = _sum_after(sums.get("diff"), diff)


def _single_rater_sums(cells: dict, group_error, bias, total) -> np.ndarray:
    """Add one block's spread of single raters around the consensus (second
    round) to ``total``: per single type, the squared deviations from the
    type's mean difference and the consensus's own error, per competency."""
    n2, s2 = cells["n2"], cells["s2"]
    n_ref, ref = _consensus(cells)
    out = np.zeros((n2.shape[0], 2, len(_SINGLE), n2.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        ref_err = group_error[None, :] / n_ref
        for k, t in enumerate(_SINGLE):
            single = (n2[..., t] == 1) & (n_ref > 0)
            diff = np.where(single, s2[..., t] - ref, 0.0)
            out[:, 0, k] = np.where(single, (diff - bias[k]) ** 2, 0.0)
            out[:, 1, k] = np.where(single, ref_err, 0.0)
    return _sum_after(total, out)


def _consensus(cells: dict):
    """Raters and mean of the visible peer and direct-report groups pooled."""
    group = [PEER, DIRECT_REPORT]
    hidden = np.isnan(cells["visible"][..., group])
    n_ref = np.where(hidden, 0, cells["n2"][..., group]).sum(axis=2)
    s_ref = np.where(hidden, 0.0, cells["s2"][..., group]).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return n_ref, s_ref / n_ref


def _co_rater_effects(spill: _Spill, n_blocks: int, n_rated: np.ndarray):
    """Rater effects of the additive model score = cell + rater + error.

    Works on rater-level aggregates kept per block (``als_sum`` of ``als_n``
    ratings by rater ``als_raters[als_rater]`` in person × competency cell
    ``als_cell``, only cells that more than one rater scored: a rater alone
    on a person says nothing about their own leniency). Alternating least
    squares: cell means of the corrected scores, then each rater's mean
    difference from them. Effects are centred on zero (weighted by
    ratings), so scores keep their level.
    """
    n_r = len(n_rated)
    effect = np.zeros(n_r)
    for _ in range(_LENIENCY_ROUNDS):
        residual = np.zeros(n_r)
        for b in range(n_blocks):
            here, rs, cs, ts, ns, n_cell = spill.get(
                b,
                "als_raters",
                "als_rater",
                "als_cell",
                "als_sum",
                "als_n",
                "als_cell_n",
            )
            corrected = ts - ns * effect[here][rs]
            level = np.bincount(cs, weights=corrected, minlength=len(n_cell))
            level = level / np.maximum(n_cell, 1)
            residual[here] = _bincount_after(
                residual[here], rs, ts - ns * level[cs], len(here)
            )
        effect = np.where(n_rated > 0, residual / np.maximum(n_rated, 1), 0.0)
        if n_rated.sum():
            effect -= (effect * n_rated).sum() / n_rated.sum()
    return effect


def _pair_moments(z: np.ndarray) -> np.ndarray:
    """Per item pair: responses with both, and their sums and cross-products.

    ``z`` holds one response per row, NaN where an item was skipped. Returns
    ``(3, k, k)``: counts ``N[a, b]``, sums ``S[a, b]`` of item ``a`` over
    responses with both ``a`` and ``b``, and cross-products ``P[a, b]``.
    """
    seen = ~np.isnan(z)
    m = seen.astype(np.float64)
    v = np.where(seen, z, 0.0)
    return np.stack(
        [
            np.einsum("ra,rb->ab", m, m),
            np.einsum("ra,rb->ab", v, m),
            np.einsum("ra,rb->ab", v, v),
        ]
    )


def _pairwise_alpha(moments, n: int):
    """Cronbach's alpha and Feldt's 95% interval from pairwise moments.

    The pairwise covariance of items ``a, b`` is ``(P - S_a S_b / N) /
    (N - 1)`` over the responses with both; alpha and its interval are those
    of :func:`devplan.stats.cronbach_alpha` with ``nan_policy="pairwise"``
    (``n`` responses). ``None`` where alpha is undefined: fewer than 3
    responses, a pair seen fewer than twice, or no total variance.
    """
    if moments is None or n < 3:
        return None
    pairs, sums, products = moments
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (products - sums * sums.T / pairs) / (pairs - 1)
    if not np.isfinite(cov).all():
        return None
    total = cov.sum()
    if not total > 0:
        return None
    from scipy.stats import f

    k = len(cov)
    alpha = k / (k - 1) * (1.0 - np.trace(cov) / total)
    df1 = n - 1
    df2 = df1 * (k - 1)
    tail = (1.0 - 0.95) / 2.0
    lower = 1.0 - (1.0 - alpha) * f.ppf(1.0 - tail, df1, df2)
    upper = 1.0 - (1.0 - alpha) * f.ppf(tail, df1, df2)
    return alpha, lower, upper


# ----------------------------------------------------------------------
# blocks of employees


def _employee_blocks(a: pd.DataFrame, employees, size: int):
    """The blocks :meth:`CompetencyScorer.fit` cuts an assessments table into.

    Employees in the order of the employees table, then any other rated
    employee sorted (without a table: the rated employees sorted), ``size``
    to a block. Rows keep their order within a block; rows without an
    employee belong to none.
    """
    columns = [c for c in _ASSESSMENT_COLUMNS if c in a.columns]
    a = a[columns].assign(
        **{c: _categorical(a[c]) for c in _ID_COLUMNS if c in a.columns}
    )
    emp = a["employee_id"]
    cats = _as_str(pd.Index(emp.cat.categories))
    codes = emp.cat.codes.to_numpy()
    rated = cats[np.bincount(codes[codes >= 0], minlength=len(cats)) > 0]
    if employees is not None:
        listed = _as_str(pd.Index(employees["employee_id"].dropna())).unique()
        ids = listed.append(rated.difference(listed).sort_values())
    else:
        ids = rated.sort_values()
    n_blocks = -(-len(ids) // size)
    if n_blocks <= 1:
        return lambda: iter([(ids, a)])
    position = ids.get_indexer(cats)
    block_of = np.where(position >= 0, position // size, -1)
    row_block = _take(block_of, codes).astype(
        np.int16 if n_blocks < 2**15 else np.int32
    )
    order = np.argsort(row_block, kind="stable")
    # rows without an employee (block -1) sort first and belong to none
    starts = np.cumsum(np.bincount(row_block + 1, minlength=n_blocks + 1))
    local = np.where(position >= 0, position % size, -1)

    def blocks():
        for b in range(n_blocks):
            rows = order[starts[b] : starts[b + 1]]
            block_ids = ids[b * size : (b + 1) * size]
            employee = pd.Categorical.from_codes(
                local[codes[rows]], dtype=pd.CategoricalDtype(block_ids), validate=False
            )
            yield block_ids, a.take(rows).assign(employee_id=employee)

    return blocks


def _pairs(blocks):
    """The blocks of ``blocks()``, checked: ``(number, employee ids, table)``."""
    for b, pair in enumerate(blocks()):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError(
                f"Got block {b} of type {type(pair).__name__}; expected a pair "
                "(employee_ids, assessments)."
            )
        ids, a = pair
        if not isinstance(a, pd.DataFrame):
            raise TypeError(
                f"Got assessments of type {type(a).__name__} in block {b}; "
                "expected a DataFrame."
            )
        missing = {"employee_id", "rater_type", "score"} - set(a.columns)
        if missing:
            raise ValueError(
                f"Got an assessments table without {', '.join(sorted(missing))} "
                f"in block {b}; expected the columns of the data contract."
            )
        ids = _as_str(pd.Index(ids))
        if ids.has_duplicates:
            twice = ids[ids.duplicated()][:3].tolist()
            raise ValueError(
                f"Got employee_ids {twice} more than once in block {b}; expected "
                "each employee once."
            )
        yield b, ids, a


def _block_universe(ids: pd.Index, a: pd.DataFrame, b: int) -> pd.Index:
    """The block's employees who have rating rows, sorted by id.

    Sorted as a table's categories are, so that a single block sums over
    people in the order a whole-table fit always has.
    """
    emp = _categorical(a["employee_id"])
    cats = _as_str(pd.Index(emp.cat.categories))
    position = ids.get_indexer(cats)
    codes = emp.cat.codes.to_numpy()
    used = np.bincount(codes[codes >= 0], minlength=len(cats)) > 0
    stray = used & (position < 0)
    if stray.any():
        raise ValueError(
            f"Got ratings of employees {cats[stray][:3].tolist()} in block {b}, "
            "whose employee_ids do not include them; expected each block to "
            "hold the ratings of its own employees only."
        )
    present = np.zeros(len(ids), dtype=bool)
    present[position[used]] = True
    universe = ids[present]
    return universe[np.argsort(universe.to_numpy(dtype=object), kind="stable")]


def _used(s: pd.Series, rows: np.ndarray) -> list[str]:
    """Values of ``s`` that occur in the selected rows, as text."""
    cat = _categorical(s)
    codes = cat.cat.codes.to_numpy()[rows]
    used = np.bincount(codes[codes >= 0], minlength=len(cat.cat.categories)) > 0
    return [str(v) for v in cat.cat.categories[used]]


def _competency_ids(competencies, roles):
    if competencies is None:
        return None if roles is None else roles["competency_id"]
    if isinstance(competencies, pd.DataFrame):
        if "competency_id" not in competencies:
            raise ValueError(
                "Got a competencies table without competency_id; expected the "
                "columns of the data contract."
            )
        return competencies["competency_id"]
    return competencies


class _IdCodes:
    """Integer codes of ids (rater ids) met in blocks with other categories.

    Without ``index``, ids get codes in order of first sight (pass the
    ``used`` categories to :meth:`codes`); with one, ids are looked up in it.
    The codes of a block's categories are kept for the next block with the
    same categories, so blocks cut from one table cost one lookup.
    """

    def __init__(self, index: pd.Index | None = None):
        self._grows = index is None
        self._chunks = [pd.Index([], dtype="str") if index is None else index]
        self._n = len(self._chunks[0])
        self._categories = None
        self._map = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return self._n

    @property
    def index(self) -> pd.Index:
        if len(self._chunks) > 1:
            self._chunks = [self._chunks[0].append(self._chunks[1:])]
        return self._chunks[0]

    def codes(self, categories: pd.Index, used=None) -> np.ndarray:
        """Code of every category (−1 for an id not seen)."""
        seen = self._categories
        if seen is not categories and not (
            seen is not None
            and len(seen) == len(categories)
            and seen.equals(categories)
        ):
            self._map = self.index.get_indexer(_as_str(pd.Index(categories)))
            self._categories = categories
        if used is not None and self._grows:
            new = used & (self._map < 0)
            if new.any():
                k = int(new.sum())
                self._map[new] = np.arange(self._n, self._n + k)
                self._chunks.append(_as_str(pd.Index(categories[new])))
                self._n += k
        return self._map

    def sorted(self) -> tuple[pd.Index, np.ndarray]:
        """The ids sorted, and the codes in that order."""
        ids = self.index
        order = np.argsort(ids.to_numpy(dtype=object), kind="stable")
        return ids[order], order


class _Spill:
    """What later steps of :meth:`CompetencyScorer.fit_blocks` need of each
    block: in memory, or as ``.npy`` files (no pickle) in a fresh subfolder
    of ``workdir`` that is removed on exit. Integer arrays are kept in the
    smallest type that holds them and come back as int64.
    """

    def __init__(self, workdir=None):
        self._workdir = workdir
        self._folder: Path | None = None
        self._arrays: dict = {}

    def __enter__(self) -> _Spill:
        if self._workdir is not None:
            root = Path(self._workdir)
            if root.exists() and not root.is_dir():
                raise ValueError(f"Got workdir={str(root)!r}; expected a folder.")
            root.mkdir(parents=True, exist_ok=True)
            self._folder = Path(tempfile.mkdtemp(prefix="devplan-fit-", dir=root))
        return self

    def __exit__(self, *exc) -> None:
        self._arrays.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def put(self, block: int, **arrays) -> None:
        for name, values in arrays.items():
            values = np.asarray(values)
            if values.dtype.kind in "iu":
                low, high = values.min(initial=0), values.max(initial=0)
                values = values.astype(
                    np.result_type(np.min_scalar_type(low), np.min_scalar_type(high))
                )
            if self._folder is None:
                self._arrays[block, name] = values
            else:
                np.save(
                    self._folder / f"{block}-{name}.npy", values, allow_pickle=False
                )

    def get(self, block: int, *names: str) -> list[np.ndarray]:
        out = []
        for name in names:
            if self._folder is None:
                values = self._arrays[block, name]
            else:
                values = np.load(
                    self._folder / f"{block}-{name}.npy", allow_pickle=False
                )
            if values.dtype.kind in "iu":
                values = values.astype(np.int64)
            out.append(values)
        return out


def _unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique(keys)``, dropping repeats in runs first (a rater's groups
    for one person come one after another)."""
    if len(keys) > 1:
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    return np.unique(keys)


def _dense_unique(values: np.ndarray, size: int):
    """``np.unique(values, return_inverse=True)`` for integers in [0, size)."""
    seen = np.zeros(size, dtype=bool)
    seen[values] = True
    rank = np.cumsum(seen) - 1
    return np.flatnonzero(seen), rank[values]


def _add(total, part):
    """``total + part``, or ``part`` itself when there is no total yet."""
    return part if total is None else total + part


def _bincount_after(total, index, weights, n: int) -> np.ndarray:
    """``total + np.bincount(index, weights)``, summed in row order.

    The running total comes first and the weights are added one by one
    after it, exactly as one bincount over all blocks' rows in turn would
    add them: where the blocks are cut does not change the sums.
    """
    if total is None:
        return np.bincount(index, weights=weights, minlength=n)
    return np.bincount(
        np.concatenate([np.arange(n), index]),
        weights=np.concatenate([total, weights]),
        minlength=n,
    )


def _sum_after(total, values: np.ndarray) -> np.ndarray:
    """``total + values.sum(axis=0)``, summed row by row.

    numpy sums the first axis row after row, so this adds a block's rows to
    the running total as one sum over all blocks' rows would.
    """
    if total is None:
        return values.sum(axis=0)
    return np.concatenate([total[None], values]).sum(axis=0)


def _grow(values: np.ndarray, n: int) -> np.ndarray:
    if len(values) >= n:
        return values
    return np.concatenate([values, np.zeros(n - len(values), dtype=values.dtype)])


def _concat(indexes: list) -> pd.Index:
    if not indexes:
        return pd.Index([], dtype="str")
    return indexes[0].append(indexes[1:])


def _as_str(index: pd.Index) -> pd.Index:
    return index if isinstance(index.dtype, pd.StringDtype) else index.astype("str")
