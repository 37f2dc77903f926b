"""One real-browser run: ``streamlit run`` on the fixture root, driven by Playwright in Debian's headless Chromium.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``) and the ``playwright`` package; never ``playwright install``.
Set ``IMUGAIT_SCREENSHOT_DIR`` (e.g. to ``docs``) to also keep the screenshots there.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
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


@pytest.fixture
def server(data_root, tmp_path: Path) -> Iterator[str]:
    """The dashboard served on a free local port, with the data root passed as ``-- --data``."""
    port = _free_port()
    log = tmp_path / "streamlit.log"
    env = {k: v for k, v in os.environ.items() if k != "IMUGAIT_DATA"}
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "dashboard/streamlit_app.py",
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--",
        "--data",
        str(data_root.root),
    ]
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


def _keep(shot: Path, name: str) -> None:
    target = os.environ.get("IMUGAIT_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(target) / name)


def test_trends_and_session_pages_render_in_chromium(server: str, data_root, tmp_path: Path) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="needs the playwright package (pip install playwright)"
    )
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 2000})
            page.goto(server)
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            page.get_by_text("Stance-time symmetry index (%)").first.wait_for(timeout=30_000)
            page.get_by_text("healthy noise ±3 %").first.wait_for()
            assert page.locator("[data-testid='stException']").count() == 0
            page.wait_for_timeout(1500)  # let plotly finish its layout before the picture
            trends = tmp_path / "screenshot_trends.png"
            page.screenshot(path=str(trends))
            _keep(trends, "screenshot_trends.png")

            page.get_by_role("link", name="Session").click()
            page.get_by_text("not processed yet").first.wait_for(timeout=30_000)
            page.get_by_test_id("stSidebar").get_by_role("combobox").nth(1).click()
            page.get_by_role("option", name="week 11").click()
            page.get_by_text("Simulator ground truth").first.wait_for(timeout=30_000)
            page.get_by_text("Stance-time symmetry index").first.wait_for()
            page.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)
            assert page.locator("[data-testid='stException']").count() == 0
            page.evaluate("document.activeElement.blur()")
            page.set_viewport_size({"width": 1440, "height": 3500})  # Streamlit scrolls inside the page: a tall window
            page.wait_for_timeout(2000)
            session = tmp_path / "screenshot_session.png"
            page.screenshot(path=str(session))
            _keep(session, "screenshot_session.png")
        finally:
            browser.close()
    assert trends.stat().st_size > 10_000
    assert session.stat().st_size > 10_000
