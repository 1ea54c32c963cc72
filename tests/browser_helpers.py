"""Debian's headless Chromium for the report page's browser tests, set up in one place.

``require_selenium(what)`` is called at the top of a browser test module: without Chromium, its
driver or selenium it skips the module, saying why - or fails it where ``NNDL_REQUIRE_BROWSER=1``
(``.ci/run`` sets it: CI must run these tests). ``chromium(webdriver)`` starts one browser with a
fresh profile and nothing that talks to the network; ``close(driver)`` ends it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
HOW = (
    "install chromium and chromium-driver (Debian) and the test extra (pip install -e '.[test]', which "
    "brings selenium); .ci/run does both"
)
REQUIRED = os.environ.get("NNDL_REQUIRE_BROWSER") == "1"  # set by .ci/run: CI must run these tests
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # this machine's closed network refuses Chromium's own calls
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)


def require_selenium(what: str):
    """``selenium.webdriver``, or skip the calling module (fail it where NNDL_REQUIRE_BROWSER=1)."""
    if not (CHROMIUM.exists() and DRIVER.exists()):
        if REQUIRED:
            raise RuntimeError(f"NNDL_REQUIRE_BROWSER is set but {CHROMIUM} or {DRIVER} is missing; {HOW}")
        pytest.skip(f"{what} skipped: no {CHROMIUM} or {DRIVER}; {HOW}", allow_module_level=True)
    if REQUIRED:
        import selenium.webdriver as webdriver

        return webdriver
    return pytest.importorskip("selenium.webdriver", reason=f"{what} skipped: no selenium; {HOW}")


def chromium(webdriver):
    """One headless Chromium: a fresh profile (removed by ``close``), the console log kept, 60 s limits."""
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never download
    profile = tempfile.mkdtemp(prefix="nndl-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    driver.nndl_profile = profile
    return driver


def close(driver) -> None:
    driver.quit()
    shutil.rmtree(driver.nndl_profile, ignore_errors=True)
