"""`tessera serve` as the gateway tests (and the gateway benchmarks) run it: started on
127.0.0.1 at a free port (`--port 0`, the bound URL read from the banner on stdout), its
JSON access log kept in a temporary file, stopped with SIGTERM and required to exit 0
(graceful shutdown). The log file is removed by `stop()`; its text stays readable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path


class GatewayServer:
    def __init__(self, binary: Path | str, *args: str, env: dict | None = None, startup_timeout: float = 30,
                 preexec_fn=None):
        """`preexec_fn` runs in the child before exec (e.g. to lower its descriptor limit)."""
        self.log_file = tempfile.NamedTemporaryFile(prefix="tessera-serve-", suffix=".log", delete=False)
        self.log_path = Path(self.log_file.name)
        self.final_log: str | None = None  # the log's text once stop() has removed the file
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--port", "0", *map(str, args)],
            stdout=subprocess.PIPE, stderr=self.log_file, stdin=subprocess.DEVNULL, text=True,
            env={**os.environ, **(env or {})}, preexec_fn=preexec_fn,
        )
        self.url = None
        deadline = time.time() + startup_timeout
        while self.url is None:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None or time.time() > deadline:
                    problem = f"tessera serve did not start (exit {self.proc.poll()}): {self.log_text()}"
                    self.stop()
                    raise RuntimeError(problem)
                continue
            if "listening on " in line:
                self.url = line.split("listening on ", 1)[1].strip().rstrip("/")
        self.stdout_rest: list[str] = []

    def log_text(self) -> str:
        if self.final_log is not None:
            return self.final_log
        return self.log_path.read_text(errors="replace")

    def access_log(self) -> list[dict]:
        entries = []
        for line in self.log_text().splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return entries

    def get(self, path: str, headers: dict | None = None, method: str = "GET"):
        """(status, headers, body) without raising on 4xx/5xx."""
        req = urllib.request.Request(self.url + path, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then the exit status; the log file is removed (its text kept) whatever happens."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    raise RuntimeError("tessera serve did not stop within %ss of SIGTERM" % timeout)
        finally:
            self.remove_log()
        return self.proc.returncode

    def remove_log(self) -> None:
        self.log_file.close()
        if self.final_log is None:
            self.final_log = self.log_path.read_text(errors="replace")
            self.log_path.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
