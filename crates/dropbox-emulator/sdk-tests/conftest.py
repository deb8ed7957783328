"""Starts the built Dropbox emulator over HTTPS and points the official
Dropbox SDK at it.

The SDK reads its hosts from the environment when it is imported, so the
emulator starts in pytest_configure, before any test module imports dropbox.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest
import requests

TOKEN = "sdk-static-token"
APP_KEY = "sdk-app-key"

_state = {}


def _emulator_binary():
    explicit = os.environ.get("DROPBOX_EMULATOR_BIN")
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.abspath(os.path.join(here, "..", "..", ".."))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(repo, "target"))
    if not os.path.isabs(target):
        target = os.path.join(repo, target)
    return os.path.join(target, "debug", "dropbox-emulator")


def pytest_configure(config):
    binary = _emulator_binary()
    if not os.path.exists(binary):
        raise pytest.UsageError(
            "no emulator binary at %s (cargo build -p dropbox-emulator)" % binary
        )
    tmp = tempfile.mkdtemp(prefix="dropbox-sdk-tests.")
    root = os.path.join(tmp, "root")
    cert = os.path.join(tmp, "cert.pem")
    log = open(os.path.join(tmp, "emulator.log"), "w+")
    proc = subprocess.Popen(
        [
            binary,
            "--root", root,
            "--port", "0",
            "--tls-cert-out", cert,
            "--app-key", APP_KEY,
            "--access-token", TOKEN,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = None
    for _ in range(200):
        log.seek(0)
        m = re.search(r"listening on (https://127\.0\.0\.1:\d+)", log.read())
        if m:
            url = m.group(1)
            break
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    if url is None:
        proc.kill()
        log.seek(0)
        raise pytest.UsageError("the emulator did not start:\n" + log.read())
    host = url[len("https://"):]
    # requests lets these override a session's own `verify` (the SDK's
    # ca_certs); the tests talk to the emulator only, so trust its cert alone.
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    # dropbox/session.py: one host for api, content and www.
    for var in ("DROPBOX_API_HOST", "DROPBOX_API_CONTENT_HOST", "DROPBOX_WEB_HOST"):
        os.environ[var] = host
    _state.update(proc=proc, tmp=tmp, root=root, cert=cert, url=url, log=log)


def pytest_unconfigure(config):
    proc = _state.get("proc")
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _state["log"].close()
        shutil.rmtree(_state["tmp"], ignore_errors=True)


class Emulator:
    """The control API of the running emulator."""

    def __init__(self, url, cert, root):
        self.url = url
        self.cert = cert
        self.root = root
        self.http = requests.Session()
        self.http.verify = cert

    def fault(self, route, kind, **extra):
        body = dict(route=route, kind=kind, **extra)
        r = self.http.post(self.url + "/__emulator/faults", data=json.dumps(body))
        r.raise_for_status()

    def clear_faults(self):
        self.http.delete(self.url + "/__emulator/faults").raise_for_status()

    def log(self):
        r = self.http.get(self.url + "/__emulator/log")
        r.raise_for_status()
        return r.json()


@pytest.fixture(scope="session")
def emulator():
    return Emulator(_state["url"], _state["cert"], _state["root"])


@pytest.fixture(autouse=True)
def _no_leftover_faults(emulator):
    yield
    emulator.clear_faults()


@pytest.fixture
def dbx(emulator):
    import dropbox

    session = dropbox.create_session(ca_certs=emulator.cert)
    client = dropbox.Dropbox(
        oauth2_access_token=TOKEN,
        session=session,
        max_retries_on_error=0,
        max_retries_on_rate_limit=0,
    )
    yield client
    client.close()


@pytest.fixture
def folder(dbx, request):
    """A fresh folder per test, so tests do not see each other's files."""
    path = "/sdk/" + request.node.name.replace("[", "_").replace("]", "")
    dbx.files_create_folder_v2(path)
    return path
