"""Benchmark the main job end to end: ``devplan plan`` on Parquet bundles.

For each size, a synthetic organisation is written as a Parquet bundle (not
timed; item-level 360 ratings, or competency-level ratings with
``--competency-level`` as used for 1,000,000 employees). Then ``devplan plan
BUNDLE --out OUT --format parquet`` runs in a fresh process per setting
(local engine with 1 and 2 jobs, and the Dask engine on a 2-worker
LocalCluster), timed from start to exit: read → validate → score → tracks →
plans → write. Peak memory is the resident memory of the run's whole
process tree (workers included), sampled every 0.1 s from ``/proc``.

Targets: 100,000 employees with item-level data in under 60 s; 1,000,000
in under 10 minutes and 4 GB with time per employee within 1.5x of that at
10,000; Dask within 1.5x of the local engine at 100,000.

Usage::

    python benchmarks/bench_batch.py --sizes 1000 10000 100000
    python benchmarks/bench_batch.py --sizes 1000000 --competency-level \
        --settings local1 local2 --keep /tmp/benchorgs
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETTINGS = {
    "local1": ["--jobs", "1"],
    "local2": ["--jobs", "2"],
    "dask2": ["--engine", "dask", "--jobs", "2"],
}


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total / 1024


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak memory (MB, summed over the process tree)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_mb(proc.pid))
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, peak


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument(
        "--settings", nargs="+", choices=sorted(SETTINGS), default=list(SETTINGS)
    )
    parser.add_argument("--competency-level", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--chunk-size", type=int, help="employees per chunk (devplan's default)"
    )
    parser.add_argument("--keep", type=Path, help="keep bundles in this folder")
    args = parser.parse_args(argv)

    work = Path(args.keep or tempfile.mkdtemp(prefix="devplan-bench-"))
    devplan = [sys.executable, "-m", "devplan._cli"]
    print(
        f"{'employees':>10} {'setting':<8} {'seconds':>8} {'employees/s':>12} "
        f"{'us/employee':>12} {'peak MB':>8}  stages (s): read, fit, chunks, assemble"
    )
    for n in args.sizes:
        bundle = work / f"org-{n}"
        if not bundle.exists():
            cmd = [*devplan, "sample", "--out", str(bundle), "--employees", str(n)]
            cmd += ["--seed", str(args.seed), "--format", "parquet"]
            if args.competency_level:
                cmd.append("--competency-level")
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        for name in args.settings:
            out = work / f"out-{n}-{name}"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [*devplan, "plan", str(bundle), "--out", str(out)]
            cmd += ["--format", "parquet", "--quiet", *SETTINGS[name]]
            if args.chunk_size:
                cmd += ["--chunk-size", str(args.chunk_size)]
            seconds, peak = run(cmd)
            stages = json.loads((out / "run.json").read_text())["timings_seconds"]
            print(
                f"{n:>10,} {name:<8} {seconds:>8.1f} {n / seconds:>12,.0f} "
                f"{1e6 * seconds / n:>12,.0f} {peak:>8,.0f}  "
                + ", ".join(f"{v:.0f}" for v in stages.values()),
                flush=True,
            )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
