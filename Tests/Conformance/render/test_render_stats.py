"""`stats=image` windows from the stored statistics (`{image}/.tessera-stats.bin`,
Docs/render.md "Stored statistics"; issue 20 plan §5).

Images are converted by Tessera from TIFFs with 64-pixel chunks, so level 0 is counted
block by block (many blocks per channel). `tessera render --stats image --window pLO,pHI`
prints the window it used; it must equal `np.percentile` (numpy's default `linear`
method) over every level-0 pixel of the channel, all z, exactly for uint8/uint16, and lie
within one key bin (2**-7 of the larger neighbouring order statistic's magnitude) for
float32 (`np.nanpercentile`: NaNs are counted apart). A damaged file and a missing one
are each a clear error (409 JSON from the gateway), never a window of the pixels read.
Version 1 files, written by earlier releases (`fixtures/stats_v1/`), still give the same
windows.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile

STATS = ".tessera-stats.bin"
SHAPE = (3, 150, 211)  # pages (z, or channels with --pages-as c), y, x


def content(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SHAPE[1], 0:SHAPE[2]].astype(np.float64)
    planes = []
    for k in range(SHAPE[0]):
        v = 0.5 + 0.3 * np.sin(x / (11.0 + k)) * np.cos(y / (7.0 + seed)) + rng.normal(0, 0.08, SHAPE[1:])
        planes.append(np.clip(v, 0, 1))
    return np.stack(planes)


def f32_with_nans() -> np.ndarray:
    a = (content(3) * 1234.5 - 300.25).astype(np.float32)
    a[0, 5:9, 17:40] = np.nan
    return a


IMAGES = {
    # name: (level-0 array, extra convert flags, channel axis in the array or None)
    "u8": (lambda: (content(1) * 255).round().astype(np.uint8), [], None),
    "u16c": (lambda: (content(2) * 50000 + 777).round().astype(np.uint16), ["--pages-as", "c"], 0),
    "f32": (f32_with_nans, [], None),
}


@pytest.fixture(scope="module")
def images(tmp_path_factory, run_convert):
    root = tmp_path_factory.mktemp("stats")
    out = {}
    for name, (make, flags, channel_axis) in IMAGES.items():
        data = make()
        tif = root / f"{name}.tif"
        tifffile.imwrite(tif, data, photometric="minisblack")
        zarr_path = root / f"{name}.ome.zarr"
        run_convert("convert", tif, zarr_path, "--chunks", "64", *flags, check=True)
        out[name] = (zarr_path, data, channel_axis)
    return out


def stats_window(run_tessera, image, out, low, high, channel=None, expect_ok=True):
    args = ["--window", f"p{low},p{high}", "--stats", "image", "--size", "64"]
    if channel is not None:
        args += ["--channel", str(channel)]
    proc = run_tessera("render", image, out, *args)
    if not expect_ok:
        return proc
    assert proc.returncode == 0, proc.stderr
    printed = re.search(r"window (\S+),(\S+?), \d+ bytes", proc.stderr)
    assert printed, proc.stderr
    return proc, float(printed.group(1)), float(printed.group(2))


def channel_values(data, channel_axis, channel):
    return data if channel_axis is None else np.take(data, channel, axis=channel_axis)


PERCENTILES = [(1, 99), (0.1, 99.9), (0, 100), (37.5, 62.5), (49.9, 50.1)]


@pytest.mark.parametrize("name,channel", [("u8", None), ("u16c", 0), ("u16c", 2)])
@pytest.mark.parametrize("low,high", PERCENTILES)
def test_integer_windows_equal_numpy_over_every_pixel(images, run_tessera, tmp_path, name, channel, low, high):
    image, data, channel_axis = images[name]
    assert (image / STATS).is_file()
    proc, lo, hi = stats_window(run_tessera, image, tmp_path / "w.png", low, high, channel)
    assert "(stats=image: exact)" in proc.stderr
    want = np.percentile(channel_values(data, channel_axis, channel or 0), [low, high])
    assert [lo, hi] == [float(want[0]), float(want[1])]


def within_one_bin(got: float, values: np.ndarray, p: float):
    """The true percentile, and the bound: numpy's linear interpolation between the two
    neighbouring order statistics, each at most one key bin (2**-7 relative) low."""
    finite = np.sort(values[~np.isnan(values)].astype(np.float64))
    h = (finite.size - 1) * (p / 100)
    k = int(np.floor(h))
    a, b = finite[k], finite[min(k + 1, finite.size - 1)]
    bound = 2.0 ** -7 * max(abs(a), abs(b)) + 1e-30
    return float(np.nanpercentile(values, p)), bound


@pytest.mark.parametrize("low,high", PERCENTILES)
def test_float_windows_within_one_bin(images, run_tessera, tmp_path, low, high):
    image, data, _ = images["f32"]
    proc, lo, hi = stats_window(run_tessera, image, tmp_path / "f.png", low, high)
    assert "(stats=image: approximate)" in proc.stderr
    for got, p in ((lo, low), (hi, high)):
        want, bound = within_one_bin(got, data, p)
        assert abs(got - want) <= bound, f"p{p}: {got} vs numpy {want} (bound {bound})"
    if (low, high) == (0, 100):  # the extremes are stored exactly
        assert [lo, hi] == [float(np.nanmin(data)), float(np.nanmax(data))]


def test_file_is_written_before_the_group_metadata_and_not_served_by_name(images):
    image, data, _ = images["u8"]
    stats = (image / STATS).read_bytes()
    assert stats[:4] == b"TSS2"
    assert not any(p.name.startswith(".tessera-histogram-") for p in image.iterdir())


DAMAGE = {
    "truncate": lambda raw: raw[: len(raw) // 2],
    "flip": lambda raw: raw[:40] + bytes([raw[40] ^ 1]) + raw[41:],
    "garbage": lambda raw: b"not a stats file at all",
    "empty": lambda raw: b"",
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_file_is_a_clear_error(images, run_tessera, tmp_path, damage):
    """No window from the pixels read in its place: that would claim to cover the whole
    image and not do so."""
    image, data, _ = images["u8"]
    copy = tmp_path / "copy.ome.zarr"
    shutil.copytree(image, copy)
    (copy / STATS).write_bytes(DAMAGE[damage]((copy / STATS).read_bytes()))
    proc = stats_window(run_tessera, copy, tmp_path / "d.png", 1, 99, expect_ok=False)
    assert proc.returncode != 0
    assert "has unusable stored statistics" in proc.stderr and STATS in proc.stderr, proc.stderr
    assert "stats=region" in proc.stderr
    assert not (tmp_path / "d.png").exists()


FIXTURES = Path(__file__).parent / "fixtures" / "stats_v1"


@pytest.mark.parametrize("low,high", PERCENTILES)
def test_version_1_files_still_read(run_tessera, tmp_path, low, high):
    """Images converted by an earlier release (the fixture's `.tessera-stats.bin` is
    version 1, "TSS1", written by that release's writer) keep their windows: exact for
    uint16, within one key bin for float32."""
    u16 = tifffile.imread(FIXTURES / "v1_u16c.tif")
    image = FIXTURES / "v1_u16c.ome.zarr"
    assert (image / STATS).read_bytes()[:4] == b"TSS1"
    for channel in range(u16.shape[0]):
        proc, lo, hi = stats_window(run_tessera, image, tmp_path / f"u{channel}.png", low, high, channel)
        assert "(stats=image: exact)" in proc.stderr
        assert [lo, hi] == [float(v) for v in np.percentile(u16[channel], [low, high])]
    f32 = tifffile.imread(FIXTURES / "v1_f32.tif")
    image = FIXTURES / "v1_f32.ome.zarr"
    assert (image / STATS).read_bytes()[:4] == b"TSS1"
    proc, lo, hi = stats_window(run_tessera, image, tmp_path / "f.png", low, high)
    assert "(stats=image: approximate)" in proc.stderr
    for got, p in ((lo, low), (hi, high)):
        want, bound = within_one_bin(got, f32, p)
        assert abs(got - want) <= bound, f"p{p}: {got} vs numpy {want} (bound {bound})"
    if (low, high) == (0, 100):
        assert [lo, hi] == [float(np.nanmin(f32)), float(np.nanmax(f32))]


def test_missing_file_is_a_clear_error(images, run_tessera, tmp_path):
    image, data, _ = images["u8"]
    copy = tmp_path / "old.ome.zarr"
    shutil.copytree(image, copy)
    (copy / STATS).unlink()
    proc = stats_window(run_tessera, copy, tmp_path / "m.png", 1, 99, expect_ok=False)
    assert proc.returncode != 0
    assert "has no stored statistics" in proc.stderr and "stats=region" in proc.stderr
    assert not (tmp_path / "m.png").exists()


def test_resume_and_overwrite_know_the_file(images, run_tessera, tmp_path):
    """--resume of a finished image keeps it; --overwrite removes and rewrites it."""
    image, data, _ = images["u16c"]
    tif = image.parent / "u16c.tif"
    before = (image / STATS).read_bytes()
    proc = run_tessera("convert", tif, image, "--chunks", "64", "--pages-as", "c", "--resume")
    assert proc.returncode == 0, proc.stderr
    assert (image / STATS).read_bytes() == before
    proc = run_tessera("convert", tif, image, "--chunks", "64", "--pages-as", "c", "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert (image / STATS).read_bytes() == before


def test_float_statistics_survive_killed_runs(run_convert, tessera_bin, tmp_path):
    """A float32 conversion SIGKILLed once some blocks' counts are stored, then resumed,
    writes the same statistics file as an uninterrupted run: skipped blocks' keyed
    counts, extremes and NaN counts come back from their per-block records."""
    import signal
    import subprocess
    import time

    rng = np.random.default_rng(7)
    data = (rng.normal(10, 30, (16, 512, 512))).astype(np.float32)
    data[2, 100:110, 5:300] = np.nan
    data[5, 7, 9] = -1e30
    data[11, 300, 301] = 3e33
    tif = tmp_path / "f.tif"
    tifffile.imwrite(tif, data, photometric="minisblack", tile=(64, 64))
    args = ["--chunks", "64", "--jobs", "1"]
    ref = tmp_path / "ref.ome.zarr"
    run_convert("convert", tif, ref, *args, check=True)
    for wanted in (1, 3):
        out = tmp_path / f"out{wanted}.ome.zarr"
        proc = subprocess.Popen([str(tessera_bin), "convert", str(tif), str(out), *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                if out.exists() and sum(p.name.startswith(".tessera-histogram-") for p in out.iterdir()) >= wanted:
                    proc.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.002)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=60)
        if proc.returncode != -signal.SIGKILL:
            pytest.skip(f"the conversion finished before {wanted} blocks' counts were stored")
        assert not (out / "zarr.json").exists() and not (out / STATS).exists()
        resumed = run_tessera_ok(run_convert, "convert", tif, out, *args, "--resume")
        assert (out / STATS).read_bytes() == (ref / STATS).read_bytes(), f"killed after {wanted} blocks: {resumed}"
        assert not any(p.name.startswith(".tessera-histogram-") for p in out.iterdir())


def run_tessera_ok(runner, *args):
    proc = runner(*args)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr[-300:]


def test_gateway_answers_stats_image_and_409_without_the_file(images, tessera_bin, run_tessera, tmp_path):
    """The render route: stats=image gives the CLI's picture; without the file, or with a
    damaged one, a 409 JSON naming the image; the file itself is never served."""
    import json

    from gateway_server import GatewayServer
    from http_exchange import get

    root = tmp_path / "root"
    root.mkdir()
    shutil.copytree(images["u16c"][0], root / "with.ome.zarr")
    shutil.copytree(images["u16c"][0], root / "without.ome.zarr")
    (root / "without.ome.zarr" / STATS).unlink()
    shutil.copytree(images["u16c"][0], root / "damaged.ome.zarr")
    raw = (root / "damaged.ome.zarr" / STATS).read_bytes()
    (root / "damaged.ome.zarr" / STATS).write_bytes(DAMAGE["flip"](raw))
    srv = GatewayServer(tessera_bin, "--root", f"data={root}")
    try:
        query = "window=p1,p99&stats=image&c=1&size=64"
        status, headers, body = get(srv, f"/render/data/with.ome.zarr?{query}")
        assert status == 200, body
        out = tmp_path / "cli.png"
        proc = run_tessera("render", root / "with.ome.zarr", out, "--window", "p1,p99", "--stats", "image",
                           "--channel", "1", "--size", "64")
        assert proc.returncode == 0, proc.stderr
        assert body == out.read_bytes()
        status, headers, body = get(srv, f"/render/data/without.ome.zarr?{query}")
        assert status == 409 and headers["content-type"].startswith("application/json")
        assert "has no stored statistics" in json.loads(body)["error"]
        status, headers, body = get(srv, f"/render/data/damaged.ome.zarr?{query}")
        assert status == 409 and headers["content-type"].startswith("application/json"), body
        error = json.loads(body)["error"]
        assert "damaged.ome.zarr" in error and f"{STATS}: its checksum does not match" in error, error
        status, _, _ = get(srv, f"/data/with.ome.zarr/{STATS}")
        assert status == 404
    finally:
        assert srv.stop() == 0
