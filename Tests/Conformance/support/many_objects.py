"""Stores of many small objects, made fast, for the listing tests and the listing bench
(`tessera info` over 10^6 objects): a Zarr v3 group whose arrays are written straight as
files or S3 keys (metadata by hand, each chunk one uint8 element, [1, 1] chunks), so no
Zarr library encodes a million chunks. `expected_totals` is what `info --summary` must
report, computed from what was written."""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def group_document() -> bytes:
    return json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {}}).encode()


def array_document(rows: int, cols: int) -> bytes:
    return json.dumps({
        "zarr_format": 3, "node_type": "array", "shape": [rows, cols], "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, 1]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0, "codecs": [{"name": "bytes"}], "attributes": {},
    }).encode()


def layout(arrays: dict[str, int], cols: int = 1000, chunk: bytes = b"\x07", extra: dict[str, bytes] | None = None):
    """The objects of a group holding one array per `arrays` entry (path -> chunk count;
    chunks fill rows of `cols`), as (key, bytes) pairs, generated lazily, and the totals
    `info --summary --json` must report: {"arrays": {path: (objects, bytes)},
    "outside": (objects, bytes)}. `extra` adds objects under no array."""
    totals = {"arrays": {}, "outside": [1, len(group_document())]}
    for key, data in (extra or {}).items():
        totals["outside"][0] += 1
        totals["outside"][1] += len(data)
    for path, n in arrays.items():
        rows = max(1, -(-n // cols))
        totals["arrays"][path] = (n + 1, n * len(chunk) + len(array_document(rows, cols)))
    totals["outside"] = tuple(totals["outside"])

    def objects():
        yield "zarr.json", group_document()
        for key, data in (extra or {}).items():
            yield key, data
        for path, n in arrays.items():
            rows = max(1, -(-n // cols))
            yield f"{path}/zarr.json", array_document(rows, cols)
            for i in range(n):
                yield f"{path}/c/{i // cols}/{i % cols}", chunk
    return objects, totals


def write_folder(root: Path, objects, threads: int = 1) -> None:
    """Writes the objects as files under `root`: one open/write/close per file, batches of
    files on `threads` threads (the calls release the GIL), at most 2 * threads batches
    in hand."""
    made = set()

    def write(batch):
        for key, data in batch:
            folder = os.path.join(root, os.path.dirname(key))
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            fd = os.open(os.path.join(root, key), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                if data:
                    os.write(fd, data)
            finally:
                os.close(fd)

    if threads <= 1:
        write(objects())
        return
    slots = threading.BoundedSemaphore(2 * threads)

    def run(batch):
        try:
            write(batch)
        finally:
            slots.release()

    with ThreadPoolExecutor(threads) as pool:
        futures, batch = [], []
        for item in objects():
            batch.append(item)
            if len(batch) == 2000:
                slots.acquire()
                futures.append(pool.submit(run, batch))
                batch = []
        if batch:
            slots.acquire()
            futures.append(pool.submit(run, batch))
        for f in futures:
            f.result()


def put_s3(endpoint: str, bucket: str, prefix: str, objects, threads: int = 16) -> int:
    """PUTs the objects under `prefix` of `bucket` on an unauthenticated local S3 server
    (moto), `threads` at a time, each thread on a keep-alive connection; returns how many."""
    import http.client
    from urllib.parse import urlparse

    u = urlparse(endpoint)
    local = threading.local()

    def put(item):
        key, data = item
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        conn.request("PUT", f"/{bucket}/{prefix}/{key}", body=data, headers={"Content-Length": str(len(data))})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"PUT {key}: HTTP {r.status}")

    n = 0
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(put, objects(), chunksize=64):
            n += 1
    return n
