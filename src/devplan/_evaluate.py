"""Outcome evaluation: what changed between two assessment cycles, and why.

Data flow: two cycles of profiles (scored from bundles or given) + the
learning history (enrolments) + optional first-cycle plans and business
measures → an :class:`Evaluation` of plain tables:

* ``changes``: employee × competency change with the reliable change index;
* ``plans``: per employee, the share of targeted competencies that improved
  reliably;
* ``items``, ``item_tracks`` and ``programmes``: the gain of completers
  against comparable non-completers (coarsened exact matching), with
  confidence intervals and standardised effect sizes;
* ``kirkpatrick``: levels 1-4 where the data allows.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import stats as _sps

from devplan._schema import require_columns
from devplan.stats import reliable_change

__all__ = ["Evaluation", "evaluate"]

#: Columns of the ``items`` table (the interface to ROI and learning).
ITEM_COLUMNS = (
    "item_id",
    "competency_id",
    "n_completers",
    "n_comparison",
    "n_unmatched",
    "mean_gain",
    "comparison_gain",
    "effect",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "d",
    "share_improved",
    "adjusted_effect",
    "adjusted_se",
)
_ESTIMATE = (
    "n_completers",
    "n_comparison",
    "n_unmatched",
    "mean_gain",
    "comparison_gain",
    "effect",
    "se",
    "df",
    "ci_low",
    "ci_high",
)
UNKNOWN = "unknown"


@dataclasses.dataclass
class Evaluation:
    """Outcome evaluation of one plan year: the tables :func:`evaluate` makes.

    Attributes
    ----------
    changes : DataFrame
        One row per employee × competency scored in both cycles:
        ``employee_id, competency_id, track, role_level, before, after,
        change, se_diff, rci, critical_change, category, sd, reliability,
        trained`` (a completed item in the period served the competency).
    plans : DataFrame
        One row per employee: ``employee_id, n_items_planned,
        n_items_completed, n_targeted, n_assessed, n_improved, n_declined,
        share_improved, mean_change``.
    items : DataFrame
        One row per catalog item × competency it serves with at least one
        completer: ``item_id, competency_id, n_completers`` (matched),
        ``n_comparison`` (comparison employees in the matched strata),
        ``n_unmatched`` (completers without a comparable peer),
        ``mean_gain, comparison_gain, effect`` (their difference, scale
        points), ``se, df, ci_low, ci_high``, ``d`` (effect in SDs of the
        competency's before scores), ``share_improved`` (completers with a
        reliable improvement), ``adjusted_effect, adjusted_se`` (the effect
        adjusted for other items completed on the same competency).
    item_tracks : DataFrame
        The same estimate per item × competency × track (``track`` added):
        which items work for which track.
    programmes : DataFrame
        One row per programme (``all`` and each track): ``programme,
        n_people`` and the estimate columns (``n_completers`` counts
        trained employee × competency pairs).
    kirkpatrick : DataFrame
        ``level, name, measure, value, ci_low, ci_high, n, note``.
    settings : dict
        What the evaluation used: score column, period, band width, CI level.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan import evaluate
    >>> from devplan.datasets import load_sample
    >>> catalog = load_sample().catalog
    >>> before = pd.DataFrame({"employee_id": ["a", "b", "c", "d"],
    ...                        "competency_id": "follow_up",
    ...                        "score": [2.0, 2.1, 2.2, 2.3]})
    >>> after = before.assign(score=[2.9, 3.1, 2.2, 2.4])
    >>> done = pd.DataFrame({"employee_id": ["a", "b"], "item_id": "L0284",
    ...                      "status": "completed"})
    >>> ev = evaluate(before, after, done, catalog=catalog, reliability=0.8)
    >>> ev.items[["item_id", "n_completers", "n_comparison", "effect"]]
      item_id  n_completers  n_comparison  effect
    0   L0284             2             2    0.9
    >>> ev.changes["category"].tolist()
    ['reliable_improvement', 'reliable_improvement', 'no_reliable_change',
     'no_reliable_change']
    """

    changes: pd.DataFrame
    plans: pd.DataFrame
    items: pd.DataFrame
    item_tracks: pd.DataFrame
    programmes: pd.DataFrame
    kirkpatrick: pd.DataFrame
    settings: dict = dataclasses.field(default_factory=dict)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The evaluation tables by name (as ``devplan evaluate`` writes them)."""
        return {
            "changes": self.changes,
            "evaluation_plans": self.plans,
            "evaluation_items": self.items,
            "evaluation_item_tracks": self.item_tracks,
            "evaluation_programmes": self.programmes,
            "kirkpatrick": self.kirkpatrick,
        }

    def summary(self) -> str:
        """A few lines for people: reliable change, completion, effects."""
        ch = self.changes
        counts = ch["category"].value_counts()
        lines = [
            f"Evaluated {ch['employee_id'].nunique():,} employees on "
            f"{len(ch):,} employee × competency scores "
            f"(score column {self.settings.get('score_column')!r}).",
            "Reliable change: "
            + ", ".join(
                f"{k.replace('_', ' ')} {int(counts.get(k, 0)):,}"
                for k in ("reliable_improvement", "no_reliable_change")
            )
            + f", reliable decline {int(counts.get('reliable_decline', 0)):,}.",
        ]
        overall = self.programmes[self.programmes["programme"] == "all"]
        if len(overall) and overall["n_completers"].iloc[0] > 0:
            r = overall.iloc[0]
            lines.append(
                f"Trained competencies: {int(r['n_completers']):,} pairs, gain "
                f"{r['mean_gain']:+.3f} vs {r['comparison_gain']:+.3f} for "
                f"comparable untrained; effect {r['effect']:+.3f} "
                f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}], d = {r['d']:.2f}."
            )
        items = self.items.dropna(subset=["effect"])
        if len(items):
            lines.append(
                f"{len(items):,} item × competency effects estimated "
                f"({int((items['ci_low'] > 0).sum()):,} with a CI above zero)."
            )
        return "\n".join(lines)


