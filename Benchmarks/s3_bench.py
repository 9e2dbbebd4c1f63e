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

Tools (each in its own process under the harness's launcher, Benchmarks/harness/process.py,
so peak RSS is the tool's own):
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
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_input  # noqa: E402
import peers  # noqa: E402
from harness.layouts import expected_metadata, layout_differences, normalise  # noqa: E402
from harness.process import last_json_line, run_measured  # noqa: E402
from harness.report import csv_choice, format_table  # noqa: E402
from harness.section import Section, add_run_arguments, add_size_arguments, check_counts, run_section  # noqa: E402
from harness.servers import MotoServer  # noqa: E402

ALL_TOOLS = ("tessera", "zarr-python", "tensorstore")
PEERS = ("zarr-python", "tensorstore")
# 64 planes, not run_bench.py's 32: with 32, `tessera copy` clamps the shard and inner chunk
# depth to the array's (32) and the layouts would differ between tools.
SMALL_SHAPE = (64, 512, 512)
LAYOUT = "v3-blosc-zstd-sharded"
CHUNK = peers.CHUNK
SHARD = peers.SHARD
BLOSC = peers.BLOSC[LAYOUT]
PREFIX = "bench.zarr"
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
MB = 1e6
MiB = 2 ** 20


# ----------------------------------------------------------------------------- the server

# werkzeug's access log line, with or without ANSI colours:
#   127.0.0.1 - - [23/Nov/2026 11:59:07] "PUT /b1/k?partNumber=1&uploadId=x HTTP/1.1" 200 -
LOG_LINE = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) (\S+) HTTP/[0-9.]+(?:\x1b\[[0-9;]*m)*" (\d{3})')


class LoggedMoto(MotoServer):
    """The tests' moto server (Tests/Conformance/support/s3_server.py) with its access log
    kept in `workdir`, and a boto3 client to count what a tool left in the bucket."""

    def __init__(self, workdir, name):
        super().__init__(log_path=Path(workdir) / f"moto-{name}.log")
        import boto3
        env = self.env()
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                               aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env["AWS_REGION"])

    def env(self):
        return {**super().env(), "AWS_DEFAULT_REGION": super().env()["AWS_REGION"]}

    def requests(self):
        """Parsed access-log lines so far: [(method, path, status)]."""
        text = self.log_path.read_bytes().decode(errors="replace")
        return [(m.group(1), m.group(2), int(m.group(3))) for m in LOG_LINE.finditer(text)]

    def settled_requests(self, quiet=0.3, limit=10.0):
        """The log after it stopped growing (werkzeug writes the line after the response)."""
        deadline = time.time() + limit
        prev = -1
        while True:
            size = self.log_path.stat().st_size
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

def storage_options():
    return {"endpoint_url": os.environ["AWS_ENDPOINT_URL"], "key": os.environ["AWS_ACCESS_KEY_ID"],
            "secret": os.environ["AWS_SECRET_ACCESS_KEY"]}


def split_url(url):
    assert url.startswith("s3://"), url
    bucket, _, path = url[5:].partition("/")
    return bucket, path


def peer_write(tool, raw, shape, url, jobs):
    """peers.py's write of the io section, to S3: zarr-python through s3fs, tensorstore
    through its s3 kvstore."""
    from importlib.metadata import version
    if tool == "zarr-python":
        res = peers.zarr_write(raw, shape, LAYOUT, url, jobs, storage_options=storage_options())
        return {"seconds": res["seconds"], "version": version("zarr"), "s3fs": version("s3fs")}
    bucket, path = split_url(url)
    kvstore = {"driver": "s3", "bucket": bucket, "path": path.rstrip("/") + "/",
               "endpoint": os.environ["AWS_ENDPOINT_URL"], "aws_region": os.environ["AWS_REGION"],
               "aws_credentials": {"type": "environment"}}
    res = peers.ts_write(raw, shape, LAYOUT, url, jobs, kvstore=kvstore)
    return {"seconds": res["seconds"], "version": version("tensorstore")}


def verify(url, jobs):
    """Read the array at `url` back with zarr-python + s3fs: its zarr.json and checksum."""
    import s3fs
    zarr, _ = peers.zarr_setup(jobs)
    bucket, path = split_url(url)
    fs = s3fs.S3FileSystem(anon=False, **{"key": storage_options()["key"], "secret": storage_options()["secret"],
                                         "endpoint_url": storage_options()["endpoint_url"]})
    meta = json.loads(fs.cat(f"{bucket}/{path.rstrip('/')}/zarr.json"))
    arr = zarr.open_array(url, mode="r", storage_options=storage_options())
    data = arr[...]
    return {"metadata": meta, "checksum": peers.checksum(data), "shape": list(data.shape), "dtype": str(data.dtype)}


def prepare_source(raw, shape, out):
    """The local uncompressed Zarr v3 copy Tessera copies from (chunks = one shard's extent)."""
    import numpy as np
    zarr, _ = peers.zarr_setup(os.cpu_count())
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

