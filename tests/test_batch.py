"""Batch runs into a folder: nothing lost, crash safety, resume, exports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import devplan
from devplan import generate_plans, read_bundle, write_bundle
from devplan._batch import LOCK, STAGING, _roll_forward, run_batch
from devplan._cli import EXIT_UNUSABLE, main
from devplan.datasets import make_organisation

SAMPLES = Path(__file__).parent.parent / "data" / "samples"


@pytest.fixture(scope="module")
def org_dir(tmp_path_factory):
    """600 employees with competency-level ratings: six chunks of 100."""
    folder = tmp_path_factory.mktemp("org")
    bundle = make_organisation(600, random_state=5, item_level=False)
    # a title a spreadsheet would run as a formula (on every item of the first
    # competency, so that plans surely hold it)
    first = bundle.catalog["competencies"].str.split(";").str[0]
    formula = first == first.iloc[0]
    bundle.catalog.loc[formula, "title"] = '=HYPERLINK("http://x.test","click")'
    write_bundle(bundle, folder / "bundle")
    (folder / "other.toml").write_text("[plan]\nstrength_focus = 0.5\n")
    return folder


def files(folder: Path) -> dict[str, bytes]:
    """Every file under a folder (run.json without its timings)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and STAGING not in path.parts:
            data = path.read_bytes()
            if path.name == "run.json":
                run = json.loads(data)
                for key in ("timings_seconds", "resumed_chunks", "bundle"):
                    run.pop(key)
                data = json.dumps(run, sort_keys=True).encode()
            out[str(path.relative_to(folder))] = data
    return out


def test_nothing_lost_on_the_broken_sample(tmp_path):
    report = run_batch(SAMPLES / "broken", tmp_path / "out", progress=False)
    # 14 employee rows: 3 valid (001, 002, 003) and 11 set aside
    assert report.counts["employees_in"] == 14
    # the 3 valid employees are planned; an empty plan is counted apart,
    # with its reason, never as "with a plan"
    c = report.counts
    assert c["employees_with_a_plan"] + c["employees_without_a_plan"] == 3
    summary = pd.read_csv(tmp_path / "out" / "plan_summary.csv")
    empty = summary["n_items"] == 0
    assert c["employees_without_a_plan"] == empty.sum()
    assert (summary.loc[empty, "status"] == "no plan").all()
    assert summary.loc[empty, "unused_reason"].notna().all()
    assert sum(c["no_plan_reasons"].values()) == empty.sum()
    assert c["employees_in_errors"] == 11
    assert report.nothing_lost
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["nothing_lost"] is True and run["counts"] == report.counts
    assert "nothing lost" in report.summary()
    assert not (tmp_path / "out" / STAGING).exists()


