#!/usr/bin/env python3
"""The gateway benchmark: `tessera serve` vs nginx serving the same folder, one run.

    python Benchmarks/gateway_bench.py [--quick] [--duration S] [--connections N] [--threads N]
        [--warmup S] [--repeat N] [--workloads W,...] [--tessera PATH] [--nginx PATH] [--wrk PATH]

Needs wrk and nginx (Debian: `apt-get install wrk nginx`).

Data (generated once, deterministically, into Benchmarks/.cache/gateway-bench/; a
manifest.json records the parameters and the files are regenerated when they differ):
  chunks/Z/Y/X     1000 files of 64 KiB random bytes, Z, Y, X in 0..9: the chunk tree of
                   a Zarr v2 array with "/" keys (no metadata file; nothing reads them as Zarr)
  shards/c/0/0/I   50 files of 4 MiB random bytes, I in 0..49, standing in for shards of 64
                   inner chunks of 64 KiB each (the servers never interpret the bytes)
  missing keys     chunks/Z/Y/1X (absent files in existing folders) and chunks/1Z/Y/X
                   (absent folders): nothing is there.
Before timing every file is read once, so both servers start with a warm page cache.

Servers, all started once for the whole run on 127.0.0.1 and stopped at the end:
  tessera  `tessera serve --root bench=FOLDER --port 0 --access-log off`, FOLDER's files at
           /bench/<path>; its answers carry ETag, Last-Modified, Cache-Control "public,
           max-age=60", Accept-Ranges, Content-Type and CORS headers.
  nginx    an unprivileged foreground nginx (`-p TMP -c TMP/nginx.conf -e TMP/error.log -g
           'daemon off;'`, pid and temp paths in TMP) serving the same FOLDER under /bench/
           with the same headers: etag and Last-Modified (defaults), add_header Cache-Control
           "public, max-age=60", Access-Control-Allow-Origin * and Access-Control-Expose-Headers
           (`always`); access_log off and log_not_found off (tessera logs nothing either);
           worker_processes = CPU count; sendfile, tcp_nopush, tcp_nodelay on;
           keepalive_requests 1000000 (nginx's default of 1000 would close each connection
           every 1000 requests; tessera never does); a 404 answers an empty body
           (`error_page 404 = @empty;` and there `return 404 $empty` with $empty set to "":
           a literal `return 404 ""` still sends nginx's HTML page) like tessera's.
           open_file_cache stays off (nginx's default): nginx opens and stats the file on
           every request.
  nginx-cached  the same nginx configuration plus open_file_cache (max=8192, valid 1s,
           errors on): what tessera serve does by default (--file-cache-seconds 1, open
           files and misses reused for a second). Skipped with --without-cached-nginx.
The goals are against plain nginx, as the issue states them; the ratios against
nginx-cached are printed too, so the file cache's share of the result is visible.

Workloads (each a wrk Lua script whose request list is built once in init(), so the client
costs the same per request for both servers; every thread starts at its own offset):
  chunk    GET of a whole 64 KiB chunk file, round-robin over the 1000 files       -> 200
  range    GET with `Range: bytes=A-B`, a 64 KiB-aligned 64 KiB inner chunk of a shard,
           4096 (shard, offset) pairs drawn at random (fixed seed)                -> 206
  index    GET with `Range: bytes=-1028` (the size of a 64-chunk shard index:
           64 x 16 + 4 bytes), over the 50 shards                                 -> 206
  404      GET of 1000 missing keys                                               -> 404

Measurement: for each repeat and workload, both servers in turn (which one goes first
alternates between workloads and repeats), each `wrk -t THREADS -c CONNECTIONS -d DURATION
--latency` (default -t2 -c64 -d10s; --quick: -d3s, 1 s warm-up) after a warm-up run of the
same script (default 2 s, not recorded). From wrk, per run:
  rps       completed requests / duration (wrk's own summary, via the script's done())
  p50/p99   latency percentiles in ms from wrk's histogram (done()); also parsed from the
            --latency text (us/ms/s converted) and stored in the JSON as a cross-check
  errors    socket errors (connect, read, write, timeout) + answers with an unexpected
            status class (for 200/206 workloads: status >= 400; for 404: status < 400)
  B/resp    bytes read / requests minus the expected body size: the average header size;
            a server that sent short or long bodies shows up here (outside 0..2048: FAIL)
  CPU       the server's user+system CPU time during the run (/proc/PID/stat, all of
            nginx's processes) per request, in microseconds; less sensitive than rps to
            wrk sharing the CPUs with the server
  RSS       the server's VmRSS after the run (nginx: master + workers summed, so shared
            pages count more than once), MiB
  others %  CPU time charged to every other process during the run (/proc/stat's user +
            nice + system, minus the server's and wrk's), per second of the run, 100 = one
            core: the disturbance from concurrent builds and tests
With --repeat N the run with the highest rps is shown; every run is in the JSON.

Correctness, before any timing: a sample of every workload's requests (24 each) is fetched
from both servers with urllib and checked: status (200/206/404), body byte-identical to the
file's bytes (or its range), Content-Length, Content-Range for 206, an empty body for 404.
Any wrong answer prints FAIL and the run exits 1 without timing anything. Missing headers
(ETag, Last-Modified, Cache-Control, Accept-Ranges, CORS) are reported as notes.

Goals, per workload, at 64 connections: tessera rps >= nginx rps and tessera p99 <= nginx
p99 (Docs/bench.md); also shown: tessera p99 <= 5 ms (an absolute target; wrk shares
the CPUs with the server here, so even nginx's p99 can exceed it on a small machine: with
two wrk threads and two server threads busy on two cores, a request whose client or
server thread waits out another's time slice waits one or two scheduler ticks, 4 ms each
at the usual HZ=250, and the latency spread of whole-chunk answers is capped near 8 ms
rather than centred on the mean of 64 / rps).

Results: Benchmarks/.cache/last-gateway-bench.json.

Then (unless --without-v2-view) Benchmarks/v2view_bench.py with the same wrk settings:
`tessera serve --v2-view` chunk req/s against plain chunk req/s over the same inner chunks
of one sharded image (Docs/serve.md, "Zarr v2 view"). The machine's noise (and wrk, which
runs on the same CPUs) affects both servers alike; compare the ratios, not absolutes.
"""
import argparse
import json
import os
import pwd
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"
sys.path.insert(0, str(HERE))
from harness.process import children, machine_task_cpu_seconds, proc_cpu_seconds, proc_status_kib, warm  # noqa: E402
from harness.report import csv_choice, format_table  # noqa: E402
from harness.section import Section, run_section  # noqa: E402
from harness.servers import GatewayServer, free_port  # noqa: E402

