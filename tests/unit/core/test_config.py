from __future__ import annotations

import pytest

from call_center.core.config import ConfigError, load_settings

VALID_TWILIO = {
    "TELEPHONY_PROVIDER": "twilio",
    "PUBLIC_BASE_URL": "https://calls.example.com",
    "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
    "TWILIO_AUTH_TOKEN": "b" * 32,
    "TWILIO_API_KEY": "SK" + "c" * 32,
    "TWILIO_API_SECRET": "D" * 32,
    "TWILIO_TWIML_APP_SID": "AP" + "e" * 32,
    "TWILIO_CALLER_ID": "+201001234567",
}


def test_defaults_are_the_embedded_setup(env):
    settings = load_settings()
    assert settings.HOST == "127.0.0.1"
    assert settings.PORT == 3000
    assert settings.TELEPHONY_PROVIDER == "local"
    assert settings.DEFAULT_REGION == "EG"
    assert settings.database_url == f"sqlite:///{env.resolve() / 'call_center.db'}"
    assert settings.recordings_dir == env.resolve() / "recordings"
    assert settings.public_base_url == "http://127.0.0.1:3000"


def test_comma_separated_lists(env, monkeypatch):
    monkeypatch.setenv("ALLOWED_COUNTRIES", "eg, sa,AE")
    monkeypatch.setenv("MEDIA_HOST", "127.0.0.1,192.168.1.5")
    settings = load_settings()
    assert settings.allowed_countries == {"EG", "SA", "AE"}
    assert settings.MEDIA_HOST == ["127.0.0.1", "192.168.1.5"]


def test_one_message_names_every_bad_variable(env, monkeypatch):
    monkeypatch.setenv("PORT", "notaport")
    monkeypatch.setenv("DEFAULT_REGION", "ZZ")
    monkeypatch.setenv("DATABASE_URL", "mysql://x")
    monkeypatch.setenv("TELEPHONY_PROVIDER", "pigeon")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    # pydantic type errors are reported first; each names the variable and a fix
    assert set(caught.value.problems) == {"PORT", "TELEPHONY_PROVIDER"}
    assert "PORT" in str(caught.value) and "Fix:" in str(caught.value)

    monkeypatch.setenv("PORT", "3000")
    monkeypatch.setenv("TELEPHONY_PROVIDER", "local")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert set(caught.value.problems) == {"DEFAULT_REGION", "DATABASE_URL"}


def test_twilio_settings_required_only_for_twilio(env, monkeypatch):
    load_settings()  # local: nothing Twilio needed
    monkeypatch.setenv("TELEPHONY_PROVIDER", "twilio")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert {
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_KEY",
        "TWILIO_API_SECRET",
        "TWILIO_TWIML_APP_SID",
        "TWILIO_CALLER_ID",
        "PUBLIC_BASE_URL",
    } <= set(caught.value.problems)
    for var, value in VALID_TWILIO.items():
        monkeypatch.setenv(var, value)
    assert VALID_TWILIO["TWILIO_API_KEY"] == load_settings().TWILIO_API_KEY


def test_twilio_placeholders_are_refused(env, monkeypatch):
    for var, value in VALID_TWILIO.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
    monkeypatch.setenv("TWILIO_API_SECRET", "your-api-secret")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert set(caught.value.problems) == {"TWILIO_ACCOUNT_SID", "TWILIO_API_SECRET"}
    assert "your-api-secret" not in str(caught.value)


def test_production_refuses_placeholder_secrets(env, monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "changethis")
    monkeypatch.setenv("ADMIN_PASSWORD", "changethis")
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://calls.example.com")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert set(caught.value.problems) == {"SECRET_KEY", "ADMIN_PASSWORD", "PUBLIC_BASE_URL"}
    assert "changethis" not in str(caught.value)


def test_production_requires_a_secret_key(env, monkeypatch):
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://calls.example.com")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert set(caught.value.problems) == {"SECRET_KEY"}


def test_local_use_generates_and_keeps_a_secret_key(env, monkeypatch):
    monkeypatch.delenv("SECRET_KEY")
    settings = load_settings()
    key = settings.secret_key()
    assert len(key) >= 48
    assert load_settings().secret_key() == key
    assert (env / ".secret_key").stat().st_mode & 0o777 == 0o600


def test_every_setting_is_documented_in_env_example():
    from pathlib import Path

    from call_center.core.config import Settings

    example = (Path(__file__).resolve().parents[3] / ".env.example").read_text()
    missing = [
        name for name in Settings.model_fields if f"#{name}=" not in example and f"\n{name}=" not in example
    ]
    assert not missing, missing