# ---------------------------------------------------------------------------


def _is_bundle(x) -> bool:
    from devplan._bundle import Bundle

    return isinstance(x, Bundle)


def _check_profiles(name: str, df, score_column: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"Got {name} of type {type(df).__name__}; expected a Bundle or a "
            "profiles DataFrame."
        )
    missing = {"employee_id", "competency_id", score_column} - set(df.columns)
    if missing:
        raise ValueError(
            f"Got a {name} profiles table without column(s) {sorted(missing)}; "
            f"expected employee_id, competency_id and {score_column!r}."
        )
    if not pd.api.types.is_numeric_dtype(df[score_column]):
        raise TypeError(
            f"Got {name} column {score_column!r} with dtype {df[score_column].dtype}; "
            "expected numeric scores."
        )
    return df


def _latest_date(bundle):
    dates = bundle.assessments["assessed_on"]
    return None if dates.isna().all() else pd.Timestamp(dates.max())


def evaluate(
    before,
    after,
    enrolments: pd.DataFrame | None = None,
    *,
    plans: pd.DataFrame | None = None,
    catalog: pd.DataFrame | None = None,
    tracks: pd.DataFrame | None = None,
    employees: pd.DataFrame | None = None,
    roles: pd.DataFrame | None = None,
    business_measures: pd.DataFrame | None = None,
    reliability=None,
    score_column: str | None = None,
    period: tuple | None = None,
    band_width: float = 0.5,
    ci: float = 0.95,
    scorer=None,
    config=None,
) -> Evaluation:
    """Evaluate outcomes between two assessment cycles.

    Parameters
    ----------
    before, after : Bundle or DataFrame
        The two cycles: bundles (scored here with one
        :class:`CompetencyScorer`, fitted on ``before`` unless ``scorer`` is
        given, so both cycles share norms and rater corrections) or
        ``profiles`` tables.
    enrolments : DataFrame or None, default=None
        Learning history (``employee_id, item_id, status``, optional
        ``completed_on, satisfaction``); default: the ``after`` bundle's,
        else the ``before`` bundle's. Items ``completed`` within ``period``
        are the treatment.
    plans : DataFrame or None, default=None
        The first cycle's ``plans`` table (``employee_id, item_id,
        competency_id``): the targeted competencies of each plan. Without it
        the competencies served by completed items count as targeted.
    catalog : DataFrame or None, default=None
        Catalog (which competencies each item serves); default: a bundle's.
    tracks : DataFrame or None, default=None
        ``employee_id, track`` at the first cycle; default: assigned from the
        ``before`` bundle, else ``unknown`` for everyone.
    employees, roles : DataFrame or None, default=None
        For role levels (matching); default: the first bundle's.
    business_measures : DataFrame or None, default=None
        Kirkpatrick level 4: ``employee_id, measure, before, after``, one row
        per employee and business measure (e.g. team revenue, retention,
        error rate), with ``higher_is_better`` optional (default true).
    reliability : float, dict, Series or None, default=None
        Reliability of the scores per competency for the reliable change
        index; a number applies to all. ``None``: the median ``confidence``
        (reliability of the others score) of each competency in the
        ``before`` profiles.
    score_column : str or None, default=None
        Profile column compared; ``None``: ``others_score`` (what raters
        said, not shrunk) when present, else ``score``.
    period : (date, date) or None, default=None
        Completions counted as treatment: ``start < completed_on <= end``.
        ``None`` with two bundles: between their latest assessments;
        otherwise every completion counts (and rows without a date always
        count).
    band_width : float, default=0.5
        Width (scale points) of the baseline-score bands used for matching.
    ci : float, default=0.95
        Confidence level of the intervals.
    scorer : CompetencyScorer or None, default=None
        A fitted scorer for both bundles.
    config : Config or None, default=None
        Settings for scoring and tracks; default: the ``before`` bundle's.

    Returns
    -------
    Evaluation
        Tables ``changes, plans, items, item_tracks, programmes,
        kirkpatrick``.

    Notes
    -----
    **Reliable change** (Jacobson & Truax 1991): per competency ``SD`` is the
    standard deviation of the ``before`` scores, ``S_diff = sqrt(2) * SD *
    sqrt(1 - r)``, ``RCI = change / S_diff`` and a change is reliable when
    ``|change| > z * S_diff`` (see :func:`devplan.stats.reliable_change`).

    **Matching** (coarsened exact matching): a completer of item *j* is
    compared, on each competency *c* the item serves, with employees who
    completed no item serving *c* in the period and share their track, role
    level and baseline band (``floor((before - scale_min) / band_width)``)
    on *c*. Completers without such a peer are left out
    (``n_unmatched``). With ``n1_s`` matched completers in stratum *s* and
    comparison mean ``m0_s``::

        comparison_gain = sum_s (n1_s / n1) * m0_s
        effect          = mean_gain - comparison_gain

    Each comparison employee weighs ``w = n1_s / (n1 * n0_s)``; the
    comparison variance is the weighted variance ``V0 = sum w (g - m)^2 /
    (1 - sum w^2)``, its effective size ``n0 = 1 / sum w^2``, and
    ``se = sqrt(s1^2 / n1 + V0 / n0)`` with Welch-Satterthwaite degrees of
    freedom; the interval is ``effect ± t * se``. With one stratum this is
    exactly Welch's two-sample interval.

    **Effect size** ``d = effect / SD_c``: the effect in standard deviations
    of the competency's ``before`` scores across the organisation (the
    spread of the competency among employees, as utility analysis uses it).
    For programmes, which pool competencies, gains are divided by their
    competency's SD before estimating.

    **Programmes** are the development tracks (``new_manager, ...``) of the
    first cycle, plus ``all``: trained employee × competency pairs of the
    programme's people against their matched untrained peers.

    **Kirkpatrick**: level 1 (reaction) mean satisfaction of completions;
    level 2 (learning) share of trained competencies that improved
    reliably; level 3 (behaviour) the matched effect of training on the
    others' ratings (what colleagues see on the job); level 4 (results) per
    business measure the mean change of trained people (a completion in the
    period) minus untrained people, Welch interval.

    Examples
    --------
    >>> import devplan
    >>> from devplan.datasets import make_organisation, simulate_next_cycle
    >>> b, truth = make_organisation(300, random_state=0, return_truth=True)
    >>> plans = devplan.generate_plans(b).plans
    >>> b2, _ = simulate_next_cycle(b, truth, plans, random_state=0)
    >>> ev = devplan.evaluate(b, b2, plans=plans)
    >>> sorted(ev.tables)[:3]
    ['changes', 'evaluation_item_tracks', 'evaluation_items']
    >>> ev.kirkpatrick["level"].tolist()
    [1, 2, 3, 4]
    >>> bool(ev.programmes.set_index("programme").loc["all", "effect"] > 0)
    True
    """
    from devplan._bundle import Bundle

    if not (isinstance(band_width, int | float) and band_width > 0):
        raise ValueError(f"Got band_width={band_width!r}; expected a number > 0.")
    if not 0 < ci < 1:
        raise ValueError(f"Got ci={ci!r}; expected a number in (0, 1), e.g. 0.95.")
    bundles = [x for x in (before, after) if isinstance(x, Bundle)]
    first = bundles[0] if bundles else None
    cfg = config or (first.config if first is not None else None)
    if bundles:
        from devplan._scoring import CompetencyScorer

        if scorer is None:
            from devplan._config import Config

            scorer = CompetencyScorer.from_config(cfg or Config()).fit(first)
    prof_before = scorer.profiles(before) if isinstance(before, Bundle) else before
    prof_after = scorer.profiles(after) if isinstance(after, Bundle) else after
    if score_column is None:
        both = set(getattr(prof_before, "columns", ())) & set(
            getattr(prof_after, "columns", ())
        )
        score_column = "others_score" if "others_score" in both else "score"
    _check_profiles("before", prof_before, score_column)
    _check_profiles("after", prof_after, score_column)

    if enrolments is None:
        source = after if isinstance(after, Bundle) else before
        if not isinstance(source, Bundle):
            raise ValueError(
                "Got enrolments=None with profiles tables; expected the "
                "enrolments table (employee_id, item_id, status)."
            )
        enrolments = source.enrolments
    require_columns(enrolments, "enrolments", ("employee_id", "item_id", "status"))
    if catalog is None:
        if first is None:
            raise ValueError(
                "Got catalog=None with profiles tables; expected the catalog "
                "(which competencies each item serves)."
            )
        catalog = first.catalog
    if first is not None:
        employees = first.employees if employees is None else employees
        roles = first.roles if roles is None else roles
    if isinstance(before, Bundle):
        if tracks is None:
            from devplan._tracks import assign_tracks

            tracks = assign_tracks(before, prof_before, cfg)
    if period is None and isinstance(before, Bundle) and isinstance(after, Bundle):
        period = (_latest_date(before), _latest_date(after))
    scale_min = cfg.scale_min if cfg is not None else 1.0

    changes = _changes(
        prof_before,
        prof_after,
        score_column,
        reliability,
        tracks,
        employees,
        roles,
        ci,
    )
    done = _completions(enrolments, period)
    from devplan._validate import catalog_links

    links = catalog_links(catalog.reset_index(drop=True))[["item_id", "competency_id"]]
    links = links.astype(str).drop_duplicates()
    trained = done.merge(links, on="item_id")
    key = trained["employee_id"] + "\x1f" + trained["competency_id"]
    pair = changes["employee_id"] + "\x1f" + changes["competency_id"]
    changes["trained"] = pair.isin(key).to_numpy()
    band = np.floor((changes["before"] - scale_min) / band_width).astype("Int64")
    changes["_stratum"] = (
        changes["competency_id"]
        + "\x1f"
        + changes["track"]
        + "\x1f"
        + changes["role_level"]
        + "\x1f"
        + band.astype(str)
    )
    changes["_z"] = changes["change"] / changes["sd"]
    pool = changes[~changes["trained"]]

    treated = trained.merge(
        changes[["employee_id", "competency_id", "change", "_z", "_stratum", "track"]]
        .rename(columns={"change": "_gain"})
        .assign(_improved=(changes["category"] == "reliable_improvement").to_numpy()),
        on=["employee_id", "competency_id"],
    )
    items = _matched(treated, pool, ["item_id", "competency_id"], ci)
    items = _with_d(items, treated, pool, ["item_id", "competency_id"], ci)
    items = _adjusted(items, treated, pool)[list(ITEM_COLUMNS)]
    item_tracks = _matched(treated, pool, ["item_id", "competency_id", "track"], ci)
    item_tracks = _with_d(
        item_tracks, treated, pool, ["item_id", "competency_id", "track"], ci
    )
    item_tracks = item_tracks[
        ["item_id", "competency_id", "track", *ITEM_COLUMNS[2:-2]]
    ]

    # programmes: trained employee x competency pairs (not per item)
    pairs = treated.drop_duplicates(["employee_id", "competency_id"])
    prog = pd.concat(
        [pairs.assign(programme="all"), pairs.assign(programme=pairs["track"])],
        ignore_index=True,
    )
    programmes = _matched(prog, pool, ["programme"], ci)
    programmes = _with_d(programmes, prog, pool, ["programme"], ci)
    people = prog.groupby("programme")["employee_id"].nunique()
    programmes["n_people"] = (
        programmes["programme"].map(people).fillna(0).astype(int).to_numpy()
    )
    programmes = programmes[
        ["programme", "n_people", *_ESTIMATE, "d", "share_improved"]
    ].sort_values("programme", key=lambda s: s != "all", kind="stable")

    plan_table = _plan_outcomes(changes, done, links, plans)
    kirk = _kirkpatrick(done, changes, programmes, business_measures, ci)
    settings = {
        "score_column": score_column,
        "period": [None if p is None else str(pd.Timestamp(p).date()) for p in period]
        if period is not None
        else None,
        "band_width": float(band_width),
        "ci": float(ci),
    }
    changes = changes.drop(columns=["_stratum", "_z"]).reset_index(drop=True)
    return Evaluation(
        changes=changes,
        plans=plan_table,
        items=items.reset_index(drop=True),
        item_tracks=item_tracks.reset_index(drop=True),
        programmes=programmes.reset_index(drop=True),
        kirkpatrick=kirk,
        settings=settings,
    )


