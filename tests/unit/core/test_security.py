from __future__ import annotations

from call_center.core import security


def test_password_hash_roundtrip():
    hashed = security.hash_password("correct-horse-1")
    assert hashed.startswith("$argon2id$")
    assert security.verify_password(hashed, "correct-horse-1")
    assert not security.verify_password(hashed, "correct-horse-2")
    assert not security.verify_password(None, "anything")
    assert not security.verify_password("not-a-hash", "anything")


def test_tokens_are_random_and_hashed():
    a, b = security.new_token(), security.new_token()
    assert a != b and len(a) >= 40
    assert security.token_hash(a) != a and len(security.token_hash(a)) == 64


def test_signed_values_expire_and_bind_purpose(env):
    expires, sig = security.sign("recording", "42", ttl_seconds=60, now=1000)
    assert security.verify_signed("recording", "42", expires, sig, now=1030)
    assert not security.verify_signed("recording", "42", expires, sig, now=1061)
    assert not security.verify_signed("recording", "43", expires, sig, now=1030)
    assert not security.verify_signed("other", "42", expires, sig, now=1030)
    assert not security.verify_signed("recording", "42", expires + 1, sig, now=1030)
