"""The app JWT: RS256 with the app's key, issuer the app ID, valid at most ten minutes."""

from __future__ import annotations

import time
from dataclasses import replace

import jwt
import pytest
from tests.support.fake_github import AppKeys

from cargoman.config import Settings
from cargoman.github_app.app_jwt import app_jwt
from cargoman.github_app.config import AppConfig, GitHubAppNotConfigured, app_config, normalize_private_key


def _config(keys: AppKeys, private_key: str | None = None) -> AppConfig:
    settings = Settings(github_app_id="123456", github_app_private_key=private_key or keys.private_pem)
    config = app_config(settings)
    assert config is not None
    return config


def test_claims_verify_with_the_public_key(app_keys: AppKeys) -> None:
    now = time.time()
    token = app_jwt(_config(app_keys), now=now)

    claims = jwt.decode(token, app_keys.public_pem, algorithms=["RS256"])

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert claims["iss"] == "123456"
    assert claims["iat"] == int(now) - 60
    assert claims["iat"] < claims["exp"] <= now + 600
    assert claims["exp"] - claims["iat"] <= 600


def test_a_key_with_literal_newline_escapes_is_accepted(app_keys: AppKeys) -> None:
    one_line = app_keys.private_pem.strip().replace("\n", "\\n")
    assert "\n" not in one_line

    token = app_jwt(_config(app_keys, private_key=f'"{one_line}"'))

    assert jwt.decode(token, app_keys.public_pem, algorithms=["RS256"])["iss"] == "123456"
    assert normalize_private_key(one_line) == app_keys.private_pem


def test_an_invalid_key_is_a_configuration_error_without_the_key(app_keys: AppKeys) -> None:
    config = replace(_config(app_keys), private_key="-----BEGIN RSA PRIVATE KEY-----\nnot-a-key\n")

    with pytest.raises(GitHubAppNotConfigured) as raised:
        app_jwt(config)

    assert "GITHUB_APP_PRIVATE_KEY" in raised.value.message
    assert "not-a-key" not in raised.value.message


def test_not_configured_without_id_or_key(app_keys: AppKeys) -> None:
    assert app_config(Settings(github_app_id="1")) is None
    assert app_config(Settings(github_app_private_key=app_keys.private_pem)) is None
