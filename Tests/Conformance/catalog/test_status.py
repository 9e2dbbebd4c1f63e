"""The facility status (Docs/catalog.md, "Status"): `GET /api/status`, the status gauges of
`/metrics` and `tessera status --json` give the same numbers, and those numbers are what
this test computes itself: ready datasets per served root and per owner group with their
stored bytes (the output trees' file sizes summed here), each local root's file system from
`os.statvfs`, the watch-ingest ledger's files per state and the failed file with its error.

Who may read `/api/status`: with auth configured, members of the global-access group only
(401 without credentials, 403 for any other member); without auth, anyone. `/metrics` follows
the same rule for the series that name owner groups and uploaders: any other authenticated
caller gets the root and ingest series, no group or user name.
SQLite and PostgreSQL arms.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from io import BytesIO
from pathlib import Path

import jwt
import numpy as np
import pytest
from astropy.io import fits

from gateway_server import GatewayServer
from pg_server import pg_database, pg_server  # noqa: F401  (fixtures)

SECRET = "an-hs256-secret-for-the-status-test"
# name → (served root folder or None, owner group or None)
DATASETS = {
    "a": ("main", "lab"),
    "b": ("main", "lab"),
    "c": ("main", None),
    "d": ("second", "astro"),
    "e": (None, "astro"),  # catalogued, but under no served root
}
# statvfs's free count moves with whatever else the machine writes between two readings.
DISK_SLACK = 512 << 20


def token(groups, sub="someone"):
    return "Bearer " + jwt.encode({"groups": groups, "sub": sub, "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")


def fits_file(path: Path, seed: int, shape) -> None:
    data = np.random.default_rng(seed).integers(0, 30000, size=shape, dtype=np.int16)
    hdu = fits.PrimaryHDU(data)
    hdu.header["OBJECT"] = f"field {seed}"
    hdu.writeto(path)


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'catalog.sqlite'}"
    return request.getfixturevalue("pg_database")


def failed_watch_ingest(tessera_bin, tmp_path: Path, output: Path, url: str) -> Path:
    """A truncated FITS file through `tessera watch`: one `failed` ledger row."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    bad = folder / "bad.fits"
    buffer = BytesIO()
    fits.PrimaryHDU(np.zeros((64, 64), dtype=np.int16)).writeto(buffer)
    bad.write_bytes(buffer.getvalue()[:2880 + 1000])
    old = time.time() - 3600
    os.utime(bad, (old, old))
    log = tmp_path / "watch.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen([str(tessera_bin), "watch", str(folder), "--output", str(output), "--catalog", url,
                                 "--stable-seconds", "0.5", "--scan-seconds", "0.3"],
                                stdout=subprocess.DEVNULL, stderr=log_file, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 90
            while "watch: failed bad.fits" not in log.read_text(errors="replace"):
                assert proc.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "watch did not fail bad.fits: " + log.read_text(errors="replace")
                time.sleep(0.1)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    return bad


@pytest.fixture
def facility(tmp_path, catalog_url, run_tessera, tessera_bin):
    """Converted datasets under two served roots and one outside, a failed watch ingest,
    and what the status must say about them, computed here."""
    roots = {"main": tmp_path / "main", "second": tmp_path / "second"}
    # A sibling whose name starts with a root's: its datasets are not under that root.
    outside = tmp_path / "main-sibling"
    for folder in [*roots.values(), outside]:
        folder.mkdir()
    sources = tmp_path / "sources"
    sources.mkdir()
    outputs = {}
    for seed, (name, (root, group)) in enumerate(DATASETS.items(), start=1):
        source = sources / f"{name}.fits"
        fits_file(source, seed, (96 + 16 * seed, 80))
        out = (roots[root] if root else outside) / f"{name}.ome.zarr"
        args = ["convert", str(source), str(out), "--catalog", catalog_url]
        if group:
            args += ["--owner-group", group]
        run_tessera(*args, check=True)
        outputs[name] = out
    bad = failed_watch_ingest(tessera_bin, tmp_path, roots["main"] / "watched", catalog_url)

    expected_roots = {}
    for name, folder in roots.items():
        members = [n for n, (root, _) in DATASETS.items() if root == name]
        expected_roots[name] = {"datasets": len(members), "storedBytes": sum(tree_bytes(outputs[n]) for n in members)}
    expected_groups = {}
    for name, (_, group) in DATASETS.items():
        totals = expected_groups.setdefault(group, {"datasets": 0, "storedBytes": 0})
        totals["datasets"] += 1
        totals["storedBytes"] += tree_bytes(outputs[name])
    config = tmp_path / "tessera.yaml"
    config.write_text(f"""
roots:
  - {{name: main, location: {roots['main']}}}
  - {{name: second, location: {roots['second']}}}
catalog:
  store: {catalog_url}
auth:
  jwt: {{hs256Secret: {SECRET}}}
""")
    open_config = tmp_path / "tessera-open.yaml"
    open_config.write_text(config.read_text().split("auth:")[0])
    return {"roots": roots, "expected_roots": expected_roots, "expected_groups": expected_groups, "bad": bad,
            "config": config, "open_config": open_config, "url": catalog_url}


