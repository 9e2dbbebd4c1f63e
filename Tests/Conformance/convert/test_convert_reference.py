"""Self-tests of the convert test helpers; they do not run tessera.

  * reference_pyramid.downsample equals a slow per-block brute force written
    straight from the contract (Fractions for the integer mean), for every method,
    the dtypes of the suite, odd sizes and 2-D/3-D/5-D blocks;
  * the input writers round-trip through tifffile / h5py / astropy;
  * convert_checks accepts an output written by zarr-python exactly as
    Docs/convert.md describes it (so a failure of the real tests is about tessera,
    not about the checker), and that output validates with ome-zarr-models and
    opens in ome-zarr-py - i.e. the contract itself is consistent with the readers.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import reference_pyramid as rp


def brute_downsample(a: np.ndarray, axes: str, halve: str, method: str) -> np.ndarray:
    h = [i for i, n in enumerate(axes) if n in halve]
    out_shape = tuple(-(-s // 2) if i in h else s for i, s in enumerate(a.shape))
    out = np.empty(out_shape, dtype=a.dtype)
    for idx in itertools.product(*map(range, out_shape)):
        sl = tuple(slice(2 * j, 2 * j + 2) if i in h else slice(j, j + 1) for i, j in enumerate(idx))
        block = a[sl]
        # C order over the block = the contract's "first pixel" is block.flat[0]
        vals = [block[k] for k in np.ndindex(block.shape)]
        if method == "nearest":
            v = vals[0]
        elif method == "max":
            v = max(vals)
        elif method == "mode":
            counts = {}
            for x in vals:
                counts[x.item()] = counts.get(x.item(), 0) + 1
            best = max(counts.values())
            v = min(x for x, c in counts.items() if c == best)
        elif a.dtype.kind == "f":
            if any(math.isnan(x) for x in vals):
                v = np.nan
            else:
                v = math.fsum(float(x) for x in vals) / len(vals)
        else:
            q = Fraction(sum(int(x) for x in vals), len(vals)) + Fraction(1, 2)
            v = math.floor(q)
        out[idx] = v
    return out


CASES = [("yx", (5, 7), "yx"), ("zyx", (3, 5, 7), "zyx"), ("zyx", (3, 5, 7), "yx"), ("tczyx", (2, 2, 3, 3, 5), "zyx")]


@pytest.mark.parametrize("method", rp.METHODS)
@pytest.mark.parametrize("dtype", [*ci.DTYPES, "int64", "uint64"])
def test_reference_downsample_matches_brute_force(dtype, method):
    for kind in ("noise", "labels"):
        for axes, shape, halve in CASES:
            a = ci.pixels(dtype, shape, seed=1, kind=kind)
            if np.dtype(dtype).kind == "f" and kind == "noise" and method == "mean":
                a.reshape(-1)[3] = np.nan  # NaN propagates through mean (max/mode: undefined)
            got = rp.downsample(a, axes, halve, method)
            want = brute_downsample(a, axes, halve, method)
            np.testing.assert_array_equal(got, want, err_msg=f"{dtype} {method} {axes} {shape} halve {halve} {kind}")
            assert got.dtype == a.dtype


def test_reference_mean_rounding_examples():
    a = np.array([[1, 2], [2, 2]], dtype=np.uint8)  # 7/4 = 1.75 -> 2
    assert rp.downsample(a, "yx", "yx", "mean").item() == 2
    a = np.array([[1, 2], [1, 2]], dtype=np.uint8)  # 1.5 -> 2 (half up)
    assert rp.downsample(a, "yx", "yx", "mean").item() == 2
    a = np.array([[-1, -2], [-1, -2]], dtype=np.int8)  # -1.5 -> -1 (half up, not away from 0)
    assert rp.downsample(a, "yx", "yx", "mean").item() == -1
    a = np.full((2, 2), 2**32 - 1, dtype=np.uint32)  # no overflow
    assert rp.downsample(a, "yx", "yx", "mean").item() == 2**32 - 1
    a = np.array([[7, 8, 9]], dtype=np.uint16)  # odd edge: last block is the lone 9
    np.testing.assert_array_equal(rp.downsample(a, "yx", "yx", "mean"), [[8, 9]])
    a = np.array([[3, 3, 5, 5]], dtype=np.int16)  # mode tie -> smallest
    np.testing.assert_array_equal(rp.downsample(a, "yx", "yx", "mode"), [[3, 5]])
    a = np.array([[5, 3], [3, 5]], dtype=np.int16)
    assert rp.downsample(a, "yx", "yx", "mode").item() == 3


def test_reference_levels_and_transforms():
    a = ci.pixels("uint16", ci.ODD_YX)
    p = rp.build_pyramid(a, "yx", "mean", 16)
    assert [lv.shape for lv in p.levels] == [(37, 53), (19, 27), (10, 14)]
    assert p.scale(2) == [4.0, 4.0] and p.translation(2) == [1.5, 1.5]
    assert rp.build_pyramid(a, "yx", "nearest", 16).translation(2) == [0.0, 0.0]
    assert len(rp.build_pyramid(a, "yx", "mean").levels) == 1  # fits one default 256 chunk
    # z rule with physical sizes: z 2.0, y/x 0.5 -> z halved only once y/x spacing reaches 2.0
    v = ci.pixels("uint8", (5, 37, 100))
    p = rp.build_pyramid(v, "zyx", "mean", 16, spacing={"z": 2.0, "y": 0.5, "x": 0.5})
    assert [lv.shape for lv in p.levels] == [(5, 37, 100), (5, 19, 50), (5, 10, 25), (3, 5, 13)]
    assert p.scale(3) == [4.0, 4.0, 4.0] and p.translation(3) == [1.0, 1.75, 1.75]
    p = rp.build_pyramid(v, "zyx", "mean", 16)
    assert [lv.shape for lv in p.levels] == [(5, 37, 100), (3, 19, 50), (2, 10, 25), (1, 5, 13)]
    p = rp.build_pyramid(v, "zyx", "mean", 16, downsample_z=False)
    assert [lv.shape[0] for lv in p.levels] == [5, 5, 5, 5]
    assert rp.level_shards("zyx", (5, 37, 100), (5, 16, 16), True) == (5, 48, 64)
    assert rp.level_shards("yx", (600, 700), (256, 256), False) == (768, 768)
    assert rp.chunks_from_option("tczyx", (1, 2, 3, 4, 5), [8, 16, 32]) == {"t": 1, "c": 1, "z": 8, "y": 16, "x": 32}


def test_reference_windows():
    a = np.arange(1000, dtype=np.uint16).reshape(10, 100)
    p = rp.build_pyramid(a, "yx", "mean")
    w = rp.expected_windows(p)[0]
    # numpy's inverted_cdf at 99.9 of 1000 values gives the 1000th value (999), not the
    # 999th: 99.9/100*1000 rounds to 999.0000000000001 in float64. The contract names
    # numpy's method, so numpy's answer is the reference.
    assert (w["min"], w["max"], w["start"], w["end"]) == (0, 999, 0, 999)
    f = a.astype(np.float32)
    p = rp.build_pyramid(f, "yx", "mean", 16)
    assert rp.window_source_level(p) is p.levels[-1]


# ---------------------------------------------------------------------------
# Input writers round-trip
# ---------------------------------------------------------------------------

def test_inputs_round_trip(tmp_path):
    import h5py
    import tifffile
    from astropy.io import fits

    for dt in ci.DTYPES:
        d = ci.pixels(dt, ci.ODD_YX)
        s = ci.write_tiff(tmp_path / f"{dt}.tif", d, "yx", tile=(16, 16), compression="zlib")
        np.testing.assert_array_equal(tifffile.imread(s.file), d)
        np.testing.assert_array_equal(s.images[0].data, d)
    rgb = ci.pixels("uint8", (3, 37, 53))
    s = ci.write_tiff(tmp_path / "sep.tif", rgb, "cyx", planarconfig="separate")
    with tifffile.TiffFile(s.file) as t:
        assert t.pages[0].planarconfig == 2
    np.testing.assert_array_equal(s.images[0].data, rgb)
    s = ci.write_tiff(tmp_path / "contig.tif", np.moveaxis(rgb, 0, -1), "yxc")
    np.testing.assert_array_equal(s.images[0].data, rgb)
    st = ci.pixels("uint16", (4, 37, 53))
    s = ci.write_tiff_pages(tmp_path / "stack.tif", st)
    with tifffile.TiffFile(s.file) as t:
        assert len(t.pages) == 4 and t.ome_metadata is None
    np.testing.assert_array_equal(s.images[0].data, st)
    d5 = ci.pixels("uint16", (2, 3, 4, 9, 11))
    s = ci.write_ome_tiff(tmp_path / "a.ome.tif", [dict(data=d5, axes="TCZYX", channel_names=["a", "b", "c"])])
    np.testing.assert_array_equal(s.images[0].data, d5)
    assert "<OME" in s.ome_xml
    v = ci.pixels("int16", (5, 9, 11))
    s = ci.write_hdf5(tmp_path / "v.h5", v, chunks=(2, 4, 4))
    with h5py.File(s.file) as f:
        np.testing.assert_array_equal(f["/entry/data"][...], v)
        assert f["/entry/data"].attrs["description"] == ci.HDF5_ATTRS["description"]
    u16 = ci.pixels("uint16", (9, 11))
    s = ci.write_fits(tmp_path / "u.fits", [ci.fits_bzero_u16(u16)])
    with fits.open(s.file, do_not_scale_image_data=True) as hl:
        assert hl[1].header["BITPIX"] == 16 and hl[1].header["BZERO"] == 32768
        assert hl[1].data.dtype == np.dtype(">i2")
    np.testing.assert_array_equal(s.images[0].data, u16)
    assert s.images[0].data.dtype == np.uint16


# ---------------------------------------------------------------------------
# The checker accepts a contract-conforming output written by zarr-python
# ---------------------------------------------------------------------------

def write_contract_output(out: Path, source: ci.Source, ngff="0.5", method="mean", chunks=None):
    """What Docs/convert.md says tessera writes, written with zarr-python."""
    import numcodecs
    import zarr
    from zarr.codecs import BloscCodec

    fmt = 3 if ngff == "0.5" else 2

    def attrs_for(d: dict) -> dict:
        return {"ome": {"version": "0.5", **d}} if fmt == 3 else d

    if source.bioformats2raw:
        root = zarr.open_group(str(out), mode="w", zarr_format=fmt)
        ome = zarr.open_group(str(out / "OME"), mode="w", zarr_format=fmt)
        ome.attrs.update(attrs_for({"series": [im.path for im in source.images]}))
    for exp in source.images:
        img = out / exp.path if exp.path else out
        pyr = rp.build_pyramid(exp.data, exp.axes, method, chunks, exp.spacing)
        g = zarr.open_group(str(img), mode="w", zarr_format=fmt)
        ch = rp.chunks_from_option(exp.axes, exp.data.shape, chunks, exp.data.dtype)
        three_d = "z" in exp.axes and exp.data.shape[exp.axes.index("z")] > 1
        for i, lv in enumerate(pyr.levels):
            chunk = rp.level_chunks(exp.axes, lv.shape, ch)
            kw = dict(shape=lv.shape, dtype=lv.dtype, fill_value=0, chunks=chunk)
            if fmt == 3:
                kw.update(shards=rp.level_shards(exp.axes, lv.shape, chunk, three_d),
                          compressors=BloscCodec(cname="zstd", clevel=5, shuffle="shuffle"),
                          dimension_names=list(exp.axes))
            else:
                kw.update(compressors=numcodecs.Blosc("zstd", 5, shuffle=1),
                          chunk_key_encoding={"name": "v2", "separator": "/"})
            arr = g.create_array(str(i), **kw)
            arr[...] = lv
        axes = []
        for n in exp.axes:
            a = {"name": n, "type": cc.AXIS_TYPES[n]}
            if exp.units.get(n):
                a["unit"] = exp.units[n]
            axes.append(a)
        ms = {"name": exp.name or "image", "type": method, "axes": axes, "datasets": [
            {"path": str(i), "coordinateTransformations": [
                {"type": "scale", "scale": pyr.scale(i)},
                {"type": "translation", "translation": pyr.translation(i)}]}
            for i in range(len(pyr.levels))]}
        if fmt == 2:
            ms["version"] = "0.4"
        n_ch = exp.data.shape[exp.axes.index("c")] if "c" in exp.axes else 1
        chans = []
        for c, w in enumerate(rp.expected_windows(pyr)):
            chans.append({
                "label": exp.channel_names[c] if exp.channel_names else f"Channel {c}",
                "color": exp.colors[c] if exp.colors else cc.DEFAULT_COLORS.get(n_ch, ["808080"] * n_ch)[c],
                "active": True,
                "window": {k: v.item() for k, v in w.items()},
            })
        g.attrs.update({
            **attrs_for({"multiscales": [ms], "omero": {"channels": chans}}),
            "tessera": {"version": "test", "downsample": method, "source": {
                "file": source.file.name, "format": source.format, "metadata": {},
                **({"dataset": source.dataset} if source.dataset else {}),
                **({"hdu": 1} if source.format == "fits" else {})}},
        })
    if source.ome_xml is not None:  # after the groups: mode="w" on a root image clears it
        (out / "OME").mkdir(parents=True, exist_ok=True)
        (out / "OME" / "METADATA.ome.xml").write_text(source.ome_xml, encoding="utf-8")
    if source.bioformats2raw:
        root.attrs.update(attrs_for({"bioformats2raw.layout": 3}))


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_checker_accepts_contract_output(ngff, tmp_path):
    d = ci.pixels("int16", ci.ODD_YX)
    s_a = ci.write_tiff(tmp_path / "a.tif", d, "yx")
    write_contract_output(tmp_path / "a.zarr", s_a, ngff, "mean", 16)
    cc.check_output(tmp_path / "a.zarr", s_a, ngff=ngff, method="mean", chunks=16)

    d5 = ci.pixels("uint16", (1, 3, 5, 37, 100), kind="smooth")
    s = ci.write_ome_tiff(tmp_path / "b.ome.tif", [dict(
        data=d5, axes="TCZYX", name="cells", channel_names=["A", "B", "C"],
        physical={"x": (0.5, "µm"), "y": (0.5, "µm"), "z": (2.0, "µm")})])
    write_contract_output(tmp_path / "b.zarr", s, ngff, "max", 16)
    cc.check_output(tmp_path / "b.zarr", s, ngff=ngff, method="max", chunks=16)

    f = ci.pixels("float32", (3, 37, 53))
    s = ci.write_hdf5(tmp_path / "c.h5", f)
    write_contract_output(tmp_path / "c.zarr", s, ngff, "mode", 16)
    cc.check_output(tmp_path / "c.zarr", s, ngff=ngff, method="mode", chunks=16)
    assert cc.any_multiscales(tmp_path / "c.zarr")

    # and it rejects a single wrong pixel in a reduced level
    import zarr

    arr = zarr.open_array(str(tmp_path / "a.zarr" / "1"), mode="r+")
    arr[18, 26] = arr[18, 26] + 1
    with pytest.raises(AssertionError, match="1 of .* elements differ"):
        cc.check_output(tmp_path / "a.zarr", s_a, ngff=ngff, method="mean", chunks=16)
