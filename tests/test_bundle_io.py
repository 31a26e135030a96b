"""Reading and writing bundles: every format round-trips every value and dtype."""

from pathlib import Path

import pandas as pd
import pytest

import devplan
from devplan import Bundle, read_bundle, write_bundle
from devplan.datasets import load_sample, make_organisation

SEED = 11
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def _assert_same(a: Bundle, b: Bundle) -> None:
    for name, table in a.tables.items():
        pd.testing.assert_frame_equal(
            table.reset_index(drop=True),
            getattr(b, name).reset_index(drop=True),
            check_exact=True,
            obj=name,
        )


def _tricky() -> Bundle:
    """Values that naive readers corrupt: zeros, NA-like words, formulas."""
    return Bundle.from_frames(
        employees=pd.DataFrame(
            {
                "employee_id": ["007", "0", "NA"],
                "role_id": ["001", "001", "001"],
                "manager_id": [None, "007", "007"],
                "language": ["na", "nl", None],  # 'na' is Nauruan, not missing
                "business_unit": ['=HYPERLINK("x")', "+sum", 'Ünïcødé, "quoted"'],
                "months_in_role": [0.1 + 0.2, 1e-9, 123456789.123],
                "performance_rating": [1.0, 4.999999999999, None],
            }
        ),
        competencies=pd.DataFrame(
            {"competency_id": ["null", "None"], "name": ["-minus", "@at"]}
        ),
        items=pd.DataFrame(
            {
                "item_id": ["01", "1"],
                "competency_id": ["null", "None"],
                "reverse_keyed": ["YES", "0"],
            }
        ),
        assessments=pd.DataFrame(
            {
                "employee_id": ["007", "0", "NA"],
                "rater_type": ["self", "manager", "peer"],
                "rater_id": ["007", "007", "0"],
                "item_id": ["01", "1", "01"],
                "score": [1.0, 2.5, 5.0],
                "assessed_on": ["2026-03-01", "2026-03-02", None],
            }
        ),
        roles=pd.DataFrame(
            {
                "role_id": ["001", "001"],
                "competency_id": ["null", "None"],
                "required_level": [3.3, 2.7],
                "role_level": ["middle", "middle"],
            }
        ),
        catalog=pd.DataFrame(
            {
                "item_id": ["k1", "k2"],
                "title": ["=1+1", "Line\nbreak"],
                "kind": ["course", "Mentoring"],
                "competencies": ["null:0.25; None", "None"],
                "hours": [1.5, 12],
                "tracks": ["core;High_Potential", None],
                "prerequisites": [None, "k1"],
            }
        ),
        enrolments=pd.DataFrame(
            {
                "employee_id": ["007"],
                "item_id": ["k1"],
                "status": ["completed"],
                "started_on": ["2025-01-02"],
                "completed_on": ["2025-02-03"],
                "satisfaction": [4.5],
            }
        ),
    )


def test_tricky_values_are_parsed_as_the_contract_says():
    b = _tricky()
    assert b.errors.empty, b.errors.to_dict("records")
    assert b.employees["employee_id"].tolist() == ["007", "0", "NA"]
    assert b.employees["language"].tolist()[:2] == ["na", "nl"]
    assert b.items["reverse_keyed"].tolist() == [True, False]
    assert b.catalog["competencies"].tolist() == ["null:0.25;None", "None"]
    assert b.catalog["tracks"].iloc[0] == "core;high_potential"
    assert b.catalog["kind"].tolist() == ["course", "mentoring"]
    links = b.catalog_links()
    assert links.to_dict("records")[0] == {
        "item_id": "k1",
        "competency_id": "null",
        "weight": 0.25,
    }
    assert str(b.assessments["assessed_on"].dtype) == "datetime64[s]"
    assert b.assessments["employee_id"].dtype == "category"


@pytest.mark.parametrize(
    "make", [_tricky, lambda: make_organisation(40, random_state=SEED)]
)
def test_round_trip_csv_parquet_excel_frames(tmp_path, make):
    original = make()
    assert original.errors.empty
    b1 = read_bundle(write_bundle(original, tmp_path / "csv", format="csv"))
    b2 = read_bundle(write_bundle(b1, tmp_path / "parquet", format="parquet"))
    b3 = read_bundle(write_bundle(b2, tmp_path / "xlsx", format="xlsx"))
    b4 = Bundle.from_frames(**dict(b3.tables))
    for copy in (b1, b2, b3, b4):
        assert copy.errors.empty
        _assert_same(original, copy)


def test_excel_never_stores_formulas(tmp_path):
    from openpyxl import load_workbook

    path = write_bundle(_tricky(), tmp_path, format="xlsx") / "bundle.xlsx"
    sheet = load_workbook(path)["catalog"]
    titles = [row[1] for row in sheet.iter_rows(min_row=2, values_only=False)]
    assert titles[0].value == "=1+1"
    assert titles[0].data_type == "s"


def test_writing_replaces_tables_atomically(tmp_path, monkeypatch):
    folder = write_bundle(_tricky(), tmp_path)
    before = (folder / "employees.csv").read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    with pytest.raises(OSError, match="disk full"):
        write_bundle(_tricky(), folder)
    assert (folder / "employees.csv").read_bytes() == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_shipped_sample_equals_load_sample():
    shipped = read_bundle(SAMPLES / "demo")
    sample = load_sample()
    assert shipped.errors.empty
    assert len(shipped.employees) == 200
    _assert_same(sample, shipped)


def test_shipped_excel_sample_equals_csv_sample():
    _assert_same(read_bundle(SAMPLES / "demo"), read_bundle(SAMPLES / "demo-xlsx"))


def test_unknown_write_format_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="format='json'"):
        write_bundle(_tricky(), tmp_path, format="json")


def test_bad_frame_type_is_rejected():
    with pytest.raises(TypeError, match="employees=list"):
        Bundle.from_frames(
            employees=[],  # type: ignore[arg-type]
            competencies=pd.DataFrame(),
            assessments=pd.DataFrame(),
            roles=pd.DataFrame(),
            catalog=pd.DataFrame(),
        )


def test_public_api_is_curated():
    assert set(devplan.__all__) >= {
        "Bundle",
        "BundleError",
        "Config",
        "read_bundle",
        "write_bundle",
        "load_config",
    }
    for name in devplan.__all__:
        assert hasattr(devplan, name)
