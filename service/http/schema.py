"""Types every HTTP module shares, so OpenAPI shows each of them once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody
from litestar.params import Parameter
from msgspec import Meta

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


def inline_schema(struct: type) -> dict[str, Any]:
    """The JSON schema of a Struct with its $refs inlined (for a hand-read request body)."""
    (schema,), components = msgspec.json.schema_components([struct], ref_template="{name}")

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(components[node["$ref"]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


def json_body_operation(struct: type, description: str) -> type[Operation]:
    """An `operation_class` documenting a JSON body the handler reads itself (strict decoding,
    our own messages), where a `data` parameter would have Litestar parse it first."""

    @dataclass
    class JSONBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                content={"application/json": OpenAPIMediaType(schema=inline_schema(struct))},  # type: ignore[arg-type]
                description=description,
                required=True,
            )

    return JSONBodyOperation


UPC = Annotated[
    str, Meta(pattern=r"^[0-9]{8,14}$", description="Universal Product Code: 8 to 14 digits")
]
