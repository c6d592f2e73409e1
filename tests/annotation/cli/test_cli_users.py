"""`python -m annotation user ...`."""

import json

from annotation.accounts.users import sign_in
from annotation.cli.main import main
from annotation.ops.startup import prepare
from tests.utils.cli import cli_database


def test_add_list_role_and_password(tmp_path, monkeypatch, capsys):
    url = cli_database(tmp_path, monkeypatch)
    monkeypatch.setenv("REDLINE_PASSWORD", "from the env 1")
    assert main(["init"]) == 0
    assert "no accounts yet" in capsys.readouterr().out
    assert main(["user", "add", "root", "--role", "admin"]) == 0
    assert main(["user", "add", "ann"]) == 0
    assert main(["user", "role", "ann", "admin"]) == 0
    monkeypatch.setenv("REDLINE_PASSWORD", "changed password")
    assert main(["user", "password", "ann"]) == 0
    capsys.readouterr()
    assert main(["user", "list", "--json"]) == 0
    listed = {u["username"]: u["role"] for u in json.loads(capsys.readouterr().out)}
    assert listed == {"ann": "admin", "root": "admin"}
    assert sign_in(prepare(url), username="ann", password="changed password")
    assert main(["user", "add", "bad name"]) == 2
    assert "username" in capsys.readouterr().err
