"""MP3 in memory with the av wheel's libmp3lame: short sounds and re-encoded recordings (the recorder
streams its own, frame by frame, while a call goes on)."""

from __future__ import annotations

import io

import numpy as np

FRAME = 1152  # samples per MP3 frame


def encode(pcm: np.ndarray, rate: int) -> bytes:
    """`pcm`: int16 samples, one row per channel (1 or 2 rows). The MP3's bytes."""
    import av

    channels = pcm.shape[0]
    if pcm.dtype != np.int16 or channels not in (1, 2):
        raise ValueError(f"want int16 samples in 1 or 2 rows, got {pcm.dtype} in {channels}")
    layout = "stereo" if channels == 2 else "mono"
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout=layout)
        for start in range(0, pcm.shape[1], FRAME):
            # Packed s16 is one plane of interleaved samples: L R L R ... (or just the samples, mono).
            block = np.ascontiguousarray(pcm[:, start : start + FRAME].T.reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()
