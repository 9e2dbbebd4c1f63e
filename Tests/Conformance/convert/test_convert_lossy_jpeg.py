"""Lossy JPEG, opt-in (`--ngff 0.4 --codec jpeg [--level Q]`; Docs/convert.md, "Lossy JPEG").

Each Zarr v2 chunk is one grey JPEG image as wide as the chunk (a 3×256×256 `c,y,x` chunk
is a 768×256 image), stored under imagecodecs' numcodecs id `imagecodecs_jpeg`. What the
docs claim about readers is tested here, not asserted:

- zarr-python 3 reads every level once `imagecodecs.numcodecs.register_codecs()` has run,
  and refuses the array without it;
- ome-zarr-py (which reads through zarr-python) reads the multiscales after the same call;
- tensorstore's `zarr` driver refuses the compressor (`"imagecodecs_jpeg" is not registered`);
- neuroglancer's bundled client knows blosc, gzip, zlib and zstd only (checked in the
  JavaScript the PyPI package ships: it throws `Unsupported compressor` for anything else);
- Tessera reads its own output back (`tessera copy`, `tessera info`), decoding with
  libjpeg-turbo to the same pixels imagecodecs decodes, and reads a colour-JPEG array
  that zarr-python + imagecodecs wrote.

The default conversion of the same slide stays lossless.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import slide_inputs as si

# Quality 90 on this synthetic H&E slide (tissue with sensor-like noise), against the
# lossless conversion: measured 52.4 dB at level 0 (already JPEG-smooth), 37.8, 41.1 and
# 39.8 dB at levels 1-3 (imagecodecs coding each plane alone at 90 gives 37.9-41.4). 35
# leaves room for other libjpeg-turbo builds; a wrong element order lands near 10 dB.
PSNR_BOUND_DB = 35.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def registered_zarr():
    import imagecodecs.numcodecs
    import zarr

    imagecodecs.numcodecs.register_codecs(verbose=False)
    return zarr


@pytest.fixture(scope="module")
def slide(tmp_path_factory) -> Path:
    return si.write_svs(tmp_path_factory.mktemp("lossy") / "slide.svs", si.tissue(1100, 1400, seed=11))


@pytest.fixture(scope="module")
def converted(slide, tmp_path_factory, tessera_bin):
    """(lossy output, lossless default output), converted once for the module."""
    folder = tmp_path_factory.mktemp("lossy-out")
    lossy, lossless = folder / "jpeg.ome.zarr", folder / "default.ome.zarr"
    for out, extra in ((lossy, ["--ngff", "0.4", "--codec", "jpeg"]), (lossless, ["--ngff", "0.4"])):
        proc = subprocess.run([str(tessera_bin), "convert", str(slide), str(out), *extra],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    return lossy, lossless


def levels(image: Path) -> list[str]:
    attrs = json.loads((image / ".zattrs").read_text())
    return [d["path"] for d in attrs["multiscales"][0]["datasets"]]


def test_every_level_opens_in_zarr_python_within_psnr_bound(converted, slide):
    import openslide

    lossy, lossless = converted
    zarr = registered_zarr()
    image, reference = lossy / "0", lossless / "0"
    paths = levels(image)
    assert len(paths) >= 3
    for p in paths:
        meta = json.loads((image / p / ".zarray").read_text())
        assert meta["compressor"] == {"id": "imagecodecs_jpeg", "level": 90}
        assert meta["dtype"] == "|u1" and meta["order"] == "C"
        got = zarr.open_array(str(image / p), mode="r")
        want = zarr.open_array(str(reference / p), mode="r")[...]
        assert got.shape == want.shape and got.dtype == np.uint8
        pixels = got[...]
        value = psnr(pixels, want)
        assert PSNR_BOUND_DB <= value < float("inf"), f"level {p}: PSNR {value:.1f} dB"
    # Level 0 against the source itself, as openslide-python reads it.
    s = openslide.OpenSlide(str(slide))
    w, h = s.dimensions
    level0 = zarr.open_array(str(image / "0"), mode="r")[...]
    assert psnr(level0, si.reference_region(s, 0, 0, w, h)) >= PSNR_BOUND_DB
    # The associated images (label, macro, thumbnail) are JPEG-coded too, and open.
    for k in range(1, 4):
        assoc = zarr.open_array(str(lossy / str(k) / "0"), mode="r")
        assert assoc.dtype == np.uint8 and assoc[...].shape == assoc.shape


def test_zarr_python_needs_imagecodecs_registration(converted):
    """A fresh interpreter without `register_codecs()` cannot read the array: the docs say so."""
    lossy, _ = converted
    code = ("import zarr, sys\n"
            f"try:\n    zarr.open_array({str(lossy / '0' / '0')!r}, mode='r')[...]\n"
            "except Exception as e:\n    print(type(e).__name__, e); sys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "imagecodecs_jpeg" in proc.stdout


def test_ome_zarr_py_reads_the_multiscales(converted):
    registered_zarr()
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    lossy, lossless = converted
    nodes = list(Reader(parse_url(str(lossy / "0")))())
    data = nodes[0].data
    assert len(data) == len(levels(lossy / "0"))
    import zarr

    for k, level in enumerate(data):
        want = zarr.open_array(str(lossless / "0" / str(k)), mode="r")[...]
        assert level.shape == want.shape and level.dtype == np.uint8
        assert psnr(np.asarray(level), want) >= PSNR_BOUND_DB


def test_tensorstore_refuses_it(converted):
    import tensorstore as ts

    lossy, _ = converted
    with pytest.raises(Exception, match="imagecodecs_jpeg"):
        ts.open({"driver": "zarr", "kvstore": {"driver": "file", "path": str(lossy / "0" / "0")}}).result()


def test_neuroglancer_knows_no_jpeg_compressor_for_zarr():
    """neuroglancer reads JPEG only from its own precomputed format: its zarr v2 metadata
    parser (in the client bundled with the PyPI package) names the compressors it takes."""
    import neuroglancer

    bundles = sorted((Path(neuroglancer.__file__).parent / "static" / "client").glob("main*.js"))
    if not bundles:
        pytest.skip("this neuroglancer package ships no client bundle")
    text = bundles[0].read_text(errors="replace")
    start = text.index('case"zlib":case"gzip":case"zstd"')
    parser = text[start - 2000:start + 400]
    assert "Unsupported compressor" in parser and '"blosc"' in parser
    assert "imagecodecs" not in text and "jpeg" not in parser


def test_tessera_reads_its_own_jpeg_back(converted, run_tessera, tmp_path):
    """`tessera copy` decodes with libjpeg-turbo to the pixels imagecodecs decodes."""
    lossy, _ = converted
    zarr = registered_zarr()
    out = tmp_path / "plain.zarr"
    proc = run_tessera.copy(lossy / "0" / "0", out, "--codec", "none")
    assert proc.returncode == 0, proc.stderr
    ours = zarr.open_array(str(out), mode="r")[...]
    theirs = zarr.open_array(str(lossy / "0" / "0"), mode="r")[...]
    np.testing.assert_array_equal(ours, theirs)
    info = run_tessera.info(lossy / "0" / "0")
    assert info.returncode == 0 and "imagecodecs_jpeg" in info.stdout, info.stdout + info.stderr


def test_tessera_reads_colour_jpeg_chunks_imagecodecs_wrote(run_tessera, tmp_path):
    """Other writers' chunks may be colour JPEG: a `y,x,c` array whose chunks imagecodecs
    codes as RGB images decodes to interleaved RGB, as imagecodecs decodes it."""
    zarr = registered_zarr()
    from imagecodecs.numcodecs import Jpeg

    rgb = si.tissue(200, 300, seed=4)
    src = tmp_path / "rgb.zarr"
    a = zarr.create_array(str(src), shape=rgb.shape, chunks=(128, 128, 3), dtype="uint8", zarr_format=2,
                          compressors=Jpeg(level=85), fill_value=0)
    a[...] = rgb
    theirs = zarr.open_array(str(src), mode="r")[...]
    assert 30 <= psnr(theirs, rgb) < float("inf")
    out = tmp_path / "plain.zarr"
    proc = run_tessera.copy(src, out, "--codec", "none")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(zarr.open_array(str(out), mode="r")[...], theirs)


def test_default_conversion_is_lossless(converted, slide):
    import openslide

    _, lossless = converted
    zarr = registered_zarr()
    for p in levels(lossless / "0"):
        meta = json.loads((lossless / "0" / p / ".zarray").read_text())
        assert meta["compressor"]["id"] != "imagecodecs_jpeg"
    s = openslide.OpenSlide(str(slide))
    w, h = s.dimensions
    np.testing.assert_array_equal(zarr.open_array(str(lossless / "0" / "0"), mode="r")[...],
                                  si.reference_region(s, 0, 0, w, h))


def test_refusals_write_nothing(run_convert, slide, tmp_path):
    """Refused before anything is written, one line naming why: a uint16 image, Zarr v3,
    a quality out of range. The corrected command then runs without --overwrite."""
    import tifffile

    import convert_checks as cc

    wide = tmp_path / "wide.tif"
    tifffile.imwrite(wide, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64))
    cases = [
        (wide, ["--ngff", "0.4", "--codec", "jpeg"], ["wide.tif", "uint8", "uint16"]),
        (slide, ["--codec", "jpeg"], ["Zarr v2 only", "--ngff 0.4"]),
        (slide, ["--ngff", "0.4", "--codec", "jpeg", "--level", "0"], ["1...100"]),
    ]
    for k, (src, args, words) in enumerate(cases):
        out = tmp_path / f"refused{k}.ome.zarr"
        proc = run_convert.convert(src, out, *args)
        cc.assert_clean_failure(proc, words, " ".join(args), out)
        assert not out.exists() or not any(out.rglob("*")), f"{args}: files left behind: {list(out.rglob('*'))}"
    cc.convert(run_convert, wide, tmp_path / "refused0.ome.zarr", "--ngff", "0.4")


def test_copy_writes_keeps_and_drops_jpeg(converted, run_tessera, tmp_path):
    """`tessera copy --codec jpeg` to Zarr v2; a JPEG array copied with new chunks stays
    JPEG, re-coded as wide as the new chunks; copied to Zarr v3 it becomes blosc-zstd (no
    v3 reader decodes JPEG), and `--codec jpeg` to v3 is refused."""
    lossy, lossless = converted
    zarr = registered_zarr()
    source = zarr.open_array(str(lossless / "0" / "0"), mode="r")[...]
    out = tmp_path / "jpeg.zarr"
    proc = run_tessera.copy(lossless / "0" / "0", out, "--codec", "jpeg", "--level", "95")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / ".zarray").read_text())["compressor"] == {"id": "imagecodecs_jpeg", "level": 95}
    assert psnr(zarr.open_array(str(out), mode="r")[...], source) >= PSNR_BOUND_DB

    rechunked = tmp_path / "rechunked.zarr"
    proc = run_tessera.copy(lossy / "0" / "0", rechunked, "--chunks", "3,128,200")
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((rechunked / ".zarray").read_text())
    assert meta["chunks"] == [3, 128, 200] and meta["compressor"]["id"] == "imagecodecs_jpeg"
    assert psnr(zarr.open_array(str(rechunked), mode="r")[...], source) >= PSNR_BOUND_DB

    v3 = tmp_path / "v3.zarr"
    proc = run_tessera.copy(lossy / "0" / "0", v3, "--zarr-format", "3")
    assert proc.returncode == 0, proc.stderr
    names = json.dumps(json.loads((v3 / "zarr.json").read_text())["codecs"])
    assert "jpeg" not in names and "blosc" in names
    np.testing.assert_array_equal(zarr.open_array(str(v3), mode="r")[...],
                                  zarr.open_array(str(lossy / "0" / "0"), mode="r")[...])
    proc = run_tessera.copy(lossless / "0" / "0", tmp_path / "refused.zarr", "--zarr-format", "3", "--codec", "jpeg")
    assert proc.returncode != 0 and "Zarr v2 only" in proc.stderr, proc.stderr
