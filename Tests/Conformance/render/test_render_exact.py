"""`tessera render` against an independent numpy reference (Docs/render.md; issue 20,
must-show 1 through the CLI, and must-show 5's CLI side).

Images are converted by Tessera from TIFFs (8-bit, 16-bit as NGFF 0.5 and 0.4, float32,
8-bit RGB, 3-channel 16-bit), with 64-pixel chunks so that each has 4 levels. For several
levels x regions x sizes, the PNG (read by Pillow) and npy (np.load) outputs must equal
`support/render_reference.py`, which reads the stored levels with zarr-python and
recomputes level choice, read region, output size, resampling, windows and composite.
TIFF (tifffile) and HDF5 (h5py) outputs must equal the same npy reference, dtype kept.
Integers are compared exactly; float32 after area resampling to 1 ulp (float64 summation
order) and the 8-bit picture drawn from it to 1 grey level. JPEG is held to a PSNR.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import numpy as np
import pytest
import tifffile
from PIL import Image as PILImage

import render_reference as ref

HEIGHT, WIDTH = 300, 437
REGIONS = [None, (13, 7, 200, 150), (101, 51, 300, 211)]
# (level, size): forced levels without a size, and sizes that choose the level.
LEVELS = [(0, None), (2, None), (None, 64), (None, (90, 40)), (1, 50)]
# The PSNR a q90 JPEG (default quality) of these smooth test pictures reaches at least:
# the first runs gave 45.4 (u8), 45.9 (u16), 45.1 (rgb) and 43.5 dB (c3 composite) at
# 200x137; the bound leaves room for other libjpeg-turbo builds.
JPEG_MIN_PSNR = 40.0


def smooth(seed: int, shape=(HEIGHT, WIDTH)) -> np.ndarray:
    """A picture in [0, 1]: waves, a gradient, two discs and a little noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    v = 0.45 + 0.2 * np.sin(x / (19.0 + seed)) * np.cos(y / 13.0) + 0.25 * (x / shape[1])
    v[(y - 80) ** 2 + (x - 120) ** 2 < 30 ** 2] += 0.2
    v[(y - 200) ** 2 + (x - 330) ** 2 < 45 ** 2] -= 0.25
    v += rng.normal(0, 0.01, shape)
    return np.clip(v, 0, 1)


IMAGES = {
    # name: (array written to TIFF, extra convert flags, tifffile kwargs)
    "u8": (lambda: (smooth(1) * 255).round().astype(np.uint8), [], {}),
    "u16": (lambda: (smooth(2) * 60000 + 1000).round().astype(np.uint16), [], {}),
    "u16v04": (lambda: (smooth(2) * 60000 + 1000).round().astype(np.uint16), ["--ngff", "0.4"], {}),
    "f32": (lambda: (smooth(3) * 7.5 - 2.25).astype(np.float32), [], {}),
    "rgb": (lambda: np.stack([(smooth(s) * 255).round().astype(np.uint8) for s in (4, 5, 6)], axis=-1), [],
            {"photometric": "rgb"}),
    "c3": (lambda: np.stack([(smooth(s) * 50000).round().astype(np.uint16) for s in (7, 8, 9)]),
           ["--pages-as", "c"], {"photometric": "minisblack"}),
}
SINGLE = ["u8", "u16", "u16v04", "f32"]


@pytest.fixture(scope="module")
def images(tmp_path_factory, run_convert):
    root = tmp_path_factory.mktemp("render")
    out = {}
    for name, (make, flags, kwargs) in IMAGES.items():
        tif = root / f"{name}.tif"
        tifffile.imwrite(tif, make(), **kwargs)
        zarr_path = root / f"{name}.ome.zarr"
        run_convert("convert", tif, zarr_path, "--chunks", "64", *flags, check=True)
        out[name] = zarr_path
    return out


def args_for(level, size, region, **more):
    args = []
    if level is not None:
        args += ["--level", str(level)]
    if size is not None:
        args += ["--size", str(size) if isinstance(size, int) else f"{size[0]},{size[1]}"]
    if region is not None:
        args += ["--region", ",".join(map(str, region))]
    for k, v in more.items():
        if v is not None:
            args += [f"--{k}", str(v)]
    return args


def render(run_tessera, image, out, args):
    proc = run_tessera("render", image, out, *args)
    assert proc.returncode == 0, f"render {args} failed: {proc.stderr}"
    return proc


def read_png(path):
    im = PILImage.open(path)
    return im.mode, np.array(im)


