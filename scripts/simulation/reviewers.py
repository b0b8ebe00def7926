"""Simulated reviewers clearing the QA queue through the API, and the run's score against the
truth."""

from __future__ import annotations

import random
import threading
import time

from scripts.simulation.scenarios import Client, Crowd, Options, Result, Scenario
from service.db import Engine


def verdict(seed: int, reviewer: int, snapshot_id: int, truth: bool, accuracy: float) -> bool:
    """The reviewer's fixed answer on this snapshot: right with probability `accuracy`."""
    draw = random.Random(f"{seed}/{reviewer}/{snapshot_id}").random()  # seeded by SHA-512
    return truth if draw < accuracy else not truth


class Shared:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_progress = time.monotonic()
        self.errors: list[str] = []

    def progress(self) -> None:
        with self.lock:
            self.last_progress = time.monotonic()


def _pending(engine: Engine) -> int:
    rows = engine.read(lambda s: s.fetch_all("qa_queue_state"))
    return sum(int(r["snapshots"]) for r in rows if r["status"] == "pending")


def _reviewer(client: Client, index: int, accuracy: float, truth: dict[int, bool],
              options: Options, engine: Engine, shared: Shared) -> None:  # fmt: skip
    headers = {"username": f"sim-qa-{options.seed}-{index}"}
    try:
        while time.monotonic() - shared.last_progress < options.stall_seconds:
            response = client.post("/qa/session", headers=headers)
            if response.status_code == 400:
                if response.json().get("error") == "Session already exists":
                    raise RuntimeError(f"{headers['username']} has an open session already")
                if _pending(engine) == 0:
                    return
                time.sleep(0.02)  # what is left is held by others; a verdict may free a slot
                continue
            response.raise_for_status()
            session = response.json()
            for item in session["snapshots"]:
                snapshot_id = item["snapshot_id"]
                answer = verdict(options.draws, index, snapshot_id,
                                 truth.get(snapshot_id, True), accuracy)  # fmt: skip
                result = client.patch(
                    f"/qa/session/{session['session_id']}/snapshot/{snapshot_id}",
                    json={"is_match": answer}, headers=headers,
                )  # fmt: skip
                result.raise_for_status()
                shared.progress()
    except Exception as exc:  # reported once all threads are done
        shared.errors.append(f"{headers['username']}: {exc!r}")


def _truth(engine: Engine) -> dict[int, bool]:
    rows = engine.read(lambda s: s.fetch_all("catalog_truth"))
    return {r["snapshot_id"]: r["product_id"] == r["true_product_id"] for r in rows}


def work_queue(client: Client, engine: Engine, crowd: Crowd, options: Options) -> float:
    truth = _truth(engine)
    if not truth:
        raise SystemExit("no snapshot has a known truth: seed the demo catalog first")
    shared = Shared()
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=_reviewer, args=(client, i, accuracy, truth, options, engine, shared)
        )  # fmt: skip
        for i, accuracy in enumerate(crowd.accuracies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if shared.errors:
        raise SystemExit("simulation failed:\n" + "\n".join(shared.errors))
    return time.monotonic() - started


def score(engine: Engine, scenario: Scenario, seconds: float, after_id: int = 0) -> Result:
    """The run's figures over the snapshots with a known truth and an id above `after_id`."""
    from service.qa import voting

    truth_rows = [r for r in engine.read(lambda s: s.fetch_all("catalog_truth"))
                  if r["snapshot_id"] > after_id]  # fmt: skip
    settled = engine.read(lambda s: s.raw(
        "SELECT id FROM snapshots WHERE settled_by = 'assisted'"))  # fmt: skip
    assisted = {row["id"] for row in settled}
    resolved = verdicts = correct = wrong = caught = by_model = 0
    for row in truth_rows:
        is_match = row["product_id"] == row["true_product_id"]
        wrong += not is_match
        if row["status"] == voting.PENDING:
            continue
        resolved += 1
        verdicts += row["votes_match"] + row["votes_mismatch"]
        correct += (row["status"] == voting.MATCH) == is_match
        caught += (not is_match) and row["status"] == voting.MISMATCH
        by_model += row["snapshot_id"] in assisted
    return Result(scenario, len(truth_rows), resolved, verdicts, correct, wrong, caught,
                  by_model, seconds)  # fmt: skip