def parse_metrics(text: str) -> dict:
    """`name{labels} value` lines of the status families → {(name, label value): value}."""
    found = {}
    for line in text.splitlines():
        m = re.fullmatch(r'(tessera_(?:root|group|ingest)_[a-z_]+)(?:\{(\w+)="([^"]*)"\})? (\S+)', line)
        if m:
            found[(m.group(1), m.group(3))] = float(m.group(4))
    return found


def without_free_space(doc: dict) -> dict:
    """The document with the file systems' free/used counts taken out (they move between
    two readings); the total stays."""
    copy = json.loads(json.dumps(doc))
    for root in copy["roots"]:
        if "disk" in root:
            root["disk"] = {"totalBytes": root["disk"]["totalBytes"]}
    return copy


def check_against_expected(doc: dict, facility: dict):
    roots = {r["name"]: r for r in doc["roots"]}
    assert set(roots) == set(facility["roots"])
    for name, folder in facility["roots"].items():
        r = roots[name]
        assert r["location"] == str(folder)
        assert {"datasets": r["datasets"], "storedBytes": r["storedBytes"]} == facility["expected_roots"][name], name
        vfs = os.statvfs(folder)
        unit = vfs.f_frsize or vfs.f_bsize
        assert r["disk"]["totalBytes"] == vfs.f_blocks * unit
        assert abs(r["disk"]["freeBytes"] - vfs.f_bavail * unit) <= DISK_SLACK
        assert abs(r["disk"]["usedBytes"] - (vfs.f_blocks - vfs.f_bfree) * unit) <= DISK_SLACK
    groups = {g.get("group"): {"datasets": g["datasets"], "storedBytes": g["storedBytes"]} for g in doc["groups"]}
    assert groups == facility["expected_groups"]
    assert doc["ingest"] == {"failed": 1}
    [failure] = doc["recentFailures"]
    assert failure["path"] == str(facility["bad"]) and "bad.fits" in failure["error"], failure
    assert abs(failure["time"] - time.time()) < 600


def check_metrics(metrics: dict, doc: dict):
    for r in doc["roots"]:
        assert metrics[("tessera_root_datasets", r["name"])] == r["datasets"]
        assert metrics[("tessera_root_stored_bytes", r["name"])] == r["storedBytes"]
        assert metrics[("tessera_root_filesystem_total_bytes", r["name"])] == r["disk"]["totalBytes"]
        assert abs(metrics[("tessera_root_filesystem_free_bytes", r["name"])] - r["disk"]["freeBytes"]) <= DISK_SLACK
        assert abs(metrics[("tessera_root_filesystem_used_bytes", r["name"])] - r["disk"]["usedBytes"]) <= DISK_SLACK
    for g in doc["groups"]:
        assert metrics[("tessera_group_datasets", g.get("group", ""))] == g["datasets"]
        assert metrics[("tessera_group_stored_bytes", g.get("group", ""))] == g["storedBytes"]
    for state in ("converting", "done", "failed"):
        assert metrics[("tessera_ingest_files", state)] == doc["ingest"].get(state, 0)
    families = {name for name, _ in metrics}
    assert len([k for k in metrics if k[0] == "tessera_group_datasets"]) == len(doc["groups"])
    assert families >= {"tessera_root_datasets", "tessera_group_datasets", "tessera_ingest_files"}


def test_api_metrics_and_cli_agree_with_the_files(facility, run_tessera, tessera_bin):
    cli = run_tessera("status", "--config", str(facility["config"]), "--json", check=True)
    cli_doc = json.loads(cli.stdout)
    check_against_expected(cli_doc, facility)
    with GatewayServer(tessera_bin, "--config", facility["config"]) as srv:
        status, headers, body = srv.get("/api/status", {"Authorization": token(["globalaccess"])})
        assert status == 200, body
        headers = {k.lower(): v for k, v in headers.items()}
        assert headers["content-type"] == "application/json" and headers["cache-control"] == "private, no-store"
        api_doc = json.loads(body)
        check_against_expected(api_doc, facility)
        assert without_free_space(api_doc) == without_free_space(cli_doc)
        status, _, body = srv.get("/metrics", {"Authorization": token(["globalaccess"])})
        assert status == 200
        check_metrics(parse_metrics(body.decode()), api_doc)

        # Who may see it: global-access members only.
        status, headers, body = srv.get("/api/status")
        assert status == 401 and {k.lower(): v for k, v in headers.items()}["www-authenticate"].startswith("Bearer"), body
        status, _, body = srv.get("/api/status", {"Authorization": "Bearer not-a-token"})
        assert status == 401, body
        for groups in (["lab"], ["astro", "lab"], []):
            status, headers, body = srv.get("/api/status", {"Authorization": token(groups)})
            assert status == 403 and {k.lower(): v for k, v in headers.items()}["content-type"] == "application/json", (groups, body)
            assert "roots" not in json.loads(body)
        status, _, body = srv.get("/api/status?x=1", {"Authorization": token(["globalaccess"])})
        assert status == 400 and json.loads(body)["parameter"] == "x"


