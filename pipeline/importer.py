"""Bring IMU tables recorded with other tools (CSV, TSV, TXT, Excel workbooks or Parquet) into an imugait session.

One file per sensor site; every file recorded on one clock goes into one session. Units are converted to the raw
schema's m/s² and deg/s and checked against gravity (a standing or walking accelerometer's median norm is ≈ 1 g),
so a wrong ``--acc-unit`` is caught instead of silently producing nonsense. The sensors may be worn in any
orientation: the pipeline aligns them to the body, so no axis hints are needed.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import NDArray

from pipeline.errors import ImportFormatError
from pipeline.schemas import SITES
from pipeline.store import RawBatch, RawStreamWriter, SensorInfo, Session, create_session, raw_schema_metadata

logger = logging.getLogger(__name__)

G = 9.80665
AccUnit = Literal["g", "m/s2"]
GyrUnit = Literal["deg/s", "rad/s"]
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


@dataclass(frozen=True)
class TableImportSpec:
    """How to read the columns of every imported file."""

    fs_hz: float
    acc_cols: tuple[str, str, str]
    gyr_cols: tuple[str, str, str]
    acc_unit: AccUnit
    gyr_unit: GyrUnit
    time_col: str | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.fs_hz) or self.fs_hz <= 0:
            raise ImportFormatError(f"--fs must be a positive sampling rate in Hz, got {self.fs_hz}")
        if len(self.acc_cols) != 3 or len(self.gyr_cols) != 3:
            raise ImportFormatError("--acc and --gyr each take exactly three column names (x,y,z)")
        if self.acc_unit not in ("g", "m/s2"):
            raise ImportFormatError(f"--acc-unit must be 'g' or 'm/s2', got {self.acc_unit!r}")
        if self.gyr_unit not in ("deg/s", "rad/s"):
            raise ImportFormatError(f"--gyr-unit must be 'deg/s' or 'rad/s', got {self.gyr_unit!r}")


@dataclass(frozen=True)
class ImportedSensor:
    """One file's content in raw-schema units."""

    site: str
    path: Path
    t_s: NDArray[np.float64]  # seconds on the files' shared clock
    acc: NDArray[np.float64]  # (n, 3) m/s²
    gyr: NDArray[np.float64]  # (n, 3) deg/s
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class TextLayout:
    """How a delimited text file is laid out, as :func:`sniff_text_layout` read it from its first lines."""

    skip_rows: int  # comment lines (``//``, ``#``) and a ``sep=`` line before the column names
    delimiter: str
    decimal_point: str
    units_row: tuple[str, ...] | None  # a row of units right under the column names (skipped)


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|NaN|inf|Inf)$")


def _numeric_fields(line: str, delimiter: str, decimal_point: str) -> int:
    fields = (f.strip().strip('"').replace(decimal_point, ".") for f in line.split(delimiter))
    return sum(bool(_NUMBER.match(f)) for f in fields)


def sniff_text_layout(head: str, suffix: str) -> TextLayout:
    """The layout of a delimited text file from its first lines (``head``).

    Exports of other tools differ from a plain CSV in ways a user should not have to edit away: comment lines
    before the header (Xsens MT Manager writes ``//`` lines, others ``#``), Excel's ``sep=;`` line, semicolons or
    tabs as the delimiter and a comma as the decimal point (spreadsheets in most of Europe), and a row of units
    under the column names. The delimiter is the one of tab, semicolon and comma the header line holds most of (a
    ``.tsv`` is tab-separated if its header holds a tab); a comma is the decimal point when it is not the delimiter
    and the data have digits on both sides of one.
    """
    lines = head.splitlines()
    i, delimiter = 0, ""
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith(("//", "#"))):
        i += 1
    if i < len(lines) and lines[i].lower().startswith("sep=") and len(lines[i].rstrip("\r\n")) == 5:
        delimiter = lines[i][4]
        i += 1
    header = lines[i] if i < len(lines) else ""
    if not delimiter:
        counts = {d: header.count(d) for d in ("\t", ";", ",")}
        delimiter = "\t" if suffix == ".tsv" else max(counts, key=lambda d: (counts[d], d == ","))
        if not counts[delimiter]:
            delimiter = ","
    data = lines[i + 1 : i + 20]
    decimal_point = "," if delimiter != "," and any(re.search(r"\d,\d", line) for line in data) else "."
    units_row = None
    numeric = [_numeric_fields(line, delimiter, decimal_point) for line in data[:2]]
    if len(numeric) == 2 and data[0].strip() and not numeric[0] and numeric[1]:
        units_row = tuple(f.strip().strip('"') for f in data[0].split(delimiter))
    return TextLayout(i, delimiter, decimal_point, units_row)


