"""Where the walking-speed error on real recordings comes from: stride by stride, the step-length model at the
reference's own contacts, bouts by how much of them we measured, and the bout bias split into its parts.

Data and path as ``validate_real.py`` (mobgap's Mobilise-D example data; each trial's lower-back IMU imported as a
pelvis-only session with the participant's profile; INDIP as reference). Four tables:

1. **Strides.** Each INDIP stride (``Stride_InitialContacts``, with a ``Stride_Length``) is paired with our stride
   whose opening and closing ICs both lie within ``MATCH_S`` of its own. Per group: the INDIP strides, the share we
   found, the mean INDIP length of those found and of those missed, and our stride length and speed error over the
   pairs. Groups: all; straight and turning by INDIP's own turn flags (a stride overlapping one of its bout's
   ``Turn_Start``–``Turn_End``); our steady strides (``valid``: straight, away from bout edges, the strides behind
   the session's ``walking_speed_m_s``).
2. **The model at the reference contacts.** Zijlstra step lengths (``pipeline.spatial``) from our vertical
   displacement between consecutive INDIP ICs (any side; steps of 0.25–1.5 s, as the pipeline's), a stride being
   its two steps: per stride, straight and turning, the pendulum alone and with the pipeline's turn projection
   (each step × the cosine of the pelvis heading change over it); per bout, the pipeline's mean stride length
   against INDIP's ``AverageStrideLength``. With mobgap installed (``.venv-bench``), mobgap's own ``SlZijlstra`` on
   the same bouts and ICs (the bout cut to its first and last IC, as mobgap's pipeline runs it; its per-second stride
   lengths averaged). What remains here is the model's error, not the events'.
3. **Bouts by measured share.** Per INDIP bout, :func:`pipeline.spatial.measured_share` of our strides (the share
   of the bout's time inside our strides with a length, which the pipeline stores with each of its own bouts) and
   the bout speed error as ``validate_real.py`` scores it (mean of our stride speeds against ``WalkingSpeed``),
   split at the pipeline's ``MIN_MEASURED_SHARE`` and, to show the split is not tuned, at 0.3 and 0.7.
4. **Where the bout bias comes from.** Each bout's speed bias as the sum of three parts (:func:`bias_split_rows`):
   which strides we found (INDIP's own speeds over them against its bout value), how we measured those strides,
   and our strides that pair with none of INDIP's.

Usage::

    .venv/bin/python bench/validate_speed.py --data /tmp/mobgap_example/example_data
    .venv-bench/bin/python bench/validate_speed.py --data /tmp/mobgap_example/example_data  # + mobgap's model
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from validate_real import (
    EDGE_MARGIN_SAMPLES,
    Trial,
    _f,
    _flat,
    bout_stride_means,
    data_dir_argument,
    find_lab_dir,
    import_trial,
    indip_bouts,
    load_trials,
    show_tables,
)

from pipeline.orientation import PelvisAngles
from pipeline.run import load_aligned, spatial_result
from pipeline.spatial import (
    MIN_MEASURED_SHARE,
    SpatialConfig,
    measured_share,
    pendulum_step_length,
    step_heading_change_deg,
    turn_projection,
    vertical_displacement,
)
from pipeline.subjects import SUBJECT_FILE, read_profile

MATCH_S = 0.25  # both ICs of a stride within this of the reference's to count as the same stride
SHARE_SPLITS = (0.3, MIN_MEASURED_SHARE, 0.7)


@dataclass(frozen=True)
class RefStrides:
    """INDIP strides of one trial (seconds), with the bout each lies in."""

    start_s: np.ndarray
    end_s: np.ndarray
    length_m: np.ndarray
    speed_m_s: np.ndarray
    turning: np.ndarray  # overlaps one of its bout's INDIP turns
    bout: np.ndarray


@dataclass(frozen=True)
class TrialSpeed:
    """Everything the three tables need from one trial."""

    ref: RefStrides
    ours_length_m: np.ndarray  # per reference stride: our paired stride's length, NaN where unpaired
    ours_speed_m_s: np.ndarray
    ours_steady: np.ndarray  # the paired stride is one of our steady (valid) strides
    model_length_m: np.ndarray  # per reference stride: Zijlstra at the INDIP ICs, NaN where a step has none
    projected_length_m: np.ndarray  # the same with the pipeline's turn projection
    bout_model_length_m: np.ndarray  # per bout: 2 × mean step at the INDIP ICs, turn projection included
    bout_mobgap_length_m: np.ndarray  # per bout: mobgap SlZijlstra at the INDIP ICs (NaN without mobgap)
    bout_share: np.ndarray  # per bout: measured share of our strides
    bout_speed_err_m_s: np.ndarray  # per bout: mean of our stride speeds − WalkingSpeed


def reference_strides(wbs: Sequence[Any], fs_hz: float) -> RefStrides:
    """The INDIP strides with a length, their speed, turn flag and bout."""
    cols: dict[str, list[Any]] = {k: [] for k in ("start", "end", "length", "speed", "turning", "bout")}
    for k, wb in enumerate(wbs):
        ics = np.atleast_2d(np.asarray(wb.Stride_InitialContacts, dtype=np.float64)) / fs_hz
        if ics.shape[1] != 2:
            continue
        length = _flat(wb.Stride_Length).astype(np.float64)
        speed = _flat(wb.Stride_Speed).astype(np.float64)
        t0, t1 = _flat(wb.Turn_Start).astype(np.float64), _flat(wb.Turn_End).astype(np.float64)
        ok_turn = np.isfinite(t0) & np.isfinite(t1)
        t0, t1 = t0[ok_turn], t1[ok_turn]
        turning = ((t0[None, :] < ics[:, 1:2]) & (t1[None, :] > ics[:, 0:1])).any(axis=1)
        keep = np.isfinite(length)
        for name, values in (
            ("start", ics[:, 0]),
            ("end", ics[:, 1]),
            ("length", length),
            ("speed", speed),
            ("turning", turning),
            ("bout", np.full(length.size, k)),
        ):
            cols[name].append(values[keep])
    out = {k: np.concatenate(v) if v else np.zeros(0) for k, v in cols.items()}
    return RefStrides(
        out["start"],
        out["end"],
        out["length"],
        out["speed"],
        out["turning"].astype(bool),
        out["bout"].astype(np.int64),
    )


def pair_strides(
    ref_start: np.ndarray, ref_end: np.ndarray, start: np.ndarray, end: np.ndarray, tolerance_s: float = MATCH_S
) -> np.ndarray:
    """Per reference stride, the index of our stride whose two ICs both lie within ``tolerance_s`` of its own
    (the closest by summed distance), −1 where none does."""
    if start.size == 0:
        return np.full(ref_start.size, -1, dtype=np.int64)
    d0 = np.abs(start[None, :] - ref_start[:, None])
    d1 = np.abs(end[None, :] - ref_end[:, None])
    cost = np.where((d0 <= tolerance_s) & (d1 <= tolerance_s), d0 + d1, np.inf)
    best = np.argmin(cost, axis=1)
    return np.where(np.isfinite(cost[np.arange(ref_start.size), best]), best, -1).astype(np.int64)


def model_at_contacts(
    displacement_m: np.ndarray,
    ic_t_s: np.ndarray,
    fs_hz: float,
    pendulum_m: float,
    config: SpatialConfig,
    *,
    pelvis: PelvisAngles | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Zijlstra step lengths between consecutive ``ic_t_s`` (sorted; steps outside the pipeline's step-time bounds
    get none): returns the step end times and lengths. With ``pelvis``, each length also gets the pipeline's turn
    projection (``pipeline.spatial.turn_projection``), so the step-length model is the pipeline's whole model."""
    ic = np.sort(ic_t_s[np.isfinite(ic_t_s)])
    if ic.size < 2:
        return np.zeros(0), np.zeros(0)
    i = np.clip(np.rint(ic * fs_hz).astype(np.int64), 0, displacement_m.size - 1)
    h = np.array([np.ptp(displacement_m[a : b + 1]) for a, b in zip(i[:-1], i[1:], strict=True)])
    d = np.diff(ic)
    h = np.where((d >= config.min_step_s) & (d <= config.max_step_s), h, np.nan)
    length = pendulum_step_length(h, pendulum_m, config.zijlstra_k)
    if pelvis is not None:
        turn = step_heading_change_deg(pelvis, fs_hz, i[:-1], i[1:], config)
        length = length * turn_projection(turn, config.max_step_turn_deg)
    return ic[1:], length


