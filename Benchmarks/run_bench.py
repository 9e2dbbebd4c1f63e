#!/usr/bin/env python3
"""`make bench`: Tessera vs zarr-python 3 and tensorstore, same run, same input.

    python Benchmarks/run_bench.py [--sections io,convert,s3,gateway,soak] [--small | --shape Z,Y,X]
                                   [--repeat N] [--jobs N] [--layouts L,...] [--tools T,...]
                                   [--convert-tools T,...] [--convert-variants V,...]
                                   [--memory-check] [--tessera-bench PATH] [--tessera PATH]
                                   [--gateway-duration S] [--gateway-connections N]

Five sections, all by default:
  io       (this file) write and read back one Zarr array, described below.
  convert  Benchmarks/convert_bench.py: `tessera convert` of a tiled TIFF to a full NGFF
           pyramid vs ngff-zarr, a tensorstore script (and bioformats2raw when installed),
           with the compress-only floor; --memory-check adds the 4 GiB BigTIFF peak-RSS
           check. See that file's docstring; its results go to
           Benchmarks/.cache/last-convert-bench.json.
  s3       Benchmarks/s3_bench.py: write the same array (v3-blosc-zstd-sharded) to a local
           S3 server (moto_server, started and stopped by the bench), tessera copy vs
           zarr-python 3 + s3fs vs tensorstore's s3 kvstore: MB/s, requests per object by
           method, peak RSS, every output read back and checked. --tools applies to it too;
           --small runs it on 64x512x512 (the 64-deep shards then fit the array in every
           tool). Results go to Benchmarks/.cache/last-s3-bench.json.
  gateway  Benchmarks/gateway_bench.py: `tessera serve` vs nginx (same folder, same headers,
           both on 127.0.0.1) under wrk -t2 -c64 -d10s: whole 64 KiB chunk GETs, 64 KiB
           inner-chunk ranges of 4 MiB shards, shard-index suffix ranges and 404s; req/s,
           p50/p99 latency, errors, server CPU per request and RSS, every workload's answers
           checked byte for byte first. Needs wrk and nginx (apt-get install wrk nginx);
           --small runs it with 3 s runs. Results go to Benchmarks/.cache/last-gateway-bench.json.
  soak     Benchmarks/gateway_soak.py: `tessera serve` at descriptor limits 4096 and 256 under
           10,000 idle connections + 500 slowloris + wrk -c256 for 60 s: the server stays up,
           wrk's requests succeed, idle and slow connections are closed by their timeouts,
           RSS returns within 10 % of its start. --small runs it for 20 s with a tenth of the
           idle connections. Results go to Benchmarks/.cache/last-gateway-soak.json.
The exit status is 1 if any section failed.

The io section:
For each layout (v3-blosc-zstd-sharded, v2-blosc-lz4) and each tool (tessera, zarr-python,
tensorstore) the whole input array is written to a fresh Zarr array and then read back
whole, each step in its own child process (tessera-bench for Tessera, peers.py run with
this interpreter for the peers), so every figure is per tool and per step:

  seconds     as measured inside the child: excludes process start-up (interpreter,
              imports) and mapping the input; includes creating the array and all I/O.
  MB/s        input bytes (uncompressed) / seconds, MB = 10^6 bytes.
  peak RSS    ru_maxrss of the tool's own process (os.wait4 in a small launcher, see
              LAUNCHER), MiB. It counts file-backed pages too: a writer that memory-maps
              the 1 GiB input shows ~1 GiB here even if it allocates little, and a reader
              holds the whole array, so both ops are >= the input size by construction.
  peak anon   the largest RssAnon of the child sampled from /proc every 10 ms, MiB: the
              private memory the tool allocated itself (approximate: sampled).
  objects     files under the output folder after the write, and their total bytes.

Also, when tessera-bench supports it, the compress-only floor (`tessera-bench floor`:
blosc-compress every 64^3 chunk in memory, no I/O) for each layout's codec.

Before any timing the input is read once (warming the page cache) and its checksum (sum of
all uint16 values, wrapping uint64) computed; every read must reproduce it, and every
written array must have exactly the requested layout, or the run prints FAIL and exits 1.
Outputs go to a temporary folder next to the cached input (same disk); each output is
deleted once it has been read back and the folder at the end (--keep keeps them). Before
each step sync(2) flushes earlier steps' dirty pages so no tool pays for another's writes;
no tool fsyncs its own output (tensorstore's file_io_sync is turned off to match).
Results are also written as JSON to Benchmarks/.cache/last-bench.json.
All timings in one run share the machine's noise; compare the ratios, not absolutes.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import make_input  # noqa: E402
from bench_common import last_json_line, count_objects, csv_choice, write_json, run_section, format_table, run_header  # noqa: E402

ALL_LAYOUTS = ("v3-blosc-zstd-sharded", "v2-blosc-lz4")
ALL_TOOLS = ("tessera", "zarr-python", "tensorstore")
PEERS = ("zarr-python", "tensorstore")
ALL_SECTIONS = ("io", "convert", "s3", "gateway", "soak")
SMALL_SHAPE = (32, 512, 512)
FLOOR_CNAME = {"v3-blosc-zstd-sharded": "zstd", "v2-blosc-lz4": "lz4"}
MB = 1e6
MiB = 2 ** 20


# ----------------------------------------------------------------------------- expected layouts

def expected_metadata(layout, shape):
    """The key fields every tool's output must have, in normalised form."""
    if layout == "v3-blosc-zstd-sharded":
        return {
            "zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": "uint16",
            "chunk_grid": {"name": "regular", "chunk_shape": [64, 512, 512]},
            "chunk_key_encoding": {"name": "default", "separator": "/"},
            "fill_value": 0,
            "codecs": [{
                "name": "sharding_indexed",
                "chunk_shape": [64, 64, 64],
                "codecs": [
                    {"name": "bytes", "endian": "little"},
                    {"name": "blosc", "cname": "zstd", "clevel": 5, "shuffle": "shuffle", "typesize": 2, "blocksize": 0},
                ],
                "index_codecs": [{"name": "bytes", "endian": "little"}, {"name": "crc32c"}],
                "index_location": "end",
            }],
            "storage_transformers": [],
        }
    if layout == "v2-blosc-lz4":
        return {
            "zarr_format": 2, "shape": list(shape), "chunks": [64, 64, 64], "dtype": "<u2",
            "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
            "filters": None, "fill_value": 0, "order": "C", "dimension_separator": "/",
        }
    raise ValueError(layout)


