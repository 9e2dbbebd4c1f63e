"""`tessera info SOURCE`: what the reader sees in an input file (format, the reader's details,
and per image name, axes, shape, dtype, physical sizes, stored levels, associated images),
as text and with --json; a Zarr folder is still shown as a hierarchy."""

from __future__ import annotations

import json

import numpy as np
import pytest

import convert_inputs as ci
import slide_inputs as si


@pytest.fixture(scope="module")
def svs(tmp_path_factory):
    return si.write_svs(tmp_path_factory.mktemp("svs") / "info.svs", si.tissue(600, 800), reductions=(4,))


def test_info_slide_json(svs, run_tessera):
    proc = run_tessera("info", svs, "--json", check=True)
    info = json.loads(proc.stdout)
    assert info["format"] == "slide"
    details = {d["label"]: d["value"] for d in info["details"]}
    assert details["vendor"] == "aperio"
    assert details["reader"].startswith("OpenSlide 3.")
    assert "800×600" in details["levels"] and "200×150" in details["levels"]
    names = [im["name"] for im in info["images"]]
    assert names[0] == "info" and sorted(names[1:]) == ["label", "macro", "thumbnail"]
    main = info["images"][0]
    assert main["axes"] == ["c", "y", "x"] and main["shape"] == [3, 600, 800] and main["data_type"] == "uint8"
    assert main["channels"] == ["red", "green", "blue"]
    assert {p["axis"]: (p["size"], p["unit"]) for p in main["physical_sizes"]} == {
        "y": (0.499, "micrometer"), "x": (0.499, "micrometer")}
    assert main["stored_levels"] == [[3, 150, 200]]
    assert main["associated"] is False and all(im["associated"] for im in info["images"][1:])
    label = next(im for im in info["images"] if im["name"] == "label")
    assert label["shape"] == [3, 100, 300]


def test_info_slide_text(svs, run_tessera):
    out = run_tessera("info", svs, check=True).stdout
    assert "format: slide" in out and "vendor: aperio" in out
    assert "label (associated image)" in out
    assert "pixel size y 0.499 micrometer, x 0.499 micrometer" in out
    assert "stored levels: 3×150×200" in out


def test_info_tiff_and_hdf5_dataset(run_tessera, tmp_path):
    src = ci.write_tiff(tmp_path / "rgb.tif", ci.pixels("uint8", (20, 30, 3)), "yxc")
    info = json.loads(run_tessera("info", src.arg, "--json", check=True).stdout)
    assert info["format"] == "tiff" and info["images"][0]["shape"] == [3, 20, 30]
    assert info["images"][0]["channels"] == ["red", "green", "blue"]
    assert {d["label"]: d["value"] for d in info["details"]} == {"pages": "1", "compression": "none"}
    jpeg = tmp_path / "jpeg.tif"
    import tifffile
    tifffile.imwrite(jpeg, ci.pixels("uint8", (64, 64, 3), kind="smooth"), photometric="rgb", compression="jpeg",
                     tile=(32, 32), metadata=None)
    details = {d["label"]: d["value"] for d in json.loads(run_tessera("info", jpeg, "--json", check=True).stdout)["details"]}
    assert details["compression"] == "JPEG"
    h5 = ci.write_hdf5(tmp_path / "v.h5", ci.pixels("uint16", (4, 20, 30)), dataset="/entry/data")
    info = json.loads(run_tessera("info", h5.arg, "--json", check=True).stdout)
    assert info["format"] == "hdf5" and info["images"][0]["axes"] == ["z", "y", "x"]
    assert info["images"][0]["data_type"] == "uint16"


def test_info_bad_slide_is_one_error(svs, run_tessera, tmp_path):
    bad = si.truncated(svs, tmp_path / "cut.svs", 0.3)
    proc = run_tessera("info", bad)
    assert 0 < proc.returncode < 128
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cut.svs" in lines[0], proc.stderr


def test_info_zarr_folder_is_still_a_hierarchy(svs, run_tessera, tmp_path):
    out = tmp_path / "o.ome.zarr"
    run_tessera("convert", svs, out, check=True)
    text = run_tessera("info", out, check=True).stdout
    assert "NGFF 0.5" in text and "format: slide" not in text
