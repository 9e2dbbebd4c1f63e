"""Must-show 1 of issue 19: every source key/value of a FITS MEF, an HDF5 file with nested
attributes, an OME-TIFF with extra tags and an SVS slide is found in the catalogue with its
type, compared with astropy's / h5py's / tifffile's / openslide-python's own reading of the
same file through the same flattening rule written again in Python (flatten_reference.py).

Each file is converted with `tessera convert … --catalog sqlite:…`; the rows are read back
with the sqlite3 command-line tool. Documented exclusions are asserted, not skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import flatten_reference as ref  # noqa: E402



sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from pg_server import pg_server, psql_query  # noqa: E402,F401  (pytest fixture)

ROWS_SQL = "SELECT scope, key, idx, vtype, num, str FROM meta ORDER BY seq"
DATASET_SQL = "SELECT uid, name, status, format, obs_time, owner_group, error FROM dataset"


class SQLiteCatalog:
    """A catalogue file read back with the sqlite3 command-line tool."""

    def __init__(self, folder: Path):
        self.path = folder / "catalog.sqlite"
        self.url = f"sqlite:{self.path}"

    def query(self, sql: str) -> list[dict]:
        out = subprocess.run(["sqlite3", "-json", str(self.path), sql],
                             check=True, capture_output=True, text=True, timeout=60).stdout
        return json.loads(out) if out.strip() else []


class PostgresCatalog:
    """A fresh database on the session's throwaway server, read back with psql."""

    def __init__(self, url: str):
        self.url = url

    def query(self, sql: str) -> list[dict]:
        out = psql_query(self.url, f"SELECT coalesce(json_agg(t), '[]') FROM ({sql}) t")
        return json.loads(out)


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request, tmp_path):
    if request.param == "sqlite":
        yield SQLiteCatalog(tmp_path)
        return
    server = request.getfixturevalue("pg_server")
    admin = server.rstrip("/") + "/postgres"
    name = "t_" + uuid.uuid4().hex
    psql_query(admin, f"CREATE DATABASE {name}")
    try:
        yield PostgresCatalog(server.rstrip("/") + "/" + name)
    finally:
        psql_query(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def only_dataset(catalog) -> dict:
    rows = catalog.query(DATASET_SQL)
    assert len(rows) == 1, rows
    return rows[0]


def convert(run_tessera, source: Path, tmp_path: Path, catalog, *extra):
    out = tmp_path / (source.name + ".ome.zarr")
    r = run_tessera("convert", str(source), str(out), "--catalog", catalog.url, *extra)
    assert r.returncode == 0, r.stderr
    return catalog.query(ROWS_SQL)


def assert_same(actual_rows: list[dict], expected: list[ref.Row]):
    actual = {(r["scope"], r["key"], r["idx"]): r for r in actual_rows}
    wanted = {(e.scope, e.key, e.idx): e for e in expected}
    missing = sorted(set(wanted) - set(actual))
    extra = sorted(set(actual) - set(wanted))
    assert not missing and not extra, f"missing {missing[:20]}, unexpected {extra[:20]}"
    for k, e in wanted.items():
        a = actual[k]
        assert a["vtype"] == e.vtype, f"{k}: type {ref.TYPE_NAMES[a['vtype']]} != {ref.TYPE_NAMES[e.vtype]} ({a['str']!r})"
        if e.vtype == ref.STRING:
            assert a["str"] == e.text, f"{k}: {a['str']!r} != {e.text!r}"
            assert a["num"] is None, k
        elif e.vtype == ref.DATE:
            assert a["str"] == e.text, k
            assert abs(a["num"] - e.num) < 1e-3, f"{k}: {a['num']} != {e.num}"
        elif e.vtype == ref.BOOL:
            assert a["num"] == e.num, k
        else:
            if e.num is None:
                assert a["num"] is None and a["str"] == e.text, f"{k}: {a}"
            else:
                assert a["num"] == pytest.approx(e.num, rel=1e-12, abs=0), f"{k}: {a['num']} != {e.num}"
                if float(e.num).is_integer() and abs(e.num) < 2**53 and isinstance(e.num, float) and "." not in e.text:
                    assert a["str"] == e.text, k


# --- FITS ---------------------------------------------------------------------------


def write_mef(path: Path) -> None:
    from astropy.io import fits

    h = fits.Header()
    h["OBJECT"] = "M31 'core'"
    h["TELESCOP"] = "  leading blanks kept"
    h["EXPTIME"] = 1.0e-05
    h["GAIN"] = 2.5
    h["NCOMBINE"] = 12
    h["BIGINT"] = 9007199254740993  # 2**53 + 1: text only
    h["FLAG"] = True
    h["OFF"] = False
    h["DATE-OBS"] = "2021-03-04T05:06:07.5"
    h["DATE"] = "2021-03-05"
    h["OLDDATE"] = "04/03/98"
    h["MJD-OBS"] = 59277.2125
    h["RA"] = "05:35:17.3"
    h["DEC"] = "-05:23:28"
    h["OBJCTRA"] = "05 35 17.3"
    h["NOTADATE"] = "2021-13-01"
    h["LONGSTR"] = "a long string that does not fit on one card " * 3 + "end"
    h["HIERARCH ESO DET CHIP NAME"] = "ccd1"
    h["HIERARCH ESO TEL ALT"] = 45.5
    h["UNDEF"] = None
    h.add_comment("first comment")
    h.add_comment("second comment")
    h.add_history("reduced by hand")
    h.add_blank("")
    h.append(("DUP", 1), end=True)
    h.append(("DUP", 2), end=True)
    primary = fits.PrimaryHDU(np.zeros((8, 8), np.int16), header=h)
    sci = fits.ImageHDU(np.ones((8, 8), np.float32), name="SCI")
    sci.header["BUNIT"] = "electron/s"
    sci.header["DVAL"] = 1.5
    err = fits.ImageHDU(np.full((8, 8), 0.1, np.float32), name="ERR")
    dq = fits.ImageHDU(np.zeros((8, 8), np.int16), name="DQ")
    dq.header.add_history("dq flags")
    table = fits.BinTableHDU.from_columns([fits.Column(name="flux", format="E", array=np.arange(3, dtype=np.float32))],
                                          name="CAT")
    fits.HDUList([primary, sci, err, dq, table]).writeto(path)


def test_fits_mef_every_card_of_every_hdu(run_tessera, tmp_path, catalog):
    from astropy.io import fits

    src = tmp_path / "mef.fits"
    write_mef(src)
    rows = convert(run_tessera, src, tmp_path, catalog, "--group", "astro", "--owner-group", "obs")
    expected = ref.flatten(ref.fits_scopes(src))
    assert_same(rows, expected)
    # Every kind of card of plan §10 row 1 is in there with its type.
    by = {(r["scope"], r["key"], r["idx"]): r for r in rows}
    assert by[("hdu0", "DATE-OBS", 0)]["vtype"] == ref.DATE
    assert by[("hdu0", "OLDDATE", 0)]["vtype"] == ref.DATE
    assert by[("hdu0", "NOTADATE", 0)]["vtype"] == ref.STRING
    assert by[("hdu0", "RA", 0)]["num"] == pytest.approx((5 + 35 / 60 + 17.3 / 3600) * 15)
    assert by[("hdu0", "DEC", 0)]["num"] == pytest.approx(-(5 + 23 / 60 + 28 / 3600))
    assert by[("hdu0", "BIGINT", 0)]["num"] is None and by[("hdu0", "BIGINT", 0)]["str"] == "9007199254740993"
    assert by[("hdu0", "LONGSTR", 0)]["str"].endswith("end")
    assert by[("hdu0", "ESO DET CHIP NAME", 0)]["str"] == "ccd1"
    assert by[("hdu0", "COMMENT", 1)]["str"] == "second comment"
    assert by[("hdu0", "DUP", 1)]["num"] == 2
    assert by[("hdu0", "FLAG", 0)]["vtype"] == ref.BOOL
    assert by[("hdu4", "EXTNAME", 0)]["str"] == "CAT"  # a table HDU's header too
    assert by[("hdu4", "TTYPE1", 0)]["str"] == "flux"
    # Documented exclusion: blank cards (astropy keeps them with keyword '').
    assert any(c.keyword == "" for c in fits.getheader(src, 0).cards)
    assert not any(r["key"] == "" for r in rows)
    d = only_dataset(catalog)
    assert d["status"] == "ready" and d["format"] == "fits" and d["owner_group"] == "obs"
    assert d["obs_time"] == pytest.approx(ref.date_seconds("2021-03-04T05:06:07.5"))


# --- HDF5 ---------------------------------------------------------------------------


def write_hdf5(path: Path) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["title"] = "scan 42"
        f.attrs["start_time"] = "2024-01-02T03:04:05Z"
        f.attrs["version"] = np.int32(3)
        entry = f.create_group("entry")
        entry.attrs["NX_class"] = np.bytes_(b"NXentry")  # fixed-length
        entry.attrs["utf8"] = "Ångström"
        for name, t in [("i8", np.int8), ("u8", np.uint8), ("i16", np.int16), ("u16", np.uint16), ("i32", np.int32),
                        ("u32", np.uint32), ("i64", np.int64)]:
            entry.attrs[name] = t(-5 if np.issubdtype(t, np.signedinteger) else 200)
        entry.attrs["u64big"] = np.uint64(2**64 - 1)
        entry.attrs["f32"] = np.float32(0.25)
        entry.attrs["f64"] = 1.0e-300
        entry.attrs["nan"] = np.nan
        entry.attrs["flag"] = np.bool_(True)
        entry.attrs["vec"] = np.arange(5, dtype=np.float64) / 4
        entry.attrs["mat"] = np.arange(6, dtype=np.int16).reshape(2, 3)
        entry.attrs["strs"] = np.array([b"a", b"bc"], dtype="S2")
        entry.attrs["vstrs"] = ["x", "yz"]
        entry.attrs["compound"] = np.array((1, 2.0), dtype=[("a", "i4"), ("b", "f8")])
        det = entry.create_group("instrument/detector")
        det.attrs["distance"] = 1.5
        det.attrs["RA"] = "10:00:00"
        data = det.create_dataset("data", data=np.zeros((16, 16), np.uint16))
        data.attrs["units"] = "counts"
        data.attrs["long"] = np.arange(3000, dtype=np.int32)


def test_hdf5_every_attribute_of_every_object(run_tessera, tmp_path, catalog):
    src = tmp_path / "scan.h5"
    write_hdf5(src)
    rows = convert(run_tessera, src, tmp_path, catalog)
    assert_same(rows, ref.flatten(ref.hdf5_scopes(src)))
    by = {(r["scope"], r["key"], r["idx"]): r for r in rows}
    assert by[("/", "start_time", 0)]["vtype"] == ref.DATE
    assert by[("/entry", "mat", 5)]["num"] == 5
    assert by[("/entry", "flag", 0)]["vtype"] == ref.BOOL
    assert by[("/entry", "u64big", 0)]["num"] is None
    assert by[("/entry", "nan", 0)] == {**by[("/entry", "nan", 0)], "vtype": ref.STRING, "str": "nan"}
    # Documented: compound values are their type's name; long arrays keep 1,024 rows.
    assert by[("/entry", "compound", 0)]["str"] == "<a compound type>"
    assert max(r["idx"] for r in rows if r["key"] == "long") == ref.MAX_ARRAY_ELEMENTS - 1
    assert ("/entry/instrument/detector/data", "units", 0) in by


# --- OME-TIFF -----------------------------------------------------------------------


def test_ome_tiff_every_tag_of_the_first_directory(run_tessera, tmp_path, catalog):
    import tifffile

    src = tmp_path / "cells.ome.tif"
    data = np.arange(2 * 100 * 32, dtype=np.uint16).reshape(2, 100, 32)
    tifffile.imwrite(src, data, ome=True, metadata={"axes": "CYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5},
                     software="harvest-test", datetime="2023:04:05 06:07:08", resolution=(2.0, 2.0),
                     extratags=[(305 + 10, "s", 0, "an artist", True), (65000, "H", 3, (1, 2, 3), True)],
                     rowsperstrip=1)
    rows = convert(run_tessera, src, tmp_path, catalog)
    expected = ref.flatten(ref.tiff_scopes(src))
    # Documented: tags tifffile names that Tessera's table does not are keyed by their code.
    with tifffile.TiffFile(src) as tf:
        codes = {tag.name: tag.code for tag in tf.pages[0].tags.values()}
    names = set(r["key"] for r in rows)
    expected = [e if e.key in names or str(codes.get(e.key)) not in names else ref.Row(e.scope, str(codes[e.key]), e.idx, e.vtype, e.num, e.text)
                for e in expected]
    assert_same([r for r in rows if r["scope"] == "ifd0"], expected)
    with tifffile.TiffFile(src) as tf:  # and the OME-XML essentials (test_ome_tiff_essentials)
        assert_same([r for r in rows if r["scope"] != "ifd0"], ref.flatten(ref.ome_scopes(tf.ome_metadata)))
    by = {(r["scope"], r["key"], r["idx"]): r for r in rows}
    assert by[("ifd0", "DateTime", 0)]["vtype"] == ref.DATE
    assert by[("ifd0", "XResolution", 0)]["num"] == 2.0
    # Documented: an array of more than 64 elements is its count (here 100 strips).
    assert by[("ifd0", "StripOffsets", 0)]["str"] == "<100 values>"
    assert by[("ifd0", "65000", 2)]["num"] == 3
    assert by[("ifd0", "ImageDescription", 0)]["str"].startswith("<?xml")


# --- slide --------------------------------------------------------------------------


def test_svs_slide_every_property(run_tessera, tmp_path, catalog):
    openslide = pytest.importorskip("openslide")
    import slide_inputs

    src = tmp_path / "slide.svs"
    slide_inputs.write_svs(src, slide_inputs.tissue(512, 768))
    rows = convert(run_tessera, src, tmp_path, catalog)
    expected = ref.flatten(ref.slide_scopes(src))
    # Documented exclusion: openslide-python here runs OpenSlide 4 (openslide-bin), which adds
    # the associated images' sizes as properties; Tessera links Debian's OpenSlide 3.4.1,
    # which has no such properties. Every other property must match.
    added = [e for e in expected if e.key.startswith("openslide.associated.")]
    if openslide.__library_version__.startswith("4"):
        assert added, "OpenSlide 4 names its associated images' sizes"
    assert_same(rows, [e for e in expected if e not in added])
    by = {(r["scope"], r["key"], r["idx"]): r for r in rows}
    assert by[("openslide", "openslide.mpp-x", 0)]["vtype"] == ref.NUMBER
    assert by[("openslide", "openslide.vendor", 0)]["str"] == "aperio"


# --- failures -----------------------------------------------------------------------


def test_a_conversion_that_fails_leaves_the_record_failed(run_tessera, tmp_path, catalog):
    from astropy.io import fits

    src = tmp_path / "cut.fits"
    fits.PrimaryHDU(np.ones((512, 512), np.float32)).writeto(src)
    with open(src, "r+b") as f:  # the header and a little of the pixels: opens, fails to read
        f.truncate(2880 * 3)
    out = tmp_path / "cut.ome.zarr"
    r = run_tessera("convert", str(src), str(out), "--catalog", catalog.url, "--max-pixels", "1000000")
    assert r.returncode != 0
    d = only_dataset(catalog)
    assert d["status"] == "failed", d
    assert d["error"] and "cut.fits" in d["error"], d
    assert catalog.query(ROWS_SQL) == []


def test_an_unusable_catalog_fails_the_conversion_before_any_chunk(run_tessera, tmp_path):
    src = tmp_path / "small.fits"
    from astropy.io import fits

    fits.PrimaryHDU(np.ones((8, 8), np.float32)).writeto(src)
    out = tmp_path / "small.ome.zarr"
    r = run_tessera("convert", str(src), str(out), "--catalog", f"sqlite:{tmp_path}/no/such/folder/c.sqlite")
    assert r.returncode != 0
    assert "catalog" in r.stderr and "no/such/folder" in r.stderr, r.stderr
    assert not out.exists() or not any(out.iterdir())


def test_groups_without_a_catalog_are_refused(run_tessera, tmp_path, monkeypatch):
    monkeypatch.delenv("TESSERA_CATALOG", raising=False)
    src = tmp_path / "small.fits"
    from astropy.io import fits

    fits.PrimaryHDU(np.ones((8, 8), np.float32)).writeto(src)
    r = run_tessera("convert", str(src), str(tmp_path / "o.ome.zarr"), "--group", "g")
    assert r.returncode != 0 and "--catalog" in r.stderr
    assert not (tmp_path / "o.ome.zarr").exists()


def test_run_catalogues_each_whole_input_with_the_environment_url(run_tessera, tmp_path, monkeypatch):
    from astropy.io import fits
    from job_manifest import job_input, write_job

    inputs = []
    for i in range(3):
        src = tmp_path / f"in{i}.fits"
        h = fits.Header()
        h["OBJECT"] = f"field {i}"
        fits.PrimaryHDU(np.full((8, 8), i, np.int16), header=h).writeto(src)
        inputs.append(job_input(src, f"in{i}.ome.zarr", "fits", task=0))
    job = write_job(tmp_path / "job.json", inputs, tmp_path / "out", tasks=1)
    cat = SQLiteCatalog(tmp_path)
    monkeypatch.setenv("TESSERA_CATALOG", cat.url)
    r = run_tessera("run", str(job), "--task", "0", "--group", "team")
    assert r.returncode == 0, r.stderr
    rows = cat.query("SELECT d.name, d.status, d.location, m.str FROM dataset d JOIN meta m ON m.dataset_id = d.id "
                     "WHERE m.key = 'OBJECT' ORDER BY d.name")
    assert [(x["name"], x["status"], x["str"]) for x in rows] == [(f"in{i}", "ready", f"field {i}") for i in range(3)]
    assert all(x["location"] == str(tmp_path / "out" / f"in{i}.ome.zarr") for i, x in enumerate(rows))
    groups = cat.query("SELECT grp FROM dataset_group")
    assert [g["grp"] for g in groups] == ["team"] * 3


def test_ome_tiff_essentials(run_tessera, tmp_path, catalog):
    import tifffile

    src = tmp_path / "essentials.ome.tif"
    tifffile.imwrite(src, np.zeros((2, 16, 16), np.uint16), ome=True, metadata={
        "axes": "CYX", "AcquisitionDate": "2023-04-05T06:07:08", "PhysicalSizeX": 0.25, "PhysicalSizeXUnit": "µm",
        "Channel": {"Name": ["GFP", "RFP"], "EmissionWavelength": [520.0, 610.5], "ExcitationWavelength": [488, 561]},
        "Plane": {"DeltaT": [0.0, 0.0], "ExposureTime": [0.05, 0.07]},
        "MapAnnotation": {"Operator": "jdoe", "Temperature": "37"}})
    rows = convert(run_tessera, src, tmp_path, catalog)
    with tifffile.TiffFile(src) as tf:
        xml = tf.ome_metadata
    ome = [r for r in rows if r["scope"].startswith("ome/")]
    assert_same(ome, ref.flatten(ref.ome_scopes(xml)))
    by = {(r["scope"], r["key"], r["idx"]): r for r in rows}
    assert by[("ome/Image[0]", "AcquisitionDate", 0)]["vtype"] == ref.DATE
    assert by[("ome/Image[0]", "Channel.EmissionWavelength", 1)]["num"] == 610.5
    assert by[("ome/Image[0]", "Plane.ExposureTime", 0)]["num"] == 0.05
    assert ("ome/Image[0]", "Plane.ExposureTime", 1) not in by  # the first plane only
    assert by[("ome/MapAnnotation[0]", "Operator", 0)]["str"] == "jdoe"
    assert by[("ome/MapAnnotation[0]", "Temperature", 0)]["num"] == 37
    # The first directory's tags are there too, as in the test above.
    assert any(r["scope"] == "ifd0" and r["key"] == "ImageDescription" for r in rows)
