"""`python -m call_center twilio ...` (setup, doctor)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the `twilio` command group."""
    parser = subparsers.add_parser("twilio", help="Twilio set-up and checks")
    parser.set_defaults(func=lambda _args: parser.print_help() or 0)
