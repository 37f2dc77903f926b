"""A small data root for the dashboard tests, built with the real store APIs and schemas.

Subject P01 recovers from a right-knee operation over four processed sessions (stance-time SI −10 → −2 %, right
pelvic drop shrinking, cadence rising), then has one recorded session that is not processed yet. The last processed
session is a simulated one with a ``sim/truth.json``. The baseline was processed before the pipeline wrote gait-cycle
curves, compensation reports and 95 % within-session intervals (its ``ci_low``/``ci_high`` are null); the later
processed sessions have all three. Values are synthetic but schema-valid, and
internally consistent: events, strides, summary and raw streams come from one gait timeline per session. The raw
signals are crude, so tests of the pipeline's angles use the simulated walker of ``walker_root`` (``_walker``).
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from pipeline.catalog import METRICS
from pipeline.run import PIPELINE_VERSION, process_session
from pipeline.schemas import BOUTS, COMPENSATION, CYCLES, EVENTS, SITES, STRIDES, SUMMARY, table_metadata
from pipeline.store import (
    RawBatch,
    RawStreamWriter,
    SensorInfo,
    Session,
    create_session,
    iter_sessions,
    load_session,
    new_session_id,
    raw_schema_metadata,
    read_table,
    write_table,
)
from tests.dashboard._walker import WalkerRoot, build_walker_root

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
SUBJECT = "P01"
RATE_HZ = 100.0
HOST_T0_NS = 5_000_000_000_000
WALK_START_S = 2.0
N_STRIDES = 14


ALL_SCHEMAS = {
    "events": EVENTS,
    "strides": STRIDES,
    "summary": SUMMARY,
    "cycles": CYCLES,
    "bouts": BOUTS,
    "compensation": COMPENSATION,
}  # derived/<name>.arrow → its schema
STEP_LENGTH_M = 0.62  # the fixture walker's step: speed follows its cadence


@dataclass(frozen=True)
class Visit:
    """One session's gait, as the fixture's ground truth."""

    start: datetime
    label: str
    stance_si_pct: float
    step_si_pct: float
    cadence_spm: float
    drop_left_deg: float
    drop_right_deg: float
    thigh_left_deg: float
    thigh_right_deg: float
    processed: bool = True
    simulated: bool = False
    curves: bool = True  # derived/cycles.arrow and derived/compensation.arrow (processed sessions only)
    intervals: bool = True  # ci_low/ci_high in derived/summary.arrow (processed sessions only)


VISITS = (
    Visit(
        datetime(2026, 1, 12, 9, 30, tzinfo=UTC),
        "baseline, 2 weeks post-op",
        -10.0,
        -6.0,
        96.0,
        4.1,
        7.9,
        44.0,
        36.0,
        curves=False,
        intervals=False,
    ),
    Visit(datetime(2026, 2, 2, 9, 15, tzinfo=UTC), "week 5", -7.0, -4.0, 102.0, 4.3, 6.6, 45.0, 39.0),
    Visit(datetime(2026, 2, 23, 10, 0, tzinfo=UTC), "week 8", -4.0, -2.5, 107.0, 4.4, 5.4, 45.5, 42.0),
    Visit(datetime(2026, 3, 16, 9, 45, tzinfo=UTC), "week 11", -2.0, -1.0, 111.0, 4.5, 4.8, 46.0, 44.5, simulated=True),
    Visit(
        datetime(2026, 3, 30, 9, 30, tzinfo=UTC), "week 13", -1.5, -1.0, 112.0, 4.5, 4.6, 46.0, 45.0, processed=False
    ),
)

# The simulator's own keys (sensors.sim: per-side suffixes, pelvic ranges without "pelvic_", extras).
TRUTH_SUMMARY = {
    "n_strides_left": 12.0,
    "stance_time_si_pct": -2.3,
    "step_time_si_pct": -0.8,
    "cadence_spm": 110.4,
    "stance_time_s_right": 0.66,
    "obliquity_range_deg": 7.7,
    "pelvic_drop_deg_right": 4.6,
    "speed_m_s": 1.21,
}


@dataclass(frozen=True)
class DataRootFixture:
    """The data root and what was written into it."""

    root: Path
    subject: str
    sessions: tuple[Session, ...]
    visits: tuple[Visit, ...]
    n_strides: int = N_STRIDES  # per side and session
    truth: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(TRUTH_SUMMARY))  # sim/truth.json

    def processed(self) -> list[tuple[Session, Visit]]:
        return [(s, v) for s, v in zip(self.sessions, self.visits, strict=True) if v.processed]


def _si(right: float, left: float) -> float:
    return (right - left) / ((right + left) / 2) * 100


def _sides(mean: float, si_pct: float) -> tuple[float, float]:
    """(left, right) with the given mean and Robinson SI."""
    return mean * (1 - si_pct / 200), mean * (1 + si_pct / 200)


def _timeline(v: Visit) -> dict[str, dict[str, np.ndarray]]:
    """IC and FC times per side."""
    stride = 120.0 / v.cadence_spm
    step_left, step_right = _sides(stride / 2, v.step_si_pct)
    stance_left, stance_right = _sides(0.62 * stride, v.stance_si_pct)
    ic_left = WALK_START_S + stride * np.arange(N_STRIDES + 1)
    ic_right = ic_left + step_right
    return {
        "left": {"IC": ic_left, "FC": ic_left + stance_left, "step": np.full(N_STRIDES + 1, step_left)},
        "right": {"IC": ic_right, "FC": ic_right + stance_right, "step": np.full(N_STRIDES + 1, step_right)},
    }


def _events_table(timeline: dict[str, dict[str, np.ndarray]]) -> pa.Table:
    rows = [
        (float(t), side, kind)
        for side, times in timeline.items()
        for kind in ("IC", "FC")
        for t in times[kind][: N_STRIDES + (kind == "IC")]
    ]
    rows.sort()
    t = np.array([r[0] for r in rows])
    return pa.table(
        {
            "t_s": t,
            "sample": np.round(t * RATE_HZ).astype(np.int64),
            "side": [r[1] for r in rows],
            "event": [r[2] for r in rows],
            "source": [f"{r[1]}_thigh" for r in rows],
        }
    )


def _strides_table(v: Visit, timeline: dict[str, dict[str, np.ndarray]], rng: np.random.Generator) -> pa.Table:
    cols: dict[str, list] = {name: [] for name in STRIDES.schema.names}
    for side, times in timeline.items():
        ic, fc = times["IC"], times["FC"]
        drop = v.drop_left_deg if side == "left" else v.drop_right_deg
        thigh = v.thigh_left_deg if side == "left" else v.thigh_right_deg
        for k in range(N_STRIDES):
            stride_time = ic[k + 1] - ic[k]
            stance = fc[k] - ic[k]
            cols["side"].append(side)
            cols["stride"].append(k)
            cols["start_s"].append(float(ic[k]))
            cols["end_s"].append(float(ic[k + 1]))
            cols["stride_time_s"].append(float(stride_time))
            cols["step_time_s"].append(float(times["step"][k]))
            cols["stance_time_s"].append(float(stance))
            cols["swing_time_s"].append(float(stride_time - stance))
            cols["stance_pct"].append(float(stance / stride_time * 100))
            cols["pelvic_obliquity_range_deg"].append(float(8.0 + rng.normal(0, 0.4)))
            cols["pelvic_tilt_range_deg"].append(float(3.0 + rng.normal(0, 0.2)))
            cols["pelvic_rotation_range_deg"].append(float(9.0 + rng.normal(0, 0.5)))
            cols["pelvic_drop_deg"].append(float(drop + rng.normal(0, 0.3)))
            cols["thigh_range_deg"].append(float(thigh + rng.normal(0, 1.0)))
            cols["valid"].append(0 < k < N_STRIDES - 1)  # the first and last stride are acceleration/turn
            cols["opening_valid"].append(0 < k < N_STRIDES - 1)  # no IC lost: as valid
    n = len(cols["side"])  # the columns this fixture does not model (double support, lengths, ...) stay null
    return pa.table({f.name: cols[f.name] or pa.nulls(n, f.type) for f in STRIDES.schema})


SI_HALF_WIDTH_PCT = 1.2  # the fixture's 95 % interval of a symmetry index: week 5 and week 8 apart, 8 and 11 overlap
HALF_WIDTH_FRACTION = 0.02  # ... and of the other metrics, relative to the value


def _interval(metric: str, value: float, v: Visit) -> tuple[float | None, float | None]:
    if not v.intervals or metric == "walking_time_s":  # the pipeline has no interval for walking time
        return None, None
    half = SI_HALF_WIDTH_PCT if metric.endswith("_si_pct") else HALF_WIDTH_FRACTION * abs(value)
    return value - half, value + half


def _summary_table(v: Visit, timeline: dict[str, dict[str, np.ndarray]]) -> pa.Table:
    stride = 120.0 / v.cadence_spm
    n = N_STRIDES - 2
    values: list[tuple[str, str, float]] = [
        ("cadence_spm", "both", v.cadence_spm),
        ("stride_time_s", "both", stride),
        ("step_time_si_pct", "both", v.step_si_pct),
        ("stance_time_si_pct", "both", v.stance_si_pct),
        ("pelvic_obliquity_range_deg", "both", 8.0),
        ("pelvic_tilt_range_deg", "both", 3.0),
        ("pelvic_rotation_range_deg", "both", 9.0),
        ("thigh_range_si_pct", "both", _si(v.thigh_right_deg, v.thigh_left_deg)),
        ("walking_time_s", "both", stride * N_STRIDES),
        ("walking_speed_m_s", "both", STEP_LENGTH_M * v.cadence_spm / 60.0),
    ]
    for side, times in timeline.items():
        stance = float(times["FC"][0] - times["IC"][0])
        values += [
            ("stride_time_s", side, stride),
            ("step_time_s", side, float(times["step"][0])),
            ("stance_time_s", side, stance),
            ("swing_time_s", side, stride - stance),
            ("stance_pct", side, stance / stride * 100),
            ("pelvic_drop_deg", side, v.drop_left_deg if side == "left" else v.drop_right_deg),
            ("thigh_range_deg", side, v.thigh_left_deg if side == "left" else v.thigh_right_deg),
        ]
    return pa.table(
        {
            "metric": [m for m, _, _ in values],
            "side": [s for _, s, _ in values],
            "value": [x for _, _, x in values],
            "unit": [METRICS[m].unit for m, _, _ in values],
            "n": [n] * len(values),
            "ci_low": [_interval(m, x, v)[0] for m, _, x in values],
            "ci_high": [_interval(m, x, v)[1] for m, _, x in values],
        },
        schema=SUMMARY.schema,
    )


CYCLE_SIGNALS = {"pelvic_obliquity_deg": 4.0, "pelvic_tilt_deg": 1.5, "pelvic_rotation_deg": 4.5}
CYCLE_PCT = np.linspace(0.0, 100.0, 51)
SI_THRESHOLD_PCT = 3.0
DROP_THRESHOLD_DEG = 6.0


def _cycles_table(v: Visit) -> pa.Table:
    """Sine-shaped pelvic curves and a thigh curve whose amplitude is the visit's thigh range, per side."""
    cols: dict[str, list] = {name: [] for name in CYCLES.schema.names}
    phase = 2 * np.pi * CYCLE_PCT / 100
    for side in ("left", "right"):
        thigh = v.thigh_left_deg if side == "left" else v.thigh_right_deg
        curves = {name: amp * np.sin(phase) for name, amp in CYCLE_SIGNALS.items()}
        curves["thigh_sagittal_deg"] = 10 + thigh / 2 * np.cos(phase)
        for signal, mean in curves.items():
            cols["side"] += [side] * CYCLE_PCT.size
            cols["signal"] += [signal] * CYCLE_PCT.size
            cols["unit"] += ["deg"] * CYCLE_PCT.size
            cols["pct"] += CYCLE_PCT.tolist()
            cols["mean"] += mean.tolist()
            cols["sd"] += [1.0] * CYCLE_PCT.size
            cols["n"] += [N_STRIDES - 2] * CYCLE_PCT.size
    return pa.table(cols, schema=CYCLES.schema)