def _norm_codec(c):
    name = c.get("name")
    conf = dict(c.get("configuration") or {})
    out = {"name": name}
    if name == "sharding_indexed":
        out["chunk_shape"] = conf.get("chunk_shape")
        out["codecs"] = [_norm_codec(x) for x in conf.get("codecs", [])]
        out["index_codecs"] = [_norm_codec(x) for x in conf.get("index_codecs", [])]
        out["index_location"] = conf.get("index_location", "end")  # spec default
    else:
        out.update(conf)
    return out


def normalised_metadata(folder):
    """Key fields of the array metadata at `folder` (v3 zarr.json or v2 .zarray), with
    spec defaults filled in and cosmetic fields (attributes, dimension_names) dropped."""
    v3 = Path(folder) / "zarr.json"
    v2 = Path(folder) / ".zarray"
    if v3.exists():
        m = json.loads(v3.read_text())
        grid = m.get("chunk_grid", {})
        cke = m.get("chunk_key_encoding", {})
        sep_default = "/" if cke.get("name") == "default" else "."
        return {
            "zarr_format": m.get("zarr_format"), "node_type": m.get("node_type"),
            "shape": m.get("shape"), "data_type": m.get("data_type"),
            "chunk_grid": {"name": grid.get("name"), **(grid.get("configuration") or {})},
            "chunk_key_encoding": {"name": cke.get("name"),
                                   "separator": (cke.get("configuration") or {}).get("separator", sep_default)},
            "fill_value": m.get("fill_value"),
            "codecs": [_norm_codec(c) for c in m.get("codecs", [])],
            "storage_transformers": m.get("storage_transformers", []),
        }
    if v2.exists():
        m = json.loads(v2.read_text())
        return {
            "zarr_format": m.get("zarr_format"), "shape": m.get("shape"), "chunks": m.get("chunks"),
            "dtype": m.get("dtype"), "compressor": m.get("compressor"),
            "filters": m.get("filters") or None, "fill_value": m.get("fill_value"),
            "order": m.get("order"), "dimension_separator": m.get("dimension_separator", "."),
        }
    return None


