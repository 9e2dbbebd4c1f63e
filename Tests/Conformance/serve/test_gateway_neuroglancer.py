"""A browser viewer displays an image served by `tessera serve`.

The image is converted to NGFF 0.5 (Zarr v3, every level sharded: 256x256 shards of
64x64 inner chunks), served by the gateway, and opened in neuroglancer - the client
the PyPI `neuroglancer` package ships, served from a small http.server of its own
on another 127.0.0.1 port, so every data request is a cross-origin request to the
gateway - running in Debian's headless Chromium (WebGL through SwiftShader), driven
over the Chrome DevTools protocol (tornado's websocket client; tornado comes with
neuroglancer). The layer source is `zarr3://http://127.0.0.1:PORT/img/`, the
OME-Zarr 0.5 multiscale group.

The screenshot must show the image: inside the volume's bounding box that
neuroglancer draws, the grey levels are the source pixels through the contrast window
(in the source's orientation, not transposed), and they differ from a control
screenshot whose layer source is a root the gateway does not have. The page itself
must see a cross-origin 206's Content-Range. The gateway's access log must show how
neuroglancer reads shards: a HEAD for the object's size, then the shard index (its
last 16 * 16 + 4 = 260 bytes) as a closed byte range ending at the last byte,
answered 206, then the inner chunks as ranges; no 5xx anywhere. neuroglancer never
sends suffix ranges (`bytes=-N`; its src/kvstore/http/read.ts always does HEAD first,
as a suffix range would force a CORS preflight), so the suffix-range form of the same
index read is checked with a direct request and must return the same bytes.

Nothing here is skipped: a missing chromium or neuroglancer fails the test.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from gateway_server import GatewayServer
from neuroglancer_view import correlation, neuroglancer_client, volume_box

SIZE = 512            # YX of the source image
CHUNKS, SHARDS = 64, 256
INNER_PER_SHARD = (SHARDS // CHUNKS) ** 2
INDEX_BYTES = 16 * INNER_PER_SHARD + 4        # sharding index: (offset, nbytes) u64 pairs + crc32c
WINDOW = (0, 60000)                            # neuroglancer contrast range set in the state
VIEWPORT = (800, 600)
WAIT_S = 30                                    # per page: data loaded and drawn


# ---------------------------------------------------------------------------
# What CI must have
# ---------------------------------------------------------------------------

def _chromium() -> str:
    path = os.environ.get("TESSERA_CHROMIUM") or shutil.which("chromium")
    if not (path and os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("chromium not found: install Debian's `chromium` package (or set TESSERA_CHROMIUM)",
                    pytrace=False)
    return path


def _neuroglancer_client() -> Path:
    try:
        import tornado.websocket  # noqa: F401  (a neuroglancer dependency; the DevTools client)
        from PIL import Image  # noqa: F401  (a neuroglancer dependency; decodes the screenshot)
    except ImportError as exc:
        pytest.fail(f"{exc}: install the PyPI `neuroglancer` package into the venv", pytrace=False)
    return neuroglancer_client()


# ---------------------------------------------------------------------------
# The source image
# ---------------------------------------------------------------------------

def make_image() -> np.ndarray:
    """uint16 YX, asymmetric (so a transposed display would not match): a diagonal
    gradient, a bright square top-left, a bright disc top-right, a dark wide bar
    bottom-right."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    img = (x * 60 + y * 40).astype(np.uint16)              # 0 .. 51100
    img[64:192, 64:192] = 60000
    img[(x - 380) ** 2 + (y - 140) ** 2 < 60 ** 2] = 50000
    img[320:448, 256:480] = 1000
    return img


# ---------------------------------------------------------------------------
# neuroglancer's client over http (its own origin)
# ---------------------------------------------------------------------------

class ClientServer:
    """The neuroglancer client's static files at http://127.0.0.1:PORT/v/<token>/.
    The Python-integration build of the client finds its token in /v/<token>/; its
    calls to the Python server (/events/..., absent here) get 404 and it then just
    shows the state of the URL fragment."""

    def __init__(self, client_dir: Path):
        files = {p.name: p for p in client_dir.iterdir() if p.is_file()}
        types = {".js": "application/javascript", ".wasm": "application/wasm", ".css": "text/css",
                 ".html": "text/html", ".map": "application/json"}

        class Handler(SimpleHTTPRequestHandler):
            def translate_path(self, path):
                parts = urllib.parse.urlsplit(path).path.split("/")
                if len(parts) == 4 and parts[1] == "v" and parts[2]:
                    f = files.get(parts[3] or "index.html")
                    if f is not None:
                        return str(f)
                return str(client_dir / "does-not-exist")

            def guess_type(self, path):
                return types.get(Path(path).suffix, "application/octet-stream")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def viewer_url(self, token: str, state: dict) -> str:
        return f"{self.url}/v/{token}/#!" + urllib.parse.quote(json.dumps(state, separators=(",", ":")), safe="")

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------
# Headless Chromium over the DevTools protocol
# ---------------------------------------------------------------------------

