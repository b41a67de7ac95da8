"""The three-way save decision: a table of cases and the property that nothing is lost."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from romdeck.domain.save_sync import SaveAction, decide

A, B, C = "a" * 32, "b" * 32, "c" * 32
S, U, D, X = SaveAction.SKIP, SaveAction.UPLOAD, SaveAction.DOWNLOAD, SaveAction.CONFLICT


@pytest.mark.parametrize(
    ("local", "server", "baseline", "action"),
    [
        (None, None, None, S),
        (None, None, A, S),
        (A, A, None, S),
        (A, A, B, S),
        (A, None, None, U),  # first sync, this device → server
        (A, None, A, U),  # the server lost it: upload again
        (None, A, None, D),  # first sync, server → this device
        (None, A, A, D),  # deleted here: restored from the server
        (A, B, A, D),  # another device changed it
        (B, A, A, U),  # we changed it
        (A, B, C, X),  # both changed
        (A, B, None, X),  # no common history
    ],
)
def test_decision_table(
    local: str | None, server: str | None, baseline: str | None, action: SaveAction
) -> None:
    assert decide(local, server, baseline).action is action


hashes = st.one_of(st.none(), st.sampled_from([A, B, C]))


@given(local=hashes, server=hashes, baseline=hashes)
def test_no_decision_discards_a_version_that_exists_on_only_one_side(
    local: str | None, server: str | None, baseline: str | None
) -> None:
    action = decide(local, server, baseline).action
    # What each side holds afterwards; the server keeps every version it had (slot history).
    server_has = {server, baseline} - {None}
    local_after = {S: local, U: local, D: server, X: local}[action]
    server_after = server_has | ({local} if action is U else set())
    if action is X:
        assert local is not None and server is not None  # both kept, user chooses
    survivors = {local_after} | server_after
    for version in (local, server):
        if version is not None:
            assert version in survivors
    if action is D and local is not None:
        assert local == baseline  # the bytes replaced are already on the server


@given(local=hashes, server=hashes, baseline=hashes)
def test_skip_only_when_both_sides_hold_the_same_bytes(
    local: str | None, server: str | None, baseline: str | None
) -> None:
    if decide(local, server, baseline).action is S:
        assert local == server
