"""Group copies: attributes survive, NGFF metadata is translated between 0.4 (Zarr
v2, `.zattrs`) and 0.5 (Zarr v3, `attributes.ome`), and every level reads back
exactly with zarr-python and tensorstore. Sources are written by zarr-python; NGFF
results are validated with ome-zarr-models.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import zarr

import tessera_conformance as tc

AXES = [
    {"name": "c", "type": "channel"},
    {"name": "y", "type": "space", "unit": "micrometer"},
    {"name": "x", "type": "space", "unit": "micrometer"},
]
AXIS_NAMES = [a["name"] for a in AXES]
LEVELS = {"0": (2, 37, 45), "1": (2, 19, 23)}
LEVEL_CHUNKS = (1, 16, 16)
DATASETS = [
    {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 0.5, 0.5]}]},
    {"path": "1", "coordinateTransformations": [
        {"type": "scale", "scale": [1.0, 1.0, 1.0]},
        {"type": "translation", "translation": [0.0, 0.25, 0.25]},
    ]},
]
OMERO = {
    "channels": [
        {"label": "DAPI", "color": "0000FF", "active": True,
         "window": {"start": 0, "end": 1500, "min": 0, "max": 65535}},
        {"label": "GFP", "color": "00FF00", "active": True,
         "window": {"start": 0, "end": 4000, "min": 0, "max": 65535}},
    ],
    "rdefs": {"model": "color"},
}
CUSTOM = {"lab": "Zürich ✓", "nested": {"list": [1, 2.5, None, True, "x"], "empty": {}}}


def level_data() -> dict:
    rng = np.random.default_rng(42)
    out = {}
    for name, shape in LEVELS.items():
        d = rng.integers(0, 65535, size=shape, dtype=np.uint16, endpoint=True)
        d[:, :16, :16] = 0  # fill-only chunks
        out[name] = d
    return out


def multiscale(version: str | None) -> dict:
    ms = {"name": "image", "axes": copy.deepcopy(AXES), "datasets": copy.deepcopy(DATASETS)}
    if version:
        ms["version"] = version
    return ms


def write_ngff_v04(path: Path, data: dict) -> Path:
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    root.attrs.update({"multiscales": [multiscale("0.4")], "omero": OMERO, "custom": CUSTOM})
    for name, d in data.items():
        arr = root.create_array(name, shape=d.shape, chunks=LEVEL_CHUNKS, dtype=d.dtype, fill_value=0,
                                chunk_key_encoding={"name": "v2", "separator": "/"})
        arr[...] = d
    return path


def write_ngff_v05(path: Path, data: dict) -> Path:
    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    root.attrs.update({"ome": {"version": "0.5", "multiscales": [multiscale(None)], "omero": OMERO}, "custom": CUSTOM})
    for name, d in data.items():
        arr = root.create_array(name, shape=d.shape, chunks=LEVEL_CHUNKS, dtype=d.dtype, fill_value=0,
                                dimension_names=AXIS_NAMES)
        arr[...] = d
    return path


def assert_levels_exact(dst: Path, data: dict) -> None:
    for name, d in data.items():
        tc.assert_readers_agree(dst / name, d, 0, f"level {name}")
    # and through the group API, as NGFF tools do
    g = zarr.open_group(str(dst), mode="r")
    for name, d in data.items():
        tc.assert_pixels_equal(g[name][...], d, f"group[{name!r}]")


def assert_multiscale_equal(ms: dict, version: str | None) -> None:
    assert ms["axes"] == AXES, ms["axes"]
    assert ms["datasets"] == DATASETS, ms["datasets"]
    assert ms.get("name") == "image"
    if version is None:
        assert "version" not in ms, f"NGFF 0.5 multiscales must not carry a per-multiscale version: {ms}"
    else:
        assert ms.get("version") == version, ms


def check_v3_ngff(dst: Path) -> None:
    assert not (dst / ".zgroup").exists() and not (dst / ".zattrs").exists(), "v2 metadata left in a v3 hierarchy"
    meta = tc.load_json(dst / "zarr.json")
    assert meta["zarr_format"] == 3 and meta["node_type"] == "group", meta
    attrs = meta.get("attributes", {})
    assert "multiscales" not in attrs and "omero" not in attrs, f"0.4 keys left at top level: {list(attrs)}"
    ome = attrs.get("ome")
    assert isinstance(ome, dict) and ome.get("version") == "0.5", f"attributes.ome.version must be 0.5: {attrs}"
    assert_multiscale_equal(ome["multiscales"][0], None)
    assert ome.get("omero") == OMERO, ome.get("omero")
    assert attrs.get("custom") == CUSTOM, attrs
    for name in LEVELS:
        lm = tc.load_json(dst / name / "zarr.json")
        assert lm.get("dimension_names") == AXIS_NAMES, f"level {name} dimension_names: {lm.get('dimension_names')}"
        assert not (dst / name / ".zarray").exists()
        tc.check_common_v3(lm, None)
    from ome_zarr_models.v05.image import Image

    Image.from_zarr(zarr.open_group(str(dst), mode="r", zarr_format=3))


def check_v2_ngff(dst: Path) -> None:
    assert not (dst / "zarr.json").exists(), "zarr.json left in a v2 hierarchy"
    assert (dst / ".zgroup").exists()
    attrs = tc.load_json(dst / ".zattrs")
    assert "ome" not in attrs, f"NGFF 0.4 has no 'ome' wrapper: {list(attrs)}"
    assert_multiscale_equal(attrs["multiscales"][0], "0.4")
    assert attrs.get("omero") == OMERO, attrs.get("omero")
    assert attrs.get("custom") == CUSTOM, attrs
    for name in LEVELS:
        assert not (dst / name / "zarr.json").exists()
        tc.check_common_v2(tc.load_json(dst / name / ".zarray"), None)
    from ome_zarr_models.v04.image import Image

    Image.from_zarr(zarr.open_group(str(dst), mode="r", zarr_format=2))


@pytest.mark.parametrize(
    "src_fmt, dst_fmt, extra",
    [
        pytest.param(2, 3, [], id="v2-ngff0.4-to-v3-ngff0.5"),
        pytest.param(2, 3, ["--shards", "2,32,32", "--chunks", "1,16,16", "--codec", "blosc-zstd"],
                     id="v2-ngff0.4-to-v3-ngff0.5-sharded"),
        pytest.param(3, 2, [], id="v3-ngff0.5-to-v2-ngff0.4"),
        pytest.param(2, 2, ["--codec", "gzip"], id="v2-ngff0.4-to-v2"),
        pytest.param(3, 3, ["--codec", "zstd"], id="v3-ngff0.5-to-v3"),
    ],
)
def test_ngff_group_copy(src_fmt, dst_fmt, extra, run_tessera, tmp_path):
    data = level_data()
    src = (write_ngff_v04 if src_fmt == 2 else write_ngff_v05)(tmp_path / "src.zarr", data)
    # the sources are valid NGFF to begin with
    (check_v2_ngff if src_fmt == 2 else check_v3_ngff)(src)

    info = run_tessera.info(src, "--json")
    assert info.returncode == 0, info.stderr
    json.loads(info.stdout)
    tree = run_tessera.info(src)
    assert tree.returncode == 0 and tree.stdout.strip(), tree.stderr

    dst = tmp_path / "dst.zarr"
    args = ["--zarr-format", str(dst_fmt), *extra]
    proc = run_tessera.copy(src, dst, *args)
    assert proc.returncode == 0, f"{run_tessera.format(['copy', src, dst, *args])}\n{proc.stderr}"
    (check_v2_ngff if dst_fmt == 2 else check_v3_ngff)(dst)
    assert_levels_exact(dst, data)


def test_ngff_round_trip_v2_v3_v2(run_tessera, tmp_path):
    """0.4 -> 0.5 -> 0.4 gives back the original attributes and pixels."""
    data = level_data()
    src = write_ngff_v04(tmp_path / "src.zarr", data)
    mid, back = tmp_path / "mid.zarr", tmp_path / "back.zarr"
    run_tessera.copy(src, mid, "--zarr-format", "3", check=True)
    run_tessera.copy(mid, back, "--zarr-format", "2", check=True)
    check_v2_ngff(back)
    assert tc.load_json(back / ".zattrs") == tc.load_json(src / ".zattrs")
    assert_levels_exact(back, data)


@pytest.mark.parametrize("src_fmt, dst_fmt", [(2, 3), (3, 2), (3, 3), (2, 2)], ids=lambda v: f"v{v}")
def test_plain_group_attributes_survive(src_fmt, dst_fmt, run_tessera, tmp_path):
    """A non-NGFF group: group and array attributes are copied unchanged."""
    group_attrs = {"title": "plain", "custom": CUSTOM, "numbers": [0, -1, 1e-300, 12345678901234]}
    rng = np.random.default_rng(3)
    arrays = {
        "a": (rng.integers(-1000, 1000, size=(37, 45), dtype=np.int32), {"units": "counts", "k": [1, 2]}),
        "b": (rng.standard_normal((23, 9)).astype(np.float32), {"note": "float"}),
    }
    src = tmp_path / "src.zarr"
    root = zarr.open_group(str(src), mode="w", zarr_format=src_fmt)
    root.attrs.update(group_attrs)
    for name, (d, attrs) in arrays.items():
        kw = {"chunk_key_encoding": {"name": "v2", "separator": "/"}} if src_fmt == 2 else {}
        arr = root.create_array(name, shape=d.shape, chunks=(8, 8), dtype=d.dtype, fill_value=0, **kw)
        arr[...] = d
        arr.attrs.update(attrs)

    dst = tmp_path / "dst.zarr"
    run_tessera.copy(src, dst, "--zarr-format", str(dst_fmt), check=True)
    g = zarr.open_group(str(dst), mode="r", zarr_format=dst_fmt)
    assert dict(g.attrs) == group_attrs
    for name, (d, attrs) in arrays.items():
        assert dict(g[name].attrs) == attrs, f"array {name} attributes"
        tc.assert_readers_agree(dst / name, d, 0, f"array {name}")
    if dst_fmt == 3:
        assert not (dst / ".zgroup").exists() and not (dst / ".zattrs").exists()
    else:
        assert not (dst / "zarr.json").exists()
