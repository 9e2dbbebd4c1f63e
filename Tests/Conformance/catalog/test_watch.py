"""`tessera watch` (Docs/catalog.md, "Watch"), must-show 4 of issue 19.

(a) a file appended slowly is never converted early: no log line and no `ingest_file` row
    before its last append + the stable time, exactly one conversion after;
(b) `kill -9` in the middle of a run, more files arriving while the watcher is down, a restart:
    every file ingested exactly once (one `done` row, one dataset, no conversion started over),
    every output readable by zarr-python with the source's pixels;
(c) a corrupt file is recorded `failed` once with cfitsio's message and not retried while it
    stays unchanged, by this watcher or a restarted one; touching it retries it once;
`tessera status` reports the ledger's numbers and failures.

The ledger is read with the sqlite3 / psql command-line clients.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import zarr
from astropy.io import fits

from pg_server import pg_database, pg_server, psql_query  # noqa: F401  (fixtures)


def fits_bytes(seed: int, shape=(256, 256)) -> bytes:
    data = np.random.default_rng(seed).integers(0, 30000, size=shape, dtype=np.int16)
    hdu = fits.PrimaryHDU(data)
    hdu.header["OBJECT"] = f"field {seed}"
    from io import BytesIO

    out = BytesIO()
    hdu.writeto(out)
    return out.getvalue()


def fits_pixels(path: Path) -> np.ndarray:
    with fits.open(path) as f:
        return np.asarray(f[0].data)


class Ledger:
    """Reads the watcher's catalogue with the command-line client of its store."""

    def __init__(self, url: str):
        self.url = url

    def sql(self, query: str) -> list[list[str]]:
        if self.url.startswith("sqlite:"):
            path = self.url[len("sqlite:"):]
            if not Path(path).exists():
                return []
            done = subprocess.run(["sqlite3", "-batch", "-separator", "\t", path, query],
                                  capture_output=True, text=True, timeout=60)
            if done.returncode != 0 and "no such table" in done.stderr:
                return []
            assert done.returncode == 0, done.stderr
            out = done.stdout
        else:
            out = psql_query(self.url, query)
        return [line.split("\t") if self.url.startswith("sqlite:") else line.split("|")
                for line in out.strip().splitlines() if line]

    def rows(self) -> dict[str, dict]:
        found = {}
        for row in self.sql(
                "SELECT path, status, attempts, output, coalesce(dataset_uid, ''), coalesce(error, '') FROM ingest_file"):
            # Trailing empty columns may be cut with the output's last newline.
            path, status, attempts, output, uid, error = (row + [""] * 6)[:6]
            found[Path(path).name] = {"status": status, "attempts": int(attempts), "output": output, "uid": uid,
                                      "error": error}
        return found


