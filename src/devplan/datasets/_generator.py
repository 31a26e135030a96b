"""A synthetic organisation with known ground truth.

:func:`make_tables` simulates a complete organisation (hierarchy, roles, a
learning catalog, 360-degree assessments, learning history) from a hidden
ground truth (each person's track and true competency levels, each rater's
leniency, each learning item's true effect), so that every stage of devplan
can be checked against what really happened. Everything is vectorised with
numpy: a hundred thousand employees and tens of millions of ratings take
seconds, not minutes.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from devplan._schema import (
    ASSESSMENTS,
    CATALOG,
    COMPETENCIES,
    EMPLOYEES,
    ENROLMENT_STATUSES,
    ENROLMENTS,
    IMPORTANCES,
    ITEM_KINDS,
    ITEM_LEVELS,
    ITEMS,
    KIND_GROUP,
    MODALITIES,
    MODALITY_PREFERENCES,
    POTENTIAL_RATINGS,
    RATER_TYPES,
    ROLE_LEVELS,
    ROLES,
    TRACKS,
    column_dtype,
)
from devplan.datasets._framework import load_framework

__all__ = ["OrganisationTruth", "make_organisation", "make_tables"]


def _per(choices: tuple[str, ...], values: dict[str, object]) -> list:
    """``values`` in the order of the schema enum ``choices`` (keys must match)."""
    if set(values) != set(choices):
        raise ValueError(f"Got keys {sorted(values)}; expected {sorted(choices)}.")
    return [values[c] for c in choices]


def _code(choices: tuple[str, ...], value: str) -> int:
    return choices.index(value)


# --------------------------------------------------------------------------
# Simulation parameters. Keys are checked against the enums of ``_schema``.
# --------------------------------------------------------------------------
_SCALE_MIN, _SCALE_MAX = 1.0, 5.0
_SPAN_FIRST_LINE = 5.0  # mean number of individual contributors per first-line
_SPAN_UPPER = 4.0  # mean span of managers of managers
_MIN_TOP_SPAN, _MAX_TOP_SPAN = 3, 6  # direct reports of the executive
_MIN_SPAN, _MAX_SPAN = 2, 12

_LEVEL = {name: i for i, name in enumerate(ROLE_LEVELS)}
_IC, _FIRST, _MIDDLE, _SENIOR, _EXEC = (
    _LEVEL[name]
    for name in ("individual", "first_line", "middle", "senior", "executive")
)
_ROLES = _per(
    ROLE_LEVELS,
    {
        "individual": [
            ("analyst", "Analyst"),
            ("engineer", "Engineer"),
            ("advisor", "Advisor"),
            ("specialist", "Specialist"),
        ],
        "first_line": [
            ("team_lead", "Team Lead"),
            ("supervisor", "Supervisor"),
            ("project_lead", "Project Lead"),
        ],
        "middle": [
            ("department_manager", "Department Manager"),
            ("programme_manager", "Programme Manager"),
        ],
        "senior": [("director", "Director"), ("head_of_unit", "Head of Business Unit")],
        "executive": [("ceo", "Chief Executive Officer")],
    },
)
#: Required level of a role's non-critical competencies; critical ones +0.3.
_REQUIRED_BASE = np.array(
    _per(
        ROLE_LEVELS,
        {
            "individual": 2.5,
            "first_line": 2.7,
            "middle": 3.0,
            "senior": 3.3,
            "executive": 3.5,
        },
    )
)
_CRITICAL_BONUS = 0.3
#: Mean true competency level by role level.
_TRUE_MEAN = np.array(
    _per(
        ROLE_LEVELS,
        {
            "individual": 3.2,
            "first_line": 3.65,
            "middle": 3.9,
            "senior": 4.2,
            "executive": 4.3,
        },
    )
)
#: Candidates for the critical competencies of each level's roles.
_CRITICAL_POOL = _per(
    ROLE_LEVELS,
    {
        "individual": [
            "communication",
            "prioritising",
            "feedback",
            "relationship_building",
            "self_awareness",
            "resilience",
        ],
        "first_line": [
            "delegation",
            "feedback",
            "follow_up",
            "prioritising",
            "communication",
            "role_transition",
            "relationship_building",
            "difficult_conversations",
        ],
        "middle": [
            "prioritising",
            "delegation",
            "strategic_thinking",
            "communication",
            "conflict",
            "difficult_conversations",
            "coaching",
            "political_awareness",
        ],
        "senior": [
            "strategic_thinking",
            "leading_change",
            "influence",
            "inspiring",
            "representing",
            "succession",
            "political_awareness",
            "trust",
        ],
        "executive": [
            "strategic_thinking",
            "leading_change",
            "inspiring",
            "representing",
            "influence",
            "role_modelling",
            "trust",
        ],
    },
)
#: Competencies an individual contributor role may be profiled on.
_IC_POOL = [
    "self_awareness",
    "self_confidence",
    "resilience",
    "prioritising",
    "personal_brand",
    "decisiveness",
    "communication",
    "feedback",
    "relationship_building",
    "influence",
    "conflict",
    "empathy",
]
_IC_N_COMPETENCIES = 10
#: Probability of each non-core track for a people manager, by level.
_TRACK_PROBS = np.array(
    _per(
        ROLE_LEVELS,
        {
            "individual": _per(
                TRACKS,
                {
                    "new_manager": 0.0,
                    "struggling_manager": 0.0,
                    "high_potential": 0.0,
                    "core": 1.0,
                },
            ),
            "first_line": _per(
                TRACKS,
                {
                    "new_manager": 0.22,
                    "struggling_manager": 0.15,
                    "high_potential": 0.15,
                    "core": 0.48,
                },
            ),
            "middle": _per(
                TRACKS,
                {
                    "new_manager": 0.14,
                    "struggling_manager": 0.16,
                    "high_potential": 0.15,
                    "core": 0.55,
                },
            ),
            "senior": _per(
                TRACKS,
                {
                    "new_manager": 0.08,
                    "struggling_manager": 0.12,
                    "high_potential": 0.15,
                    "core": 0.65,
                },
            ),
            "executive": _per(
                TRACKS,
                {
                    "new_manager": 0.0,
                    "struggling_manager": 0.0,
                    "high_potential": 0.0,
                    "core": 1.0,
                },
            ),
        },
    )
)
_NEW, _STRUGGLING, _HIPO, _CORE = (
    _code(TRACKS, t)
    for t in ("new_manager", "struggling_manager", "high_potential", "core")
)
#: Shift of true levels: per track, times the competency's track weight.
_TRACK_SHIFT = np.array(
    _per(
        TRACKS,
        {
            "new_manager": -0.6,
            "struggling_manager": -1.0,
            "high_potential": 0.25,
            "core": 0.0,
        },
    )
)
#: Shift of true levels on every competency, per track.
_TRACK_GENERAL = np.array(
    _per(
        TRACKS,
        {
            "new_manager": 0.0,
            "struggling_manager": -0.3,
            "high_potential": 0.3,
            "core": 0.0,
        },
    )
)
_TALENT_BOOST = 0.8
#: Standard deviations of the true-level factors.
_SD_GENERAL, _SD_CLUSTER, _SD_SPECIFIC, _SD_COMPETENCY = 0.3, 0.15, 0.25, 0.1

#: Performance rating (mean, sd) by track.
_PERFORMANCE = np.array(
    _per(
        TRACKS,
        {
            "new_manager": (3.3, 0.45),
            "struggling_manager": (2.0, 0.3),
            "high_potential": (4.3, 0.3),
            "core": (3.4, 0.45),
        },
    )
)
#: Potential rating probabilities by track.
_POTENTIAL = np.array(
    _per(
        TRACKS,
        {
            "new_manager": _per(
                POTENTIAL_RATINGS, {"low": 0.15, "medium": 0.6, "high": 0.25}
            ),
            "struggling_manager": _per(
                POTENTIAL_RATINGS, {"low": 0.5, "medium": 0.45, "high": 0.05}
            ),
            "high_potential": _per(
                POTENTIAL_RATINGS, {"low": 0.0, "medium": 0.05, "high": 0.95}
            ),
            "core": _per(POTENTIAL_RATINGS, {"low": 0.2, "medium": 0.65, "high": 0.15}),
        },
    )
)
_BUDGET_RANGE = np.array(
    _per(
        ROLE_LEVELS,
        {
            "individual": (800, 2000),
            "first_line": (1500, 3000),
            "middle": (2000, 4000),
            "senior": (3000, 6000),
            "executive": (5000, 10000),
        },
    )
)
_MODALITY_PREFERENCE_P = _per(
    MODALITY_PREFERENCES,
    {"online": 0.3, "in_person": 0.25, "blended": 0.25, "any": 0.2},
)
_LANGUAGES, _LANGUAGE_P = ("nl", "en"), (0.6, 0.4)
_BUSINESS_UNITS = ("Operations", "Sales", "Finance", "Technology", "Customer Service")
_LOCATIONS, _LOCATION_P = (
    ("Amsterdam", "Utrecht", "Antwerp", "Brussels"),
    (
        0.35,
        0.25,
        0.25,
        0.15,
    ),
)
_AGE_BANDS, _AGE_P = ("<30", "30-39", "40-49", "50+"), (0.2, 0.3, 0.3, 0.2)
_GENDERS, _GENDER_P = ("female", "male", "non_binary"), (0.47, 0.51, 0.02)

# Rating process.
_SD_LENIENCY, _SD_ASSESSOR_LENIENCY = 0.35, 0.1
_SELF_INFLATION = (0.3, 0.45)
_SD_ITEM_OFFSET = 0.2
_SD_NOISE, _SD_ASSESSOR_NOISE = 0.6, 0.25
_P_MISSING_RATING = 0.03
_P_STRAIGHT_LINER = 0.01
_STRAIGHT_SCORES, _STRAIGHT_P = (3.0, 4.0, 5.0), (0.2, 0.5, 0.3)
_PEERS = (2, 6)
_PEER_OFFSETS = np.array([1, -1, 2, -2, 3, -3])
_P_DIRECT_REPORT_RESPONDS = 0.8
_P_ASSESSOR = 0.25

# Catalog.
_KIND_FREQUENCY = _per(
    ITEM_KINDS,
    {
        "course": 1.4,
        "workshop": 1.6,
        "elearning": 1.5,
        "coaching": 0.8,
        "mentoring": 0.6,
        "stretch_assignment": 0.6,
        "peer_group": 0.7,
        "reading": 1.0,
        "practice": 1.0,
    },
)
#: How well each kind suits each level (rows: ITEM_LEVELS).
_LEVEL_KIND_FIT = np.array(
    _per(
        ITEM_LEVELS,
        {
            "foundation": _per(
                ITEM_KINDS,
                {
                    "course": 1.0,
                    "workshop": 0.8,
                    "elearning": 1.5,
                    "coaching": 0.3,
                    "mentoring": 0.3,
                    "stretch_assignment": 0.2,
                    "peer_group": 0.5,
                    "reading": 1.3,
                    "practice": 0.8,
                },
            ),
            "intermediate": _per(
                ITEM_KINDS,
                {
                    "course": 1.0,
                    "workshop": 1.2,
                    "elearning": 0.8,
                    "coaching": 1.0,
                    "mentoring": 0.8,
                    "stretch_assignment": 0.8,
                    "peer_group": 1.0,
                    "reading": 0.8,
                    "practice": 1.2,
                },
            ),
            "advanced": _per(
                ITEM_KINDS,
                {
                    "course": 0.9,
                    "workshop": 1.0,
                    "elearning": 0.3,
                    "coaching": 1.5,
                    "mentoring": 1.3,
                    "stretch_assignment": 1.5,
                    "peer_group": 0.9,
                    "reading": 0.5,
                    "practice": 0.9,
                },
            ),
        },
    )
)
_HOURS = np.array(
    _per(
        ITEM_KINDS,
        {
            "course": (8, 24),
            "workshop": (4, 16),
            "elearning": (2, 6),
            "coaching": (6, 12),
            "mentoring": (10, 20),
            "stretch_assignment": (20, 60),
            "peer_group": (6, 12),
            "reading": (2, 5),
            "practice": (4, 10),
        },
    )
)
#: Cost: probability of being free, then a uniform range and rounding step.
_COST = _per(
    ITEM_KINDS,
    {
        "course": (0.0, 600, 2500, 50),
        "workshop": (0.0, 300, 1500, 50),
        "elearning": (0.4, 20, 250, 5),
        "coaching": (0.0, 1200, 3600, 100),
        "mentoring": (0.9, 100, 500, 50),
        "stretch_assignment": (1.0, 0, 0, 1),
        "peer_group": (0.1, 150, 900, 50),
        "reading": (0.6, 15, 60, 5),
        "practice": (0.9, 50, 300, 50),
    },
)
_MODALITY_P = np.array(
    _per(
        ITEM_KINDS,
        {
            "course": _per(
                MODALITIES, {"online": 0.2, "in_person": 0.5, "blended": 0.3}
            ),
            "workshop": _per(
                MODALITIES, {"online": 0.1, "in_person": 0.7, "blended": 0.2}
            ),
            "elearning": _per(
                MODALITIES, {"online": 1.0, "in_person": 0.0, "blended": 0.0}
            ),
            "coaching": _per(
                MODALITIES, {"online": 0.3, "in_person": 0.4, "blended": 0.3}
            ),
            "mentoring": _per(
                MODALITIES, {"online": 0.2, "in_person": 0.5, "blended": 0.3}
            ),
            "stretch_assignment": _per(
                MODALITIES, {"online": 0.0, "in_person": 0.7, "blended": 0.3}
            ),
            "peer_group": _per(
                MODALITIES, {"online": 0.3, "in_person": 0.4, "blended": 0.3}
            ),
            "reading": _per(
                MODALITIES, {"online": 1.0, "in_person": 0.0, "blended": 0.0}
            ),
            "practice": _per(
                MODALITIES, {"online": 0.1, "in_person": 0.6, "blended": 0.3}
            ),
        },
    )
)
_KIND_LABEL = _per(
    ITEM_KINDS,
    {
        "course": "course",
        "workshop": "workshop",
        "elearning": "e-learning",
        "coaching": "coaching trajectory",
        "mentoring": "mentoring programme",
        "stretch_assignment": "stretch assignment",
        "peer_group": "peer group",
        "reading": "reading",
        "practice": "on-the-job assignment",
    },
)
_LEVEL_TITLE = _per(
    ITEM_LEVELS,
    {
        "foundation": "{name}: the essentials",
        "intermediate": "{name} in practice",
        "advanced": "{name} for experienced leaders",
    },
)
#: Item levels that suit each track when the item targets its core.
_TRACK_LEVELS = _per(
    TRACKS,
    {
        "new_manager": ("foundation", "intermediate"),
        "struggling_manager": ("foundation", "intermediate", "advanced"),
        "high_potential": ("intermediate", "advanced"),
        "core": ("foundation", "intermediate", "advanced"),
    },
)
_CATALOG_LANGUAGE_P = (0.35, 0.35, 0.3)  # nl, en, any
#: The full catalog (``n_catalog_items=None``) offers, at every competency and
#: level, each kind whose level fit is at least this, plus the best-fitting
#: kind of any 70-20-10 group left empty.
_FULL_MIN_FIT = 0.8
#: Formal learning kinds that come as an online and an in-person (or
#: blended) variant in the full catalog, where their modalities allow it.
_VARIANT_KINDS = ("course", "workshop", "elearning")
_GROUPS = ("experience", "exposure", "education")
_VARIANT_LABEL = _per(
    MODALITIES, {"online": "online", "in_person": "in person", "blended": "blended"}
)
_P_TRACK_TAG = 0.75
_P_SECOND_COMPETENCY = 0.3
_SECOND_WEIGHTS = (0.3, 0.4, 0.5, 0.6)
_P_PREREQUISITE = _per(
    ITEM_LEVELS, {"foundation": 0.0, "intermediate": 0.2, "advanced": 0.5}
)
#: True gain in scale points per completion, before weight and quality.
_BASE_EFFECT = np.array(
    _per(
        ITEM_KINDS,
        {
            "course": 0.22,
            "workshop": 0.28,
            "elearning": 0.1,
            "coaching": 0.38,
            "mentoring": 0.3,
            "stretch_assignment": 0.4,
            "peer_group": 0.2,
            "reading": 0.08,
            "practice": 0.3,
        },
    )
)
_LEVEL_EFFECT = np.array(
    _per(ITEM_LEVELS, {"foundation": 0.8, "intermediate": 1.0, "advanced": 1.2})
)
#: Presets of ``kind_effects``: multipliers of the true base effect by kind.
#: Formal learning is the education group; experiential kinds are the
#: experience group plus one-to-one exposure (coaching, mentoring). Peer
#: groups keep their default effect in both.
_FORMAL_KINDS = ("course", "workshop", "elearning", "reading")
_EXPERIENTIAL_KINDS = ("stretch_assignment", "practice", "coaching", "mentoring")
_STRONG, _WEAK = 1.8, 0.5
_KIND_EFFECT_PRESETS = {
    "education_strong": {
        **dict.fromkeys(_FORMAL_KINDS, _STRONG),
        **dict.fromkeys(_EXPERIENTIAL_KINDS, _WEAK),
    },
    "experience_strong": {
        **dict.fromkeys(_FORMAL_KINDS, _WEAK),
        **dict.fromkeys(_EXPERIENTIAL_KINDS, _STRONG),
    },
}
_SD_QUALITY = 0.35
_P_DUD = 0.1  # items with (near) zero true effect
_DUD_QUALITY = 0.05  # a dud's quality multiplier is below this

# Enrolment history.
_P_ENROLLED = 0.4
_ENROLMENTS_EXTRA_MEAN = 1.2
_MAX_ENROLMENTS = 5
_P_NEED_DRIVEN = 0.6
_NEED_SHARPNESS = 1.5
_STATUS_P = _per(
    ENROLMENT_STATUSES,
    {"planned": 0.15, "in_progress": 0.15, "completed": 0.6, "dropped": 0.1},
)
_P_SATISFACTION_MISSING = 0.15


@dataclass(frozen=True)
class OrganisationTruth:
    """The hidden ground truth behind a synthetic organisation.

    Attributes
    ----------
    levels : DataFrame
        True competency levels at the latest cycle, one row per employee
        (index ``employee_id``) and one column per competency, on the 1-5
        scale.
    levels_by_cycle : DataFrame
        Columns cycle (0 = first), assessed_on, employee_id, competency_id,
        level: the true levels at every assessment cycle. Later cycles include
        the true effects of the learning items completed in between.
    talents : DataFrame
        Columns employee_id, competency_id: each person's talent
        competencies (``talents_per_person`` of them, by default three; a
        clear boost to their true level).
    track : Series
        The true track of each employee (index ``employee_id``, name
        ``track``).
    item_effects : DataFrame
        Columns item_id, competency_id, weight, effect: the true gain in scale
        points per completion of a catalog item on each competency it lists
        (``effect = weight * base(kind, level) * multiplier(kind) * quality``;
        about one item in ten has a near-zero effect).
    rater_leniency : Series
        Additive leniency of every rater (index ``rater_id``: employee ids and
        assessor ids), in scale points.
    self_inflation : Series
        How much each employee inflates their self ratings (index
        ``employee_id``), in scale points, on top of their leniency.
    straight_liners : Index
        Ids of the raters who give the same score to every item.
    item_offsets : Series or None, default=None
        Additive offset of each questionnaire item (index ``item_id``), in
        scale points: how much easier or harder the item is to endorse.
    kind_effects : Series or None, default=None
        Multiplier of each kind's default true base effect (index ``kind``,
        name ``multiplier``; all 1 unless ``make_tables(kind_effects=...)``
        changed them). None means all 1.

    Examples
    --------
    >>> from devplan.datasets import make_tables
    >>> _, truth = make_tables(40, random_state=0)
    >>> truth.levels.shape, truth.track.name
    ((40, 26), 'track')
    >>> bool((truth.item_effects["effect"] >= 0).all())
    True
    """

    levels: pd.DataFrame
    levels_by_cycle: pd.DataFrame
    talents: pd.DataFrame
    track: pd.Series
    item_effects: pd.DataFrame
    rater_leniency: pd.Series
    self_inflation: pd.Series
    straight_liners: pd.Index
    item_offsets: pd.Series | None = None
    kind_effects: pd.Series | None = None


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------
def _check_random_state(random_state) -> np.random.Generator:
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    raise TypeError(
        f"Got random_state={random_state!r}; expected None, an int or a "
        "numpy.random.Generator."
    )


def _check_int(name: str, value, low: int, *, or_none: bool = False) -> int:
    allowed = f"an integer >= {low}" + (" or None" if or_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Got {name}={value!r}; expected {allowed}.")
    if value < low:
        raise ValueError(f"Got {name}={value!r}; expected {allowed}.")
    return int(value)


def _check_kind_effects(value) -> np.ndarray:
    """Multiplier of the true base effect of each kind (``ITEM_KINDS`` order)."""
    if value is None:
        return np.ones(len(ITEM_KINDS))
    allowed = (
        f"expected None, one of {sorted(_KIND_EFFECT_PRESETS)} or a dict of kind "
        f"(one of {list(ITEM_KINDS)}) to a multiplier >= 0"
    )
    if isinstance(value, str):
        if value not in _KIND_EFFECT_PRESETS:
            raise ValueError(f"Got kind_effects={value!r}; {allowed}.")
        value = _KIND_EFFECT_PRESETS[value]
    elif not isinstance(value, Mapping):
        raise TypeError(f"Got kind_effects={value!r}; {allowed}.")
    unknown = sorted(map(str, set(value) - set(ITEM_KINDS)))
    if unknown:
        raise ValueError(f"Got kind_effects with unknown kinds {unknown}; {allowed}.")
    multipliers = np.ones(len(ITEM_KINDS))
    for kind, factor in value.items():
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
            raise TypeError(
                f"Got kind_effects[{kind!r}]={factor!r}; expected a number >= 0."
            )
        if not np.isfinite(factor) or factor < 0:
            raise ValueError(
                f"Got kind_effects[{kind!r}]={factor!r}; expected a finite number >= 0."
            )
        multipliers[ITEM_KINDS.index(kind)] = float(factor)
    return multipliers


def _check_role_demand(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Got role_demand={value!r}; expected a number > 0.")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"Got role_demand={value!r}; expected a finite number > 0 (1.0: the "
            "default requirements)."
        )
    return float(value)


def _str_index(values) -> pd.Index:
    return pd.Index(list(values), dtype="str")


def _ids(prefix: str, n: int, width: int) -> pd.Index:
    return _str_index(f"{prefix}{i:0{width}d}" for i in range(1, n + 1))


def _str_from_codes(codes: np.ndarray, categories) -> pd.Series:
    """A ``str`` Series from integer codes into ``categories`` (-1: missing)."""
    cats = categories if isinstance(categories, pd.Index) else _str_index(categories)
    out = pd.Series(cats.take(np.maximum(codes, 0)))
    if (codes < 0).any():
        out[codes < 0] = np.nan
    return out


def _dates(days: np.ndarray) -> np.ndarray:
    """Days since the epoch (int64 minimum: missing) as ``datetime64[s]``."""
    return days.astype("datetime64[D]").astype("datetime64[s]")


def _categorical(codes: np.ndarray, categories: pd.Index | pd.CategoricalDtype):
    if isinstance(categories, pd.CategoricalDtype):
        return pd.Categorical.from_codes(codes, dtype=categories, validate=False)
    return pd.Categorical.from_codes(codes, categories=categories, validate=False)


def _choice(rng: np.random.Generator, p, size: int) -> np.ndarray:
    """Vectorised categorical draws with probabilities ``p`` (int8/16 codes)."""
    cum = np.cumsum(np.asarray(p, dtype=float))
    return np.searchsorted(cum / cum[-1], rng.random(size), side="right").astype(
        np.int16
    )


def _rows_choice(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One categorical draw per row of the probability matrix ``p``."""
    cum = np.cumsum(p, axis=1)
    u = rng.random(len(p))[:, None] * cum[:, -1:]
    return np.minimum((cum <= u).sum(axis=1), p.shape[1] - 1)


