"""How fast, and in how much memory, does the analysis run? Prints figures and ratios; asserts nothing.

Ours: ``process_session`` on simulated sessions (three sensors, and pelvis only) of increasing length, written
with :mod:`sensors.sim.offline` (104 Hz, BLE-like packets, drift, 2 % loss). Reported: wall time, × real time
(recorded seconds per second of processing) and the peak of Python-allocated memory (tracemalloc, which sees
numpy's buffers).

Peer, with ``--mobgap-data DIR`` (mobgap's example_data, see docs/validation/README.md) and ``.venv-bench``: the
same real lower-back trials through mobgap's ``MobilisedPipelineUniversal`` and through our pelvis-only path
(import + process), timed on this machine, with the ratio. gait_reference.md §6 quotes mobgap at 140–240× real
time for one sensor on a 2-core machine and sets ≥ 100× for three sensors as our goal.

    .venv/bin/python bench/pipeline_speed.py [--minutes 1 10 30] [--mobgap-data DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.run import process_session  # noqa: E402
from pipeline.subjects import SubjectProfile, save_profile  # noqa: E402
from sensors.sim.gait_model import GaitModel, get_profile  # noqa: E402
from sensors.sim.offline import write_simulated_session  # noqa: E402

console = Console()


def time_ours(minutes: float, sites: tuple[str, ...], workdir: Path) -> dict[str, float]:
    """Process one simulated session of ``minutes``; wall time and tracemalloc peak of the processing only."""
    duration_s = minutes * 60.0
    model = GaitModel(get_profile("antalgic_right"), duration_s=duration_s, seed=1)
    root = workdir / f"{minutes:g}min-{len(sites)}"
    save_profile(root, SubjectProfile(subject="sim", leg_length_m=model.profile.leg_length_m, affected_side="right"))
    session = write_simulated_session(root, model, duration_s=duration_s, sites=sites, seed=1)
    process_session(session)  # warm-up: imports, first-call costs
    started = time.perf_counter()
    process_session(session)
    elapsed = time.perf_counter() - started
    tracemalloc.start()  # a separate run: tracing slows allocation, so it must not be inside the timing
    process_session(session)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": elapsed, "x_real_time": duration_s / elapsed, "peak_mb": peak / 2**20}


_MOBGAP_SNIPPET = r"""
import json, sys, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore")
from mobgap.data import GenericMobilisedDataset
from mobgap.pipeline import MobilisedPipelineUniversal
lab = Path(sys.argv[1])
ds = GenericMobilisedDataset(
    paths_list=sorted(lab.glob("*/*/data.mat")),
    test_level_names=GenericMobilisedDataset.COMMON_TEST_LEVEL_NAMES["tvs_lab"],
    parent_folders_as_metadata=["cohort", "participant_id"],
    measurement_condition="laboratory", reference_system="INDIP", reference_para_level="wb",
)
MobilisedPipelineUniversal().safe_run(ds[0])  # warm-up: numba JIT compilation
recorded = seconds = 0.0
for dp in ds:
    data = dp.data_ss
    t0 = time.perf_counter()
    MobilisedPipelineUniversal().safe_run(dp)
    seconds += time.perf_counter() - t0
    recorded += len(data) / dp.sampling_rate_hz
print(json.dumps({"recorded_s": recorded, "seconds": seconds, "trials": len(ds)}))
"""


def time_mobgap(data: Path) -> dict[str, float] | None:
    python = ROOT / ".venv-bench" / "bin" / "python"
    if not python.exists():
        console.print("[yellow]no .venv-bench: run 'make validate-real DATA=...' once to create it[/]")
        return None
    done = subprocess.run(
        [str(python), "-c", _MOBGAP_SNIPPET, str(data / "data" / "lab")],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        console.print(f"[red]mobgap run failed:[/] {done.stderr[-1500:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_ours_on_real(data: Path, workdir: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "bench"))
    from validate_real import load_trials, run_ours

    trials = load_trials(data / "data" / "lab")
    for sub in ["warm", *(f"real{i}" for i in range(len(trials)))]:
        (workdir / sub).mkdir(parents=True)
    run_ours(trials[0], workdir / "warm")
    recorded = seconds = 0.0
    for i, trial in enumerate(trials):
        started = time.perf_counter()
        run_ours(trial, workdir / f"real{i}")
        seconds += time.perf_counter() - started
        recorded += trial.acc_g.shape[0] / trial.fs_hz
    return {"recorded_s": recorded, "seconds": seconds, "trials": len(trials)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0, 30.0])
    parser.add_argument("--mobgap-data", type=Path, default=None, help="mobgap's example_data folder")
    args = parser.parse_args()

    table = Table(title="imugait process_session on simulated sessions (this machine)")
    for col in ("recording", "sensors", "seconds", "× real time", "peak memory (MB)", "MB per recorded hour"):
        table.add_column(col, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            for sites in (("pelvis", "left_thigh", "right_thigh"), ("pelvis",)):
                r = time_ours(minutes, sites, Path(tmp))
                table.add_row(
                    f"{minutes:g} min",
                    "3" if len(sites) == 3 else "pelvis",
                    f"{r['seconds']:.2f}",
                    f"{r['x_real_time']:.0f}×",
                    f"{r['peak_mb']:.0f}",
                    f"{r['peak_mb'] / (minutes / 60):.0f}",
                )
        console.print(table)
        console.print("goal (gait_reference.md §6): ≥ 100× real time for three sensors")

        if args.mobgap_data is not None:
            peer = time_mobgap(args.mobgap_data)
            ours = time_ours_on_real(args.mobgap_data, Path(tmp))
            if peer is not None:
                real = Table(title="Same real lower-back trials: mobgap MobilisedPipelineUniversal vs imugait (pelvis)")
                for col in ("system", "trials", "recorded (s)", "processing (s)", "× real time"):
                    real.add_column(col, justify="right")
                for name, r in (("mobgap 1.2.0", peer), ("imugait (import + process)", ours)):
                    real.add_row(
                        name, str(r["trials"]), f"{r['recorded_s']:.0f}", f"{r['seconds']:.2f}",
                        f"{r['recorded_s'] / r['seconds']:.0f}×",
                    )  # fmt: skip
                console.print(real)
                ratio = (ours["recorded_s"] / ours["seconds"]) / (peer["recorded_s"] / peer["seconds"])
                console.print(f"ratio imugait / mobgap (× real time): {ratio:.2f}")


if __name__ == "__main__":
    main()
