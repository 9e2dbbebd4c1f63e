"""A faulty or hostile S3 server (issue 21, items 7-11): a fault-injecting proxy in front of
moto answers listings that loop, never end or are cut off mid-XML, ranged reads of another
range, 404s for objects it just listed, lost CreateMultipartUpload answers, `200 OK`
InternalErrors on CompleteMultipartUpload, and wrong-region refusals. In every case Tessera
must end within a bounded time and never exit 0 with wrong or missing data: either the
faults are retried away and the output is exact, or it fails with one clear line."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest
import zarr

import convert_checks as cc
import convert_inputs as ci
from fault_proxy import OTHER_REGION, FaultProxy

BUCKET = "tessera-faults"
TIMEOUT = 90  # seconds for any one command: a hang is a failure
_names = itertools.count()


@pytest.fixture
def faulty(s3, monkeypatch):
    """`faulty(mode, times=None)` → a FaultProxy in front of moto that Tessera talks to;
    the proxy is stopped after the test whatever happens."""
    for k, v in s3.env().items():
        monkeypatch.setenv(k, v)
    proxies = []

    def start(mode: str, times: int | None = None) -> FaultProxy:
        proxy = FaultProxy(s3.port, mode=mode, times=times)
        proxies.append(proxy)
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        return proxy

    yield start
    for p in proxies:
        p.stop()


def unique(name: str) -> str:
    return f"{name}-{next(_names)}-{os.getpid()}"


def s3_group(s3, arrays: dict) -> str:
    """Writes a group of arrays (name → (numpy data, create_array keyword arguments)) to the
    bucket straight through moto (no proxy) with zarr-python; returns its prefix."""
    prefix = unique("src")
    root = zarr.open_group(f"s3://{BUCKET}/{prefix}", mode="w", zarr_format=3, storage_options=s3.storage_options())
    for name, (data, kw) in arrays.items():
        root.create_array(name, shape=data.shape, dtype=data.dtype, **kw)[:] = data
    return prefix


def noise(shape, seed, dtype="uint16"):
    return np.random.default_rng(seed).integers(1, 60000, size=shape).astype(dtype)


def one_line_error(proc, *needles):
    assert 0 < proc.returncode < 128, f"exit {proc.returncode}: {proc.stderr}"
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"
    return lines[0]


def assert_no_complete_output(out):
    """A failed copy must not leave a hierarchy that claims to be complete."""
    assert not (out / "zarr.json").exists() and not (out / ".zgroup").exists(), sorted(p.name for p in out.iterdir())


# 7 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["list-loop", "list-endless"])
def test_a_listing_that_never_ends_stops_with_a_clear_error(mode, s3, faulty, run_tessera, tmp_path, monkeypatch):
    """A continuation token that comes back is caught at once; a server that invents new
    tokens for ever is stopped by the page bound (lowered here to 25 pages)."""
    prefix = s3_group(s3, {"a": (noise((40, 40), 1), {"chunks": (20, 20)})})
    monkeypatch.setenv("TESSERA_S3_MAX_LIST_PAGES", "25")
    proxy = faulty(mode)
    out = tmp_path / "copy.zarr"
    proc = run_tessera("copy", f"s3://{BUCKET}/{prefix}", out, timeout=TIMEOUT)
    line = one_line_error(proc, f"s3://{BUCKET}/{prefix}")
    assert ("second time" in line) if mode == "list-loop" else ("25 pages" in line and "TESSERA_S3_MAX_LIST_PAGES" in line), line
    assert proxy.counts[mode] <= 26, proxy.counts
    if out.exists():
        assert_no_complete_output(out)


def test_a_listing_answer_without_end_is_cut_off_not_collected(s3, faulty, run_tessera, tmp_path):
    """A listing page is kilobytes; an answer that streams on is refused at 64 MiB
    (Docs/limits.md), with one line naming the prefix, instead of filling memory."""
    prefix = s3_group(s3, {"a": (noise((40, 40), 1), {"chunks": (20, 20)})})
    proxy = faulty("list-flood")
    out = tmp_path / "copy.zarr"
    proc = run_tessera("copy", f"s3://{BUCKET}/{prefix}", out, timeout=TIMEOUT)
    one_line_error(proc, f"s3://{BUCKET}/{prefix}", "more than 67108864 bytes")
    assert proxy.counts["list-flood"] == 1, proxy.counts  # refused at once, not retried
    if out.exists():
        assert_no_complete_output(out)


# 8 ---------------------------------------------------------------------------------------

GROUP4 = {name: (noise((30, 50), i), {"chunks": (16, 16)}) for i, name in enumerate(["a", "b", "c", "d"])}


@pytest.mark.parametrize("times", [2, None], ids=["cut-twice", "cut-always"])
def test_a_listing_cut_off_mid_xml_is_retried_never_taken_as_complete(times, s3, faulty, run_tessera, tmp_path):
    """The page is cut in half and sent with a Content-Length that matches: only the XML
    parser can tell. A cut page is retried; if every page is cut, the copy fails."""
    prefix = s3_group(s3, GROUP4)
    proxy = faulty("list-cut", times)
    out = tmp_path / "copy.zarr"
    proc = run_tessera("copy", f"s3://{BUCKET}/{prefix}", out, timeout=TIMEOUT)
    assert proxy.counts["list-cut"] >= 1, proxy.counts
    if times is None:
        one_line_error(proc, "ListObjectsV2", "well-formed XML")
        assert_no_complete_output(out)
        return
    assert proc.returncode == 0, proc.stderr
    copied = zarr.open_group(out, mode="r")
    assert sorted(copied.array_keys()) == ["a", "b", "c", "d"]
    for name, (data, _) in GROUP4.items():
        np.testing.assert_array_equal(copied[name][:], data, err_msg=name)


# 9 ---------------------------------------------------------------------------------------

def sharded_uncompressed(shape=(256, 256)):
    """A sharded array whose inner chunks are stored raw, and whose index is at the start of
    each shard: bytes one off still decode, so only the Content-Range check can tell."""
    from zarr.codecs import BytesCodec, ShardingCodec

    data = noise(shape, 4)
    codec = ShardingCodec(chunk_shape=(32, 32), codecs=[BytesCodec()], index_codecs=[BytesCodec()], index_location="start")
    return data, {"chunks": (128, 128), "serializer": codec, "compressors": None}


@pytest.mark.parametrize("times", [3, None], ids=["shifted-thrice", "shifted-always"])
def test_a_206_for_another_range_is_never_taken_as_the_bytes_asked_for(times, s3, faulty, run_tessera, tmp_path):
    """Copying to small v2 chunks reads each sharded source shard by ranges: the proxy asks
    the server for the range one byte before the one Tessera asked for, and passes on the
    honest Content-Range of that other range."""
    data, kw = sharded_uncompressed()
    prefix = s3_group(s3, {"img": (data, kw)})
    proxy = faulty("range-shift", times)
    out = tmp_path / "copy.zarr"
    proc = run_tessera("copy", f"s3://{BUCKET}/{prefix}", out, "--zarr-format", "2", "--chunks", "32,32", "--jobs", "2",
                       timeout=TIMEOUT)
    assert proxy.counts["range-shift"] >= 1, (proxy.counts, proc.stderr)
    if times is None:
        one_line_error(proc, "Content-Range", f"s3://{BUCKET}/{prefix}/img/c/")
        assert_no_complete_output(out)
        return
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(zarr.open_array(out / "img", mode="r")[:], data)


# 10 --------------------------------------------------------------------------------------

def test_a_404_for_an_object_just_listed_is_an_error_not_fill_value(s3, faulty, run_tessera, tmp_path):
    """Chunks that were never stored still read as fill value (control); chunks that the
    listing named but whose GET answers 404 fail the copy."""
    sparse = np.zeros((64, 64), dtype="uint16")
    sparse[:20, :20] = noise((20, 20), 6)  # three of the four 32×32 chunks are never written
    arrays = {"dense": (noise((64, 64), 5), {"chunks": (32, 32)}),
              "sparse": (sparse, {"chunks": (32, 32), "fill_value": 0}),
              "sharded": (noise((64, 64), 7), {"chunks": (32, 32), "shards": (64, 64)})}
    prefix = s3_group(s3, arrays)

    control = tmp_path / "control.zarr"
    faulty("object-404", times=0)  # a proxy that passes everything through
    proc = run_tessera("copy", f"s3://{BUCKET}/{prefix}", control, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    for name, (data, _) in arrays.items():
        np.testing.assert_array_equal(zarr.open_array(control / name, mode="r")[:], data, err_msg=name)

    # Whole-object reads (every array), then ranged ones (a part of each shard).
    for source, copy_args in ((prefix, []), (f"{prefix}/sharded", ["--chunks", "16,16", "--zarr-format", "2"])):
        proxy = faulty("object-404")
        out = tmp_path / f"copy{len(copy_args)}.zarr"
        proc = run_tessera("copy", f"s3://{BUCKET}/{source}", out, *copy_args, timeout=TIMEOUT)
        assert proxy.counts["object-404"] >= 1, proxy.counts
        one_line_error(proc, "listed", "404", f"s3://{BUCKET}/{source}/")
        assert_no_complete_output(out)


# 11 --------------------------------------------------------------------------------------

def pending_uploads(s3, prefix: str) -> list:
    import boto3

    client = boto3.client("s3", endpoint_url=s3.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                          region_name="us-east-1")
    return [u for u in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) if u["Key"].startswith(prefix)]


def convert_big(run_convert, tmp_path, monkeypatch, prefix: str) -> np.ndarray:
    """Converts 2048² uint16 noise to S3 with a 5 MiB multipart threshold: the 8 MiB
    level-0 shard goes up in parts."""
    monkeypatch.setenv("TESSERA_S3_MULTIPART_THRESHOLD", str(5 << 20))
    data = ci.pixels("uint16", (2048, 2048), seed=11)
    src = ci.write_tiff(tmp_path / "big.tif", data, "yx", tile=(256, 256))
    cc.convert(run_convert, *cc.convert_args([src.arg], f"s3://{BUCKET}/{prefix}"), timeout=300)
    return data


def test_uploads_started_by_lost_create_answers_are_aborted(s3, faulty, run_convert, tmp_path, monkeypatch):
    """The server starts an upload for each of the first two CreateMultipartUpload
    requests, but their answers are lost (connection reset): the retried create works, and
    the two uploads nobody knows the id of must not be left behind."""
    proxy = faulty("lose-create", times=2)
    prefix = unique("lost-create") + ".ome.zarr"
    data = convert_big(run_convert, tmp_path, monkeypatch, prefix)
    assert proxy.counts["lose-create"] == 2, proxy.counts
    assert pending_uploads(s3, prefix) == [], "orphaned multipart uploads"
    group = zarr.open_group(f"s3://{BUCKET}/{prefix}", mode="r", storage_options=s3.storage_options())
    np.testing.assert_array_equal(group["0"][:], data)


def test_uploads_begun_by_others_are_left_alone(s3, faulty, run_convert, tmp_path, monkeypatch):
    """Only uploads that appeared while Tessera's create was being retried are aborted: one
    another writer had already begun for the same key stays."""
    import boto3

    prefix = unique("others") + ".ome.zarr"
    client = boto3.client("s3", endpoint_url=s3.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                          region_name="us-east-1")
    # The level-0 shard's key (v3, 2048² → one shard).
    other = client.create_multipart_upload(Bucket=BUCKET, Key=f"{prefix}/0/c/0/0")["UploadId"]
    faulty("lose-create", times=1)
    data = convert_big(run_convert, tmp_path, monkeypatch, prefix)
    assert [u["UploadId"] for u in pending_uploads(s3, prefix)] == [other]
    client.abort_multipart_upload(Bucket=BUCKET, Key=f"{prefix}/0/c/0/0", UploadId=other)
    group = zarr.open_group(f"s3://{BUCKET}/{prefix}", mode="r", storage_options=s3.storage_options())
    np.testing.assert_array_equal(group["0"][:], data)


def test_a_200_internal_error_on_complete_is_retried(s3, faulty, run_convert, tmp_path, monkeypatch):
    """AWS: CompleteMultipartUpload may answer 200 OK with an InternalError in the body;
    retry it. The first complete gets that answer (not forwarded): the retry completes."""
    proxy = faulty("complete-internal-error", times=1)
    prefix = unique("complete-500") + ".ome.zarr"
    data = convert_big(run_convert, tmp_path, monkeypatch, prefix)
    assert proxy.counts["complete-internal-error"] == 1, proxy.counts
    assert pending_uploads(s3, prefix) == []
    group = zarr.open_group(f"s3://{BUCKET}/{prefix}", mode="r", storage_options=s3.storage_options())
    np.testing.assert_array_equal(group["0"][:], data)


def test_a_complete_whose_answer_was_lost_is_verified_not_failed(s3, faulty, run_convert, tmp_path, monkeypatch):
    """The first CompleteMultipartUpload reaches moto, which makes the object, but its
    answer is lost (connection reset): the retry is told NoSuchUpload. Tessera checks with
    HEAD that the object is there with the size and multipart ETag of its parts, and the
    convert succeeds with exact pixels."""
    proxy = faulty("lose-complete", times=1)
    prefix = unique("lost-complete") + ".ome.zarr"
    data = convert_big(run_convert, tmp_path, monkeypatch, prefix)
    assert proxy.counts["lose-complete"] == 1, proxy.counts
    assert pending_uploads(s3, prefix) == []
    group = zarr.open_group(f"s3://{BUCKET}/{prefix}", mode="r", storage_options=s3.storage_options())
    np.testing.assert_array_equal(group["0"][:], data)


def test_a_complete_told_no_such_upload_with_no_object_there_fails_naming_the_key(s3, faulty, run_tessera, tmp_path,
                                                                                   monkeypatch):
    """The HEAD that checks a NoSuchUpload finds no object: the write fails with one line
    naming the key, and the parts are aborted."""
    faulty("complete-no-such-upload")
    monkeypatch.setenv("TESSERA_S3_MULTIPART_THRESHOLD", str(5 << 20))
    prefix = unique("no-upload") + ".ome.zarr"
    src = ci.write_tiff(tmp_path / "big.tif", ci.pixels("uint16", (2048, 2048), seed=12), "yx", tile=(256, 256))
    proc = run_tessera("convert", src.arg, f"s3://{BUCKET}/{prefix}", timeout=300)
    one_line_error(proc, f"s3://{BUCKET}/{prefix}/0/c/0/0", "NoSuchUpload", "no object")
    assert pending_uploads(s3, prefix) == []


@pytest.mark.parametrize("mode", ["permanent-redirect", "wrong-region"])
def test_a_bucket_in_another_region_names_that_region(mode, faulty, run_tessera, tmp_path):
    faulty(mode)
    proc = run_tessera("copy", f"s3://{BUCKET}/anything", tmp_path / "copy.zarr", timeout=TIMEOUT)
    one_line_error(proc, BUCKET, f"region '{OTHER_REGION}'", f"AWS_REGION={OTHER_REGION}")
