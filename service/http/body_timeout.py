"""Request bodies must arrive within BODY_TIMEOUT seconds of the request's start.

uvicorn bounds the wait between requests (keep-alive) but not a body that trickles in: a
client that promises a 20 MB upload and sends a byte now and then holds its connection, and a
request in the app, for as long as it likes. This middleware gives each HTTP request one
deadline for all of its body; a read past it fails the request with 408 and
`Connection: close`, so the server drops the connection. Requests that read no body are
untouched, and so is everything after the body has arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send


class BodyTimeout(HTTPException):
    status_code = 408

    def __init__(self, seconds: float) -> None:
        super().__init__(
            detail=f"the request body did not arrive within {seconds:g} s (BODY_TIMEOUT)",
            headers={"Connection": "close"},
        )


def body_timeout_middleware(seconds: float) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            deadline = asyncio.get_running_loop().time() + seconds
            complete = False

            async def receive_in_time() -> Message:
                nonlocal complete
                if complete:  # the body is in; what follows is a wait for a disconnect
                    return await receive()
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await receive()
                except TimeoutError:
                    raise BodyTimeout(seconds) from None
                if message["type"] != "http.request" or not message.get("more_body", False):
                    complete = True
                return message

            await app(scope, receive_in_time, send)

        return middleware

    return wrap