def _compensation_table(v: Visit) -> pa.Table:
    """Antalgic and Trendelenburg indicators, flagged beyond the noise-floor thresholds."""
    rows = [
        ("antalgic_gait", "Antalgic gait", "stance_time_si_pct", "both", v.stance_si_pct, SI_THRESHOLD_PCT, "%"),
        ("antalgic_gait", "Antalgic gait", "step_time_si_pct", "both", v.step_si_pct, SI_THRESHOLD_PCT, "%"),
        ("trendelenburg", "Trendelenburg", "pelvic_drop_deg", "right", v.drop_right_deg, DROP_THRESHOLD_DEG, "deg"),
        ("trendelenburg", "Trendelenburg", "pelvic_drop_deg", "left", v.drop_left_deg, DROP_THRESHOLD_DEG, "deg"),
    ]
    return pa.table(
        {
            "pattern": [r[0] for r in rows],
            "label": [r[1] for r in rows],
            "indicator": [r[2] for r in rows],
            "side": [r[3] for r in rows],
            "value": [r[4] for r in rows],
            "threshold": [r[5] for r in rows],
            "unit": [r[6] for r in rows],
            "flagged": [abs(r[4]) > r[5] for r in rows],
            "note": [f"{r[1]}: an indicator to review, not a diagnosis." for r in rows],
            "status": ["flagged" if abs(r[4]) > r[5] else "within" for r in rows],
        },
        schema=COMPENSATION.schema,
    )


