"""Catalog fixtures: every catalog test runs on SQLite and on a real private PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from test.catalog.postgres import missing, new_database, private_server

_COUNTER = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a private PostgreSQL server for the whole session; skips saying why if none."""
    why = missing()
    if why:
        pytest.skip(why)
    with private_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh catalog target: a SQLite file path, or the URL of a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "catalog.sqlite")
    server = request.getfixturevalue("postgres_server")
    return new_database(server, f"catalog_{next(_COUNTER)}")
