"""What a session's quality record says, in words for the people who read its results.

:func:`pipeline.run.process_session` stores a quality record with every analysed session (lost samples, saturation,
mountings, the thigh swap check, the thigh–pelvis cross-check, which rule found the events, the body lengths and
calibration behind the distances). :func:`findings` turns it into sentences, each with a level:

* ``"warning"``: a result may be wrong or rests on less than it seems; read it before the numbers;
* ``"note"``: how the numbers were made (a correction applied, an estimate used), worth knowing when comparing.

Thresholds, and where they come from:

* lost samples: a note from 1 % of a sensor's recording, a warning beyond 10 %: on the simulator every symmetry
  index stays within 1 percentage point of the truth up to 10 % packet loss and not beyond
  (``docs/validation/sim_grid.md``, ``make bench-sim``); on real thighs with notifications dropped, one IC in nine
  moves by more than 20 ms at 10 % loss, one in five at 20 % (``bench/thigh_packet_loss.py``);
* thigh–pelvis contact timing: a warning when the median offset exceeds 100 ms, a sixth of a typical step and
  about twice the mean timing error of either method on real recordings (≤ 60 ms, ``docs/validation/README.md``
  §b, §h, §i), or when under 80 % of the thigh contacts have a pelvis contact within 0.25 s;
* pelvis-only sides: a warning when the detected sides alternate in under 80 % of regular steps (one step in five
  would be mislabelled; real recordings give 0.95–1.0); under 50 % (``MISSED_SIDE_AGREEMENT``) it says instead that
  one leg's contacts are probably missed, so cadence may read as low as half;
* strides: a warning under 10 valid strides (5 per side: the session intervals are then wide and the symmetry
  indices rest on a handful of steps), or when under half of the strides are valid;
* bouts: a warning when the strides with a length cover less than half of any bout's time
  (``pipeline.spatial.MIN_MEASURED_SHARE``, set at half before looking at data): the unmeasured steps are mostly
  the short ones, and on the Mobilise-D example data such bouts read their speed +0.37 m/s high, the others
  +0.14 m/s (``bench/validate_speed.py``, ``docs/validation/README.md`` §e);
* bridged steps: a note when a tenth or more of the pelvis step lengths span a short sensor gap
  (``pipeline.spatial``, "Gaps"): about 2 % notification loss, the simulator's norm, bridges 8 % of the steps,
  10 % loss 40 % (``bench/sim_gaps.py``); such steps read about 1 % short there;
* gyro offset: a note when the offset the orientation fusion fitted and removed (``pipeline.orientation.
  gyro_bias_dps``; the record's ``<site>.gyro_bias_dps``, segment axes) exceeds 5 deg/s. Not from data: a few deg/s
  is what MEMS gyros are sold with and is removed either way; the fit cannot see the part about the vertical.

A sensor the analysis had to leave out (``<site>.left_out``: under ``PipelineConfig.min_duration_s`` of usable
samples, or no movement to align it by, while another sensor could carry the session) is a warning of its own and
gets no other finding.

A record is read as it was stored: keys a session lacks (older pipelines wrote fewer) give no finding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["warning", "note"]

LOST_NOTE_FRACTION = 0.01
LOST_WARNING_FRACTION = 0.10
SPAN_NOTE_S = 1.0  # a sensor whose data starts this much after the session start (or ends before its end) joined late
MAX_CONTACT_OFFSET_MS = 100.0
MIN_MATCHED_FRACTION = 0.8
MIN_LATERALITY_AGREEMENT = 0.8
# Below this share of alternating consecutive contacts, repeats of one side outnumber alternations, which side errors
# alone do not produce (labels wrong at random alternate half the time): one leg's contacts are probably missed. On
# real recordings: 110 walks of healthy people 0.94-1.00, a person with multiple sclerosis 0.64; a walker with an
# equinovarus foot before surgery 0.22, with three in four of one foot's contacts missed (bench/validate_ipol.py,
# bench/validate_semiogram.py; docs/validation/README.md §p).
MISSED_SIDE_AGREEMENT = 0.5
MIN_VALID_STRIDES = 10
# A gyro offset the fusion fitted and removed (deg/s, the part gravity sees). A few deg/s is ordinary for a MEMS gyro
# and is removed either way; this much suggests the sensor's own zero-rate calibration is off, and the part about
# the vertical, which the fit cannot see, then also tilts the heading rate the turn detection reads.
GYRO_BIAS_NOTE_DPS = 5.0
BRIDGED_NOTE_FRACTION = 0.1  # a note when this share of the pelvis step lengths spans a bridged sensor gap
SITES = ("pelvis", "left_thigh", "right_thigh")


@dataclass(frozen=True)
class Finding:
    """One thing the quality record says: its level, the topic it is about and a sentence for people."""

    level: Level
    topic: str  # "recording", "sensors", "events", "strides", "distance", "posture"
    text: str


def _site(site: str) -> str:
    return site.replace("_", " ") + " sensor"


def _number(quality: Mapping[str, Any], key: str) -> float | None:
    value = quality.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _span(quality: Mapping[str, Any], site: str, duration: float) -> tuple[float, float]:
    """First and last second of a sensor's data on the session grid; the whole session for records without a span."""
    span = quality.get(f"{site}.span_s")
    if isinstance(span, list | tuple) and len(span) == 2 and all(isinstance(t, int | float) for t in span):
        return float(span[0]), float(span[1])
    return 0.0, duration


