"""The shape of the system (STYLE.md): data flows one way, and only files cross between packages.

- ``pipeline`` imports nothing else of imugait and neither bleak nor streamlit nor asyncio;
- ``sensors`` may use only the pipeline's store, schemas and errors (to write raw files) and its live estimates;
- ``dashboard`` reads through ``pipeline`` and never touches BLE;
- bleak is used only in ``sensors``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def _offending(package: str, allowed: callable) -> list[str]:  # type: ignore[valid-type]
    return [f"{file}: {name}" for file, names in _imports(package).items() for name in names if not allowed(name)]


def _top(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


def test_pipeline_is_self_contained() -> None:
    banned = {"sensors", "dashboard", "imugait", "bleak", "streamlit", "asyncio"}
    assert _offending("pipeline", lambda n: _top(n) not in banned) == []


def test_sensors_use_only_the_pipeline_io_contract() -> None:
    allowed_pipeline = {"pipeline.store", "pipeline.schemas", "pipeline.errors", "pipeline.live"}
    assert (
        _offending(
            "sensors",
            lambda n: (
                _top(n) not in {"dashboard", "imugait", "streamlit"}
                and (_top(n) != "pipeline" or n in allowed_pipeline)
            ),
        )
        == []
    )


def test_dashboard_never_touches_ble() -> None:
    assert _offending("dashboard", lambda n: _top(n) not in {"sensors", "bleak", "asyncio", "imugait"}) == []


@pytest.mark.parametrize("package", ["pipeline", "dashboard", "imugait"])
def test_bleak_only_in_sensors(package: str) -> None:
    assert _offending(package, lambda n: _top(n) != "bleak") == []
