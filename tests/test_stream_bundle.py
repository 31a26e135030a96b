"""Streaming a bundle: assessments read and validated in batches of rows.

The reference for every check is :func:`devplan.read_bundle`, which reads and
validates every table whole: a streamed bundle must keep the same assessment
rows (same values, same row index), report the same errors in the same order
and give the same other tables, whatever the batch size and file format.
"""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import devplan
from devplan import BundleError, open_bundle, read_bundle, write_bundle
from devplan._bundle import _read_file, write_excel
from devplan._schema import TABLES
from devplan.datasets import make_organisation

SEED = 7
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
ID_COLUMNS = ["employee_id", "rater_id", "item_id", "competency_id"]


def _ids_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Identifier categoricals as text: their categories differ per batch."""
    return df.astype(dict.fromkeys(ID_COLUMNS, "str"))


def _categories_as_text(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype(
        {c: "str" for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)}
    )


def _stream(folder: Path, batch_rows: int):
    streamed = open_bundle(folder, batch_rows=batch_rows)
    assert streamed.assessment_rows is None
    clean, errors = [], []
    for batch_clean, batch_errors in streamed.assessment_batches():
        clean.append(batch_clean)
        errors.append(batch_errors)
    return streamed, clean, errors


def _assert_streams_like_read_bundle(folder: Path, batch_rows: int) -> None:
    ref = read_bundle(folder)
    streamed, clean, errors = _stream(folder, batch_rows)
    n_rows = ref.input_rows["assessments"]
    assert len(clean) == -(-n_rows // batch_rows)  # ceil: every batch but the last full
    expected = ref.assessments
    for batch in clean:
        assert len(batch) <= batch_rows
        assert list(batch.columns) == list(expected.columns)
        for name in batch.columns:
            got, want = batch[name].dtype, expected[name].dtype
            if name in ID_COLUMNS:
                # compacted like a validated bundle: used values only, sorted
                cats = batch[name].cat.categories
                assert cats.dtype == want.categories.dtype
                assert cats.is_monotonic_increasing
                assert set(cats) == set(batch[name].dropna())
            else:
                assert got == want, name
    got = pd.concat(clean) if clean else streamed.bundle.assessments
    pd.testing.assert_frame_equal(
        _ids_as_text(got), _ids_as_text(expected), check_exact=True
    )
    pd.testing.assert_frame_equal(streamed.merge_errors(errors), ref.errors)
    for name in TABLES:
        if name != "assessments":
            pd.testing.assert_frame_equal(
                getattr(streamed.bundle, name), getattr(ref, name), obj=name
            )
    assert len(streamed.bundle.assessments) == 0
    assert list(streamed.bundle.assessments.columns) == list(expected.columns)
    assert streamed.assessment_rows == n_rows
    assert streamed.bundle.input_rows == ref.input_rows
    assert streamed.sources == ref.sources
    assert streamed.bundle.config == ref.config


# --------------------------------------------------------------------------
# shipped samples and synthetic organisations


@pytest.mark.parametrize(
    ("sample", "batch_rows"),
    [
        ("broken", 7),
        ("broken", 1000),
        ("demo", 1000),
        ("demo", 25_000),
        ("demo-xlsx", 7_001),
        ("demo-xlsx", 1_000_000),
    ],
)
def test_shipped_samples_stream_like_read_bundle(sample, batch_rows):
    _assert_streams_like_read_bundle(SAMPLES / sample, batch_rows)


def test_broken_sample_has_assessment_errors_in_several_batches():
    # guards the test above: the broken sample must exercise batch errors
    _, _, errors = _stream(SAMPLES / "broken", 7)
    assert sum(len(e) > 0 for e in errors) >= 2


@pytest.fixture(scope="module")
def organisations(tmp_path_factory):
    root = tmp_path_factory.mktemp("orgs")
    folders = {}
    for item_level in (True, False):
        bundle = make_organisation(3000, random_state=1, item_level=item_level)
        for fmt in ("csv", "parquet"):
            folders[item_level, fmt] = write_bundle(
                bundle, root / f"{item_level}-{fmt}", format=fmt
            )
    return folders


@pytest.mark.slow
@pytest.mark.parametrize("item_level", [True, False])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_organisation_streams_like_read_bundle(organisations, item_level, fmt):
    # 100_003 rows: batches that do not line up with anything in the files
    _assert_streams_like_read_bundle(organisations[item_level, fmt], 100_003)


def test_small_organisation_as_xlsx_and_gzip(tmp_path):
    bundle = make_organisation(12, random_state=SEED)
    xlsx = write_bundle(bundle, tmp_path / "xlsx", format="xlsx")
    _assert_streams_like_read_bundle(xlsx, 1000)
    folder = write_bundle(bundle, tmp_path / "gz")
    csv = folder / "assessments.csv"
    with gzip.open(folder / "assessments.csv.gz", "wb") as fh:
        fh.write(csv.read_bytes())
    csv.unlink()
    _assert_streams_like_read_bundle(folder, 1000)


def test_parquet_batches_cross_row_groups_and_keep_dtypes(tmp_path):
    bundle = make_organisation(12, random_state=SEED)
    folder = write_bundle(bundle, tmp_path / "b", format="parquet")
    path = folder / "assessments.parquet"
    table = pq.read_table(path).slice(0, 400)
    pq.write_table(table, path, row_group_size=5)  # 5-row groups, 7-row batches
    assert pq.ParquetFile(path).metadata.num_row_groups == 80
    _assert_streams_like_read_bundle(folder, 7)
    # raw batches are the slices of the whole file as read_bundle reads it
    whole = _read_file(TABLES["assessments"], path)
    streamed = open_bundle(folder, batch_rows=7)
    raws = list(streamed._raw_batches())
    assert [len(r) for r in raws[:-1]] == [7] * (len(raws) - 1)
    joined = pd.concat(raws)
    assert (joined.dtypes.astype(str) == whole.dtypes.astype(str)).all()
    pd.testing.assert_frame_equal(
        _categories_as_text(joined), _categories_as_text(whole)
    )


def test_parquet_dictionary_shrinks_to_the_batch(tmp_path):
    # a pandas categorical is written with every category in every row group;
    # a batch holds only the ids it uses
    bundle = make_organisation(300, random_state=SEED)
    folder = write_bundle(bundle, tmp_path / "b", format="parquet")
    schema = pq.read_schema(folder / "assessments.parquet")
    assert pa.types.is_dictionary(schema.field("employee_id").type)
    streamed = open_bundle(folder, batch_rows=1000)
    raw = next(streamed._raw_batches())
    used = raw["employee_id"].dropna().unique()
    assert len(raw["employee_id"].cat.categories) == len(used) < 300


# --------------------------------------------------------------------------
# hand-made bad rows


def _text_tables(bundle) -> dict[str, pd.DataFrame]:
    """A bundle's tables as text, as a file would hold them."""
    out = {}
    for name, df in bundle.tables.items():
        if TABLES[name].required or len(df):
            text = devplan._bundle._for_text(df.reset_index(drop=True))
            out[name] = text.astype(object).where(text.notna(), None).astype("str")
    return out


