"""`flask secrets ...`: the keys that encrypt SFTP passwords, private keys and TOTP secrets at rest."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from billing.cli.output import json_option, run_command
from billing.core.audit import Actor
from billing.core.secrets import Rotation, current_ring, new_key, rotate_secrets

secrets_cli = AppGroup("secrets", help="Encryption of stored secrets (SFTP credentials, two-factor secrets).")


def _summary(rotation: Rotation) -> dict[str, Any]:
    # Counts only: never a key, a token or a secret.
    return {"rotated": rotation.rotated, "already_current": rotation.current, "total_rotated": rotation.total_rotated,
            "keys": len(current_ring().keys)}


def _text(rotation: Rotation) -> str:
    current = sum(rotation.current.values())
    if not rotation.total_rotated:
        return f"Nothing to re-encrypt: all {current} stored secret(s) are already under the newest key."
    parts = ", ".join(f"{name} {count}" for name, count in rotation.rotated.items() if count)
    return (f"Re-encrypted {rotation.total_rotated} stored secret(s) under the newest key ({parts}); "
            f"{current} already were. The older keys can now be removed from CLAIMDESK_SECRETS_KEY.")


@secrets_cli.command("rotate")
@json_option
def rotate_command(as_json: bool) -> None:
    """Re-encrypt every stored secret under the newest key of CLAIMDESK_SECRETS_KEY (one transaction; rerunnable)."""
    run_command(lambda: rotate_secrets(actor=Actor.system("cli:secrets")), as_json=as_json, text=_text,
                data=_summary)


@secrets_cli.command("new-key")
def new_key_command() -> None:
    """Print a fresh random key to put first in CLAIMDESK_SECRETS_KEY (it is not stored anywhere)."""
    click.echo(new_key())