def _with_missing(rng: np.random.Generator, values: np.ndarray, p: float):
    values = values.astype(float)
    values[rng.random(len(values)) < p] = np.nan
    return values


def _index_dtype(size: int) -> type[np.signedinteger]:
    return np.int32 if size < np.iinfo(np.int32).max else np.int64


def _segment_positions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner and position within owner of each element of concatenated runs."""
    dtype = _index_dtype(int(counts.sum()))
    owner = np.repeat(np.arange(len(counts), dtype=dtype), counts)
    starts = (np.cumsum(counts) - counts).astype(dtype)
    position = np.arange(len(owner), dtype=dtype) - starts[owner]
    return owner, position


# --------------------------------------------------------------------------
# Hierarchy
# --------------------------------------------------------------------------
def _spans(rng: np.random.Generator, n_parents: int, n_children: int) -> np.ndarray:
    """Children per parent: each >= 1 (>= 2 when possible), at most 12."""
    low = _MIN_SPAN if n_children >= _MIN_SPAN * n_parents else 1
    weights = rng.gamma(3.0, size=n_parents)
    spans = low + rng.multinomial(n_children - low * n_parents, weights / weights.sum())
    cap = max(_MAX_SPAN, -(-n_children // n_parents))
    for _ in range(100):
        excess = np.maximum(spans - cap, 0)
        total = int(excess.sum())
        if total == 0:
            break
        spans -= excess
        room = (cap - spans).astype(float)
        spans += rng.multinomial(total, room / room.sum())
    return spans


def _hierarchy(rng: np.random.Generator, n: int):
    """Tiers top-down; returns parent (-1 for the root), level and tier."""
    n_first = max(1, round((n - 1) / (1 + _SPAN_FIRST_LINE + 1 / (_SPAN_UPPER - 1))))
    upper: list[int] = []
    count = n_first
    while count > _MAX_TOP_SPAN:
        count = max(_MIN_TOP_SPAN, round(count / _SPAN_UPPER))
        upper.append(count)
    n_ic = n - 1 - n_first - sum(upper)
    if n_ic < n_first:  # only for tiny organisations
        n_first = max(1, (n - 1 - sum(upper)) // 2)
        n_ic = n - 1 - n_first - sum(upper)
    upper_levels = [_MIDDLE] * len(upper)
    if upper:
        n_senior_tiers = 2 if len(upper) >= 4 else 1
        upper_levels[-n_senior_tiers:] = [_SENIOR] * n_senior_tiers
    sizes = [1, *upper[::-1], n_first, n_ic]
    levels = [_EXEC, *upper_levels[::-1], _FIRST, _IC]
    starts = np.cumsum([0, *sizes])
    parent = np.full(n, -1, dtype=np.int64)
    for t in range(1, len(sizes)):
        spans = _spans(rng, sizes[t - 1], sizes[t])
        parent[starts[t] : starts[t + 1]] = np.repeat(
            np.arange(starts[t - 1], starts[t]), spans
        )
    tier = np.repeat(np.arange(len(sizes)), sizes)
    level = np.asarray(levels)[tier]
    return parent, level, tier, starts


def _peers(rng: np.random.Generator, tier: np.ndarray, starts: np.ndarray):
    """Peer (ratee, rater) pairs: 2-6 neighbours in the same tier."""
    n = len(tier)
    size = np.diff(starts)[tier]
    n_peers = np.minimum(rng.integers(_PEERS[0], _PEERS[1] + 1, size=n), size - 1)
    ratee, j = _segment_positions(n_peers)
    first = starts[tier][ratee]
    position = ratee - first
    rater = first + (position + _PEER_OFFSETS[j]) % size[ratee]
    return ratee, rater


# --------------------------------------------------------------------------
# Roles
# --------------------------------------------------------------------------
def _roles(rng: np.random.Generator, comp_ids: list[str], role_demand: float = 1.0):
    """Role definitions and profiles (required level, importance).

    ``role_demand`` stretches each required level's distance above the bottom
    of the scale: ``required = 1 + role_demand * (default - 1)`` before
    rounding and clipping, so 1.0 keeps the default profiles exactly.
    """
    comp_pos = {c: i for i, c in enumerate(comp_ids)}
    n_comp = len(comp_ids)
    role_rows = []  # (role_id, role_name, level)
    profile_rows = []  # (role, comp, required, importance code)
    critical, important, useful = (
        _code(IMPORTANCES, x) for x in ("critical", "important", "useful")
    )
    for level, roles in enumerate(_ROLES):
        for role_id, role_name in roles:
            r = len(role_rows)
            role_rows.append((role_id, role_name, level))
            if level == _IC:
                pool = [comp_pos[c] for c in _IC_POOL]
                comps = np.sort(rng.choice(pool, _IC_N_COMPETENCIES, replace=False))
                crit_pool = [comp_pos[c] for c in _CRITICAL_POOL[level]]
                crit_pool = [c for c in crit_pool if c in set(comps.tolist())]
                n_crit = min(3, len(crit_pool))
            else:
                comps = np.arange(n_comp)
                crit_pool = [comp_pos[c] for c in _CRITICAL_POOL[level]]
                n_crit = min(len(crit_pool), int(rng.integers(5, 7)))
            crit = set(rng.choice(crit_pool, n_crit, replace=False).tolist())
            required = (
                _REQUIRED_BASE[level]
                + rng.normal(0.0, 0.15, len(comps))
                + _CRITICAL_BONUS * np.isin(comps, list(crit))
            )
            # Written as a change so that role_demand=1.0 adds exactly 0.
            required += (role_demand - 1.0) * (required - _SCALE_MIN)
            required = np.clip(np.round(required, 1), _SCALE_MIN, _SCALE_MAX)
            rest = rng.random(len(comps))
            for c, req, u in zip(comps.tolist(), required, rest, strict=True):
                imp = critical if c in crit else (important if u < 0.5 else useful)
                profile_rows.append((r, c, float(req), imp))
    profiles = np.array(profile_rows, dtype=float)
    return role_rows, profiles


# --------------------------------------------------------------------------
# Catalog
# --------------------------------------------------------------------------
def _random_plan(rng: np.random.Generator, n_items: int, n_comp: int, fit):
    """(competency, level, kind) of ``n_items`` items.

    Every competency at every level first (each kind at least once), then
    further distinct (competency, level, kind) combinations, drawn by fit.
    """
    n_kind, n_level = len(ITEM_KINDS), len(ITEM_LEVELS)
    base = [(c, lv) for c in range(n_comp) for lv in range(n_level)]
    base = [base[i] for i in rng.permutation(len(base))][:n_items]
    chosen = []
    for j, (c, lv) in enumerate(base):
        k = j if j < n_kind else int(_choice(rng, fit[lv], 1)[0])
        chosen.append((c, lv, k))
    remaining = n_items - len(chosen)
    if remaining > 0:
        taken = set(chosen)
        candidates = [
            (c, lv, k)
            for c in range(n_comp)
            for lv in range(n_level)
            for k in range(n_kind)
            if (c, lv, k) not in taken
        ]
        weights = np.array([fit[lv, k] for _, lv, k in candidates])
        replace = remaining > len(candidates)
        picks = rng.choice(
            len(candidates), remaining, replace=replace, p=weights / weights.sum()
        )
        chosen += [candidates[i] for i in picks]
    chosen.sort()
    return chosen


def _full_kinds() -> list[list[tuple[int, int]]]:
    """(kind, variant) of the full catalog's items at each level.

    Variant -1: one item; 0 and 1: the online and the in-person (or blended)
    variant of a formal learning kind whose modalities allow both.
    """
    online = _code(MODALITIES, "online")
    per_level = []
    for lv in range(len(ITEM_LEVELS)):
        fit = _LEVEL_KIND_FIT[lv]
        kinds = set(np.flatnonzero(fit >= _FULL_MIN_FIT).tolist())
        for group in _GROUPS:
            members = [
                k for k, name in enumerate(ITEM_KINDS) if KIND_GROUP[name] == group
            ]
            if not kinds & set(members):
                kinds.add(max(members, key=lambda k: fit[k]))
        rows = []
        for k in sorted(kinds):
            p = _MODALITY_P[k]
            both = p[online] > 0 and p.sum() - p[online] > 0
            if ITEM_KINDS[k] in _VARIANT_KINDS and both:
                rows += [(k, 0), (k, 1)]
            else:
                rows.append((k, -1))
        per_level.append(rows)
    return per_level


def _cover_languages(language, comp, level, kind) -> None:
    """Give every (competency, level, group) an item usable in each language.

    Usable means in that language or language-neutral. In place, on language
    codes (-1: language-neutral). A cell without an item usable in a language
    switches one of its (at least two) items of the other language, or makes
    its only item language-neutral.
    """
    group = np.array([_GROUPS.index(KIND_GROUP[ITEM_KINDS[k]]) for k in kind])
    cell = (comp * len(ITEM_LEVELS) + level) * len(_GROUPS) + group
    order = np.argsort(cell, kind="stable")
    bounds = np.flatnonzero(np.diff(cell[order])) + 1
    for idx in np.split(order, bounds):
        for code in range(len(_LANGUAGES)):
            if ((language[idx] == code) | (language[idx] < 0)).any():
                continue
            if len(idx) > 1:
                language[idx[-1]] = code
            else:
                language[idx[0]] = -1


def _catalog(
    rng: np.random.Generator,
    n_items: int | None,
    competencies: pd.DataFrame,
    track_weights: np.ndarray,
    kind_effects: np.ndarray | None = None,
):
    """Learning items and their true effects (a dense item x competency matrix).

    ``n_items=None`` builds the full catalog (:func:`_full_kinds` at every
    competency and level, every cell in both languages); an int, that many
    items (:func:`_random_plan`). ``kind_effects`` multiplies the true base
    effect of each kind; it changes no column of the catalog.
    """
    comp_ids = competencies["competency_id"].tolist()
    names = competencies["name"].tolist()
    clusters = pd.factorize(competencies["cluster"])[0]
    n_comp, n_level = len(comp_ids), len(ITEM_LEVELS)
    fit = _LEVEL_KIND_FIT * np.asarray(_KIND_FREQUENCY)[None, :]

    full = n_items is None
    if full:
        kinds = _full_kinds()
        chosen = [
            (c, lv, k, v)
            for c in range(n_comp)
            for lv in range(n_level)
            for k, v in kinds[lv]
        ]
    else:
        chosen = [
            (c, lv, k, -1) for c, lv, k in _random_plan(rng, n_items, n_comp, fit)
        ]
    comp = np.array([c for c, _, _, _ in chosen])
    level = np.array([lv for _, lv, _, _ in chosen])
    kind = np.array([k for _, _, k, _ in chosen])
    variant = np.array([v for _, _, _, v in chosen])
    n = len(chosen)
    width = max(4, len(str(n)))
    item_ids = [f"L{i:0{width}d}" for i in range(1, n + 1)]

    # Hours, cost, modality, language.
    low, high = _HOURS[kind, 0], _HOURS[kind, 1]
    hours = np.round(low + rng.random(n) * (high - low)).astype(float)
    cost = np.zeros(n)
    u_free, u_cost = rng.random(n), rng.random(n)
    for k, (p_free, lo, hi, step) in enumerate(_COST):
        m = (kind == k) & (u_free >= p_free)
        cost[m] = np.round((lo + u_cost[m] * (hi - lo)) / step) * step
    modality_p = _MODALITY_P[kind]
    online = _code(MODALITIES, "online")
    if full:  # variant 0 online; variant 1 in person or blended, by the kind's odds
        modality_p = modality_p.copy()
        modality_p[variant == 0] = np.eye(len(MODALITIES))[online]
        modality_p[variant == 1, online] = 0.0
    modality = _rows_choice(rng, modality_p)
    for m_code in range(len(MODALITIES)):  # every modality appears
        if not (modality == m_code).any():
            able = np.flatnonzero((_MODALITY_P[kind, m_code] > 0) & (variant < 0))
            if len(able):
                modality[able[0]] = m_code
    language = _choice(rng, _CATALOG_LANGUAGE_P, n).astype(np.int64)
    for code in range(len(_LANGUAGES)):
        if not (language == code).any() and n > len(_LANGUAGES):
            language[code] = code
    language[language == len(_LANGUAGES)] = -1
    if full:
        _cover_languages(language, comp, level, kind)

    # Titles: level pattern and kind; variants name their modality.
    titles, seen = [], {}
    for i in range(n):
        title = (
            _LEVEL_TITLE[level[i]].format(name=names[comp[i]])
            + " — "
            + _KIND_LABEL[kind[i]]
        )
        if variant[i] >= 0:
            title += f" ({_VARIANT_LABEL[modality[i]]})"
        seen[title] = seen.get(title, 0) + 1
        titles.append(title if seen[title] == 1 else f"{title} ({seen[title]})")

    # Tracks the item suits (none listed: suits all).
    tags = np.zeros((n, len(TRACKS)), dtype=bool)
    u_tag = rng.random((n, len(TRACKS)))
    for t, levels in enumerate(_TRACK_LEVELS):
        allowed = np.isin(level, [_code(ITEM_LEVELS, lv) for lv in levels])
        core = track_weights[t, comp] > 0
        tags[:, t] = core & allowed & (u_tag[:, t] < _P_TRACK_TAG)
        if not tags[:, t].any() and core.any():
            tags[np.flatnonzero(core)[0], t] = True

    # A second, related competency for some items.
    second = np.full(n, -1)
    second_weight = np.zeros(n)
    has_second = rng.random(n) < _P_SECOND_COMPETENCY
    u_second = rng.random(n)
    w_second = rng.choice(_SECOND_WEIGHTS, n)
    for i in np.flatnonzero(has_second):
        related = np.flatnonzero(
            (clusters == clusters[comp[i]]) & (comp[i] != np.arange(n_comp))
        )
        if len(related):
            second[i] = related[int(u_second[i] * len(related))]
            second_weight[i] = w_second[i]

    # Prerequisites: an item one level lower on the same competency.
    prereq = np.full(n, -1)
    u_pre, u_pick = rng.random(n), rng.random(n)
    for i in range(n):
        if level[i] == 0 or u_pre[i] >= _P_PREREQUISITE[level[i]]:
            continue
        lower = np.flatnonzero((comp == comp[i]) & (level == level[i] - 1))
        if len(lower):
            prereq[i] = lower[int(u_pick[i] * len(lower))]

    competencies_col, tracks_col, prereq_col = [], [], []
    for i in range(n):
        text = comp_ids[comp[i]]
        if second[i] >= 0:
            text += f";{comp_ids[second[i]]}:{second_weight[i]:g}"
        competencies_col.append(text)
        listed = [TRACKS[t] for t in np.flatnonzero(tags[i])]
        tracks_col.append(";".join(listed) if listed else np.nan)
        prereq_col.append(item_ids[prereq[i]] if prereq[i] >= 0 else np.nan)

    catalog = pd.DataFrame(
        {
            "item_id": _str_index(item_ids),
            "title": _str_index(titles),
            "kind": _str_from_codes(kind, ITEM_KINDS),
            "competencies": pd.Series(competencies_col, dtype="str"),
            "level": _str_from_codes(level, ITEM_LEVELS),
            "hours": hours,
            "cost": cost,
            "modality": _str_from_codes(modality, MODALITIES),
            "language": _str_from_codes(language, _LANGUAGES),
            "tracks": pd.Series(tracks_col, dtype="str"),
            "prerequisites": pd.Series(prereq_col, dtype="str"),
        }
    )[CATALOG.names]

    # True effects.
    quality = rng.lognormal(-0.5 * _SD_QUALITY**2, _SD_QUALITY, n)
    dud = rng.random(n) < _P_DUD
    quality[dud] = rng.random(int(dud.sum())) * _DUD_QUALITY
    base_effect = _BASE_EFFECT if kind_effects is None else _BASE_EFFECT * kind_effects
    gain = base_effect[kind] * _LEVEL_EFFECT[level] * quality
    has = np.flatnonzero(second >= 0)
    rows = np.concatenate([np.arange(n), has])
    cols = np.concatenate([comp, second[has]])
    weights = np.concatenate([np.ones(n), second_weight[has]])
    order = np.argsort(rows, kind="stable")  # primary competency first
    rows, cols, weights = rows[order], cols[order], weights[order]
    effects = np.zeros((n, n_comp))
    effects[rows, cols] = weights * gain[rows]
    item_effects = pd.DataFrame(
        {
            "item_id": _str_index(np.asarray(item_ids)[rows]),
            "competency_id": _str_index(np.asarray(comp_ids)[cols]),
            "weight": weights,
            "effect": effects[rows, cols],
        }
    )
    info = {"comp": comp, "tags": tags, "quality": quality, "hours": hours}
    return catalog, item_effects, effects, info


# --------------------------------------------------------------------------
# Enrolments
# --------------------------------------------------------------------------
def _enrolments(
    rng: np.random.Generator,
    levels: np.ndarray,
    track: np.ndarray,
    catalog_info: dict,
    window: tuple[int, int],
):
    """Learning history: (person, item, status, started, completed, satisfaction)."""
    n, n_comp = levels.shape
    comp, tags = catalog_info["comp"], catalog_info["tags"]
    n_items = len(comp)
    per_person = np.minimum(1 + rng.poisson(_ENROLMENTS_EXTRA_MEAN, n), _MAX_ENROLMENTS)
    per_person[rng.random(n) >= _P_ENROLLED] = 0
    person = np.repeat(np.arange(n), per_person)
    m = len(person)

    # Track pools: items tagged with the track or untagged (suit all).
    suits = tags | ~tags.any(axis=1, keepdims=True)
    suits[:, ~suits.any(axis=0)] = True
    pool_sizes = suits.sum(axis=0)
    pool_items = np.concatenate(
        [np.flatnonzero(suits[:, t]) for t in range(len(TRACKS))]
    )
    pool_starts = np.cumsum(pool_sizes) - pool_sizes
    t = track[person]
    u = rng.random(m)
    item = pool_items[pool_starts[t] + (u * pool_sizes[t]).astype(np.int64)]

    # Need-driven choices: a competency the person is weak in, then an item.
    need = rng.random(m) < _P_NEED_DRIVEN
    idx = np.flatnonzero(need)
    gumbel = rng.gumbel(size=(len(idx), n_comp))
    target = np.argmax(-_NEED_SHARPNESS * levels[person[idx]] + gumbel, axis=1)
    by_comp = np.argsort(comp, kind="stable")
    comp_sizes = np.bincount(comp, minlength=n_comp)
    comp_starts = np.cumsum(comp_sizes) - comp_sizes
    u2 = rng.random(len(idx))
    ok = comp_sizes[target] > 0
    item[idx[ok]] = by_comp[
        comp_starts[target[ok]] + (u2[ok] * comp_sizes[target[ok]]).astype(np.int64)
    ]

    key = np.unique(person.astype(np.int64) * n_items + item)
    person, item = key // n_items, key % n_items
    m = len(person)

    status = _choice(rng, _STATUS_P, m).astype(np.int8)
    start_day, end_day = window
    started = np.full(m, np.iinfo(np.int64).min)
    completed = np.full(m, np.iinfo(np.int64).min)
    s_completed, s_progress, s_dropped = (
        _code(ENROLMENT_STATUSES, s) for s in ("completed", "in_progress", "dropped")
    )
    u_day, u_dur = rng.random(m), rng.random(m)
    hours = catalog_info["hours"][item]
    c = status == s_completed
    completed[c] = start_day + (u_day[c] * (end_day - start_day)).astype(np.int64)
    duration = np.maximum(1, np.round(hours[c] * (1.5 + 2.5 * u_dur[c]))).astype(
        np.int64
    )
    started[c] = completed[c] - duration
    p = status == s_progress
    started[p] = end_day - 1 - (u_day[p] * 150).astype(np.int64)
    d = status == s_dropped
    started[d] = start_day + (u_day[d] * (end_day - 30 - start_day)).astype(np.int64)

    log_q = np.clip(np.log(catalog_info["quality"][item]), -3.0, 1.0)
    satisfaction = np.clip(
        np.round(3.7 + 0.35 * log_q + rng.normal(0.0, 0.7, m)), 1.0, 5.0
    )
    satisfaction[~c | (rng.random(m) < _P_SATISFACTION_MISSING)] = np.nan
    return person, item, status, started, completed, satisfaction


# --------------------------------------------------------------------------
# Assessments
# --------------------------------------------------------------------------
def _rater_pairs(rng, parent, peer_ratee, peer_rater, code):
    """(ratee, rater, rater type) of one cycle, sorted by ratee id and type."""
    n = len(parent)
    everyone = np.arange(n)
    has_manager = np.flatnonzero(parent >= 0)
    responds = has_manager[rng.random(len(has_manager)) < _P_DIRECT_REPORT_RESPONDS]
    rt = {name: i for i, name in enumerate(RATER_TYPES)}
    ratee = np.concatenate([everyone, has_manager, peer_ratee, parent[responds]])
    rater = np.concatenate([everyone, parent[has_manager], peer_rater, responds])
    kind = np.concatenate(
        [
            np.full(n, rt["self"]),
            np.full(len(has_manager), rt["manager"]),
            np.full(len(peer_ratee), rt["peer"]),
            np.full(len(responds), rt["direct_report"]),
        ]
    ).astype(np.int8)
    order = np.lexsort((code[rater], kind, code[ratee]))
    return ratee[order], rater[order], kind[order]


def _rate(
    rng,
    levels: np.ndarray,
    ratee: np.ndarray,
    rater: np.ndarray,
    kind: np.ndarray,
    role: np.ndarray,
    role_ptr: np.ndarray,
    role_items: np.ndarray,
    items: dict,
    leniency: np.ndarray,
    inflation: np.ndarray,
    straight: np.ndarray,
    item_level: bool,
):
    """Ratings of one cycle: (pair index, item or competency index, score)."""
    n_comp = levels.shape[1]
    self_code = RATER_TYPES.index("self")
    shift = leniency[rater] + np.where(kind == self_code, inflation[ratee], 0.0)
    shift = shift.astype(np.float32)
    # Expand pairs to the items of the ratee's role: pair p covers rows
    # row_start[p] .. and row r asks role_items[r + (role_start - row_start)[p]].
    counts = role_ptr[role[ratee] + 1] - role_ptr[role[ratee]]
    total = int(counts.sum())
    dtype = _index_dtype(max(total, levels.size))
    pair = np.repeat(np.arange(len(ratee), dtype=dtype), counts)
    shift_to_item = (role_ptr[role[ratee]] - (np.cumsum(counts) - counts)).astype(dtype)
    item = np.arange(total, dtype=dtype)
    item += shift_to_item[pair]
    item = role_items[item]
    if item_level:
        keep = rng.random(total, dtype=np.float32) >= _P_MISSING_RATING
        pair, item = pair[keep], item[keep]
        del keep
    comp = items["comp"][item]
    flat = levels.astype(np.float32).ravel()
    cell = (ratee * n_comp).astype(dtype)[pair]
    cell += comp
    score = flat[cell]
    del cell
    score += items["offset"][item]
    score += shift[pair]
    noise = rng.standard_normal(len(pair), dtype=np.float32)
    noise *= _SD_NOISE
    score += noise
    del noise
    np.rint(score, out=score)
    np.clip(score, _SCALE_MIN, _SCALE_MAX, out=score)
    if item_level:
        reverse = items["reverse"][item]
        score[reverse] = (_SCALE_MIN + _SCALE_MAX) - score[reverse]
        target = item
    else:
        new_group = np.ones(len(pair), dtype=bool)
        new_group[1:] = (pair[1:] != pair[:-1]) | (comp[1:] != comp[:-1])
        starts = np.flatnonzero(new_group)
        sizes = np.diff(np.append(starts, len(pair)))
        score = np.add.reduceat(score, starts) / sizes
        score = np.round(score * 2) / 2
        pair, target = pair[starts], comp[starts].astype(np.int16)
        keep = rng.random(len(pair), dtype=np.float32) >= _P_MISSING_RATING
        pair, target, score = pair[keep], target[keep], score[keep]
    constant = straight[rater][pair]
    liner = ~np.isnan(constant)
    score[liner] = constant[liner]
    return pair, target, score.astype(np.float64)


def _assessor_ratings(rng, levels, assessed, assessor, leniency, role, role_comps):
    """Competency-level assessor ratings (low noise, halves) of one cycle."""
    counts = role_comps.sum(axis=1)[role[assessed]]
    owner, _ = _segment_positions(counts)
    person = assessed[owner]
    comp = np.nonzero(role_comps[role[assessed]])[1]
    score = (
        levels[person, comp]
        + leniency[assessor[owner]]
        + rng.normal(0.0, _SD_ASSESSOR_NOISE, len(person))
    )
    score = np.clip(np.round(score * 2) / 2, _SCALE_MIN, _SCALE_MAX)
    return person, assessor[owner], comp, score


# --------------------------------------------------------------------------
# Assessments table
# --------------------------------------------------------------------------
def _assessments(
    rng,
    levels_by_cycle,
    cycle_dates,
    parent,
    tier,
    starts,
    role,
    role_comps,
    is_manager,
    code,
    emp_ids,
    items_table,
    comp_ids,
    item_level,
):
    """All ratings of all cycles as the ``assessments`` table, and rater truth."""
    n = len(parent)
    comp_pos = {c: i for i, c in enumerate(comp_ids)}
    # Rater characteristics.
    n_assessed = int(round(_P_ASSESSOR * is_manager.sum()))
    assessed = np.sort(
        rng.choice(np.flatnonzero(is_manager), n_assessed, replace=False)
    )
    n_assessors = int(np.clip(n_assessed // 100 + 2, 2, 99))
    assessor_ids = _ids("A", n_assessors, 2)
    assessor = n + rng.integers(0, n_assessors, n_assessed)  # rater index
    leniency = np.concatenate(
        [
            rng.normal(0.0, _SD_LENIENCY, n),
            rng.normal(0.0, _SD_ASSESSOR_LENIENCY, n_assessors),
        ]
    )
    inflation = rng.normal(*_SELF_INFLATION, n)
    straight = np.full(n + n_assessors, np.nan, dtype=np.float32)
    liners = np.flatnonzero(rng.random(n) < _P_STRAIGHT_LINER)
    straight[liners] = np.asarray(_STRAIGHT_SCORES)[
        _choice(rng, _STRAIGHT_P, len(liners))
    ]
    rater_code = np.concatenate([code, n + np.arange(n_assessors, dtype=np.int32)])
    rater_ids = emp_ids.append(assessor_ids)

    # Items of each role's questionnaire (framework order).
    item_comp = np.array([comp_pos[c] for c in items_table["competency_id"]])
    items = {
        "comp": item_comp.astype(np.int16),
        "offset": rng.normal(0.0, _SD_ITEM_OFFSET, len(items_table)).astype(np.float32),
        "reverse": items_table["reverse_keyed"].to_numpy(dtype=bool),
    }
    lists = [np.flatnonzero(in_role[item_comp]) for in_role in role_comps]
    role_ptr = np.concatenate([[0], np.cumsum([len(x) for x in lists])])
    role_items = np.concatenate(lists).astype(np.int16)

    peer_ratee, peer_rater = _peers(rng, tier, starts)

    parts = []
    for j in range(len(cycle_dates)):
        lv = levels_by_cycle[j]
        ratee, rater, kind = _rater_pairs(rng, parent, peer_ratee, peer_rater, code)
        pair, target, score = _rate(
            rng,
            lv,
            ratee,
            rater,
            kind,
            role,
            role_ptr,
            role_items,
            items,
            leniency,
            inflation,
            straight,
            item_level,
        )
        a_person, a_rater, a_comp, a_score = _assessor_ratings(
            rng, lv, assessed, assessor, leniency, role, role_comps
        )
        empty = np.full(len(a_person), -1, dtype=np.int16)
        parts.append(
            {
                "employee_id": np.concatenate([code[ratee][pair], code[a_person]]),
                "rater_type": np.concatenate(
                    [
                        kind[pair],
                        np.full(len(a_person), RATER_TYPES.index("assessor"), np.int8),
                    ]
                ),
                "rater_id": np.concatenate(
                    [rater_code[rater][pair], rater_code[a_rater]]
                ),
                "item_id": np.concatenate(
                    [target if item_level else np.full(len(pair), -1, np.int16), empty]
                ),
                "competency_id": np.concatenate(
                    [
                        np.full(len(pair), -1, np.int16) if item_level else target,
                        a_comp.astype(np.int16),
                    ]
                ),
                "score": np.concatenate([score, a_score]),
                "n": len(pair) + len(a_person),
            }
        )
        del pair, target, score

    def gather(key):
        arrays = [p.pop(key) for p in parts]
        return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)

    sizes = [p.pop("n") for p in parts]
    comp_index = _str_index(comp_ids)
    item_index = _str_index(items_table["item_id"])
    assessments = pd.DataFrame(
        {
            "employee_id": _categorical(gather("employee_id"), emp_ids),
            "rater_type": _categorical(
                gather("rater_type"),
                column_dtype(ASSESSMENTS, ASSESSMENTS.column("rater_type")),
            ),
            "rater_id": _categorical(gather("rater_id"), rater_ids),
            "item_id": _categorical(gather("item_id"), item_index),
            "competency_id": _categorical(gather("competency_id"), comp_index),
            "score": gather("score"),
            "assessed_on": np.repeat(cycle_dates.astype("datetime64[s]"), sizes),
        },
        copy=False,
    )
    raters = {
        "leniency": leniency,
        "inflation": inflation,
        "straight": straight,
        "rater_code": rater_code,
        "rater_ids": rater_ids,
        "item_offset": pd.Series(
            items["offset"].astype(np.float64),
            index=pd.Index(item_index, name="item_id"),
            name="offset",
        ),
    }
    return assessments, raters


# --------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------
def _observables(rng, level, tier, starts, parent, is_manager, track, general):
    """Employee attributes (internal order); most depend on the true track."""
    n = len(level)
    months = np.where(
        is_manager,
        13 + rng.integers(0, 108, n) + (rng.random(n) < 0.05) * rng.integers(0, 120, n),
        1 + np.minimum(rng.gamma(2.0, 20.0, n).astype(np.int64), 239),
    ).astype(float)
    new = track == _NEW
    months[new] = rng.integers(1, 12, int(new.sum()))
    perf = _PERFORMANCE[track]
    performance = np.clip(
        np.round(perf[:, 0] + perf[:, 1] * rng.standard_normal(n) + 0.3 * general, 1),
        _SCALE_MIN,
        _SCALE_MAX,
    )
    performance = _with_missing(rng, performance, 0.05)
    potential = _rows_choice(rng, _POTENTIAL[track]).astype(np.int64)
    potential[rng.random(n) < 0.05] = -1
    hours_pm = _with_missing(rng, 2 + 0.5 * rng.integers(0, 13, n), 0.08)
    b_low, b_high = _BUDGET_RANGE[level, 0], _BUDGET_RANGE[level, 1]
    budget = np.round((b_low + rng.random(n) * (b_high - b_low)) / 100) * 100
    budget = _with_missing(rng, budget, 0.08)
    language = _choice(rng, _LANGUAGE_P, n)
    modality_pref = _choice(rng, _MODALITY_PREFERENCE_P, n)
    # Units and locations follow the hierarchy (parents come before children).
    unit = np.zeros(n, dtype=np.int64)
    location = _choice(rng, _LOCATION_P, n).astype(np.int64)
    stay = rng.random(n) < 0.8
    top_tier = tier == 1
    unit[top_tier] = np.arange(int(top_tier.sum())) % len(_BUSINESS_UNITS)
    for t in range(2, len(starts) - 1):
        members = np.arange(starts[t], starts[t + 1])
        unit[members] = unit[parent[members]]
        keep = members[stay[members]]
        location[keep] = location[parent[keep]]
    # Protected attributes: independent of everything else.
    age_band = _choice(rng, _AGE_P, n)
    gender = _choice(rng, _GENDER_P, n).astype(np.int64)
    gender[rng.random(n) < 0.03] = -1
    return {
        "months_in_role": months,
        "performance_rating": performance,
        "potential_rating": potential,
        "learning_hours_per_month": hours_pm,
        "budget": budget,
        "language": language,
        "modality_preference": modality_pref,
        "business_unit": unit,
        "location": location,
        "age_band": age_band,
        "gender": gender,
    }


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------
def make_tables(
    n_employees: int = 200,
    *,
    random_state=None,
    n_cycles: int = 1,
    assessed_on: str = "2026-09-15",
    n_catalog_items: int | None = None,
    item_level: bool = True,
    kind_effects: str | Mapping[str, float] | None = None,
    role_demand: float = 1.0,
    talents_per_person: int = 3,
) -> tuple[dict[str, pd.DataFrame], OrganisationTruth]:
    """Simulate an organisation: the input tables of a bundle and the truth.

    Parameters
    ----------
    n_employees : int, default=200
        Number of employees (at least 3). One executive at the top, then
        senior, middle and first-line managers (spans of control 2-12, mean
        about 5) and about 80% individual contributors.
    random_state : int, numpy.random.Generator or None, default=None
        Seed or generator. The same arguments and seed give identical tables.
    n_cycles : int, default=1
        Number of yearly assessment cycles, the last one on ``assessed_on``.
        Learning items completed between two cycles raise the true levels of
        the later cycles by their true effects.
    assessed_on : str, default="2026-09-15"
        ISO date of the latest assessment cycle.
    n_catalog_items : int or None, default=None
        None: the full catalog (728 items for the default 26 competencies).
        At every competency and level it offers each kind that suits the
        level (a level fit of at least 0.8: no foundation stretch assignments
        and no advanced e-learning or reading), so that every competency x
        level has experience, exposure and education items; courses and
        workshops come as an online and an in-person (or blended) variant;
        every (competency, level, 70-20-10 group) has an item in Dutch or
        language-neutral and one in English or language-neutral. An int: that
        many items (at least 9), first one at every competency x level (from
        78 on, every competency has items at every level, each kind at least
        once), then further competency, level and kind combinations drawn by
        how well the kind suits the level.
    item_level : bool, default=True
        Rate questionnaire items (one row per rater and item). When False,
        raters rate competencies directly: the mean of their item scores,
        rounded to 0.5.
    kind_effects : {None, "education_strong", "experience_strong"} or dict, \