class S3Bench(Section):
    progress_width = 28

    def command(self, tool, url):
        a = self.args
        if tool == "tessera":
            return [str(a.tessera), "copy", str(self.source), url, "--zarr-format", "3",
                    "--chunks", ",".join(map(str, CHUNK)), "--shards", ",".join(map(str, SHARD)),
                    "--codec", "blosc-zstd", "--level", str(BLOSC["clevel"]), "--jobs", str(a.jobs)]
        return [sys.executable, str(Path(__file__).resolve()), "peer-write", "--tool", tool, "--raw", str(self.raw),
                "--shape", ",".join(map(str, self.shape)), "--url", url, "--jobs", str(a.jobs)]

    def read_back_problems(self, url):
        """Off the clock: read everything back with zarr-python + s3fs; (check, problems)."""
        v = subprocess.run([sys.executable, str(Path(__file__).resolve()), "verify", "--url", url,
                            "--jobs", str(self.args.jobs)], capture_output=True, text=True, timeout=self.args.timeout)
        check = last_json_line(v.stdout) if v.returncode == 0 else None
        if check is None:
            return None, [f"read-back failed: {(v.stderr or v.stdout).strip()[-1500:]}"]
        problems = []
        diffs = layout_differences(normalise(check["metadata"], v3=True), expected_metadata(LAYOUT, self.shape))
        if diffs:
            problems.append("wrote a different layout than requested:\n    " + "\n    ".join(diffs))
        if check["checksum"] != self.checksum:
            problems.append(f"read-back checksum {check['checksum']} != input checksum {self.checksum}")
        return check, problems

    def run_tool(self, tool, rep):
        a = self.args
        bucket = f"bench-{tool.replace('-', '')}-{rep}"
        url = f"s3://{bucket}/{PREFIX}"
        what = f"s3 {tool} write"
        server = LoggedMoto(self.outdir, bucket)
        saved = {k: os.environ.get(k) for k in server.env()}
        os.environ.update(server.env())
        try:
            server.s3.create_bucket(Bucket=bucket)
            before = len(server.settled_requests(quiet=0.1))
            if a.sync:
                os.sync()
            child = run_measured(self.command(tool, url), a.timeout)
            reqs = server.settled_requests()[before:]
            if child["rc"] != 0:
                self.progress(what, "failed")
                self.fail(f"{what}: exit status {child['rc']}: "
                          f"{(child['stderr'] or child['stdout']).strip()[-2000:]}")
                return
            res = last_json_line(child["stdout"]) if tool != "tessera" else {}
            req = summarise_requests(reqs)
            objects, size, open_uploads = server.objects(bucket)
            check, problems = self.read_back_problems(url)
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
            self.progress(what, f"{child['wall']:8.3f} s  {self.nbytes / child['wall'] / MB:8.1f} MB/s  "
                                f"{req['total']} requests / {objects} objects  rss {child['maxrss_kib'] / 1024:7.1f} MiB")
        finally:
            server.stop()
            for k, val in saved.items():
                if val is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = val

    def measure(self):
        a = self.args
        self.shape = a.shape
        self.nbytes = a.shape[0] * a.shape[1] * a.shape[2] * 2
        self.raw, self.checksum = make_input.checked_input(self.shape)
        self.steps_total = a.repeat * len(a.tools)
        with self.workdir("s3-run-", self.raw.parent) as self.outdir:
            if "tessera" in a.tools:
                self.source = self.outdir / "source-uncompressed.zarr"
                print(f"preparing Tessera's local source (uncompressed v3, chunks {SHARD}) off the clock ...",
                      file=sys.stderr, flush=True)
                prepare_source(self.raw, self.shape, self.source)
            for rep in range(a.repeat):
                for tool in a.tools:
                    self.run_tool(tool, rep)

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

    def table_lines(self):
        lines = [f"S3 write benchmark: {'x'.join(map(str, self.shape))} uint16 ({self.nbytes / MiB:.0f} MiB) -> "
                 f"moto_server on 127.0.0.1, layout {LAYOUT} (shards 64,512,512, inner 64^3, blosc zstd 5 shuffle), "
                 f"{self.conditions()}",
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
        return lines

    def document(self):
        a = self.args
        return {
            "tessera": str(a.tessera),
            "server": "moto_server (fresh per tool run)",
            "input": make_input.describe(self.raw, self.shape, self.checksum),
            "layout": LAYOUT, "blosc": BLOSC, "chunks": list(CHUNK), "shards": list(SHARD),
            "jobs": a.jobs, "repeat": a.repeat, "tools": list(a.tools),
            "units": {"mb_per_s": "input bytes / process wall seconds / 1e6", "rss": "MiB (2^20 bytes)",
                      "wall_seconds": "best of repeat, whole process"},
            "results": [self.rows[t] for t in ALL_TOOLS if t in self.rows],
            "ratios": self.ratios(),
        }


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_size_arguments(ap, SMALL_SHAPE, make_input.parse_shape, small_help="quick run on {}")
    ap.add_argument("--tools", type=csv_choice(ALL_TOOLS), default=ALL_TOOLS,
                    help="comma-separated, default: " + ",".join(ALL_TOOLS))
    add_run_arguments(ap, HERE / ".cache" / "last-s3-bench.json", what="tool run", keep=False)
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
    check_counts(ap, args)
    if "tessera" in args.tools and not os.access(args.tessera, os.X_OK):
        ap.error(f"{args.tessera} is missing; build it with `make release` or pass --tessera")
    bench = S3Bench(args)
    return run_section(bench, args.json)


if __name__ == "__main__":
    sys.exit(main())
