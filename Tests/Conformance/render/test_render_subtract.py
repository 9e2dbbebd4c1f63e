"""Background subtraction, `subtract=` (issue 20, must-show 2; Docs/render.md,
"Background subtraction"), through `tessera render` and through the gateway.

The image has a known synthetic background: a gradient (1000 -> 3000 across) plus
noise plus features (discs of +2000 and a bright line), uint16, 3 channels, 1024x768.
A dark image (the gradient plus a little noise) is its own NGFF image beside it, once
with the same (c, y, x) shape and once as a 2-D (y, x) frame that is broadcast over c.

Each mode is computed here independently with numpy / scipy / skimage from the stored
levels (zarr-python) and the contract's rules: the background level B, the kernel at B,
the whole-plane filter at B (scipy `reflect` edges, skimage's rolling ball), the
bilinear upsampling to the render grid, `r = x - bg`, the negative policy and the output
type. Constant, percentile and named image are exact; rolling ball and median are exact
too (both are order statistics / sums done in the same float64 operations); gaussian
is held to 1e-9 relative in float64 (scipy's C loop sums in another order), i.e. to one
unit of the int output except at exact .5 ties, which are counted (there are none).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import scipy.ndimage as ndi
import tifffile
import zarr
from skimage.restoration import rolling_ball

import render_reference as ref
from gateway_server import GatewayServer
from http_exchange import get

HEIGHT, WIDTH = 768, 1024
DISCS = [(200, 300, 40), (500, 700, 60), (600, 150, 30)]   # y, x, radius
LINE_ROW = 384


def truth_background() -> np.ndarray:
    return np.broadcast_to(np.linspace(1000.0, 3000.0, WIDTH), (HEIGHT, WIDTH))


def features() -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    f = np.zeros((HEIGHT, WIDTH))
    for cy, cx, r in DISCS:
        f[(y - cy) ** 2 + (x - cx) ** 2 < r * r] += 2000.0
    f[LINE_ROW:LINE_ROW + 3, 100:900] += 3000.0
    return f


def synthetic() -> np.ndarray:
    rng = np.random.default_rng(20)
    planes = [truth_background() * (1 + 0.1 * c) + 50 * rng.standard_normal((HEIGHT, WIDTH)) + features()
              for c in range(3)]
    return np.clip(np.rint(np.stack(planes)), 0, 65535).astype(np.uint16)


def dark(channels: int | None) -> np.ndarray:
    rng = np.random.default_rng(21)
    shape = (HEIGHT, WIDTH) if channels is None else (channels, HEIGHT, WIDTH)
    return np.clip(np.rint(truth_background() + rng.standard_normal(shape)), 0, 65535).astype(np.uint16)


@pytest.fixture(scope="module")
def data(tmp_path_factory, run_convert):
    base = tmp_path_factory.mktemp("subtract")
    root = base / "data"
    root.mkdir()
    for name, pixels, flags in [("img", synthetic(), ["--pages-as", "c"]), ("dark", dark(3), ["--pages-as", "c"]),
                                ("dark2d", dark(None), [])]:
        tif = base / f"{name}.tif"
        tifffile.imwrite(tif, pixels, photometric="minisblack")
        run_convert("convert", tif, root / f"{name}.ome.zarr", "--chunks", "128", *flags, check=True)
    return root


# ---- the reference -------------------------------------------------------------------

def plane(image: ref.Image, level: int, c: int) -> np.ndarray:
    arr = image.levels[level]
    index = [0] * len(image.axes)
    if image.ax("c") is not None:
        index[image.ax("c")] = c if arr.shape[image.ax("c")] > 1 else 0
    index[image.ax("y")] = slice(None)
    index[image.ax("x")] = slice(None)
    return np.asarray(arr[tuple(index)])


def background_level(image: ref.Image, render_level: int, parameter: float) -> int:
    fx = [f[image.ax("x")] for f in image.factors]
    candidates = [l for l in range(len(fx)) if fx[l] >= fx[render_level] and parameter / fx[l] >= 8]
    return max(candidates, key=lambda l: fx[l]) if candidates else render_level


def upsample_axis(n_out: int, ratio: float, n_b: int):
    s = np.clip((np.arange(n_out) + 0.5) * ratio - 0.5, 0, n_b - 1)
    i0 = np.floor(s).astype(np.int64)
    return i0, np.minimum(i0 + 1, n_b - 1), s - i0


def upsample(bg_b: np.ndarray, ratio_y: float, ratio_x: float, n_y: int, n_x: int) -> np.ndarray:
    i0, i1, w = upsample_axis(n_y, ratio_y, bg_b.shape[0])
    tall = (1 - w)[:, None] * bg_b[i0, :] + w[:, None] * bg_b[i1, :]
    j0, j1, v = upsample_axis(n_x, ratio_x, bg_b.shape[1])
    return (1 - v)[None, :] * tall[:, j0] + v[None, :] * tall[:, j1]


def odd_nearest(v: float) -> int:
    return max(3, int(math.floor((v - 1) / 2 + 0.5)) * 2 + 1)


def smooth_background(image: ref.Image, mode: str, parameter: float, level: int, c: int, read):
    """The whole-plane estimate at B, upsampled to the render level, cropped to `read`."""
    b = background_level(image, level, parameter)
    fb = image.factors[b][image.ax("x")]
    plane_b = plane(image, b, c)
    if mode == "ball":
        est = rolling_ball(plane_b.astype(np.float64), radius=parameter / fb)
        detail = f"r={parameter / fb:g}"
    elif mode == "median":
        k = odd_nearest(parameter / fb)
        est = ndi.median_filter(plane_b, size=k, mode="reflect").astype(np.float64)
        detail = f"k={k}"
    else:
        est = ndi.gaussian_filter(plane_b.astype(np.float64), sigma=parameter / fb, mode="reflect", truncate=4.0)
        detail = f"sigma={parameter / fb:g}"
    fr = image.factors[level]
    ratio_y = fr[image.ax("y")] / image.factors[b][image.ax("y")]
    ratio_x = fr[image.ax("x")] / image.factors[b][image.ax("x")]
    shape = image.levels[level].shape
    full = upsample(est, ratio_y, ratio_x, shape[image.ax("y")], shape[image.ax("x")])
    rx, ry, rw, rh = read
    return full[ry:ry + rh, rx:rx + rw], b, detail


def finish(r: np.ndarray, dtype, negative: str, integral: bool):
    """The negative policy and the output type of Docs/render.md."""
    dtype = np.dtype(dtype)
    if negative == "float64":   # the float64 r itself, to look for .5 ties
        return r
    if negative == "keep":
        if dtype.kind in "biu" and dtype.itemsize <= 2:
            return np.rint(r).astype(np.int32) if integral else r.astype(np.float32)
        return r.astype(np.float32 if dtype == np.float32 else np.float64)
    shift = float(negative.split(":")[1]) if negative.startswith("shift:") else 0.0
    if dtype.kind == "f":
        v = r + shift
        return (np.maximum(v, 0) if negative == "clip" else v).astype(dtype)
    info = np.iinfo(dtype)
    low = 0 if negative == "clip" else info.min
    return np.clip(np.rint(r + shift), low, info.max).astype(dtype)


def reference(path, mode: str, value, negative="clip", level=0, region=None, c=None, dark_path=None):
    """(values (c, y, x) or (y, x), the B level or None, the kernel detail)."""
    image = ref.Image(path)
    channels = c if c is not None else [0, 1, 2]
    kind, raw, info = ref.render(path, fmt="npy", level=level, region=region, c=channels)
    raw = raw if raw.ndim == 3 else raw[None]
    read = info["read"]
    out, b, detail = [], None, None
    for i, ch in enumerate(channels):
        x = raw[i].astype(np.float64)
        integral = True
        if mode == "constant":
            bg = float(value)
            integral = bg == round(bg)
        elif mode == "percentile":
            bg = float(np.percentile(raw[i], value))
            integral = bg == round(bg)
        elif mode == "image":
            dimg = ref.Image(dark_path)
            rx, ry, rw, rh = read
            bg = plane(dimg, level, ch)[ry:ry + rh, rx:rx + rw].astype(np.float64)
        else:
            bg, b, detail = smooth_background(image, mode, value, level, ch, read)
            integral = False
        out.append(finish(x - bg, raw.dtype, negative, integral))
    values = np.stack(out)
    return (values if len(channels) > 1 else values[0]), b, detail


def render_npy(run_tessera, tmp_path, image, *flags):
    out = tmp_path / "s.npy"
    proc = run_tessera("render", image, out, "--overwrite", *flags)
    assert proc.returncode == 0, proc.stderr
    return np.load(out), proc.stderr


def ties(r: np.ndarray) -> int:
    return int(np.count_nonzero(np.abs(np.abs(r - np.floor(r)) - 0.5) < 1e-6))


# ---- exact modes ----------------------------------------------------------------------

EXACT = [
    # subtract, negative, level, region, channels
    ("120", "clip", 0, (100, 50, 300, 200), None),
    ("1500.5", "keep", 1, None, [1]),
    ("2500", "clip", 1, (64, 32, 512, 384), None),
    ("2500", "shift:100", 2, None, [0, 2]),
    ("p5", "clip", 1, (13, 7, 600, 500), None),
    ("p37.5", "keep", 2, None, [2]),
    ("p50", "keep", 1, (0, 0, 301, 1), [0]),
    ("image:data/dark.ome.zarr", "clip", 1, (100, 50, 300, 200), None),
    ("image:data/dark.ome.zarr", "keep", 0, (500, 300, 200, 100), [1]),
    ("image:data/dark2d.ome.zarr", "clip", 2, None, None),
    ("image:data/dark2d.ome.zarr", "shift:50", 0, (10, 10, 128, 64), [2]),
]


def mode_of(spec: str):
    if spec.startswith("p"):
        return "percentile", float(spec[1:])
    if spec.startswith("image:"):
        return "image", spec.split("/", 1)[1]
    return "constant", float(spec)


@pytest.mark.parametrize("spec,negative,level,region,channels", EXACT)
def test_exact_modes_equal_numpy(data, run_tessera, tmp_path, spec, negative, level, region, channels):
    mode, value = mode_of(spec)
    flags = ["--subtract", spec, "--negative", negative, "--level", str(level), "--root", f"data={data}"]
    if region:
        flags += ["--region", ",".join(map(str, region))]
    if channels:
        flags += ["--channel", ",".join(map(str, channels))]
    got, log = render_npy(run_tessera, tmp_path, data / "img.ome.zarr", *flags)
    want, _, _ = reference(data / "img.ome.zarr", mode, value, negative, level, region, channels,
                           dark_path=data / value if mode == "image" else None)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    mismatch = np.argwhere(got != want)
    assert mismatch.size == 0, f"{len(mismatch)} values differ, first at {mismatch[0].tolist()}"
    assert "subtract " in log


def test_percentile_keep_is_int32_when_whole_and_float32_otherwise(data, run_tessera, tmp_path):
    # 301 values: p50 is an order statistic (whole); p37.5 of 301 values interpolates.
    whole, _ = render_npy(run_tessera, tmp_path, data / "img.ome.zarr", "--subtract", "p50", "--negative", "keep",
                          "--region", "0,0,301,1", "--channel", "0")
    assert whole.dtype == np.int32
    frac, _ = render_npy(run_tessera, tmp_path, data / "img.ome.zarr", "--subtract", "p37.3", "--negative", "keep",
                         "--region", "0,0,301,1", "--channel", "0")
    assert frac.dtype == np.float32


# ---- smooth modes ---------------------------------------------------------------------

SMOOTH = [
    # mode, parameter, level, region
    ("ball", 64, 0, (100, 50, 300, 200)),      # B = level 3 (64/8 = 8), r = 8
    ("ball", 40, 2, None),                     # 40/8 < 8: B = the render level 2, r = 10
    ("ball", 48, 1, (0, 0, 1024, 768)),        # B = level 2, r = 12, the image's edges
    ("median", 64, 0, (100, 50, 300, 200)),    # B = level 3, k = 9
    ("median", 12, 0, (900, 700, 124, 68)),    # B = level 0, k = 13, bottom-right corner
    ("median", 40, 2, None),                   # B = level 2, k = 9 (10 -> 9: odd nearest, half up)
    ("gaussian", 40, 0, (100, 50, 300, 200)),  # B = level 2, sigma = 10
    ("gaussian", 16, 1, (0, 300, 1024, 100)),  # B = level 1, sigma = 8
]


@pytest.mark.parametrize("negative", ["keep", "clip"])
@pytest.mark.parametrize("mode,parameter,level,region", SMOOTH)
def test_smooth_modes_equal_scipy_and_skimage(data, run_tessera, tmp_path, mode, parameter, level, region, negative):
    flags = ["--subtract", f"{mode}:{parameter}", "--negative", negative, "--level", str(level)]
    if region:
        flags += ["--region", ",".join(map(str, region))]
    got, log = render_npy(run_tessera, tmp_path, data / "img.ome.zarr", *flags)
    want, b, detail = reference(data / "img.ome.zarr", mode, parameter, negative, level, region)
    assert f"{mode}:{parameter} level {b} ({detail})" in log, log
    assert got.shape == want.shape and got.dtype == want.dtype
    if mode in ("ball", "median"):
        np.testing.assert_array_equal(got, want)
    elif negative == "keep":
        # float32 of float64 results agreeing to 1e-9 relative: at most 1 ulp apart.
        np.testing.assert_array_max_ulp(got, want, maxulp=1)
    else:
        # Integers: equal, and no float64 result sits within 1e-6 of a .5 tie, where a
        # last-bit difference from scipy's summation order could round the other way.
        r, _, _ = reference(data / "img.ome.zarr", mode, parameter, "float64", level, region)
        assert ties(r) == 0
        np.testing.assert_array_equal(got, want)


def test_subtraction_comes_before_resampling_and_windows(data, run_tessera, tmp_path):
    """size= resamples the subtracted values (area, integers rounded); p-windows of a
    PNG are percentiles of the subtracted values."""
    region = (100, 50, 600, 400)
    got, _ = render_npy(run_tessera, tmp_path, data / "img.ome.zarr", "--subtract", "median:64", "--level", "0",
                        "--region", ",".join(map(str, region)), "--size", "250", "--channel", "1")
    sub, _, _ = reference(data / "img.ome.zarr", "median", 64, "clip", 0, region, [1])
    assert got.shape == (167, 250)
    np.testing.assert_array_equal(got, ref.resample(sub, 250, 167, "area"))
    out = tmp_path / "w.png"
    proc = run_tessera("render", data / "img.ome.zarr", out, "--subtract", "median:64", "--level", "0", "--channel", "1",
                       "--region", ",".join(map(str, region)), "--window", "p1,p99")
    assert proc.returncode == 0, proc.stderr
    printed = re.search(r"window (\S+),(\S+?), \d+ bytes", proc.stderr)
    assert [float(printed.group(1)), float(printed.group(2))] == [float(v) for v in np.percentile(sub, [1, 99])]


def test_features_keep_their_contrast(data, run_tessera, tmp_path):
    """With the gradient gone, the discs stand 2000 above a flat floor (within 5 %).
    The smooth kernels must be large beside the features (discs of radius 40 and 60):
    median:96 leaves only 1811 and 509 (the discs fill much of its window) and
    gaussian:64 1862 and 1689 (the blur lifts the background under them), measured."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    for spec in ["median:192", "ball:96", "gaussian:256", "image:data/dark2d.ome.zarr"]:
        got, _ = render_npy(run_tessera, tmp_path, data / "img.ome.zarr", "--subtract", spec, "--negative", "keep",
                            "--channel", "0", "--root", f"data={data}")
        for cy, cx, r in DISCS[:2]:
            inside = (y - cy) ** 2 + (x - cx) ** 2 < (r - 4) ** 2
            ring = ((y - cy) ** 2 + (x - cx) ** 2 > (r + 25) ** 2) & ((y - cy) ** 2 + (x - cx) ** 2 < (r + 45) ** 2)
            ring &= np.abs(y - LINE_ROW) > 10
            contrast = got[inside].mean() - got[ring].mean()
            assert abs(contrast - 2000) < 0.05 * 2000, (spec, cy, cx, contrast)


