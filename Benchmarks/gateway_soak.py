#!/usr/bin/env python3
"""`make bench` section `soak`: `tessera serve` under a connection flood, at a descriptor limit.

    python Benchmarks/gateway_soak.py [--tessera PATH] [--wrk PATH] [--duration S]
                                      [--limits 4096,256] [--idle N] [--slow N] [--connections N]

For each descriptor limit (RLIMIT_NOFILE, soft and hard, set for the server alone) the
server is started with 20 s header and idle timeouts (so they fire within the run; the
defaults are 60 s and 75 s) and, at the same time for `--duration` seconds (default 60):

  idle      10,000 connections that connect and never send a byte;
  slowloris 500 connections that send one byte of a request head per second (each one the
            server closes is replaced while wrk runs);
  wrk       wrk -t2 -c256 fetching a 64 KiB chunk.

It passes when the server is still up at the end and answers a request; every idle and
slow connection was closed by the server (by a timeout, or to make room); wrk saw no
socket errors and only 200s (at the 256 limit, 256 wrk connections cannot all fit in
256 descriptors: the ones over the cap get 503s, which are counted and reported, not
failed); and the server's RSS, once the clients are gone, is within 10 % of what it was
after a warm-up before the flood. Results go to Benchmarks/.cache/last-gateway-soak.json.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from harness.process import proc_status_kib  # noqa: E402
from harness.report import write_json  # noqa: E402
from harness.servers import GatewayServer  # noqa: E402

JSON_PATH = HERE / ".cache" / "last-gateway-soak.json"


def rss_kib(pid: int) -> int:
    return proc_status_kib(pid, "VmRSS")


def start_server(tessera: str, root: Path, limit: int) -> GatewayServer:
    """`tessera serve` (as the gateway tests start it) under a descriptor limit of `limit`."""
    def apply_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    return GatewayServer(tessera, "--root", f"data={root}", "--access-log", "off",
                         "--header-timeout", "20", "--idle-timeout", "20", "--send-timeout", "20",
                         preexec_fn=apply_limit)


class Crowd:
    """Connections held open by this process: idle ones, and slowloris ones that send a
    byte of a head every second. Counts how many the server closed."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.idle: list[socket.socket] = []
        self.slow: list[socket.socket] = []
        self.slow_sent: dict[int, int] = {}
        self.closed_by_server = {"idle": 0, "slow": 0}
        self.refused = 0
        self.stop = threading.Event()
        # Slow connections the server closes are replaced until then, so 500 trickle all along.
        self.reopen_until = 0.0
        self.head = b"GET /data/chunk HTTP/1.1\r\nHost: soak\r\nX-Slow: " + b"a" * 4096

    def open(self, count: int, into: list, pace: float):
        for _ in range(count):
            if self.stop.is_set():
                return
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect_ex((self.host, self.port))
            except OSError:
                self.refused += 1
                s.close()
                continue
            into.append(s)
            time.sleep(pace)

    def watch(self, seconds: float):
        """Reads whatever the server sends (a 503, or the close) and trickles the slow heads."""
        sel = selectors.DefaultSelector()
        registered = set()
        deadline = time.monotonic() + seconds
        next_trickle = time.monotonic()
        while time.monotonic() < deadline and not self.stop.is_set():
            for kind, group in (("idle", self.idle), ("slow", self.slow)):
                for s in group:
                    if s.fileno() >= 0 and s.fileno() not in registered:
                        sel.register(s, selectors.EVENT_READ, kind)
                        registered.add(s.fileno())
            if time.monotonic() >= next_trickle:
                next_trickle += 1
                for s in self.slow:
                    if s.fileno() < 0:
                        continue
                    sent = self.slow_sent.get(id(s), 0)
                    try:
                        s.send(self.head[sent:sent + 1])
                        self.slow_sent[id(s)] = sent + 1
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        self._closed(sel, s, "slow", registered)
            for key, _ in sel.select(timeout=0.2):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._closed(sel, s, key.data, registered)
        sel.close()

    def _closed(self, sel, s, kind, registered):
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        registered.discard(s.fileno())
        s.close()
        self.closed_by_server[kind] += 1
        if kind == "slow" and time.monotonic() < self.reopen_until:
            self.slow = [x for x in self.slow if x.fileno() >= 0]
            self.open(1, self.slow, 0)

    def still_open(self) -> dict:
        return {"idle": sum(1 for s in self.idle if s.fileno() >= 0), "slow": sum(1 for s in self.slow if s.fileno() >= 0)}

    def close_all(self):
        for s in self.idle + self.slow:
            if s.fileno() >= 0:
                s.close()


def parse_wrk(text: str) -> dict:
    out = {"requests": 0, "non2xx": 0, "socket_errors": 0}
    m = re.search(r"(\d+) requests in", text)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["socket_errors"] = sum(int(g) for g in m.groups())
        out["socket_error_detail"] = m.group(0)
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["rps"] = float(m.group(1))
    return out