def _bad_tables() -> dict[str, pd.DataFrame]:
    tables = _text_tables(make_organisation(12, random_state=SEED))
    employees = tables["employees"]
    template = employees.iloc[[0]].assign(manager_id=None)
    extra = pd.concat(
        [
            template.assign(employee_id="007"),
            # two rows for 008 that disagree: both set aside
            template.assign(employee_id="008"),
            template.assign(employee_id="008", months_in_role="99"),
        ]
    )
    tables["employees"] = pd.concat([employees, extra], ignore_index=True)
    items = tables["items"]
    item, comp = items["item_id"].iloc[0], items["competency_id"].iloc[0]
    other_comp = items.loc[items["competency_id"] != comp, "competency_id"].iloc[0]
    # an item measuring an unknown competency: set aside
    tables["items"] = pd.concat(
        [items, items.iloc[[0]].assign(item_id="i_bad", competency_id="ghost")],
        ignore_index=True,
    )
    comps = tables["competencies"]
    # a competency given twice with different names: set aside
    tables["competencies"] = pd.concat(
        [comps, comps.iloc[[0, 0]].assign(competency_id="c_dup", name=["A", "B"])],
        ignore_index=True,
    )
    good = tables["assessments"].iloc[:150]
    ok = {
        "employee_id": "007",
        "rater_type": "self",
        "rater_id": "0042",
        "item_id": item,
        "competency_id": None,
        "score": "4",
        "assessed_on": "2026-03-01",
    }
    bad = pd.DataFrame(
        [
            ok,  # kept: "007" keeps its zeros, rater "0042" too
            {**ok, "employee_id": "7"},  # unknown: not the same as 007
            {**ok, "employee_id": " 007 "},  # kept: spaces are not part of ids
            {**ok, "employee_id": "008"},  # employee set aside
            {**ok, "employee_id": "999"},  # unknown employee
            {**ok, "employee_id": None},  # blank employee
            {**ok, "score": "9"},  # off the scale
            {**ok, "score": "abc"},  # not a number
            {**ok, "score": None},  # blank score
            {**ok, "score": " 2.5 "},  # kept
            {**ok, "competency_id": other_comp},  # item/competency clash
            {**ok, "competency_id": comp},  # kept: the item measures it
            {**ok, "item_id": None, "competency_id": None},  # neither
            {**ok, "item_id": None, "competency_id": comp},  # kept
            {**ok, "item_id": "zz"},  # unknown item
            {**ok, "item_id": "i_bad"},  # item set aside
            {**ok, "item_id": None, "competency_id": "nope"},  # unknown competency
            {**ok, "item_id": None, "competency_id": "c_dup"},  # competency aside
            {**ok, "rater_type": "boss"},  # not a rater type
            {**ok, "rater_type": None},  # blank rater type
            {**ok, "rater_type": "Manager"},  # kept, case-insensitive
            {**ok, "assessed_on": "2026-02-30"},  # no such date
            {**ok, "score": "0", "employee_id": "999", "item_id": "zz"},  # 3 problems
        ]
    ).astype("str")
    # spread the bad rows over the table, batch boundaries included
    rng = np.random.default_rng(SEED)
    where = np.sort(rng.choice(len(good) + len(bad), size=len(bad), replace=False))
    rows = np.empty(len(good) + len(bad), dtype=object)
    mask = np.zeros(len(rows), dtype=bool)
    mask[where] = True
    combined = pd.DataFrame(index=range(len(rows)), columns=good.columns, dtype="str")
    combined[mask] = bad.to_numpy()
    combined[~mask] = good.to_numpy()
    tables["assessments"] = combined
    return tables


