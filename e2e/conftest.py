"""Shared fixtures: one WebDriver session (= one app process) per test module,
screenshots, and waits. Started by e2e/run.sh, which sets the E2E_* variables and
DROPSYNC_WORKSPACE / DROPSYNC_STATE_DIR for the app."""

import os
import pathlib
import time

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.remote_connection import RemoteConnection
from selenium.webdriver.support.ui import WebDriverWait

SHOTS = pathlib.Path(os.environ.get("E2E_SCREENSHOTS", "target/screenshots"))
TIMEOUT = float(os.environ.get("E2E_TIMEOUT", "30"))


def env(name):
    v = os.environ.get(name)
    if not v:
        pytest.exit(f"{name} is not set: run the tests through e2e/run.sh", returncode=2)
    return v


@pytest.fixture(scope="module")
def driver():
    opts = ArgOptions()
    opts.set_capability("browserName", "wry")
    opts.set_capability("tauri:options", {"application": env("E2E_APP")})
    # keep_alive: tauri-driver resets clients that send `Connection: close`.
    config = ClientConfig(remote_server_addr=env("E2E_DRIVER_URL"), keep_alive=True, timeout=120)
    d = webdriver.Remote(command_executor=RemoteConnection(client_config=config), options=opts)
    try:
        yield d
    finally:
        d.quit()  # ends the app too
        wait_until_gone(env("E2E_APP"))


def wait_until_gone(app, timeout=30):
    """Waits for the app's process to exit: the next module's app would
    otherwise find it still registered (single instance) and hand over to it
    as it goes, and fail to start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = False
        for proc in pathlib.Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmd = (proc / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if cmd == app and state != "Z":
                alive = True
                break
        if not alive:
            return
        time.sleep(0.2)


@pytest.fixture(scope="module")
def workspace():
    return pathlib.Path(env("DROPSYNC_WORKSPACE"))


def wait(d, cond, what, timeout=TIMEOUT):
    """Waits until cond(d) is truthy (exceptions count as not yet) and returns it."""
    return WebDriverWait(d, timeout, poll_frequency=0.2, ignored_exceptions=(Exception,)).until(
        cond, f"timed out after {timeout}s waiting for {what}"
    )


def shoot(d, name):
    """Screenshot of the window, after a short pause so the frame matches the DOM."""
    time.sleep(0.5)
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"e2e-{name}.png"
    d.save_screenshot(str(path))
    return path


def css(d, sel):
    """Every element matching a CSS selector (none is fine)."""
    return d.find_elements(By.CSS_SELECTOR, sel)


def one(d, sel):
    """The element matching a CSS selector (it must be there)."""
    return d.find_element(By.CSS_SELECTOR, sel)


def tid(name):
    """The CSS selector of a test id."""
    return f"[data-testid='{name}']"


def type_into(el, text):
    """Replaces a field's text as a user would (select all, delete, type)."""
    el.send_keys(Keys.CONTROL, "a")
    el.send_keys(Keys.DELETE)
    el.send_keys(text)


def table_rows(el):
    """A table's body as dicts keyed by header text."""
    headers = [th.text.strip() for th in el.find_elements(By.CSS_SELECTOR, "thead th")]
    return [
        dict(zip(headers, (td.text.strip() for td in tr.find_elements(By.CSS_SELECTOR, "td"))))
        for tr in el.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if rep.when == "call" and rep.failed:
        d = item.funcargs.get("driver")
        if d is not None:
            try:
                SHOTS.mkdir(parents=True, exist_ok=True)
                d.save_screenshot(str(SHOTS / f"e2e-FAILED-{item.name}.png"))
                (SHOTS / f"e2e-FAILED-{item.name}.html").write_text(d.page_source)
            except Exception:
                pass
    return rep
