"""The layer contract ([tool.importlinter] in pyproject.toml) holds, and it would catch an upward import.

The same check as `make lint` (lint-imports), run in a child process from the repository root; the second test
plants an upward import in a copy of the code and expects the contract to break on it, so the contract cannot be
loosened (a layer dropped, a package left out) without this suite noticing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO_ROOT

PACKAGES = ("billing", "rules", "exports", "admin_views", "demo")  # root_packages of the contract
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports over the packages under `root`, with the contract in `root`/pyproject.toml."""
    # S603: a fixed command line: this interpreter running import-linter's own entry point.
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=root, env={"PATH": "", "PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=120,
    )


def test_the_layer_contract_is_kept():
    result = lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    """billing.core is the bottom layer: a core module importing claims (a higher layer) must be refused."""
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert lint_imports(tmp_path).returncode == 0, "the untouched copy should keep the contract"

    lower = tmp_path / "billing" / "core" / "money.py"
    lower.write_text(lower.read_text() + "\nimport billing.claims.models  # an upward import, planted by the test\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 broken" in result.stdout
    assert "billing.core.money -> billing.claims.models" in result.stdout, result.stdout
