"""Checks of a `tessera convert` output against Docs/convert.md.

`check_output(out, source, ngff=..., method=..., chunks=...)` verifies one
conversion completely:
  * layout: a single NGFF image at OUTPUT (with OME/METADATA.ome.xml verbatim
    for a single-series OME-TIFF), or for files holding several images the
    bioformats2raw layout (root `bioformats2raw.layout` 3, one image group per
    series/HDU, OME/ with `series`, OME/METADATA.ome.xml verbatim for OME-TIFF);
  * every image: `multiscales` (axes names/types/units, datasets 0..n-1, `type` =
    method, scale and translation per level), array layout (dtype, shape, chunks,
    default shards, blosc-zstd-5 + shuffle (8-bit RGB: c=3 chunks, blosc-zstd-1), 0.5 dimension_names, 0.4
    dimension_separator "/"), `omero` channels and windows, `tessera` source
    attributes;
  * pixels: EVERY level equals the numpy reference pyramid (reference_pyramid),
    read with zarr-python 3, tensorstore (zarr for 0.4, zarr3 for 0.5) and
    ome-zarr-py's Reader; level 0 therefore equals what tifffile/h5py/astropy read;
  * ome-zarr-models validates the image group (and the bioformats2raw root).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

import reference_pyramid as rp
import tessera_conformance as tc
from convert_inputs import Expected, Source

DEFAULT_COLORS = {1: ["FFFFFF"], 3: ["FF0000", "00FF00", "0000FF"]}
AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
REL = 1e-9


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

def convert(run_tessera, *args, timeout=None):
    """Run `tessera convert ARGS`; fail with the command line and stderr unless it exits 0."""
    proc = run_tessera("convert", *args, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(
            f"tessera convert exited {proc.returncode}: {run_tessera.format(['convert', *args])}\n"
            f"stderr: {proc.stderr.strip()[-3000:]}",
            pytrace=False,
        )
    return proc


def convert_args(inputs, out, ngff="0.5", method=None, chunks=None, extra=()):
    args = [*([inputs] if isinstance(inputs, (str, Path)) else inputs), out]
    if ngff != "0.5":
        args += ["--ngff", ngff]
    if method is not None:
        args += ["--downsample", method]
    if chunks is not None:
        args += ["--chunks", str(chunks) if isinstance(chunks, int) else ",".join(map(str, chunks))]
    return [*map(str, args), *map(str, extra)]


# ---------------------------------------------------------------------------
# Metadata access
# ---------------------------------------------------------------------------

def group_attrs(path: Path) -> tuple:
    """(zarr format, attributes dict) of the group at `path`."""
    path = Path(path)
    if (path / "zarr.json").exists():
        meta = tc.load_json(path / "zarr.json")
        assert meta.get("zarr_format") == 3 and meta.get("node_type") == "group", f"{path}: {meta}"
        return 3, meta.get("attributes", {})
    assert (path / ".zgroup").exists(), f"no group metadata at {path}: {sorted(os.listdir(path)) if path.is_dir() else 'missing'}"
    attrs = tc.load_json(path / ".zattrs") if (path / ".zattrs").exists() else {}
    return 2, attrs


def ome_attrs(path: Path, ngff: str) -> dict:
    fmt, attrs = group_attrs(path)
    if ngff == "0.5":
        assert fmt == 3, f"{path}: NGFF 0.5 must be Zarr v3"
        ome = attrs.get("ome")
        assert isinstance(ome, dict), f"{path}: 0.5 attributes need an 'ome' object: {list(attrs)}"
        assert ome.get("version") == "0.5", f"{path}: ome.version {ome.get('version')!r}"
        return ome
    assert fmt == 2, f"{path}: NGFF 0.4 must be Zarr v2"
    assert "ome" not in attrs, f"{path}: NGFF 0.4 has no 'ome' wrapper"
    return attrs


def array_meta(path: Path) -> tuple:
    path = Path(path)
    if (path / "zarr.json").exists():
        meta = tc.load_json(path / "zarr.json")
        assert meta.get("node_type") == "array", f"{path}: {meta}"
        return 3, meta
    assert (path / ".zarray").exists(), f"no array metadata at {path}"
    return 2, tc.load_json(path / ".zarray")


def any_multiscales(root: Path) -> list:
    """Every group-metadata file under `root` that carries `multiscales` (or a
    bioformats2raw root marker). Empty = nothing is marked complete."""
    found = []
    root = Path(root)
    if not root.exists():
        return found
    for dirpath, _dirs, files in os.walk(root):
        for name in ("zarr.json", ".zattrs"):
            if name in files:
                p = Path(dirpath) / name
                try:
                    meta = json.loads(p.read_text())
                except (ValueError, UnicodeDecodeError):
                    continue
                attrs = meta.get("attributes", meta) if name == "zarr.json" else meta
                if not isinstance(attrs, dict):
                    continue
                ome = attrs.get("ome") if isinstance(attrs.get("ome"), dict) else {}
                if "multiscales" in attrs or "multiscales" in ome or \
                        "bioformats2raw.layout" in attrs or "bioformats2raw.layout" in ome:
                    found.append(str(p.relative_to(root)))
    return found


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------

CRASH_MARKERS = ("Fatal error", "Traceback", "Stack dump", "SIGSEGV", "Illegal instruction", "panic")


def assert_clean_failure(proc, names, label, out: Path | None = None):
    """Bad input to `tessera convert`: a non-zero exit that is not a crash, one line on stderr
    naming every one of `names`, and (with `out`) nothing marked complete under `out`."""
    assert proc.returncode != 0, f"{label}: exit 0 on bad input\nstdout: {proc.stdout[-500:]}\nstderr: {proc.stderr[-500:]}"
    assert proc.returncode > 0, f"{label}: killed by signal {-proc.returncode} (crash)\nstderr: {proc.stderr[-2000:]}"
    assert proc.returncode < 128, f"{label}: exit code {proc.returncode} looks like a crash\nstderr: {proc.stderr[-2000:]}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"{label}: stderr must be exactly one line, got {len(lines)}:\n{proc.stderr[-2000:]}"
    for marker in CRASH_MARKERS:
        assert marker not in lines[0], f"{label}: crash output on stderr: {lines[0]!r}"
    for n in names:
        assert str(n) in lines[0], f"{label}: stderr does not name {str(n)!r}: {lines[0]!r}"
    if out is not None:
        assert any_multiscales(out) == [], f"{label}: output marked complete: {any_multiscales(out)}"


def read_level_zarr(path: Path) -> np.ndarray:
    import zarr

    return zarr.open_array(str(path), mode="r", zarr_format=tc.zarr_format_of(path))[...]


def check_remote_levels(group, ngff: str, data: np.ndarray, local: Path, kvstore, via: str, ts_via: str) -> None:
    """An image read remotely (`group`, opened by zarr-python; `kvstore(level_path)` the
    tensorstore kvstore of a level) holds every level of the same conversion written to the
    folder `local`, exactly, through both readers; level 0 is `data`."""
    import tensorstore as ts
    ome = dict(group.attrs)["ome"] if ngff == "0.5" else dict(group.attrs)
    paths = [d["path"] for d in ome["multiscales"][0]["datasets"]]
    assert len(paths) > 1
    np.testing.assert_array_equal(group["0"][:], data)
    driver = "zarr3" if ngff == "0.5" else "zarr"
    for p in paths:
        expected = read_level_zarr(local / p)
        np.testing.assert_array_equal(group[p][:], expected, err_msg=f"level {p} via zarr-python{via}")
        t = ts.open({"driver": driver, "kvstore": kvstore(p)}).result()
        np.testing.assert_array_equal(t.read().result(), expected, err_msg=f"level {p} via tensorstore {ts_via}")


def failed_convert(run_convert, tmp_path: Path, out: str) -> tuple:
    """Converts a small TIFF to `out`, which must fail cleanly (0 < exit < 128); returns the
    non-empty stderr lines, the whole stderr and the seconds it took."""
    import convert_inputs as ci
    import time
    src = ci.write_tiff(tmp_path / "a.tif", ci.pixels("uint8", (40, 50)), "yx")
    start = time.time()
    proc = run_convert("convert", src.arg, out)
    elapsed = time.time() - start
    assert 0 < proc.returncode < 128
    return [l for l in proc.stderr.splitlines() if l.strip()], proc.stderr, elapsed


def read_level_tensorstore(path: Path, ngff: str) -> np.ndarray:
    import tensorstore as ts

    driver = "zarr3" if ngff == "0.5" else "zarr"
    store = ts.open({"driver": driver, "kvstore": {"driver": "file", "path": str(Path(path).resolve())}},
                    read=True).result()
    return store.read().result()


def read_ome_zarr_py(image: Path) -> list:
    """All levels of the image group via ome-zarr-py's Reader (what napari uses)."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    loc = parse_url(str(image), mode="r")
    assert loc is not None, f"ome-zarr-py: parse_url({image}) found nothing"
    nodes = list(Reader(loc)())
    assert nodes, f"ome-zarr-py found no node at {image}"
    node = nodes[0]
    assert node.first(Multiscales) is not None, f"ome-zarr-py: no Multiscales spec at {image}"
    return [np.asarray(d.compute()) for d in node.data]


