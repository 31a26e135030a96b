"""Calibration for the talent review: people whose ratings and 360 profile
disagree, with both sides' evidence, so that the review discusses them first.

Data flow: tracks + scored profiles + employees' ratings → per-employee
evidence (:func:`devplan.track_features`, vectorised) → three disagreement
rules → one row per person and rule that fires. Protected attributes (age
band, gender) are never read here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from devplan._config import Config, TrackConfig
from devplan._schema import POTENTIAL_RATINGS
from devplan._tracks import (
    _employees_of,
    _fmt,
    _fmt_all,
    _gap_lists,
    _track_config,
    track_features,
)

#: Calibration rules, in the order one person's rows of equal severity are
#: listed.
RULES = (
    "rated_high_profile_low",
    "rated_low_profile_high",
    "high_potential_gaps",
)
#: Columns of :func:`calibration`, in order.
COLUMNS = (
    "employee_id",
    "track",
    "rule",
    "severity",
    "performance",
    "potential",
    "mean_percentile",
    "n_critical_gaps",
    "evidence",
)
#: The only employee columns calibration reads.
_EMPLOYEE_COLUMNS = ["employee_id", "performance_rating", "potential_rating"]
_DTYPES = {
    "employee_id": "str",
    "track": "str",
    "rule": "str",
    "severity": "float64",
    "performance": "float64",
    "potential": "str",
    "mean_percentile": "float64",
    "n_critical_gaps": "int64",
    "evidence": "str",
}


def calibration(
    tracks: pd.DataFrame,
    profiles: pd.DataFrame,
    employees,
    config: Config | TrackConfig | None = None,
) -> pd.DataFrame:
    """People whose ratings and 360 profile disagree, to discuss first.

    A talent review defends each rating and track; where the performance or
    potential rating and the scored 360 profile point in opposite directions,
    one of them is likely wrong, and the review should look at both. Three
    rules (thresholds in :class:`TrackConfig`, ``[tracks]`` of the settings):

    ``rated_high_profile_low``
        performance rated at least ``calibration_high_performance`` while
        the mean profile percentile is at most ``calibration_low_percentile``;
    ``rated_low_profile_high``
        performance rated at most ``calibration_low_performance`` while the
        mean profile percentile is at least ``calibration_high_percentile``;
    ``high_potential_gaps``
        potential rated high with at least ``calibration_min_critical_gaps``
        critical gaps (needs in competencies of critical importance).

    A person matching several rules has one row per rule. A rule whose
    inputs are missing (no rating, no scored competency) does not fire.

    Parameters
    ----------
    tracks : DataFrame
        Output of :func:`assign_tracks`: the people considered, and the
        ``track`` shown next to them.
    profiles : DataFrame
        The ``profiles`` table of :meth:`CompetencyScorer.profiles`.
    employees : DataFrame or Bundle
        The ``employees`` table (only ``employee_id``,
        ``performance_rating`` and ``potential_rating`` are read), or a
        validated bundle, whose competency names then appear in the evidence.
    config : Config, TrackConfig or None, default=None
        Thresholds; ``None`` uses the defaults.

    Returns
    -------
    DataFrame
        One row per person and rule that fires, columns ``employee_id,
        track, rule`` (one of :data:`RULES`), ``severity`` (0-1, see Notes),
        ``performance`` (the rating), ``potential`` (low/medium/high),
        ``mean_percentile`` (mean profile percentile over the scored
        competencies), ``n_critical_gaps`` and ``evidence`` (plain language,
        naming both sides). Sorted by severity (largest first), then
        ``employee_id``, then the rule's position in :data:`RULES`.

    Notes
    -----
    Severity is the distance between the two sides on one 0-1 scale: the
    performance rating ``p`` (1-5) sits at ``r = (p - 1) / 4``, high
    potential at 1, and the profile at ``q = mean_percentile / 100``::

        rated_high_profile_low:  severity = r - q
        rated_low_profile_high:  severity = q - r
        high_potential_gaps:     severity = 1 - q

    rounded to 3 decimals. The order depends on each person's own rows
    only, so that calibrating chunks of people and sorting their rows
    together gives the table of the whole organisation.

    Examples
    --------
    >>> from devplan import CompetencyScorer, assign_tracks, calibration
    >>> from devplan.datasets import load_sample
    >>> b = load_sample()
    >>> p = CompetencyScorer().fit(b).profiles(b)
    >>> cal = calibration(assign_tracks(b, p, b.config), p, b, b.config)
    >>> list(cal.columns[:4])
    ['employee_id', 'track', 'rule', 'severity']
    >>> bool(cal["severity"].is_monotonic_decreasing)
    True
    """
    cfg = _track_config(config)
    people, names = _employees_of(employees)
    # the ratings only: protected attributes are never read
    f = track_features(people[_EMPLOYEE_COLUMNS], profiles)
    f.index = f.index.astype(str)
    ids = pd.Index(tracks["employee_id"].astype(str))
    f = f.reindex(ids)
    perf = f["performance_rating"].to_numpy()
    potential = f["potential"].to_numpy()
    pct = f["mean_percentile"].to_numpy()
    n_crit = f["n_critical_gaps"].fillna(0).to_numpy().astype(np.int64)
    rating_pos = (perf - 1.0) / 4.0
    profile_pos = pct / 100.0

    fires = {
        "rated_high_profile_low": (perf >= cfg.calibration_high_performance)
        & (pct <= cfg.calibration_low_percentile),
        "rated_low_profile_high": (perf <= cfg.calibration_low_performance)
        & (pct >= cfg.calibration_high_percentile),
        "high_potential_gaps": (potential == POTENTIAL_RATINGS.index("high"))
        & (n_crit >= cfg.calibration_min_critical_gaps),
    }
    severity = {
        "rated_high_profile_low": rating_pos - profile_pos,
        "rated_low_profile_high": profile_pos - rating_pos,
        "high_potential_gaps": 1.0 - profile_pos,
    }
    p_txt = _fmt_all(perf).to_numpy(dtype=object)
    q_txt = _ordinal(pct)
    averages = " but the 360 profile averages the " + q_txt + " percentile"
    gaps = _gap_lists(profiles, names)
    gaps.index = gaps.index.astype(str)
    gap_names = gaps.reindex(ids).fillna("").to_numpy(dtype=object)
    n_txt = n_crit.astype(str).astype(object)
    evidence = {
        "rated_high_profile_low": "performance rated "
        + p_txt
        + f" (≥ {_fmt(cfg.calibration_high_performance)})"
        + averages
        + f" (≤ {_fmt(cfg.calibration_low_percentile)})",
        "rated_low_profile_high": "performance rated "
        + p_txt
        + f" (≤ {_fmt(cfg.calibration_low_performance)})"
        + averages
        + f" (≥ {_fmt(cfg.calibration_high_percentile)})",
        "high_potential_gaps": "potential rated high but the 360 profile shows "
        + n_txt
        + f" critical gaps (≥ {cfg.calibration_min_critical_gaps}): "
        + gap_names
        + "; it averages the "
        + q_txt
        + " percentile",
    }
    potential_txt = pd.Series(potential).map(dict(enumerate(POTENTIAL_RATINGS)))
    parts = []
    for rule in RULES:
        take = np.flatnonzero(fires[rule])
        parts.append(
            pd.DataFrame(
                {
                    "employee_id": ids[take],
                    "track": tracks["track"].astype(str).to_numpy()[take],
                    "rule": rule,
                    "severity": np.round(severity[rule][take], 3),
                    "performance": perf[take],
                    "potential": potential_txt.to_numpy(dtype=object)[take],
                    "mean_percentile": pct[take],
                    "n_critical_gaps": n_crit[take],
                    "evidence": evidence[rule][take],
                }
            )
        )
    return _ordered(pd.concat(parts, ignore_index=True))


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Calibration rows in their one global order, with fixed dtypes: the
    rows of chunks of people, put together, become the whole table."""
    frame = frame[list(COLUMNS)].astype(_DTYPES).reset_index(drop=True)
    rule_pos = frame["rule"].map({rule: i for i, rule in enumerate(RULES)})
    order = (
        frame.assign(_rule=rule_pos)
        .sort_values(
            ["severity", "employee_id", "_rule"],
            ascending=[False, True, True],
            kind="stable",
        )
        .index
    )
    return frame.loc[order].reset_index(drop=True)


def _ordinal(values: np.ndarray) -> np.ndarray:
    """Percentiles as rounded ordinals: 18 → "18th", 21 → "21st"; NaN →
    "unknown"."""
    known = ~np.isnan(values)
    n = np.round(np.nan_to_num(values)).astype(np.int64)
    suffix = np.select(
        [(n % 100 >= 11) & (n % 100 <= 13), n % 10 == 1, n % 10 == 2, n % 10 == 3],
        ["th", "st", "nd", "rd"],
        "th",
    ).astype(object)
    return np.where(known, n.astype(str).astype(object) + suffix, "unknown")
