"""A fake RomM server: a real aiohttp.web app on 127.0.0.1 answering like the recorded one.

Shapes, status codes and quirks follow ``../shared/romm-api`` (API-NOTES.md, captures):
Basic / password-grant bearer / ``rmm_`` client-token auth with per-route scopes, a 500
``text/plain`` for an unknown or expired JWT, ``{"detail": ...}`` errors, FastAPI-style 422
lists, the ``/api/roms`` page object. Downloads and covers live in ``fakeromm.content``.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from fakeromm.auth_state import ALL_SCOPES
from fakeromm.content import RomContentRoutes
from fakeromm.library import FakeLibrary
from fakeromm.play_sessions import FakePlaySessions
from fakeromm.query import RomQuery
from fakeromm.records import JSON, load_capture, name_sort_key
from fakeromm.saves import FakeSaves

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SERVER_KEY = web.AppKey("fake_romm", object)
_EXPIRES_IN = {"30d": 30, "90d": 90, "1y": 365, "never": None}


def detail(status: int, message: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A ``{"detail": message}`` JSON error response."""
    return web.json_response({"detail": message}, status=status, headers=headers)


def validation_error(
    loc: list[Any], kind: str, msg: str, value: Any, ctx: JSON | None = None
) -> web.Response:
    """A FastAPI 422 with a one-item list ``detail`` (shape of ``error_422_roms_limit0.json``)."""
    item: JSON = {"type": kind, "loc": loc, "msg": msg, "input": value}
    if ctx is not None:
        item["ctx"] = ctx
    return detail(422, [item])


class Identity:
    """Who is calling and with which effective scopes."""

    def __init__(self, username: str, scopes: list[str], device_id: str | None = None) -> None:
        self.username = username
        self.scopes = set(scopes)
        self.device_id = device_id


