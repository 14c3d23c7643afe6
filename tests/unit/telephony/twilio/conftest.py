from __future__ import annotations

from pathlib import Path

import pytest

from call_center.core.config import Settings
from tests.support.fake_twilio import TWILIO_ENV, fake_twilio  # noqa: F401 (fixture)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Complete Twilio settings, built directly (no environment, no .env)."""
    return Settings(**TWILIO_ENV, DATA_DIR=tmp_path / "data")  # type: ignore[arg-type]
