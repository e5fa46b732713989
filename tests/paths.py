"""Where the suite finds what lives outside tests/: the repository root and the public X12 samples."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The shared folder beside the checkout (not part of the repository); CI always has it.
SHARED = REPO_ROOT.parent / "shared"
X12_SAMPLES = SHARED / "x12-samples"