class Watch:
    """One `tessera watch` process, its stderr in a file; always killed at the end."""

    def __init__(self, tessera_bin, folder: Path, output: Path, log: Path, *opts):
        self.log_path = log
        self.log_file = open(log, "ab")
        self.proc = subprocess.Popen([str(tessera_bin), "watch", str(folder), "--output", str(output), *map(str, opts)],
                                     stdout=subprocess.DEVNULL, stderr=self.log_file, stdin=subprocess.DEVNULL)

    def lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def wait_for(self, predicate, timeout: float, what: str, every: float = 0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            assert self.proc.poll() is None, f"watch exited {self.proc.returncode}:\n" + "\n".join(self.lines())
            time.sleep(every)
        pytest.fail(f"timed out waiting for {what}; log:\n" + "\n".join(self.lines()), pytrace=False)

    def kill9(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log_file.close()


@pytest.fixture
def watches(tessera_bin):
    started: list[Watch] = []

    def start(*args) -> Watch:
        w = Watch(tessera_bin, *args)
        started.append(w)
        return w

    yield start
    for w in started:
        w.kill9()


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'catalog.sqlite'}"
    return request.getfixturevalue("pg_database")


def converted(lines: list[str], name: str) -> list[str]:
    return [l for l in lines if re.match(rf"watch: converted {re.escape(name)} → ", l)]


def test_slow_append_is_never_converted_early(tmp_path, watches):
    folder, output = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    url = f"sqlite:{tmp_path / 'catalog.sqlite'}"
    ledger = Ledger(url)
    w = watches(folder, output, tmp_path / "watch.log", "--stable-seconds", 4, "--scan-seconds", 0.5, "--catalog", url)
    data = fits_bytes(1, shape=(400, 400))  # 320 KB of pixels: 5 appends of 64 KiB + the rest
    target = folder / "slow.fits"
    step = 65536
    last_append = 0.0
    for start in range(0, len(data), step):
        last_append = time.time()  # before the write: the file's mtime is at or after this
        with open(target, "ab") as f:
            f.write(data[start:start + step])
        # Until the next append (3 s), nothing may be taken: poll log and ledger.
        until = time.monotonic() + (3 if start + step < len(data) else 0)
        while time.monotonic() < until:
            assert not [l for l in w.lines() if "slow.fits" in l], w.lines()
            assert "slow.fits" not in ledger.rows()
            time.sleep(0.2)
    # After the last append: still nothing until 4 s have passed since it.
    while time.time() < last_append + 4:
        assert not [l for l in w.lines() if "slow.fits" in l], w.lines()
        assert "slow.fits" not in ledger.rows()
        time.sleep(0.1)
    w.wait_for(lambda: converted(w.lines(), "slow.fits"), 60, "slow.fits converted")
    time.sleep(2)  # a few more scans: no second conversion
    assert len(converted(w.lines(), "slow.fits")) == 1
    rows = ledger.rows()
    assert rows["slow.fits"]["status"] == "done" and rows["slow.fits"]["attempts"] == 1
    image = zarr.open_group(str(output / "slow.ome.zarr"), mode="r")
    np.testing.assert_array_equal(image["0"][...], fits_pixels(target))


@pytest.mark.slow
def test_kill_and_restart_ingests_each_file_once(tmp_path, watches, catalog_url, run_tessera):
    folder, output = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    ledger = Ledger(catalog_url)
    old = time.time() - 3600
    for i in range(20):
        p = folder / f"f{i:02d}.fits"
        p.write_bytes(fits_bytes(i, shape=(1024, 1024)))
        os.utime(p, (old, old))
    # Many small chunks, so a conversion cut by the kill has stored some that resume keeps.
    opts = ("--stable-seconds", 1, "--scan-seconds", 0.5, "--jobs", 2, "--chunks", 64, "--shards", 0, "--catalog", catalog_url)
    first = watches(folder, output, tmp_path / "watch1.log", *opts)
    first.wait_for(lambda: len([l for l in first.lines() if l.startswith("watch: converted")]) >= 5, 180, "5 conversions")
    first.kill9()
    # Ten more while nobody watches, one of them still being written when the watcher returns.
    for i in range(20, 30):
        (folder / f"f{i:02d}.fits").write_bytes(fits_bytes(i, shape=(1024, 1024)))
    second = watches(folder, output, tmp_path / "watch2.log", *opts)
    names = [f"f{i:02d}.fits" for i in range(30)]
    second.wait_for(lambda: all(ledger.rows().get(n, {}).get("status") == "done" for n in names), 240, "30 done rows",
                    every=0.5)  # a psql/sqlite3 process per poll: not too many on a loaded machine
    time.sleep(2)  # a few more scans: nothing is taken again
    lines = first.lines() + second.lines()
    rows = ledger.rows()
    assert sorted(rows) == names
    interrupted = [n for n in names if rows[n]["attempts"] == 2]
    # The kill came right after a conversion ended, with 15 files queued: the next ones were
    # claimed; at most the --jobs conversions running at the kill are taken over.
    assert 1 <= len(interrupted) <= 2, rows
    for n in names:
        assert rows[n]["status"] == "done" and rows[n]["attempts"] in (1, 2), (n, rows[n])
        lines_n = converted(lines, n)
        # One conversion; one begun before the kill is finished by resume, never started over.
        fresh = [l for l in lines_n if "kept from before" not in l]
        assert len(fresh) <= 1 and len(lines_n) >= 1, (n, lines_n)
        if rows[n]["attempts"] == 1:
            assert len(lines_n) == 1, (n, lines_n)
        image = zarr.open_group(str(output / rows[n]["output"]), mode="r")
        np.testing.assert_array_equal(image["0"][...], fits_pixels(folder / n))
    # One dataset per file, ready, the one the ledger names.
    datasets = ledger.sql("SELECT uid, status, source_path FROM dataset")
    assert len(datasets) == 30
    assert {uid for uid, status, _ in datasets if status == "ready"} == {rows[n]["uid"] for n in names}
    assert second.proc.poll() is None
    status = json.loads(run_tessera("status", "--catalog", catalog_url, "--json", check=True).stdout)
    assert status["ingest"] == {"done": 30} and status["recentFailures"] == []
    assert [(d["status"], d["datasets"]) for d in status["datasets"]] == [("ready", 30)]
    assert status["datasets"][0]["storedBytes"] > 30 * 1024 * 1024  # 30 images of 2 MiB, incompressible noise


def test_corrupt_file_fails_once_and_is_retried_when_touched(tmp_path, watches, run_tessera):
    folder, output = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    bad = folder / "bad.fits"
    bad.write_bytes(fits_bytes(3)[:2880 + 1000])  # the header, then a truncated data unit
    old = time.time() - 3600
    os.utime(bad, (old, old))
    # No --catalog: the default SQLite file next to the output.
    ledger = Ledger(f"sqlite:{output / '.tessera-catalog.sqlite'}")
    w = watches(folder, output, tmp_path / "watch.log", "--stable-seconds", 1, "--scan-seconds", 0.5)

    def failed_lines():
        return [l for l in w.lines() if l.startswith("watch: failed bad.fits: ")]

    w.wait_for(lambda: failed_lines(), 60, "bad.fits failed")
    time.sleep(3)  # six scan periods
    assert len(failed_lines()) == 1, w.lines()
    row = ledger.rows()["bad.fits"]
    assert row["status"] == "failed" and row["attempts"] == 1
    assert "bad.fits" in row["error"] and "FITS" in row["error"], row
    assert failed_lines()[0].endswith(row["error"])
    # A restarted watcher finds it failed in the ledger: one "skipped" line, no new attempt.
    w.kill9()
    w = watches(folder, output, tmp_path / "watch2.log", "--stable-seconds", 1, "--scan-seconds", 0.5)
    w.wait_for(lambda: [l for l in w.lines() if l.startswith("watch: skipped bad.fits (unchanged since it failed: ")], 60,
               "bad.fits skipped")
    time.sleep(3)
    assert not failed_lines() and len([l for l in w.lines() if "bad.fits" in l]) == 1, w.lines()
    assert ledger.rows()["bad.fits"]["attempts"] == 1
    # Touched: a new mtime is a new file; it fails again, once.
    os.utime(bad, (old + 60, old + 60))
    w.wait_for(lambda: len(failed_lines()) == 1, 60, "bad.fits retried")
    time.sleep(3)
    assert len(failed_lines()) == 1, w.lines()
    assert ledger.rows()["bad.fits"]["attempts"] == 2
    assert not converted(w.lines(), "bad.fits")
    # `tessera status` shows it among the recent failures.
    status = run_tessera("status", "--catalog", ledger.url, "--json", check=True)
    doc = json.loads(status.stdout)
    assert doc["ingest"] == {"failed": 1} and doc["datasets"] == []
    assert [(f["path"], f["error"]) for f in doc["recentFailures"]] == [(str(bad), ledger.rows()["bad.fits"]["error"])]
    text = run_tessera("status", "--catalog", ledger.url, check=True).stdout
    assert "ingest: converting 0, done 0, failed 1" in text and f"  {bad}: " in text
