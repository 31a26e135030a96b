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
    assign_tracks,
    build_plans,
    match_mentors,
)
from devplan._plans import (
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
    _summary(tracks, plans, selected, unmet)
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


if __name__ == "__main__":
    main()
