"""DB URL split/join: the persisted part never holds the password, and the round trip is exact."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from magnus_desktop.services.credentials import db_url_account, join_db_url, split_db_url

PASSWORD = "p@ss/w:rd%"  # characters that must be escaped in a URL
ESCAPED = "p%40ss%2Fw%3Ard%25"


def test_split_removes_the_password_and_join_restores_it() -> None:
    url = f"postgresql+psycopg2://bob:{ESCAPED}@db.example:5433/magnus?sslmode=require"
    safe, password = split_db_url(url)
    assert password == PASSWORD
    assert ESCAPED not in safe and "p@ss" not in safe and ":5433" in safe
    assert make_url(safe).password is None and make_url(safe).username == "bob"
    assert make_url(safe).query == {"sslmode": "require"}
    joined = join_db_url(safe, password)
    assert make_url(joined).password == PASSWORD
    assert make_url(joined) == make_url(url)


def test_url_without_password_passes_through() -> None:
    assert split_db_url("postgresql://bob@h/db") == ("postgresql://bob@h/db", None)
    assert split_db_url("sqlite:////tmp/magnus.db") == ("sqlite:////tmp/magnus.db", None)
    assert join_db_url("postgresql://bob@h/db", None) == "postgresql://bob@h/db"


def test_join_escapes_special_characters() -> None:
    joined = join_db_url("postgresql://bob@h:5432/db", PASSWORD)
    assert ESCAPED in joined
    assert make_url(joined).password == PASSWORD and make_url(joined).host == "h"


def test_bad_urls_give_messages_without_the_password() -> None:
    with pytest.raises(ValueError, match="percent-encode") as caught:
        split_db_url(f"postgresql://bob:{PASSWORD}@db.example/magnus")  # unescaped '@' and '/'
    assert "p@ss" not in str(caught.value) and "w:rd" not in str(caught.value)
    with pytest.raises(ValueError, match="Not a valid database URL") as caught:
        split_db_url("bob:hunter2")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ValueError, match="scheme 'postgresql'") as caught:
        split_db_url("postgresql://bob:hunter2@db.example:notaport/magnus")
    assert "hunter2" not in str(caught.value)


def test_keyring_account_names_the_server_not_the_password() -> None:
    assert db_url_account(f"postgresql://bob:{ESCAPED}@db.example:5433/magnus") == "bob@db.example:5433/magnus"