# One word for where the page is: "ready" once the layer's data source has loaded and
# every visible panel has all its chunks drawn (neuroglancer's own screenshot criterion).
PAGE_STATE_JS = """(() => {
  const v = window.viewer;
  if (v === undefined) return "no viewer";
  const ml = v.layerManager.managedLayers[0];
  if (ml === undefined || ml.layer == null) return "no layer";
  const ds = ml.layer.dataSources[0];
  const st = ds === undefined ? undefined : ds.loadState;
  if (st === undefined) return "loading source";
  if (st.error !== undefined) return "error: " + st.error.message;
  return v.display.isReady() ? "ready" : "loading chunks";
})()"""

TWO_FRAMES_JS = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


class Browser:
    def __init__(self, chromium: str, profile: Path):
        profile.mkdir(parents=True, exist_ok=True)
        self.stderr = open(profile.parent / "chromium.stderr", "w+")
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
             f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", "--hide-scrollbars",
             "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-sync", "--disable-background-networking",
             "--disable-component-update", "--mute-audio", "--disable-breakpad", "--disable-crash-reporter",
             f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=self.stderr, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        self.console: list[str] = []
        self.ws = self.loop = None
        try:
            self._connect(profile)
        except BaseException:
            self.close()
            raise

    def _connect(self, profile: Path):
        from tornado.websocket import websocket_connect

        port_file = profile / "DevToolsActivePort"
        deadline = time.time() + 30
        while not (port_file.is_file() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"chromium did not start its DevTools endpoint (exit {self.proc.poll()}):\n"
                            f"{self.stderr_tail()}", pytrace=False)
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t.get("type") == "page"]
        assert pages, "chromium has no page target"
        self.loop = asyncio.new_event_loop()

        async def connect():
            return await websocket_connect(pages[0]["webSocketDebuggerUrl"])

        self.ws = self.loop.run_until_complete(asyncio.wait_for(connect(), 10))
        self.next_id = 0
        self.call("Runtime.enable")
        self.call("Log.enable")
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=VIEWPORT[0], height=VIEWPORT[1],
                  deviceScaleFactor=1, mobile=False)

    def stderr_tail(self) -> str:
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()[-3000:]

    async def _call(self, method: str, params: dict):
        self.next_id += 1
        mid = self.next_id
        await self.ws.write_message(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            raw = await self.ws.read_message()
            if raw is None:
                raise RuntimeError(f"DevTools connection closed during {method}")
            msg = json.loads(raw)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]
            self._event(msg)

    def _event(self, msg: dict):
        m, p = msg.get("method"), msg.get("params", {})
        if m == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append(f"console.{p.get('type')}: {text}")
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.console.append(f"exception: {d.get('exception', {}).get('description', d.get('text'))}")
        elif m == "Log.entryAdded":
            e = p.get("entry", {})
            self.console.append(f"log.{e.get('level')}: {e.get('text')} {e.get('url', '')}")

    def call(self, method: str, timeout: float = 20, **params):
        return self.loop.run_until_complete(asyncio.wait_for(self._call(method, params), timeout))

    def evaluate(self, expr: str, await_promise: bool = False):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def show(self, url: str, want: str, out: Path) -> str:
        """Navigate, wait until PAGE_STATE_JS starts with `want` (twice in a row), take a
        PNG screenshot to `out`; returns the final page state."""
        self.call("Page.navigate", url=url)
        deadline = time.time() + WAIT_S
        state, hits = None, 0
        while hits < 2:
            if time.time() > deadline:
                pytest.fail(f"neuroglancer did not reach {want!r} within {WAIT_S}s (last: {state!r})\n"
                            f"url: {url}\npage messages:\n" + "\n".join(self.console[-30:]), pytrace=False)
            time.sleep(0.25)
            state = self.evaluate(PAGE_STATE_JS)
            hits = hits + 1 if isinstance(state, str) and state.startswith(want) else 0
        self.evaluate(TWO_FRAMES_JS, await_promise=True)
        png = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        out.write_bytes(png)
        return state

    def close(self):
        if self.ws is not None:
            self.ws.close()
            self.ws = None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.loop is not None:
            self.loop.close()
            self.loop = None
        self.stderr.close()


