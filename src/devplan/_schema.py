"""The data contract in code: every input table, its columns, kinds and rules.

This module is the single source of truth for table and column names, value
kinds, allowed values and defaults. Reading, validation, writing and the
synthetic generator all take their rules from here, so the data contract
(``shared/docs/data-contract.md``) is implemented in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

RATER_TYPES = ("self", "manager", "peer", "direct_report", "assessor")
POTENTIAL_RATINGS = ("low", "medium", "high")
MODALITY_PREFERENCES = ("online", "in_person", "blended", "any")
MODALITIES = ("online", "in_person", "blended")
ROLE_LEVELS = ("individual", "first_line", "middle", "senior", "executive")
#: Role levels that manage people: ``is_people_manager`` defaults to true
#: for anyone in a role of these levels.
MANAGER_LEVELS = ("first_line", "middle", "senior", "executive")
IMPORTANCES = ("critical", "important", "useful")
ITEM_KINDS = (
    "course",
    "workshop",
    "elearning",
    "coaching",
    "mentoring",
    "stretch_assignment",
    "peer_group",
    "reading",
    "practice",
)
ITEM_LEVELS = ("foundation", "intermediate", "advanced")
TRACKS = ("new_manager", "struggling_manager", "high_potential", "core")
ENROLMENT_STATUSES = ("planned", "in_progress", "completed", "dropped")

#: 70-20-10 group of each catalog kind: experience, exposure or education.
KIND_GROUP = {
    "stretch_assignment": "experience",
    "practice": "experience",
    "coaching": "exposure",
    "mentoring": "exposure",
    "peer_group": "exposure",
    "course": "education",
    "workshop": "education",
    "elearning": "education",
    "reading": "education",
}

Kind = Literal["id", "str", "enum", "bool", "float", "date", "list"]

#: Marks a numeric range that comes from the configured rating scale.
SCALE = "scale"


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    ``required`` means the column must be present in the file and every row
    must have a value in it; optional columns may be absent (they are added
    empty) and their cells may be empty (``default`` then fills them).
    """

    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] | None = None
    low: float | str | None = None
    high: float | str | None = None
    low_inclusive: bool = True
    default: object = None


