"""Settings from the environment (OMNIHUB_*) and an optional config file.

Precedence, highest first: explicit arguments, environment variables, the TOML file named
by OMNIHUB_CONFIG (default `omnihub.toml` in the working directory, if present), defaults.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIHUB_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///omnihub.db",
        description="SQLAlchemy URL; SQLite file in the working directory by default, "
        "or postgresql+psycopg://user@host/db",
    )
    bus: Literal["inprocess", "nats"] = "inprocess"
    nats_url: str = "nats://127.0.0.1:4222"
    log_level: str = "INFO"
    log_json: bool = False
    shared_dir: Path = Field(
        default=Path("../shared"),
        description="Where the shared contracts and sample data live, for the tests that check the "
        "channels' official contracts (a relative path is taken from the project's root)",
    )
    privacy_export_dir: Path = Field(
        default=Path("var/privacy-exports"),
        description="Where customer data requests are written (one JSON file each, for the merchant; served by "
        "GET /api/v1/customers/data-requests/{id}/file); a relative path is taken from the working directory",
    )
    writer_batch_max: int = Field(default=1000, ge=1, le=20000)
    max_request_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    secret_key: str = Field(
        default="",
        repr=False,  # a Settings (or a Hub) in a log or traceback must not show it
        description="Key for encrypting channel credentials at rest (Fernet, urlsafe base64)",
    )
    allowed_hosts: list[str] = Field(
        default_factory=lambda: list(LOOPBACK_HOSTS),
        description="Host names the API answers to (the request's Host header, port aside); another Host is "
        "400. Guards a hub on loopback against DNS rebinding. `omnihub serve --host` adds the name it binds "
        "to; `*.example.com` matches sub-domains, `*` any host. Environment: OMNIHUB_ALLOWED_HOSTS as a "
        "JSON list",
    )
    session_idle_minutes: int = Field(default=30, ge=1, description="A console session ends after this long "
                                      "without a request")
    session_absolute_hours: int = Field(default=12, ge=1, description="...and this long after sign-in, however busy")
    session_cookie_secure: bool = Field(
        default=True,
        description="Send the session cookie with Secure: browsers return it over HTTPS only. "
        "Turn it off ONLY for plain-http development on loopback (http://127.0.0.1): a request that reaches the hub "
        "under any other name gets a Secure cookie anyway",
    )
    session_cookie_samesite: Literal["lax", "strict"] = Field(
        default="lax", description="SameSite of the session cookie; unsafe requests also need the CSRF token")
    login_free_failures_per_account: int = Field(default=5, ge=1, description="Failed sign-ins to one account before "
                                                 "each further one blocks it for twice as long (1 s, 2 s ... 15 min)")
    login_free_failures_per_address: int = Field(default=20, ge=1, description="The same, per client address")
    timezone: str = Field(default="UTC", description="The retailer's time zone (IANA name, e.g. Europe/Paris): "
                          "the daily report's day runs from 00:00 to 24:00 there")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from omnihub.domain.time_zones import known_time_zone

        return known_time_zone(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("OMNIHUB_CONFIG", "omnihub.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
