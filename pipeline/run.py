"""The processing entry point: raw streams → timeline → alignment → angles → events → strides → summary.

:func:`process_session` writes ``derived/events.arrow``, ``derived/strides.arrow`` and ``derived/summary.arrow``.
:func:`load_aligned` runs the same stages without writing and returns everything the dashboard needs to plot
signals with events: the grid time, per-site angles and validity, and the events (:class:`AlignedSession`).

Event sources: each side's events come from its thigh sensor when present, else from the pelvis (McCamley IC +
rotation laterality), so a pelvis-only session still has events on both sides. Mixing sources on one session
mixes their biases (the pelvis IC lags the thigh IC by several tens of ms), which the ``quality`` flags record.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from pipeline import (
    _crosscheck,
    align,
    calibration,
    compensation,
    cycles,
    events,
    metrics,
    orientation,
    spatial,
    subjects,
    timeline,
    trunk,
    turns,
    uncertainty,
)
from pipeline.bouts import BoutConfig, Bouts, Standing, detect_bouts, detect_standing
from pipeline.errors import DataContractError, InsufficientDataError
from pipeline.schemas import BOUTS, COMPENSATION, CYCLES, EVENTS, STRIDES, SUMMARY, TURNS
from pipeline.store import Session, app_version, read_raw, write_table

# 1.19: a device clock that restarts mid-recording (a sensor that rebooted) is timed per segment under one drift,
#       counted in the quality record (a note); the samples after a reboot used to be mistimed and the sensor lost.
#       The clock fit uses only notifications within 50 ms of the local lower envelope: a long BLE stall no longer
#       tilts the drift (sub-millisecond changes on clean streams)
# 1.18: a sensor with under min_duration_s of usable samples, or no movement to align it by, is left out (named in
#       the quality record, a warning) when another sensor can carry the session; it used to stop the session.
#       Samples with a corrupt stamp (over 1 s off the running median of their neighbours) are dropped before the
#       clock fit and counted; a session over 24 h long is refused
# 1.17: a thigh FC's window (peak extension to peak flexion) may hold several lost notifications, each within
#       max_gap_s and 0.3 s in all (was 0.1 s in all): more FCs, and stance times, kept under packet loss
# 1.16: thigh FC where the thigh has made 0.2 of its extension → flexion excursion (was 0.11, normative curves):
#       real thighs were 30-37 ms early in two labs; stance, swing and support times move by as much
# 1.15: a thigh's gyroscope IC is calibrated against the impact onsets from 3 strides with both (was 5): short walks
# 1.14: a thigh IC without a transient in terminal swing is searched for up to 0.3 of a stride after maximal
#       flexion before the gyroscope fallback (a walk's first and last contacts; real walks: IC MAE 41 → 37 ms)
# 1.13: thigh compass step lengths × 1.15, a population factor fitted against 25 real walkers' feet (they read
#       11 % short); a walker's thigh calibration keeps its scale (subject format 3 records the model's factor)
# 1.12: the pelvis's obliquity, tilt and rotation from the strapdown filter too; that filter removes the gyro's
#       bias and weighs the accelerometer down in turns: angles no longer lean for seconds after a U-turn
# 1.11: the thighs' world 'up' from an exact strapdown orientation (was linearised about the mean attitude): their
#       frontal angles hold through turns; their heading is that of the flexion axis (a thigh's flexion and
#       abduction no longer rectify into a one-thigh turn); a one-thigh turn counts both sides' steps
# 1.10: a turn extends while its rate stays over 5°/s (hysteresis): slow walkers' turns are no longer cut short;
#       without a pelvis, turns (list and stride mask) come from the thighs' heading
# 1.9: turns of ≥ 45° listed (derived/turns.arrow) with angle, duration, rate and steps; turn summary metrics
# 1.8: pelvis step lengths × cos(heading change over the step) in turns (spatial "Turns")
# 1.7: a pelvis step keeps its length across a sensor gap of up to 0.12 s (one lost notification), counted
#      in the quality record
# 1.6: bouts carry their measured share (time inside strides with a length); a warning under half
# 1.5: bouts carry the means over their strides (speed, cadence, stride length: the Mobilise-D definitions)
# 1.4: pelvic drop/hike flags need the difference's interval beyond the margin; sensor spans in the quality record
# 1.3: symmetry intervals include the pelvis-only contact offset; compensation flags need the interval beyond
#      the threshold; pelvic range and tilt thresholds from healthy walkers
# 1.2: pendulum length estimated as the lower back's height; opening_valid stored; trunk intervals
# 1.1: per-walker step-length calibration; stride validity per metric; intervals
PIPELINE_VERSION = "1.19"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineConfig:
    """Every parameter of the pipeline, by stage."""

    timeline: timeline.TimelineConfig = timeline.TimelineConfig()
    align: align.AlignConfig = align.AlignConfig()
    orientation: orientation.OrientationConfig = orientation.OrientationConfig()
    events: events.EventConfig = events.EventConfig()
    metrics: metrics.MetricsConfig = metrics.MetricsConfig()
    crosscheck: _crosscheck.CrossCheckConfig = _crosscheck.CrossCheckConfig()
    bouts: BoutConfig = BoutConfig()
    trunk: trunk.TrunkConfig = trunk.TrunkConfig()
    spatial: spatial.SpatialConfig = spatial.SpatialConfig()
    compensation: compensation.CompensationThresholds = compensation.CompensationThresholds()
    turns: turns.TurnConfig = turns.TurnConfig()
    min_duration_s: float = 5.0  # shorter usable recordings raise InsufficientDataError
    min_ics: int = 4  # fewer initial contacts in total raise InsufficientDataError

    def to_json(self) -> str:
        """The configuration as sorted JSON (stored with every derived table)."""
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class AlignedSession:
    """A session on its common grid, for plotting. Angles are NaN where ``valid`` of their site is False.

    ``t_s`` is session time (s); ``pelvis`` / ``thighs`` hold the angle series of the sites present
    (``thighs`` keyed "left"/"right"); ``events`` carry grid ``sample`` indices into ``t_s``.
    """

    t_s: NDArray[np.float64]
    fs_hz: float
    timeline: timeline.Timeline
    alignments: Mapping[str, align.Alignment]
    pelvis: orientation.PelvisAngles | None
    thighs: Mapping[str, orientation.ThighAngles]
    events: events.GaitEvents
    quality: Mapping[str, Any]
    bouts: Bouts | None = None  # walking bouts and the steady-state mask (symmetry statistics)
    standing: Standing | None = None  # quiet standing at the start: the reference posture


@dataclass(frozen=True)
class ProcessResult:
    """What :func:`process_session` wrote, plus the quality flags."""

    events: pa.Table
    strides: pa.Table
    summary: pa.Table
    quality: Mapping[str, Any] = field(default_factory=dict)
    cycles: pa.Table | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_aligned(
    session: Session,
    *,
    config: PipelineConfig = PipelineConfig(),
    progress: Callable[[str], None] | None = None,
) -> AlignedSession:
    """Read the raw streams of ``session`` and run timeline, alignment, angles and events (nothing is written)."""
    say = progress or (lambda _msg: None)
    sites = session.raw_sites()
    if not sites:
        raise DataContractError("no raw/<site>.arrows files; record or import a session first", path=session.raw_dir)
    say(f"reading {', '.join(sites)}")
    raws = {site: read_raw(session.raw_path(site)) for site in sites}
    info = {s.site: s for s in session.meta.sensors}
    rates = {site: info[site].rate_hz for site in sites if site in info and info[site].rate_hz > 0}
    acc_range: dict[str, float | None] = {}
    for site in sites:
        g_range = info[site].acc_range_g if site in info else None
        acc_range[site] = g_range * timeline.G if g_range else None
    gyr_range = {site: info[site].gyr_range_dps if site in info else None for site in sites}
    say("mapping clocks and resampling")
    tl = timeline.build_timeline(
        raws,
        session.meta.host_t0_ns,
        rates_hz=rates,
        acc_range_ms2=acc_range,
        gyr_range_dps=gyr_range,
        config=config.timeline,
    )
    fs = tl.fs_hz
    quality: dict[str, Any] = {"duration_s": round(tl.t_s.shape[0] / fs, 2)}
    for site, gs in tl.streams.items():
        usable = gs.valid.sum() / fs
        quality[f"{site}.clock"] = gs.clock.source
        quality[f"{site}.drift_ppm"] = round(gs.clock.drift_ppm, 2)
        quality[f"{site}.valid_s"] = round(float(usable), 2)
        # Where its data starts and ends on the session grid: a sensor that joined late or stopped early has not
        # lost the time outside this span (pipeline.quality words the two differently).
        first, last = (min(max(t, 0.0), quality["duration_s"]) for t in gs.span_s)
        quality[f"{site}.span_s"] = [round(first, 2), round(last, 2)]
        quality[f"{site}.saturated_samples"] = int(gs.saturated.sum())
        quality[f"{site}.nonfinite_samples"] = gs.n_nonfinite
        quality[f"{site}.rejected_stamps"] = gs.clock.n_rejected
        quality[f"{site}.clock_restarts"] = gs.clock.n_restarts
        quality[f"{site}.truncated_file"] = raws[site].truncated
    short = {
        site: _short_stream_reason(gs, fs)
        for site, gs in tl.streams.items()
        if gs.valid.sum() / fs < config.min_duration_s
    }
    if len(short) == len(tl.streams):
        reasons = "; ".join(f"{raws[site].path}: {why}" for site, why in short.items())
        raise InsufficientDataError(f"{reasons}; record at least {config.min_duration_s:.0f} s of walking")
    say("aligning sensors to segments")
    alignments: dict[str, align.Alignment] = {}
    failed: dict[str, InsufficientDataError] = {}
    for site, gs in tl.streams.items():
        if site in short:
            continue
        try:
            if site == "pelvis":
                alignments[site] = align.align_pelvis(gs.acc, gs.gyr, gs.valid, fs, config=config.align)
            else:
                alignments[site] = align.align_thigh(gs.acc, gs.gyr, gs.valid, fs, site=site, config=config.align)
        except InsufficientDataError as exc:
            failed[site] = exc
    if not alignments:
        causes = [f"{raws[site].path}: {why}" for site, why in short.items()] + [str(e) for e in failed.values()]
        raise InsufficientDataError("; ".join(causes))
    # A sensor that cannot carry its part (it stopped, sent no numbers, or never moved: not worn) is left out and
    # named, rather than costing the session the sensors that worked; its raw stream stays as recorded.
    for site, why in (short | {s: str(exc).removeprefix(f"{s}: ") for s, exc in failed.items()}).items():
        quality[f"{site}.left_out"] = why
    tl = timeline.Timeline(fs, tl.t_s, {site: gs for site, gs in tl.streams.items() if site in alignments})
    thighs: dict[str, orientation.ThighAngles] = {}
    pelvis: orientation.PelvisAngles | None = None
    parts: list[events.GaitEvents] = []
    for site, gs in tl.streams.items():
        al = alignments[site]
        quality[f"{site}.alignment_confidence"] = round(al.confidence, 3)
        quality[f"{site}.alignment_low_confidence"] = al.low_confidence
        acc_seg, gyr_seg = al.apply(gs.acc), al.apply(gs.gyr)
        if site == "pelvis":
            pelvis = orientation.pelvis_angles(acc_seg, gyr_seg, gs.valid, fs, config=config.orientation)
            bias = pelvis.gyro_bias_dps
        else:
            side: Literal["left", "right"] = "left" if site == "left_thigh" else "right"
            thighs[side] = orientation.thigh_angles(
                acc_seg, gyr_seg, gs.valid, fs, side=side, config=config.orientation
            )
            bias = thighs[side].gyro_bias_dps
        quality[f"{site}.gyro_bias_dps"] = [round(float(b), 2) for b in bias]
    say("detecting gait events")
    for thigh_side, th in thighs.items():
        part = events.thigh_events(
            th.flexion_rate_dps,
            th.valid,
            fs,
            side=thigh_side,
            source=f"{thigh_side}_thigh",
            acc_ms2=tl.streams[f"{thigh_side}_thigh"].acc,
            config=config.events,
        )
        quality[f"{thigh_side}_thigh.event_rules"] = dict(part.rule_counts)
        parts.append(part)
    turning, pe = None, None
    if pelvis is not None:
        turning = metrics.turning_mask(pelvis, fs, config=config.metrics)
        raw = tl.streams["pelvis"]
        pe = events.pelvis_events(
            pelvis.vertical_acc_ms2,
            pelvis.rotation_deg,
            pelvis.valid,
            fs,
            turning=turning,
            acc_ms2=raw.acc,
            gyr_dps=raw.gyr,
            config=config.events,
        )
        quality["pelvis.laterality_agreement"] = round(pe.laterality_agreement, 3)
    thigh_ev = events.merge(*parts, fs_hz=fs) if parts else None
    ev, thighs, checks = _crosscheck.reconcile(thigh_ev, pe, thighs, fs, config=config.crosscheck)
    quality.update(checks)
    heading = orientation.walking_heading(pelvis, thighs)
    if turning is None and heading is not None:  # thighs only: turns from their heading
        turning = metrics.turning_mask(heading, fs, config=config.metrics)
    quality["heading_source"] = heading.source if heading is not None else None
    for site, al in alignments.items():
        quality[f"{site}.mounting"] = align.describe_mounting(al, config=config.align)
    gyr = [(gs.gyr, gs.valid) for gs in tl.streams.values()]
    walk = detect_bouts(ev, gyr, fs, turning=turning, config=config.bouts)
    standing = detect_standing(gyr, fs, pelvis=pelvis, thighs=thighs, config=config.bouts)
    quality["bouts"] = [[round(a / fs, 2), round(b / fs, 2)] for a, b in walk.intervals.tolist()]
    quality["standing"] = standing.as_quality() if standing is not None else None
    quality["event_sources"] = sorted(set(ev.source.tolist()))
    return AlignedSession(tl.t_s, fs, tl, alignments, pelvis, thighs, ev, quality, walk, standing)


def _short_stream_reason(gs: timeline.GridStream, fs_hz: float) -> str:
    """Why a stream has too few usable samples to analyse, in words a user can act on."""
    usable = float(gs.valid.sum()) / fs_hz
    span = gs.span_s[1] - gs.span_s[0]
    if gs.n_raw and gs.n_nonfinite * 2 >= gs.n_raw:
        why = f"{gs.n_nonfinite} of its {gs.n_raw} samples are not numbers (NaN or infinite): a sensor or file fault"
    elif span > 2.0 * usable and span >= 1.0:
        why = f"its samples span {span:.1f} s, but gaps (lost packets, a dropped link) leave {usable:.1f} s usable"
    else:
        why = f"it recorded {span:.1f} s"
    return f"only {usable:.1f} s of usable samples ({why})"


def _strides(session: Session, aligned: AlignedSession, config: PipelineConfig) -> metrics.StrideTable:
    n_ic = int(np.sum(aligned.events.kind == "IC"))
    if n_ic < config.min_ics:
        raise InsufficientDataError(
            f"{session.path}: only {n_ic} initial contacts found; record a longer walk (several strides per side)"
        )
    # outside bouts, bout edges and turns: not steady, no symmetry statistics; sensor gaps act per metric
    steady = aligned.bouts.steady if aligned.bouts is not None else None
    return metrics.stride_table(
        aligned.events,
        aligned.fs_hz,
        aligned.t_s.shape[0],
        pelvis=aligned.pelvis,
        thighs=aligned.thighs,
        steady=steady,
        config=config.metrics,
    )


def spatial_result(
    session: Session,
    profile: subjects.SubjectProfile,
    *,
    config: PipelineConfig = PipelineConfig(),
    progress: Callable[[str], None] | None = None,
) -> tuple[metrics.StrideTable, spatial.SpatialResult]:
    """The stride table of ``session`` and its step lengths, strides and bouts with ``profile``'s lengths and
    calibrations, as :func:`process_session` computes them, without writing anything (the calibration walk)."""
    leg = profile.leg_length
    if leg is None:
        raise DataContractError(
            f"subject {profile.subject!r} has no height or leg length; set one with 'imugait subject set "
            f"{profile.subject} --height M'"
        )
    aligned = load_aligned(session, config=config, progress=progress)
    strides = _strides(session, aligned, config)
    factors: dict[str, float] = {
        m: c.factor_for(config.spatial) for m in calibration.METHODS if (c := profile.calibration_for(m)) is not None
    }
    return strides, spatial.spatial_metrics(
        strides,
        aligned.events,
        aligned.fs_hz,
        aligned.t_s.shape[0],
        leg_length_m=leg.value_m,
        pendulum_length_m=profile.pendulum_length_m,
        pelvis=aligned.pelvis,
        thighs=aligned.thighs,
        factors=factors,
        config=config.spatial,
    )


def pelvis_contact_offsets(found: events.GaitEvents) -> dict[tuple[str, str], float]:
    """Per ``(side, kind)``: the pelvis-only contact offset SD (``uncertainty.PELVIS_CONTACT_OFFSET_SD_S``) times
    the share of that side's contacts found from the pelvis (a shared offset on that share of the strides)."""
    out = {}
    for side in ("left", "right"):
        for kind, sd in uncertainty.PELVIS_CONTACT_OFFSET_SD_S.items():
            mine = (found.side == side) & (found.kind == kind)
            share = float(np.mean(found.source[mine] == "pelvis")) if mine.any() else 0.0
            out[(side, kind)] = sd * share
    return out