def _recording(q: Mapping[str, Any]) -> list[Finding]:
    out = []
    duration = _number(q, "duration_s")
    for site in SITES:
        valid = _number(q, f"{site}.valid_s")
        if valid is None:
            continue
        name = _site(site)
        left_out = q.get(f"{site}.left_out")
        if isinstance(left_out, str):
            out.append(
                Finding(
                    "warning",
                    "recording",
                    f"The {name} was left out of the analysis: {left_out}. Every result comes from the other "
                    "sensors; its raw recording is kept as it was. Check the sensor's battery, strap and link.",
                )
            )
            continue
        if duration and duration > 0:
            start, end = _span(q, site, duration)
            lost = max(0.0, 1.0 - valid / (end - start)) if end > start else 1.0
            late, early = start > SPAN_NOTE_S, duration - end > SPAN_NOTE_S
            if late or early:
                joined = " and ".join(w for w, on in (("joined late", late), ("stopped early", early)) if on)
                out.append(
                    Finding(
                        "note",
                        "recording",
                        f"The {name} recorded from {start:.1f} s to {end:.1f} s of the {duration:.1f} s session "
                        f"({joined}); outside that span the analysis has only the other sensors.",
                    )
                )
            if lost > LOST_WARNING_FRACTION:
                out.append(
                    Finding(
                        "warning",
                        "recording",
                        f"The {name} lost {lost:.0%} of its samples (packet loss or a dropped link). Events and "
                        "angles are bridged across short gaps only and left out where a gap hides them; beyond 10 % "
                        "loss contact times scatter more and the symmetry indices lose accuracy. Check the sensor's "
                        "battery, distance and line of sight.",
                    )
                )
            elif lost >= LOST_NOTE_FRACTION:
                out.append(Finding("note", "recording", f"The {name} lost {lost:.1%} of its samples; gaps skipped."))
        saturated = _number(q, f"{site}.saturated_samples") or 0
        if saturated > 0:
            out.append(
                Finding(
                    "warning",
                    "recording",
                    f"The {name} hit the end of its measuring range in {saturated:.0f} samples (saturation): impact "
                    "peaks are clipped, so contact times and angles near them may be off. Record with a larger "
                    "range (e.g. ±16 g, ±2000 deg/s).",
                )
            )
        nonfinite = _number(q, f"{site}.nonfinite_samples") or 0
        if nonfinite > 0:
            out.append(
                Finding("note", "recording", f"The {name} sent {nonfinite:.0f} non-numeric samples; they were skipped.")
            )
        rejected = _number(q, f"{site}.rejected_stamps") or 0
        if rejected > 0:
            out.append(
                Finding(
                    "note",
                    "recording",
                    f"The {name} stamped {rejected:.0f} samples with an impossible time (far from their "
                    "neighbours'; a corrupt value); they were skipped.",
                )
            )
        restarts = _number(q, f"{site}.clock_restarts") or 0
        if restarts > 0:
            times = "once" if restarts == 1 else f"{restarts:.0f} times"
            out.append(
                Finding(
                    "note",
                    "recording",
                    f"The {name}'s clock restarted {times} during the recording (the sensor most likely rebooted, "
                    "e.g. on a low battery, and was reconnected); each part was timed on its own and all of it was "
                    "analysed.",
                )
            )
        if q.get(f"{site}.truncated_file") is True:
            out.append(
                Finding(
                    "warning",
                    "recording",
                    f"The {name}'s raw file ends part-way through a record (the recorder stopped abruptly); "
                    "everything up to that point was kept and analysed.",
                )
            )
        if q.get(f"{site}.clock") == "host":
            out.append(
                Finding(
                    "note",
                    "recording",
                    f"The {name} sent no clock or sample counter: its samples were timed by their arrival, so "
                    "event times carry the Bluetooth delay jitter (typically 7–30 ms).",
                )
            )
    return out