def layout_differences(got, want, path=""):
    """Human-readable list of differences between two normalised metadata trees."""
    if isinstance(want, dict) and isinstance(got, dict):
        diffs = []
        for k in sorted(set(want) | set(got)):
            diffs += layout_differences(got.get(k, "<missing>"), want.get(k, "<missing>"), f"{path}.{k}" if path else k)
        return diffs
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        diffs = []
        for i, (g, w) in enumerate(zip(got, want)):
            diffs += layout_differences(g, w, f"{path}[{i}]")
        return diffs
    return [] if got == want else [f"{path}: got {got!r}, want {want!r}"]


# ----------------------------------------------------------------------------- children

# Peak RSS must be measured on a process that did not start as a copy of this driver: a
# child spawned from here inherits the driver's high-water mark (Linux folds the old mm's
# peak into ru_maxrss at exec, and the driver holds numpy and a 64 MiB buffer), which would
# floor every reading at ~90 MiB. So each step runs under this tiny launcher (python -I -S,
# ~9 MiB): it spawns the tool, samples the tool's RssAnon every 10 ms, reaps it with wait4
# and reports the tool's own ru_maxrss. Readings below the launcher's ~9 MiB would read as
# ~9 MiB; every tool here is well above that.
LAUNCHER = r"""
import os, sys
result, cmd = sys.argv[1], sys.argv[2:]
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
import json, threading
peak = [0]
done = threading.Event()
def sample():
    path = "/proc/%d/status" % pid
    while not done.is_set():
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        peak[0] = max(peak[0], int(line.split()[1]))
                        break
        except (OSError, ValueError):
            return
        done.wait(0.01)
t = threading.Thread(target=sample, daemon=True)
t.start()
_, status, usage = os.wait4(pid, 0)
done.set()
t.join()
with open(result, "w") as f:
    json.dump({"status": status, "maxrss_kib": usage.ru_maxrss, "peak_anon_kib": peak[0]}, f)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_child(cmd, timeout):
    """Run `cmd` under LAUNCHER and return its exit code, output, peak RSS (ru_maxrss of
    the tool itself) and peak anonymous RSS (sampled from /proc every 10 ms)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as result:
        started = time.monotonic()
        # A session of its own: a timeout or Ctrl-C kills the launcher and the tool together.
        p = subprocess.Popen([sys.executable, "-I", "-S", "-c", LAUNCHER, result.name] + cmd,
                             stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        timed_out = False
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        except KeyboardInterrupt:
            os.killpg(p.pid, 9)
            p.wait()
            raise
        if timed_out:
            os.killpg(p.pid, 9)
            p.wait()
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        try:
            info = json.loads(Path(result.name).read_text())
        except (OSError, ValueError):
            info = {"maxrss_kib": 0, "peak_anon_kib": 0}
    if timed_out:
        stderr += f"\n(killed by run_bench.py after {timeout} s)"
    return {
        "rc": p.returncode, "stdout": stdout, "stderr": stderr, "wall": wall,
        "maxrss_kib": info["maxrss_kib"], "peak_anon_kib": info["peak_anon_kib"],
    }


def input_checksum(path, block=64 * MiB):
    """Read the raw input once (this also warms the page cache) and return the sum of all
    uint16 values as a wrapping uint64."""
    import numpy as np
    total = np.uint64(0)
    buf = bytearray(block)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f, np.errstate(over="ignore"):
        while True:
            n = f.readinto(view)
            if not n:
                break
            total += np.frombuffer(view[:n], dtype="<u2").sum(dtype=np.uint64)
    return int(total)


# ----------------------------------------------------------------------------- the run

class Bench:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.rows = {}  # (layout, tool, op) -> row
        self.floor_supported = None
        self.versions = {}
        self.step = 0
        self.steps_total = 0

    def fail(self, msg):
        self.failures.append(msg)
        print(f"FAIL: {msg}", file=sys.stderr, flush=True)

    def record(self, layout, tool, op, res, child, extra=None):
        key = (layout, tool, op)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = {"layout": layout, "tool": tool, "op": op, "runs": [],
                                    "seconds": None, "peak_rss_mib": 0.0, "peak_anon_mib": 0.0}
        run = {"seconds": res["seconds"], "peak_rss_mib": child["maxrss_kib"] / 1024,
               "peak_anon_mib": child["peak_anon_kib"] / 1024, "wall_seconds": child["wall"]}
        if extra:
            run.update(extra)
        row["runs"].append(run)
        row["seconds"] = min(r["seconds"] for r in row["runs"])  # best of N
        row["peak_rss_mib"] = max(row["peak_rss_mib"], run["peak_rss_mib"])  # worst of N
        row["peak_anon_mib"] = max(row["peak_anon_mib"], run["peak_anon_mib"])
        row["mb_per_s"] = self.nbytes / row["seconds"] / MB if row["seconds"] > 0 else None
        if extra:
            row.update(extra)
        return row

    def progress(self, what, child, res):
        self.step += 1
        if res is not None:
            msg = f"{res['seconds']:8.3f} s  {self.nbytes / res['seconds'] / MB:8.1f} MB/s" if res["seconds"] > 0 else ""
            msg += f"  rss {child['maxrss_kib'] / 1024:7.1f} MiB  anon {child['peak_anon_kib'] / 1024:7.1f} MiB"
        else:
            msg = "failed"
        print(f"[{self.step}/{self.steps_total}] {what:<48} {msg}", file=sys.stderr, flush=True)

    def command(self, tool, op, layout, out):
        a = self.args
        shape = ",".join(map(str, self.shape))
        jobs = ["--jobs", str(a.jobs)]
        if tool == "tessera":
            base = [str(a.tessera_bench)]
        else:
            base = [sys.executable, str(HERE / "peers.py")]
        if op == "write":
            cmd = base + ["write"] + ([] if tool == "tessera" else ["--tool", tool]) + \
                  ["--raw", str(self.raw), "--shape", shape, "--layout", layout, "--out", str(out)] + jobs
        else:
            cmd = base + ["read"] + ([] if tool == "tessera" else ["--tool", tool]) + ["--out", str(out)] + jobs
        return cmd

    def run_step(self, what, cmd, want_tool, want_op):
        if self.args.sync:
            os.sync()  # earlier steps' dirty pages must not be flushed on this step's clock
        child = run_child(cmd, self.args.timeout)
        res = last_json_line(child["stdout"])
        problem = None
        if child["rc"] != 0:
            problem = f"exit status {child['rc']}"
        elif res is None:
            problem = "no JSON line on stdout"
        elif res.get("tool") != want_tool or res.get("op") != want_op:
            problem = f"unexpected JSON line {res}"
        elif not isinstance(res.get("seconds"), (int, float)) or res["seconds"] <= 0:
            problem = f"bad seconds in {res}"
        elif res.get("bytes") != self.nbytes:
            problem = f"reported {res.get('bytes')} bytes, the input has {self.nbytes}"
        if problem:
            tail = (child["stderr"].strip() or child["stdout"].strip())[-2000:]
            self.progress(what, child, None)
            return child, None, f"{what}: {problem}\n  command: {' '.join(cmd)}\n  output: {tail}"
        self.progress(what, child, res)
        if res.get("version"):
            self.versions[want_tool] = res["version"]
        return child, res, None

    def run_floor(self, layout):
        cname = FLOOR_CNAME[layout]
        cmd = [str(self.args.tessera_bench), "floor", "--raw", str(self.raw),
               "--shape", ",".join(map(str, self.shape)), "--cname", cname, "--jobs", str(self.args.jobs)]
        what = f"{layout} floor ({cname})"
        if self.floor_supported is False:
            return
        if self.args.sync:
            os.sync()
        child = run_child(cmd, self.args.timeout)
        if child["rc"] != 0 and "usage" in (child["stderr"] + child["stdout"]).lower():
            self.floor_supported = False
            self.step += 1
            print(f"[{self.step}/{self.steps_total}] {what:<48} not supported by this tessera-bench; "
                  "no floor rows", file=sys.stderr, flush=True)
            return
        self.floor_supported = True
        res = last_json_line(child["stdout"])
        if child["rc"] != 0 or res is None or res.get("tool") != "floor" or not res.get("seconds"):
            self.progress(what, child, None)
            self.fail(f"{what}: exit status {child['rc']}: {(child['stderr'] or child['stdout']).strip()[-2000:]}")
            return
        if res.get("bytes") != self.nbytes:
            self.fail(f"{what}: reported {res.get('bytes')} bytes, the input has {self.nbytes}")
        self.progress(what, child, res)
        self.record(layout, "floor", "compress", res, child, {"cname": cname})

    def run_tool(self, layout, tool, rep):
        out = self.workdir / f"{layout}-{tool}-{rep}.zarr"
        # write
        child, res, problem = self.run_step(f"{layout} {tool} write", self.command(tool, "write", layout, out),
                                            tool, "write")
        if problem:
            self.fail(problem)
            shutil.rmtree(out, ignore_errors=True)
            return
        objects, size = count_objects(out)
        got = normalised_metadata(out)
        want = expected_metadata(layout, self.shape)
        diffs = ["no zarr.json / .zarray written"] if got is None else layout_differences(got, want)
        extra = {"objects": objects, "out_bytes": size, "layout_ok": not diffs}
        if diffs:
            self.fail(f"{layout} {tool} wrote a different layout than requested:\n    " + "\n    ".join(diffs))
            extra["layout_differences"] = diffs
        self.record(layout, tool, "write", res, child, extra)
        # read
        child, res, problem = self.run_step(f"{layout} {tool} read", self.command(tool, "read", layout, out),
                                            tool, "read")
        if problem:
            self.fail(problem)
        else:
            checksum = res.get("checksum")
            ok = checksum == self.checksum
            if not ok:
                self.fail(f"{layout} {tool} read checksum {checksum} != input checksum {self.checksum}")
            self.record(layout, tool, "read", res, child, {"checksum": checksum, "checksum_ok": ok,
                                                           "objects": objects, "out_bytes": size})
        if not self.args.keep:
            shutil.rmtree(out, ignore_errors=True)

    def run(self):
        a = self.args
        self.shape = a.shape
        self.nbytes = a.shape[0] * a.shape[1] * a.shape[2] * 2
        t0 = time.monotonic()
        self.raw = make_input.ensure_input(self.shape)
        print(f"input: {self.raw} ({self.nbytes / MiB:.0f} MiB); warming page cache and computing checksum ...",
              file=sys.stderr, flush=True)
        self.checksum = input_checksum(self.raw)
        print(f"input checksum: {self.checksum}", file=sys.stderr, flush=True)

        do_floor = "tessera" in a.tools and not a.no_floor
        per_layout = 2 * len(a.tools) + (1 if do_floor else 0)
        self.steps_total = a.repeat * len(a.layouts) * per_layout
        self.workdir = Path(tempfile.mkdtemp(prefix="run-", dir=self.raw.parent))
        try:
            for rep in range(a.repeat):
                for layout in a.layouts:
                    if do_floor:
                        self.run_floor(layout)
                    for tool in a.tools:
                        self.run_tool(layout, tool, rep)
        finally:
            if a.keep:
                print(f"outputs kept in {self.workdir}", file=sys.stderr)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)
        self.runtime = time.monotonic() - t0

    # ------------------------------------------------------------------------- reporting

    def ratios(self):
        out = []
        for layout in self.args.layouts:
            for op in ("write", "read"):
                t = self.rows.get((layout, "tessera", op))
                if not t or not t.get("mb_per_s"):
                    continue
                for peer in PEERS:
                    p = self.rows.get((layout, peer, op))
                    if p and p.get("mb_per_s"):
                        out.append({"layout": layout, "op": op, "vs": peer,
                                    "ratio": t["mb_per_s"] / p["mb_per_s"]})
                if op == "write":
                    f = self.rows.get((layout, "floor", "compress"))
                    if f and f.get("mb_per_s"):
                        out.append({"layout": layout, "op": op, "vs": f"floor ({f['cname']})",
                                    "ratio": t["mb_per_s"] / f["mb_per_s"]})
        return out

    def table(self):
        a = self.args
        lines = []
        shape = "x".join(map(str, self.shape))
        lines.append(f"Tessera benchmark: {shape} uint16 ({self.nbytes / MiB:.0f} MiB), jobs={a.jobs}, "
                     f"best of {a.repeat}, {os.cpu_count()} CPUs, tessera {self.git or '?'}")
        lines.append("MB/s = input bytes / seconds, MB = 10^6 B; RSS in MiB (2^20 B); "
                     "peak RSS = ru_maxrss (includes mapped input pages), anon = sampled RssAnon")
        hdr = ("layout", "tool", "op", "seconds", "MB/s", "peak RSS", "anon", "objects", "bytes", "check")
        rows = []
        order = ["floor"] + list(ALL_TOOLS)
        for layout in a.layouts:
            for tool in order:
                for op in ("compress", "write", "read"):
                    r = self.rows.get((layout, tool, op))
                    if not r:
                        continue
                    check = ""
                    if op == "read":
                        check = "ok" if r.get("checksum_ok") else "FAIL"
                    elif op == "write":
                        check = "layout ok" if r.get("layout_ok") else "LAYOUT FAIL"
                    name = f"floor-{r['cname']}" if tool == "floor" else tool
                    rows.append((layout, name, op, f"{r['seconds']:.3f}", f"{r['mb_per_s']:.1f}",
                                 f"{r['peak_rss_mib']:.0f}", f"{r['peak_anon_mib']:.0f}",
                                 str(r.get("objects", "")) if op == "write" else "",
                                 str(r.get("out_bytes", "")) if op == "write" else "", check))
        right = {3, 4, 5, 6, 7, 8}
        lines += format_table(hdr, rows, right)
        rat = self.ratios()
        if rat:
            lines.append("")
            lines.append("Ratios: tessera MB/s / other MB/s (> 1: tessera faster)")
            for layout in a.layouts:
                for op in ("write", "read"):
                    parts = [f"vs {x['vs']} {x['ratio']:.2f}x" for x in rat if x["layout"] == layout and x["op"] == op]
                    if parts:
                        lines.append(f"  {layout:<22} {op:<5}  " + "   ".join(parts))
        if self.floor_supported is False:
            lines.append("(no floor rows: this tessera-bench has no 'floor' mode)")
        lines.append(f"input checksum {self.checksum}; total runtime {self.runtime:.1f} s")
        return "\n".join(lines)

    def write_json(self, path):
        a = self.args
        doc = {
            **run_header(self.git),
            "tessera_bench": str(a.tessera_bench),
            "versions": self.versions,
            "input": {"path": str(self.raw), "shape": list(self.shape), "dtype": "uint16", "bytes": self.nbytes,
                      "checksum": self.checksum},
            "jobs": a.jobs, "repeat": a.repeat, "layouts": list(a.layouts), "tools": list(a.tools),
            "units": {"mb_per_s": "input bytes / seconds / 1e6", "rss": "MiB (2^20 bytes)",
                      "seconds": "best of repeat, as measured inside the child"},
            "floor_supported": self.floor_supported,
            "results": list(self.rows.values()),
            "ratios": self.ratios(),
            "failures": self.failures,
            "ok": not self.failures,
            "runtime_seconds": self.runtime,
        }
        write_json(path, doc)


