"""Row-level validation: typed tables in, clean tables and an errors table out.

Every check is vectorised over whole columns. A check produces the rows it
rejects together with a readable problem; rows with any problem are set aside,
and every set-aside row appears in the errors table, so that

    rows in = rows kept + distinct rows in errors

holds for every table. Checks run in the order of :data:`devplan._schema.TABLES`
so that references always point at tables that are already clean, and a row
that references a set-aside row is set aside too, naming the reason. One
exception: ``manager_id`` is checked against every employee id given, so
the reports of a manager whose own row was set aside stay valid (their
manager is then simply not in the clean table).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from devplan._config import Config
from devplan._schema import (
    ERROR_COLUMNS,
    FALSE_WORDS,
    MANAGER_LEVELS,
    SCALE,
    TABLES,
    TRACKS,
    TRUE_WORDS,
    Column,
    Table,
    column_dtype,
    empty_table,
)
from devplan._text import isin as text_isin

_LANGUAGE = re.compile(r"^[a-z]{2}$")
_MAX_SHOWN = 5


@dataclass
class _Collector:
    """Gathers rejected rows per table as small DataFrames."""

    parts: list[pd.DataFrame] = field(default_factory=list)

    def add(
        self,
        table: str,
        df: pd.DataFrame,
        mask: np.ndarray | pd.Series,
        column: str,
        problem: str | pd.Series,
        value: pd.Series | None = None,
    ) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        rows = df.index[mask]
        if value is None:
            value = df[column] if column in df.columns else None
        if value is None:
            shown = pd.Series(pd.NA, index=rows, dtype="str")
        else:
            shown = _as_text(value[mask])
        if isinstance(problem, pd.Series):
            # full-length or only the rejected rows: align on the row index
            problem = problem.reindex(rows).astype(str).to_numpy()
        employee = (
            _as_text(df["employee_id"][mask]).to_numpy()
            if "employee_id" in df.columns
            else pd.NA
        )
        self.parts.append(
            pd.DataFrame(
                {
                    "table": table,
                    "row": np.asarray(rows) + 1,
                    "employee_id": employee,
                    "column": column,
                    "value": shown.to_numpy(),
                    "problem": problem,
                }
            )
        )

    def rows(self, table: str) -> np.ndarray:
        """0-based input rows of ``table`` that have at least one problem."""
        found = [
            p["row"].to_numpy() - 1 for p in self.parts if p["table"].iloc[0] == table
        ]
        if not found:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(found))

    def frame(self) -> pd.DataFrame:
        return _ordered(self.parts)


def _ordered(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """One errors table from ``parts``: table order of TABLES, then row; rows
    with several problems keep the order of ``parts`` (a stable sort)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_errors()
    out = pd.concat(parts, ignore_index=True)
    order = {name: i for i, name in enumerate(TABLES)}
    out["_t"] = out["table"].map(order)
    out = out.sort_values(["_t", "row"], kind="stable").drop(columns="_t")
    out = out.reset_index(drop=True)
    return _errors_dtypes(out)


def merge_errors(
    errors: pd.DataFrame, assessment_errors: Iterable[pd.DataFrame]
) -> pd.DataFrame:
    """One errors table from the other tables' errors and assessment batches'.

    Parameters
    ----------
    errors : DataFrame
        The errors of a bundle whose assessments were not validated with it
        (``validate_tables`` without an ``assessments`` table).
    assessment_errors : iterable of DataFrame
        The errors of each assessment batch (from :func:`validate_assessments`),
        in any order.

    Returns
    -------
    DataFrame
        Columns ``table, row, employee_id, column, value, problem``, ordered
        exactly as ``validate_tables`` orders the errors of the whole bundle:
        by table (in validation order), then row; several problems of one row
        keep the order in which they were found.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan._validate import merge_errors
    >>> def err(table, row):
    ...     return pd.DataFrame({"table": [table], "row": [row],
    ...         "employee_id": ["e"], "column": ["c"], "value": ["v"],
    ...         "problem": ["p"]})
    >>> other = pd.concat([err("employees", 4), err("enrolments", 1)])
    >>> merged = merge_errors(other, [err("assessments", 9), err("assessments", 2)])
    >>> merged[["table", "row"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'table': 'employees', 'row': 4}, {'table': 'assessments', 'row': 2},
     {'table': 'assessments', 'row': 9}, {'table': 'enrolments', 'row': 1}]
    """
    return _ordered([errors, *assessment_errors])


def _empty_errors() -> pd.DataFrame:
    return _errors_dtypes(pd.DataFrame({c: [] for c in ERROR_COLUMNS}))


def _errors_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    df = df.astype(
        {
            "table": "str",
            "row": "Int64",
            "employee_id": "str",
            "column": "str",
            "value": "str",
            "problem": "str",
        }
    )
    return df[list(ERROR_COLUMNS)]


