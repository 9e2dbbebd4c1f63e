"""Shared helpers for the Tessera third-party-reader conformance suite.

Everything here is plain Python so the test modules stay declarative:
  * the dtype / fill-value matrix and deterministic test data,
  * writers that produce source arrays with zarr-python 3 and tensorstore,
  * readers (zarr-python 3 and tensorstore) and an exact-pixel comparison,
  * metadata checks for what Tessera writes,
  * a dependency-free CRC32C and a shard-index parser.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------
# Geometry shared by most tests: NOT multiples of chunk or shard shape, so every
# axis has a partial edge chunk (37 = 4*8+5, 45 = 2*16+13, 23 = 2*8+7) and
# partial edge shards (37 = 2*16+5, 45 = 32+13, 23 = 16+7).
# ---------------------------------------------------------------------------
SHAPE = (37, 45, 23)
CHUNKS = (8, 16, 8)
SHARDS = (16, 32, 16)
# Region left entirely at the fill value. It covers whole chunks (2*2*2 chunks of
# 8x16x8) and exactly one whole shard (shard 0/0/0), so writers skip those objects
# and readers/Tessera must synthesise them from fill_value.
FILL_REGION = (slice(0, 16), slice(0, 32), slice(0, 16))


@dataclass(frozen=True)
class DtypeCase:
    id: str
    name: str  # zarr v3 data_type name == numpy dtype name
    fill: Any  # python value; floats may be nan / inf / -inf

    @property
    def np(self) -> np.dtype:
        return np.dtype(self.name)

    @property
    def itemsize(self) -> int:
        return self.np.itemsize

    @property
    def is_float(self) -> bool:
        return self.np.kind == "f"


DTYPE_CASES = [
    DtypeCase("bool", "bool", True),
    DtypeCase("int8", "int8", -3),
    DtypeCase("int16", "int16", -300),
    DtypeCase("int32", "int32", 7),
    DtypeCase("int64", "int64", -(2**40) - 1),
    DtypeCase("uint8", "uint8", 200),
    DtypeCase("uint16", "uint16", 0),
    DtypeCase("uint32", "uint32", 4_000_000_000),
    DtypeCase("uint64", "uint64", 2**64 - 1),
    DtypeCase("float16-nan", "float16", float("nan")),
    DtypeCase("float32-inf", "float32", float("inf")),
    DtypeCase("float64-neginf", "float64", float("-inf")),
    DtypeCase("float32-nan", "float32", float("nan")),
    DtypeCase("float64-nan", "float64", float("nan")),
    DtypeCase("float64-1.5", "float64", 1.5),
]
DTYPES_BY_ID = {c.id: c for c in DTYPE_CASES}
# A small cross-section used where the dtype does not interact with the feature.
DTYPE_SUBSET = [DTYPES_BY_ID[i] for i in ("bool", "uint16", "int64", "float32-nan")]
MULTIBYTE_DTYPES = [c for c in DTYPE_CASES if c.itemsize > 1]


def dtype_params(cases=DTYPE_CASES):
    import pytest

    return [pytest.param(c, id=c.id) for c in cases]


def fill_json(value: Any) -> Any:
    """The JSON spelling of a fill value in zarr v2/v3 metadata."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
    return value


def make_data(case: DtypeCase, shape=SHAPE, fill_region=FILL_REGION, seed: int = 0) -> np.ndarray:
    """Deterministic pseudo-random data spanning the dtype's range, with float
    specials sprinkled in and `fill_region` set to the fill value."""
    rng = np.random.default_rng(seed + sum(map(ord, case.id)))
    dt = case.np
    if dt.kind == "b":
        data = rng.random(shape) < 0.5
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        data = rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
    else:
        scale = 1000.0 if dt.itemsize == 2 else 1e6
        data = (rng.standard_normal(shape) * scale).astype(dt)
        flat = data.reshape(-1)
        idx = rng.choice(flat.size, size=min(40, flat.size), replace=False)
        flat[idx[0::4]] = np.nan
        flat[idx[1::4]] = np.inf
        flat[idx[2::4]] = -np.inf
        flat[idx[3::4]] = -0.0
    data = np.ascontiguousarray(data)
    if fill_region is not None:
        data[fill_region] = case.fill
    return data


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------

