"""Synthetic WebRTC legs (aiortc) and signaling helpers for tests that drive the local provider over HTTP
without a browser: a real offer, a real answer from our media server, a looped chirp as the voice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from call_center.telephony.local.rtp_hook import host_addresses
from call_center.telephony.local.tones import RATE, PacketTrack, encode_opus
from call_center.testing.reflex_client import ReflexClient
from call_center.testing.server import DisposableApp

PHONE_STATE = (
    "reflex___state____state.call_center___state___session____session_state"
    ".call_center___state___phone____phone_state"
)


def login(app: DisposableApp, email: str, password: str) -> dict[str, str]:
    """A session cookie from the login route, as a browser gets it."""
    response = httpx.post(
        f"{app.url}/api/auth/login", json={"email": email, "password": password}, headers={"Origin": app.url}
    )
    assert response.status_code == 200, response.text
    return {"cc_session": response.cookies["cc_session"]}


async def phone_token(app: DisposableApp, cookies: dict[str, str], number: str) -> str:
    """The device token the phone page's own handler issues (as the /phone page would get it)."""
    async with ReflexClient(app.url, cookies=cookies, path="/phone") as client:
        await client.call(f"{PHONE_STATE}.set_number_input", value=number)
        await client.call(f"{PHONE_STATE}.use_number")
        tokens = [t for t in client.seen(f"{PHONE_STATE}.device_token") if t]
    assert tokens, "the phone page issued no registration"
    return tokens[-1]


def chirp(low: float, high: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return 0.3 * np.sin(2 * np.pi * (low * t + (high - low) * t**2 / (2 * seconds)))


async def phone_calls_company(phone: httpx.AsyncClient, token: str, leg: Leg) -> str:
    """A simulated phone (its registration `token`) calls the company number with `leg`; the call's sid."""
    response = await phone.post(
        f"/api/local/calls{EventStream.device(token)}", json={"to": "+20221234567", "sdp": await leg.offer()}
    )
    assert response.status_code == 200, response.text
    await leg.answered(response.json()["sdp"])
    return str(response.json()["call_sid"])


async def agent_answers(agent: httpx.AsyncClient, sid: str, leg: Leg) -> None:
    """The agent's softphone answers call `sid` with `leg`."""
    response = await agent.post(f"/api/local/calls/{sid}/answer", json={"sdp": await leg.offer()})
    assert response.status_code == 200, response.text
    await leg.answered(response.json()["sdp"])


class Leg:
    """One synthetic phone: makes an SDP offer and applies the media server's answer."""

    def __init__(self, band: tuple[float, float] = (800, 1200)) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.track = PacketTrack()
        self.track.play(encode_opus(chirp(*band), loop=True))
        self.pc.addTransceiver(self.track, direction="sendrecv")

    async def offer(self) -> str:
        with host_addresses(["127.0.0.1"]):
            await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def answered(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def close(self) -> None:
        self.track.stop()
        await self.pc.close()


class EventStream:
    """A device's /api/devices/events stream, read in the background into `messages`."""

    def __init__(self, client: httpx.AsyncClient, query: str = "") -> None:
        self.client = client
        self.query = query
        self.messages: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> EventStream:
        self._task = asyncio.create_task(self._read())
        await self.wait_for("registered")
        return self

    @staticmethod
    def device(token: str) -> str:
        """The query that registers a simulated phone with its device token."""
        return f"?device={quote(token, safe='')}"

    async def __aexit__(self, *_exc: object) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _read(self) -> None:
        async with self.client.stream("GET", f"/api/devices/events{self.query}", timeout=None) as response:
            if response.status_code != 200:
                await response.aread()
                self.messages.append({"type": "http-error", "status": response.status_code})
                self._changed.set()
                return
            async for line in _lines(response.aiter_lines()):
                self.messages.append(json.loads(line))
                self._changed.set()

    async def wait_for(self, kind: str, timeout: float = 15, **fields: Any) -> dict[str, Any]:
        async def find() -> dict[str, Any]:
            while True:
                for message in self.messages:
                    if message.get("type") == "http-error":
                        raise AssertionError(f"the event stream was refused: {message['status']}")
                    if message.get("type") == kind and all(message.get(k) == v for k, v in fields.items()):
                        return message
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(find(), timeout)


async def _lines(source: AsyncIterator[str]) -> AsyncIterator[str]:
    async for line in source:
        if line.startswith("data: "):
            yield line[len("data: ") :]