def read_table_file(path: Path) -> pa.Table:
    """Read a CSV/TSV/TXT, Excel (first sheet, :func:`read_workbook`) or Parquet file; any parse failure becomes an
    :class:`ImportFormatError` naming the file.

    Delimited text is read with the layout :func:`sniff_text_layout` finds (comment lines, delimiter, decimal comma,
    a units row).
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError("file not found", path=path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            with path.open("rb") as fh:
                head = fh.read(1 << 16).decode("utf-8-sig", errors="replace")
            layout = sniff_text_layout(head, suffix)
            if layout.units_row is not None:
                logger.info("%s: units row %s skipped", path, layout.units_row)
            return pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(
                    skip_rows=layout.skip_rows, skip_rows_after_names=int(layout.units_row is not None)
                ),
                parse_options=pacsv.ParseOptions(delimiter=layout.delimiter),
                convert_options=pacsv.ConvertOptions(decimal_point=layout.decimal_point),
            )
        if suffix in (".parquet", ".pq"):
            return pq.read_table(path)
        if suffix in (".xlsx", ".xlsm"):
            return read_workbook(path)
    except (pa.ArrowInvalid, OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ImportFormatError(f"cannot be read as {suffix[1:].upper()} ({exc})", path=path) from exc
    raise ImportFormatError(f"unsupported file type {suffix!r}; use .csv, .tsv, .txt, .xlsx or .parquet", path=path)


def read_workbook(path: Path) -> pa.Table:
    """The first sheet of an Excel workbook as a table, laid out as :func:`sniff_text_layout` reads text: rows
    before the header that are empty or start with ``//`` or ``#`` are skipped, and so is a row of units under the
    column names. A column of numbers (empty cells are missing) becomes float64, one of dates a timestamp; any other
    stays text, which :func:`load_sensor_file` refuses by name if it is asked for."""
    rows = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl")
    if rows.shape[1] == 0:
        raise ValueError("the first sheet is empty")
    first = rows.iloc[:, 0].astype(str).str.strip()
    skip = rows.isna().all(axis=1) | first.str.startswith(("//", "#"))
    start = int(np.argmin(skip.to_numpy())) if not skip.all() else len(rows)
    if start >= len(rows):
        raise ValueError("the first sheet has no header row")
    names = [str(v).strip() if pd.notna(v) else f"column_{i + 1}" for i, v in enumerate(rows.iloc[start])]
    data = rows.iloc[start + 1 :].reset_index(drop=True)
    data.columns = pd.Index(names)
    if len(data) > 1 and not _numeric_cells(data.iloc[0]).any() and _numeric_cells(data.iloc[1]).any():
        logger.info("%s: units row %s skipped", path, tuple(str(v) for v in data.iloc[0]))
        data = data.iloc[1:].reset_index(drop=True)
    columns = {}
    for name in data.columns:
        column = data[name]
        filled = column.dropna()
        if len(filled) and filled.map(lambda v: isinstance(v, datetime)).all():
            columns[name] = pa.array(pd.to_datetime(column), type=pa.timestamp("ns"))
        elif filled.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).all():
            columns[name] = pa.array(pd.to_numeric(column).to_numpy(dtype=np.float64))
        else:
            columns[name] = pa.array(column.map(lambda v: None if pd.isna(v) else str(v)), type=pa.string())
    return pa.table(columns)


def _numeric_cells(row: pd.Series) -> NDArray[np.bool_]:
    return np.array([isinstance(v, (int, float)) and not isinstance(v, bool) and not pd.isna(v) for v in row])


def _numeric(table: pa.Table, name: str, path: Path) -> NDArray[np.float64]:
    if name not in table.column_names:
        raise ImportFormatError(f"has no column {name!r}; its columns are: {', '.join(table.column_names)}", path=path)
    column = table.column(name)
    if pa.types.is_timestamp(column.type):  # datetimes become seconds since the epoch
        ticks = np.asarray(column.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        return ticks * _TIME_UNITS[column.type.unit]
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise ImportFormatError(f"column {name!r} is {column.type}, not numeric", path=path)
    return np.asarray(column.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)


def _time_seconds(raw: NDArray[np.float64], fs_hz: float, path: Path, col: str) -> NDArray[np.float64]:
    """Interpret a time column whose unit (s, ms, µs, ns) is inferred from its step against ``fs_hz``."""
    steps = np.diff(raw[np.isfinite(raw)])
    if steps.size == 0:
        raise ImportFormatError(f"time column {col!r} has fewer than two values", path=path)
    step = float(np.median(steps))
    if step <= 0:
        raise ImportFormatError(f"time column {col!r} does not increase", path=path)
    for unit, scale in _TIME_UNITS.items():
        if abs(step * scale * fs_hz - 1.0) < 0.2:
            logger.info("%s: time column %r read as %s", path, col, unit)
            return raw * scale
    raise ImportFormatError(
        f"time column {col!r} steps by {step:g} per sample, which matches --fs {fs_hz:g} Hz in none of "
        "s, ms, µs or ns; check --fs and --time",
        path=path,
    )


def load_sensor_file(site: str, path: Path, spec: TableImportSpec) -> ImportedSensor:
    """Read one file, convert units, and check them against gravity."""
    if site not in SITES:
        raise ImportFormatError(f"unknown site {site!r}; use one of {', '.join(SITES)}", path=path)
    table = read_table_file(path)
    if table.num_rows < 2:
        raise ImportFormatError("holds fewer than two rows", path=path)
    acc = np.column_stack([_numeric(table, c, path) for c in spec.acc_cols])
    gyr = np.column_stack([_numeric(table, c, path) for c in spec.gyr_cols])
    if spec.acc_unit == "g":
        acc = acc * G
    if spec.gyr_unit == "rad/s":
        gyr = np.degrees(gyr)
    if spec.time_col is not None:
        t_s = _time_seconds(_numeric(table, spec.time_col, path), spec.fs_hz, path, spec.time_col)
    else:
        t_s = np.arange(table.num_rows, dtype=np.float64) / spec.fs_hz
    finite = np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1) & np.isfinite(t_s)
    if not finite.any():
        raise ImportFormatError("has no row with finite acc, gyr (and time) values", path=path)
    warnings = []
    if (~finite).any():
        warnings.append(f"{site}: {(~finite).sum()} rows with NaN/empty values were dropped")
    acc, gyr, t_s = acc[finite], gyr[finite], t_s[finite]
    norm_g = float(np.median(np.linalg.norm(acc, axis=1))) / G
    if not 0.5 < norm_g < 2.0:
        hint = ""
        if 0.5 < norm_g * G < 2.0:
            hint = " (it looks like g: pass --acc-unit g)"
        elif 0.5 < norm_g / G < 2.0:
            hint = " (it looks like m/s² already: pass --acc-unit m/s2)"
        raise ImportFormatError(
            f"median acceleration is {norm_g:.3g} g after applying --acc-unit {spec.acc_unit}; a worn IMU "
            f"reads about 1 g{hint}",
            path=path,
        )
    peak = float(np.percentile(np.abs(gyr), 99))
    if spec.gyr_unit == "deg/s" and peak < 10.0:
        warnings.append(
            f"{site}: 99th percentile angular rate is only {peak:.2g} deg/s; if the file holds rad/s, re-import "
            "with --gyr-unit rad/s"
        )
    order = np.argsort(t_s, kind="stable")
    return ImportedSensor(site, Path(path), t_s[order], acc[order], gyr[order], tuple(warnings))


def import_tables(
    files: Mapping[str, Path] | Sequence[tuple[str, Path]],
    spec: TableImportSpec,
    root: Path,
    subject: str,
    *,
    label: str = "",
    notes: str = "",
    start: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> Session:
    """Import one file per site into a new, complete session and return it.

    Every file is read and checked before the session folder is created, so a bad file leaves nothing behind.
    """
    pairs = list(files.items()) if isinstance(files, Mapping) else list(files)
    sites = [site for site, _ in pairs]
    if len(set(sites)) != len(sites):
        raise ImportFormatError(f"each site may be given once; got {', '.join(sites)}")
    sensors = []
    for site, path in pairs:
        if progress:
            progress(f"reading {path}")
        sensors.append(load_sensor_file(site, Path(path), spec))
    origin = min(float(s.t_s[0]) for s in sensors)
    infos = tuple(
        SensorInfo(site=s.site, family="imported", model=f"table: {s.path.name}", rate_hz=spec.fs_hz) for s in sensors
    )
    warnings = [w for s in sensors for w in s.warnings]
    session = create_session(
        root,
        subject,
        infos,
        start=start or datetime.now(UTC),
        label=label,
        notes=notes,
        clock="imported",
        host_t0_ns=0,
        source="import",
        extra={"imported_from": {s.site: str(s.path) for s in sensors}, "import_warnings": warnings},
    )
    for sensor, info in zip(sensors, infos, strict=True):
        if progress:
            progress(f"writing {sensor.site}")
        t_ns = np.round((sensor.t_s - origin) * 1e9).astype(np.int64)
        writer = RawStreamWriter(session.raw_path(sensor.site), raw_schema_metadata(session, info))
        try:
            writer.append(
                RawBatch(
                    packet=np.arange(t_ns.size, dtype=np.int64),
                    t_host_ns=t_ns,
                    t_device_us=t_ns // 1000,
                    counter=None,
                    acc=sensor.acc,
                    gyr=sensor.gyr,
                ),
                now_ns=0,
            )
        finally:
            writer.close()
    return session.update(status="complete")