def _raw_signals(site: str, timeline: dict[str, dict[str, np.ndarray]], t: np.ndarray, rng: np.random.Generator):
    """(acc, gyr) of one site: thighs swing forward between FC and the next IC, the pelvis bobs twice per stride."""
    acc = np.zeros((t.size, 3))
    gyr = rng.normal(0, 3.0, (t.size, 3))
    acc[:, 2] = 9.81
    walking = (t >= WALK_START_S) & (t < timeline["left"]["IC"][-1])
    if site == "pelvis":
        stride = timeline["left"]["IC"][1] - timeline["left"]["IC"][0]
        phase = 2 * np.pi * (t - WALK_START_S) / stride
        acc[:, 2] += walking * 2.5 * np.sin(2 * phase)
        gyr[:, 0] += walking * 25 * np.sin(phase)
        gyr[:, 1] += walking * 12 * np.sin(2 * phase)
        return acc + rng.normal(0, 0.2, acc.shape), gyr
    times = timeline[site.removesuffix("_thigh")]
    ic, fc = times["IC"], times["FC"]
    k = np.searchsorted(ic, t, side="right") - 1
    valid = (k >= 0) & (k < ic.size - 1) & walking
    k = np.clip(k, 0, ic.size - 2)
    in_swing = valid & (t >= fc[k])
    swing_phase = np.clip((t - fc[k]) / (ic[k + 1] - fc[k]), 0, 1)
    stance_phase = np.clip((t - ic[k]) / (fc[k] - ic[k]), 0, 1)
    gyr[:, 2] += np.where(in_swing, 320 * np.sin(np.pi * swing_phase), valid * -70 * np.sin(np.pi * stance_phase))
    acc[:, 0] += valid * 4 * np.sin(2 * np.pi * stance_phase)
    return acc + rng.normal(0, 0.3, acc.shape), gyr


