"""The broken sample bundle yields exactly the expected errors; nothing is lost."""

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import devplan
from devplan import Bundle, BundleError, read_bundle

BROKEN = Path(__file__).resolve().parents[1] / "data" / "samples" / "broken"

# Every row of data/samples/broken that breaks a rule, worked out by reading the
# CSV files by hand: (table, 1-based data row, column, words the problem must use).
EXPECTED = [
    ("competencies", 4, "competency_id", "rows 4, 5 disagree"),
    ("competencies", 5, "competency_id", "rows 4, 5 disagree"),
    ("competencies", 6, "competency_id", "competency_id is required"),
    ("competencies", 7, "competency_id", "exact duplicate"),
    ("track_competencies", 2, "track", "got 'ceo'; expected one of new_manager"),
    ("track_competencies", 3, "competency_id", "unknown competency_id 'negotiation'"),
    ("track_competencies", 4, "weight", "got 1.5; expected a number from 0 to 1"),
    ("items", 4, "reverse_keyed", "got 'maybe'"),
    ("items", 5, "competency_id", "unknown competency_id 'negotiation'"),
    ("roles", 3, "competency_id", "rows 3, 5 disagree"),
    ("roles", 4, "competency_id", "unknown competency_id 'negotiation'"),
    ("roles", 5, "competency_id", "rows 3, 5 disagree"),
    ("roles", 7, "required_level", "got 7; expected a number from 1 to 5"),
    ("roles", 8, "importance", "got 'vital'"),
    ("roles", 9, "role_level", "got 'chief'"),
    ("roles", 9, "competency_id", "'spare' refers to a row of competencies"),
    ("roles", 10, "role_level", "more than one role_level"),
    ("roles", 11, "role_level", "more than one role_level"),
    ("roles", 12, "required_level", "got 'abc'; expected a number"),
    ("employees", 4, "is_people_manager", "got 'maybe'"),
    ("employees", 4, "months_in_role", "got -2; expected a number ≥ 0"),
    ("employees", 4, "performance_rating", "got 6; expected a number from 1 to 5"),
    ("employees", 4, "potential_rating", "got 'sky'; expected one of low, medium"),
    ("employees", 4, "learning_hours_per_month", "got -1"),
    ("employees", 4, "budget", "got -50"),
    ("employees", 4, "language", "got 'english'; expected a two-letter"),
    ("employees", 4, "modality_preference", "got 'teleport'"),
    ("employees", 5, "role_id", "unknown role_id 'ZZ'"),
    ("employees", 6, "role_id", "'MG' refers to a row of roles that was set aside"),
    ("employees", 7, "manager_id", "unknown manager_id '999'"),
    ("employees", 8, "manager_id", "cannot be their own manager"),
    ("employees", 9, "manager_id", "manager cycle: 009 → 010 → 009"),
    ("employees", 10, "manager_id", "manager cycle: 009 → 010 → 009"),
    ("employees", 11, "employee_id", "exact duplicate"),
    ("employees", 12, "employee_id", "rows 12, 13 disagree"),
    ("employees", 13, "employee_id", "rows 12, 13 disagree"),
    ("employees", 14, "employee_id", "employee_id is required"),
    ("catalog", 3, "kind", "got 'lecture'"),
    ("catalog", 4, "competencies", "unknown competency 'negotiation'"),
    ("catalog", 5, "competencies", "weight of 'delegation' is '1.5'"),
    ("catalog", 6, "hours", "got 0; expected a number > 0"),
    ("catalog", 7, "cost", "got -10"),
    ("catalog", 8, "level", "got 'expert'"),
    ("catalog", 8, "modality", "got 'hologram'"),
    ("catalog", 9, "tracks", "unknown track 'ceo'"),
    ("catalog", 10, "prerequisites", "unknown prerequisite 'C99'"),
    ("catalog", 11, "prerequisites", "prerequisite cycle among C11 ↔ C12"),
    ("catalog", 12, "prerequisites", "prerequisite cycle among C11 ↔ C12"),
    ("catalog", 13, "prerequisites", "prerequisite C3 was set aside"),
    ("catalog", 14, "prerequisites", "its own prerequisite"),
    ("catalog", 15, "item_id", "rows 15, 16 disagree"),
    ("catalog", 16, "item_id", "rows 15, 16 disagree"),
    ("catalog", 17, "competencies", "competencies is required"),
    ("catalog", 18, "language", "got 'dutch'"),
    ("assessments", 6, "employee_id", "unknown employee_id '999'"),
    ("assessments", 7, "employee_id", "'004' refers to a row of employees"),
    ("assessments", 8, "rater_type", "got 'boss'"),
    ("assessments", 9, "item_id", "unknown item_id 'zz'"),
    ("assessments", 10, "item_id", "'f2' refers to a row of items"),
    ("assessments", 11, "competency_id", "unknown competency_id 'negotiation'"),
    ("assessments", 12, "competency_id", "item d1 measures delegation, not feedback"),
    ("assessments", 13, "item_id", "one of item_id, competency_id is required"),
    ("assessments", 14, "score", "got 0; expected a number from 1 to 5"),
    ("assessments", 15, "score", "got 'abc'; expected a number"),
    ("assessments", 16, "score", "score is required"),
    ("assessments", 17, "assessed_on", "got '2026-02-30'"),
    ("enrolments", 3, "employee_id", "unknown employee_id '999'"),
    ("enrolments", 4, "item_id", "unknown item_id 'C99'"),
    ("enrolments", 5, "item_id", "'C3' refers to a row of catalog"),
    ("enrolments", 6, "completed_on", "2025-04-01 is before started_on 2025-05-01"),
    ("enrolments", 7, "status", "got 'finished'"),
    ("enrolments", 8, "satisfaction", "got 9"),
]


