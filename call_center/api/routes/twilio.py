"""Twilio's routes: TwiML for the TwiML App and phone numbers, and the signed status/recording webhooks."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/calls", tags=["twilio"])
