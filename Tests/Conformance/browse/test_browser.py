"""A real browser on the browse page (issue 20, must show 3).

Debian's headless Chromium, driven by Selenium through Debian's chromedriver (never a
downloaded driver), against `tessera serve --browse --viewer-assets … --docs-assets …`:
1. `/` lists the four images; every thumbnail has loaded (naturalWidth > 0);
2. typing "alpha" into the search box and submitting leaves one card;
3. its card opens the dataset page, whose metadata table shows the shape;
4. "Open in neuroglancer" opens the self-hosted client (`/viewer/v/tessera/`), which
   loads the image from the gateway; once neuroglancer says every chunk is drawn, the
   screenshot inside the volume's yellow bounding box must show the image: not blank
   (std > 30), and matching `/render` of the same image with the link's contrast range,
   sampled at the panel's pixels: correlation > 0.95, not transposed (< 0.9), mean grey
   error < 8 levels with > 95% of pixels within 12 (neuroglancer resamples at edges);
   the area outside the box is background (its std < 5) and differs from the image;
5. `/docs/` shows Swagger UI with the spec's title.
Every resource every page loaded came from the gateway (no CDN), the gateway
answered no 5xx, and the browser's console reports no Content-Security-Policy violation on
any page (each page is served under its site's policy, `PageSecurity`). Nothing is skipped: a missing chromium, chromedriver or Selenium fails.
Waits poll for readiness with generous bounds (2 loaded cores); Chromium and the driver
are stopped whatever happens.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from browse_site import SIZE, alpha_image, make_data, neuroglancer_state, site_flags
from gateway_server import GatewayServer
from neuroglancer_view import correlation, volume_box

VIEWPORT = (800, 600)
PAGE_WAIT = 60          # a page and its thumbnails
VIEWER_WAIT = 180       # neuroglancer: WebGL through SwiftShader on loaded cores

PAGE_STATE_JS = """return (() => {
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

RESOURCES_JS = "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])"


def _tools():
    try:
        from selenium import webdriver  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"{exc}: install the PyPI `selenium` package (scripts/python-requirements.txt)", pytrace=False)
    chromium = os.environ.get("TESSERA_CHROMIUM") or shutil.which("chromium")
    driver = os.environ.get("TESSERA_CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("chromium and chromedriver are needed: apt-get install chromium chromium-driver "
                    "(scripts/setup.sh)", pytrace=False)
    return chromium, driver


class Browser:
    """Selenium's Chrome with Debian's binaries; `quit()` always ends both processes."""

    def __init__(self, chromium: str, driver: str, profile: Path):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in ["--headless=new", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                    "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update"]:
            options.add_argument(arg)
        # the console (CSP violations are reported there), read with get_log("browser")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.service = Service(driver, log_output=str(profile.parent / "chromedriver.log"))
        self.driver = webdriver.Chrome(service=self.service, options=options)
        self.driver.set_page_load_timeout(PAGE_WAIT)
        # exact CSS viewport (--window-size counts the window's frame in new headless)
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False})
        self.resources: list[str] = []
        self.console: list[dict] = []

    def wait(self, condition, timeout: float, what: str):
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.25).until(lambda d: condition(d))
        except Exception as exc:
            console = [e.get("message", "") for e in self.driver.get_log("browser")][-10:]
            pytest.fail(f"timed out after {timeout}s waiting for {what} ({type(exc).__name__}) at {self.driver.current_url}; "
                        f"console: {console}")

    def note_resources(self):
        self.resources += self.driver.execute_script(RESOURCES_JS)
        self.console += self.driver.get_log("browser")

    def screenshot(self, path: Path) -> np.ndarray:
        from PIL import Image

        png = self.driver.get_screenshot_as_png()
        path.write_bytes(png)
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)

    def quit(self):
        try:
            self.driver.quit()
        finally:
            self.service.stop()


@pytest.fixture(scope="module")
def served(tessera_bin, tmp_path_factory):
    root = make_data(tessera_bin, tmp_path_factory.mktemp("browser-data"))
    gw = GatewayServer(tessera_bin, "--root", f"d={root}", *site_flags())
    try:
        yield gw
    finally:
        code = gw.stop()
        assert code == 0, f"tessera serve exited {code}:\n{gw.log_text()[-2000:]}"


