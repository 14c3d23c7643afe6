"""run_background: both loops run, survive any error, and stop when the app cancels them."""

from __future__ import annotations

import asyncio
import logging

import pytest

from call_center.telephony.twilio import provider as provider_module
from call_center.telephony.twilio.provider import TwilioProvider


async def test_errors_are_logged_and_the_loops_go_on(settings, monkeypatch, caplog):
    monkeypatch.setattr(provider_module, "JOB_POLL_SECONDS", 0.01)
    monkeypatch.setattr(provider_module, "RECONCILE_EVERY", provider_module.timedelta(seconds=0.01))
    monkeypatch.setattr(provider_module.random, "uniform", lambda a, b: 0.0 if b > 2 else 1.0)
    runs = {"jobs": 0, "reconcile": 0}

    def flaky(name):
        def work():
            runs[name] += 1
            if runs[name] % 2:
                raise RuntimeError(f"{name} broke")

        return work

    twilio = TwilioProvider(settings)
    monkeypatch.setattr(twilio, "run_jobs_once", flaky("jobs"))
    monkeypatch.setattr(twilio, "reconcile_once", flaky("reconcile"))
    caplog.set_level(logging.ERROR, logger="call_center.telephony.twilio.provider")
    task = asyncio.create_task(twilio.run_background())
    for _ in range(200):
        await asyncio.sleep(0.01)
        if min(runs.values()) >= 4:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert min(runs.values()) >= 4
    assert "recording downloads" in caplog.text and "reconcile" in caplog.text


def test_health_says_whether_tokens_can_be_issued_and_nothing_secret(settings):
    assert TwilioProvider(settings).health() == {"provider": "twilio", "configured": True}
    settings.TWILIO_API_KEY = None
    assert TwilioProvider(settings).health()["configured"] is False
