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


# What the page shows, read in one script so a redraw between two reads cannot mix them.
TIMELINE_ROWS = """
return [...document.querySelectorAll('#timeline .row.workflow, #timeline .row.step')].map(
  (row) => [row.classList.contains('workflow') ? 'workflow' : 'step',
            row.dataset.workflow || row.dataset.key, Number(row.dataset.depth),
            row.dataset.status]);
"""
LIST_ROWS = """
return [...document.querySelectorAll('#executions tr[data-execution]')].map(
  (row) => [row.dataset.execution, row.dataset.workflow,
            row.querySelector('.badge').dataset.status]);
"""
HEAD_STATUS = "const b = document.querySelector('.exec-head .badge'); return b && b.dataset.status;"


def timeline_rows(driver: Any) -> list[tuple[str, str, int, str]]:
    """The timeline's rows: (``workflow`` or ``step``, its workflow or key, depth, status)."""
    return [tuple(row) for row in driver.execute_script(TIMELINE_ROWS)]  # type: ignore[misc]


def list_rows(driver: Any) -> list[tuple[str, str, str]]:
    """The executions list: (execution id, workflow, status), top to bottom."""
    return [tuple(row) for row in driver.execute_script(LIST_ROWS)]  # type: ignore[misc]


def head_status(driver: Any) -> str | None:
    """The status badge at the top of an execution's page."""
    status: str | None = driver.execute_script(HEAD_STATUS)
    return status


def wait_until(driver: Any, holds: Any, timeout: float = 30.0) -> Any:
    """Selenium's wait for ``holds(driver)`` to be truthy; a redrawn element is retried."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(holds)


def click(driver: Any, css: str, timeout: float = 30.0) -> None:
    """Click the element at ``css`` once it is there (again if the page redrew it)."""
    from selenium.webdriver.common.by import By

    def clicked(d: Any) -> bool:
        d.find_element(By.CSS_SELECTOR, css).click()
        return True

    wait_until(driver, clicked, timeout)
