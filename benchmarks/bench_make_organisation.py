"""Benchmark the synthetic organisation generator.

Each size runs in a fresh subprocess so that the peak resident memory
(``resource.getrusage``) belongs to that size alone.

Usage::

    python benchmarks/bench_make_organisation.py --sizes 1000 10000 100000
    python benchmarks/bench_make_organisation.py --sizes 100000 --validate
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_CHILD = """
import json, resource, sys, time
from devplan.datasets import make_tables
n, seed, validate = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
start = time.perf_counter()
tables, truth = make_tables(n, random_state=seed)
seconds = time.perf_counter() - start
result = {"n": n, "seconds": seconds, "rows": len(tables["assessments"])}
if validate:
    from devplan._bundle import Bundle
    start = time.perf_counter()
    bundle = Bundle.from_frames(**tables)
    result["validate_seconds"] = time.perf_counter() - start
    result["errors"] = len(bundle.errors)
result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def run(n: int, seed: int, validate: bool) -> dict:
    """Time ``make_tables(n)`` (and optionally validation) in a subprocess."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n), str(seed), "1" if validate else "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--validate",
        action="store_true",
        help="also time Bundle.from_frames on the generated tables",
    )
    args = parser.parse_args(argv)

    header = (
        f"{'n_employees':>11} {'seconds':>8} {'rows':>12} {'peak MB':>8} {'rows/s':>12}"
    )
    if args.validate:
        header += f" {'validate s':>10} {'errors':>6}"
    print(header)
    for n in args.sizes:
        r = run(n, args.seed, args.validate)
        line = (
            f"{r['n']:>11,} {r['seconds']:>8.2f} {r['rows']:>12,} "
            f"{r['peak_mb']:>8.0f} {r['rows'] / r['seconds']:>12,.0f}"
        )
        if args.validate:
            line += f" {r['validate_seconds']:>10.2f} {r['errors']:>6}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
