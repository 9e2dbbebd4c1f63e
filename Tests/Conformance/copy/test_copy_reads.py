"""Direction (b): arrays WRITTEN by zarr-python 3 and tensorstore are READ exactly by
Tessera, for every dtype x every source codec chain — including encodings Tessera
reads but never writes (big-endian `bytes`, v2 '>' dtypes, v2 order F, v2 '.'
separator, sharding index at start, nested sharding).

Tessera's read is observed through `tessera copy`: the source is copied to the
plainest destination (v3, `bytes` only, no compression) and that destination is
opened by zarr-python and tensorstore; its pixels can only equal the numpy data the
third-party writer was given if Tessera decoded the source correctly (including
missing fill-only chunks, partial edge chunks and fill values).

Chains whose decoding depends on the dtype (bytes endianness, blosc shuffle/typesize,
transpose, order F, sharding) run on every dtype; pure byte-stream compressors run on
a 4-dtype subset (tc.DTYPE_SUBSET) to keep the suite inside its time budget.

A second test copies each source with NO options and checks the defaults of the
contract: same format, same chunk grid, same compression where representable; it
also checks the third-party source itself and that `tessera info --json` parses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import tessera_conformance as tc
from tessera_conformance import CHUNKS, SHARDS

b, t, crc = tc.c_bytes, tc.c_transpose, tc.c_crc32c


@dataclass
class Source:
    id: str
    fmt: int
    write: Callable[[Path, np.ndarray, tc.DtypeCase], Path]
    chunk_grid: tuple = CHUNKS
    # False for pure byte-stream compression chains (zstd/gzip/zlib/crc32c/none),
    # whose decoding cannot depend on the dtype: those run on tc.DTYPE_SUBSET
    # instead of every dtype to keep the suite within its time budget.
    dtype_sensitive: bool = True
    # what a default copy must keep: v2 -> subset of compressor; v3 -> bytes->bytes
    # compression codec names (crc32c excluded, it is not compression)
    keeps: object = None


def _v3_source(prefix, write):
    """Source maker for one v3 writer: `maker(cid, codecs_fn, grid, keeps, sensitive)`."""
    def maker(cid, codecs_fn, grid=CHUNKS, keeps=(), sensitive=True):
        return Source(
            f"{prefix}-{cid}", 3,
            lambda p, d, c: write(p, d, c, grid, codecs_fn(c)),
            chunk_grid=grid, keeps=list(keeps), dtype_sensitive=sensitive,
        )
    return maker


def _v2_sensitive(compressor, order, big):
    return order == "F" or big or (compressor or {}).get("id") == "blosc"


def _v2_source(prefix, write):
    """Source maker for one v2 writer: `maker(cid, compressor, order, sep, big)`."""
    def maker(cid, compressor=None, order="C", sep="/", big=False):
        return Source(
            f"{prefix}-{cid}", 2,
            lambda p, d, c: write(p, d, c, CHUNKS, compressor, order, sep, big),
            keeps=compressor, dtype_sensitive=_v2_sensitive(compressor, order, big),
        )
    return maker


zp3 = _v3_source("zp3", tc.write_zarr_python_v3)
zp2 = _v2_source("zp2", tc.write_zarr_python_v2)
ts2 = _v2_source("ts2", tc.write_tensorstore_zarr)
ts3 = _v3_source("ts3", tc.write_tensorstore_zarr3)


def zp3_create_array_sharded(p, d, c):
    """The route most zarr-python users take: create_array(shards=..., chunks=...)."""
    import zarr
    from zarr.codecs import BloscCodec

    arr = zarr.create_array(
        str(p), shape=d.shape, dtype=c.np, chunks=CHUNKS, shards=SHARDS, fill_value=c.fill,
        compressors=BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle"), zarr_format=3,
    )
    arr[...] = d
    return Path(p)


def blosc2(cname, shuffle, clevel=5):
    return {"id": "blosc", "cname": cname, "clevel": clevel, "shuffle": shuffle, "blocksize": 0}


SOURCES = [
    # ---- zarr-python 3, Zarr v3 ----------------------------------------
    zp3("bytes", lambda c: [b()]),
    zp3("bytes-big", lambda c: [b("big")]),
    zp3("blosc-lz4-shuffle", lambda c: [b(), tc.c_blosc("lz4", "shuffle", c.itemsize)], keeps=["blosc"]),
    zp3("blosc-lz4hc-bitshuffle", lambda c: [b(), tc.c_blosc("lz4hc", "bitshuffle", c.itemsize)], keeps=["blosc"]),
    zp3("blosc-zstd-noshuffle", lambda c: [b(), tc.c_blosc("zstd", "noshuffle", c.itemsize)], keeps=["blosc"]),
    zp3("blosc-zlib-shuffle", lambda c: [b(), tc.c_blosc("zlib", "shuffle", c.itemsize)], keeps=["blosc"]),
    zp3("blosc-blosclz-bitshuffle", lambda c: [b(), tc.c_blosc("blosclz", "bitshuffle", c.itemsize)], keeps=["blosc"]),
    zp3("zstd", lambda c: [b(), tc.c_zstd(3)], keeps=["zstd"], sensitive=False),
    zp3("zstd-checksum", lambda c: [b(), tc.c_zstd(5, checksum=True)], keeps=["zstd"], sensitive=False),
    zp3("gzip", lambda c: [b(), tc.c_gzip(5)], keeps=["gzip"], sensitive=False),
    zp3("crc32c", lambda c: [b(), crc()], sensitive=False),
    zp3("transpose-big-blosc-crc32c",
        lambda c: [t([2, 0, 1]), b("big"), tc.c_blosc("lz4", "bitshuffle", c.itemsize), crc()], keeps=["blosc"]),
    zp3("shard-end-zstd", lambda c: [tc.c_shard(CHUNKS, [b(), tc.c_zstd(3)], "end")], grid=SHARDS),
    zp3("shard-start-transpose-big-gzip-crc32c",
        lambda c: [tc.c_shard(CHUNKS, [t([1, 2, 0]), b("big"), tc.c_gzip(5), crc()], "start")], grid=SHARDS),
    zp3("shard-start-index-bytes-only",
        lambda c: [tc.c_shard(CHUNKS, [b(), tc.c_blosc("lz4", "shuffle", c.itemsize)], "start", index_codecs=[b()])],
        grid=SHARDS),
    zp3("shard-nested", lambda c: [tc.c_shard(CHUNKS, [tc.c_shard((4, 8, 4), [b(), tc.c_zstd(1)], "end")], "start")],
        grid=SHARDS),
    zp3("shard-outer-transpose-crc32c",
        lambda c: [t([2, 1, 0]), tc.c_shard((8, 16, 8), [b(), tc.c_gzip(1)], "end"), crc()], grid=(16, 32, 16)),
    Source("zp3-create_array-shards-blosc", 3, zp3_create_array_sharded, chunk_grid=SHARDS),
    # ---- zarr-python 3, Zarr v2 ----------------------------------------
    zp2("none"),
    zp2("blosc-lz4-shuffle", blosc2("lz4", 1)),
    zp2("blosc-zstd-bitshuffle", blosc2("zstd", 2)),
    zp2("blosc-zlib-noshuffle", blosc2("zlib", 0)),
    zp2("blosc-lz4hc-shuffle", blosc2("lz4hc", 1)),
    zp2("blosc-blosclz-bitshuffle", blosc2("blosclz", 2)),
    zp2("zstd", {"id": "zstd", "level": 3}),
    zp2("gzip", {"id": "gzip", "level": 5}),
    zp2("zlib", {"id": "zlib", "level": 5}),
    zp2("orderF-blosc-lz4", blosc2("lz4", 1), order="F"),
    zp2("sepdot-blosc-lz4", blosc2("lz4", 1), sep="."),
    zp2("sepdot-orderF-zlib", {"id": "zlib", "level": 1}, order="F", sep="."),
    zp2("bigendian-zstd", {"id": "zstd", "level": 1}, big=True),
    zp2("bigendian-orderF-sepdot-gzip", {"id": "gzip", "level": 1}, order="F", sep=".", big=True),
    # ---- tensorstore, Zarr v2 ("zarr" driver) --------------------------
    ts2("raw"),
    ts2("blosc-lz4-shuffle", {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}),
    ts2("blosc-zstd-bitshuffle", {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2}),
    ts2("zstd", {"id": "zstd", "level": 3}),
    ts2("zlib", {"id": "zlib", "level": 5}),
    ts2("gzip", {"id": "gzip", "level": 5}),
    ts2("orderF-blosc-lz4", {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}, order="F"),
    ts2("sepdot-zlib", {"id": "zlib", "level": 5}, sep="."),
    ts2("bigendian-orderF-blosc-zlib", {"id": "blosc", "cname": "zlib", "clevel": 5, "shuffle": 0}, order="F", big=True),
    # ---- tensorstore, Zarr v3 ("zarr3" driver) -------------------------
    ts3("bytes", lambda c: [b()]),
    ts3("bytes-big", lambda c: [b("big")]),
    ts3("blosc-zstd-bitshuffle", lambda c: [b(), tc.c_blosc("zstd", "bitshuffle", c.itemsize)], keeps=["blosc"]),
    ts3("gzip", lambda c: [b(), tc.c_gzip(6)], keeps=["gzip"], sensitive=False),
    ts3("zstd", lambda c: [b(), tc.c_zstd(2)], keeps=["zstd"], sensitive=False),
    ts3("transpose-crc32c", lambda c: [t([2, 0, 1]), b(), crc()]),
    ts3("shard-end-blosc", lambda c: [tc.c_shard(CHUNKS, [b(), tc.c_blosc("lz4", "shuffle", c.itemsize)], "end")], grid=SHARDS),
    ts3("shard-start-transpose-big-zstd-crc32c",
        lambda c: [tc.c_shard(CHUNKS, [t([2, 1, 0]), b("big"), tc.c_zstd(3), crc()], "start")], grid=SHARDS),
]
SOURCE_PARAMS = [pytest.param(s, id=s.id) for s in SOURCES]
MATRIX = [
    pytest.param(s, c, id=f"{s.id}-{c.id}")
    for s in SOURCES
    for c in (tc.DTYPE_CASES if s.dtype_sensitive else tc.DTYPE_SUBSET)
]


def write_source(cache: Path, src: Source, case: tc.DtypeCase):
    """Write (once per session) the third-party source for (src, case)."""
    data = tc.make_data(case, seed=7)
    path = cache / f"reads-{src.id}-{case.id}.zarr"
    if not path.exists():
        src.write(path, data, case)
    return path, data


@pytest.mark.parametrize("src, case", MATRIX)
def test_tessera_reads_third_party_array(src: Source, case: tc.DtypeCase, run_tessera, source_cache, tmp_path):
    path, data = write_source(source_cache, src, case)
    dst = tmp_path / "dst.zarr"
    proc = run_tessera.copy(path, dst, "--zarr-format", "3", "--codec", "none")
    assert proc.returncode == 0, f"{run_tessera.format(['copy', path, dst, '--zarr-format', '3', '--codec', 'none'])}\n{proc.stderr}"
    meta = tc.load_json(dst / "zarr.json")
    tc.check_common_v3(meta, case)
    tc.assert_readers_agree(dst, data, case.fill, f"{src.id} -> tessera -> v3")


@pytest.mark.parametrize("case", tc.dtype_params([tc.DTYPES_BY_ID["uint16"], tc.DTYPES_BY_ID["float32-nan"]]))
@pytest.mark.parametrize("src", SOURCE_PARAMS)
def test_default_copy_keeps_format_chunks_compression(src: Source, case: tc.DtypeCase, run_tessera, source_cache, tmp_path):
    path, data = write_source(source_cache, src, case)
    # sanity: the third-party writer itself round-trips (else the case proves nothing)
    tc.assert_pixels_equal(tc.read_zarr_python(path)[0], data, "source via zarr-python")
    # ... and really left the fill-only chunk/shard 0,0,0 unwritten, so Tessera has to
    # synthesise it from fill_value
    first = {"c/0/0/0", "0/0/0", "0.0.0"} & set(tc.visible_files(path))
    assert not first, f"writer stored the fill-only chunk {first}"
    info = run_tessera.info(path, "--json")
    assert info.returncode == 0, f"tessera info --json {path}: {info.stderr}"
    json.loads(info.stdout)

    dst = tmp_path / "dst.zarr"
    proc = run_tessera.copy(path, dst)
    assert proc.returncode == 0, f"{run_tessera.format(['copy', path, dst])}\n{proc.stderr}"
    assert tc.zarr_format_of(dst) == src.fmt, "default copy must keep the source's zarr format"
    if src.fmt == 2:
        meta = tc.load_json(dst / ".zarray")
        tc.check_common_v2(meta, case)
        assert tuple(meta["chunks"]) == CHUNKS, meta
        if src.keeps is None:
            assert meta["compressor"] is None, meta
        else:
            assert tc.codec_is_subset({k: src.keeps[k] for k in ("id", "cname", "shuffle") if k in src.keeps},
                                      meta["compressor"]), f"{meta['compressor']} !~ {src.keeps}"
    else:
        meta = tc.load_json(dst / "zarr.json")
        tc.check_common_v3(meta, case)
        assert tuple(meta["chunk_grid"]["configuration"]["chunk_shape"]) == src.chunk_grid, meta["chunk_grid"]
        if src.keeps:
            names = [n for n in tc.flatten_codec_names(meta["codecs"]) if isinstance(n, str) and n in ("blosc", "zstd", "gzip")]
            assert names == src.keeps, f"compression not kept: {tc.flatten_codec_names(meta['codecs'])}"
    tc.assert_readers_agree(dst, data, case.fill, f"{src.id} -> tessera default copy")
