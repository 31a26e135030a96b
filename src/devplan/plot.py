"""Charts of profiles, plans and the organisation's gaps (matplotlib).

Every function draws on the Axes it is given (``ax=``) or on a new figure,
and returns the Axes, so that analysts can restyle, combine and save the
charts as they like (``ax.figure.savefig("profile.png")``). Every chart has a
title and labelled axes; charts with several series have a legend.

Without ``ax``, a figure is made with :mod:`matplotlib.pyplot` (so that it
shows in a notebook); the module never calls ``plt.show`` and never changes
the backend. On a machine without a display, matplotlib picks its ``Agg``
backend by itself. The HTML reports draw on figures made without pyplot.

Functions
---------
profile_chart
    One person's competency scores with the norm band, self and others
    ratings and the role's requirement.
gap_heatmap
    Gaps by role or business unit × competency (from :func:`devplan.tna`).
nine_box_grid
    Performance × potential, every person as a dot coloured by track.
plan_timeline
    A plan's steps month by month (Gantt style), coloured by purpose.
hours_by_purpose, hours_by_mix
    Planned hours by purpose, and by the 70-20-10 groups (experience,
    exposure, education) against the 70-20-10 target.
track_mix
    People per track, overall or by a column such as business unit.
catalog_coverage
    Needs per competency that the catalog closes, closes in part, or
    cannot serve at all.
norm_band
    The band of everyone's scores per competency that the profile chart
    draws, computed once for many charts.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np
import pandas as pd

from devplan._schema import require_columns

__all__ = [
    "PURPOSE_COLORS",
    "MIX_COLORS",
    "TRACK_COLORS",
    "catalog_coverage",
    "gap_heatmap",
    "hours_by_mix",
    "hours_by_purpose",
    "nine_box_grid",
    "norm_band",
    "plan_timeline",
    "profile_chart",
    "track_mix",
]

#: Colours of plan purposes (colour-blind safe, Okabe-Ito).
PURPOSE_COLORS = {
    "leverage_strength": "#009E73",
    "develop_need": "#E69F00",
    "track_core": "#0072B2",
    "broaden_role": "#CC79A7",
}
#: Colours of the 70-20-10 groups.
MIX_COLORS = {
    "experience": "#0072B2",
    "exposure": "#56B4E9",
    "education": "#CC79A7",
}
#: Colours of development tracks.
TRACK_COLORS = {
    "new_manager": "#56B4E9",
    "struggling_manager": "#D55E00",
    "high_potential": "#009E73",
    "core": "#999999",
}
_PURPOSE_LABELS = {
    "leverage_strength": "leverage a strength",
    "develop_need": "develop a need",
    "track_core": "track core",
    "broaden_role": "broaden the role",
}
_MIX_TARGET = {"experience": 0.7, "exposure": 0.2, "education": 0.1}
_LEVELS = ("low", "moderate", "high")


#: Whether charts drawn without ``ax`` use pyplot (off inside the reports,
#: which draw many figures and must not keep them open).
_PYPLOT = contextvars.ContextVar("devplan_plot_pyplot", default=True)


@contextlib.contextmanager
def _without_pyplot():
    token = _PYPLOT.set(False)
    try:
        yield
    finally:
        _PYPLOT.reset(token)


def _axes(ax, figsize):
    if ax is not None:
        return ax
    if not _PYPLOT.get():
        from matplotlib.figure import Figure

        return Figure(figsize=figsize, layout="constrained").subplots()
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _one_person(table: pd.DataFrame, name: str, employee_id) -> pd.DataFrame:
    ids = table["employee_id"].astype(str)
    if employee_id is None:
        people = pd.unique(ids)
        if len(people) != 1:
            raise ValueError(
                f"Got {name} of {len(people)} employees and employee_id=None; "
                "expected employee_id naming one of them."
            )
        return table
    rows = table[(ids == str(employee_id)).to_numpy()]
    if not len(rows):
        raise ValueError(
            f"Got employee_id={employee_id!r}, which has no rows in {name}."
        )
    return rows


def _short(text: str, width: int = 42) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


# -- a person ----------------------------------------------------------------


def _scored(profiles: pd.DataFrame) -> pd.DataFrame:
    if "scored" not in profiles:
        return profiles
    return profiles[profiles["scored"].fillna(False).astype(bool).to_numpy()]


def norm_band(
    profiles: pd.DataFrame, *, norm: tuple[float, float] = (25, 75)
) -> pd.DataFrame:
    """Percentiles of everyone's scores per competency (the norm band).

    Parameters
    ----------
    profiles : DataFrame
        The ``profiles`` table (``competency_id, score``; only ``scored``
        rows count when that column is present).
    norm : tuple of two floats, default=(25, 75)
        The lower and upper percentile (linear interpolation).

    Returns
    -------
    DataFrame
        ``low, high`` indexed by ``competency_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> from devplan.plot import norm_band
    >>> p = pd.DataFrame({"competency_id": ["x"] * 5, "score": [1.0, 2, 3, 4, 5]})
    >>> norm_band(p)
                   low  high
    competency_id
    x              2.0   4.0
    """
    require_columns(profiles, "profiles", ("competency_id", "score"))
    lo, hi = norm
    if not 0 <= lo < hi <= 100:
        raise ValueError(
            f"Got norm={norm!r}; expected two percentiles 0 <= low < high <= 100."
        )
    scored = _scored(profiles)
    grouped = scored.groupby(scored["competency_id"].astype(str))["score"]
    return pd.DataFrame(
        {"low": grouped.quantile(lo / 100), "high": grouped.quantile(hi / 100)}
    )


def profile_chart(
    profiles: pd.DataFrame,
    employee_id: str | None = None,
    *,
    names: pd.Series | dict | None = None,
    norm: tuple[float, float] = (25, 75),
    norms: pd.DataFrame | None = None,
    scale: tuple[float, float] = (1, 5),
    ax=None,
):
    """One person's competency profile as horizontal bars.

    Each competency shows the person's score (the bar, green for a
    strength, orange for a need), the norm band (the middle of everyone's
    scores in ``profiles`` on that competency), the self rating and the
    others rating as markers, and the role's required level as a tick.

    Parameters
    ----------
    profiles : DataFrame
        The ``profiles`` table (``employee_id, competency_id, score,
        is_strength, is_need``; ``self_score, others_score,
        required_level`` and ``scored`` when present). Rows of other
        employees make the norm band.
    employee_id : str or None, default=None
        Whose profile; ``None`` when ``profiles`` holds one person.
    names : Series or dict or None, default=None
        Display names by ``competency_id`` (for example
        ``bundle.competencies.set_index("competency_id")["name"]``).
    norm : tuple of two floats, default=(25, 75)
        Percentiles of everyone's scores bounding the norm band.
    norms : DataFrame or None, default=None
        The band precomputed by :func:`norm_band` (columns ``low, high``
        by ``competency_id``), to draw many people against one norm
        without recomputing it; ``None``: computed from ``profiles``.
    scale : tuple of two floats, default=(1, 5)
        The rating scale (x-axis limits).
    ax : matplotlib Axes or None, default=None
        Where to draw; ``None`` makes a new figure.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import devplan
    >>> from devplan import plot
    >>> b = devplan.datasets.load_sample()
    >>> profiles = devplan.CompetencyScorer().fit(b).profiles(b)
    >>> ax = plot.profile_chart(profiles, "E000001")
    >>> ax.get_title()
    'Competency profile: E000001'
    """
    require_columns(
        profiles,
        "profiles",
        ("employee_id", "competency_id", "score", "is_strength", "is_need"),
    )
    lo, hi = norm
    scored = _scored(profiles)
    person = _one_person(scored, "profiles (scored rows)", employee_id)
    who = str(person["employee_id"].iloc[0])
    comp = person["competency_id"].astype(str).to_numpy()
    label_of = pd.Series(names, dtype=object) if names is not None else None
    labels = [_short(label_of.get(c, c)) if label_of is not None else c for c in comp]
    y = np.arange(len(comp))[::-1]
    ax = _axes(ax, (7.5, 0.42 * len(comp) + 1.6))

    if norms is None:
        norms = norm_band(scored, norm=norm)
    low = norms["low"].reindex(comp).to_numpy(dtype=float)
    high = norms["high"].reindex(comp).to_numpy(dtype=float)
    ax.barh(
        y,
        high - low,
        left=low,
        height=0.9,
        color="#dddddd",
        label=f"norm band ({lo:g}th–{hi:g}th percentile)",
        zorder=1,
    )
    strength = person["is_strength"].fillna(False).astype(bool).to_numpy()
    need = person["is_need"].fillna(False).astype(bool).to_numpy()
    score = person["score"].to_numpy(dtype=float)
    kinds = (
        (strength, "#009E73", "score: strength"),
        (need & ~strength, "#E69F00", "score: need"),
        (~strength & ~need, "#7f7f7f", "score"),
    )
    for mask, color, label in kinds:
        if mask.any():
            ax.barh(
                y[mask],
                score[mask] - scale[0],
                left=scale[0],
                height=0.45,
                color=color,
                label=label,
                zorder=2,
            )
    markers = (
        ("others_score", "o", "white", "others' rating"),
        ("self_score", "D", "black", "self rating"),
    )
    for column, marker, face, label in markers:
        if column in person and person[column].notna().any():
            ax.scatter(
                person[column].to_numpy(dtype=float),
                y,
                marker=marker,
                s=28,
                facecolor=face,
                edgecolor="black",
                linewidth=0.8,
                label=label,
                zorder=3,
                clip_on=False,
            )
    if "required_level" in person and person["required_level"].notna().any():
        ax.scatter(
            person["required_level"].to_numpy(dtype=float),
            y,
            marker="|",
            s=260,
            color="#CC0000",
            linewidth=2,
            label="required level",
            zorder=3,
        )
    ax.set_yticks(y, labels)
    ax.set_xlim(scale[0], scale[1])
    ax.set_ylim(-0.7, len(comp) - 0.3)
    ax.set_xlabel(f"Score ({scale[0]:g}–{scale[1]:g} scale)")
    ax.set_ylabel("Competency")
    ax.set_title(f"Competency profile: {who}")
    ax.grid(axis="x", color="#eeeeee", zorder=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return ax


def plan_timeline(plans: pd.DataFrame, employee_id: str | None = None, *, ax=None):
    """A plan's steps as bars over the months (Gantt style).

    Parameters
    ----------
    plans : DataFrame
        The ``plans`` table (``employee_id, step, start_on, end_on,
        purpose``; ``title`` or ``item_id`` labels the steps).
    employee_id : str or None, default=None
        Whose plan; ``None`` when ``plans`` holds one person.
    ax : matplotlib Axes or None, default=None

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import devplan
    >>> from devplan import plot
    >>> result = devplan.generate_plans(devplan.datasets.load_sample())
    >>> ax = plot.plan_timeline(result.plans, "E000001")
    >>> ax.get_xlabel(), len(ax.patches)
    ('Month', 4)
    """
    import matplotlib.dates as mdates

    require_columns(
        plans, "plans", ("employee_id", "step", "start_on", "end_on", "purpose")
    )
    rows = _one_person(plans, "plans", employee_id).sort_values("step")
    who = str(rows["employee_id"].iloc[0])
    start = pd.to_datetime(rows["start_on"])
    end = pd.to_datetime(rows["end_on"]) + pd.Timedelta(days=1)
    label_col = "title" if "title" in rows else "item_id"
    labels = [
        f"{s}. {_short(t, 38)}"
        for s, t in zip(rows["step"], rows[label_col].astype(str), strict=True)
    ]
    y = np.arange(len(rows))[::-1]
    ax = _axes(ax, (8, 0.4 * len(rows) + 1.8))
    left = mdates.date2num(start.to_numpy())
    width = mdates.date2num(end.to_numpy()) - left
    purpose = rows["purpose"].astype(str).to_numpy()
    for name, color in PURPOSE_COLORS.items():
        mask = purpose == name
        if mask.any():
            ax.barh(
                y[mask],
                width[mask],
                left=left[mask],
                height=0.6,
                color=color,
                label=_PURPOSE_LABELS[name],
            )
    ax.set_yticks(y, labels)
    ax.xaxis_date()
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    ax.tick_params(axis="x", labelsize="small")
    hours = rows["hours"].sum() if "hours" in rows else None
    extra = f" ({hours:g} h)" if hours is not None else ""
    ax.set_title(f"Development plan: {who}{extra}")
    ax.set_xlabel("Month")
    ax.set_ylabel("Step")
    ax.grid(axis="x", color="#eeeeee")
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return ax


# -- hours -------------------------------------------------------------------


def _grouped_hours(plans, column, categories, by, normalize):
    require_columns(plans, "plans", ("employee_id", "hours", column))
    if by is None:
        key = pd.Series("all plans", index=plans.index)
        by_name = ""
    elif isinstance(by, str):
        if by not in plans:
            raise ValueError(
                f"Got by={by!r}, which is not a column of plans; expected a "
                "column name or a Series of groups by employee_id."
            )
        key = plans[by].astype(str)
        by_name = by.replace("_", " ")
    elif isinstance(by, pd.Series):
        key = plans["employee_id"].astype(str).map(by.astype(str)).fillna("(none)")
        by_name = str(by.name or "").replace("_", " ")
    else:
        raise TypeError(
            f"Got by of type {type(by).__name__}; expected None, a column "
            "name of plans or a Series of groups by employee_id."
        )
    table = (
        plans.assign(_key=key.to_numpy(), _cat=plans[column].astype(str))
        .pivot_table(
            index="_key",
            columns="_cat",
            values="hours",
            aggfunc="sum",
            fill_value=0.0,
            observed=True,
        )
        .reindex(columns=list(categories), fill_value=0.0)
    )
    table.index.name = by_name
    if normalize:
        totals = table.sum(axis=1)
        table = table.div(totals.where(totals > 0), axis=0).fillna(0.0)
    return table


def _stacked(ax, table, colors, labels):
    y = np.arange(len(table))[::-1]
    left = np.zeros(len(table))
    for column in table.columns:
        values = table[column].to_numpy(dtype=float)
        ax.barh(
            y,
            values,
            left=left,
            color=colors[column],
            label=labels.get(column, column),
            height=0.65,
        )
        left += values
    ax.set_yticks(y, [_short(i, 30) for i in table.index])
    return y


def hours_by_purpose(
    plans: pd.DataFrame,
    *,
    by: str | pd.Series | None = None,
    normalize: bool = False,
    ax=None,
):
    """Planned hours by purpose (strengths, needs, track core), stacked.

    Parameters
    ----------
    plans : DataFrame
        The ``plans`` table (``employee_id, hours, purpose``).
    by : str or Series or None, default=None
        One bar for all plans (``None``), per value of a ``plans`` column
        (``"employee_id"``), or per group of a Series indexed by
        ``employee_id`` (for example ``tracks.set_index("employee_id")
        ["track"]``).
    normalize : bool, default=False
        Shares of each bar's hours instead of hours.
    ax : matplotlib Axes or None, default=None

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import devplan
    >>> from devplan import plot
    >>> result = devplan.generate_plans(devplan.datasets.load_sample())
    >>> track = result.tracks.set_index("employee_id")["track"]
    >>> ax = plot.hours_by_purpose(result.plans, by=track)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['leverage a strength', 'develop a need', 'track core', 'broaden the role']
    """
    table = _grouped_hours(plans, "purpose", PURPOSE_COLORS, by, normalize)
    ax = _axes(ax, (7.5, 0.45 * len(table) + 1.8))
    _stacked(ax, table, PURPOSE_COLORS, _PURPOSE_LABELS)
    ax.set_xlabel("Share of planned hours" if normalize else "Planned hours")
    ax.set_ylabel(table.index.name.capitalize() or "Plans")
    ax.set_title("Planned hours by purpose")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return ax


def hours_by_mix(
    plans: pd.DataFrame,
    *,
    by: str | pd.Series | None = None,
    normalize: bool = True,
    ax=None,
):
    """Planned hours by 70-20-10 group (experience, exposure, education).

    With ``normalize`` (the default) the bars show shares, with dashed lines
    where the 70-20-10 target puts the group boundaries (70% and 90%).

    Parameters
    ----------
    plans : DataFrame
        The ``plans`` table (``employee_id, hours, group``).
    by : str or Series or None, default=None
        As in :func:`hours_by_purpose`.
    normalize : bool, default=True
        Shares of each bar's hours instead of hours.
    ax : matplotlib Axes or None, default=None

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import devplan
    >>> from devplan import plot
    >>> result = devplan.generate_plans(devplan.datasets.load_sample())
    >>> ax = plot.hours_by_mix(result.plans)
    >>> ax.get_title()
    'Learning mix (70-20-10)'
    """
    table = _grouped_hours(plans, "group", MIX_COLORS, by, normalize)
    ax = _axes(ax, (7.5, 0.45 * len(table) + 1.8))
    labels = {g: f"{g} (target {share:.0%})" for g, share in _MIX_TARGET.items()}
    _stacked(ax, table, MIX_COLORS, labels)
    if normalize:
        for i, x in enumerate((0.7, 0.9)):
            ax.axvline(
                x,
                color="black",
                linestyle="--",
                linewidth=1,
                label="70-20-10 target" if i == 0 else None,
            )
        ax.set_xlim(0, 1)
    ax.set_xlabel("Share of planned hours" if normalize else "Planned hours")
    ax.set_ylabel(table.index.name.capitalize() or "Plans")
    ax.set_title("Learning mix (70-20-10)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return ax


# -- the organisation --------------------------------------------------------


def gap_heatmap(
    gaps,
    *,
    by: str = "role",
    value: str = "need_rate",
    annotate: bool | None = None,
    ax=None,
):
    """Gaps by role or business unit × competency as a heat-map.

    Parameters
    ----------
    gaps : TNAResult or DataFrame
        A :func:`devplan.tna` result, or one of its gap tables
        (``gaps_by_role`` or ``gaps_by_unit``: a group column,
        ``competency_id``, ``n_assessed, n_needs`` and the value column;
        ``name`` and ``role_name`` label the cells when present).
    by : {"role", "unit"}, default="role"
        With a :class:`~devplan.TNAResult`: which gap table to show.
    value : str, default="need_rate"
        ``"need_rate"`` (share of the people assessed who have a need),
        ``"gap_per_person"`` (total gap / people assessed, in scale points)
        or any numeric column of the gap table (``total_gap``, ``hours``,
        ``cost``, ``mean_gap``...).
    annotate : bool or None, default=None
        Write the value in each cell; ``None``: when the grid has at most
        300 cells.
    ax : matplotlib Axes or None, default=None

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import devplan
    >>> from devplan import plot
    >>> b = devplan.datasets.load_sample()
    >>> profiles = devplan.CompetencyScorer().fit(b).profiles(b)
    >>> result = devplan.tna(profiles, b.employees, b.roles, b.catalog,
    ...                      competencies=b.competencies)
    >>> ax = plot.gap_heatmap(result, by="unit")
    >>> ax.get_ylabel()
    'Business unit'
    """
    from devplan._tna import TNAResult

    if isinstance(gaps, TNAResult):
        if by not in ("role", "unit"):
            raise ValueError(f"Got by={by!r}; expected 'role' or 'unit'.")
        table = gaps.gaps_by_role if by == "role" else gaps.gaps_by_unit
    else:
        table = gaps
    require_columns(table, "gaps", ("competency_id", "n_assessed", "n_needs"))
    if "role_id" in table:
        group, label = "role_id", "Role"
        if "role_name" in table:
            group = "role_name"
    elif "business_unit" in table:
        group, label = "business_unit", "Business unit"
    else:
        raise ValueError(
            "Got a gap table without role_id or business_unit; expected "
            "gaps_by_role or gaps_by_unit of a TNAResult."
        )
    table = table.assign(
        _row=table[group].astype(object).fillna("(none)").astype(str),
        _col=(table["name"] if "name" in table else table["competency_id"])
        .astype(object)
        .fillna(table["competency_id"])
        .astype(str),
    )
    assessed = table["n_assessed"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if value == "need_rate":
            values = table["n_needs"].to_numpy(dtype=float) / assessed
            legend, fmt = "share of people with a need", "{:.0%}"
        elif value == "gap_per_person":
            values = table["total_gap"].to_numpy(dtype=float) / assessed
            legend, fmt = "gap per person assessed (scale points)", "{:.2f}"
        elif value in table and pd.api.types.is_numeric_dtype(table[value]):
            values = table[value].to_numpy(dtype=float)
            legend, fmt = value.replace("_", " "), "{:,.3g}"
        else:
            raise ValueError(
                f"Got value={value!r}; expected 'need_rate', 'gap_per_person' "
                "or a numeric column of the gap table."
            )
    grid = (
        table.assign(_v=values)
        .pivot_table(index="_row", columns="_col", values="_v", aggfunc="sum")
        .sort_index()
    )
    # competencies in their overall order of need, most first
    grid = grid[grid.mean(axis=0).sort_values(ascending=False, kind="stable").index]
    n_rows, n_cols = grid.shape
    ax = _axes(ax, (max(6.0, 0.5 * n_cols + 3), max(3.0, 0.42 * n_rows + 2.5)))
    data = grid.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(data), cmap="YlOrRd", aspect="auto", vmin=0)
    ax.set_xticks(
        np.arange(n_cols),
        [_short(c, 28) for c in grid.columns],
        rotation=50,
        ha="right",
        rotation_mode="anchor",
        fontsize="small",
    )
    ax.set_yticks(np.arange(n_rows), [_short(r, 30) for r in grid.index])
    if annotate or (annotate is None and data.size <= 300):
        top = np.nanmax(data) if np.isfinite(data).any() else 0.0
        for (i, j), v in np.ndenumerate(data):
            if np.isfinite(v):
                ax.text(
                    j,
                    i,
                    fmt.format(v),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v > 0.6 * top else "black",
                )
    colorbar = ax.figure.colorbar(image, ax=ax, shrink=0.8)
    colorbar.set_label(legend)
    ax.set_xlabel("Competency")
    ax.set_ylabel(label)
    ax.set_title(f"Gaps by {label.lower()}: {legend}")
    return ax


def nine_box_grid(
    tracks: pd.DataFrame,
    *,
    highlight: str | None = None,
    max_points: int = 3000,
    random_state: int = 0,
    ax=None,
):
    """The 9-box grid: performance × potential, a dot per person by track.

    Each cell carries its label and head count; dots are jittered inside
    their cell and coloured by track (at most ``max_points`` of them, a
    random sample, so that large organisations stay readable).

    Parameters
    ----------
    tracks : DataFrame
        The ``tracks`` table (``employee_id, track, nine_box``;
        ``nine_box_label`` when present). ``nine_box`` is 1-9,
        potential-major: ``potential_level × 3 + performance_level + 1``.
    highlight : str or None, default=None
        An employee to mark with a star.
    max_points : int, default=3000
    random_state : int, default=0
        Seed of the jitter and of the sample.
    ax : matplotlib Axes or None, default=None

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import devplan
    >>> from devplan import plot
    >>> result = devplan.generate_plans(devplan.datasets.load_sample())
    >>> ax = plot.nine_box_grid(result.tracks, highlight="E000001")
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Performance', 'Potential')
    """
    from devplan._tracks import NINE_BOX

    require_columns(tracks, "tracks", ("employee_id", "track", "nine_box"))
    box = pd.to_numeric(tracks["nine_box"], errors="coerce").to_numpy(dtype=float)
    placed = np.isfinite(box)
    code = box[placed].astype(int) - 1
    potential, performance = np.divmod(code, 3)
    counts = np.bincount(code, minlength=9)
    ax = _axes(ax, (7, 6))
    for p in range(3):
        for q in range(3):
            ax.add_patch(_rectangle(q, p, "#f7f7f7" if (p + q) % 2 else "#efefef"))
            ax.text(
                q + 0.04,
                p + 0.96,
                NINE_BOX[(_LEVELS[p], _LEVELS[q])],
                va="top",
                fontsize=8,
                fontweight="bold",
            )
            ax.text(
                q + 0.96,
                p + 0.04,
                f"n = {counts[p * 3 + q]:,}",
                va="bottom",
                ha="right",
                fontsize=8,
            )
    rng = np.random.default_rng(random_state)
    shown = np.arange(len(code))
    if len(shown) > max_points:
        shown = np.sort(rng.choice(shown, size=max_points, replace=False))
    x = performance[shown] + rng.uniform(0.1, 0.9, len(shown))
    y = potential[shown] + rng.uniform(0.15, 0.8, len(shown))
    track = tracks["track"].astype(str).to_numpy()[placed][shown]
    size = 14 if len(shown) <= 500 else 5
    for name, color in TRACK_COLORS.items():
        mask = track == name
        if mask.any():
            ax.scatter(
                x[mask],
                y[mask],
                s=size,
                color=color,
                alpha=0.8,
                linewidth=0,
                label=name.replace("_", " "),
            )
    if highlight is not None:
        at = np.flatnonzero(tracks["employee_id"].astype(str).to_numpy() == highlight)
        if not len(at) or not placed[at[0]]:
            raise ValueError(
                f"Got highlight={highlight!r}, which is not placed in the tracks table."
            )
        c = int(box[at[0]]) - 1
        ax.scatter(
            c % 3 + 0.5,
            c // 3 + 0.5,
            marker="*",
            s=380,
            color="#FFD700",
            edgecolor="black",
            zorder=5,
            label=str(highlight),
        )
    ax.set_xlim(0, 3)
    ax.set_ylim(0, 3)
    ax.set_xticks([0.5, 1.5, 2.5], [lvl.capitalize() for lvl in _LEVELS])
    ax.set_yticks([0.5, 1.5, 2.5], [lvl.capitalize() for lvl in _LEVELS])
    ax.set_xlabel("Performance")
    ax.set_ylabel("Potential")
    ax.set_title(f"9-box grid ({int(placed.sum()):,} people placed)")
    ax.set_aspect("equal")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return ax


def _rectangle(x, y, color):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), 1, 1, facecolor=color, edgecolor="white", linewidth=2)


def track_mix(
    tracks: pd.DataFrame,
    *,
    by: str | None = None,
    employees: pd.DataFrame | None = None,
    normalize: bool = False,
    ax=None,
):
    """People per development track, overall or by a group, stacked.

    Parameters
    ----------
    tracks : DataFrame
        The ``tracks`` table (``employee_id, track``).
    by : str or None, default=None
        A column of ``tracks`` or of ``employees`` (``business_unit``,
        ``location``...); ``None``: one bar.
    employees : DataFrame or None, default=None
        The employees table, when ``by`` is one of its columns.
    normalize : bool, default=False
        Shares of each bar instead of head counts.
    ax : matplotlib Axes or None, default=None

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import devplan
    >>> from devplan import plot
    >>> b = devplan.datasets.load_sample()
    >>> result = devplan.generate_plans(b)
    >>> ax = plot.track_mix(result.tracks, by="business_unit", employees=b.employees)
    >>> ax.get_xlabel()
    'People'
    """
    require_columns(tracks, "tracks", ("employee_id", "track"))
    if by is None:
        key = pd.Series("everyone", index=tracks.index)
    elif by in tracks:
        key = tracks[by].astype(object).fillna("(none)").astype(str)
    elif employees is not None and by in employees:
        group = employees.drop_duplicates("employee_id").set_index(
            employees.drop_duplicates("employee_id")["employee_id"].astype(str)
        )[by]
        key = (
            tracks["employee_id"].astype(str).map(group.astype(object)).fillna("(none)")
        ).astype(str)
    else:
        raise ValueError(
            f"Got by={by!r}, which is neither a column of tracks nor of the "
            "employees given."
        )
    table = (
        pd.crosstab(key.to_numpy(), tracks["track"].astype(str).to_numpy())
        .reindex(columns=list(TRACK_COLORS), fill_value=0)
        .astype(float)
    )
    table.index.name = "" if by is None else by.replace("_", " ")
    if normalize:
        table = table.div(table.sum(axis=1), axis=0)
    ax = _axes(ax, (7.5, 0.45 * len(table) + 1.8))
    _stacked(ax, table, TRACK_COLORS, {t: t.replace("_", " ") for t in TRACK_COLORS})
    ax.set_xlabel("Share of people" if normalize else "People")
    ax.set_ylabel(table.index.name.capitalize() or "Organisation")
    ax.set_title("Development tracks")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return ax


def catalog_coverage(result, *, top: int | None = 20, ax=None):
    """Needs per competency: closable with the catalog, partly, or not served.

    Parameters
    ----------
    result : TNAResult
        A :func:`devplan.tna` result (its ``needs`` table: ``competency_id,
        closable, gain``).
    top : int or None, default=20
        Show the competencies with the most needs; ``None``: all.
    ax : matplotlib Axes or None, default=None

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    A need is *closable* when the fitting catalog items together close its
    gap, *partly served* when they close part of it, and *not served* when no
    catalog item at a fitting level develops the competency (the coverage
    gaps of the training-needs analysis).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import devplan
    >>> from devplan import plot
    >>> b = devplan.datasets.load_sample()
    >>> profiles = devplan.CompetencyScorer().fit(b).profiles(b)
    >>> result = devplan.tna(profiles, b.employees, b.roles, b.catalog,
    ...                      competencies=b.competencies)
    >>> ax = plot.catalog_coverage(result)
    >>> ax.get_title()
    'Catalog coverage of the needs'
    """
    from devplan._tna import TNAResult

    if not isinstance(result, TNAResult):
        raise TypeError(
            f"Got {type(result).__name__}; expected a TNAResult from devplan.tna."
        )
    needs = result.needs
    names = result.gaps_by_competency.set_index("competency_id")["name"]
    status = np.select(
        [
            needs["closable"].to_numpy(dtype=bool),
            needs["gain"].to_numpy(dtype=float) > 0,
        ],
        ["closable with the catalog", "partly served"],
        default="not served by any item",
    )
    order = ["closable with the catalog", "partly served", "not served by any item"]
    table = (
        pd.crosstab(needs["competency_id"].astype(str).to_numpy(), status)
        .reindex(columns=order, fill_value=0)
        .astype(float)
    )
    table = table.loc[
        table.sum(axis=1).sort_values(ascending=False, kind="stable").index
    ]
    if top is not None:
        table = table.head(top)
    table.index = [str(names.get(c, c)) for c in table.index]
    ax = _axes(ax, (7.5, 0.4 * len(table) + 1.8))
    colors = dict(zip(order, ("#009E73", "#E69F00", "#D55E00"), strict=True))
    _stacked(ax, table, colors, {})
    ax.set_xlabel("Needs (people × competency)")
    ax.set_ylabel("Competency")
    ax.set_title("Catalog coverage of the needs")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return ax