def _sensors(q: Mapping[str, Any]) -> list[Finding]:
    out = []
    for site in SITES:
        mounting = q.get(f"{site}.mounting")
        if not isinstance(mounting, Mapping):
            continue
        if mounting.get("low_confidence"):
            out.append(
                Finding(
                    "warning",
                    "sensors",
                    f"The orientation of the {_site(site)} on the body could not be established with confidence "
                    f"({mounting.get('text', site)}): its angles and the events from it may be wrong. Check that it "
                    "is firmly attached and that the session contains straight walking.",
                )
            )
        if mounting.get("upside_down"):
            out.append(Finding("note", "sensors", f"The {_site(site)} was worn upside down; its axes were corrected."))
    for site in SITES:
        bias = q.get(f"{site}.gyro_bias_dps")
        if not (isinstance(bias, list | tuple) and len(bias) == 3 and all(isinstance(b, int | float) for b in bias)):
            continue
        size = math.hypot(*bias)
        if size > GYRO_BIAS_NOTE_DPS:
            out.append(
                Finding(
                    "note",
                    "sensors",
                    f"The {_site(site)}'s gyroscope read {size:.1f} deg/s when it was not turning (a constant offset; "
                    "it was fitted and removed before the angles were computed). Offsets of a few deg/s are "
                    "ordinary; this one suggests re-running the sensor's own gyro calibration at rest, because the "
                    "part about the vertical cannot be fitted and it shifts the turn detection.",
                )
            )
    if q.get("thighs_swapped") is True:
        out.append(
            Finding(
                "warning",
                "sensors",
                "The left and right thigh sensors were swapped (the 'left' sensor was on the right leg, as the "
                "pelvis shows); left and right were exchanged in the results. Check the labels on the sensors.",
            )
        )
    elif q.get("thigh_swap_check") == "undecided":
        out.append(
            Finding(
                "warning",
                "sensors",
                "Which thigh sensor was on which leg could not be confirmed from the pelvis (too few or mixed "
                "contacts): if the labels were mixed up, left and right are exchanged in the results.",
            )
        )
    elif q.get("thigh_swap_check") == "unverifiable" and {"left_thigh.valid_s", "right_thigh.valid_s"} <= set(q):
        out.append(
            Finding(
                "note",
                "sensors",
                "Without a pelvis sensor, the thigh sensors' sides are taken from their labels (not checked).",
            )
        )
    return out


def _events(q: Mapping[str, Any]) -> list[Finding]:
    out = []
    cross = q.get("crosscheck")
    if isinstance(cross, Mapping):
        matched, offset = _number(cross, "matched_fraction"), _number(cross, "median_offset_ms")
        if matched is not None and matched < MIN_MATCHED_FRACTION:  # NaN (nothing to match) compares False
            out.append(
                Finding(
                    "warning",
                    "events",
                    f"Only {matched:.0%} of the thigh contacts have a pelvis contact within 0.25 s: the two "
                    "sensors disagree about the steps. Look at the events on the angle chart below.",
                )
            )
        if offset is not None and abs(offset) > MAX_CONTACT_OFFSET_MS:
            out.append(
                Finding(
                    "warning",
                    "events",
                    f"Thigh and pelvis place the contacts {abs(offset):.0f} ms apart (median): more than either "
                    "method's timing error, so the stance and support times may be shifted.",
                )
            )
    fills = q.get("dropout_fills")
    if isinstance(fills, list) and fills:
        spans = ", ".join(
            f"{f.get('side')} {f.get('start_s')}–{f.get('end_s')} s" for f in fills if isinstance(f, dict)
        )
        out.append(
            Finding(
                "warning",
                "events",
                f"A thigh sensor dropped out ({spans}); the contacts there come from the pelvis, whose timing "
                "differs by tens of ms, so that side's times mix two methods.",
            )
        )
    sources = q.get("event_sources")
    if isinstance(sources, list) and sources == ["pelvis"]:
        out.append(
            Finding(
                "note",
                "events",
                "Contacts and their sides come from the pelvis sensor alone (no thigh sensors): on real recordings "
                "contact F1 0.92–0.96, mean timing error 33–53 ms, the right side for 98 % of contacts "
                "(docs/validation/README.md §b, §h). Their left/right timing carries an offset per walk, so the "
                "temporal symmetry indices are uncertain (±4 pp for stance, ±9 pp for step time in healthy walkers, "
                "more in asymmetric gait; §n) and the compensation report does not assess limping from them.",
            )
        )
        agreement = _number(q, "pelvis.laterality_agreement")
        if agreement is not None and agreement < MISSED_SIDE_AGREEMENT:
            out.append(
                Finding(
                    "warning",
                    "events",
                    f"The pelvis-only left/right labels alternate in only {agreement:.0%} of regular steps: one side "
                    "repeats, which wrong labels alone rarely do, so one leg's contacts are probably being missed "
                    "(a leg that lands with little impact on the trunk, e.g. a stiff or painful one). Cadence and "
                    "step counts may then read as low as half the true values and the left/right metrics pair the "
                    "wrong steps. Thigh sensors detect each leg's contacts directly.",
                )
            )
        elif agreement is not None and agreement < MIN_LATERALITY_AGREEMENT:
            out.append(
                Finding(
                    "warning",
                    "events",
                    f"The pelvis-only left/right labels alternate in only {agreement:.0%} of regular steps, so some "
                    "contacts are probably on the wrong side: read left/right metrics with care.",
                )
            )
    for side in ("left", "right"):
        rules = q.get(f"{side}_thigh.event_rules")
        if not isinstance(rules, Mapping):
            continue
        ic = {k: v for k, v in rules.items() if str(k).startswith("IC") and isinstance(v, int | float)}
        total = sum(ic.values())
        impact = ic.get("IC impact", 0)
        if total and impact < 0.5 * total:
            out.append(
                Finding(
                    "note",
                    "events",
                    f"Most {side} initial contacts ({total - impact:.0f} of {total:.0f}) come from the thigh's "
                    "rotation, not from a heel-strike transient (soft shoes, slow walking, or a sensor that smooths "
                    "its output).",
                )
            )
    return out