def test_cli_background_needs_its_root_and_the_same_shape(data, run_tessera, tmp_path):
    """The CLI finds image:ROOT/PATH through --root; another shape is one line naming both."""
    out = tmp_path / "x.npy"
    proc = run_tessera("render", data / "img.ome.zarr", out, "--subtract", "image:data/dark.ome.zarr")
    assert proc.returncode != 0 and "--root data=" in proc.stderr and not out.exists()
    proc = run_tessera("render", data / "img.ome.zarr", out, "--subtract", "image:data/missing.ome.zarr", "--root", f"data={data}")
    assert proc.returncode != 0 and "no NGFF image" in proc.stderr and not out.exists()
    small = tmp_path / "small"
    small.mkdir()
    tifffile.imwrite(tmp_path / "small.tif", dark(None)[:500])
    run_tessera("convert", tmp_path / "small.tif", small / "dark.ome.zarr", "--chunks", "128")
    proc = run_tessera("render", data / "img.ome.zarr", out, "--subtract", "image:lab/dark.ome.zarr", "--root", f"lab={small}")
    assert proc.returncode != 0 and not out.exists()
    assert ("subtract: background image lab/dark.ome.zarr has shape [500,1024] at level 0, the image has [3,768,1024]"
            in proc.stderr.splitlines()[0]), proc.stderr


