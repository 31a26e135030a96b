"""Plan selection (``devplan._select``): the objective by hand, the solvers
against a brute-force optimum, the strength-first split.

Expected values come from hand computations (in the comments) or from
enumerating every subset of a person's candidates (``_brute_force``, used only
here).
"""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from devplan._select import (
    Block,
    Objective,
    exact,
    greedy,
    group_hours,
    growth,
    objective,
    order,
    replay,
    saturation,
)

SEED = 20240611
TOL = 1e-9


def make_block(people, n_comp):
    """A Block from plain per-person descriptions.

    ``people``: list of dicts with ``items`` (list of dicts: ``comps``
    {competency: v}, ``h``, ``cost`` (0), ``group`` (0), ``strong`` (False),
    ``pre`` (candidate positions, [])), ``a``, ``gap``, ``b``, ``critical``
    (length ``n_comp``), ``hours``, ``budget`` (0), ``band`` (False),
    ``exception`` (False).
    """
    n = len(people)
    m = max(max(len(p["items"]) for p in people), 1)
    w = max([len(it["comps"]) for p in people for it in p["items"]] + [1])
    n_pre = max([len(it.get("pre", ())) for p in people for it in p["items"]] + [1])
    sc = np.zeros((w, n, m), dtype=np.int64)
    v = np.zeros((w, n, m))
    pre = np.full((n_pre, n, m), -1, dtype=np.int64)
    h, cost = np.zeros((n, m)), np.zeros((n, m))
    group = np.zeros((n, m), dtype=np.int64)
    strong = np.zeros((n, m), dtype=bool)
    valid = np.zeros((n, m), dtype=bool)
    for i, person in enumerate(people):
        for k, item in enumerate(person["items"]):
            valid[i, k] = True
            for s, (c, value) in enumerate(item["comps"].items()):
                sc[s, i, k], v[s, i, k] = c, value
            for s, p in enumerate(item.get("pre", ())):
                pre[s, i, k] = p
            h[i, k] = item["h"]
            cost[i, k] = item.get("cost", 0.0)
            group[i, k] = item.get("group", 0)
            strong[i, k] = item.get("strong", False)

    def comp(name, dtype=float):
        return np.array(
            [p.get(name, np.zeros(n_comp)) for p in people], dtype=dtype
        ).reshape(n, n_comp)

    return Block(
        idx=np.tile(np.arange(m), (n, 1)),
        valid=valid,
        sc=sc,
        v=v,
        h=h,
        cost=cost,
        group=group,
        strong=strong,
        pre=pre,
        a=comp("a"),
        gap=comp("gap"),
        b=comp("b"),
        critical=comp("critical", bool),
        hours=np.array([p["hours"] for p in people], dtype=float),
        budget=np.array([p.get("budget", 0.0) for p in people], dtype=float),
        band=np.array([p.get("band", False) for p in people], dtype=bool),
        exception=np.array([p.get("exception", False) for p in people], dtype=bool),
    )


def objective_of(*, mu=0.0, g=0.5, f=0.7, delta=0.05, cap=None):
    return Objective(g, mu, (0.7, 0.2, 0.1), f, delta, cap)


def one_person(items, n_comp, **person):
    return make_block([{"items": items, **person}], n_comp)


# -- the objective by hand ---------------------------------------------------


def test_saturation_is_concave_within_a_competency():
    # one strength competency, b = 1.5, G = 0.5, no gap, no mix bonus
    blk = one_person(
        [{"comps": {0: 0.3}, "h": 4}, {"comps": {0: 0.3}, "h": 4}],
        1,
        b=[1.5],
        hours=10,
    )
    obj = objective_of()
    one = objective(blk, obj, np.array([[True, False]]))[0]
    two = objective(blk, obj, np.array([[True, True]]))[0]
    # one item:  1.5 * 0.5 * (1 - exp(-0.3 / 0.5)) = 0.75 * (1 - 0.5488116361)
    #          = 0.75 * 0.4511883639 = 0.3383912729
    # two items: 0.75 * (1 - exp(-0.6 / 0.5)) = 0.75 * (1 - 0.3011942119)
    #          = 0.75 * 0.6988057881 = 0.5241043411 < 2 * 0.3383912729 = 0.6767825
    assert_allclose(one, 0.3383912729, rtol=1e-9)
    assert_allclose(two, 0.5241043411, rtol=1e-9)
    assert two < 2 * one - 0.1
    # nothing taken is worth nothing
    assert objective(blk, obj, np.zeros((1, 2), dtype=bool))[0] == 0.0