class FakeRommServer:
    """The fake RomM server over a ``FakeLibrary``; ``start()`` returns its base URL.

    Knobs (set any time): ``down`` (connections closed unanswered), ``fail_status`` (every
    /api request answers it), ``latency`` (s per request), ``per_rom_cost`` (s per ROM listed
    by /api/roms and /api/roms/identifiers), ``chunk_delay`` (s between 16 KiB chunks of a
    download: a slow link), ``fail_after()``, ``rate_limit_429()``.
    ``requests`` logs (method, path_qs, status); status 0 means the connection was dropped.
    """

    def __init__(
        self,
        library: FakeLibrary,
        *,
        username: str = "admin",
        password: str = "hunter2",
        version: str = "development",
        device_interval: float = 5,
    ) -> None:
        self.library = library
        self.username = username
        self.version = version
        self.device_interval = device_interval
        library.auth.add_user(username, password)
        self.down = False
        self.fail_status: int | None = None
        self.latency = 0.0
        self.chunk_delay = 0.0  # seconds between 16 KiB chunks of a download body
        self.per_rom_cost = 0.0
        self.requests: list[tuple[str, str, int]] = []
        self._fail_after: tuple[int, int] | None = None
        self.drop_after_bytes: int | None = None
        self._drop_skip = 0
        self._rate_limited = 0
        self._retry_after = 1
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.content = RomContentRoutes(library, self)

    # ---- knobs ------------------------------------------------------------------------------
    def fail_after(self, n: int, status: int = 500, *, drop_after_bytes: int | None = None) -> None:
        """Let ``n`` /api requests through, then fail each with ``status``.

        With ``drop_after_bytes``, instead let ``n`` downloads through, then cut every later
        download's connection after that many body bytes (headers announce the full size).
        """
        if drop_after_bytes is None:
            self._fail_after = (n, status)
        else:
            self._drop_skip, self.drop_after_bytes = n, drop_after_bytes

    def rate_limit_429(self, n: int, retry_after: int = 1) -> None:
        """Answer the next ``n`` /api requests with 429 and ``Retry-After: retry_after``."""
        self._rate_limited, self._retry_after = n, retry_after

    def clear_failures(self) -> None:
        """Reset every failure knob (down, fail_status, fail_after, drops, 429s, latency)."""
        self.down, self.fail_status, self._fail_after = False, None, None
        self.drop_after_bytes, self._rate_limited, self.latency = None, 0, 0.0
        self.chunk_delay = 0.0

    def reset_log(self) -> None:
        """Forget the logged requests."""
        self.requests.clear()

    def take_drop(self) -> int | None:
        """For a download: the byte count after which to cut it, or None to serve it whole."""
        if self.drop_after_bytes is None:
            return None
        if self._drop_skip > 0:
            self._drop_skip -= 1
            return None
        return self.drop_after_bytes

    # ---- lifecycle --------------------------------------------------------------------------
    async def start(self) -> str:
        """Listen on 127.0.0.1 on a free port; returns ``http://127.0.0.1:<port>``."""
        app = web.Application(middlewares=[self._log_mw, self._knobs_mw, self._auth_mw])
        app[SERVER_KEY] = self
        self._routes(app)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server  # pyright: ignore[reportPrivateUsage]
        port = server.sockets[0].getsockname()[1]  # pyright: ignore
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeRommServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- middlewares ------------------------------------------------------------------------
    @web.middleware
    async def _log_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        status = 0
        try:
            response = await handler(request)
            status = 0 if request.get("dropped") else response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            if exc.status == 404:
                return detail(404, "Not Found")
            if exc.status == 405:
                return detail(405, "Method Not Allowed")
            raise
        finally:
            self.requests.append((request.method, request.path_qs, status))

    @web.middleware
    async def _knobs_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.down:
            request["dropped"] = True
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=503)
        if not request.path.startswith("/api/"):
            return await handler(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        if self._rate_limited > 0:
            self._rate_limited -= 1
            return detail(429, "Too Many Requests", {"Retry-After": str(self._retry_after)})
        status = self.fail_status
        if self._fail_after is not None:
            left, fail = self._fail_after
            if left > 0:
                self._fail_after = (left - 1, fail)
            else:
                status = fail
        if status is not None:
            if status == 500:
                return web.Response(status=500, text="Internal Server Error")
            return detail(status, f"Fake failure {status}")
        return await handler(request)

    @web.middleware
    async def _auth_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        auth = self.library.auth
        identity: Identity | None = None
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            if auth.check_password(user, password):
                identity = Identity(user, auth.user_scopes(user))
        elif scheme.lower() == "bearer" and value.startswith("rmm_"):
            token = auth.find_client_token(value)
            if token is not None and token.username in auth.users:
                scopes = [s for s in token.scopes if s in auth.user_scopes(token.username)]
                identity = Identity(token.username, scopes, token.device_id)
        elif scheme.lower() == "bearer":
            grant = auth.grants.get(value)
            if grant is None or grant.expires_at < time.monotonic():
                return web.Response(status=500, text="Internal Server Error")
            if grant.kind == "access":
                identity = Identity(grant.username, grant.scopes)
        request["identity"] = identity
        return await handler(request)

    # ---- routing ----------------------------------------------------------------------------
    def _protect(self, scope: str | None, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            identity: Identity | None = request.get("identity")
            if identity is None:
                return detail(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})
            if scope is not None and scope not in identity.scopes:
                return detail(403, "Forbidden")
            return await handler(request)

        return guarded

    def _routes(self, app: web.Application) -> None:
        r, c = app.router, self.content
        r.add_get("/api/heartbeat", self._heartbeat)
        r.add_post("/api/token", self._token)
        r.add_post("/api/auth/device/init", self._device_init)
        r.add_post("/api/auth/device/token", self._device_token)
        table: list[tuple[str, str, str | None, Handler]] = [
            ("GET", "/api/users/me", "me.read", self._users_me),
            ("POST", "/api/client-tokens", "me.write", self._client_token_create),
            ("GET", "/api/client-tokens", "me.read", self._client_token_list),
            ("DELETE", "/api/client-tokens/{id}", "me.write", self._client_token_delete),
            ("GET", "/api/platforms", "platforms.read", self._platforms),
            ("GET", "/api/platforms/{id}", "platforms.read", self._platform),
            ("GET", "/api/collections", "collections.read", self._collections),
            ("GET", "/api/collections/{id}", "collections.read", self._collection),
            ("GET", "/api/roms", "roms.read", self._roms),
            ("GET", "/api/roms/identifiers", "roms.read", self._identifiers),
            ("GET", "/api/roms/{id}", "roms.read", self._rom),
            ("GET", "/api/roms/{id}/content/{name}", "roms.read", c.rom_content),
            ("HEAD", "/api/roms/{id}/content/{name}", "roms.read", c.rom_content),
            ("GET", "/api/roms/{id}/files/content/{name}", "roms.read", c.romfile_content),
            ("HEAD", "/api/roms/{id}/files/content/{name}", "roms.read", c.romfile_content),
            ("GET", "/api/firmware", "firmware.read", self._firmware_list),
            ("GET", "/api/firmware/{id}", "firmware.read", self._firmware),
            ("GET", "/api/firmware/{id}/content/{name}", "firmware.read", c.firmware_content),
            ("HEAD", "/api/firmware/{id}/content/{name}", "firmware.read", c.firmware_content),
        ]
        for method, path, scope, handler in table:
            r.add_route(method, path, self._protect(scope, handler))
        r.add_get("/assets/romm/resources/roms/{pid}/{rid}/cover/{name}", c.cover)
        FakeSaves.install(self, r)
        FakePlaySessions.install(self, r)

    # ---- helpers ----------------------------------------------------------------------------
    def _json(self, request: web.Request, data: Any, status: int = 200) -> web.Response:
        response = web.json_response(data, status=status)
        if "gzip" in request.headers.get("Accept-Encoding", "") and len(response.body) > 1024:  # pyright: ignore
            response.enable_compression()
        return response

    @staticmethod
    def _path_id(request: web.Request, key: str = "id") -> int | web.Response:
        raw = request.match_info[key]
        try:
            return int(raw)
        except ValueError:
            return validation_error(
                ["path", key], "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer", raw,
            )  # fmt: skip

    # ---- auth endpoints ---------------------------------------------------------------------
    async def _heartbeat(self, request: web.Request) -> web.StreamResponse:
        body = load_capture("heartbeat.json")
        body["SYSTEM"]["VERSION"] = self.version
        body["FILESYSTEM"]["FS_PLATFORMS"] = [p["fs_slug"] for p in self.library.platforms.values()]
        return web.json_response(body)

    async def _token(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        grant_type = str(form.get("grant_type") or "password")
        auth = self.library.auth
        if grant_type == "refresh_token":
            grant = auth.use_refresh(str(form.get("refresh_token", "")))
            if grant is None:
                return detail(401, "Could not validate credentials")
            username, scopes = grant.username, grant.scopes
        elif grant_type == "password":
            username = str(form.get("username", ""))
            if not auth.check_password(username, str(form.get("password", ""))):
                return detail(401, "Invalid username or password")
            scopes = str(form.get("scope", "")).split()
            if any(s not in auth.user_scopes(username) for s in scopes):
                return detail(403, "Insufficient scope")
        elif grant_type == "client_credentials":
            return detail(400, "Client credentials are not yet supported")
        else:
            return detail(400, "Invalid or unsupported grant type")
        access, refresh = auth.grant(username, scopes)
        return web.json_response(
            {"access_token": access, "token_type": "bearer", "expires": int(auth.access_ttl),
             "refresh_token": refresh, "refresh_expires": 604800}
        )  # fmt: skip

    async def _users_me(self, request: web.Request) -> web.StreamResponse:
        identity: Identity = request["identity"]
        body = load_capture("users_me.json")
        body["username"] = identity.username
        body["oauth_scopes"] = self.library.auth.user_scopes(identity.username)
        body["current_device_id"] = identity.device_id
        return web.json_response(body)

    async def _json_body(self, request: web.Request) -> JSON | web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return validation_error(
                ["body"],
                "model_attributes_type",
                "Input should be a valid dictionary or object",
                None,
            )
        return body

    async def _client_token_create(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        identity: Identity = request["identity"]
        auth = self.library.auth
        name, scopes = body.get("name"), body.get("scopes")
        if not isinstance(name, str) or not name:
            return validation_error(["body", "name"], "missing", "Field required", body)
        if not isinstance(scopes, list) or not scopes:
            return validation_error(
                ["body", "scopes"],
                "too_short",
                "List should have at least 1 item after validation",
                scopes,
            )
        held = auth.user_scopes(identity.username)
        bad = [str(s) for s in scopes if s not in held]
        if bad:
            return detail(403, f"Requested scopes exceed your permissions: {', '.join(bad)}")
        expires_in = body.get("expires_in")
        if expires_in is not None and expires_in not in _EXPIRES_IN:
            return detail(
                422, f"Invalid expires_in value: {expires_in}. Valid values: 30d, 90d, 1y, never"
            )
        mine = [t for t in auth.client_tokens.values() if t.username == identity.username]
        if len(mine) >= 25:
            return detail(400, "Maximum number of client tokens (25) reached")
        days = _EXPIRES_IN.get(expires_in) if expires_in else None
        expires_at = datetime.now(UTC) + timedelta(days=days) if days else None
        token = auth.create_client_token(identity.username, name, scopes, expires_at)
        return web.json_response(token.render(with_raw=True), status=201)

    async def _client_token_list(self, request: web.Request) -> web.StreamResponse:
        identity: Identity = request["identity"]
        tokens = self.library.auth.client_tokens.values()
        mine = [t.render(with_raw=False) for t in tokens if t.username == identity.username]
        return web.json_response(mine)

    async def _client_token_delete(self, request: web.Request) -> web.StreamResponse:
        tid = self._path_id(request)
        if isinstance(tid, web.Response):
            return tid
        if self.library.auth.client_tokens.pop(tid, None) is None:
            return detail(404, "Token not found")
        return web.json_response(None)

    async def _device_init(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        for key in ("client_device_identifier", "name", "client"):
            if not isinstance(body.get(key), str) or not body[key]:
                return validation_error(["body", key], "missing", "Field required", body)
        scopes = body.get("requested_scopes")
        if not isinstance(scopes, list) or not scopes or any(s not in ALL_SCOPES for s in scopes):
            return validation_error(["body", "requested_scopes"], "value_error",
                                    "Value error, invalid scopes", scopes)  # fmt: skip
        req = self.library.auth.start_device(scopes, body["name"], self.device_interval)
        interval = self.device_interval
        return web.json_response(
            {
                "device_code": req.device_code,
                "user_code": req.user_code,
                "verification_path": "/pair/device",
                "verification_path_complete": f"/pair/device?user_code={req.user_code}",
                "expires_in": 600,
                "interval": int(interval) if interval == int(interval) else interval,
            },
            status=201,
        )

    async def _device_token(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        auth = self.library.auth
        req = auth.device_requests.get(str(body.get("device_code", "")))
        if req is None:
            return detail(400, "invalid_grant")
        now = time.monotonic()
        if req.state == "consumed" or req.expires_at < now:
            return detail(400, "expired_token")
        too_soon = req.last_poll is not None and now - req.last_poll < req.interval
        req.last_poll = now
        if too_soon:
            return detail(400, "slow_down")
        if req.state == "pending":
            return detail(400, "authorization_pending")
        if req.state == "denied":
            return detail(400, "access_denied")
        req.state = "consumed"
        device_id = str(uuid.uuid4())
        token = auth.create_client_token(
            self.username, req.name, sorted(req.approved_scopes), None, device_id
        )
        return web.json_response(
            {"access_token": token.raw_token, "device_id": device_id,
             "scopes": token.scopes, "expires_at": None}
        )  # fmt: skip

    # ---- catalog endpoints ------------------------------------------------------------------
    async def _platforms(self, request: web.Request) -> web.StreamResponse:
        lib = self.library
        counts = lib.platform_counts()
        pids = sorted(lib.platforms, key=lambda p: lib.platforms[p]["name"].lower())
        return self._json(request, [lib.render_platform(p, counts) for p in pids])

    async def _platform(self, request: web.Request) -> web.StreamResponse:
        pid = self._path_id(request)
        if isinstance(pid, web.Response):
            return pid
        if pid not in self.library.platforms:
            return detail(404, f"Platform with id '{pid}' not found")
        return self._json(
            request, self.library.render_platform(pid, self.library.platform_counts())
        )

    async def _collections(self, request: web.Request) -> web.StreamResponse:
        lib = self.library
        return self._json(request, [lib.render_collection(c) for c in lib.collections.values()])

    async def _collection(self, request: web.Request) -> web.StreamResponse:
        cid = self._path_id(request)
        if isinstance(cid, web.Response):
            return cid
        col = self.library.collections.get(cid)
        if col is None:
            return detail(404, f"Collection with id '{cid}' not found")
        return self._json(request, self.library.render_collection(col))

    async def _firmware_list(self, request: web.Request) -> web.StreamResponse:
        lib = self.library
        wanted = request.query.get("platform_id")
        rows = [
            lib.render_firmware(f)
            for f in lib.firmware.values()
            if wanted is None or str(f.platform_id) == wanted
        ]
        return self._json(request, rows)

    async def _firmware(self, request: web.Request) -> web.StreamResponse:
        fid = self._path_id(request)
        if isinstance(fid, web.Response):
            return fid
        fw = self.library.firmware.get(fid)
        if fw is None:
            return detail(404, f"Firmware with ID {fid} not found")
        return self._json(request, self.library.render_firmware(fw))

    async def _rom(self, request: web.Request) -> web.StreamResponse:
        rid = self._path_id(request)
        if isinstance(rid, web.Response):
            return rid
        rom = self.library.roms.get(rid)
        if rom is None:
            return detail(404, f"Rom with id '{rid}' not found")
        return self._json(request, self.library.render_detail(rom))

    async def _identifiers(self, request: web.Request) -> web.StreamResponse:
        roms = sorted(self.library.roms.values(), key=lambda r: (name_sort_key(r.name), r.id))
        if self.per_rom_cost:
            await asyncio.sleep(self.per_rom_cost * len(roms))
        return self._json(request, [r.id for r in roms])

    async def _roms(self, request: web.Request) -> web.StreamResponse:
        parsed = RomQuery.parse(request.query)
        if isinstance(parsed, dict):
            return web.json_response(parsed, status=422)
        lib = self.library
        roms = parsed.select(lib)
        page = roms[parsed.offset : parsed.offset + parsed.limit]
        if self.per_rom_cost:
            await asyncio.sleep(self.per_rom_cost * len(page))
        body: JSON = {
            "items": [lib.render_rom(r, with_files=parsed.flag("with_files", False)) for r in page],
            "total": len(roms) if parsed.flag("with_total", True) else None,
            "limit": parsed.limit,
            "offset": parsed.offset,
            "char_index": parsed.char_index(roms) if parsed.flag("with_char_index", True) else {},
            "rom_id_index": [r.id for r in roms] if parsed.flag("with_rom_id_index", True) else [],
            "filter_values": parsed.filter_values(roms, parsed.flag("with_filter_values", True)),
        }
        return self._json(request, body)