def _reliabilities(reliability, prof_before, comps: pd.Index) -> pd.Series:
    if reliability is None:
        if "confidence" not in prof_before.columns:
            raise ValueError(
                "Got reliability=None and before profiles without a "
                "'confidence' column; expected reliability as a number or one "
                "per competency (e.g. test-retest or alpha)."
            )
        r = prof_before.groupby(prof_before["competency_id"].astype(str))[
            "confidence"
        ].median()
    elif isinstance(reliability, int | float | np.number):
        r = pd.Series(float(reliability), index=comps)
    else:
        r = pd.Series(reliability, dtype=float)
        r.index = r.index.astype(str)
    r = r.reindex(comps)
    if r.isna().any():
        missing = list(r.index[r.isna()][:5])
        raise ValueError(
            f"Got no reliability for competency {missing}; expected one for "
            "every competency evaluated."
        )
    bad = r[(r < 0) | (r >= 1)]
    if len(bad):
        raise ValueError(
            f"Got reliability={float(bad.iloc[0])!r} for competency "
            f"{bad.index[0]!r}; expected a number in [0, 1)."
        )
    return r


def _changes(before, after, col, reliability, tracks, employees, roles, ci):
    b = before[["employee_id", "competency_id", col]].astype(
        {"employee_id": str, "competency_id": str}
    )
    a = after[["employee_id", "competency_id", col]].astype(
        {"employee_id": str, "competency_id": str}
    )
    for name, df in (("before", b), ("after", a)):
        dup = df.duplicated(["employee_id", "competency_id"])
        if dup.any():
            row = df[dup].iloc[0]
            raise ValueError(
                f"Got the {name} profiles with employee {row['employee_id']!r} "
                f"and competency {row['competency_id']!r} more than once; "
                "expected one row per employee × competency."
            )
    b = b.dropna(subset=[col])
    sd = b.groupby("competency_id")[col].std()
    m = b.merge(a.dropna(subset=[col]), on=["employee_id", "competency_id"])
    m = m.rename(columns={f"{col}_x": "before", f"{col}_y": "after"})
    sd = sd.reindex(pd.Index(pd.unique(m["competency_id"])))
    sd = sd[sd > 0]
    m = m[m["competency_id"].isin(sd.index)]
    comps = pd.Index(sd.index)
    rel = _reliabilities(reliability, before, comps)
    sd_row = sd.reindex(m["competency_id"]).to_numpy()
    rel_row = rel.reindex(m["competency_id"]).to_numpy()
    rc = reliable_change(
        m["before"].to_numpy(),
        m["after"].to_numpy(),
        sd=sd_row,
        reliability=rel_row,
        ci=ci,
    )
    out = m[["employee_id", "competency_id"]].reset_index(drop=True)
    track = pd.Series(UNKNOWN, index=out.index)
    if tracks is not None and len(tracks):
        t = tracks.drop_duplicates("employee_id").set_index(
            tracks["employee_id"].drop_duplicates().astype(str)
        )["track"]
        track = (
            t.astype(str)
            .reindex(out["employee_id"])
            .fillna(UNKNOWN)
            .reset_index(drop=True)
        )
    level = pd.Series(UNKNOWN, index=out.index)
    if employees is not None and roles is not None and "role_level" in roles:
        by_role = roles.dropna(subset=["role_level"]).drop_duplicates("role_id")
        by_role = by_role.set_index(by_role["role_id"].astype(str))["role_level"]
        emp = employees.set_index(employees["employee_id"].astype(str))["role_id"]
        level = (
            by_role.astype(str)
            .reindex(emp.astype(str).reindex(out["employee_id"]))
            .fillna(UNKNOWN)
            .reset_index(drop=True)
        )
    out["track"] = track.to_numpy()
    out["role_level"] = level.to_numpy()
    for c in ("before", "after", "change", "se_diff", "rci", "critical_change"):
        out[c] = rc[c].to_numpy()
    out["category"] = rc["category"].astype(str).to_numpy()
    out["sd"] = sd_row
    out["reliability"] = rel_row
    return out