def test_gap_term_stops_at_the_gap():
    # competency 0: gap weight a = 1 up to a gap of 0.2, no saturation weight
    # competency 1: a = 0.6 up to 0.2 and b = 1 (G = 0.5)
    blk = one_person(
        [
            {"comps": {0: 0.4}, "h": 2},  # twice the gap
            {"comps": {0: 0.1}, "h": 2},  # half the gap
            {"comps": {1: 0.4}, "h": 2},
        ],
        2,
        a=[1.0, 0.6],
        gap=[0.2, 0.2],
        b=[0.0, 1.0],
        hours=10,
    )
    obj = objective_of()
    cases = {
        # min(0.4, 0.2) = 0.2: an item twice the gap earns only the gap
        (True, False, False): 0.2,
        # min(0.1, 0.2) = 0.1
        (False, True, False): 0.1,
        # min(0.5, 0.2) = 0.2: nothing beyond the gap
        (True, True, False): 0.2,
        # 0.6 * min(0.4, 0.2) + 1 * 0.5 * (1 - exp(-0.8))
        # = 0.12 + 0.5 * 0.5506710359 = 0.3953355179
        (False, False, True): 0.3953355179,
    }
    for taken, expected in cases.items():
        assert_allclose(objective(blk, obj, np.array([taken]))[0], expected, rtol=1e-9)


def test_mix_bonus_by_hand():
    # no growth value at all (a = b = 0): only mu sum_k min(H_k, t_k H) / H,
    # mu = 0.3, t = (0.7, 0.2, 0.1), H = 20 so t H = (14, 4, 2)
    blk = one_person(
        [
            {"comps": {0: 0.3}, "h": 10, "group": 0},
            {"comps": {0: 0.3}, "h": 8, "group": 1},
            {"comps": {0: 0.3}, "h": 1, "group": 2},
            {"comps": {0: 0.3}, "h": 6, "group": 0},
        ],
        1,
        hours=20,
        budget=0,
    )
    obj = objective_of(mu=0.3)
    cases = {
        # min(10, 14) + min(8, 4) + min(1, 2) = 15; 0.3 * 15 / 20 = 0.225
        (True, True, True, False): 0.225,
        # min(8, 4) = 4; 0.3 * 4 / 20 = 0.06
        (False, True, False, False): 0.06,
        # min(16, 14) + 4 + 1 = 19 (the over-target hours earn nothing);
        # 0.3 * 19 / 20 = 0.285
        (True, True, True, True): 0.285,
    }
    for taken, expected in cases.items():
        taken = np.array([taken])
        assert_allclose(objective(blk, obj, taken)[0], expected, rtol=1e-9)
    assert_allclose(
        group_hours(blk, np.array([[True, True, True, True]]))[0], [16, 8, 1]
    )


@pytest.mark.parametrize("g", [0.5, 1.3])
def test_piecewise_linear_saturation_within_documented_error(g):
    # the module's claim: |pwl - exact| < 0.002 G up to 2 G; the breakpoints
    # are chords of a concave curve, so pwl never exceeds it (and equals it
    # at R = 0)
    r = np.linspace(0.0, 2.0 * g, 4001)
    curve = g * (1 - np.exp(-r / g))
    pwl = saturation(r, g, pwl=True)
    assert_allclose(saturation(r, g), curve, rtol=1e-12, atol=1e-15)
    error = curve - pwl
    assert error.max() < 0.002 * g
    assert error.min() > -1e-12
    assert abs(pwl[0]) < 1e-12
    # from 2 G to the last breakpoint (15 G) it stays an under-estimate that
    # keeps rising
    far = np.linspace(2.0 * g, 15.0 * g, 200)
    pwl_far = saturation(far, g, pwl=True)
    assert (pwl_far <= g * (1 - np.exp(-far / g)) + 1e-12).all()
    assert (np.diff(pwl_far) >= -1e-12).all()


