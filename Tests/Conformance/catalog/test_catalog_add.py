"""`tessera catalog add PATH_OR_S3…` (Docs/catalog.md, "Adding existing NGFF"): NGFF written by
others — NGFF 0.4 by ome-zarr-py, a bioformats2raw collection with OME-XML written with
zarr-python — and Tessera-written NGFF 0.5 are found in a tree, recorded once each (adding
again updates in place, a changed tree updates the record), harvested from what the NGFF
holds, and searchable through /api/datasets afterwards. A hostile tree (a symbolic link out of
it, a corrupt zarr.json, a FIFO, an unreadable .zattrs — that one only when not run as root,
who reads whatever the mode says) gives one error line per bad path naming it, the rest is still added,
and the exit code is 1. The same walk over s3:// (moto). SQLite and PostgreSQL arms.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
import zarr
from astropy.io import fits

from gateway_server import GatewayServer
from pg_server import pg_database, pg_server, psql_query  # noqa: F401  (fixtures)

BUCKET = "catalog-add"

OME_XML = """<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">
  <Image ID="Image:0" Name="series zero">
    <AcquisitionDate>2024-05-06T07:08:09</AcquisitionDate>
    <Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SizeX="48" SizeY="40" SizeZ="1" SizeC="1" SizeT="1"
            PhysicalSizeX="0.65" PhysicalSizeY="0.65">
      <Channel ID="Channel:0:0" Name="DAPI"/>
    </Pixels>
  </Image>
