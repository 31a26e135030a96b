"""Development tracks: explainable rules, the 9-box grid and a learned option.

Data flow: employees + scored profiles → per-employee evidence (one row per
employee, vectorised) → rules in configured precedence → tracks with reasons.
Protected attributes (age band, gender) are never read here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from devplan._config import Config, TrackConfig
from devplan._schema import POTENTIAL_RATINGS, TRACKS

LEVELS3 = ("low", "moderate", "high")
#: 9-box labels by (potential, performance) level.
NINE_BOX = {
    ("low", "low"): "Talent risk",
    ("low", "moderate"): "Effective",
    ("low", "high"): "Trusted professional",
    ("moderate", "low"): "Inconsistent player",
    ("moderate", "moderate"): "Core player",
    ("moderate", "high"): "High performer",
    ("high", "low"): "Rough diamond",
    ("high", "moderate"): "Future star",
    ("high", "high"): "Star",
}
#: Numeric features of :func:`track_features`, in order.
FEATURES = (
    "is_people_manager",
    "months_in_role",
    "performance_rating",
    "potential",
    "n_critical_gaps",
    "n_needs",
    "n_strengths",
    "mean_percentile",
    "mean_weighted_gap",
    "mean_self_other_gap",
)


def _employees_of(bundle_or_employees) -> tuple[pd.DataFrame, pd.Series | None]:
    from devplan._bundle import Bundle

    if isinstance(bundle_or_employees, Bundle):
        names = bundle_or_employees.competencies.set_index("competency_id")["name"]
        return bundle_or_employees.employees, names
    if isinstance(bundle_or_employees, pd.DataFrame):
        if "employee_id" not in bundle_or_employees:
            raise ValueError(
                "Got an employees table without employee_id; expected the "
                "employees table of the data contract."
            )
        optional = [
            c
            for c in (
                "is_people_manager",
                "months_in_role",
                "performance_rating",
                "potential_rating",
                "business_unit",
                "role_id",
            )
            if c not in bundle_or_employees
        ]
        return bundle_or_employees.assign(**dict.fromkeys(optional, np.nan)), None
    raise TypeError(
        f"Got {type(bundle_or_employees).__name__}; expected a devplan Bundle or an "
        "employees DataFrame."
    )


def track_features(bundle_or_employees, profiles: pd.DataFrame) -> pd.DataFrame:
    """Per-employee evidence for track decisions, as numbers.

    Parameters
    ----------
    bundle_or_employees : Bundle or DataFrame
        A validated bundle or its ``employees`` table.
    profiles : DataFrame
        The ``profiles`` table of :meth:`CompetencyScorer.profiles`.

    Returns
    -------
    DataFrame
        Index ``employee_id``; columns :data:`FEATURES`: people manager (0/1),
        months in role, performance rating, potential (0 low, 1 medium,
        2 high), critical gaps, needs and strengths counted, mean percentile,
        mean weighted gap and mean self minus others gap. Missing stays NaN.

    Examples
    --------
    >>> from devplan import CompetencyScorer, track_features
    >>> from devplan.datasets import load_sample
    >>> bundle = load_sample()
    >>> feats = track_features(bundle, CompetencyScorer().fit(bundle).profiles(bundle))
    >>> feats.shape
    (200, 10)
    """
    employees, _ = _employees_of(bundle_or_employees)
    emp = employees.drop_duplicates("employee_id").set_index("employee_id")
    p = profiles
    critical = p["is_need"] & (p["importance"] == "critical")
    grouped = pd.DataFrame(
        {
            "employee_id": p["employee_id"],
            "critical": critical.astype(int),
            "need": p["is_need"].astype(int),
            "strength": p["is_strength"].astype(int),
            "percentile": p["percentile"],
            "weighted_gap": p["weighted_gap"],
            "self_other_gap": p["self_other_gap"],
        }
    ).groupby("employee_id", sort=False)
    sums = grouped[["critical", "need", "strength"]].sum()
    means = grouped[["percentile", "weighted_gap", "self_other_gap"]].mean()
    potential = (
        emp["potential_rating"]
        .astype(object)
        .map({name: float(i) for i, name in enumerate(POTENTIAL_RATINGS)})
    )
    out = pd.DataFrame(
        {
            "is_people_manager": emp["is_people_manager"]
            .astype("boolean")
            .fillna(False)
            .astype(float),
            "months_in_role": emp["months_in_role"].astype(float),
            "performance_rating": emp["performance_rating"].astype(float),
            "potential": potential.astype(float),
            "n_critical_gaps": sums["critical"].reindex(emp.index).fillna(0),
            "n_needs": sums["need"].reindex(emp.index).fillna(0),
            "n_strengths": sums["strength"].reindex(emp.index).fillna(0),
            "mean_percentile": means["percentile"].reindex(emp.index),
            "mean_weighted_gap": means["weighted_gap"].reindex(emp.index),
            "mean_self_other_gap": means["self_other_gap"].reindex(emp.index),
        },
        index=pd.Index(emp.index, name="employee_id"),
    )
    return out[list(FEATURES)].astype("float64")


def _fmt(value: float) -> str:
    return "unknown" if np.isnan(value) else f"{value:g}"


def _fmt_all(values: np.ndarray) -> pd.Series:
    """Numbers as short text for a whole column: 7.0 → "7", NaN → "unknown"."""
    text = pd.Series(np.round(values, 6)).astype("str")
    text = text.str.replace(r"\.0$", "", regex=True)
    return text.where(~np.isnan(values), "unknown")


def _gap_lists(profiles: pd.DataFrame, names: pd.Series | None) -> pd.Series:
    """Critical gaps per employee, largest first, as readable names."""
    p = profiles[profiles["is_need"] & (profiles["importance"] == "critical")]
    p = p.sort_values(["employee_id", "weighted_gap"], ascending=[True, False])
    label = p["competency_id"].astype(object)
    if names is not None:
        label = label.map(names.astype(object)).fillna(label)
    return label.groupby(p["employee_id"]).agg(", ".join)


def _track_config(config) -> TrackConfig:
    """The track settings of a :class:`Config`, a :class:`TrackConfig` or
    ``None`` (the defaults)."""
    if config is None:
        return TrackConfig()
    if isinstance(config, Config):
        return config.tracks
    if isinstance(config, TrackConfig):
        return config
    raise TypeError(
        f"Got config of type {type(config).__name__}; expected Config, "
        "TrackConfig or None."
    )


def _profile_confidence(profiles: pd.DataFrame, ids: pd.Index) -> np.ndarray:
    """Mean confidence of each employee's profile rows (NaN without rows)."""
    mean = profiles.groupby("employee_id", observed=True)["confidence"].mean()
    return mean.reindex(ids).to_numpy(dtype=float)


