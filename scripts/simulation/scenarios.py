"""What a simulation run is: its catalog, crowd and rule (`Scenario`), and what it measured
(`Result`, summable over draws)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from service.config import ROOT

TRAX = ROOT.parent / "shared" / "data" / "trax-sample"
GROCERY = ROOT.parent / "shared" / "data" / "grocery-train"
PHOTOS = {"trax": TRAX, "grocery": GROCERY}  # real photos, imported with a share flipped
WRONG_SHARE = 0.10


class Client(Protocol):
    def post(self, url: str, **kwargs: Any) -> httpx.Response: ...
    def patch(self, url: str, **kwargs: Any) -> httpx.Response: ...


@dataclass(frozen=True)
class Crowd:
    name: str
    accuracies: tuple[float, ...]  # one per reviewer


CROWDS = {
    "p0.9": Crowd("p0.9", (0.9,) * 10),
    "mixed": Crowd("mixed", (0.95, 0.95, 0.9, 0.9, 0.8, 0.8, 0.5)),
}


@dataclass
class Options:
    session_size: int = 20
    seed: int = 1  # names the reviewers (sim-qa-SEED-N)
    draws: int = 1  # seeds the verdicts and trax-sample's mis-attributions
    repeats: int = 5  # runs on real photos (draws seed, seed + 1, ...), summed
    stall_seconds: float = 20.0
    products: int = 20  # the demo catalog's size
    per_product: int = 50
    url: str | None = None
    embedder: str = "default"  # EMBEDDER for the runs
    model_dir: str = "var/models"


@dataclass(frozen=True)
class Scenario:
    catalog: str  # "demo", "trax", "grocery" or "trax after demo"
    crowd: Crowd
    consensus: str  # "majority" or "assisted"
    inverted: bool = False  # every suspicion score negated
    runs: int = 1  # summed over this many draws

    @property
    def rule(self) -> str:
        return f"{self.consensus}, model inverted" if self.inverted else self.consensus


@dataclass
class Result:
    scenario: Scenario
    snapshots: int
    resolved: int
    verdicts: int
    correct: int
    wrong_attributions: int
    caught: int
    settled_assisted: int
    seconds: float
    singles: tuple[tuple[int, float, float], ...] = ()  # (draw, per_snapshot, accuracy) each

    def __add__(self, other: Result) -> Result:
        return Result(
            dataclasses.replace(self.scenario, runs=self.scenario.runs + other.scenario.runs),
            self.snapshots + other.snapshots, self.resolved + other.resolved,
            self.verdicts + other.verdicts, self.correct + other.correct,
            self.wrong_attributions + other.wrong_attributions, self.caught + other.caught,
            self.settled_assisted + other.settled_assisted, self.seconds + other.seconds,
            self.singles + other.singles,
        )  # fmt: skip

    @property
    def per_snapshot(self) -> float:
        return self.verdicts / self.resolved if self.resolved else 0.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.resolved if self.resolved else 0.0
