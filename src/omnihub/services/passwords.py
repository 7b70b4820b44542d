"""Passwords kept as argon2id hashes (argon2-cffi's defaults, RFC 9106's second choice:
memory-hard, so a stolen table is slow to guess through). Only people's passwords go
through it; API tokens are random and need no slow hash (services/api_tokens.py)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id
MIN_LENGTH = 12


class WeakPassword(ValueError):
    pass


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs {MIN_LENGTH} characters at least")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


#: A hash of nothing anyone knows: verified against when the e-mail is unknown, so an
#: unknown account takes as long to refuse as a wrong password.
DUMMY_HASH = _hasher.hash("not a password of anyone")