def assign_tracks(
    bundle_or_employees,
    profiles: pd.DataFrame,
    config: Config | TrackConfig | None = None,
) -> pd.DataFrame:
    """Assign every employee a development track, with the evidence.

    Rules (thresholds in :class:`TrackConfig`, precedence in
    ``precedence``): a people manager at most ``new_manager_max_months`` in
    role is a **new manager**; one with performance below
    ``struggling_max_performance``, or with at least
    ``struggling_min_critical_gaps`` critical gaps in the scored profile and
    no performance rating or one below ``struggling_solid_performance``, is a
    **struggling manager** (the evidence must converge: a manager rated solid
    is never struggling because of the profile alone; their critical gaps are
    named in the reasons, the plan develops them, and the other rules decide
    the track); one with high potential and performance of at
    least ``high_potential_min_performance`` (or, with no performance rating,
    a profile at or above ``high_potential_min_percentile`` with no critical
    gap; or, with no potential rating, that performance and such a profile)
    is **high potential**. Everyone else is **core**. When several rules
    fire, the first in the precedence wins and the others are listed in
    ``also``. Missing inputs never stop a decision: a rule that cannot be
    judged is skipped and the reason says so.

    Parameters
    ----------
    bundle_or_employees : Bundle or DataFrame
        A validated bundle (competency names then appear in reasons) or its
        ``employees`` table.
    profiles : DataFrame
        The ``profiles`` table of :meth:`CompetencyScorer.profiles`.
    config : Config, TrackConfig or None, default=None
        Thresholds; ``None`` uses the defaults.

    Returns
    -------
    DataFrame
        One row per employee: ``employee_id, track, reasons`` (``;``-separated,
        naming the evidence), ``decided_by`` (the rule), ``also`` (other
        tracks whose rules fired), ``confidence`` (0-1: share of the rule's
        inputs present, times the profile's confidence when the profile
        decided), and the 9-box columns ``performance_level,
        performance_source, potential_level, potential_source, nine_box,
        nine_box_label``.

    Notes
    -----
    For a people manager with performance rating ``p`` and ``g`` critical
    gaps (needs in competencies of critical importance)::

        struggling = p < struggling_max_performance
                     or (g >= struggling_min_critical_gaps
                         and (p missing or p < struggling_solid_performance))

    Reasons name both sides: "performance 2.1 < 2.5; 3 critical gaps: A, B,
    C", "3 critical gaps: A, B, C; performance 3.2 < 3.5 (solid)". A manager
    with enough critical gaps and ``p >= struggling_solid_performance`` keeps
    the track the other rules give, and its
    reasons end with "; 2 critical gaps to develop (performance 4.5 ≥ 3.5
    solid): A, B". ``decided_by`` is ``struggling_manager:performance`` when
    ``p < struggling_max_performance``, else
    ``struggling_manager:critical_gaps``.

    Examples
    --------
    >>> from devplan import CompetencyScorer, assign_tracks
    >>> from devplan.datasets import load_sample
    >>> bundle = load_sample()
    >>> tracks = assign_tracks(bundle, CompetencyScorer().fit(bundle).profiles(bundle))
    >>> sorted(tracks["track"].unique())
    ['core', 'high_potential', 'new_manager', 'struggling_manager']
    """
    cfg = _track_config(config)
    employees, names = _employees_of(bundle_or_employees)
    f = track_features(employees, profiles)
    ids = f.index
    n = len(f)
    manager = f["is_people_manager"].to_numpy() > 0
    months = f["months_in_role"].to_numpy()
    perf = f["performance_rating"].to_numpy()
    potential = f["potential"].to_numpy()
    n_crit = f["n_critical_gaps"].to_numpy()
    pct = f["mean_percentile"].to_numpy()
    scored = ~np.isnan(pct)
    gaps = _gap_lists(profiles, names).reindex(ids).fillna("")
    conf_profile = np.nan_to_num(_profile_confidence(profiles, ids))

    fires = {}
    evidence = {}
    rule_conf = {}
    # new manager
    fires["new_manager"] = manager & (months <= cfg.new_manager_max_months)
    m_txt, p_txt = _fmt_all(months), _fmt_all(perf)
    q_txt = pd.Series(np.round(np.nan_to_num(pct)).astype(np.int64)).astype("str")
    evidence["new_manager"] = (
        m_txt + f" months in role (≤ {_fmt(cfg.new_manager_max_months)})"
    ).to_numpy(dtype=object)
    rule_conf["new_manager"] = np.ones(n)
    # struggling: a low performance rating, or critical gaps in the profile
    # when the rating does not contradict them (missing or below solid)
    low_perf = manager & (perf < cfg.struggling_max_performance)
    many_gaps = manager & (n_crit >= cfg.struggling_min_critical_gaps)
    below_solid = np.isnan(perf) | (perf < cfg.struggling_solid_performance)
    by_gaps = many_gaps & below_solid
    # gaps of a manager rated solid: a development need, not a verdict
    solid_gaps = many_gaps & ~below_solid
    fires["struggling_manager"] = low_perf | by_gaps
    solid = _fmt(cfg.struggling_solid_performance)
    perf_text = "performance " + p_txt + f" < {_fmt(cfg.struggling_max_performance)}"
    n_txt = pd.Series(n_crit.astype(np.int64)).astype("str")
    names_txt = pd.Series(gaps.to_numpy(), dtype="str")
    gap_text = n_txt + " critical gaps: " + names_txt
    evidence["struggling_manager"] = np.where(
        low_perf & many_gaps,
        perf_text + "; " + gap_text,
        np.where(
            low_perf,
            perf_text,
            np.where(
                np.isnan(perf),
                gap_text,
                gap_text + "; performance " + p_txt + f" < {solid} (solid)",
            ),
        ),
    )
    rule_conf["struggling_manager"] = np.where(low_perf, 1.0, conf_profile)
    to_develop = (
        "; "
        + n_txt
        + " critical gaps to develop (performance "
        + p_txt
        + f" ≥ {solid} solid): "
        + names_txt
    ).to_numpy(dtype=object)
    # high potential: ratings, or the profile when performance is missing
    high_pot = potential == POTENTIAL_RATINGS.index("high")
    by_rating = high_pot & (perf >= cfg.high_potential_min_performance)
    strong_profile = scored & (pct >= cfg.high_potential_min_percentile) & (n_crit == 0)
    no_perf = high_pot & np.isnan(perf) & strong_profile
    no_pot = (
        np.isnan(potential)
        & (perf >= cfg.high_potential_min_performance)
        & strong_profile
    )
    by_profile = no_perf | no_pot
    eligible = manager | (cfg.high_potential_includes_individuals & ~manager)
    fires["high_potential"] = eligible & (by_rating | by_profile)
    hp_min = _fmt(cfg.high_potential_min_performance)
    profile_text = "profile at the " + q_txt + "th percentile with no critical gap"
    evidence["high_potential"] = np.where(
        by_rating,
        "potential high and performance " + p_txt + f" ≥ {hp_min}",
        np.where(
            no_perf,
            "potential high; no performance rating, " + profile_text,
            "no potential rating; performance "
            + p_txt
            + f" ≥ {hp_min} and "
            + profile_text,
        ),
    )
    rule_conf["high_potential"] = np.where(by_rating, 1.0, conf_profile)

    track = np.full(n, "core", dtype=object)
    decided = np.zeros(n, dtype=bool)
    reasons = np.full(n, "", dtype=object)
    decided_by = np.full(n, "", dtype=object)
    confidence = np.zeros(n)
    for name in cfg.precedence:
        take = fires[name] & ~decided
        track[take] = name
        reasons[take] = evidence[name][take]
        confidence[take] = rule_conf[name][take]
        decided |= take
    decided_by[track == "new_manager"] = "new_manager:months_in_role"
    is_str = track == "struggling_manager"
    decided_by[is_str & low_perf] = "struggling_manager:performance"
    decided_by[is_str & ~low_perf] = "struggling_manager:critical_gaps"
    is_hp = track == "high_potential"
    decided_by[is_hp & by_rating] = "high_potential:ratings"
    decided_by[is_hp & ~by_rating] = "high_potential:profile"

    core = ~decided
    decided_by[core & ~manager] = "core:not_a_people_manager"
    decided_by[core & manager] = "core:no_rule_fired"
    pot_txt = pd.Series(
        np.array(POTENTIAL_RATINGS, dtype=object)[np.nan_to_num(potential).astype(int)]
    ).where(~np.isnan(potential), "unknown")
    crit_txt = pd.Series(n_crit.astype(np.int64)).astype("str").where(scored, "unknown")
    summary = (
        "people manager, no track rule fired ("
        + m_txt
        + " months in role, performance "
        + p_txt
        + ", potential "
        + pot_txt.astype("str")
        + ", "
        + crit_txt
        + " critical gaps)"
    ).to_numpy(dtype=object)
    reasons[core & ~manager] = "not a people manager"
    reasons[core & manager] = summary[core & manager]
    confidence[core] = 1.0
    reasons[solid_gaps] = reasons[solid_gaps] + to_develop[solid_gaps]

    # Missing inputs: say which rule could not be judged, lower confidence.
    present = np.zeros(n)
    text = pd.Series(reasons, dtype="str")
    for column, note in (
        (months, "no months_in_role: new-manager rule not judged"),
        (perf, "no performance rating: struggling judged on the profile only"),
        (
            potential,
            "no potential rating: high potential judged on performance and profile",
        ),
        (pct, "no scored profile: critical gaps unknown"),
    ):
        missing = np.isnan(column)
        present += ~missing
        text = text.where(~(missing & manager), text + "; " + note)
    reasons = text.to_numpy(dtype=object)
    completeness = np.where(manager, present / 4.0, 1.0)
    confidence = np.round(confidence * completeness, 3)

    also = pd.Series("", index=range(n), dtype="str")
    for t in cfg.precedence:
        extra = fires[t] & (track != t)
        also = also.where(~extra, also + ";" + t)
    also = also.str.lstrip(";")
    out = pd.DataFrame(
        {
            "employee_id": pd.Series(ids.to_numpy(), dtype="str"),
            "track": pd.Categorical(track, categories=list(TRACKS)),
            "reasons": pd.Series(reasons, dtype="str"),
            "decided_by": pd.Series(decided_by, dtype="str"),
            "also": also.replace("", pd.NA),
            "confidence": confidence,
        }
    )
    box = nine_box(f, cfg)
    return pd.concat([out, box.reset_index(drop=True)], axis=1)


