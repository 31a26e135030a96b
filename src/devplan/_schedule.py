"""Scheduling: selected learning items become a dated path, manager actions,
a year of follow-ups and iCalendar files.

Data flow: ``selected`` (one row per employee × item, from the recommender)
and ``employees`` (capacity, manager) → an order per person (prerequisites;
education → exposure → experience within a competency; priority) → dates,
one item at a time, within each person's monthly learning hours → ``plans``
and ``unscheduled``; ``plans`` → manager actions and the year-ahead
``followups`` (domain §5-7) → one ``.ics`` calendar per employee and per
manager.

Every step works on all employees at once; the only Python loops run over
"the k-th item of every plan" (as many turns as the longest plan has items),
over the follow-up dates (the same for everyone, at most eight) and, when
writing calendars, over events and files. Texts are built as Arrow columns,
formatting each distinct date, number or label once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from devplan._schema import ITEM_KINDS, KIND_GROUP
from devplan._schema import require_columns as _check_columns
from devplan._text import TEXT as _TEXT
from devplan._text import isin as _isin
from devplan._text import join_groups as _join_groups

__all__ = ["manager_actions", "followups", "schedule", "to_ics", "write_ics"]

#: Order of the 70-20-10 groups within one competency (§6 of the domain brief).
GROUP_ORDER = ("education", "exposure", "experience")
#: Columns of the ``plans`` table, in reading order (the long rationale last).
PLAN_COLUMNS = (
    "employee_id",
    "step",
    "item_id",
    "title",
    "kind",
    "group",
    "purpose",
    "competency_id",
    "start_on",
    "end_on",
    "month",
    "hours",
    "cost",
    "rationale",
)
UNSCHEDULED_COLUMNS = ("employee_id", "item_id", "reason")
ACTION_COLUMNS = (
    "employee_id",
    "manager_id",
    "date",
    "action",
    "competency_id",
    "item_id",
    "description",
)
ACTIONS = ("kickoff", "on_the_job_coaching", "debrief")
FOLLOWUP_COLUMNS = (
    "employee_id",
    "date",
    "kind",
    "with_whom",
    "agenda",
    "reminder_on",
    "milestone",
)
FOLLOWUP_KINDS = ("manager_kickoff", "checkin", "quarterly_review", "annual_review")
#: ``with_whom`` of follow-ups for people without a line manager.
NO_MANAGER = "mentor/coach"
#: Days after the start of the three check-ins.
CHECKIN_DAYS = (30, 60, 90)
#: Months after the start of the quarterly reviews (those inside the horizon).
QUARTER_MONTHS = (3, 6, 9)
KIND_WORDS = {
    "manager_kickoff": "Development plan kick-off",
    "checkin": "Development check-in",
    "quarterly_review": "Quarterly development review",
    "annual_review": "Annual development review",
}
#: Month "ticks": the least common multiple of 28, 29, 30 and 31, so that every
#: day is a whole number of ticks (1/28, 1/29, 1/30 or 1/31 of a month) and the
#: capacity arithmetic on days is exact.
TICKS_PER_MONTH = 377_580
_REQUIRED = ("employee_id", "item_id", "title", "kind", "competency_id", "hours")
_DEFAULTS = {
    "level": "intermediate",
    "purpose": "develop_need",
    "cost": 0.0,
    "priority": 0.0,
    "prerequisites": "",
    "rationale": "",
}
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


# --------------------------------------------------------------------------- #
# small helpers
# --------------------------------------------------------------------------- #
def _as_day(value: object, name: str) -> np.datetime64:
    """A date argument as ``datetime64[D]``."""
    if isinstance(value, (dt.date, pd.Timestamp, np.datetime64)) and not pd.isna(value):
        return np.datetime64(pd.Timestamp(value).date(), "D")
    raise TypeError(f"Got {name}={value!r}; expected a datetime.date.")


def _horizon_end(start: np.datetime64, horizon_months: int) -> np.datetime64:
    """First day after the horizon (``start`` plus ``horizon_months`` months)."""
    end = pd.Timestamp(start) + pd.DateOffset(months=horizon_months)
    return np.datetime64(end.date(), "D")


def _check_months(horizon_months: object) -> int:
    if (
        isinstance(horizon_months, (bool, np.bool_))
        or not isinstance(horizon_months, (int, np.integer))
        or horizon_months < 1
    ):
        raise ValueError(
            f"Got horizon_months={horizon_months!r}; expected a whole number >= 1."
        )
    return int(horizon_months)


def _check_positive(value: object, name: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Got {name}={value!r}; expected a number > 0.") from exc
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"Got {name}={value!r}; expected a number > 0.")
    return number


def _days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Dates as ``datetime64[D]``."""
    return np.asarray(values, dtype="datetime64[s]").astype("datetime64[D]")


def _weekday(days: np.ndarray) -> np.ndarray:
    """Monday 0 ... Sunday 6 (1970-01-01 was a Thursday)."""
    return (days.astype("datetime64[D]").astype(np.int64) + 3) % 7


