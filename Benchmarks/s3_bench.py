#!/usr/bin/env python3
"""The S3 section of `make bench`: write the benchmark array to a local S3 server, Tessera
vs zarr-python 3 + s3fs vs tensorstore, same run, same input, same layout.

    python Benchmarks/s3_bench.py [--small | --shape Z,Y,X] [--tools T,...] [--jobs N]
                                  [--repeat N] [--timeout S] [--tessera PATH] [--json PATH]

Server: moto's server mode (`.venv/bin/moto_server -H 127.0.0.1 -p PORT`), started by this
script on a free port and stopped after each tool run: every run gets a fresh server (empty
memory, fresh request log) and a fresh bucket, so no tool pays for another's objects.
Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "testing", AWS_REGION us-east-1,
AWS_ENDPOINT_URL the server (moto does not check signatures here).

Input: make_input.py's cached raw uint16 array (128x2048x2048 = 1 GiB; 32x512x512 with
--small). Layout (every tool, checked): the io section's v3-blosc-zstd-sharded: Zarr v3,
shards (64,512,512), inner chunks (64,64,64), bytes(little) + blosc(zstd, clevel 5, shuffle,
typesize 2), index bytes + crc32c at the end, fill 0 — one object per shard plus zarr.json.

Tools (each in its own process under run_bench.py's LAUNCHER, so peak RSS is the tool's own):
  tessera      .build/release/tessera copy SRC s3://BUCKET/bench.zarr --zarr-format 3
               --chunks 64,64,64 --shards 64,512,512 --codec blosc-zstd --level 5 --jobs N
               SRC is a local *uncompressed* Zarr v3 copy of the input, chunks (64,512,512)
               (one source object per destination shard), written by zarr-python once
               before any timing (off the clock) and warm in the page cache. Tessera cannot
               write a raw buffer to S3, so its time INCLUDES reading (and bytes-decoding)
               that local source; the peers read the raw input through np.memmap instead.
               Run as a user would (no --overwrite): copy's resume check GETs every
               destination object before writing it (a 404 in the fresh bucket), counted.
  zarr-python  zarr.create_array("s3://BUCKET/bench.zarr", storage_options=...) via s3fs,
               written one slab of whole shards at a time (as in peers.py); threading.
               max_workers = N, async.concurrency = 2N, single-threaded blosc.
  tensorstore  zarr3 driver on the s3 kvstore (endpoint = the server), one write of the whole
               memmap; data_copy_concurrency = N, s3_request_concurrency = 2N, no cache pool.

Per tool:
  wall s     the whole process (start-up, imports and, for Python, the memmap included);
             MB/s = input bytes / wall s (MB = 10^6 B). "inner s" is the peers' own clock
             (create + write, as in peers.py); the tessera CLI has no inner clock.
  requests   HTTP requests the server logged during the tool's process, by method (moto's
             werkzeug access log, one line per request; the bucket is created before and the
             checks run after the count). "parts" = multipart UploadPart PUTs (included in
             PUT), "err" = responses with status >= 400.
  objects    objects in the bucket afterwards and their bytes; req/obj = requests / objects.
  peak RSS   ru_maxrss of the tool's process, MiB; anon = sampled peak RssAnon, MiB.
Then, off the clock, every output is read back with zarr-python + s3fs in a child process:
its zarr.json must have the layout above and the checksum (sum of all uint16, wrapping
uint64) must equal the input's, else FAIL (exit status 1). Unfinished multipart uploads
left in the bucket are reported as FAIL too.

moto is a single Python process: it is probably the bottleneck for every tool, so compare
the ratios and the request counts more than the absolute MB/s.
Results: Benchmarks/.cache/last-s3-bench.json.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import make_input  # noqa: E402
from bench_common import format_table, write_json, run_section, run_header  # noqa: E402

ALL_TOOLS = ("tessera", "zarr-python", "tensorstore")
PEERS = ("zarr-python", "tensorstore")
# 64 planes, not run_bench.py's 32: with 32, `tessera copy` clamps the shard and inner chunk
# depth to the array's (32) and the layouts would differ between tools.
SMALL_SHAPE = (64, 512, 512)
LAYOUT = "v3-blosc-zstd-sharded"
CHUNK = (64, 64, 64)
SHARD = (64, 512, 512)
BLOSC = dict(cname="zstd", clevel=5, shuffle="shuffle", typesize=2, blocksize=0)
KEY = "testing"
REGION = "us-east-1"
PREFIX = "bench.zarr"
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
MB = 1e6
MiB = 2 ** 20


# ----------------------------------------------------------------------------- the server

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# werkzeug's access log line, with or without ANSI colours:
#   127.0.0.1 - - [23/Nov/2026 11:59:07] "PUT /b1/k?partNumber=1&uploadId=x HTTP/1.1" 200 -
LOG_LINE = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) (\S+) HTTP/[0-9.]+(?:\x1b\[[0-9;]*m)*" (\d{3})')


class Moto:
    """moto_server on 127.0.0.1:free port, its stderr (the access log) in a file."""

    def __init__(self, workdir):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = Path(workdir) / f"moto-{self.port}.log"
        server = Path(sys.executable).with_name("moto_server")
        if not os.access(server, os.X_OK):
            raise RuntimeError(f"{server} is missing (pip install 'moto[server]')")
        self._log_f = open(self.log, "wb")
        self.proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=self._log_f, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        import urllib.request
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=1).read()
                break
            except Exception:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start; see {self.log}")
                time.sleep(0.1)
        import boto3
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=KEY,
                               aws_secret_access_key=KEY, region_name=REGION)

    def env(self):
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": KEY,
                "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}

    def requests(self):
        """Parsed access-log lines so far: [(method, path, status)]."""
        text = self.log.read_bytes().decode(errors="replace")
        return [(m.group(1), m.group(2), int(m.group(3))) for m in LOG_LINE.finditer(text)]

    def settled_requests(self, quiet=0.3, limit=10.0):
        """The log after it stopped growing (werkzeug writes the line after the response)."""
        deadline = time.time() + limit
        prev = -1
        while True:
            size = self.log.stat().st_size
            if size == prev or time.time() > deadline:
                return self.requests()
            prev = size
            time.sleep(quiet)

    def objects(self, bucket):
        n = size = 0
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                n += 1
                size += o["Size"]
        uploads = self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return n, size, len(uploads)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_f.close()


def summarise_requests(reqs):
    by = {m: 0 for m in METHODS}
    parts = errors = 0
    statuses = {}
    for method, path, status in reqs:
        by[method] = by.get(method, 0) + 1
        if method == "PUT" and "partNumber=" in path:
            parts += 1
        if status >= 400:
            errors += 1
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {"by_method": by, "total": len(reqs), "multipart_parts": parts, "errors": errors, "statuses": statuses,
            "log": [f"{m} {p} {s}" for m, p, s in reqs]}


# ----------------------------------------------------------------------------- children (peers, verify)

def _zarr_setup(jobs):
    import numcodecs.blosc
    import zarr
    numcodecs.blosc.use_threads = False
    numcodecs.blosc.set_nthreads(1)
    zarr.config.set({"threading.max_workers": jobs, "async.concurrency": 2 * jobs,
                     "array.write_empty_chunks": True})
    return zarr


def storage_options():
    return {"endpoint_url": os.environ["AWS_ENDPOINT_URL"], "key": os.environ["AWS_ACCESS_KEY_ID"],
            "secret": os.environ["AWS_SECRET_ACCESS_KEY"]}


def split_url(url):
    assert url.startswith("s3://"), url
    bucket, _, path = url[5:].partition("/")
    return bucket, path


def peer_write(tool, raw, shape, url, jobs):
    import numpy as np
    src = np.memmap(raw, dtype="<u2", mode="r", shape=tuple(shape), order="C")
    if tool == "zarr-python":
        zarr = _zarr_setup(jobs)
        from zarr.codecs import BloscCodec, BytesCodec
        start = time.perf_counter()
        arr = zarr.create_array(url, shape=shape, dtype="uint16", chunks=CHUNK, shards=SHARD,
                                serializer=BytesCodec(endian="little"), compressors=BloscCodec(**BLOSC),
                                fill_value=0, zarr_format=3, overwrite=True, storage_options=storage_options())
        for z in range(0, shape[0], SHARD[0]):
            arr[z:z + SHARD[0]] = src[z:z + SHARD[0]]
        seconds = time.perf_counter() - start
        from importlib.metadata import version
        return {"seconds": seconds, "version": version("zarr"), "s3fs": version("s3fs")}
    import tensorstore as ts
    bucket, path = split_url(url)
    ctx = ts.Context({"data_copy_concurrency": {"limit": jobs}, "s3_request_concurrency": {"limit": 2 * jobs},
                      "cache_pool": {"total_bytes_limit": 0}})
    spec = {
        "driver": "zarr3",
        "kvstore": {"driver": "s3", "bucket": bucket, "path": path.rstrip("/") + "/",
                    "endpoint": os.environ["AWS_ENDPOINT_URL"], "aws_region": os.environ["AWS_REGION"],
                    "aws_credentials": {"type": "environment"}},
        "metadata": {
            "shape": list(shape), "data_type": "uint16",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(SHARD)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0,
            "codecs": [{"name": "sharding_indexed", "configuration": {
                "chunk_shape": list(CHUNK),
                "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                           {"name": "blosc", "configuration": dict(BLOSC)}],
                "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                "index_location": "end"}}],
        },
    }
    start = time.perf_counter()
    arr = ts.open(spec, create=True, delete_existing=True, context=ctx).result()
    arr.write(src, can_reference_source_data_indefinitely=True).result()
    seconds = time.perf_counter() - start
    from importlib.metadata import version
    return {"seconds": seconds, "version": version("tensorstore")}


def verify(url, jobs):
    """Read the array at `url` back with zarr-python + s3fs: its zarr.json and checksum."""
    import s3fs
    from peers import checksum
    zarr = _zarr_setup(jobs)
    bucket, path = split_url(url)
    fs = s3fs.S3FileSystem(anon=False, **{"key": storage_options()["key"], "secret": storage_options()["secret"],
                                         "endpoint_url": storage_options()["endpoint_url"]})
    meta = json.loads(fs.cat(f"{bucket}/{path.rstrip('/')}/zarr.json"))
    arr = zarr.open_array(url, mode="r", storage_options=storage_options())
    data = arr[...]
    return {"metadata": meta, "checksum": checksum(data), "shape": list(data.shape), "dtype": str(data.dtype)}


def prepare_source(raw, shape, out):
    """The local uncompressed Zarr v3 copy Tessera copies from (chunks = one shard's extent)."""
    import numpy as np
    zarr = _zarr_setup(os.cpu_count())
    from zarr.codecs import BytesCodec
    from zarr.storage import LocalStore
    src = np.memmap(raw, dtype="<u2", mode="r", shape=tuple(shape), order="C")
    chunks = tuple(min(c, s) for c, s in zip(SHARD, shape))
    arr = zarr.create_array(LocalStore(str(out)), shape=shape, dtype="uint16", chunks=chunks,
                            serializer=BytesCodec(endian="little"), compressors=None, filters=None,
                            fill_value=0, zarr_format=3, overwrite=True)
    for z in range(0, shape[0], chunks[0]):
        arr[z:z + chunks[0]] = src[z:z + chunks[0]]


# ----------------------------------------------------------------------------- the run

class S3Bench:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.rows = {}
        self.step = 0

    def fail(self, msg):
        self.failures.append(msg)
        print(f"FAIL: {msg}", file=sys.stderr, flush=True)

    def command(self, tool, url):
        a = self.args
        if tool == "tessera":
            return [str(a.tessera), "copy", str(self.source), url, "--zarr-format", "3",
                    "--chunks", ",".join(map(str, CHUNK)), "--shards", ",".join(map(str, SHARD)),
                    "--codec", "blosc-zstd", "--level", str(BLOSC["clevel"]), "--jobs", str(a.jobs)]
        return [sys.executable, str(Path(__file__).resolve()), "peer-write", "--tool", tool, "--raw", str(self.raw),
                "--shape", ",".join(map(str, self.shape)), "--url", url, "--jobs", str(a.jobs)]

    def run_tool(self, tool, rep):
        import run_bench
        a = self.args
        bucket = f"bench-{tool.replace('-', '')}-{rep}"
        url = f"s3://{bucket}/{PREFIX}"
        what = f"s3 {tool} write"
        server = Moto(self.workdir)
        saved = {k: os.environ.get(k) for k in server.env()}
        os.environ.update(server.env())
        try:
            server.s3.create_bucket(Bucket=bucket)
            before = len(server.settled_requests(quiet=0.1))
            if a.sync:
                os.sync()
            child = run_bench.run_child(self.command(tool, url), a.timeout)
            reqs = server.settled_requests()[before:]
            self.step += 1
            if child["rc"] != 0:
                print(f"[{self.step}/{self.steps_total}] {what:<28} failed", file=sys.stderr, flush=True)
                self.fail(f"{what}: exit status {child['rc']}: "
                          f"{(child['stderr'] or child['stdout']).strip()[-2000:]}")
                return
            res = run_bench.last_json_line(child["stdout"]) if tool != "tessera" else {}
            req = summarise_requests(reqs)
            objects, size, open_uploads = server.objects(bucket)
            # Off the clock: read everything back with zarr-python + s3fs.
            v = subprocess.run([sys.executable, str(Path(__file__).resolve()), "verify", "--url", url,
                                "--jobs", str(a.jobs)], capture_output=True, text=True, timeout=a.timeout)
            check = run_bench.last_json_line(v.stdout) if v.returncode == 0 else None
            problems = []
            if check is None:
                problems.append(f"read-back failed: {(v.stderr or v.stdout).strip()[-1500:]}")
            else:
                tmp = Path(tempfile.mkdtemp(dir=self.workdir))
                (tmp / "zarr.json").write_text(json.dumps(check["metadata"]))
                diffs = run_bench.layout_differences(run_bench.normalised_metadata(tmp),
                                                     run_bench.expected_metadata(LAYOUT, self.shape))
                shutil.rmtree(tmp, ignore_errors=True)
                if diffs:
                    problems.append("wrote a different layout than requested:\n    " + "\n    ".join(diffs))
                if check["checksum"] != self.checksum:
                    problems.append(f"read-back checksum {check['checksum']} != input checksum {self.checksum}")
            if open_uploads:
                problems.append(f"{open_uploads} unfinished multipart upload(s) left in the bucket")
            for p in problems:
                self.fail(f"{what}: {p}")
            run = {"wall_seconds": child["wall"], "inner_seconds": (res or {}).get("seconds"),
                   "peak_rss_mib": child["maxrss_kib"] / 1024, "peak_anon_mib": child["peak_anon_kib"] / 1024,
                   "requests": req, "objects": objects, "stored_bytes": size, "open_multipart_uploads": open_uploads,
                   "checksum_ok": check is not None and check["checksum"] == self.checksum,
                   "ok": not problems, "version": (res or {}).get("version")}
            row = self.rows.setdefault(tool, {"tool": tool, "runs": []})
            row["runs"].append(run)
            best = min(row["runs"], key=lambda r: r["wall_seconds"])
            row.update({k: v for k, v in best.items()})
            row["ok"] = all(r["ok"] for r in row["runs"])
            row["mb_per_s"] = self.nbytes / row["wall_seconds"] / MB
            row["requests_per_object"] = req["total"] / objects if objects else None
            print(f"[{self.step}/{self.steps_total}] {what:<28} {child['wall']:8.3f} s  "
                  f"{self.nbytes / child['wall'] / MB:8.1f} MB/s  {req['total']} requests / {objects} objects  "
                  f"rss {child['maxrss_kib'] / 1024:7.1f} MiB", file=sys.stderr, flush=True)
        finally:
            server.stop()
            for k, val in saved.items():
                if val is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = val

    def run(self):
        import run_bench
        a = self.args
        self.shape = a.shape
        self.nbytes = a.shape[0] * a.shape[1] * a.shape[2] * 2
        t0 = time.monotonic()
        self.raw = make_input.ensure_input(self.shape)
        print(f"input: {self.raw} ({self.nbytes / MiB:.0f} MiB); warming page cache and computing checksum ...",
              file=sys.stderr, flush=True)
        self.checksum = run_bench.input_checksum(self.raw)
        print(f"input checksum: {self.checksum}", file=sys.stderr, flush=True)
        self.steps_total = a.repeat * len(a.tools)
        self.workdir = Path(tempfile.mkdtemp(prefix="s3-run-", dir=self.raw.parent))
        try:
            if "tessera" in a.tools:
                self.source = self.workdir / "source-uncompressed.zarr"
                print(f"preparing Tessera's local source (uncompressed v3, chunks {SHARD}) off the clock ...",
                      file=sys.stderr, flush=True)
                prepare_source(self.raw, self.shape, self.source)
            for rep in range(a.repeat):
                for tool in a.tools:
                    self.run_tool(tool, rep)
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.runtime = time.monotonic() - t0

    # ------------------------------------------------------------------------- reporting

    def ratios(self):
        out = []
        t = self.rows.get("tessera")
        if not t:
            return out
        for peer in PEERS:
            p = self.rows.get(peer)
            if p:
                out.append({"vs": peer, "mb_per_s_ratio": t["mb_per_s"] / p["mb_per_s"],
                            "requests_per_object_ratio": (t["requests_per_object"] / p["requests_per_object"]
                                                          if t.get("requests_per_object") and p.get("requests_per_object")
                                                          else None)})
        return out

    def table(self):
        a = self.args
        lines = [f"S3 write benchmark: {'x'.join(map(str, self.shape))} uint16 ({self.nbytes / MiB:.0f} MiB) -> "
                 f"moto_server on 127.0.0.1, layout {LAYOUT} (shards 64,512,512, inner 64^3, blosc zstd 5 shuffle), "
                 f"jobs={a.jobs}, best of {a.repeat}, {os.cpu_count()} CPUs, tessera {self.git or '?'}",
                 "MB/s = input bytes / process wall s (MB = 10^6 B); tessera's wall includes reading its local "
                 "uncompressed source; RSS in MiB"]
        hdr = ("tool", "wall s", "inner s", "MB/s", "GET", "HEAD", "PUT", "parts", "POST", "DELETE", "err",
               "requests", "objects", "stored MB", "req/obj", "peak RSS", "anon", "check")
        rows = []
        for tool in ALL_TOOLS:
            r = self.rows.get(tool)
            if not r:
                continue
            q = r["requests"]
            bm = q["by_method"]
            rows.append((tool, f"{r['wall_seconds']:.3f}",
                         f"{r['inner_seconds']:.3f}" if r.get("inner_seconds") else "-", f"{r['mb_per_s']:.1f}",
                         str(bm.get("GET", 0)), str(bm.get("HEAD", 0)), str(bm.get("PUT", 0)),
                         str(q["multipart_parts"]), str(bm.get("POST", 0)), str(bm.get("DELETE", 0)),
                         str(q["errors"]), str(q["total"]), str(r["objects"]), f"{r['stored_bytes'] / MB:.1f}",
                         f"{r['requests_per_object']:.2f}" if r.get("requests_per_object") else "-",
                         f"{r['peak_rss_mib']:.0f}", f"{r['peak_anon_mib']:.0f}", "ok" if r["ok"] else "FAIL"))
        lines += format_table(hdr, rows, right=set(range(len(hdr))) - {0, 17}, group=False)
        rat = self.ratios()
        if rat:
            lines.append("")
            lines.append("Ratios: tessera MB/s / peer MB/s (> 1: tessera faster); tessera req/obj / peer req/obj")
            for x in rat:
                rq = f"{x['requests_per_object_ratio']:.2f}x" if x["requests_per_object_ratio"] else "-"
                lines.append(f"  vs {x['vs']:<12} speed {x['mb_per_s_ratio']:.2f}x   requests/object {rq}")
        lines.append(f"input checksum {self.checksum}; total runtime {self.runtime:.1f} s")
        return "\n".join(lines)

    def write_json(self, path):
        a = self.args
        doc = {
            **run_header(self.git),
            "tessera": str(a.tessera),
            "server": "moto_server (fresh per tool run)",
            "input": {"path": str(self.raw), "shape": list(self.shape), "dtype": "uint16", "bytes": self.nbytes,
                      "checksum": self.checksum},
            "layout": LAYOUT, "blosc": BLOSC, "chunks": list(CHUNK), "shards": list(SHARD),
            "jobs": a.jobs, "repeat": a.repeat, "tools": list(a.tools),
            "units": {"mb_per_s": "input bytes / process wall seconds / 1e6", "rss": "MiB (2^20 bytes)",
                      "wall_seconds": "best of repeat, whole process"},
            "results": [self.rows[t] for t in ALL_TOOLS if t in self.rows],
            "ratios": self.ratios(),
            "failures": self.failures, "ok": not self.failures, "runtime_seconds": self.runtime,
        }
        write_json(path, doc)


def build_parser():
    import run_bench
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--small", action="store_true", help="quick run on %s" % "x".join(map(str, SMALL_SHAPE)))
    size.add_argument("--shape", type=make_input.parse_shape, help="input shape Z,Y,X (default 128,2048,2048)")
    ap.add_argument("--tools", type=run_bench.csv_choice(ALL_TOOLS), default=ALL_TOOLS,
                    help="comma-separated, default: " + ",".join(ALL_TOOLS))
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the best wall time is kept (default 1)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="workers per tool (default: os.cpu_count())")
    ap.add_argument("--tessera", type=Path, default=REPO / ".build" / "release" / "tessera",
                    help="path of the tessera binary (default <repo>/.build/release/tessera)")
    ap.add_argument("--json", type=Path, default=HERE / ".cache" / "last-s3-bench.json",
                    help="where to write the results (default Benchmarks/.cache/last-s3-bench.json)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a child is killed (default 1800)")
    ap.add_argument("--no-sync", dest="sync", action="store_false", help="do not sync(2) before each tool run")
    return ap


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("peer-write", "verify"):
        sub = argparse.ArgumentParser()
        sub.add_argument("mode")
        sub.add_argument("--tool", choices=PEERS)
        sub.add_argument("--raw")
        sub.add_argument("--shape", type=make_input.parse_shape)
        sub.add_argument("--url", required=True)
        sub.add_argument("--jobs", type=int, default=os.cpu_count())
        c = sub.parse_args(argv)
        out = (peer_write(c.tool, c.raw, c.shape, c.url, c.jobs) if c.mode == "peer-write"
               else verify(c.url, c.jobs))
        print(json.dumps(out), flush=True)
        return 0
    ap = build_parser()
    args = ap.parse_args(argv)
    args.shape = SMALL_SHAPE if args.small else (args.shape or make_input.DEFAULT_SHAPE)
    if args.repeat < 1 or args.jobs < 1:
        ap.error("--repeat and --jobs must be >= 1")
    args.tessera = args.tessera.absolute()
    if "tessera" in args.tools and not os.access(args.tessera, os.X_OK):
        ap.error(f"{args.tessera} is missing; build it with `make release` or pass --tessera")
    bench = S3Bench(args)
    return run_section(bench, args.json)


if __name__ == "__main__":
    sys.exit(main())
