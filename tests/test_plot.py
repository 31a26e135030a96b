"""Charts: each renders to PNG, is labelled, and draws the numbers it is given."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from numpy.testing import assert_allclose  # noqa: E402

import devplan  # noqa: E402
from devplan import plot  # noqa: E402


@pytest.fixture(scope="module")
def sample():
    bundle = devplan.datasets.load_sample()
    result = devplan.generate_plans(bundle)
    analysis = devplan.tna(
        result.profiles,
        bundle.employees,
        bundle.roles,
        bundle.catalog,
        competencies=bundle.competencies,
    )
    return bundle, result, analysis


@pytest.fixture(autouse=True)
def _close_figures(monkeypatch):
    # the library must never show a figure
    def refuse(*args, **kwargs):
        raise AssertionError("plt.show was called")

    monkeypatch.setattr(plt, "show", refuse)
    yield
    plt.close("all")


def _busiest(result):
    """The assessed person with the most plan items."""
    scored = result.profiles.loc[result.profiles["scored"], "employee_id"]
    summary = result.plan_summary[result.plan_summary["employee_id"].isin(scored)]
    return summary.sort_values(["n_items", "employee_id"]).iloc[-1]["employee_id"]


def _charts(sample):
    bundle, result, analysis = sample
    who = _busiest(result)
    names = bundle.competencies.set_index("competency_id")["name"]
    track = result.tracks.set_index("employee_id")["track"]
    return {
        "profile_chart": lambda: plot.profile_chart(result.profiles, who, names=names),
        "plan_timeline": lambda: plot.plan_timeline(result.plans, who),
        "hours_by_purpose": lambda: plot.hours_by_purpose(result.plans, by=track),
        "hours_by_mix": lambda: plot.hours_by_mix(result.plans, by=track),
        "gap_heatmap_role": lambda: plot.gap_heatmap(analysis, by="role"),
        "gap_heatmap_unit": lambda: plot.gap_heatmap(analysis, by="unit"),
        "nine_box_grid": lambda: plot.nine_box_grid(result.tracks, highlight=who),
        "track_mix": lambda: plot.track_mix(
            result.tracks, by="business_unit", employees=bundle.employees
        ),
        "catalog_coverage": lambda: plot.catalog_coverage(analysis),
    }


CHARTS = [
    "profile_chart",
    "plan_timeline",
    "hours_by_purpose",
    "hours_by_mix",
    "gap_heatmap_role",
    "gap_heatmap_unit",
    "nine_box_grid",
    "track_mix",
    "catalog_coverage",
]


@pytest.mark.parametrize("name", CHARTS)
def test_chart_renders_to_png_with_title_labels_and_legend(sample, name):
    ax = _charts(sample)[name]()
    assert isinstance(ax, matplotlib.axes.Axes)
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=60)
    raw = buffer.getvalue()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    image = mpimg.imread(io.BytesIO(raw), format="png")
    colours = np.unique(image.reshape(-1, image.shape[-1]), axis=0)
    assert len(colours) > 10  # not blank: text, bars, markers
    assert ax.get_title().strip()
    assert ax.get_xlabel().strip() and ax.get_ylabel().strip()
    if name.startswith("gap_heatmap"):
        # a heat-map has one series: its colour bar says what the colour means
        colorbar = ax.images[0].colorbar
        assert colorbar is not None and colorbar.ax.get_ylabel().strip()
    else:
        legend = ax.get_legend()
        assert legend is not None
        assert all(t.get_text().strip() for t in legend.get_texts())


def _bars(ax):
    """Bars by legend label: list of (y, left, width)."""
    return {
        c.get_label(): [
            (r.get_y() + r.get_height() / 2, r.get_x(), r.get_width()) for r in c
        ]
        for c in ax.containers
    }


def test_profile_chart_draws_scores_and_norm_band(sample):
    bundle, result, _ = sample
    who = _busiest(result)
    ax = plot.profile_chart(result.profiles, who, norm=(25, 75))
    person = result.profiles[
        (result.profiles["employee_id"] == who) & result.profiles["scored"]
    ]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    y_of = dict(zip(ticks, ax.get_yticks(), strict=True))
    bars = _bars(ax)
    drawn = {}
    for label, rects in bars.items():
        if label.startswith("score"):
            for y, left, width in rects:
                assert left == 1  # bars start at the bottom of the scale
                drawn[y] = left + width
    expected = {
        y_of[c]: s
        for c, s in zip(person["competency_id"], person["score"], strict=True)
    }
    assert drawn.keys() == expected.keys()
    assert_allclose([drawn[y] for y in expected], list(expected.values()))
    # norm band: 25th-75th percentile of everyone's scores (numpy, linear)
    scored = result.profiles[result.profiles["scored"]]
    band = {y: (left, left + width) for y, left, width in bars[next(iter(bars))]}
    assert next(iter(bars)).startswith("norm band")
    for comp in person["competency_id"]:
        scores = scored.loc[scored["competency_id"] == comp, "score"].to_numpy()
        assert_allclose(band[y_of[comp]], np.percentile(scores, [25, 75]))


def test_profile_chart_rejects_unknown_person_and_missing_columns(sample):
    _, result, _ = sample
    with pytest.raises(ValueError, match="employee_id='nobody'"):
        plot.profile_chart(result.profiles, "nobody")
    with pytest.raises(ValueError, match="employee_id=None"):
        plot.profile_chart(result.profiles)
    with pytest.raises(ValueError, match=r"without column\(s\) \[.is_need.\]"):
        plot.profile_chart(result.profiles.drop(columns="is_need"), "E000001")


def test_plan_timeline_bars_span_the_steps(sample):
    _, result, _ = sample
    who = _busiest(result)
    ax = plot.plan_timeline(result.plans, who)
    rows = result.plans[result.plans["employee_id"] == who].sort_values("step")
    rects = sorted(
        (r for rs in _bars(ax).values() for r in rs), key=lambda r: -r[0]
    )  # top (step 1) first
    assert len(rects) == len(rows)
    starts = matplotlib.dates.num2date([left for _, left, _ in rects])
    ends = matplotlib.dates.num2date([left + width for _, left, width in rects])
    assert [d.date() for d in starts] == [d.date() for d in rows["start_on"]]
    # a step ends at the end of its last day
    assert [d.date() for d in ends] == [
        (d + pd.Timedelta(days=1)).date() for d in rows["end_on"]
    ]


def _hand_plans():
    # e1: 2 h strength (experience) + 3 h need (education); e2: 5 h core
    # (exposure). Totals: strength 2, need 3, core 5 (of 10 h).
    return pd.DataFrame(
        {
            "employee_id": ["e1", "e1", "e2"],
            "hours": [2.0, 3.0, 5.0],
            "purpose": ["leverage_strength", "develop_need", "track_core"],
            "group": ["experience", "education", "exposure"],
        }
    )


def test_hours_by_purpose_hand_computed():
    plans = _hand_plans()
    bars = _bars(plot.hours_by_purpose(plans))
    widths = {k: [w for _, _, w in v] for k, v in bars.items()}
    assert widths == {
        "leverage a strength": [2.0],
        "develop a need": [3.0],
        "track core": [5.0],
        "broaden the role": [0.0],  # no broadening item in these plans
    }
    # per employee, as shares: e1 2/5 and 3/5; e2 all core
    bars = _bars(plot.hours_by_purpose(plans, by="employee_id", normalize=True))
    ax = plt.gca()
    order = [t.get_text() for t in ax.get_yticklabels()]
    assert order == ["e1", "e2"]
    widths = {
        k: [w for _, _, w in sorted(v, key=lambda r: -r[0])] for k, v in bars.items()
    }
    assert_allclose(widths["leverage a strength"], [0.4, 0.0])
    assert_allclose(widths["develop a need"], [0.6, 0.0])
    assert_allclose(widths["track core"], [0.0, 1.0])


def test_hours_by_mix_groups_by_series_and_marks_target():
    plans = _hand_plans()
    groups = pd.Series({"e1": "A", "e2": "B"}, name="team")
    ax = plot.hours_by_mix(plans, by=groups)
    bars = _bars(ax)
    # A: experience 2/5, education 3/5; B: exposure 1
    widths = {
        k: [w for _, _, w in sorted(v, key=lambda r: -r[0])] for k, v in bars.items()
    }
    assert_allclose(widths["experience (target 70%)"], [0.4, 0.0])
    assert_allclose(widths["exposure (target 20%)"], [0.0, 1.0])
    assert_allclose(widths["education (target 10%)"], [0.6, 0.0])
    assert ax.get_ylabel() == "Team"
    targets = sorted(line.get_xdata()[0] for line in ax.get_lines())
    assert_allclose(targets, [0.7, 0.9])
    with pytest.raises(ValueError, match="by='nope'"):
        plot.hours_by_mix(plans, by="nope")


def test_gap_heatmap_need_rate_hand_computed():
    # role r1: 4 assessed on x, 1 need -> 25%; 2 assessed on y, 2 needs -> 100%
    # role r2: 5 assessed on x, 0 needs -> 0%
    gaps = pd.DataFrame(
        {
            "role_id": ["r1", "r1", "r2"],
            "competency_id": ["x", "y", "x"],
            "name": ["Ex", "Why", "Ex"],
            "n_assessed": [4, 2, 5],
            "n_needs": [1, 2, 0],
            "total_gap": [0.5, 1.0, 0.0],
        }
    )
    ax = plot.gap_heatmap(gaps)
    data = np.ma.filled(ax.images[0].get_array(), np.nan)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    cols = [t.get_text() for t in ax.get_xticklabels()]
    assert rows == ["r1", "r2"]
    # columns by mean need rate, highest first: Why (1.0) then Ex (0.125)
    assert cols == ["Why", "Ex"]
    assert_allclose(data, [[1.0, 0.25], [np.nan, 0.0]])
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["0%", "100%", "25%"]
    ax = plot.gap_heatmap(gaps, value="gap_per_person")
    # 0.5 / 4 = 0.125, 1.0 / 2 = 0.5, 0 / 5 = 0
    assert_allclose(
        np.ma.filled(ax.images[0].get_array(), np.nan), [[0.5, 0.125], [np.nan, 0.0]]
    )
    with pytest.raises(ValueError, match="value='bogus'"):
        plot.gap_heatmap(gaps, value="bogus")


def test_nine_box_counts_and_highlight():
    # potential-major codes: 1 low/low, 5 moderate/moderate, 9 high/high
    tracks = pd.DataFrame(
        {
            "employee_id": ["a", "b", "c", "d"],
            "track": ["core", "core", "high_potential", "struggling_manager"],
            "nine_box": pd.array([5, 5, 9, 1], dtype="Int64"),
        }
    )
    ax = plot.nine_box_grid(tracks, highlight="c")
    counts = {
        (round(t.get_position()[0] - 0.96), round(t.get_position()[1] - 0.04)): t
        for t in ax.texts
        if t.get_text().startswith("n = ")
    }
    assert counts[(1, 1)].get_text() == "n = 2"
    assert counts[(2, 2)].get_text() == "n = 1"
    assert counts[(0, 0)].get_text() == "n = 1"
    assert counts[(2, 0)].get_text() == "n = 0"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["struggling manager", "high potential", "core", "c"]
    star = ax.collections[-1].get_offsets()[0]
    assert_allclose(star, [2.5, 2.5])
    with pytest.raises(ValueError, match="highlight='zz'"):
        plot.nine_box_grid(tracks, highlight="zz")


def test_track_mix_counts_by_employee_column():
    tracks = pd.DataFrame(
        {"employee_id": ["a", "b", "c"], "track": ["core", "core", "new_manager"]}
    )
    employees = pd.DataFrame(
        {"employee_id": ["a", "b", "c"], "business_unit": ["U1", "U2", "U1"]}
    )
    bars = _bars(plot.track_mix(tracks, by="business_unit", employees=employees))
    widths = {
        k: [w for _, _, w in sorted(v, key=lambda r: -r[0])] for k, v in bars.items()
    }
    # U1: core 1, new manager 1; U2: core 1
    assert widths["core"] == [1.0, 1.0]
    assert widths["new manager"] == [1.0, 0.0]
    assert widths["high potential"] == [0.0, 0.0]


def test_catalog_coverage_counts_every_need(sample):
    _, _, analysis = sample
    ax = plot.catalog_coverage(analysis, top=None)
    bars = _bars(ax)
    totals = np.sum([[w for _, _, w in v] for v in bars.values()], axis=0)
    names = analysis.gaps_by_competency.set_index("competency_id")["name"]
    expected = analysis.needs["competency_id"].map(names).value_counts()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert_allclose(totals, expected.reindex(labels).to_numpy())
    closable = {y: w for y, _, w in bars["closable with the catalog"]}
    assert sum(closable.values()) == analysis.needs["closable"].sum()
    with pytest.raises(TypeError, match="expected a TNAResult"):
        plot.catalog_coverage(analysis.needs)


def test_draws_on_given_axes():
    fig = matplotlib.figure.Figure()
    ax = fig.subplots()
    assert plot.hours_by_purpose(_hand_plans(), ax=ax) is ax