def process_session(
    session: Session,
    *,
    config: PipelineConfig = PipelineConfig(),
    progress: Callable[[str], None] | None = None,
) -> ProcessResult:
    """Process one session end to end and write its derived tables (atomically; raw data is never touched).

    Raises :class:`~pipeline.errors.DataContractError` when the session has no (readable) raw streams and
    :class:`~pipeline.errors.InsufficientDataError` when the recording is too short to segment.
    """
    say = progress or (lambda _msg: None)
    aligned = load_aligned(session, config=config, progress=progress)
    fs, n = aligned.fs_hz, aligned.t_s.shape[0]
    say("computing strides and summary")
    strides = _strides(session, aligned, config)
    trunk_result = None
    if aligned.pelvis is not None:
        gs, al = aligned.timeline.streams["pelvis"], aligned.alignments["pelvis"]
        acc = trunk.body_acc(al.apply(gs.acc), al.apply(gs.gyr), gs.valid, fs, config=config.trunk)
        trunk_result = trunk.trunk_metrics(acc, fs, strides.start_s, strides.end_s, strides.valid, config=config.trunk)
    standing = aligned.quality.get("standing")
    standing_tilt = standing.get("pelvic_tilt_deg") if isinstance(standing, Mapping) else None
    is_ic = aligned.events.kind == "IC"
    ic_t, ic_side = aligned.events.t_s[is_ic], aligned.events.side[is_ic]
    heading = orientation.walking_heading(aligned.pelvis, aligned.thighs)
    found_turns = turns.detect_turns(heading, fs, ic_t, ic_side, config=config.turns) if heading is not None else None
    rows = metrics.session_summary(
        strides,
        trunk_result=trunk_result,
        standing_tilt_deg=standing_tilt,
        contact_offset_sd_s=pelvis_contact_offsets(aligned.events),
        turn_values=turns.turn_summary(found_turns) if found_turns is not None else None,
        config=config.metrics,
    )
    # subject profile (<root>/<subject>/subject.json): spatial metrics, involved/uninvolved rows, compensation
    profile = subjects.read_profile(session.path.parent / subjects.SUBJECT_FILE)
    rows, profile_quality, spatial_result = subjects.extend_summary(
        rows,
        profile,
        strides=strides,
        events=aligned.events,
        fs_hz=fs,
        n_samples=n,
        pelvis=aligned.pelvis,
        thighs=aligned.thighs,
        config=config.spatial,
    )
    affected = profile.affected_side if profile is not None else None
    found = aligned.events
    pelvis_contacts = len(found) > 0 and float(np.mean(found.source == "pelvis")) > 0.5  # most contacts
    report = compensation.compensation_report(
        rows, affected_side=affected, thresholds=config.compensation, pelvis_contacts=pelvis_contacts
    )
    curves = cycles.cycle_curves(
        fs, strides.side, strides.start_s, strides.end_s, strides.valid, pelvis=aligned.pelvis, thighs=aligned.thighs
    )
    cycles_table = pa.table(cycles.curves_columns(curves))
    ev = aligned.events
    events_table = pa.table(
        {
            "t_s": ev.t_s,
            "sample": ev.sample,
            "side": ev.side.tolist(),
            "event": ev.kind.tolist(),
            "source": ev.source.tolist(),
        }
    )
    cols = strides.columns()
    cols["side"] = cols["side"].tolist()
    if spatial_result is not None:
        per_stride = spatial_result.strides
        cols.update(
            step_length_m=per_stride.step_length_m,
            stride_length_m=per_stride.stride_length_m,
            speed_m_s=per_stride.speed_m_s,
        )
    strides_table = pa.table(cols)
    summary_table = pa.table(
        {
            "metric": [r.metric for r in rows],
            "side": [r.side for r in rows],
            "value": pa.array([r.value for r in rows], pa.float64(), from_pandas=False),
            "unit": [r.unit for r in rows],
            "n": [r.n for r in rows],
            "ci_low": pa.array([r.ci_low for r in rows], pa.float64(), from_pandas=False),
            "ci_high": pa.array([r.ci_high for r in rows], pa.float64(), from_pandas=False),
        }
    )
    quality = dict(aligned.quality)
    quality.update(profile_quality)
    quality["valid_strides"] = int(strides.valid.sum())
    quality["strides"] = len(strides)
    metadata = {
        "pipeline_version": PIPELINE_VERSION,
        "app_version": app_version(),
        "config": config.to_json(),
        "inputs_sha256": json.dumps({s: _sha256(session.raw_path(s)) for s in session.raw_sites()}, sort_keys=True),
        "quality": json.dumps(quality, sort_keys=True, default=str),
    }
    say("writing derived tables")
    write_table(session.derived_path("events"), events_table, EVENTS, metadata)
    write_table(session.derived_path("strides"), strides_table, STRIDES, metadata)
    write_table(session.derived_path("summary"), summary_table, SUMMARY, metadata)
    write_table(session.derived_path("cycles"), cycles_table, CYCLES, metadata)
    bouts_table = pa.table(spatial.bout_columns(strides, spatial_result, config=config.spatial))
    write_table(session.derived_path("bouts"), bouts_table, BOUTS, metadata)
    write_table(session.derived_path("compensation"), compensation.to_table(report), COMPENSATION, metadata)
    turns_table = pa.table(turns.turn_columns(found_turns if found_turns is not None else turns.Turns.empty()))
    write_table(session.derived_path("turns"), turns_table, TURNS, metadata)
    log.info("processed %s: %d events, %d strides", session.path, len(ev), len(strides))
    return ProcessResult(events_table, strides_table, summary_table, quality, cycles_table)
