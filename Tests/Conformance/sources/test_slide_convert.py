"""`tessera convert` of whole-slide images (OpenSlide), checked against openslide-python.

Inputs are written at test time by tifffile (support/slide_inputs.py): an Aperio SVS (tiled
JPEG level 0, a 4× level, thumbnail, label, macro, MPP 0.499) and a generic tiled JPEG TIFF.
The reference is openslide-python with openslide-bin (OpenSlide 4.x), whose `read_region`
(un-premultiplied RGBA) is composited onto `openslide.background-color` with Pillow's
`paste(tile, mask=tile)`, as its `get_thumbnail` does, and as Tessera does.

Tessera links Debian's OpenSlide 3.4.1. Where 3.4.1 and 4.x differ, only what both give is
compared; the differences seen are listed in VERSION_DIFFERENCES below.

NDPI / MRXS: no PyPI or Debian package ships a sample. Checked 2026-11-29: openslide-python's
sdist carries SVS, generic TIFF and DICOM fixtures only; the wheels of mrxsslide 0.1.0,
mrxs-reader 0.1.0, ndpi2bids 0.1.2 and ndpi-demerger 0.1.2 hold code only; Debian bookworm's
openslide packages (libopenslide0, openslide-tools, python3-openslide,
python-openslide-examples) hold no slides; the OpenSlide test-data site is not reachable from
the test machines. So those vendors are not exercised here: they go through the same
SlideOpener code path.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import slide_inputs as si

openslide = pytest.importorskip("openslide")

NGFF = [pytest.param("0.5", id="ngff0.5"), pytest.param("0.4", id="ngff0.4")]
RGB = ["red", "green", "blue"]
RGB_COLORS = ["FF0000", "00FF00", "0000FF"]
FULL_RANGE = [{"min": 0, "max": 255, "start": 0, "end": 255}] * 3

# Properties OpenSlide 4.x (openslide-bin, the reference) reports that Debian's 3.4.1 does not.
VERSION_DIFFERENCES = {
    "only in 4.x": ("openslide.associated.<name>.width", "openslide.associated.<name>.height", "openslide.icc-size"),
}


def only_in_4x(key: str) -> bool:
    return key.startswith("openslide.associated.") or key == "openslide.icc-size"


def image_names(out: Path, ngff: str, count: int) -> list:
    names = []
    for i in range(count):
        _, attrs = cc.group_attrs(out / str(i))
        ome = attrs["ome"] if ngff == "0.5" else attrs
        names.append(ome["multiscales"][0]["name"])
    return names


def slide_source(path: Path, out: Path, ngff: str) -> ci.Source:
    """What the conversion of `path` must hold: level 0 as openslide-python reads it, with
    mpp as micrometre spacing, then each associated image by name."""
    slide = openslide.OpenSlide(str(path))
    w, h = slide.dimensions
    mpp = (float(slide.properties["openslide.mpp-y"]), float(slide.properties["openslide.mpp-x"]))
    main = ci.Expected(si.reference_region(slide, 0, 0, w, h), "cyx", spacing={"y": mpp[0], "x": mpp[1]},
                       units={"y": "micrometer", "x": "micrometer"}, channel_names=RGB, colors=RGB_COLORS,
                       name=path.name.split(".")[0], path="0")
    names = image_names(out, ngff, 1 + len(slide.associated_images))
    assert names[0] == main.name
    assert sorted(names[1:]) == sorted(slide.associated_images), (names, list(slide.associated_images))
    images = [main] + [ci.Expected(si.reference_associated(slide, n), "cyx", channel_names=RGB, colors=RGB_COLORS,
                                   name=n, path=str(k + 1)) for k, n in enumerate(names[1:])]
    return ci.Source(str(path), path, "slide", images, bioformats2raw=True)


@pytest.fixture(scope="module")
def svs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("svs")
    return si.write_svs(folder / "small.svs", si.tissue(1000, 1300))


@pytest.mark.parametrize("ngff", NGFF)
def test_svs_equals_openslide_python(svs, ngff, run_convert, tmp_path):
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(svs, out, ngff))
    source = slide_source(svs, out, ngff)
    assert [e.name for e in source.images[1:]] and {"label", "macro", "thumbnail"} <= {e.name for e in source.images}
    cc.check_output(out, source, ngff=ngff, method="mean", windows=FULL_RANGE)


def test_svs_metadata_keeps_every_property(svs, run_convert, tmp_path):
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, svs, out)
    attrs = cc.tc.load_json(out / "0" / "zarr.json")["attributes"]
    meta = attrs["tessera"]["source"]["metadata"]
    ours = meta["properties"]
    ref = dict(openslide.OpenSlide(str(svs)).properties)
    assert meta["vendor"] == ref["openslide.vendor"] == "aperio"
    common = set(ours) & set(ref)
    assert {k for k in set(ref) - common if not only_in_4x(k)} == set(), "properties the reference has that Tessera lost"
    assert set(ours) - common == set(), "properties only Tessera reports"
    assert {k: ours[k] for k in common} == {k: ref[k] for k in common}
    for key in ("aperio.MPP", "aperio.AppMag", "openslide.mpp-x", "openslide.mpp-y", "openslide.quickhash-1"):
        assert key in ours
    # physical size: the NGFF scale of level 0 is openslide's mpp (µm/pixel) on y and x
    scale = attrs["ome"]["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert scale == [1, float(ref["openslide.mpp-y"]), float(ref["openslide.mpp-x"])]


@pytest.mark.parametrize("level0", ["tiff", "openslide"])
def test_larger_multilevel_slide_sampled_regions(level0, run_convert, tmp_path, monkeypatch):
    """A 3-level slide too large to compare whole: level 0 regions across tile borders, at
    the edges and at random places equal openslide-python's — read as Aperio's TIFF page
    (the default) and through OpenSlide's read_region (TESSERA_SLIDE_LEVEL0=openslide)."""
    import zarr

    if level0 == "openslide":
        monkeypatch.setenv("TESSERA_SLIDE_LEVEL0", "openslide")

    h, w = 3000, 4100
    path = si.write_svs(tmp_path / "big.svs", si.tissue(h, w, seed=3), reductions=(4, 16), quality=80)
    slide = openslide.OpenSlide(str(path))
    assert slide.level_count == 3
    out = tmp_path / "big.ome.zarr"
    cc.convert(run_convert, path, out, "--jobs", "2")
    level0 = zarr.open_array(str(out / "0" / "0"), mode="r")
    assert level0.shape == (3, h, w)
    rng = np.random.default_rng(5)
    boxes = [(0, 0, 300, 200), (250, 250, 20, 20), (w - 333, h - 129, 333, 129), (1000, 2900, 1024, 100)]
    boxes += [(int(rng.integers(0, w - 200)), int(rng.integers(0, h - 150)), 200, 150) for _ in range(6)]
    for x, y, bw, bh in boxes:
        np.testing.assert_array_equal(level0[:, y:y + bh, x:x + bw], si.reference_region(slide, x, y, bw, bh),
                                      err_msg=f"region x={x} y={y} {bw}x{bh}")


