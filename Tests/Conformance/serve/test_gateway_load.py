"""Load: 256 concurrent connections for 60 s (wrk, from Debian) against a mix of whole
64 KiB chunk GETs, inner-chunk ranges in shards and shard-index suffix ranges. Every
answer must be the right status with the right body length, wrk must see no socket
errors, and the gateway's RSS must stay flat after warm-up (no per-request leak).

Correctness under load, not speed: the numbers printed are for the log only
(`make bench` measures speed against nginx)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from gateway_server import GatewayServer

DURATION = int(os.environ.get("TESSERA_LOAD_SECONDS", "60"))
CONNECTIONS = 256
CHUNK = 65536
SHARD = 2 << 20
RANGE = 4096
SUFFIX = 1040

LUA = r"""
local paths = {}
for i = 0, 199 do paths[#paths + 1] = string.format("/load/chunks/%d/%d", math.floor(i / 20), i % 20) end
local n = 0
local bad = 0
request = function()
  n = n + 1
  local kind = n % 3
  if kind == 0 then
    return wrk.format("GET", paths[(n % #paths) + 1])
  elseif kind == 1 then
    local start = ((n * 7919) % math.floor(@SHARD@ / @RANGE@)) * @RANGE@
    return wrk.format("GET", string.format("/load/shards/%d", n % 10), {["Range"] = string.format("bytes=%d-%d", start, start + @RANGE@ - 1)})
  else
    return wrk.format("GET", string.format("/load/shards/%d", n % 10), {["Range"] = "bytes=-@SUFFIX@"})
  end
end
response = function(status, headers, body)
  local len = #body
  if not ((status == 200 and len == @CHUNK@) or (status == 206 and (len == @RANGE@ or len == @SUFFIX@))) then
    bad = bad + 1
    if bad < 5 then io.stderr:write(string.format("BAD status=%d len=%d\n", status, len)) end
  end
end
"""
for _k, _v in {"@SHARD@": SHARD, "@RANGE@": RANGE, "@SUFFIX@": SUFFIX, "@CHUNK@": CHUNK}.items():
    LUA = LUA.replace(_k, str(_v))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp("load")
    rng = __import__("random").Random(7)
    for i in range(200):
        d = base / "chunks" / str(i // 20)
        d.mkdir(parents=True, exist_ok=True)
        (d / str(i % 20)).write_bytes(rng.randbytes(CHUNK))
    (base / "shards").mkdir()
    for i in range(10):
        (base / "shards" / str(i)).write_bytes(rng.randbytes(SHARD))
    return base


def test_256_connections_mixed_load(tessera_bin, data, tmp_path):
    wrk = shutil.which("wrk")
    assert wrk, "wrk is missing (Debian package wrk; scripts/setup.sh installs it)"
    script = tmp_path / "mix.lua"
    script.write_text(LUA)
    with GatewayServer(tessera_bin, "--root", f"load={data}", "--access-log", "/dev/null") as srv:
        samples = []
        stop = threading.Event()

        def sample():
            t0 = time.time()
            while not stop.wait(2):
                samples.append((time.time() - t0, srv.rss_kib()))

        sampler = threading.Thread(target=sample, daemon=True)
        start_rss = srv.rss_kib()
        sampler.start()
        proc = subprocess.run([wrk, "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--timeout", "10s", "-s", str(script), srv.url],
                              capture_output=True, text=True, timeout=DURATION + 60)
        stop.set()
        sampler.join()
        assert srv.proc.poll() is None, "the gateway died under load"
        out = proc.stdout + proc.stderr
        print(out)
        assert proc.returncode == 0 and "error" not in proc.stderr.lower(), out
        total = int(re.search(r"(\d+) requests in", out).group(1))
        assert total > 1000, out
        assert "Socket errors" not in out, out
        assert "Non-2xx" not in out, out
        assert "BAD status" not in out, out
        # RSS: after a warm-up of a quarter of the run, growth stays within 10 % + 16 MiB.
        warm = [kib for t, kib in samples if t >= DURATION / 4]
        assert len(warm) >= 3, samples
        base_rss, peak = warm[0], max(warm)
        print(f"requests={total} rss start={start_rss} KiB warm={base_rss} KiB peak={peak} KiB samples={samples}")
        assert peak <= base_rss * 1.10 + 16 * 1024, f"RSS grew from {base_rss} KiB to {peak} KiB under steady load"
        assert srv.get("/healthz")[0] == 200
