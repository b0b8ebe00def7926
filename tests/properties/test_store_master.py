"""Property tests of the store-master CSV import (service/jobs/stores.py).

Any store list written the way spreadsheets and scripts write CSV (CRLF or LF, a BOM or not,
a final newline or not, columns in any order and case, names quoted when they must be) parses
back to the same stores; a file with bad rows loads nothing and names every bad line.
"""

from __future__ import annotations

import csv
import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from service.jobs.stores import COLUMNS, Store, StoreFileError, parse_store_master

FAST = settings(max_examples=150, deadline=None, database=None, derandomize=True)

# Names: anything printable (commas, quotes, double spaces, any script) but line breaks,
# which a store name cannot hold; the import trims the ends of every field.
_name_chars = st.characters(
    blacklist_categories=("Cs",), blacklist_characters="\r\n", max_codepoint=0x2FFFF
)
names = st.text(_name_chars, min_size=1, max_size=80).map(str.strip).filter(bool)
names_with_tricks = st.one_of(
    names,
    st.builds(lambda a, b: f"{a},{b}", names, names),  # AB REHMAN,-1
    st.builds(lambda a, b: f'{a} "{b}"', names, names),  # quotes inside
    st.builds(lambda a, b: f"{a}  {b}", names, names),  # double spaces inside
)
store_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,20}\Z")
area_codes = st.from_regex(r"\A[0-9]{1,10}\Z")

stores_lists = st.lists(
    st.builds(Store, store_id=store_ids, store_name=names_with_tricks, area_code=area_codes),
    min_size=1,
    max_size=25,
    unique_by=lambda store: store.store_id,
)


@st.composite
def layouts(draw: st.DrawFn) -> dict:
    order = draw(st.permutations(COLUMNS))
    header = [draw(st.sampled_from([c, c.lower(), c.upper()])) for c in order]
    return {
        "order": order,
        "header": header,
        "newline": draw(st.sampled_from(["\r\n", "\n"])),
        "bom": draw(st.booleans()),
        "final_newline": draw(st.booleans()),
        "quote_all": draw(st.booleans()),
    }


def _field(store: Store, column: str) -> str:
    return {"AreaCode": store.area_code, "StoreName": store.store_name, "StoreID": store.store_id}[
        column
    ]


def write(rows: list[list[str]], layout: dict) -> bytes:
    out = io.StringIO(newline="")
    quoting = csv.QUOTE_ALL if layout["quote_all"] else csv.QUOTE_MINIMAL
    writer = csv.writer(out, lineterminator=layout["newline"], quoting=quoting)
    writer.writerow(layout["header"])
    writer.writerows(rows)
    text = out.getvalue()
    if not layout["final_newline"]:
        text = text.removesuffix(layout["newline"])
    return (b"\xef\xbb\xbf" if layout["bom"] else b"") + text.encode()


@FAST
@given(stores=stores_lists, layout=layouts())
def test_written_stores_parse_back_equal(stores: list[Store], layout: dict) -> None:
    rows = [[_field(store, column) for column in layout["order"]] for store in stores]
    assert parse_store_master(write(rows, layout)) == stores


# Rows that must be refused, each with what the problem message says.
BAD_ROWS = {
    "two fields": (["7100015", "ONLY TWO"], "expected 3 fields"),
    "four fields": (["7100015", "AB REHMAN", "-1", "RP09999"], "expected 3 fields"),
    "empty StoreID": (["7100015", "NAMED", "  "], "StoreID is empty"),
    "empty name": (["7100015", "", "RP09998"], "StoreName is empty"),
    "bad StoreID": (["7100015", "NAMED", "RP 0001"], "may hold only"),
    "long area": (["7" * 33, "NAMED", "RP09997"], "AreaCode is longer than 32"),
    "long name": (["7100015", "N" * 256, "RP09995"], "StoreName is longer than 255"),
    "long StoreID": (["7100015", "NAMED", "R" * 65], "StoreID is longer than 64"),
    "line break": (["7100015", "TWO\nLINES", "RP09996"], "contains a line break"),
}


@FAST
@given(
    stores=stores_lists,
    layout=layouts(),
    bad=st.lists(
        st.tuples(st.integers(min_value=0, max_value=30), st.sampled_from(sorted(BAD_ROWS))),
        min_size=1,
        max_size=4,
    ),
    blank_after=st.sets(st.integers(min_value=0, max_value=30), max_size=3),
    repeat=st.booleans(),
)
def test_bad_rows_load_nothing_and_are_named_by_line(
    stores: list[Store],
    layout: dict,
    bad: list[tuple[int, str]],
    blank_after: set[int],
    repeat: bool,
) -> None:
    layout = {**layout, "order": COLUMNS, "header": list(COLUMNS)}  # the bad rows' order
    rows: list[tuple[list[str], str | None]] = [
        ([_field(store, column) for column in COLUMNS], None) for store in stores
    ]
    for position, kind in sorted(bad, reverse=True):
        values, message = BAD_ROWS[kind]
        rows.insert(min(position, len(rows)), (values, message))
    if repeat:  # a StoreID seen before
        rows.append((["7100015", "AGAIN", stores[0].store_id], "repeats line"))
    # Expected problems by physical line: header is line 1; a blank line is skipped but counted;
    # a quoted field with a line break spans two lines.
    expected: dict[int, str] = {}
    physical: list[list[str]] = []
    line = 2
    for index, (values, message) in enumerate(rows):
        physical.append(values)
        if message:
            expected[line] = message
        line += 1 + sum(value.count("\n") for value in values)
        if index in blank_after:
            physical.append([])
            line += 1
    data = write(physical, layout)
    try:
        parse_store_master(data)
    except StoreFileError as exc:
        found = {}
        for problem in exc.problems:
            match = re.match(r"line (\d+): ", problem)
            assert match, problem
            found.setdefault(int(match[1]), problem)
        assert set(found) == set(expected), (found, expected)
        for number, message in expected.items():
            assert message in found[number], (number, found[number])
    else:
        raise AssertionError("a file with bad rows was loaded")


def test_the_message_shows_the_first_50_problems_and_counts_the_rest() -> None:
    rows = "".join(f"7100015,NAMED,BAD ID {n}\r\n" for n in range(60))
    try:
        parse_store_master(f"AreaCode,StoreName,StoreID\r\n{rows}".encode())
    except StoreFileError as exc:
        assert len(exc.problems) == 60
        lines = str(exc).splitlines()
        assert lines[:50] == exc.problems[:50]
        assert lines[50:] == ["... and 10 more problems"]
    else:
        raise AssertionError("a file with bad rows was loaded")