</OME>
"""


def write_ome_zarr_04(path: Path, name: str):
    """NGFF 0.4 (Zarr v2) written by ome-zarr-py."""
    from ome_zarr.format import FormatV04
    from ome_zarr.io import parse_url
    from ome_zarr.writer import write_image

    data = np.random.default_rng(4).integers(0, 4000, size=(2, 64, 48), dtype=np.uint16)
    store = parse_url(str(path), mode="w", fmt=FormatV04()).store
    root = zarr.group(store=store, zarr_format=2)
    write_image(data, root, axes="cyx", fmt=FormatV04(), storage_options={"chunks": (1, 32, 32)})
    root.attrs["multiscales"] = [{**root.attrs["multiscales"][0], "name": name}]
    root.attrs["omero"] = {"channels": [{"label": "GFP", "color": "00FF00", "window": {"min": 0, "max": 4000, "start": 0, "end": 3000}},
                                        {"label": "RFP", "color": "FF0000", "window": {"min": 0, "max": 4000, "start": 0, "end": 3000}}]}


def write_bioformats2raw(path: Path):
    """A bioformats2raw collection (NGFF 0.4) with OME/METADATA.ome.xml, by zarr-python."""
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    root.attrs["bioformats2raw.layout"] = 3
    image = root.create_group("0")
    image.create_array("0", shape=(40, 48), chunks=(20, 24), dtype="uint16")[:] = 7
    image.attrs["multiscales"] = [{"version": "0.4", "name": "series zero", "axes": [
        {"name": "y", "type": "space", "unit": "micrometer"}, {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [0.65, 0.65]}]}]}]
    ome = root.create_group("OME")
    ome.attrs["series"] = ["0"]
    (path / "OME" / "METADATA.ome.xml").write_text(OME_XML)


def scopes(doc: dict) -> dict:
    return {scope: {row["key"]: row["value"] for row in rows} for scope, rows in doc["scopes"].items()}


class Catalog:
    def __init__(self, url: str):
        self.url = url

    def sql(self, query: str) -> list[str]:
        if self.url.startswith("sqlite:"):
            done = subprocess.run(["sqlite3", "-batch", self.url[len("sqlite:"):], query], capture_output=True, text=True,
                                  timeout=60)
            assert done.returncode == 0, done.stderr
            out = done.stdout
        else:
            out = psql_query(self.url, query)
        return [line for line in out.strip().splitlines() if line]

    def datasets(self) -> dict:
        """location → (uid, name, format, status, stored bytes)."""
        rows = {}
        for line in self.sql("SELECT location, uid, name, format, status, stored_bytes FROM dataset"):
            location, uid, name, fmt, status, stored = line.split("|")
            rows[location] = (uid, name, fmt, status, int(stored))
        return rows


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "catalog.sqlite"
        path.touch()
        return Catalog(f"sqlite:{path}")
    return Catalog(request.getfixturevalue("pg_database"))


@pytest.fixture
def tree(tmp_path, run_tessera):
    """Three datasets by three writers; returns (tree, {name: location})."""
    tree = tmp_path / "tree"
    (tree / "lab" / "deep").mkdir(parents=True)
    write_ome_zarr_04(tree / "lab" / "deep" / "cells.ome.zarr", "cells-by-ome-zarr-py")
    write_bioformats2raw(tree / "lab" / "collection.zarr")
    source = tmp_path / "sky.fits"
    hdu = fits.PrimaryHDU(np.random.default_rng(5).integers(0, 30000, size=(64, 80), dtype=np.int16))
    hdu.header["OBJECT"] = "NGC 1234"
    hdu.writeto(source)
    run_tessera("convert", str(source), str(tree / "sky.ome.zarr"), check=True)
    return tree, {"cells": tree / "lab" / "deep" / "cells.ome.zarr", "collection": tree / "lab" / "collection.zarr",
                  "sky": tree / "sky.ome.zarr"}


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_add_finds_harvests_and_is_idempotent(tree, catalog, run_tessera, tessera_bin, tmp_path):
    root, places = tree
    first = run_tessera("catalog", "add", str(root), "--catalog", catalog.url, "--owner-group", "lab", "--public")
    assert first.returncode == 0, first.stderr
    rows = catalog.datasets()
    assert set(rows) == {str(p) for p in places.values()}, rows
    for name, place in places.items():
        uid, _, fmt, status, stored = rows[str(place)]
        assert (fmt, status) == ("ngff", "ready")
        assert stored == tree_bytes(place), name
    assert rows[str(places["cells"])][1] == "cells-by-ome-zarr-py"
    assert rows[str(places["collection"])][1] == "series zero"

    # Adding again records nothing new; a changed tree updates the record in place.
    again = run_tessera("catalog", "add", str(root), "--catalog", catalog.url, "--owner-group", "lab", "--public")
    assert again.returncode == 0, again.stderr
    assert catalog.datasets() == rows
    cells = zarr.open_group(str(places["cells"]), mode="r+", zarr_format=2)
    omero = dict(cells.attrs["omero"])
    omero["channels"][0]["label"] = "mNeonGreen"
    cells.attrs["omero"] = omero
    changed = run_tessera("catalog", "add", str(places["cells"]), "--catalog", catalog.url, "--public")
    assert changed.returncode == 0, changed.stderr
    after = catalog.datasets()
    assert len(after) == 3 and after[str(places["cells"])][0] == rows[str(places["cells"])][0]

    # Searchable, with the harvest of what the NGFF holds.
    config = tmp_path / "serve.yaml"
    config.write_text(f"roots:\n  - {{name: tree, location: {root}}}\ncatalog:\n  store: {catalog.url}\n")
    with GatewayServer(tessera_bin, "--config", config) as srv:
        status, _, body = srv.get("/api/datasets?limit=50")
        assert status == 200, body
        found = {d["name"]: d for d in json.loads(body)["datasets"]}
        assert len(found) == 3 and set(found) >= {"cells-by-ome-zarr-py", "series zero"}, found
        status, _, body = srv.get("/api/datasets?q=" + urllib.parse.quote("mNeonGreen"))
        assert status == 200 and [d["name"] for d in json.loads(body)["datasets"]] == ["cells-by-ome-zarr-py"], body

        cells_doc = json.loads(srv.get(f"/api/datasets/{found['cells-by-ome-zarr-py']['id']}/metadata")[2])
        s = scopes(cells_doc)
        assert s["ngff"]["axes"] == ["c", "y", "x"] and s["ngff"]["version"] == "0.4"
        written = json.loads((places["cells"] / ".zattrs").read_text())["multiscales"][0]
        assert s["ngff"]["scale"] == written["datasets"][0]["coordinateTransformations"][0]["scale"]
        assert s["ngff"]["levels"] == [d["path"] for d in written["datasets"]]
        assert s["ngff"]["omero"]["channels"][0]["label"] == "mNeonGreen"
        assert s["level0"]["shape"] == [2, 64, 48] and s["level0"]["dtype"] == "uint16" and s["level0"]["chunks"] == [1, 32, 32]
        summary = found["cells-by-ome-zarr-py"]
        assert summary["shape"] == [2, 64, 48] and summary["dtype"] == "uint16" and summary["axes"] == ["c", "y", "x"]

        collection_doc = json.loads(srv.get(f"/api/datasets/{found['series zero']['id']}/metadata")[2])
        s = scopes(collection_doc)
        assert s["ome/Image[0]"]["Pixels.SizeX"] == "48" and s["ome/Image[0]"]["Channel.Name"] == "DAPI"
        assert s["ome/Image[0]"]["AcquisitionDate"] == "2024-05-06T07:08:09"
        # The collection's NGFF description is its series 0's.
        assert s["ngff"]["axes"] == ["y", "x"] and s["ngff"]["name"] == "series zero" and s["ngff"]["scale"] == [0.65, 0.65]
        assert s["level0"]["shape"] == [40, 48] and s["level0"]["chunks"] == [20, 24]

        sky = [d for n, d in found.items() if n not in ("cells-by-ome-zarr-py", "series zero")]
        assert len(sky) == 1, found
        s = scopes(json.loads(srv.get(f"/api/datasets/{sky[0]['id']}/metadata")[2]))
        assert s["ngff"]["version"] == "0.5" and s["level0"]["shape"] == [64, 80]
        assert s["tessera"]["source"]["file"] == "sky.fits"


def test_hostile_tree_is_refused_path_by_path(tree, catalog, run_tessera, tmp_path):
    root, places = tree
    outside = tmp_path / "outside.ome.zarr"
    shutil.copytree(places["sky"], outside)
    os.symlink(outside, root / "lab" / "linked.ome.zarr")
    broken = root / "broken.ome.zarr"
    shutil.copytree(places["sky"], broken)
    (broken / "zarr.json").write_text("{not json")
    fifo = root / "lab" / "deep" / "cells.ome.zarr" / "s0" / "fifo"
    os.mkfifo(fifo)  # would hang a reader that opened it
    expected_errors = 3
    unreadable = None
    if os.geteuid() != 0:  # root reads whatever the mode bits say
        unreadable = places["collection"] / "0" / ".zattrs"
        unreadable.chmod(0)
        expected_errors += 1
    done = run_tessera("catalog", "add", str(root), "--catalog", catalog.url)
    assert done.returncode == 1
    errors = [l for l in done.stderr.splitlines() if l.startswith("tessera: error: ")]
    assert len(errors) == expected_errors, done.stderr
    assert any(str(fifo) in l and "not a regular file" in l for l in errors), errors
    if unreadable:
        assert any(str(places["collection"]) in l for l in errors), errors
        places = {k: v for k, v in places.items() if k != "collection"}
    assert any(str(root / "lab" / "linked.ome.zarr") in l and "symbolic link" in l for l in errors), errors
    assert any(str(broken) in l for l in errors), errors
    assert set(catalog.datasets()) == {str(p) for p in places.values()}


def test_add_from_s3(tree, catalog, run_tessera, s3_env):
    import boto3

    root, places = tree
    client = boto3.client("s3", endpoint_url=s3_env.endpoint)
    for path in root.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), BUCKET, "facility/" + str(path.relative_to(root)))
    done = run_tessera("catalog", "add", f"s3://{BUCKET}/facility/", "--catalog", catalog.url)
    assert done.returncode == 0, done.stderr
    rows = catalog.datasets()
    expected = {f"s3://{BUCKET}/facility/" + str(p.relative_to(root)): p for p in places.values()}
    assert set(rows) == set(expected)
    for location, place in expected.items():
        assert rows[location][4] == tree_bytes(place)


def summary_line(stderr: str) -> str:
    lines = [l for l in stderr.splitlines() if l.startswith("catalog add: ") and "added" in l]
    assert lines, stderr
    return lines[-1]


def test_add_in_parallel_batches_reports_and_is_idempotent(catalog, run_tessera, tmp_path):
    """60 images walked by 3 workers, written 7 per transaction (several batches and a partial
    one); one corrupt image among them is named in the summary, the other 59 are recorded, exit
    code 1. Adding again records nothing (59 unchanged, `updated` times untouched); a changed
    image is the one update; --jobs 1 finds the same."""
    from small_ngff import write_small_tree

    root = tmp_path / "archive"
    places = write_small_tree(root, 60, folders=6)
    corrupt = places[17]
    (corrupt / "0" / ".zarray").write_text("{not json")
    good = {str(p) for p in places if p != corrupt}

    first = run_tessera("catalog", "add", str(root), "--catalog", catalog.url, "--jobs", "3", "--batch", "7")
    assert first.returncode == 1, first.stderr
    errors = [l for l in first.stderr.splitlines() if l.startswith("tessera: error: ")]
    assert len(errors) == 1 and str(corrupt) in errors[0], first.stderr
    assert summary_line(first.stderr) == "catalog add: 59 added, 0 updated, 0 unchanged, 1 failed (listed above)"
    rows = catalog.datasets()
    assert set(rows) == good
    assert {rows[str(p)][1] for p in places if p != corrupt} == {f"image-{i}" for i in range(60) if i != 17}
    updated = catalog.sql("SELECT location, updated FROM dataset ORDER BY location")

    again = run_tessera("catalog", "add", str(root), "--catalog", catalog.url, "--jobs", "3", "--batch", "7")
    assert again.returncode == 1, again.stderr
    assert summary_line(again.stderr) == "catalog add: 0 added, 0 updated, 59 unchanged, 1 failed (listed above)"
    assert catalog.datasets() == rows
    assert catalog.sql("SELECT location, updated FROM dataset ORDER BY location") == updated

    (corrupt / "0" / ".zarray").write_text((places[16] / "0" / ".zarray").read_text())
    attrs = json.loads((places[3] / ".zattrs").read_text())
    attrs["omero"]["channels"][0]["label"] = "changed"
    (places[3] / ".zattrs").write_text(json.dumps(attrs))
    third = run_tessera("catalog", "add", str(root), "--catalog", catalog.url, "--jobs", "1")
    assert third.returncode == 0, third.stderr
    assert summary_line(third.stderr) == "catalog add: 1 added, 1 updated, 58 unchanged, 0 failed"
    after = catalog.datasets()
    assert set(after) == {str(p) for p in places}
    # The changed image keeps its uid (its stored bytes grew with its .zattrs); the rest are as they were.
    assert after[str(places[3])][0] == rows[str(places[3])][0]
    assert all(after[location] == row for location, row in rows.items() if location != str(places[3]))
