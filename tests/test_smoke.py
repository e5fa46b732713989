from __future__ import annotations

from billing.people.models import Role


def test_admin_index_renders_for_logged_in_admin(client, login):
    login(Role.ADMIN)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Active clients" in response.get_data(as_text=True)