def convert_argv(args):
    """The arguments of Benchmarks/convert_bench.py for the `convert` section, from ours."""
    argv = []
    if args.small:
        argv.append("--small")
    elif args.shape_given:
        argv += ["--shape", ",".join(map(str, args.shape))]
    argv += ["--repeat", str(args.repeat), "--jobs", str(args.jobs), "--timeout", str(args.timeout),
             "--tessera", str(args.tessera), "--tessera-bench", str(args.tessera_bench)]
    if args.convert_tools:
        argv += ["--tools", ",".join(args.convert_tools)]
    if args.convert_variants:
        argv += ["--variants", ",".join(args.convert_variants)]
    for flag, on in (("--memory-check", args.memory_check), ("--no-floor", args.no_floor),
                     ("--no-sync", not args.sync), ("--keep", args.keep)):
        if on:
            argv.append(flag)
    return argv


def s3_argv(args):
    """The arguments of Benchmarks/s3_bench.py for the `s3` section, from ours."""
    argv = []
    if args.small:
        argv.append("--small")  # s3_bench's own small shape (64x512x512)
    elif args.shape_given:
        argv += ["--shape", ",".join(map(str, args.shape))]
    argv += ["--repeat", str(args.repeat), "--jobs", str(args.jobs), "--timeout", str(args.timeout),
             "--tessera", str(args.tessera), "--tools", ",".join(args.tools)]
    if not args.sync:
        argv.append("--no-sync")
    return argv


