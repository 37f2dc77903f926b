"""The session page's 'Data quality' section: the quality record's warnings in plain sight, its notes folded away,
a clear word when there is no warning or no record (pipeline.quality turns the record into sentences)."""

from __future__ import annotations

from tests.dashboard.conftest import write_quality

PAGE = "app_pages/session.py"
CLEAN = {"duration_s": 60.0, "pelvis.valid_s": 60.0, "valid_strides": 40, "strides": 44, "standing": {"start_s": 0}}


def _open(run_app, fixture, session):
    at = run_app(fixture.root, PAGE)
    at.sidebar.selectbox(key="session_of_P01").set_value(session.meta.session_id).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Data quality" in [s.value for s in at.subheader]
    return at


def test_warnings_are_shown_and_notes_folded(own_data_root, run_app):
    session = own_data_root.processed()[3][0]
    write_quality(session, {**CLEAN, "thighs_swapped": True, "pelvis.saturated_samples": 4, "standing": None})

    at = _open(run_app, own_data_root, session)

    (warning,) = [w.value for w in at.warning if "thigh sensors were swapped" in w.value]
    assert "hit the end of its measuring range in 4 samples" in warning
    assert warning.startswith("- ")  # one bullet per warning
    (notes,) = [e for e in at.expander if e.label.startswith("1 note on")]
    assert "No quiet standing" in notes.markdown[0].value


def test_a_clean_record_says_so(own_data_root, run_app):
    session = own_data_root.processed()[2][0]
    write_quality(session, CLEAN)

    at = _open(run_app, own_data_root, session)

    assert any(s.value.startswith("No data-quality warnings") for s in at.success)
    assert not [w.value for w in at.warning if w.value.startswith("- ")]
    assert not [e for e in at.expander if " on how the numbers were made" in e.label]


def test_a_session_without_a_record_says_how_to_get_one(data_root, run_app):
    session = data_root.processed()[0][0]  # the fixtures write no quality record

    at = _open(run_app, data_root, session)

    assert any(c.value.startswith("No quality record") for c in at.caption)