# ---- the gateway ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tessera_bin, data):
    srv = GatewayServer(tessera_bin, "--root", f"data={data}")
    try:
        yield srv
    finally:
        assert srv.stop() == 0


GATEWAY = [
    ("subtract=p5&level=1&format=npy", ["--subtract", "p5", "--level", "1"], "npy", "p5 of the region read", "uint16"),
    ("subtract=image:data/dark.ome.zarr&negative=keep&level=2&format=tiff",
     ["--subtract", "image:data/dark.ome.zarr", "--negative", "keep", "--level", "2"], "tif", "image data/dark.ome.zarr level 2", "int32"),
    ("subtract=ball:64&region=100,50,300,200&format=h5&negative=keep",
     ["--subtract", "ball:64", "--region", "100,50,300,200", "--negative", "keep"], "h5", "ball:64 level 3 (r=8)", "float32"),
    ("subtract=median:64&size=256&window=p1,p99&c=0", ["--subtract", "median:64", "--size", "256", "--window", "p1,p99",
                                                      "--channel", "0"], "png", "median:64 level 3 (k=9)", "uint16"),
    ("subtract=gaussian:40&negative=shift:100&level=1&format=npy&c=2",
     ["--subtract", "gaussian:40", "--negative", "shift:100", "--level", "1", "--channel", "2"], "npy", "gaussian:40 level 2 (sigma=10)", "uint16"),
]


