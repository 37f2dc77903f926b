"""What the CLI commands do, without the terminal: building links, recording, importing, the demo series.

Kept apart from ``cli.py`` so tests and scripts can call the same code the commands run.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline import calibration, quality
from pipeline.errors import DataContractError, ImportFormatError
from pipeline.importer import TableImportSpec, import_tables
from pipeline.run import PIPELINE_VERSION, PipelineConfig, process_session, spatial_result
from pipeline.schemas import SITES
from pipeline.store import Session, atomic_write_text, iter_sessions, load_session
from pipeline.subjects import SUBJECT_FILE, SubjectProfile, parse_side, read_profile, update_profile
from sensors.devices.movesense import MovesenseDriver
from sensors.recorder import LinkBackend, RecordingPlan, RecordingResult, SensorStatus, SensorTarget, scan_devices
from sensors.recorder import record as record_session

__all__ = ["Session", "SensorStatus", "import_tables"]

# The session being recorded, so Ctrl-C (which unwinds asyncio.run) can still report where it went.
LAST_SESSION: dict[str, Path] = {}


def parse_targets(specs: Sequence[str]) -> tuple[SensorTarget, ...]:
    """Parse ``SITE=ID`` options; raise ValueError with the fix in the message."""
    targets = []
    for spec in specs:
        site, sep, ident = spec.partition("=")
        site = site.strip()
        if not sep or not ident.strip():
            raise ValueError(f"--sensor takes SITE=NAME|SERIAL|ADDRESS, got {spec!r}")
        if site not in SITES:
            raise ValueError(f"unknown site {site!r} in --sensor; use one of {', '.join(SITES)}")
        targets.append(SensorTarget(site, ident.strip()))
    if len({t.site for t in targets}) != len(targets):
        raise ValueError("each site may be given once")
    return tuple(targets)


@dataclass(frozen=True)
class RecordRequest:
    """A recording as the CLI asks for it: real sensors, a simulated profile, or a replayed session."""

    root: Path
    subject: str
    targets: tuple[SensorTarget, ...]
    simulate: str | Any | None = None  # a profile name, or a GaitProfile for the demo's progression
    replay: Session | None = None
    duration_s: float | None = None
    speed: float | None = 1.0
    rate_hz: float = 104.0
    label: str = ""
    notes: str = ""
    loss: float = 0.0
    seed: int = 0
    start: datetime | None = None
    disconnects: tuple[tuple[str, float, float], ...] = ()
    reboots: tuple[tuple[str, float, float], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _simulated_link(request: RecordRequest) -> tuple[LinkBackend, tuple[SensorTarget, ...], Any]:
    from sensors.sim.gait_model import GaitModel, GaitProfile, get_profile
    from sensors.sim.world import SimConditions, SimWorld, sim_backends

    profile = request.simulate if isinstance(request.simulate, GaitProfile) else get_profile(str(request.simulate))
    # The model must outlast the recording, including connection set-up; open-ended runs get an hour.
    model_s = (request.duration_s + 15.0) if request.duration_s is not None else 3600.0
    model = GaitModel(profile, duration_s=model_s, seed=request.seed)
    world = SimWorld(
        model,
        SimConditions(
            speed=request.speed,
            rate_hz=request.rate_hz,
            packet_loss=request.loss,
            disconnects=request.disconnects,
            reboots=request.reboots,
            seed=request.seed,
        ),
    )
    scanner, client = sim_backends(world)
    backend = LinkBackend(scanner, client, world.clock_ns, "simulated", "simulator", world.done)
    targets = tuple(SensorTarget(world.site_of(d.name), d.name) for d in world.devices)
    return backend, targets, world


def _replay_link(request: RecordRequest) -> tuple[LinkBackend, tuple[SensorTarget, ...], Any]:
    from sensors.replay import replay_backends

    assert request.replay is not None
    scanner, client, player = replay_backends(request.replay, request.speed)
    backend = LinkBackend(scanner, client, player.clock_ns, "simulated", "replay", player.done)
    targets = tuple(SensorTarget(site, name) for site, name in player.names.items())
    return backend, targets, player


async def record(
    request: RecordRequest, *, on_status: Callable[[list[SensorStatus]], None] | None = None
) -> RecordingResult:
    """Record real, simulated or replayed sensors into a new session under ``request.root``."""
    world: Any = None
    if request.replay is not None:
        backend, targets, _ = _replay_link(request)
        extra = {"replay_of": str(request.replay.path)}
    elif request.simulate is not None:
        backend, targets, world = _simulated_link(request)
        extra = {"simulated_profile": getattr(world.model.profile, "name", str(request.simulate))}
    else:
        backend, targets, extra = LinkBackend(), request.targets, {}
    plan = RecordingPlan(
        root=request.root,
        subject=request.subject,
        targets=targets,
        rate_hz=request.rate_hz,
        duration_s=request.duration_s,
        label=request.label,
        notes=request.notes,
        start=request.start,
        extra={**extra, **request.extra},
    )

    def remember(session: Session) -> None:
        LAST_SESSION["path"] = session.path
        if world is not None:
            world.write_truth(session.path, session.meta.host_t0_ns)

    return await record_session(plan, [MovesenseDriver()], backend, on_session=remember, on_status=on_status)


async def scan(timeout_s: float, simulate: str | None) -> list[tuple[str, str, int, str]]:
    """Scan for supported sensors (real, or a simulated world); rows of (name, address, rssi, family)."""
    backend = LinkBackend()
    if simulate is not None:
        backend, _, _ = _simulated_link(RecordRequest(Path(), "scan", (), simulate=simulate, duration_s=1.0))
    return await scan_devices([MovesenseDriver()], backend, timeout_s)


def process(session: Session) -> tuple[quality.Finding, ...]:
    """Analyse one session (the CLI's progress bar wraps this) and say what its quality record says."""
    return quality.findings(process_session(session).quality)


def parse_import_files(file: Path | None, site: str | None, sensors: Sequence[str]) -> list[tuple[str, Path]]:
    """Resolve ``FILE --site SITE`` or repeated ``--sensor SITE=FILE`` into (site, path) pairs."""
    if sensors and (file is not None or site is not None):
        raise ValueError("use either FILE --site SITE or --sensor SITE=FILE (repeated), not both")
    if sensors:
        pairs = []
        for spec in sensors:
            s, sep, path = spec.partition("=")
            if not sep or not path:
                raise ValueError(f"--sensor takes SITE=FILE, got {spec!r}")
            pairs.append((s.strip(), Path(path)))
        return pairs
    if file is None or site is None:
        raise ValueError("give FILE with --site SITE, or --sensor SITE=FILE for each sensor")
    return [(site, file)]


def import_spec(fs: float, acc: str, gyr: str, acc_unit: str, gyr_unit: str, time_col: str | None) -> TableImportSpec:
    """Build the import spec from CLI strings; ValueError names the missing option."""
    missing = [
        name
        for name, value in (
            ("--fs", fs),
            ("--acc", acc),
            ("--gyr", gyr),
            ("--acc-unit", acc_unit),
            ("--gyr-unit", gyr_unit),
        )
        if not value
    ]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    cols = [tuple(c.strip() for c in spec.split(",")) for spec in (acc, gyr)]
    if any(len(c) != 3 for c in cols):
        raise ValueError("--acc and --gyr each take three comma-separated column names, e.g. ax,ay,az")
    unit = acc_unit.replace("²", "2").replace("m/s^2", "m/s2")
    try:
        return TableImportSpec(fs, cols[0], cols[1], unit, gyr_unit, time_col)  # type: ignore[arg-type]
    except ImportFormatError as exc:
        raise ValueError(str(exc)) from exc


# ---------------------------------------------------------------------------------------------------------------
# The demo: a patient with right-knee pain recovering over six weeks, and a healthy control.

DEMO_SUBJECT = "demo-knee"
DEMO_CONTROL = "demo-control"
# (weeks before today, severity of the antalgic pattern, label)
DEMO_SERIES: tuple[tuple[int, float, str], ...] = (
    (6, 1.0, "week 0 - first visit"),
    (4, 0.7, "week 2"),
    (2, 0.4, "week 4"),
    (0, 0.15, "week 6"),
)


def demo_sessions(root: Path, *, duration_s: float, log: Callable[[str], None]) -> list[Session]:
    """Record the demo series at full simulator speed, or reuse it when ``root`` already holds it."""
    existing = [s for s in iter_sessions(root) if s.meta.status == "complete"] if root.exists() else []
    if len([s for s in existing if s.meta.subject == DEMO_SUBJECT]) >= len(DEMO_SERIES):
        log(f"reusing the {len(existing)} demo sessions already in {root} (delete the folder to record anew)")
        return existing
    from pipeline.subjects import SubjectProfile, save_profile
    from sensors.sim.gait_model import GaitModel, get_profile
    from sensors.sim.offline import standing_sensor_height_m
    from sensors.sim.progression import blend_profiles

    healthy, antalgic = get_profile("healthy"), get_profile("antalgic_right")
    # The simulated walkers' anthropometry, as a clinician would enter it with 'imugait subject set'.
    root.mkdir(parents=True, exist_ok=True)
    for subject, affected, notes in (
        (DEMO_SUBJECT, "right", "Simulated patient: right-knee pain, recovering over six weeks."),
        (DEMO_CONTROL, None, "Simulated healthy control."),
    ):
        save_profile(
            root,
            SubjectProfile(
                subject=subject,
                height_m=1.70,
                leg_length_m=healthy.leg_length_m,
                pelvis_sensor_height_m=round(standing_sensor_height_m(GaitModel(healthy, duration_s=5.0)), 2),
                affected_side=affected,  # type: ignore[arg-type]
                notes=notes,
            ),
        )
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    plans = [
        RecordRequest(
            root=root,
            subject=DEMO_SUBJECT,
            targets=(),
            simulate=blend_profiles(healthy, antalgic, severity, name=f"antalgic_right x{severity:g}"),
            duration_s=duration_s,
            speed=None,
            label=label,
            notes=f"Simulated right-knee antalgic gait, severity {severity:g} (1 = full antalgic_right profile).",
            loss=0.01,
            seed=i,
            start=today - timedelta(weeks=weeks),
            # the first visit loses the pelvis link for 2 s, as real sessions sometimes do
            disconnects=(("pelvis", 20.0, 2.0),) if i == 0 else (),
        )
        for i, (weeks, severity, label) in enumerate(DEMO_SERIES)
    ]
    plans.append(
        RecordRequest(
            root=root,
            subject=DEMO_CONTROL,
            targets=(),
            simulate=healthy,
            duration_s=duration_s,
            speed=None,
            label="healthy control",
            loss=0.01,
            seed=99,
            start=today - timedelta(weeks=6, hours=-1),
        )
    )
    sessions = asyncio.run(_record_series(plans, log))
    for subject in (DEMO_SUBJECT, DEMO_CONTROL):
        calibrate_demo_subject(next(s for s in sessions if s.meta.subject == subject), log)
    return sessions


def calibrate_demo_subject(session: Session, log: Callable[[str], None]) -> None:
    """The clinician's calibration walk, simulated: the subject's step-length factors fitted on ``session`` with
    the walking speed the simulator produced (``sim/truth.json``) as the reference, like a treadmill belt's."""
    speed = float(json.loads((session.path / "sim" / "truth.json").read_text())["summary"]["speed_m_s"])
    outcome = calibrate_subject(session.path, speed_m_s=speed)
    log(
        f"calibrated {session.meta.subject}'s step length on {session.meta.session_id} at the simulated "
        f"{speed:g} m/s: {', '.join(f'{c.method} x{c.factor:.3f}' for c in outcome.calibrations)}"
    )


def describe_stop(reason: str, duration_s: float | None) -> str:
    """Why a recording ended, in words (:attr:`sensors.recorder.RecordingResult.reason` is a short code)."""
    if reason == "duration":
        return "ended after its planned length" if duration_s is None else f"ended after its planned {duration_s:g} s"
    return {"stopped": "stopped", "source finished": "the replayed session ended"}.get(reason, reason)


async def _record_series(plans: Sequence[RecordRequest], log: Callable[[str], None]) -> list[Session]:
    # One event loop for the whole series: bleak's rule is one asyncio.run per process.
    sessions = []
    for plan in plans:
        started = time.perf_counter()
        result = await record(plan)
        log(
            f"recorded {plan.subject}/{result.session.meta.session_id} ({plan.label}): "
            f"{describe_stop(result.reason, plan.duration_s)}, simulated in {time.perf_counter() - started:.1f} s"
        )
        sessions.append(result.session)
    return sessions


def reload(session: Session) -> Session:
    """Re-read a session's metadata from disk."""
    return load_session(session.path)


# ---------------------------------------------------------------------------------------------------------------
# Subject profiles (``imugait subject``)


def set_subject(root: Path, subject: str, **changes: Any) -> SubjectProfile:
    """Update (or create) ``<root>/<subject>/subject.json`` with the given fields; ``None`` values are left out,
    except ``affected_side``, where ``"none"`` clears it. Raises DataContractError for bad values."""
    fields_ = {k: v for k, v in changes.items() if v is not None and k != "affected_side"}
    if changes.get("affected_side") is not None:
        fields_["affected_side"] = parse_side(changes["affected_side"])
    return update_profile(root, subject, **fields_)


@dataclass(frozen=True)
class CalibrationOutcome:
    """What ``imugait subject calibrate`` measured and stored."""

    profile: SubjectProfile
    calibrations: tuple[calibration.StepLengthCalibration, ...]
    estimates: dict[calibration.Method, calibration.WalkEstimate]
    profile_path: Path


def calibrate_subject(
    session_path: Path,
    *,
    distance_m: float | None = None,
    speed_m_s: float | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
) -> CalibrationOutcome:
    """Fit the session subject's step-length factors on the walk in ``session_path`` and store them in the profile.

    Exactly one of ``distance_m`` (the distance walked, over ground) and ``speed_m_s`` (a treadmill belt) is the
    reference. The model runs without any earlier calibration. Raises ImuGaitError subclasses with the fix.
    """
    if (distance_m is None) == (speed_m_s is None):
        raise DataContractError("give the walk's reference: either --distance (metres) or --speed (m/s), not both")
    session = load_session(session_path)
    path = session.path.parent / SUBJECT_FILE
    profile = read_profile(path)
    subject = session.meta.subject
    if profile is None or profile.leg_length is None:
        raise DataContractError(
            f"subject {subject!r} has no height or leg length; set them first with "
            f"'imugait subject set {subject} --height M' (the models scale with them)",
            path=path,
        )
    raw = replace(profile, step_length_calibration=())
    config = PipelineConfig()
    strides, result = spatial_result(session, raw, config=config)
    estimates = calibration.walk_estimates(result, strides, start_s=start_s, end_s=end_s)
    reference: calibration.Reference = "distance" if distance_m is not None else "speed"
    value = distance_m if distance_m is not None else speed_m_s
    assert value is not None
    cals = calibration.fit(
        estimates,
        reference,
        value,
        session=session.meta.session_id,
        leg_length_m=profile.leg_length.value_m,
        pendulum_length_m=profile.pendulum_length_m,
        pipeline_version=PIPELINE_VERSION,
        config=config.spatial,
    )
    updated = profile.with_calibrations(cals)
    atomic_write_text(path, updated.to_json())
    return CalibrationOutcome(updated, cals, estimates, path)


def describe_calibration(outcome: CalibrationOutcome) -> list[str]:
    """One line per method: what the model read, the reference, the factor."""
    lines = []
    for cal in outcome.calibrations:
        est = outcome.estimates[cal.method]
        unit = "m" if cal.reference == "distance" else "m/s"
        lines.append(
            f"{cal.method}: the model read {cal.estimate_value:.2f} {unit} for {cal.reference_value:g} {unit} "
            f"({est.n_steps} steps, {est.duration_s:.1f} s of walking) -> factor {cal.factor:.3f} "
            f"(±{cal.uncertainty_pct:.0f} %)"
        )
    return lines


def describe_subject(profile: SubjectProfile) -> list[str]:
    """The profile as ``key<TAB>value`` lines, with the leg length the analysis will use."""
    leg = profile.leg_length
    leg_text = "not set (give --height or --leg-length)"
    if leg is not None:
        leg_text = f"{leg.value_m:g} m" + (" (estimated: 0.530 x height, Winter 2009)" if leg.estimated else "")

    pendulum = profile.pendulum_length
    sensor_text = "not set"
    if pendulum is not None:
        ratio = {"stature": "0.607 x height", "leg length": "1.179 x leg length"}.get(pendulum.source)
        sensor_text = f"{pendulum.value_m:g} m" + (
            f" (estimated: {ratio}, ANSUR II iliac-crest height)" if ratio else ""
        )

    def metres(value: float | None) -> str:
        return f"{value:g} m" if value is not None else "not set"

    def stale_note(cal: calibration.StepLengthCalibration) -> str:
        if cal in profile.stale_calibrations:
            return f" -- not applied: {profile.why_stale(cal)}; re-run imugait subject calibrate"
        config = PipelineConfig().spatial
        applied = cal.factor_for(config)
        if math.isclose(applied, cal.factor, rel_tol=1e-4):
            return ""
        return (
            f" -- applied as x{applied:.3f}: the model's population factor is now "
            f"{calibration.model_factor(cal.method, config):.3f} (was {cal.model_factor:.3f}); the walker's scale "
            "is kept"
        )

    return [
        f"subject\t{profile.subject}",
        f"height\t{metres(profile.height_m)}",
        f"leg length\t{leg_text}",
        f"pelvis sensor height\t{sensor_text}",
        f"affected side\t{profile.affected_side or 'none'}",
        *(f"step-length calibration\t{c.describe()}{stale_note(c)}" for c in profile.step_length_calibration),
        f"notes\t{profile.notes}",
    ]