DATA = CACHE / "gateway-bench"
ROOT = "bench"
KiB = 1024
MiB = 2 ** 20
CHUNK_BYTES = 64 * KiB
CHUNK_GRID = (10, 10, 10)
SHARD_BYTES = 4 * MiB
SHARDS = 50
INNER = SHARD_BYTES // CHUNK_BYTES
INDEX_BYTES = INNER * 16 + 4
RANGE_PAIRS = 4096
SEED = 20241123
DATA_VERSION = 1
SERVERS = ("tessera", "nginx", "nginx-cached")
BASELINES = ("nginx", "nginx-cached")
ALL_WORKLOADS = ("chunk", "range", "index", "404")
EXPECTED_STATUS = {"chunk": 200, "range": 206, "index": 206, "404": 404}
EXPECTED_BODY = {"chunk": CHUNK_BYTES, "range": CHUNK_BYTES, "index": INDEX_BYTES, "404": 0}
GOAL_P99_MS = 5.0
SAMPLE = 24
CORS_EXPOSE = "Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified"


# ----------------------------------------------------------------------------- data

def chunk_keys():
    return [f"chunks/{z}/{y}/{x}" for z in range(CHUNK_GRID[0]) for y in range(CHUNK_GRID[1])
            for x in range(CHUNK_GRID[2])]


def shard_keys():
    return [f"shards/c/0/0/{i}" for i in range(SHARDS)]


def missing_keys():
    """1000 absent keys: half in existing folders, half under absent folders."""
    keys = []
    for i, k in enumerate(chunk_keys()):
        z, y, x = k.split("/")[1:]
        keys.append(f"chunks/{z}/{y}/1{x}" if i % 2 == 0 else f"chunks/1{z}/{y}/{x}")
    return keys


def manifest():
    return {"version": DATA_VERSION, "seed": SEED, "chunk_bytes": CHUNK_BYTES, "chunk_grid": list(CHUNK_GRID),
            "shard_bytes": SHARD_BYTES, "shards": SHARDS}