def validate_models(image: Path, ngff: str) -> None:
    import zarr

    if ngff == "0.5":
        from ome_zarr_models.v05.image import Image
    else:
        from ome_zarr_models.v04.image import Image
    Image.from_zarr(zarr.open_group(str(image), mode="r", zarr_format=3 if ngff == "0.5" else 2))


def validate_bioformats2raw(root: Path, ngff: str) -> None:
    import zarr

    if ngff == "0.5":
        from ome_zarr_models.v05 import BioFormats2Raw
    else:
        from ome_zarr_models.v04 import BioFormats2Raw
    BioFormats2Raw.from_zarr(zarr.open_group(str(root), mode="r", zarr_format=3 if ngff == "0.5" else 2))


# ---------------------------------------------------------------------------
# Pieces
# ---------------------------------------------------------------------------

def approx_list(got, want, what):
    assert isinstance(got, list) and len(got) == len(want), f"{what}: {got!r} != {want!r}"
    for g, w in zip(got, want):
        assert isinstance(g, (int, float)) and math.isclose(g, w, rel_tol=REL, abs_tol=1e-12), (
            f"{what}: {got!r} != {want!r}"
        )


def check_multiscales(ome: dict, exp: Expected, pyr: rp.Pyramid, ngff: str, where: str) -> dict:
    ms_list = ome.get("multiscales")
    assert isinstance(ms_list, list) and len(ms_list) == 1, f"{where}: one multiscales entry expected: {ms_list!r}"
    ms = ms_list[0]
    if ngff == "0.4":
        assert ms.get("version") == "0.4", f"{where}: multiscales version {ms.get('version')!r}"
    assert ms.get("type") == pyr.method, f"{where}: multiscales type {ms.get('type')!r} != {pyr.method!r}"
    assert isinstance(ms.get("name"), str) and ms["name"], f"{where}: multiscales name {ms.get('name')!r}"
    if exp.name is not None:
        assert ms["name"] == exp.name, f"{where}: multiscales name {ms['name']!r} != {exp.name!r}"
    axes = ms.get("axes")
    assert [a.get("name") for a in axes] == list(exp.axes), f"{where}: axes {axes!r}, expected {list(exp.axes)}"
    for a in axes:
        n = a["name"]
        assert a.get("type") == AXIS_TYPES[n], f"{where}: axis {n} type {a.get('type')!r}"
        want_unit = exp.units.get(n)
        assert a.get("unit") == want_unit, f"{where}: axis {n} unit {a.get('unit')!r} != {want_unit!r}"
    ds = ms.get("datasets")
    assert [d.get("path") for d in ds] == [str(i) for i in range(len(pyr.levels))], (
        f"{where}: datasets {[d.get('path') for d in ds]} but the reference pyramid has {len(pyr.levels)} levels "
        f"{[lv.shape for lv in pyr.levels]}"
    )
    for i, d in enumerate(ds):
        ct = d.get("coordinateTransformations")
        assert isinstance(ct, list) and [c.get("type") for c in ct] == ["scale", "translation"], (
            f"{where}: level {i} coordinateTransformations must be [scale, translation]: {ct!r}"
        )
        approx_list(ct[0].get("scale"), pyr.scale(i), f"{where}: level {i} scale")
        approx_list(ct[1].get("translation"), pyr.translation(i), f"{where}: level {i} translation")
    return ms


