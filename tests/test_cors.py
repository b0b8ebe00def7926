"""CORS: browser apps on other origins (a field agents' web app, the analysts' notebooks)
call the API; their preflights pass without a key, and answers carry the CORS headers."""

from __future__ import annotations

from litestar.testing import TestClient

from service.config import Settings
from tests.conftest import make_app

ORIGIN = "https://agents.example.com"
KEY = "k" * 24


def test_a_preflight_for_a_submit_is_allowed_with_the_headers_asked_for(
    settings: Settings,
) -> None:
    # With keys required: the preflight itself carries none, and must not be refused.
    with TestClient(app=make_app(settings, api_keys=((KEY, "client"),))) as client:
        answer = client.options(
            "/api/submit/",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, x-api-key",
            },
        )
    assert answer.status_code in (200, 204), answer.text
    assert answer.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert "x-api-key" in allowed or allowed == "*"


def test_answers_to_another_origin_carry_the_allow_origin_header(settings: Settings) -> None:
    with TestClient(app=make_app(settings)) as client:
        answer = client.get("/healthz", headers={"Origin": ORIGIN})
        refused = client.get("/api/status", params={"jobid": "x"}, headers={"Origin": ORIGIN})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] in ("*", ORIGIN)
    # errors too, or the browser hides the JSON error body from the app
    assert refused.status_code == 400
    assert refused.headers["access-control-allow-origin"] in ("*", ORIGIN)
