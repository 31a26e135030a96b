"""Benchmark plan generation for scored employees with a large catalog.

Builds a synthetic organisation, scores it and assigns tracks (not timed),
then times plan generation, :func:`devplan.build_plans` (item selection,
rationales, scheduling, manager actions, follow-ups, transfer risks and
the per-plan summary; mentor matching switched off), and separately its
main stages, then mentor matching over the whole organisation on its own.
Next to it, a floor measured in the same run: one matrix product of the
employees' competency weights by the catalog's effects plus
``np.argpartition`` of the top 10 items per person. Target: more than
10,000 employees per second at 100,000 employees with a 400-item catalog on
a 2-core machine.

With ``--optimality N`` (default 300; 0 skips) it also compares the greedy
selection with the exact one (HiGHS) on the blocks the recommender builds for
N people sampled from the organisation: the ratio of their objective values
(the piecewise-linear form the exact solver optimises) per person with a
positive optimum. Targets: mean at least 0.98, 1st percentile at least 0.95.

Usage::

    python benchmarks/bench_plans.py --employees 100000 --items 400
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from devplan import (
    CompetencyScorer,
    Config,
    PathRecommender,
    _select,
    assign_tracks,
    build_plans,
    match_mentors,
)
from devplan._plans import (
    _available,
    _rationale,
    _summary,
    default_start_date,
    risk_inputs,
    transfer_risks,
)
from devplan._recommend import _person_state
from devplan._schedule import followups, manager_actions, schedule
from devplan.datasets import make_organisation


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--optimality",
        type=int,
        default=300,
        help="people sampled for the greedy/exact comparison (0 skips)",
    )
    args = parser.parse_args(argv)

    bundle = make_organisation(
        args.employees, random_state=args.seed, n_catalog_items=args.items
    )
    profiles = CompetencyScorer().fit(bundle).profiles(bundle)
    tracks = assign_tracks(bundle, profiles)
    content = bundle.track_content()
    rec = PathRecommender().fit(
        bundle.catalog, competencies=bundle.competencies["competency_id"]
    )
    people = pd.Index(tracks["employee_id"])
    state = _person_state(
        rec, people, profiles, tracks, bundle.employees, content, None
    )
    weights = state["need_weight"] + state["strength"] + state["track_weight"]

    rows = []
    start = time.perf_counter()
    value = weights @ rec.effects_.T
    np.argpartition(-value, 10, axis=1)[:, :10]
    rows.append(("floor: matmul + argpartition", time.perf_counter() - start))

    # the stages alone (for where the time goes)
    start = time.perf_counter()
    selected, unmet = rec.recommend(
        profiles,
        tracks,
        bundle.employees,
        enrolments=bundle.enrolments,
        track_content=content,
    )
    rows.append(("  select items", time.perf_counter() - start))
    start = time.perf_counter()
    names = bundle.competencies.set_index("competency_id")["name"].astype(str)
    selected["rationale"] = _rationale(selected, profiles, names, tracks, 5.0)
    rows.append(("  rationales", time.perf_counter() - start))
    day = default_start_date(bundle)
    start = time.perf_counter()
    plans, _ = schedule(selected, bundle.employees, start_date=day)
    rows.append(("  schedule", time.perf_counter() - start))
    rows.append(("dated plans (the three above)", sum(s for _, s in rows[1:4])))
    start = time.perf_counter()
    manager_actions(plans, bundle.employees, start_date=day)
    followups(plans, bundle.employees, start_date=day)
    rows.append(("  actions + follow-ups", time.perf_counter() - start))
    # the rest of build_plans besides chunking: the per-plan summary (per
    # chunk) and transfer risks (once, over the whole organisation)
    start = time.perf_counter()
    _summary(tracks, plans, selected, unmet, _available(bundle.employees, 12))
    rows.append(("  plan summary", time.perf_counter() - start))
    start = time.perf_counter()
    transfer_risks(plans, *risk_inputs(profiles), bundle.employees, names)
    rows.append(("  transfer risks", time.perf_counter() - start))

    # the whole of plan generation, as generate_plans runs it after scoring,
    # in this process and in worker processes (chunks of 10,000 employees);
    # with workers, the first call also starts them (cold), a second call
    # finds them running (warm: a service or notebook that plans repeatedly)
    # Mentor matching (on by default) is timed on its own after these: it
    # is one assignment over the whole organisation, not per-person planning.
    no_mentoring = Config(mentoring={"enabled": False})
    for n_jobs in args.jobs:
        for when in ("cold", "warm") if n_jobs != 1 else ("",):
            start = time.perf_counter()
            result = build_plans(
                bundle,
                profiles,
                tracks,
                no_mentoring,
                n_jobs=n_jobs,
                chunk_size=10_000,
            )
            label = f"build_plans, {n_jobs} job(s) {when}".rstrip()
            rows.append((label, time.perf_counter() - start))
    start = time.perf_counter()
    matched = match_mentors(
        result.profiles,
        bundle.employees,
        bundle.config,
        plans=result.plans,
        transfer_risks=result.transfer_risks,
        roles=bundle.roles,
        competency_names=names,
    )
    rows.append(("mentor matching (serial)", time.perf_counter() - start))

    n = len(people)
    floor = rows[0][1]
    print(
        f"{n:,} scored employees, {len(rec.items_)} catalog items, "
        f"{len(result.plans):,} plan items, {len(result.followups):,} follow-ups, "
        f"{int(matched['mentor_id'].notna().sum()):,} of {len(matched):,} "
        "mentoring needs matched"
    )
    print(f"{'step':<31} {'seconds':>8} {'employees/s':>13} {'x floor':>8}")
    for name, seconds in rows:
        print(
            f"{name:<31} {seconds:>8.2f} {n / seconds:>13,.0f} {seconds / floor:>8.1f}"
        )
    if args.optimality > 0:
        optimality(rec, bundle, profiles, tracks, args.optimality, args.seed)


def optimality(rec, bundle, profiles, tracks, n_people, seed):
    """Greedy / exact objective ratio on the blocks of ``n_people`` people."""
    rng = np.random.default_rng(seed)
    ids = tracks["employee_id"].to_numpy()
    sample = rng.choice(ids, size=min(n_people, len(ids)), replace=False)
    objective = rec._objective()
    ratios, zero, broken = [], 0, 0
    start = time.perf_counter()
    for _, blk in rec._selection_blocks(
        profiles,
        tracks[tracks["employee_id"].isin(sample)],
        bundle.employees,
        enrolments=bundle.enrolments,
        track_content=bundle.track_content(),
    ):
        greedy = _select.greedy(blk, objective)[0]
        exact = _select.exact(blk, objective)
        g = _select.objective(blk, objective, greedy, pwl=True)
        x = _select.objective(blk, objective, exact, pwl=True)
        # greedy plans outside the strength band (a hard rule)
        lo, hi = objective.band()
        t = np.where(greedy, blk.h, 0.0).sum(axis=1)
        s = np.where(greedy & blk.strong, blk.h, 0.0).sum(axis=1)
        share = np.divide(s, t, out=np.zeros(len(t)), where=t > 0)
        broken += int(
            (blk.band & (t > 0) & ((share < lo - 1e-9) | (share > hi + 1e-9))).sum()
        )
        zero += int((x <= 1e-12).sum())
        ratios.append(g[x > 1e-12] / x[x > 1e-12])
    seconds = time.perf_counter() - start
    ratios = np.concatenate(ratios) if ratios else np.zeros(0)
    print(
        f"\ngreedy / exact objective (pwl), {len(sample)} people sampled, "
        f"{zero} with optimum 0 left out, {broken} greedy plans outside the "
        f"strength band, {seconds:.1f} s"
    )
    print(f"{'people':>7} {'mean':>7} {'p1':>7} {'min':>7}   targets")
    if len(ratios):
        print(
            f"{len(ratios):>7} {ratios.mean():>7.4f} "
            f"{np.percentile(ratios, 1):>7.4f} {ratios.min():>7.4f}   "
            "mean >= 0.98, p1 >= 0.95"
        )


if __name__ == "__main__":
    main()
