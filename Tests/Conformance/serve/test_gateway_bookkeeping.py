"""Tessera's own bookkeeping under an output root — the output mark, a job's report lines,
a split image's state — names source paths, hosts and errors. `tessera serve` never
serves or lists it (404, exactly like a missing key, however the name is spelt), while
every Zarr document and chunk beside it is served as usual. Checked on a real job output:
`tessera plan` + `tessera run` of a split image, then the gateway on its root."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tifffile

from gateway_server import GatewayServer
from http_exchange import get


@pytest.fixture(scope="module")
def job_root(tessera_bin, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("bookkeeping")
    (base / "in").mkdir()
    rng = np.random.default_rng(3)
    tifffile.imwrite(base / "in" / "big.tif", rng.integers(0, 4000, (1024, 1024), dtype=np.uint16), tile=(256, 256))
    tifffile.imwrite(base / "in" / "small.tif", rng.integers(0, 4000, (64, 64), dtype=np.uint16))
    out = base / "out"
    run = lambda *a: subprocess.run([str(tessera_bin), *map(str, a)], capture_output=True, text=True, timeout=300)
    r = run("plan", base / "in", "--output", out, "--tasks", "2", "--chunks", "128", "--shards", "256", "-o", base / "job.json")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((base / "job.json").read_text())
    assert any(i.get("split") for i in manifest["inputs"]), "the test needs a split image"
    for task in (0, 1):
        r = run("run", base / "job.json", "--task", task, "--jobs", "1")
        assert r.returncode == 0, r.stderr
    return out


def bookkeeping_paths(root: Path) -> list[str]:
    found = sorted("/" + str(p.relative_to(root.parent)) for p in root.rglob("*")
                   if p.is_file() and any(part.startswith(".tessera") for part in p.relative_to(root).parts))
    assert any(".tessera-output.json" in p for p in found) and any(".tessera-job/" in p for p in found) \
        and any(".tessera-split/" in p for p in found), found
    return found


@pytest.mark.parametrize("fast_path", ["1", "0"])
def test_bookkeeping_is_never_served_nor_listed(tessera_bin, job_root, fast_path):
    paths = bookkeeping_paths(job_root)
    with GatewayServer(tessera_bin, "--root", f"out={job_root}", "--listing", env={"TESSERA_FAST_PATH": fast_path}) as srv:
        for path in paths:
            for spelt in (path, path.replace("/.tessera", "/%2etessera"), path.replace("/.tessera", "/%2Etessera")):
                status, _, body = get(srv, spelt)
                assert status == 404 and body == b"", (spelt, status, body[:80])
        # everything a reader needs beside it is served
        status, _, body = get(srv, "/out/big.ome.zarr/zarr.json")
        assert status == 200 and json.loads(body)["node_type"] == "group"
        status, _, body = get(srv, "/out/big.ome.zarr/0/c/0/0")
        assert status == 200 and len(body) > 0
        # and listings leave it out
        for folder in ("/out/", "/out/big.ome.zarr/", "/out/small.ome.zarr/"):
            status, _, body = get(srv, folder)
            assert status == 200, folder
            doc = json.loads(body)
            names = doc["folders"] + [o["key"] for o in doc["objects"]]
            assert names and not [n for n in names if n.startswith(".tessera")], (folder, names)