def _completions(enrolments, period) -> pd.DataFrame:
    e = enrolments
    done = e["status"].astype(str) == "completed"
    if period is not None and "completed_on" in e.columns:
        when = pd.to_datetime(e["completed_on"])
        start, end = period
        inside = pd.Series(True, index=e.index)
        if start is not None:
            inside &= when > pd.Timestamp(start)
        if end is not None:
            inside &= when <= pd.Timestamp(end)
        done &= inside | when.isna()
    cols = ["employee_id", "item_id"]
    out = e.loc[done, cols].astype(str)
    if "satisfaction" in e.columns:
        out["satisfaction"] = pd.to_numeric(e.loc[done, "satisfaction"])
    else:
        out["satisfaction"] = np.nan
    return out.drop_duplicates(cols).reset_index(drop=True)


def _matched(treated, pool, keys, ci, value="_gain", pool_value="change"):
    """Coarsened-exact-matching estimate of completers minus comparison.

    ``treated`` has ``keys``, ``_stratum`` and ``value``; ``pool`` the
    untrained rows with ``_stratum`` and ``pool_value``.
    """
    if not len(treated):
        cols = [*keys, *_ESTIMATE, "share_improved", "var1"]
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols}).astype(
            dict.fromkeys(keys, str)
        )
    g0 = pool.groupby("_stratum")[pool_value]
    s0 = pd.DataFrame({"n0": g0.size(), "m0": g0.mean(), "q0": g0.var(ddof=0)})
    t = treated[[*keys, "_stratum", value, "_improved"]].merge(
        s0, left_on="_stratum", right_index=True, how="left"
    )
    matched = t["n0"].notna()
    unmatched = (~matched).groupby([t[k] for k in keys]).sum().rename("n_unmatched")
    t = t[matched]
    if not len(t):
        out = pd.DataFrame(
            np.nan,
            index=unmatched.index,
            columns=[*_ESTIMATE, "share_improved", "var1"],
        )
        out["n_completers"] = out["n_comparison"] = 0
        out["n_unmatched"] = unmatched
        return out.reset_index()
    grp = t.groupby(keys)
    out = pd.DataFrame(
        {
            "n_completers": grp.size(),
            "mean_gain": grp[value].mean(),
            "var1": grp[value].var(ddof=1),
            "share_improved": grp["_improved"].mean(),
        }
    )
    # per key x stratum: completers, comparison size, mean and spread
    st = t.groupby([*keys, "_stratum"]).agg(
        n1=(value, "size"), n0=("n0", "first"), m0=("m0", "first"), q0=("q0", "first")
    )
    st = st.reset_index()
    n1 = st.groupby(keys)["n1"].transform("sum")
    share = st["n1"] / n1
    st["c_mean"] = share * st["m0"]
    st["w2"] = share**2 / st["n0"]
    comp = st.groupby(keys).agg(
        comparison_gain=("c_mean", "sum"),
        sum_w2=("w2", "sum"),
        n_comparison=("n0", "sum"),
    )
    st = st.merge(comp[["comparison_gain"]], left_on=keys, right_index=True)
    # sum over comparison units of w (g - m)^2, stratum by stratum
    st["ss"] = share * (st["q0"] + (st["m0"] - st["comparison_gain"]) ** 2)
    comp["ss"] = st.groupby(keys)["ss"].sum()
    out = out.join(comp)
    n_eff = 1.0 / out["sum_w2"]
    with np.errstate(divide="ignore", invalid="ignore"):
        var0 = out["ss"] / (1.0 - out["sum_w2"])
        a = out["var1"] / out["n_completers"]
        b = var0 / n_eff
        se = np.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (out["n_completers"] - 1) + b**2 / (n_eff - 1))
    ok = (out["n_completers"] >= 2) & (n_eff > 1) & (se > 0)
    out["effect"] = out["mean_gain"] - out["comparison_gain"]
    out["se"] = se.where(ok)
    out["df"] = df.where(ok)
    tq = _sps.t.ppf(0.5 + ci / 2, out["df"].fillna(1.0))
    out["ci_low"] = (out["effect"] - tq * out["se"]).where(ok)
    out["ci_high"] = (out["effect"] + tq * out["se"]).where(ok)
    out["n_comparison"] = out["n_comparison"].astype("Int64")
    out = out.join(unmatched, how="outer")
    out["n_completers"] = out["n_completers"].fillna(0).astype(int)
    out["n_comparison"] = out["n_comparison"].fillna(0).astype(int)
    out["n_unmatched"] = out["n_unmatched"].fillna(0).astype(int)
    return out.reset_index()


