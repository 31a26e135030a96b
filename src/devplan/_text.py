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