def expect_equal(got, want, approximate: bool, what: str):
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if approximate:
        if got.dtype.kind == "f":
            np.testing.assert_array_max_ulp(got, want, maxulp=1)
        else:
            diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
            assert diff.max() <= 1, f"{what}: differs by {diff.max()}"
    else:
        assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
        mismatch = np.argwhere(got != want)
        assert mismatch.size == 0, f"{what}: {len(mismatch)} pixels differ, first at {mismatch[0].tolist()}"


def resampled(info) -> bool:
    return info["size"] != info["read"][2:]


@pytest.mark.parametrize("name", list(IMAGES))
@pytest.mark.parametrize("level,size", LEVELS)
@pytest.mark.parametrize("region", REGIONS)
def test_png_and_npy_equal_the_reference(images, run_tessera, tmp_path, name, level, size, region):
    image = images[name]
    float_resampled = lambda info: name == "f32" and resampled(info)

    render(run_tessera, image, tmp_path / "a.npy", args_for(level, size, region))
    kind, want, info = ref.render(image, fmt="npy", level=level, size=size, region=region)
    got = np.load(tmp_path / "a.npy")
    expect_equal(got, want, float_resampled(info), f"{name} npy level={level} size={size} region={region}")

    render(run_tessera, image, tmp_path / "a.png", args_for(level, size, region))
    kind, want, info = ref.render(image, level=level, size=size, region=region)
    mode, got = read_png(tmp_path / "a.png")
    assert mode == {"gray8": "L", "rgb": "RGB"}[kind]
    expect_equal(got, want, float_resampled(info), f"{name} png level={level} size={size} region={region}")

    if name in SINGLE:
        window = "0,1" if name == "f32" else "none"
        render(run_tessera, image, tmp_path / "b.png", args_for(level, size, region, bits=16, window=window))
        win = (0.0, 1.0) if name == "f32" else "none"
        kind, want, info = ref.render(image, level=level, size=size, region=region, bits=16, window=win)
        mode, got = read_png(tmp_path / "b.png")
        assert mode == "I;16" and kind == "gray16"
        expect_equal(got, want, float_resampled(info), f"{name} png16 level={level} size={size} region={region}")


@pytest.mark.parametrize("name", SINGLE + ["c3"])
@pytest.mark.parametrize("low,high", [(1, 99), (0.1, 99.9), (0, 100), (37.5, 62.5)])
def test_percentile_windows_equal_numpy(images, run_tessera, tmp_path, name, low, high):
    image = images[name]
    region = (13, 7, 200, 150)
    channel = "1" if name == "c3" else None
    proc = render(run_tessera, image, tmp_path / "p.png",
                  args_for(1, None, region, window=f"p{low},p{high}", channel=channel))
    printed = re.search(r"window (\S+),(\S+?), \d+ bytes", proc.stderr)
    assert printed, proc.stderr
    kind, want, info = ref.render(image, level=1, region=region, window=(low, high, "p"),
                                  c=[1] if name == "c3" else None)
    assert [float(printed.group(1)), float(printed.group(2))] == list(info["windows"][0])
    # And the same data through numpy directly, with the level's pixels as zarr-python reads them.
    read = ref.render(image, fmt="npy", level=1, region=region, c=[1] if name == "c3" else None)[1]
    fn = np.nanpercentile if read.dtype.kind == "f" else np.percentile
    assert [float(printed.group(1)), float(printed.group(2))] == [float(v) for v in fn(read, [low, high])]
    mode, got = read_png(tmp_path / "p.png")
    expect_equal(got, want, False, f"{name} window p{low},p{high}")


DATA_LEVELS = [(0, None), (2, None), (None, 64), (1, 50)]


