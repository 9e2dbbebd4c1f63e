"""Fixtures for the Tessera conformance suite.

Layout: one folder per command (copy/, convert/, serve/, s3/ for copy and convert to
S3) and support/ for the helpers they import (`import tessera_conformance`, ...).
The binary under test is $TESSERA_BIN, default <repo>/.build/debug/tessera where
<repo> is two levels above this file (Tests/Conformance/conftest.py).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SUPPORT = HERE / "support"
if str(SUPPORT) not in sys.path:  # make `import tessera_conformance` work in any import mode
    sys.path.insert(0, str(SUPPORT))

DEFAULT_TIMEOUT = float(os.environ.get("TESSERA_TEST_TIMEOUT", "120"))


def tessera_path() -> Path:
    env = os.environ.get("TESSERA_BIN")
    return Path(env).resolve() if env else REPO_ROOT / ".build" / "debug" / "tessera"


@pytest.fixture(scope="session")
def tessera_bin() -> Path:
    path = tessera_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"tessera binary not found or not executable at {path} "
            "(build it with `swift build` or set TESSERA_BIN)",
            pytrace=False,
        )
    return path


class TesseraRunner:
    def __init__(self, binary: Path):
        self.binary = binary

    def __call__(self, *args, timeout: float | None = None, check: bool = False) -> subprocess.CompletedProcess:
        cmd = [str(self.binary), *map(str, args)]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout or DEFAULT_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:  # a hang is a failure, not an error
            pytest.fail(f"tessera timed out after {exc.timeout}s: {self.format(args)}", pytrace=False)
        if check and proc.returncode != 0:
            pytest.fail(
                f"tessera exited {proc.returncode}: {self.format(args)}\nstderr: {proc.stderr.strip()}",
                pytrace=False,
            )
        return proc

    def format(self, args) -> str:
        return shlex.join([str(self.binary), *map(str, args)])

    def copy(self, src, dst, *opts, **kw) -> subprocess.CompletedProcess:
        return self("copy", src, dst, *opts, **kw)

    def info(self, path, *opts, **kw) -> subprocess.CompletedProcess:
        return self("info", path, *opts, **kw)

    def convert(self, *args, **kw) -> subprocess.CompletedProcess:
        return self("convert", *args, **kw)


@pytest.fixture(scope="session")
def run_tessera(tessera_bin) -> TesseraRunner:
    """`run_tessera("copy", src, dst, ...)` -> CompletedProcess (text, captured, with timeout)."""
    return TesseraRunner(tessera_bin)


@pytest.fixture(scope="session")
def run_convert(run_tessera) -> TesseraRunner:
    """Like run_tessera, but fails the test at once when the binary has no
    `convert` subcommand (`convert --help` then prints the top-level help)."""
    proc = run_tessera("convert", "--help")
    if proc.returncode != 0 or "tessera convert" not in proc.stdout:
        pytest.fail(f"{run_tessera.binary} has no `convert` subcommand yet:\n{proc.stdout[-800:]}{proc.stderr[-800:]}",
                    pytrace=False)
    return run_tessera


@pytest.fixture(scope="session")
def source_cache(tmp_path_factory):
    """Directory for source arrays shared between tests of one session."""
    return tmp_path_factory.mktemp("sources")


# ---------------------------------------------------------------------------
# S3: one moto server per test module that asks for it, with the module's BUCKET made
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def s3(request):
    """A moto server (S3 on 127.0.0.1) holding the bucket the module names as BUCKET;
    stopped after the module whatever happens."""
    from s3_server import MotoServer

    server = MotoServer()
    try:
        server.create_bucket(request.module.BUCKET)
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3, monkeypatch):
    """The AWS_* settings that point Tessera (and tensorstore's credential chain) at `s3`."""
    for k, v in s3.env().items():
        monkeypatch.setenv(k, v)
    return s3
