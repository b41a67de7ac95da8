"""Which ``updated_after`` a resync asks for."""

from __future__ import annotations

import pytest

from romdeck.domain.watermark import EPOCH, updated_after


def test_the_newest_mark_less_the_margin_is_used_so_an_old_platform_does_not_widen_it():
    marks = ["2024-01-01T00:00:00+00:00", "2026-11-28T20:37:12.352851+00:00"]
    assert updated_after(marks, margin_s=300) == "2026-11-28T20:32:12.352851+00:00"


def test_no_marks_or_marks_near_the_epoch_give_the_epoch():
    assert updated_after([]) == EPOCH
    assert updated_after([EPOCH]) == EPOCH


def test_a_mark_that_is_not_a_datetime_is_an_error():
    with pytest.raises(ValueError):
        updated_after(["yesterday"])
