"""`python -m call_center twilio ...` (setup, doctor)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

import httpx
from pydantic import ValidationError
from twilio.base.exceptions import TwilioRestException
from twilio.http import HttpClient

from call_center.core.config import Settings
from call_center.telephony.base import ProviderError
from call_center.telephony.twilio import doctor, provisioning


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the `twilio` command group."""
    parser = subparsers.add_parser("twilio", help="Twilio set-up and checks")
    parser.set_defaults(func=lambda _args: parser.print_help() or 0)
    commands = parser.add_subparsers(dest="twilio_command")

    setup = commands.add_parser("setup", help="create or update the TwiML App and an API key; write .env")
    setup.add_argument("--public-url", required=True, help="the https URL Twilio reaches this app at")
    setup.add_argument("--env-file", type=Path, default=None, help="the .env to update (default: the app's)")
    setup.add_argument(
        "--configure-number",
        action="store_true",
        help="also point TWILIO_CALLER_ID's incoming calls at this app (it must be a Twilio number)",
    )
    setup.set_defaults(func=run_setup)

    check = commands.add_parser("doctor", help="check every Twilio setting and connection, with fixes")
    check.add_argument("--number", help="also check how this dialled number would be handled")
    check.set_defaults(func=run_doctor)


def _settings(out: TextIO) -> Settings | None:
    # Not load_settings(): its all-or-nothing validation is what these commands help fix.
    try:
        return Settings()
    except ValidationError as exc:
        out.write(f"The settings cannot be read:\n{exc}\n")
        return None


def env_file() -> Path:
    return Path(str(Settings.model_config.get("env_file") or ".env"))


def run_setup(
    args: argparse.Namespace, *, http_client: HttpClient | None = None, out: TextIO = sys.stdout
) -> int:
    settings = _settings(out)
    if settings is None:
        return 2
    try:
        result = provisioning.setup(
            settings, args.public_url, http_client=http_client, configure_number=args.configure_number
        )
    except (provisioning.SetupError, ProviderError) as exc:
        out.write(f"Setup stopped: {exc}\n")
        return 2
    except TwilioRestException as exc:
        out.write(f"Twilio refused a request (HTTP {exc.status}, code {exc.code}): {exc.msg}\n")
        return 1
    path = args.env_file or env_file()
    provisioning.write_env(path, result.env)
    for action in result.actions:
        out.write(f"- {action}\n")
    written = ", ".join(result.env)
    out.write(f"- wrote {written} to {path}\n\nNext: python -m call_center twilio doctor\n")
    return 0


def run_doctor(
    args: argparse.Namespace,
    *,
    http_client: HttpClient | None = None,
    web: httpx.Client | None = None,
    out: TextIO = sys.stdout,
) -> int:
    settings = _settings(out)
    if settings is None:
        return 2
    checks = doctor.Doctor(settings, http_client=http_client, web=web, number=args.number).run()
    text, ok = doctor.report(checks)
    out.write(text + "\n")
    return 0 if ok else 1
