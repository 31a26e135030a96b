"""Measure the true value of devplan's plans against random plans and an old version.

On synthetic organisations whose ground truth is known
(:func:`devplan.datasets.make_organisation` with ``return_truth=True``), the
script plans everyone with two devplan versions through their command line
(``python -m devplan._cli plan``) in subprocesses, "new" (this source tree)
and "old" (``--old-src``, an older commit reading the same bundle format),
builds random feasible plans as a floor, and scores all of them with the
truth that the planner never sees.

For every (world, seed, catalog size) it prints one row:

- ``new/random``, ``old/random``, ``new/old``: ratios of the organisation's
  true plan value (below); ``random`` is the mean over 3 random draws.
- ``talent share``: the share of all plan hours (pooled over people) on
  items whose primary competency is one of the person's true talents. The
  primary competency is the one with the largest weight in the catalog's
  ``competencies`` column (weight 1 when not given; the first listed on a
  tie); a plan row whose item is not in the catalog (a "mentor someone" step)
  counts with the row's ``competency_id``.
- ``time used``: the median over employees of planned hours ÷
  (``learning_hours_per_month`` × 12).
- ``empty``: employees of the bundle without a single plan row.
- ``strength share``: the median of ``plan_summary.strength_share``; when a
  version does not write that column, the median over people with a plan of
  their hours on ``purpose == "leverage_strength"`` rows ÷ their plan hours.

followed by the mean and the minimum over seeds of each ratio per world and
catalog size, and notes on plans that exceed a person's hours or budget.

Worlds: ``default`` (the generator's defaults), ``education_strong``
(``kind_effects="education_strong"``), ``demanding`` (``role_demand=1.4``)
and ``few_talents`` (``talents_per_person=1``). Only the chosen world's
keyword arguments are passed to the generator.

Notes
-----
The true value of a plan for one person, with true levels :math:`L_c`
(``truth.levels``), true talents (``truth.talents``) and true item effects
:math:`e_{ic}` (``truth.item_effects``, gain in scale points per
completion):

.. math::

    R_c = \\sum_{i \\in \\text{plan}} e_{ic}, \\qquad
    g_c = \\max(r_c - L_c, 0),

    V = \\sum_c \\Big[ w_c \\min(R_c, g_c)
        + 1.5\\, t_c\\, G \\big(1 - e^{-R_c / G}\\big) \\Big],
    \\qquad G = 0.5,

where :math:`r_c` is the required level of the person's role, :math:`w_c`
is 1.0 for a critical and 0.6 for an important requirement (0 for useful or
no requirement; a missing importance is "important", as in the data
contract) and :math:`t_c` is 1 when :math:`c` is a true talent of the
person. Closing a real gap pays up to the gap; growing a real talent pays
with diminishing returns. Steps without a catalog item (mentoring someone)
have no true effect. The organisation's value is the sum over people.

A random feasible plan takes, for each person, the catalog items they may
take in a random order: item ``language`` empty or the person's language
(any item when the person has none), item ``tracks`` empty or containing
the person's track (the new run's ``tracks.csv``), not completed before (a
``completed`` enrolment), and every prerequisite completed before or
already in the random plan. An item is added while the person's hours
(``learning_hours_per_month`` × 12) and ``budget`` still allow it; missing
values take the configured defaults, as the data contract says (4 hours a
month, 1500). Items blocked only by a prerequisite are retried after each
pass until a pass adds nothing.

Usage::

    python benchmarks/eval_plans.py
    python benchmarks/eval_plans.py --people 300 --seeds 1 --worlds default \\
        --catalog-sizes 150 --csv eval.csv

Run it with this tree's ``src`` on ``PYTHONPATH`` (it generates the data with
it). The exit status is 1, with the tail of its standard error, when a
version's command line fails, or when the generator does not know a world's
arguments.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import devplan
from devplan.datasets import make_organisation

WORLDS = {
    "default": {},
    "education_strong": {"kind_effects": "education_strong"},
    "demanding": {"role_demand": 1.4},
    "few_talents": {"talents_per_person": 1},
}
IMPORTANCE_WEIGHT = {"critical": 1.0, "important": 0.6}
TALENT_WEIGHT, TALENT_SCALE = 1.5, 0.5
HORIZON_MONTHS = 12
N_RANDOM = 3
NEW_SRC = Path(__file__).resolve().parents[1] / "src"
ID_COLUMNS = ("employee_id", "item_id", "competency_id", "mentor_id", "mentee_id")
RATIOS = ("new/random", "old/random", "new/old")


class RunFailed(RuntimeError):
    """A devplan command line run or the generator failed."""


def _split(cell) -> list[str]:
    if not isinstance(cell, str):
        return []
    return [part.strip() for part in cell.split(";") if part.strip()]


def _primary(cell) -> str | None:
    best, best_weight = None, -np.inf
    for part in _split(cell):
        comp, _, weight = part.partition(":")
        value = float(weight) if weight.strip() else 1.0
        if value > best_weight:
            best, best_weight = comp.strip(), value
    return best


def _run_cli(version: str, src: Path, bundle: Path, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-m", "devplan._cli", "plan", str(bundle)]
    command += ["--out", str(out), "--quiet"]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-20:])
        raise RunFailed(
            f"devplan plan failed for version {version!r} (source {src}, exit "
            f"status {done.returncode}); the end of its stderr:\n{tail}"
        )


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=dict.fromkeys(ID_COLUMNS, str))


class World:
    """Arrays of one organisation and its truth, aligned on people and items."""

    def __init__(self, bundle, truth, tracks: pd.DataFrame):
        config = devplan.Config()
        employees = bundle.employees.reset_index(drop=True)
        catalog = bundle.catalog.reset_index(drop=True)
        self.people = employees["employee_id"].astype(str)
        self.items = catalog["item_id"].astype(str)
        person_at = pd.Series(np.arange(len(self.people)), index=self.people)
        item_at = pd.Series(np.arange(len(self.items)), index=self.items)
        self.person_at, self.item_at = person_at, item_at
        levels = truth.levels.reindex(self.people)
        self.competencies = pd.Index(levels.columns.astype(str))
        comp_at = pd.Series(np.arange(len(self.competencies)), self.competencies)
        n_people, n_items = len(self.people), len(self.items)

        # true effects: items × competencies
        eff = truth.item_effects
        eff = eff[eff["item_id"].isin(item_at.index)]
        eff = eff[eff["competency_id"].isin(comp_at.index)]
        self.effects = np.zeros((n_items, len(self.competencies)))
        np.add.at(
            self.effects,
            (item_at[eff["item_id"]].to_numpy(), comp_at[eff["competency_id"]]),
            eff["effect"].to_numpy(float),
        )

        # gap weights and true gaps
        roles = bundle.roles.copy()
        roles["importance"] = roles["importance"].fillna("important")
        roles = roles[roles["importance"].isin(IMPORTANCE_WEIGHT)]
        roles = roles[roles["competency_id"].isin(comp_at.index)]
        req = employees[["employee_id", "role_id"]].merge(roles, on="role_id")
        rows = person_at[req["employee_id"]].to_numpy()
        cols = comp_at[req["competency_id"]].to_numpy()
        self.weights = np.zeros((n_people, len(self.competencies)))
        required = np.zeros_like(self.weights)
        self.weights[rows, cols] = req["importance"].map(IMPORTANCE_WEIGHT).to_numpy()
        required[rows, cols] = req["required_level"].to_numpy(float)
        true_levels = levels.to_numpy(float)
        self.gaps = np.where(
            self.weights > 0, np.clip(required - true_levels, 0, None), 0.0
        )

        talents = truth.talents[truth.talents["employee_id"].isin(person_at.index)]
        talents = talents[talents["competency_id"].isin(comp_at.index)]
        self.talent = np.zeros((n_people, len(self.competencies)), dtype=bool)
        self.talent[
            person_at[talents["employee_id"]].to_numpy(),
            comp_at[talents["competency_id"]].to_numpy(),
        ] = True
        self.talent_set = set(
            zip(talents["employee_id"], talents["competency_id"], strict=True)
        )
        self.primary = pd.Series(
            catalog["competencies"].map(_primary).to_numpy(), index=self.items
        )

        hours_per_month = employees["learning_hours_per_month"].astype(float)
        hours_per_month = hours_per_month.fillna(config.learning_hours_per_month)
        self.hours = hours_per_month.to_numpy() * HORIZON_MONTHS
        self.budget = employees["budget"].astype(float).fillna(config.budget).to_numpy()
        self.item_hours = catalog["hours"].astype(float).to_numpy()
        self.item_cost = catalog["cost"].astype(float).fillna(0.0).to_numpy()

        # feasibility: people × items
        language = employees["language"].astype("string").fillna("").to_numpy()
        item_language = catalog["language"].astype("string").fillna("").to_numpy()
        feasible = (
            (item_language[None, :] == "")
            | (language[:, None] == "")
            | (item_language[None, :] == language[:, None])
        )
        track = (
            tracks.drop_duplicates("employee_id")
            .set_index("employee_id")["track"]
            .reindex(self.people)
            .fillna("")
            .to_numpy()
        )
        for j, cell in enumerate(catalog["tracks"]):
            suits = _split(cell)
            if suits:
                feasible[:, j] &= np.isin(track, suits)
        # prerequisites may name ids outside the catalog: extra columns that
        # can only be satisfied by a completed enrolment
        prereqs = [_split(cell) for cell in catalog["prerequisites"]]
        extra = sorted({p for ps in prereqs for p in ps} - set(self.items))
        ids = pd.Series(np.arange(n_items + len(extra)), index=[*self.items, *extra])
        self.prereq = np.zeros((n_items, len(ids)), dtype=bool)
        for j, ps in enumerate(prereqs):
            self.prereq[j, ids[ps].to_numpy()] = True
        self.has_prereq = self.prereq.any(axis=1)
        done = bundle.enrolments
        done = done[done["status"].eq("completed")]
        done = done[done["employee_id"].isin(person_at.index)]
        done = done[done["item_id"].isin(ids.index)]
        self.completed = np.zeros((n_people, len(ids)), dtype=bool)
        self.completed[
            person_at[done["employee_id"]].to_numpy(), ids[done["item_id"]].to_numpy()
        ] = True
        feasible &= ~self.completed[:, :n_items]
        self.feasible = feasible

    def value(self, counts: np.ndarray) -> float:
        """True value of plans given as completions per person × item."""
        gain = counts @ self.effects
        gap_term = self.weights * np.minimum(gain, self.gaps)
        talent_term = (
            TALENT_WEIGHT
            * self.talent
            * TALENT_SCALE
            * (1 - np.exp(-gain / TALENT_SCALE))
        )
        return float((gap_term + talent_term).sum())

    def random_plans(self, rng: np.random.Generator) -> np.ndarray:
        """One random feasible plan per person: a boolean person × item array."""
        n_people, n_items = self.feasible.shape
        keys = np.where(self.feasible, rng.random(self.feasible.shape), np.inf)
        order = np.argsort(keys, axis=1)
        n_feasible = self.feasible.sum(axis=1)
        have = self.completed.copy()  # completed before or in the plan
        planned = np.zeros((n_people, n_items), dtype=bool)
        hours_left, budget_left = self.hours.copy(), self.budget.copy()
        while True:
            added = 0
            for k in range(int(n_feasible.max(initial=0))):
                rows = np.flatnonzero(n_feasible > k)
                item = order[rows, k]
                ok = ~planned[rows, item]
                ok &= self.item_hours[item] <= hours_left[rows] + 1e-9
                ok &= self.item_cost[item] <= budget_left[rows] + 1e-9
                check = ok & self.has_prereq[item]
                if check.any():
                    missing = self.prereq[item[check]] & ~have[rows[check]]
                    ok[check] = ~missing.any(axis=1)
                rows, item = rows[ok], item[ok]
                planned[rows, item] = have[rows, item] = True
                hours_left[rows] -= self.item_hours[item]
                budget_left[rows] -= self.item_cost[item]
                added += len(rows)
            if not added:
                return planned

    def plan_metrics(self, plans: pd.DataFrame, summary: pd.DataFrame) -> dict:
        """True value and the descriptive measures of one version's plans."""
        plans = plans[plans["employee_id"].isin(self.person_at.index)]
        in_catalog = plans[plans["item_id"].isin(self.item_at.index)]
        counts = np.zeros(self.feasible.shape)
        np.add.at(
            counts,
            (
                self.person_at[in_catalog["employee_id"]].to_numpy(),
                self.item_at[in_catalog["item_id"]].to_numpy(),
            ),
            1.0,
        )
        hours = plans["hours"].astype(float).fillna(0.0)
        primary = plans["item_id"].map(self.primary).fillna(plans["competency_id"])
        on_talent = [
            (person, comp) in self.talent_set
            for person, comp in zip(plans["employee_id"], primary, strict=True)
        ]
        total = hours.sum()
        per_person = hours.groupby(plans["employee_id"]).sum()
        per_person = per_person.reindex(self.people, fill_value=0.0).to_numpy()
        cost = plans["cost"].astype(float).fillna(0.0).groupby(plans["employee_id"])
        cost = cost.sum().reindex(self.people, fill_value=0.0).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            used = np.where(self.hours > 0, per_person / self.hours, np.nan)
        if "strength_share" in summary.columns:
            strength = summary["strength_share"].astype(float).median()
        else:
            lever = hours.where(plans["purpose"].eq("leverage_strength"), 0.0)
            lever = lever.groupby(plans["employee_id"]).sum()
            own = hours.groupby(plans["employee_id"]).sum()
            strength = (lever[own > 0] / own[own > 0]).median()
        return {
            "value": self.value(counts),
            "talent share": float(hours[on_talent].sum() / total) if total else 0.0,
            "time used": float(np.nanmedian(used)),
            "empty": int((~self.people.isin(plans["employee_id"])).sum()),
            "strength share": float(strength),
            "over hours": int((per_person > self.hours + 1e-6).sum()),
            "over budget": int((cost > self.budget + 1e-6).sum()),
        }


