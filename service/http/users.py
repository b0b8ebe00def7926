"""Who is asking: the `username` header of the QA and lead APIs, checked once for both."""

from __future__ import annotations

import re
from typing import Annotated

from litestar.params import HeaderParameter

from service.errors import InvalidInput

_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
_USERNAME_RULE = "1 to 64 letters, digits, '.', '_' or '-'"


def qa_username(
    username: Annotated[
        str | None,
        HeaderParameter(
            name="username", required=False, description=f"The QA user: {_USERNAME_RULE}"
        ),
    ] = None,
) -> str:
    """The `username` header every /qa request carries."""
    if username is None or username == "":
        raise InvalidInput(f"the 'username' header is required ({_USERNAME_RULE})")
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(f"the 'username' header must be {_USERNAME_RULE}")
    return username