def same_value(got, want) -> bool:
    """JSON number `got` equals numpy scalar `want` (floats compared in want's dtype)."""
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    want = np.asarray(want)
    if want.dtype.kind == "f":
        return bool(np.asarray(got, dtype=want.dtype) == want)
    return float(got).is_integer() and int(got) == int(want)


def check_omero(ome: dict, exp: Expected, pyr: rp.Pyramid, where: str, windows=None) -> None:
    """windows: None = the reference windows of `pyr`; a list = these windows;
    "skip" = only check that each channel has a window with the four keys."""
    omero = ome.get("omero")
    assert isinstance(omero, dict), f"{where}: omero missing"
    chans = omero.get("channels")
    n = exp.data.shape[exp.axes.index("c")] if "c" in exp.axes else 1
    assert isinstance(chans, list) and len(chans) == n, f"{where}: {n} omero channels expected, got {chans!r}"
    labels = [c.get("label") for c in chans]
    if exp.channel_names:
        assert labels == list(exp.channel_names), f"{where}: labels {labels} != {exp.channel_names}"
    else:
        # "Channel N": the contract does not say whether N counts from 0 or 1
        ok = any(labels == [f"Channel {i + k}" for i in range(n)] for k in (0, 1))
        assert ok, f"{where}: default labels must be 'Channel N' in order: {labels}"
    colors = [str(c.get("color", "")).upper() for c in chans]
    if exp.colors:
        assert colors == [c.upper() for c in exp.colors], f"{where}: colors {colors} != source colours {exp.colors}"
    elif n in DEFAULT_COLORS:
        assert colors == DEFAULT_COLORS[n], f"{where}: colors {colors} != {DEFAULT_COLORS[n]}"
    else:
        assert all(len(c) == 6 and all(ch in "0123456789ABCDEF" for ch in c) for c in colors), (
            f"{where}: colors must be RRGGBB: {colors}"
        )
    for c in chans:
        assert c.get("active") is True, f"{where}: channel {c.get('label')} active {c.get('active')!r}"
    want = windows if windows is not None else rp.expected_windows(pyr)
    for i, c in enumerate(chans):
        win = c.get("window")
        assert isinstance(win, dict) and all(k in win for k in ("min", "max", "start", "end")), (
            f"{where}: channel {i} window {win!r}"
        )
    if windows == "skip":
        return
    for i, (c, w) in enumerate(zip(chans, want)):
        win = c.get("window")
        for k in ("min", "max", "start", "end"):
            assert same_value(win.get(k), w[k]), (
                f"{where}: channel {i} window.{k} = {win.get(k)!r}, expected {w[k]!r} "
                f"({'level 0' if rp.window_source_level(pyr) is pyr.levels[0] else 'smallest level'}, "
                f"inverted_cdf)"
            )


