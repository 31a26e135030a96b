"""Tests of the default framework and the synthetic organisation generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from devplan._schema import (
    ENROLMENT_STATUSES,
    IMPORTANCES,
    ITEM_KINDS,
    ITEM_LEVELS,
    KIND_GROUP,
    MODALITIES,
    RATER_TYPES,
    ROLE_LEVELS,
    TABLES,
    TRACKS,
    column_dtype,
)
from devplan.datasets import (
    OrganisationTruth,
    load_framework,
    make_organisation,
    make_tables,
)

SEED = 20260915
N = 2000

#: Hours per kind promised by the generator (learner time).
HOURS = {
    "elearning": (2, 6),
    "reading": (2, 5),
    "course": (8, 24),
    "workshop": (4, 16),
    "coaching": (6, 12),
    "mentoring": (10, 20),
    "peer_group": (6, 12),
    "practice": (4, 10),
    "stretch_assignment": (20, 60),
}

#: Every theme of domain.md section 4 and the competency that covers it.
THEMES = {
    "delegate": "delegation",
    "follow up": "follow_up",
    "give and take feedback": "feedback",
    "from colleague to boss": "role_transition",
    "let go of expert status": "letting_go",
    "set priorities": "prioritising",
    "self-confidence": "self_confidence",
    "build relationships": "relationship_building",
    "fear conflict": "conflict",
    "think strategically": "strategic_thinking",
    "clear communication": "communication",
    "difficult conversations": "difficult_conversations",
    "self-awareness": "self_awareness",
    "political antennae": "political_awareness",
    "lead through big change": "leading_change",
    "emotionally resilient and composed": "resilience",
    "decide without all information": "decisiveness",
    "be persuasive": "influence",
    "personal brand": "personal_brand",
    "lead by example": "role_modelling",
    "lead on trust, not fear": "trust",
    "empathy": "empathy",
    "successor": "succession",
    "inspiring, presenting with impact": "inspiring",
    "representing": "representing",
    "coaching": "coaching",
}

#: Core competencies each track must contain (domain.md section 4).
TRACK_CORE = {
    "new_manager": [
        "delegation",
        "feedback",
        "role_transition",
        "prioritising",
        "relationship_building",
        "self_confidence",
    ],
    "struggling_manager": [
        "prioritising",
        "delegation",
        "conflict",
        "strategic_thinking",
        "communication",
        "difficult_conversations",
        "self_awareness",
        "political_awareness",
    ],
    "high_potential": [
        "leading_change",
        "resilience",
        "decisiveness",
        "influence",
        "personal_brand",
        "role_modelling",
        "trust",
        "empathy",
        "succession",
    ],
}


@pytest.fixture(scope="module")
def org():
    return make_tables(N, random_state=SEED)


@pytest.fixture(scope="module")
def tables(org):
    return org[0]


@pytest.fixture(scope="module")
def truth(org):
    return org[1]


@pytest.fixture(scope="module")
def item_scores(tables):
    """Item-level ratings with the competency and reverse keying undone."""
    items = tables["items"]
    a = tables["assessments"]
    a = a[a["item_id"].notna()]
    comp = items.set_index("item_id")["competency_id"]
    reverse = items.set_index("item_id")["reverse_keyed"].astype(bool)
    item = a["item_id"].astype("str")
    score = np.where(reverse.reindex(item).to_numpy(), 6 - a["score"], a["score"])
    return pd.DataFrame(
        {
            "employee_id": a["employee_id"].astype("str").to_numpy(),
            "rater_type": a["rater_type"].astype("str").to_numpy(),
            "rater_id": a["rater_id"].astype("str").to_numpy(),
            "competency_id": comp.reindex(item).to_numpy(),
            "score": score,
        }
    )


def _long(truth, cycle_levels: pd.DataFrame | None = None) -> pd.Series:
    """True levels as a Series indexed by (employee_id, competency_id)."""
    wide = truth.levels if cycle_levels is None else cycle_levels
    long = wide.reset_index().melt(
        id_vars="employee_id", var_name="competency_id", value_name="level"
    )
    return long.set_index(["employee_id", "competency_id"])["level"]


def _levels(tables) -> pd.Series:
    roles = tables["roles"][["role_id", "role_level"]].drop_duplicates()
    return (
        tables["employees"][["employee_id", "role_id"]]
        .merge(roles, on="role_id", how="left")
        .set_index("employee_id")["role_level"]
    )


# --------------------------------------------------------------------------
# Framework
# --------------------------------------------------------------------------
def test_framework_covers_domain_themes():
    fw = load_framework()
    comps, items, tracks = fw["competencies"], fw["items"], fw["track_competencies"]
    ids = set(comps["competency_id"])
    assert 24 <= len(comps) <= 28
    assert comps["competency_id"].is_unique
    assert comps["competency_id"].str.fullmatch(r"[a-z]+(_[a-z]+)*").all()
    assert set(comps["cluster"]) == {
        "leading self",
        "leading others",
        "leading the business",
    }
    assert comps[["name", "description"]].notna().all().all()
    missing = {theme: c for theme, c in THEMES.items() if c not in ids}
    assert not missing

    per_comp = items.groupby("competency_id").size()
    assert set(per_comp.index) == ids
    assert per_comp.between(2, 4).all()
    assert 2.7 <= per_comp.mean() <= 3.3
    assert items["item_id"].is_unique
    assert items["reverse_keyed"].dtype == "boolean"
    assert 0.1 <= items["reverse_keyed"].mean() <= 0.25
    assert items["text"].str.len().gt(20).all()

    assert set(tracks["track"]) == set(TRACKS)
    assert set(tracks["competency_id"]) <= ids
    assert tracks["weight"].between(0, 1, inclusive="right").all()
    for track, core in TRACK_CORE.items():
        listed = set(tracks.loc[tracks["track"] == track, "competency_id"])
        assert set(core) <= listed, track


def test_framework_returns_copies():
    first = load_framework()
    first["competencies"].loc[0, "name"] = "changed"
    assert load_framework()["competencies"].loc[0, "name"] != "changed"


# --------------------------------------------------------------------------
# Shape of the tables
# --------------------------------------------------------------------------
def test_tables_follow_the_contract(tables):
    assert set(tables) == {
        "employees",
        "competencies",
        "items",
        "assessments",
        "roles",
        "catalog",
        "enrolments",
        "track_competencies",
    }
    for name, df in tables.items():
        table = TABLES[name]
        assert list(df.columns) == table.names, name
        for col in table.columns:
            dtype = df[col.name].dtype
            if table.large and col.kind in ("id", "enum"):
                assert isinstance(dtype, pd.CategoricalDtype), (name, col.name)
                if col.kind == "enum":
                    assert dtype == column_dtype(table, col), (name, col.name)
            elif col.kind in ("id", "str", "list", "enum"):
                assert dtype == "str", (name, col.name)
            else:
                assert dtype == column_dtype(table, col), (name, col.name)
            if col.required:
                assert df[col.name].notna().all(), (name, col.name)
            if dtype == "str":  # missing is NaN, never ""
                assert not df[col.name].eq("").any(), (name, col.name)
        for key in [table.key] if table.key else []:
            assert not df.duplicated(list(key)).any(), name


def test_employee_ids_are_zero_padded_strings(tables):
    ids = tables["employees"]["employee_id"]
    assert ids.str.fullmatch(r"E\d{6}").all()
    assert ids.is_unique
    assert ids.is_monotonic_increasing


def test_determinism():
    first, truth1 = make_tables(300, random_state=SEED, n_cycles=2)
    second, truth2 = make_tables(
        300, random_state=np.random.default_rng(SEED), n_cycles=2
    )
    # check_exact: identical, and fast on large categoricals.
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], check_exact=True)
    for field in ("levels", "levels_by_cycle", "talents", "item_effects"):
        pd.testing.assert_frame_equal(
            getattr(truth1, field), getattr(truth2, field), check_exact=True
        )
    for field in ("track", "rater_leniency", "self_inflation"):
        pd.testing.assert_series_equal(
            getattr(truth1, field), getattr(truth2, field), check_exact=True
        )
    pd.testing.assert_index_equal(truth1.straight_liners, truth2.straight_liners)

    other, _ = make_tables(300, random_state=SEED + 1, n_cycles=2)
    for name in ("employees", "assessments", "roles", "catalog", "enrolments"):
        assert not first[name].equals(other[name]), name


def test_invalid_arguments():
    with pytest.raises(ValueError, match="n_employees=2"):
        make_tables(2)
    with pytest.raises(TypeError, match="random_state"):
        make_tables(10, random_state="seed")
    with pytest.raises(ValueError, match="assessed_on"):
        make_tables(10, assessed_on="someday")
    with pytest.raises(ValueError, match="n_cycles=0"):
        make_tables(10, n_cycles=0)


# --------------------------------------------------------------------------
# Hierarchy, roles, employees
# --------------------------------------------------------------------------
def test_hierarchy_invariants(tables):
    emp = tables["employees"].set_index("employee_id")
    manager = emp["manager_id"]
    assert manager.isna().sum() == 1
    assert manager.dropna().isin(emp.index).all()

    # No cycles: following managers reaches the root within a few steps.
    position = pd.Series(np.arange(len(emp)), index=emp.index)
    parent = np.where(
        manager.isna(), -1, position.reindex(manager.fillna(emp.index[0])).to_numpy()
    )
    current = np.arange(len(emp))
    for _ in range(30):
        current = np.where(current >= 0, parent[np.maximum(current, 0)], -1)
    assert (current == -1).all()

    spans = manager.value_counts()
    has_reports = emp.index.isin(spans.index)
    assert (emp["is_people_manager"].to_numpy(dtype=bool) == has_reports).all()
    assert 4.0 <= spans.mean() <= 7.0
    assert spans.min() >= 1
    assert spans.max() <= 12
    assert spans.std() > 1.0
    assert 0.75 <= 1 - has_reports.mean() <= 0.82

    level = _levels(tables)
    counts = level.value_counts()
    assert set(counts.index) == set(ROLE_LEVELS)
    assert counts["executive"] == 1
    assert level[manager.isna()].item() == "executive"
    assert (level[~has_reports] == "individual").all()
    assert (level[has_reports] != "individual").all()
    # Managers of first-line managers sit higher up.
    first_line = level[level == "first_line"].index
    assert level[manager[first_line]].isin(["middle", "senior", "executive"]).all()


@pytest.mark.parametrize("n", [3, 10, 57])
def test_tiny_organisations(n):
    tables, truth = make_tables(n, random_state=SEED)
    emp = tables["employees"]
    assert len(emp) == n
    assert emp["manager_id"].isna().sum() == 1
    assert emp["is_people_manager"].sum() >= 1
    assert truth.levels.shape == (n, len(tables["competencies"]))


def test_roles(tables):
    roles = tables["roles"]
    n_comp = len(tables["competencies"])
    per_role = roles.groupby("role_id").agg(
        level=("role_level", "first"), n=("competency_id", "size")
    )
    assert set(per_role["level"]) == set(ROLE_LEVELS)
    assert (per_role.loc[per_role["level"] != "individual", "n"] == n_comp).all()
    assert per_role.loc[per_role["level"] == "individual", "n"].between(8, 12).all()
    assert roles["required_level"].between(1, 5).all()
    assert_allclose(roles["required_level"], roles["required_level"].round(1))
    assert set(roles["importance"]) == set(IMPORTANCES)
    assert (
        roles.groupby("role_id")["importance"]
        .apply(lambda s: (s == "critical").any())
        .all()
    )
    mean_required = roles.groupby("role_level")["required_level"].mean()
    assert mean_required[list(ROLE_LEVELS)].is_monotonic_increasing
    critical = roles[roles["importance"] == "critical"]
    others = roles[roles["importance"] != "critical"]
    assert critical["required_level"].mean() > others["required_level"].mean()
    # Every role of the table is used by somebody.
    assert set(tables["employees"]["role_id"]) == set(roles["role_id"])


def test_true_tracks_have_intended_proportions(tables, truth):
    emp = tables["employees"].set_index("employee_id")
    assert truth.track.name == "track"
    assert truth.track.index.equals(emp.index)
    manager = emp["is_people_manager"].to_numpy(dtype=bool)
    assert (truth.track[~manager] == "core").all()
    share = truth.track[manager].value_counts(normalize=True)
    assert share["new_manager"] == pytest.approx(0.2, abs=0.05)
    assert share["struggling_manager"] == pytest.approx(0.15, abs=0.05)
    assert share["high_potential"] == pytest.approx(0.15, abs=0.05)
    assert share["core"] == pytest.approx(0.5, abs=0.08)


def test_observables_follow_the_track(tables, truth):
    emp = tables["employees"].set_index("employee_id")
    track = truth.track
    manager = emp["is_people_manager"].to_numpy(dtype=bool)
    months = emp["months_in_role"]
    assert (months[track == "new_manager"] < 12).all()
    assert (months[manager & (track != "new_manager")] > 12).all()
    assert months[manager & (track != "new_manager")].median() > 24

    perf = emp["performance_rating"]
    assert perf.dropna().between(1, 5).all()
    assert_allclose(perf.dropna(), perf.dropna().round(1))
    assert perf.isna().mean() == pytest.approx(0.05, abs=0.02)
    assert (perf[track == "struggling_manager"].dropna() < 2.5).mean() > 0.75
    assert (perf[track == "high_potential"].dropna() > 3.8).mean() > 0.85

    potential = emp["potential_rating"]
    assert (potential[track == "high_potential"].dropna() == "high").mean() > 0.85
    assert (potential[track == "core"].dropna() == "high").mean() < 0.25
    assert potential.isna().mean() == pytest.approx(0.05, abs=0.02)

    assert emp["learning_hours_per_month"].dropna().between(2, 8).all()
    assert emp["learning_hours_per_month"].isna().any()
    assert emp["budget"].isna().any() and (emp["budget"].dropna() > 0).all()
    assert emp["language"].value_counts(normalize=True)["nl"] == pytest.approx(
        0.6, abs=0.05
    )
    assert set(emp["modality_preference"]) == {"online", "in_person", "blended", "any"}
    assert 4 <= emp["business_unit"].nunique() <= 6
    assert 3 <= emp["location"].nunique() <= 5
    assert set(emp["age_band"]) == {"<30", "30-39", "40-49", "50+"}
    assert set(emp["gender"].dropna()) == {"female", "male", "non_binary"}
    assert emp["gender"].isna().any()


def test_protected_attributes_independent_of_track():
    tables, truth = make_tables(5000, random_state=SEED)
    emp = tables["employees"].set_index("employee_id")
    manager = emp["is_people_manager"].to_numpy(dtype=bool)
    for column in ("age_band", "gender"):
        table = pd.crosstab(emp[column], truth.track)
        assert stats.chi2_contingency(table).pvalue > 0.001, column
        among_managers = pd.crosstab(emp.loc[manager, column], truth.track[manager])
        assert stats.chi2_contingency(among_managers).pvalue > 0.001, column
        by_level = pd.crosstab(emp[column], _levels(tables) == "individual")
        assert stats.chi2_contingency(by_level).pvalue > 0.001, column


# --------------------------------------------------------------------------
# True levels
# --------------------------------------------------------------------------
def test_true_levels(tables, truth):
    levels = truth.levels
    comps = tables["competencies"]["competency_id"]
    assert list(levels.columns) == comps.tolist()
    assert levels.index.equals(pd.Index(tables["employees"]["employee_id"]))
    assert ((levels >= 1) & (levels <= 5)).all().all()

    talents = truth.talents
    assert (talents.groupby("employee_id", observed=True).size() == 3).all()
    long = _long(truth)
    is_talent = long.index.isin(pd.MultiIndex.from_frame(talents.astype("str")))
    assert long[is_talent].mean() - long[~is_talent].mean() > 0.5

    by_track = levels.mean(axis=1).groupby(truth.track).mean()
    assert (
        by_track["high_potential"] > by_track["core"] > by_track["struggling_manager"]
    )

    # Struggling managers fall below several critical requirements.
    roles = tables["roles"]
    critical = roles[roles["importance"] == "critical"]
    emp = tables["employees"][["employee_id", "role_id"]].merge(critical, on="role_id")
    emp["level"] = long.reindex(
        pd.MultiIndex.from_frame(emp[["employee_id", "competency_id"]])
    ).to_numpy()
    gaps = (emp["level"] < emp["required_level"]).groupby(emp["employee_id"]).sum()
    manager = tables["employees"].set_index("employee_id")["is_people_manager"]
    several = (gaps >= 2)[manager.to_numpy(dtype=bool)]
    track = truth.track[several.index]
    assert several[track == "struggling_manager"].mean() > 0.6
    assert several[track == "core"].mean() < 0.25
    assert several[track == "high_potential"].mean() < 0.15


# --------------------------------------------------------------------------
# Assessments
# --------------------------------------------------------------------------
def test_ratings_within_scale_and_integer_per_item(tables):
    a = tables["assessments"]
    assert a["score"].between(1, 5).all()
    items = a["item_id"].notna().to_numpy()
    assert items.mean() > 0.95
    assert_allclose(a.loc[items, "score"], a.loc[items, "score"].round())
    assert a.loc[items, "competency_id"].isna().all()
    assert set(a["rater_type"]) == set(RATER_TYPES)
    assert (a["assessed_on"] == pd.Timestamp("2026-09-15")).all()


def test_raters_are_the_real_people(tables):
    a = tables["assessments"]
    emp = tables["employees"].set_index("employee_id")
    employee = a["employee_id"].astype("str")
    rater = a["rater_id"].astype("str")
    kind = a["rater_type"]
    assert (employee[kind == "self"] == rater[kind == "self"]).all()
    mgr = kind == "manager"
    assert (emp["manager_id"].reindex(employee[mgr]).to_numpy() == rater[mgr]).all()
    dr = kind == "direct_report"
    assert (emp["manager_id"].reindex(rater[dr]).to_numpy() == employee[dr]).all()
    peer = kind == "peer"
    level = _levels(tables)
    assert (
        level.reindex(rater[peer]).to_numpy()
        == level.reindex(employee[peer]).to_numpy()
    ).all()
    assert (rater[peer] != employee[peer]).all()
    assert rater[kind != "assessor"].isin(emp.index).all()


def test_some_rater_groups_are_below_the_anonymity_threshold(tables):
    a = tables["assessments"]
    groups = a[a["rater_type"].isin(["peer", "direct_report"])]
    sizes = groups.groupby(["employee_id", "rater_type"], observed=True)[
        "rater_id"
    ].nunique()
    for kind in ("peer", "direct_report"):
        small = (sizes.xs(kind, level="rater_type") < 3).mean()
        assert 0.05 < small < 0.5, kind
    peers = sizes.xs("peer", level="rater_type")
    assert peers.max() == 6
    # About 80% of direct reports respond.
    n_reports = tables["employees"]["manager_id"].notna().sum()
    assert sizes.xs("direct_report", level="rater_type").sum() / n_reports == (
        pytest.approx(0.8, abs=0.03)
    )


def test_assessor_ratings_are_competency_level(tables):
    a = tables["assessments"]
    assessor = a[a["rater_type"] == "assessor"]
    assert len(assessor) > 0
    assert assessor["item_id"].isna().all()
    assert assessor["competency_id"].notna().all()
    assert assessor["rater_id"].astype("str").str.fullmatch(r"A\d\d").all()
    assert_allclose(assessor["score"] * 2, (assessor["score"] * 2).round())
    managers = tables["employees"]["is_people_manager"].sum()
    share = assessor["employee_id"].nunique() / managers
    assert share == pytest.approx(0.25, abs=0.03)


def test_others_ratings_track_true_levels(item_scores, truth):
    others = item_scores[item_scores["rater_type"] != "self"]
    mean = others.groupby(["employee_id", "competency_id"])["score"].mean()
    true = _long(truth).reindex(mean.index)
    assert np.corrcoef(mean, true)[0, 1] > 0.8
    # Also within people: the profile shape is recovered.
    frame = pd.DataFrame({"observed": mean, "true": true})
    within = frame.groupby(level="employee_id").corr().xs("observed", level=1)["true"]
    assert within.median() > 0.5


def test_self_ratings_are_inflated(item_scores, truth):
    wide = item_scores.pivot_table(
        index=["employee_id", "competency_id"], columns="rater_type", values="score"
    )
    others = wide[["manager", "peer", "direct_report"]].mean(axis=1)
    gap = (wide["self"] - others).dropna()
    assert gap.mean() == pytest.approx(0.3, abs=0.15)
    assert (gap >= 5 / 3).any() and (gap <= -5 / 3).any()
    per_person = gap.groupby(level="employee_id").mean()
    liners = truth.straight_liners.astype("str")
    per_person = per_person.drop(liners, errors="ignore")
    r = np.corrcoef(per_person, truth.self_inflation.reindex(per_person.index))[0, 1]
    assert r > 0.5


def test_straight_liners_and_leniency(tables, truth):
    a = tables["assessments"]
    liners = truth.straight_liners
    assert 0.003 < len(liners) / len(tables["employees"]) < 0.02
    theirs = a[a["rater_id"].isin(liners)]
    spread = theirs.groupby("rater_id", observed=True)["score"].agg(["min", "max"])
    assert len(spread) == len(liners)
    assert (spread["min"] == spread["max"]).all()
    assert set(a["rater_id"].astype("str")) <= set(truth.rater_leniency.index)
    assert truth.rater_leniency.std() == pytest.approx(0.35, abs=0.05)
    assert truth.self_inflation.mean() == pytest.approx(0.3, abs=0.05)


def test_missing_ratings_are_absent_rows(tables):
    a = tables["assessments"]
    items = tables["items"]
    roles = tables["roles"]
    emp = tables["employees"]
    # Expected rows without missingness: raters x the items of the role.
    n_comp_items = items.groupby("competency_id").size()
    per_role = (
        roles.assign(n=roles["competency_id"].map(n_comp_items))
        .groupby("role_id")["n"]
        .sum()
    )
    rated = a[a["item_id"].notna()]
    raters = rated.groupby(["employee_id", "rater_id"], observed=True).size()
    role = emp.set_index("employee_id")["role_id"]
    expected = per_role.reindex(
        role.reindex(raters.index.get_level_values("employee_id"))
    ).to_numpy()
    share_missing = 1 - raters.sum() / expected.sum()
    assert share_missing == pytest.approx(0.03, abs=0.01)


def test_competency_level_ratings():
    tables, truth = make_tables(300, random_state=SEED, item_level=False)
    a = tables["assessments"]
    assert a["item_id"].isna().all()
    assert a["competency_id"].notna().all()
    assert_allclose(a["score"] * 2, (a["score"] * 2).round())
    assert a["score"].between(1, 5).all()
    others = a[~a["rater_type"].isin(["self", "assessor"])]
    mean = others.groupby(["employee_id", "competency_id"], observed=True)[
        "score"
    ].mean()
    true = _long(truth).reindex(
        mean.index.set_levels([lvl.astype("str") for lvl in mean.index.levels])
    )
    assert np.corrcoef(mean, true)[0, 1] > 0.8


# --------------------------------------------------------------------------
# Catalog and item effects
# --------------------------------------------------------------------------
def _links(catalog: pd.DataFrame) -> pd.DataFrame:
    parts = catalog.set_index("item_id")["competencies"].str.split(";").explode()
    split = parts.str.split(":", expand=True)
    return pd.DataFrame(
        {
            "competency_id": split[0],
            "weight": split[1].astype("float64").fillna(1.0) if 1 in split else 1.0,
        }
    ).reset_index()


@pytest.mark.parametrize("n_items", [None, 150, 400])
def test_catalog(n_items):
    assert set(HOURS) == set(ITEM_KINDS)
    tables, _ = make_tables(50, random_state=SEED, n_catalog_items=n_items)
    cat = tables["catalog"]
    comps = set(tables["competencies"]["competency_id"])
    assert len(cat) == (n_items or FULL_CATALOG_SIZE) >= 120
    assert cat["item_id"].is_unique and cat["title"].is_unique
    assert set(cat["kind"]) == set(ITEM_KINDS)
    assert set(cat["level"]) == set(ITEM_LEVELS)
    assert set(cat["modality"]) == set(MODALITIES)
    assert {"nl", "en"} <= set(cat["language"].dropna())
    assert cat["language"].isna().any()
    tracks = cat["tracks"].dropna().str.split(";").explode()
    assert set(tracks) == set(TRACKS)
    assert cat["tracks"].isna().any()

    for kind, (low, high) in HOURS.items():
        hours = cat.loc[cat["kind"] == kind, "hours"]
        assert hours.between(low, high).all(), kind
    assert (cat["cost"] >= 0).all()
    free = cat["cost"].eq(0).groupby(cat["kind"]).mean()
    assert free["mentoring"] > 0.5 and free["stretch_assignment"] == 1
    assert free["course"] == 0 and free["coaching"] == 0

    links = _links(cat)
    assert set(links["competency_id"]) == comps
    assert links["weight"].between(0, 1, inclusive="right").all()
    assert (links.groupby("item_id").size() > 1).mean() > 0.1
    # Every competency at every level.
    primary = links.drop_duplicates("item_id").merge(cat, on="item_id")
    assert primary.groupby("competency_id")["level"].nunique().eq(3).all()

    prereq = cat.set_index("item_id")["prerequisites"].dropna().str.split(";")
    prereq = prereq.explode()
    assert len(prereq) > 0
    assert prereq.isin(cat["item_id"]).all()
    # Acyclic: repeatedly remove items without unmet prerequisites.
    edges = prereq.reset_index().set_axis(["item", "needs"], axis=1)
    remaining = set(cat["item_id"])
    while True:
        blocked = set(edges.loc[edges["needs"].isin(remaining), "item"])
        free_now = remaining - blocked
        if not free_now:
            break
        remaining -= free_now
    assert not remaining


#: Items per competency of the full catalog: the kinds with a level fit of at
#: least 0.8, courses and workshops twice (online and in person or blended):
#: foundation 2 course + 2 workshop + e-learning + reading + practice, and the
#: best-fitting exposure kind, peer group (8); intermediate all nine kinds plus
#: the second course and workshop (11); advanced 2 course + 2 workshop +
#: coaching + mentoring + stretch assignment + peer group + practice (9).
FULL_CATALOG_SIZE = 26 * (8 + 11 + 9)


def _primary(catalog: pd.DataFrame) -> pd.DataFrame:
    """The catalog with its primary competency and 70-20-10 group."""
    first = catalog["competencies"].str.split(";").str[0].str.split(":").str[0]
    return catalog.assign(competency_id=first, group=catalog["kind"].map(KIND_GROUP))


@pytest.mark.parametrize("seed", [SEED, 0, 2026])
def test_full_catalog_covers_every_cell_in_both_languages(seed):
    tables, _ = make_tables(30, random_state=seed)
    cat = _primary(tables["catalog"])
    assert len(cat) == FULL_CATALOG_SIZE
    comps = tables["competencies"]["competency_id"]
    cells = pd.MultiIndex.from_product(
        [comps, ITEM_LEVELS, ["experience", "exposure", "education"]],
        names=["competency_id", "level", "group"],
    )
    for language in ("nl", "en"):
        usable = cat[cat["language"].isna() | cat["language"].eq(language)]
        counts = usable.groupby(["competency_id", "level", "group"]).size()
        assert counts.reindex(cells, fill_value=0).gt(0).all(), language
    # Languages stay mixed: the fix-ups do not make everything neutral.
    share = cat["language"].value_counts(normalize=True, dropna=False)
    assert share[["nl", "en"]].between(0.25, 0.4).all()
    # Kinds follow the level fit.
    kinds = cat.groupby("level")["kind"].agg(set)
    assert "stretch_assignment" not in kinds["foundation"]
    assert not {"elearning", "reading"} & kinds["advanced"]
    assert kinds["intermediate"] == set(ITEM_KINDS)


def test_full_catalog_has_online_and_in_person_variants(tables):
    cat = _primary(tables["catalog"])
    formal = cat[cat["kind"].isin(["course", "workshop"])]
    per_cell = formal.groupby(["competency_id", "level", "kind"])["modality"]
    assert per_cell.size().eq(2).all()
    assert per_cell.apply(lambda m: m.eq("online").sum() == 1).all()
    assert set(formal["modality"]) == set(MODALITIES)
    # The variants say which is which; items of one modality carry no label.
    label = formal["modality"].map(
        {"online": "online", "in_person": "in person", "blended": "blended"}
    )
    ends = [t.endswith(f" ({m})") for t, m in zip(formal["title"], label, strict=True)]
    assert all(ends)
    single = cat[~cat["kind"].isin(["course", "workshop"])]
    assert not single["title"].str.contains(r"\((?:online|in person|blended)\)$").any()
    assert cat.loc[cat["kind"] == "elearning", "modality"].eq("online").all()
    # Every competency and level has education both online and face to face.
    education = cat[cat["group"] == "education"]
    face = education.groupby(["competency_id", "level"])["modality"].agg(set)
    assert face.apply(lambda m: "online" in m and bool(m - {"online"})).all()


def test_full_catalog_titles_are_unique_and_not_doubled(tables):
    titles = tables["catalog"]["title"]
    assert titles.is_unique
    words = titles.str.lower().str.findall(r"\w+")
    assert not any(a == b for w in words for a, b in zip(w, w[1:], strict=False))
    assert not titles.str.contains(r"\(\d+\)$").any()  # no numbered duplicates


@pytest.mark.parametrize("n_items", [9, 78, 150, 400])
def test_catalog_size_is_exact(n_items):
    tables, truth = make_tables(20, random_state=SEED, n_catalog_items=n_items)
    assert len(tables["catalog"]) == n_items
    assert tables["catalog"]["title"].is_unique
    assert truth.item_effects["item_id"].nunique() == n_items


def test_catalog_titles_are_readable(tables):
    titles = tables["catalog"]["title"]
    assert titles.str.contains(" — ").all()
    assert titles.str.len().between(15, 90).all()
    delegation = tables["catalog"][tables["catalog"]["competencies"] == "delegation"]
    assert delegation["title"].str.contains("Delegation").all()


def test_item_effects(tables, truth):
    effects = truth.item_effects
    cat = tables["catalog"]
    assert list(effects.columns) == ["item_id", "competency_id", "weight", "effect"]
    assert (effects["effect"] >= 0).all()
    assert set(effects["item_id"]) == set(cat["item_id"])
    pd.testing.assert_frame_equal(
        effects[["item_id", "competency_id", "weight"]].reset_index(drop=True),
        _links(cat)[["item_id", "competency_id", "weight"]],
        check_dtype=False,
    )
    primary = effects.drop_duplicates("item_id")
    near_zero = (primary["effect"] < 0.02).mean()
    assert 0.05 <= near_zero <= 0.2
    assert primary["effect"].median() > 0.1
    kind = primary["item_id"].map(cat.set_index("item_id")["kind"])
    by_kind = primary["effect"].groupby(kind).median()
    assert by_kind["coaching"] > by_kind["reading"]


# --------------------------------------------------------------------------
# Enrolments and cycles
# --------------------------------------------------------------------------
def test_enrolments(tables):
    enr = tables["enrolments"]
    share = enr["employee_id"].nunique() / len(tables["employees"])
    assert share == pytest.approx(0.4, abs=0.05)
    assert set(enr["status"]) == set(ENROLMENT_STATUSES)
    assert not enr.duplicated(["employee_id", "item_id"]).any()
    latest = pd.Timestamp("2026-09-15")
    done = enr[enr["status"] == "completed"]
    assert (done["started_on"] <= done["completed_on"]).all()
    assert (done["completed_on"] < latest).all()
    assert done["satisfaction"].dropna().between(1, 5).all()
    assert done["satisfaction"].isna().any()
    assert enr.loc[enr["status"] != "completed", "satisfaction"].isna().all()
    assert enr.loc[enr["status"] != "completed", "completed_on"].isna().all()
    planned = enr[enr["status"] == "planned"]
    assert planned["started_on"].isna().all()
    started = enr[enr["status"].isin(["in_progress", "dropped"])]
    assert (started["started_on"] < latest).all()


def test_cycles_reflect_training_effects():
    tables, truth = make_tables(1500, random_state=SEED, n_cycles=2)
    a = tables["assessments"]
    dates = sorted(a["assessed_on"].unique())
    assert dates == [pd.Timestamp("2025-09-15"), pd.Timestamp("2026-09-15")]
    assert (a.groupby("assessed_on")["employee_id"].nunique() == 1500).all()

    lbc = truth.levels_by_cycle
    assert sorted(lbc["cycle"].unique()) == [0, 1]
    wide = lbc.pivot_table(
        index=["employee_id", "competency_id"],
        columns="cycle",
        values="level",
        observed=True,
    )
    gain = wide[1] - wide[0]
    assert (gain >= -1e-12).all()
    last = lbc[lbc["cycle"] == 1].set_index(["employee_id", "competency_id"])["level"]
    last.index = last.index.set_levels([lvl.astype("str") for lvl in last.index.levels])
    assert_allclose(_long(truth).reindex(last.index), last)

    # Expected gain: effects of the items completed between the two cycles.
    enr = tables["enrolments"]
    done = enr[
        (enr["status"] == "completed") & (enr["completed_on"] >= dates[0])
    ].astype({"employee_id": "str", "item_id": "str"})
    assert len(done) > 100
    expected = (
        done.merge(truth.item_effects, on="item_id")
        .groupby(["employee_id", "competency_id"])["effect"]
        .sum()
    )
    gain.index = gain.index.set_levels([lvl.astype("str") for lvl in gain.index.levels])
    expected = expected.reindex(gain.index, fill_value=0.0)
    unclipped = (wide[1] < 5).to_numpy()
    assert_allclose(gain[unclipped], expected[unclipped], atol=1e-9)
    assert (gain > 0.1).sum() > 50


# --------------------------------------------------------------------------
# Worlds
# --------------------------------------------------------------------------
def _critical_gaps(tables, truth) -> pd.Series:
    """Required minus true level of every (person, critical competency)."""
    roles = tables["roles"]
    critical = roles[roles["importance"] == "critical"]
    pairs = tables["employees"][["employee_id", "role_id"]].merge(
        critical, on="role_id"
    )
    levels = truth.levels
    true = levels.to_numpy()[
        levels.index.get_indexer(pairs["employee_id"]),
        levels.columns.get_indexer(pairs["competency_id"]),
    ]
    return pairs["required_level"].to_numpy() - true


def test_role_demand_changes_critical_gaps():
    worlds = {
        demand: make_tables(
            N, random_state=SEED, role_demand=demand, n_catalog_items=150
        )
        for demand in (0.6, 1.0, 1.5)
    }
    gaps = {demand: _critical_gaps(*org) for demand, org in worlds.items()}
    share = {demand: (g > 0).mean() for demand, g in gaps.items()}
    assert share[0.6] < share[1.0] < share[1.5]
    assert share[0.6] < 0.05 and share[1.5] > 0.5
    assert gaps[1.5][gaps[1.5] > 0].mean() > gaps[1.0][gaps[1.0] > 0].mean()

    # Only the required levels change: required - 1 is scaled by the demand
    # (before rounding to 0.1, so within 0.05 * 1.5 + 0.05 after it).
    default, demanding = worlds[1.0][0], worlds[1.5][0]
    for name in ("employees", "assessments", "catalog", "enrolments"):
        pd.testing.assert_frame_equal(default[name], demanding[name], check_exact=True)
    pd.testing.assert_frame_equal(
        default["roles"].drop(columns="required_level"),
        demanding["roles"].drop(columns="required_level"),
    )
    required = default["roles"]["required_level"]
    expected = np.minimum(1 + 1.5 * (required - 1), 5)
    assert_allclose(demanding["roles"]["required_level"], expected, atol=0.126)
    assert demanding["roles"]["required_level"].between(1, 5).all()


def test_default_world_is_unchanged_by_explicit_defaults():
    first, truth1 = make_tables(300, random_state=SEED, n_cycles=2)
    second, truth2 = make_tables(
        300,
        random_state=SEED,
        n_cycles=2,
        kind_effects={},
        role_demand=1.0,
        talents_per_person=3,
    )
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], check_exact=True)
    for field in ("levels", "levels_by_cycle", "talents", "item_effects"):
        pd.testing.assert_frame_equal(
            getattr(truth1, field), getattr(truth2, field), check_exact=True
        )
    assert_allclose(truth1.kind_effects, 1.0)


@pytest.mark.parametrize("n_talents", [0, 1, 5, 26])
def test_talents_per_person(n_talents):
    tables, truth = make_tables(
        300, random_state=SEED, talents_per_person=n_talents, n_catalog_items=150
    )
    talents = truth.talents
    assert list(talents.columns) == ["employee_id", "competency_id"]
    assert len(talents) == 300 * n_talents
    per_person = talents.groupby("employee_id", observed=False).size()
    assert per_person.eq(n_talents).all()
    assert not talents.duplicated().any()
    if n_talents == 0:
        return
    # Talents are 0.8 higher before clipping: clearly above the rest.
    level = _long(truth)
    is_talent = level.index.isin(pd.MultiIndex.from_frame(talents.astype("str")))
    if n_talents < 26:
        assert level[is_talent].mean() - level[~is_talent].mean() > 0.5
    default = make_tables(300, random_state=SEED, n_catalog_items=150)[1]
    assert (truth.levels.mean().mean() > default.levels.mean().mean()) == (
        n_talents > 3
    )


def _effect_by_kind(tables, truth) -> pd.Series:
    primary = truth.item_effects.drop_duplicates("item_id")
    kind = primary["item_id"].map(tables["catalog"].set_index("item_id")["kind"])
    return primary["effect"].groupby(kind.to_numpy()).mean()


def test_kind_effects_change_only_the_true_effects():
    default, truth0 = make_tables(400, random_state=SEED, n_cycles=2)
    strong, truth1 = make_tables(
        400, random_state=SEED, n_cycles=2, kind_effects="education_strong"
    )
    for name in ("catalog", "enrolments", "employees", "roles"):
        pd.testing.assert_frame_equal(default[name], strong[name], check_exact=True)
    effect0, effect1 = _effect_by_kind(default, truth0), _effect_by_kind(strong, truth1)
    ratio = effect1 / effect0
    assert_allclose(ratio[["course", "workshop", "elearning", "reading"]], 1.8)
    assert_allclose(
        ratio[["stretch_assignment", "practice", "coaching", "mentoring"]], 0.5
    )
    assert_allclose(ratio["peer_group"], 1.0)
    assert (
        effect1["course"] / effect1["stretch_assignment"]
        > effect0["course"] / effect0["stretch_assignment"]
    )
    assert effect1["course"] > effect1["stretch_assignment"]
    assert truth1.kind_effects["course"] == 1.8

    experience = make_tables(400, random_state=SEED, kind_effects="experience_strong")
    effect2 = _effect_by_kind(*experience)
    assert effect2["stretch_assignment"] / effect2["course"] > 3 * (
        effect0["stretch_assignment"] / effect0["course"]
    )

    # A dict: named kinds scaled, the rest unchanged.
    _, truth3 = make_tables(400, random_state=SEED, kind_effects={"reading": 0.0})
    ratio = _effect_by_kind(default, truth3) / effect0
    assert ratio["reading"] == 0
    assert_allclose(ratio.drop("reading"), 1.0)

    # The first cycle is the same, later cycles reflect the stronger effects.
    lbc0, lbc1 = truth0.levels_by_cycle, truth1.levels_by_cycle
    first = lbc0["cycle"] == 0
    assert_allclose(lbc0.loc[first, "level"], lbc1.loc[first, "level"])
    assert not np.allclose(lbc0.loc[~first, "level"], lbc1.loc[~first, "level"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"kind_effects": "magic"},
            ValueError,
            "kind_effects='magic'.*education_strong",
        ),
        ({"kind_effects": 2.0}, TypeError, "kind_effects=2.0"),
        ({"kind_effects": {"lecture": 2.0}}, ValueError, "unknown kinds.*lecture"),
        ({"kind_effects": {"course": -1}}, ValueError, r"kind_effects\['course'\]=-1"),
        ({"kind_effects": {"course": "x"}}, TypeError, r"kind_effects\['course'\]"),
        ({"kind_effects": {"course": float("nan")}}, ValueError, "finite"),
        ({"role_demand": 0}, ValueError, "role_demand=0; expected a finite number > 0"),
        ({"role_demand": -1.0}, ValueError, "role_demand=-1.0"),
        ({"role_demand": float("inf")}, ValueError, "role_demand=inf"),
        ({"role_demand": "high"}, TypeError, "role_demand='high'"),
        ({"role_demand": True}, TypeError, "role_demand=True"),
        ({"talents_per_person": -1}, ValueError, "talents_per_person=-1"),
        ({"talents_per_person": 27}, ValueError, "talents_per_person=27.*0 to 26"),
        ({"talents_per_person": 1.5}, TypeError, "talents_per_person=1.5"),
        ({"n_catalog_items": 8}, ValueError, "n_catalog_items=8.*>= 9 or None"),
        ({"n_catalog_items": "full"}, TypeError, "n_catalog_items='full'"),
    ],
)
def test_invalid_world_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_tables(10, random_state=SEED, **kwargs)
    with pytest.raises(error, match=match):
        make_organisation(10, random_state=SEED, **kwargs)


# --------------------------------------------------------------------------
# Bundle
# --------------------------------------------------------------------------
def test_make_organisation_validates_without_errors():
    bundle, truth = make_organisation(400, random_state=SEED, return_truth=True)
    assert isinstance(truth, OrganisationTruth)
    assert bundle.errors.empty
    assert len(bundle.employees) == 400
    tables, _ = make_tables(400, random_state=SEED)
    assert len(bundle.assessments) == len(tables["assessments"])
    bundle = make_organisation(200, random_state=SEED, n_cycles=2, item_level=False)
    assert bundle.errors.empty
