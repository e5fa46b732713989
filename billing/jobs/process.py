"""Which process this is, as run and export records name it."""

from __future__ import annotations

import os
import socket


def host() -> str:
    """host:pid, to tell two scheduler copies (or a CLI run beside the scheduler) apart in the records."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]