def ensure_data(folder=DATA, log=sys.stderr):
    """Generate the files (deterministically) unless the folder already holds this layout."""
    import numpy as np
    want = manifest()
    mpath = folder / "manifest.json"
    keys = [(k, CHUNK_BYTES) for k in chunk_keys()] + [(k, SHARD_BYTES) for k in shard_keys()]
    try:
        if json.loads(mpath.read_text()) == want and all((folder / k).stat().st_size == n for k, n in keys):
            return
    except (OSError, ValueError):
        pass
    total = sum(n for _, n in keys)
    print(f"gateway_bench: generating {len(keys)} files ({total / MiB:.0f} MiB) in {folder} ...",
          file=log, flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    rng = np.random.default_rng(SEED)
    for k, n in keys:
        p = folder / k
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(rng.bytes(n))
    mpath.write_text(json.dumps(want, indent=2) + "\n")


def workload_requests(name):
    """The workload's request list: (key, Range header or None)."""
    if name == "chunk":
        return [(k, None) for k in chunk_keys()]
    if name == "range":
        rng = random.Random(SEED)
        shards = shard_keys()
        out = []
        for _ in range(RANGE_PAIRS):
            s = rng.randrange(SHARDS)
            a = rng.randrange(INNER) * CHUNK_BYTES
            out.append((shards[s], f"bytes={a}-{a + CHUNK_BYTES - 1}"))
        return out
    if name == "index":
        return [(k, f"bytes=-{INDEX_BYTES}") for k in shard_keys()]
    if name == "404":
        return [(k, None) for k in missing_keys()]
    raise ValueError(name)


def expected_answer(folder, key, rng):
    """(status, body bytes, Content-Range or None) a correct server sends."""
    path = folder / key
    if not path.exists():
        return 404, b"", None
    data = path.read_bytes()
    size = len(data)
    if rng is None:
        return 200, data, None
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng)
    if m.group(1) == "":
        n = int(m.group(2))
        a, b = size - min(n, size), size - 1
    else:
        a, b = int(m.group(1)), min(int(m.group(2)), size - 1)
    return 206, data[a:b + 1], f"bytes {a}-{b}/{size}"


# ----------------------------------------------------------------------------- wrk

def lua_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(requests, prefix=f"/{ROOT}/"):
    """A wrk script cycling through pre-formatted requests (`(key, Range or None)`, each
    path `prefix + key`); done() prints a JSON line."""
    paths = ",\n".join(lua_string(f"{prefix}{k}") for k, _ in requests)
    ranges = ",\n".join(lua_string(r or "") for _, r in requests)
    return f"""-- generated by Benchmarks/gateway_bench.py
local paths = {{
{paths}
}}
local ranges = {{
{ranges}
}}
local reqs = {{}}
local i = 0
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
end

function init(args)
   for k = 1, #paths do
      local h = {{}}
      if ranges[k] ~= "" then h["Range"] = ranges[k] end
      reqs[k] = wrk.format("GET", paths[k], h)
   end
   local threads = tonumber(args[1]) or 1
   i = math.floor((tid or 0) * #reqs / threads)
end

function request()
   i = i % #reqs + 1
   return reqs[i]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {{"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "p50_us": %d, "p75_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"p999_us": %d, "max_us": %d, "mean_us": %.1f}}\\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
end
"""


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def _ms(value, unit):
    return float(value) * UNITS[unit]


