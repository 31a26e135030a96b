"""Benchmark the synthetic organisation generator.

``make_organisation`` = ``make_tables`` (simulation) + ``Bundle.from_frames``
(validation); both are timed and the total is what a user waits for (target:
under 60 s for 100,000 employees on a 2-core machine). Each size runs in a
fresh subprocess so that the peak resident memory (``resource.getrusage``)
belongs to that size alone.

Usage::

    python benchmarks/bench_make_organisation.py --sizes 1000 10000 100000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_CHILD = """
import json, resource, sys, time
from devplan.datasets import make_tables
n, seed = int(sys.argv[1]), int(sys.argv[2])
start = time.perf_counter()
tables, truth = make_tables(n, random_state=seed)
seconds = time.perf_counter() - start
result = {"n": n, "seconds": seconds, "rows": len(tables["assessments"])}
from devplan._bundle import Bundle
start = time.perf_counter()
bundle = Bundle.from_frames(**tables)
result["validate_seconds"] = time.perf_counter() - start
result["errors"] = len(bundle.errors)
result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def run(n: int, seed: int) -> dict:
    """Time ``make_tables(n)`` and its validation in a subprocess."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n), str(seed)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    print(
        f"{'n_employees':>11} {'simulate s':>10} {'validate s':>10} {'total s':>8} "
        f"{'ratings':>12} {'ratings/s':>11} {'peak MB':>8} {'errors':>6}"
    )
    for n in args.sizes:
        r = run(n, args.seed)
        total = r["seconds"] + r["validate_seconds"]
        print(
            f"{r['n']:>11,} {r['seconds']:>10.2f} {r['validate_seconds']:>10.2f} "
            f"{total:>8.2f} {r['rows']:>12,} {r['rows'] / total:>11,.0f} "
            f"{r['peak_mb']:>8.0f} {r['errors']:>6}",
            flush=True,
        )


if __name__ == "__main__":
    main()
