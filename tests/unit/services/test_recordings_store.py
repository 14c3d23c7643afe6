from __future__ import annotations

import pytest

from call_center.services.errors import InvalidInput
from call_center.services.recordings import LocalRecordingStore, StorageError


def test_atomic_put_and_read(tmp_path):
    store = LocalRecordingStore(tmp_path)
    assert store.put_bytes("2026/11/call-1-x.mp3", b"ID3data") == 7
    with store.open("2026/11/call-1-x.mp3") as handle:
        assert handle.read() == b"ID3data"
    assert not list((tmp_path / "2026/11").glob(".tmp-*"))  # no temp files left


@pytest.mark.parametrize("key", ["../etc/passwd", "/etc/passwd", "a/../../b.mp3", "", ".hidden", "a\\b"])
def test_keys_cannot_leave_the_store(tmp_path, key):
    with pytest.raises(InvalidInput):
        LocalRecordingStore(tmp_path).path(key)


def test_a_failing_disk_is_a_clear_storage_error(tmp_path):
    (tmp_path / "2026").write_text("a file where a directory should be")
    with pytest.raises(StorageError, match="could not store 2026/11/x.mp3"):
        LocalRecordingStore(tmp_path).put_bytes("2026/11/x.mp3", b"x")