def assert_pixels_equal(actual, expected: np.ndarray, label: str = "") -> None:
    actual = np.asarray(actual)
    prefix = f"{label}: " if label else ""
    assert actual.shape == expected.shape, f"{prefix}shape {actual.shape} != {expected.shape}"
    assert actual.dtype.kind == expected.dtype.kind and actual.dtype.itemsize == expected.dtype.itemsize, (
        f"{prefix}dtype {actual.dtype} != {expected.dtype}"
    )
    a = actual.astype(expected.dtype.newbyteorder("="), copy=False)
    e = expected.astype(expected.dtype.newbyteorder("="), copy=False)
    if e.dtype.kind == "f":
        nan_a, nan_e = np.isnan(a), np.isnan(e)
        bad_nan = nan_a != nan_e
        # bitwise equality for all non-NaN values (so -0.0 vs 0.0 also counts)
        ui = np.dtype(f"u{e.dtype.itemsize}")
        bad_bits = (a.view(ui) != e.view(ui)) & ~nan_e & ~nan_a
        bad = bad_nan | bad_bits
    else:
        bad = a != e
    if bad.any():
        where = np.argwhere(bad)
        first = tuple(int(i) for i in where[0])
        raise AssertionError(
            f"{prefix}{int(bad.sum())} of {bad.size} elements differ; first at {first}: "
            f"got {a[first]!r}, expected {e[first]!r}"
        )


def fill_matches(actual: Any, expected: Any) -> bool:
    if actual is None:
        return False
    if isinstance(expected, float) and math.isnan(expected):
        try:
            return math.isnan(float(actual))
        except (TypeError, ValueError):
            return False
    if isinstance(expected, bool):
        return isinstance(actual, (bool, np.bool_)) and bool(actual) == expected
    try:
        return bool(actual == expected)
    except (TypeError, ValueError, OverflowError):
        return False


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------

def zarr_format_of(path: Path) -> int:
    path = Path(path)
    if (path / "zarr.json").exists():
        return 3
    if (path / ".zarray").exists() or (path / ".zgroup").exists():
        return 2
    raise AssertionError(f"no zarr metadata at {path}")


def read_zarr_python(path: Path):
    """Return (numpy data, fill_value) read by zarr-python 3."""
    import zarr

    arr = zarr.open_array(str(path), mode="r", zarr_format=zarr_format_of(path))
    return arr[...], arr.fill_value


def read_tensorstore(path: Path):
    """Return (numpy data, fill_value) read by tensorstore."""
    import tensorstore as ts

    driver = "zarr3" if zarr_format_of(path) == 3 else "zarr"
    store = ts.open(
        {"driver": driver, "kvstore": {"driver": "file", "path": str(Path(path).resolve())}},
        read=True,
    ).result()
    fv = store.fill_value
    return store.read().result(), (None if fv is None else np.asarray(fv).item())


def assert_readers_agree(path: Path, expected: np.ndarray, fill: Any, label: str = "") -> None:
    """Open `path` with BOTH zarr-python and tensorstore; exact pixels + fill value."""
    data, fv = read_zarr_python(path)
    assert_pixels_equal(data, expected, f"{label} zarr-python")
    assert fill_matches(fv, fill), f"{label} zarr-python fill_value {fv!r} != {fill!r}"
    data, fv = read_tensorstore(path)
    assert_pixels_equal(data, expected, f"{label} tensorstore")
    if fv is not None:
        assert fill_matches(fv, fill), f"{label} tensorstore fill_value {fv!r} != {fill!r}"


# ---------------------------------------------------------------------------
# v3 codec JSON builders
# ---------------------------------------------------------------------------

