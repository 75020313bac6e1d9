"""Identity: the orgs/users/tokens CLI, password login, token expiry and scopes, settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_world import PASSWORD, World, incident
from sqlalchemy import select, update
from typer.testing import CliRunner

from corridorguard.api.config import ServerSettings, load_signing_key
from corridorguard.cli import app as cli
from corridorguard.errors import ConfigError
from corridorguard.settings import Settings
from corridorguard.store import open_store
from corridorguard.store.identity import ApiTokenRow, UserRow, hash_token

runner = CliRunner()


def cg(*args: str, stdin: str | None = None) -> tuple[int, str]:
    res = runner.invoke(cli, list(args), input=stdin)
    return res.exit_code, res.stdout


def test_bootstrap_from_the_cli(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cg.sqlite3'}"
    code, out = cg("orgs", "create", "ORG-A", "--db", db, "--json")
    assert code == 0 and json.loads(out)["kind"] == "agency"
    assert cg("orgs", "create", "BOARD", "--kind", "oversight", "--db", db)[0] == 0
    assert cg("orgs", "create", "ORG-A", "--db", db)[0] == 2  # duplicate
    pw = "a long enough password\n"
    code, out = cg(
        "users", "create", "alice", "--org", "ORG-A", "--role", "analyst", "--password-stdin",
        "--db", db, "--json", stdin=pw,
    )  # fmt: skip
    assert code == 0 and json.loads(out)["role"] == "analyst"
    bad = [
        ("bob", "ORG-A", "general", pw),  # unknown role
        ("bob", "NOPE", "analyst", pw),  # unknown organisation
        ("bob", "BOARD", "analyst", pw),  # oversight bodies hold oversight users only
        ("bob", "ORG-A", "analyst", "short\n"),  # weak password
    ]
    for user, org, role, secret in bad:
        code, _ = cg(
            "users", "create", user, "--org", org, "--role", role, "--password-stdin",
            "--db", db, stdin=secret,
        )  # fmt: skip
        assert code == 2, (user, org, role)
    code, out = cg(
        "tokens", "create", "--user", "alice", "--expires-days", "2", "--db", db, "--json"
    )
    token = json.loads(out)["token"]
    assert code == 0 and token.startswith("cg_")
    with open_store(db) as store, store.session(write=False) as s:
        row = s.scalar(select(ApiTokenRow))
        assert row is not None and row.token_hash == hash_token(token)  # only the hash is kept
        user = s.scalar(select(UserRow))
        assert user is not None and user.password_hash.startswith("$argon2id$")
    assert cg("tokens", "create", "--user", "alice", "--scopes", "admin", "--db", db)[0] == 2
    assert cg("tokens", "create", "--user", "nobody", "--db", db)[0] == 2
    code, out = cg("users", "list", "--db", db, "--json")
    assert "password" not in out and json.loads(out)[0]["username"] == "alice"


def test_password_login_issues_a_token_and_is_audited(world: World) -> None:
    r = world.client.post(
        "/api/v1/auth/token", json={"username": "analyst-org-a", "password": PASSWORD}
    )
    assert r.status_code == 201
    token = r.json()["token"]
    me = world.client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    bad = world.client.post(
        "/api/v1/auth/token", json={"username": "analyst-org-a", "password": "x"}
    )
    nobody = world.client.post("/api/v1/auth/token", json={"username": "ghost", "password": "x"})
    assert bad.status_code == nobody.status_code == 401 and bad.content == nobody.content
    log = world.get("oversight-board", "/api/v1/audit/entries", limit=1000).json()["entries"]
    logins = [
        (e["entry"]["outcome"], e["entry"]["detail"].get("username"))
        for e in log
        if e["entry"]["action"] == "login"
    ]
    assert logins == [("ok", None), ("denied", "analyst-org-a"), ("denied", "ghost")]


def test_expired_revoked_and_underscoped_tokens(world: World) -> None:
    from datetime import UTC, datetime, timedelta

    with world.store.session() as s:
        s.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.token_hash == hash_token(world.tokens["analyst-org-a"]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        s.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.token_hash == hash_token(world.tokens["analyst-org-b"]))
            .values(revoked_at=datetime.now(UTC))
        )
    assert world.get("analyst-org-a", "/api/v1/incidents").status_code == 401
    assert world.get("analyst-org-b", "/api/v1/incidents").status_code == 401
    r = world.client.post(
        "/api/v1/auth/token",
        json={"username": "reporter-org-c", "password": PASSWORD, "scopes": ["read"]},
    )
    ro = {"Authorization": f"Bearer {r.json()['token']}"}
    assert world.client.get("/api/v1/incidents", headers=ro).status_code == 200
    denied = world.client.post("/api/v1/incidents", json=incident(), headers=ro)
    assert denied.status_code == 403 and "scope" in denied.json()["message"]


def test_admins_manage_their_own_organisation_only(world: World) -> None:
    new = {"username": "new-analyst", "role": "analyst", "password": "another long password"}
    r = world.post("admin-org-b", "/api/v1/users", new)
    assert r.status_code == 201 and r.json()["org"] == "ORG-B"
    assert world.post("admin-org-b", "/api/v1/users", {**new, "org": "ORG-A"}).status_code == 422
    users = world.get("admin-org-b", "/api/v1/users").json()
    assert {u["org"] for u in users} == {"ORG-B"}
    assert world.get("analyst-org-b", "/api/v1/users").status_code == 403
    assert world.post("admin-org-a", "/api/v1/orgs", {"name": "ORG-D"}).status_code == 201
    assert world.post("planner-org-a", "/api/v1/orgs", {"name": "ORG-E"}).status_code == 403
    names = [o["name"] for o in world.get("reporter-org-c", "/api/v1/orgs").json()]
    assert "ORG-D" in names


def test_the_audit_key_is_required_outside_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="AUDIT_KEY_FILE"):
        load_signing_key(ServerSettings(), Settings(environment="production", secret_key="s" * 40))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings(environment="production")
    monkeypatch.setattr("platformdirs.user_data_dir", lambda *_a, **_k: str(tmp_path))
    key = load_signing_key(ServerSettings(), Settings(environment="development"))
    again = load_signing_key(ServerSettings(), Settings(environment="development"))
    assert key.public_key() == again.public_key()  # generated once into the data dir
    assert (tmp_path / "audit-signing-key.pem").stat().st_mode & 0o777 == 0o600