@pytest.mark.parametrize("ngff", NGFF)
def test_generic_tiled_jpeg_tiff_equals_openslide_python(ngff, run_convert, tmp_path):
    """OpenSlide's `generic-tiff` is read by Tessera's own TIFF reader (Docs/convert.md,
    "Slides"): its pixels equal OpenSlide's all the same."""
    path = si.write_generic_tiff(tmp_path / "generic.tif", si.tissue(700, 900, seed=2))
    slide = openslide.OpenSlide(str(path))
    assert slide.properties["openslide.vendor"] == "generic-tiff"
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(path, out, ngff))
    exp = ci.Expected(si.reference_region(slide, 0, 0, 900, 700), "cyx", channel_names=RGB, colors=RGB_COLORS)
    cc.check_output(out, ci.Source(str(path), path, "tiff", [exp]), ngff=ngff, method="mean", windows=FULL_RANGE)


# ---------------------------------------------------------------------------
# Bad slides: one line naming the file, non-zero exit, nothing marked complete, no crash
# ---------------------------------------------------------------------------

BAD = {
    "truncated": si.truncated,
    "tile_offsets_out_of_range": si.tile_offsets_out_of_range,
    "undecodable_tiles": si.undecodable_tiles,
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_slide_fails_cleanly(case, svs, run_convert, tmp_path):
    bad = BAD[case](svs, tmp_path / f"{case}.svs")
    out = tmp_path / "out.ome.zarr"
    proc = run_convert("convert", bad, out)
    cc.assert_clean_failure(proc, [bad.name], case, out)
    if case != "truncated":
        # opened as a slide (OpenSlide recognises it and reads its properties); an Aperio
        # slide's level 0 is then read as the TIFF page it is (AperioLevelZero), so the
        # error names the page and tile that fail. The truncated file's directories are
        # gone, so OpenSlide does not recognise it and the TIFF reader names the damage.
        info = run_convert("info", bad)
        assert info.returncode == 0 and "slide" in info.stdout, info.stdout + info.stderr
        assert "page 0" in proc.stderr and "tile" in proc.stderr, proc.stderr


@pytest.mark.parametrize("case", ["tile_offsets_out_of_range", "undecodable_tiles"])
def test_bad_slide_read_by_openslide_fails_cleanly(case, svs, run_convert, tmp_path, monkeypatch):
    """The same damage met by OpenSlide's read_region (TESSERA_SLIDE_LEVEL0=openslide): its
    handle goes into its error state, which Tessera checks after every call and reports."""
    monkeypatch.setenv("TESSERA_SLIDE_LEVEL0", "openslide")
    bad = BAD[case](svs, tmp_path / f"{case}.svs")
    out = tmp_path / "out.ome.zarr"
    proc = run_convert("convert", bad, out)
    cc.assert_clean_failure(proc, [bad.name], case, out)
    assert "OpenSlide failed reading level 0" in proc.stderr, proc.stderr


def test_bad_slide_in_a_batch_does_not_stop_the_others(svs, run_convert, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    si.tile_offsets_out_of_range(svs, folder / "bad.svs")
    (folder / "good.svs").write_bytes(svs.read_bytes())
    out = tmp_path / "out"
    proc = run_convert("convert", folder, out)
    assert proc.returncode == 1, proc.stderr
    assert "bad.svs" in proc.stderr and "good.svs" not in proc.stderr.replace("bad.svs", "")
    assert cc.any_multiscales(out / "bad.ome.zarr") == []
    assert "multiscales" in json.dumps(cc.tc.load_json(out / "good.ome.zarr" / "0" / "zarr.json"))


def test_use_existing_levels_copies_the_slides_own_levels(svs, run_convert, tmp_path):
    """`--use-existing-levels`: level 1 is the slide's 4× level as OpenSlide reads it, with
    scale 4 × mpp."""
    import zarr

    slide = openslide.OpenSlide(str(svs))
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, svs, out, "--use-existing-levels", "--downsample", "nearest")
    w1, h1 = slide.level_dimensions[1]
    level1 = zarr.open_array(str(out / "0" / "1"), mode="r")[...]
    np.testing.assert_array_equal(level1, si.reference_region(slide, 0, 0, w1, h1, level=1))
    ms = cc.tc.load_json(out / "0" / "zarr.json")["attributes"]["ome"]["multiscales"][0]
    assert [d["path"] for d in ms["datasets"]] == ["0", "1"]
    mpp = float(slide.properties["openslide.mpp-x"])
    assert ms["datasets"][1]["coordinateTransformations"][0]["scale"] == pytest.approx([1, 4 * mpp, 4 * mpp])