def check_tessera_attrs(attrs: dict, source: Source, method: str, where: str, hdu=None) -> None:
    t = attrs.get("tessera")
    assert isinstance(t, dict), f"{where}: 'tessera' attribute missing: {list(attrs)}"
    assert "version" in t, f"{where}: tessera.version missing"
    assert t.get("downsample") == method, f"{where}: tessera.downsample {t.get('downsample')!r} != {method!r}"
    src = t.get("source")
    assert isinstance(src, dict), f"{where}: tessera.source {src!r}"
    # "file": NAME - read as the input's file name; the name without extensions
    # (NAME as in the multi-input folder naming) is accepted too.
    fname = source.file.name
    stem = fname.split(".")[0]
    assert src.get("file") in (fname, stem, str(source.file)), f"{where}: tessera.source.file {src.get('file')!r}"
    assert src.get("format") == source.format, f"{where}: tessera.source.format {src.get('format')!r} != {source.format!r}"
    assert isinstance(src.get("metadata"), dict), f"{where}: tessera.source.metadata {src.get('metadata')!r}"
    if source.format == "hdf5":
        assert str(src.get("dataset", "")).strip("/") == source.dataset.strip("/"), (
            f"{where}: tessera.source.dataset {src.get('dataset')!r} != {source.dataset!r}"
        )
    if source.format == "fits":
        assert "hdu" in src, f"{where}: tessera.source.hdu missing: {src}"


