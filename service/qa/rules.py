"""The rules a QA session runs by: its size, the verdicts a snapshot takes, its idle TTL, the
hand-out order, and which consensus rule settles snapshots (service/qa/deciding.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from service.config import Settings
from service.qa import voting


@dataclass(frozen=True, slots=True)
class Rules:
    size: int
    votes: int
    ttl: timedelta
    priority: str = "random"
    consensus: str = "majority"  # or "assisted" (service/qa/consensus.py)
    confidence: float = 0.99  # the assisted rule's posterior threshold
    model: str = ""  # the embedder whose suspicion scores feed the assisted rule's prior

    @classmethod
    def from_settings(cls, settings: Settings, model: str = "") -> Rules:
        return cls(
            size=settings.qa_session_size,
            votes=settings.qa_votes,
            ttl=timedelta(seconds=settings.qa_session_ttl),
            priority=settings.qa_priority,
            consensus=settings.qa_consensus,
            confidence=settings.qa_confidence,
            model=model,
        )

    @property
    def assisted(self) -> bool:
        return self.consensus == "assisted"

    @property
    def majority(self) -> int:
        return voting.majority(self.votes)