def nine_box(features: pd.DataFrame, cfg: TrackConfig | None = None) -> pd.DataFrame:
    """Performance × potential placement (low / moderate / high each).

    Performance comes from the rating (below ``struggling_max_performance``
    low, from ``high_potential_min_performance`` high), else from the mean
    profile percentile (thirds). Potential comes from the rating (low, medium
    → moderate, high), else from the profile: three or more signature
    strengths high, one or two moderate, none low.

    Parameters
    ----------
    features : DataFrame
        Output of :func:`track_features`.
    cfg : TrackConfig or None, default=None
        Thresholds.

    Returns
    -------
    DataFrame
        ``performance_level, performance_source, potential_level,
        potential_source, nine_box`` (1-9, potential-major), ``nine_box_label``.
    """
    cfg = cfg or TrackConfig()
    perf = features["performance_rating"].to_numpy()
    pct = features["mean_percentile"].to_numpy()
    pot = features["potential"].to_numpy()
    strengths = features["n_strengths"].to_numpy()
    perf_by_rating = np.where(
        perf < cfg.struggling_max_performance,
        0,
        np.where(perf >= cfg.high_potential_min_performance, 2, 1),
    )
    perf_by_profile = np.where(pct < 100 / 3, 0, np.where(pct < 200 / 3, 1, 2))
    has_perf, has_pct = ~np.isnan(perf), ~np.isnan(pct)
    perf_level = np.where(
        has_perf, perf_by_rating, np.where(has_pct, perf_by_profile, -1)
    )
    perf_source = np.where(has_perf, "rating", np.where(has_pct, "profile", "none"))
    pot_by_profile = np.where(strengths >= 3, 2, np.where(strengths >= 1, 1, 0))
    has_pot = ~np.isnan(pot)
    pot_level = np.where(
        has_pot,
        np.minimum(np.nan_to_num(pot), 2).astype(int),
        np.where(has_pct, pot_by_profile, -1),
    )
    pot_source = np.where(has_pot, "rating", np.where(has_pct, "profile", "none"))
    known = (perf_level >= 0) & (pot_level >= 0)
    box = np.where(known, pot_level * 3 + perf_level + 1, 0)
    labels = np.array(
        [
            NINE_BOX[(LEVELS3[p], LEVELS3[q])] if k else None
            for p, q, k in zip(pot_level, perf_level, known, strict=True)
        ],
        dtype=object,
    )
    return pd.DataFrame(
        {
            "performance_level": pd.Categorical.from_codes(
                perf_level, categories=list(LEVELS3)
            ),
            "performance_source": perf_source,
            "potential_level": pd.Categorical.from_codes(
                pot_level, categories=list(LEVELS3)
            ),
            "potential_source": pot_source,
            "nine_box": pd.array(np.where(known, box, pd.NA), dtype="Int64"),
            "nine_box_label": pd.array(labels, dtype="str"),
        },
        index=features.index,
    )


