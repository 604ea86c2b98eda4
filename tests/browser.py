"""Headless Chromium for the web page's tests and screenshots (Debian's ``chromium`` and
``chromium-driver``, driven by selenium; ``.ci/run`` installs them when missing).

Selenium is pointed at the system's driver and browser, so its own manager never tries
to download either (the machines have no network for that).
"""

from __future__ import annotations

import shutil
from typing import Any

WINDOW = (1440, 900)  # a laptop screen


def browser_missing() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for name, package in (("chromium", "chromium"), ("chromedriver", "chromium-driver")):
        if shutil.which(name) is None:
            return f"{name} is not installed (apt-get install {package}; .ci/run does)"
    return None


def chrome(width: int = WINDOW[0], height: int = WINDOW[1]) -> Any:
    """A headless Chromium session (a selenium ``WebDriver``); quit() it when done."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which("chromium"))
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(str(shutil.which("chromedriver"))))
