"""The browse page and the static sites against hostile input, over plain HTTP.

- Names are escaped: an image whose name carries `"><script>…<img onerror=…>` shows up as
  text on the list and on its page, never as markup; the pages carry the strict CSP.
- Hostile paths (dot segments, encoded slashes and dots, NUL, overlong segments) under
  /browse, /viewer and /docs are 404s; a file outside the loaded client folder is never
  served; malformed or oversized searches are 400s with a message.
- Access: with auth on, a root an anonymous caller may not read is neither listed nor has
  pages (404), and its images' thumbnails are refused; a member sees both roots.
"""

from __future__ import annotations

import html
import http.client
from html.parser import HTMLParser
import re
import urllib.parse
from pathlib import Path

import pytest

from browse_site import EVIL, make_data, site_flags, neuroglancer_client
from gateway_server import GatewayServer

CSP = "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"


@pytest.fixture(scope="module")
def root(tessera_bin, tmp_path_factory) -> Path:
    return make_data(tessera_bin, tmp_path_factory.mktemp("browse-data"))


class Markup(HTMLParser):
    """What a browser would make of a page: elements, attributes, text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []
        self.text = ""

    @classmethod
    def of(cls, page: str) -> "Markup":
        parser = cls()
        parser.feed(page)
        parser.close()
        return parser

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.bad.append("<script>")
        self.bad += [f"{tag} {name}=" for name, _ in attrs if name.lower().startswith("on")]
        self.text += " ".join(v or "" for _, v in attrs) + "\n"

    def handle_data(self, data):
        self.text += data

    def clean(self) -> bool:
        return not self.bad


def raw_get(url: str, path: str):
    """A request with the path sent exactly as given (urllib would normalise it)."""
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def test_names_are_escaped_and_pages_are_strict(tessera_bin, root):
    with GatewayServer(tessera_bin, "--root", f"d={root}", *site_flags()) as gw:
        status, headers, body = gw.get("/")
        assert status == 200, body[:500]
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Content-Security-Policy"] == CSP
        assert headers["X-Content-Type-Options"] == "nosniff"
        page = body.decode()
        markup = Markup.of(page)
        assert markup.clean(), f"markup from a name: {markup.bad} in {page}"
        assert EVIL in markup.text, "the hostile name is not shown as text"
        assert page.count('class="card"') == 4, page
        # its card links to its page, percent-encoded, and that page escapes it too
        links = re.findall(r'href="(/browse/d/[^"]*)"', page)
        evil_link = [link for link in links if "alpha" not in link and "beta" not in link and "gamma" not in link]
        assert len(evil_link) == 1, links
        assert urllib.parse.unquote(evil_link[0]) == "/browse/d/" + EVIL + ".ome.zarr", evil_link
        assert not set('"<> ') & set(evil_link[0]), evil_link
        status, headers, body = gw.get(html.unescape(evil_link[0]))
        assert status == 200 and headers["Content-Security-Policy"] == CSP, body[:300]
        markup = Markup.of(body.decode())
        assert markup.clean() and EVIL in markup.text, (markup.bad, body.decode())
        # the search box echoes the query escaped
        status, _, body = gw.get("/?q=" + urllib.parse.quote('"><script>alert(3)'))
        assert status == 200 and Markup.of(body.decode()).clean()
        assert 'value="&quot;&gt;&lt;script&gt;alert(3)"' in body.decode()
        # the stylesheet is a file (CSP forbids inline style)
        status, headers, _ = gw.get("/browse/style.css")
        assert status == 200 and headers["Content-Type"].startswith("text/css")


HOSTILE = [
    "/browse/d/..%2f..%2fetc%2fpasswd", "/browse/d/%2e%2e/alpha.ome.zarr", "/browse/d/../d/alpha.ome.zarr",
    "/browse/%2e%2e/etc/passwd", "/browse/d/alpha.ome.zarr%00", "/browse/d/alpha.ome.zarr/0",
    "/browse/d/" + "a" * 2000, "/browse/nosuchroot/alpha.ome.zarr", "/browse/d/nosuch.ome.zarr", "/browse/",
    "/browse/d/alpha.ome.zarr%2f0", "/browse/d/alpha.ome.zarr\\..\\..",
    "/viewer/v/tessera/..%2f..%2f..%2fetc%2fpasswd", "/viewer/v/tessera/%2e%2e/%2e%2e/index.html",
    "/viewer/v/tessera/../../../etc/passwd", "/viewer/v/other/index.html", "/viewer/index.html",
    "/viewer/v/tessera/index.html/", "/viewer/v/tessera/sub/index.html", "/viewer/v/tessera/main.bundle.js.map",
    "/docs/..%2fswagger_ui%2f__init__.py", "/docs/%2e%2e/__init__.py", "/docs/../../etc/passwd", "/docs/index.html%00",
    "/openapi.yaml/", "/openapi.yaml/x",
]


def test_hostile_paths_are_404(tessera_bin, root):
    client = neuroglancer_client()
    with GatewayServer(tessera_bin, "--root", f"d={root}", *site_flags()) as gw:
        for path in HOSTILE:
            status, _, body = raw_get(gw.url, path)
            assert status == 404, f"{path}: {status} {body[:200]!r}"
        # what is there is served, with the right types
        status, headers, body = raw_get(gw.url, "/viewer/v/tessera/index.html")
        assert status == 200 and body == (client / "index.html").read_bytes() and headers["Content-Type"].startswith("text/html")
        wasm = sorted(client.glob("*.wasm"))[0].name
        status, headers, _ = raw_get(gw.url, f"/viewer/v/tessera/{wasm}")
        assert status == 200 and headers["Content-Type"] == "application/wasm"
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable", headers
        for path, location in [("/viewer", "/viewer/v/tessera/"), ("/viewer/", "/viewer/v/tessera/"), ("/docs", "/docs/")]:
            status, headers, _ = raw_get(gw.url, path)
            assert status == 302 and headers["Location"] == location, (path, status, headers)
        status, headers, body = raw_get(gw.url, "/openapi.yaml")
        assert status == 200 and b"title: Tessera gateway" in body
        # searches the page cannot take
        for query in ["q=%ff", "q=%zz", "q=" + "x" * 300]:
            status, headers, body = raw_get(gw.url, "/?" + query)
            assert status == 400 and headers["Content-Type"].startswith("text/html"), (query, status)
            assert b'class="error"' in body, body
        assert gw.get("/healthz")[0] == 200
    log = gw.access_log()
    assert not [e for e in log if e.get("status", 0) >= 500], log


def test_sites_off_by_default(tessera_bin, root):
    with GatewayServer(tessera_bin, "--root", f"d={root}") as gw:
        for path in ["/", "/browse/d/alpha.ome.zarr", "/browse/style.css", "/viewer/v/tessera/index.html", "/viewer", "/docs",
                     "/docs/", "/openapi.yaml"]:
            assert raw_get(gw.url, path)[0] == 404, path
        assert raw_get(gw.url, "/d/alpha.ome.zarr/zarr.json")[0] == 200


def test_reserved_root_names_refused(tessera_bin, root):
    for name in ["browse", "viewer", "docs", "openapi.yaml"]:
        proc = __import__("subprocess").run([str(tessera_bin), "serve", "--port", "0", "--root", f"{name}={root}"],
                                            capture_output=True, text=True, timeout=60, stdin=__import__("subprocess").DEVNULL)
        assert proc.returncode != 0 and f"root name '{name}' is reserved" in proc.stderr, (name, proc.stderr)


def test_bad_asset_folders_refused(tessera_bin, root, tmp_path):
    cases = [
        (["--viewer-assets", str(tmp_path / "missing")], "viewerAssets"),
        (["--viewer-assets", str(tmp_path)], "no index.html"),
        (["--docs-assets", str(tmp_path), "--openapi", str(tmp_path / "x.yaml")], "docsAssets"),
        (["--docs-assets", str(tmp_path)], "docsAssets needs openapi"),
        (["--openapi", str(tmp_path / "missing.yaml")], "openapi"),
    ]
    import subprocess

    for flags, message in cases:
        proc = subprocess.run([str(tessera_bin), "serve", "--port", "0", "--root", f"d={root}", *flags],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert proc.returncode != 0 and message in proc.stderr, (flags, proc.returncode, proc.stderr)


def test_hidden_roots_never_appear(tessera_bin, root, tmp_path):
    import shutil

    lab = tmp_path / "lab"
    shutil.copytree(root / "alpha.ome.zarr", lab / "alpha.ome.zarr")
    config = tmp_path / "tessera.yaml"
    config.write_text(
        "roots:\n"
        f"  - {{name: open, location: '{root}'}}\n"
        f"  - {{name: lab, location: '{lab}', access: [lab]}}\n"
        "auth:\n  tokens:\n    - {token: s3cret, groups: [lab]}\n"
        "browse: true\n")
    with GatewayServer(tessera_bin, "--config", str(config)) as gw:
        status, headers, body = gw.get("/")
        page = body.decode()
        assert status == 200 and "/browse/open/alpha.ome.zarr" in page
        assert "/browse/lab/" not in page and "/thumbnail/lab/" not in page and ">lab <" not in page, page
        assert headers["Cache-Control"] == "private, no-cache"
        for path in ["/browse/lab/alpha.ome.zarr", "/browse/lab/nosuch.ome.zarr"]:
            assert gw.get(path)[0] == 404, path
        assert gw.get("/thumbnail/lab/alpha.ome.zarr")[0] == 401
        # a search finds nothing of it either
        status, _, body = gw.get("/?q=alpha")
        assert status == 200 and "/browse/lab/" not in body.decode()
        member = {"Authorization": "Bearer s3cret"}
        status, _, body = gw.get("/", headers=member)
        assert status == 200 and "/browse/lab/alpha.ome.zarr" in body.decode()
        assert gw.get("/browse/lab/alpha.ome.zarr", headers=member)[0] == 200
        assert gw.get("/", headers={"Authorization": "Bearer wrong"})[0] == 401


def test_catalog_search_and_hidden_datasets(tessera_bin, tmp_path):
    """With a catalogue (datasets catalogued by `tessera convert --catalog`), the search box is
    the catalogue's search for the caller, and a dataset the caller may not see appears
    nowhere: not in the list, not in a search, its page a 404."""
    import subprocess

    import tifffile
    from browse_site import beta_image

    root = tmp_path / "root"
    root.mkdir()
    catalog = tmp_path / "catalog.sqlite"
    catalog.touch()
    for name, flags in [("alpha", ["--public"]), ("beta", ["--public"]), ("gamma", ["--owner-group", "lab"])]:
        tifffile.imwrite(tmp_path / f"{name}.tif", beta_image(), photometric="minisblack")
        proc = subprocess.run([str(tessera_bin), "convert", str(tmp_path / f"{name}.tif"), str(root / f"{name}.ome.zarr"),
                               "--catalog", f"sqlite:{catalog}", *flags],
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
    config = tmp_path / "tessera.yaml"
    config.write_text(f"roots:\n  - {{name: d, location: '{root}'}}\nbrowse: true\n"
                      f"catalog: {{store: 'sqlite:{catalog}'}}\n"
                      "auth:\n  tokens:\n    - {token: l4b, groups: [lab]}\n")
    member = {"Authorization": "Bearer l4b"}

    def cards(gw, path, headers=None):
        status, _, body = gw.get(path, headers=headers)
        assert status == 200, (path, status, body[:300])
        return set(re.findall(r'href="/browse/d/([a-z]+)\.ome\.zarr"', body.decode()))

    with GatewayServer(tessera_bin, "--config", str(config)) as gw:
        assert cards(gw, "/") == {"alpha", "beta"}
        assert cards(gw, "/", member) == {"alpha", "beta", "gamma"}
        assert cards(gw, "/?q=alpha") == {"alpha"}
        assert cards(gw, "/?q=gamma") == set()
        assert cards(gw, "/?q=gamma", member) == {"gamma"}
        # a word only in the harvested metadata (tifffile's Software tag), not in any name or
        # path: the catalogue's search finds it, a name match would not
        assert cards(gw, "/?q=tifffile") == {"alpha", "beta"}
        assert cards(gw, "/?q=tifffile", member) == {"alpha", "beta", "gamma"}
        assert gw.get("/browse/d/gamma.ome.zarr")[0] == 404
        assert gw.get("/browse/d/gamma.ome.zarr", headers=member)[0] == 200
        assert gw.get("/thumbnail/d/gamma.ome.zarr")[0] == 404
        # a query the catalogue's parser refuses is a 400 page naming the problem
        status, _, body = gw.get("/?q=" + urllib.parse.quote("-- ..."))
        assert status == 400 and b"search: " in body, body


def test_pages_of_100(tessera_bin, tmp_path):
    """250 images: three pages of 100, 100 and 50 cards, linked previous/next (the search
    kept in the links); a page past the end shows the last; a bad page number is a 400."""
    import shutil
    import subprocess

    import tifffile
    from browse_site import beta_image

    tifffile.imwrite(tmp_path / "one.tif", beta_image()[:32, :32], photometric="minisblack")
    one = tmp_path / "one.ome.zarr"
    proc = subprocess.run([str(tessera_bin), "convert", str(tmp_path / "one.tif"), str(one)],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "root"
    for i in range(250):
        shutil.copytree(one, root / f"img{i:03d}.ome.zarr")
    with GatewayServer(tessera_bin, "--root", f"d={root}", "--browse") as gw:
        seen = []
        path = "/?q=img"
        for expected in (100, 100, 50):
            status, _, body = gw.get(path)
            page = body.decode()
            assert status == 200, page[:300]
            names = re.findall(r'href="/browse/d/(img\d+)\.ome\.zarr"', page)
            assert len(names) == expected, (path, len(names))
            seen += names
            nxt = re.search(r'id="next-page" href="([^"]+)"', page)
            path = html.unescape(nxt.group(1)) if nxt else None
        assert path is None and sorted(seen) == [f"img{i:03d}" for i in range(250)] and len(set(seen)) == 250
        status, _, body = gw.get("/?q=img&page=3")
        assert status == 200 and b'id="previous-page" href="/?q=img&amp;page=2"' in body
        status, _, body = gw.get("/?page=99")
        assert status == 200 and len(re.findall(r'class="card"', body.decode())) == 50
        for bad in ("0", "-1", "x", "1e3", ""):
            assert gw.get(f"/?page={bad}")[0] == 400, bad
