"""``pipeline`` and every module in it import with bleak, streamlit and the other imugait packages blocked."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pipeline

MODULES = sorted(f"pipeline.{m.name}" for m in pkgutil.iter_modules([str(Path(pipeline.__file__).parent)]))


def test_pipeline_imports_without_forbidden_packages() -> None:
    code = textwrap.dedent(
        f"""
        import importlib, sys
        for name in ("bleak", "streamlit", "sensors", "dashboard", "imugait"):
            sys.modules[name] = None  # any import of them raises ImportError
        for module in {MODULES!r}:
            importlib.import_module(module)
        leaked = [m for m in sys.modules if m.split(".")[0] in ("bleak", "streamlit", "sensors", "dashboard", "imugait")
                  and sys.modules[m] is not None]
        assert not leaked, leaked
        print("ok", len({MODULES!r}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
    assert {"pipeline.run", "pipeline.timeline", "pipeline.align", "pipeline.events", "pipeline.metrics"} <= set(
        MODULES
    )
