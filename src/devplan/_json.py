"""JSON text a column at a time.

``plans.jsonl`` holds about 6 kB of JSON per person (6 GB at 1,000,000
people). Building a Python dict per row and calling
:func:`pydantic_core.to_json` on each plan costs about 0.1 ms per person;
the functions here build the same bytes for whole tables at once with
Arrow's string kernels: each column's values are encoded as JSON texts, the
texts of a row are joined into an object, the objects of a person into a
list.

Every text is what ``to_json`` gives for the value (tested against it on
random tables): strings are escaped as serde_json escapes them (``"``,
``\\`` and control characters; the few strings holding one are encoded by
``to_json`` itself), numbers are formatted by ``to_json`` (its shortest
round-trip form differs from Python's ``repr``, e.g. ``0.00005``), dates are
``"YYYY-MM-DD"`` and missing values (``None``, ``NaN``, ``NaT``) ``null``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic_core import to_json

from devplan._text import TEXT as _TEXT

#: Characters JSON escapes inside a string (serde_json's set, as pydantic).
_ESCAPED = r'[\x00-\x1f"\\]'


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, type=_TEXT)


def _arrow(values) -> pa.Array:
    """``values`` (Series, Index, array) as one Arrow array, or None when
    Arrow cannot hold them in one type (mixed Python objects)."""
    if isinstance(values, pd.Series | pd.Index) and values.dtype.kind == "M":
        if getattr(values.dtype, "tz", None) is not None:
            # the local calendar date, as ``Series.dt.date`` gives it
            values = pd.Series(values).dt.tz_localize(None)
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr


def json_values(values) -> pa.Array:
    """The JSON text of each value, as :func:`pydantic_core.to_json` gives it.

    Parameters
    ----------
    values : Series, Index or array-like
        Strings, numbers, booleans, dates or timestamps (their date is
        encoded), with ``None``, ``NaN`` or ``NaT`` for missing values;
        categorical and Arrow-backed columns too. Anything else is encoded
        value by value with ``to_json``.

    Returns
    -------
    pyarrow.LargeStringArray
        One JSON text per value (missing values: ``null``).

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan._json import json_values
    >>> json_values(pd.Series(['say "hi"', None])).to_pylist()
    ['"say \\\\"hi\\\\""', 'null']
    >>> json_values(pd.Series([0.5, 5e-05, float("nan")])).to_pylist()
    ['0.5', '0.00005', 'null']
    """
    arr = _arrow(values)
    if arr is None:
        # mixed Python objects: one call per value
        return pa.array(
            [to_json(None if _missing(v) else v).decode() for v in values], _TEXT
        )
    kind = arr.type
    if pa.types.is_null(kind):
        text = pa.array(["null"] * len(arr), _TEXT)
    elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        text = _dates(arr)
    elif pa.types.is_boolean(kind):
        text = pc.if_else(arr, _text("true"), _text("false"))
    elif pa.types.is_integer(kind):
        text = arr.cast(_TEXT)
    elif pa.types.is_floating(kind):
        text = _numbers(arr)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = _strings(arr.cast(_TEXT))
    else:
        return pa.array([to_json(v).decode() for v in arr.to_pylist()], _TEXT)
    return pc.fill_null(text, _text("null"))


def _missing(value) -> bool:
    """None, NaN, NaT or NA (what ``Series.notna`` calls missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def _dates(arr: pa.Array) -> pa.Array:
    """The date of each timestamp or date as ``"YYYY-MM-DD"`` (Arrow's cast
    of a date to text, which is ISO 8601 for years 1000 to 9999; other
    years are encoded by ``to_json``)."""
    if pa.types.is_timestamp(arr.type):
        # numpy floors to the day, before 1970 too
        days = arr.to_numpy(zero_copy_only=False).astype("datetime64[D]")
        arr = pa.array(days, pa.date32(), mask=np.isnat(days))
    arr = arr.cast(pa.date32())
    low, high = pc.min_max(arr).values()
    ordinary = low.as_py() is None or (
        low.as_py().year >= 1000 and high.as_py().year <= 9999
    )
    if not ordinary:
        return pa.array([to_json(v).decode() for v in arr.to_pylist()], _TEXT)
    day = arr.cast(_TEXT)
    return pc.binary_join_element_wise(_text('"'), day, _text('"'), _text(""))


def _numbers(arr: pa.Array) -> pa.Array:
    """Floats as ``to_json`` formats them (one call for the whole column:
    numbers hold no comma, so the list's text splits into its values)."""
    if len(arr) == 0:
        return pa.array([], _TEXT)
    arr = pc.if_else(
        pc.is_nan(arr), pa.scalar(None, arr.type), arr
    )  # NaN: null, as None
    inner = to_json(arr.to_pylist())[1:-1]
    return pa.array(inner.split(b","), pa.large_binary()).cast(_TEXT)


def _strings(arr: pa.Array) -> pa.Array:
    """Strings quoted; those holding a character JSON escapes are encoded
    by ``to_json`` itself (few in practice)."""
    quoted = pc.binary_join_element_wise(_text('"'), arr, _text('"'), _text(""))
    escape = pc.fill_null(pc.match_substring_regex(arr, _ESCAPED), False)
    at = np.flatnonzero(escape.to_numpy(zero_copy_only=False))
    if not len(at):
        return quoted
    fixed = [to_json(v).decode() for v in arr.take(pa.array(at)).to_pylist()]
    return pc.replace_with_mask(quoted, escape, pa.array(fixed, _TEXT))


def json_objects(columns: dict[str, object], n: int, *, end: str = "") -> pa.Array:
    """``n`` JSON objects whose fields are ``columns``, in order.

    Parameters
    ----------
    columns : dict of str to Array, str or list
        Each field's JSON texts (:func:`json_values`), one JSON text shared
        by every object, or a list of such parts written one after another
        (:func:`json_lists` gives one).
    n : int
        Number of objects.
    end : str, default=""
        Text after each object (``"\\n"`` for JSON Lines).

    Returns
    -------
    pyarrow.LargeStringArray
        ``{"name":value,...}`` per object, as ``to_json`` gives it for a
        dict with those keys in that order.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan._json import json_objects, json_values
    >>> json_objects({"id": json_values(pd.Series(["a", "b"])),
    ...               "note": "null"}, 2).to_pylist()
    ['{"id":"a","note":null}', '{"id":"b","note":null}']
    """
    return _concat(_object_parts(columns, end), n)


def _object_parts(columns: dict[str, object], end: str) -> list:
    """The parts of an object's text (constants and columns), in order."""
    parts: list = []
    for i, (name, text) in enumerate(columns.items()):
        parts.append(("{" if i == 0 else ",") + to_json(name).decode() + ":")
        parts += text if isinstance(text, list) else [text]
    parts.append(("}" if columns else "{}") + end)
    return parts


def _concat(parts: list, n: int) -> pa.Array:
    """Row-wise concatenation of texts and constants: one pass of Arrow's
    ``binary_join_element_wise`` over all of them."""
    merged: list = []
    for part in parts:  # neighbouring constants as one
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    if not any(isinstance(p, pa.Array) for p in merged):
        return pa.array(["".join(merged)] * n, _TEXT)
    parts = [_text(p) if isinstance(p, str) else p.cast(_TEXT) for p in merged]
    return pc.binary_join_element_wise(*parts, _text(""))


def json_lists(columns: dict[str, object], bounds: np.ndarray) -> list:
    """JSON lists of objects, one list per consecutive run of rows.

    Parameters
    ----------
    columns : dict of str to Array or str
        The objects' fields, as for :func:`json_objects` (one row per
        object, the rows of each list together and in order).
    bounds : array of int
        Increasing positions from 0 to the number of rows, one more than
        there are lists: list ``i`` holds rows ``bounds[i]:bounds[i + 1]``.

    Returns
    -------
    list
        Parts that, written one after another, give ``[{...},{...}]`` per
        list (``[]`` for an empty one): a column of :func:`json_objects`.
        The lists share the objects' buffer (the brackets and commas are
        written with the objects), so the objects' text is built once.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from devplan._json import json_lists, json_objects, json_values
    >>> lists = json_lists({"n": json_values(pd.Series([1, 2, 3]))},
    ...                    np.array([0, 2, 2, 3]))
    >>> json_objects({"rows": lists}, 3).to_pylist()
    ['{"rows":[{"n":1},{"n":2}]}', '{"rows":[]}', '{"rows":[{"n":3}]}']
    """
    bounds = np.asarray(bounds, dtype=np.int64)
    n_rows = int(bounds[-1])
    if n_rows == 0:
        return ["[]"]
    sizes = np.diff(bounds)
    first = np.zeros(n_rows, dtype=bool)
    first[bounds[:-1][sizes > 0]] = True
    last = np.zeros(n_rows, dtype=bool)
    last[bounds[1:][sizes > 0] - 1] = True
    objects = _concat(
        [
            pc.if_else(pa.array(first), _text("["), _text(",")),
            *_object_parts(columns, ""),
            pc.if_else(pa.array(last), _text("]"), _text("")),
        ],
        n_rows,
    )
    # list i is the text of its rows, back to back: a view of the objects
    offsets = np.frombuffer(objects.buffers()[1], dtype=np.int64)[objects.offset :]
    lists = pa.LargeStringArray.from_buffers(
        len(sizes), pa.py_buffer(offsets[bounds].copy()), objects.buffers()[2]
    )
    return [pc.if_else(pa.array(sizes == 0), _text("[]"), _text("")), lists]


def joined_bytes(texts: pa.Array) -> bytes:
    """All texts one after another, as UTF-8 bytes (one copy of Arrow's
    buffer, not one Python object per text).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from devplan._json import joined_bytes
    >>> joined_bytes(pa.array(["a\\n", "b\\n"]))
    b'a\\nb\\n'
    """
    texts = texts.cast(_TEXT)
    if texts.null_count:
        raise ValueError("Got a missing JSON text; expected every value encoded.")
    if len(texts) == 0:
        return b""
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)
    start, stop = offsets[texts.offset], offsets[texts.offset + len(texts)]
    return texts.buffers()[2][start:stop].to_pybytes()