def _strides(q: Mapping[str, Any]) -> list[Finding]:
    valid, total = _number(q, "valid_strides"), _number(q, "strides")
    if valid is None or total is None or total == 0:
        return []
    if valid < MIN_VALID_STRIDES:
        return [
            Finding(
                "warning",
                "strides",
                f"Only {valid:.0f} valid strides: the session values rest on a few steps and their intervals are "
                "wide. Record a longer straight walk (at least 20 strides).",
            )
        ]
    if valid < 0.5 * total:
        return [
            Finding(
                "warning",
                "strides",
                f"Only {valid:.0f} of {total:.0f} strides are valid (the rest are turns, pauses, bout edges or have "
                "gaps): the values describe part of the walk.",
            )
        ]
    return []


def _distance(q: Mapping[str, Any]) -> list[Finding]:
    out = []
    method = q.get("spatial.method")
    if isinstance(method, str) and method.startswith("none"):
        out.append(Finding("note", "distance", f"No step length or walking speed: {method.removeprefix('none: ')}."))
        return out
    if q.get("subject.leg_length_estimated") is True:
        out.append(Finding("note", "distance", "The leg length was estimated from the height (not measured)."))
    source = q.get("subject.pendulum_length_source")
    if source in ("stature", "leg length"):
        out.append(
            Finding(
                "note",
                "distance",
                f"The pelvis sensor's height was estimated from the {source} (not measured); measure it for "
                "better step lengths (imugait subject set --pelvis-sensor-height).",
            )
        )
    under, total = _number(q, "spatial.bouts_under_measured"), _number(q, "spatial.bouts_with_length")
    if under and total:
        out.append(
            Finding(
                "warning",
                "distance",
                f"In {under:.0f} of {total:.0f} walking bouts the strides with a length cover less than half the "
                "bout's time: the steps the event detection missed are mostly slow, short or turning ones, so those "
                "bouts' stride length and speed likely read high (on real recordings such bouts read +0.37 m/s, the "
                "others +0.14 m/s: docs/validation/README.md §e). They are marked in the bouts table.",
            )
        )
    bridged, measured = _number(q, "spatial.pelvis_steps_across_gaps"), _number(q, "spatial.pelvis_steps_with_length")
    if bridged and measured and bridged / measured >= BRIDGED_NOTE_FRACTION:
        out.append(
            Finding(
                "note",
                "distance",
                f"{bridged:.0f} of {measured:.0f} pelvis step lengths were taken across a short sensor gap (up to "
                "0.12 s); on the simulator such steps read about 1 % short (docs/validation/README.md §a).",
            )
        )
    text = q.get("spatial.calibration")
    if q.get("spatial.calibrated") is False and isinstance(text, str):
        out.append(
            Finding(
                "note",
                "distance",
                f"Step length not calibrated for this walker ({text.removeprefix('none: ')}): uncalibrated walking "
                "speed was off by 0.08–0.11 m/s on average on real recordings (docs/validation/README.md §b, §h, §j).",
            )
        )
    return out


def _posture(q: Mapping[str, Any]) -> list[Finding]:
    if "standing" in q and q["standing"] is None:
        return [
            Finding(
                "note",
                "posture",
                "No quiet standing at the start of the recording: pelvic tilt is relative to the walking posture, "
                "and no absolute tilt is reported. Start recordings with a few seconds of standing still.",
            )
        ]
    return []


def findings(quality: Mapping[str, Any]) -> tuple[Finding, ...]:
    """The quality record of one session as findings, warnings first (see the module docstring)."""
    found = [
        *_recording(quality),
        *_sensors(quality),
        *_events(quality),
        *_strides(quality),
        *_distance(quality),
        *_posture(quality),
    ]
    return tuple(sorted(found, key=lambda f: f.level != "warning"))
