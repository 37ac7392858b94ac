"""Working-group accounts (scrypt hashes) and the web app's commands."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from commands.cli import app
from webapp.users import UserError, Users, check_password, hash_password


def test_hash_is_salted_scrypt_and_checks():
    first, second = hash_password("a long passphrase"), hash_password("a long passphrase")
    assert first.startswith("scrypt$") and first != second
    assert check_password("a long passphrase", first) and check_password("a long passphrase", second)
    assert not check_password("a long passphrasE", first)
    assert not check_password("anything", "not a hash")


def test_users_add_authenticate_and_refuse(home):
    from tbtwatch.settings import get_settings

    users = Users(get_settings())
    users.add("bob", "0123456789ab")
    assert users.authenticate("bob", "0123456789ab").name == "bob"
    assert users.authenticate("BOB", "0123456789ab").name == "bob"  # names are case-insensitive
    assert users.authenticate("bob", "wrong-password") is None
    assert users.authenticate("nobody", "0123456789ab") is None
    with pytest.raises(UserError, match="at least 10"):
        users.add("carol", "short")
    with pytest.raises(UserError, match="user name"):
        users.add("a b<script>", "0123456789ab")
    users.add("bob", "a-new-password-1")  # a second add sets a new password
    assert users.authenticate("bob", "0123456789ab") is None
    assert users.names() == ["bob"]


def test_users_add_command_prompts_for_the_password(home):
    runner = CliRunner()
    result = runner.invoke(app, ["users", "add", "dora"], input="password-for-dora\npassword-for-dora\n")
    assert result.exit_code == 0, result.output
    assert "dora can now log in" in result.output
    assert runner.invoke(app, ["users", "list"]).output.split() == ["dora"]
    mismatch = runner.invoke(app, ["users", "add", "eve"], input="password-one-1\npassword-two-2\n" * 3)
    assert mismatch.exit_code != 0


def test_index_rebuild_explains_what_it_needs(home, monkeypatch):
    runner = CliRunner()
    sqlite = runner.invoke(app, ["index", "rebuild", "--backend", "sqlite"])
    assert sqlite.exit_code == 2 and "system of record" in sqlite.output
    monkeypatch.delenv("TBTWATCH_ES_URL", raising=False)
    missing = runner.invoke(app, ["index", "rebuild"])
    assert missing.exit_code == 2 and "TBTWATCH_ES_URL" in missing.output