def _write_raw(session: Session, timeline: dict[str, dict[str, np.ndarray]], rng: np.random.Generator) -> None:
    t = np.arange(0, timeline["left"]["IC"][-1] + 2.0, 1 / RATE_HZ)
    t_host = HOST_T0_NS + np.round(t * 1e9).astype(np.int64) + 7_000_000  # a BLE-like arrival lag
    for sensor in session.meta.sensors:
        acc, gyr = _raw_signals(sensor.site, timeline, t, rng)
        writer = RawStreamWriter(session.raw_path(sensor.site), raw_schema_metadata(session, sensor))
        n = t.size
        writer.append(
            RawBatch(
                packet=np.arange(n, dtype=np.int64) // 4,
                t_host_ns=t_host,
                t_device_us=np.round(t * 1e6).astype(np.int64),
                counter=np.arange(n, dtype=np.int64),
                acc=acc,
                gyr=gyr,
            ),
            now_ns=int(t_host[-1]),
        )
        writer.close()


def build_data_root(root: Path) -> DataRootFixture:
    """Write the P01 series below ``root``."""
    rng = np.random.default_rng(7)
    sensors = tuple(SensorInfo(site, "movesense", model="Movesense MD", rate_hz=RATE_HZ) for site in SITES)
    sessions = []
    for visit in VISITS:
        session = create_session(
            root,
            SUBJECT,
            sensors,
            start=visit.start,
            label=visit.label,
            notes="10 m walkway, self-selected speed",
            host_t0_ns=HOST_T0_NS,
            source="simulator" if visit.simulated else "ble",
            clock="simulated" if visit.simulated else "monotonic",
        )
        timeline = _timeline(visit)
        _write_raw(session, timeline, rng)
        session = session.update(status="complete")
        if visit.processed:
            meta = {"pipeline_version": PIPELINE_VERSION}  # as process_session writes it: analysed by this version
            write_table(session.derived_path("events"), _events_table(timeline), EVENTS, meta)
            write_table(session.derived_path("strides"), _strides_table(visit, timeline, rng), STRIDES, meta)
            write_table(session.derived_path("summary"), _summary_table(visit, timeline), SUMMARY, meta)
            if visit.curves:
                write_table(session.derived_path("cycles"), _cycles_table(visit), CYCLES, meta)
                write_table(session.derived_path("compensation"), _compensation_table(visit), COMPENSATION, meta)
        if visit.simulated:
            (session.path / "sim").mkdir()
            (session.path / "sim" / "truth.json").write_text(json.dumps({"summary": TRUTH_SUMMARY}), encoding="utf-8")
        sessions.append(session)
    return DataRootFixture(root, SUBJECT, tuple(sessions), VISITS)


