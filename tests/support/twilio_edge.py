"""Twilio's signaling edge and media, offline, for real browsers running our bundled @twilio/voice-sdk 2.x.

The SDK in a page opens a WebSocket to wss://voice-js.roaming.twilio.com/signal ("PStream": JSON messages
`{type, version, payload}`, and "\\n" heartbeats). `TwilioEdge` is a WebSocket server on 127.0.0.1 that
speaks that protocol; `attach(page)` adds an init script to the page's context that sends the SDK's Twilio
signaling sockets there (any other socket, the app's own included, is left alone). The edge runs on its own
thread, so it sends heartbeats, invites and cancels on time whatever the test thread is doing (not
`page.route_web_socket`: with the sync API its handlers run only while the test thread is inside a Playwright
call, and the SDK drops a socket that has been silent for 15 s).

What the edge does, as Twilio does:
- `listen` {token}: the access token is checked (HS256 with the API secret, issuer = the API key, subject =
  the account, not expired, a Voice grant allowing incoming calls) and answered `connected` (or a 31204
  error); `register` {media: {audio: true}} is answered `ready`: the SDK emits `registered`.
- The simulator (`EdgeSim`, a `TwilioSim`) tells the edge about every leg to a `client:<identity>`: when it
  rings, the browsers registered as that identity get an `invite` {callsid, sdp, parameters} whose SDP
  is a real offer from an aiortc peer here (loopback ICE, a 440 Hz tone); when it stops unanswered, a
  `cancel` {callsid}; when an answered one ends, a `hangup` {callsid}.
- What a browser sends is applied to the simulator: `answer` {callsid, sdp} (the peer takes the SDP: media
  flows, and the leg answers), `reject` (the leg is busy), `hangup` (the leg ends). The callbacks Twilio
  would then send are queued in the simulator; the test delivers them with `sim.run()`.
- `hold(identity)` parks what Twilio would send to that browser (cancel, hangup, invite) until
  `release(identity)`: a test chooses the order in which Twilio's word and the app's own event stream reach
  a page, instead of hoping for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import av
import jwt
import numpy as np
from aiohttp import WSMsgType, web
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from playwright.sync_api import BrowserContext, Page

from call_center.telephony.local.rtp_hook import host_addresses
from tests.support.fake_twilio import ACCOUNT_SID, API_KEY, API_SECRET, account_path, page
from tests.support.twilio_sim import TERMINAL, Deliver, TwilioSim

HEARTBEAT_SECONDS = 5.0  # the SDK reconnects after 15 s without a message from the edge
RINGING = ("queued", "initiated", "ringing")

# Sends the SDK's Twilio signaling sockets to the edge (runs before any script of the page).
_INIT_SCRIPT = """
(() => {
  const Native = window.WebSocket;
  const EDGE = %(edge)s;
  const TWILIO = /^wss:\\/\\/[^/]+\\.twilio\\.com(\\/signal.*)?$/;
  class TwilioEdgeSocket extends Native {
    constructor(url, protocols) {
      const match = String(url).match(TWILIO);
      const target = match ? EDGE + (match[1] || "/signal") : url;
      if (protocols === undefined) super(target);
      else super(target, protocols);
    }
  }
  window.WebSocket = TwilioEdgeSocket;
})();
"""


class ToneTrack(MediaStreamTrack):
    """What Twilio's media sends the browser: a steady 440 Hz tone, 20 ms frames in real time."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0, rate: int = 48000) -> None:
        super().__init__()
        self.frequency, self.rate, self.samples = frequency, rate, rate // 50
        self.started: float | None = None
        self.sent = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self.started is None:
            self.started = time.monotonic()
        else:
            self.sent += self.samples
            await asyncio.sleep(max(0.0, self.started + self.sent / self.rate - time.monotonic()))  # pacing
        t = (np.arange(self.samples) + self.sent) / self.rate
        data = (0.3 * 32767 * np.sin(2 * np.pi * self.frequency * t)).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(data, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = self.rate, self.sent, fractions.Fraction(1, self.rate)
        return frame


@dataclass(eq=False)
class _Socket:
    ws: web.WebSocketResponse
    identity: str | None = None
    registered: bool = False


@dataclass
class Frame:
    """One message between the edge and a browser: `direction` is "in" (from the SDK) or "out"."""

    identity: str | None
    direction: str
    type: str
    payload: dict[str, Any] = field(default_factory=dict)


class TwilioEdge:
    """The signaling edge and media of Twilio for the browsers `attach`ed to it (see the module doc)."""

    def __init__(
        self, *, account_sid: str = ACCOUNT_SID, api_key: str = API_KEY, api_secret: str = API_SECRET
    ) -> None:
        self.account_sid, self.api_key, self.api_secret = account_sid, api_key, api_secret
        self.sim: EdgeSim | None = None
        self.frames: list[Frame] = []
        self.errors: list[str] = []
        self.answered: dict[str, str] = {}  # leg -> identity, in the order the browsers answered
        self.levels: dict[str, float] = {}  # leg -> loudest RMS heard from the browser (its microphone)
        self._sockets: list[_Socket] = []
        self._peers: dict[str, RTCPeerConnection] = {}
        self._held: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._by_browser: set[str] = set()  # legs the browser ended itself: Twilio does not echo them
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._outbox: asyncio.Queue[tuple[str, str, dict[str, Any]]] | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="twilio-edge", daemon=True)
        self._thread.start()
        self.port = self._call(self._start())

    # Set-up -----------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def attach(self, target: Page | BrowserContext, *, reachable: bool = True) -> None:
        """Send the Twilio signaling of every page of this context to the edge (call it before the page
        loads the SDK). `reachable=False`: to an address that refuses the WebSocket (Twilio unreachable)."""
        context = target.context if isinstance(target, Page) else target
        edge = self.url if reachable else f"{self.url}/unreachable"
        context.add_init_script(_INIT_SCRIPT % {"edge": json.dumps(edge)})

    def bind(self, sim: EdgeSim) -> None:
        """Ring this edge's browsers for `sim`'s legs (one edge at a time; a sim outlives its edges, so the
        CallSids an app has seen are never given again)."""
        self.sim, sim.edge = sim, self

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._stop(), timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def check(self) -> None:
        """Fail if anything went wrong on the edge's side (a bad token, an unexpected message, a crash)."""
        assert not self.errors, "\n".join(self.errors)

    # What the test asks ---------------------------------------------------------------------------------
    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
        """Wait until `condition()` is true: it is checked again whenever the edge hears from a browser (a
        message, a closed socket, louder media) or parks a message."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (result := condition()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the Twilio edge waited {timeout} s for {what}; frames: {self.frames}"
                    )
                self._changed.wait(left)
        return result

    def registered(self) -> list[str]:
        """The identities registered now (the SDK said `register` with audio and was answered `ready`)."""
        return sorted({s.identity for s in self._sockets if s.registered and s.identity})

    def wait_registered(self, identity: str) -> None:
        self.wait_for(lambda: identity in self.registered(), f"{identity} to register")

    def sent(self, identity: str, kind: str) -> list[str]:
        """The CallSids of the `kind` messages (invite, cancel, hangup) the edge sent to `identity`."""
        return [f.payload.get("callsid", "") for f in self.frames
                if (f.identity, f.direction, f.type) == (identity, "out", kind)]  # fmt: skip

    def received(self, identity: str, kind: str) -> list[dict[str, Any]]:
        return [f.payload for f in self.frames if (f.identity, f.direction, f.type) == (identity, "in", kind)]

    def wait_answered(self, *legs: str) -> None:
        self.wait_for(lambda: all(leg in self.answered for leg in legs), f"the browsers to answer {legs}")

    def heard_from(self, leg: str) -> float:
        """How loud the browser on `leg` was to Twilio (RMS of what its microphone sent, 0..1)."""
        return self.levels.get(leg, 0.0)

    @contextlib.contextmanager
    def holding(self, identity: str) -> Iterator[None]:
        self.hold(identity)
        try:
            yield
        finally:
            self.release(identity)

    def hold(self, identity: str) -> None:
        """Park what Twilio would send `identity` from now on (see `release`)."""
        self._call(self._hold(identity))

    def release(self, identity: str) -> None:
        """Send what was parked for `identity`, in order (before anything Twilio has to say after this),
        and stop parking."""
        self._post(identity, "release", {})

    def held(self, identity: str) -> list[str]:
        """The kinds of message parked for `identity` so far."""
        return [kind for kind, _ in self._held.get(identity, [])]

    # The simulator tells the edge (any thread) ------------------------------------------------------------
    def leg_changed(self, sid: str, to: str, before: str, status: str, from_: str) -> None:
        identity = to.removeprefix("client:")
        if status == "ringing" and before != "ringing":
            self._post(identity, "invite", {"callsid": sid, "from": from_, "to": to})
        elif status in TERMINAL and before in RINGING and sid not in self._by_browser:
            self._post(identity, "cancel", {"callsid": sid})
        elif status in TERMINAL and before == "in-progress" and sid not in self._by_browser:
            self._post(identity, "hangup", {"callsid": sid})
        if status in TERMINAL:
            self._post(identity, "close", {"callsid": sid})  # its media, once what came before is sent

    def _post(self, identity: str, kind: str, payload: dict[str, Any]) -> None:
        self._loop.call_soon_threadsafe(self._outbox_put, (identity, kind, payload))

    def _outbox_put(self, item: tuple[str, str, dict[str, Any]]) -> None:
        assert self._outbox is not None
        self._outbox.put_nowait(item)

    # The edge's thread ---------------------------------------------------------------------------------
    def _call(self, coro: Any, timeout: float = 15.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _start(self) -> int:
        self._outbox = asyncio.Queue()
        app = web.Application()
        app.router.add_get("/signal", self._serve)
        app.router.add_get("/unreachable/signal", self._unreachable)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._tasks = [asyncio.ensure_future(self._sender()), asyncio.ensure_future(self._heartbeats())]
        return int(self._runner.addresses[0][1])

    async def _unreachable(self, _request: web.Request) -> web.Response:
        return web.Response(status=503)

    async def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for sid in list(self._peers):
            await self._close_peer(sid)
        for socket in list(self._sockets):
            await socket.ws.close()
        await self._runner.cleanup()

    def _note(self, frame: Frame) -> None:
        with self._changed:
            self.frames.append(frame)
            self._changed.notify_all()

    def _fail(self, what: str) -> None:
        with self._changed:
            self.errors.append(what)
            self._changed.notify_all()

    async def _send(self, socket: _Socket, kind: str, payload: dict[str, Any]) -> None:
        self._note(Frame(socket.identity, "out", kind, payload))
        await socket.ws.send_str(json.dumps({"type": kind, "version": "1.6", "payload": payload}))

    async def _serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        socket = _Socket(ws)
        self._sockets.append(socket)
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                if message.data == "\n":
                    continue  # the SDK answering our heartbeat
                try:
                    data = json.loads(message.data)
                    await self._received(socket, str(data.get("type")), data.get("payload") or {})
                except Exception:
                    self._fail(f"edge: {message.data[:300]}\n{traceback.format_exc()}")
        finally:
            socket.registered = False
            self._sockets.remove(socket)
            self._note(Frame(socket.identity, "in", "closed"))
        return ws

    async def _received(self, socket: _Socket, kind: str, payload: dict[str, Any]) -> None:
        self._note(Frame(socket.identity, "in", kind, payload))
        if kind == "listen":
            identity, ttl = self._check_token(str(payload.get("token", "")))
            if identity is None:
                await self._send(
                    socket, "error", {"error": {"code": 31204, "message": "JWT token is invalid"}}
                )
                return
            socket.identity = identity
            await self._send(
                socket,
                "connected",
                {
                    "region": "gll",
                    "edge": "roaming",
                    "home": "gll",
                    "token": {"identity": identity, "ttl": ttl},
                },
            )
        elif kind == "register":
            if socket.identity is None:
                await self._send(
                    socket, "error", {"error": {"code": 31204, "message": "register before listen"}}
                )
                return
            socket.registered = bool((payload.get("media") or {}).get("audio"))
            await self._send(socket, "ready" if socket.registered else "offline", {})
        elif kind == "answer":
            sid = str(payload.get("callsid", ""))
            peer = self._peers.get(sid)
            assert peer is not None, f"an answer for {sid}, which the edge never offered"
            await peer.setRemoteDescription(RTCSessionDescription(str(payload["sdp"]), "answer"))
            self._on_sim(lambda sim: sim.answer(sid) if sim.legs[sid].status in RINGING else None)
            with self._changed:
                self.answered.setdefault(sid, socket.identity or "")
                self._changed.notify_all()
        elif kind == "reject":
            sid = str(payload.get("callsid", ""))
            self._by_browser.add(sid)
            self._on_sim(lambda sim: sim.decline(sid) if sim.legs[sid].status in RINGING else None)
        elif kind == "hangup":
            sid = str(payload.get("callsid", ""))
            self._by_browser.add(sid)
            self._on_sim(lambda sim: sim.hang_up(sid) if sim.legs[sid].status not in TERMINAL else None)
        elif kind in ("dtmf", "message"):
            pass  # noted; nothing of ours uses them yet
        else:
            self._fail(f"edge: the SDK sent {kind!r}, which this edge does not play: {payload}")

    def _on_sim(self, change: Callable[[TwilioSim], Any]) -> None:
        """A change the browser made to its leg (the callbacks it queues are delivered by `sim.run()`)."""
        assert self.sim is not None, "bind the simulator to the edge first"
        with self.sim.lock:
            change(self.sim)

    def _check_token(self, token: str) -> tuple[str | None, int]:
        try:
            claims = jwt.decode(token, self.api_secret, algorithms=["HS256"], issuer=self.api_key)
        except jwt.PyJWTError as exc:
            self._fail(f"edge: token refused: {exc}")
            return None, 0
        grants = claims.get("grants") or {}
        incoming = ((grants.get("voice") or {}).get("incoming") or {}).get("allow")
        if claims.get("sub") != self.account_sid or not grants.get("identity") or incoming is not True:
            self._fail(f"edge: token refused: {claims}")
            return None, 0
        return str(grants["identity"]), int(claims["exp"] - time.time())

    async def _sender(self) -> None:
        """Twilio's messages to the browsers, in the order the simulator made them."""
        assert self._outbox is not None
        while True:
            identity, kind, payload = await self._outbox.get()
            try:
                await self._deliver(identity, kind, payload)
            except Exception:
                self._fail(f"edge: sending {kind} to {identity}\n{traceback.format_exc()}")

    async def _deliver(self, identity: str, kind: str, payload: dict[str, Any]) -> None:
        if kind == "close":
            await self._close_peer(payload["callsid"])
            return
        if kind == "release":
            for parked in self._held.pop(identity, []):
                await self._deliver(identity, *parked)
            return
        if identity in self._held:
            with self._changed:
                self._held[identity].append((kind, payload))
                self._changed.notify_all()
            return
        sockets = [s for s in self._sockets if s.identity == identity and s.registered]
        sid = payload["callsid"]
        if kind == "invite":
            if not sockets:
                self._note(Frame(identity, "out", "unreachable", {"callsid": sid}))
                return
            parameters = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", "CallSid": sid,
                          "From": payload["from"], "To": payload["to"]}  # fmt: skip
            message = {"callsid": sid, "sdp": await self._offer(sid), "parameters": parameters}
        else:
            message = {"callsid": sid}
        for socket in sockets:
            await self._send(socket, kind, message)

    async def _hold(self, identity: str) -> None:
        self._held.setdefault(identity, [])

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            for socket in list(self._sockets):
                with contextlib.suppress(Exception):
                    await socket.ws.send_str("\n")

    # Media -----------------------------------------------------------------------------------------------
    async def _offer(self, sid: str) -> str:
        """Twilio's side of the leg's media: a peer offering a tone, on loopback only."""
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._peers[sid] = pc
        pc.addTrack(ToneTrack())

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            asyncio.ensure_future(self._listen(sid, track))

        with host_addresses(["127.0.0.1"]):
            await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)

    async def _listen(self, sid: str, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, av.AudioFrame)
                samples = frame.to_ndarray().astype(np.float32) / 32768.0
                level = float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0
                if level > self.levels.get(sid, 0.0):
                    with self._changed:
                        self.levels[sid] = level
                        self._changed.notify_all()

    async def _close_peer(self, sid: str) -> None:
        pc = self._peers.pop(sid, None)
        if pc is not None:
            await pc.close()


class EdgeSim(TwilioSim):
    """The simulator with Twilio's edge in it: legs to `client:<identity>` ring that identity's browsers
    (see TwilioEdge), and the reconcile's list requests (GET Calls.json, Recordings.json) are answered,
    empty, as an account without those records would."""

    def __init__(self, deliver: Deliver, **kwargs: Any) -> None:
        super().__init__(deliver, **kwargs)
        self.edge: TwilioEdge | None = None

    def _status(self, leg: Any, status: str) -> None:
        before = leg.status
        super()._status(leg, status)
        if self.edge is not None and leg.to.startswith("client:") and not self.replaying:
            self.edge.leg_changed(leg.sid, leg.to, before, status, leg.from_)

    def _handle(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        if method == "GET" and path in (account_path("Calls.json"), account_path("Recordings.json")):
            return 200, page("calls" if path.endswith("Calls.json") else "recordings", [])
        return super()._handle(method, path, params)
