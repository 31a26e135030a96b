"""Two-cycle learning experiment on synthetic organisations.

For each seed: simulate an organisation, plan with the catalog's stated
effects, play out the plan year (``simulate_next_cycle``), evaluate, learn
item effects, then plan the second cycle twice (stated vs learned effects,
same budgets) and compare the plans' TRUE benefit: the sum over plan items
of the item's true effects on the competencies it serves (scale points the
plans would add if completed; ``ratio`` = learned / stated), and the true
level gain if every plan item were completed, capped at the top of the
scale (``ratio_capped``). ``pearson_r``/``spearman_r`` correlate the learned
effects with the true ones over the links with at least two completers
(``pearson_stated``: the stated effects). Prints a table.

Usage: python benchmarks/bench_learning.py [n_employees] [seeds...]
"""

from __future__ import annotations

import sys
import time

import pandas as pd
from scipy import stats

import devplan
from devplan.datasets import make_organisation, simulate_next_cycle


def true_benefit(plans: pd.DataFrame, truth_effects: pd.DataFrame) -> float:
    """Sum over plan items of the item's true effects (scale points)."""
    per_item = truth_effects.groupby("item_id", observed=True)["effect"].sum()
    items = plans["item_id"].astype(str)
    return float(per_item.reindex(items).fillna(0.0).sum())


def true_gain(plans: pd.DataFrame, truth_effects: pd.DataFrame, levels) -> float:
    """True level gain if every plan item is completed (capped at the scale).

    ``levels`` are the true levels (employee × competency) when the plans
    start; a competency cannot rise above 5.
    """
    eff = truth_effects.pivot_table(
        index="item_id", columns="competency_id", values="effect", fill_value=0.0
    ).reindex(columns=levels.columns, fill_value=0.0)
    rows = plans[["employee_id", "item_id"]].astype(str)
    gain = eff.reindex(rows["item_id"]).fillna(0.0).to_numpy()
    per_person = (
        pd.DataFrame(gain, columns=levels.columns)
        .groupby(rows["employee_id"].to_numpy())
        .sum()
    )
    base = levels.reindex(per_person.index)
    return float(((base + per_person).clip(upper=5.0) - base).to_numpy().sum())


def run(n: int, seed: int) -> dict:
    start = time.perf_counter()
    bundle, truth = make_organisation(n, random_state=seed, return_truth=True)
    first = devplan.generate_plans(bundle)
    bundle2, truth2 = simulate_next_cycle(bundle, truth, first.plans, random_state=seed)
    ev = devplan.evaluate(bundle, bundle2, plans=first.plans)
    learned = devplan.learn_item_effects(ev, bundle.catalog)
    cmp = learned.merge(
        truth.item_effects.rename(columns={"effect": "true"}),
        on=["item_id", "competency_id"],
    )
    seen = cmp["n_completers"] >= 2
    stated_plans = devplan.generate_plans(bundle2).plans
    learned_plans = devplan.generate_plans(bundle2, item_effects=learned).plans
    b_stated = true_benefit(stated_plans, truth.item_effects)
    b_learned = true_benefit(learned_plans, truth.item_effects)
    return {
        "n": n,
        "seed": seed,
        "links_seen": int(seen.sum()),
        "pearson_r": stats.pearsonr(cmp["effect"][seen], cmp["true"][seen])[0],
        "spearman_r": stats.spearmanr(cmp["effect"][seen], cmp["true"][seen])[0],
        "pearson_stated": stats.pearsonr(cmp["stated_effect"][seen], cmp["true"][seen])[
            0
        ],
        "benefit_stated": b_stated,
        "benefit_learned": b_learned,
        "ratio": b_learned / b_stated,
        "ratio_capped": true_gain(learned_plans, truth.item_effects, truth2.levels)
        / true_gain(stated_plans, truth.item_effects, truth2.levels),
        "hours_stated": float(stated_plans["hours"].sum()),
        "hours_learned": float(learned_plans["hours"].sum()),
        "seconds": time.perf_counter() - start,
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    seeds = [int(s) for s in sys.argv[2:]] or [0, 1, 2]
    rows = pd.DataFrame([run(n, s) for s in seeds])
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(rows.round(3).to_string(index=False))