def _write_text_tables(tables, folder: Path, fmt: str) -> Path:
    folder.mkdir(parents=True)
    if fmt == "xlsx":
        write_excel(tables, folder / "bundle.xlsx")
        return folder
    for name, df in tables.items():
        if fmt == "parquet":
            df.to_parquet(folder / f"{name}.parquet", index=False)
        elif fmt == "csv.gz":
            df.to_csv(folder / f"{name}.csv.gz", index=False, compression="gzip")
        else:
            df.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def bad_tables():
    return _bad_tables()


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet", "xlsx"])
@pytest.mark.parametrize("batch_rows", [7, 1000])
def test_bad_assessment_rows_stream_like_read_bundle(
    bad_tables, tmp_path, fmt, batch_rows
):
    folder = _write_text_tables(bad_tables, tmp_path / "b", fmt)
    _assert_streams_like_read_bundle(folder, batch_rows)


def test_bad_rows_are_found(bad_tables, tmp_path):
    # guards the test above: every kind of bad row shows up as intended
    folder = _write_text_tables(bad_tables, tmp_path / "b", "csv")
    streamed, clean, errors = _stream(folder, 7)
    found = streamed.merge_errors(errors)
    problems = found.loc[found["table"] == "assessments", "problem"]
    for text in [
        "unknown employee_id '7'",
        "employee_id '008' refers to a row of employees that was set aside",
        "unknown employee_id '999'",
        "missing value; employee_id is required",
        "got 9; expected a number from 1 to 5",
        "got 'abc'; expected a number",
        "missing value; score is required",
        "measures",
        "one of item_id, competency_id is required",
        "unknown item_id 'zz'",
        "item_id 'i_bad' refers to a row of items that was set aside",
        "unknown competency_id 'nope'",
        "competency_id 'c_dup' refers to a row of competencies that was set aside",
        "got 'boss'",
        "missing value; rater_type is required",
        "expected an ISO 8601 date",
    ]:
        assert problems.str.contains(text, regex=False).sum() >= 1, text
    kept = _ids_as_text(pd.concat(clean))
    assert (kept["employee_id"] == "007").sum() == 6
    assert set(kept.loc[kept["employee_id"] == "007", "rater_id"]) == {"0042"}
    assert found["table"].eq("assessments").sum() == 19  # 17 rows, one has 3
    assert len(found.loc[found["table"] == "assessments", "row"].unique()) == 17


def test_item_ratings_without_items_table(bad_tables, tmp_path):
    tables = {k: v for k, v in bad_tables.items() if k != "items"}
    folder = _write_text_tables(tables, tmp_path / "b", "csv")
    _assert_streams_like_read_bundle(folder, 7)
    _, _, errors = _stream(folder, 7)
    problems = pd.concat(errors)["problem"]
    assert problems.str.contains("item ratings need an items table").any()


def test_batches_can_be_read_again(tmp_path):
    folder = write_bundle(make_organisation(12, random_state=SEED), tmp_path / "b")
    streamed = open_bundle(folder, batch_rows=500)
    first = [c for c, _ in streamed.assessment_batches()]
    again = [c for c, _ in streamed.assessment_batches()]
    assert len(first) == len(again) > 1
    for a, b in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------
# bundles that cannot be used stop at open time, as read_bundle stops


def _minimal(folder: Path, fmt: str = "csv") -> Path:
    return write_bundle(make_organisation(5, random_state=SEED), folder, format=fmt)


