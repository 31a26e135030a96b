"""Benchmark reading a bundle whole against streaming its assessments.

Reads and validates one bundle folder in two ways, each in a fresh Python
process so that peak memory is its own: ``read_bundle`` (every table whole)
and ``open_bundle`` followed by one pass over ``assessment_batches()`` whose
batches are dropped as they come (what a streaming job holds at most), next
to ``open_bundle`` alone (the other tables, no assessments read). Prints
wall time, CPU time and peak resident memory (``ru_maxrss``) per way and
repeat. Targets: streaming at default ``batch_rows`` no slower than
``read_bundle``, and peak memory bounded by the batch size, not the file.

Usage::

    python benchmarks/bench_stream.py /tmp/benchorgs/org-100000
    python benchmarks/bench_stream.py FOLDER --batch-rows 1000000 250000 --repeat 2

Without a folder, an organisation of ``--employees`` people is generated and
written as Parquet into a temporary folder first.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import json, resource, sys, time
import devplan

folder, way, batch_rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
wall, cpu = time.perf_counter(), time.process_time()
if way == "read_bundle":
    bundle = devplan.read_bundle(folder)
    rows, kept, errors = (
        bundle.input_rows["assessments"], len(bundle.assessments), len(bundle.errors)
    )
elif way == "open_only":
    streamed = devplan.open_bundle(folder)
    rows, kept, errors = 0, 0, len(streamed.bundle.errors)
else:
    streamed = devplan.open_bundle(folder, batch_rows=batch_rows)
    kept = errors = batches = 0
    parts = []
    for clean, bad in streamed.assessment_batches():
        kept += len(clean)
        parts.append(bad)
        batches += 1
        del clean
    errors = len(streamed.merge_errors(parts))
    rows = streamed.assessment_rows
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": rows, "kept": kept, "errors": errors, "wall": wall,
                  "cpu": cpu, "peak_mib": peak_kib / 1024}))
"""


def _run(folder: Path, way: str, batch_rows: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder), way, str(batch_rows)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--batch-rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)

    folder = args.folder
    if folder is None:
        import devplan
        from devplan.datasets import make_organisation

        folder = Path(tempfile.mkdtemp()) / "bundle"
        bundle = make_organisation(args.employees, random_state=0)
        devplan.write_bundle(bundle, folder, format="parquet")

    ways = [("read_bundle", 0), ("open_only", 0)]
    ways += [("open_bundle", b) for b in args.batch_rows]
    results = []
    for _ in range(args.repeat):
        # interleaved, so that a busy machine slows every way alike
        for way, batch_rows in ways:
            results.append((way, batch_rows, _run(folder, way, batch_rows)))
    rows = results[0][2]["rows"]
    print(f"{folder}: {rows:,} assessment rows")
    print("open_only: open_bundle alone (every table but assessments, no batch read)")
    print(
        f"{'way':<12} {'batch_rows':>10} {'wall s':>8} {'cpu s':>8} "
        f"{'peak MiB':>9} {'kept':>12} {'errors':>8}"
    )
    for way, batch_rows, r in results:
        label = f"{batch_rows:,}" if batch_rows else "-"
        print(
            f"{way:<12} {label:>10} {r['wall']:>8.1f} {r['cpu']:>8.1f} "
            f"{r['peak_mib']:>9,.0f} {r['kept']:>12,} {r['errors']:>8,}"
        )


if __name__ == "__main__":
    main()