def c_bytes(endian="little"):
    return {"name": "bytes", "configuration": {"endian": endian}}


def c_transpose(order):
    return {"name": "transpose", "configuration": {"order": list(order)}}


def c_blosc(cname, shuffle, typesize, clevel=5):
    return {
        "name": "blosc",
        "configuration": {"cname": cname, "clevel": clevel, "shuffle": shuffle, "typesize": typesize, "blocksize": 0},
    }


def c_zstd(level=3, checksum=False):
    return {"name": "zstd", "configuration": {"level": level, "checksum": checksum}}


def c_gzip(level=5):
    return {"name": "gzip", "configuration": {"level": level}}


def c_crc32c():
    return {"name": "crc32c"}


def c_shard(chunk_shape, codecs, index_location="end", index_codecs=None):
    return {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": list(chunk_shape),
            "codecs": codecs,
            "index_codecs": index_codecs if index_codecs is not None else [c_bytes(), c_crc32c()],
            "index_location": index_location,
        },
    }


# ---------------------------------------------------------------------------
# Source writers (third-party writers)
# ---------------------------------------------------------------------------

def write_zarr_python_v3(path: Path, data: np.ndarray, case: DtypeCase, chunk_shape, codecs) -> Path:
    """zarr-python 3, v3 format, with an explicit codec list (JSON dicts)."""
    import zarr

    arr = zarr.create(
        shape=data.shape,
        chunks=tuple(chunk_shape),
        dtype=case.np,
        fill_value=case.fill,
        store=str(path),
        zarr_format=3,
        codecs=codecs,
        overwrite=True,
    )
    arr[...] = data
    return Path(path)


def write_zarr_python_v2(
    path: Path,
    data: np.ndarray,
    case: DtypeCase,
    chunk_shape,
    compressor=None,
    order="C",
    separator="/",
    big_endian=False,
) -> Path:
    """zarr-python 3, v2 format. `compressor` is a numcodecs config dict or None."""
    import numcodecs
    import zarr

    dt = case.np.newbyteorder(">") if big_endian else case.np
    arr = zarr.create_array(
        str(path),
        shape=data.shape,
        chunks=tuple(chunk_shape),
        dtype=dt,
        fill_value=case.fill,
        zarr_format=2,
        order=order,
        compressors=None if compressor is None else numcodecs.get_codec(dict(compressor)),
        filters=None,
        chunk_key_encoding={"name": "v2", "separator": separator},
        overwrite=True,
    )
    arr[...] = data
    meta = json.loads((Path(path) / ".zarray").read_text())
    # make sure the writer really produced what the test claims to cover
    assert meta["order"] == order and meta.get("dimension_separator", ".") == separator, meta
    assert meta["dtype"] == dt.str, meta
    return Path(path)


def write_tensorstore_zarr(
    path: Path,
    data: np.ndarray,
    case: DtypeCase,
    chunk_shape,
    compressor=None,
    order="C",
    separator="/",
    big_endian=False,
) -> Path:
    """tensorstore `zarr` driver (Zarr v2)."""
    import tensorstore as ts

    dt = case.np.newbyteorder(">") if big_endian else case.np
    metadata = {
        "dtype": dt.str,
        "shape": list(data.shape),
        "chunks": list(chunk_shape),
        "compressor": compressor,
        "order": order,
        "dimension_separator": separator,
        "fill_value": fill_json(case.fill),
        "filters": None,
    }
    store = ts.open(
        {"driver": "zarr", "kvstore": {"driver": "file", "path": str(Path(path).resolve())}, "metadata": metadata,
         "context": {"file_io_sync": False}},
        create=True,
        delete_existing=True,
    ).result()
    store.write(data).result()
    return Path(path)


