"""Direction (a): arrays WRITTEN by Tessera are read back exactly by zarr-python 3
and tensorstore, for every dtype x every destination codec chain.

Each case: a third-party source (zarr-python; v2 source for v3 destinations and v3
source for v2 destinations, so every case is also a format conversion) is copied
with `tessera copy` using one destination chain; the destination is then opened by
BOTH readers and compared pixel-for-pixel (NaN-aware, otherwise bitwise) with the
original numpy data, and its metadata is checked against Docs/conformance.md.

The data has partial edge chunks/shards on every axis and a region that is
entirely fill value (whole chunks and one whole shard), see tessera_conformance.
Chains that only add a byte-stream compressor run on a 4-dtype subset; every other
chain runs on every dtype.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import tessera_conformance as tc
from tessera_conformance import CHUNKS, SHARDS, SHAPE

CHUNK_ARG = ",".join(map(str, CHUNKS))
SHARD_ARG = ",".join(map(str, SHARDS))
RECHUNK = (10, 7, 5)  # deliberately unrelated to the source chunking


# ---------------------------------------------------------------------------
# Sources (written once per session per dtype and format)
# ---------------------------------------------------------------------------

def source_for(cache: Path, case: tc.DtypeCase, fmt: int) -> tuple[Path, np.ndarray]:
    data = tc.make_data(case)
    path = cache / f"writes-src-v{fmt}-{case.id}.zarr"
    if not path.exists():
        if fmt == 2:
            tc.write_zarr_python_v2(
                path, data, case, CHUNKS,
                compressor={"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
            )
        else:
            tc.write_zarr_python_v3(path, data, case, CHUNKS, [tc.c_bytes(), tc.c_zstd(3)])
    return path, data


# ---------------------------------------------------------------------------
# Destination chains
# ---------------------------------------------------------------------------

@dataclass
class Chain:
    id: str
    fmt: int
    args: Callable[[tc.DtypeCase], list]
    # expectations on the written metadata (besides the generic checks)
    compressor: Callable[[tc.DtypeCase], dict | None] | None = None  # v2: subset of compressor
    order: str = "C"  # v2 order
    chunks: tuple = CHUNKS  # v2 chunks / v3 inner chunk shape
    outer: tuple | None = None  # v3 chunk_grid (defaults to chunks)
    codecs: Callable[[tc.DtypeCase], list] | None = None  # v3: expected codecs (subset match)
    names: list | None = None  # v3: expected flattened codec names
    transpose_reversed: bool = False  # v3 --order F
    extra: dict = field(default_factory=dict)
    # False for pure byte-stream compression chains: they run on tc.DTYPE_SUBSET
    # (dtype handling is covered by the other chains) to keep the suite fast.
    dtype_sensitive: bool = True


def _blosc2(cname, shuffle, clevel=5):
    return {"id": "blosc", "cname": cname, "clevel": clevel, "shuffle": shuffle, "blocksize": 0}


def _j(obj) -> str:
    return json.dumps(obj)


V2 = [
    Chain("v2-blosc-zstd", 2, lambda c: ["--codec", "blosc-zstd"],
          compressor=lambda c: {"id": "blosc", "cname": "zstd"}),
    Chain("v2-blosc-lz4-level9", 2, lambda c: ["--codec", "blosc-lz4", "--level", "9"],
          compressor=lambda c: {"id": "blosc", "cname": "lz4", "clevel": 9}),
    Chain("v2-zstd", 2, lambda c: ["--codec", "zstd", "--level", "3"],
          compressor=lambda c: {"id": "zstd", "level": 3}),
    Chain("v2-gzip", 2, lambda c: ["--codec", "gzip"], compressor=lambda c: {"id": "gzip"}),
    Chain("v2-none", 2, lambda c: ["--codec", "none"], compressor=lambda c: None),
    Chain("v2-orderF-zstd", 2, lambda c: ["--order", "F", "--codec", "zstd"],
          compressor=lambda c: {"id": "zstd"}, order="F"),
    Chain("v2-codecs-blosc-zlib-bitshuffle", 2,
          lambda c: ["--codecs", _j(_blosc2("zlib", 2, 3))], compressor=lambda c: _blosc2("zlib", 2, 3)),
    Chain("v2-codecs-blosc-lz4hc-shuffle", 2,
          lambda c: ["--codecs", _j(_blosc2("lz4hc", 1))], compressor=lambda c: _blosc2("lz4hc", 1)),
    Chain("v2-codecs-blosc-blosclz-noshuffle", 2,
          lambda c: ["--codecs", _j(_blosc2("blosclz", 0))], compressor=lambda c: _blosc2("blosclz", 0)),
    Chain("v2-codecs-zlib", 2, lambda c: ["--codecs", _j({"id": "zlib", "level": 6})],
          compressor=lambda c: {"id": "zlib", "level": 6}),
    Chain("v2-codecs-gzip", 2, lambda c: ["--codecs", _j({"id": "gzip", "level": 1})],
          compressor=lambda c: {"id": "gzip", "level": 1}),
    Chain("v2-codecs-null", 2, lambda c: ["--codecs", "null"], compressor=lambda c: None),
    Chain("v2-rechunk-orderF-blosc-lz4", 2,
          lambda c: ["--chunks", "10,7,5", "--order", "F", "--codec", "blosc-lz4"],
          compressor=lambda c: {"id": "blosc", "cname": "lz4"}, order="F", chunks=RECHUNK),
]


def _inner(codec_json):
    return lambda c: [tc.c_bytes(), codec_json(c)] if codec_json else [tc.c_bytes()]


V3 = [
    Chain("v3-none", 3, lambda c: ["--codec", "none"], names=["bytes"]),
    Chain("v3-blosc-zstd", 3, lambda c: ["--codec", "blosc-zstd"], names=["bytes", "blosc"],
          codecs=lambda c: [tc.c_bytes(), {"name": "blosc", "configuration": {"cname": "zstd"}}]),
    Chain("v3-blosc-lz4-level1", 3, lambda c: ["--codec", "blosc-lz4", "--level", "1"], names=["bytes", "blosc"],
          codecs=lambda c: [tc.c_bytes(), {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 1}}]),
    Chain("v3-zstd", 3, lambda c: ["--codec", "zstd"], names=["bytes", "zstd"]),
    Chain("v3-gzip-level9", 3, lambda c: ["--codec", "gzip", "--level", "9"], names=["bytes", "gzip"],
          codecs=lambda c: [tc.c_bytes(), tc.c_gzip(9)]),
    Chain("v3-orderF-zstd", 3, lambda c: ["--order", "F", "--codec", "zstd"], transpose_reversed=True),
    Chain("v3-rechunk-gzip", 3, lambda c: ["--chunks", "10,7,5", "--codec", "gzip"], names=["bytes", "gzip"],
          chunks=RECHUNK),
    Chain("v3-codecs-transpose-blosc-lz4-bitshuffle-crc32c", 3,
          lambda c: ["--codecs", _j([tc.c_transpose([2, 0, 1]), tc.c_bytes(), tc.c_blosc("lz4", "bitshuffle", c.itemsize), tc.c_crc32c()])],
          codecs=lambda c: [tc.c_transpose([2, 0, 1]), tc.c_bytes(), tc.c_blosc("lz4", "bitshuffle", c.itemsize), tc.c_crc32c()]),
    Chain("v3-codecs-blosc-zlib-noshuffle", 3,
          lambda c: ["--codecs", _j([tc.c_bytes(), tc.c_blosc("zlib", "noshuffle", c.itemsize, 3)])],
          codecs=lambda c: [tc.c_bytes(), tc.c_blosc("zlib", "noshuffle", c.itemsize, 3)]),
    Chain("v3-codecs-blosc-lz4hc-shuffle", 3,
          lambda c: ["--codecs", _j([tc.c_bytes(), tc.c_blosc("lz4hc", "shuffle", c.itemsize, 7)])],
          codecs=lambda c: [tc.c_bytes(), tc.c_blosc("lz4hc", "shuffle", c.itemsize, 7)]),
    Chain("v3-codecs-blosc-blosclz-shuffle", 3,
          lambda c: ["--codecs", _j([tc.c_bytes(), tc.c_blosc("blosclz", "shuffle", c.itemsize)])],
          codecs=lambda c: [tc.c_bytes(), tc.c_blosc("blosclz", "shuffle", c.itemsize)]),
    Chain("v3-codecs-blosc-zstd-bitshuffle", 3,
          lambda c: ["--codecs", _j([tc.c_bytes(), tc.c_blosc("zstd", "bitshuffle", c.itemsize)])],
          codecs=lambda c: [tc.c_bytes(), tc.c_blosc("zstd", "bitshuffle", c.itemsize)]),
    Chain("v3-codecs-crc32c-only", 3,
          lambda c: ["--codecs", _j([tc.c_bytes(), tc.c_crc32c()])],
          codecs=lambda c: [tc.c_bytes(), tc.c_crc32c()]),
    Chain("v3-codecs-zstd-checksum-gzip", 3,
          lambda c: ["--codecs", _j([tc.c_bytes(), tc.c_zstd(5, True), tc.c_gzip(2)])],
          codecs=lambda c: [tc.c_bytes(), tc.c_zstd(5, True), tc.c_gzip(2)]),
    # --- sharded -----------------------------------------------------------
    Chain("v3-shard-end-blosc-zstd", 3, lambda c: ["--shards", SHARD_ARG, "--chunks", CHUNK_ARG, "--codec", "blosc-zstd"],
          outer=SHARDS, names=["sharding_indexed", ["bytes", "blosc"]], extra={"index_location": "end"}),
    Chain("v3-shard-end-none", 3, lambda c: ["--shards", SHARD_ARG, "--chunks", CHUNK_ARG, "--codec", "none"],
          outer=SHARDS, names=["sharding_indexed", ["bytes"]], extra={"index_location": "end"}),
    Chain("v3-shard-end-gzip-orderF", 3,
          lambda c: ["--shards", SHARD_ARG, "--chunks", CHUNK_ARG, "--codec", "gzip", "--order", "F"],
          outer=SHARDS, transpose_reversed=True, extra={"index_location": "end"}),
    Chain("v3-codecs-shard-start-transpose-zstd-crc32c", 3,
          lambda c: ["--shards", SHARD_ARG, "--codecs", _j([tc.c_shard(CHUNKS, [tc.c_transpose([1, 2, 0]), tc.c_bytes(), tc.c_zstd(3), tc.c_crc32c()], "start")])],
          outer=SHARDS,
          codecs=lambda c: [tc.c_shard(CHUNKS, [tc.c_transpose([1, 2, 0]), tc.c_bytes(), tc.c_zstd(3), tc.c_crc32c()], "start")]),
    Chain("v3-codecs-shard-start-gridfromchunks-blosc", 3,
          # no --shards: the outer grid comes from --chunks
          lambda c: ["--chunks", SHARD_ARG, "--codecs", _j([tc.c_shard(CHUNKS, [tc.c_bytes(), tc.c_blosc("lz4", "shuffle", c.itemsize)], "start")])],
          outer=SHARDS,
          codecs=lambda c: [tc.c_shard(CHUNKS, [tc.c_bytes(), tc.c_blosc("lz4", "shuffle", c.itemsize)], "start")]),
    Chain("v3-codecs-shard-end-rechunk-gzip", 3,
          lambda c: ["--shards", "20,14,10", "--codecs", _j([tc.c_shard(RECHUNK, [tc.c_bytes(), tc.c_gzip(6)], "end")])],
          outer=(20, 14, 10), chunks=RECHUNK,
          codecs=lambda c: [tc.c_shard(RECHUNK, [tc.c_bytes(), tc.c_gzip(6)], "end")]),
    Chain("v3-codecs-shard-nested", 3,
          # sharding inside sharding: 16x32x16 shards of 8x16x8 sub-shards of 4x8x4 chunks
          lambda c: ["--shards", SHARD_ARG, "--codecs", _j([tc.c_shard(CHUNKS, [tc.c_shard((4, 8, 4), [tc.c_bytes(), tc.c_zstd(1)], "end")], "start")])],
          outer=SHARDS,
          codecs=lambda c: [tc.c_shard(CHUNKS, [tc.c_shard((4, 8, 4), [tc.c_bytes(), tc.c_zstd(1)], "end")], "start")]),
]

CHAINS = V2 + V3
BYTE_STREAM_ONLY = {
    "v2-zstd", "v2-gzip", "v2-codecs-zlib", "v2-codecs-gzip", "v2-codecs-null",
    "v3-zstd", "v3-gzip-level9", "v3-codecs-crc32c-only", "v3-codecs-zstd-checksum-gzip",
}
for _c in CHAINS:
    _c.dtype_sensitive = _c.id not in BYTE_STREAM_ONLY
MATRIX = [
    pytest.param(ch, case, id=f"{ch.id}-{case.id}")
    for ch in CHAINS
    for case in (tc.DTYPE_CASES if ch.dtype_sensitive else tc.DTYPE_SUBSET)
]


def assert_full_size_chunks(dst: Path, chunks, case: tc.DtypeCase) -> None:
    """Uncompressed chunks, edge chunks included, are stored full size (padded)."""
    want = int(np.prod(chunks)) * case.itemsize
    sizes = {f: (dst / f).stat().st_size for f in tc.visible_files(dst) if f not in tc.TOP_LEVEL_METADATA}
    assert sizes, "no chunk objects written"
    wrong = {f: n for f, n in sizes.items() if n != want}
    assert not wrong, f"chunks not stored full size ({want} bytes): {dict(list(wrong.items())[:5])}"


def check_metadata(dst: Path, chain: Chain, case: tc.DtypeCase) -> None:
    present = set(tc.top_level_metadata(dst))
    wanted, foreign = ({"zarr.json"}, {".zarray", ".zgroup", ".zattrs"}) if chain.fmt == 3 else ({".zarray"}, {"zarr.json", ".zgroup"})
    assert wanted <= present and not (present & foreign), f"metadata files at {dst}: {sorted(present)}"
    if chain.fmt == 2:
        meta = tc.load_json(dst / ".zarray")
        tc.check_common_v2(meta, case)
        assert tuple(meta["shape"]) == SHAPE
        assert tuple(meta["chunks"]) == chain.chunks, meta
        assert meta["order"] == chain.order, meta
        expected = chain.compressor(case) if chain.compressor else None
        if expected is None:
            assert meta["compressor"] is None, meta
        else:
            assert tc.codec_is_subset(expected, meta["compressor"]), f"compressor {meta['compressor']} !~ {expected}"
        # chunk files really use '/' keys
        files = tc.visible_files(dst)
        assert any("/" in f for f in files if not f.startswith(".")), files[:10]
        if expected is None:
            assert_full_size_chunks(dst, chain.chunks, case)
        return

    meta = tc.load_json(dst / "zarr.json")
    tc.check_common_v3(meta, case)
    assert tuple(meta["shape"]) == SHAPE
    outer = chain.outer or chain.chunks
    assert tuple(meta["chunk_grid"]["configuration"]["chunk_shape"]) == outer, meta["chunk_grid"]
    codecs = meta["codecs"]
    if chain.codecs:
        expected = chain.codecs(case)
        assert tc.codec_is_subset(expected, codecs), f"--codecs not used verbatim:\n got {codecs}\n want {expected}"
    if chain.names:
        assert tc.flatten_codec_names(codecs) == chain.names, tc.flatten_codec_names(codecs)
        if chain.names == ["bytes"]:
            assert_full_size_chunks(dst, chain.chunks, case)
    if chain.transpose_reversed:
        def transposes(cs):
            for c in cs:
                if c["name"] == "transpose":
                    yield c["configuration"]["order"]
                if c["name"] == "sharding_indexed":
                    yield from transposes(c["configuration"]["codecs"])
        assert [2, 1, 0] in list(transposes(codecs)), f"--order F needs transpose [2,1,0]: {codecs}"
    if chain.outer and not chain.codecs:
        # Tessera-chosen sharding: index at end, bytes+crc32c index, inner grid = --chunks
        shard = [c for c in codecs if c["name"] == "sharding_indexed"]
        assert len(shard) == 1, codecs
        cfg = shard[0]["configuration"]
        assert tuple(cfg["chunk_shape"]) == chain.chunks, cfg
        assert cfg.get("index_location", "end") == chain.extra.get("index_location", "end"), cfg
        assert [c["name"] for c in cfg["index_codecs"]] == ["bytes", "crc32c"], cfg["index_codecs"]
        assert cfg["index_codecs"][0]["configuration"]["endian"] == "little", cfg["index_codecs"]
    # no bytes codec written big-endian by Tessera (only --codecs could ask for it)
    if not chain.codecs:
        def endians(cs):
            for c in cs:
                if c["name"] == "bytes":
                    yield c.get("configuration", {}).get("endian", "little")
                if c["name"] == "sharding_indexed":
                    yield from endians(c["configuration"]["codecs"])
        assert set(endians(codecs)) <= {"little"}, codecs


@pytest.mark.parametrize("chain, case", MATRIX)
def test_tessera_written_array_reads_exactly(chain: Chain, case: tc.DtypeCase, run_tessera, source_cache, tmp_path):
    src_fmt = 2 if chain.fmt == 3 else 3
    src, data = source_for(source_cache, case, src_fmt)
    dst = tmp_path / "dst.zarr"
    args = ["--zarr-format", str(chain.fmt), *chain.args(case)]
    proc = run_tessera.copy(src, dst, *args)
    assert proc.returncode == 0, f"{run_tessera.format(['copy', src, dst, *args])}\nstderr: {proc.stderr}"
    check_metadata(dst, chain, case)
    tc.assert_readers_agree(dst, data, case.fill, chain.id)


RANK_CASES = [
    # shape, chunks, shards  (all with partial edges)
    pytest.param((1000,), (64,), (256,), id="1d"),
    pytest.param((37, 45), (16, 8), (32, 16), id="2d"),
    pytest.param((3, 2, 17, 19, 23), (1, 1, 8, 8, 8), (1, 2, 16, 16, 16), id="5d"),
]


@pytest.mark.parametrize("case", tc.dtype_params([tc.DTYPES_BY_ID["int16"], tc.DTYPES_BY_ID["float64-nan"]]))
@pytest.mark.parametrize("dest", ["v2-blosc-lz4", "v3-zstd", "v3-sharded-gzip", "v3-orderF"])
@pytest.mark.parametrize("shape, chunks, shards", RANK_CASES)
def test_other_ranks(shape, chunks, shards, dest, case, run_tessera, tmp_path):
    region = tuple(slice(0, s) for s in shards)  # first shard entirely fill
    data = tc.make_data(case, shape=shape, fill_region=region, seed=3)
    src = tc.write_zarr_python_v3(tmp_path / "src.zarr", data, case, chunks, [tc.c_bytes(), tc.c_gzip(1)])
    c = ",".join(map(str, chunks))
    args = {
        "v2-blosc-lz4": ["--zarr-format", "2", "--codec", "blosc-lz4"],
        "v3-zstd": ["--zarr-format", "3", "--codec", "zstd"],
        "v3-sharded-gzip": ["--zarr-format", "3", "--chunks", c, "--shards", ",".join(map(str, shards)), "--codec", "gzip"],
        "v3-orderF": ["--zarr-format", "3", "--order", "F"],
    }[dest]
    dst = tmp_path / "dst.zarr"
    proc = run_tessera.copy(src, dst, *args)
    assert proc.returncode == 0, f"{run_tessera.format(['copy', src, dst, *args])}\n{proc.stderr}"
    if dest.startswith("v2"):
        meta = tc.load_json(dst / ".zarray")
        tc.check_common_v2(meta, case)
        assert tuple(meta["chunks"]) == chunks
    else:
        meta = tc.load_json(dst / "zarr.json")
        tc.check_common_v3(meta, case)
        outer = shards if "sharded" in dest else chunks
        assert tuple(meta["chunk_grid"]["configuration"]["chunk_shape"]) == outer
    tc.assert_readers_agree(dst, data, case.fill, f"rank {len(shape)} {dest}")