def kept_metadata(table: pa.Table) -> dict[str, str]:
    """A read table's ``imugait.*`` metadata (pipeline version, quality record, ...) to pass back to ``write_table``
    when a test rewrites the table, as the pipeline would have written it (name and schema version are re-added)."""
    return {k: v for k, v in table_metadata(table.schema).items() if k not in {"schema", "schema_version"}}


def write_metadata(session: Session, **changes: str | None) -> None:
    """Rewrite every derived table of ``session`` with its ``imugait.*`` metadata changed (None drops a key)."""
    for path in sorted((session.path / "derived").glob("*.arrow")):
        schema = ALL_SCHEMAS[path.stem]
        table = read_table(path, schema)
        metadata = kept_metadata(table) | changes
        write_table(path, table, schema, {k: v for k, v in metadata.items() if v is not None})


def write_quality(session: Session, quality: Mapping[str, object]) -> None:
    """Rewrite every derived table of ``session`` with ``quality`` as its quality record, as
    ``pipeline.run.process_session`` writes it: JSON with sorted keys in each table's ``imugait.quality`` metadata."""
    write_metadata(session, quality=json.dumps(dict(quality), sort_keys=True, default=str))


def write_pipeline_version(session: Session, version: str | None) -> None:
    """Mark ``session`` as analysed by pipeline ``version`` (None: tables that do not say), as ``process_session``
    records it in each derived table's ``imugait.pipeline_version`` metadata."""
    write_metadata(session, pipeline_version=version)


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> DataRootFixture:
    """The P01 series; shared by every test, so tests must not change it (copy it first, see ``own_data_root``)."""
    return build_data_root(tmp_path_factory.mktemp("imugait-data"))