def _adjusted(items, treated, pool):
    """Item effects adjusted for the other items completed on a competency.

    Per competency, the matched residual gain of every trained employee
    (gain minus their stratum's comparison mean) is regressed on indicators
    of the items they completed that serve it (least squares, no
    intercept), so that an item often taken together with a stronger one
    does not borrow its effect.
    """
    if not len(treated):
        return items.assign(adjusted_effect=np.nan, adjusted_se=np.nan)
    m0 = pool.groupby("_stratum")["change"].mean()
    t = treated.assign(_m0=treated["_stratum"].map(m0)).dropna(subset=["_m0"])
    t = t.assign(_y=t["_gain"] - t["_m0"])
    found = []
    for comp, grp in t.groupby("competency_id", sort=False):
        person, people = pd.factorize(grp["employee_id"])
        item, names = pd.factorize(grp["item_id"])
        y = pd.Series(grp["_y"].to_numpy()).groupby(person).first().to_numpy()
        x = np.zeros((len(people), len(names)))
        x[person, item] = 1.0
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        dof = len(people) - np.linalg.matrix_rank(x)
        rss = float(((y - x @ beta) ** 2).sum())
        var = np.diag(np.linalg.pinv(x.T @ x)) * (rss / dof if dof > 0 else np.nan)
        found.append(
            pd.DataFrame(
                {
                    "item_id": names,
                    "competency_id": comp,
                    "adjusted_effect": beta,
                    "_var": var,
                }
            )
        )
    if not found:
        return items.assign(adjusted_effect=np.nan, adjusted_se=np.nan)
    adj = pd.concat(found, ignore_index=True)
    out = items.merge(adj, on=["item_id", "competency_id"], how="left")
    # add the comparison means' own error (as in the matched estimate)
    comparison_var = (out["se"] ** 2 - out["var1"] / out["n_completers"]).clip(lower=0)
    out["adjusted_se"] = np.sqrt(out["_var"] + comparison_var.fillna(0.0))
    out.loc[out["n_completers"] < 2, ["adjusted_se"]] = np.nan
    return out.drop(columns=["_var"])


