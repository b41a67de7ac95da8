"""The one errno → error mapping the file adapters share."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from romdeck.adapters.files.os_errors import write_error
from romdeck.errors import DiskFullError, DownloadFailedError, StateError


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_or_quota_becomes_disk_full_naming_the_path(code: int) -> None:
    error = write_error(OSError(code, "No space left"), Path("/x/shortcuts.vdf"), other=StateError)
    assert isinstance(error, DiskFullError)
    assert "/x/shortcuts.vdf" in error.message


def test_any_other_failure_becomes_the_callers_error_with_the_reason() -> None:
    error = write_error(
        OSError(errno.EACCES, "Permission denied"),
        Path("/roms/a.zip"),
        other=DownloadFailedError,
        doing="unpack into",
    )
    assert type(error) is DownloadFailedError
    assert error.message == "Cannot unpack into /roms/a.zip: Permission denied"