def test_an_unusable_bundle_stops_before_any_work(tmp_path, capsys):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "employees.csv").write_text("employee_id\nE1\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "plans.csv").write_text("earlier\n")
    assert main(["plan", str(bundle), "--out", str(out), "--quiet"]) == EXIT_UNUSABLE
    assert "bundle unusable" in capsys.readouterr().err
    assert (out / "plans.csv").read_text() == "earlier\n"
    assert sorted(p.name for p in out.iterdir()) == ["plans.csv"]


def test_chunks_and_jobs_do_not_change_the_files(org_dir, tmp_path):
    one = run_batch(org_dir / "bundle", tmp_path / "a", progress=False)
    many = run_batch(
        org_dir / "bundle", tmp_path / "b", chunk_size=100, n_jobs=2, progress=False
    )
    assert (one.chunks, many.chunks) == (1, 6)
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert a.keys() == b.keys()
    # calibration rows are made per chunk and put in one global order
    calibrated = pd.read_csv(tmp_path / "b" / "calibration.csv")
    assert len(calibrated) == one.counts["calibration_rows"] > 0
    assert a["calibration.csv"] == b["calibration.csv"]
    for name in a:
        if name != "run.json":
            assert a[name] == b[name], name
    # the chunks' plan documents, with the organisation's transfer risks
    # filled in afterwards, are those of the one-call API
    api = generate_plans(read_bundle(org_dir / "bundle"))
    assert b["plans.jsonl"] == b"".join(api.jsonl_lines())
    with_risks = [
        line for line in b["plans.jsonl"].splitlines() if b'"transfer_risks":[{' in line
    ]
    assert len(with_risks) == api.transfer_risks["employee_id"].nunique() > 10


def test_dask_cluster_run_writes_the_files_of_a_local_run(org_dir, tmp_path):
    """``devplan plan --engine dask --scheduler ADDRESS``: chunks run as tasks
    on a real cluster of two worker processes, their tables come back to the
    run, and every file it writes is that of a local run."""
    distributed = pytest.importorskip("distributed")
    bundle = org_dir / "bundle"
    local = run_batch(bundle, tmp_path / "local", chunk_size=250, progress=False)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        argv = ["plan", str(bundle), "--out", str(tmp_path / "dask"), "--quiet"]
        argv += ["--engine", "dask", "--scheduler", cluster.scheduler_address]
        assert main([*argv, "--chunk-size", "250"]) == 0
    a, b = files(tmp_path / "local"), files(tmp_path / "dask")
    assert a.keys() == b.keys() and "plans.jsonl" in a and "calibration.csv" in a
    for name in a:
        if name != "run.json":
            assert a[name] == b[name], name
    run = json.loads(b["run.json"])
    assert (run["engine"], run["chunks"], local.chunks) == ("dask", 3, 3)
    assert run["nothing_lost"] and run["counts"] == local.counts


def test_norms_fitted_over_blocks_of_ratings_match_the_api(
    org_dir, tmp_path, monkeypatch
):
    """A batch run reads the ratings in batches into blocks of employees and
    fits norms over the blocks; with 4 blocks and chunks that cut across
    them, its files are those of the one-call API (which fits over the same
    blocks in memory), and of a run with other chunks and batches."""
    from devplan import _bundle, _scoring

    monkeypatch.setattr(_scoring, "FIT_BLOCK_EMPLOYEES", 150)
    small = run_batch(
        org_dir / "bundle", tmp_path / "a", chunk_size=100, progress=False
    )
    assert small.counts["input_rows"]["assessments"] > 0
    original = _bundle.open_bundle
    monkeypatch.setattr(
        "devplan._batch.open_bundle",
        lambda *a, **k: original(*a, **{**k, "batch_rows": 997}),
    )
    run_batch(org_dir / "bundle", tmp_path / "b", chunk_size=250, progress=False)
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert a.keys() == b.keys()
    for name in a:
        if name != "run.json":
            assert a[name] == b[name], name
    api = generate_plans(read_bundle(org_dir / "bundle"))
    assert a["plans.jsonl"] == b"".join(api.jsonl_lines())
    profiles = pd.read_csv(tmp_path / "a" / "profiles.csv")
    assert len(profiles) == len(api.profiles)


def _start(bundle, out, *extra):
    cmd = [sys.executable, "-m", "devplan._cli", "plan", str(bundle)]
    cmd += ["--out", str(out), "--chunk-size", "100", "--quiet", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_after(proc, out: Path, chunks: int) -> Path:
    """SIGKILL a run once it has completed ``chunks`` chunks; its parts folder."""
    parts = out / STAGING / "parts"
    deadline = time.monotonic() + 300
    while len(list(parts.glob("*.done"))) < chunks:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return parts


def test_a_killed_run_leaves_earlier_outputs_and_resume_finishes(org_dir, tmp_path):
    bundle, out = org_dir / "bundle", tmp_path / "out"
    other = ["--config", str(org_dir / "other.toml")]
    assert main(["plan", str(bundle), "--out", str(out), "--quiet"]) == 0
    before = files(out)

    # a run with other settings, killed once two of its six chunks are done
    parts = _kill_after(_start(bundle, out, *other), out, 2)
    assert files(out) == before  # every earlier output intact, nothing half-written
    done = len(list(parts.glob("*.done")))
    assert 2 <= done < 6

    # --resume picks up the completed chunks and ends where an uninterrupted
    # run ends
    argv = ["plan", str(bundle), "--out", str(out), "--chunk-size", "100"]
    assert main([*argv, *other, "--resume", "--quiet"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["resumed_chunks"] == done
    clean = tmp_path / "clean"
    argv = ["plan", str(bundle), "--out", str(clean), "--chunk-size", "100"]
    assert main([*argv, *other, "--quiet"]) == 0
    assert files(out) == files(clean)
    assert files(out) != before
    assert not (out / STAGING).exists()


def test_resume_with_changed_settings_starts_afresh(org_dir, tmp_path):
    bundle, out = org_dir / "bundle", tmp_path / "out"
    _kill_after(_start(bundle, out), out, 1)
    report = run_batch(
        bundle,
        out,
        config=org_dir / "other.toml",
        chunk_size=100,
        resume=True,
        progress=False,
    )
    assert report.resumed == 0 and report.nothing_lost


def test_a_second_run_into_the_same_folder_is_refused(tmp_path, capsys):
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    with (out / LOCK).open("a") as held:
        # another run holds the folder
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        argv = ["plan", str(SAMPLES / "demo"), "--out", str(out), "--quiet"]
        assert main(argv) == EXIT_UNUSABLE
        assert "another devplan run is writing" in capsys.readouterr().err
        assert sorted(p.name for p in out.iterdir()) == [LOCK]
    # once it is done, the folder is free again
    assert main(argv) == 0
    assert (out / "run.json").exists()


def test_an_interrupted_commit_is_rolled_forward(tmp_path):
    out = tmp_path / "out"
    staging = out / STAGING
    (staging / "final" / "calendar").mkdir(parents=True)
    (out / "calendar").mkdir()
    (out / "calendar" / "old.ics").write_text("old")
    (out / "plans.csv").write_text("old")
    (out / "stale.csv").write_text("old")
    (staging / "final" / "plans.csv").write_text("new")
    (staging / "final" / "calendar" / "new.ics").write_text("new")
    # run.json was moved already when the run died
    (out / "run.json").write_text("{}")
    (staging / "commit.json").write_text(
        json.dumps(
            {"files": ["plans.csv", "calendar", "run.json"], "stale": ["stale.csv"]}
        )
    )
    _roll_forward(out, staging)
    assert (out / "plans.csv").read_text() == "new"
    assert [p.name for p in (out / "calendar").iterdir()] == ["new.ics"]
    assert not (out / "stale.csv").exists()
    assert not staging.exists()


def test_excel_workbook_neutralises_formulas(org_dir, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "out"
    run_batch(org_dir / "bundle", out, excel=True, format="parquet", progress=False)
    book = load_workbook(out / "devplan.xlsx", read_only=True)
    assert "plans" in book.sheetnames and "plan_summary" in book.sheetnames
    calibrated = pd.read_parquet(out / "calibration.parquet")
    sheet = list(book["calibration"].iter_rows(values_only=True))
    assert list(sheet[0]) == list(calibrated.columns)
    assert [row[0] for row in sheet[1:]] == calibrated["employee_id"].tolist()
    plans = pd.read_parquet(out / "plans.parquet")
    assert (plans["title"] == '=HYPERLINK("http://x.test","click")').any()
    sheet = book["plans"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    col = header.index("title")
    titles = [row[col].value for row in sheet.iter_rows(min_row=2)]
    assert len(titles) == len(plans)
    assert "'" + '=HYPERLINK("http://x.test","click")' in titles
    # no text cell anywhere starts like a formula
    for name in book.sheetnames:
        for row in book[name].iter_rows(min_row=2, values_only=True):
            for value in row:
                assert not (isinstance(value, str) and value[:1] in "=+-@"), value


def test_calendars_parse_and_hold_every_followup(tmp_path):
    icalendar = pytest.importorskip("icalendar")
    out = tmp_path / "out"
    run_batch(SAMPLES / "demo", out, ics=True, progress=False)
    followups = pd.read_csv(out / "followups.csv", dtype="str")
    n_events = 0
    for path in (out / "calendar").glob("employee_*.ics"):
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        n_events += len(list(cal.walk("VEVENT")))
    assert n_events == len(followups)


def test_coaches_kept_per_chunk_give_the_transfer_risks_of_all_rows():
    """The assembly keeps, of each chunk's strengths, only the best three per
    competency and unit; transfer risks (with their suggested coaches) are
    then those computed from every strength of the organisation."""
    from devplan._batch import _best_coaches
    from devplan._plans import risk_inputs, transfer_risks

    bundle = make_organisation(600, random_state=3)
    result = generate_plans(bundle)
    names = bundle.competencies.set_index("competency_id")["name"].astype(str)
    weak, strong = risk_inputs(result.profiles)
    whole = transfer_risks(result.plans, weak, strong, bundle.employees, names)
    unit_of = bundle.employees.set_index("employee_id")["business_unit"]
    people = bundle.employees["employee_id"]
    kept = pd.concat(
        [
            _best_coaches(strong[strong["employee_id"].isin(part)], unit_of)
            for part in (people[:200], people[200:450], people[450:])
        ],
        ignore_index=True,
    )
    # far fewer rows, the same suggestions
    assert len(kept) < len(strong)
    pooled = transfer_risks(result.plans, weak, kept, bundle.employees, names)
    assert whole["suggested_coach_id"].notna().sum() > 10
    pd.testing.assert_frame_equal(pooled, whole)


def test_plan_rows_kept_per_chunk_give_the_risks_and_mentors_of_all_rows():
    """Of each chunk's plans the assembly keeps only the rows that develop
    what the person's manager is weak in, the mentoring items and the hours
    per person; transfer risks and mentor matches are those of every row."""
    from devplan._batch import _MENTORING_PLAN_COLUMNS, _under_weak_managers
    from devplan._mentoring import plan_hours
    from devplan._plans import risk_inputs, transfer_risks

    bundle = make_organisation(600, random_state=3)
    result = generate_plans(bundle)
    names = bundle.competencies.set_index("competency_id")["name"].astype(str)
    weak, strong = risk_inputs(result.profiles)
    employees = bundle.employees
    whole = transfer_risks(result.plans, weak, strong, employees, names)
    manager_of = employees.set_index("employee_id")["manager_id"].astype("str")
    pairs = pd.MultiIndex.from_frame(weak[["employee_id", "competency_id"]])
    people = employees["employee_id"]
    # the chunks' own plans: without the rows mentor matching added
    own = result.plans[result.plans["mentee_id"].isna()]
    chunks = [
        own[own["employee_id"].isin(part)][_MENTORING_PLAN_COLUMNS]
        for part in (people[:200], people[200:450], people[450:])
    ]
    kept = [_under_weak_managers(rows, manager_of, pairs) for rows in chunks]
    assert sum(map(len, kept)) < len(result.plans) / 3
    pooled = transfer_risks(
        pd.concat(kept, ignore_index=True), weak, strong, employees, names
    )
    assert len(whole) > 10
    pd.testing.assert_frame_equal(pooled, whole)

    # mentor matching from the mentoring items and hours per person
    args = (result.profiles, employees, bundle.config)
    kw = {"transfer_risks": whole, "roles": bundle.roles, "competency_names": names}
    every = devplan.match_mentors(*args, plans=result.plans, **kw)
    items = pd.concat([rows[rows["kind"] == "mentoring"] for rows in chunks])
    hours = pd.concat([plan_hours(rows) for rows in chunks])
    reduced = devplan.match_mentors(*args, plans=items, planned_hours=hours, **kw)
    assert every["mentor_id"].notna().sum() > 10
    pd.testing.assert_frame_equal(reduced, every)


@pytest.mark.parametrize("ordered", [False, True])
def test_unused_categories_are_dropped_as_pandas_drops_them(ordered):
    """The linear-time version gives what ``remove_unused_categories`` gives
    (order of categories, missing values, index and name kept)."""
    import numpy as np

    from devplan._validate import drop_unused_categories

    rng = np.random.default_rng(7)
    categories = pd.Index([f"R{i:04d}" for i in range(50)][::-1], dtype="str")
    # -1: missing; of the 50 categories only 5 are used
    codes = rng.choice([-1, 2, 5, 7, 11, 30], size=500)
    values = pd.Series(
        pd.Categorical.from_codes(codes, categories=categories, ordered=ordered),
        index=np.arange(500) * 3,
        name="rater_id",
    )
    kept = drop_unused_categories(values)
    pd.testing.assert_series_equal(kept, values.cat.remove_unused_categories())
    assert list(kept.cat.categories) == list(categories[[2, 5, 7, 11, 30]])
    # sorted: the categories were written in descending order
    by_value = drop_unused_categories(values, sort=True)
    assert list(by_value.cat.categories) == list(categories[[30, 11, 7, 5, 2]])
    assert by_value.astype(object).equals(values.astype(object))
    empty = values.iloc[:0]
    pd.testing.assert_series_equal(
        drop_unused_categories(empty), empty.cat.remove_unused_categories()
    )
