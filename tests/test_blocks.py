"""Assessment rows split by employee block into files, and read back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import devplan
from devplan._blocks import AssessmentBlocks
from devplan._engine import iter_chunks


@pytest.fixture(scope="module", params=[True, False], ids=["items", "competencies"])
def bundle(request):
    b = devplan.datasets.make_organisation(
        300, random_state=7, item_level=request.param, n_cycles=2
    )
    a = b.assessments.copy()
    # unnamed raters and undated rows must survive the round trip
    a["rater_id"] = a["rater_id"].where(np.arange(len(a)) % 11 != 0)
    a["assessed_on"] = a["assessed_on"].where(np.arange(len(a)) % 13 != 0)
    # a validated table's index is its input rows: shuffle the row order
    # so that a person's rows are not consecutive
    order = np.random.default_rng(0).permutation(len(a))
    a = a.iloc[order]
    a.index = pd.RangeIndex(len(a))
    b.assessments = a
    return b


def _split(bundle, folder, block_size, batch_rows):
    ids = pd.Index(bundle.employees["employee_id"].astype(str))
    blocks = AssessmentBlocks(folder, ids, block_size)
    a = bundle.assessments
    for start in range(0, len(a), batch_rows):
        blocks.add(a.iloc[start : start + batch_rows])
    blocks.close()
    return blocks


def _same_rows(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    assert got.index.equals(expected.index)
    for column in expected.columns:
        x, y = expected[column], got[column]
        if isinstance(x.dtype, pd.CategoricalDtype):
            # the same values; categories are per block for employees
            assert x.astype(object).equals(y.astype(object)), column
        else:
            assert x.dtype == y.dtype, column
            assert x.equals(y), column


@pytest.mark.parametrize("block_size, batch_rows", [(1, 997), (37, 5000), (500, 64)])
def test_blocks_hold_every_row_of_their_employees(
    bundle, tmp_path, block_size, batch_rows
):
    blocks = _split(bundle, tmp_path, block_size, batch_rows)
    ids = pd.Index(bundle.employees["employee_id"].astype(str))
    assert blocks.n_blocks == -(-len(ids) // block_size)
    assert blocks.n_rows == len(bundle.assessments)
    seen = []
    for k, (people, frame) in enumerate(blocks()):
        assert people.equals(ids[k * block_size : (k + 1) * block_size])
        assert frame["employee_id"].astype(str).isin(people).all()
        assert frame.index.is_monotonic_increasing  # input row order
        seen.append(frame)
    whole = pd.concat(seen).sort_index()
    _same_rows(whole, bundle.assessments.sort_index())


@pytest.mark.parametrize("chunk_size", [7, 64, 301])
def test_rows_of_a_chunk_equal_the_in_memory_chunk(bundle, tmp_path, chunk_size):
    """Chunks read from the blocks are the chunks iter_chunks cuts from the
    whole bundle: same rows, same order, same index, same categories for
    raters, items and competencies (so scoring cannot tell them apart)."""
    blocks = _split(bundle, tmp_path, 64, 1000)
    for k, (chunk, _, _) in enumerate(iter_chunks(bundle, chunk_size)):
        got = blocks.rows(k * chunk_size, (k + 1) * chunk_size)
        expected = chunk.assessments
        _same_rows(got, expected)
        for column in ("rater_id", "item_id", "competency_id", "rater_type"):
            assert list(got[column].cat.categories) == list(
                expected[column].cat.categories
            ), column


def test_reopened_blocks_read_the_same(bundle, tmp_path):
    blocks = _split(bundle, tmp_path, 50, 2000)
    again = AssessmentBlocks.open(
        tmp_path, pd.Index(bundle.employees["employee_id"].astype(str)), 50
    )
    assert again.n_rows == blocks.n_rows
    assert again.latest == blocks.latest
    for (p1, f1), (p2, f2) in zip(blocks(), again(), strict=True):
        assert p1.equals(p2)
        _same_rows(f2, f1)


def test_latest_rating_date(bundle, tmp_path):
    blocks = _split(bundle, tmp_path, 100, 3000)
    assert blocks.latest == bundle.assessments["assessed_on"].max().to_datetime64()


def test_employees_without_ratings_give_an_empty_typed_frame(tmp_path):
    b = devplan.datasets.load_sample()
    ids = pd.Index(b.employees["employee_id"].astype(str))
    rated = b.assessments[b.assessments["employee_id"].astype(str) != ids[-1]]
    blocks = AssessmentBlocks(tmp_path, ids, 1)
    blocks.add(rated)
    blocks.close()
    people, frame = blocks.block(len(ids) - 1)
    assert list(people) == [ids[-1]] and frame.empty
    kinds = [str(d) for d in frame.dtypes]
    assert kinds == [str(d) for d in blocks.rows(0, 1).dtypes]
    assert blocks.latest == rated["assessed_on"].max().to_datetime64()


def test_rows_of_unknown_employees_are_refused(tmp_path):
    b = devplan.datasets.load_sample()
    ids = pd.Index(b.employees["employee_id"].astype(str))[1:]
    blocks = AssessmentBlocks(tmp_path, ids, 10)
    with pytest.raises(ValueError, match="not in the employees table"):
        blocks.add(b.assessments)


def test_frames_read_from_blocks_are_writable_and_their_own(bundle, tmp_path):
    """Frames share their arrays with what was read, not copied again: with
    one batch per block file, Arrow hands back read-only buffers. Writing
    into a frame must work and must not change the next read."""
    blocks = _split(bundle, tmp_path, 100, len(bundle.assessments))  # one batch
    for read in (lambda: blocks.block(1)[1], lambda: blocks.rows(100, 200)):
        frame, before = read(), read().copy()
        frame.iloc[0, frame.columns.get_loc("score")] = -1.0
        frame.iloc[0, frame.columns.get_loc("assessed_on")] = pd.Timestamp("2001-01-01")
        other = [
            t
            for t in frame["rater_type"].cat.categories
            if t != frame["rater_type"].iloc[0]
        ]
        frame.iloc[0, frame.columns.get_loc("rater_type")] = other[0]
        assert frame["score"].iloc[0] == -1.0
        assert frame["rater_type"].iloc[0] == other[0]
        _same_rows(read(), before)