def mobgap_bout_stride_length(
    trial: Trial, ic_t_s: np.ndarray, sensor_height_m: float
) -> float:  # pragma: no cover - needs mobgap
    """mobgap's SlZijlstra on the bout cut to its first and last IC: the mean of its per-second stride lengths."""
    try:
        import pandas as pd
        from mobgap.stride_length import SlZijlstra
    except ImportError:
        return math.nan
    i = np.unique(np.rint(np.sort(ic_t_s[np.isfinite(ic_t_s)]) * trial.fs_hz).astype(np.int64))
    if i.size < 3:
        return math.nan
    columns = ["acc_is", "acc_ml", "acc_pa", "gyr_is", "gyr_ml", "gyr_pa"]
    frame = pd.DataFrame(np.column_stack([trial.acc_g * 9.81, trial.gyr_dps])[i[0] : i[-1] + 1], columns=columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sl = SlZijlstra().calculate(
            frame, pd.DataFrame({"ic": i - i[0]}), sampling_rate_hz=trial.fs_hz, sensor_height_m=sensor_height_m
        )
    values = sl.stride_length_per_sec_["stride_length_m"].to_numpy(dtype=np.float64)
    return float(np.nanmean(values)) if np.isfinite(values).any() else math.nan


def run_trial(lab: Path, trial: Trial, workdir: Path) -> TrialSpeed:
    """Our pipeline on the trial, paired with INDIP's strides, and the model at INDIP's contacts."""
    wbs = indip_bouts(lab, trial)
    ref = reference_strides(wbs, trial.fs_hz)
    session = import_trial(trial, workdir)
    profile = read_profile(session.path.parent / SUBJECT_FILE)
    if profile is None or profile.pendulum_length_m is None:
        raise SystemExit(f"{trial.label}: no subject profile with a pendulum length")
    config = SpatialConfig()
    strides, result = spatial_result(session, profile)
    aligned = load_aligned(session)
    pelvis = aligned.pelvis
    if pelvis is None:
        raise SystemExit(f"{trial.label}: no pelvis stream")
    displacement = vertical_displacement(pelvis.vertical_acc_ms2, pelvis.valid, aligned.fs_hz, config=config)

    j = pair_strides(ref.start_s, ref.end_s, strides.start_s, strides.end_s)
    paired = j >= 0
    jj = np.maximum(j, 0)
    ours_length = np.where(paired, result.strides.stride_length_m[jj], np.nan)
    ours_speed = np.where(paired, result.strides.speed_m_s[jj], np.nan)
    ours_steady = paired & strides.valid[jj]

    n_bouts = len(wbs)
    model_length, projected = np.full(ref.start_s.size, np.nan), np.full(ref.start_s.size, np.nan)
    bout_model, bout_mobgap = np.full(n_bouts, np.nan), np.full(n_bouts, np.nan)
    for k, wb in enumerate(wbs):
        ic = _flat(wb.InitialContact_Event).astype(np.float64)
        step_end, step_length = model_at_contacts(displacement, ic, aligned.fs_hz, profile.pendulum_length_m, config)
        _, step_projected = model_at_contacts(
            displacement, ic, aligned.fs_hz, profile.pendulum_length_m, config, pelvis=pelvis
        )
        if np.isfinite(step_projected).any():
            bout_model[k] = 2.0 * float(np.nanmean(step_projected))
        bout_mobgap[k] = mobgap_bout_stride_length(trial, ic, profile.pendulum_length_m)
        mine = np.flatnonzero(ref.bout == k)
        for r in mine:  # a reference stride = the two steps ending inside it (after its start, at its end)
            inside = (step_end > ref.start_s[r] + 1e-6) & (step_end <= ref.end_s[r] + 1e-6)
            if inside.sum() == 2:
                model_length[r] = float(step_length[inside].sum())
                projected[r] = float(step_projected[inside].sum())
    share = measured_share(trial.wb_start_s, trial.wb_end_s, strides, result.strides.stride_length_m)
    speed_b, _, _ = bout_stride_means(
        trial.wb_start_s,
        trial.wb_end_s,
        strides.start_s,
        strides.end_s,
        strides.stride_time_s,
        result.strides.stride_length_m,
        result.strides.speed_m_s,
        EDGE_MARGIN_SAMPLES / trial.fs_hz,
    )
    return TrialSpeed(
        ref,
        ours_length,
        ours_speed,
        ours_steady,
        model_length,
        projected,
        bout_model,
        bout_mobgap,
        share,
        speed_b - trial.wb_speed_m_s,
    )


def _mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


STRIDE_HEADER = (
    "INDIP strides",
    "n",
    "found %",
    "ref length found m",
    "ref length missed m",
    "length bias m",
    "length MAE m",
    "speed bias m/s",
    "speed MAE m/s",
)


def stride_rows(results: Sequence[TrialSpeed]) -> list[list[str]]:
    """Table 1: our paired strides against INDIP's, by group."""
    return paired_stride_rows(
        np.concatenate([r.ref.length_m for r in results]),
        np.concatenate([r.ref.speed_m_s for r in results]),
        np.concatenate([r.ref.turning for r in results]),
        np.concatenate([r.ours_length_m for r in results]),
        np.concatenate([r.ours_speed_m_s for r in results]),
        np.concatenate([r.ours_steady for r in results]),
        ("straight (INDIP)", "turning (INDIP)"),
    )


def paired_stride_rows(
    ref_len: np.ndarray,
    ref_speed: np.ndarray,
    turning: np.ndarray,
    length: np.ndarray,
    speed: np.ndarray,
    steady: np.ndarray,
    labels: tuple[str, str],
) -> list[list[str]]:
    """Per group (all, straight, turning, paired with our steady strides; ``labels`` names the middle two): the
    reference strides, the share we found (a paired stride with a length), the reference length of those found and
    missed, and our length and speed error over the pairs. Arrays are per reference stride, NaN where unpaired."""
    turning, steady = turning.astype(bool), steady.astype(bool)
    found = np.isfinite(length)
    rows = []
    for label, group, by_pairing in (
        ("all", np.ones(ref_len.size, dtype=bool), False),
        (labels[0], ~turning, False),
        (labels[1], turning, False),
        ("paired with our steady strides", steady, True),  # chosen by pairing: found % and missed do not apply
    ):
        f = group & found
        e_len, e_speed = length[f] - ref_len[f], speed[f] - ref_speed[f]
        rows.append(
            [
                label,
                str(int(group.sum())),
                "" if by_pairing else _f(100 * float(found[group].mean()) if group.any() else math.nan, "{:.0f}"),
                _f(_mean(ref_len[f]), "{:.2f}"),
                "" if by_pairing else _f(_mean(ref_len[group & ~found]), "{:.2f}"),
                _f(_mean(e_len), "{:+.3f}"),
                _f(_mean(np.abs(e_len)), "{:.3f}"),
                _f(_mean(e_speed), "{:+.3f}"),
                _f(_mean(np.abs(e_speed)), "{:.3f}"),
            ]
        )
    return rows


MODEL_HEADER = ("Zijlstra at INDIP's ICs", "n", "ref length m", "model length m", "bias m", "MAE m")


def model_rows(results: Sequence[TrialSpeed], trials: Sequence[Trial]) -> list[list[str]]:
    """Table 2: the step-length model fed INDIP's own contacts, per stride and per bout."""
    ref_len = np.concatenate([r.ref.length_m for r in results])
    turning = np.concatenate([r.ref.turning for r in results])
    model = np.concatenate([r.model_length_m for r in results])
    projected = np.concatenate([r.projected_length_m for r in results])

    def row(label: str, ref: np.ndarray, est: np.ndarray) -> list[str]:
        ok = np.isfinite(ref) & np.isfinite(est)
        e = est[ok] - ref[ok]
        return [
            label,
            str(int(ok.sum())),
            _f(_mean(ref[ok]), "{:.2f}"),
            _f(_mean(est[ok]), "{:.2f}"),
            _f(_mean(e), "{:+.3f}"),
            _f(_mean(np.abs(e)), "{:.3f}"),
        ]

    rows = [
        row(f"{label}, per stride: {part}", ref_len[sel], est[sel])
        for label, est in (("pendulum alone", model), ("imugait (pendulum × turn projection)", projected))
        for part, sel in (
            ("all", np.ones(turning.size, dtype=bool)),
            ("straight (INDIP)", ~turning),
            ("turning (INDIP)", turning),
        )
    ]
    ref_bout = np.concatenate([t.wb_stride_length_m for t in trials])
    rows.append(
        row(
            "imugait, per bout (mean stride length)", ref_bout, np.concatenate([r.bout_model_length_m for r in results])
        )
    )
    mobgap = np.concatenate([r.bout_mobgap_length_m for r in results])
    if np.isfinite(mobgap).any():
        rows.append(row("mobgap SlZijlstra, per bout (per-second mean)", ref_bout, mobgap))
    return rows


SHARE_HEADER = ("our measured share of the INDIP bout", "bouts", "speed MAE m/s", "speed bias m/s")


def share_rows(results: Sequence[TrialSpeed]) -> list[list[str]]:
    """Table 3: bout speed error (INDIP's definition) by our measured share of the bout."""
    share = np.concatenate([r.bout_share for r in results])
    err = np.concatenate([r.bout_speed_err_m_s for r in results])
    ok = np.isfinite(err) & np.isfinite(share)

    def row(label: str, sel: np.ndarray) -> list[str]:
        e = err[sel & ok]
        return [label, str(e.size), _f(_mean(np.abs(e)), "{:.3f}"), _f(_mean(e), "{:+.3f}")]

    rows = [row("all", np.ones(err.size, dtype=bool))]
    for split in SHARE_SPLITS:
        mark = " (the pipeline's flag)" if split == MIN_MEASURED_SHARE else ""
        rows.append(row(f"≥ {split:.1f}{mark}", share >= split))
        rows.append(row(f"< {split:.1f}", share < split))
    return rows


SPLIT_HEADER = (
    "INDIP bouts we gave a speed",
    "bouts",
    "bout speed bias m/s",
    "= which strides m/s",
    "+ their measurement m/s",
    "+ our unpaired strides m/s",
)


def bias_split_rows(results: Sequence[TrialSpeed], walking_speed_m_s: Sequence[np.ndarray]) -> list[list[str]]:
    """Table 4: the bout speed bias split into three parts that add up to it, per bout then averaged.

    Per INDIP bout with a speed from us: *which strides*, INDIP's mean speed over the strides we paired (with a
    speed) minus its ``WalkingSpeed`` over all of them — what the bout would read wrong if we measured our strides
    perfectly; *their measurement*, our mean speed over those paired strides minus INDIP's over the same strides;
    *our strides INDIP has not*, the rest (our bout mean also counts strides that pair with none of INDIP's). A bout
    with none of its strides paired counts as all rest. ``walking_speed_m_s``: per trial, INDIP's per-bout values.
    Rows: all bouts and by the pipeline's measured-share flag.
    """
    parts: list[tuple[float, float, float, float, float]] = []  # err, selection, measurement, rest, share
    for r, ws in zip(results, walking_speed_m_s, strict=True):
        for b, err in enumerate(r.bout_speed_err_m_s):
            if not np.isfinite(err):
                continue
            sel = (r.ref.bout == b) & np.isfinite(r.ours_speed_m_s) & np.isfinite(r.ref.speed_m_s)
            selection = measurement = 0.0
            if sel.any():
                ref_sel = float(r.ref.speed_m_s[sel].mean())
                selection, measurement = ref_sel - float(ws[b]), float(r.ours_speed_m_s[sel].mean()) - ref_sel
            parts.append((float(err), selection, measurement, float(err) - selection - measurement, r.bout_share[b]))
    table = np.array(parts, dtype=np.float64).reshape(-1, 5)

    def row(label: str, keep: np.ndarray) -> list[str]:
        sub = table[keep]
        return [label, str(len(sub))] + [_f(_mean(sub[:, i]), "{:+.3f}") for i in range(4)]

    share = table[:, 4]
    return [
        row("all", np.ones(len(table), dtype=bool)),
        row(f"measured share ≥ {MIN_MEASURED_SHARE:.1f}", share >= MIN_MEASURED_SHARE),
        row(f"measured share < {MIN_MEASURED_SHARE:.1f} (flagged)", share < MIN_MEASURED_SHARE),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data_dir_argument(parser)
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown to this file")
    args = parser.parse_args(argv)
    console = Console(width=160)
    lab = find_lab_dir(args.data)
    if lab is None:
        console.print(f"SKIPPED: no mobgap example data found (--data {args.data}); see validate_real.py")
        return 0
    trials = [t for t in load_trials(lab) if t.wb_start_s.size]
    with tempfile.TemporaryDirectory(prefix="imugait-speed-") as tmp:
        results = [run_trial(lab, t, Path(tmp)) for t in trials]
    tables = (
        ("Our strides paired with INDIP's (both ICs within ±0.25 s)", STRIDE_HEADER, stride_rows(results)),
        ("The step-length model fed INDIP's own contacts", MODEL_HEADER, model_rows(results, trials)),
        ("Bout speed (mean of stride speeds) by our measured share", SHARE_HEADER, share_rows(results)),
        (
            "Where the bout speed bias comes from (mean over bouts)",
            SPLIT_HEADER,
            bias_split_rows(results, [t.wb_speed_m_s for t in trials]),
        ),
    )
    show_tables(console, tables, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
