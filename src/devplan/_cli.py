"""The ``devplan`` command line."""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

from devplan import __version__
from devplan._bundle import (
    FORMATS,
    BundleError,
    read_bundle,
    write_bundle,
    write_table,
)
from devplan._config import load_config

EXIT_OK, EXIT_ROW_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devplan",
        description="Personalised, strength-focused development plans "
        "from assessment data.",
    )
    parser.add_argument("--version", action="version", version=f"devplan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "validate",
        help="check a bundle; exit 0 clean, 1 row problems, 2 unusable",
        description="Check a bundle against the data contract. Exit status: 0 "
        "clean, 1 row problems found (the bundle is usable), 2 unusable.",
    )
    p.add_argument("bundle", type=Path, help="bundle folder")
    p.add_argument("--config", type=Path, help="settings file (devplan.toml)")
    p.add_argument(
        "--errors", type=Path, metavar="FILE", help="also write the errors table here"
    )
    p.add_argument("--max-shown", type=int, default=20, help="problems to print")

    p = sub.add_parser(
        "sample",
        help="write a synthetic organisation bundle",
        description="Write a realistic synthetic organisation as a bundle folder.",
    )
    p.add_argument("--out", type=Path, required=True, help="target folder")
    p.add_argument("--employees", type=int, default=200, help="number of employees")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument(
        "--competency-level",
        action="store_true",
        help="rate competencies directly instead of items (smaller files)",
    )

    p = sub.add_parser(
        "plan",
        help="run the main job on a bundle and write the output tables",
        description="Read and validate a bundle, score, assign tracks and "
        "plan everyone, and write the outputs into a folder. Outputs appear "
        "only when complete: an interrupted run leaves earlier ones intact.",
    )
    p.add_argument("bundle", type=Path, help="bundle folder")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--config", type=Path, help="settings file (devplan.toml)")
    p.add_argument(
        "--format", choices=("csv", "parquet"), default="csv", help="table format"
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="worker processes (-1: all cores); with --engine dask and no "
        "--scheduler, the workers of a local cluster",
    )
    p.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="run chunks on this machine or on a Dask cluster",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a LocalCluster)",
    )
    p.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        metavar="N",
        help="employees per chunk (default 20000); memory grows with it",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run in --out from its last completed chunk",
    )
    p.add_argument(
        "--excel", action="store_true", help="also write devplan.xlsx (for reading)"
    )
    p.add_argument(
        "--ics",
        action="store_true",
        help="also write iCalendar files per employee and manager (calendar/)",
    )
    p.add_argument(
        "--html",
        action="store_true",
        help="also write html/: the organisation report and one per manager",
    )
    p.add_argument(
        "--html-employees",
        action="store_true",
        help="also write one HTML report per employee in html/employees/ "
        "(implies --html; about 0.5 s of CPU per employee)",
    )
    p.add_argument(
        "--quiet", action="store_true", help="no progress bar and no summary"
    )
    p.add_argument(
        "--item-effects",
        type=Path,
        metavar="FILE",
        help="learned item effects (item_id, competency_id, effect; CSV or "
        "Parquet, e.g. item_effects.csv of devplan evaluate) replacing the "
        "catalog defaults",
    )

    p = sub.add_parser(
        "report",
        help="the organisation's HTML report (--tna: training-needs tables)",
        description="Score and plan a bundle and write the organisation report "
        "(organisation.html) into a folder; with --tna, the training-needs "
        "analysis tables instead.",
    )
    p.add_argument("bundle", type=Path, help="bundle folder")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--tna", action="store_true", help="training-needs analysis tables")
    p.add_argument("--budget", type=float, help="money to allocate (default: no cap)")
    p.add_argument("--sd-y", type=float, help="money value of 1 SD of performance")
    p.add_argument("--config", type=Path, help="settings file (devplan.toml)")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")

    p = sub.add_parser(
        "audit",
        help="fairness audit of plans; exit 1 when a disparity is flagged",
        description="Compare hours, spend, stretch and high-visibility items "
        "and expected benefit across groups (four-fifths rule and a test). "
        "Exit status: 0 nothing flagged, 1 disparities flagged, 2 unusable.",
    )
    p.add_argument(
        "plans", type=Path, help="output folder of `devplan plan` or a plans file"
    )
    p.add_argument(
        "--bundle", type=Path, required=True, help="bundle the plans came from"
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--groups", nargs="+", default=["age_band", "gender"], help="employee columns"
    )
    p.add_argument("--config", type=Path, help="settings file (devplan.toml)")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")

    p = sub.add_parser(
        "evaluate",
        help="evaluate outcomes between two assessment cycles",
        description="Compare two bundles (two assessment cycles): reliable "
        "change per employee and competency, the gain of completers against "
        "comparable non-completers per item and programme, Kirkpatrick "
        "levels, and learned item effects for the next plans.",
    )
    p.add_argument("before", type=Path, help="bundle folder of the first cycle")
    p.add_argument("after", type=Path, help="bundle folder of the second cycle")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--config", type=Path, help="settings file (devplan.toml)")
    p.add_argument(
        "--plans", type=Path, metavar="FILE", help="the first cycle's plans table"
    )
    p.add_argument(
        "--business-measures",
        type=Path,
        metavar="FILE",
        help="employee_id, measure, before, after (Kirkpatrick level 4)",
    )
    return parser