def write_tensorstore_zarr3(path: Path, data: np.ndarray, case: DtypeCase, chunk_shape, codecs) -> Path:
    """tensorstore `zarr3` driver."""
    import tensorstore as ts

    metadata = {
        "zarr_format": 3,
        "node_type": "array",
        "data_type": case.name,
        "shape": list(data.shape),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunk_shape)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_json(case.fill),
        "codecs": codecs,
    }
    store = ts.open(
        {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(Path(path).resolve())}, "metadata": metadata,
         "context": {"file_io_sync": False}},
        create=True,
        delete_existing=True,
    ).result()
    store.write(data).result()
    return Path(path)


# ---------------------------------------------------------------------------
# Metadata inspection
# ---------------------------------------------------------------------------

ARRAY_TO_BYTES = {"bytes", "sharding_indexed"}
ARRAY_TO_ARRAY = {"transpose"}
BYTES_TO_BYTES = {"blosc", "zstd", "gzip", "crc32c"}
BLOSC_SHUFFLES = {"noshuffle", "shuffle", "bitshuffle"}
TOP_LEVEL_METADATA = ("zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata")
# The record convert and copy keep of their run at an output's root (its settings, for
# --resume and --overwrite): not a chunk, not Zarr metadata.
OUTPUT_MARK = ".tessera-output.json"


def load_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


def check_v3_codec_chain(codecs: list, itemsize: int, where: str = "codecs") -> None:
    """Structural rules every v3 codec chain Tessera writes must follow."""
    assert isinstance(codecs, list) and codecs, f"{where}: empty or not a list: {codecs!r}"
    names = [c["name"] for c in codecs]
    a2b = [i for i, n in enumerate(names) if n in ARRAY_TO_BYTES]
    assert len(a2b) == 1, f"{where}: need exactly one array->bytes codec, got {names}"
    k = a2b[0]
    assert all(n in ARRAY_TO_ARRAY for n in names[:k]), f"{where}: bad array->array part {names}"
    assert all(n in BYTES_TO_BYTES for n in names[k + 1 :]), f"{where}: bad bytes->bytes part {names}"
    for c in codecs:
        cfg = c.get("configuration", {})
        if c["name"] == "bytes":
            if itemsize > 1:
                assert cfg.get("endian") in ("little", "big"), f"{where}: bytes endian missing: {c}"
        elif c["name"] == "blosc":
            assert isinstance(cfg.get("shuffle"), str) and cfg["shuffle"] in BLOSC_SHUFFLES, (
                f"{where}: blosc shuffle must be a string: {c}"
            )
            assert isinstance(cfg.get("typesize"), int) and cfg["typesize"] == itemsize, (
                f"{where}: blosc typesize must be present and == {itemsize}: {c}"
            )
            assert cfg.get("cname") in {"lz4", "lz4hc", "zstd", "zlib", "blosclz"}, f"{where}: {c}"
        elif c["name"] == "sharding_indexed":
            assert cfg.get("index_location", "end") in ("start", "end"), c
            check_v3_codec_chain(cfg["codecs"], itemsize, f"{where}.sharding.codecs")
            check_v3_codec_chain(cfg["index_codecs"], 8, f"{where}.sharding.index_codecs")


def flatten_codec_names(codecs: list) -> list:
    out = []
    for c in codecs:
        out.append(c["name"])
        if c["name"] == "sharding_indexed":
            out.append(flatten_codec_names(c["configuration"]["codecs"]))
    return out


