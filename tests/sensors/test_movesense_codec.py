"""The Movesense GSP codec against the vectors in firmware_notes/movesense_gsp.md, plus properties."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sensors.devices import movesense as ms

NOTE = Path(__file__).resolve().parents[2] / "firmware_notes" / "movesense_gsp.md"
_BLOCK = re.compile(r"^```(\w+) vector=([\w-]+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _vectors() -> dict[str, bytes | dict[str, object]]:
    out: dict[str, bytes | dict[str, object]] = {}
    for kind, name, body in _BLOCK.findall(NOTE.read_text(encoding="utf-8")):
        out[name] = bytes.fromhex(body) if kind == "hex" else json.loads(body)
    return out


VEC = _vectors()


def _hex(name: str) -> bytes:
    value = VEC[name]
    assert isinstance(value, bytes)
    return value


def test_note_has_every_vector() -> None:
    assert {
        "hello-command",
        "hello-response",
        "subscribe-imu6-104",
        "unsubscribe",
        "status-507-big-endian",
        "status-507-little-endian",
        "imu6-104-data",
        "imu6-104-data-part2",
        "imu6-104-decoded",
    } <= VEC.keys()


def test_command_vectors() -> None:
    assert ms.hello_command(1) == _hex("hello-command")
    assert ms.hello_response(1) == _hex("hello-response")
    assert ms.subscribe_command(0x63, ms.imu6_path(104)) == _hex("subscribe-imu6-104")
    assert ms.unsubscribe_command(0x63) == _hex("unsubscribe")
    assert ms.status_response(0x63, 507) == _hex("status-507-big-endian")
    assert ms.status_response(0x63, 507, big_endian=False) == _hex("status-507-little-endian")


def test_imu6_vector_encodes_and_decodes() -> None:
    dec = VEC["imu6-104-decoded"]
    assert isinstance(dec, dict)
    acc = np.asarray(dec["acc"], dtype=np.float32)
    gyr = np.asarray(dec["gyr"], dtype=np.float32)
    parts = ms.encode_imu6(int(dec["ref"]), int(dec["timestamp_ms"]), acc, gyr)  # type: ignore[call-overload]
    assert parts == [_hex("imu6-104-data"), _hex("imu6-104-data-part2")]
    assert [len(p) for p in parts] == [152, 48]

    decoder = ms.MovesenseDecoder(104)
    assert decoder.feed(parts[0]) is None
    out = decoder.feed(parts[1])
    assert out is not None
    assert out.t_device_us is not None
    np.testing.assert_array_equal(out.t_device_us, dec["t_device_us"])
    np.testing.assert_array_equal(out.acc, acc)
    np.testing.assert_array_equal(out.gyr, gyr)
    assert out.counter is None
    assert decoder.bad_packets == decoder.lost_packets == 0


@pytest.mark.parametrize("name", ["status-507-big-endian", "status-507-little-endian"])
def test_507_in_either_byte_order_is_recognised(name: str) -> None:
    decoder = ms.MovesenseDecoder(104)
    assert decoder.feed(_hex(name)) is None
    assert decoder.statuses == [507]
    assert decoder.bad_packets == 0


def test_hello_is_recognised() -> None:
    decoder = ms.MovesenseDecoder(104)
    assert decoder.feed(_hex("hello-response")) is None
    assert decoder.hello_seen == 1
    assert decoder.bad_packets == 0


def test_path_and_rate_helpers() -> None:
    assert ms.parse_imu6_path("/Meas/IMU6/208") == 208
    assert ms.parse_imu6_path("/Meas/IMU6/100") is None
    assert ms.parse_imu6_path("/Meas/Acc/104") is None
    with pytest.raises(ValueError, match="unsupported"):
        ms.imu6_path(100)
    with pytest.raises(ValueError, match="reference"):
        ms.hello_command(0)
    assert ms.MovesenseDriver().supported_rate(100) == 104.0
    assert ms.MovesenseDriver().supported_rate(1000) == 208.0


def _sample_arrays(n: int) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float32, (n, 3), elements=st.floats(-2000, 2000, width=32))


@st.composite
def _batches(draw: st.DrawFn) -> tuple[int, int, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, ms.MAX_IMU6_SAMPLES))
    return draw(st.integers(1, 255)), draw(st.integers(0, 2**32 - 1)), draw(_sample_arrays(n)), draw(_sample_arrays(n))


@given(_batches())
def test_round_trip(batch: tuple[int, int, np.ndarray, np.ndarray]) -> None:
    ref, ts, acc, gyr = batch
    parts = ms.encode_imu6(ref, ts, acc, gyr)
    payload = 4 + 24 * len(acc)
    assert len(parts) == (1 if payload <= 150 else 2)
    assert len(parts[0]) == 2 + min(payload, 150)
    decoder = ms.MovesenseDecoder(104, ref=ref)
    results = [decoder.feed(p) for p in parts]
    assert all(r is None for r in results[:-1])
    out = results[-1]
    assert out is not None
    np.testing.assert_array_equal(out.acc, acc)
    np.testing.assert_array_equal(out.gyr, gyr)
    assert out.t_device_us is not None
    assert out.t_device_us[0] == ts * 1000
    assert decoder.bad_packets == 0


@given(st.binary(max_size=300))
def test_garbage_is_counted_never_raised(data: bytes) -> None:
    decoder = ms.MovesenseDecoder(104)
    decoder.feed(data)
    decoder.feed(data)
    assert decoder.bad_packets <= 2


def _vector_parts() -> list[bytes]:
    return [_hex("imu6-104-data"), _hex("imu6-104-data-part2")]


def test_truncated_orphan_and_oversize_are_counted() -> None:
    data, part2 = _vector_parts()
    decoder = ms.MovesenseDecoder(104)
    assert decoder.feed(part2) is None  # orphan second part
    assert decoder.feed(data[:40]) is None  # truncated: 38-byte payload is not 4 + 24·N
    assert decoder.feed(data + b"\x00") is None  # oversize first part
    assert decoder.feed(b"") is None
    assert decoder.feed(b"\x07\x63\x00") is None  # unknown type
    assert decoder.feed(b"\x02\x05" + data[2:50]) is None  # wrong reference
    assert decoder.bad_packets == 6
    assert decoder.feed(data) is None
    assert decoder.feed(data) is None  # the first DATA never got its part 2
    assert decoder.bad_packets == 7
    assert decoder.feed(part2 + b"\x00" * 200) is None  # oversize part 2
    assert decoder.bad_packets == 8
    assert decoder.feed(data) is None
    assert decoder.feed(part2) is not None
    assert decoder.bad_packets == 8


def _message(ts_ms: int, n: int = 8, ref: int = ms.DATA_REF) -> list[bytes]:
    zeros = np.zeros((n, 3), np.float32)
    return ms.encode_imu6(ref, ts_ms, zeros, zeros)


def _feed_all(decoder: ms.MovesenseDecoder, timestamps: list[int]) -> list[np.ndarray]:
    out = []
    for ts in timestamps:
        for part in _message(ts):
            got = decoder.feed(part)
        assert got is not None
        assert got.t_device_us is not None
        out.append(got.t_device_us)
    return out


def test_timestamp_wrap_is_unwrapped() -> None:
    period = 8 * 1000 / 104
    start = 2**32 - 200
    device_ms = [int(np.floor(start + k * period)) for k in range(6)]
    decoder = ms.MovesenseDecoder(104)
    times = np.concatenate(_feed_all(decoder, [t % 2**32 for t in device_ms]))
    assert np.all(np.diff(times) > 0)
    assert times[-1] // 1000 >= 2**32
    assert decoder.lost_packets == decoder.clock_jumps == 0


def test_lost_messages_are_counted_from_timestamp_steps() -> None:
    period = 8 * 1000 / 104
    kept = [0, 1, 2, 4, 5, 8, 9]  # 3, 6 and 7 lost
    decoder = ms.MovesenseDecoder(104)
    _feed_all(decoder, [int(np.floor(5000 + k * period)) for k in kept])
    assert decoder.lost_packets == 3
    assert decoder.clock_jumps == 0


def test_non_multiple_step_is_a_clock_jump_not_a_loss() -> None:
    decoder = ms.MovesenseDecoder(104)
    _feed_all(decoder, [1000, 1077, 1077 + 40, 1000])
    assert decoder.lost_packets == 0
    assert decoder.clock_jumps == 2


def test_encode_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        ms.encode_imu6(1, 0, np.zeros((13, 3)), np.zeros((13, 3)))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        ms.encode_imu6(1, 0, np.zeros((2, 3)), np.zeros((3, 3)))
