"""loads_in_slices decodes exactly what json.loads does, pausing inside big arrays."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from romdeck.adapters.romm.json_slices import loads_in_slices

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(st.dictionaries(st.text(), _json, max_size=6), st.sampled_from([None, 0, 2]))
def test_any_object_decodes_as_json_loads_does(document: dict, indent: int | None) -> None:
    text = json.dumps(document, indent=indent)
    assert loads_in_slices(text.encode(), slice_chars=8, pause=lambda: None) == json.loads(text)


@given(_json)
def test_any_other_document_decodes_as_json_loads_does(document: object) -> None:
    text = json.dumps(document)
    assert loads_in_slices(text) == json.loads(text)


def test_a_page_of_items_pauses_between_slices_and_keeps_key_order() -> None:
    page = {"items": [{"id": i, "name": "x" * 100} for i in range(1000)], "total": 1000}
    pauses: list[int] = []
    decoded = loads_in_slices(json.dumps(page), slice_chars=10_000, pause=lambda: pauses.append(1))
    assert decoded == page and list(decoded) == ["items", "total"]  # type: ignore[arg-type]
    assert len(pauses) >= 10


@pytest.mark.parametrize(
    "text",
    [
        '{"items": [1, 2',
        '{"items": [1 2]}',
        '{"a": 1} x',
        '{"a" 1}',
        '{"a": [1,]}',
        "{",
        "{'a': 1}",
    ],
)
def test_a_broken_document_is_refused_like_json_loads_refuses_it(text: str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        loads_in_slices(text)
