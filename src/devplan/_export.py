"""Exports for people: an Excel workbook of the run's tables.

The workbook is for reading in a spreadsheet, not for reading back: a sheet
per table, a bold frozen header, column widths fitted to the content, and
text that a spreadsheet could run as a formula neutralised.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from devplan._bundle import _for_text, atomic_path, excel_cell

#: Rows of data per sheet (Excel's limit less the header row).
SHEET_ROWS = 1_048_575
#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MAX_WIDTH = 60


def neutralise(values: pd.Series) -> pd.Series:
    """Text that could start a formula, prefixed with ``'`` (shown as typed).

    Parameters
    ----------
    values : Series
        Text (other values pass through).

    Returns
    -------
    Series

    Examples
    --------
    >>> import pandas as pd
    >>> neutralise(pd.Series(["=1+1", "@SUM(A1)", "plain", "-2 h"])).tolist()
    ["'=1+1", "'@SUM(A1)", 'plain', "'-2 h"]
    """
    text = values.astype("str")
    risky = text.str.startswith(FORMULA_START).fillna(False).to_numpy(dtype=bool)
    if not risky.any():
        return values
    out = values.astype(object).copy()
    out[risky] = "'" + text[risky]
    return out


def write_workbook(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write tables as sheets of one workbook for reading (atomically).

    Numbers stay numbers; text is stored as text and neutralised
    (:func:`neutralise`); dates are ISO text. A table longer than a sheet
    continues on ``name (2)``, ``name (3)``...

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Sheet name to table.
    path : str or Path
        Target ``.xlsx`` file.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> from openpyxl import load_workbook
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.xlsx"
    >>> _ = write_workbook({"plans": pd.DataFrame({"a": ["=2+2"], "b": [1.5]})}, path)
    >>> sheet = load_workbook(path)["plans"]
    >>> sheet["A2"].value, sheet["A2"].data_type, sheet["B2"].value
    ("'=2+2", 's', 1.5)
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, df in tables.items():
        text = _for_text(df.reset_index(drop=True))
        columns = []
        for c in text.columns:
            s = text[c]
            if s.dtype.kind in "biuf":
                columns.append(s.astype(object).where(s.notna(), None).to_numpy())
            else:
                s = neutralise(s.astype(object).where(s.notna(), None))
                columns.append(s.astype(object).where(s.notna(), None).to_numpy())
        widths = [
            _width(str(c), col) for c, col in zip(text.columns, columns, strict=True)
        ]
        n_sheets = max(-(-len(text) // SHEET_ROWS), 1)
        for part in range(n_sheets):
            title = name if part == 0 else f"{name} ({part + 1})"
            sheet = workbook.create_sheet(title[:31])
            sheet.freeze_panes = "A2"
            for i, width in enumerate(widths, start=1):
                sheet.column_dimensions[get_column_letter(i)].width = width
            header = []
            for c in text.columns:
                cell = WriteOnlyCell(sheet, value=str(c))
                cell.font = bold
                header.append(cell)
            sheet.append(header)
            lo, hi = part * SHEET_ROWS, (part + 1) * SHEET_ROWS
            for values in zip(*(col[lo:hi] for col in columns), strict=True):
                sheet.append([excel_cell(sheet, value) for value in values])
    with atomic_path(path) as tmp:
        workbook.save(tmp)
    return path


def _width(header: str, values: np.ndarray) -> float:
    """A readable column width: the longest of header and a sample of cells."""
    sample = values[:1000]
    longest = max((len(str(v)) for v in sample if v is not None), default=0)
    return float(min(max(len(header), longest) + 2, _MAX_WIDTH))