# ---------------------------------------------------------------------------
# Reading the screenshot
# ---------------------------------------------------------------------------

def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(np.int16)


def test_neuroglancer_displays_served_image(tessera_bin, tmp_path):
    t0 = time.time()
    chromium = _chromium()
    client_dir = _neuroglancer_client()
    import tifffile

    img = make_image()
    src = tmp_path / "img.tif"
    tifffile.imwrite(src, img, photometric="minisblack")
    out = tmp_path / "img.ome.zarr"
    proc = subprocess.run([str(tessera_bin), "convert", str(src), str(out), "--ngff", "0.5",
                           "--chunks", str(CHUNKS), "--shards", str(SHARDS)],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"convert failed: {proc.stderr}"
    level0 = json.loads((out / "0" / "zarr.json").read_text())
    assert level0["shape"] == [SIZE, SIZE]
    assert level0["chunk_grid"]["configuration"]["chunk_shape"] == [SHARDS, SHARDS]
    sharding = level0["codecs"][0]
    assert sharding["name"] == "sharding_indexed"
    assert sharding["configuration"]["chunk_shape"] == [CHUNKS, CHUNKS]
    shards0 = sorted(p.relative_to(out).as_posix() for p in (out / "0" / "c").glob("*/*") if p.is_file())
    assert len(shards0) == (SIZE // SHARDS) ** 2, shards0

    gw = GatewayServer(tessera_bin, "--root", f"img={out}")
    try:
        corr = check_in_browser(gw, chromium, client_dir, img, out, shards0, tmp_path)
    finally:
        code = gw.stop()
    assert code == 0, f"tessera serve exited {code} after SIGTERM:\n{gw.log_text()[-2000:]}"
    print(f"neuroglancer test: {time.time() - t0:.1f}s, correlation {corr:.3f}")


def check_in_browser(gw, chromium, client_dir, img, out, shards0, tmp_path) -> float:
    site = ClientServer(client_dir)
    browser = None
    try:
        browser = Browser(chromium, tmp_path / "chromium-profile")

        def state_for(source: str) -> dict:
            return {
                # x across, y down (the numpy orientation); neuroglancer's default shows the
                # first axis (y) across. displayDimensions needs the global dimensions given
                # too (else it is dropped before the source loads): those the OME axes imply.
                "dimensions": {"x": [1, ""], "y": [1, ""]},
                "displayDimensions": ["x", "y"],
                "layers": [{"type": "image", "name": "tessera", "source": source,
                            "shaderControls": {"normalized": {"range": list(WINDOW)}}}],
                "layout": "xy",
                "showAxisLines": False,
                "showScaleBar": False,
            }

        shot = tmp_path / "neuroglancer.png"
        browser.show(site.viewer_url("main", state_for(f"zarr3://{gw.url}/img/")), "ready", shot)
        log = gw.access_log()
        # neuroglancer takes a 206's offset from Content-Range, or silently assumes the
        # one it asked for when a cross-origin page cannot see the header: check it can
        shard_url = f"{gw.url}/img/{shards0[0]}"
        seen = browser.evaluate(
            f"fetch({json.dumps(shard_url)}, {{headers: {{range: 'bytes=0-9'}}, cache: 'no-store'}})"
            ".then(r => r.status + ' ' + r.headers.get('content-range'))", await_promise=True)
        size0 = (out / shards0[0]).stat().st_size
        assert seen == f"206 bytes 0-9/{size0}", f"cross-origin range GET of {shard_url} as the page sees it: {seen}"

        control = tmp_path / "neuroglancer-control.png"
        control_state = browser.show(site.viewer_url("control", state_for(f"zarr3://{gw.url}/nosuchroot/")),
                                     "error", control)
        control_log = gw.access_log()[len(log):]
        print(f"\nneuroglancer screenshot: {shot}\ncontrol screenshot (no such root): {control}")
        print(f"control layer state: {control_state}")
    finally:
        if browser is not None:
            browser.close()
        site.stop()

    # ---- the screenshot shows the image --------------------------------------------
    rgb, ctl = load_rgb(shot), load_rgb(control)
    assert rgb.shape == ctl.shape == (VIEWPORT[1], VIEWPORT[0], 3), (rgb.shape, ctl.shape)
    box = volume_box(rgb)
    assert box is not None, f"no volume bounding box in {shot}"
    top, bottom, left, right = box
    assert bottom - top > 300 and right - left > 300, f"volume drawn too small: {box} in {shot}"
    inner = rgb[top + 3:bottom - 2, left + 3:right - 2]
    gray = inner.mean(axis=2)
    assert gray.std() > 30, f"image panel nearly uniform (std {gray.std():.1f}) in {shot}"
    assert len(np.unique(inner.reshape(-1, 3), axis=0)) > 100, f"too few distinct colours in {shot}"
    # the source, contrast-windowed like the state asks, sampled at the panel's pixels
    h, w = gray.shape
    ys = ((np.arange(h) + 0.5) * SIZE / h).astype(int)
    xs = ((np.arange(w) + 0.5) * SIZE / w).astype(int)
    expected = np.clip((img.astype(float) - WINDOW[0]) / (WINDOW[1] - WINDOW[0]), 0, 1)
    corr = correlation(gray, expected[np.ix_(ys, xs)])
    corr_t = correlation(gray, expected.T[np.ix_(ys, xs)])
    assert corr > 0.95, f"screenshot does not match the image (correlation {corr:.3f}) in {shot}"
    assert corr_t < 0.9, f"image matches transposed too (correlation {corr_t:.3f}) in {shot}"
    # and the grey levels are the windowed pixel values (neuroglancer's default shader is
    # a linear ramp over the range): only resampling at the feature edges may differ
    err = np.abs(gray - 255 * expected[np.ix_(ys, xs)])
    close = float((err <= 8).mean())
    assert close > 0.97 and err.mean() < 6, \
        f"grey levels off: mean error {err.mean():.1f}, {close:.1%} within 8 levels, in {shot}"
    # the control (the source root does not exist) draws no image there
    ctl_inner = ctl[top + 3:bottom - 2, left + 3:right - 2].mean(axis=2)
    assert ctl_inner.std() < 5, f"control panel not uniform (std {ctl_inner.std():.1f}) in {control}"
    assert np.abs(gray - ctl_inner).mean() > 30, f"screenshot hardly differs from the control {control}"

    # ---- how neuroglancer read it through the gateway -------------------------------
    assert log, "gateway logged no request"
    tally: dict = {}
    for e in log:
        tally[f"{e['method']} {e['status']}"] = tally.get(f"{e['method']} {e['status']}", 0) + 1
    print(f"gateway requests while showing the image: {tally}")
    bad = [e for e in log + control_log if e.get("status", 0) >= 500]
    assert not bad, f"5xx from the gateway: {bad}"
    gets = [e for e in log if e["method"] == "GET"]
    for key in ["img/zarr.json"] + [f"img/{k}/zarr.json" for k in range(4)]:
        assert any(e["path"] == "/" + key and e["status"] == 200 for e in gets), f"no 200 GET of {key}: {log}"
    for key in shards0:
        path = f"/img/{key}"
        size = (out / key).stat().st_size
        heads = [e for e in log if e["path"] == path and e["method"] == "HEAD"]
        assert heads and all(e["status"] == 200 for e in heads), f"HEAD {path}: {heads}"
        reads = [e for e in gets if e["path"] == path]
        index = [e for e in reads if e.get("range") == f"bytes={size - INDEX_BYTES}-{size - 1}"]
        assert index, f"no shard-index read of {path} (size {size}): {reads}"
        assert all(e["status"] == 206 and e["bytes"] == INDEX_BYTES for e in index), index
        chunk_reads = [e for e in reads if e not in index]
        assert chunk_reads and all(e["status"] == 206 and e.get("range", "").startswith("bytes=")
                                   for e in chunk_reads), f"inner-chunk reads of {path}: {reads}"
        for e in chunk_reads:
            a, b = map(int, e["range"][len("bytes="):].split("-"))
            assert e["bytes"] == b - a + 1, e
    assert not [e for e in log if e["method"] == "GET" and e["status"] >= 400], \
        f"failed GETs while showing the image: {[e for e in log if e['status'] >= 400]}"
    assert any(e["path"] == "/nosuchroot/zarr.json" and e["status"] == 404 for e in control_log), control_log

    # the suffix-range form of the index read (which neuroglancer does not use) agrees
    key = shards0[0]
    blob = (out / key).read_bytes()
    status, headers, body = gw.get(f"/img/{key}", headers={"Range": f"bytes=-{INDEX_BYTES}"})
    assert status == 206 and body == blob[-INDEX_BYTES:], (status, headers, len(body))
    assert headers.get("Content-Range") == f"bytes {len(blob) - INDEX_BYTES}-{len(blob) - 1}/{len(blob)}", headers
    status, headers, _ = gw.get(f"/img/{key}", method="HEAD")
    assert status == 200 and headers.get("Content-Length") == str(len(blob)), (status, headers)
    return corr
