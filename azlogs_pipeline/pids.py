"""Whether a process of this host still runs, by its pid alone (no other import: the lake, the
local stack and the runner all ask). A process identity that survives pid reuse is
ingest/process.py's."""

from __future__ import annotations

import os
from pathlib import Path


def is_alive(pid: int) -> bool:
    """True while `pid` is a process of this host that has not exited (a zombie counts as gone;
    one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return status != "Z"
