"""Bad input: corrupt chunks, shards and metadata written by zarr-python.

For every case `tessera copy` (and `tessera info` for metadata errors) must
  * exit non-zero without crashing (returncode > 0, i.e. not killed by a signal),
  * print exactly ONE line on stderr, naming the offending key (chunk key such as
    'c/1/0/1' or '1.0.1', the metadata file, or the unknown codec),
  * leave no metadata at the destination root (no zarr.json/.zgroup/.zarray/.zattrs).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr

import tessera_conformance as tc

SHAPE = (16, 32, 16)
CHUNKS = (8, 16, 8)  # 2x2x2 chunks, all present (no fill region)
SHARD = (16, 32, 16)  # one shard c/0/0/0 holding 2x2x2 inner chunks
UINT16 = tc.DTYPES_BY_ID["uint16"]


def data() -> np.ndarray:
    # smooth + noise: compressible, so compressors really compress
    z, y, x = np.indices(SHAPE)
    noise = np.random.default_rng(5).integers(0, 16, size=SHAPE)
    return (z * 300 + y * 20 + x + noise).astype(np.uint16)


def v3(tmp: Path, codecs, grid=CHUNKS, name="src.zarr") -> Path:
    return tc.write_zarr_python_v3(tmp / name, data(), UINT16, grid, codecs)


def v2(tmp: Path, compressor=None, sep="/", name="src.zarr") -> Path:
    return tc.write_zarr_python_v2(tmp / name, data(), UINT16, CHUNKS, compressor, "C", sep)


def truncate(path: Path, keep) -> None:
    blob = path.read_bytes()
    n = keep(len(blob))
    assert 0 <= n < len(blob)
    path.write_bytes(blob[:n])


def flip_byte(path: Path, index: int) -> None:
    blob = bytearray(path.read_bytes())
    blob[index] ^= 0xFF
    path.write_bytes(bytes(blob))


def patch_u32(path: Path, offset: int, fn) -> None:
    blob = bytearray(path.read_bytes())
    old = int.from_bytes(blob[offset:offset + 4], "little")
    blob[offset:offset + 4] = (fn(old) & 0xFFFFFFFF).to_bytes(4, "little")
    path.write_bytes(bytes(blob))


def patch_shard_index(path: Path, n: int, loc: str, fn) -> None:
    blob = path.read_bytes()
    entries = tc.parse_shard_index(blob, n, loc)
    raw = [(tc.EMPTY, tc.EMPTY) if e is None else e for e in entries]
    raw = fn(raw, len(blob))
    path.write_bytes(tc.write_shard_index(blob, raw, loc))


def set_json(path: Path, fn) -> None:
    meta = json.loads(path.read_text())
    fn(meta)
    path.write_text(json.dumps(meta))


# ---------------------------------------------------------------------------
# Cases: each returns (source path, substrings that must ALL appear in stderr)
# ---------------------------------------------------------------------------

def truncated_v3_zstd(tmp):
    src = v3(tmp, [tc.c_bytes(), tc.c_zstd(3)])
    truncate(src / "c/1/0/1", lambda n: n // 2)
    return src, ["c/1/0/1"]


def truncated_v3_raw_by_one_byte(tmp):
    src = v3(tmp, [tc.c_bytes()])
    truncate(src / "c/1/0/1", lambda n: n - 1)
    return src, ["c/1/0/1"]


def truncated_v2_blosc_dot(tmp):
    src = v2(tmp, {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}, sep=".")
    truncate(src / "1.0.1", lambda n: n // 2)
    return src, ["1.0.1"]


def truncated_v2_raw_slash(tmp):
    src = v2(tmp, None, sep="/")
    truncate(src / "1/0/1", lambda n: n - 2)
    return src, ["1/0/1"]


def truncated_v2_gzip(tmp):
    src = v2(tmp, {"id": "gzip", "level": 5})
    truncate(src / "1/0/1", lambda n: n - 10)
    return src, ["1/0/1"]


def truncated_v2_zstd_empty_file(tmp):
    src = v2(tmp, {"id": "zstd", "level": 3})
    truncate(src / "1/0/1", lambda n: 0)
    return src, ["1/0/1"]


def crc_v3_data_byte(tmp):
    src = v3(tmp, [tc.c_bytes(), tc.c_crc32c()])
    flip_byte(src / "c/1/0/1", 100)
    return src, ["c/1/0/1"]


def crc_v3_blosc_checksum_byte(tmp):
    src = v3(tmp, [tc.c_bytes(), tc.c_blosc("zstd", "shuffle", 2), tc.c_crc32c()])
    flip_byte(src / "c/1/0/1", -1)
    return src, ["c/1/0/1"]


def crc_inner_chunk_in_shard(tmp):
    src = v3(tmp, [tc.c_shard(CHUNKS, [tc.c_bytes(), tc.c_crc32c()], "end")], grid=SHARD)
    entries = tc.parse_shard_index((src / "c/0/0/0").read_bytes(), 8, "end")
    off, nb = entries[5]
    flip_byte(src / "c/0/0/0", off + nb // 2)
    return src, ["c/0/0/0"]


def blosc_garbage_v2(tmp):
    src = v2(tmp, {"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 2, "blocksize": 0})
    p = src / "1/0/1"
    p.write_bytes(np.random.default_rng(9).integers(0, 256, size=len(p.read_bytes()), dtype=np.uint8).tobytes())
    return src, ["1/0/1"]


def blosc_header_nbytes_v3(tmp):
    src = v3(tmp, [tc.c_bytes(), tc.c_blosc("lz4", "shuffle", 2)])
    patch_u32(src / "c/1/0/1", 4, lambda n: n - 2)  # header claims 2 bytes less than the chunk
    return src, ["c/1/0/1"]


def blosc_header_cbytes_v3(tmp):
    src = v3(tmp, [tc.c_bytes(), tc.c_blosc("lz4", "shuffle", 2)])
    patch_u32(src / "c/1/0/1", 12, lambda n: n + 4096)  # claims more compressed bytes than the file has
    return src, ["c/1/0/1"]


def blosc_header_cbytes_v2(tmp):
    src = v2(tmp, {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0})
    patch_u32(src / "1/0/1", 12, lambda n: n + 1_000_000)
    return src, ["1/0/1"]


def shard_index_offset_oob_end(tmp):
    src = v3(tmp, [tc.c_shard(CHUNKS, [tc.c_bytes(), tc.c_zstd(3)], "end")], grid=SHARD)

    def fn(raw, size):
        raw[3] = (size + 1000, raw[3][1])
        return raw

    patch_shard_index(src / "c/0/0/0", 8, "end", fn)
    return src, ["c/0/0/0"]


def shard_index_nbytes_oob_start(tmp):
    src = v3(tmp, [tc.c_shard(CHUNKS, [tc.c_bytes(), tc.c_gzip(5)], "start")], grid=SHARD)

    def fn(raw, size):
        raw[6] = (raw[6][0], size)  # offset valid, but runs past the end of the shard
        return raw

    patch_shard_index(src / "c/0/0/0", 8, "start", fn)
    return src, ["c/0/0/0"]


def shard_index_offset_overflow(tmp):
    src = v3(tmp, [tc.c_shard(CHUNKS, [tc.c_bytes()], "end")], grid=SHARD)

    def fn(raw, size):
        raw[0] = (2**64 - 8, 16)  # offset + nbytes wraps around to 8
        return raw

    patch_shard_index(src / "c/0/0/0", 8, "end", fn)
    return src, ["c/0/0/0"]


def shard_index_bad_crc(tmp):
    src = v3(tmp, [tc.c_shard(CHUNKS, [tc.c_bytes(), tc.c_zstd(3)], "end")], grid=SHARD)
    flip_byte(src / "c/0/0/0", -10)  # inside the index body, checksum not updated
    return src, ["c/0/0/0"]


def shard_truncated(tmp):
    src = v3(tmp, [tc.c_shard(CHUNKS, [tc.c_bytes(), tc.c_zstd(3)], "end")], grid=SHARD)
    truncate(src / "c/0/0/0", lambda n: n // 2)
    return src, ["c/0/0/0"]


def two_corrupt_chunks_parallel(tmp):
    # two workers may fail at once: still ONE line on stderr
    src = v3(tmp, [tc.c_bytes(), tc.c_crc32c()])
    flip_byte(src / "c/0/0/0", 10)
    flip_byte(src / "c/1/1/1", 10)
    return src, []  # checked below: one of the two keys


def group_member_truncated(tmp):
    root = zarr.open_group(str(tmp / "src.zarr"), mode="w", zarr_format=3)
    root.attrs["x"] = 1
    v3(tmp / "src.zarr", [tc.c_bytes(), tc.c_gzip(1)], name="img")
    truncate(tmp / "src.zarr/img/c/1/0/1", lambda n: n // 3)
    return tmp / "src.zarr", ["img", "c/1/0/1"]


CHUNK_CASES = [
    truncated_v3_zstd, truncated_v3_raw_by_one_byte, truncated_v2_blosc_dot, truncated_v2_raw_slash,
    truncated_v2_gzip, truncated_v2_zstd_empty_file,
    crc_v3_data_byte, crc_v3_blosc_checksum_byte, crc_inner_chunk_in_shard,
    blosc_garbage_v2, blosc_header_nbytes_v3, blosc_header_cbytes_v3, blosc_header_cbytes_v2,
    shard_index_offset_oob_end, shard_index_nbytes_oob_start, shard_index_offset_overflow,
    shard_index_bad_crc, shard_truncated, two_corrupt_chunks_parallel, group_member_truncated,
]


# metadata cases: (source, substrings); both `copy` and `info` must fail
def zarr_json_truncated(tmp):
    src = v3(tmp, [tc.c_bytes()])
    truncate(src / "zarr.json", lambda n: n // 2)
    return src, ["zarr.json"]


def zarray_trailing_garbage(tmp):
    src = v2(tmp)
    p = src / ".zarray"
    p.write_text(p.read_text() + "\n}}garbage")
    return src, [".zarray"]


def zarray_missing_shape(tmp):
    src = v2(tmp)
    set_json(src / ".zarray", lambda m: m.pop("shape"))
    return src, [".zarray"]


def zarr_json_shape_wrong_type(tmp):
    src = v3(tmp, [tc.c_bytes()])
    set_json(src / "zarr.json", lambda m: m.__setitem__("shape", "sixteen"))
    return src, ["zarr.json"]


def zarr_json_not_an_object(tmp):
    src = v3(tmp, [tc.c_bytes()])
    (src / "zarr.json").write_text("[1, 2, 3]")
    return src, ["zarr.json"]


def group_member_bad_metadata(tmp):
    root = zarr.open_group(str(tmp / "src.zarr"), mode="w", zarr_format=3)
    root.attrs["x"] = 1
    v3(tmp / "src.zarr", [tc.c_bytes()], name="img")
    (tmp / "src.zarr/img/zarr.json").write_text('{"zarr_format": 3, "node_type": "array", ')
    return tmp / "src.zarr", ["img", "zarr.json"]


def unknown_codec_v3(tmp):
    src = v3(tmp, [tc.c_bytes()])
    set_json(src / "zarr.json", lambda m: m["codecs"].append({"name": "frobnicate", "configuration": {}}))
    return src, ["frobnicate"]


def unknown_codec_in_shard(tmp):
    src = v3(tmp, [tc.c_shard(CHUNKS, [tc.c_bytes()], "end")], grid=SHARD)
    set_json(src / "zarr.json",
             lambda m: m["codecs"][0]["configuration"]["codecs"].append({"name": "frobnicate"}))
    return src, ["frobnicate"]


def unknown_compressor_v2(tmp):
    src = v2(tmp, {"id": "zlib", "level": 1})
    set_json(src / ".zarray", lambda m: m.__setitem__("compressor", {"id": "frobnicate", "level": 1}))
    return src, ["frobnicate"]


def unknown_blosc_cname_v3(tmp):
    src = v3(tmp, [tc.c_bytes(), tc.c_blosc("lz4", "shuffle", 2)])
    set_json(src / "zarr.json", lambda m: m["codecs"][1]["configuration"].__setitem__("cname", "snappyish"))
    return src, ["snappyish"]


METADATA_CASES = [
    zarr_json_truncated, zarray_trailing_garbage, zarray_missing_shape, zarr_json_shape_wrong_type,
    zarr_json_not_an_object, group_member_bad_metadata,
    unknown_codec_v3, unknown_codec_in_shard, unknown_compressor_v2, unknown_blosc_cname_v3,
]


def assert_clean_failure(proc, substrings, label):
    assert proc.returncode != 0, f"{label}: exit 0 on bad input\nstdout: {proc.stdout[-500:]}"
    assert proc.returncode > 0, f"{label}: killed by signal {-proc.returncode} (crash)\nstderr: {proc.stderr[-2000:]}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"{label}: stderr must be exactly one line, got {len(lines)}:\n{proc.stderr[-2000:]}"
    for s in substrings:
        assert s in lines[0], f"{label}: stderr does not name {s!r}: {lines[0]!r}"


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("make", CHUNK_CASES, ids=lambda f: f.__name__)
def test_corrupt_data_fails_cleanly(make, jobs, run_tessera, tmp_path):
    src, keys = make(tmp_path)
    for fmt in ("3", "2"):
        dst = tmp_path / f"dst-v{fmt}.zarr"
        proc = run_tessera.copy(src, dst, "--zarr-format", fmt, "--jobs", jobs)
        label = run_tessera.format(["copy", src, dst, "--zarr-format", fmt, "--jobs", jobs])
        assert_clean_failure(proc, keys, label)
        if make is two_corrupt_chunks_parallel:
            assert "c/0/0/0" in proc.stderr or "c/1/1/1" in proc.stderr, proc.stderr
        tc.assert_no_destination_metadata(dst)


@pytest.mark.parametrize("make", METADATA_CASES, ids=lambda f: f.__name__)
def test_bad_metadata_fails_cleanly(make, run_tessera, tmp_path):
    src, keys = make(tmp_path)
    proc = run_tessera.info(src)
    assert_clean_failure(proc, keys, run_tessera.format(["info", src]))
    proc = run_tessera.info(src, "--json")
    assert_clean_failure(proc, keys, run_tessera.format(["info", src, "--json"]))
    dst = tmp_path / "dst.zarr"
    proc = run_tessera.copy(src, dst)
    assert_clean_failure(proc, keys, run_tessera.format(["copy", src, dst]))
    tc.assert_no_destination_metadata(dst)


def test_missing_source_fails_cleanly(run_tessera, tmp_path):
    src = tmp_path / "does-not-exist.zarr"
    dst = tmp_path / "dst.zarr"
    assert_clean_failure(run_tessera.info(src), [src.name], "info missing")
    assert_clean_failure(run_tessera.copy(src, dst), [src.name], "copy missing")
    tc.assert_no_destination_metadata(dst)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # zarr-python on the overflowing index
def test_corruptions_are_real(tmp_path):
    """Guard against vacuous bad-input cases: zarr-python must also refuse (or at
    least not silently return the original data from) each corrupted chunk case."""
    for make in CHUNK_CASES:
        sub = tmp_path / make.__name__
        sub.mkdir()
        src, _ = make(sub)
        arr_path = src / "img" if make is group_member_truncated else src
        if make in (blosc_header_cbytes_v3, blosc_header_cbytes_v2):
            # numcodecs tolerates a blosc header whose cbytes exceeds the buffer (it
            # never reads that far); check the inconsistency is really there instead.
            key = "c/1/0/1" if make is blosc_header_cbytes_v3 else "1/0/1"
            blob = (src / key).read_bytes()
            assert int.from_bytes(blob[12:16], "little") > len(blob)
            continue
        try:
            got = tc.read_zarr_python(arr_path)[0]
        except Exception:
            continue
        assert not np.array_equal(got, data()), f"{make.__name__}: corruption not observable by zarr-python"
