"""Shared steps of the call tests, on the kit's page objects."""

from __future__ import annotations

from playwright.sync_api import Page

from call_center.testing import Softphone, TestPhone, heard, sounds_like  # noqa: F401 (heard: re-exported)
from call_center.testing.server import DisposableApp
from tests.e2e.conftest import log_in
from tests.support import appdb

PHONE = "+201000000001"


def agent_on(page: Page, app: DisposableApp) -> Page:
    log_in(page, app)
    Softphone(page, app).wait_registered()
    return page


def phone_on(page: Page, app: DisposableApp, number: str = PHONE) -> Page:
    """A simulated phone, on and reachable at `number`."""
    log_in(page, app, path="/phone")
    TestPhone(page, app).use_number(number)
    return page


def number_display(e164: str) -> str:
    from call_center.services.numbers import display

    return display(e164)


def dial(agent: Page, number: str) -> None:
    Softphone(agent).dial(number)


def ready_recording(app: DisposableApp, call_id: int) -> dict:
    return appdb.wait_for(
        lambda: (r := appdb.recording_of(app, call_id)) and r["status"] != "processing" and r, timeout=20
    )


def media_stats(app: DisposableApp) -> dict:
    """The running media server's own figures (pid, calls, packets per leg), over its control protocol."""
    from call_center.telephony.local.protocol import CarrierClient

    secret = (app.data_dir / ".secret_key").read_text().strip()
    return CarrierClient(int(app.env["MEDIA_CONTROL_PORT"]), secret, timeout=5).request("stats")


def hears(party, voice, *, seconds: float = 6.0, over=()) -> float:  # type: ignore[no-untyped-def]
    """How well what `party` hears follows `voice`, checked to be clearly more than each of `over`.
    (Measured with one core kept busy by stress-ng and four Chromiums: 0.68-0.97 for the voice heard, at
    most 0.42 for one that is not; see `audio.follows`.)"""
    rate, samples = party.listen(seconds)
    score = sounds_like(samples, rate, voice)
    others = {str(v): sounds_like(samples, rate, v) for v in over}
    assert score > 0.5, (score, others)
    for other, value in others.items():
        assert score > value + 0.15, (score, other, value)
    return score


def media_flows(app, prefix: str) -> None:  # type: ignore[no-untyped-def]
    """Until the media server receives a transfer target's audio (legs `agent_<id>_...` / `ext_<digits>_...`).
    A target's softphone says "in-progress" once signalling is done; on a loaded machine its WebRTC media
    (ICE, DTLS) may take seconds more, and what anyone hears of it before then is silence."""

    def flowing() -> bool:
        for call in media_stats(app)["engine"]["calls"].values():
            for role, leg in call["legs"].items():
                age = leg["last_packet_age"]
                if role.startswith(prefix) and leg["packets_in"] > 25 and age is not None and age < 0.5:
                    return True
        return False

    appdb.wait_for(flowing, timeout=30)
