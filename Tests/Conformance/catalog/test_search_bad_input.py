"""Must-show 6 of issue 19: bad search input is a 400 with a JSON error naming the parameter,
never a 500 (nor a 502 from a store that choked on a value) and never an injection — on SQLite
and PostgreSQL (the corpus of must-show 2 behind two gateways, search_arms.py).

Every parameter of every element and `q`, `sort`, `limit`, `after` gets SQL-looking strings,
LIKE and FTS metacharacters, NUL, control characters, over-long values, non-finite numbers and
bad UTF-8 percent-escapes. A value that is a legal text value (a text or select element, a
free-text query with words in it) answers 200 with exactly the datasets Python's literal match
finds (corpus.py's reference semantics); anything else is 400 `{"error": …, "parameter": NAME}`.
Afterwards every table's row count, the access version and the schema are what they were.
"""

from __future__ import annotations

import base64
import json
import random
import urllib.parse

import pytest

import corpus as corpus_module
from pg_server import pg_server  # noqa: F401  (a session fixture search_arms uses)
from search_arms import api, search_arms, viewer_headers  # noqa: F401  (search_arms is a fixture)

EVERYONE = viewer_headers({"kind": "everyone"})

EVIL = [
    "' OR 1=1 --", "\"; DROP TABLE dataset; --", "'; DELETE FROM meta; --", "1; DROP TABLE meta", "%", "_", "\\",
    "%%", "a%b_c", "NEAR(a b)", "*", "\"", "\"\"", "a\" OR \"b", "OR", "NOT", "-", "^x", "x:*", "a & b | !c",
    "\u0000", "a\u0000b", "\u0001", "\t", "\u007f", "x" * 1024, "x" * 1025, "é" * 600, "x" * 10240,
    "NaN", "nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "0x10", "1_000", "1,5", " 1", "1 ", "-0", "+1", "",
    "Ångström", "ǅ", "\U0001F600", "2020-02-30", "2020-13-01", "0000-01-01", "2020-01-01T25:00", "2020-01-01T00:00+24:00",
]
BAD_ESCAPES = ["%ff", "%c3%28", "%e2%82", "%ed%a0%80", "%c0%af", "%f8%88%80%80%80", "%", "%g1", "%0", "a%2"]

# (name, kind) of every parameter the corpus's configuration accepts, and the context a
# parameter needs to be complete (the cone's three values go together).
PARAMETERS = [
    ("q", "q"), ("limit", "limit"), ("sort", "sort"), ("after", "after"),
    ("object", "text"), ("objprefix", "text"), ("objexact", "text"),
    ("exptime.min", "number"), ("exptime.max", "number"),
    ("observed.from", "date"), ("observed.to", "date"),
    ("filter", "select"), ("format", "select"),
    ("position.ra", "ra"), ("position.dec", "dec"), ("position.radius", "radius"),
]
CONE_DEFAULTS = {"position.ra": "10", "position.dec": "20", "position.radius": "5"}
MAX_VALUE_BYTES = 1024


def is_number(text: str) -> bool:
    """The documented number grammar: [+-]?(digits[.digits]|.digits)([eE][+-]?digits)?, finite."""
    import re
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        return False
    return abs(float(text)) != float("inf")