def gateway_argv(args):
    """The arguments of Benchmarks/gateway_bench.py for the `gateway` section, from ours."""
    argv = ["--tessera", str(args.tessera)]
    if args.small:
        argv.append("--quick")  # 3 s runs, 1 s warm-up
    if args.gateway_duration:
        argv += ["--duration", str(args.gateway_duration)]
    if args.gateway_connections:
        argv += ["--connections", str(args.gateway_connections)]
    argv += ["--repeat", str(args.repeat)]
    if args.keep:
        argv.append("--keep")
    return argv


def main(argv=None):
    import convert_bench
    import gateway_bench
    import gateway_soak
    import s3_bench
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", type=csv_choice(ALL_SECTIONS), default=ALL_SECTIONS,
                    help="comma-separated, default: io,convert,s3,gateway. io = this file's write/read of one array; "
                         "convert = Benchmarks/convert_bench.py (tessera convert vs ngff-zarr, tensorstore, ...); "
                         "s3 = Benchmarks/s3_bench.py (the same array written to a local S3 server); "
                         "gateway = Benchmarks/gateway_bench.py (tessera serve vs nginx under wrk); "
                         "soak = Benchmarks/gateway_soak.py (tessera serve under a connection flood at low descriptor limits)")
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--small", action="store_true",
                      help="quick smoke run on %s instead of the 1 GiB input" % "x".join(map(str, SMALL_SHAPE)))
    size.add_argument("--shape", type=make_input.parse_shape, help="input shape Z,Y,X (default 128,2048,2048)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per step; the best time is kept (default 1)")
    ap.add_argument("--layouts", type=csv_choice(ALL_LAYOUTS), default=ALL_LAYOUTS,
                    help="io: comma-separated, default: " + ",".join(ALL_LAYOUTS))
    ap.add_argument("--tools", type=csv_choice(ALL_TOOLS), default=ALL_TOOLS,
                    help="io and s3: comma-separated, default: " + ",".join(ALL_TOOLS))
    ap.add_argument("--convert-tools", type=csv_choice(convert_bench.ALL_TOOLS), default=None,
                    help="convert: comma-separated, default: " + ",".join(convert_bench.ALL_TOOLS))
    ap.add_argument("--convert-variants", type=csv_choice(tuple(convert_bench.VARIANTS)), default=None,
                    help="convert: comma-separated, default: " + ",".join(convert_bench.DEFAULT_VARIANTS))
    ap.add_argument("--memory-check", action="store_true",
                    help="convert: also convert a 4 GiB BigTIFF with tessera and require peak RSS < 1 GiB")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="threads per tool (default: os.cpu_count())")
    ap.add_argument("--tessera-bench", type=Path, default=REPO / ".build" / "release" / "tessera-bench",
                    help="path of the tessera-bench binary (default <repo>/.build/release/tessera-bench)")
    ap.add_argument("--tessera", type=Path, default=REPO / ".build" / "release" / "tessera",
                    help="convert, s3, gateway: path of the tessera binary (default <repo>/.build/release/tessera)")
    ap.add_argument("--gateway-duration", type=int, default=None,
                    help="gateway: seconds per wrk run (default 10; 3 with --small)")
    ap.add_argument("--gateway-connections", type=int, default=None, help="gateway: wrk connections (default 64)")
    ap.add_argument("--no-floor", action="store_true", help="skip the compress-only floor rows")
    ap.add_argument("--json", type=Path, default=HERE / ".cache" / "last-bench.json",
                    help="io: where to write the results (default Benchmarks/.cache/last-bench.json; "
                         "convert writes Benchmarks/.cache/last-convert-bench.json)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a child is killed (default 1800)")
    ap.add_argument("--no-sync", dest="sync", action="store_false",
                    help="do not sync(2) before each step (by default dirty pages are flushed off the clock)")
    ap.add_argument("--keep", action="store_true", help="keep the output folders (their path is printed)")
    args = ap.parse_args(argv)
    args.shape_given = args.shape is not None
    args.shape = SMALL_SHAPE if args.small else (args.shape or make_input.DEFAULT_SHAPE)
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    if args.jobs < 1:
        ap.error("--jobs must be >= 1")
    args.tessera_bench = args.tessera_bench.resolve()
    args.tessera = args.tessera.absolute()
    if "io" in args.sections and "tessera" in args.tools and not os.access(args.tessera_bench, os.X_OK):
        ap.error(f"{args.tessera_bench} is missing; build it with "
                 f"`swift build -c release --product tessera-bench` (or `make release`), or pass --tessera-bench")

    rc = 0
    if "io" in args.sections:
        rc = run_section(Bench(args), args.json)
        if rc == 130:
            return rc
    if "convert" in args.sections:
        if "io" in args.sections:
            print("\n")
        sys.stdout.flush()
        rc = max(rc, convert_bench.main(convert_argv(args)))
    if "s3" in args.sections:
        if "io" in args.sections or "convert" in args.sections:
            print("\n")
        sys.stdout.flush()
        rc = max(rc, s3_bench.main(s3_argv(args)))
        if rc == 130:
            return rc
    if "gateway" in args.sections:
        if any(s in args.sections for s in ("io", "convert", "s3")):
            print("\n")
        sys.stdout.flush()
        rc = max(rc, gateway_bench.main(gateway_argv(args)))
        if rc == 130:
            return rc
    if "soak" in args.sections:
        if any(s in args.sections for s in ("io", "convert", "s3", "gateway")):
            print("\n")
        sys.stdout.flush()
        soak = ["--tessera", str(args.tessera)]
        if args.small:
            soak += ["--duration", "20", "--idle", "1000", "--slow", "100"]
        rc = max(rc, gateway_soak.main(soak))
    return rc


if __name__ == "__main__":
    sys.exit(main())
