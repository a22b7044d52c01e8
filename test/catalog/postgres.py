"""A private PostgreSQL server for the catalog tests (and bench/catalog.py): initdb into a
temporary folder, listening on 127.0.0.1 on a free port and on a socket in that folder, run as
the ``postgres`` user when we are root (postgres refuses to run as root), stopped after."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def postgres_bin() -> Path | None:
    """The folder of initdb/pg_ctl (Debian's /usr/lib/postgresql/<v>/bin first), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing() -> str:
    """Why no private server can be started here ("" when it can)."""
    if postgres_bin() is None:
        return "no PostgreSQL server binaries (initdb): tools/setup_label_studio.sh installs them"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser, and postgres refuses to run as root"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "no psycopg driver (requirements/test.txt)"
    return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def private_server() -> Iterator[str]:
    """Run a server with its data in a new temporary folder (directly under the system's
    temporary directory, which the ``postgres`` user can reach; removed after); yields the URL
    of its ``postgres`` database (user ``catalog``, no password, loopback only)."""
    binaries = postgres_bin()
    assert binaries is not None, missing()
    folder = Path(tempfile.mkdtemp(prefix="humanoid_teleop_pg_"))
    try:
        with _server(binaries, folder) as url:
            yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _server(binaries: Path, folder: Path) -> Iterator[str]:
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir(exist_ok=True)
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
        folder.chmod(0o700)
    port = _free_port()
    run = {"capture_output": True, "text": True, "timeout": 120, "cwd": folder}
    result = subprocess.run(
        [*prefix, str(binaries / "initdb"), "-D", str(data), "-U", "catalog", "-A", "trust",
         "-E", "UTF8", "--no-sync"], **run,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    result = subprocess.run(
        [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
         str(folder / "server.log"), "-w", "start"], **run,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr + _log(folder)
    try:
        yield f"postgresql://catalog@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            **run,
        )  # fmt: skip


def _log(folder: Path) -> str:
    log = folder / "server.log"
    return log.read_text()[-2000:] if log.is_file() else ""


def new_database(url: str, name: str) -> str:
    """Create the empty database ``name`` on the server of ``url``; returns its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name
