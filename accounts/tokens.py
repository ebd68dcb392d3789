"""Token secrets: how they look, how they are hashed, how they are compared.

A raw token is `od_<prefix><secret>`: the 12-character prefix is stored in clear for lookup
and display; the whole token is stored only as its SHA-256. Tokens carry 256 bits of entropy,
so a fast hash is enough (a slow password hash would only slow every request down).
"""

import hashlib
import hmac
import secrets
import string

TOKEN_MARK = "od_"
PREFIX_LENGTH = 12
_ALPHABET = string.ascii_letters + string.digits


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def generate_raw_token() -> tuple[str, str]:
    """Return (raw token, prefix)."""
    prefix = _random(PREFIX_LENGTH)
    return f"{TOKEN_MARK}{prefix}{secrets.token_urlsafe(32)}", prefix


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def prefix_of(raw: str) -> str | None:
    """The lookup prefix of a raw token, or None when it cannot be one of ours."""
    if not raw.startswith(TOKEN_MARK) or len(raw) < len(TOKEN_MARK) + PREFIX_LENGTH + 20:
        return None
    prefix = raw[len(TOKEN_MARK) : len(TOKEN_MARK) + PREFIX_LENGTH]
    # only our alphabet: anything else (a NUL from a `token` parameter) never reaches a query
    return prefix if all(character in _ALPHABET for character in prefix) else None


def matches(raw: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_token(raw), key_hash)
