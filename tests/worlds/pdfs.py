"""Reading PDFs back in tests: the text with pdfplumber, and one page rendered with pdftoppm (poppler-utils)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image


def pdf_pages(data: bytes) -> list[str]:
    """Each page's text, in reading order."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def pdf_text(data: bytes) -> str:
    return "\n".join(pdf_pages(data))


def inked_share(pdf: Path, tmp_path: Path) -> float:
    """Page 1 rendered to PNG by pdftoppm: the share of its pixels that are not white (0.0 is a blank page)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.skip("pdftoppm is missing: apt-get install -y poppler-utils (.ci/run installs it)")
    stem = tmp_path / "page"
    subprocess.run([tool, "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],  # noqa: S603
                   check=True, capture_output=True, timeout=60)
    image = Image.open(f"{stem}.png").convert("L")
    dark = sum(image.histogram()[:200])  # grey levels 0..199: ink, not paper
    return dark / (image.width * image.height)