def test_growth_adds_values_per_competency():
    # item 0: 0.3 on c0 and 0.1 on c2; item 1: 0.2 on c0; item 2: 0.5 on c1
    blk = one_person(
        [
            {"comps": {0: 0.3, 2: 0.1}, "h": 1},
            {"comps": {0: 0.2}, "h": 1},
            {"comps": {1: 0.5}, "h": 1},
        ],
        3,
        hours=10,
    )
    assert_allclose(growth(blk, np.array([[True, True, False]]))[0], [0.5, 0, 0.1])
    assert_allclose(growth(blk, np.array([[False, True, True]]))[0], [0.2, 0.5, 0])


# -- hard rules and a brute-force optimum -------------------------------------


def _subsets(k):
    """Every subset of ``k`` candidates as rows of a bool matrix (2**k, k)."""
    return np.array(list(itertools.product([False, True], repeat=k)), dtype=bool)


def _violations(blk, obj, taken):
    """Per person, the hard rules the selections ``taken`` (n, m) break."""
    n = len(taken)
    out = [[] for _ in range(n)]
    hours = np.where(taken, blk.h, 0.0).sum(axis=1)
    money = np.where(taken, blk.cost, 0.0).sum(axis=1)
    strong = np.where(taken & blk.strong, blk.h, 0.0).sum(axis=1)
    lo, hi = obj.band()
    count = np.zeros(blk.a.shape, dtype=np.int64)
    for i in range(n):
        for c, v in zip(blk.sc[:, i], blk.v[:, i], strict=True):
            np.add.at(count[i], c[taken[i] & (v > 0)], 1)
    for i in range(n):
        if (taken[i] & ~blk.valid[i]).any():
            out[i].append("invalid candidate")
        if hours[i] > blk.hours[i] + 1e-9:
            out[i].append(f"hours {hours[i]} > {blk.hours[i]}")
        if money[i] > blk.budget[i] + 1e-9:
            out[i].append(f"budget {money[i]} > {blk.budget[i]}")
        for p in blk.pre[:, i]:
            need = p[taken[i] & (p >= 0)]
            if not taken[i, need].all():
                out[i].append("prerequisite missing")
        if blk.band[i] and hours[i] > 0:
            share = strong[i] / hours[i]
            if not lo - 1e-9 <= share <= hi + 1e-9:
                out[i].append(f"strength share {share:.3f} outside [{lo}, {hi}]")
        cap = obj.max_items_per_competency
        if cap is not None and (count[i] > cap).any():
            out[i].append(f"more than {cap} items on one competency")
    return out


def _brute_force(blk, obj):
    """Best feasible ``objective(pwl=True)`` per person, by enumeration, and
    the band as it applies: the module lifts it for a person none of whose
    non-empty plans keeps every rule with it (``band`` of the result)."""
    best = np.zeros(len(blk.h))
    band = blk.band.copy()
    for i in range(len(blk.h)):
        cand = np.flatnonzero(blk.valid[i])
        subsets = _subsets(len(cand))
        taken = np.zeros((len(subsets), blk.h.shape[1]), dtype=bool)
        taken[:, cand] = subsets
        many = blk.take(np.full(len(subsets), i))
        ok = np.array([not v for v in _violations(many, obj, taken)])
        if band[i] and not (ok & taken.any(axis=1)).any() and len(cand):
            band[i] = False
            many.band[:] = False
            ok = np.array([not v for v in _violations(many, obj, taken)])
        best[i] = objective(many, obj, taken, pwl=True)[ok].max()
    return best, band


def _as_applied(blk, band):
    """The block with the band as it applies."""
    out = blk.take(np.arange(len(blk.h)))
    out.band = band
    return out


