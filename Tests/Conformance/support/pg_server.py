"""A throwaway PostgreSQL server for the catalog tests, and a fresh database per test.

Use in a test module (or a conftest.py) with::

    from pg_server import pg_server, pg_database  # noqa: F401  (pytest fixtures)

`pg_server` (session): the server's URL `postgres://tessera@127.0.0.1:PORT/`. It is the one
`make test` started when TESSERA_TEST_POSTGRES is set; otherwise this session starts one with
scripts/pg-test.sh in a temporary folder and stops it at the end, also after failures. Without
PostgreSQL's binaries the tests are skipped, or fail under CI=true.

`pg_database` (per test): `CREATE DATABASE t_<random>` on that server, its URL, dropped after.
Tests look into it with the `psql` command-line client (`psql_query`), never a Python driver.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
PG_TEST = REPO_ROOT / "scripts" / "pg-test.sh"


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL tests cannot run under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server():
    url = os.environ.get("TESSERA_TEST_POSTGRES")
    if url:
        yield url
        return
    if shutil.which("psql") is None:
        _unavailable("psql is not installed (scripts/setup.sh installs PostgreSQL)")
    parent = tempfile.mkdtemp(prefix="tessera-pg-")
    os.chmod(parent, 0o755)  # the server runs as `postgres` when the tests run as root
    folder = os.path.join(parent, "pg")
    try:
        started = subprocess.run([str(PG_TEST), "start", folder], capture_output=True, text=True, timeout=120)
        if started.returncode != 0:
            _unavailable(f"scripts/pg-test.sh could not start a server: {started.stderr.strip()}")
        yield started.stdout.strip()
    finally:
        subprocess.run([str(PG_TEST), "stop", folder], capture_output=True, timeout=120)
        shutil.rmtree(parent, ignore_errors=True)


def server_parts(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "tessera"


def psql_query(url: str, sql: str, timeout: float = 60) -> str:
    """Runs `sql` with psql against the database named in `url`; rows one a line, `|` between columns."""
    host, port, user = server_parts(url)
    database = urlsplit(url).path.lstrip("/") or "postgres"
    done = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", str(port), "-U", user,
         "-d", database, "-c", sql],
        capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


@pytest.fixture
def pg_database(pg_server):
    host, port, user = server_parts(pg_server)
    name = "t_" + uuid.uuid4().hex
    admin = f"postgres://{user}@{host}:{port}/postgres"
    psql_query(admin, f"CREATE DATABASE {name}")
    try:
        yield f"postgres://{user}@{host}:{port}/{name}"
    finally:
        psql_query(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
