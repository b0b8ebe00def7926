"""API keys: every route is named by the policy, each role reaches exactly what it may."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.config import ConfigError, Settings, load_settings
from service.http.auth import POLICY, rule_for
from tests.catalog.conftest import image_bytes
from tests.conftest import make_app, make_settings
from tests.hardening.conftest import API_KEYS, KEYS, bearer, load_small_catalog

ROLES = ("admin", "qa", "lead", "client", "metrics")
UPC = "11000000"  # the first product load_small_catalog writes (seed 1)
EVERYONE = frozenset(ROLES)

# One request per route, and the roles that may make it (admin may always).
MATRIX: list[tuple[str, str, frozenset[str]]] = [
    ("POST", "/api/products", frozenset({"admin"})),
    ("POST", "/api/products/", frozenset({"admin"})),  # another spelling, same rule
    ("POST", f"/api/products/{UPC}/snapshots", frozenset({"admin"})),
    ("GET", "/qa/export?status=match&format=csv", frozenset({"admin"})),
    ("POST", "/qa/session", frozenset({"admin", "qa"})),
    ("GET", "/qa/session", frozenset({"admin", "qa"})),
    ("PATCH", "/qa/session/1/snapshot/1", frozenset({"admin", "qa"})),
    ("GET", "/qa/leaderboard", frozenset({"admin", "qa"})),
    ("GET", "/qa/products/1/confirmed", frozenset({"admin", "qa"})),
    ("GET", "/qa/suspects", frozenset({"admin", "qa"})),
    ("POST", "/api/submit/", frozenset({"admin", "client"})),
    ("POST", "/api/submit", frozenset({"admin", "client"})),
    ("GET", "/api/status?jobid=1", frozenset({"admin", "client"})),
    ("GET", "/api/jobs/1", frozenset({"admin", "client"})),
    ("GET", "/api/visits", frozenset({"admin", "client"})),
    ("GET", "/api/products", EVERYONE),
    ("GET", f"/api/products/{UPC}", EVERYONE),
    ("GET", f"/api/products/{UPC}/similar", EVERYONE),
    ("GET", "/api/snapshots/1", EVERYONE),
    ("GET", "/api/snapshots/1/similar", EVERYONE),
    ("GET", "/api/snapshots/1/suggestions", EVERYONE),
    ("POST", "/api/search", EVERYONE),
    ("GET", "/metrics", frozenset({"admin", "metrics"})),
    # The lead's desk: changes to a snapshot and the desk's reads; a history is a catalog read.
    ("PATCH", "/api/snapshots/1", frozenset({"admin", "lead"})),
    ("POST", "/api/snapshots/1/undo", frozenset({"admin", "lead"})),
    ("GET", "/api/snapshots/1/history", EVERYONE),
    ("GET", "/api/lead/suspects", frozenset({"admin", "lead"})),
    ("GET", "/api/lead/products?q=syn", frozenset({"admin", "lead"})),
    ("GET", f"/api/lead/products/{UPC}", frozenset({"admin", "lead"})),
    ("GET", "/api/lead/moves", frozenset({"admin", "lead"})),
]
PUBLIC = [
    "/healthz",
    "/readyz",
    "/core/public/v1/openapi.json",
    "/core/public/v1/docs",
    "/qa/",
    "/qa/static/any-version/main.js",
    "/qa/lead/",
]


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Litestar]]:
    """An app with API_KEYS set and a small catalog (one per module: requests here only
    probe the guard, apart from test_each_role_does_its_work)."""
    tmp = tmp_path_factory.mktemp("auth")
    settings = make_settings(tmp, allow_private_image_urls=False)
    app = make_app(settings, api_keys=API_KEYS)
    load_small_catalog(app.state.settings)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        yield client


def call(client: TestClient[Litestar], method: str, path: str, headers: dict[str, str]):
    return client.request(method, path, headers={"username": "alice", **headers})


def test_every_route_is_named_by_a_rule(app: Litestar) -> None:
    """A new route must be placed in the policy table on purpose (unnamed: admin-only)."""
    unnamed = [
        (method, route.path_format)
        for route in app.routes
        for method in sorted(route.methods)
        if method != "HEAD" and rule_for(method, route.path_format) is None
    ]
    assert not unnamed, f"routes without a rule in service/http/auth.py POLICY: {unnamed}"


def test_every_rule_matches_some_route(app: Litestar) -> None:
    routes = [(m, r.path_format) for r in app.routes for m in r.methods]
    for rule in POLICY:
        assert any(rule_for(m, p) == rule for m, p in routes), f"dead rule {rule}"


@pytest.mark.parametrize(
    ("method", "path", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX]
)  # noqa: E501
def test_each_role_reaches_exactly_its_routes(
    locked: TestClient[Litestar], method: str, path: str, allowed: frozenset[str]
) -> None:
    anonymous = call(locked, method, path, {})
    assert anonymous.status_code == 401, anonymous.text
    for role in ROLES:
        response = call(locked, method, path, bearer(role))
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.status_code, response.text)
            assert set(response.json()) == {"error"}
            assert repr(role) in response.json()["error"]


@pytest.mark.parametrize("path", PUBLIC)
def test_probes_docs_and_the_qa_page_need_no_key(locked: TestClient[Litestar], path: str) -> None:
    assert locked.get(path).status_code == 200


def test_stored_images_need_no_key(locked: TestClient[Litestar]) -> None:
    """Content keys are unguessable capabilities handed out by keyed answers (as presigned
    S3 URLs are), and <img> tags cannot send a key."""
    product = locked.get(f"/api/products/{UPC}", headers=bearer("qa")).json()
    image_url = product["image_url"]
    assert locked.get(image_url).status_code == 200
    assert locked.get(image_url.replace("/images/", "/thumbs/", 1)).status_code == 200


def test_missing_and_unknown_keys_get_401_with_the_error_shape(
    locked: TestClient[Litestar],
) -> None:
    missing = locked.get("/api/products")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "API key is required" in missing.json()["error"]
    unknown = locked.get("/api/products", headers={"Authorization": "Bearer x" * 3})
    assert unknown.status_code == 401
    assert unknown.json() == {"error": "unknown API key"}
    not_bearer = locked.get("/api/products", headers={"Authorization": f"Basic {KEYS['admin']}"})
    assert not_bearer.status_code == 401


def test_the_key_may_come_in_x_api_key_or_a_lower_case_bearer(
    locked: TestClient[Litestar],
) -> None:
    assert locked.get("/api/products", headers={"X-API-Key": KEYS["client"]}).status_code == 200
    lower = {"authorization": f"bearer {KEYS['client']}"}
    assert locked.get("/api/products", headers=lower).status_code == 200


def test_each_role_does_its_work(locked: TestClient[Litestar]) -> None:
    created = locked.post(
        "/api/products",
        data={"upc": "012345678905", "name": "Sea Salt Chips"},
        files={"image": ("pack.jpg", image_bytes(), "image/jpeg")},
        headers=bearer("admin"),
    )
    assert created.status_code == 201, created.text
    job = locked.post(
        "/api/submit/",
        json={"count": 1, "visits": [{"store_id": "RP00001", "image_url": ["http://x.test/1.jpg"],
                                      "visit_time": "2026-11-21T10:00:00"}]},
        headers=bearer("client"),
    )  # fmt: skip
    assert job.status_code == 201, job.text
    status = locked.get(f"/api/status?jobid={job.json()['job_id']}", headers=bearer("client"))
    assert status.json()["status"] == "ongoing"
    session = locked.post("/qa/session", headers={"username": "worker-bob", **bearer("qa")})
    assert session.status_code == 201, session.text
    snapshot = session.json()["snapshots"][0]["snapshot_id"]
    vote = locked.patch(
        f"/qa/session/{session.json()['session_id']}/snapshot/{snapshot}",
        json={"is_match": True},
        headers={"username": "worker-bob", **bearer("qa")},
    )
    assert vote.status_code == 200, vote.text
    assert locked.get("/metrics", headers=bearer("metrics")).status_code == 200


def test_auth_is_off_by_default(client: TestClient[Litestar]) -> None:
    assert client.get("/api/products").status_code == 200
    assert client.get("/qa/leaderboard", headers={"username": "alice"}).status_code == 200


# -- API_KEYS parsing ---------------------------------------------------------------------------


def test_api_keys_are_parsed_with_their_roles() -> None:
    settings = load_settings(
        {"API_KEYS": " abcdefghijklmnop:admin, qrstuvwxyz012345:qa,,"}, dotenv=None
    )
    assert settings.api_keys == (("abcdefghijklmnop", "admin"), ("qrstuvwxyz012345", "qa"))


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("short-key:admin", "16 to 256"),
        ("abcdefghijklmnop:root", "one of admin, qa, lead, client, metrics"),
        ("abcdefghijklmnop", "KEY:ROLE"),
        ("abcdefghijklmnop:qa,abcdefghijklmnop:admin", "listed twice"),
        ("abcdefgh ijklmnop:qa", "16 to 256"),
    ],
)
def test_bad_api_keys_stop_the_start_without_echoing_keys(raw: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({"API_KEYS": raw}, dotenv=None)
    message = str(error.value)
    assert message.startswith("API_KEYS:") and problem in message
    assert "abcdefgh" not in message and "short-key" not in message


# -- QA keys bound to one reviewer --------------------------------------------------------------

ALICE_KEY = "alice-key-0123456789"


def test_a_bound_qa_key_is_parsed_as_its_reviewer() -> None:
    settings = load_settings({"API_KEYS": f"{ALICE_KEY}:qa:alice"}, dotenv=None)
    assert settings.api_keys == ((ALICE_KEY, "qa:alice"),)


@pytest.mark.parametrize("entry", [f"{ALICE_KEY}:client:alice", f"{ALICE_KEY}:qa:bad name"])
def test_only_qa_and_lead_keys_bind_to_a_valid_username(entry: str) -> None:
    with pytest.raises(ConfigError, match="KEY:qa:USERNAME or KEY:lead:USERNAME"):
        load_settings({"API_KEYS": entry}, dotenv=None)


def test_a_bound_lead_key_makes_changes_under_its_own_name_only(settings: Settings) -> None:
    app = make_app(settings, api_keys=((ALICE_KEY, "lead:lena"),))
    load_small_catalog(app.state.settings)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        key = {"Authorization": f"Bearer {ALICE_KEY}"}
        other = client.patch(
            "/api/snapshots/1", json={"reviewed": True, "version": 0},
            headers={"username": "mallory", **key},
        )  # fmt: skip
        own = client.patch(
            "/api/snapshots/1", json={"reviewed": True, "version": 0},
            headers={"username": "lena", **key},
        )  # fmt: skip
    assert other.status_code == 403
    assert other.json() == {"error": "this API key belongs to lead 'lena', not 'mallory'"}
    assert own.status_code == 200, own.text
    assert own.json()["reviewed_by"] == "lena"


def test_a_bound_qa_key_cannot_vote_under_another_name(settings: Settings) -> None:
    app = make_app(settings, api_keys=((ALICE_KEY, "qa:alice"),))
    with TestClient(app=app, raise_server_exceptions=False) as client:
        own = client.get(
            "/qa/leaderboard", headers={"username": "alice", "Authorization": f"Bearer {ALICE_KEY}"}
        )
        other = client.get(
            "/qa/leaderboard",
            headers={"username": "mallory", "Authorization": f"Bearer {ALICE_KEY}"},
        )
    assert own.status_code == 200
    assert other.status_code == 403
    assert other.json() == {"error": "this API key belongs to QA user 'alice', not 'mallory'"}