def random_block(rng, n_people=3, max_cand=10, n_comp=3, f=0.7, delta=0.05):
    """People with random candidates, weights, resources and rules.

    Built as :class:`~devplan.PathRecommender` builds blocks: gaps outside
    the person's strengths, candidates touch a competency of value and fit
    the hours and money at all, an item is a strength item when at least half
    its growth goes to strengths, and the band holds for people who are not
    exceptions and whose strength items can fill ``f - delta`` of the hours.
    """
    people = []
    for _ in range(n_people):
        strength = rng.random(n_comp) < 0.4
        gap = np.where(
            ~strength & (rng.random(n_comp) < 0.6), rng.uniform(0.1, 1.0, n_comp), 0
        )
        critical = (gap > 0) & (rng.random(n_comp) < 0.5)
        a = np.where(critical, 1.0, rng.choice([0.0, 0.6], n_comp)) * (gap > 0)
        track = np.where(rng.random(n_comp) < 0.3, 0.5 * rng.random(n_comp), 0.0)
        b = 1.5 * strength + track + 0.2 * (rng.random(n_comp) < 0.3)
        hours = float(rng.integers(10, 80))
        budget = float(rng.choice([0.0, 500.0, 1500.0, 5000.0]))
        items = []
        for _ in range(int(rng.integers(1, max_cand + 1))):
            comps = rng.choice(n_comp, size=int(rng.integers(1, 3)), replace=False)
            v = rng.uniform(0.05, 0.6, len(comps))
            h = float(rng.integers(1, 25))
            cost = float(rng.choice([0.0, 0.0, 100.0, 400.0, 900.0]))
            if not ((a[comps] > 0) | (b[comps] > 0)).any():
                continue  # touches nothing of value: never a candidate
            if h > hours or cost > budget:
                continue
            on_strength = v[strength[comps]].sum()
            item = {
                "comps": dict(zip(comps.tolist(), v.tolist(), strict=True)),
                "h": h,
                "cost": cost,
                "group": int(rng.integers(0, 3)),
                "strong": bool(on_strength > 0 and on_strength >= 0.5 * v.sum()),
            }
            # prerequisites among the earlier candidates (chains allowed)
            if items and rng.random() < 0.25:
                item["pre"] = [int(rng.integers(0, len(items)))]
            items.append(item)
        exception = bool(critical.any() and rng.random() < 0.3)
        supply = sum(it["h"] for it in items if it["strong"])
        band = (
            not exception
            and any(it["strong"] for it in items)
            and supply >= (f - delta) * hours - 1e-9
        )
        people.append(
            {
                "items": items,
                "a": a,
                "gap": gap,
                "b": b,
                "critical": critical,
                "hours": hours,
                "budget": budget,
                "band": band,
                "exception": exception,
            }
        )
    return make_block(people, n_comp)


N_BLOCKS = 200


def solve_random_blocks():
    """Random tiny blocks, their brute-force optimum, greedy and exact plans."""
    rng = np.random.default_rng(SEED)
    out = []
    for b in range(N_BLOCKS):
        obj = objective_of(
            mu=float(rng.choice([0.0, 0.3])),
            delta=float(rng.choice([0.05, 0.15])),
            cap=[None, None, 1, 2][b % 4],
        )
        blk = random_block(
            rng,
            n_people=int(rng.integers(1, 5)),
            f=obj.strength_focus,
            delta=obj.strength_tolerance,
        )
        g_taken, when, phase, gain = greedy(blk, obj)
        x_taken = exact(blk, obj)
        best, band = _brute_force(blk, obj)
        out.append((_as_applied(blk, band), obj, best, g_taken, x_taken))
    return out


@pytest.fixture(scope="module")
def solved():
    return solve_random_blocks()


def test_exact_reaches_the_brute_force_optimum(solved):
    for b, (blk, obj, best, _, x_taken) in enumerate(solved):
        assert not any(_violations(blk, obj, x_taken)), (
            b,
            _violations(blk, obj, x_taken),
        )
        value = objective(blk, obj, x_taken, pwl=True)
        assert_allclose(value, best, rtol=1e-6, atol=1e-9, err_msg=f"block {b}")