def test_without_auth_anyone_may_read_it(facility, run_tessera, tessera_bin):
    with GatewayServer(tessera_bin, "--config", facility["open_config"]) as srv:
        status, _, body = srv.get("/api/status")
        assert status == 200, body
        check_against_expected(json.loads(body), facility)
        status, _, body = srv.get("/metrics")
        assert status == 200
        check_metrics(parse_metrics(body.decode()), json.loads(srv.get("/api/status")[2]))

        # The gauges are kept up to 15 s between catalogue reads; a GET /api/status sets them.
        source = facility["roots"]["main"].parent / "late.fits"
        fits_file(source, 99, (64, 64))
        run_tessera("convert", str(source), str(facility["roots"]["main"] / "late.ome.zarr"), "--catalog", facility["url"],
                    "--owner-group", "latecomers", check=True)
        assert ("tessera_group_datasets", "latecomers") not in parse_metrics(srv.get("/metrics")[2].decode())
        fresh = json.loads(srv.get("/api/status")[2])
        assert {g.get("group"): g["datasets"] for g in fresh["groups"]}["latecomers"] == 1
        metrics = parse_metrics(srv.get("/metrics")[2].decode())
        assert metrics[("tessera_group_datasets", "latecomers")] == 1
        check_metrics(metrics, fresh)
    # The text form carries the same numbers.
    text = run_tessera("status", "--config", str(facility["open_config"]), check=True).stdout
    main = {"datasets": fresh["roots"][0]["datasets"], "storedBytes": fresh["roots"][0]["storedBytes"]}
    assert fresh["roots"][0]["name"] == "main" and main["datasets"] == facility["expected_roots"]["main"]["datasets"] + 1
    assert f"  main ({facility['roots']['main']}): {main['datasets']} ({main['storedBytes']} bytes); disk " in text, text
    assert "ingest: converting 0, done 0, failed 1" in text and f"  {facility['bad']}: " in text



def test_metrics_name_groups_and_uploaders_only_to_global_access(catalog_url, run_tessera, tessera_bin, tmp_path):
    """Three small images under a served root with two owner groups (recorded by `catalog
    add`, seconds) and one upload by `alice` (so an uploader series exists): a member of `lab`
    scraping /metrics sees the root and ingest series and no group or user label at all; a
    global-access member sees the group and uploader series too; no token is a 401."""
    from small_ngff import write_small_ngff

    root = tmp_path / "data"
    for i, group in enumerate(["lab", "lab", "astro"]):
        write_small_ngff(root / group / f"image{i}.ome.zarr", i)
    if catalog_url.startswith("sqlite:"):
        Path(catalog_url[len("sqlite:"):]).touch()
    for group in ("lab", "astro"):
        run_tessera("catalog", "add", str(root / group), "--catalog", catalog_url, "--owner-group", group, check=True)
    staging = tmp_path / "staging"
    staging.mkdir()
    config = tmp_path / "tessera.yaml"
    config.write_text(f"""
roots:
  - {{name: data, location: {root}}}
catalog:
  store: {catalog_url}
auth:
  tokens:
    - {{token: tok-alice, groups: [lab], user: alice}}
    - {{token: tok-boss, groups: [globalaccess], user: boss}}
uploads:
  staging: {staging}
  maxFileBytes: 1048576
  quotaBytes: 4194304
  groups: [lab]
  minFreeBytes: 0
""")
    buffer = BytesIO()
    fits.PrimaryHDU(np.zeros((8, 8), dtype=np.int16)).writeto(buffer)
    with GatewayServer(tessera_bin, "--config", config) as srv:
        request = urllib.request.Request(srv.url + "/api/uploads/small.fits", data=buffer.getvalue(), method="PUT",
                                         headers={"Authorization": "Bearer tok-alice", "Content-Type": "application/fits"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 201

        status, _, body = srv.get("/metrics", {"Authorization": "Bearer tok-alice"})
        assert status == 200, body
        member = body.decode()
        assert 'group="' not in member and 'user="' not in member, member
        assert "tessera_group_" not in member and "tessera_upload_" not in member, member
        assert 'tessera_root_datasets{root="data"} 3' in member and 'tessera_ingest_files{state="failed"} 0' in member, member

        status, _, body = srv.get("/metrics", {"Authorization": "Bearer tok-boss"})
        assert status == 200, body
        everything = body.decode()
        assert 'tessera_group_datasets{group="lab"} 2' in everything, everything
        assert 'tessera_group_datasets{group="astro"} 1' in everything, everything
        assert f'tessera_upload_used_bytes{{user="alice"}} {len(buffer.getvalue())}' in everything, everything
        assert 'tessera_root_datasets{root="data"} 3' in everything
        # /api/status, by the same rule: the lab member may not read it, the global-access member may.
        assert srv.get("/api/status", {"Authorization": "Bearer tok-alice"})[0] == 403
        assert srv.get("/api/status", {"Authorization": "Bearer tok-boss"})[0] == 200

        assert srv.get("/metrics")[0] == 401
        assert srv.get("/metrics", {"Authorization": "Bearer nonsense"})[0] == 401
