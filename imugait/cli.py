"""The ``imugait`` command line: a thin layer that composes ``sensors``, ``pipeline`` and ``dashboard``.

Scripts depend on this interface (documented in the README). Commands that create a session print its folder as
their last line. Exit codes: 0 success, 1 a command-level failure (e.g. a sensor not found, a session that could
not be processed), 2 bad arguments.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from imugait import _commands
from imugait._live import status_table
from pipeline.errors import ImuGaitError
from pipeline.export import FORMATS, export_sessions
from pipeline.run import PIPELINE_VERSION
from pipeline.schemas import SITES
from pipeline.store import default_data_root, iter_sessions, load_session
from pipeline.subjects import load_profile, subject_path

app = typer.Typer(
    name="imugait",
    help="A gait lab from Bluetooth LE IMUs: record, analyse, review and replay walking sessions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Bring data recorded with other tools into a session.", no_args_is_help=True)
app.add_typer(import_app, name="import")
subject_app = typer.Typer(
    help="Subject profiles: height, leg length, affected side, step-length calibration.", no_args_is_help=True
)
app.add_typer(subject_app, name="subject")

console = Console(stderr=True)

DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="Data root (default: $IMUGAIT_DATA or the per-user data directory)."),
]
SubjectOpt = Annotated[str, typer.Option("--subject", help="Subject id (a folder name: letters, digits, . _ -).")]


def _root(data: Path | None) -> Path:
    return data if data is not None else default_data_root()


def _speed(value: str) -> float | None:
    if value == "max":
        return None
    try:
        speed = float(value)
    except ValueError:
        raise typer.BadParameter(f"--speed takes a number or 'max', not {value!r}") from None
    if speed <= 0:
        raise typer.BadParameter("--speed must be positive")
    return speed


def _fail(exc: BaseException) -> typer.Exit:
    console.print(f"[red]error:[/] {exc}")
    return typer.Exit(1)


@app.command()
def scan(
    timeout: Annotated[float, typer.Option(help="Seconds to scan.")] = 5.0,
    simulate: Annotated[str | None, typer.Option(help="Scan a simulated world of this profile instead.")] = None,
) -> None:
    """List the supported sensors in range."""
    try:
        rows = asyncio.run(_commands.scan(timeout, simulate))
    except ImuGaitError as exc:
        raise _fail(exc) from exc
    if not rows:
        console.print("No supported sensors found. Are they on, charged and not connected elsewhere?")
        raise typer.Exit(1)
    for name, address, rssi, family in rows:
        typer.echo(f"{name}\t{address}\t{rssi} dBm\t{family}")


@app.command()
def record(
    sensor: Annotated[
        list[str] | None,
        typer.Option("--sensor", help="SITE=NAME|SERIAL|ADDRESS, once per sensor; sites: " + ", ".join(SITES)),
    ] = None,
    simulate: Annotated[
        str | None, typer.Option(help="Record simulated sensors with this gait profile (healthy, antalgic_right).")
    ] = None,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C).")] = None,
    speed: Annotated[str, typer.Option(help="Simulation pace: a factor of real time, or 'max'.")] = "1",
    data: DataOpt = None,
    subject: SubjectOpt = "subject01",
    rate: Annotated[float, typer.Option(help="Requested sampling rate, Hz.")] = 104.0,
    label: Annotated[str, typer.Option(help="Short session label, e.g. 'week 3'.")] = "",
    notes: Annotated[str, typer.Option(help="Free-text notes.")] = "",
    loss: Annotated[float, typer.Option(help="Simulated packet loss probability.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Simulation random seed.")] = 0,
    process: Annotated[bool, typer.Option("--process/--no-process", help="Analyse the session afterwards.")] = False,
) -> None:
    """Record a session from real sensors (--sensor) or from the simulator (--simulate)."""
    if duration is not None and duration <= 0:
        raise typer.BadParameter("--duration must be positive")
    if (simulate is None) == (not sensor):
        raise typer.BadParameter("give --sensor SITE=ID for each real sensor, or --simulate PROFILE")
    targets = _commands.parse_targets(sensor or [])
    root = _root(data)
    request = _commands.RecordRequest(
        root=root,
        subject=subject,
        targets=targets,
        simulate=simulate,
        duration_s=duration,
        speed=_speed(speed),
        rate_hz=rate,
        label=label,
        notes=notes,
        loss=loss,
        seed=seed,
    )
    session = _run_live(request, title="Recording")
    if process:
        _process_paths([session.path])
    typer.echo(str(session.path))


def _run_live(request: _commands.RecordRequest, *, title: str) -> _commands.Session:
    with Live(status_table([], title=title), console=console, refresh_per_second=4, transient=False) as live:

        def on_status(statuses: list[_commands.SensorStatus]) -> None:
            live.update(status_table(statuses, title=title))

        try:
            result = asyncio.run(_commands.record(request, on_status=on_status))
        except KeyboardInterrupt:
            # The recorder finalised the session while unwinding; report it from disk.
            path = _commands.LAST_SESSION.get("path")
            if path is None:
                raise typer.Exit(130) from None
            session = load_session(path)
            console.print(f"{session.meta.status}: stopped by Ctrl-C")
            return session
        except ImuGaitError as exc:
            raise _fail(exc) from exc
    console.print(f"{result.session.meta.status}: {_commands.describe_stop(result.reason, request.duration_s)}")
    return result.session


@app.command()
def replay(
    session: Annotated[Path, typer.Argument(help="Session folder to play back.")],
    speed: Annotated[str, typer.Option(help="Pace: a factor of the recorded pace, or 'max'.")] = "1",
    data: Annotated[
        Path | None, typer.Option("--data", help="Where to write the replayed session (default: a temporary folder).")
    ] = None,
) -> None:
    """Play a stored session back through the live path (same client code, same status view)."""
    try:
        source = load_session(session)
    except ImuGaitError as exc:
        raise _fail(exc) from exc
    root = data if data is not None else Path(tempfile.mkdtemp(prefix="imugait-replay-"))
    request = _commands.RecordRequest(
        root=root,
        subject=source.meta.subject,
        targets=(),
        replay=source,
        speed=_speed(speed),
        rate_hz=source.meta.sensors[0].rate_hz if source.meta.sensors else 104.0,
        label=f"replay of {source.meta.session_id}",
    )
    result = _run_live(request, title=f"Replaying {source.meta.session_id}")
    typer.echo(str(result.path))


def _process_paths(paths: list[Path], *, only_new: bool = False, outdated: bool = False) -> int:
    sessions = [s for p in paths for s in iter_sessions(p)]
    if not sessions:
        console.print(f"[red]error:[/] no sessions found under {', '.join(map(str, paths))}")
        return 1
    if only_new:
        sessions = [s for s in sessions if not s.is_processed()]
    if outdated:
        sessions = [s for s in sessions if s.processed_with() != PIPELINE_VERSION]
    failures = warned = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("processing", total=len(sessions))
        for s in sessions:
            bar.update(task, description=f"{s.meta.subject}/{s.meta.session_id}")
            try:
                found = _commands.process(s)
            except ImuGaitError as exc:
                failures += 1
                bar.console.print(f"[red]failed:[/] {s.path}: {exc}")
            else:
                warnings = [f for f in found if f.level == "warning"]
                warned += bool(warnings)
                for f in warnings:
                    bar.console.print(f"[yellow]warning:[/] {s.meta.subject}/{s.meta.session_id}: {f.text}")
            bar.advance(task)
    console.print(f"processed {len(sessions) - failures} of {len(sessions)} sessions")
    if warned:
        console.print(f"{warned} session(s) with data-quality warnings: see 'Data quality' on each session's page")
    return 1 if failures else 0


@app.command()
def process(
    path: Annotated[Path, typer.Argument(help="A session folder, a subject folder or a data root.")],
    only_new: Annotated[bool, typer.Option(help="Skip sessions that already have derived tables.")] = False,
    outdated: Annotated[
        bool,
        typer.Option(help="Only sessions never analysed or analysed by another pipeline version (after an upgrade)."),
    ] = False,
) -> None:
    """Analyse sessions: events, strides and session metrics into derived/ tables (re-runs replace them)."""
    if not path.exists():
        raise _fail(FileNotFoundError(f"{path} does not exist"))
    raise typer.Exit(_process_paths([path], only_new=only_new, outdated=outdated))


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="A session folder, a subject folder or a data root.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the CSV files to (created; never inside a session).")
    ] = Path("imugait-export"),
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="csv: a file per table; xlsx: an Excel workbook per session and summary.xlsx (opens the same in "
            "every locale, where a CSV may show as one column).",
        ),
    ] = "csv",
) -> None:
    """Write analysed sessions as CSV (each session's tables, summary.csv over them, columns.csv with the units) or
    as Excel workbooks (--format xlsx)."""
    if not path.exists():
        raise _fail(FileNotFoundError(f"{path} does not exist"))
    if fmt not in FORMATS:
        raise _fail(ValueError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}"))
    sessions = list(iter_sessions(path))
    if not sessions:
        raise _fail(FileNotFoundError(f"no sessions found under {path}"))
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), console=console
    ) as bar:
        task = bar.add_task("exporting", total=len(sessions))
        try:
            result = export_sessions(sessions, out, fmt=fmt, on_session=lambda _s: bar.advance(task))
        except ImuGaitError as exc:
            raise _fail(exc) from None
    for s, message in result.failed:
        console.print(f"[red]failed:[/] {s.path}: {message}")
    if result.not_analysed:
        names = ", ".join(f"{s.meta.subject}/{s.meta.session_id}" for s in result.not_analysed)
        console.print(f"[yellow]not analysed, left out:[/] {names} (run 'imugait process' on them first)")
    console.print(f"exported {len(result.exported)} of {len(sessions)} sessions ({len(result.files)} files)")
    if not result.exported:
        raise typer.Exit(1)
    typer.echo(str(result.out))
    raise typer.Exit(1 if result.failed else 0)


@import_app.command("table")
def import_table(
    file: Annotated[Path | None, typer.Argument(help="One CSV/TSV/TXT/XLSX/Parquet file (with --site).")] = None,
    site: Annotated[str | None, typer.Option(help="Site of FILE: " + ", ".join(SITES))] = None,
    sensor: Annotated[
        list[str] | None, typer.Option("--sensor", help="SITE=FILE, repeated, for sensors recorded on one clock.")
    ] = None,
    fs: Annotated[float, typer.Option("--fs", help="Sampling rate, Hz.")] = 0.0,
    acc: Annotated[str, typer.Option(help="Accelerometer columns x,y,z (comma-separated).")] = "",
    gyr: Annotated[str, typer.Option(help="Gyroscope columns x,y,z (comma-separated).")] = "",
    acc_unit: Annotated[str, typer.Option("--acc-unit", help="g or m/s2.")] = "",
    gyr_unit: Annotated[str, typer.Option("--gyr-unit", help="deg/s or rad/s.")] = "",
    time: Annotated[str | None, typer.Option("--time", help="Time column (s, ms, µs or ns; inferred).")] = None,
    data: DataOpt = None,
    subject: SubjectOpt = "subject01",
    label: Annotated[str, typer.Option(help="Session label.")] = "",
) -> None:
    """Import IMU tables recorded elsewhere; the last line printed is the new session's folder."""
    try:
        files = _commands.parse_import_files(file, site, sensor or [])
        spec = _commands.import_spec(fs, acc, gyr, acc_unit, gyr_unit, time)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    try:
        session = _commands.import_tables(files, spec, _root(data), subject, label=label)
    except ImuGaitError as exc:
        raise _fail(exc) from exc
    for warning in session.meta.extra.get("import_warnings", []):
        console.print(f"[yellow]warning:[/] {warning}")
    typer.echo(str(session.path))


@app.command()
def dashboard(
    data: DataOpt = None,
    port: Annotated[int, typer.Option(help="Port to serve on (localhost).")] = 8501,
) -> None:
    """Open the review dashboard on a data root."""
    raise typer.Exit(_serve_dashboard(_root(data), port))


def streamlit_command(root: Path, port: int, *, address: str = "localhost", headless: bool = False) -> list[str]:
    """The ``streamlit run`` command line of the dashboard on ``root``.

    The toolbar is Streamlit's viewer mode: print and the theme stay, the developer's items (deploy, rerun, clear
    cache) go, since a clinician reviewing sessions has no use for them. Without ``headless`` Streamlit decides
    whether to open a browser (not on a machine without a display).
    """
    app_path = Path(__file__).resolve().parent.parent / "dashboard" / "streamlit_app.py"
    return [
        sys.executable, "-m", "streamlit", "run", str(app_path), "--server.port", str(port),
        "--server.address", address, *(["--server.headless", "true"] if headless else []),
        "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer", "--", "--data", str(root),
    ]  # fmt: skip


def _serve_dashboard(root: Path, port: int) -> int:
    """Run Streamlit as a child process and take it down with us, whatever stops us (Ctrl-C, SIGTERM)."""
    console.print(f"dashboard on http://localhost:{port} for {root} (Ctrl-C to stop)")
    env = {**os.environ, "IMUGAIT_DATA": str(root)}
    child = subprocess.Popen(streamlit_command(root, port), env=env)

    def stop(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return child.wait()
    except (KeyboardInterrupt, SystemExit):
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


@app.command()
def demo(
    data: Annotated[
        Path | None, typer.Option("--data", help="Where to put the demo sessions (default: <data root>/demo).")
    ] = None,
    no_dashboard: Annotated[
        bool, typer.Option("--no-dashboard", help="Stop after analysis (non-interactive).")
    ] = False,
    port: Annotated[int, typer.Option(help="Dashboard port.")] = 8501,
    duration: Annotated[float, typer.Option(help="Seconds of walking per simulated session.")] = 60.0,
) -> None:
    """Record simulated rehabilitation sessions, analyse them, and open the dashboard on them."""
    root = data if data is not None else default_data_root() / "demo"
    try:
        sessions = _commands.demo_sessions(root, duration_s=duration, log=console.print)
    except ImuGaitError as exc:
        raise _fail(exc) from exc
    code = _process_paths([s.path for s in sessions])
    if code:
        raise typer.Exit(code)
    console.print(f"{len(sessions)} demo sessions in {root}")
    if not no_dashboard:
        raise typer.Exit(_serve_dashboard(root, port))
    typer.echo(str(root))


SubjectArg = Annotated[str, typer.Argument(help="Subject id (the folder under the data root).")]


@subject_app.command("set")
def subject_set(
    subject: SubjectArg,
    data: DataOpt = None,
    height: Annotated[float | None, typer.Option("--height", help="Standing height in metres, e.g. 1.75.")] = None,
    leg_length: Annotated[
        float | None,
        typer.Option("--leg-length", help="Greater trochanter to floor, metres (default: 0.53 x height)."),
    ] = None,
    pelvis_sensor_height: Annotated[
        float | None,
        typer.Option(
            "--pelvis-sensor-height",
            help="Lower-back (L5) sensor above the floor, metres: the step-length model's pendulum "
            "(default: 0.607 x height, the iliac-crest level, ANSUR II).",
        ),
    ] = None,
    affected_side: Annotated[
        str | None, typer.Option("--affected-side", help="The painful/involved side: left, right or none.")
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Free-text notes.")] = None,
) -> None:
    """Create or update a subject's profile (only the options given change); prints the profile file."""
    try:
        before = load_profile(_root(data), subject)
        profile = _commands.set_subject(
            _root(data),
            subject,
            height_m=height,
            leg_length_m=leg_length,
            pelvis_sensor_height_m=pelvis_sensor_height,
            affected_side=affected_side,
            notes=notes,
        )
    except ImuGaitError as exc:
        raise _fail(exc) from exc
    for line in _commands.describe_subject(profile):
        console.print(line)
    dropped = [
        c for c in (before.step_length_calibration if before else ()) if c not in profile.step_length_calibration
    ]
    for cal in dropped:
        console.print(
            f"[yellow]dropped[/] the {cal.method} step-length calibration: it was measured with another body length; "
            f"re-run 'imugait subject calibrate' on a walk"
        )
    typer.echo(str(subject_path(_root(data), profile.subject)))


@subject_app.command("show")
def subject_show(subject: SubjectArg, data: DataOpt = None) -> None:
    """Print a subject's profile (exit 1 when none was set)."""
    try:
        profile = load_profile(_root(data), subject)
    except ImuGaitError as exc:
        raise _fail(exc) from exc
    if profile is None:
        console.print(
            f"[red]error:[/] no profile for {subject!r}; set one with 'imugait subject set {subject} --height M'"
        )
        raise typer.Exit(1)
    for line in _commands.describe_subject(profile):
        typer.echo(line)


@subject_app.command("calibrate")
def subject_calibrate(
    session: Annotated[Path, typer.Argument(help="The session folder holding the calibration walk.")],
    distance: Annotated[
        float | None, typer.Option("--distance", help="Distance walked, metres (e.g. 20 for 10 m out and back).")
    ] = None,
    speed: Annotated[float | None, typer.Option("--speed", help="Treadmill belt speed, m/s.")] = None,
    start: Annotated[float | None, typer.Option("--start", help="The walk starts at this session time, s.")] = None,
    end: Annotated[float | None, typer.Option("--end", help="The walk ends at this session time, s.")] = None,
    reprocess: Annotated[
        bool, typer.Option(help="Re-analyse all of the subject's sessions with the new factor.")
    ] = True,
) -> None:
    """Fit the subject's step length to a walk of known distance (or a treadmill speed) and keep it in the profile.

    Walk the subject over a measured distance at their usual pace (a 10-metre walk test, 10 m out and back, a
    6-minute walk test), record it, then give that session and the distance. Later step lengths and walking speeds
    are scaled by the factor; the subject's sessions are re-analysed so their trends stay comparable.
    """
    try:
        outcome = _commands.calibrate_subject(session, distance_m=distance, speed_m_s=speed, start_s=start, end_s=end)
    except ImuGaitError as exc:
        raise _fail(exc) from exc
    for line in _commands.describe_calibration(outcome):
        console.print(line)
    code = _process_paths([outcome.profile_path.parent]) if reprocess else 0
    if not reprocess:
        console.print(f"not re-analysed; run 'imugait process {outcome.profile_path.parent}' to apply the factor")
    typer.echo(str(outcome.profile_path))
    raise typer.Exit(code)


def main() -> None:
    """Console entry point."""
    logging.basicConfig(
        level=os.environ.get("IMUGAIT_LOG", "WARNING").upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    app()
