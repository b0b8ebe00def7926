"""Property test of `visit_time` parsing: a control character anywhere is a 400 (issue 18).

Python 3.11's `fromisoformat` stops reading at a NUL, so `2026-11-21T10:00:00\x00` once passed
as 10:00; no control character, wherever it is put in a valid time, may be ignored.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.jobs.validation import parse_visit_time

FAST = settings(max_examples=200, deadline=None, database=None, derandomize=True)

VALID = [
    "2026-11-21T10:00:00",
    "2026-11-21T10:00:00+05:30",
    "2026-11-21 10:05:00",
    "2026-11-21T10:00:00.123Z",
]
controls = st.characters(min_codepoint=0, max_codepoint=0x9F).filter(
    lambda c: ord(c) < 0x20 or ord(c) >= 0x7F
)


@FAST
@given(base=st.sampled_from(VALID), control=controls, where=st.integers(min_value=0))
def test_a_control_character_anywhere_is_refused(base: str, control: str, where: int) -> None:
    at = where % (len(base) + 1)
    with pytest.raises(ValueError, match=r"contains a control character \(U\+00[0-9A-F]{2}\)"):
        parse_visit_time(base[:at] + control + base[at:])


@pytest.mark.parametrize("text", VALID)
def test_the_valid_forms_still_parse(text: str) -> None:
    parse_visit_time(text)
    parse_visit_time(f" {text} ")  # surrounding spaces are still trimmed
