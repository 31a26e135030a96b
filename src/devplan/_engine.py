"""Chunked runs: score → tracks → plans for chunks of employees, anywhere.

Norms, rater leniency and the catalog are fitted once on the whole bundle;
after that every employee's profile, track and plan depend only on their own
rows, so employees are cut into chunks that run one after another, in
parallel processes (joblib) or as tasks on a Dask cluster, with identical
results. Transfer risks, which look across the organisation (a manager's
needs, coaches' strengths), and mentor matching, which assigns mentors
across the whole organisation, are computed once all chunks are in.

Data flow: bundle → fitted scorer and recommender → chunks (sub-bundles) →
per-chunk tables → combined :class:`PlanResult`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from devplan._bundle import Bundle
from devplan._config import Config
from devplan._mentoring import empty_mentoring, match_mentors, mentor_plan_rows
from devplan._plans import (
    PlanResult,
    coaches_from_mentors,
    default_start_date,
    plan_tables,
    risk_inputs,
    transfer_risks,
)
from devplan._recommend import PathRecommender, _positions
from devplan._scoring import CompetencyScorer, summarise_profiles
from devplan._tracks import assign_tracks

ENGINES = ("local", "dask")
#: Employees per chunk unless told otherwise.
DEFAULT_CHUNK_SIZE = 20_000
#: Tables every chunk returns, in output order.
CHUNK_TABLES = (
    "profiles",
    "tracks",
    "plans",
    "followups",
    "manager_actions",
    "unmet_needs",
    "plan_summary",
)


#: Profile columns that plan building reads (selection, rationales, risks).
PLANNING_COLUMNS = (
    "employee_id",
    "competency_id",
    "score",
    "percentile",
    "others_score",
    "required_level",
    "importance",
    "gap",
    "is_need",
    "is_strength",
)


@dataclasses.dataclass
class Shared:
    """What every chunk needs, fitted once on the whole bundle."""

    scorer: CompetencyScorer | None
    recommender: PathRecommender
    config: Config
    start_date: object


def chunk_work(
    chunk: Bundle, shared: Shared, profiles=None, tracks=None, *, summarise=False
) -> dict:
    """Profiles, tracks and plan tables of one chunk of employees.

    Parameters
    ----------
    chunk : Bundle
        The chunk's employees with their assessments and enrolments; the
        other tables whole.
    shared : Shared
        Fitted scorer (unused when ``profiles`` is given), recommender,
        config and start date.
    profiles, tracks : DataFrame or None, default=None
        Already scored profiles and tracks of the chunk's employees.

    summarise : bool, default=False
        Also return ``profile_summary`` (one row per employee).

    Returns
    -------
    dict of str to DataFrame
        :data:`CHUNK_TABLES` (without ``profiles`` and ``tracks`` when they
        were given) plus ``weak`` and ``strong`` (see
        :func:`devplan._plans.risk_inputs`).
    """
    tables = {}
    if profiles is None:
        profiles = shared.scorer.profiles(chunk)
        tracks = assign_tracks(chunk, profiles, shared.config)
        # given profiles and tracks are not sent back
        tables = {"profiles": profiles, "tracks": tracks}
    tables.update(
        plan_tables(
            chunk,
            profiles,
            tracks,
            shared.config,
            shared.recommender,
            shared.start_date,
        )
    )
    tables["weak"], tables["strong"] = risk_inputs(profiles)
    if summarise:
        tables["profile_summary"] = summarise_profiles(
            profiles, agreement_threshold=shared.config.scoring.agreement_threshold
        )
    return tables


class _Rows:
    """Rows of a table grouped by employee position, for cheap slicing."""

    def __init__(self, table: pd.DataFrame, people: pd.Index):
        pos = _positions(people, table["employee_id"])
        order = np.argsort(pos, kind="stable")
        self.table = table
        self.order = order
        self.pos = pos[order]

    def take(self, start: int, stop: int) -> pd.DataFrame:
        lo, hi = np.searchsorted(self.pos, [start, stop])
        return self.table.iloc[np.sort(self.order[lo:hi])]


def iter_chunks(bundle: Bundle, chunk_size: int, profiles=None, tracks=None):
    """Cut a bundle into chunks of ``chunk_size`` employees, in order.

    Yields ``(chunk, profiles, tracks)``; the last two are None unless
    given for the whole bundle.
    """
    employees = bundle.employees
    people = pd.Index(employees["employee_id"].astype(str))
    if people.has_duplicates:
        raise ValueError(
            "Got a bundle with repeated employee_id values; expected a "
            "validated bundle (read_bundle or Bundle.from_frames)."
        )
    size = max(int(chunk_size), 1)
    # planning from given profiles needs no ratings
    names = ("assessments", "enrolments") if profiles is None else ("enrolments",)
    split = {name: _Rows(getattr(bundle, name), people) for name in names}
    given = None
    if profiles is not None:
        given = (_Rows(profiles, people), _Rows(tracks, people))
    for start in range(0, max(len(people), 1), size):
        stop = min(start + size, len(people))
        chunk = dataclasses.replace(
            bundle,
            employees=employees.iloc[start:stop],
            assessments=(
                split["assessments"].take(start, stop)
                if "assessments" in split
                else bundle.assessments.iloc[:0]
            ),
            enrolments=split["enrolments"].take(start, stop),
            errors=bundle.errors.iloc[:0],
        )
        if given is None:
            yield chunk, None, None
        else:
            yield chunk, given[0].take(start, stop), given[1].take(start, stop)


def run_chunks(
    work: Callable,
    tasks,
    *,
    n_jobs: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
) -> Iterator:
    """Run ``work(*task)`` for every task; yield results in task order.

    ``engine="local"`` runs in this process (``n_jobs=1``) or in ``n_jobs``
    joblib worker processes; ``engine="dask"`` submits the tasks to the Dask
    cluster at ``scheduler`` (``tcp://host:port``), or to a local
    ``distributed.LocalCluster`` of ``n_jobs`` single-threaded worker
    processes when no address is given. At most twice the number of
    workers tasks are in flight, so memory stays bounded by chunk size.
    """
    if engine not in ENGINES:
        raise ValueError(f"Got engine={engine!r}; expected one of {ENGINES}.")
    if engine == "local":
        if n_jobs == 1:
            for task in tasks:
                yield work(*task)
            return
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_jobs, return_as="generator")
        yield from parallel(delayed(work)(*task) for task in tasks)
        return
    yield from _run_dask(work, tasks, n_jobs=n_jobs, scheduler=scheduler)


def _run_dask(work, tasks, *, n_jobs, scheduler):
    try:
        from distributed import Client, LocalCluster, wait
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ValueError(
            "Got engine='dask', but dask.distributed is not installed; "
            "install it with: pip install 'devplan[dask]'."
        ) from exc

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=max(n_jobs, 1) if n_jobs > 0 else None,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        window = 2 * max(len(client.scheduler_info()["workers"]), 1)
        pending = []
        tasks = iter(tasks)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < window:
                task = next(tasks, None)
                if task is None:
                    exhausted = True
                    break
                pending.append(client.submit(work, *task, pure=False))
            if pending:
                # results in task order: wait for the oldest
                wait([pending[0]])
                yield pending.pop(0).result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def combine(
    parts: list[dict], bundle: Bundle, shared: Shared, given: dict | None = None
) -> PlanResult:
    """One :class:`PlanResult` from the chunks' tables, with transfer risks.

    ``given`` holds the profiles and tracks the chunks were given (they do
    not come back from the chunks).
    """
    given = given or {}
    tables = {
        name: given[name]
        if name in given
        else pd.concat([p[name] for p in parts], ignore_index=True)
        for name in (*CHUNK_TABLES, "weak", "strong")
    }
    names = bundle.competencies.set_index("competency_id")["name"].astype(str)
    risks = transfer_risks(
        tables["plans"], tables["weak"], tables["strong"], bundle.employees, names
    )
    plans, summary, mentoring = tables["plans"], tables["plan_summary"], None
    config = shared.config
    if config.mentoring.enabled:
        # organisation-wide, so once all chunks are in
        mentoring = match_mentors(
            tables["profiles"],
            bundle.employees,
            config,
            plans=plans,
            transfer_risks=risks,
            roles=bundle.roles,
            competency_names=names,
        )
        risks = coaches_from_mentors(risks, mentoring, names)
        plans, summary = mentor_plan_rows(
            plans,
            summary,
            mentoring,
            start_date=shared.start_date,
            horizon_months=config.plan.horizon_months,
            mentor_hours=config.mentoring.mentor_hours,
            scale_max=config.scale_max,
            competency_names=names,
        )
    return PlanResult(
        profiles=tables["profiles"],
        tracks=tables["tracks"],
        plans=plans,
        followups=tables["followups"],
        manager_actions=tables["manager_actions"],
        transfer_risks=risks,
        unmet_needs=tables["unmet_needs"],
        plan_summary=summary,
        errors=bundle.errors,
        start_date=shared.start_date,
        horizon_months=shared.config.plan.horizon_months,
        config=shared.config,
        mentoring=empty_mentoring() if mentoring is None else mentoring,
    )


def prepare(
    bundle: Bundle,
    config: Config | None = None,
    *,
    scorer: CompetencyScorer | None = None,
    item_effects: pd.DataFrame | None = None,
    need_scorer: bool = True,
    start_date=None,
) -> Shared:
    """Fit what every chunk shares: norms (unless given) and the catalog.

    ``start_date`` overrides the plan start (by default the configured one,
    else the month after the bundle's latest rating)."""
    config = config or bundle.config
    if need_scorer and scorer is None:
        scorer = CompetencyScorer.from_config(config).fit(bundle)
    recommender = PathRecommender.from_config(config).fit(
        bundle.catalog,
        competencies=bundle.competencies["competency_id"],
        item_effects=item_effects,
    )
    start = start_date or config.plan.start_date or default_start_date(bundle)
    return Shared(
        scorer=scorer, recommender=recommender, config=config, start_date=start
    )


def _check(n_jobs, chunk_size, engine):
    if engine not in ENGINES:
        raise ValueError(f"Got engine={engine!r}; expected one of {ENGINES}.")
    if not isinstance(n_jobs, int | np.integer) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(
            f"Got n_jobs={n_jobs!r}; expected a positive integer or -1 (all cores)."
        )
    if chunk_size is not None and (
        not isinstance(chunk_size, int | np.integer) or chunk_size < 1
    ):
        raise ValueError(f"Got chunk_size={chunk_size!r}; expected an integer >= 1.")


def generate_plans(
    bundle: Bundle,
    config: Config | None = None,
    *,
    scorer: CompetencyScorer | None = None,
    item_effects: pd.DataFrame | None = None,
    n_jobs: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    chunk_size: int | None = None,
) -> PlanResult:
    """Score, assign tracks and build a dated development plan for everyone.

    Parameters
    ----------
    bundle : Bundle
        A validated bundle.
    config : Config or None, default=None
        Settings; ``None`` uses the bundle's.
    scorer : CompetencyScorer or None, default=None
        A fitted scorer (for example last year's norms); ``None`` fits one on
        the bundle.
    item_effects : DataFrame or None, default=None
        ``item_id, competency_id, effect`` replacing default catalog effects.
    n_jobs : int, default=1
        Worker processes (-1: all cores) for the chunks.
    engine : {"local", "dask"}, default="local"
        Where chunks run: this machine (joblib) or a Dask cluster.
    scheduler : str or None, default=None
        Dask scheduler address (``tcp://host:port``); ``None`` starts a
        ``LocalCluster`` of ``n_jobs`` workers for the run.
    chunk_size : int or None, default=None
        Employees per chunk (default 20,000). Results do not depend on it.

    Returns
    -------
    PlanResult

    Examples
    --------
    >>> import devplan
    >>> result = devplan.generate_plans(devplan.datasets.load_sample())
    >>> sorted(result.tables)[:4]
    ['errors', 'followups', 'manager_actions', 'mentoring']
    >>> result.plan("E000008").employee_id
    'E000008'
    """
    _check(n_jobs, chunk_size, engine)
    shared = prepare(bundle, config, scorer=scorer, item_effects=item_effects)
    tasks = (
        (chunk, shared)
        for chunk, _, _ in iter_chunks(bundle, chunk_size or DEFAULT_CHUNK_SIZE)
    )
    parts = list(
        run_chunks(chunk_work, tasks, n_jobs=n_jobs, engine=engine, scheduler=scheduler)
    )
    return combine(parts, bundle, shared)


def build_plans(
    bundle: Bundle,
    profiles: pd.DataFrame,
    tracks: pd.DataFrame,
    config: Config | None = None,
    *,
    item_effects: pd.DataFrame | None = None,
    n_jobs: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    chunk_size: int | None = None,
) -> PlanResult:
    """Build everyone's plan from scored profiles and assigned tracks.

    The planning half of :func:`generate_plans`: select items, explain them,
    schedule them, add manager actions, follow-ups and transfer risks.

    Parameters
    ----------
    bundle : Bundle
        A validated bundle (employees, roles, catalog, enrolments).
    profiles : DataFrame
        The ``profiles`` table, as :meth:`CompetencyScorer.profiles` makes it.
    tracks : DataFrame
        The ``tracks`` table, as :func:`assign_tracks` makes it; one plan per
        employee in it.
    config : Config or None, default=None
        Settings; ``None`` uses the bundle's.
    item_effects : DataFrame or None, default=None
        ``item_id, competency_id, effect`` replacing default catalog effects.
    n_jobs, engine, scheduler, chunk_size
        As in :func:`generate_plans`.

    Returns
    -------
    PlanResult

    Examples
    --------
    >>> from devplan import CompetencyScorer, assign_tracks, build_plans
    >>> from devplan.datasets import load_sample
    >>> b = load_sample()
    >>> profiles = CompetencyScorer().fit(b).profiles(b)
    >>> result = build_plans(b, profiles, assign_tracks(b, profiles))
    >>> len(result.plan_summary)
    200
    """
    _check(n_jobs, chunk_size, engine)
    shared = prepare(bundle, config, item_effects=item_effects, need_scorer=False)
    ids = pd.Index(pd.unique(tracks["employee_id"].astype(str)))
    in_tracks = _positions(ids, bundle.employees["employee_id"]) >= 0
    planned = dataclasses.replace(bundle, employees=bundle.employees[in_tracks])
    # chunks carry only the profile columns planning reads
    needed = [c for c in PLANNING_COLUMNS if c in profiles.columns]
    tasks = (
        (chunk, shared, p, t)
        for chunk, p, t in iter_chunks(
            planned, chunk_size or DEFAULT_CHUNK_SIZE, profiles[needed], tracks
        )
    )
    parts = list(
        run_chunks(chunk_work, tasks, n_jobs=n_jobs, engine=engine, scheduler=scheduler)
    )
    return combine(parts, bundle, shared, {"profiles": profiles, "tracks": tracks})