@dataclass(frozen=True)
class Table:
    """One input table of a bundle."""

    name: str
    columns: tuple[Column, ...]
    required: bool = True
    key: tuple[str, ...] = ()
    #: Large tables keep identifier columns as categoricals to bound memory.
    large: bool = False
    #: Columns of which at least one must be present (and filled per row).
    one_of: tuple[str, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        """Column names in contract order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


EMPLOYEES = Table(
    "employees",
    (
        Column("employee_id", "id", required=True),
        Column("role_id", "id", required=True),
        Column("manager_id", "id"),
        Column("is_people_manager", "bool"),
        Column("months_in_role", "float", low=0),
        Column("performance_rating", "float", low=1, high=5),
        Column("potential_rating", "enum", choices=POTENTIAL_RATINGS),
        Column("learning_hours_per_month", "float", low=0),
        Column("budget", "float", low=0),
        Column("language", "str"),
        Column(
            "modality_preference", "enum", choices=MODALITY_PREFERENCES, default="any"
        ),
        Column("business_unit", "str"),
        Column("location", "str"),
        Column("age_band", "str"),
        Column("gender", "str"),
    ),
    key=("employee_id",),
)

COMPETENCIES = Table(
    "competencies",
    (
        Column("competency_id", "id", required=True),
        Column("name", "str", required=True),
        Column("cluster", "str"),
        Column("description", "str"),
    ),
    key=("competency_id",),
)

TRACK_COMPETENCIES = Table(
    "track_competencies",
    (
        Column("track", "enum", required=True, choices=TRACKS),
        Column("competency_id", "id", required=True),
        Column("weight", "float", low=0, high=1, default=1.0),
    ),
    required=False,
    key=("track", "competency_id"),
)

ITEMS = Table(
    "items",
    (
        Column("item_id", "id", required=True),
        Column("competency_id", "id", required=True),
        Column("text", "str"),
        Column("reverse_keyed", "bool", default=False),
    ),
    required=False,
    key=("item_id",),
)

ASSESSMENTS = Table(
    "assessments",
    (
        Column("employee_id", "id", required=True),
        Column("rater_type", "enum", required=True, choices=RATER_TYPES),
        Column("rater_id", "id"),
        Column("item_id", "id"),
        Column("competency_id", "id"),
        Column("score", "float", required=True, low=SCALE, high=SCALE),
        Column("assessed_on", "date"),
    ),
    large=True,
    one_of=("item_id", "competency_id"),
)

ROLES = Table(
    "roles",
    (
        Column("role_id", "id", required=True),
        Column("role_name", "str"),
        Column("role_level", "enum", choices=ROLE_LEVELS),
        Column("competency_id", "id", required=True),
        Column("required_level", "float", required=True, low=SCALE, high=SCALE),
        Column("importance", "enum", choices=IMPORTANCES, default="important"),
    ),
    key=("role_id", "competency_id"),
)

CATALOG = Table(
    "catalog",
    (
        Column("item_id", "id", required=True),
        Column("title", "str", required=True),
        Column("kind", "enum", required=True, choices=ITEM_KINDS),
        Column("competencies", "list", required=True),
        Column("level", "enum", choices=ITEM_LEVELS, default="intermediate"),
        Column("hours", "float", required=True, low=0, low_inclusive=False),
        Column("cost", "float", low=0, default=0.0),
        Column("modality", "enum", choices=MODALITIES, default="online"),
        Column("language", "str"),
        Column("tracks", "list"),
        Column("prerequisites", "list"),
    ),
    key=("item_id",),
)

ENROLMENTS = Table(
    "enrolments",
    (
        Column("employee_id", "id", required=True),
        Column("item_id", "id", required=True),
        Column("started_on", "date"),
        Column("completed_on", "date"),
        Column("status", "enum", required=True, choices=ENROLMENT_STATUSES),
        Column("satisfaction", "float", low=1, high=5),
    ),
    required=False,
    large=True,
)

#: Input tables in the order they are validated (referenced tables first).
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        COMPETENCIES,
        TRACK_COMPETENCIES,
        ITEMS,
        ROLES,
        EMPLOYEES,
        CATALOG,
        ASSESSMENTS,
        ENROLMENTS,
    )
}

ERROR_COLUMNS = ("table", "row", "employee_id", "column", "value", "problem")

TRUE_WORDS = frozenset({"true", "yes", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "no", "0", "0.0"})


def column_dtype(table: Table, column: Column) -> object:
    """The pandas dtype a column has once a bundle is read and validated."""
    if column.kind == "enum":
        return pd.CategoricalDtype(list(column.choices or ()))
    if column.kind == "id" and table.large:
        return "category"
    if column.kind in ("id", "str", "list"):
        return "str"
    if column.kind == "bool":
        return "boolean"
    if column.kind == "float":
        return "float64"
    if column.kind == "date":
        return "datetime64[s]"
    raise ValueError(f"Got kind={column.kind!r}; expected one of {Kind}.")


def empty_table(name: str) -> pd.DataFrame:
    """An empty DataFrame with the columns and dtypes of table ``name``.

    Examples
    --------
    >>> from devplan._schema import empty_table
    >>> list(empty_table("items").columns)
    ['item_id', 'competency_id', 'text', 'reverse_keyed']
    """
    table = TABLES[name]
    return pd.DataFrame(
        {
            c.name: pd.Series([], dtype=column_dtype(table, c))  # type: ignore[call-overload]
            for c in table.columns
        }
    )


def require_columns(df: object, name: str, columns) -> None:
    """Refuse anything but a DataFrame with ``columns``, naming what is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan._schema import require_columns
    >>> require_columns(pd.DataFrame({"hours": []}), "plans", ["hours", "cost"])
    Traceback (most recent call last):
    ...
    ValueError: Got a plans table without column(s) ['cost']; expected ...
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"Got {name} of type {type(df).__name__}; expected a DataFrame "
            f"with columns {list(columns)}."
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"Got a {name} table without column(s) {missing}; expected "
            f"columns {list(columns)}."
        )
