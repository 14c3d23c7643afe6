"""The toll-fraud guard by number type: premium rate, shared cost, personal numbers, UAN/VoIP resale and the
satellite / international-network ranges are refused even where their country is allowed."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from call_center.core.config import ConfigError, load_settings
from call_center.services import numbers
from call_center.services.errors import Forbidden

REGIONS = ("EG", "GB", "US")
BLOCKED_BY_DEFAULT = ("PREMIUM_RATE", "SHARED_COST", "PERSONAL_NUMBER", "UAN", "VOIP", "PAGER")
ALLOWED_BY_DEFAULT = ("FIXED_LINE", "MOBILE", "FIXED_LINE_OR_MOBILE", "TOLL_FREE", "VOICEMAIL")


def _example(region: str, kind: str) -> str | None:
    number = phonenumbers.example_number_for_type(region, getattr(PhoneNumberType, kind))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else None


def _settings(env, **values: str):
    return load_settings(ALLOWED_COUNTRIES=",".join(REGIONS), **values)


CASES = [(r, k, n) for r in REGIONS for k in BLOCKED_BY_DEFAULT if (n := _example(r, k))]


def test_the_examples_cover_every_blocked_type_somewhere():
    # phonenumbers has no such ranges for some pairs (e.g. Egypt has no UAN numbers); together the three
    # regions still exercise every type the guard blocks (SHARED_COST has no example in any of them, so it
    # is checked with a number below).
    assert {k for _, k, _ in CASES} >= set(BLOCKED_BY_DEFAULT) - {"SHARED_COST"}


@pytest.mark.parametrize(("region", "kind", "number"), CASES, ids=lambda v: str(v))
def test_each_blocked_type_is_refused_in_an_allowed_country(env, region, kind, number):
    settings = _settings(env)
    assert numbers.number_type(phonenumbers.parse(number)) == kind
    with pytest.raises(Forbidden) as refused:
        numbers.destination(number, settings)
    assert refused.value.code == numbers.BLOCKED_TYPE_ERRORS[kind]
    assert number in refused.value.detail


@pytest.mark.parametrize(
    ("region", "kind"), [(r, k) for r in REGIONS for k in ALLOWED_BY_DEFAULT if _example(r, k)], ids=str
)
def test_ordinary_numbers_are_allowed(env, region, kind):
    number = _example(region, kind)
    destination = numbers.destination(number, _settings(env))
    assert destination.e164 == number and destination.region == region


@pytest.mark.parametrize("number", ["+870301234567", "+881612345678", "+8823421234", "+883510012345"])
def test_satellite_and_international_network_numbers_are_refused(env, number):
    assert numbers.number_type(phonenumbers.parse(number)) == "INTERNATIONAL_NETWORK"
    with pytest.raises(Forbidden) as refused:
        numbers.destination(number, _settings(env))
    assert refused.value.code == "dial.error.international_network"


def test_shared_cost_is_blocked_by_type(env, monkeypatch):
    # No region here has an example shared-cost number: check the rule with the type itself.
    monkeypatch.setattr(numbers, "number_type", lambda _n: "SHARED_COST")
    with pytest.raises(Forbidden) as refused:
        numbers.destination("+441212345678", _settings(env))
    assert refused.value.code == "dial.error.shared_cost"


def test_the_setting_chooses_what_is_blocked(env):
    premium = _example("GB", "PREMIUM_RATE")
    toll_free = _example("EG", "TOLL_FREE")
    relaxed = _settings(env, BLOCKED_NUMBER_TYPES="VOIP")
    assert numbers.destination(premium, relaxed).e164 == premium
    strict = _settings(env, BLOCKED_NUMBER_TYPES="TOLL_FREE")
    with pytest.raises(Forbidden):
        numbers.destination(toll_free, strict)
    nothing = load_settings(ALLOWED_COUNTRIES="GB", BLOCKED_NUMBER_TYPES="NONE")
    assert nothing.blocked_number_types == set()
    assert numbers.destination(premium, nothing).e164 == premium


def test_an_unknown_type_in_the_setting_is_a_clear_start_up_error(env):
    with pytest.raises(ConfigError) as error:
        load_settings(BLOCKED_NUMBER_TYPES="PREMIUM_RATE,EXPENSIVE")
    assert "BLOCKED_NUMBER_TYPES" in str(error.value) and "EXPENSIVE" in str(error.value)


def test_the_country_rule_still_applies_to_ordinary_numbers(env):
    with pytest.raises(Forbidden) as refused:
        numbers.destination("+12025550143", load_settings(ALLOWED_COUNTRIES="EG"))
    assert refused.value.code == "dial.error.country"
