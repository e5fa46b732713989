"""`flask seed-demo` (the seeding itself lives in billing/demo/seed.py)."""

from __future__ import annotations

import click


@click.command("seed-demo")
@click.option("--scale", type=click.IntRange(1, 1000), default=1, show_default=True)
def seed_demo_command(scale: int) -> None:
    """Build the demo practice."""
    raise click.ClickException("seed-demo is not available yet")
