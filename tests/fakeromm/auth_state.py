"""Authentication state of the fake RomM server: users, OAuth grants, client tokens, device flow.

Token shapes follow the captures (``token_*.json``, ``client_token_create.json``,
``device_*.json``); the full scope list is the recorded admin's ``users_me.json`` scopes.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fakeromm.records import JSON, iso, load_capture

ALL_SCOPES: list[str] = load_capture("users_me.json")["oauth_scopes"]


@dataclass
class ClientToken:
    """A client API token (``rmm_`` + 64 hex); ``device_id`` set for device-flow tokens."""

    id: int
    username: str
    name: str
    scopes: list[str]
    raw_token: str
    expires_at: datetime | None
    created_at: datetime
    device_id: str | None = None
    last_used_at: datetime | None = None

    def render(self, *, with_raw: bool) -> JSON:
        """Shape of ``client_token_create.json`` (``raw_token`` only on create)."""
        row: JSON = {
            "id": self.id, "name": self.name, "scopes": list(self.scopes),
            "expires_at": iso(self.expires_at) if self.expires_at else None,
            "last_used_at": iso(self.last_used_at) if self.last_used_at else None,
            "created_at": iso(self.created_at), "user_id": 1, "device_id": self.device_id,
        }  # fmt: skip
        if with_raw:
            row["raw_token"] = self.raw_token
        return row


@dataclass
class DeviceRequest:
    """One device-authorization request; ``state`` is pending|approved|denied|consumed."""

    device_code: str
    user_code: str
    requested_scopes: list[str]
    name: str
    interval: float
    expires_at: float
    state: str = "pending"
    last_poll: float | None = None
    approved_scopes: list[str] = field(default_factory=list)


@dataclass
class AccessGrant:
    """An OAuth password-grant token: opaque JWT-looking string with scopes and expiry."""

    username: str
    scopes: list[str]
    expires_at: float
    kind: str  # "access" | "refresh"


class AuthState:
    """Users, OAuth tokens, client tokens and device-flow requests of the fake server."""

    def __init__(self) -> None:
        self.users: dict[str, tuple[str, list[str]]] = {}
        self.grants: dict[str, AccessGrant] = {}
        self.client_tokens: dict[int, ClientToken] = {}
        self.device_requests: dict[str, DeviceRequest] = {}
        self.access_ttl = 1800.0
        self._next_token_id = 1

    def add_user(self, username: str, password: str, scopes: list[str] | None = None) -> None:
        """Add (or replace) a user holding ``scopes`` (default: all 22)."""
        self.users[username] = (password, list(scopes or ALL_SCOPES))

    def user_scopes(self, username: str) -> list[str]:
        return self.users[username][1]

    def check_password(self, username: str, password: str) -> bool:
        user = self.users.get(username)
        return user is not None and secrets.compare_digest(user[0], password)

    def grant(self, username: str, scopes: list[str]) -> tuple[str, str]:
        """Mint an (access, refresh) pair; both look like JWTs but are opaque."""
        now = time.monotonic()
        access = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.fake-access." + secrets.token_hex(16)
        refresh = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.fake-refresh." + secrets.token_hex(16)
        self.grants[access] = AccessGrant(username, scopes, now + self.access_ttl, "access")
        self.grants[refresh] = AccessGrant(username, scopes, now + 604800, "refresh")
        return access, refresh

    def use_refresh(self, token: str) -> AccessGrant | None:
        """Consume a refresh token (single use); None when unknown, used or expired."""
        grant = self.grants.get(token)
        if grant is None or grant.kind != "refresh" or grant.expires_at < time.monotonic():
            return None
        del self.grants[token]
        return grant

    def expire_access_tokens(self) -> None:
        """Test hook: every access token issued so far is now expired."""
        for grant in self.grants.values():
            if grant.kind == "access":
                grant.expires_at = 0.0

    def create_client_token(
        self, username: str, name: str, scopes: list[str], expires_at: datetime | None,
        device_id: str | None = None,
    ) -> ClientToken:  # fmt: skip
        """Store a new client token with a fresh ``rmm_`` secret."""
        token = ClientToken(
            self._next_token_id, username, name, list(scopes), "rmm_" + secrets.token_hex(32),
            expires_at, datetime.now(UTC), device_id,
        )  # fmt: skip
        self._next_token_id += 1
        self.client_tokens[token.id] = token
        return token

    def find_client_token(self, raw: str) -> ClientToken | None:
        """The live token with this secret, or None (unknown, revoked or expired)."""
        for token in self.client_tokens.values():
            if secrets.compare_digest(token.raw_token, raw):
                if token.expires_at is not None and token.expires_at < datetime.now(UTC):
                    return None
                token.last_used_at = datetime.now(UTC)
                return token
        return None

    def start_device(self, requested: list[str], name: str, interval: float) -> DeviceRequest:
        """Open a device-flow request (expires in 600 s)."""
        user_code = "".join(secrets.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(8))
        req = DeviceRequest(
            secrets.token_hex(32), user_code, list(requested), name, interval,
            time.monotonic() + 600,
        )  # fmt: skip
        self.device_requests[req.device_code] = req
        return req

    def _by_user_code(self, user_code: str) -> DeviceRequest:
        for req in self.device_requests.values():
            if req.user_code == user_code.replace("-", "").upper():
                return req
        raise KeyError(user_code)

    def approve_device(self, user_code: str, scopes: list[str] | None = None) -> None:
        req = self._by_user_code(user_code)
        req.state = "approved"
        req.approved_scopes = list(scopes if scopes is not None else req.requested_scopes)

    def deny_device(self, user_code: str) -> None:
        self._by_user_code(user_code).state = "denied"

    def expire_device(self, user_code: str) -> None:
        self._by_user_code(user_code).expires_at = 0.0
