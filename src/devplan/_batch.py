"""Batch runs into an output folder: chunked, resumable, crash safe.

``run_batch`` is what ``devplan plan`` does, as one Python call. The run:

1. reads and validates the bundle (a broken bundle stops here, before any
   work, with :class:`BundleError`);
2. fits norms and the catalog once (:func:`devplan._engine.prepare`);
3. runs the chunks of employees (locally or on Dask); each chunk's tables
   are written as Arrow IPC parts into a staging folder
   ``OUT/.devplan-run/``, with a marker once a chunk is complete;
4. assembles the final files from the parts, chunk by chunk (memory stays
   bounded by the chunk size), in ``.devplan-run/final/``: the
   organisation-wide transfer risks and mentor matches, the tables in the
   requested format, and ``plans.jsonl``, written chunk by chunk from the
   final tables (:meth:`devplan.PlanResult.jsonl_bytes`);
5. commits: a journal lists the files, each one is moved into ``OUT`` with
   an atomic rename, then the journal and the staging folder go.

A run killed before step 5 leaves the previous outputs untouched; one killed
during step 5 is rolled forward by the next run in that folder (every staged
file is complete), so ``OUT`` never holds a half-written file. ``resume``
skips the chunks an interrupted run completed, provided the inputs, settings
and chunk size are the same.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import dataclasses
import gc
import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

from devplan import _scoring
from devplan._blocks import AssessmentBlocks
from devplan._bundle import (
    atomic_path,
    file_hashes,
    merge_errors,
    open_bundle,
    write_table,
)
from devplan._calibration import _ordered as _ordered_calibration
from devplan._calibration import calibration
from devplan._config import Config, load_config
from devplan._engine import (
    CHUNK_TABLES,
    DEFAULT_CHUNK_SIZE,
    ENGINES,
    _check,
    chunk_work,
    iter_chunks,
    prepare,
    run_chunks,
)
from devplan._mentoring import _positions, match_mentors, mentor_plan_rows, plan_hours
from devplan._plans import (
    PlanResult,
    coaches_from_mentors,
    start_after,
    transfer_risks,
)
from devplan._scoring import CompetencyScorer
from devplan._text import isin
from devplan._validate import drop_unused_categories

STAGING = ".devplan-run"
#: Lock file held by the run writing into an output folder.
LOCK = ".devplan-run.lock"
FORMATS = ("csv", "parquet")
#: Parts kept per chunk beyond the plan tables: transfer-risk inputs, the
#: per-employee profile summary and the calibration rows.
_EXTRA_PARTS = ("weak", "strong", "profile_summary", "calibration")
#: How chunk parts are stored (part of the resume fingerprint: a run of
#: another layout is started afresh, not resumed).
_PART_FORMAT = "arrow-ipc-lz4"
_DEVELOPING_COLUMNS = ["employee_id", "competency_id", "purpose"]
#: Plan columns mentor matching reads (needs, item dates, planned hours).
_MENTORING_PLAN_COLUMNS = [
    "employee_id",
    "competency_id",
    "purpose",
    "kind",
    "item_id",
    "step",
    "start_on",
    "end_on",
    "hours",
]
#: Profile columns mentor matching reads.
_MENTORING_PROFILE_COLUMNS = [
    "employee_id",
    "competency_id",
    "score",
    "is_strength",
    "confidence",
    "required_level",
    "scored",
    "n_raters",
    "percentile",
    "others_score",
]


@dataclass
class RunReport:
    """What a batch run did: counts, timings, files, and the check that
    nothing was lost.

    Attributes
    ----------
    out : Path
        The output folder.
    files : list of str
        Files and folders written into ``out``.
    counts : dict
        Input rows per table, employees in, with a plan, with no plan (and
        why: ``no_plan_reasons``, reason to count) and in ``errors``, plan
        items, follow-ups, unmet needs, error rows.
    nothing_lost : bool
        Employees in = employees with a plan + employees with no plan +
        employees in ``errors``.
    timings : dict of str to float
        Seconds per stage.
    chunks : int
        Chunks in the run; ``resumed`` of them came from an earlier run.
    """

    out: Path
    files: list[str]
    counts: dict
    nothing_lost: bool
    timings: dict
    chunks: int
    resumed: int = 0
    summary_lines: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A one-screen summary of the run."""
        return "\n".join(self.summary_lines)


