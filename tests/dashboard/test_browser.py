"""One real-browser run: ``streamlit run`` on the fixture root, driven by Playwright in Debian's headless Chromium.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``) and the ``playwright`` package; never ``playwright install``.
Set ``IMUGAIT_SCREENSHOT_DIR`` (e.g. to ``docs``) to also regenerate the documentation screenshots from the demo
series (``imugait demo``): the trends of demo-knee and the session page of its first visit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from imugait.cli import streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
SHOTS_ENV = "IMUGAIT_SCREENSHOT_DIR"
REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian Chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer within {timeout_s:.0f} s:\n{log.read_text(errors='replace')}")


def _environment(home: Path | None = None) -> dict[str, str]:
    """This process's environment without ``IMUGAIT_DATA``; with ``home`` as the user's home folder."""
    env = {k: v for k, v in os.environ.items() if k != "IMUGAIT_DATA"}
    if home is not None:
        env["HOME"] = env["USERPROFILE"] = str(home)
    return env


@contextmanager
def _serve(root: Path, log: Path, home: Path | None = None) -> Iterator[str]:
    """The dashboard served on a free local port, with the data root passed as ``-- --data``."""
    port = _free_port()
    env = _environment(home)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    command = streamlit_command(root, port, address="127.0.0.1", headless=True)  # the command `imugait dashboard` runs
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def server(data_root, tmp_path: Path) -> Iterator[str]:
    """The dashboard on the fixture root."""
    with _serve(data_root.root, tmp_path / "streamlit.log") as url:
        yield url


@contextmanager
def _chromium() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="needs the playwright package (pip install playwright)"
    )
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _open_session(page: Any, option: str, wait_for: str) -> None:
    page.get_by_role("link", name="Session").click()
    page.get_by_text("Angles and gait events").first.wait_for(timeout=30_000)
    page.get_by_test_id("stSidebar").get_by_role("combobox").nth(1).click()
    page.get_by_role("option", name=option).click()
    page.get_by_text(wait_for).first.wait_for(timeout=30_000)
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)


def _full_page_shot(page: Any, path: Path, height: int) -> None:
    page.evaluate("document.activeElement.blur()")
    page.set_viewport_size({"width": 1440, "height": height})  # Streamlit scrolls inside the page: a tall window
    page.wait_for_timeout(3000)  # let plotly finish its layout before the picture
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(path))


def test_trends_and_session_pages_render_in_chromium(server: str, data_root, tmp_path: Path) -> None:
    with _chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 2000})
        page.goto(server)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        page.get_by_text("Stance-time symmetry index (%)").first.wait_for(timeout=30_000)
        page.get_by_text("healthy noise ±3 %").first.wait_for()
        assert page.locator("[data-testid='stException']").count() == 0
        # viewer toolbar: no developer items (Streamlit's "Deploy" would send a clinician to a hosting service)
        assert page.get_by_test_id("stToolbar").count() == 1
        assert page.get_by_role("button", name="Deploy").count() == 0
        # stance-time SI: an interval bar on each session but the baseline, which has none (NaN draws no bar; a
        # null would be read as 0 and draw a zero-width one)
        stance_si = page.locator(".js-plotly-plot").first
        assert stance_si.locator("path.yerror").count() == sum(v.processed and v.intervals for v in data_root.visits)
        trends = tmp_path / "screenshot_trends.png"
        _full_page_shot(page, trends, 2000)

        _open_session(page, "week 11", "Simulator ground truth")
        page.get_by_test_id("stMetric").first.wait_for()
        page.get_by_text("not a diagnosis").first.wait_for()
        page.get_by_text("Gait-cycle curves").first.wait_for()
        session = tmp_path / "screenshot_session.png"
        _full_page_shot(page, session, 5200)
    assert trends.stat().st_size > 10_000
    assert session.stat().st_size > 10_000


@pytest.mark.skipif(not os.environ.get(SHOTS_ENV), reason=f"set {SHOTS_ENV}=docs to regenerate the screenshots")
def test_documentation_screenshots_from_the_demo(tmp_path: Path) -> None:
    home = tmp_path / "home"  # the sidebar shows the data root as a user would see it, not a pytest folder
    root = home / "imugait-demo"
    demo = subprocess.run(
        [sys.executable, "-m", "imugait", "demo", "--no-dashboard", "--data", str(root)],
        cwd=REPO,
        env=_environment(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    target = Path(os.environ[SHOTS_ENV])
    target.mkdir(parents=True, exist_ok=True)
    with _serve(root, tmp_path / "streamlit.log", home) as url, _chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 2000})
        page.goto(url)
        page.get_by_test_id("stSidebar").get_by_text(f"~{os.sep}imugait-demo").wait_for(timeout=60_000)
        page.get_by_text("demo-knee: 4 processed sessions").first.wait_for(timeout=60_000)
        page.get_by_text("healthy noise ±3 %").first.wait_for()
        _full_page_shot(page, target / "screenshot_trends.png", 2250)  # down to the values table
        _open_session(page, "week 0", "week 0 - first visit")
        page.get_by_text("Gait-cycle curves").first.wait_for()
        _full_page_shot(page, target / "screenshot_session.png", 5200)