def _load(args) -> tuple:
    config = load_config(args.config, bundle=args.bundle)
    return read_bundle(args.bundle, config=config), config


def _validate(args) -> int:
    bundle, _ = _load(args)
    print(f"devplan validate {args.bundle}")
    print(bundle.summary())
    if bundle.errors.empty:
        print("No problems found.")
        return EXIT_OK
    errors = bundle.errors
    n_rows = len(errors[["table", "row"]].drop_duplicates())
    print(
        f"\n{len(errors):,} problem(s) in {n_rows:,}"
        " row(s); those rows are set aside, everything else is usable:"
    )
    for rec in errors.head(args.max_shown).itertuples(index=False):
        who = (
            f" (employee {rec.employee_id})" if isinstance(rec.employee_id, str) else ""
        )
        print(f"  {rec.table} row {rec.row}, column {rec.column}{who}: {rec.problem}")
    if len(errors) > args.max_shown:
        print(f"  ... and {len(errors) - args.max_shown:,} more (use --errors FILE)")
    if args.errors:
        write_table(errors, args.errors)
        print(f"Errors written to {args.errors}")
    return EXIT_ROW_PROBLEMS


def _sample(args) -> int:
    from devplan.datasets import make_organisation

    if args.employees < 1:
        raise ValueError(f"Got --employees {args.employees}; expected at least 1.")
    start = time.perf_counter()
    bundle = make_organisation(
        args.employees, random_state=args.seed, item_level=not args.competency_level
    )
    write_bundle(bundle, args.out, format=args.format)
    print(
        f"Wrote a synthetic organisation of {len(bundle.employees):,} employees "
        f"({len(bundle.assessments):,} ratings) to {args.out} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return EXIT_OK


def _plan(args) -> int:
    from devplan._batch import run_batch

    if args.engine == "local" and args.scheduler:
        raise ValueError(
            f"Got --scheduler {args.scheduler} with --engine local; "
            "expected --engine dask."
        )
    report = run_batch(
        args.bundle,
        args.out,
        config=args.config,
        n_jobs=args.jobs,
        engine=args.engine,
        scheduler=args.scheduler,
        format=args.format,
        excel=args.excel,
        ics=args.ics,
        resume=args.resume,
        chunk_size=args.chunk_size,
        progress=False if args.quiet else None,
        item_effects=args.item_effects,
        html=args.html,
        html_employees=args.html_employees,
    )
    if not args.quiet:
        print(report.summary())
    return EXIT_OK


def _write_html(html: str, target: Path) -> Path:
    from devplan._bundle import atomic_path

    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return target


def _report(args) -> int:
    from devplan._tna import tna

    bundle, config = _load(args)
    if args.tna:
        from devplan._scoring import CompetencyScorer

        plans = None
        profiles = CompetencyScorer.from_config(config).fit(bundle).profiles(bundle)
    else:
        # the organisation report shows plans too: score, track and plan
        from devplan._engine import generate_plans

        plans = generate_plans(bundle, config=config)
        profiles = plans.profiles
    result = tna(
        profiles,
        bundle.employees,
        bundle.roles,
        bundle.catalog,
        competencies=bundle.competencies,
        budget=args.budget,
        sd_y=args.sd_y,
    )
    if plans is not None:
        from devplan._reports import organisation_report

        target = _write_html(
            organisation_report(plans, bundle, analysis=result),
            args.out / "organisation.html",
        )
        print(f"Organisation report written to {target}")
        return EXIT_OK
    for name, table in result.tables.items():
        write_table(table, args.out / f"{name}.{args.format}")
    print(result.summary())
    print(f"Tables written to {args.out}")
    return EXIT_OK


def _read_plans(path: Path) -> tuple:
    """The plans table (and plan summary, if beside it) of a run or a file."""
    import pandas as pd

    def read(file: Path):
        if file.suffix == ".parquet":
            return pd.read_parquet(file)
        ids = {"employee_id": str, "item_id": str, "competency_id": str}
        return pd.read_csv(file, dtype=ids)

    if path.is_dir():
        found = {
            name: next(
                (
                    path / f"{name}{ext}"
                    for ext in (".parquet", ".csv")
                    if (path / f"{name}{ext}").exists()
                ),
                None,
            )
            for name in ("plans", "plan_summary")
        }
        if found["plans"] is None:
            raise ValueError(
                f"Got {path}; expected an output folder with plans.csv or "
                "plans.parquet, or a plans file."
            )
        summary = read(found["plan_summary"]) if found["plan_summary"] else None
        return read(found["plans"]), summary
    if path.suffix not in (".csv", ".parquet") or not path.exists():
        raise ValueError(f"Got {path}; expected an existing .csv or .parquet file.")
    return read(path), None


def _audit(args) -> int:
    from devplan._fairness import audit_fairness

    bundle, _ = _load(args)
    plans, summary = _read_plans(args.plans)
    audit = audit_fairness(
        plans,
        bundle.employees,
        catalog=bundle.catalog,
        groups=tuple(args.groups),
        plan_summary=summary,
    )
    for name, table in audit.tables.items():
        write_table(table, args.out / f"{name}.{args.format}")
    from devplan._reports import audit_report

    _write_html(audit_report(audit), args.out / "fairness_audit.html")
    print(audit.summary())
    print(f"Tables and fairness_audit.html written to {args.out}")
    return EXIT_OK if audit.passed else EXIT_ROW_PROBLEMS


def _read_table(path: Path, name: str):
    import pandas as pd

    if not path.is_file():
        raise ValueError(f"Got --{name} {path}, which is not a file.")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix != ".csv":
        raise ValueError(f"Got --{name} {path}; expected a .csv or .parquet file.")
    ids = {"employee_id": str, "item_id": str, "competency_id": str}
    return pd.read_csv(path, dtype=ids)


def _evaluate(args) -> int:
    from devplan._evaluate import evaluate
    from devplan._learning import learn_item_effects

    config = load_config(args.config, bundle=args.before)
    before = read_bundle(args.before, config=config)
    after = read_bundle(args.after, config=config)
    plans = _read_table(args.plans, "plans") if args.plans else None
    business = (
        _read_table(args.business_measures, "business-measures")
        if args.business_measures
        else None
    )
    result = evaluate(
        before, after, plans=plans, business_measures=business, config=config
    )
    tables = dict(result.tables)
    tables["item_effects"] = learn_item_effects(result, before.catalog)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write_table(table, args.out / f"{name}.csv")
    from devplan._reports import evaluation_report

    _write_html(evaluation_report(result), args.out / "evaluation.html")
    print(result.summary())
    print(
        f"Wrote {len(tables)} tables and evaluation.html to {args.out} "
        "(item_effects.csv feeds devplan plan --item-effects)."
    )
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``devplan`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        The exit status: 0 success, 1 row problems (``validate``) or
        flagged disparities (``audit``), 2 an unusable bundle or invalid
        settings.
    """
    args = _parser().parse_args(argv)
    handlers = {
        "validate": _validate,
        "sample": _sample,
        "plan": _plan,
        "report": _report,
        "audit": _audit,
        "evaluate": _evaluate,
    }
    # what exists now (the imports' modules, classes and functions: about
    # 140,000 objects) outlives the command; frozen, it is not traversed
    # again by each garbage collection a large run makes between stages
    gc.freeze()
    try:
        return handlers[args.command](args)
    except BundleError as exc:
        print(f"devplan: bundle unusable: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except ValueError as exc:
        print(f"devplan: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    finally:
        gc.unfreeze()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
