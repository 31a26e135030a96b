"""Vectorised text helpers shared by the table builders (Arrow, no Python
call per row or per group)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: The Arrow type of generated text (large: a column may exceed 2 GB).
TEXT = pa.large_string()


def join_groups(
    group: np.ndarray, values: pa.Array, n_groups: int, sep: str
) -> pa.Array:
    """``values`` joined with ``sep`` per group ``0 .. n_groups - 1``.

    ``group`` must be sorted; a group without values gives a null. Done by
    Arrow in one pass (no Python call per group).

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from devplan._text import join_groups
    >>> join_groups(np.array([0, 0, 2]), pa.array(["a", "b", "c"]), 3, ";").to_pylist()
    ['a;b', None, 'c']
    """
    counts = np.bincount(group, minlength=n_groups)
    offsets = np.zeros(n_groups + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    lists = pa.ListArray.from_arrays(
        pa.array(offsets), values, mask=pa.array(counts == 0)
    )
    return pc.binary_join(lists, pa.scalar(sep, values.type))


def isin(values, candidates) -> np.ndarray:
    """Boolean mask: which ``values`` are among ``candidates``.

    ``pandas.Series.isin`` on pandas' Arrow-backed ``str`` dtype builds a
    Python set of the candidates and tests each value in Python; this asks
    Arrow (``pyarrow.compute.is_in``), which is two orders of magnitude
    faster on large tables. Missing values match missing candidates, as in
    pandas.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan._text import isin
    >>> isin(pd.Series(["a", "b", None], dtype="str"), {"b", None}).tolist()
    [False, True, True]
    """
    import pandas as pd

    if isinstance(values, pd.Series | pd.Index) and values.dtype == "category":
        # test each category once
        codes = np.asarray(values.array.codes)
        per_category = isin(values.array.categories, candidates)
        return np.append(per_category, isin([None], candidates))[codes]
    found = pc.is_in(
        _arrow_text(values), value_set=_arrow_text(candidates), skip_nulls=False
    )
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _arrow_text(x) -> pa.Array:
    """Any list-like of strings (None or NaN as missing) as Arrow text."""
    import pandas as pd

    if isinstance(x, set | frozenset):
        x = list(x)
    if isinstance(x, pd.Series | pd.Index):
        x = x.astype(object) if x.dtype == "category" else x.array
    if not isinstance(x, pd.api.extensions.ExtensionArray):
        x = np.asarray(x, dtype=object)
    return pa.array(x, type=TEXT, from_pandas=True)