@pytest.mark.parametrize("query,flags,ext,summary,dtype", GATEWAY)
def test_gateway_answers_the_cli_bytes_and_says_what_it_did(server, data, run_tessera, tmp_path, query, flags, ext, summary, dtype):
    status, headers, body = get(server, "/render/data/img.ome.zarr?" + query)
    assert status == 200, body
    out = tmp_path / f"cli.{ext}"
    proc = run_tessera("render", data / "img.ome.zarr", out, *flags, "--root", f"data={data}", "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert body == out.read_bytes()
    assert summary in headers["x-tessera-subtract"]
    assert headers["x-tessera-dtype"] == dtype
    again = get(server, "/render/data/img.ome.zarr?" + query, headers={"If-None-Match": headers["etag"]})
    assert again[0] == 304


def background_cache(srv) -> dict[str, float]:
    """tessera_background_cache_total by result, from /metrics."""
    status, _, body = get(srv, "/metrics")
    assert status == 200
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("tessera_background_cache_total{"):
            out[line.split('result="')[1].split('"')[0]] = float(line.split()[-1])
    return out


def test_a_changed_background_changes_the_etag(tessera_bin, data, run_convert, run_tessera, tmp_path):
    """The tag covers the background image's metadata too; the gateway keeps the
    background it read in memory (another format of the same plane reuses it), and a
    replaced background image is read again, never served stale."""
    root = tmp_path / "root"
    root.mkdir()
    import shutil
    shutil.copytree(data / "img.ome.zarr", root / "img.ome.zarr")
    shutil.copytree(data / "dark2d.ome.zarr", root / "dark.ome.zarr")
    with GatewayServer(tessera_bin, "--root", f"data={root}") as srv:
        query = "/render/data/img.ome.zarr?subtract=image:data/dark.ome.zarr&level=3&format=npy"
        first = get(srv, query)
        assert first[0] == 200
        # The 2-D dark frame is broadcast over the 3 channels: read once, reused twice.
        assert background_cache(srv) == {"hit": 2, "miss": 1}
        tiff = get(srv, query.replace("format=npy", "format=tiff"))
        assert tiff[0] == 200 and background_cache(srv) == {"hit": 5, "miss": 1}, "the second render reuses it"
        tif = tmp_path / "d.tif"
        tifffile.imwrite(tif, (dark(None) // 2).astype(np.uint16))
        run_convert("convert", tif, root / "dark.ome.zarr", "--chunks", "128", "--overwrite", check=True)
        second = get(srv, query)
        assert second[0] == 200 and second[1]["etag"] != first[1]["etag"] and second[2] != first[2]
        assert background_cache(srv) == {"hit": 7, "miss": 2}, "the replaced background is read again"
        out = tmp_path / "cli.npy"
        proc = run_tessera("render", root / "img.ome.zarr", out, "--subtract", "image:data/dark.ome.zarr", "--level", "3",
                           "--root", f"data={root}")
        assert proc.returncode == 0, proc.stderr
        assert second[2] == out.read_bytes(), "the gateway's answer is the new background's"
