"""The default manager competency framework, shipped as CSV package data."""

from __future__ import annotations

import functools
from importlib import resources

import pandas as pd

_FILES = {
    "competencies": "framework_competencies.csv",
    "items": "framework_items.csv",
    "track_competencies": "track_competencies.csv",
}


@functools.cache
def _read(name: str) -> pd.DataFrame:
    source = resources.files("devplan") / "datasets" / "data" / _FILES[name]
    with source.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, dtype="str", keep_default_na=False)
    frame = frame.replace("", pd.NA)
    if name == "items":
        frame["reverse_keyed"] = (
            frame["reverse_keyed"].str.lower().eq("true").astype("boolean")
        )
    if name == "track_competencies":
        frame["weight"] = frame["weight"].astype("float64")
    return frame


def load_framework() -> dict[str, pd.DataFrame]:
    """Load the default manager competency framework.

    The framework covers the themes of the three manager tracks (new,
    struggling and high-potential managers) in three clusters: leading self,
    leading others and leading the business.

    Returns
    -------
    dict of str to DataFrame
        ``"competencies"``: competency_id, name, cluster, description (one row
        per competency, the ``competencies`` input table).
        ``"items"``: item_id, competency_id, text, reverse_keyed (2-4
        behavioural questionnaire items per competency, the ``items`` input
        table; ``reverse_keyed`` is a pandas ``boolean``).
        ``"track_competencies"``: track, competency_id, weight (the core
        content of each track, weight between 0 and 1).

        Each call returns fresh copies that the caller may modify.

    Examples
    --------
    >>> from devplan.datasets import load_framework
    >>> framework = load_framework()
    >>> sorted(framework)
    ['competencies', 'items', 'track_competencies']
    >>> framework["competencies"].loc[0, "competency_id"]
    'self_awareness'
    >>> framework["items"].groupby("competency_id").size().between(2, 4).all()
    np.True_
    """
    return {name: _read(name).copy() for name in _FILES}