def _greedy_rules(solved):
    """(block, person, rules broken) of the greedy plans, split by kind."""
    band, other = [], []
    for b, (blk, obj, _, g_taken, _) in enumerate(solved):
        for i, rules in enumerate(_violations(blk, obj, g_taken)):
            out = [r for r in rules if r.startswith("strength share")]
            if out:
                band.append((b, i, out))
            if len(out) < len(rules):
                other.append((b, i, [r for r in rules if r not in out]))
    return band, other


def test_greedy_keeps_hours_budget_prerequisites_and_cap(solved):
    _, other = _greedy_rules(solved)
    assert not other


@pytest.mark.xfail(
    strict=True,
    reason="measured on the 200 seeded blocks: 1 of 58 people held to the band "
    "gets a plan outside it: the greedy found no plan inside the band where "
    "one exists (it needs a zero-gain filler, as in "
    "test_greedy_takes_a_filler_the_band_needs) and lifted the band",
)
def test_greedy_keeps_the_strength_band(solved):
    band, _ = _greedy_rules(solved)
    assert not band


def test_greedy_band_does_not_depend_on_block_mates():
    # three strength items each (4 h, 0.3 on one competency with b = 1.5);
    # only the first person is held to the band [0.65, 0.75]: every
    # non-empty plan of hers has strength share 1, so the band is lifted for
    # her and she gets the plan she would get without it, alone or not
    item = {"comps": {0: 0.3}, "h": 4, "strong": True}
    person = {"items": [item] * 3, "b": [1.5], "hours": 10}
    blk = make_block([{**person, "band": True}, person], 1)
    obj = objective_of()
    alone = greedy(blk.take([0]), obj)[0][0]
    assert_array_equal(greedy(blk, obj)[0][0], alone)
    # 10 h hold two of the 4-hour items
    assert alone.sum() == 2
    assert exact(blk, obj)[0].sum() == 2


def _ratios(solved):
    """Greedy / optimum of ``objective(pwl=True)`` per person whose greedy
    plan keeps the rules and whose optimum is positive."""
    ratios, infeasible, empty = [], 0, 0
    for blk, obj, best, g_taken, _ in solved:
        value = objective(blk, obj, g_taken, pwl=True)
        ok = np.array([not v for v in _violations(blk, obj, g_taken)])
        # a plan that keeps the rules is never worth more than the optimum
        assert (value[ok] <= best[ok] + 1e-9).all()
        infeasible += int((~ok).sum())
        empty += int((ok & (best <= TOL)).sum())
        keep = ok & (best > TOL)
        ratios.append(value[keep] / best[keep])
    ratios = np.concatenate(ratios)
    print(
        f"\ngreedy / optimum over {len(ratios)} people (left out: {infeasible} "
        f"greedy plans outside the rules, {empty} with optimum 0): mean "
        f"{ratios.mean():.4f}, p1 {np.percentile(ratios, 1):.4f}, "
        f"min {ratios.min():.4f}, below 0.8: {int((ratios < 0.8).sum())}"
    )
    return ratios


def test_greedy_mean_ratio_to_the_optimum(solved):
    assert _ratios(solved).mean() >= 0.98


@pytest.mark.xfail(
    strict=False,
    reason="measured on the 200 seeded blocks: min 0.731 (p1 0.939, mean "
    "0.998, 1 of 464 people below 0.8)",
)
def test_greedy_worst_ratio_to_the_optimum(solved):
    assert _ratios(solved).min() >= 0.80


