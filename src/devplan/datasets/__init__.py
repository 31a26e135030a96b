"""Sample data and the synthetic organisation generator.

- :func:`make_organisation` builds a realistic organisation of any size, with
  the ground truth it was simulated from.
- :func:`load_sample` returns the shipped 200-employee sample.
- :func:`load_framework` returns the default manager competency framework.
- :func:`simulate_next_cycle` plays out a plan year and re-assesses everyone.
"""

from devplan.datasets._cycles import simulate_next_cycle
from devplan.datasets._framework import load_framework
from devplan.datasets._generator import (
    OrganisationTruth,
    make_organisation,
    make_tables,
)

#: Size and seed of the shipped sample (``data/samples/demo``).
SAMPLE_EMPLOYEES = 200
SAMPLE_SEED = 2026

__all__ = [
    "SAMPLE_EMPLOYEES",
    "SAMPLE_SEED",
    "OrganisationTruth",
    "load_framework",
    "load_sample",
    "make_organisation",
    "make_tables",
    "simulate_next_cycle",
]


def load_sample(*, return_truth: bool = False):
    """The shipped sample organisation: 200 employees, item-level 360 data.

    The sample is the synthetic organisation of seed :data:`SAMPLE_SEED`; it
    is rebuilt on each call (in well under a second), so it needs no data
    files and always equals the ``data/samples/demo`` bundle of the source
    tree (a test checks that).

    Parameters
    ----------
    return_truth : bool, default=False
        Also return the :class:`OrganisationTruth` it was simulated from.

    Returns
    -------
    Bundle or (Bundle, OrganisationTruth)

    Examples
    --------
    >>> from devplan.datasets import load_sample
    >>> bundle = load_sample()
    >>> len(bundle.employees), bundle.errors.empty
    (200, True)
    """
    return make_organisation(
        SAMPLE_EMPLOYEES, random_state=SAMPLE_SEED, return_truth=return_truth
    )
