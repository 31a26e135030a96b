"""The ``devplan`` command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from devplan import __version__
from devplan._bundle import (
    FORMATS,
    BundleError,
    atomic_path,
    file_hashes,
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
        description="Read and validate a bundle and write the run's outputs.",
    )
    p.add_argument("bundle", type=Path, help="bundle folder")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--config", type=Path, help="settings file (devplan.toml)")
    p.add_argument(
        "--format", choices=("csv", "parquet"), default="csv", help="table format"
    )
    p.add_argument(
        "--ics",
        action="store_true",
        help="also write iCalendar files per employee and manager (calendar/)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but problems")
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
    from devplan._engine import generate_plans
    from devplan._schedule import write_ics
    from devplan._scoring import CompetencyScorer, summarise_profiles
    from devplan._tracks import track_summary

    timings = {}
    start = time.perf_counter()
    bundle, config = _load(args)
    timings["read_and_validate"] = time.perf_counter() - start

    start = time.perf_counter()
    scorer = CompetencyScorer.from_config(config).fit(bundle)
    timings["fit_norms"] = time.perf_counter() - start
    start = time.perf_counter()
    result = generate_plans(bundle, config, scorer=scorer)
    timings["score_track_plan"] = time.perf_counter() - start

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    suffix = "." + args.format
    tables = dict(result.tables)
    tables["profile_summary"] = summarise_profiles(
        result.profiles, agreement_threshold=config.scoring.agreement_threshold
    )
    tables["reliability"] = scorer.reliability_
    tables["track_summary"] = track_summary(
        result.tracks, bundle.employees, bundle.roles
    )
    for name, table in tables.items():
        write_table(table, out / f"{name}{suffix}")
    result.write_jsonl(out / "plans.jsonl")
    if args.ics:
        write_ics(result.followups, out / "calendar")
    timings["write"] = time.perf_counter() - start

    n_in = bundle.input_rows["employees"]
    rejected = bundle.errors.loc[bundle.errors["table"] == "employees", "row"].nunique()
    planned = result.plan_summary["employee_id"].nunique()
    run = {
        "devplan_version": __version__,
        "bundle": str(args.bundle),
        "config": config.model_dump(mode="json"),
        "start_date": result.start_date.isoformat(),
        "input_files": file_hashes(args.bundle),
        "counts": {
            "input_rows": bundle.input_rows,
            "employees_in": n_in,
            "employees_with_a_plan": int(planned),
            "employees_in_errors": int(rejected),
            "plan_items": len(result.plans),
            "followups": len(result.followups),
            "unmet_needs": len(result.unmet_needs),
            "error_rows": len(bundle.errors),
        },
        "nothing_lost": n_in == int(planned) + int(rejected),
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    with atomic_path(out / "run.json") as tmp:
        tmp.write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    if not args.quiet:
        print(bundle.summary())
        mix = result.tracks["track"].value_counts()
        print(
            "\nTracks: "
            + ", ".join(f"{name} {int(mix.get(name, 0)):,}" for name in mix.index)
        )
        summary = result.plan_summary
        print(
            f"Plans: {planned:,} employees, {len(result.plans):,} items, "
            f"{summary['hours'].sum():,.0f} h, {summary['cost'].sum():,.0f} "
            f"{config.currency}; {len(result.unmet_needs):,} needs the catalog "
            f"could not serve; {len(result.followups):,} follow-ups from "
            f"{result.start_date.isoformat()}."
        )
        print(
            f"{rejected:,} employee row(s) set aside (see {out / ('errors' + suffix)})."
            f" Outputs in {out}."
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
        The exit status: 0 success, 1 row problems (``validate``), 2 an
        unusable bundle or invalid settings.
    """
    args = _parser().parse_args(argv)
    handlers = {"validate": _validate, "sample": _sample, "plan": _plan}
    try:
        return handlers[args.command](args)
    except BundleError as exc:
        print(f"devplan: bundle unusable: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except ValueError as exc:
        print(f"devplan: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
