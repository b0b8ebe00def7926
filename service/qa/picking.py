"""Which snapshots a new QA session is offered, in the order they are tried.

A picker returns candidates (rows with `id` and `product_id`) that are pending, can take one
more reservation and were never given to this user (under QA_CONSENSUS=assisted: fewer
reservations than its `verdicts_needed`). Candidates are only a proposal read without locks:
the session transaction re-checks each one with a conditional UPDATE.

`random` (the default) walks the (status, rand_key) index from a random start point and wraps
around, instead of `ORDER BY RAND()`, which would sort the whole queue on every request. Early
in a catalog under the assisted rule (`spread_model` set), it over-fetches and deals the
candidates out across suspicion levels in turn, so that the first verdicts teach the model's
calibration at every level, not only where snapshots are most common.
Other orders (QA_PRIORITY=suspects, say) register here with `register`. Whatever the order,
snapshots a lead sent to QA first (`qa_first_at`, service/lead) come before all others.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from service.db import Row, Session
from service.qa.consensus import level


@dataclass(frozen=True, slots=True)
class PickRequest:
    username: str
    majority: int
    limit: int
    rng: random.Random
    assisted: bool = False  # QA_CONSENSUS=assisted: each snapshot's own verdicts_needed limits
    spread_model: str | None = None  # mix the suspicion levels of this model's scores


Picker = Callable[[Session, PickRequest], list[Row]]


SPREAD_SAMPLE = 3  # candidates read per one offered, to deal out across levels


def pick_spread(session: Session, request: PickRequest) -> list[Row]:
    """A random sample of SPREAD_SAMPLE x the limit, dealt out one suspicion level (rounded as
    the calibration rounds; unscored is one more) at a time, the levels shuffled each round."""
    params = {"username": request.username, "model": request.spread_model,
              "start": request.rng.random(), "limit": SPREAD_SAMPLE * request.limit}  # fmt: skip
    sample = session.fetch_all("qa_pick_scored_from", params)
    if len(sample) < params["limit"]:
        rest = {**params, "limit": params["limit"] - len(sample)}
        sample += session.fetch_all("qa_pick_scored_before", rest)
    piles: dict[float | None, list[Row]] = {}
    for row in sample:
        suspicion = row["suspicion"]
        piles.setdefault(None if suspicion is None else level(float(suspicion)), []).append(row)
    dealt: list[Row] = []
    while piles and len(dealt) < request.limit:
        order = list(piles)
        request.rng.shuffle(order)
        for key in order[: request.limit - len(dealt)]:
            dealt.append(piles[key].pop())
            if not piles[key]:
                del piles[key]
    return dealt


def pick_random(session: Session, request: PickRequest) -> list[Row]:
    if request.assisted and request.spread_model is not None:
        return pick_spread(session, request)
    params = {
        "username": request.username,
        "majority": request.majority,
        "start": request.rng.random(),
        "limit": request.limit,
        "assisted": int(request.assisted),
    }
    rows = session.fetch_all("qa_pick_from", params)
    if len(rows) < request.limit:
        rows += session.fetch_all("qa_pick_before", {**params, "limit": request.limit - len(rows)})
    return rows


_PICKERS: dict[str, Picker] = {"random": pick_random}


def register(name: str, picker: Picker) -> None:
    """Make `picker` available as QA_PRIORITY=name."""
    _PICKERS[name] = picker


def lead_first(picker: Picker) -> Picker:
    """`picker`'s candidates after the ones a lead sent to QA first."""

    def pick(session: Session, request: PickRequest) -> list[Row]:
        first = session.fetch_all(
            "qa_pick_first",
            {"username": request.username, "majority": request.majority,
             "assisted": int(request.assisted), "limit": request.limit},
        )  # fmt: skip
        if len(first) >= request.limit:
            return first
        seen = {row["id"] for row in first}
        rest = [row for row in picker(session, request) if row["id"] not in seen]
        return (first + rest)[: request.limit]

    return pick


def picker_for(priority: str) -> Picker:
    """The picker for a QA_PRIORITY value (random when none is registered under that name),
    lead-prioritised snapshots first."""
    return lead_first(_PICKERS.get(priority, pick_random))
