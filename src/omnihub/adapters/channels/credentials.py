"""Channel credentials encrypted at rest (Fernet, keyed by `settings.secret_key`).

Access tokens, webhook secrets and LWA refresh tokens are as good as passwords: a copy
of the database or a backup must not hand them out, so they are stored only as one
Fernet token per channel and decrypted in memory when a connector is built. The key and
every secret the vault hands out are remembered by the log redaction (log_redaction.py):
no log line shows them, whatever prints them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.log_redaction import remember_secret, remember_secrets_of


class CredentialsUnavailable(RuntimeError):
    """No key configured, or the stored secret was encrypted with another key."""


class CredentialVault:
    def __init__(self, engine: Engine, secret_key: str) -> None:
        self.engine = engine
        self._fernet = Fernet(secret_key.encode()) if secret_key else None
        remember_secret(secret_key)

    def _cipher(self) -> Fernet:
        if self._fernet is None:
            raise CredentialsUnavailable("set OMNIHUB_SECRET_KEY (Fernet.generate_key()) to store channel credentials")
        return self._fernet

    def put(self, channel: str, secrets: dict[str, str]) -> None:
        remember_secrets_of(secrets)
        token = self._cipher().encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()
        c = t.channel_credentials
        with self.engine.begin() as conn:
            if not conn.execute(c.update().where(c.c.channel == channel).values(secret=token, updated_at=datetime.now(UTC))).rowcount:
                conn.execute(c.insert().values(channel=channel, secret=token, updated_at=datetime.now(UTC)))

    def get(self, channel: str) -> dict[str, str] | None:
        c = t.channel_credentials
        with self.engine.connect() as conn:
            token = conn.execute(sa.select(c.c.secret).where(c.c.channel == channel)).scalar()
        if token is None:
            return None
        try:
            secrets = json.loads(self._cipher().decrypt(token.encode()))
        except InvalidToken as exc:
            raise CredentialsUnavailable(f"credentials of {channel!r} were encrypted with another key") from exc
        remember_secrets_of(secrets)
        return secrets

    def channels(self) -> list[str]:
        """The channels that have credentials stored (names only: nothing is decrypted)."""
        c = t.channel_credentials
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(c.c.channel).order_by(c.c.channel)).scalars())
