"""`flask seed-demo` (the seeding itself lives in billing/demo/seed.py)."""

from __future__ import annotations

import time

import click

from billing.core.unit_of_work import unit_of_work
from demo.catalog import DEMO_LOGINS, DEMO_PASSWORD
from demo.seed import demo_scale, seed_demo


@click.command("seed-demo")
@click.option(
    "--scale",
    type=click.IntRange(1, 1000),
    default=None,
    help="Cohorts of 8 providers, 60 clients and ~1,000 sessions.  [default: 1, or the existing demo's]",
)
def seed_demo_command(scale: int | None) -> None:
    """Build the demo practice (safe to run again: a second run changes nothing) and print the logins."""
    started = time.perf_counter()
    with unit_of_work():
        # Without --scale, an existing demo of any size is fine (`make run` calls this every time).
        result = seed_demo(scale or demo_scale() or 1)
    if result.scale_mismatch:
        raise click.ClickException(result.summary(0))
    click.echo(result.summary(time.perf_counter() - started))
    if result.created and result.finalize_seconds:
        click.echo(f"Finalized {result.finalized:,} notes into claims in {result.finalize_seconds:.1f} s "
                   f"({result.finalized / result.finalize_seconds:,.0f} sessions/s).")
    click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
    for email, role, _name in DEMO_LOGINS:
        click.echo(f"  {email:26} {role:15} password: {DEMO_PASSWORD}")
