"""Bundles: reading, structural checks, writing. Row rules live in ``_validate``."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from devplan._config import CONFIG_FILENAME, Config, load_config
from devplan._schema import TABLES, Table
from devplan._validate import (
    AssessmentContext,
    catalog_links,
    merge_errors,
    validate_assessments,
    validate_tables,
)

EXCEL_FILENAME = "bundle.xlsx"
_CSV_SUFFIXES = (".csv", ".csv.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_EXCEL_MAX_ROWS = 1_048_575
FORMATS = ("csv", "parquet", "xlsx")


class BundleError(ValueError):
    """A bundle that cannot be used at all: nothing is processed.

    Attributes
    ----------
    file : str or None
        The file (or DataFrame argument) at fault.
    column : str or None
        The column at fault, when there is one.
    """

    def __init__(self, message: str, *, file: str | None = None, column=None):
        super().__init__(message)
        self.file = file
        self.column = column


@dataclass
class Bundle:
    """An organisation's validated input tables.

    Build one with :func:`read_bundle` or :meth:`Bundle.from_frames`. Each
    table is a DataFrame whose index is the 0-based row of its source (so row
    ``i`` is data row ``i + 1`` in a CSV file). Rows that broke a rule are not
    in the tables but in :attr:`errors`, one row per problem, so that for
    every table ``input_rows == len(table) + rows named in errors``.

    Attributes
    ----------
    employees, competencies, items, assessments, roles, catalog, enrolments
        The input tables of the data contract; optional tables that were not
        given are empty.
    track_competencies : DataFrame
        Optional table ``track, competency_id, weight``: the core content of
        each development track. When empty, :meth:`track_content` falls back
        to the default framework's. Employees have ``is_people_manager``,
        ``learning_hours_per_month`` and ``budget`` filled with their defaults.
    errors : DataFrame
        Columns ``table, row, employee_id, column, value, problem``.
    config : Config
        Settings the bundle was validated with (rating scale, defaults).
    input_rows : dict of str to int
        Rows per table before validation.
    sources : dict of str to str
        Where each table came from (a file name, a sheet or "DataFrame").
    """

    employees: pd.DataFrame
    competencies: pd.DataFrame
    track_competencies: pd.DataFrame
    items: pd.DataFrame
    assessments: pd.DataFrame
    roles: pd.DataFrame
    catalog: pd.DataFrame
    enrolments: pd.DataFrame
    errors: pd.DataFrame
    config: Config = field(default_factory=Config)
    input_rows: dict[str, int] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_frames(
        cls,
        *,
        employees: pd.DataFrame,
        competencies: pd.DataFrame,
        assessments: pd.DataFrame,
        roles: pd.DataFrame,
        catalog: pd.DataFrame,
        items: pd.DataFrame | None = None,
        enrolments: pd.DataFrame | None = None,
        track_competencies: pd.DataFrame | None = None,
        config: Config | None = None,
    ) -> Bundle:
        """Validate tables given as DataFrames, as :func:`read_bundle` does.

        Parameters
        ----------
        employees, competencies, assessments, roles, catalog : DataFrame
            Required tables of the data contract.
        items, enrolments, track_competencies : DataFrame or None, default=None
            Optional tables.
        config : Config or None, default=None
            Settings; ``None`` means the defaults.

        Returns
        -------
        Bundle

        Raises
        ------
        BundleError
            When a required column is missing.

        Examples
        --------
        >>> import pandas as pd
        >>> from devplan import Bundle
        >>> b = Bundle.from_frames(
        ...     employees=pd.DataFrame({"employee_id": ["007"], "role_id": ["r"]}),
        ...     competencies=pd.DataFrame({"competency_id": ["c"], "name": ["C"]}),
        ...     assessments=pd.DataFrame({"employee_id": ["007", "008"],
        ...         "rater_type": ["self", "self"], "competency_id": ["c", "c"],
        ...         "score": [4, 3]}),
        ...     roles=pd.DataFrame({"role_id": ["r"], "competency_id": ["c"],
        ...         "required_level": [3.5]}),
        ...     catalog=pd.DataFrame({"item_id": ["k"], "title": ["Course"],
        ...         "kind": ["course"], "competencies": ["c"], "hours": [8]}),
        ... )
        >>> b.employees["employee_id"].tolist(), len(b.assessments)
        (['007'], 1)
        >>> b.errors[["table", "row", "column"]].to_dict("records")
        [{'table': 'assessments', 'row': 2, 'column': 'employee_id'}]
        """
        given = {
            "employees": employees,
            "competencies": competencies,
            "assessments": assessments,
            "roles": roles,
            "catalog": catalog,
            "items": items,
            "enrolments": enrolments,
            "track_competencies": track_competencies,
        }
        frames = {}
        for name, df in given.items():
            if df is None:
                continue
            if not isinstance(df, pd.DataFrame):
                raise TypeError(
                    f"Got {name}={type(df).__name__}; expected a pandas DataFrame."
                )
            frames[name] = df.reset_index(drop=True)
        sources = {name: f"{name} (DataFrame)" for name in frames}
        return _build(frames, sources, config or Config())

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The input tables by name, in validation order."""
        return {name: getattr(self, name) for name in TABLES}

    def track_content(self) -> pd.DataFrame:
        """Core competencies of each track, with weights.

        The bundle's ``track_competencies`` table when it has one, else the
        default framework's (``devplan.datasets.load_framework()``), limited
        to the bundle's competencies.

        Returns
        -------
        DataFrame
            Columns ``track, competency_id, weight``.
        """
        content = self.track_competencies
        if not len(content):
            from devplan.datasets import load_framework

            content = load_framework()["track_competencies"]
            known = content["competency_id"].isin(self.competencies["competency_id"])
            content = content[known]
        out = content[["track", "competency_id", "weight"]].reset_index(drop=True)
        return out.astype({"track": "str", "competency_id": "str"})

    def catalog_links(self) -> pd.DataFrame:
        """Catalog ``competencies`` lists as rows of item, competency, weight."""
        return catalog_links(self.catalog)

    def summary(self) -> str:
        """A few readable lines: rows read, kept and set aside per table."""
        rejected = self.errors.groupby("table")["row"].nunique()
        lines = []
        for name in TABLES:
            if name not in self.input_rows:
                continue
            n_in = self.input_rows[name]
            n_bad = int(rejected.get(name, 0))
            lines.append(
                f"{name:<18} {n_in:>10,} rows read  {n_in - n_bad:>10,} kept"
                f"  {n_bad:>8,} set aside"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"Bundle({counts}, errors={len(self.errors):,})"


def _build(frames: dict[str, pd.DataFrame], sources: dict[str, str], config: Config):
    _check_tables(frames, sources)
    tables, errors = validate_tables(frames, config)
    return Bundle(
        **tables,
        errors=errors,
        config=config,
        input_rows={name: len(df) for name, df in frames.items()},
        sources=sources,
    )


def _check_tables(frames: dict[str, pd.DataFrame], sources: dict[str, str]) -> None:
    """Refuse a missing required table or column; tidy column names in place."""
    for name, table in TABLES.items():
        if name not in frames:
            if table.required:
                raise BundleError(
                    f"missing required table {name!r}; expected {name}.csv, "
                    f"{name}.parquet or a sheet {name!r} in {EXCEL_FILENAME}",
                    file=name,
                )
            continue
        frames[name] = _check_columns(table, frames[name], sources[name])


def _check_columns(table: Table, df: pd.DataFrame, source: str) -> pd.DataFrame:
    df = df.rename(columns=lambda c: str(c).strip())
    found = list(df.columns)
    duplicated = sorted({c for c in found if found.count(c) > 1})
    if duplicated:
        raise BundleError(
            f"{source}: column {duplicated[0]!r} appears more than once",
            file=source,
            column=duplicated[0],
        )
    for column in table.columns:
        if column.required and column.name not in df.columns:
            raise BundleError(
                f"{source}: missing required column {column.name!r} "
                f"(columns found: {', '.join(found) or 'none'})",
                file=source,
                column=column.name,
            )
    if table.one_of and not any(c in df.columns for c in table.one_of):
        names = " or ".join(repr(c) for c in table.one_of)
        raise BundleError(
            f"{source}: needs a column {names} (columns found: {', '.join(found)})",
            file=source,
            column=table.one_of[0],
        )
    return df


# --------------------------------------------------------------------------
# reading


def read_bundle(path: str | Path, *, config: Config | str | Path | None = None):
    """Read and validate a bundle folder.

    Each table may be ``NAME.csv`` (UTF-8, header row), ``NAME.csv.gz``,
    ``NAME.parquet`` or a sheet ``NAME`` of ``bundle.xlsx``; identifiers stay
    strings (``007`` stays ``007``) and only empty cells count as missing.

    Parameters
    ----------
    path : str or Path
        The bundle folder.
    config : Config, str, Path or None, default=None
        Settings, or a TOML file with them. ``None`` uses the folder's
        ``devplan.toml`` when there is one, else the defaults.

    Returns
    -------
    Bundle
        Clean tables plus an ``errors`` table of the rows set aside.

    Raises
    ------
    BundleError
        Before any work, when the bundle cannot be used: no such folder, a
        required table or column missing, a file that cannot be read, a table
        given twice or in a format devplan does not read.

    Examples
    --------
    >>> import tempfile, devplan
    >>> sample = devplan.datasets.load_sample()
    >>> folder = devplan.write_bundle(sample, tempfile.mkdtemp())
    >>> bundle = devplan.read_bundle(folder)
    >>> bundle.errors.empty, bundle.employees["employee_id"].iat[0]
    (True, 'E000001')
    """
    folder, config = _open_folder(path, config)
    frames, sources, _ = _read_tables(folder)
    return _build(frames, sources, config)


def _open_folder(path: str | Path, config) -> tuple[Path, Config]:
    folder = Path(path)
    if not folder.is_dir():
        raise BundleError(
            f"{folder}: no such bundle folder (a bundle is a folder of tables)",
            file=str(folder),
        )
    if not isinstance(config, Config):
        config = load_config(config, bundle=folder)
    return folder, config


def _read_tables(folder: Path, streamed: str | None = None):
    """Every table of the folder; ``streamed`` is only opened.

    Returns the frames, their sources and, for ``streamed`` (whose frame is
    then only its header, with no rows), a function of ``batch_rows`` that
    yields the table's rows in consecutive batches.
    """
    located = _locate(folder)
    frames: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    batches = None
    sheets = None
    for name, where in located.items():
        if where == EXCEL_FILENAME:
            if sheets is None:
                sheets = _read_excel(folder / EXCEL_FILENAME)
            frames[name] = sheets[name]
            sources[name] = f"{folder / EXCEL_FILENAME} [sheet {name}]"
            if name == streamed:
                batches = _sheet_batches(sheets[name])
                frames[name] = sheets[name].iloc[:0]
        elif name == streamed:
            frames[name], batches = _open_file(TABLES[name], folder / where)
            sources[name] = str(folder / where)
        else:
            frames[name] = _read_file(TABLES[name], folder / where)
            sources[name] = str(folder / where)
    return frames, sources, batches


def _locate(folder: Path) -> dict[str, str]:
    """Which file (or the workbook) holds each table; refuse ambiguity."""
    found: dict[str, list[str]] = {}
    sheet_names: list[str] = []
    workbook = folder / EXCEL_FILENAME
    if workbook.is_file():
        try:
            from python_calamine import CalamineWorkbook

            sheet_names = CalamineWorkbook.from_path(str(workbook)).sheet_names
        except Exception as exc:  # noqa: BLE001 - any failure means unreadable
            raise BundleError(
                f"{workbook}: cannot read the workbook: {exc}", file=str(workbook)
            ) from exc
        for sheet in sheet_names:
            if sheet in TABLES:
                found.setdefault(sheet, []).append(EXCEL_FILENAME)
    for entry in sorted(folder.iterdir()):
        if not entry.is_file() or entry.name == EXCEL_FILENAME:
            continue
        stem, _, suffix = entry.name.partition(".")
        if stem not in TABLES:
            continue
        suffix = "." + suffix
        if suffix in _CSV_SUFFIXES or suffix in _PARQUET_SUFFIXES:
            found.setdefault(stem, []).append(entry.name)
        else:
            raise BundleError(
                f"{entry}: unknown format {suffix!r} for table {stem!r}; expected "
                f"{stem}.csv, {stem}.parquet or a sheet in {EXCEL_FILENAME}",
                file=str(entry),
            )
    for name, places in found.items():
        if len(places) > 1:
            where = ", ".join(
                f"sheet {name!r} of {p}" if p == EXCEL_FILENAME else p for p in places
            )
            raise BundleError(
                f"{folder}: table {name!r} is given more than once ({where}); keep one",
                file=str(folder / places[0]),
            )
    return {name: places[0] for name, places in found.items()}


def _csv_dtypes(table: Table) -> dict[str, str]:
    """Text columns of a table; large-table identifiers become categoricals."""
    dtypes = {}
    for column in table.columns:
        if column.kind == "float":
            continue
        large_text = table.large and column.kind in ("id", "enum")
        dtypes[column.name] = "category" if large_text else "str"
    return dtypes


def _read_file(table: Table, path: Path) -> pd.DataFrame:
    try:
        if path.name.endswith(_PARQUET_SUFFIXES):
            df = pd.read_parquet(path)
        else:
            df = _read_csv(table, path)
    except BundleError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure means unreadable
        raise BundleError(
            f"{path}: cannot read the file: {exc}", file=str(path)
        ) from exc
    return df.reset_index(drop=True)


_CSV_OPTIONS = {"keep_default_na": False, "na_values": [""], "encoding": "utf-8-sig"}


def _read_csv(table: Table, path: Path) -> pd.DataFrame:
    header, as_text, categorical = _csv_header(table, path)
    try:
        # Fast path: numeric columns parsed directly.
        df = pd.read_csv(path, dtype=as_text, **_CSV_OPTIONS)
    except ValueError:
        # A cell that is not a number: read all as text and let validation
        # report the exact rows.
        df = pd.read_csv(path, dtype=dict.fromkeys(header, "str"), **_CSV_OPTIONS)
    return _csv_categories(df, categorical)


def _csv_header(table: Table, path: Path):
    """The header as written, the text dtypes to read with, the categoricals."""
    import csv
    import gzip

    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    stripped = [h.strip() for h in header]
    repeated = sorted({h for h in stripped if stripped.count(h) > 1})
    if repeated:
        raise BundleError(
            f"{path}: column {repeated[0]!r} appears more than once",
            file=str(path),
            column=repeated[0],
        )
    # dtypes by the names as written, so " manager_id" is still text
    raw_name = dict(zip(stripped, header, strict=True))
    text_dtypes = {
        raw_name[name]: dtype
        for name, dtype in _csv_dtypes(table).items()
        if name in raw_name
    }
    categorical = [c for c, t in text_dtypes.items() if t == "category"]
    # Identifiers are read as text first: a categorical read would parse
    # '007' as the number 7.
    as_text = dict.fromkeys(text_dtypes, "str")
    return header, as_text, categorical


def _csv_categories(df: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    return df.astype({c: "category" for c in categorical if c in df.columns})


def _read_excel(path: Path) -> dict[str, pd.DataFrame]:
    try:
        sheets = pd.read_excel(
            path,
            sheet_name=None,
            engine="calamine",
            dtype=str,
            keep_default_na=False,
            na_values=[""],
        )
    except Exception as exc:  # noqa: BLE001 - any failure means unreadable
        raise BundleError(
            f"{path}: cannot read the workbook: {exc}", file=str(path)
        ) from exc
    return {k: v.reset_index(drop=True) for k, v in sheets.items() if k in TABLES}


# --------------------------------------------------------------------------
# streaming: assessments in batches of rows

#: A function of ``batch_rows`` yielding a table's rows in consecutive batches.
RawBatches = Callable[[int], Iterator[pd.DataFrame]]


class StreamedBundle:
    """A bundle whose assessments are read and validated in batches of rows.

    Made by :func:`open_bundle`. Every table but ``assessments`` is read and
    validated whole, as :func:`read_bundle` does, into :attr:`bundle`;
    assessments are read from their file only while
    :meth:`assessment_batches` is iterated, a batch at a time, so that memory
    is bounded by the batch size and not by the file.

    Attributes
    ----------
    bundle : Bundle
        The validated tables; its ``assessments`` table is empty and its
        ``errors`` hold the other tables' errors only (see
        :meth:`merge_errors`).
    context : AssessmentContext
        What validating assessments needs from the other tables.
    batch_rows : int
        At most this many assessment rows per batch.
    assessment_rows : int or None
        Assessment rows read by the last complete pass of
        :meth:`assessment_batches`; ``None`` before one. It is also set as
        ``bundle.input_rows["assessments"]``.

    Examples
    --------
    >>> import tempfile, devplan
    >>> folder = devplan.write_bundle(devplan.datasets.load_sample(),
    ...                               tempfile.mkdtemp(), format="parquet")
    >>> streamed = devplan.open_bundle(folder, batch_rows=10_000)
    >>> streamed
    StreamedBundle(competencies=26, ..., assessments in batches of 10,000 rows)
    >>> rows = sum(len(clean) for clean, errors in streamed.assessment_batches())
    >>> rows == len(devplan.read_bundle(folder).assessments)
    True
    """

    def __init__(
        self,
        bundle: Bundle,
        context: AssessmentContext,
        batch_rows: int,
        batches: RawBatches,
    ) -> None:
        self.bundle = bundle
        self.context = context
        self.batch_rows = batch_rows
        self.assessment_rows: int | None = None
        self._batches = batches

    @property
    def sources(self) -> dict[str, str]:
        """Where each table comes from (a file name or a sheet)."""
        return self.bundle.sources

    def assessment_batches(self) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        """Read and validate the assessments, one batch of rows at a time.

        Each call reads the file again from its start. The batches are
        consecutive: together they hold every row once, in file order.

        Yields
        ------
        clean : DataFrame
            The batch's rows that were kept, typed as
            ``read_bundle(...).assessments`` and indexed by their 0-based row
            in the file. Identifier columns are categoricals whose categories
            are the batch's own values (they differ between batches).
        errors : DataFrame
            The batch's rejected rows, columns
            ``table, row, employee_id, column, value, problem``.

        Raises
        ------
        BundleError
            When a part of the file past its header cannot be read.

        Examples
        --------
        >>> import tempfile, devplan
        >>> folder = devplan.write_bundle(devplan.datasets.load_sample(),
        ...                               tempfile.mkdtemp())
        >>> streamed = devplan.open_bundle(folder, batch_rows=30_000)
        >>> [len(clean) for clean, errors in streamed.assessment_batches()]
        [30000, 30000, 1559]
        >>> streamed.assessment_rows
        61559
        """
        for raw in self._raw_batches():
            yield validate_assessments(raw, self.context)

    def _raw_batches(self) -> Iterator[pd.DataFrame]:
        table = TABLES["assessments"]
        source = self.sources["assessments"]
        start = 0
        for batch in self._batches(self.batch_rows):
            raw = _check_columns(table, batch, source)
            raw.index = pd.RangeIndex(start, start + len(raw))
            start += len(raw)
            yield raw
        self.assessment_rows = start
        self.bundle.input_rows["assessments"] = start

    def merge_errors(self, assessment_errors: Iterable[pd.DataFrame]) -> pd.DataFrame:
        """The bundle's errors together with those of the assessment batches.

        Parameters
        ----------
        assessment_errors : iterable of DataFrame
            The ``errors`` of the batches of :meth:`assessment_batches`.

        Returns
        -------
        DataFrame
            Columns ``table, row, employee_id, column, value, problem``, in
            the order :func:`read_bundle` gives ``errors``: equal to its
            ``errors`` when every batch is given.

        Examples
        --------
        >>> import tempfile, devplan
        >>> folder = devplan.write_bundle(devplan.datasets.load_sample(),
        ...                               tempfile.mkdtemp())
        >>> with open(folder / "assessments.csv", "a") as f:
        ...     _ = f.write("E000001,self,,,self_awareness,9,\\n")
        >>> streamed = devplan.open_bundle(folder, batch_rows=10_000)
        >>> errors = streamed.merge_errors(
        ...     bad for clean, bad in streamed.assessment_batches())
        >>> errors[["table", "row", "column"]].to_dict("records")
        [{'table': 'assessments', 'row': 61560, 'column': 'score'}]
        >>> errors.equals(devplan.read_bundle(folder).errors)
        True
        """
        return merge_errors(self.bundle.errors, assessment_errors)

    def __repr__(self) -> str:
        tables = self.bundle.tables
        del tables["assessments"]
        counts = ", ".join(f"{k}={len(v):,}" for k, v in tables.items())
        return (
            f"StreamedBundle({counts}, "
            f"assessments in batches of {self.batch_rows:,} rows)"
        )


def open_bundle(
    path: str | Path,
    *,
    config: Config | str | Path | None = None,
    batch_rows: int = 1_000_000,
) -> StreamedBundle:
    """Open a bundle too large to read whole: assessments come in batches.

    Every table but ``assessments`` is read and validated at once, exactly as
    :func:`read_bundle` does; of the assessments only the header (or the
    Parquet schema) is read now. Iterating
    :meth:`StreamedBundle.assessment_batches` then reads and validates the
    assessments a batch of rows at a time (``NAME.csv`` and ``NAME.csv.gz``
    incrementally, Parquet by record batches, a ``bundle.xlsx`` sheet from
    the workbook read whole), with the same rows kept and the same errors as
    :func:`read_bundle`.

    Parameters
    ----------
    path : str or Path
        The bundle folder.
    config : Config, str, Path or None, default=None
        Settings, or a TOML file with them. ``None`` uses the folder's
        ``devplan.toml`` when there is one, else the defaults.
    batch_rows : int, default=1_000_000
        At most this many assessment rows per batch. Memory grows with it;
        about 1 million rows hold well under 1 GB at once.

    Returns
    -------
    StreamedBundle

    Raises
    ------
    BundleError
        Before any work, in the cases :func:`read_bundle` raises it, the
        assessments file's header or schema included. A part of the
        assessments file past its header that cannot be read raises it while
        the batches are read.
    ValueError
        When ``batch_rows`` is not a whole number ≥ 1.

    Examples
    --------
    >>> import tempfile, devplan
    >>> folder = devplan.write_bundle(devplan.datasets.load_sample(),
    ...                               tempfile.mkdtemp(), format="parquet")
    >>> streamed = devplan.open_bundle(folder, batch_rows=50_000)
    >>> len(streamed.bundle.employees), len(streamed.bundle.assessments)
    (200, 0)
    >>> kept = errors = 0
    >>> for clean, bad in streamed.assessment_batches():
    ...     kept, errors = kept + len(clean), errors + len(bad)
    >>> kept, errors, streamed.assessment_rows
    (61559, 0, 61559)
    """
    if (
        isinstance(batch_rows, bool)
        or not isinstance(batch_rows, int | np.integer)
        or batch_rows < 1
    ):
        raise ValueError(f"Got batch_rows={batch_rows!r}; expected a whole number ≥ 1.")
    folder, config = _open_folder(path, config)
    frames, sources, batches = _read_tables(folder, streamed="assessments")
    _check_tables(frames, sources)  # the assessments header included
    del frames["assessments"]
    tables, errors, context = validate_tables(frames, config, return_context=True)
    bundle = Bundle(
        **tables,
        errors=errors,
        config=config,
        input_rows={name: len(df) for name, df in frames.items()},
        sources=sources,
    )
    return StreamedBundle(bundle, context, int(batch_rows), batches)


def _open_file(table: Table, path: Path) -> tuple[pd.DataFrame, RawBatches]:
    """A table file's header (a frame without rows) and its batches."""
    try:
        if path.name.endswith(_PARQUET_SUFFIXES):
            header = _parquet_header(path)
            read = _parquet_batches
        else:
            _, as_text, categorical = _csv_header(table, path)
            header = pd.read_csv(path, nrows=0, dtype=as_text, **_CSV_OPTIONS)
            header = _csv_categories(header, categorical)
            read = _csv_batches
    except BundleError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure means unreadable
        raise BundleError(
            f"{path}: cannot read the file: {exc}", file=str(path)
        ) from exc

    def batches(batch_rows: int) -> Iterator[pd.DataFrame]:
        found = read(table, path, batch_rows)
        while True:
            try:
                batch = next(found)
            except StopIteration:
                return
            except BundleError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means unreadable
                raise BundleError(
                    f"{path}: cannot read the file: {exc}", file=str(path)
                ) from exc
            yield batch.reset_index(drop=True)

    return header, batches


def _sheet_batches(sheet: pd.DataFrame) -> RawBatches:
    def batches(batch_rows: int) -> Iterator[pd.DataFrame]:
        for start in range(0, len(sheet), batch_rows):
            yield sheet.iloc[start : start + batch_rows]

    return batches


def _csv_batches(table: Table, path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    """Consecutive batches of a CSV file, each read as :func:`_read_csv` would.

    Columns that are not forced to text are typed per batch (a batch whose
    scores are all numbers has them as floats, another as text), which
    validation turns into the same values and problems. :func:`_read_csv`
    falls back to reading all as text after a ``ValueError``; with only text
    dtypes forced, a file raises one only when it cannot be read at all.
    """
    _, as_text, categorical = _csv_header(table, path)
    with pd.read_csv(
        path, dtype=as_text, chunksize=batch_rows, **_CSV_OPTIONS
    ) as reader:
        for chunk in reader:
            yield _csv_categories(chunk, categorical)


def _parquet_header(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as file:
        schema = file.schema_arrow
    return schema.empty_table().to_pandas().reset_index(drop=True)


def _parquet_batches(
    table: Table, path: Path, batch_rows: int
) -> Iterator[pd.DataFrame]:
    """Consecutive batches of exactly ``batch_rows`` rows (the last: the rest).

    The file's record batches end at its row groups; they are joined and cut
    so that every batch but the last is full.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as file:
        held: list = []
        n_held = 0
        for part in file.iter_batches(batch_size=batch_rows, use_pandas_metadata=True):
            held.append(part)
            n_held += part.num_rows
            while n_held >= batch_rows:
                joined = pa.Table.from_batches(held)
                yield _arrow_frame(joined.slice(0, batch_rows))
                rest = joined.slice(batch_rows)
                held, n_held = rest.to_batches(), rest.num_rows
        if n_held:
            yield _arrow_frame(pa.Table.from_batches(held))


def _arrow_frame(table) -> pd.DataFrame:
    """``table.to_pandas()`` after dropping unused dictionary values.

    Parquet files written from pandas categoricals repeat every category in
    every row group; converting them all for each batch would cost time in
    proportion to the categories (millions of ids), not the batch.
    """
    import pyarrow as pa

    for i, column in enumerate(table.columns):
        if pa.types.is_dictionary(column.type):
            chunks = [_used_dictionary(chunk) for chunk in column.chunks]
            column = pa.chunked_array(chunks, type=column.type)
            table = table.set_column(i, table.field(i), column)
    return table.to_pandas()


def _used_dictionary(array):
    """The dictionary array with only the values its indices use, in order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(array.dictionary) <= max(256, len(array) // 16):
        return array
    indices = array.indices
    used = np.sort(pc.drop_null(pc.unique(indices)).to_numpy())
    used = pa.array(used, type=indices.type)
    new = pc.index_in(indices, value_set=used).cast(indices.type)
    return pa.DictionaryArray.from_arrays(new, array.dictionary.take(used))


# --------------------------------------------------------------------------
# writing


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place on success.

    The move is an atomic rename, so readers see either the old file or the
    complete new one, never a half-written file; on an exception the
    temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes private files; give the usual permissions
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _for_text(df: pd.DataFrame) -> pd.DataFrame:
    """Booleans as true/false and dates as ISO text, for CSV and Excel."""
    out = {}
    for name in df.columns:
        s = df[name]
        if s.dtype == "boolean" or s.dtype == bool:
            s = s.map({True: "true", False: "false"}, na_action="ignore").astype("str")
        elif s.dtype.kind == "M":
            s = s.dt.strftime("%Y-%m-%d")
        out[name] = s
    return pd.DataFrame(out, index=df.index)


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write one table atomically as CSV or Parquet, chosen by the suffix.

    Parameters
    ----------
    df : DataFrame
        The table.
    path : str or Path
        Target file ending in ``.csv`` or ``.parquet``.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.reset_index(drop=True).to_parquet(tmp, index=False)
        elif path.suffix == ".csv":
            _for_text(df).to_csv(
                tmp, index=False, encoding="utf-8", lineterminator="\n"
            )
        else:
            raise ValueError(
                f"Got path={str(path)!r}; expected a file ending in .csv or .parquet."
            )
    return path


def write_excel(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write tables as sheets of one workbook, text kept as text.

    Cells that hold text are always stored as text, so a value such as
    ``=1+1`` is never turned into a formula, and ``007`` keeps its zeros.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Sheet name to table.
    path : str or Path
        Target ``.xlsx`` file (written atomically).

    Returns
    -------
    Path
    """
    from openpyxl import Workbook

    path = Path(path)
    for name, df in tables.items():
        if len(df) > _EXCEL_MAX_ROWS:
            raise ValueError(
                f"Table {name!r} has {len(df):,} rows; an Excel sheet holds at most "
                f"{_EXCEL_MAX_ROWS:,}. Write csv or parquet instead."
            )
    workbook = Workbook(write_only=True)
    for name, df in tables.items():
        sheet = workbook.create_sheet(name)
        sheet.append(list(map(str, df.columns)))
        text = _for_text(df)
        columns = [text[c].astype(object).where(text[c].notna(), None) for c in text]
        for values in zip(*(c.to_numpy() for c in columns), strict=True):
            row = [excel_cell(sheet, value) for value in values]
            sheet.append(row)
    with atomic_path(path) as tmp:
        workbook.save(tmp)
    return path


def excel_cell(sheet, value):
    """A write-only cell that keeps text as text and every float exactly."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        # openpyxl keeps 16 significant digits; the shortest round-trip repr
        # keeps every float exactly.
        cell = WriteOnlyCell(sheet, value=repr(value))
        cell.data_type = "n"
        return cell
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def write_bundle(bundle: Bundle, path: str | Path, *, format: str = "csv") -> Path:
    """Write a bundle's clean tables to a folder, readable by :func:`read_bundle`.

    Parameters
    ----------
    bundle : Bundle
        The bundle to write. Optional tables that are empty are left out.
    path : str or Path
        The folder; created when missing. Existing tables of the same name are
        replaced atomically.
    format : {"csv", "parquet", "xlsx"}, default="csv"
        One file per table, or one ``bundle.xlsx`` with a sheet per table.

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> import tempfile, devplan
    >>> bundle = devplan.datasets.load_sample()
    >>> folder = devplan.write_bundle(bundle, tempfile.mkdtemp(), format="parquet")
    >>> again = devplan.read_bundle(folder)
    >>> again.assessments.equals(bundle.assessments.reset_index(drop=True))
    True
    """
    if format not in FORMATS:
        raise ValueError(
            f"Got format={format!r}; expected one of {', '.join(FORMATS)}."
        )
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        name: df.reset_index(drop=True)
        for name, df in bundle.tables.items()
        if TABLES[name].required or len(df)
    }
    if format == "xlsx":
        write_excel(tables, folder / EXCEL_FILENAME)
    else:
        for name, df in tables.items():
            write_table(df, folder / f"{name}.{format}")
    settings = bundle.config.model_dump(mode="json", exclude_defaults=True)
    if settings:
        import tomli_w

        with atomic_path(folder / CONFIG_FILENAME) as tmp:
            tmp.write_text(tomli_w.dumps(settings), encoding="utf-8")
    return folder


def file_hashes(folder: str | Path) -> dict[str, str]:
    """SHA-256 of every table file and settings file in a bundle folder."""
    folder = Path(folder)
    out = {}
    for entry in sorted(folder.iterdir()):
        stem = entry.name.partition(".")[0]
        if entry.is_file() and (
            stem in TABLES or entry.name in (EXCEL_FILENAME, CONFIG_FILENAME)
        ):
            digest = hashlib.sha256()
            with entry.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            out[entry.name] = digest.hexdigest()
    return out
