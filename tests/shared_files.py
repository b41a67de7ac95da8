"""Where the shared reference files are: ``../shared`` beside the repository.

CI clones the repository into another folder with a copy of ``shared/`` beside it, so
tests locate it from this file, never from an absolute path. ``$ROMDECK_SHARED`` overrides.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("ROMDECK_SHARED") or Path(__file__).resolve().parents[2] / "shared")
CAPTURES = SHARED / "romm-api" / "captures"
REAL_FILES = SHARED / "real-files"


def real_files() -> Path:
    """The real upstream config files (``shared/real-files``).

    Raises ``FileNotFoundError`` (failing the test, never skipping it) when the folder
    is missing: the parsers must be tested on these files, not on ones we wrote.
    """
    if not REAL_FILES.is_dir():
        raise FileNotFoundError(f"real upstream files are not available at {REAL_FILES}")
    return REAL_FILES
