"""Auth in `tessera serve`: static bearer tokens and JWTs (HS256, RS256) mapped to groups,
per-root rules, for every route (GET, HEAD, OPTIONS, generated .zmetadata / zarr.json,
listings, /metrics). Without credentials a non-public root answers 401; a caller whose
groups may not see a root gets the same empty 404 as a root that does not exist."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway_server import GatewayServer
from http_exchange import get

HS_SECRET = "tessera-test-hs256-secret-0123456789abcdef"


def make_root(folder, payload: bytes):
    (folder / "0").mkdir(parents=True)
    (folder / ".zgroup").write_text('{"zarr_format":2}')
    (folder / "0" / ".zarray").write_text('{"zarr_format":2,"shape":[1]}')
    (folder / "0" / "0").write_bytes(payload)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    base = tmp_path_factory.mktemp("gateway-auth")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (base / "rs256.pem").write_bytes(pem)
    return base, private, pem


@pytest.fixture(scope="module")
def server(tessera_bin, keys):
    base, _, _ = keys
    for name in ("open", "lab", "guests"):
        make_root(base / name, f"payload-{name}".encode())
    config = base / "tessera.yaml"
    config.write_text(f"""
roots:
  - {{name: open, location: {base / 'open'}, access: public}}
  - {{name: lab, location: {base / 'lab'}, access: [lab, admins]}}
  - {{name: guests, location: {base / 'guests'}, access: [guests]}}
listing: true
auth:
  tokens:
    - {{token: lab-token, groups: [lab]}}
    - {{tokenEnv: TESSERA_TEST_GUEST_TOKEN, groups: [guests]}}
  jwt:
    hs256Secret: {HS_SECRET}
    rs256PublicKeyFile: {base / 'rs256.pem'}
    groupsClaim: groups
""")
    srv = GatewayServer(tessera_bin, "--config", config, env={"TESSERA_TEST_GUEST_TOKEN": "guest-token"})
    yield srv
    assert srv.stop() == 0


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def hs(groups, exp_in=300, secret=HS_SECRET, **extra):
    return jwt.encode({"groups": groups, "exp": int(time.time()) + exp_in, **extra}, secret, algorithm="HS256")


ROUTES = [("GET", "/{root}/0/0"), ("HEAD", "/{root}/0/0"), ("GET", "/{root}/.zmetadata"),
          ("GET", "/{root}/0/.zarray"), ("GET", "/{root}/"), ("GET", "/{root}/0/")]


@pytest.mark.parametrize("method,route", ROUTES)
def test_without_credentials(server, method, route):
    assert get(server, route.format(root="open"), method=method)[0] == 200
    for root in ("lab", "guests", "no-such-root"):
        status, h, body = get(server, route.format(root=root), method=method)
        assert status == 401, (root, route, status)
        assert h["www-authenticate"].startswith("Bearer") and body == b""


@pytest.mark.parametrize("method,route", ROUTES)
def test_groups_decide_and_hidden_roots_look_missing(server, method, route):
    for creds in (bearer("lab-token"), bearer(hs(["lab"]))):
        assert get(server, route.format(root="lab"), creds, method=method)[0] == 200
        hidden = get(server, route.format(root="guests"), creds, method=method)
        missing = get(server, route.format(root="no-such-root"), creds, method=method)
        assert hidden[0] == missing[0] == 404
        assert hidden[2] == missing[2] == b""
        strip = lambda h: {k: v for k, v in h.items() if k != "date"}
        assert strip(hidden[1]) == strip(missing[1]), "a hidden root must be indistinguishable from a missing one"
    assert get(server, route.format(root="guests"), bearer("guest-token"), method=method)[0] == 200
    assert get(server, route.format(root="open"), bearer("guest-token"), method=method)[0] == 200


def test_payloads_come_from_the_right_root(server):
    assert get(server, "/lab/0/0", bearer("lab-token"))[2] == b"payload-lab"
    assert get(server, "/guests/0/0", bearer("guest-token"))[2] == b"payload-guests"


@pytest.mark.parametrize("name,token", [
    ("unknown static token", "not-a-token"),
    ("expired", None),
    ("wrong secret", hs(["lab"], secret="another-secret-that-is-long-enough-000")),
    ("alg none", jwt.encode({"groups": ["lab"], "exp": int(time.time()) + 300}, None, algorithm="none")),
    ("no exp", jwt.encode({"groups": ["lab"]}, HS_SECRET, algorithm="HS256")),
    ("garbage", "a.b.c"),
])
def test_bad_credentials_are_401_everywhere(server, name, token):
    token = token or hs(["lab"], exp_in=-60)
    for root in ("open", "lab", "guests"):
        status, h, _ = get(server, f"/{root}/0/0", bearer(token))
        assert status == 401, (name, root, status)


def test_rs256_and_algorithm_confusion(server, keys):
    _, private, pem = keys
    good = jwt.encode({"groups": ["admins"], "exp": int(time.time()) + 300}, private, algorithm="RS256")
    assert get(server, "/lab/0/0", bearer(good))[0] == 200
    assert get(server, "/guests/0/0", bearer(good))[0] == 404
    # An attacker signing HS256 with the public key as the secret must not get in.
    import base64, hashlib, hmac
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps({"groups": ["lab"], "exp": int(time.time()) + 300}).encode()).rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(pem, header + b"." + body, hashlib.sha256).digest()).rstrip(b"=")
    forged = (header + b"." + body + b"." + sig).decode()
    assert get(server, "/lab/0/0", bearer(forged))[0] == 401


def test_other_schemes_are_refused(server):
    assert get(server, "/lab/0/0", {"Authorization": "Basic bGFiOmxhYg=="})[0] == 401
    assert get(server, "/lab/0/0", {"Authorization": "Bearer"})[0] == 401


def test_preflight_reveals_nothing(server):
    headers = {"Origin": "http://viewer.example", "Access-Control-Request-Method": "GET",
               "Access-Control-Request-Headers": "authorization, range"}
    answers = []
    for root in ("open", "lab", "guests", "no-such-root"):
        status, h, body = get(server, f"/{root}/0/0", headers, method="OPTIONS")
        assert status == 204 and body == b""
        assert "authorization" in h["access-control-allow-headers"].lower()
        answers.append({k: v for k, v in h.items() if k != "date"})
    assert all(a == answers[0] for a in answers)


def test_operations_routes(server):
    assert get(server, "/healthz")[0] == 200
    assert get(server, "/metrics")[0] == 401
    status, _, body = get(server, "/metrics", bearer("lab-token"))
    assert status == 200 and b"tessera_http_requests_total" in body
