"""Types every HTTP module shares, so OpenAPI shows each of them once."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

MAX_ROW_ID = 2**63 - 1  # a larger path id is a 400, not a database overflow

RowId = Annotated[int, Parameter(ge=1, le=MAX_ROW_ID)]


class ErrorBody(msgspec.Struct):
    """Every 4xx/5xx body: a message a person (or a client) can act on."""

    error: str


def error_responses(**described: str) -> dict[int, ResponseSpec]:
    """OpenAPI entries for error statuses: `error_responses(e404="No such job")`."""
    return {
        int(key[1:]): ResponseSpec(ErrorBody, description=text, generate_examples=False)
        for key, text in described.items()
    }