def soak(args, root: Path, limit: int) -> dict:
    server = start_server(args.tessera, root, limit)
    proc, url = server.proc, server.url
    host, port = url.removeprefix("http://").split(":")
    result = {"limit": limit, "failures": []}
    try:
        subprocess.run([args.wrk, "-t2", "-c32", "-d3s", url + "/data/chunk"], capture_output=True, text=True)
        time.sleep(1)
        result["rss_start_kib"] = rss_kib(proc.pid)
        crowd = Crowd(host, int(port))
        watcher = threading.Thread(target=crowd.watch, args=(args.duration + 30,), daemon=True)
        openers = [threading.Thread(target=crowd.open, args=(args.idle, crowd.idle, args.duration / 2 / max(1, args.idle)), daemon=True),
                   threading.Thread(target=crowd.open, args=(args.slow, crowd.slow, 0.002), daemon=True)]
        for t in openers:
            t.start()
        watcher.start()
        crowd.reopen_until = time.monotonic() + args.duration
        time.sleep(2)
        wrk = subprocess.run([args.wrk, "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
                              url + "/data/chunk"], capture_output=True, text=True)
        result["wrk"] = parse_wrk(wrk.stdout)
        peak = rss_kib(proc.pid)
        # Let the timeouts (20 s) catch up with connections opened late in the run.
        settle = time.monotonic() + 30
        while time.monotonic() < settle and any(crowd.still_open().values()):
            time.sleep(1)
        crowd.stop.set()
        watcher.join(5)
        result["still_open"] = crowd.still_open()
        result["closed_by_server"] = crowd.closed_by_server
        result["client_connect_failures"] = crowd.refused
        crowd.close_all()
        time.sleep(5)
        result["rss_peak_kib"] = max(peak, rss_kib(proc.pid))
        result["rss_end_kib"] = rss_kib(proc.pid)
        alive = proc.poll() is None
        result["alive"] = alive
        if alive:
            with socket.create_connection((host, int(port)), timeout=10) as s:
                s.sendall(b"GET /data/chunk HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
                result["answers_after"] = s.recv(64).split(b"\r\n", 1)[0].decode(errors="replace")
        # Verdicts.
        if not alive:
            result["failures"].append(f"limit {limit}: the server died: {server.log_text()[-500:]}")
        elif not result.get("answers_after", "").startswith("HTTP/1.1 200"):
            result["failures"].append(f"limit {limit}: no 200 after the soak: {result.get('answers_after')}")
        if any(result["still_open"].values()):
            result["failures"].append(f"limit {limit}: connections never closed: {result['still_open']}")
        w = result["wrk"]
        if w["socket_errors"] or (w["non2xx"] and connections_fit(limit, args.connections)):
            result["failures"].append(f"limit {limit}: wrk saw {w.get('socket_error_detail', '')} and {w['non2xx']} non-2xx")
        if result["rss_end_kib"] > result["rss_start_kib"] * 1.10:
            result["failures"].append(f"limit {limit}: RSS {result['rss_start_kib']} KiB -> {result['rss_end_kib']} KiB (> +10 %)")
    finally:
        try:
            server.stop(timeout=20)
        except RuntimeError:
            pass  # killed after the timeout, as before
    return result


def connections_fit(limit: int, connections: int) -> bool:
    """Whether wrk's connections fit beside the slowloris ones in the server's descriptors
    with room to spare; at a limit of 256 they cannot (the server keeps about 80 connections
    there), and the refusals (503 with Retry-After) are the cap working."""
    return limit >= 1024


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tessera", default=str(REPO / ".build" / "release" / "tessera"))
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--limits", default="4096,256")
    ap.add_argument("--idle", type=int, default=10_000)
    ap.add_argument("--slow", type=int, default=500)
    ap.add_argument("--connections", type=int, default=256)
    ap.add_argument("--json", type=Path, default=JSON_PATH)
    args = ap.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.idle + args.slow + args.connections + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
    with tempfile.TemporaryDirectory(prefix="tessera-soak-") as tmp:
        root = Path(tmp)
        (root / "chunk").write_bytes(os.urandom(64 << 10))
        results = [soak(args, root, int(limit)) for limit in args.limits.split(",")]
    failures = [f for r in results for f in r["failures"]]
    print(f"{'limit':>6} {'alive':>5} {'wrk req':>9} {'req/s':>9} {'non-2xx':>8} {'sock err':>8} "
          f"{'idle closed':>11} {'slow closed':>11} {'RSS start':>10} {'peak':>8} {'end':>8} MiB")
    for r in results:
        w = r.get("wrk", {})
        print(f"{r['limit']:>6} {str(r.get('alive')):>5} {w.get('requests', 0):>9} {w.get('rps', 0):>9.0f} "
              f"{w.get('non2xx', 0):>8} {w.get('socket_errors', 0):>8} {r.get('closed_by_server', {}).get('idle', 0):>11} "
              f"{r.get('closed_by_server', {}).get('slow', 0):>11} {r.get('rss_start_kib', 0) / 1024:>10.1f} "
              f"{r.get('rss_peak_kib', 0) / 1024:>8.1f} {r.get('rss_end_kib', 0) / 1024:>8.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.json, {"results": results, "args": {k: str(v) for k, v in vars(args).items()}})
    print(f"results: {args.json}")
    if failures:
        print("FAIL:\n  - " + "\n  - ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