def parse_wrk(text):
    """wrk's --latency text output: requests/sec, the latency distribution (ms), the
    request count, socket errors and non-2xx/3xx answers."""
    out = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["rps"] = float(m.group(1))
    for pct, val, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M):
        out[f"p{pct}_ms"] = _ms(val, unit)
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h),", text)
    if m:
        out["requests"] = int(m.group(1))
        out["seconds"] = _ms(m.group(2), m.group(3)) / 1000
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = {k: int(v) for k, v in zip(("connect", "read", "write", "timeout"), m.groups())} \
        if m else {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non_2xx_3xx"] = int(m.group(1)) if m else 0
    m = re.search(r"^\s+Latency\s+([\d.]+)(us|ms|s|m|h)\s+[\d.]+\w+\s+([\d.]+)(us|ms|s|m|h)", text, re.M)
    if m:
        out["mean_ms"] = _ms(m.group(1), m.group(2))
        out["max_ms"] = _ms(m.group(3), m.group(4))
    return out


def wrk_json(text):
    for line in text.splitlines():
        if line.startswith("WRKJSON "):
            try:
                return json.loads(line[len("WRKJSON "):])
            except ValueError:
                return None
    return None


# ----------------------------------------------------------------------------- servers

class Server:
    name = ""
    proc = None
    base = ""
    err = None  # the server's captured stderr, closed by stop()

    def pids(self):
        return [self.proc.pid] + children(self.proc.pid)

    def rss_mib(self):
        return sum(proc_status_kib(p, "VmRSS") for p in self.pids()) / 1024

    def cpu_seconds(self):
        return sum(proc_cpu_seconds(p) for p in self.pids())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            if self.err:
                self.err.close()


class Tessera(Server):
    """`tessera serve` as the gateway tests start it (Tests/Conformance/support/gateway_server.py)."""
    name = "tessera"

    def __init__(self, binary, folder, workdir):
        self.binary = binary
        self.folder = folder
        self.args = ["--root", f"{ROOT}={folder}", "--access-log", "off"]
        self.server = None

    def start(self, timeout=30):
        try:
            self.server = GatewayServer(self.binary, *self.args, startup_timeout=timeout)
        except RuntimeError as e:
            return str(e)[-1500:]
        self.proc = self.server.proc
        self.base = self.server.url
        return None

    def stop(self):
        if self.server is not None:
            try:
                self.server.stop(timeout=15)
            except RuntimeError:
                pass  # killed after the timeout; nothing more to do

    def version(self):
        try:
            r = subprocess.run([str(self.binary), "--version"], capture_output=True, text=True, timeout=30)
            return r.stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            return None


# What tessera serve does by default (--file-cache-seconds 1): open files and misses are
# reused for a second. nginx's open_file_cache is off unless configured like this.
NGINX_FILE_CACHE = """\
    open_file_cache max=8192 inactive=10s;
    open_file_cache_valid 1s;
    open_file_cache_errors on;
"""

NGINX_CONF = """\
{user}worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log error;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    log_not_found off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
{file_cache}    keepalive_timeout 65;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    types {{
        application/json json zarray zattrs zgroup zmetadata;
    }}
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        add_header Cache-Control "public, max-age=60";
        add_header Access-Control-Allow-Origin "*" always;
        add_header Access-Control-Expose-Headers "{expose}" always;
        error_page 404 = @empty;
        location /{root}/ {{
            alias {folder}/;
        }}
        location / {{
            return 404;
        }}
        location @empty {{
            # A literal `return 404 ""` would still send nginx's HTML page (an empty
            # literal text counts as none); text from a variable is sent as is.
            set $empty "";
            return 404 $empty;
        }}
    }}
}}
"""


class Nginx(Server):
    def __init__(self, binary, folder, workdir, workers, cached=False):
        self.binary = binary
        self.folder = folder
        self.cached = cached
        self.name = "nginx-cached" if cached else "nginx"
        self.tmp = workdir / self.name
        self.workers = workers

    def start(self, timeout=30):
        self.tmp.mkdir(parents=True, exist_ok=True)
        port = free_port()
        # As root, nginx's workers would run as `nobody`; keep them as the invoking user.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        conf = self.tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=user, workers=self.workers, tmp=self.tmp, port=port,
                                          expose=CORS_EXPOSE, root=ROOT, folder=self.folder,
                                          file_cache=NGINX_FILE_CACHE if self.cached else ""))
        self.cmd = [str(self.binary), "-p", str(self.tmp), "-c", str(conf), "-e", str(self.tmp / "error.log"),
                    "-g", "daemon off;"]
        self.err = open(self.tmp / "stderr", "wb")
        self.proc = subprocess.Popen(self.cmd, stdout=self.err, stderr=self.err, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
                if len(children(self.proc.pid)) >= self.workers:
                    return None
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        log = ""
        for p in (self.tmp / "stderr", self.tmp / "error.log"):
            if p.exists():
                log += p.read_text(errors="replace")
        return f"nginx did not start: {log.strip()[-1500:]}"

    def version(self):
        try:
            r = subprocess.run([str(self.binary), "-v"], capture_output=True, text=True, timeout=30)
            return (r.stderr or r.stdout).strip().replace("nginx version: ", "") or None
        except (OSError, subprocess.SubprocessError):
            return None


# ----------------------------------------------------------------------------- checking

def fetch(url, rng, timeout=30):
    req = urllib.request.Request(url, headers={"Range": rng} if rng else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, body, e.headers


def check_answer(server, key, rng, folder):
    """Problems with one answer (wrong status, body, length, range), and notes on headers."""
    want_status, want_body, want_cr = expected_answer(folder, key, rng)
    what = f"GET {server.base}/{ROOT}/{key}" + (f" Range: {rng}" if rng else "")
    try:
        status, body, headers = fetch(f"{server.base}/{ROOT}/{key}", rng)
    except OSError as e:
        return [f"{what}: {e}"], []
    problems, notes = [], []
    if status != want_status:
        problems.append(f"{what}: status {status}, expected {want_status}")
    if body != want_body:
        problems.append(f"{what}: body of {len(body)} bytes differs from the expected {len(want_body)} bytes"
                        + (f" (starts {body[:60]!r})" if body and len(body) < 4096 else ""))
    cl = headers.get("Content-Length")
    if cl is not None and cl != str(len(want_body)):
        problems.append(f"{what}: Content-Length {cl}, expected {len(want_body)}")
    if want_cr and headers.get("Content-Range") != want_cr:
        problems.append(f"{what}: Content-Range {headers.get('Content-Range')!r}, expected {want_cr!r}")
    want_headers = {"Access-Control-Allow-Origin": "*"}
    if want_status != 404:
        want_headers["Access-Control-Expose-Headers"] = CORS_EXPOSE
    for h, v in want_headers.items():
        if headers.get(h) != v:
            notes.append(f"{server.name}: {what}: {h} {headers.get(h)!r}, expected {v!r}")
    if want_status in (200, 206):
        need = ["ETag", "Last-Modified", "Cache-Control"] + (["Accept-Ranges"] if want_status == 200 else [])
        for h in need:
            if not headers.get(h):
                notes.append(f"{server.name}: {what}: no {h} header")
        if headers.get("Content-Type") != "application/octet-stream":
            notes.append(f"{server.name}: {what}: Content-Type {headers.get('Content-Type')!r}")
    return problems, notes


# ----------------------------------------------------------------------------- the run

class GatewayBench(Section):
    progress_width = 16

    def __init__(self, args):
        super().__init__(args)
        self.rows = {}  # (workload, server) -> row

    def validate(self, servers):
        a = self.args
        rng = random.Random(SEED + 1)
        for w in a.workloads:
            reqs = self.requests[w]
            sample = reqs[:SAMPLE // 2] + rng.sample(reqs, SAMPLE - SAMPLE // 2)
            for srv in servers:
                bad = 0
                for key, r in sample:
                    problems, notes = check_answer(srv, key, r, self.folder)
                    for n in notes:
                        self.note(n)
                    if problems:
                        bad += 1
                        if bad <= 3:
                            for p in problems:
                                self.fail(f"{srv.name} answers {w} wrongly: {p}")
                if bad > 3:
                    self.fail(f"{srv.name}: {bad - 3} more wrong answers in workload {w}")
                print(f"check {w:<6} {srv.name:<8} {len(sample)} requests: {'ok' if not bad else 'WRONG'}",
                      file=sys.stderr, flush=True)

    def wrk(self, srv, w, duration):
        a = self.args
        cmd = [a.wrk, "-t", str(a.threads), "-c", str(a.connections), "-d", f"{duration}s", "--latency",
               "--timeout", "5s", "-s", str(self.scripts[w]), f"{srv.base}/", "--", str(a.threads)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
        return cmd, r

    def run_one(self, w, srv, rep, pos):
        a = self.args
        what = f"{w} {srv.name}"
        if not srv.alive():
            self.step += 1  # counted, no progress line
            self.fail(f"{what}: the server is not running (exit status {srv.proc.returncode})")
            return
        if a.warmup > 0:
            self.wrk(srv, w, a.warmup)
        cpu0 = srv.cpu_seconds()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        all0 = machine_task_cpu_seconds()
        cmd, r = self.wrk(srv, w, a.duration)
        all1 = machine_task_cpu_seconds()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = srv.cpu_seconds() - cpu0
        wrk_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        other = max(0.0, (all1 - all0) - cpu - wrk_cpu)
        j = wrk_json(r.stdout)
        text = parse_wrk(r.stdout)
        if r.returncode != 0 or not j or not j["requests"]:
            self.progress(what, "failed")
            self.fail(f"{what}: wrk exit status {r.returncode}: {(r.stderr or r.stdout).strip()[-1500:]}")
            return
        n = j["requests"]
        secs = j["duration_us"] / 1e6
        socket_errors = j["connect"] + j["read"] + j["write"] + j["timeout"]
        # wrk's status counter counts answers with status > 399.
        wrong_status = j["status"] if EXPECTED_STATUS[w] < 400 else n - j["status"]
        hdr_bytes = j["bytes"] / n - EXPECTED_BODY[w]
        run = {"rps": n / secs, "requests": n, "seconds": secs, "bytes": j["bytes"],
               "p50_ms": j["p50_us"] / 1000, "p75_ms": j["p75_us"] / 1000, "p90_ms": j["p90_us"] / 1000,
               "p99_ms": j["p99_us"] / 1000, "p999_ms": j["p999_us"] / 1000, "max_ms": j["max_us"] / 1000,
               "mean_ms": j["mean_us"] / 1000,
               "socket_errors": {k: j[k] for k in ("connect", "read", "write", "timeout")},
               "wrong_status": wrong_status, "errors": socket_errors + wrong_status,
               "header_bytes_per_response": hdr_bytes, "mb_per_s": j["bytes"] / secs / 1e6,
               "server_cpu_seconds": cpu, "server_cpu_us_per_request": cpu / n * 1e6,
               "wrk_cpu_seconds": wrk_cpu, "other_cpu_seconds": other,
               "rss_mib_after": srv.rss_mib(), "wrk_text": text, "order_in_pair": pos, "repeat": rep,
               "load_after": os.getloadavg()[0]}
        # Work by other processes during the run (builds, tests): it takes CPU from both.
        run["other_cpu_percent"] = other / run["seconds"] * 100
        if srv.name == "tessera":
            run["tessera_vmhwm_mib"] = proc_status_kib(srv.proc.pid, "VmHWM") / 1024
        if not (0 < hdr_bytes < 2048):
            self.fail(f"{what}: {hdr_bytes:.0f} bytes per response beyond the expected {EXPECTED_BODY[w]}-byte "
                      f"body: short or long bodies")
        row = self.rows.setdefault((w, srv.name), {"workload": w, "server": srv.name, "runs": []})
        row["runs"].append(run)
        best = max(row["runs"], key=lambda x: x["rps"])
        row.update({k: v for k, v in best.items() if k != "wrk_text"})
        row["errors_total"] = sum(x["errors"] for x in row["runs"])
        row["command"] = cmd
        self.progress(what, f"{run['rps']:10.0f} req/s  p50 {run['p50_ms']:6.2f} ms  "
                            f"p99 {run['p99_ms']:6.2f} ms  errors {run['errors']}  cpu {run['server_cpu_us_per_request']:6.1f} "
                            f"us/req  rss {run['rss_mib_after']:6.1f} MiB  other processes {run['other_cpu_percent']:.0f}% CPU")

    def measure(self):
        self.folder = DATA.resolve()
        ensure_data(self.folder)
        warm(self.folder)
        self.load_before = os.getloadavg()
        try:
            with self.workdir("gateway-run-", CACHE, kept="scripts and server logs") as workdir:
                self.run_servers(workdir)
        finally:
            self.load_after = os.getloadavg()

    def run_servers(self, workdir):
        a = self.args
        self.requests = {w: workload_requests(w) for w in a.workloads}
        self.scripts = {}
        for w in a.workloads:
            p = workdir / f"{w}.lua"
            p.write_text(wrk_script(self.requests[w]))
            self.scripts[w] = p
        servers = [Tessera(a.tessera, self.folder, workdir), Nginx(a.nginx, self.folder, workdir, a.workers)]
        if not a.without_cached_nginx:
            servers.append(Nginx(a.nginx, self.folder, workdir, a.workers, cached=True))
        self.steps_total = a.repeat * len(a.workloads) * len(servers)
        try:
            for srv in servers:
                self.versions[srv.name] = srv.version()
                err = srv.start()
                if err:
                    self.fail(err)
                    return
                print(f"{srv.name}: {srv.base}/{ROOT}/ (pid {srv.proc.pid}, rss {srv.rss_mib():.1f} MiB)",
                      file=sys.stderr, flush=True)
            self.rss_idle = {s.name: s.rss_mib() for s in servers}
            r = subprocess.run([a.wrk, "--version"], capture_output=True, text=True)
            self.versions["wrk"] = (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr) else None
            self.validate(servers)
            if self.failures:
                print("wrong answers: no timing", file=sys.stderr, flush=True)
                return
            for rep in range(a.repeat):
                for wi, w in enumerate(a.workloads):
                    order = servers if (wi + rep) % 2 == 0 else servers[::-1]
                    for pos, srv in enumerate(order):
                        self.run_one(w, srv, rep, pos)
        finally:
            for srv in servers:
                srv.stop()

    # ------------------------------------------------------------------------- reporting

    def ratios(self, baseline="nginx"):
        out = []
        for w in self.args.workloads:
            t, n = self.rows.get((w, "tessera")), self.rows.get((w, baseline))
            if t and n:
                out.append({"workload": w, "baseline": baseline, "rps": t["rps"] / n["rps"],
                            "p99": t["p99_ms"] / n["p99_ms"] if n["p99_ms"] else None,
                            "cpu_per_request": (t["server_cpu_us_per_request"] / n["server_cpu_us_per_request"]
                                                if n["server_cpu_us_per_request"] else None)})
        return out

    def goals(self):
        g = []
        at = f"{self.args.connections} connections"
        for x in self.ratios():
            w = x["workload"]
            t = self.rows[(w, "tessera")]
            g.append((f"{w}: tessera rps >= nginx rps ({at})", x["rps"], "x", x["rps"] >= 1.0))
            if x["p99"] is not None:
                g.append((f"{w}: tessera p99 <= nginx p99 ({at})", x["p99"], "x", x["p99"] <= 1.0))
            g.append((f"{w}: tessera p99 <= {GOAL_P99_MS:g} ms ({at})", t["p99_ms"], " ms", t["p99_ms"] <= GOAL_P99_MS))
        return g

    def table_lines(self):
        a = self.args
        lines = [f"Gateway benchmark: wrk -t{a.threads} -c{a.connections} -d{a.duration:g}s --latency (warm-up "
                 f"{a.warmup:g} s), best of {a.repeat} by rps, {os.cpu_count()} CPUs (wrk shares them with the "
                 f"server), tessera {self.git or '?'} ({a.tessera}), nginx {self.versions.get('nginx') or '?'} "
                 f"({a.workers} workers)",
                 f"data: {len(chunk_keys())} x 64 KiB chunk files, {SHARDS} x 4 MiB shards, warm page cache; "
                 "latency in ms; errors = socket errors + unexpected status; B/resp = bytes read per answer "
                 "beyond the body; CPU = server CPU time per request; RSS after the run (MiB); others % = CPU "
                 "used by other processes during the run (100 = one core)"]
        hdr = ("workload", "server", "req/s", "MB/s", "p50", "p90", "p99", "max", "errors", "B/resp",
               "CPU us/req", "RSS", "others %")
        rows = []
        for w in a.workloads:
            for s in SERVERS:
                r = self.rows.get((w, s))
                if not r:
                    continue
                rows.append((f"{w} ({EXPECTED_STATUS[w]})", s, f"{r['rps']:.0f}", f"{r['mb_per_s']:.1f}",
                             f"{r['p50_ms']:.2f}", f"{r['p90_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['max_ms']:.1f}",
                             str(r["errors_total"]), f"{r['header_bytes_per_response']:.0f}",
                             f"{r['server_cpu_us_per_request']:.1f}", f"{r['rss_mib_after']:.1f}",
                             f"{r['other_cpu_percent']:.0f}"))
        lines += format_table(hdr, rows, right=set(range(2, len(hdr))))
        for baseline in BASELINES:
            rat = self.ratios(baseline)
            if not rat:
                continue
            lines.append("")
            lines.append(f"Ratios tessera / {baseline}: req/s (> 1: tessera faster), p99 (< 1: tessera lower), "
                         "CPU per request (< 1: tessera cheaper)"
                         + ("  [nginx with open_file_cache, as tessera's file cache]" if baseline != "nginx" else ""))
            for x in rat:
                p99 = f"{x['p99']:.2f}x" if x["p99"] else "-"
                cpu = f"{x['cpu_per_request']:.2f}x" if x["cpu_per_request"] else "-"
                lines.append(f"  {x['workload']:<6} req/s {x['rps']:.2f}x   p99 {p99}   CPU/req {cpu}")
        goals = self.goals()
        if goals:
            lines.append("")
            lines.append("Goals (Docs/bench.md: rps and p99 vs nginx; plus p99 <= 5 ms):")
            for name, v, unit, ok in goals:
                lines.append(f"  {'met ' if ok else 'MISS'}  {name}: {v:.2f}{unit}")
        if getattr(self, "rss_idle", None):
            lines.append("RSS idle before the runs: " + ", ".join(f"{k} {v:.1f} MiB" for k, v in self.rss_idle.items())
                         + " (nginx: master + workers summed)")
        return lines

    def summary(self):
        """The machine's load (after the notes): how disturbed the timings are."""
        lines = []
        lb = getattr(self, "load_before", None)
        busy = max((x["other_cpu_percent"] for r in self.rows.values() for x in r["runs"]), default=0)
        if lb:
            lines.append(f"load average (1 min) before the runs {lb[0]:.2f}; other processes used up to "
                         f"{busy:.0f}% of a core during a run"
                         + ("  (other work was running: timings are disturbed)" if busy > 10 else ""))
        return lines + super().summary()

    def host_readings(self):
        return {"load_before": list(getattr(self, "load_before", []) or []),
                "load_after": list(getattr(self, "load_after", []) or [])}

    def document(self):
        a = self.args
        return {
            "tessera": str(a.tessera), "nginx": str(a.nginx), "wrk": a.wrk,
            "versions": self.versions,
            "data": {"folder": str(DATA), **manifest(), "index_bytes": INDEX_BYTES, "range_pairs": RANGE_PAIRS},
            "wrk_options": {"threads": a.threads, "connections": a.connections, "duration_s": a.duration,
                            "warmup_s": a.warmup, "timeout_s": 5},
            "nginx_workers": a.workers, "repeat": a.repeat, "workloads": list(a.workloads),
            "units": {"rps": "completed requests / second (best of repeat)", "latency": "ms",
                      "rss": "MiB (2^20 bytes), VmRSS after the run", "cpu": "server user+system us per request"},
            "rss_idle_mib": getattr(self, "rss_idle", None),
            "results": [self.rows[(w, s)] for w in a.workloads for s in SERVERS if (w, s) in self.rows],
            "ratios": self.ratios(),
            "ratios_to_nginx_cached": self.ratios("nginx-cached"),
            "goals": [{"goal": n, "value": v, "met": ok} for n, v, _, ok in self.goals()],
            "notes": self.notes,
        }


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs: -d3s, 1 s warm-up")
    ap.add_argument("--duration", type=int, default=None, help="seconds per measured wrk run (default 10; --quick 3)")
    ap.add_argument("--warmup", type=int, default=None, help="seconds of warm-up before each run (default 2; --quick 1)")
    ap.add_argument("--connections", type=int, default=64, help="wrk -c (default 64)")
    ap.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per workload and server; the best rps is kept")
    ap.add_argument("--workloads", type=csv_choice(ALL_WORKLOADS), default=ALL_WORKLOADS,
                    help="comma-separated, default: " + ",".join(ALL_WORKLOADS))
    ap.add_argument("--workers", type=int, default=os.cpu_count(), help="nginx worker_processes (default: CPU count)")
    ap.add_argument("--tessera", type=Path, default=REPO / ".build" / "release" / "tessera",
                    help="tessera binary (default <repo>/.build/release/tessera)")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx", help="nginx binary")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help="wrk binary")
    ap.add_argument("--json", type=Path, default=CACHE / "last-gateway-bench.json",
                    help="where to write the results (default Benchmarks/.cache/last-gateway-bench.json)")
    ap.add_argument("--keep", action="store_true", help="keep the wrk scripts and server logs (path printed)")
    ap.add_argument("--without-v2-view", action="store_true",
                    help="skip the v2-view comparison (Benchmarks/v2view_bench.py) that follows the section")
    ap.add_argument("--without-cached-nginx", action="store_true",
                    help="skip the third server, nginx with open_file_cache (a third less runtime)")
    return ap


def main(argv=None):
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.duration is None:
        args.duration = 3 if args.quick else 10
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.repeat < 1 or args.threads < 1 or args.connections < args.threads or args.duration < 1 or args.workers < 1:
        ap.error("--repeat, --threads, --workers >= 1, --duration >= 1 and --connections >= --threads")
    args.tessera = args.tessera.absolute()
    missing = []
    if not os.access(args.tessera, os.X_OK):
        missing.append(f"{args.tessera} is missing; build it with `make release` or pass --tessera")
    for tool, path in (("wrk", args.wrk), ("nginx", args.nginx)):
        if not (shutil.which(path) or os.access(path, os.X_OK)):
            missing.append(f"{tool} is missing: apt-get install {tool}")
    if missing:
        print("gateway_bench: FAIL: " + "; ".join(missing), file=sys.stderr)
        return 1
    args.wrk = shutil.which(args.wrk) or args.wrk
    rc = run_section(GatewayBench(args), args.json)
    if args.without_v2_view:
        return rc
    # `--v2-view` chunks against plain chunks of the same image (Benchmarks/v2view_bench.py).
    import v2view_bench
    print()
    sys.stdout.flush()
    return rc or v2view_bench.main(["--tessera", str(args.tessera), "--wrk", args.wrk, "--duration", str(args.duration),
                                    "--warmup", str(args.warmup), "--connections", str(args.connections),
                                    "--threads", str(args.threads)])


if __name__ == "__main__":
    sys.exit(main())
