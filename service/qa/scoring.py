"""Which model's suspicion scores QA reads (the assisted rule's prior, the lead's desk):
similarity registers the answer when it starts, so QA imports none of it. Without it, no
model: the assisted rule then settles by verdicts alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from service.services import Services

ModelName = Callable[[Services], Awaitable[str]]
_model: list[ModelName] = []


def register_model(model: ModelName) -> None:
    _model[:] = [model]


async def model_name(services: Services) -> str:
    return await _model[0](services) if _model else ""
