"""Benchmark internal mentor matching on a synthetic organisation.

Builds an organisation, scores it, plans it with matching switched off (not
timed), then times :func:`devplan.match_mentors` over the whole
organisation: needs are the competencies of the plans' mentoring items and
the transfer risks. Prints one row per run: people, needs, candidate
mentors (people flagged ``is_strength`` in a needed competency),
edges kept for the solver, seconds, coverage (share of needs with a
mentor), mean fit, and the objective (transfer-risk needs covered, total
fit), the pairs the solver saw and whether the result is proven optimal.
``k=...`` rows keep at most that many candidates per need, to show what
pruning costs. ``method`` says which solver ran: the exact assignment, or
the greedy when the pairs do not fit in ``max_edges``. Target: matching
100,000 people (400 catalog items) in a few seconds on a 2-core machine.

Usage::

    python benchmarks/bench_mentoring.py --employees 10000 100000 --catalog 400
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from devplan import Config, generate_plans, match_mentors
from devplan.datasets import make_organisation


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, nargs="+", default=[2_000, 10_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--catalog",
        type=int,
        default=None,
        help="catalog items of the synthetic organisation (default: the generator's)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="timed runs per row (the fastest shown)"
    )
    parser.add_argument(
        "--candidates",
        type=int,
        nargs="+",
        default=[0],
        help="candidates_per_need values to run (0: the default rule)",
    )
    args = parser.parse_args(argv)

    header = (
        f"{'people':>7} {'setting':>8} {'needs':>6} {'risk':>6} {'mentors':>8} "
        f"{'pairs':>8} {'method':>10} {'exact':>6} {'seconds':>8} {'coverage %':>10} "
        f"{'mean fit':>9} {'risk met':>9} {'total fit':>10}"
    )
    print(header)
    print("-" * len(header))
    for n in args.employees:
        extra = {} if args.catalog is None else {"n_catalog_items": args.catalog}
        bundle = make_organisation(n, random_state=args.seed, **extra)
        off = bundle.config.model_copy(
            update={"mentoring": Config(mentoring={"enabled": False}).mentoring}
        )
        result = generate_plans(bundle, off)
        settings = [("default" if k == 0 else f"k={k}", k) for k in args.candidates]
        for label, k in settings:
            mentoring = {"candidates_per_need": k} if k else {}
            config = bundle.config.model_copy(
                update={"mentoring": Config(mentoring=mentoring).mentoring}
            )
            times = []
            for _ in range(max(args.repeat, 1)):
                start = time.perf_counter()
                m = match_mentors(
                    result.profiles,
                    bundle.employees,
                    config,
                    plans=result.plans,
                    transfer_risks=result.transfer_risks,
                    roles=bundle.roles,
                )
                times.append(time.perf_counter() - start)
            seconds = min(times)
            method = "greedy" if m.attrs.get("greedy") else "assignment"
            matched = m["mentor_id"].notna()
            strong = result.profiles[
                result.profiles["is_strength"].fillna(False).to_numpy(dtype=bool)
                & result.profiles["competency_id"].isin(m["competency_id"])
            ]["employee_id"].nunique()
            risk = m["transfer_risk"].to_numpy(dtype=bool)
            print(
                f"{n:>7,} {label:>8} {len(m):>6,} {risk.sum():>6,} {strong:>8,} "
                f"{m.attrs['edges']:>8,} {method:>10} "
                f"{'yes' if m.attrs['exact'] else 'no':>6} "
                f"{seconds:>8.2f} {100 * matched.mean():>10.1f} "
                f"{m.loc[matched, 'fit'].mean():>9.3f} "
                f"{int((matched & risk).sum()):>9,} "
                f"{np.nansum(m['fit']):>10.3f}"
            )


if __name__ == "__main__":
    main()
