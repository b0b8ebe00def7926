"""Optional API-key authentication: one policy table says which roles may call which route.

Off unless `API_KEYS` lists keys (`KEY:ROLE,...`). When on, a request names its key in
`Authorization: Bearer KEY` or `X-API-Key: KEY`; a missing or unknown key gets 401, a key
whose role the route does not allow gets 403, both with the usual `{"error": ...}` body.

Rules match the *route template* the router chose (`/api/products/{upc:str}/snapshots`), not
the raw path, so no spelling of a URL slips past a rule. The first matching rule wins; `admin`
may do everything; a route no rule names is admin-only (and a test fails until it is named).

The `username` header of the QA API names the reviewer. A key listed as `KEY:qa:USERNAME` is
bound to that reviewer: with it, any other `username` gets 403, so one key cannot cast the
several votes that settle a snapshot. A lead's key may be bound the same way
(`KEY:lead:USERNAME`): the history of moves then names who made each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard

from service.config import API_ROLES

PUBLIC: frozenset[str] = frozenset()  # no key needed
ANY_KEY = frozenset(API_ROLES)  # any valid key
ADMIN = frozenset({"admin"})
QA = frozenset({"qa"})
LEAD = frozenset({"lead"})
CLIENT = frozenset({"client"})
METRICS = frozenset({"metrics"})


@dataclass(frozen=True, slots=True)
class Rule:
    method: str  # an HTTP method, or "*"
    template: str  # a route template; fnmatch wildcards (`*` spans `/`)
    roles: frozenset[str]  # besides admin; PUBLIC for no key at all


POLICY: tuple[Rule, ...] = (
    # Probes, docs, the QA page's own files, CORS preflights.
    Rule("GET", "/healthz", PUBLIC),
    Rule("GET", "/readyz", PUBLIC),
    Rule("GET", "/core/public/v1*", PUBLIC),
    Rule("GET", "/qa", PUBLIC),
    Rule("GET", "/qa/static/*", PUBLIC),
    Rule("GET", "/qa/lead", PUBLIC),
    Rule("GET", "/qa/lead/static/*", PUBLIC),
    Rule("OPTIONS", "*", PUBLIC),
    # Stored images: content-addressed by sha256, so knowing a key means an authorised answer
    # handed it out (the S3 store's presigned URLs work the same way), and <img> tags cannot
    # send headers.
    Rule("GET", "/images/*", PUBLIC),
    Rule("GET", "/thumbs/*", PUBLIC),  # fixed-size thumbnails of those images
    # Catalog writes and the dataset export: admin only.
    Rule("POST", "/api/products", ADMIN),
    Rule("POST", "/api/products/*/snapshots", ADMIN),
    Rule("GET", "/qa/export", ADMIN),
    # The QA lead's desk: re-attribution (moves and their undo), review marks, QA priority,
    # and the desk's reads. The history of one snapshot is a catalog read (below).
    Rule("PATCH", "/api/snapshots/*", LEAD),
    Rule("POST", "/api/snapshots/*/undo", LEAD),
    Rule("GET", "/api/lead/*", LEAD),
    # The QA API (sessions, votes, leaderboard, confirmed examples, suspects).
    Rule("*", "/qa/*", QA),
    # Store-visit jobs: submit and status.
    Rule("POST", "/api/submit", CLIENT),
    Rule("GET", "/api/status", CLIENT),
    Rule("GET", "/api/jobs/*", CLIENT),
    Rule("GET", "/api/visits", CLIENT),
    # Catalog and similarity reads (a photo search is a read): any valid key.
    Rule("GET", "/api/products*", ANY_KEY),
    Rule("GET", "/api/snapshots/*", ANY_KEY),
    Rule("POST", "/api/search", ANY_KEY),
    # Prometheus scrapes with a key of its own.
    Rule("GET", "/metrics", METRICS),
)


def rule_for(method: str, template: str) -> Rule | None:
    """The first rule that matches; None means admin-only."""
    for rule in POLICY:
        if rule.method in ("*", method) and fnmatchcase(template, rule.template):
            return rule
    return None


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def presented_key(connection: ASGIConnection) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return connection.headers.get("x-api-key", "").strip() or None


def api_key_guard(keys: Iterable[tuple[str, str]]) -> Guard:
    """A guard for the whole app, holding the keys' sha256 digests (not the keys)."""
    roles_by_digest = {_digest(key): role for key, role in keys}

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        template = connection.scope.get("path_template", connection.scope["path"])
        rule = rule_for(connection.scope.get("method", "GET"), template)
        if rule is not None and not rule.roles:  # PUBLIC
            return
        key = presented_key(connection)
        # Looking up a digest, not the key: the time taken says nothing about the keys.
        role = roles_by_digest.get(_digest(key)) if key else None
        if role is None:
            raise NotAuthorizedException(
                "an API key is required: send Authorization: Bearer KEY or X-API-Key: KEY"
                if key is None
                else "unknown API key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        role, _, bound_user = role.partition(":")
        allowed = ADMIN if rule is None else rule.roles | ADMIN
        if role not in allowed:
            raise PermissionDeniedException(
                f"the {role!r} role may not do this (allowed: {', '.join(sorted(allowed))})"
            )
        claimed = connection.headers.get("username")
        if bound_user and claimed is not None and claimed != bound_user:
            who = "QA user" if role == "qa" else role
            raise PermissionDeniedException(
                f"this API key belongs to {who} {bound_user!r}, not {claimed!r}"
            )

    return guard