def _next_weekday(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays to the following Monday."""
    dow = _weekday(days)
    shift = np.where(dow == 5, 2, np.where(dow == 6, 1, 0))
    return days + shift.astype("timedelta64[D]")


def _working_day(days: np.ndarray, latest: np.datetime64) -> np.ndarray:
    """Weekend → following Monday; past ``latest`` → last weekday up to it."""
    moved = _next_weekday(days)
    dow = int(_weekday(np.array([latest]))[0])
    last_workday = latest - np.timedelta64(max(dow - 4, 0), "D")
    return np.where(moved > latest, last_workday, moved)


def _month_index(days: np.ndarray, start: np.datetime64) -> np.ndarray:
    """0-based calendar month of ``days`` counted from the month of ``start``."""
    months = days.astype("datetime64[M]").astype(np.int64)
    return months - start.astype("datetime64[M]").astype(np.int64)


def _iso(days: np.ndarray) -> pd.Series:
    """Dates as ISO text (``2026-01-31``)."""
    stamps = pa.array(np.asarray(days, dtype="datetime64[D]").astype("datetime64[s]"))
    text = pc.strftime(stamps, format="%Y-%m-%d")
    return pd.Series(pd.arrays.ArrowStringArray(text)).astype("str")


def _label(ids: pd.Series, names: Mapping[str, str] | None) -> pd.Series:
    """Competency ids as display names when ``names`` has them."""
    ids = ids.astype("str").reset_index(drop=True)
    if not names:
        return ids
    return ids.map(dict(names)).fillna(ids).astype("str")


def _managers(employees: pd.DataFrame, ids: pd.Series) -> pd.Series:
    """Line manager of each id in ``ids``; missing (NA) when there is none."""
    if "manager_id" not in employees.columns:
        return pd.Series(pd.NA, index=range(len(ids)), dtype="str")
    known = employees["employee_id"]
    if known.dtype != "str":
        table = employees[["employee_id", "manager_id"]].drop_duplicates("employee_id")
        table = table.set_index("employee_id")
        manager = table["manager_id"].astype("str")
        manager = manager.where(manager.str.strip() != "")
        return ids.astype("str").map(manager).astype("str").reset_index(drop=True)
    # each id's first row in employees, found by Arrow (as the first of
    # repeated ids would be); blank managers are none
    at = pc.index_in(_arrow(ids), value_set=_arrow(known))
    at = pc.fill_null(at, -1).to_numpy(zero_copy_only=False)
    manager = employees["manager_id"].astype("str").array.take(at, allow_fill=True)
    manager = pd.Series(manager, dtype="str")
    return manager.where(manager.str.strip() != "")


def _words(kind: pd.Series) -> pd.Series:
    return kind.astype("str").str.replace("_", " ", regex=False)


def _number(values: object) -> pd.Series:
    """Numbers as short text: one decimal at most, no trailing ``.0``."""
    rounded = pd.Series(np.asarray(values, dtype="float64")).round(1)
    return rounded.astype("str").str.removesuffix(".0")


def _arrow(values: object) -> pa.Array:
    """Text as one Arrow ``large_string`` array (missing values as nulls)."""
    array = pa.array(pd.Series(values).astype("str"))
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(_TEXT)


def _text(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """An Arrow text array as a ``str`` Series (nulls as missing values)."""
    return pd.Series(pd.arrays.ArrowStringArray(values.cast(_TEXT))).astype("str")


def _cat(*parts: str | pa.Array) -> pa.Array:
    """Texts and literals joined element-wise; null where any part is null."""
    args = [pa.scalar(part, _TEXT) if isinstance(part, str) else part for part in parts]
    return pc.binary_join_element_wise(*args, pa.scalar("", _TEXT))


def _part(prefix: str, text: pa.Array) -> pa.Array:
    """``prefix + text + "."``; empty where ``text`` is missing."""
    return pc.fill_null(_cat(prefix, text, "."), pa.scalar("", _TEXT))


def _each_distinct(
    keys: np.ndarray, make: Callable[[np.ndarray], pa.Array]
) -> pa.Array:
    """``make(rows)`` run on one row per distinct key, spread to all rows.

    ``make`` gets the positions of one row per distinct value of ``keys``
    (rows with equal keys must have equal texts) and returns their texts;
    formatting (dates, numbers, words) then costs one call per distinct
    value instead of one per row.
    """
    codes, distinct = pd.factorize(keys)
    one = np.zeros(len(distinct), dtype=np.int64)
    one[codes] = np.arange(len(codes))  # some row of each distinct key
    return make(one).take(codes)


def _number_text(values: object) -> pa.Array:
    """:func:`_number` as Arrow text, formatting each distinct value once."""
    values = np.ascontiguousarray(values, dtype="float64")
    # Keyed by the bits, so that 0.0 and -0.0 keep their own text.
    return _each_distinct(
        values.view(np.int64), lambda rows: _arrow(_number(values[rows]))
    )


def _iso_text(days: np.ndarray) -> pa.Array:
    """:func:`_iso` as Arrow text, formatting each distinct date once."""
    days = np.ascontiguousarray(days, dtype="datetime64[D]")
    return _each_distinct(days.view(np.int64), lambda rows: _arrow(_iso(days[rows])))


def _label_text(ids: pd.Series, names: Mapping[str, str] | None) -> pa.Array:
    """:func:`_label` as Arrow text, looking each distinct id up once."""
    codes, distinct = pd.factorize(ids.astype("str"), use_na_sentinel=False)
    return _arrow(_label(pd.Series(distinct), names)).take(codes)


def _take_from(arrays: list[pa.Array], rows: np.ndarray) -> pa.ChunkedArray:
    """``rows`` of the text arrays laid end to end (not copied into one first)."""
    return pa.chunked_array(arrays, type=_TEXT).take(rows)


def _group_starts(keys: np.ndarray) -> np.ndarray:
    """Positions where a run of equal ``keys`` starts."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


# --------------------------------------------------------------------------- #
# schedule
# --------------------------------------------------------------------------- #
def _prepare_selected(selected: pd.DataFrame) -> pd.DataFrame:
    _check_columns(selected, "selected", _REQUIRED)
    # (copy-on-write: assigning columns below never changes ``selected``)
    sel = selected.reset_index(drop=True)
    for column, default in _DEFAULTS.items():
        if column not in sel.columns:
            sel[column] = default
    for column in ("employee_id", "item_id", "competency_id"):
        if sel[column].isna().any():
            row = int(np.flatnonzero(sel[column].isna().to_numpy())[0])
            raise ValueError(
                f"Got selected with a missing {column} in row {row}; expected a value."
            )
        sel[column] = sel[column].astype("str")
    kind = sel["kind"].astype("str")
    bad = ~_isin(kind, ITEM_KINDS)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"Got kind={kind.iloc[row]!r} in row {row} of selected; expected one "
            f"of {list(ITEM_KINDS)}."
        )
    sel["kind"] = kind
    codes, kinds = pd.factorize(kind)
    derived = pd.Series(kinds).map(KIND_GROUP).astype("str")
    derived = derived.take(codes).reset_index(drop=True)
    if "group" in sel.columns:
        sel["group"] = sel["group"].astype("str").fillna(derived)
    else:
        sel["group"] = derived
    bad = ~_isin(sel["group"], GROUP_ORDER)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"Got group={sel['group'].iloc[row]!r} in row {row} of selected; "
            f"expected one of {list(GROUP_ORDER)}."
        )
    hours = pd.to_numeric(sel["hours"], errors="coerce").astype("float64")
    bad = ~(np.isfinite(hours.to_numpy()) & (hours.to_numpy() > 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"Got hours={sel['hours'].iloc[row]!r} in row {row} of selected; "
            "expected a number > 0."
        )
    sel["hours"] = hours
    sel["cost"] = (
        pd.to_numeric(sel["cost"], errors="coerce").astype("float64").fillna(0.0)
    )
    sel["priority"] = pd.to_numeric(sel["priority"], errors="coerce").astype("float64")
    for column in ("title", "level", "purpose", "rationale", "prerequisites"):
        sel[column] = sel[column].astype("str").fillna("")
    # one integer key per employee × item
    emp = pd.factorize(sel["employee_id"])[0].astype(np.int64)
    item = pd.factorize(sel["item_id"])[0].astype(np.int64)
    duplicated = pd.Series(emp * (item.max(initial=0) + 1) + item).duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise ValueError(
            f"Got item_id={sel['item_id'].iloc[row]!r} twice for employee_id="
            f"{sel['employee_id'].iloc[row]!r} in selected (row {row}); expected "
            "each item at most once per employee."
        )
    return sel


def _capacities(employees: pd.DataFrame, emp_ids: pd.Index) -> np.ndarray:
    """``learning_hours_per_month`` of each id in ``emp_ids``, checked."""
    _check_columns(employees, "employees", ("employee_id", "learning_hours_per_month"))
    ids = employees["employee_id"].astype("str")
    if ids.duplicated().any():
        raise ValueError(
            f"Got employee_id={ids[ids.duplicated()].iloc[0]!r} twice in employees; "
            "expected unique ids."
        )
    hours = pd.to_numeric(employees["learning_hours_per_month"], errors="coerce")
    # each id's row (ids are unique), found by Arrow; missing: NaN
    at = pc.index_in(_arrow(emp_ids), value_set=_arrow(ids))
    at = pc.fill_null(at, -1).to_numpy(zero_copy_only=False)
    out = np.append(hours.to_numpy(dtype="float64"), np.nan)[at]
    bad = ~(np.isfinite(out) & (out > 0))
    if bad.any():
        who = emp_ids[np.flatnonzero(bad)[:5]].tolist()
        raise ValueError(
            f"Got no learning_hours_per_month > 0 in employees for employee_id(s) "
            f"{who}; expected every employee in selected to be in employees with "
            "learning_hours_per_month > 0."
        )
    return out


def _prerequisite_edges(sel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(prerequisite row, dependent row) pairs within each person's selection."""
    # Most items have no prerequisites: split only the non-empty lists.
    listed = sel["prerequisites"]
    listed = listed[(listed != "").to_numpy()].str.split(";").explode()
    listed = listed.dropna().astype("str").str.strip()
    listed = listed[listed != ""]
    rows = listed.index.to_numpy(dtype=np.int64)
    # Integer keys of (employee, item): each selected row has its own (no
    # item twice per person), so a listed prerequisite finds at most one row.
    emp = pd.factorize(sel["employee_id"])[0].astype(np.int64)
    items = pd.concat([sel["item_id"], listed], ignore_index=True)
    item = pd.factorize(items)[0].astype(np.int64)
    n_items = item.max(initial=0) + 1
    own = emp * n_items + item[: len(sel)]
    wanted = emp[rows] * n_items + item[len(sel) :]
    src = pd.Index(own).get_indexer(wanted)
    dst = rows
    keep = (src >= 0) & (src != dst)
    pairs = pd.DataFrame({"src": src[keep], "dst": dst[keep]}).drop_duplicates()
    return pairs["src"].to_numpy(np.int64), pairs["dst"].to_numpy(np.int64)


def _group_edges(sel: pd.DataFrame, emp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(earlier row, later row): education → exposure → experience per competency.

    ``emp`` is the person code of each row; the pairs come in no set order.
    """
    codes, groups = pd.factorize(sel["group"])
    rank = np.array([GROUP_ORDER.index(g) for g in groups], dtype=np.int64)[codes]
    competency = pd.factorize(sel["competency_id"])[0].astype(np.int64)
    key = emp * (competency.max(initial=0) + 1) + competency
    # Every pair of rows with the same key: row ``a`` meets each row of its run.
    rows = np.argsort(key, kind="stable")
    starts = _group_starts(key[rows])
    size = np.diff(np.append(starts, len(rows)))
    run_start = np.repeat(starts, size)
    n_pairs = np.repeat(size, size)
    a = np.repeat(rows, n_pairs)
    first_pair = np.cumsum(n_pairs) - n_pairs
    b = rows[
        np.repeat(run_start, n_pairs)
        + np.arange(len(a))
        - np.repeat(first_pair, n_pairs)
    ]
    keep = rank[a] < rank[b]
    return a[keep], b[keep]


def _best(
    emp: np.ndarray, pref: np.ndarray, mask: np.ndarray, n_emp: int, none: int
) -> np.ndarray:
    """Per person, the smallest ``pref`` among rows in ``mask`` (``none`` if none)."""
    best = np.full(n_emp, none, dtype=np.int64)
    np.minimum.at(best, emp[mask], pref[mask])
    return best


def _order(
    emp: np.ndarray,
    pref: np.ndarray,
    n_emp: int,
    prereq: tuple[np.ndarray, np.ndarray],
    group: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Position of each row in its person's order; -1 for rows in a cycle.

    Kahn's topological sort for all people at once: each turn every person
    takes, among their items whose predecessors are all placed, the one with
    the best preference rank (``pref``: priority, then item_id). When the
    group order contradicts the prerequisites, the prerequisites win for
    that turn; items left when even the prerequisites allow none are in, or
    depend on, a prerequisite cycle.
    """
    n = len(emp)
    both = pd.DataFrame(
        {
            "src": np.concatenate([group[0], prereq[0]]),
            "dst": np.concatenate([group[1], prereq[1]]),
        }
    ).drop_duplicates()
    src_all = both["src"].to_numpy(np.int64)
    dst_all = both["dst"].to_numpy(np.int64)
    src_p, dst_p = prereq
    indeg_all = np.bincount(dst_all, minlength=n)
    indeg_p = np.bincount(dst_p, minlength=n)
    row_of_pref = np.empty(n, dtype=np.int64)
    row_of_pref[pref] = np.arange(n)
    pos = np.full(n, -1, dtype=np.int64)
    remaining = np.bincount(emp, minlength=n_emp)
    k = 0
    while True:
        active = remaining > 0
        if not active.any():
            break
        free = pos < 0
        best = _best(emp, pref, free & (indeg_all == 0), n_emp, n)
        stuck = active & (best == n)
        if stuck.any():
            relaxed = _best(emp, pref, free & (indeg_p == 0) & stuck[emp], n_emp, n)
            best = np.where(stuck, relaxed, best)
        dead = active & (best == n)
        remaining[dead] = 0
        chosen = row_of_pref[best[active & ~dead]]
        pos[chosen] = k
        remaining[emp[chosen]] -= 1
        placed_now = np.zeros(n, dtype=bool)
        placed_now[chosen] = True
        np.subtract.at(indeg_all, dst_all[placed_now[src_all]], 1)
        np.subtract.at(indeg_p, dst_p[placed_now[src_p]], 1)
        k += 1
    return pos


def schedule(
    selected: pd.DataFrame,
    employees: pd.DataFrame,
    *,
    start_date: dt.date,
    horizon_months: int = 12,
    heavy_hours: float = 16.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn each person's selected learning items into a dated path.

    Parameters
    ----------
    selected : DataFrame
        One row per employee × item, as the recommender selects them:
        ``employee_id, item_id, title, kind, group, level, purpose,
        competency_id, hours, cost, priority, prerequisites, rationale``.
        ``group`` defaults to the 70-20-10 group of ``kind``; ``priority``
        (higher first; missing ranks last), ``cost``, ``prerequisites``
        (``;``-list of item ids), ``purpose``, ``level`` and ``rationale``
        are optional.
    employees : DataFrame
        ``employee_id`` and ``learning_hours_per_month`` (> 0) for every
        employee in ``selected``.
    start_date : datetime.date
        First day of the plans.
    horizon_months : int, default=12
        Every item ends before ``start_date`` plus this many months.
    heavy_hours : float, default=16.0
        Items of at least this many hours are "heavy"; two heavy items of
        one person never overlap. (Guaranteed by running items one at a
        time, which keeps every pair of items apart; the threshold is checked
        and kept so that a future parallel schedule keeps the rule.)

    Returns
    -------
    plans : DataFrame
        The contract's ``plans`` rows, ordered by ``employee_id, step``:
        ``employee_id, step, item_id, title, kind, group, purpose,
        competency_id, start_on, end_on, month, hours, cost, rationale``
        (``month``: 0-based calendar month of ``start_on``, counted from the
        month of ``start_date``). Dates are ``datetime64[s]``.
    unscheduled : DataFrame
        ``employee_id, item_id, reason``: selected items that are not in
        ``plans``, with the reason (no room in the horizon, a prerequisite
        not scheduled, a prerequisite cycle).

    Raises
    ------
    ValueError
        On a missing column, a bad kind, group or hours value, an item
        selected twice for one person, or an employee without learning
        hours.

    Notes
    -----
    **Order.** Per person, a topological order of two kinds of precedence:
    the item's prerequisites that are in the same person's selection, and,
    within a competency, education before exposure before experience. Among
    the items whose predecessors are all placed, the highest ``priority``
    goes first, ties by ``item_id``. When a prerequisite contradicts the
    group order, the prerequisite wins.

    **Dates.** Items run one after another: one item on the go at a time, the
    next starting the day after the previous one ends (so a prerequisite
    always ends strictly before its dependent starts, and heavy items never
    overlap). A person with ``c`` learning hours a month has ``c / D`` hours
    on each day of a month of ``D`` days; an item of ``h`` hours starting on
    day ``s`` ends on the first day ``e`` with
    ``sum(c / D_d for d in s..e) >= h``. Its hours count on each of its days
    in proportion to that day's capacity, so a day never carries more than
    ``c / D`` hours and no calendar month more than ``c``. Days are counted
    in whole ticks (:data:`TICKS_PER_MONTH` per month), so the calendar
    arithmetic has no rounding: ``12 c`` hours fit exactly in 12 months.

    **Dropping.** An item that would end after the horizon is skipped (later,
    smaller items may still fit); items whose prerequisite is skipped are
    skipped too. Both are listed in ``unscheduled`` with the reason, so
    ``selected = plans + unscheduled``.

    Examples
    --------
    >>> import datetime as dt
    >>> import pandas as pd
    >>> from devplan._schedule import schedule
    >>> selected = pd.DataFrame({
    ...     "employee_id": "e1", "item_id": ["c1", "s1", "x1"],
    ...     "title": ["Delegation basics", "Delegate a project", "Big programme"],
    ...     "kind": ["course", "stretch_assignment", "course"],
    ...     "competency_id": "delegation", "hours": [8.0, 21.0, 200.0],
    ...     "priority": [1.0, 2.0, 0.5]})
    >>> employees = pd.DataFrame(
    ...     {"employee_id": ["e1"], "learning_hours_per_month": [10.0]})
    >>> plans, unscheduled = schedule(
    ...     selected, employees, start_date=dt.date(2026, 1, 1))
    >>> plans[["step", "item_id", "start_on", "end_on", "month"]]
       step item_id   start_on     end_on  month
    0     1      c1 2026-01-01 2026-01-25      0
    1     2      s1 2026-01-26 2026-03-29      0
    >>> unscheduled.loc[0, "reason"]
    'does not fit in the 12-month horizon at 10 h/month (200 h needed, ...)'
    """
    start = _as_day(start_date, "start_date")
    horizon_months = _check_months(horizon_months)
    _check_positive(heavy_hours, "heavy_hours")
    sel = _prepare_selected(selected)
    n = len(sel)
    # Person codes in employee_id order (the order of the plans).
    emp, emp_ids = pd.factorize(sel["employee_id"], sort=True)
    emp = emp.astype(np.int64)
    n_emp = len(emp_ids)
    capacity = _capacities(employees, pd.Index(emp_ids))

    # Preference rank: priority (higher first, missing last), then item_id.
    item_rank = pd.factorize(sel["item_id"], sort=True)[0]
    pref = np.empty(n, dtype=np.int64)
    pref[np.lexsort((item_rank, -sel["priority"].to_numpy()))] = np.arange(n)
    prereq = _prerequisite_edges(sel)
    pos = _order(emp, pref, n_emp, prereq, _group_edges(sel, emp))

    # Day grid of the horizon, in exact month ticks.
    end = _horizon_end(start, horizon_months)
    grid = np.arange(start, end, dtype="datetime64[D]")
    month_days = (
        (grid.astype("datetime64[M]") + 1).astype("datetime64[D]")
        - grid.astype("datetime64[M]").astype("datetime64[D]")
    ).astype(np.int64)
    ticks = np.concatenate([[0], np.cumsum(TICKS_PER_MONTH // month_days)])
    n_days = len(grid)
    hours = sel["hours"].to_numpy()
    need = hours * TICKS_PER_MONTH / capacity[emp]

    first = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    status = np.where(pos < 0, 3, 0)  # 0 to do, 1 placed, 2 no room, 3 cycle, 4 prereq
    blocker = np.full(n, -1, dtype=np.int64)
    left = np.zeros(n)
    cursor = np.zeros(n_emp, dtype=np.int64)
    src_p, dst_p = prereq
    turn_rows = np.argsort(pos, kind="stable")
    turn_rows = turn_rows[pos[turn_rows] >= 0]
    bounds = np.searchsorted(pos[turn_rows], np.arange(pos.max(initial=-1) + 2))
    # Prerequisite edges sorted by the blocker's item id, for a stable reason.
    edge_order = np.lexsort((sel["item_id"].iloc[src_p].to_numpy().astype(str), dst_p))
    src_p, dst_p = src_p[edge_order], dst_p[edge_order]
    for k in range(len(bounds) - 1):
        rows = turn_rows[bounds[k] : bounds[k + 1]]
        in_turn = np.zeros(n, dtype=bool)
        in_turn[rows] = True
        hit = in_turn[dst_p] & (status[src_p] > 1)
        if hit.any():
            dst_hit, at = np.unique(dst_p[hit], return_index=True)
            status[dst_hit] = 4
            blocker[dst_hit] = src_p[hit][at]
            rows = rows[status[rows] == 0]
        who = emp[rows]
        begin = ticks[cursor[who]]
        stop = np.searchsorted(ticks, begin + need[rows], side="left") - 1
        fits = stop < n_days
        placed, dropped = rows[fits], rows[~fits]
        first[placed] = cursor[who[fits]]
        last[placed] = stop[fits]
        status[placed] = 1
        cursor[who[fits]] = stop[fits] + 1
        status[dropped] = 2
        left[dropped] = (
            capacity[who[~fits]] * (ticks[-1] - begin[~fits]) / TICKS_PER_MONTH
        )

    return _plans_frame(sel, emp, status, first, last, start), _unscheduled_frame(
        sel, status, pos, pref, blocker, left, capacity[emp], horizon_months
    )


def _plans_frame(
    sel: pd.DataFrame,
    emp: np.ndarray,
    status: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    start: np.datetime64,
) -> pd.DataFrame:
    """Placed rows ordered by employee_id (``emp``: codes in that order), start."""
    done = np.flatnonzero(status == 1)
    done = done[np.lexsort((first[done], emp[done]))]
    columns = [c for c in PLAN_COLUMNS if c in sel.columns]
    part = sel[columns].iloc[done].reset_index(drop=True)
    start_on = start + first[done].astype("timedelta64[D]")
    end_on = start + last[done].astype("timedelta64[D]")
    # Steps count 1, 2, ... within each person.
    person, at = emp[done], np.arange(len(done))
    begins = np.r_[True, person[1:] != person[:-1]][: len(done)]
    step = at - np.maximum.accumulate(np.where(begins, at, 0))
    plans = pd.DataFrame(
        {
            "employee_id": part["employee_id"].astype("str"),
            "step": step.astype(np.int64) + 1,
            "item_id": part["item_id"].astype("str"),
            "purpose": part["purpose"].astype("str"),
            "competency_id": part["competency_id"].astype("str"),
            "start_on": start_on.astype("datetime64[s]"),
            "end_on": end_on.astype("datetime64[s]"),
            "hours": part["hours"].astype("float64"),
            "cost": part["cost"].astype("float64"),
            "rationale": part["rationale"].astype("str"),
            "title": part["title"].astype("str"),
            "kind": part["kind"].astype("str"),
            "group": part["group"].astype("str"),
            "month": _month_index(start_on, start).astype(np.int64),
        }
    )
    return plans[list(PLAN_COLUMNS)]


def _unscheduled_frame(
    sel: pd.DataFrame,
    status: np.ndarray,
    pos: np.ndarray,
    pref: np.ndarray,
    blocker: np.ndarray,
    left: np.ndarray,
    capacity: np.ndarray,
    horizon_months: int,
) -> pd.DataFrame:
    rows = np.flatnonzero(status > 1)
    item_ids = sel["item_id"]
    no_room = (
        f"does not fit in the {horizon_months}-month horizon at "
        + _number(capacity[rows])
        + " h/month ("
        + _number(sel["hours"].to_numpy()[rows])
        + " h needed, "
        + _number(left[rows])
        + " h of capacity left after earlier items)"
    )
    blocked = "prerequisite " + pd.Series(
        item_ids.iloc[np.maximum(blocker[rows], 0)].to_numpy(), dtype="str"
    )
    reasons = np.select(
        [status[rows] == 2, status[rows] == 3],
        [no_room, "its prerequisites within the plan form a cycle (or depend on one)"],
        blocked + " is not scheduled",
    )
    out = pd.DataFrame(
        {
            "employee_id": sel["employee_id"].iloc[rows].to_numpy(),
            "item_id": item_ids.iloc[rows].to_numpy(),
            "reason": reasons,
            "_pos": np.where(pos[rows] < 0, len(sel) + pref[rows], pos[rows]),
        }
    )
    out = out.sort_values(["employee_id", "_pos"], kind="stable")
    out = out.drop(columns="_pos").reset_index(drop=True)
    return out.astype(dict.fromkeys(UNSCHEDULED_COLUMNS, "str"))


# --------------------------------------------------------------------------- #
# manager actions
# --------------------------------------------------------------------------- #
_PLAN_NEEDS = ("employee_id", "step", "item_id", "competency_id", "start_on", "end_on")


#: Columns of ``plans`` that manager actions and follow-ups read.
_PLAN_USES = (*_PLAN_NEEDS, "title", "kind", "hours")


def _ranks(values: pd.Series) -> np.ndarray:
    """Sort rank of each value (equal values share one); missing values last."""
    codes, distinct = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(distinct), codes).astype(np.int64)


def _take(texts: pa.Array, rows: np.ndarray) -> pa.Array:
    """``texts`` at ``rows``; null where a row is -1."""
    return texts.take(pa.array(rows, mask=rows < 0))


def _what(title: pd.Series, kind: pd.Series) -> pa.Array:
    """``"title (kind in words)"`` per row, formatted once per distinct pair."""
    title, kind = title.astype("str"), kind.astype("str")
    t = pd.factorize(title, use_na_sentinel=False)[0].astype(np.int64)
    k = pd.factorize(kind, use_na_sentinel=False)[0].astype(np.int64)

    def make(rows: np.ndarray) -> pa.Array:
        return _arrow(title.iloc[rows] + " (" + _words(kind.iloc[rows]) + ")")

    return _each_distinct(t * (k.max(initial=0) + 1) + k, make)


def _plan_frame(plans: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, pa.Array]:
    """Plan rows in ``employee_id, step`` order, their person and their words.

    Returns the rows (ids as ``str``; ``title``, ``kind`` and ``hours``
    filled in when missing), the person of each row (0, 1, ... in
    ``employee_id`` order, so each person's rows are one run) and each
    item in words: ``"title (kind)"``.
    """
    _check_columns(plans, "plans", _PLAN_NEEDS)
    p = plans[[c for c in _PLAN_USES if c in plans.columns]]
    p = p.assign(
        employee_id=p["employee_id"].astype("str"),
        item_id=p["item_id"].astype("str"),
        competency_id=p["competency_id"].astype("str"),
    )
    person = _ranks(p["employee_id"])
    step = p["step"]
    # whole numbers sort as themselves (their ranks keep their order)
    step = step.to_numpy() if step.dtype.kind in "iu" else _ranks(step)
    order = np.lexsort((step, person))
    if (order != np.arange(len(order))).any():
        p, person = p.iloc[order], person[order]
    p = p.reset_index(drop=True)
    if "title" not in p.columns:
        p["title"] = p["item_id"]
    if "kind" not in p.columns:
        p["kind"] = "item"
    if "hours" not in p.columns:
        p["hours"] = np.nan
    return p, person, _what(p["title"], p["kind"])


def _competency_lists(
    p: pd.DataFrame, person: np.ndarray, names: Mapping[str, str] | None
) -> pa.Array:
    """Per person, the plan's competencies in order of first appearance."""
    competency, distinct = pd.factorize(p["competency_id"], use_na_sentinel=False)
    key = person * (competency.max(initial=0) + 1) + competency
    first = np.flatnonzero(~pd.Series(key).duplicated().to_numpy())
    # each distinct id labelled once
    label = _arrow(_label(pd.Series(distinct), names)).take(competency[first])
    return _join_groups(person[first], label, _n_people(person), ", ")


def _n_people(person: np.ndarray) -> int:
    return int(person[-1]) + 1 if len(person) else 0


def manager_actions(
    plans: pd.DataFrame,
    employees: pd.DataFrame,
    *,
    start_date: dt.date,
    major_hours: float = 8.0,
    horizon_months: int = 12,
    competency_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """What each line manager does to make a report's plan transfer to the job.

    Parameters
    ----------
    plans : DataFrame
        The ``plans`` table of :func:`schedule`.
    employees : DataFrame
        ``employee_id`` and, optionally, ``manager_id``.
    start_date : datetime.date
        First day of the plans.
    major_hours : float, default=8.0
        Items of at least this many hours get a debrief.
    horizon_months : int, default=12
        Length of the plans; no action is dated after the horizon.
    competency_names : mapping of str to str or None, default=None
        Display name per ``competency_id`` for the descriptions.

    Returns
    -------
    DataFrame
        ``employee_id, manager_id, date, action, competency_id, item_id,
        description``, ordered by ``employee_id, date``. ``action`` is one
        of ``kickoff`` (one per plan), ``on_the_job_coaching`` (one per plan
        competency) or ``debrief`` (one per major item). ``manager_id`` is
        missing for people without a line manager: their coach or mentor
        takes these actions.

    Notes
    -----
    Dates (domain §5: briefing before, on-the-job coaching, debrief after):

    - ``kickoff``: ``start_date - 7 days``, a week before the first item;
    - ``on_the_job_coaching``: the middle day between the first start and the
      last end of the competency's items;
    - ``debrief``: ``end_on + 7 days`` of the item, at most the last day of
      the horizon.

    A date on a Saturday or Sunday moves to the following Monday; when that
    Monday is past the horizon, to the last weekday inside it.

    Examples
    --------
    >>> import datetime as dt
    >>> import pandas as pd
    >>> from devplan._schedule import manager_actions
    >>> plans = pd.DataFrame({
    ...     "employee_id": "e1", "step": [1, 2], "item_id": ["c1", "s1"],
    ...     "competency_id": "delegation",
    ...     "start_on": pd.to_datetime(["2026-01-01", "2026-01-26"]),
    ...     "end_on": pd.to_datetime(["2026-01-25", "2026-03-29"]),
    ...     "hours": [8.0, 21.0], "title": ["Delegation basics", "Delegate"],
    ...     "kind": ["course", "stretch_assignment"]})
    >>> employees = pd.DataFrame({"employee_id": ["e1"], "manager_id": ["m1"]})
    >>> actions = manager_actions(plans, employees, start_date=dt.date(2026, 1, 1))
    >>> actions[["manager_id", "date", "action", "item_id"]]
      manager_id       date               action item_id
    0         m1 2025-12-25              kickoff      c1
    1         m1 2026-02-02              debrief      c1
    2         m1 2026-02-13  on_the_job_coaching      s1
    3         m1 2026-04-06              debrief      s1
    """
    start = _as_day(start_date, "start_date")
    horizon_months = _check_months(horizon_months)
    major = _check_positive(major_hours, "major_hours")
    _check_columns(employees, "employees", ("employee_id",))
    latest = _horizon_end(start, horizon_months) - np.timedelta64(1, "D")
    p, person, what = _plan_frame(plans)
    lead = _group_starts(person)  # first item of each person
    employee = _arrow(p["employee_id"])
    label = _label_text(p["competency_id"], competency_names)
    start_on, end_on = _days(p["start_on"]), _days(p["end_on"])

    # Kick-off: one per plan, a week before the start.
    kick_date = _working_day(np.full(len(lead), start - np.timedelta64(7, "D")), latest)
    kick_text = _cat(
        "Before the plan starts, brief ",
        employee.take(lead),
        " on why it focuses on ",
        _competency_lists(p, person, competency_names),
        ", agree when and how they will apply it in their work, and make "
        "room in their agenda; first item: ",
        what.take(lead),
        " from ",
        _iso_text(start_on[lead]),
        ".",
    )

    # Debrief: after every major item.
    big = np.flatnonzero((p["hours"].astype("float64") >= major).to_numpy())
    after = np.minimum(end_on[big] + np.timedelta64(7, "D"), latest)
    debrief_date = _working_day(after, latest)
    debrief_text = _cat(
        "Debrief ",
        employee.take(big),
        " after ",
        what.take(big),
        ": what did they learn about ",
        label.take(big),
        ", what will they apply in the coming month, and what support do "
        "they need from you?",
    )

    # On-the-job coaching: one per plan competency, mid-way through its items.
    # Runs of rows per person and competency (in id order); rows with a
    # missing id have none. Dates, item_id and what skip missing values.
    competency = _ranks(p["competency_id"])
    rows = np.flatnonzero(
        p["employee_id"].notna().to_numpy() & p["competency_id"].notna().to_numpy()
    )
    rows = rows[np.lexsort((competency[rows], person[rows]))]
    runs = _group_starts(
        person[rows] * (competency.max(initial=0) + 1) + competency[rows]
    )
    never = np.iinfo(np.int64).max
    begin = start_on[rows].view(np.int64)
    begin = np.minimum.reduceat(
        np.where(begin == np.iinfo(np.int64).min, never, begin), runs
    )
    first_start = np.where(begin == never, np.iinfo(np.int64).min, begin)
    first_start = first_start.view("datetime64[D]")
    last_end = np.maximum.reduceat(end_on[rows].view(np.int64), runs).view(
        "datetime64[D]"
    )
    has_item = p["item_id"].notna().to_numpy()[rows]
    coach_item = np.maximum.reduceat(np.where(has_item, rows, -1), runs)
    has_what = pc.is_valid(what).to_numpy(zero_copy_only=False)[rows]
    coach_what = np.minimum.reduceat(np.where(has_what, rows, never), runs)
    coach_what = np.where(coach_what == never, -1, coach_what)
    length = (last_end - first_start).astype(np.int64)
    middle = first_start + (length // 2).astype("timedelta64[D]")
    coach_date = _working_day(middle, latest)
    coach_row = rows[runs]
    coach_text = _cat(
        "Give ",
        employee.take(coach_row),
        " a real task this month that calls for ",
        label.take(coach_row),
        " (building on ",
        _take(what, coach_what),
        "), watch how they handle it and review it together within a week.",
    )

    # Ordered by employee_id, date, action, item_id (then kick-offs, debriefs,
    # coaching); every id is taken from its row of ``p``.
    sizes = [len(lead), len(big), len(runs)]
    who = np.concatenate([person[lead], person[big], person[coach_row]])
    date = np.concatenate([kick_date, debrief_date, coach_date]).astype("datetime64[D]")
    parts = ("kickoff", "debrief", "on_the_job_coaching")
    action = np.repeat([ACTIONS.index(a) for a in parts], sizes)
    item_row = np.concatenate([lead, big, coach_item])
    competency_row = np.concatenate([np.full(len(lead), -1), big, coach_row])
    day_key = np.where(np.isnat(date), never, date.view(np.int64))
    item_rank = _ranks(p["item_id"])  # a missing coaching item ranks as missing
    item_key = np.append(item_rank, p["item_id"].nunique())[item_row]
    order = np.lexsort((item_key, action, day_key, who))
    managers = _arrow(_managers(employees, p["employee_id"].iloc[lead]))
    out = pd.DataFrame(
        {
            "employee_id": _text(employee.take(lead[who[order]])),
            "manager_id": _text(managers.take(who[order])),
            "date": date[order].astype("datetime64[s]"),
            "action": _text(pa.array(ACTIONS, _TEXT).take(action[order])),
            "competency_id": _text(
                _take(_arrow(p["competency_id"]), competency_row[order])
            ),
            "item_id": _text(_take(_arrow(p["item_id"]), item_row[order])),
            "description": _text(
                _take_from([kick_text, debrief_text, coach_text], order)
            ),
        }
    )
    return out[list(ACTION_COLUMNS)]


# --------------------------------------------------------------------------- #
# follow-ups
# --------------------------------------------------------------------------- #
def _followup_dates(
    start: np.datetime64, horizon_months: int
) -> tuple[pd.DataFrame, np.datetime64]:
    """Kind, label and planned date of each follow-up, before the weekend rule."""
    end = _horizon_end(start, horizon_months)
    annual = end - np.timedelta64(3, "D")
    rows = [("manager_kickoff", "Kick-off", start)]
    rows += [
        ("checkin", f"{days}-day check-in", start + np.timedelta64(days, "D"))
        for days in CHECKIN_DAYS
    ]
    rows += [
        ("quarterly_review", f"Month-{m} review", _horizon_end(start, m))
        for m in QUARTER_MONTHS
        if m < horizon_months
    ]
    rows = [r for r in rows if r[2] < annual]
    rows.append(("annual_review", "Year-end review", annual))
    table = pd.DataFrame(rows, columns=["kind", "label", "planned"])
    table["event"] = np.arange(len(table))
    return table, end


def followups(
    plans: pd.DataFrame,
    employees: pd.DataFrame,
    *,
    start_date: dt.date,
    horizon_months: int = 12,
    competency_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """A year-ahead follow-up schedule per plan, with agendas and milestones.

    Parameters
    ----------
    plans : DataFrame
        The ``plans`` table of :func:`schedule`.
    employees : DataFrame
        ``employee_id`` and, optionally, ``manager_id``.
    start_date : datetime.date
        First day of the plans.
    horizon_months : int, default=12
        Length of the plans; the annual review closes the horizon.
    competency_names : mapping of str to str or None, default=None
        Display name per ``competency_id`` for the agendas.

    Returns
    -------
    DataFrame
        The contract's ``followups`` table, ordered by ``employee_id, date``:
        ``employee_id, date, kind, with_whom, agenda`` plus ``reminder_on``
        (the day before ``date``) and ``milestone`` (the small success to
        celebrate, e.g. ``Completed: Delegation basics``; may be empty).
        ``kind`` is ``manager_kickoff``, ``checkin``, ``quarterly_review`` or
        ``annual_review``; ``with_whom`` is the line manager's id, or
        ``"mentor/coach"`` for people without one. Dates are
        ``datetime64[s]``.

    Notes
    -----
    Planned dates (domain §7), with a 12-month horizon giving 8 follow-ups
    per employee:

    - ``manager_kickoff``: ``start_date``;
    - ``checkin``: ``start_date`` + 30, 60 and 90 days;
    - ``quarterly_review``: ``start_date`` + 3, 6 and 9 months (those before
      the end of the horizon);
    - ``annual_review``: three days before the end of the horizon
      (``start_date + horizon_months`` months), so that it stays inside the
      horizon even after the weekend rule.

    A follow-up planned on a Saturday or Sunday moves to the following
    Monday. Rows are in date order (from a start in February the month-3
    review comes before the 90-day check-in). The agenda names the plan's
    competencies, the items due since the previous follow-up, the item in
    progress, the next item and the count done (the kick-off: the first
    item); ``milestone`` lists the items due since the previous follow-up
    (``Completed: ...``), else the item under way; the kick-off's is the
    plan agreed and the annual review's the year's count.

    Examples
    --------
    >>> import datetime as dt
    >>> import pandas as pd
    >>> from devplan._schedule import followups
    >>> plans = pd.DataFrame({
    ...     "employee_id": "e1", "step": [1, 2], "item_id": ["c1", "s1"],
    ...     "competency_id": "delegation",
    ...     "start_on": pd.to_datetime(["2026-01-01", "2026-01-26"]),
    ...     "end_on": pd.to_datetime(["2026-01-25", "2026-03-29"]),
    ...     "hours": [8.0, 21.0], "title": ["Delegation basics", "Delegate"],
    ...     "kind": ["course", "stretch_assignment"]})
    >>> employees = pd.DataFrame({"employee_id": ["e1"], "manager_id": [None]})
    >>> events = followups(plans, employees, start_date=dt.date(2026, 1, 1))
    >>> events[["date", "kind", "with_whom"]]
            date              kind     with_whom
    0 2026-01-01   manager_kickoff  mentor/coach
    1 2026-02-02           checkin  mentor/coach
    2 2026-03-02           checkin  mentor/coach
    3 2026-04-01           checkin  mentor/coach
    4 2026-04-01  quarterly_review  mentor/coach
    5 2026-07-01  quarterly_review  mentor/coach
    6 2026-10-01  quarterly_review  mentor/coach
    7 2026-12-29     annual_review  mentor/coach
    >>> events["milestone"].tolist()[:3]
    ['Plan agreed: 2 items, 29 h', 'Completed: Delegation basics (course)',
     'Under way: Delegate (stretch assignment)']
    >>> for sentence in events.loc[1, "agenda"].split(". "):
    ...     print(sentence)
    30-day check-in on delegation
    Due: Delegation basics (course)
    In progress: Delegate (stretch assignment) until 2026-03-29
    Done so far: 1 of 2 items.
    """
    start = _as_day(start_date, "start_date")
    horizon_months = _check_months(horizon_months)
    _check_columns(employees, "employees", ("employee_id",))
    p, person, what = _plan_frame(plans)
    n_people, n_items = _n_people(person), len(p)
    lead = _group_starts(person)  # first item of each person

    # Everyone has the same follow-up dates: order them once.
    slots, _ = _followup_dates(start, horizon_months)
    day = _next_weekday(_days(slots["planned"]))
    order = np.lexsort((slots["event"].to_numpy(), day))
    slots, day = slots.iloc[order].reset_index(drop=True), day[order]
    previous = np.append(start - np.timedelta64(1, "D"), day[:-1])
    n_slots = len(slots)

    # Every follow-up (rows) × every item (columns): due since the previous
    # follow-up, under way, not started yet.
    start_on, end_on = _days(p["start_on"]), _days(p["end_on"])
    on = day[:, None]
    ended = end_on <= on
    due = (end_on > previous[:, None]) & ended
    busy = (start_on <= on) & (end_on > on)
    upcoming = start_on > on
    done = (
        np.add.reduceat(ended, lead, axis=1, dtype=np.int64)
        if n_items
        else np.zeros((n_slots, 0), dtype=np.int64)
    )

    def per_event(mask: np.ndarray, texts: pa.Array, first: bool = False) -> pa.Array:
        """Texts of the items in ``mask``, joined per slot × person.

        Slot-major: slot 0 for every person, then slot 1, ...; ``first``
        keeps only the first item of each.
        """
        cells = np.flatnonzero(mask)
        slot, item = np.divmod(cells, max(n_items, 1))
        event = slot * n_people + person[item]
        if first:
            keep = _group_starts(event)
            event, item = event[keep], item[keep]
        return _join_groups(event, texts.take(item), n_slots * n_people, "; ")

    end_text = _iso_text(end_on)
    due_text = per_event(due, what)
    busy_text = per_event(busy, _cat(what, " until ", end_text))
    busy_what = per_event(busy, what)
    span = _cat(what, " from ", _iso_text(start_on), " to ", end_text)
    next_text = per_event(upcoming, span, first=True)
    done_text = _number_text(done.reshape(-1))

    # Per person.
    comps = _competency_lists(p, person, competency_names)
    count = np.bincount(person, minlength=n_people)
    items = _cat(
        _number_text(count), pa.array(np.where(count == 1, " item", " items"), _TEXT)
    )
    hours = p["hours"].groupby(person).sum().to_numpy()
    agreed = _cat("Plan agreed: ", items, ", ", _number_text(hours), " h")
    first_item = _part(" First item: ", span.take(lead))

    # One slot at a time (each slot has one kind), for all people at once.
    agendas, milestones = [], []
    for j, (kind, label) in enumerate(zip(slots["kind"], slots["label"], strict=True)):
        if kind == "manager_kickoff":
            agendas.append(
                _cat(
                    "Kick-off: agree goals, support and time for ",
                    comps,
                    ".",
                    first_item,
                )
            )
            milestones.append(agreed)
            continue
        due_j, busy_j, next_j, done_j, busy_what_j = (
            text.slice(j * n_people, n_people)
            for text in (due_text, busy_text, next_text, done_text, busy_what)
        )
        if kind == "checkin":
            lead_j = (label, " on ", comps, ".")
        elif kind == "quarterly_review":
            lead_j = (label, " of progress on ", comps, ".")
        else:
            lead_j = (
                "Year-end review of ",
                comps,
                ": compare with the start, re-assess and agree the next plan.",
            )
        agendas.append(
            _cat(
                *lead_j,
                _part(" Due: ", due_j),
                _part(" In progress: ", busy_j),
                _part(" Next: ", next_j),
                " Done so far: ",
                done_j,
                " of ",
                items,
                ".",
            )
        )
        completed = _cat("Completed: ", due_j)
        if kind == "annual_review":
            also = pc.fill_null(_cat("; ", completed), pa.scalar("", _TEXT))
            milestones.append(_cat("Plan year done: ", done_j, " of ", items, also))
        else:
            under_way = _cat("Under way: ", busy_what_j)
            milestones.append(pc.coalesce(completed, under_way, pa.scalar("", _TEXT)))

    # Person-major rows: person 0's follow-ups in date order, then person 1's...
    who = np.repeat(np.arange(n_people), n_slots)
    slot = np.tile(np.arange(n_slots), n_people)
    cell = slot * n_people + who
    dates = day[slot]
    manager = _managers(employees, p["employee_id"].iloc[lead]).fillna(NO_MANAGER)
    return pd.DataFrame(
        {
            "employee_id": _text(_arrow(p["employee_id"]).take(lead[who])),
            "date": dates.astype("datetime64[s]"),
            "kind": _text(pa.array(slots["kind"], _TEXT).take(slot)),
            "with_whom": _text(_arrow(manager).take(who)),
            "agenda": _text(_take_from(agendas, cell)),
            "reminder_on": (dates - np.timedelta64(1, "D")).astype("datetime64[s]"),
            "milestone": _text(_take_from(milestones, cell)),
        }
    )[list(FOLLOWUP_COLUMNS)]


# --------------------------------------------------------------------------- #
# iCalendar
# --------------------------------------------------------------------------- #
def _uid(employee_id: str, kind: str, day: dt.date) -> str:
    text = f"{employee_id}\x1f{kind}\x1f{day.isoformat()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + "@devplan"


def to_ics(events: pd.DataFrame, *, calendar_name: str) -> bytes:
    """Follow-ups as an iCalendar (RFC 5545) calendar.

    Parameters
    ----------
    events : DataFrame
        Rows of the ``followups`` table of :func:`followups`
        (``employee_id, date, kind, agenda``; ``with_whom`` and
        ``milestone`` are used when present).
    calendar_name : str
        Shown by calendar programs (``X-WR-CALNAME`` and ``NAME``).

    Returns
    -------
    bytes
        The calendar, one ``VEVENT`` per row, ordered by date.

    Notes
    -----
    Each follow-up is a 30-minute meeting at 09:00-09:30 in floating local
    time (no time zone: 09:00 wherever the calendar is read), with:

    - ``UID``: a hash of ``employee_id``, ``kind`` and ``date`` plus
      ``@devplan``, so re-importing an updated file updates the events;
    - ``SUMMARY``: the kind in words, the employee and whom it is with;
    - ``DESCRIPTION``: the agenda and the milestone to celebrate;
    - ``DTSTAMP``: midnight UTC of the event's date (not the time of the
      run), so the same follow-ups always give the same bytes;
    - a ``VALARM`` with ``TRIGGER:-P1D``: a reminder the day before.

    Examples
    --------
    >>> import pandas as pd
    >>> import icalendar
    >>> from devplan._schedule import to_ics
    >>> events = pd.DataFrame({
    ...     "employee_id": ["e1"], "date": pd.to_datetime(["2026-02-02"]),
    ...     "kind": ["checkin"], "with_whom": ["m1"],
    ...     "agenda": ["30-day check-in on delegation."],
    ...     "milestone": ["Completed: Delegation basics (course)"]})
    >>> data = to_ics(events, calendar_name="Plan of e1")
    >>> event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    >>> str(event["SUMMARY"]), event.decoded("DTSTART")
    ('Development check-in: e1 with m1', datetime.datetime(2026, 2, 2, 9, 0))
    >>> [str(a["TRIGGER"].to_ical(), "ascii") for a in event.walk("VALARM")]
    ['-P1D']
    """
    import icalendar

    _check_columns(events, "events", ("employee_id", "date", "kind", "agenda"))
    if not isinstance(calendar_name, str) or not calendar_name:
        raise ValueError(
            f"Got calendar_name={calendar_name!r}; expected a non-empty string."
        )
    ev = events.assign(_day=_days(events["date"]))
    ev = ev.sort_values(["_day", "employee_id", "kind"], kind="stable")
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//devplan//development plan follow-ups//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name)
    calendar.add("name", calendar_name)
    has_whom = "with_whom" in ev.columns
    has_milestone = "milestone" in ev.columns
    for row in ev.to_dict("records"):
        day = pd.Timestamp(row["_day"]).date()
        employee, kind = str(row["employee_id"]), str(row["kind"])
        summary = f"{KIND_WORDS.get(kind, _words(pd.Series([kind]))[0])}: {employee}"
        whom = row["with_whom"] if has_whom else None
        if isinstance(whom, str) and whom:
            summary += f" with {whom}"
        description = str(row["agenda"])
        milestone = row["milestone"] if has_milestone else None
        if isinstance(milestone, str) and milestone:
            description += f"\n\nMilestone to celebrate: {milestone}"
        event = icalendar.Event()
        event.add("uid", _uid(employee, kind, day))
        event.add("dtstamp", dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC))
        event.add("dtstart", dt.datetime.combine(day, dt.time(9, 0)))
        event.add("dtend", dt.datetime.combine(day, dt.time(9, 30)))
        event.add("summary", summary)
        event.add("description", description)
        event.add("categories", ["Development plan"])
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Tomorrow: {summary}")
        alarm.add("trigger", dt.timedelta(days=-1))
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()


def _file_part(identifier: str) -> str:
    """An id as a safe file-name part (unsafe ids get a hash suffix)."""
    if _SAFE_NAME.fullmatch(identifier):
        return identifier
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:8]
    return re.sub(r"[^A-Za-z0-9_-]", "_", identifier) + "-" + digest


def write_ics(followups: pd.DataFrame, folder: str | Path) -> list[Path]:
    """Write one calendar per employee and one per manager, atomically.

    Parameters
    ----------
    followups : DataFrame
        The ``followups`` table of :func:`followups`.
    folder : str or Path
        Output folder (created when missing).

    Returns
    -------
    list of Path
        ``employee_<employee_id>.ics`` for every employee (their own
        follow-ups), then ``manager_<manager_id>.ics`` for every manager
        named in ``with_whom`` (all their reports' follow-ups), each sorted.
        Ids that are not safe in a file name are written with ``_`` for the
        unsafe characters and a short hash.

    Notes
    -----
    Each file is written to a temporary file in ``folder`` and moved into
    place with an atomic rename, so a reader sees the old file or the new
    one, never half of it. Follow-ups ``with_whom`` ``"mentor/coach"`` go
    only to the employee's own calendar.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from devplan._schedule import write_ics
    >>> events = pd.DataFrame({
    ...     "employee_id": ["e1", "e2"], "date": pd.to_datetime(["2026-02-02"] * 2),
    ...     "kind": ["checkin", "checkin"], "with_whom": ["m1", "m1"],
    ...     "agenda": ["Check-in.", "Check-in."], "milestone": ["", ""]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [path.name for path in write_ics(events, folder)]
    ['employee_e1.ics', 'employee_e2.ics', 'manager_m1.ics']
    """
    from devplan._bundle import atomic_path

    _check_columns(followups, "followups", ("employee_id", "date", "kind", "agenda"))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ev = followups.assign(employee_id=followups["employee_id"].astype("str"))
    written = []
    for employee, rows in ev.groupby("employee_id", sort=True):
        path = folder / f"employee_{_file_part(str(employee))}.ics"
        data = to_ics(rows, calendar_name=f"Development plan of {employee}")
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        written.append(path)
    if "with_whom" in ev.columns:
        whom = ev["with_whom"].astype("str")
        managed = ev[whom.notna() & (whom != NO_MANAGER) & (whom != "")]
        for manager, rows in managed.groupby("with_whom", sort=True):
            path = folder / f"manager_{_file_part(str(manager))}.ics"
            data = to_ics(
                rows, calendar_name=f"Development follow-ups of {manager}'s team"
            )
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
            written.append(path)
    return written
