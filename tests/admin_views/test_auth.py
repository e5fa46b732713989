"""Logging in and out, and what anonymous visitors may see."""

from __future__ import annotations

from flask import Flask

from app import create_app
from billing.core.db import db
from billing.people.models import Role, User
from tests.conftest import TEST_PASSWORD, csrf_token
from tests.worlds import factories


def _post_login(client, email: str, password: str, path: str = "/login"):
    return client.post(path, data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def test_login_page_is_public_and_has_a_csrf_field(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(client):
    for path in ("/", "/admin/", "/admin/client/", "/admin/user/new/"):
        response = client.get(path, follow_redirects=True)
        assert response.request.path == "/login", path


def test_successful_login_stamps_last_login_and_opens_the_admin(client):
    user = factories.UserFactory(role=Role.BILLER)
    assert user.last_login_at is None
    response = _post_login(client, user.email.upper(), TEST_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/")
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None
    assert client.get("/admin/").status_code == 200


def test_wrong_password_unknown_email_and_inactive_user_get_the_same_message(client):
    user = factories.UserFactory()
    inactive = factories.UserFactory(active=False)
    for email, password in (
        (user.email, "wrong password"),
        ("nobody@example.test", TEST_PASSWORD),
        (inactive.email, TEST_PASSWORD),
    ):
        response = _post_login(client, email, password)
        assert response.status_code == 200
        assert "do not match an active account" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_next_is_followed_only_within_the_site(client):
    user = factories.UserFactory()
    response = _post_login(client, user.email, TEST_PASSWORD, "/login?next=/admin/client/")
    assert response.headers["Location"].endswith("/admin/client/")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    for evil in ("https://evil.example/", "//evil.example/x", "http:/evil"):
        response = client.post(
            f"/login?next={evil}",
            data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": csrf_token(client)},
        )
        assert "evil" not in response.headers["Location"], evil
        client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})


def test_logout_needs_post_and_ends_the_session(client, login):
    login(Role.ACCOUNTANT)
    assert client.get("/logout").status_code == 405
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_a_deactivated_user_is_logged_out_on_the_next_request(client, login):
    user = login(Role.BILLER)
    user.active = False
    db.session.flush()
    assert client.get("/admin/").status_code == 302


def test_unknown_pages_get_the_friendly_404(client, login):
    login(Role.ADMIN)
    response = client.get("/admin/no-such-page/")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.get_data(as_text=True)


def test_an_unexpected_error_shows_the_friendly_500_without_a_traceback(tmp_path):
    app: Flask = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "PROPAGATE_EXCEPTIONS": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}",
        },
        instance_path=str(tmp_path),
    )

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "secret internals" not in body
    assert "Traceback" not in body