def track_summary(tracks: pd.DataFrame, employees: pd.DataFrame, roles: pd.DataFrame):
    """Counts of tracks by business unit and role level, and by deciding rule.

    Parameters
    ----------
    tracks : DataFrame
        Output of :func:`assign_tracks`.
    employees, roles : DataFrame
        Tables of the bundle.

    Returns
    -------
    DataFrame
        Columns ``business_unit, role_level, track, decided_by, n_employees``
        (missing units or levels shown as ``"(none)"``).

    Examples
    --------
    >>> from devplan import CompetencyScorer, assign_tracks, track_summary
    >>> from devplan.datasets import load_sample
    >>> b = load_sample()
    >>> t = assign_tracks(b, CompetencyScorer().fit(b).profiles(b))
    >>> int(track_summary(t, b.employees, b.roles)["n_employees"].sum())
    200
    """
    level = roles.dropna(subset=["role_level"]).drop_duplicates("role_id")
    level = level.set_index("role_id")["role_level"].astype(object)
    emp = employees.drop_duplicates("employee_id").set_index("employee_id")
    table = tracks.assign(
        business_unit=tracks["employee_id"]
        .map(emp["business_unit"].astype(object))
        .fillna("(none)"),
        role_level=tracks["employee_id"]
        .map(emp["role_id"].astype(object))
        .map(level)
        .fillna("(none)"),
        track=tracks["track"].astype(str),
    )
    out = (
        table.groupby(["business_unit", "role_level", "track", "decided_by"])
        .size()
        .rename("n_employees")
        .reset_index()
    )
    return out


