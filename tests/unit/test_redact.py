"""mask_secrets: every credential form we log or show is masked, the rest stays readable."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from magnus_desktop.services.redact import mask_secrets

SECRET = "Tr0ub4dor"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://bob:Tr0ub4dor@db.example.com:5432/magnus",
         "postgresql://bob:***@db.example.com:5432/magnus"),
        ("postgresql+psycopg2://bob:Tr0ub4dor@db/x?sslmode=require",
         "postgresql+psycopg2://bob:***@db/x?sslmode=require"),
        ("redis://:Tr0ub4dor@cache:6379/0", "redis://:***@cache:6379/0"),
        ("connect failed: 'postgresql://bob:Tr0ub4dor@db/x' refused",
         "connect failed: 'postgresql://bob:***@db/x' refused"),
        ("postgresql://bob@db/x?sslmode=require&password=Tr0ub4dor&application_name=m",
         "postgresql://bob@db/x?sslmode=require&password=***&application_name=m"),
        ("host=db port=5432 password=Tr0ub4dor dbname=magnus", "host=db port=5432 password=*** dbname=magnus"),
        ("host=db password = 'Tr0ub 4dor\\' x' dbname=magnus", "host=db password = '***' dbname=magnus"),
        ("Server=db;Pwd=Tr0ub4dor", "Server=db;Pwd=***"),
        ("PGPASSWORD=Tr0ub4dor psql", "PGPASSWORD=*** psql"),
        ('{"user": "bob", "password": "Tr0ub4dor", "port": 5432}', '{"user": "bob", "password": "***", "port": 5432}'),
        ('{"db_password":"Tr\\"0ub4dor"}', '{"db_password":"***"}'),
        ("{'api_key': 'Tr0ub4dor', 'x': 1}", "{'api_key': '***', 'x': 1}"),
        ("connect(user='bob', password='Tr0ub4dor')", "connect(user='bob', password='***')"),
        ('"token": 123456', '"token": ***'),
    ],
)
def test_masks_every_form(text: str, expected: str) -> None:
    assert mask_secrets(text) == expected


@pytest.mark.parametrize("password", ["p@ss", "a:b@c/d%e", "@@::", "100%/@:x", "semi;colon&amp"])
def test_url_passwords_with_reserved_characters_raw_or_encoded(password: str) -> None:
    for shown in (password, quote(password, safe="")):
        text = f"could not connect to postgresql://bob:{shown}@db.example.com:5432/magnus (timeout)"
        masked = mask_secrets(text)
        assert shown not in masked
        assert masked == "could not connect to postgresql://bob:***@db.example.com:5432/magnus (timeout)"


def test_username_with_at_sign_still_masks_the_password() -> None:
    assert mask_secrets("postgresql://bob@corp:Tr0ub4dor@db/x") == "postgresql://bob@corp:***@db/x"


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://bob@db.example.com:5432/magnus",
        "https://example.com:443/path?q=1",
        "password_hint=blue max_tokens=5 bypass=1",
        "delta 0.30, strike 2700, iv 0.18",
        "",
    ],
)
def test_leaves_text_without_credentials_alone(text: str) -> None:
    assert mask_secrets(text) == text


def test_masking_is_idempotent() -> None:
    text = f'postgresql://bob:{SECRET}@db/x password={SECRET} {{"pwd": "{SECRET}"}}'
    once = mask_secrets(text)
    assert SECRET not in once and mask_secrets(once) == once