@pytest.mark.xfail(
    strict=True,
    reason="the greedy only takes items of positive marginal gain, so it "
    "cannot add a zero-gain item that the band needs as filler; exact finds "
    "the plan",
)
def test_greedy_takes_a_filler_the_band_needs():
    # band [0.65, 0.75] on 30 h; A (20 h) is the only strength item, C and B
    # develop the same gap of 0.2 (a = 1), so after C, B adds nothing.
    # A + C: share 20 / 24 = 0.83 (outside); A + B + C: 20 / 29 = 0.69
    # (inside), worth 0.75 (1 - exp(-0.8)) + 0.2 = 0.4130 + 0.2 = 0.6130
    # (pwl: 0.6124); every other non-empty plan is outside the band
    items = [
        {"comps": {0: 0.4}, "h": 20, "strong": True, "group": 2},  # A
        {"comps": {1: 0.3}, "h": 4, "group": 2},  # C
        {"comps": {1: 0.3}, "h": 5, "group": 2},  # B
    ]
    blk = one_person(items, 2, a=[0, 1], gap=[0, 0.2], b=[1.5, 0], hours=30, band=True)
    obj = objective_of(mu=0.3)  # education's target (3 h) is full after A
    best = objective(blk, obj, exact(blk, obj), pwl=True)[0]
    # mix: min(29, 0.1 * 30) / 30 * 0.3 = 0.03
    assert_allclose(best, 0.6124 + 0.03, atol=1e-3)
    taken = greedy(blk, obj)[0]
    assert not _violations(blk, obj, taken)[0]  # inside the band
    assert objective(blk, obj, taken, pwl=True)[0] >= 0.8 * best


# -- strengths first, critical gaps first -------------------------------------


def _split_person(band):
    # 40 h; six strength items (4 h, 0.2 on the strength competency, b = 1.5)
    # and ten others (3 h, 0.3 on a gap of 3.0 with a = 1): by value per
    # hour the others come first (0.1 / h against at most
    # 0.75 (1 - exp(-0.4)) / 4 = 0.062 / h)
    strong = {"comps": {0: 0.2}, "h": 4, "strong": True}
    other = {"comps": {1: 0.3}, "h": 3}
    return one_person(
        [strong] * 6 + [other] * 10,
        2,
        a=[0, 1],
        gap=[0, 3.0],
        b=[1.5, 0],
        hours=40,
        band=band,
    )


def test_greedy_strength_share_lies_in_the_band():
    obj = objective_of()  # f = 0.7, delta = 0.05
    lo, hi = obj.band()
    taken, when, phase, _ = greedy(_split_person(True), obj)
    blk = _split_person(True)
    hours = blk.h[taken].sum()
    share = blk.h[taken & blk.strong].sum() / hours
    assert hours > 0
    assert lo - 1e-9 <= share <= hi + 1e-9
    # phase codes: strength items 1, the others 2; rounds are set on taken
    # items only
    assert (phase[taken & blk.strong] == 1).all()
    assert (phase[taken & ~blk.strong] == 2).all()
    assert (when[taken] >= 0).all() and (when[~taken] == -1).all()
    # without the band the greedy spends less on strengths: the band is what
    # puts the share there
    free, *_ = greedy(_split_person(False), obj)
    assert blk.h[free & blk.strong].sum() / blk.h[free].sum() < lo


def _exception_person(hours, exception=True):
    # strength item: 0.6 on a strength (b = 1.5): 0.75 (1 - exp(-1.2)) = 0.5241;
    # critical item: 0.2 on an open critical gap of 0.5 (a = 1): 0.2
    return one_person(
        [
            {"comps": {0: 0.6}, "h": 8, "strong": True},
            {"comps": {1: 0.2}, "h": 8},
        ],
        2,
        a=[0, 1],
        gap=[0, 0.5],
        b=[1.5, 0],
        critical=[False, True],
        hours=hours,
        exception=exception,
    )


def test_exception_person_takes_the_critical_item_first():
    obj = objective_of()
    taken, when, phase, _ = greedy(_exception_person(16), obj)
    assert taken.all()
    assert when[0, 1] < when[0, 0]  # critical-gap item in an earlier round
    assert phase.tolist() == [[1, 0]]  # strength, critical
    # without the exception the more valuable strength item comes first
    taken, when, phase, _ = greedy(_exception_person(16, exception=False), obj)
    assert when[0, 0] < when[0, 1]
    assert phase.tolist() == [[1, 2]]