def codec_is_subset(expected: Any, actual: Any) -> bool:
    """True if every key/value given in `expected` appears identically in `actual`
    (extra defaults added by the writer are allowed)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and codec_is_subset(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            codec_is_subset(e, a) for e, a in zip(expected, actual)
        )
    return expected == actual


def check_common_v2(meta: dict, case: DtypeCase | None) -> None:
    assert meta.get("zarr_format") == 2, meta
    assert meta.get("dimension_separator") == "/", f"v2 output must write dimension_separator '/': {meta}"
    assert meta.get("fill_value") is not None, f"v2 fill_value must never be null: {meta}"
    assert meta.get("filters") in (None, []), meta
    if case is not None:
        assert meta["fill_value"] == fill_json(case.fill), (
            f"fill_value {meta['fill_value']!r} != {fill_json(case.fill)!r}"
        )
        assert np.dtype(meta["dtype"]) == case.np, f"dtype {meta['dtype']} != {case.np}"


def check_common_v3(meta: dict, case: DtypeCase | None) -> None:
    assert meta.get("zarr_format") == 3 and meta.get("node_type") == "array", meta
    assert "fill_value" in meta and meta["fill_value"] is not None, f"v3 fill_value required: {meta}"
    cke = meta.get("chunk_key_encoding", {})
    assert cke.get("name") == "default", meta
    assert cke.get("configuration", {}).get("separator", "/") == "/", meta
    if case is not None:
        assert meta["data_type"] == case.name, meta
        assert meta["fill_value"] == fill_json(case.fill), f"fill_value {meta['fill_value']!r} != {fill_json(case.fill)!r}"
        check_v3_codec_chain(meta["codecs"], case.itemsize)


def top_level_metadata(dst: Path) -> list:
    dst = Path(dst)
    return [n for n in TOP_LEVEL_METADATA if (dst / n).exists()]


def assert_no_destination_metadata(dst: Path):
    """A refused copy wrote no metadata at its destination's root (nothing there claims to be Zarr)."""
    if Path(dst).exists():
        assert top_level_metadata(dst) == [], f"metadata written at destination root: {top_level_metadata(dst)}"


# ---------------------------------------------------------------------------
# CRC32C (Castagnoli) without third-party packages, and shard index parsing
# ---------------------------------------------------------------------------

def _crc32c_table():
    poly = 0x82F63B78
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # RFC 3720 check value

EMPTY = 2**64 - 1


def parse_shard_index(blob: bytes, n_chunks: int, index_location: str = "end"):
    """Parse a bytes+crc32c shard index; returns list of (offset, nbytes).
    Raises AssertionError when the checksum or bounds are wrong."""
    size = 16 * n_chunks + 4
    assert len(blob) >= size, f"shard of {len(blob)} bytes is smaller than its index ({size})"
    raw = blob[-size:] if index_location == "end" else blob[:size]
    body, stored = raw[:-4], int.from_bytes(raw[-4:], "little")
    assert crc32c(body) == stored, "shard index crc32c mismatch"
    entries = np.frombuffer(body, dtype="<u8").reshape(-1, 2)
    out = []
    for off, nb in entries.tolist():
        if off == EMPTY and nb == EMPTY:
            out.append(None)
            continue
        assert off + nb <= len(blob), f"index entry ({off},{nb}) beyond shard size {len(blob)}"
        if index_location == "end":
            assert off + nb <= len(blob) - size, f"entry ({off},{nb}) overlaps index"
        else:
            assert off >= size, f"entry ({off},{nb}) overlaps index"
        out.append((off, nb))
    return out


def write_shard_index(blob: bytes, entries, index_location: str = "end") -> bytes:
    """Replace the bytes+crc32c index of a shard with `entries` (list of (off, nb)),
    recomputing the checksum so the index itself is valid."""
    n = len(entries)
    body = np.asarray(entries, dtype="<u8").reshape(-1).tobytes()
    index = body + crc32c(body).to_bytes(4, "little")
    size = 16 * n + 4
    if index_location == "end":
        return blob[:-size] + index
    return index + blob[size:]


def visible_files(root: Path):
    """Relative POSIX paths of files under root whose path has no hidden component."""
    root = Path(root)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for f in filenames:
            if not f.startswith("."):
                out.append((Path(dirpath) / f).relative_to(root).as_posix())
    return sorted(out)


def hidden_files(root: Path):
    root = Path(root)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for f in filenames:
            rel = (Path(dirpath) / f).relative_to(root)
            if any(part.startswith(".") for part in rel.parts):
                out.append(rel.as_posix())
    return sorted(out)