def _as_text(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    return s.astype("str")


def _listing(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values)


# --------------------------------------------------------------------------
# column coercion


def _unique_map(s: pd.Series):
    """Factorise ``s``; returns codes (−1 for missing) and the unique values."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, pd.Index(uniques)


def _clean_text(uniques: pd.Index) -> pd.Series:
    if uniques.dtype.kind == "f":
        # numbers read as floats (a column with blanks): 7.0 is the id "7"
        values = uniques.to_numpy()
        whole = np.isfinite(values) & (values == np.round(values))
        text = pd.Series(
            [
                str(int(v)) if w else repr(float(v))
                for v, w in zip(values, whole, strict=True)
            ],
            dtype="str",
        )
    elif uniques.dtype.kind in "iu":
        text = pd.Series(uniques.astype(str), dtype="str")
    else:
        text = pd.Series(uniques.astype(str), dtype="str").str.strip()
    return text.where(text != "", pd.NA)


def _categorical(per_unique: np.ndarray, codes: np.ndarray, dtype) -> pd.Series:
    """Rows as categories: code ``per_unique[codes]``, −1 where ``codes`` is
    −1 (missing); ``per_unique`` holds valid codes of ``dtype`` or −1."""
    n = len(dtype.categories)
    # the code width pandas itself uses for this many categories, so that
    # the (large) code array is built once and never converted
    widths = (np.int8, np.int16, np.int32, np.int64)
    width = next(t for t in widths if n < np.iinfo(t).max)
    lookup = np.append(per_unique, -1).astype(width)  # code -1 finds the -1
    full = lookup[codes]
    return pd.Series(pd.Categorical.from_codes(full, dtype=dtype, validate=False))


def _from_codes(codes: np.ndarray, values: pd.Series, dtype: object) -> pd.Series:
    """Expand per-unique ``values`` to rows; ``codes`` −1 stays missing."""
    if isinstance(dtype, str) and dtype == "category":
        vcodes, vuniques = pd.factorize(values, use_na_sentinel=True, sort=True)
        cats = pd.Index(vuniques, dtype="str")
        return _categorical(vcodes, codes, pd.CategoricalDtype(cats))
    if isinstance(dtype, pd.CategoricalDtype):
        lookup = pd.Index(dtype.categories)
        vcodes = lookup.get_indexer(values.astype(object).where(values.notna(), None))
        return _categorical(vcodes, codes, dtype)
    arr = values.to_numpy(dtype=object)
    taken = np.empty(len(codes), dtype=object)
    taken[:] = None
    ok = codes >= 0
    taken[ok] = arr[codes[ok]]
    return pd.Series(taken).astype(dtype)  # type: ignore[call-overload]


def _coerce(
    table: Table,
    column: Column,
    raw: pd.Series,
    config: Config,
    errors: _Collector,
    df: pd.DataFrame,
) -> pd.Series:
    """Typed column; rejected cells are reported and returned missing."""
    dtype = column_dtype(table, column)
    if column.kind == "float":
        out = _coerce_float(table, column, raw, config, errors, df)
    elif column.kind == "date":
        out = _coerce_date(table, column, raw, errors, df)
    else:
        codes, uniques = _unique_map(raw)
        values, problems = _coerce_uniques(column, uniques)
        bad_unique = problems.notna().to_numpy()
        if bad_unique.any():
            bad_rows = np.zeros(len(raw), dtype=bool)
            ok = codes >= 0
            bad_rows[ok] = bad_unique[codes[ok]]
            problem_rows = pd.Series(
                problems.to_numpy()[np.maximum(codes, 0)], index=raw.index
            )
            problem_rows[codes < 0] = pd.NA
            errors.add(table.name, df, bad_rows, column.name, problem_rows, raw)
        out = _from_codes(codes, values, dtype)
        out.index = raw.index
    if column.default is not None:
        out = out.fillna(column.default)
        if isinstance(dtype, pd.CategoricalDtype):
            out = out.astype(dtype)
    if column.required:
        missing = out.isna().to_numpy() & _blank(raw)
        errors.add(
            table.name,
            df,
            missing,
            column.name,
            f"missing value; {column.name} is required",
            raw,
        )
    return out


def _blank(raw: pd.Series) -> np.ndarray:
    if isinstance(raw.dtype, pd.CategoricalDtype):
        cats = _as_text(pd.Series(raw.cat.categories))
        blank_cat = (cats.isna() | (cats.str.strip() == "")).to_numpy()
        codes = raw.cat.codes.to_numpy()
        return (codes < 0) | blank_cat[np.maximum(codes, 0)]
    if raw.dtype.kind in "biufcmM":
        return raw.isna().to_numpy()
    text = _as_text(raw)
    return (text.isna() | (text.str.strip() == "")).to_numpy()


def _coerce_uniques(column: Column, uniques: pd.Index) -> tuple[pd.Series, pd.Series]:
    """Clean the unique raw values of a text-like column; problems per value."""
    if uniques.dtype == bool:
        text = pd.Series(np.where(uniques, "true", "false"), dtype="str")
    else:
        text = _clean_text(uniques)
    problems = pd.Series(pd.NA, index=text.index, dtype="str")
    if column.kind == "enum":
        lowered = text.str.lower()
        bad = lowered.notna() & ~lowered.isin(column.choices or ())
        problems[bad] = (
            "got "
            + text[bad].map(repr)
            + f"; expected one of {_listing(column.choices or ())}"
        )
        return lowered.where(~bad, pd.NA), problems
    if column.kind == "bool":
        lowered = text.str.lower()
        is_true = lowered.isin(TRUE_WORDS)
        is_false = lowered.isin(FALSE_WORDS)
        bad = lowered.notna() & ~is_true & ~is_false
        problems[bad] = (
            "got " + text[bad].map(repr) + "; expected true/false, yes/no or 1/0"
        )
        values = pd.Series(pd.NA, index=text.index, dtype="boolean")
        values[is_true] = True
        values[is_false] = False
        return values, problems
    if column.kind == "list":
        parts = text.str.split(";")
        cleaned = parts.map(
            lambda xs: (
                ";".join(p.strip() for p in xs if p.strip())
                if isinstance(xs, list)
                else pd.NA
            )
        )
        cleaned = pd.Series(cleaned, dtype="str")
        return cleaned.where(cleaned != "", pd.NA), problems
    if column.name == "language":
        lowered = text.str.lower()
        bad = lowered.notna() & ~lowered.str.match(_LANGUAGE).fillna(False).astype(bool)
        problems[bad] = (
            "got " + text[bad].map(repr) + "; expected a two-letter ISO 639-1 code"
        )
        return lowered.where(~bad, pd.NA), problems
    return text, problems


def _bounds(column: Column, config: Config) -> tuple[float | None, float | None]:
    low = config.scale_min if column.low == SCALE else column.low
    high = config.scale_max if column.high == SCALE else column.high
    return low, high  # type: ignore[return-value]


def _coerce_float(table, column, raw, config, errors, df) -> pd.Series:
    if raw.dtype.kind in "fiu":
        values = raw.astype("float64")
    elif raw.dtype.kind == "b":
        values = pd.Series(np.full(len(raw), np.nan), index=raw.index)
        errors.add(
            table.name, df, np.ones(len(raw), bool), column.name, "not a number", raw
        )
        return values
    else:
        text = _as_text(raw)
        values = pd.to_numeric(text.str.strip(), errors="coerce").astype("float64")
        bad = values.isna() & ~_blank(raw)
        errors.add(
            table.name,
            df,
            bad,
            column.name,
            "got " + text.map(repr, na_action="ignore") + "; expected a number",
            raw,
        )
    arr = values.to_numpy()
    low, high = _bounds(column, config)
    present = ~np.isnan(arr)
    bad = present & ~np.isfinite(arr)
    allowed = _allowed(low, high, column.low_inclusive)
    if low is not None:
        bad |= present & ((arr < low) if column.low_inclusive else (arr <= low))
    if high is not None:
        bad |= present & (arr > high)
    if bad.any():
        shown = pd.Series(arr[bad], index=raw.index[bad]).map(lambda v: f"{v:g}")
        errors.add(
            table.name,
            df,
            bad,
            column.name,
            "got " + shown + f"; expected {allowed}",
            pd.Series(arr, index=raw.index),
        )
        values = values.where(~bad, np.nan)
    return values


def _allowed(low, high, low_inclusive: bool) -> str:
    if low is not None and high is not None:
        return f"a number from {low:g} to {high:g}"
    if low is not None:
        return f"a number {'≥' if low_inclusive else '>'} {low:g}"
    return f"a number ≤ {high:g}"


def _coerce_date(table, column, raw, errors, df) -> pd.Series:
    if raw.dtype.kind == "M":
        values = raw
    else:
        codes, uniques = _unique_map(raw)
        text = _clean_text(uniques)
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        bad_unique = (parsed.isna() & text.notna()).to_numpy()
        if bad_unique.any():
            bad_rows = np.zeros(len(raw), dtype=bool)
            ok = codes >= 0
            bad_rows[ok] = bad_unique[codes[ok]]
            errors.add(
                table.name,
                df,
                bad_rows,
                column.name,
                "got "
                + _as_text(raw).map(repr, na_action="ignore")
                + "; expected an ISO 8601 date such as 2026-03-01",
                raw,
            )
        values = _from_codes(codes, parsed.astype("datetime64[s]"), "datetime64[s]")
        values.index = raw.index
    if getattr(values.dtype, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values.astype("datetime64[s]")


def coerce_table(
    table: Table, raw: pd.DataFrame, config: Config, errors: _Collector
) -> pd.DataFrame:
    """Typed copy of ``raw`` with every contract column; extra columns kept."""
    out = {}
    for column in table.columns:
        if column.name in raw.columns:
            out[column.name] = _coerce(
                table, column, raw[column.name], config, errors, raw
            )
        else:
            fill = column.default
            filler = pd.Series([fill] * len(raw), index=raw.index, dtype=object)
            out[column.name] = filler.astype(column_dtype(table, column))  # type: ignore[call-overload]
    for extra in raw.columns:
        if extra not in out:
            out[extra] = raw[extra]
    typed = pd.DataFrame(out, index=raw.index)
    if table.one_of:
        none = typed[list(table.one_of)].isna().all(axis=1).to_numpy()
        errors.add(
            table.name,
            typed,
            none,
            table.one_of[0],
            f"missing value; one of {_listing(table.one_of)} is required",
        )
    return typed


# --------------------------------------------------------------------------
# table rules


def _duplicates(name: str, df: pd.DataFrame, key: tuple[str, ...], errors) -> None:
    """Exact repeats keep the first row; conflicting rows with one key go."""
    keyed = df[list(key)]
    present = keyed.notna().all(axis=1).to_numpy()
    exact_repeat = (
        df.duplicated(subset=list(df.columns), keep="first").to_numpy() & present
    )
    errors.add(
        name,
        df,
        exact_repeat,
        key[-1],
        "exact duplicate of an earlier row",
    )
    rest = df[~exact_repeat]
    conflict = (
        rest.duplicated(subset=list(key), keep=False).to_numpy()
        & rest[list(key)].notna().all(axis=1).to_numpy()
    )
    if conflict.any():
        label = " + ".join(key)
        first_rows = (
            rest[conflict]
            .reset_index()
            .groupby(list(key), sort=False, observed=True)["index"]
            .transform(lambda r: ", ".join(str(i + 1) for i in r))
        )
        problem = pd.Series(pd.NA, index=rest.index, dtype="str")
        problem[conflict] = (
            f"duplicate {label}: rows "
            + first_rows.to_numpy()
            + " disagree; all set aside"
        )
        errors.add(name, rest, conflict, key[-1], problem)


def _reference(
    name: str,
    df: pd.DataFrame,
    column: str,
    valid: pd.Index,
    target: str,
    errors: _Collector,
    set_aside: pd.Index | None = None,
) -> None:
    """Report non-missing ``df[column]`` values that are not in ``valid``."""
    s = df[column]
    present = s.notna().to_numpy()
    ok = _isin(s, valid)
    bad = present & ~ok
    if not bad.any():
        return
    text = _as_text(s[bad])
    if set_aside is not None and len(set_aside):
        aside = _isin(s, set_aside) & bad
        errors.add(
            name,
            df,
            aside,
            column,
            f"{column} "
            + text.map(repr, na_action="ignore")
            + f" refers to a row of {target} that was set aside (see its own error)",
        )
        bad &= ~aside
    errors.add(
        name,
        df,
        bad,
        column,
        "unknown "
        + column
        + " "
        + text.map(repr, na_action="ignore")
        + f"; not in {target}",
    )


def _isin(s: pd.Series, valid: pd.Index) -> np.ndarray:
    """``s.isin(valid)`` as an array; for a categorical ``s`` only its
    categories are looked up, in ``valid``'s own (cached) hash table, so that
    checking batch after batch against one large ``valid`` hashes it once."""
    if isinstance(s.dtype, pd.CategoricalDtype) and valid.is_unique:
        found = np.append(valid.get_indexer(s.cat.categories) >= 0, False)
        return found[s.cat.codes.to_numpy()]  # code -1 (missing) finds False
    if isinstance(s.dtype, pd.StringDtype):
        # pandas tests Arrow-backed text one value at a time in Python
        return text_isin(s, valid)
    return s.isin(valid).to_numpy()


def _cycle_members(ids: pd.Index, parents: pd.Series) -> np.ndarray:
    """Boolean per id: is it part of a cycle of the id → parent graph."""
    child_parent = pd.DataFrame({"child": parents.index, "parent": parents.to_numpy()})
    child_parent = child_parent.dropna()
    src = ids.get_indexer(child_parent["child"])
    dst = ids.get_indexer(child_parent["parent"])
    keep = (src >= 0) & (dst >= 0)
    src, dst = src[keep], dst[keep]
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=bool)
    graph = coo_array((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels)
    member = sizes[labels] > 1
    member[src[src == dst]] = True
    return member


def _cycle_text(ids: pd.Index, parent_of: dict, member: np.ndarray) -> dict:
    """A readable cycle path for each member (only members are walked)."""
    out = {}
    for start in ids[member]:
        if start in out:
            continue
        path = [start]
        node = parent_of.get(start)
        while node is not None and node != start and node not in path:
            path.append(node)
            node = parent_of.get(node)
        text = " → ".join([*path, start])
        for p in path:
            out.setdefault(p, text)
    return out


def _drop(df: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    if len(rows) == 0:
        return df
    return df[~df.index.isin(rows)]


def _split_list(s: pd.Series) -> pd.DataFrame:
    """Long form of a ``;``-list column: one row per (row, element)."""
    present = s.dropna()
    parts = present.str.split(";").explode()
    return pd.DataFrame(
        {
            "row": np.asarray(parts.index, dtype=np.int64),
            "element": pd.Series(parts.to_numpy(), dtype="str"),
        }
    )


def catalog_links(catalog: pd.DataFrame) -> pd.DataFrame:
    """The ``competencies`` lists of a catalog as a long table.

    Parameters
    ----------
    catalog : DataFrame
        A validated catalog table.

    Returns
    -------
    DataFrame
        Columns ``item_id``, ``competency_id``, ``weight`` (0–1, default 1).

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan._validate import catalog_links
    >>> cat = pd.DataFrame(
    ...     {"item_id": ["c1"], "competencies": ["delegation;feedback:0.5"]}
    ... )
    >>> catalog_links(cat)
      item_id competency_id  weight
    0      c1    delegation     1.0
    1      c1      feedback     0.5
    """
    long = _split_list(catalog["competencies"])
    pair = long["element"].str.split(":", n=1, expand=True)
    if pair.shape[1] == 1:
        pair[1] = None
    weight = pd.to_numeric(pair[1], errors="coerce").fillna(1.0)
    out = pd.DataFrame(
        {
            "item_id": catalog["item_id"].to_numpy()[
                catalog.index.get_indexer(long["row"])
            ],
            "competency_id": pair[0].str.strip().to_numpy(),
            "weight": weight.to_numpy(dtype=float),
        }
    )
    out = out.astype({"item_id": "str", "competency_id": "str"})
    return out.reset_index(drop=True)


def _check_catalog(df: pd.DataFrame, competencies: pd.Index, errors) -> pd.DataFrame:
    name = "catalog"
    # competencies: id or id:weight with weight in [0, 1]
    long = _split_list(df["competencies"])
    pair = long["element"].str.split(":", n=1, expand=True)
    if pair.shape[1] == 1:
        pair[1] = None
    comp = pair[0].str.strip()
    has_weight = pair[1].notna()
    weight = pd.to_numeric(pair[1], errors="coerce")
    problem = pd.Series(pd.NA, index=long.index, dtype="str")
    problem[~comp.isin(competencies)] = (
        "unknown competency " + comp.map(repr) + "; not in competencies"
    )
    bad_weight = has_weight & (weight.isna() | (weight < 0) | (weight > 1))
    problem[bad_weight] = [
        f"weight of {c!r} is {w!r}; expected a number from 0 to 1"
        for c, w in zip(comp[bad_weight], pair[1][bad_weight], strict=True)
    ]
    _add_list_problems(name, df, long, problem, "competencies", errors)
    # tracks
    long = _split_list(df["tracks"])
    lowered = long["element"].str.lower()
    problem = pd.Series(pd.NA, index=long.index, dtype="str")
    problem[~lowered.isin(TRACKS)] = (
        "unknown track " + long["element"].map(repr) + f"; expected {_listing(TRACKS)}"
    )
    _add_list_problems(name, df, long, problem, "tracks", errors)
    df = df.assign(tracks=df["tracks"].str.lower())
    # prerequisites: existing items, not itself, no cycles
    ids = pd.Index(df["item_id"].dropna().unique())
    long = _split_list(df["prerequisites"])
    problem = pd.Series(pd.NA, index=long.index, dtype="str")
    problem[~long["element"].isin(ids)] = (
        "unknown prerequisite " + long["element"].map(repr) + "; not in catalog"
    )
    own = df["item_id"].to_numpy()[df.index.get_indexer(long["row"])]
    problem[long["element"].to_numpy() == own] = (
        "an item cannot be its own prerequisite"
    )
    _add_list_problems(name, df, long, problem, "prerequisites", errors)
    return df


def _add_list_problems(name, df, long, problem, column, errors) -> None:
    bad = problem.notna()
    if not bad.any():
        return
    joined = problem[bad].groupby(long["row"][bad]).agg("; ".join)
    mask = df.index.isin(joined.index)
    text = pd.Series(pd.NA, index=df.index, dtype="str")
    text[joined.index] = joined
    errors.add(name, df, mask, column, text)


def _prerequisite_cycles(df: pd.DataFrame, errors) -> None:
    long = _split_list(df["prerequisites"])
    if long.empty:
        return
    items = df["item_id"].to_numpy()[df.index.get_indexer(long["row"])]
    ids = pd.Index(df["item_id"].dropna().unique())
    src = ids.get_indexer(items)
    dst = ids.get_indexer(long["element"])
    keep = (src >= 0) & (dst >= 0)
    n = len(ids)
    graph = coo_array(
        (np.ones(keep.sum()), (src[keep], dst[keep])), shape=(n, n)
    ).tocsr()
    _, labels = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels)
    member = ids[sizes[labels] > 1]
    if len(member) == 0:
        return
    members_by_label = (
        pd.Series(ids[sizes[labels] > 1])
        .groupby(labels[sizes[labels] > 1])
        .agg(lambda s: " ↔ ".join(sorted(s)))
    )
    label_of = pd.Series(labels, index=ids)
    in_cycle = df["item_id"].isin(member).to_numpy()
    text = "prerequisite cycle among " + df["item_id"].map(
        lambda i: members_by_label.get(label_of.get(i), "")
    )
    errors.add("catalog", df, in_cycle, "prerequisites", text)


def _prerequisite_cascade(df: pd.DataFrame, errors, aside: set) -> pd.DataFrame:
    """Set aside items whose prerequisites were set aside, until stable."""
    while True:
        long = _split_list(df["prerequisites"])
        hit = long[long["element"].isin(aside)]
        if hit.empty:
            return df
        rows = hit.groupby("row")["element"].agg(lambda s: ", ".join(sorted(set(s))))
        mask = df.index.isin(rows.index)
        text = pd.Series(pd.NA, index=df.index, dtype="str")
        text[rows.index] = "prerequisite " + rows + " was set aside (see its own error)"
        errors.add("catalog", df, mask, "prerequisites", text)
        aside |= set(df.loc[mask, "item_id"])
        df = df[~mask]


def _check_employees(df: pd.DataFrame, roles: pd.DataFrame, errors, aside_roles):
    name = "employees"
    _reference(
        name,
        df,
        "role_id",
        pd.Index(roles["role_id"].unique()),
        "roles",
        errors,
        aside_roles,
    )
    ids = pd.Index(df["employee_id"].dropna().unique())
    _reference(name, df, "manager_id", ids, "employees", errors)
    own = (df["manager_id"] == df["employee_id"]).fillna(False).to_numpy()
    errors.add(name, df, own, "manager_id", "an employee cannot be their own manager")
    # manager cycles (longer than one)
    unique_rows = df.drop_duplicates("employee_id", keep=False)
    parents = pd.Series(
        unique_rows["manager_id"].to_numpy(),
        index=unique_rows["employee_id"].to_numpy(),
    )
    parents = parents[parents.index.notna()]
    pids = pd.Index(parents.index)
    member = _cycle_members(pids, parents)
    member &= ~(parents.to_numpy() == pids.to_numpy())
    if member.any():
        parent_of = parents[parents.notna()].to_dict()
        text_of = _cycle_text(pids, parent_of, member)
        in_cycle = df["employee_id"].isin(pids[member]).to_numpy()
        text = "manager cycle: " + df["employee_id"].map(text_of)
        errors.add(name, df, in_cycle, "manager_id", text)


@dataclass(frozen=True)
class AssessmentContext:
    """What validating assessments needs from the other, validated tables.

    Every rule on an assessment row looks at that row only, apart from its
    references into these (small) tables, so assessments can be validated in
    batches of rows with exactly the outcome of validating them whole. Get
    one from ``validate_tables(..., return_context=True)``.

    Attributes
    ----------
    employee_ids : Index
        Ids of the clean employees.
    employees_aside : Index
        Employee ids whose every row was set aside.
    competency_ids, competencies_aside : Index
        The same for competencies.
    items : DataFrame
        The clean items' ``item_id`` and ``competency_id``.
    items_aside : Index
        Item ids whose every row was set aside.
    has_items : bool
        Whether the bundle has an items table (item ratings need one).
    config : Config
        The rating scale comes from here.
    """

    employee_ids: pd.Index
    employees_aside: pd.Index
    competency_ids: pd.Index
    competencies_aside: pd.Index
    items: pd.DataFrame
    items_aside: pd.Index
    has_items: bool
    config: Config


def validate_assessments(
    raw: pd.DataFrame, context: AssessmentContext
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate a batch of assessment rows against the other, validated tables.

    The rows kept and the problems found are exactly those that
    ``validate_tables`` finds for the same rows of a whole table.

    Parameters
    ----------
    raw : DataFrame
        Assessment rows as read, with the required columns; the index is the
        0-based row of the source (its data row minus one), also for a batch
        taken from the middle of a file.
    context : AssessmentContext
        From ``validate_tables(..., return_context=True)``.

    Returns
    -------
    clean : DataFrame
        The rows kept, typed as a validated bundle's ``assessments`` (the
        identifier columns' categories are those of this batch, sorted).
    errors : DataFrame
        Columns ``table, row, employee_id, column, value, problem``; combine
        the batches' with :func:`merge_errors`.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan import Config
    >>> from devplan._validate import validate_assessments, validate_tables
    >>> raw = {
    ...     "competencies": pd.DataFrame({"competency_id": ["c"], "name": ["C"]}),
    ...     "employees": pd.DataFrame({"employee_id": ["007"], "role_id": ["r"]}),
    ...     "roles": pd.DataFrame({"role_id": ["r"], "competency_id": ["c"],
    ...         "required_level": ["3"]}),
    ...     "catalog": pd.DataFrame({"item_id": ["k"], "title": ["Course"],
    ...         "kind": ["course"], "competencies": ["c"], "hours": ["8"]}),
    ... }
    >>> _, _, context = validate_tables(raw, Config(), return_context=True)
    >>> batch = pd.DataFrame(
    ...     {"employee_id": ["007", "008"], "rater_type": ["self", "self"],
    ...      "competency_id": ["c", "c"], "score": ["4", "9"]},
    ...     index=[1000, 1001],
    ... )
    >>> clean, errors = validate_assessments(batch, context)
    >>> clean["score"].to_dict()
    {1000: 4.0}
    >>> errors[["row", "column", "problem"]].to_dict("records")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'row': 1002, 'column': 'score',
      'problem': 'got 9; expected a number from 1 to 5'},
     {'row': 1002, 'column': 'employee_id',
      'problem': "unknown employee_id '008'; not in employees"}]
    """
    errors = _Collector()
    typed = coerce_table(TABLES["assessments"], raw, context.config, errors)
    _check_assessments(typed, context, errors)
    clean = _drop(typed, errors.rows("assessments"))
    return _tidy_categories("assessments", clean), errors.frame()


def _check_assessments(
    assessments: pd.DataFrame, context: AssessmentContext, errors: _Collector
) -> None:
    """References of typed assessment rows into the other tables."""
    _reference(
        "assessments",
        assessments,
        "employee_id",
        context.employee_ids,
        "employees",
        errors,
        context.employees_aside,
    )
    if context.has_items:
        items = context.items
        _reference(
            "assessments",
            assessments,
            "item_id",
            pd.Index(items["item_id"]),
            "items",
            errors,
            context.items_aside,
        )
        both = (
            assessments["item_id"].notna() & assessments["competency_id"].notna()
        ).to_numpy()
        if both.any():
            sub = assessments[both]
            measures = pd.Series(
                items["competency_id"].to_numpy(), index=items["item_id"].to_numpy()
            )
            item = _as_text(sub["item_id"])
            mapped = item.map(measures)
            given = _as_text(sub["competency_id"])
            clash = mapped.notna() & (mapped != given)
            errors.add(
                "assessments",
                sub,
                clash.to_numpy(),
                "competency_id",
                "item " + item + " measures " + mapped + ", not " + given,
            )
    else:
        errors.add(
            "assessments",
            assessments,
            assessments["item_id"].notna().to_numpy(),
            "item_id",
            "item ratings need an items table; the bundle has none",
        )
    _reference(
        "assessments",
        assessments,
        "competency_id",
        context.competency_ids,
        "competencies",
        errors,
        context.competencies_aside,
    )


def validate_tables(
    raw: dict[str, pd.DataFrame], config: Config, *, return_context: bool = False
):
    """Validate structurally sound tables row by row.

    Parameters
    ----------
    raw : dict of str to DataFrame
        Every table of the contract that is present, with a 0-based
        positional index (the row number in its source, minus one).
    config : Config
        The rating scale and employee defaults come from here.
    return_context : bool, default=False
        Also return the :class:`AssessmentContext`, so that assessments left
        out of ``raw`` can be validated afterwards, batch by batch, with
        :func:`validate_assessments`.

    Returns
    -------
    tables : dict of str to DataFrame
        Every input table (optional ones empty when absent), typed, with the
        rejected rows removed and the original row positions kept as index.
    errors : DataFrame
        Columns ``table, row, employee_id, column, value, problem``.
    context : AssessmentContext
        Only with ``return_context=True``.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan import Config
    >>> from devplan._validate import validate_tables
    >>> raw = {
    ...     "competencies": pd.DataFrame({"competency_id": ["c"], "name": ["C"]}),
    ...     "employees": pd.DataFrame({"employee_id": ["007"], "role_id": ["r"]}),
    ...     "roles": pd.DataFrame({"role_id": ["r"], "competency_id": ["c"],
    ...         "required_level": ["3"]}),
    ...     "catalog": pd.DataFrame({"item_id": ["k"], "title": ["Course"],
    ...         "kind": ["course"], "competencies": ["c"], "hours": ["8"]}),
    ... }
    >>> tables, errors, context = validate_tables(raw, Config(), return_context=True)
    >>> len(tables["assessments"]), errors.empty, list(context.employee_ids)
    (0, True, ['007'])
    """
    errors = _Collector()
    clean: dict[str, pd.DataFrame] = {}
    aside: dict[str, pd.Index] = {}

    def finish(name: str, df: pd.DataFrame) -> pd.DataFrame:
        rows = errors.rows(name)
        key = TABLES[name].key
        kept = _drop(df, rows)
        if key:
            lost = df.loc[df.index.isin(rows), key[0]].dropna().unique()
            aside[name] = pd.Index(lost).difference(kept[key[0]].dropna().unique())
        clean[name] = kept
        return kept

    def typed(name: str) -> pd.DataFrame:
        table = TABLES[name]
        if name not in raw:
            return empty_table(name)
        df = coerce_table(table, raw[name], config, errors)
        if table.key:
            _duplicates(name, df, table.key, errors)
        return df

    competencies = finish("competencies", typed("competencies"))
    comp_ids = pd.Index(competencies["competency_id"].unique())

    content = typed("track_competencies")
    _reference(
        "track_competencies",
        content,
        "competency_id",
        comp_ids,
        "competencies",
        errors,
        aside["competencies"],
    )
    finish("track_competencies", content)

    items = typed("items")
    _reference(
        "items",
        items,
        "competency_id",
        comp_ids,
        "competencies",
        errors,
        aside["competencies"],
    )
    items = finish("items", items)

    roles = typed("roles")
    _reference(
        "roles",
        roles,
        "competency_id",
        comp_ids,
        "competencies",
        errors,
        aside["competencies"],
    )
    levels = roles.dropna(subset=["role_id", "role_level"])
    n_levels = levels.groupby("role_id", observed=True)["role_level"].nunique()
    mixed = n_levels[n_levels > 1].index
    errors.add(
        "roles",
        roles,
        roles["role_id"].isin(mixed).to_numpy(),
        "role_level",
        "role "
        + roles["role_id"].map(repr, na_action="ignore")
        + " has more than one role_level",
    )
    roles = finish("roles", roles)

    employees = typed("employees")
    _check_employees(employees, roles, errors, aside["roles"])
    employees = finish("employees", employees)
    employees = _employee_defaults(employees, roles, config)
    clean["employees"] = employees

    catalog = typed("catalog")
    typed_catalog_ids = catalog["item_id"].dropna().unique()
    catalog = _check_catalog(catalog, comp_ids, errors)
    _prerequisite_cycles(catalog, errors)
    catalog = finish("catalog", catalog)
    catalog = _prerequisite_cascade(catalog, errors, set(aside["catalog"]))
    clean["catalog"] = catalog

    context = AssessmentContext(
        employee_ids=pd.Index(employees["employee_id"]),
        employees_aside=aside["employees"],
        competency_ids=comp_ids,
        competencies_aside=aside["competencies"],
        items=items[["item_id", "competency_id"]],
        items_aside=aside["items"],
        has_items=bool(len(items)) or "items" in raw,
        config=config,
    )
    assessments = typed("assessments")
    _check_assessments(assessments, context, errors)
    finish("assessments", assessments)

    enrolments = typed("enrolments")
    _reference(
        "enrolments",
        enrolments,
        "employee_id",
        pd.Index(employees["employee_id"]),
        "employees",
        errors,
        aside["employees"],
    )
    catalog_aside = pd.Index(typed_catalog_ids).difference(catalog["item_id"])
    _reference(
        "enrolments",
        enrolments,
        "item_id",
        pd.Index(catalog["item_id"]),
        "catalog",
        errors,
        catalog_aside,
    )
    backwards = (enrolments["completed_on"] < enrolments["started_on"]).fillna(False)
    errors.add(
        "enrolments",
        enrolments,
        backwards.to_numpy(),
        "completed_on",
        "completed_on "
        + enrolments["completed_on"].dt.strftime("%Y-%m-%d")
        + " is before started_on "
        + enrolments["started_on"].dt.strftime("%Y-%m-%d"),
    )
    finish("enrolments", enrolments)

    for name, df in clean.items():
        clean[name] = _tidy_categories(name, df)
    if return_context:
        return clean, errors.frame(), context
    return clean, errors.frame()


def _employee_defaults(
    df: pd.DataFrame, roles: pd.DataFrame, config: Config
) -> pd.DataFrame:
    """Fill the defaults the contract defines for missing employee values.

    A missing ``is_people_manager`` is true when anyone reports to the person
    or their role's ``role_level`` is one of :data:`MANAGER_LEVELS` (a new
    first-line manager whose reports are not yet in the export is still a
    manager); a value given in the column always wins.
    """
    managers = pd.Index(df["manager_id"].dropna().unique())
    levels = roles.dropna(subset=["role_id", "role_level"])
    managing = levels.loc[
        _isin(levels["role_level"], pd.Index(MANAGER_LEVELS)), "role_id"
    ]
    managing = pd.Index(managing.astype(object).unique())
    is_manager = _isin(df["employee_id"], managers) | _isin(df["role_id"], managing)
    default = pd.Series(is_manager, index=df.index)
    return df.assign(
        is_people_manager=df["is_people_manager"].fillna(default).astype("boolean"),
        learning_hours_per_month=df["learning_hours_per_month"].fillna(
            config.learning_hours_per_month
        ),
        budget=df["budget"].fillna(config.budget),
    )


def _tidy_categories(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Plain (non-enum) categoricals keep only used categories, sorted."""
    table = TABLES[name]
    changes = {}
    for column in table.columns:
        if column.kind == "id" and table.large and column.name in df.columns:
            changes[column.name] = _compact(df[column.name])
    return df.assign(**changes) if changes else df


def _compact(s: pd.Series) -> pd.Series:
    """Drop unused categories and sort the rest, as text, in linear time."""
    cats = s.cat.categories
    text = pd.Index(cats, dtype="str")
    if text.dtype != cats.dtype:
        codes = s.cat.codes.to_numpy()
        s = pd.Series(
            pd.Categorical.from_codes(codes, categories=text),
            index=s.index,
            name=s.name,
        )
    return drop_unused_categories(s, sort=True)


def drop_unused_categories(s: pd.Series, *, sort: bool = False) -> pd.Series:
    """``s.cat.remove_unused_categories()`` in linear time.

    The codes are counted, not sorted as pandas does (tables of millions of
    ratings); with ``sort``, the categories kept are also sorted. ``s`` itself
    comes back when nothing changes.

    Parameters
    ----------
    s : pd.Series
        A categorical column.
    sort : bool, default=False
        Sort the categories kept (by value) instead of keeping their order.

    Returns
    -------
    pd.Series
        The same values, index and name, with only the categories used.

    Examples
    --------
    >>> s = pd.Series(pd.Categorical(["b", None, "b"], categories=["c", "b", "a"]))
    >>> list(drop_unused_categories(s).cat.categories)
    ['b']
    >>> drop_unused_categories(s).tolist()
    ['b', nan, 'b']
    """
    codes = s.cat.codes.to_numpy()
    cats = s.cat.categories
    keep = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(cats)))
    if sort:
        keep = keep[np.argsort(cats[keep].to_numpy(dtype=object), kind="stable")]
    if len(keep) == len(cats) and (keep == np.arange(len(cats))).all():
        return s
    # new code of each old one; the last entry is what missing (-1) finds
    remap = np.full(len(cats) + 1, -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    new = pd.Categorical.from_codes(
        remap[codes], categories=cats[keep], ordered=s.cat.ordered
    )
    return pd.Series(new, index=s.index, name=s.name)