default=None
        How effective each kind of learning really is: a multiplier of the
        default true base effect per kind. None keeps the defaults.
        ``"education_strong"``: formal learning (course, workshop, e-learning,
        reading) has 1.8 times its default effect and experiential learning
        (stretch assignment, on-the-job practice, coaching, mentoring) 0.5
        times; ``"experience_strong"`` the reverse; peer groups keep theirs. A
        dict maps kinds (``ITEM_KINDS``) to multipliers >= 0; kinds left out
        keep 1. Only the truth changes (``truth.item_effects`` and the true
        levels of later cycles), never the catalog.
    role_demand : float, default=1.0
        How demanding the roles are (> 0). Each required level's distance
        above the bottom of the scale is multiplied by it, see Notes; 1.0
        gives the default profiles, larger values more and larger gaps to the
        required levels, smaller values fewer.
    talents_per_person : int, default=3
        Number of talent competencies per person (0 up to the number of
        competencies), each 0.8 higher in true level (``truth.talents``).

    Returns
    -------
    tables : dict of str to DataFrame
        ``employees, competencies, items, assessments, roles, catalog,
        enrolments`` with every column of the data contract. Identifiers and
        text are ``str`` (missing values NaN); in ``assessments`` and
        ``enrolments`` the identifier and enum columns are ``category``;
        booleans are ``boolean``, dates ``datetime64[s]``.
    truth : OrganisationTruth
        The simulated ground truth (true tracks and levels, item effects,
        rater leniency, self-inflation, straight-liners).

    Notes
    -----
    Tracks come first (people managers: about 20% new, 15% struggling, 15%
    high-potential, the rest and all individual contributors core), then the
    observables that depend on them (months in role, performance and
    potential ratings) and the true level of person *p* on competency *c*,
    clipped to 1-5::

        level = mean(role level) + general_p + cluster_p,cluster(c)
                + specific_pc + 0.8 * [c is one of p's talents]
                + shift(track_p) * track_weight(track_p, c) + general(track_p)

    New managers are 0.6 lower on their track's core competencies,
    struggling managers 1.0 lower on theirs and 0.3 lower overall, high
    potentials 0.25 higher on theirs and 0.3 higher overall. Age band and
    gender are drawn independently of everything else.

    A rating by rater *r* of person *p* on an item *i* of competency *c* is::

        score = clip(round(level_pc + offset_i + leniency_r
                           + [r is p] inflation_p + noise), 1, 5)

    with leniency sd 0.35, self-inflation mean 0.3 and sd 0.45, noise sd 0.6;
    reverse-keyed items store ``6 - score``. About 3% of ratings are missing
    and 1% of raters give one constant score to everything. Raters are the
    person, their line manager, 2-6 peers in the same tier of the hierarchy
    and, for managers, the direct reports who respond (80% do). Individual
    contributors are rated on their role's competencies, managers on all. One
    manager in four also gets competency-level ``assessor`` ratings (low
    noise, halves).

    Completed learning items add ``weight * base(kind, level) *
    multiplier(kind) * quality`` to the true level of each competency they
    list, from the next cycle on (``multiplier`` from ``kind_effects``).

    A role requires, on each competency of its profile, a level drawn around
    2.5 (individual contributors) up to 3.5 (the executive), 0.3 higher on its
    critical competencies, then stretched by ``role_demand`` and clipped::

        required = clip(round(1 + role_demand * (default - 1), 1), 1, 5)

    so higher roles gain most. In a 2,000-person organisation about 15% of the
    (person, critical competency) pairs have a true level below the required
    one at ``role_demand=1``; about 1% at 0.6, 4% at 0.8, 38% at 1.2 and 73%
    at 1.5, and the mean gap among them grows (0.3 at 1, 0.6 at 1.5).

    Examples
    --------
    >>> from devplan.datasets import make_tables
    >>> tables, truth = make_tables(50, random_state=0)
    >>> sorted(tables)
    ['assessments', 'catalog', 'competencies', 'employees', 'enrolments',
     'items', 'roles', 'track_competencies']
    >>> len(tables["employees"]), tables["employees"]["manager_id"].isna().sum()
    (50, np.int64(1))
    >>> tables["assessments"]["score"].between(1, 5).all()
    np.True_
    >>> truth.track.value_counts().index[0]
    'core'
    >>> len(tables["catalog"]), tables["catalog"]["title"].is_unique
    (728, True)

    Another world: formal learning works better than experience, roles ask
    more and everyone has one talent.

    >>> tables, truth = make_tables(
    ...     50,
    ...     random_state=0,
    ...     kind_effects="education_strong",
    ...     role_demand=1.3,
    ...     talents_per_person=1,
    ...     n_catalog_items=150,
    ... )
    >>> len(tables["catalog"]), len(truth.talents)
    (150, 50)
    >>> float(truth.kind_effects["course"]), float(truth.kind_effects["practice"])
    (1.8, 0.5)
    """
    n = _check_int("n_employees", n_employees, 3)
    n_cycles = _check_int("n_cycles", n_cycles, 1)
    if n_catalog_items is not None:
        n_catalog_items = _check_int(
            "n_catalog_items", n_catalog_items, len(ITEM_KINDS), or_none=True
        )
    multipliers = _check_kind_effects(kind_effects)
    role_demand = _check_role_demand(role_demand)
    try:
        latest = np.datetime64(pd.Timestamp(assessed_on).date(), "D")
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"Got assessed_on={assessed_on!r}; expected an ISO date like '2026-09-15'."
        ) from exc
    rng = _check_random_state(random_state)
    if not isinstance(item_level, bool):
        raise TypeError(f"Got item_level={item_level!r}; expected True or False.")
    n_talents = _check_int("talents_per_person", talents_per_person, 0)

    framework = load_framework()
    competencies = framework["competencies"]
    items_table = framework["items"]
    comp_ids = competencies["competency_id"].tolist()
    comp_pos = {c: i for i, c in enumerate(comp_ids)}
    n_comp = len(comp_ids)
    if n_talents > n_comp:
        raise ValueError(
            f"Got talents_per_person={talents_per_person!r}; expected an integer "
            f"from 0 to {n_comp} (the number of competencies)."
        )
    clusters = pd.factorize(competencies["cluster"])[0]
    track_weights = np.zeros((len(TRACKS), n_comp))
    tc = framework["track_competencies"]
    track_weights[
        [TRACKS.index(t) for t in tc["track"]],
        [comp_pos[c] for c in tc["competency_id"]],
    ] = tc["weight"].to_numpy()

    # Cycle dates, one year apart.
    last = pd.Timestamp(latest)
    cycle_dates = np.array(
        [
            np.datetime64((last - pd.DateOffset(years=n_cycles - 1 - j)).date(), "D")
            for j in range(n_cycles)
        ]
    )
    cycle_days = cycle_dates.astype(np.int64)

    # Hierarchy, roles and people.
    parent, level, tier, starts = _hierarchy(rng, n)
    code = rng.permutation(n).astype(np.int32)  # internal position -> id number - 1
    width = max(6, len(str(n)))
    emp_ids = _ids("E", n, width)
    role_rows, profiles = _roles(rng, comp_ids, role_demand)
    role_level = np.array([lv for _, _, lv in role_rows])
    first_role = np.searchsorted(role_level, np.arange(len(ROLE_LEVELS)))
    n_roles_level = np.bincount(role_level, minlength=len(ROLE_LEVELS))
    role = first_role[level] + (rng.random(n) * n_roles_level[level]).astype(np.int64)
    role_comps = np.zeros((len(role_rows), n_comp), dtype=bool)
    role_comps[profiles[:, 0].astype(int), profiles[:, 1].astype(int)] = True

    is_manager = np.bincount(parent[parent >= 0], minlength=n) > 0
    track = _rows_choice(rng, _TRACK_PROBS[level]).astype(np.int64)
    track[~is_manager] = _CORE

    # True levels at the first cycle.
    comp_effect = rng.normal(0.0, _SD_COMPETENCY, n_comp)
    general = rng.normal(0.0, _SD_GENERAL, n)
    cluster_f = rng.normal(0.0, _SD_CLUSTER, (n, clusters.max() + 1))
    base = rng.normal(0.0, _SD_SPECIFIC, (n, n_comp))
    base += _TRUE_MEAN[level][:, None] + general[:, None] + comp_effect[None, :]
    base += cluster_f[:, clusters]
    kth = min(n_talents, n_comp - 1)  # argpartition needs kth < n_comp
    talents = np.argpartition(rng.random((n, n_comp)), kth, axis=1)[:, :n_talents]
    talents.sort(axis=1)
    base[np.arange(n)[:, None], talents] += _TALENT_BOOST
    base += _TRACK_SHIFT[track][:, None] * track_weights[track]
    base += _TRACK_GENERAL[track][:, None]
    levels0 = np.clip(base, _SCALE_MIN, _SCALE_MAX)

    people = _observables(rng, level, tier, starts, parent, is_manager, track, general)

    # Catalog, item effects, enrolment history.
    catalog, item_effects, effects, catalog_info = _catalog(
        rng, n_catalog_items, competencies, track_weights, multipliers
    )
    window = (int(cycle_days[0]) - 365, int(cycle_days[-1]))
    e_person, e_item, e_status, e_started, e_completed, e_satisfaction = _enrolments(
        rng, levels0, track, catalog_info, window
    )

    # True levels per cycle: completions between cycles add their effects.
    unclipped = [base]
    done = e_status == _code(ENROLMENT_STATUSES, "completed")
    effect_from = np.searchsorted(cycle_days, e_completed, side="right")
    for j in range(1, n_cycles):
        m = done & (effect_from == j)
        counts = sp.csr_matrix(
            (np.ones(int(m.sum())), (e_person[m], e_item[m])),
            shape=(n, len(catalog)),
        )
        unclipped.append(unclipped[-1] + counts @ effects)
    levels_by_cycle = [np.clip(x, _SCALE_MIN, _SCALE_MAX) for x in unclipped]
    del unclipped, base

    assessments, raters = _assessments(
        rng,
        levels_by_cycle,
        cycle_dates,
        parent,
        tier,
        starts,
        role,
        role_comps,
        is_manager,
        code,
        emp_ids,
        items_table,
        comp_ids,
        item_level,
    )

    # Tables in id order.
    comp_index = _str_index(comp_ids)
    order = np.argsort(code)
    manager_code = np.where(parent >= 0, code[np.maximum(parent, 0)], -1)
    employees = pd.DataFrame(
        {
            "employee_id": emp_ids,
            "role_id": _str_from_codes(role[order], [r for r, _, _ in role_rows]),
            "manager_id": _str_from_codes(manager_code[order], emp_ids),
            "is_people_manager": pd.array(is_manager[order], dtype="boolean"),
            "months_in_role": people["months_in_role"][order],
            "performance_rating": people["performance_rating"][order],
            "potential_rating": _str_from_codes(
                people["potential_rating"][order], POTENTIAL_RATINGS
            ),
            "learning_hours_per_month": people["learning_hours_per_month"][order],
            "budget": people["budget"][order],
            "language": _str_from_codes(people["language"][order], _LANGUAGES),
            "modality_preference": _str_from_codes(
                people["modality_preference"][order], MODALITY_PREFERENCES
            ),
            "business_unit": _str_from_codes(
                people["business_unit"][order], _BUSINESS_UNITS
            ),
            "location": _str_from_codes(people["location"][order], _LOCATIONS),
            "age_band": _str_from_codes(people["age_band"][order], _AGE_BANDS),
            "gender": _str_from_codes(people["gender"][order], _GENDERS),
        }
    )[EMPLOYEES.names]

    roles = pd.DataFrame(
        {
            "role_id": _str_from_codes(
                profiles[:, 0].astype(int), [r for r, _, _ in role_rows]
            ),
            "role_name": _str_from_codes(
                profiles[:, 0].astype(int), [name for _, name, _ in role_rows]
            ),
            "role_level": _str_from_codes(
                role_level[profiles[:, 0].astype(int)], ROLE_LEVELS
            ),
            "competency_id": _str_from_codes(profiles[:, 1].astype(int), comp_index),
            "required_level": profiles[:, 2],
            "importance": _str_from_codes(profiles[:, 3].astype(int), IMPORTANCES),
        }
    )[ROLES.names]

    e_order = np.lexsort((e_item, code[e_person]))
    enrolments = pd.DataFrame(
        {
            "employee_id": _categorical(
                code[e_person][e_order].astype(np.int32), emp_ids
            ),
            "item_id": _categorical(
                e_item[e_order].astype(np.int32), _str_index(catalog["item_id"])
            ),
            "started_on": _dates(e_started[e_order]),
            "completed_on": _dates(e_completed[e_order]),
            "status": _categorical(
                e_status[e_order],
                column_dtype(ENROLMENTS, ENROLMENTS.column("status")),
            ),
            "satisfaction": e_satisfaction[e_order],
        }
    )[ENROLMENTS.names]

    tables = {
        "employees": employees,
        "competencies": competencies[COMPETENCIES.names],
        "items": items_table[ITEMS.names],
        "assessments": assessments,
        "roles": roles,
        "catalog": catalog,
        "enrolments": enrolments,
        "track_competencies": framework["track_competencies"],
    }
    truth = _truth(
        levels_by_cycle,
        cycle_dates,
        talents,
        track,
        item_effects,
        raters,
        code,
        emp_ids,
        comp_index,
        multipliers,
    )
    return tables, truth


def _truth(
    levels_by_cycle,
    cycle_dates,
    talents,
    track,
    item_effects,
    raters,
    code,
    emp_ids,
    comp_index,
    multipliers,
) -> OrganisationTruth:
    leniency, straight = raters["leniency"], raters["straight"]
    rater_ids, rater_code = raters["rater_ids"], raters["rater_code"]
    n, n_comp = levels_by_cycle[0].shape
    order = np.argsort(code)
    levels = pd.DataFrame(
        levels_by_cycle[-1][order],
        index=pd.Index(emp_ids, name="employee_id"),
        columns=pd.Index(comp_index, name="competency_id"),
    )
    n_cycles = len(levels_by_cycle)
    emp_codes = np.tile(np.repeat(np.arange(n, dtype=np.int32), n_comp), n_cycles)
    comp_codes = np.tile(np.arange(n_comp, dtype=np.int8), n * n_cycles)
    long = pd.DataFrame(
        {
            "cycle": np.repeat(np.arange(n_cycles), n * n_comp),
            "assessed_on": np.repeat(cycle_dates.astype("datetime64[s]"), n * n_comp),
            "employee_id": _categorical(emp_codes, emp_ids),
            "competency_id": _categorical(comp_codes, comp_index),
            "level": np.concatenate([x[order].ravel() for x in levels_by_cycle]),
        }
    )
    talents_sorted = talents[order]
    talent_frame = pd.DataFrame(
        {
            "employee_id": _categorical(
                np.repeat(np.arange(n, dtype=np.int32), talents.shape[1]), emp_ids
            ),
            "competency_id": _categorical(
                talents_sorted.ravel().astype(np.int8), comp_index
            ),
        }
    )
    rater_order = np.argsort(rater_code)
    liners = np.flatnonzero(~np.isnan(straight))
    return OrganisationTruth(
        levels=levels,
        levels_by_cycle=long,
        talents=talent_frame,
        track=_str_from_codes(track[order], TRACKS)
        .set_axis(pd.Index(emp_ids, name="employee_id"))
        .rename("track"),
        item_effects=item_effects,
        rater_leniency=pd.Series(
            leniency[rater_order],
            index=pd.Index(rater_ids, name="rater_id"),
            name="leniency",
        ),
        self_inflation=pd.Series(
            raters["inflation"][order],
            index=pd.Index(emp_ids, name="employee_id"),
            name="self_inflation",
        ),
        straight_liners=pd.Index(
            rater_ids.take(np.sort(rater_code[liners])), name="rater_id"
        ),
        item_offsets=raters["item_offset"],
        kind_effects=pd.Series(
            multipliers, index=pd.Index(ITEM_KINDS, name="kind"), name="multiplier"
        ),
    )


def make_organisation(
    n_employees: int = 200,
    *,
    random_state=None,
    return_truth: bool = False,
    **kwargs,
):
    """Simulate an organisation and validate it into a bundle.

    Parameters
    ----------
    n_employees : int, default=200
        Number of employees (at least 3).
    random_state : int, numpy.random.Generator or None, default=None
        Seed or generator; the same seed gives the same organisation.
    return_truth : bool, default=False
        Also return the simulated ground truth.
    **kwargs
        Further keyword arguments of :func:`make_tables`: ``n_cycles``,
        ``assessed_on``, ``n_catalog_items`` (default None: the full
        catalog), ``item_level``, and the options that make different
        worlds: ``kind_effects`` (None, ``"education_strong"``,
        ``"experience_strong"`` or a dict of kind to multiplier of the true
        effect), ``role_demand`` (default 1.0; larger: more demanding role
        requirements) and ``talents_per_person`` (default 3).

    Returns
    -------
    Bundle or (Bundle, OrganisationTruth)
        The validated bundle (its ``errors`` table is empty) and, when
        ``return_truth`` is True, the :class:`OrganisationTruth`.

    See Also
    --------
    make_tables : the same organisation as plain DataFrames.

    Examples
    --------
    >>> from devplan.datasets import make_organisation
    >>> bundle, truth = make_organisation(60, random_state=1, return_truth=True)
    >>> len(bundle.employees), bundle.errors.empty
    (60, True)
    >>> truth.levels.shape
    (60, 26)
    >>> bundle = make_organisation(
    ...     60, random_state=1, kind_effects="experience_strong", role_demand=0.8
    ... )
    >>> bundle.errors.empty
    True
    """
    from devplan._bundle import Bundle

    tables, truth = make_tables(n_employees, random_state=random_state, **kwargs)
    bundle = Bundle.from_frames(**tables)
    return (bundle, truth) if return_truth else bundle
