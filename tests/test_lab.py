"""`make lab` starts JupyterLab as any user, root included, and serves the chapters with jupytext.

The test starts scripts/lab.sh, the command line `make lab` runs, on a free port with a known
token (as root when the tests run as root), waits for the server, reads chapter 1 through the
contents API (the notebook and its py:percent twin), saves a new notebook to check that
jupytext.toml pairs it, checks that JupyterLab loads jupyterlab-myst, then stops the server.
Every wait has a timeout and the server's process group is killed in teardown.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

CHAPTER = "book/01-gradient-step/gradient-step.ipynb"
START_TIMEOUT = 120  # seconds for the server to answer (cold start on a loaded 2-core machine)
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    def __init__(self, root: Path, log: Path):
        self.port = free_port()
        self.token = secrets.token_hex(16)
        env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                   JUPYTER=str(BIN / "jupyter"), LAB_TOKEN=self.token, JUPYTER_PLATFORM_DIRS="1",
                   JUPYTER_RUNTIME_DIR=str(log.parent / "runtime"))
        self.log = log
        self._log_file = open(log, "wb")
        self.proc = subprocess.Popen(
            ["bash", str(root / "scripts" / "lab.sh"), f"--port={self.port}", "--ServerApp.ip=127.0.0.1",
             "--ServerApp.port_retries=0"],
            cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str, timeout: float = 30) -> bytes:
        request = urllib.request.Request(self.url(path), headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()

    def put(self, path: str, model: dict, timeout: float = 30) -> dict:
        request = urllib.request.Request(
            self.url(path), data=json.dumps(model).encode(), method="PUT",
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def log_tail(self) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")[-4000:]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status = json.loads(self.get("/api/status", timeout=5))
                if "started" in status:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                pass
            time.sleep(0.5)
        pytest.fail(f"jupyter lab did not answer within {START_TIMEOUT} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log_file.close()


@pytest.fixture(scope="module")
def lab(root, tmp_path_factory):
    server = Lab(root, tmp_path_factory.mktemp("lab") / "lab.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def sources(nb) -> list[tuple[str, str]]:
    return [(cell["cell_type"], cell["source"]) for cell in nb["cells"]]


def test_lab_runs_as_this_user_with_allow_root_only_as_root(lab):
    cmdline = Path(f"/proc/{lab.proc.pid}/cmdline").read_bytes().split(b"\0")
    assert (b"--allow-root" in cmdline) == (os.getuid() == 0)
    assert b"--no-browser" in cmdline


def test_lab_serves_chapter_one_through_the_contents_api(lab, root):
    model = json.loads(lab.get(f"/api/contents/{CHAPTER}?type=notebook&content=1"))
    assert model["type"] == "notebook" and model["path"] == CHAPTER
    on_disk = nbformat.read(root / CHAPTER, as_version=4)
    served = model["content"]
    assert len(served["cells"]) == len(on_disk.cells) > 0
    assert sources(served) == sources(on_disk)
    assert any(cell.get("outputs") for cell in served["cells"] if cell["cell_type"] == "code")


def test_lab_opens_the_text_twin_as_the_same_notebook(lab, root):
    twin = CHAPTER.removesuffix(".ipynb") + ".py"
    model = json.loads(lab.get(f"/api/contents/{twin}?type=notebook&content=1"))
    on_disk = nbformat.read(root / CHAPTER, as_version=4)
    assert sources(model["content"]) == sources(on_disk)
    # jupytext opens a paired text file with the outputs of its .ipynb
    assert any(cell.get("outputs") for cell in model["content"]["cells"] if cell["cell_type"] == "code")


def test_a_new_notebook_is_paired_with_a_py_percent_twin(lab, root):
    folder = root / "_build" / f"test-lab-{secrets.token_hex(4)}"  # _build is git-ignored
    folder.mkdir(parents=True)
    try:
        rel = folder.relative_to(root).as_posix()
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# New"), nbformat.v4.new_code_cell("x = 1")]
        lab.put(f"/api/contents/{rel}/new.ipynb", {"type": "notebook", "format": "json", "content": nb})
        twin = folder / "new.py"
        assert twin.exists(), f"jupytext.toml did not pair the new notebook: {sorted(os.listdir(folder))}"
        text = twin.read_text()
        assert "format_name: percent" in text and "# %%\nx = 1" in text
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_lab_loads_jupyterlab_myst(lab):
    page = lab.get("/lab").decode()
    assert "jupyterlab-myst" in page, "JupyterLab's page config does not list the jupyterlab-myst extension"


def test_jupyterlab_myst_is_compatible_with_this_jupyterlab():
    result = subprocess.run([str(BIN / "jupyter"), "labextension", "list"], capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, NO_COLOR="1", JUPYTER_PLATFORM_DIRS="1"))
    listing = result.stdout + result.stderr
    line = next((ln for ln in listing.splitlines() if "jupyterlab-myst" in ln), "")
    assert "enabled" in line and "OK" in line, f"jupyterlab-myst not enabled and compatible:\n{listing}"
