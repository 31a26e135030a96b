"""Columnar JSON text (plans.jsonl): the bytes pydantic's to_json gives."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import to_json

from devplan._json import joined_bytes, json_lists, json_objects, json_values

# text with what JSON must escape (quotes, backslashes, control characters)
# and what it must not (non-ASCII, U+2028, DEL, "/")
TEXT = st.text(
    alphabet=st.sampled_from(list('ab "\\/\n\t\x00\x1f\x7fé€\u2028😀,[]{}:')),
    max_size=12,
)
FLOATS = st.floats(
    allow_nan=False, allow_infinity=False, allow_subnormal=True
) | st.sampled_from([0.00005, 1e-7, 1e16, 1e15, 123456789012345678.0, -0.0, 0.1])
DATES = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


def _expected(values: list) -> list[str]:
    # the reference: to_json value by value (missing as None)
    return [to_json(v).decode() for v in values]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.none() | TEXT, max_size=30), st.booleans())
def test_strings_are_encoded_as_to_json_encodes_them(values, categorical):
    series = pd.Series(values, dtype="category" if categorical else object)
    assert json_values(series).to_pylist() == _expected(values)
    # pandas' own string dtype (Arrow-backed) too
    text = pd.Series(values, dtype="str")
    assert json_values(text).to_pylist() == _expected(values)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.none() | FLOATS, max_size=30))
def test_numbers_are_formatted_as_to_json_formats_them(values):
    # NaN and None are both missing: null
    series = pd.Series([np.nan if v is None else v for v in values], dtype=float)
    assert json_values(series).to_pylist() == _expected(values)
    ints = [int(v) for v in values if v is not None and abs(v) < 2**62]
    assert json_values(pd.Series(ints, dtype="int64")).to_pylist() == _expected(ints)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.none() | DATES, max_size=20))
def test_dates_and_timestamps_are_iso_dates(values):
    assert json_values(pd.Series(values, dtype=object)).to_pylist() == _expected(values)
    ordinary = [v for v in values if v is None or 1700 < v.year < 2200]
    stamps = pd.Series(pd.to_datetime(ordinary)) + pd.Timedelta(hours=23, minutes=59)
    assert json_values(stamps).to_pylist() == _expected(ordinary)


def test_booleans_mixed_objects_and_all_missing():
    assert json_values(pd.Series([True, False])).to_pylist() == ["true", "false"]
    mixed = [1, "x", None, 2.5, float("nan"), dt.date(2026, 3, 1)]
    assert json_values(pd.Series(mixed, dtype=object)).to_pylist() == [
        "1",
        '"x"',
        "null",
        "2.5",
        "null",
        '"2026-03-01"',
    ]
    assert json_values(pd.Series([None, None])).to_pylist() == ["null", "null"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), TEXT, st.none() | FLOATS, st.none() | DATES),
        max_size=25,
    ),
    st.integers(1, 5),
)
def test_lists_of_objects_are_what_to_json_gives_for_lists_of_dicts(rows, people):
    rows = sorted(rows, key=lambda r: r[0] % people)
    owner = np.array([r[0] % people for r in rows], dtype=np.int64)
    frame = pd.DataFrame(
        {
            "name": pd.Series([r[1] for r in rows], dtype=object),
            "gap": pd.Series([np.nan if r[2] is None else r[2] for r in rows]),
            "on": pd.Series([r[3] for r in rows], dtype=object),
        }
    )
    fields = {name: json_values(frame[name]) for name in frame.columns}
    fields["note"] = "null"  # a field no row has: its default
    bounds = np.searchsorted(owner, np.arange(people + 1))
    lines = json_objects(
        {
            "person": json_values(pd.Series(range(people))),
            "rows": json_lists(fields, bounds),
        },
        people,
        end="\n",
    )
    expected = [
        to_json(
            {
                "person": p,
                "rows": [
                    {"name": r[1], "gap": r[2], "on": r[3], "note": None}
                    for r in rows
                    if r[0] % people == p
                ],
            }
        )
        + b"\n"
        for p in range(people)
    ]
    assert joined_bytes(lines) == b"".join(expected)
    assert lines.cast(pa.large_binary()).to_pylist() == expected


def test_a_missing_text_is_refused():
    with pytest.raises(ValueError, match="missing JSON text"):
        joined_bytes(pa.array(["{}", None]))