def _with_d(table, treated, pool, keys, ci):
    """Add ``d``: the same estimate on gains in SDs of the competency."""
    z = _matched(treated, pool, keys, ci, value="_z", pool_value="_z")
    return table.merge(
        z[[*keys, "effect"]].rename(columns={"effect": "d"}), on=keys, how="left"
    )


def _plan_outcomes(changes, done, links, plans):
    completed = done.groupby("employee_id").size().rename("n_items_completed")
    if plans is not None:
        require_columns(plans, "plans", ("employee_id", "item_id", "competency_id"))
        p = plans[["employee_id", "item_id", "competency_id"]].astype(str)
        targeted = p[["employee_id", "competency_id"]].drop_duplicates()
        planned = p.drop_duplicates(["employee_id", "item_id"])
        n_planned = planned.groupby("employee_id").size().rename("n_items_planned")
        in_plan = planned.merge(done, on=["employee_id", "item_id"])
        completed = in_plan.groupby("employee_id").size().rename("n_items_completed")
        people = pd.Index(pd.unique(p["employee_id"]), name="employee_id")
    else:
        targeted = done.merge(links, on="item_id")[
            ["employee_id", "competency_id"]
        ].drop_duplicates()
        n_planned = pd.Series(dtype=float, name="n_items_planned")
        people = pd.Index(pd.unique(done["employee_id"]), name="employee_id")
    t = targeted.merge(changes, on=["employee_id", "competency_id"], how="left")
    assessed = t["category"].notna()
    g = t.assign(
        assessed=assessed,
        improved=t["category"] == "reliable_improvement",
        declined=t["category"] == "reliable_decline",
    ).groupby("employee_id")
    out = pd.DataFrame(index=people)
    out["n_items_planned"] = n_planned.reindex(people)
    out["n_items_completed"] = completed.reindex(people).fillna(0).astype(int)
    out["n_targeted"] = g.size().reindex(people).fillna(0).astype(int)
    out["n_assessed"] = g["assessed"].sum().reindex(people).fillna(0).astype(int)
    out["n_improved"] = g["improved"].sum().reindex(people).fillna(0).astype(int)
    out["n_declined"] = g["declined"].sum().reindex(people).fillna(0).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_improved"] = out["n_improved"] / out["n_assessed"].where(
            out["n_assessed"] > 0
        )
    out["mean_change"] = g["change"].mean().reindex(people)
    if plans is None:
        out["n_items_planned"] = pd.array([pd.NA] * len(out), dtype="Int64")
    else:
        out["n_items_planned"] = out["n_items_planned"].fillna(0).astype(int)
    return out.reset_index()