@pytest.fixture(scope="module")
def broken() -> Bundle:
    return read_bundle(BROKEN)


def test_broken_bundle_yields_exactly_the_expected_errors(broken):
    got = broken.errors
    got_keys = list(
        zip(got["table"], got["row"].astype(int), got["column"], strict=True)
    )
    assert sorted(got_keys) == sorted((t, r, c) for t, r, c, _ in EXPECTED)
    by_key = {
        (t, int(r), c): p
        for t, r, c, p in zip(
            got["table"], got["row"], got["column"], got["problem"], strict=True
        )
    }
    for table, row, column, words in EXPECTED:
        assert words in by_key[(table, row, column)], (table, row, column)


def test_broken_bundle_keeps_every_valid_row(broken):
    # Hand count of the valid rows of each file.
    assert broken.employees["employee_id"].tolist() == ["001", "002", "003"]
    assert broken.competencies["competency_id"].tolist() == [
        "delegation",
        "feedback",
        "strategy",
    ]
    assert broken.items["item_id"].tolist() == ["d1", "d2", "f1"]
    assert broken.catalog["item_id"].tolist() == ["C1", "C2"]
    assert len(broken.assessments) == 5
    assert len(broken.enrolments) == 2
    assert broken.roles[["role_id", "competency_id"]].to_numpy().tolist() == [
        ["TL", "delegation"],
        ["TL", "feedback"],
        ["IC", "feedback"],
    ]


def test_broken_bundle_loses_nothing(broken):
    rejected = broken.errors.groupby("table")["row"].nunique()
    for name, table in broken.tables.items():
        assert broken.input_rows[name] == len(table) + rejected.get(name, 0), name


def test_defaults_are_filled(broken):
    emp = broken.employees.set_index("employee_id")
    # 001 manages 002 and 003: a people manager by default; 003 has no
    # hours or budget and gets the configured defaults; language is lowered.
    assert (
        emp.loc["003", "learning_hours_per_month"]
        == devplan.Config().learning_hours_per_month
    )
    assert emp.loc["003", "budget"] == devplan.Config().budget
    assert emp.loc["003", "language"] == "nl"
    assert bool(emp.loc["003", "is_people_manager"]) is False
    roles = broken.roles.set_index(["role_id", "competency_id"])
    assert broken.catalog.set_index("item_id").loc["C1", "modality"] == "online"
    assert roles.loc[("TL", "feedback"), "importance"] == "important"


def test_is_people_manager_default_follows_reports():
    frames = _minimal_frames()
    frames["employees"] = pd.DataFrame(
        {"employee_id": ["a", "b"], "role_id": ["r", "r"], "manager_id": [None, "a"]}
    )
    bundle = Bundle.from_frames(**frames)
    assert bundle.employees["is_people_manager"].tolist() == [True, False]


