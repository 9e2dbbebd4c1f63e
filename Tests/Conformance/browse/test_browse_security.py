"""Security headers of the gateway's own pages and files (issue 20): every HTML and
static answer (browse list, dataset page, its stylesheet, /viewer/ neuroglancer files,
/docs/ Swagger UI files, /openapi.yaml) carries its site's Content-Security-Policy, no
framing (`frame-ancestors 'none'` and `X-Frame-Options: DENY`), `Referrer-Policy:
same-origin` and `nosniff`; Zarr objects and pictures keep their CORS headers and get
none of the page headers (viewers on other origins read them). That the policies let
each page work in a browser, with no CSP violation in the console, is
test_browser.py's part."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from browse_site import convert, site_flags
from gateway_server import GatewayServer


def directives(policy: str) -> dict[str, set[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = set(words[1:])
    return out


@pytest.fixture(scope="module")
def served(tessera_bin, tmp_path_factory):
    import tifffile

    base = tmp_path_factory.mktemp("browse-security")
    (base / "root").mkdir()
    tifffile.imwrite(base / "img.tif", (np.arange(64 * 48) % 251).astype(np.uint8).reshape(48, 64))
    convert(tessera_bin, base / "img.tif", base / "root" / "img.ome.zarr", "--ngff", "0.5")
    gw = GatewayServer(tessera_bin, "--root", f"d={base / 'root'}", "--cors-origin", "*", *site_flags())
    try:
        yield gw
    finally:
        assert gw.stop() == 0, gw.log_text()[-2000:]


def page_headers_ok(path: str, status: int, h: dict, site: str):
    h = {k.lower(): v for k, v in h.items()}
    policy = h.get("content-security-policy")
    assert policy, f"{path}: no Content-Security-Policy"
    d = directives(policy)
    assert d["default-src"] == {"'none'"}, (path, policy)
    assert d["frame-ancestors"] == {"'none'"} and d["base-uri"] == {"'none'"}, (path, policy)
    assert h.get("x-frame-options") == "DENY", (path, h)
    assert h.get("referrer-policy") == "same-origin", (path, h)
    assert h.get("x-content-type-options") == "nosniff", (path, h)
    # nothing loads from another origin; no eval in any page (only neuroglancer's worker
    # scripts, which generate decoders with Function(), run under a policy allowing it)
    worker = site == "viewer" and not h.get("content-type", "").startswith("text/html")
    for name, sources in d.items():
        assert "*" not in sources and ("'unsafe-eval'" not in sources or (worker and name == "script-src")), (path, name, sources)
        assert not [s for s in sources if s.startswith("http") or s in ("blob:", "'unsafe-hashes'")], (path, name, sources)
    if site == "browse":
        assert "script-src" not in d and d["style-src"] == {"'self'"}, (path, policy)
    elif site == "viewer":
        scripts = {"'self'", "'wasm-unsafe-eval'"} | ({"'unsafe-eval'"} if worker else set())
        assert d["script-src"] == scripts and d["connect-src"] == {"'self'"} and d["style-src"] == {"'self'"}, (path, policy)
    elif site == "docs":
        assert d["script-src"] == {"'self'"} and d["connect-src"] == {"'self'"}, (path, policy)
        assert d["style-src"] == {"'self'", "'unsafe-inline'"}, (path, policy)
    return d


def test_every_page_and_static_file_has_its_sites_headers(served):
    gw = served
    client = Path(site_flags()[site_flags().index("--viewer-assets") + 1])
    wasm = sorted(p.name for p in client.glob("*.wasm"))[0]
    main_js = sorted(p.name for p in client.glob("main.*.js"))[0]
    pages = [
        ("/", "browse", "text/html"), ("/?q=img", "browse", "text/html"), ("/browse/d/img.ome.zarr", "browse", "text/html"),
        ("/browse/d/missing", "browse", "text/html"), ("/browse/style.css", "browse", "text/css"),
        ("/viewer/v/tessera/", "viewer", "text/html"), (f"/viewer/v/tessera/{main_js}", "viewer", "text/javascript"),
        (f"/viewer/v/tessera/{wasm}", "viewer", "application/wasm"),
        ("/docs/", "docs", "text/html"), ("/docs/swagger-ui-bundle.js", "docs", "text/javascript"),
        ("/docs/init.js", "docs", "text/javascript"), ("/docs/swagger-ui.css", "docs", "text/css"),
        ("/openapi.yaml", "browse", "application/yaml"),
    ]
    for path, site, media in pages:
        for method in ("GET", "HEAD"):
            status, h, _ = gw.get(path, method=method)
            assert status == (404 if "missing" in path else 200), (path, status)
            assert h["Content-Type"].startswith(media), (path, h["Content-Type"])
            page_headers_ok(path, status, h, site)
    # redirects and misses under a site carry them too
    for path, site in [("/viewer/v/tessera/nothing.js", "viewer"), ("/docs/nothing.js", "docs")]:
        status, h, _ = gw.get(path)
        assert status == 404
        page_headers_ok(path, status, h, site)


def test_zarr_objects_and_pictures_keep_cors_and_get_no_page_headers(served):
    gw = served
    for path in ["/d/img.ome.zarr/zarr.json", "/d/img.ome.zarr/0/zarr.json", "/thumbnail/d/img.ome.zarr",
                 "/render/d/img.ome.zarr?format=png"]:
        status, h, body = gw.get(path, {"Origin": "http://viewer.example"})
        assert status == 200, (path, status, body[:200])
        h = {k.lower(): v for k, v in h.items()}
        assert h.get("access-control-allow-origin") == "*", (path, h)
        assert "ETag" in h.get("access-control-expose-headers", ""), (path, h)
        assert h.get("x-content-type-options") == "nosniff", (path, h)
        for name in ("content-security-policy", "x-frame-options", "referrer-policy"):
            assert name not in h, (path, name, h[name])