def _welch(x, y, ci):
    """Difference of means with Welch's interval (NaNs where undefined)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    diff = x.mean() - y.mean() if len(x) and len(y) else np.nan
    if len(x) < 2 or len(y) < 2:
        return diff, np.nan, np.nan
    a, b = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    if a + b == 0:
        return diff, diff, diff
    df = (a + b) ** 2 / (a**2 / (len(x) - 1) + b**2 / (len(y) - 1))
    half = _sps.t.ppf(0.5 + ci / 2, df) * np.sqrt(a + b)
    return diff, diff - half, diff + half


def _kirkpatrick(done, changes, programmes, business, ci):
    rows = []
    sat = done["satisfaction"].dropna()
    rows.append(
        {
            "level": 1,
            "name": "reaction",
            "measure": "mean satisfaction of completed items (1-5)",
            "value": sat.mean() if len(sat) else np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": len(sat),
            "note": "" if len(sat) else "no satisfaction ratings in enrolments",
        }
    )
    if len(sat) >= 2:
        half = _sps.t.ppf(0.5 + ci / 2, len(sat) - 1) * sat.std() / np.sqrt(len(sat))
        rows[-1]["ci_low"], rows[-1]["ci_high"] = sat.mean() - half, sat.mean() + half
    tr = changes[changes["trained"]]
    improved = (tr["category"] == "reliable_improvement").mean() if len(tr) else np.nan
    rows.append(
        {
            "level": 2,
            "name": "learning",
            "measure": "share of trained competencies with reliable improvement",
            "value": improved,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": len(tr),
            "note": "" if len(tr) else "no trained competency was re-assessed",
        }
    )
    overall = programmes[programmes["programme"] == "all"]
    r = overall.iloc[0] if len(overall) else None
    rows.append(
        {
            "level": 3,
            "name": "behaviour",
            "measure": "matched effect of training on others' ratings (scale points)",
            "value": r["effect"] if r is not None else np.nan,
            "ci_low": r["ci_low"] if r is not None else np.nan,
            "ci_high": r["ci_high"] if r is not None else np.nan,
            "n": int(r["n_completers"]) if r is not None else 0,
            "note": "" if r is not None else "no trained competency was matched",
        }
    )
    if business is None or not len(business):
        rows.append(
            {
                "level": 4,
                "name": "results",
                "measure": "business measures",
                "value": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "n": 0,
                "note": "no business measures given",
            }
        )
    else:
        require_columns(
            business, "business_measures", ("employee_id", "measure", "before", "after")
        )
        bm = business.copy()
        bm["employee_id"] = bm["employee_id"].astype(str)
        for col in ("before", "after"):
            if not pd.api.types.is_numeric_dtype(bm[col]):
                raise TypeError(
                    f"Got business_measures column {col!r} with dtype "
                    f"{bm[col].dtype}; expected numbers."
                )
        trained_people = set(done["employee_id"])
        for measure, grp in bm.groupby("measure", sort=True):
            if "higher_is_better" in grp.columns:
                sign = np.where(grp["higher_is_better"].astype(bool), 1.0, -1.0)
            else:
                sign = 1.0
            change = (grp["after"] - grp["before"]) * sign
            is_trained = grp["employee_id"].isin(trained_people)
            diff, lo, hi = _welch(change[is_trained], change[~is_trained], ci)
            rows.append(
                {
                    "level": 4,
                    "name": "results",
                    "measure": f"{measure}: change of trained minus untrained",
                    "value": diff,
                    "ci_low": lo,
                    "ci_high": hi,
                    "n": int(grp["after"].notna().sum()),
                    "note": f"{int(is_trained.sum())} trained, "
                    f"{int((~is_trained).sum())} untrained",
                }
            )
    return pd.DataFrame(rows)
