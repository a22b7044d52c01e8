"""A real Label Studio server on loopback for the round-trip test (and the docs' screenshots):
the venv tools/setup_label_studio.sh made, a copy of its migrated empty database in a
temporary folder, 127.0.0.1 on a free port, analytics, version checks and Sentry off."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from test.side_venvs import side_venv

REPO = Path(__file__).resolve().parents[2]
EMAIL = "annotator@example.com"
PASSWORD = "annotator-password"
TOKEN = "humanoid-teleop-test-token"


def label_studio_venv() -> Path | None:
    """The venv tools/setup_label_studio.sh made for the current requirements, or None."""
    return side_venv("label-studio-venv", "tools/setup_label_studio.sh")


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    document_root: Path
    python: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def label_studio(venv: Path, folder: Path, timeout_s: float = 240.0) -> Iterator[Server]:
    """Run Label Studio with its data in ``folder``; files under ``folder/documents`` are
    served as local files."""
    data, documents = folder / "data", folder / "documents"
    shutil.copytree(venv / "data-template", data)
    documents.mkdir()
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder),
        "LABEL_STUDIO_BASE_DATA_DIR": str(data), "LABEL_STUDIO_USERNAME": EMAIL,
        "LABEL_STUDIO_PASSWORD": PASSWORD, "LABEL_STUDIO_USER_TOKEN": TOKEN,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LOCAL_FILES_SERVING_ENABLED": "true", "LOCAL_FILES_DOCUMENT_ROOT": str(documents),
        "COLLECT_ANALYTICS": "false", "LATEST_VERSION_CHECK": "false", "DEBUG": "false",
        "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "",
    }  # fmt: skip
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [str(venv / "bin/label-studio"), "start", "--no-browser", "--host", "127.0.0.1",
         "--port", str(port), "--enable-legacy-api-token"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (folder / "server.log").read_text()[-3000:]
                raise AssertionError(f"Label Studio did not come up on {url}:\n{tail}")
            time.sleep(1.0)
        yield Server(url, TOKEN, documents, venv / "bin/python")
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