def run_batch(
    bundle: str | Path,
    out: str | Path,
    *,
    config: Config | str | Path | None = None,
    n_jobs: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    format: str = "csv",
    excel: bool = False,
    ics: bool = False,
    resume: bool = False,
    chunk_size: int | None = None,
    progress: bool | None = None,
    item_effects=None,
    html: bool = False,
    html_employees: bool = False,
) -> RunReport:
    """Plan a whole organisation from a bundle folder into an output folder.

    Parameters
    ----------
    bundle : str or Path
        Bundle folder (CSV, Parquet or ``bundle.xlsx``).
    out : str or Path
        Output folder; created if missing. Earlier outputs stay intact until
        the new ones are complete.
    config : Config, str, Path or None, default=None
        Settings, or a ``devplan.toml``; ``None`` reads the bundle's own.
    n_jobs : int, default=1
        Worker processes (local engine) or workers of a new LocalCluster
        (Dask engine without ``scheduler``).
    engine : {"local", "dask"}, default="local"
        Where chunks run.
    scheduler : str or None, default=None
        Address of a running Dask scheduler (``tcp://host:port``).
    format : {"csv", "parquet"}, default="csv"
        Format of the output tables.
    excel : bool, default=False
        Also write ``devplan.xlsx`` (one sheet per table).
    ics : bool, default=False
        Also write ``calendar/`` with one iCalendar file per employee and
        per manager.
    resume : bool, default=False
        Continue an interrupted run in ``out`` from its last completed
        chunk (only when inputs, settings and chunk size are unchanged).
    chunk_size : int or None, default=None
        Employees per chunk (default 20,000); peak memory grows with it.
    progress : bool or None, default=None
        Show a progress bar on stderr; ``None``: only when stderr is a
        terminal.
    item_effects : DataFrame, str, Path or None, default=None
        Item effects (``item_id, competency_id, effect``, e.g. learned with
        :func:`devplan.learn_item_effects`) replacing the catalog defaults,
        or a CSV/Parquet file of them. Their hash joins the inputs in
        ``run.json`` (a resumed run must use the same).
    html : bool, default=False
        Also write ``html/``: the organisation report and one report per
        manager (:func:`devplan.write_reports`).
    html_employees : bool, default=False
        Also write one HTML report per employee into ``html/employees/``
        (implies ``html``; about 0.5 s of CPU per employee, spread
        over ``n_jobs`` processes).

    Returns
    -------
    RunReport

    Raises
    ------
    BundleError
        The bundle cannot be used at all (nothing is written).

    Examples
    --------
    >>> import tempfile
    >>> from devplan._batch import run_batch
    >>> out = tempfile.mkdtemp()
    >>> report = run_batch("data/samples/demo", out, progress=False)
    >>> c = report.counts
    >>> report.nothing_lost, c["employees_with_a_plan"], c["employees_without_a_plan"]
    (True, 200, 0)
    """
    from devplan import __version__

    if format not in FORMATS:
        raise ValueError(f"Got format={format!r}; expected one of {FORMATS}.")
    _check(n_jobs, chunk_size, engine)
    size = int(chunk_size or DEFAULT_CHUNK_SIZE)
    bundle_path, out = Path(bundle), Path(out)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    # nothing in ``out`` is touched before the bundle is known to be usable
    if isinstance(config, Config):
        cfg = config
    else:
        cfg = load_config(config, bundle=bundle_path)
    # every table but the ratings is read and validated here; the ratings
    # are read in batches below (only their header is checked here)
    stream = open_bundle(bundle_path, config=cfg)
    data = stream.bundle
    _release_memory()
    hashes = file_hashes(bundle_path)
    if item_effects is not None:
        item_effects, hashes["item_effects"] = _item_effects(item_effects)
    timings["read_and_validate"] = time.perf_counter() - clock
    out.mkdir(parents=True, exist_ok=True)
    staging = out / STAGING
    with _exclusive(out):
        _roll_forward(out, staging)
        fingerprint = _fingerprint(__version__, hashes, cfg, size)
        done = _start_staging(staging, fingerprint, resume)
        clock = time.perf_counter()
        blocks, data = _split_assessments(staging, stream, resume)
        _release_memory()
        timings["read_and_validate"] += time.perf_counter() - clock
        clock = time.perf_counter()
        scorer = _fitted_scorer(staging, blocks, data, cfg, resume)
        shared = prepare(
            data,
            cfg,
            scorer=scorer,
            item_effects=item_effects,
            start_date=_start_date(cfg, blocks),
        )
        _release_memory()
        timings["fit_norms"] = time.perf_counter() - clock

        clock = time.perf_counter()
        n_people = len(data.employees)
        n_chunks = max(-(-n_people // size), 1)
        pending = [k for k in range(n_chunks) if k not in done]
        bar = _progress_bar(n_people, progress)
        bar.update(sum(_chunk_len(k, size, n_people) for k in done))
        todo = set(pending)
        tasks = (
            (staging, k)
            + _chunk_task(chunk, blocks.rows(k * size, (k + 1) * size), shared)
            for k, (chunk, _, _) in enumerate(iter_chunks(data, size))
            if k in todo
        )
        # local workers write their parts into staging themselves; Dask
        # workers may not share this disk, so their tables come back here
        work = _chunk_written if engine == "local" else _chunk_returned
        results = run_chunks(
            work, tasks, n_jobs=n_jobs, engine=engine, scheduler=scheduler
        )
        for k, tables in zip(pending, results, strict=True):
            if tables is not None:
                _write_part(staging, k, tables)
            del tables
            _release_memory()
            bar.update(_chunk_len(k, size, n_people))
        bar.close()
        del blocks, tasks, results  # the ratings are not read again
        if engine == "local" and n_jobs != 1:
            _stop_workers()
        _release_memory()
        timings["score_track_plan"] = time.perf_counter() - clock

        clock = time.perf_counter()
        final = staging / "final"
        final.mkdir(exist_ok=True)
        assembled, files = _assemble(
            staging, final, n_chunks, size, data, shared, format, excel, ics
        )
        timings["assemble"] = time.perf_counter() - clock
        if html or html_employees:
            clock = time.perf_counter()
            files.append(
                _write_html(
                    staging, final, n_chunks, data, shared, html_employees, n_jobs
                )
            )
            timings["html"] = time.perf_counter() - clock

        n_in = data.input_rows.get("employees", n_people)
        errors = data.errors
        rejected = int(errors.loc[errors["table"] == "employees", "row"].nunique())
        counts = {
            "input_rows": data.input_rows,
            "employees_in": int(n_in),
            "employees_with_a_plan": assembled["planned"],
            "employees_without_a_plan": sum(assembled["no_plan"].values()),
            "no_plan_reasons": assembled["no_plan"],
            "employees_in_errors": rejected,
            "plan_items": assembled["plan_items"],
            "followups": assembled["followups"],
            "unmet_needs": assembled["unmet_needs"],
            "calibration_rows": assembled["calibration_rows"],
            "calibration_people": assembled["calibration_people"],
            "error_rows": len(errors),
        }
        for key in ("mentoring_needs", "mentoring_matched"):
            if key in assembled:
                counts[key] = assembled[key]
        nothing_lost = n_in == (
            counts["employees_with_a_plan"]
            + counts["employees_without_a_plan"]
            + rejected
        )
        run = {
            "devplan_version": __version__,
            "bundle": str(bundle_path),
            "config": cfg.model_dump(mode="json"),
            "start_date": shared.start_date.isoformat(),
            "input_files": hashes,
            "engine": engine,
            "n_jobs": n_jobs,
            "chunk_size": size,
            "chunks": n_chunks,
            "resumed_chunks": len(done),
            "counts": counts,
            "nothing_lost": nothing_lost,
            "outputs": sorted(files),
            "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        }
        (final / "run.json").write_text(json.dumps(run, indent=2) + "\n", "utf-8")
        files.append("run.json")
        _commit(out, staging, files)

    report = RunReport(
        out=out,
        files=sorted(files),
        counts=counts,
        nothing_lost=nothing_lost,
        timings=timings,
        chunks=n_chunks,
        resumed=len(done),
    )
    report.summary_lines = _summary_lines(report, data, format)
    return report


# -- staging -----------------------------------------------------------------


def _fingerprint(version, hashes, cfg, size) -> str:
    text = json.dumps(
        {
            "version": version,
            "inputs": hashes,
            "config": cfg.model_dump(mode="json"),
            "chunk_size": size,
            "parts": _PART_FORMAT,
            "extra_parts": list(_EXTRA_PARTS),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _item_effects(item_effects):
    """Item effects as a DataFrame, and a hash of their content."""
    from devplan._learning import _check_effects, read_item_effects

    if isinstance(item_effects, str | Path):
        item_effects = read_item_effects(item_effects)
    _check_effects(item_effects, "item_effects")
    table = item_effects[["item_id", "competency_id", "effect"]].astype(
        {"item_id": str, "competency_id": str, "effect": float}
    )
    text = table.to_csv(index=False, lineterminator="\n")
    return table, hashlib.sha256(text.encode()).hexdigest()


def _start_staging(staging: Path, fingerprint: str, resume: bool) -> set[int]:
    """Fresh staging, or (resume) the chunks an identical run completed."""
    manifest = staging / "manifest.json"
    if resume and manifest.exists():
        if json.loads(manifest.read_text("utf-8")).get("fingerprint") == fingerprint:
            return {
                int(p.stem) for p in (staging / "parts").glob("*.done") if p.is_file()
            }
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "parts").mkdir(parents=True)
    manifest.write_text(json.dumps({"fingerprint": fingerprint}) + "\n", "utf-8")
    return set()


def _split_assessments(staging: Path, stream, resume: bool):
    """Read and validate the ratings in row batches into per-block files
    (:class:`devplan._blocks.AssessmentBlocks`); the bundle with their
    errors and row count added. A resumed run reuses a finished split."""
    folder = staging / "assessments"
    marker = folder / "complete.json"
    data = stream.bundle
    ids = pd.Index(data.employees["employee_id"].astype(str))
    if resume and marker.exists():
        blocks = AssessmentBlocks.open(folder, ids, _scoring.FIT_BLOCK_EMPLOYEES)
        n_read = json.loads(marker.read_text("utf-8"))["rows_read"]
        errors = [pd.read_feather(folder / "errors.arrow")]
    else:
        if folder.exists():
            shutil.rmtree(folder)
        blocks = AssessmentBlocks(folder, ids, _scoring.FIT_BLOCK_EMPLOYEES)
        errors = []
        for clean, rejected in stream.assessment_batches():
            blocks.add(clean)
            if len(rejected):
                errors.append(rejected)
        blocks.close()
        n_read = int(stream.assessment_rows)
        found = merge_errors(data.errors.iloc[:0], errors)
        feather.write_feather(found, folder / "errors.arrow", compression="lz4")
        errors = [found]
        with atomic_path(marker) as tmp:
            tmp.write_text(json.dumps({"rows_read": n_read}) + "\n", "utf-8")
    data = dataclasses.replace(
        data,
        errors=merge_errors(data.errors, errors),
        input_rows={**data.input_rows, "assessments": n_read},
    )
    return blocks, data


def _fitted_scorer(staging, blocks, data, cfg, resume) -> CompetencyScorer:
    """Norms fitted in passes over the rating blocks (kept in staging, so a
    resumed run does not fit them again)."""
    path = staging / "scorer.joblib"
    if resume and path.exists():
        return CompetencyScorer.load(path)
    work = staging / "fit"
    work.mkdir(exist_ok=True)
    scorer = CompetencyScorer.from_config(cfg).fit_blocks(
        blocks,
        items=data.items if len(data.items) else None,
        employees=data.employees,
        roles=data.roles,
        competencies=data.competencies["competency_id"],
        workdir=work,
    )
    shutil.rmtree(work)
    scorer.save(path)
    return scorer


def _start_date(cfg, blocks):
    """The configured start date, else the first of the month after the
    latest rating (as :func:`devplan._plans.default_start_date`)."""
    if cfg.plan.start_date:
        return cfg.plan.start_date
    latest = None if blocks.latest is None else pd.Timestamp(blocks.latest).date()
    return start_after(latest)


def _chunk_task(chunk, assessments, shared):
    """A chunk with its ratings, and the shared state it needs.

    What goes to a worker is kept to the chunk's own: categories of its
    raters and enrolments only, and the scorer's rater leniency and flags
    only for its raters (at 1,000,000 employees the whole-organisation
    versions are tens of MB per task). Scores do not change: raters are
    looked up by id.
    """
    assessments = assessments.assign(
        rater_id=drop_unused_categories(assessments["rater_id"])
    )
    enrolments = chunk.enrolments
    enrolments = enrolments.assign(
        employee_id=drop_unused_categories(enrolments["employee_id"]),
        item_id=drop_unused_categories(enrolments["item_id"]),
    )
    chunk = dataclasses.replace(chunk, assessments=assessments, enrolments=enrolments)
    scorer = copy.copy(shared.scorer)
    raters = assessments["rater_id"].cat.categories
    lenient = scorer.leniency_.index.get_indexer(raters)
    scorer.leniency_ = scorer.leniency_.iloc[np.sort(lenient[lenient >= 0])]
    flat = scorer.non_discriminating_
    scorer.non_discriminating_ = flat[isin(flat, raters)]
    scorer.rater_flags_ = scorer.rater_flags_.iloc[:0]  # used by fitting only
    return chunk, dataclasses.replace(shared, scorer=scorer)


def _release_memory() -> None:
    """Hand memory that finished stages freed back to the system.

    pandas and numpy allocate with the C library's malloc, Arrow from its own
    pool; each keeps freed pages for itself, where the other cannot reuse
    them, so a long run's resident memory creeps up stage after stage (on a
    1,000,000-person bundle, reading and validating the tables leaves
    about 500 MB of such pages). Called between stages; it changes no result.
    """
    gc.collect()
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _stop_workers() -> None:
    """End joblib's worker processes once the chunks are done.

    joblib keeps its (loky) workers for the next parallel call, with what
    they hold, for minutes; a batch run makes no further call, and its
    assembly should not share the machine's memory with idle workers.
    """
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # pragma: no cover - not glibc
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def _chunk_len(k: int, size: int, n: int) -> int:
    return max(min(size, n - k * size), 0)


def _write_part(staging: Path, k: int, tables: dict) -> None:
    folder = staging / "parts" / f"{k:05d}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in (*CHUNK_TABLES, *_EXTRA_PARTS):
        _write_table_part(staging, k, name, tables[name])
    # the marker is written last: a chunk without it is redone
    with atomic_path(staging / "parts" / f"{k:05d}.done") as tmp:
        tmp.write_text("done\n", "utf-8")


def _chunk_written(staging, k, chunk, shared) -> None:
    """Chunk ``k``'s parts, written into ``staging`` by the process that
    made them (a local worker shares the disk): only ``None`` goes back."""
    _write_part(staging, k, _chunk_with_summary(chunk, shared))


def _chunk_returned(staging, k, chunk, shared) -> dict:
    """Chunk ``k``'s tables, returned for the caller to write (a Dask worker
    may not see ``staging``)."""
    return _chunk_with_summary(chunk, shared)


def _chunk_with_summary(chunk, shared):
    """A chunk's tables, with its profile summary and calibration rows."""
    _release_memory()  # in a worker process: what the previous chunk left
    tables = chunk_work(chunk, shared, summarise=True)
    tables["calibration"] = calibration(
        tables["tracks"], tables["profiles"], chunk, shared.config
    )
    return tables


def _chunk_plans(tables, shared, risks) -> PlanResult:
    """A chunk's tables as a :class:`PlanResult` (for its plan documents)."""
    return PlanResult(
        **{name: tables[name] for name in CHUNK_TABLES},
        transfer_risks=risks,
        errors=pd.DataFrame(),
        start_date=shared.start_date,
        horizon_months=shared.config.plan.horizon_months,
        config=shared.config,
    )


def _write_table_part(staging: Path, k: int, name: str, df: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    feather.write_feather(table, _part_path(staging, k, name), compression="lz4")


def _part_path(staging: Path, k: int, name: str) -> Path:
    # parts are Arrow IPC files (LZ4): several times faster to write and read
    # than Parquet, and only the final tables need Parquet's compactness
    return staging / "parts" / f"{k:05d}" / f"{name}.arrow"


def _read_part(staging: Path, k: int, name: str, columns=None) -> pd.DataFrame:
    return pd.read_feather(_part_path(staging, k, name), columns=columns)


# -- assembling --------------------------------------------------------------


def _assemble(staging, final, n_chunks, size, data, shared, fmt, excel, ics):
    """Final files from the parts, one chunk at a time where it matters."""
    from devplan._tracks import track_summary

    names = data.competencies.set_index("competency_id")["name"].astype(str)
    parts = range(n_chunks)
    # transfer risks: of each chunk's needs and strengths, only what they can
    # use: managers' needs, and the best coaches per competency and unit
    employees = data.employees
    managers = pd.Index(employees["manager_id"].dropna().unique())
    unit_of = employees.set_index("employee_id")["business_unit"].astype(object)
    weak, strong = [], []
    for k in parts:
        part = _read_part(staging, k, "weak")
        weak.append(part[isin(part["employee_id"], managers)])
        strong.append(_best_coaches(_read_part(staging, k, "strong"), unit_of))
    weak = pd.concat(weak, ignore_index=True)
    # and of the plans, the rows that develop what a person's manager is weak
    # in, the mentoring items and the hours per person
    # (chunk k holds employees k * size to (k + 1) * size, whose managers
    # are looked up among theirs only, not among the whole organisation)
    manager_of = employees.set_index("employee_id")["manager_id"].astype("str")
    weak_pairs = pd.MultiIndex.from_frame(
        weak[["employee_id", "competency_id"]].astype(str)
    )
    developing, mentor_items, hours = [], [], []
    for k in parts:
        rows = _read_part(staging, k, "plans", _MENTORING_PLAN_COLUMNS)
        developing.append(
            _under_weak_managers(
                rows, manager_of.iloc[k * size : (k + 1) * size], weak_pairs
            )
        )
        mentor_items.append(
            rows[(rows["kind"].astype(object) == "mentoring").to_numpy()]
        )
        hours.append(plan_hours(rows))
        del rows
    risks = transfer_risks(
        pd.concat(developing, ignore_index=True),
        weak,
        pd.concat(strong, ignore_index=True),
        employees,
        names,
    )
    del weak, strong, developing
    suffix = "." + fmt
    files = []
    counts = {}
    source = _sources(shared)
    mentoring = None
    if shared.config.mentoring.enabled:
        _release_memory()
        mentor_items = pd.concat(mentor_items, ignore_index=True)
        hours = pd.concat(hours)
        mentoring = _mentoring(
            staging, parts, mentor_items, hours, risks, data, shared, names
        )
        risks = coaches_from_mentors(risks, mentoring, names)
    del mentor_items, hours
    _release_memory()
    for name in CHUNK_TABLES:
        rows = _concat_parts(
            staging, parts, source[name], final / f"{name}{suffix}", fmt
        )
        files.append(f"{name}{suffix}")
        counts[name] = rows
    written = [("transfer_risks", risks), ("errors", data.errors)]
    if mentoring is not None:
        written.append(("mentoring", mentoring))
    for name, table in written:
        write_table(table, final / f"{name}{suffix}")
        files.append(f"{name}{suffix}")

    _concat_parts(
        staging, parts, "profile_summary", final / f"profile_summary{suffix}", fmt
    )
    files.append(f"profile_summary{suffix}")
    # summaries over the whole organisation (small tables); calibration rows
    # in their one global order, whatever the chunks
    tracks = pd.concat([_read_part(staging, k, "tracks") for k in parts])
    calibrated = _ordered_calibration(
        pd.concat([_read_part(staging, k, "calibration") for k in parts])
    )
    extra = {
        "reliability": shared.scorer.reliability_,
        "track_summary": track_summary(tracks, data.employees, data.roles),
        "calibration": calibrated,
    }
    for name, table in extra.items():
        write_table(table, final / f"{name}{suffix}")
        files.append(f"{name}{suffix}")

    # plans.jsonl: each chunk's plan documents, from its final tables (with
    # the mentor matches) and the organisation's transfer risks
    planned = 0
    no_plan: dict[str, int] = {}
    with (final / "plans.jsonl").open("wb") as fh:
        for k in parts:
            tables = {
                name: _read_part(staging, k, source[name])
                for name in CHUNK_TABLES
                if name != "profiles"
            }
            people = tables["plan_summary"]["employee_id"]
            tables["profiles"] = pd.DataFrame()  # plan documents do not hold them
            mine = risks[isin(risks["employee_id"], people)]
            fh.write(_chunk_plans(tables, shared, mine).jsonl_bytes())
            summary = tables["plan_summary"]
            empty = (summary["status"] == "no plan").to_numpy()
            planned += int((~empty).sum())
            for reason, n in summary.loc[empty, "unused_reason"].value_counts().items():
                no_plan[str(reason)] = no_plan.get(str(reason), 0) + int(n)
            del tables
    files.append("plans.jsonl")
    if excel:
        from devplan._export import write_workbook

        tables = {
            name: pd.concat([_read_part(staging, k, source[name]) for k in parts])
            for name in _SHEETS
            if name in CHUNK_TABLES
        }
        tables.update(transfer_risks=risks, errors=data.errors, calibration=calibrated)
        if mentoring is not None:
            tables["mentoring"] = mentoring
        write_workbook(
            {name: tables[name] for name in _SHEETS if name in tables},
            final / "devplan.xlsx",
        )
        files.append("devplan.xlsx")
    if ics:
        from devplan._schedule import write_ics

        follow = pd.concat([_read_part(staging, k, "followups") for k in parts])
        write_ics(follow, final / "calendar")
        files.append("calendar")
    if mentoring is not None:
        matched = mentoring["mentor_id"].notna()
        counts.update(
            mentoring_needs=len(mentoring), mentoring_matched=int(matched.sum())
        )
    counts.update(
        calibration_rows=len(calibrated),
        calibration_people=int(calibrated["employee_id"].nunique()),
        planned=planned,
        no_plan=dict(sorted(no_plan.items())),
        plan_items=counts["plans"],
        followups=counts["followups"],
        unmet_needs=counts["unmet_needs"],
    )
    return counts, files


def _under_weak_managers(rows, manager_of, weak_pairs) -> pd.DataFrame:
    """The plan rows :func:`devplan._plans.transfer_risks` can turn into a
    risk: rows that develop (not leverage) a competency the person's manager
    is weak in. The others it drops; each person's rows are in one chunk, so
    the risks from the rows kept of every chunk are those of all the rows.
    ``manager_of`` gives the manager of (at least) the rows' employees."""
    rows = rows[_DEVELOPING_COLUMNS]
    rows = rows[(rows["purpose"] != "leverage_strength").to_numpy()]
    at = _positions(manager_of.index, rows["employee_id"])
    manager = manager_of.iloc[np.maximum(at, 0)].to_numpy()
    pairs = pd.MultiIndex.from_arrays(
        [manager, rows["competency_id"].astype(str).to_numpy()]
    )
    keep = (at >= 0) & manager_of.notna().to_numpy()[np.maximum(at, 0)]
    keep &= pairs.isin(weak_pairs)
    return rows[keep]


def _best_coaches(strong: pd.DataFrame, unit_of: pd.Series) -> pd.DataFrame:
    """The rows of ``strong`` that :func:`devplan._plans.transfer_risks` can
    suggest as a coach: the best three per competency and business unit.

    It takes the best three per competency and unit, and per competency, in
    one total order (score down, then id up), so the best three of a whole
    organisation are among the best three of the part they come from: the
    suggestions are those of all the rows (tested).
    """
    ranked = strong.assign(unit=strong["employee_id"].map(unit_of)).sort_values(
        ["competency_id", "score", "employee_id"],
        ascending=[True, False, True],
        kind="stable",
    )
    best = ranked.groupby(["competency_id", "unit"], sort=False, dropna=False).head(3)
    return best.drop(columns="unit")


#: Sheets of the Excel workbook, in order.
_SHEETS = (
    "plan_summary",
    "plans",
    "followups",
    "manager_actions",
    "tracks",
    "calibration",
    "transfer_risks",
    "mentoring",
    "unmet_needs",
    "profiles",
    "errors",
)


def _mentoring(staging, parts, mentor_items, hours, risks, data, shared, names):
    """Match mentors over the whole organisation; write each chunk's plans
    and plan summary with the matches in as ``*.mentored`` parts (the
    chunk's own parts stay as they were, so a resumed run starts clean).

    ``mentor_items`` are the plans' ``mentoring`` items and ``hours`` the
    hours each person's plan holds (:func:`devplan._mentoring.plan_hours`):
    all that matching reads of the plans.
    """
    cfg = shared.config
    # of the profiles, matching reads the strengths (the candidates) and
    # each need's own row (the mentee's score and requirement)
    key = ["employee_id", "competency_id"]
    needs = pd.MultiIndex.from_frame(
        pd.concat([mentor_items[key], risks[key]], ignore_index=True).astype(str)
    )
    profiles = []
    for k in parts:
        part = _read_part(staging, k, "profiles", _MENTORING_PROFILE_COLUMNS)
        keep = part["is_strength"].fillna(False).to_numpy(dtype=bool)
        keep = keep | pd.MultiIndex.from_frame(part[key].astype(str)).isin(needs)
        profiles.append(part[keep])
        del part
    profiles = pd.concat(profiles, ignore_index=True)
    mentoring = match_mentors(
        profiles,
        data.employees,
        cfg,
        plans=mentor_items,
        planned_hours=hours,
        transfer_risks=risks,
        roles=data.roles,
        competency_names=names,
    )
    del profiles
    _release_memory()
    for k in parts:
        plans, summary = mentor_plan_rows(
            _read_part(staging, k, "plans"),
            _read_part(staging, k, "plan_summary"),
            mentoring,
            start_date=shared.start_date,
            horizon_months=cfg.plan.horizon_months,
            mentor_hours=cfg.mentoring.mentor_hours,
            scale_max=cfg.scale_max,
            competency_names=names,
        )
        _write_table_part(staging, k, "plans.mentored", plans)
        _write_table_part(staging, k, "plan_summary.mentored", summary)
    return mentoring


def _concat_parts(staging, parts, name, target: Path, fmt: str) -> int:
    """Write one table from its parts without holding it whole; rows written."""
    import pyarrow.parquet as pq

    paths = [_part_path(staging, k, name) for k in parts]
    if fmt == "parquet":
        schemas = []
        for p in paths:
            with pa.ipc.open_file(p) as reader:
                schemas.append(reader.schema)
        schema = pa.unify_schemas(schemas, promote_options="permissive")
        rows = 0
        with pq.ParquetWriter(target, schema) as writer:
            for p in paths:
                table = feather.read_table(p).cast(schema)
                rows += table.num_rows
                writer.write_table(table)
        return rows
    rows = 0
    for i, p in enumerate(paths):
        df = pd.read_feather(p)
        rows += len(df)
        _append_csv(df, target, header=i == 0)
    return rows


def _append_csv(df: pd.DataFrame, target: Path, *, header: bool) -> None:
    from devplan._bundle import _for_text

    _for_text(df).to_csv(
        target,
        mode="w" if header else "a",
        header=header,
        index=False,
        encoding="utf-8",
        lineterminator="\n",
    )


def _write_html(staging, final, n_chunks, data, shared, employees, n_jobs) -> str:
    """The HTML reports of the run, from its parts, into ``final/html``."""
    from devplan._reports import write_reports

    parts = range(n_chunks)
    source = _sources(shared)
    tables = {
        name: pd.concat(
            [_read_part(staging, k, source[name]) for k in parts],
            ignore_index=True,
        )
        for name in CHUNK_TABLES
    }
    result = _chunk_plans(tables, shared, _read_table(final, "transfer_risks"))
    result.errors = data.errors
    write_reports(
        result, data, final / "html", employees=bool(employees), n_jobs=n_jobs
    )
    return "html"


def _sources(shared) -> dict[str, str]:
    """The part each final table is made from: with mentor matching, plans
    and plan summaries come from the ``*.mentored`` parts it writes."""
    source = {name: name for name in CHUNK_TABLES}
    if shared.config.mentoring.enabled:
        source.update(plans="plans.mentored", plan_summary="plan_summary.mentored")
    return source


def _read_table(final: Path, name: str) -> pd.DataFrame:
    """A small all-text table the assembly wrote (CSV or Parquet)."""
    if (final / f"{name}.parquet").exists():
        return pd.read_parquet(final / f"{name}.parquet")
    return pd.read_csv(final / f"{name}.csv", dtype=str, keep_default_na=False).replace(
        "", None
    )


# -- committing --------------------------------------------------------------


def _commit(out: Path, staging: Path, files: list[str]) -> None:
    """Move the staged files into ``out``: journal first, then renames."""
    journal = staging / "commit.json"
    previous = _previous_outputs(out)
    stale = sorted(set(previous) - set(files) - {"run.json"})
    with atomic_path(journal) as tmp:
        tmp.write_text(json.dumps({"files": files, "stale": stale}) + "\n", "utf-8")
    _roll_forward(out, staging)


def _previous_outputs(out: Path) -> list[str]:
    try:
        run = json.loads((out / "run.json").read_text("utf-8"))
    except (OSError, ValueError):
        return []
    names = run.get("outputs", [])
    # only plain names in this folder
    return [n for n in names if isinstance(n, str) and Path(n).name == n]


def _roll_forward(out: Path, staging: Path) -> None:
    """Finish a commit that was started (idempotent); then drop staging."""
    journal = staging / "commit.json"
    if not journal.exists():
        return
    plan = json.loads(journal.read_text("utf-8"))
    final = staging / "final"
    # run.json last: it tells readers the set is complete
    ordered = [f for f in plan["files"] if f != "run.json"] + ["run.json"]
    for name in ordered:
        source, target = final / name, out / name
        if not source.exists():
            continue  # moved already
        if source.is_dir():
            old = staging / f"old-{name}"
            if target.exists():
                if old.exists():
                    shutil.rmtree(old)
                os.replace(target, old)
            os.replace(source, target)
        else:
            os.replace(source, target)
    for name in plan.get("stale", []):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    shutil.rmtree(staging)


@contextlib.contextmanager
def _exclusive(out: Path):
    """Hold ``OUT/.devplan-run.lock`` for the run: one run per folder."""
    path = out / LOCK
    with path.open("a") as fh:
        if fcntl is None:  # pragma: no cover - not POSIX: no locking
            yield
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(
                f"Got --out {out}, where another devplan run is writing (it "
                f"holds {path}); wait for it to finish or choose another "
                "output folder."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# -- progress and summary ----------------------------------------------------


def _progress_bar(total: int, progress: bool | None):
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    return tqdm(
        total=total,
        disable=not show,
        file=sys.stderr,
        unit=" employees",
        unit_scale=True,
        desc="devplan plan",
        smoothing=0.1,
    )


def _summary_lines(report: RunReport, data, fmt) -> list[str]:
    c = report.counts
    seconds = sum(report.timings.values())
    lines = [
        data.summary(),
        "",
        f"Employees: {c['employees_in']:,} in, {c['employees_with_a_plan']:,} with "
        f"a plan, {c['employees_without_a_plan']:,} with no plan, "
        f"{c['employees_in_errors']:,} set aside (see errors.{fmt}); "
        + ("nothing lost." if report.nothing_lost else "COUNTS DO NOT ADD UP."),
        f"Plans: {c['plan_items']:,} items, {c['followups']:,} follow-ups, "
        f"{c['unmet_needs']:,} needs the plans do not fully close "
        "(see unmet_needs.csv).",
    ]
    if c["no_plan_reasons"]:
        lines.append(
            "No plan: "
            + "; ".join(f"{n:,} {why}" for why, n in c["no_plan_reasons"].items())
            + f" (see plan_summary.{fmt})."
        )
    lines.append(
        f"Calibration: {c['calibration_people']:,} people whose ratings and 360 "
        f"profile disagree, to discuss first (see calibration.{fmt})."
    )
    if "mentoring_needs" in c:
        lines.append(
            f"Mentoring: {c['mentoring_matched']:,} of {c['mentoring_needs']:,} "
            f"needs matched with an internal mentor (see mentoring.{fmt})."
        )
    lines += [
        f"Chunks: {report.chunks:,}"
        + (f" ({report.resumed:,} from the interrupted run)" if report.resumed else "")
        + f"; {seconds:,.1f} s in all. Outputs in {report.out}.",
    ]
    return lines


__all__ = ["ENGINES", "FORMATS", "RunReport", "run_batch"]