def test_is_people_manager_default_follows_the_role_level():
    frames = _minimal_frames()
    frames["roles"] = pd.DataFrame(
        {
            "role_id": ["lead", "spec", "head"],
            "role_level": ["first_line", "individual", "middle"],
            "competency_id": ["c", "c", "c"],
            "required_level": [3.5, 3.0, 3.5],
        }
    )
    frames["employees"] = pd.DataFrame(
        {
            "employee_id": ["new_lead", "spec", "lead_no", "boss", "spec_mgr"],
            "role_id": ["lead", "spec", "lead", "head", "spec"],
            "manager_id": [None, None, None, None, "boss"],
            # only an explicit value overrides the defaults
            "is_people_manager": [None, None, "false", None, None],
        }
    )
    bundle = Bundle.from_frames(**frames)
    got = bundle.employees.set_index("employee_id")["is_people_manager"]
    # new_lead: first-line role without reports yet -> manager; spec: an
    # individual role without reports -> not; lead_no: explicit false wins;
    # boss: middle role (and a report) -> manager; spec_mgr: individual role,
    # no reports -> not
    assert got.astype(bool).to_dict() == {
        "new_lead": True,
        "spec": False,
        "lead_no": False,
        "boss": True,
        "spec_mgr": False,
    }


def test_the_cli_exit_codes(tmp_path, capsys):
    from devplan._cli import main

    assert main(["validate", str(BROKEN), "--max-shown", "100"]) == 1
    out = capsys.readouterr().out
    assert "employees row 7, column manager_id (employee 007)" in out
    clean = devplan.write_bundle(
        Bundle.from_frames(**_minimal_frames()), tmp_path / "ok"
    )
    assert main(["validate", str(clean)]) == 0
    (clean / "roles.csv").unlink()
    assert main(["validate", str(clean)]) == 2
    assert "missing required table 'roles'" in capsys.readouterr().err


def _minimal_frames() -> dict[str, pd.DataFrame]:
    return {
        "employees": pd.DataFrame({"employee_id": ["007"], "role_id": ["r"]}),
        "competencies": pd.DataFrame({"competency_id": ["c"], "name": ["C"]}),
        "assessments": pd.DataFrame(
            {
                "employee_id": ["007"],
                "rater_type": ["self"],
                "competency_id": ["c"],
                "score": [4.0],
            }
        ),
        "roles": pd.DataFrame(
            {"role_id": ["r"], "competency_id": ["c"], "required_level": [3.5]}
        ),
        "catalog": pd.DataFrame(
            {
                "item_id": ["k"],
                "title": ["Course"],
                "kind": ["course"],
                "competencies": ["c"],
                "hours": [8.0],
            }
        ),
    }


# --------------------------------------------------------------------------
# structural problems stop everything, naming the file and the column


def _write_minimal(folder: Path) -> Path:
    return devplan.write_bundle(Bundle.from_frames(**_minimal_frames()), folder)


def test_missing_required_column_names_file_and_column(tmp_path):
    folder = _write_minimal(tmp_path / "b")
    pd.DataFrame({"employee_id": ["1"]}).to_csv(folder / "employees.csv", index=False)
    with pytest.raises(
        BundleError, match=r"employees\.csv: missing required column 'role_id'"
    ) as info:
        read_bundle(folder)
    assert info.value.column == "role_id"
    assert info.value.file.endswith("employees.csv")


def test_unknown_format_and_duplicate_sources(tmp_path):
    folder = _write_minimal(tmp_path / "b")
    (folder / "catalog.json").write_text("{}")
    with pytest.raises(
        BundleError, match=r"unknown format '\.json' for table 'catalog'"
    ):
        read_bundle(folder)
    (folder / "catalog.json").unlink()
    devplan.write_bundle(read_bundle(folder), folder, format="parquet")
    with pytest.raises(
        BundleError,
        match=r"table '\w+' is given more than once \(\w+\.csv, \w+\.parquet\)",
    ):
        read_bundle(folder)


def test_unreadable_file_and_missing_folder(tmp_path):
    folder = _write_minimal(tmp_path / "b")
    (folder / "roles.csv").write_bytes(
        b"role_id,competency_id,required_level\n\xff\xfe,c,3\n"
    )
    with pytest.raises(BundleError, match=r"roles\.csv: cannot read the file"):
        read_bundle(folder)
    with pytest.raises(BundleError, match="no such bundle folder"):
        read_bundle(tmp_path / "nowhere")


