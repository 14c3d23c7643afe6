"""The built-in local provider: WebRTC legs terminated by our own media server (aiortc), simulated phones."""