def is_date(text: str) -> bool:
    from datetime import datetime
    import re
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})([T ](\d{2}):(\d{2})(:(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?", text)
    if not m or int(m[1]) < 1:
        return False
    try:
        datetime(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return False
    if m[4] and (int(m[5]) > 23 or int(m[6]) > 59 or (m[8] and int(m[8]) > 59)):
        return False
    if m[10] and m[10] != "Z" and (int(m[10][1:3]) > 23 or int(m[10][4:6]) > 59):
        return False
    return True


def reference(name: str, kind: str, value: str):
    """What the search must answer for `name=value` (plus the cone's other values): `("400",
    parameter)`, or `("200", params)` with the params whose Python answer is expected."""
    if len(value.encode()) > MAX_VALUE_BYTES:
        return "400", name
    if "\u0000" in value:
        return "400", name
    params = [(name, value)]
    if kind in ("ra", "dec", "radius"):
        params = [(k, value if k == name else v) for k, v in CONE_DEFAULTS.items()]
    if kind == "q":
        tokens = corpus_module.tokens(value)
        return ("200", params) if tokens and len(tokens) <= 16 else ("400", name)
    if kind in ("text", "select"):
        return ("200", params) if value else ("400", name)
    if kind in ("number", "ra", "dec", "radius"):
        if not is_number(value):
            return "400", name
        v = float(value)
        if kind == "ra" and not 0 <= v < 360 or kind == "dec" and not -90 <= v <= 90 or kind == "radius" and not 0 < v <= 30:
            return "400", name
        return "200", params
    if kind == "date":
        return ("200", params) if is_date(value) else ("400", name)
    if kind == "limit":
        return ("200", params) if value.isascii() and value.isdigit() and 1 <= int(value) <= 500 else ("400", name)
    if kind == "sort":
        return ("200", params) if value in ("id", "name", "observed") else ("400", name)
    return "400", name  # after: none of these is a cursor


def expected_uids(corpus, params) -> list[str]:
    p = [(k, v) for k, v in params if k not in ("limit", "sort")]
    everyone = {"kind": "everyone"}
    return sorted(d["uid"] for d in corpus["datasets"] if corpus_module.visible(d, everyone) and corpus_module.matches(d, p))


def all_ids(arm, params) -> list[str]:
    ids, after = [], None
    for _ in range(100):
        status, _, page = api(arm, params + [("limit", "500")] + ([("after", after)] if after else []), EVERYONE)
        assert status == 200, (arm.name, params, status, page)
        ids += [d["id"] for d in page["datasets"]]
        after = page["next"]
        if after is None:
            return ids
    raise AssertionError("too many pages")


def refused(arm, query: str, parameter, headers=None):
    """`query` (already encoded) answers 400 JSON naming `parameter` (cut to 64 characters)."""
    status, h, body = api(arm, query, headers if headers is not None else EVERYONE)
    assert status == 400, (arm.name, query[:200], status, body)
    assert h["content-type"] == "application/json", (arm.name, query[:200])
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], (arm.name, query[:200], body)
    if parameter is not None:
        assert body.get("parameter") == parameter[:64], (arm.name, query[:200], body)


@pytest.fixture(scope="module")
def arms(search_arms):
    """The arms, with the catalogue's snapshot taken before and compared after every test here."""
    arms, corpus = search_arms
    before = {name: arm.snapshot() for name, arm in arms.items()}
    yield arms, corpus
    for name, arm in arms.items():
        assert arm.snapshot() == before[name], f"{name}: the catalogue changed under bad input"
        assert arm.server.proc.poll() is None, f"{name}: the gateway died"


def test_hostile_values_in_every_parameter(arms):
    arms, corpus = arms
    for name, kind in PARAMETERS:
        for value in EVIL:
            outcome, detail = reference(name, kind, value)
            for arm in arms.values():
                if outcome == "400":
                    extra = [(k, v) for k, v in CONE_DEFAULTS.items() if k != name] if kind in ("ra", "dec", "radius") else []
                    refused(arm, urllib.parse.urlencode([(name, value)] + extra), detail)
                else:
                    got = all_ids(arm, list(detail))
                    assert sorted(got) == expected_uids(corpus, detail), (arm.name, name, value[:40])


def test_bad_percent_escapes_in_every_parameter_name_and_value(arms):
    arms, _ = arms
    for name, _ in PARAMETERS:
        for escape in BAD_ESCAPES:
            for arm in arms.values():
                refused(arm, f"{urllib.parse.quote(name)}={escape}", name)
                refused(arm, f"{urllib.parse.quote(name)}{escape}=1", None)
                status, _, body = api(arm, f"{urllib.parse.quote(name)}{escape}=1", EVERYONE)
                assert body["parameter"].startswith(name), (arm.name, name, escape, body)


def test_unknown_names_and_misplaced_suffixes(arms):
    arms, _ = arms
    names = ["nosuch", "object.min", "exptime", "exptime.from", "observed", "observed.min", "position", "position.x",
             "position.ra.ra", "filter.min", "q.x", "limit.max", "format_", "offset", "page", "id", "OBJECT", "Object",
             "' OR 1=1 --", "\"; DROP TABLE dataset; --", "%", "_", "a\u0000", "", ".", "exptime.", ".min", "x" * 300]
    for name in names:
        for arm in arms.values():
            refused(arm, urllib.parse.urlencode([(name, "1")]), name)


def test_repeated_single_valued_parameters(arms):
    arms, _ = arms
    for name, kind in PARAMETERS:
        if kind == "select":
            continue
        value = {"q": "ngc", "limit": "5", "sort": "id", "text": "ngc", "number": "10", "date": "2020-01-01",
                 "ra": "10", "dec": "20", "radius": "5", "after": "x"}[kind]
        extra = [(k, v) for k, v in CONE_DEFAULTS.items() if k != name] if kind in ("ra", "dec", "radius") else []
        for arm in arms.values():
            refused(arm, urllib.parse.urlencode([(name, value), (name, value)] + extra), name)


def test_page_sizes(arms):
    arms, _ = arms
    for limit in ["0", "-1", "501", "1000", "99999999999999999999", "1e3", "0x10", "5.0", " 5", "", "+5", "٥"]:
        for arm in arms.values():
            refused(arm, urllib.parse.urlencode([("limit", limit)]), "limit")
    for arm in arms.values():
        status, _, page = api(arm, [("limit", "500")], EVERYONE)
        assert status == 200 and page["limit"] == 500


def test_incoherent_elements(arms):
    arms, _ = arms
    cases = [
        ([("exptime.min", "10"), ("exptime.max", "5")], "exptime.min"),
        ([("observed.from", "2021-01-01"), ("observed.to", "2020-01-01")], "observed.from"),
        ([("position.ra", "10"), ("position.dec", "20")], "position.radius"),
        ([("position.dec", "20"), ("position.radius", "1")], "position.ra"),
        ([("position.ra", "10"), ("position.radius", "1")], "position.dec"),
        ([("position.ra", "360"), ("position.dec", "0"), ("position.radius", "1")], "position.ra"),
        ([("position.ra", "1"), ("position.dec", "90.0001"), ("position.radius", "1")], "position.dec"),
        ([("position.ra", "1"), ("position.dec", "0"), ("position.radius", "0")], "position.radius"),
        ([("position.ra", "1"), ("position.dec", "0"), ("position.radius", "30.5")], "position.radius"),
        ([("filter", str(i)) for i in range(65)], "filter"),
        ([("q", " ".join("w%d" % i for i in range(17)))], "q"),
        ([("q", "")], "q"),
        ([("object", "")], "object"),
    ]
    for params, parameter in cases:
        for arm in arms.values():
            refused(arm, urllib.parse.urlencode(params), parameter)
    for arm in arms.values():
        refused(arm, "&".join(f"filter={i}" for i in range(101)), None)


def cursor_text(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def test_bad_cursors(arms):
    arms, _ = arms
    for arm in arms.values():
        status, _, page = api(arm, [("limit", "3"), ("sort", "name"), ("object", "ngc")], EVERYONE)
        assert status == 200 and page["next"]
        good = page["next"]
        wire = json.loads(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
        bad = ["garbage", "", "=", "a" * 2000, good[:-3], good + "A", good[:5] + "+" + good[6:], good[:5] + "/" + good[6:],
               cursor_text([1, 2]), cursor_text({"k": None}), cursor_text({"k": None, "i": 1, "h": "zz"}),
               cursor_text({**wire, "h": "0" * 16}), cursor_text({**wire, "i": "1"}), cursor_text({**wire, "i": 1e30}),
               cursor_text({**wire, "k": 5}), cursor_text({**wire, "k": None}), cursor_text({**wire, "h": wire["h"] + "0"}),
               base64.urlsafe_b64encode(b"\xff\xfe{").decode(), "' OR 1=1 --", "%00"]
        for text in bad:
            refused(arm, urllib.parse.urlencode([("limit", "3"), ("sort", "name"), ("object", "ngc"), ("after", text)]), "after")
        # The cursor of one query does not page another (another value, another sort).
        refused(arm, urllib.parse.urlencode([("sort", "name"), ("object", "nebula"), ("after", good)]), "after")
        refused(arm, urllib.parse.urlencode([("sort", "id"), ("object", "ngc"), ("after", good)]), "after")
        # A cursor whose sort value carries a NUL or SQL is refused or answered, never a store error.
        for k in ["\u0000", "a\u0000", "' OR 1=1 --", "x" * 900]:
            status, _, body = api(arm, urllib.parse.urlencode([("sort", "name"), ("object", "ngc"), ("limit", "3"),
                                                                ("after", cursor_text({**wire, "k": k}))]), EVERYONE)
            assert status in (200, 400), (arm.name, k[:20], status, body)
            if status == 400:
                assert body["parameter"] == "after"


def test_very_long_query_strings_are_refused_not_failed(arms):
    arms, _ = arms
    for arm in arms.values():
        for size in (16 * 1024, 60 * 1024):
            status, _, body = api(arm, "q=" + "a" * size, EVERYONE)
            assert 400 <= status < 500, (arm.name, size, status)


def test_random_query_strings_never_fail(arms):
    """Seeded random parameter names, values and escapes: 200 or 400, never 5xx."""
    arms, _ = arms
    rng = random.Random(6)
    names = [n for n, _ in PARAMETERS] + ["nosuch", "exptime", "position.x", ""]
    alphabet = list("abcAZ019.-_%+=&;:'\"\\*()<>~") + ["%20"] + ["%00", "%ff", "%c3%a5", "%27", "%22", "%25", "%5C", "%e2%82%ac"]
    for _ in range(300):
        parts = []
        for _ in range(rng.randint(1, 6)):
            value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
            parts.append(f"{rng.choice(names)}={value}")
        query = "&".join(parts)
        for arm in arms.values():
            status, h, body = api(arm, query, EVERYONE)
            assert status in (200, 400), (arm.name, query, status, body)
            assert h["content-type"] == "application/json", (arm.name, query)
            if status == 400:
                assert isinstance(body, dict) and "error" in body, (arm.name, query, body)