def test_scale_comes_from_config(tmp_path):
    frames = _minimal_frames()
    frames["assessments"]["score"] = [7.0]
    assert Bundle.from_frames(**frames).errors["column"].tolist() == ["score"]
    wide = devplan.Config(scale_min=1, scale_max=7)
    frames["roles"]["required_level"] = [6.0]
    assert Bundle.from_frames(**frames, config=wide).errors.empty
    folder = tmp_path / "b"
    devplan.write_bundle(Bundle.from_frames(**frames, config=wide), folder)
    # the settings travel with the bundle
    assert read_bundle(folder).config.scale_max == 7
    assert read_bundle(folder).errors.empty


# --------------------------------------------------------------------------
# property: rows in = rows kept + rows in errors, whatever the damage

_cell = st.one_of(
    st.sampled_from(
        ["", " ", "x", "007", "-1", "0", "3", "4.5", "9", "nan", "yes", "NA"]
    ),
    st.text(max_size=4),
)


@settings(max_examples=40, deadline=None)
@given(
    emp=st.lists(st.tuples(_cell, _cell, _cell, _cell), min_size=1, max_size=8),
    ratings=st.lists(st.tuples(_cell, _cell, _cell, _cell), min_size=1, max_size=12),
    catalog=st.lists(st.tuples(_cell, _cell, _cell, _cell), min_size=1, max_size=6),
)
def test_nothing_is_lost(emp, ratings, catalog):
    frames = _minimal_frames()
    frames["employees"] = pd.concat(
        [
            frames["employees"],
            pd.DataFrame(
                emp,
                columns=["employee_id", "role_id", "manager_id", "performance_rating"],
            ),
        ],
        ignore_index=True,
    )
    frames["assessments"] = pd.DataFrame(
        [("007", "self", "c", "4"), *ratings],
        columns=["employee_id", "rater_type", "competency_id", "score"],
    )
    frames["catalog"] = pd.DataFrame(
        [("k", "Course", "c", "8"), *catalog],
        columns=["item_id", "kind", "prerequisites", "hours"],
    ).assign(title="t", competencies="c")
    bundle = Bundle.from_frames(**frames)
    rejected = bundle.errors.groupby("table")["row"].nunique()
    for name, table in bundle.tables.items():
        n_in = len(frames[name]) if name in frames else 0
        assert n_in == len(table) + rejected.get(name, 0), name
        # kept rows are exactly the rows not named in errors
        named = set(bundle.errors.loc[bundle.errors["table"] == name, "row"] - 1)
        assert set(table.index).isdisjoint(named)
    assert (bundle.errors["problem"].str.len() > 0).all()


def test_numeric_ids_with_blanks_stay_ids():
    # an integer id column with a blank becomes float in pandas: 7.0 is "7"
    frames = _minimal_frames()
    frames["employees"] = pd.DataFrame(
        {"employee_id": [7, 8, 9], "role_id": ["r"] * 3, "manager_id": [None, 7, 7]}
    )
    bundle = Bundle.from_frames(**frames)
    assert bundle.employees["manager_id"].tolist()[1:] == ["7", "7"]
    assert set(bundle.errors["table"]) == {"assessments"}  # only 007 is unknown


def test_csv_headers_with_spaces_and_repeated_columns(tmp_path):
    folder = _write_minimal(tmp_path / "b")
    (folder / "employees.csv").write_text(
        "employee_id, role_id, manager_id\n007,r,\n008,r,007\n"
    )
    bundle = read_bundle(folder)
    assert bundle.employees["manager_id"].tolist()[1] == "007"  # zeros kept
    (folder / "employees.csv").write_text("employee_id,role_id,role_id\n007,r,r\n")
    with pytest.raises(BundleError, match="column 'role_id' appears more than once"):
        read_bundle(folder)


def test_written_files_are_readable_by_others(tmp_path):
    import stat

    folder = _write_minimal(tmp_path / "b")
    mode = (folder / "employees.csv").stat().st_mode
    assert mode & stat.S_IRGRP and mode & stat.S_IROTH
