"""``import table``: units, time columns, and bad files that get clear errors and leave nothing behind."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipeline.errors import ImportFormatError
from pipeline.importer import G, TableImportSpec, TextLayout, import_tables, load_sensor_file, sniff_text_layout
from pipeline.store import iter_sessions, read_raw

SPEC_G = TableImportSpec(100.0, ("ax", "ay", "az"), ("gx", "gy", "gz"), "g", "rad/s", None)


def _frame(n: int = 300, fs: float = 100.0, acc_scale: float = 1.0, gyr_scale: float = 1.0) -> pd.DataFrame:
    t = np.arange(n) / fs
    return pd.DataFrame(
        {
            "time": t,
            "ax": acc_scale * 0.1 * np.sin(2 * np.pi * t),
            "ay": acc_scale * 0.05 * np.cos(2 * np.pi * t),
            "az": acc_scale * (1.0 + 0.2 * np.sin(4 * np.pi * t)),
            "gx": gyr_scale * 2.0 * np.sin(2 * np.pi * t),
            "gy": gyr_scale * 0.5 * np.ones(n),
            "gz": gyr_scale * -1.0 * np.ones(n),
        }
    )


def test_units_are_converted_to_si(tmp_path: Path) -> None:
    path = tmp_path / "pelvis.csv"
    _frame().to_csv(path, index=False)
    sensor = load_sensor_file("pelvis", path, SPEC_G)
    np.testing.assert_allclose(sensor.acc[0, 2], G, rtol=1e-9)
    np.testing.assert_allclose(sensor.gyr[:, 1], np.degrees(0.5))
    np.testing.assert_allclose(np.diff(sensor.t_s), 0.01)


@pytest.mark.parametrize(("unit", "scale"), [("s", 1.0), ("ms", 1e3), ("us", 1e6), ("ns", 1e9)])
def test_time_column_unit_is_inferred_from_fs(tmp_path: Path, unit: str, scale: float) -> None:
    frame = _frame()
    frame["time"] = 1000.0 + frame["time"] * scale
    path = tmp_path / f"t_{unit}.parquet"
    frame.to_parquet(path)
    spec = TableImportSpec(100.0, ("ax", "ay", "az"), ("gx", "gy", "gz"), "g", "rad/s", "time")
    sensor = load_sensor_file("pelvis", path, spec)
    np.testing.assert_allclose(np.diff(sensor.t_s), 0.01, rtol=1e-6)


def test_time_column_that_contradicts_fs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    _frame().to_csv(path, index=False)
    spec = TableImportSpec(50.0, ("ax", "ay", "az"), ("gx", "gy", "gz"), "g", "rad/s", "time")
    with pytest.raises(ImportFormatError, match="matches --fs 50 Hz in none of"):
        load_sensor_file("pelvis", path, spec)


def test_acc_unit_mistake_is_caught_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    _frame().to_csv(path, index=False)  # values in g
    spec = TableImportSpec(100.0, ("ax", "ay", "az"), ("gx", "gy", "gz"), "m/s2", "rad/s", None)
    with pytest.raises(ImportFormatError, match="looks like g: pass --acc-unit g"):
        load_sensor_file("pelvis", path, spec)
    _frame(acc_scale=G).to_csv(path, index=False)  # values in m/s²
    with pytest.raises(ImportFormatError, match="looks like m/s² already"):
        load_sensor_file("pelvis", path, SPEC_G)


def test_gyro_that_looks_like_rad_s_gets_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    _frame().to_csv(path, index=False)
    spec = TableImportSpec(100.0, ("ax", "ay", "az"), ("gx", "gy", "gz"), "g", "deg/s", None)
    assert any("--gyr-unit rad/s" in w for w in load_sensor_file("pelvis", path, spec).warnings)


def test_missing_column_lists_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    _frame().drop(columns=["gz"]).to_csv(path, index=False)
    with pytest.raises(ImportFormatError, match="has no column 'gz'; its columns are: time, ax"):
        load_sensor_file("pelvis", path, SPEC_G)


def test_nan_rows_are_dropped_and_reported(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[10:14, "ax"] = np.nan
    path = tmp_path / "x.csv"
    frame.to_csv(path, index=False)
    sensor = load_sensor_file("pelvis", path, SPEC_G)
    assert sensor.acc.shape[0] == 295
    assert any("5 rows with NaN" in w for w in sensor.warnings)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.csv", b"ax,ay,az,gx,gy,gz\n1,2,3,4,5,6\n1,2", "cannot be read as CSV"),
        ("x.parquet", b"PAR1 but not really", "cannot be read as PARQUET"),
        ("x.xlsx", b"", "cannot be read as XLSX"),
        ("x.xlsx", b"PK\x03\x04 a zip header and nothing more", "cannot be read as XLSX"),
        ("x.ods", b"", "unsupported file type '.ods'; use .csv, .tsv, .txt, .xlsx or .parquet"),
        ("x.csv", b"ax,ay,az,gx,gy,gz\nnot,a,number,at,all,!\nx,y,z,u,v,w\n", "not numeric"),
    ],
)
def test_truncated_and_foreign_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFormatError, match=message):
        load_sensor_file("pelvis", path, SPEC_G)


def test_bad_second_file_leaves_no_session_behind(tmp_path: Path) -> None:
    good, bad = tmp_path / "l.csv", tmp_path / "r.csv"
    _frame().to_csv(good, index=False)
    bad.write_text("garbage")
    root = tmp_path / "data"
    with pytest.raises(ImportFormatError):
        import_tables([("left_thigh", good), ("right_thigh", bad)], SPEC_G, root, "S1")
    assert not root.exists() or not list(iter_sessions(root))


def test_two_files_on_one_clock_share_the_session_timeline(tmp_path: Path) -> None:
    left, right = tmp_path / "l.csv", tmp_path / "r.csv"
    a, b = _frame(), _frame()
    a["time"] += 5.0
    b["time"] += 5.5  # right started half a second later
    a.to_csv(left, index=False)
    b.to_csv(right, index=False)
    spec = TableImportSpec(100.0, ("ax", "ay", "az"), ("gx", "gy", "gz"), "g", "rad/s", "time")
    session = import_tables({"left_thigh": left, "right_thigh": right}, spec, tmp_path / "data", "S1")
    assert session.meta.status == "complete"
    assert session.meta.source == "import"
    assert session.raw_sites() == ["left_thigh", "right_thigh"]
    assert read_raw(session.raw_path("left_thigh")).t_host_ns[0] == 0
    assert read_raw(session.raw_path("right_thigh")).t_host_ns[0] == 500_000_000


def test_duplicate_and_unknown_sites(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    _frame().to_csv(path, index=False)
    with pytest.raises(ImportFormatError, match="each site may be given once"):
        import_tables([("pelvis", path), ("pelvis", path)], SPEC_G, tmp_path, "S1")
    with pytest.raises(ImportFormatError, match="unknown site 'ankle'"):
        import_tables([("ankle", path)], SPEC_G, tmp_path, "S1")


def test_spec_validates_its_options() -> None:
    with pytest.raises(ImportFormatError, match="--fs must be a positive"):
        TableImportSpec(0.0, ("a", "b", "c"), ("d", "e", "f"), "g", "deg/s")
    with pytest.raises(ImportFormatError, match="--acc-unit must be"):
        TableImportSpec(100.0, ("a", "b", "c"), ("d", "e", "f"), "mg", "deg/s")  # type: ignore[arg-type]


def _write_text(path: Path, frame: pd.DataFrame, *, sep: str, decimal: str, before: str = "", units: str = "") -> None:
    body = frame.to_csv(sep=sep, decimal=decimal, index=False, lineterminator="\n")
    header, rest = body.split("\n", 1)
    path.write_text(before + header + "\n" + (units + "\n" if units else "") + rest, encoding="utf-8")


XSENS_LIKE = "// General information: \n//  MT Manager version: 2022.2.0 \n// Coordinate system: ENU\n"


@pytest.mark.parametrize(
    ("name", "sep", "decimal", "before", "units"),
    [
        ("xsens.txt", "\t", ".", XSENS_LIKE, ""),  # MT Manager's export: '//' lines, then tab-separated
        ("europe.csv", ";", ",", "", ""),  # a spreadsheet saved in a comma-decimal locale
        ("excel.csv", ";", ",", "sep=;\n", ""),  # Excel's separator line
        ("commented.csv", ",", ".", "# exported by some tool\n# subject 12\n", ""),
        ("units.csv", ",", ".", "", "s,g,g,g,rad/s,rad/s,rad/s"),  # a units row under the names
        ("units.tsv", "\t", ",", "", "s\tg\tg\tg\trad/s\trad/s\trad/s"),
    ],
)
def test_other_tools_text_exports_are_read_as_they_are(
    tmp_path: Path, name: str, sep: str, decimal: str, before: str, units: str
) -> None:
    """Comment lines, a sep= line, semicolons or tabs, decimal commas and a units row are read without editing the
    file, and give the numbers a plain CSV of the same data gives."""
    frame = _frame()
    plain, export = tmp_path / "plain.csv", tmp_path / name
    frame.to_csv(plain, index=False)
    _write_text(export, frame, sep=sep, decimal=decimal, before=before, units=units)
    spec = TableImportSpec(100.0, ("ax", "ay", "az"), ("gx", "gy", "gz"), "g", "rad/s", "time")

    got, want = load_sensor_file("pelvis", export, spec), load_sensor_file("pelvis", plain, spec)

    np.testing.assert_allclose(got.acc, want.acc, rtol=1e-12)
    np.testing.assert_allclose(got.gyr, want.gyr, rtol=1e-12)
    np.testing.assert_allclose(got.t_s, want.t_s, rtol=1e-12)


@pytest.mark.parametrize(
    ("head", "suffix", "layout"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", ".csv", TextLayout(0, ",", ".", None)),
        ("a;b;c\n1,5;2;3\n4;5;6\n", ".csv", TextLayout(0, ";", ",", None)),
        ("a;b;c\n1.5;2;3\n4;5;6\n", ".csv", TextLayout(0, ";", ".", None)),
        ("a\tb\n1,5\t2\n", ".tsv", TextLayout(0, "\t", ",", None)),
        ("a,b\n1,2\n", ".tsv", TextLayout(0, ",", ".", None)),  # no tab in the header: a CSV named .tsv
        ("\n# c\n// d\nsep=\t\na\tb\n1\t2\n3\t4\n", ".txt", TextLayout(4, "\t", ".", None)),
        ("a,b\nm/s2,deg/s\n1,2\n", ".csv", TextLayout(0, ",", ".", ("m/s2", "deg/s"))),
        ("a,b\nx,y\nu,v\n", ".csv", TextLayout(0, ",", ".", None)),  # text all the way down: not a units row
        ("a,b\nNaN,2\n", ".csv", TextLayout(0, ",", ".", None)),  # a NaN is a number, not a unit
        ("", ".csv", TextLayout(0, ",", ".", None)),
    ],
)
def test_text_layout_is_read_from_the_first_lines(head: str, suffix: str, layout: TextLayout) -> None:
    assert sniff_text_layout(head, suffix) == layout


def _write_workbook(
    path: Path, frame: pd.DataFrame, *, before: Sequence[Sequence[object]] = (), units: bool = False
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in before:
        sheet.append(list(row))
    sheet.append(list(frame.columns))
    if units:
        sheet.append(["s", "g", "g", "g", "rad/s", "rad/s", "rad/s"])
    for row in frame.itertuples(index=False):
        sheet.append([float(v) for v in row])
    book.create_sheet("notes").append(["a second sheet is not read"])
    book.save(path)


@pytest.mark.parametrize(
    ("before", "units"),
    [
        ((), False),
        ((["// exported by another tool"], [], ["# device 1234"]), True),
    ],
)
def test_excel_workbooks_are_read_as_a_csv_of_the_same_data(
    tmp_path: Path, before: Sequence[Sequence[object]], units: bool
) -> None:
    """The first sheet, with comment rows above the names and a units row under them, gives the numbers a plain CSV
    of the same data gives."""
    frame = _frame()
    plain, workbook = tmp_path / "plain.csv", tmp_path / "sensor.xlsx"
    frame.to_csv(plain, index=False)
    _write_workbook(workbook, frame, before=before, units=units)
    spec = TableImportSpec(100.0, ("ax", "ay", "az"), ("gx", "gy", "gz"), "g", "rad/s", "time")

    got, want = load_sensor_file("pelvis", workbook, spec), load_sensor_file("pelvis", plain, spec)

    np.testing.assert_allclose(got.acc, want.acc, rtol=1e-12)
    np.testing.assert_allclose(got.gyr, want.gyr, rtol=1e-12)
    np.testing.assert_allclose(got.t_s, want.t_s, rtol=1e-12)


def test_a_workbook_time_column_of_dates_and_a_text_column(tmp_path: Path) -> None:
    frame = _frame()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["when", "ax", "ay", "az", "gx", "gy", "gz", "note"])
    start = pd.Timestamp("2026-03-01 10:00:00")
    for i, row in enumerate(frame.drop(columns="time").itertuples(index=False)):
        sheet.append([(start + pd.Timedelta(milliseconds=10 * i)).to_pydatetime(), *map(float, row), "ok"])
    path = tmp_path / "dates.xlsx"
    book.save(path)
    spec = TableImportSpec(100.0, ("ax", "ay", "az"), ("gx", "gy", "gz"), "g", "rad/s", "when")
    sensor = load_sensor_file("pelvis", path, spec)
    np.testing.assert_allclose(np.diff(sensor.t_s), 0.01, atol=1e-6)
    with pytest.raises(ImportFormatError, match="column 'note' is string, not numeric"):
        load_sensor_file("pelvis", path, TableImportSpec(100.0, ("ax", "ay", "note"), ("gx", "gy", "gz"), "g", "rad/s"))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "the first sheet is empty"),
        ([["// only comments"], [], ["# and nothing else"]], "the first sheet has no header row"),
    ],
)
def test_a_workbook_without_data_is_a_clear_error(tmp_path: Path, rows: list[list[object]], message: str) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    path = tmp_path / "empty.xlsx"
    book.save(path)
    with pytest.raises(ImportFormatError, match=f"cannot be read as XLSX \\({message}\\)"):
        load_sensor_file("pelvis", path, SPEC_G)