def test_browse_search_open_neuroglancer(served, tmp_path):
    from selenium.webdriver.common.by import By

    gw = served
    chromium, driver = _tools()
    t0 = time.time()
    browser = Browser(chromium, driver, tmp_path / "profile")
    try:
        d = browser.driver
        # 1. the list, thumbnails loaded
        d.get(gw.url + "/")
        cards = d.find_elements(By.CSS_SELECTOR, "li.card")
        assert len(cards) == 4, d.page_source
        browser.wait(lambda d: d.execute_script(
            "return [...document.images].every(i => i.complete) && [...document.images].length == 4"), PAGE_WAIT, "thumbnails")
        widths = d.execute_script("return [...document.images].map(i => i.naturalWidth)")
        assert all(w > 0 for w in widths), f"a thumbnail did not load: {widths}"
        browser.note_resources()
        # 2. search
        box = d.find_element(By.ID, "q")
        box.send_keys("alpha")
        d.find_element(By.ID, "search-button").click()
        browser.wait(lambda d: "q=alpha" in d.current_url, PAGE_WAIT, "the search's page")
        cards = d.find_elements(By.CSS_SELECTOR, "li.card")
        assert len(cards) == 1 and "alpha" in cards[0].text, [c.text for c in cards]
        assert d.find_element(By.ID, "q").get_attribute("value") == "alpha"
        browser.note_resources()
        # 3. the dataset page
        cards[0].find_element(By.CSS_SELECTOR, "a.open").click()
        browser.wait(lambda d: "/browse/d/alpha.ome.zarr" in d.current_url, PAGE_WAIT, "the dataset page")
        table = d.find_element(By.ID, "metadata").text
        assert f"{SIZE} × {SIZE}" in table and "uint16" in table and "0.5" in table, table
        browser.wait(lambda d: d.execute_script("return document.images[0].complete && document.images[0].naturalWidth > 0"),
                     PAGE_WAIT, "the quicklook")
        browser.note_resources()
        link = d.find_element(By.ID, "open-neuroglancer")
        state = neuroglancer_state(link.get_attribute("href"))
        assert state["layers"][0]["source"] == f"zarr3://{gw.url}/d/alpha.ome.zarr/", state
        low, high = state["layers"][0]["shaderControls"]["normalized"]["range"]
        # 4. neuroglancer, served by the gateway
        link.click()
        browser.wait(lambda d: "/viewer/v/tessera/" in d.current_url, PAGE_WAIT, "the viewer page")
        last = {}

        def ready(d):
            last["state"] = d.execute_script(PAGE_STATE_JS)
            return last["state"] == "ready" or last["state"].startswith("error")
        browser.wait(ready, VIEWER_WAIT, "neuroglancer to draw every chunk")
        assert last["state"] == "ready", last
        # two frames after ready, and ready still (the same criterion as neuroglancer's screenshots)
        d.execute_async_script("const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)))")
        browser.wait(ready, VIEWER_WAIT, "neuroglancer still ready")
        shot_path = tmp_path / "neuroglancer.png"
        shot = browser.screenshot(shot_path)
        browser.note_resources()
        # 5. the API page
        d.get(gw.url + "/docs/")
        browser.wait(lambda d: d.execute_script(
            "const t = document.querySelector('.swagger-ui .info .title'); return t !== null && t.textContent.includes('Tessera gateway')"),
            PAGE_WAIT, "Swagger UI's title")
        browser.note_resources()
        print(f"\nbrowser test: pages done in {time.time() - t0:.1f}s; screenshot {shot_path}")
    finally:
        browser.quit()

    # ---- nothing came from elsewhere ---------------------------------------------
    violations = [e["message"] for e in browser.console if "Content Security Policy" in e.get("message", "")]
    assert not violations, f"CSP violations in the console: {violations}"
    foreign = [u for u in browser.resources if not (u.startswith(gw.url + "/") or u.startswith("blob:") or u.startswith("data:"))]
    assert not foreign, f"resources from outside the gateway: {foreign}"
    log = gw.access_log()
    assert not [e for e in log if e.get("status", 0) >= 500], [e for e in log if e.get("status", 0) >= 500]

    # ---- the screenshot shows the image ------------------------------------------
    assert shot.shape == (VIEWPORT[1], VIEWPORT[0], 3), shot.shape
    box = volume_box(shot)
    assert box is not None, f"no volume bounding box in {shot_path}"
    top, bottom, left, right = box
    assert bottom - top > 300 and right - left > 300, f"volume drawn too small: {box} in {shot_path}"
    gray = shot[top + 3:bottom - 2, left + 3:right - 2].mean(axis=2)
    assert gray.std() > 30, f"image panel nearly uniform (std {gray.std():.1f}) in {shot_path}"
    # the reference: the gateway's own render of the whole image, same window, as PNG
    from PIL import Image

    status, headers, body = gw.get(f"/render/d/alpha.ome.zarr?format=png&window={low:g},{high:g}")
    assert status == 200, body[:300]
    render = np.asarray(Image.open(io.BytesIO(body)).convert("L")).astype(float)
    assert render.shape == (SIZE, SIZE), render.shape
    h, w = gray.shape
    ys = ((np.arange(h) + 0.5) * SIZE / h).astype(int)
    xs = ((np.arange(w) + 0.5) * SIZE / w).astype(int)
    expected = render[np.ix_(ys, xs)]
    corr = correlation(gray, expected)
    corr_t = correlation(gray, render.T[np.ix_(ys, xs)])
    assert corr > 0.95, f"screenshot does not match /render (correlation {corr:.3f}) in {shot_path}"
    assert corr_t < 0.9, f"matches the transposed render too ({corr_t:.3f}) in {shot_path}"
    err = np.abs(gray - expected)
    within = float((err <= 12).mean())
    assert err.mean() < 8 and within > 0.95, \
        f"grey levels off: mean error {err.mean():.1f}, {within:.1%} within 12 levels, in {shot_path}"
    # and /render itself is the source through the window (so the screenshot is the data)
    source = np.clip((alpha_image().astype(float) - low) / (high - low), 0, 1) * 255
    assert np.abs(render - source).max() <= 1.0, "the render is not the windowed source"
    # right of the box (clear of the panel's buttons at the top and the scale bar at the
    # bottom left): the panel's uniform background, unlike the image
    outside = shot[top + 60:bottom - 60, right + 10:min(VIEWPORT[0], right + 40)].mean(axis=2)
    assert outside.size and outside.std() < 5, f"background beside the volume not uniform in {shot_path}"
    assert gray.std() > outside.std() + 25, (gray.std(), outside.std())
    print(f"neuroglancer vs /render: correlation {corr:.3f}, mean grey error {err.mean():.1f}, box {box}")