def default_blosc(axes, shape, dtype):
    """(cname, clevel) of Tessera's default codec: blosc zstd 5 with byte shuffle; 8-bit RGB
    blosc zstd 1 (Docs/convert.md, "Codecs for slides")."""
    return ("zstd", 1) if rp.is_eight_bit_rgb(axes, shape, dtype) else ("zstd", 5)


def check_level_layout(meta_fmt, meta, ngff, axes, shape, dtype, chunk, shard, where, check_codec=True):
    if ngff == "0.5":
        assert meta_fmt == 3, f"{where}: 0.5 levels must be Zarr v3"
        assert meta["shape"] == list(shape), f"{where}: shape {meta['shape']} != {list(shape)}"
        assert np.dtype(meta["data_type"]) == dtype, f"{where}: data_type {meta['data_type']} != {dtype}"
        assert meta.get("dimension_names") == list(axes), f"{where}: dimension_names {meta.get('dimension_names')}"
        tc.check_common_v3(meta, None)
        grid = meta["chunk_grid"]["configuration"]["chunk_shape"]
        codecs = meta["codecs"]
        if shard is None:
            assert grid == list(chunk), f"{where}: chunk_shape {grid} != {list(chunk)}"
            inner = codecs
        else:
            assert grid == list(shard), f"{where}: shard shape {grid} != {list(shard)} (chunk {list(chunk)})"
            assert len(codecs) == 1 and codecs[0]["name"] == "sharding_indexed", f"{where}: codecs {codecs}"
            cfg = codecs[0]["configuration"]
            assert cfg["chunk_shape"] == list(chunk), f"{where}: inner chunk {cfg['chunk_shape']} != {list(chunk)}"
            inner = cfg["codecs"]
        if not check_codec:
            return
        blosc = [c for c in inner if c["name"] == "blosc"]
        assert len(blosc) == 1, f"{where}: default codec must be blosc: {inner}"
        b = blosc[0]["configuration"]
        cname, clevel = default_blosc(axes, shape, dtype)
        assert (b.get("cname"), b.get("clevel"), b.get("shuffle")) == (cname, clevel, "shuffle"), (
            f"{where}: blosc {b} != {cname} level {clevel} byte shuffle"
        )
    else:
        assert meta_fmt == 2, f"{where}: 0.4 levels must be Zarr v2"
        assert meta["shape"] == list(shape), f"{where}: shape {meta['shape']} != {list(shape)}"
        assert np.dtype(meta["dtype"]) == dtype, f"{where}: dtype {meta['dtype']} != {dtype}"
        tc.check_common_v2(meta, None)
        assert meta["chunks"] == list(chunk), f"{where}: chunks {meta['chunks']} != {list(chunk)}"
        if not check_codec:
            return
        comp = meta.get("compressor") or {}
        cname, clevel = default_blosc(axes, shape, dtype)
        assert (comp.get("id"), comp.get("cname"), comp.get("clevel"), comp.get("shuffle")) == ("blosc", cname, clevel, 1), (
            f"{where}: compressor {comp} != blosc {cname} {clevel} shuffle"
        )


