"""Validated assessment rows, split by employee block into files on disk.

A whole organisation's ratings (about 100 million rows at 1,000,000
employees) do not fit in memory, but every use of them is either per person
or a sum over people. So a batch run reads the ratings once, in row batches,
and appends each validated batch's rows to the file of the block of
employees they belong to: block ``k`` holds every rating of the employees at
positions ``[k * size, (k + 1) * size)`` of the employees table, in input row
order. Norms are then fitted in passes over the blocks
(:meth:`devplan.CompetencyScorer.fit_blocks`) and chunks of employees read
just their own rows.

Identifiers are stored as integer codes: employees by their position in the
employees table, raters, items and competencies by codes into dictionaries
built while reading. The original row numbers are kept, so a block reads
back as the same rows, with the same index, as a validated bundle's
``assessments`` table would hold.

Data flow: validated batches → :meth:`AssessmentBlocks.add` → one Arrow IPC
file per block → :meth:`AssessmentBlocks.block` / :meth:`AssessmentBlocks.rows`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

#: Identifier columns stored as codes into a dictionary built while reading.
_CODED = ("rater_id", "item_id", "competency_id")
_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("employee", pa.int32()),
        ("rater_type", pa.int8()),
        ("rater_id", pa.int32()),
        ("item_id", pa.int32()),
        ("competency_id", pa.int32()),
        ("score", pa.float64()),
        ("assessed_on", pa.int64()),
    ]
)
_NAT = np.iinfo(np.int64).min


class AssessmentBlocks:
    """Assessment rows split by block of employees, in a folder.

    Parameters
    ----------
    folder : Path
        Where the block files go (created if missing).
    employee_ids : pd.Index
        The employees, in the order of the validated employees table.
    block_size : int
        Employees per block.

    Examples
    --------
    >>> import tempfile, devplan
    >>> b = devplan.datasets.load_sample()
    >>> ids = pd.Index(b.employees["employee_id"].astype(str))
    >>> blocks = AssessmentBlocks(tempfile.mkdtemp(), ids, block_size=64)
    >>> blocks.add(b.assessments)
    >>> blocks.close()
    >>> frame = blocks.rows(0, len(ids))
    >>> frame.index.equals(b.assessments.index), blocks.n_blocks
    (True, 4)
    """

    def __init__(self, folder, employee_ids: pd.Index, block_size: int):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.employee_ids = pd.Index(employee_ids, dtype="str")
        self.block_size = max(int(block_size), 1)
        self.n_blocks = max(-(-len(self.employee_ids) // self.block_size), 1)
        self.n_rows = 0
        self.latest: np.datetime64 | None = None
        self._codes: dict[str, dict[str, int]] = {name: {} for name in _CODED}
        self._writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        self._dtypes: dict[str, pd.CategoricalDtype] | None = None
        self._remap: dict[str, np.ndarray] = {}
        self._rater_type: pd.CategoricalDtype | None = None
        self._date_unit = "s"

    # -- writing ------------------------------------------------------------

    def add(self, batch: pd.DataFrame) -> None:
        """Append a validated batch of assessment rows to its blocks' files."""
        if not len(batch):
            return
        self._rater_type = batch["rater_type"].dtype
        emp = batch["employee_id"]
        position = self.employee_ids.get_indexer(emp.cat.categories.astype(str))
        employee = np.append(position, -1)[emp.cat.codes.to_numpy()]
        if (employee < 0).any():
            raise ValueError(
                "Got assessment rows of employees not in the employees table; "
                "expected validated rows."
            )
        columns = {
            "row": batch.index.to_numpy(dtype=np.int64),
            "employee": employee.astype(np.int32),
            "rater_type": batch["rater_type"].cat.codes.to_numpy().astype(np.int8),
        }
        for name in _CODED:
            columns[name] = self._encode(name, batch[name])
        columns["score"] = batch["score"].to_numpy(dtype=np.float64)
        dates = batch["assessed_on"].to_numpy()
        self._date_unit = np.datetime_data(dates.dtype)[0]
        stamps = dates.view(np.int64)
        dated = stamps != _NAT
        if dated.any():
            top = dates[dated].max()
            self.latest = top if self.latest is None else max(self.latest, top)
        columns["assessed_on"] = stamps
        block = employee // self.block_size
        order = np.argsort(block, kind="stable")
        bounds = np.searchsorted(block[order], np.arange(self.n_blocks + 1))
        for k in np.flatnonzero(np.diff(bounds)):
            take = order[bounds[k] : bounds[k + 1]]
            record = pa.record_batch(
                [pa.array(columns[f.name][take]) for f in _SCHEMA], schema=_SCHEMA
            )
            self._writer(int(k)).write_batch(record)
        self.n_rows += len(batch)

    def _encode(self, name: str, s: pd.Series) -> np.ndarray:
        known = self._codes[name]
        # a Python list: iterating an Arrow-backed index is several times slower
        cats = s.cat.categories.astype(str).tolist()
        per_cat = np.fromiter(
            (known.setdefault(c, len(known)) for c in cats),
            dtype=np.int32,
            count=len(cats),
        )
        return np.append(per_cat, -1).astype(np.int32)[s.cat.codes.to_numpy()]

    def _writer(self, k: int) -> pa.ipc.RecordBatchFileWriter:
        if k not in self._writers:
            options = pa.ipc.IpcWriteOptions(compression="lz4")
            self._writers[k] = pa.ipc.new_file(
                str(self._path(k)), _SCHEMA, options=options
            )
        return self._writers[k]

    def close(self) -> None:
        """Finish the files and fix the dictionaries (sorted, as validation
        leaves them); write them next to the blocks."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
        meta = {
            "n_rows": self.n_rows,
            "date_unit": self._date_unit,
            "rater_type": None
            if self._rater_type is None
            else list(self._rater_type.categories),
            "codes": {name: list(self._codes[name]) for name in _CODED},
            "latest": None if self.latest is None else str(self.latest),
        }
        (self.folder / "dictionaries.json").write_text(json.dumps(meta), "utf-8")
        self._load_dictionaries(meta)

    @classmethod
    def open(cls, folder, employee_ids: pd.Index, block_size: int):
        """Blocks written earlier into ``folder`` (by a run being resumed)."""
        blocks = cls(folder, employee_ids, block_size)
        meta = json.loads((blocks.folder / "dictionaries.json").read_text("utf-8"))
        blocks.n_rows = meta["n_rows"]
        blocks._date_unit = meta["date_unit"]
        if meta["latest"] is not None:
            blocks.latest = np.datetime64(meta["latest"], blocks._date_unit)
        blocks._codes = {
            name: {v: i for i, v in enumerate(meta["codes"][name])} for name in _CODED
        }
        blocks._load_dictionaries(meta)
        return blocks

    def _load_dictionaries(self, meta: dict) -> None:
        from devplan._schema import RATER_TYPES

        self._dtypes, self._remap = {}, {}
        for name in _CODED:
            values = np.asarray(meta["codes"][name], dtype=object)
            order = np.argsort(values, kind="stable")
            remap = np.empty(len(values) + 1, dtype=np.int32)
            remap[order] = np.arange(len(values), dtype=np.int32)
            remap[-1] = -1  # missing stays missing
            self._remap[name] = remap
            self._dtypes[name] = pd.CategoricalDtype(
                pd.Index(values[order], dtype="str")
            )
        types = meta["rater_type"] or list(RATER_TYPES)
        self._rater_type = pd.CategoricalDtype(types)

    # -- reading ------------------------------------------------------------

    def _path(self, k: int) -> Path:
        return self.folder / f"{k:05d}.arrow"

    def _read(self, k: int) -> dict[str, np.ndarray] | None:
        path = self._path(k)
        if not path.exists():
            return None
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
        return {f.name: table.column(f.name).to_numpy() for f in _SCHEMA}

    def _frame(self, arrays: dict | None, start: int, stop: int) -> pd.DataFrame:
        """Rows of employees at positions ``[start, stop)`` as a validated
        ``assessments`` frame (employee categories: those employees)."""
        ids = self.employee_ids[start:stop]
        if arrays is None:
            arrays = {f.name: np.empty(0, f.type.to_pandas_dtype()) for f in _SCHEMA}
        employee = arrays["employee"]
        keep = (employee >= start) & (employee < stop)
        if not keep.all():
            arrays = {name: values[keep] for name, values in arrays.items()}
        out = {
            "employee_id": pd.Categorical.from_codes(
                arrays["employee"] - start, dtype=pd.CategoricalDtype(ids)
            ),
            "rater_type": pd.Categorical.from_codes(
                np.require(arrays["rater_type"], requirements="W"),
                dtype=self._rater_type,
            ),
        }
        for name in ("rater_id", "item_id", "competency_id"):
            out[name] = pd.Categorical.from_codes(
                self._remap[name][arrays[name]], dtype=self._dtypes[name]
            )
        # the arrays are this frame's own (read or cut for it), so the frame
        # takes them as they are instead of copying them (a third of a
        # block read); an array still backed by Arrow's read-only buffer is
        # copied, so the frame can be written to
        out["score"] = np.require(arrays["score"], requirements="W")
        out["assessed_on"] = np.require(arrays["assessed_on"], requirements="W").view(
            f"datetime64[{self._date_unit}]"
        )
        index = pd.Index(np.require(arrays["row"], requirements="W"))
        return pd.DataFrame(out, index=index, copy=False)

    def block(self, k: int) -> tuple[pd.Index, pd.DataFrame]:
        """Block ``k``: its employees and all their rating rows."""
        start = k * self.block_size
        stop = min(start + self.block_size, len(self.employee_ids))
        return self.employee_ids[start:stop], self._frame(self._read(k), start, stop)

    def __call__(self):
        """Every block in order, as ``(employee_ids, assessments)`` pairs (what
        :meth:`devplan.CompetencyScorer.fit_blocks` reads)."""
        for k in range(self.n_blocks):
            yield self.block(k)

    def rows(self, start: int, stop: int) -> pd.DataFrame:
        """Rating rows of the employees at positions ``[start, stop)``, in
        input row order."""
        first, last = start // self.block_size, (max(stop, 1) - 1) // self.block_size
        parts = []
        for k in range(first, last + 1):
            arrays = self._read(k)
            if arrays is not None:
                parts.append(arrays)
        if len(parts) <= 1:
            return self._frame(parts[0] if parts else None, start, stop)
        arrays = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
        return self._frame(arrays, start, stop).sort_index(kind="stable")


__all__ = ["AssessmentBlocks"]