class TrackClassifier(ClassifierMixin, BaseEstimator):
    """Learned track assignment from historical track decisions.

    A pipeline of median imputation (with missing-value indicators) and a
    calibrated gradient-boosted tree ensemble over the numeric evidence of
    :func:`track_features`. Trees fit rule-like decisions (thresholds on
    months in role, ratings, gap counts) that a linear model cannot. Rules
    stay the default; use this when an organisation has past decisions to
    learn from.

    Parameters
    ----------
    max_iter : int, default=30
        Boosting iterations.
    max_leaf_nodes : int, default=8
        Leaves per tree.
    learning_rate : float, default=0.1
        Shrinkage of each tree.
    calibration : {"sigmoid", "isotonic"}, default="sigmoid"
        Probability calibration method.
    cv : int, default=3
        Folds of the calibration (fewer when a class is smaller).
    class_weight : "balanced" or None, default="balanced"
        Weighting of rare tracks.
    random_state : int or None, default=None
        Seed of the tree ensemble.

    Attributes
    ----------
    classes_ : ndarray
        Track labels seen in ``fit``.
    pipeline_ : Pipeline
        The fitted imputer and calibrated model.
    n_iter_ : int
        Boosting iterations run (the most over the calibration folds).

    Examples
    --------
    >>> import numpy as np
    >>> from devplan import TrackClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(90, 3))
    >>> y = np.where(X[:, 0] > 0.5, "new_manager", "core")
    >>> clf = TrackClassifier(random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        *,
        max_iter=30,
        max_leaf_nodes=8,
        learning_rate=0.1,
        calibration="sigmoid",
        cv=3,
        class_weight="balanced",
        random_state=None,
    ):
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.learning_rate = learning_rate
        self.calibration = calibration
        self.cv = cv
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X, y):
        """Fit on evidence ``X`` (NaN allowed) and past tracks ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : TrackClassifier
        """
        if self.calibration not in ("sigmoid", "isotonic"):
            raise ValueError(
                f"Got calibration={self.calibration!r}; expected 'sigmoid' or "
                "'isotonic'."
            )
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"Got only one class ({self.classes_[0]!r}); expected at least 2."
            )
        model = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            learning_rate=self.learning_rate,
            class_weight=self.class_weight,
            random_state=self.random_state,
        )
        folds = int(min(self.cv, counts.min()))
        if folds >= 2:
            model = CalibratedClassifierCV(model, method=self.calibration, cv=folds)
        self.pipeline_ = make_pipeline(
            SimpleImputer(
                strategy="median", add_indicator=True, keep_empty_features=True
            ),
            model,
        )
        self.pipeline_.fit(X, y)
        fitted = self.pipeline_[-1]
        boosters = (
            [c.estimator for c in fitted.calibrated_classifiers_]
            if isinstance(fitted, CalibratedClassifierCV)
            else [fitted]
        )
        self.n_iter_ = max(b.n_iter_ for b in boosters)
        return self

    def predict_proba(self, X):
        """Probability of each track (columns in ``classes_`` order)."""
        check_is_fitted(self)
        X = validate_data(self, X, ensure_all_finite="allow-nan", reset=False)
        return self.pipeline_.predict_proba(X)

    def predict(self, X):
        """Most probable track."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def cross_validated_report(estimator, X, y, *, cv: int = 5, random_state=0):
    """Cross-validated accuracy of a track classifier next to the baseline.

    Parameters
    ----------
    estimator : classifier
        For example :class:`TrackClassifier`.
    X, y : array-like
        Evidence and past tracks.
    cv : int, default=5
        Stratified folds.
    random_state : int, default=0
        Shuffling of the folds.

    Returns
    -------
    DataFrame
        One row per metric (``accuracy, balanced_accuracy``) with the model's
        value and the majority-class baseline's.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    y = np.asarray(y)
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    predicted = cross_val_predict(estimator, X, y, cv=folds)
    values, counts = np.unique(y, return_counts=True)
    majority = np.full(len(y), values[np.argmax(counts)])
    return pd.DataFrame(
        {
            "metric": ["accuracy", "balanced_accuracy"],
            "model": [
                accuracy_score(y, predicted),
                balanced_accuracy_score(y, predicted),
            ],
            "majority_baseline": [
                accuracy_score(y, majority),
                balanced_accuracy_score(y, majority),
            ],
        }
    )