@pytest.mark.xfail(
    strict=True,
    reason="with hours for one item only, the exception person's critical-gap "
    "item is taken first and then exchanged for the strength item by the "
    "swaps (which value F only): the plan keeps no critical-gap hours",
)
def test_exception_person_keeps_the_critical_item_when_hours_are_short():
    taken, _, phase, _ = greedy(_exception_person(10), objective_of())
    assert taken.tolist() == [[False, True]]
    assert phase[0, 1] == 0


# -- order and replay ---------------------------------------------------------


def test_order_puts_critical_then_strength_then_the_rest():
    # positions: 0 other, 1 strength, 2 critical gap, 3 strength, 4 not taken
    items = [
        {"comps": {2: 0.2}, "h": 1},
        {"comps": {0: 0.2}, "h": 1, "strong": True},
        {"comps": {1: 0.2}, "h": 1},
        {"comps": {0: 0.2}, "h": 1, "strong": True},
        {"comps": {1: 0.2}, "h": 1},
    ]
    person = {
        "items": items,
        "a": [0, 1, 0],
        "gap": [0, 0.5, 0],
        "b": [1.5, 0, 0.2],
        "critical": [False, True, False],
        "hours": 10,
    }
    blk = make_block([{**person, "exception": True}, person], 3)
    taken = np.array([[True, True, True, True, False]] * 2)
    when, phase = order(blk, taken)
    # exception: critical (2) first, then strength in catalog order (1, 3),
    # then the rest (0)
    assert when[0].tolist() == [3, 1, 0, 2, -1]
    assert phase[0].tolist() == [2, 1, 0, 1, 0]
    # not an exception: strength (1, 3), then the rest in catalog order (0, 2)
    assert when[1].tolist() == [2, 0, 3, 1, -1]
    assert phase[1].tolist() == [2, 1, 2, 1, 2]


def test_replay_by_hand():
    # two items on one strength (b = 1.5, G = 0.5), v = 0.3 and 0.2
    blk = one_person(
        [
            {"comps": {0: 0.3}, "h": 4, "group": 0},
            {"comps": {0: 0.2}, "h": 6, "group": 2},
        ],
        1,
        b=[1.5],
        hours=10,
    )
    obj = objective_of(mu=0.3)
    taken = np.ones((1, 2), dtype=bool)
    # 0.3 first: 0.75 (1 - exp(-0.6)) = 0.3383912729, then
    # 0.75 (exp(-0.6) - exp(-1.0)) = 0.75 * 0.1809321949 = 0.1356991462
    assert_allclose(
        replay(blk, obj, taken, np.array([[0, 1]])), [[0.3383912729, 0.1356991462]]
    )
    # 0.2 first: 0.75 (1 - exp(-0.4)) = 0.2472599655, then
    # 0.75 (exp(-0.4) - exp(-1.0)) = 0.75 * 0.3024406048 = 0.2268304536
    value = replay(blk, obj, taken, np.array([[1, 0]]))
    assert_allclose(value, [[0.2268304536, 0.2472599655]])
    # either way the sum is the growth part, 0.75 (1 - exp(-1)) = 0.4740904191;
    # F adds the mix term 0.3 (min(4, 7) + min(6, 1)) / 10 = 0.15
    assert_allclose(value.sum(), 0.4740904191)
    assert_allclose(objective(blk, obj, taken)[0], 0.4740904191 + 0.15)


def test_replay_adds_up_to_the_growth_part(solved):
    # the docstring's claim, on the greedy plans (with their removals and
    # exchanges) and the exact ones (ordered by order())
    for blk, obj, _, g_taken, x_taken in solved[:60]:
        no_mix = objective_of(
            g=obj.saturation,
            f=obj.strength_focus,
            delta=obj.strength_tolerance,
            cap=obj.max_items_per_competency,
        )
        _, when, _, _ = greedy(blk, obj)
        for taken, rounds in ((x_taken, order(blk, x_taken)[0]), (g_taken, when)):
            value = replay(blk, obj, taken, rounds)
            assert (value[~taken] == 0).all()
            assert_allclose(
                value.sum(axis=1), objective(blk, no_mix, taken), atol=1e-12
            )
