"""What the login views share: the per-address throttle, the clock, and finishing a login.

Finishing a login starts a new session (so the CSRF token is a new one too: a token planted before
login is worthless after it) and stamps the activity time the idle logoff counts from.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app, redirect, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import login_user
from werkzeug.wrappers import Response

from admin_views.redirects import safe_next
from billing.core.db import utcnow
from billing.core.unit_of_work import unit_of_work
from billing.people.logins import record_login
from billing.people.models import User

#: Behind a proxy the remote address is the proxy's unless CLAIMDESK_PROXY_COUNT tells ProxyFix to trust it.
limiter = Limiter(get_remote_address)
#: The session key holding when the user last did something (seconds since the epoch).
SEEN_KEY = "seen"
TOO_MANY = "Too many login attempts from your address. Wait a minute, then try again."


def now() -> datetime:
    """The login clock: CLAIMDESK_CLOCK (a callable; tests fix it) or the real time."""
    clock: Callable[[], datetime] | None = current_app.config.get("CLAIMDESK_CLOCK")
    return clock() if clock else utcnow()


def login_rate() -> str:
    return str(current_app.config["CLAIMDESK_LOGIN_RATE_LIMIT"])


def throttle_off() -> bool:
    return not current_app.config["CLAIMDESK_LOGIN_THROTTLE"]


def throttled(view: Callable[..., object]) -> Callable[..., object]:
    """Count POSTs to this view against the address's login allowance (CLAIMDESK_LOGIN_RATE_LIMIT)."""
    return limiter.limit(login_rate, methods=["POST"], exempt_when=throttle_off, error_message=TOO_MANY,
                         scope="login")(view)


def complete_login(user: User, target: str | None) -> Response:
    """Log `user` in on a fresh session and go to `target` (when it is on this site) or the dashboard."""
    moment = now()
    with unit_of_work():
        record_login(user, now=moment)
    session.clear()
    login_user(user)
    session[SEEN_KEY] = int(moment.timestamp())
    return redirect(safe_next(target) or url_for("admin.index"))