def evaluate_one(world_name, seed, size, args, workdir: Path) -> tuple[dict, list]:
    """Plan and score one organisation; return its table row and notes."""
    kwargs = dict(WORLDS[world_name])
    if size != "default":
        kwargs["n_catalog_items"] = int(size)
    try:
        bundle, truth = make_organisation(
            args.people, random_state=seed, return_truth=True, **kwargs
        )
    except TypeError as exc:
        raise RunFailed(
            f"The generator does not accept the arguments of world "
            f"{world_name!r} ({kwargs}): {exc}"
        ) from exc
    folder = workdir / f"{world_name}-{seed}-{size}"
    devplan.write_bundle(bundle, folder / "bundle")
    versions = {"new": NEW_SRC}
    if args.old_src:
        versions["old"] = Path(args.old_src)
    outputs = {}
    for version, src in versions.items():
        _run_cli(version, src, folder / "bundle", folder / version)
        outputs[version] = (
            _read(folder / version / "plans.csv"),
            _read(folder / version / "plan_summary.csv"),
        )
    world = World(bundle, truth, _read(folder / "new" / "tracks.csv"))
    metrics = {v: world.plan_metrics(*outputs[v]) for v in outputs}
    rng = np.random.default_rng(seed)
    random_value = np.mean(
        [world.value(world.random_plans(rng).astype(float)) for _ in range(N_RANDOM)]
    )
    new, old = metrics["new"], metrics.get("old")

    def ratio(a, b):
        return a / b if b else np.nan

    row = {
        "world": world_name,
        "seed": seed,
        "items": len(bundle.catalog),
        "new/random": ratio(new["value"], random_value),
        "old/random": ratio(old["value"], random_value) if old else np.nan,
        "new/old": ratio(new["value"], old["value"]) if old else np.nan,
    }
    for measure in ("talent share", "time used", "empty", "strength share"):
        for version in ("new", "old"):
            found = metrics.get(version)
            row[f"{measure} {version}"] = found[measure] if found else np.nan
    notes = [
        f"{world_name} seed {seed} items {row['items']}: {version} plans exceed "
        f"the hours of {m['over hours']} and the budget of {m['over budget']} "
        f"of {len(world.people)} people"
        for version, m in metrics.items()
        if m["over hours"] or m["over budget"]
    ]
    return row, notes


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seeds", default="1,2,3,4", help="comma-separated")
    parser.add_argument(
        "--worlds", default=",".join(WORLDS), help=f"from {', '.join(WORLDS)}"
    )
    parser.add_argument(
        "--catalog-sizes",
        default="150,400",
        help="comma-separated n_catalog_items; 'default': the generator's",
    )
    parser.add_argument(
        "--old-src",
        default="/work/wt-old/src",
        help="source tree of the old version; '' skips it",
    )
    parser.add_argument("--csv", type=Path, help="also write the table here")
    args = parser.parse_args(argv)

    seeds = [int(s) for s in _list(args.seeds)]
    worlds = _list(args.worlds)
    unknown = [w for w in worlds if w not in WORLDS]
    if unknown:
        parser.error(f"Got --worlds {unknown}; expected some of {', '.join(WORLDS)}.")
    sizes = _list(args.catalog_sizes)
    bad = [s for s in sizes if s != "default" and not s.isdigit()]
    if bad:
        parser.error(f"Got --catalog-sizes {bad}; expected integers or 'default'.")
    if args.old_src and not (Path(args.old_src) / "devplan").is_dir():
        parser.error(f"Got --old-src {args.old_src!r}; it holds no devplan package.")

    rows, notes = [], []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="devplan-eval-") as tmp:
        for world_name in worlds:
            for size in sizes:
                for seed in seeds:
                    tick = time.perf_counter()
                    try:
                        row, more = evaluate_one(
                            world_name, seed, size, args, Path(tmp)
                        )
                    except RunFailed as exc:
                        print(f"eval_plans: {exc}", file=sys.stderr)
                        return 1
                    rows.append(row)
                    notes += more
                    print(
                        f"{world_name} seed {seed} items {row['items']}: "
                        f"{time.perf_counter() - tick:.1f} s",
                        file=sys.stderr,
                    )
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", None):
        print(table.to_string(index=False, float_format="{:.3f}".format))
        summary = table.groupby(["world", "items"])[list(RATIOS)].agg(["mean", "min"])
        print("\nSummary over seeds")
        print(summary.to_string(float_format="{:.3f}".format))
    for note in notes:
        print(f"note: {note}")
    print(f"\n{len(rows)} runs in {time.perf_counter() - start:.0f} s")
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