def _same_error(folder: Path, *, exact: bool = True) -> BundleError:
    with pytest.raises(BundleError) as expected:
        read_bundle(folder)
    with pytest.raises(BundleError) as got:
        open_bundle(folder)
    if exact:
        assert str(got.value) == str(expected.value)
    else:  # the reader's own words may differ after the file name
        head = str(expected.value).partition(": cannot read the file")
        assert str(got.value).startswith(head[0] + head[1])
    assert got.value.file == expected.value.file
    assert got.value.column == expected.value.column
    return got.value


def test_missing_required_assessment_column_csv(tmp_path):
    folder = _minimal(tmp_path / "b")
    df = pd.read_csv(folder / "assessments.csv", dtype=str)
    df.drop(columns="score").to_csv(folder / "assessments.csv", index=False)
    error = _same_error(folder)
    assert error.column == "score" and "missing required column" in str(error)


def test_missing_required_assessment_column_parquet(tmp_path):
    folder = _minimal(tmp_path / "b", "parquet")
    path = folder / "assessments.parquet"
    pd.read_parquet(path).drop(columns="rater_type").to_parquet(path, index=False)
    assert _same_error(folder).column == "rater_type"


def test_missing_required_assessment_column_xlsx(tmp_path):
    bundle = make_organisation(5, random_state=SEED)
    tables = _text_tables(bundle)
    tables["assessments"] = tables["assessments"].drop(columns="employee_id")
    folder = _write_text_tables(tables, tmp_path / "b", "xlsx")
    assert _same_error(folder).column == "employee_id"


def test_assessments_without_item_or_competency_column(tmp_path):
    folder = _minimal(tmp_path / "b")
    df = pd.read_csv(folder / "assessments.csv", dtype=str)
    df = df.drop(columns=["item_id", "competency_id"])
    df.to_csv(folder / "assessments.csv", index=False)
    assert "needs a column 'item_id' or 'competency_id'" in str(_same_error(folder))


def test_repeated_assessment_column(tmp_path):
    folder = _minimal(tmp_path / "b")
    path = folder / "assessments.csv"
    header, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header + ",score"] + [r + ",1" for r in rows]) + "\n")
    assert "appears more than once" in str(_same_error(folder))


def test_unreadable_assessment_header_and_file(tmp_path):
    folder = _minimal(tmp_path / "b")
    (folder / "assessments.csv").write_bytes(b"employee_id,\xff\xfe\n1,2\n")
    assert "cannot read the file" in str(_same_error(folder))
    (folder / "assessments.csv").unlink()
    (folder / "assessments.csv.gz").write_bytes(b"not gzip at all")
    assert "cannot read the file" in str(_same_error(folder))
    (folder / "assessments.csv.gz").unlink()
    (folder / "assessments.parquet").write_bytes(b"PAR1 but not parquet")
    assert "cannot read the file" in str(_same_error(folder, exact=False))


def test_assessments_given_twice_or_missing(tmp_path):
    folder = _minimal(tmp_path / "b")
    pd.read_csv(folder / "assessments.csv").to_parquet(
        folder / "assessments.parquet", index=False
    )
    assert "given more than once" in str(_same_error(folder))
    (folder / "assessments.csv").unlink()
    (folder / "assessments.parquet").unlink()
    assert "missing required table 'assessments'" in str(_same_error(folder))


def test_other_tables_fail_as_in_read_bundle(tmp_path):
    folder = _minimal(tmp_path / "b")
    pd.DataFrame({"employee_id": ["1"]}).to_csv(folder / "employees.csv", index=False)
    assert _same_error(folder).column == "role_id"
    with pytest.raises(BundleError, match="no such bundle folder"):
        open_bundle(tmp_path / "nowhere")


def test_only_the_header_is_read_at_open_time(tmp_path):
    # a body that cannot be read is found while reading, not at open time
    folder = _minimal(tmp_path / "b")
    path = folder / "assessments.csv"
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(40, "too,many,fields,in,this,row,for,the,header\n")
    path.write_text("".join(lines))
    with pytest.raises(BundleError, match=r"assessments\.csv: cannot read the file"):
        read_bundle(folder)
    streamed = open_bundle(folder, batch_rows=10)
    batches = streamed.assessment_batches()
    next(batches)
    with pytest.raises(BundleError, match=r"assessments\.csv: cannot read the file"):
        list(batches)
    assert streamed.assessment_rows is None


def test_batch_rows_must_be_a_positive_whole_number(tmp_path):
    folder = _minimal(tmp_path / "b")
    for bad in (0, -5, 2.5, True, "100"):
        with pytest.raises(ValueError, match=r"batch_rows=.*expected a whole number"):
            open_bundle(folder, batch_rows=bad)