def check_image(image: Path, source: Source, exp: Expected, *, ngff="0.5", method="mean", chunks=None,
                shards_default=True, downsample_z=None, readers=True, windows=None,
                check_codec=True) -> rp.Pyramid:
    """Verify one NGFF image group against `exp`. Returns the reference pyramid."""
    where = str(image)
    pyr = rp.build_pyramid(exp.data, exp.axes, method, chunks, exp.spacing, exp.origin or None, downsample_z)
    fmt, attrs = group_attrs(image)
    ome = ome_attrs(image, ngff)
    check_multiscales(ome, exp, pyr, ngff, where)
    ch = rp.chunks_from_option(exp.axes, exp.data.shape, chunks, exp.data.dtype)
    three_d = "z" in exp.axes and exp.data.shape[exp.axes.index("z")] > 1
    for i, lv in enumerate(pyr.levels):
        lw = f"{where}/{i}"
        chunk = rp.level_chunks(exp.axes, lv.shape, ch)
        shard = rp.level_shards(exp.axes, lv.shape, chunk, three_d) if (ngff == "0.5" and shards_default) else None
        mf, meta = array_meta(image / str(i))
        if shards_default or ngff == "0.4":
            check_level_layout(mf, meta, ngff, exp.axes, lv.shape, lv.dtype, chunk, shard, lw, check_codec)
        tc.assert_pixels_equal(read_level_zarr(image / str(i)), lv, f"{lw} zarr-python vs reference ({method})")
        if readers:
            tc.assert_pixels_equal(read_level_tensorstore(image / str(i), ngff), lv, f"{lw} tensorstore")
    assert not (image / str(len(pyr.levels))).exists(), (
        f"{where}: extra level {len(pyr.levels)} (y,x of level {len(pyr.levels) - 1} already fit one chunk)"
    )
    if readers:
        validate_models(image, ngff)
        levels = read_ome_zarr_py(image)
        assert len(levels) == len(pyr.levels), f"{where}: ome-zarr-py sees {len(levels)} levels"
        for i, (got, lv) in enumerate(zip(levels, pyr.levels)):
            tc.assert_pixels_equal(got, lv, f"{where}/{i} ome-zarr-py")
    # attributes last, so that a metadata failure does not hide a pixel failure
    check_omero(ome, exp, pyr, where, windows)
    check_tessera_attrs(attrs, source, method, where)
    return pyr


def check_output(out: Path, source: Source, *, ngff="0.5", method="mean", chunks=None, **kw) -> list:
    """Verify a whole conversion (layout + every image). Returns the pyramids."""
    out = Path(out)
    if source.bioformats2raw:
        root = ome_attrs(out, ngff)
        assert root.get("bioformats2raw.layout") == 3, f"{out}: bioformats2raw.layout {root.get('bioformats2raw.layout')!r}"
        assert "multiscales" not in root, f"{out}: the bioformats2raw root is not an image"
        series = [str(i) for i in range(len(source.images))]
        # "series" in OME/: at the top level of the attributes for 0.4, under "ome" for 0.5
        # (the reading that matches "(0.5: under "ome")" for the root and NGFF 0.5).
        ome_grp = ome_attrs(out / "OME", ngff) if ngff == "0.5" else group_attrs(out / "OME")[1]
        assert ome_grp.get("series") == series, f"{out}/OME: series {ome_grp.get('series')!r} != {series}"
        xml = out / "OME" / "METADATA.ome.xml"
        if source.ome_xml is not None:
            assert xml.is_file(), f"{xml} missing"
            got = xml.read_bytes().decode("utf-8").rstrip("\x00")
            assert got == source.ome_xml, f"{xml} is not the source OME-XML verbatim"
        assert not (out / str(len(source.images))).exists(), f"{out}: more image groups than series/HDUs"
        validate_bioformats2raw(out, ngff)
    else:
        assert len(source.images) == 1
        assert not (out / "OME" / "zarr.json").exists() and not (out / "OME" / ".zgroup").exists(), (
            f"{out}: a single image has no OME group (it would make the root look like a collection)")
        if source.ome_xml is not None:  # kept verbatim beside the image's levels
            xml = out / "OME" / "METADATA.ome.xml"
            assert xml.is_file(), f"{xml} missing"
            assert xml.read_bytes().decode("utf-8").rstrip("\x00") == source.ome_xml, f"{xml} is not the source OME-XML verbatim"
    pyrs = []
    for exp in source.images:
        image = out / exp.path if exp.path else out
        pyrs.append(check_image(image, source, exp, ngff=ngff, method=method, chunks=chunks, **kw))
    return pyrs