@pytest.mark.parametrize("name", list(IMAGES))
@pytest.mark.parametrize("level,size", DATA_LEVELS)
@pytest.mark.parametrize("region", REGIONS[1:])
def test_tiff_and_hdf5_equal_the_reference(images, run_tessera, tmp_path, name, level, size, region):
    """TIFF (tifffile) and HDF5 (h5py) keep the dtype and equal the numpy reference;
    several channels are TIFF pages, read back as (c, y, x)."""
    import h5py
    image = images[name]
    kind, want, info = ref.render(image, fmt="npy", level=level, size=size, region=region)
    approximate = name == "f32" and resampled(info)
    what = f"{name} level={level} size={size} region={region}"

    render(run_tessera, image, tmp_path / "a.tif", args_for(level, size, region))
    with tifffile.TiffFile(tmp_path / "a.tif") as tif:
        got = tif.asarray()
        assert len(tif.pages) == (want.shape[0] if want.ndim == 3 else 1)
        described = json.loads(tif.pages[0].description)
    expect_equal(got, want, approximate, f"tiff {what}")
    assert got.dtype == want.dtype
    assert described["shape"] == list(want.shape) and described["level"] == info["level"]
    assert described["region"] == [info["read"][0], info["read"][1], info["read"][2], info["read"][3]]

    render(run_tessera, image, tmp_path / "a.h5", args_for(level, size, region))
    with h5py.File(tmp_path / "a.h5", "r") as f:
        assert list(f.keys()) == ["image"]
        got = f["image"][()]
        attrs = dict(f["image"].attrs)
    expect_equal(got, want, approximate, f"h5 {what}")
    assert got.dtype == want.dtype
    assert attrs["axes"] == ("cyx" if want.ndim == 3 else "yx")
    rendered = json.loads(attrs["render"])
    assert rendered["level"] == info["level"] and rendered["dtype"] == str(want.dtype)
    assert rendered["channels"] == list(range(want.shape[0] if want.ndim == 3 else 1))
    # The image's own NGFF metadata, as stored.
    group = ref.Image(image)
    assert len(json.loads(attrs["ome_multiscales"])[0]["datasets"]) == len(group.levels)
    assert json.loads(attrs["omero"]) == group.omero


def test_tiff_and_hdf5_are_made_in_memory(images, run_tessera, tmp_path):
    """Nothing but OUT is written: no temporary file is left in the folder or the cwd;
    and the bytes are reproducible."""
    out = tmp_path / "only"
    out.mkdir()
    for ext in ("tif", "h5"):
        proc = subprocess.run([str(run_tessera.binary), "render", str(images["c3"]), f"x.{ext}", "--level", "2"],
                              capture_output=True, text=True, cwd=out, timeout=60)
        assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["x.h5", "x.tif"]
    # The same render is the same bytes a second later (no HDF5 modification times).
    first = (out / "x.h5").read_bytes()
    time.sleep(1.1)
    assert run_tessera("render", images["c3"], out / "x.h5", "--level", "2", "--overwrite").returncode == 0
    assert (out / "x.h5").read_bytes() == first


@pytest.mark.parametrize("name", ["u16", "f32"])
@pytest.mark.parametrize("colormap", ["viridis", "magma", "cividis"])
def test_colormaps_equal_matplotlib(images, run_tessera, tmp_path, name, colormap):
    render(run_tessera, images[name], tmp_path / "m.png", args_for(2, None, None, colormap=colormap, window="p1,p99"))
    kind, want, info = ref.render(images[name], level=2, window=(1, 99, "p"), colormap=colormap)
    mode, got = read_png(tmp_path / "m.png")
    assert mode == "RGB"
    expect_equal(got, want, False, f"{name} {colormap}")


@pytest.mark.parametrize("name", ["u8", "u16", "c3"])
def test_nearest_resampling_keeps_stored_values(images, run_tessera, tmp_path, name):
    args = args_for(None, 70, (5, 9, 400, 280), resample="nearest")
    render(run_tessera, images[name], tmp_path / "n.npy", args)
    kind, want, info = ref.render(images[name], fmt="npy", size=70, region=(5, 9, 400, 280), resample_method="nearest")
    assert resampled(info)
    expect_equal(np.load(tmp_path / "n.npy"), want, False, f"{name} nearest")


@pytest.mark.parametrize("name", ["u8", "u16", "rgb", "c3"])
def test_jpeg_within_psnr(images, run_tessera, tmp_path, name):
    render(run_tessera, images[name], tmp_path / "q.jpg", args_for(None, 200, None))
    kind, want, info = ref.render(images[name], size=200)
    im = PILImage.open(tmp_path / "q.jpg")
    assert im.mode == ("L" if kind == "gray8" else "RGB")
    got = np.array(im)
    assert got.shape == want.shape
    assert ref.psnr(got, want) >= JPEG_MIN_PSNR, f"{name}: PSNR {ref.psnr(got, want):.1f} dB"


def test_rgb_image_comes_back_as_its_pixels(images, run_tessera, tmp_path):
    """An RGB source (channels FF0000/00FF00/0000FF, window 0-255) renders to itself."""
    render(run_tessera, images["rgb"], tmp_path / "rgb.png", [])
    mode, got = read_png(tmp_path / "rgb.png")
    assert mode == "RGB"
    np.testing.assert_array_equal(got, IMAGES["rgb"][0]())