@pytest.fixture(scope="session")
def walker_root(tmp_path_factory: pytest.TempPathFactory) -> WalkerRoot:
    """Subject W01, simulated walker: one processed session, one recorded only (see ``_walker``)."""
    return build_walker_root(tmp_path_factory.mktemp("imugait-walker"))


@pytest.fixture
def own_data_root(tmp_path: Path) -> DataRootFixture:
    """A private P01 series that a test may damage."""
    return build_data_root(tmp_path / "data")


# ---------------------------------------------------------------------------------------------------------------
# Driving the app


@pytest.fixture
def run_app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Run the dashboard against a data root (through ``IMUGAIT_DATA``), optionally switched to a page.

    Fails on any traceback, so every test also checks that the page rendered.
    """

    def run(root: Path, page: str | None = None) -> AppTest:
        monkeypatch.setenv("IMUGAIT_DATA", str(root))
        at = AppTest.from_file(str(APP), default_timeout=30).run()
        if page is not None:
            at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def plotly_spec(at: AppTest, key: str) -> dict:
    """The JSON figure of the plotly chart with ``key``."""
    for element in at.get("plotly_chart"):
        if element.key == key:
            return json.loads(element.proto.spec)
    raise AssertionError(f"no plotly chart with key {key!r}")


def trace_values(trace: dict, axis: str) -> np.ndarray:
    """A trace's x or y values, decoding plotly's typed-array form."""
    raw = trace[axis]
    if isinstance(raw, dict) and "bdata" in raw:
        return np.frombuffer(base64.b64decode(raw["bdata"]), dtype=np.dtype(raw["dtype"]))
    return np.asarray(raw)


def tables_with(at: AppTest, column: str) -> list:
    """The dataframes a page shows that have ``column`` (AppTest does not expose dataframe keys)."""
    return [d.value for d in at.dataframe if column in d.value.columns]


def dataframe_column_config(element) -> dict:
    """The ``column_config`` a shown dataframe was given, by column name (as Streamlit serialises it)."""
    return json.loads(element.proto.columns) if element.proto.columns else {}


@pytest.fixture
def column_config() -> Callable[[object], dict]:
    """``column_config(at.dataframe[i])``: that table's column configuration (type, format) by column name."""
    return dataframe_column_config


@pytest.fixture
def tables() -> Callable[[AppTest, str], list]:
    """``tables(at, column)``: the shown dataframes that have ``column``, in page order."""
    return tables_with


@pytest.fixture
def figure() -> Callable[[AppTest, str], dict]:
    """``figure(at, key)``: the plotly figure a page drew under ``key``, as JSON."""
    return plotly_spec


@pytest.fixture
def values() -> Callable[[dict, str], np.ndarray]:
    """``values(trace, "x")``: a trace's data as numpy, whatever plotly's encoding."""
    return trace_values


V1_FIXTURE = Path(__file__).resolve().parents[1] / "data" / "sessions_v1"


def legacy_pair(root: Path) -> tuple[Session, Session]:
    """Copy the stored v1 session (schema v1, pipeline 1.0) under ``root`` and beside it a copy a week later,
    re-processed with this imugait: (as stored, re-processed)."""
    shutil.copytree(V1_FIXTURE / "legacy", root / "legacy")
    (old,) = iter_sessions(root)
    later = old.meta.start + timedelta(days=7)
    shutil.copytree(old.path, old.path.parent / new_session_id(later))
    new = load_session(old.path.parent / new_session_id(later)).update(
        session_id=new_session_id(later), start_utc=later.isoformat(), label="re-processed"
    )
    process_session(new)
    return old, new