def test_thumbnail_reads_a_small_level(images, run_tessera, tmp_path):
    """size=64 of a 437x300 image reads level 2 (110x75), never level 0."""
    env = dict(os.environ, TESSERA_TRACE_READS="1")
    proc = subprocess.run([str(run_tessera.binary), "render", str(images["u16"]), str(tmp_path / "t.png"), "--size", "64"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    reads = re.findall(r"tessera-trace: render read level (\d+)", proc.stderr)
    assert reads == ["2"], proc.stderr
    assert PILImage.open(tmp_path / "t.png").size == (64, 44)


BAD = [
    (["--level", "9"], "level"),
    (["--level=-1"], "level"),
    (["--channel", "3"], "c"),
    (["--channel", "0,0"], "c"),
    (["--t", "1"], "t"),
    (["--z", "2"], "z"),
    (["--region", "0,0,438,10"], "region"),
    (["--region", "400,0,38,301"], "region"),
    (["--region", "0,0,0,10"], "region"),
    (["--region", "0,0,4611686018427387904,5"], "region"),
    (["--size", "0"], "size"),
    (["--size", "10,20,30"], "size"),
    (["--window", "5,1"], "window"),
    (["--window", "p99,p1"], "window"),
    (["--window", "p101,p2"], "window"),
    (["--window", "abc"], "window"),
    (["--window", "nan,4"], "window"),
    (["--format", "gif"], "format"),
    (["--bits", "12"], "bits"),
    (["--quality", "80"], "quality"),
    (["--colormap", "jet"], "colormap"),
    (["--resample", "cubic"], "resample"),
    (["--negative", "keep"], "negative"),
]


@pytest.mark.parametrize("args,parameter", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_parameters_are_one_clear_error(images, run_tessera, tmp_path, args, parameter):
    out = tmp_path / "bad.png"
    proc = run_tessera("render", images["u16"], out, *args)
    assert proc.returncode != 0
    assert "Error:" in proc.stderr or "error:" in proc.stderr
    first = proc.stderr.strip().splitlines()[0]
    assert f"{parameter}:" in first, proc.stderr
    assert "Fatal error" not in proc.stderr and "Stack dump" not in proc.stderr
    assert not out.exists()


def test_huge_size_never_upsamples(images, run_tessera, tmp_path):
    """size only shrinks: a 100000² box at level 3 gives level 3's own 55x38 (the caps on
    output and read bytes are RenderPlanTests')."""
    proc = run_tessera("render", images["u16"], tmp_path / "big.png", "--size", "100000,100000", "--level", "3")
    assert proc.returncode == 0, proc.stderr
    assert PILImage.open(tmp_path / "big.png").size == (55, 38)


def test_existing_output_is_kept(images, run_tessera, tmp_path):
    out = tmp_path / "keep.png"
    out.write_bytes(b"not mine")
    proc = run_tessera("render", images["u8"], out)
    assert proc.returncode != 0 and "--overwrite" in proc.stderr
    assert out.read_bytes() == b"not mine"
    assert run_tessera("render", images["u8"], out, "--overwrite").returncode == 0
    assert PILImage.open(out).mode == "L"


def test_not_an_image(run_tessera, tmp_path):
    proc = run_tessera("render", tmp_path / "missing.ome.zarr", tmp_path / "x.png")
    assert proc.returncode == 1
    assert "no NGFF image" in proc.stderr
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("name", ["u16", "f32", "rgb"])
def test_source_file_renders_like_its_conversion(images, run_tessera, tmp_path, name):
    """A TIFF rendered directly equals the render of its conversion at level 0 (the
    TIFF has no stored pyramid, so every read is level 0)."""
    tif = images[name].parent / f"{name}.tif"
    region = ["--region", "13,7,200,150"]
    render(run_tessera, tif, tmp_path / "s.npy", region)
    pixels = tifffile.imread(tif)
    want = np.moveaxis(pixels, -1, 0)[:, 7:157, 13:213] if name == "rgb" else pixels[7:157, 13:213]
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), want)
    window = [] if name == "rgb" else ["--window", "p1,p99"]
    render(run_tessera, tif, tmp_path / "s.png", region + window)
    render(run_tessera, images[name], tmp_path / "z.png", region + window + ["--level", "0"])
    np.testing.assert_array_equal(read_png(tmp_path / "s.png")[1], read_png(tmp_path / "z.png")[1])
