// One browser "phone" for the agent softphone and the simulated customer phone.
//
// The page talks to `window.almasarPhone` (connect, accept, reject, hangup, mute, hold, sendDigits, devices)
// and hears back through the `onEvent` prop: registered, connecting, ringing, accepted, disconnected,
// incoming, cancel, error, dtmf, hold, mute, devices, audio-blocked, warning. Two engines sit behind it:
//   - "local":  WebRTC to our own media server, signaling over HTTP + server-sent events (/api/local/...)
//   - "twilio": the @twilio/voice-sdk Device (bundled from npm, loaded only when used)
import { useEffect, useRef, useState } from "react";

const TERMINAL = new Set(["completed", "busy", "no-answer", "failed", "canceled"]);

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 204) return {};
  let data = {};
  try {
    data = await response.json();
  } catch (e) {
    data = {};
  }
  if (!response.ok) {
    const detail = (data && data.detail) || {};
    const error = new Error(detail.message || `HTTP ${response.status}`);
    error.code = detail.code || (response.status === 401 ? "session-expired" : "error.generic");
    error.status = response.status;
    throw error;
  }
  return data;
}

function micError(err) {
  const name = (err && err.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError") return { code: "mic-denied", message: err.message };
  if (name === "NotFoundError" || name === "OverconstrainedError") return { code: "mic-missing", message: err.message };
  if (name === "NotReadableError") return { code: "mic-busy", message: err.message };
  return { code: "mic-error", message: (err && err.message) || String(err) };
}

// Audio: ringtone, ringback while dialling, DTMF feedback, level meters -----------------------------------
class Sounds {
  constructor(emit) {
    this.emit = emit;
    this.ctx = null;
    this.ringTimer = null;
    this.ringNodes = [];
  }
  context() {
    if (!this.ctx) this.ctx = new (window.AudioContext || window.webkitAudioContext)();
    return this.ctx;
  }
  async unlock() {
    const ctx = this.context();
    try {
      await ctx.resume();
    } catch (e) {
      /* reported below */
    }
    return ctx.state === "running";
  }
  tone(freqs, seconds, gain = 0.08) {
    const ctx = this.context();
    const out = ctx.createGain();
    out.gain.value = gain;
    out.connect(ctx.destination);
    const nodes = freqs.map((f) => {
      const osc = ctx.createOscillator();
      osc.frequency.value = f;
      osc.connect(out);
      osc.start();
      osc.stop(ctx.currentTime + seconds);
      return osc;
    });
    this.ringNodes.push(...nodes);
  }
  async startRinging() {
    this.stopRinging();
    if (!(await this.unlock())) this.emit("audio-blocked", {});
    const ring = () => {
      this.tone([440, 480], 2.0);
    };
    ring();
    this.ringTimer = setInterval(ring, 4000);
  }
  stopRinging() {
    if (this.ringTimer) clearInterval(this.ringTimer);
    this.ringTimer = null;
    this.ringNodes.forEach((n) => {
      try {
        n.stop();
      } catch (e) {
        /* already stopped */
      }
    });
    this.ringNodes = [];
  }
  dtmf(digit) {
    const rows = { 1: 697, 2: 697, 3: 697, 4: 770, 5: 770, 6: 770, 7: 852, 8: 852, 9: 852, "*": 941, 0: 941, "#": 941 };
    const cols = { 1: 1209, 4: 1209, 7: 1209, "*": 1209, 2: 1336, 5: 1336, 8: 1336, 0: 1336, 3: 1477, 6: 1477, 9: 1477, "#": 1477 };
    if (rows[digit]) this.tone([rows[digit], cols[digit]], 0.15, 0.05);
  }
  analyser(stream) {
    const ctx = this.context();
    const source = ctx.createMediaStreamSource(stream);
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    return analyser;
  }
}

function rms(analyser) {
  if (!analyser) return 0;
  const data = new Float32Array(analyser.fftSize);
  analyser.getFloatTimeDomainData(data);
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i] * data[i];
  return Math.sqrt(sum / data.length);
}

// Local engine: our media server ----------------------------------------------------------------------------
class LocalEngine {
  constructor(phone, { mode, deviceToken }) {
    this.phone = phone;
    this.mode = mode;
    this.deviceToken = deviceToken; // a simulated phone's registration, signed by the server
    this.source = null;
    this.pc = null;
    this.call = null; // {sid, direction, remote}
    this.pending = null; // an offered incoming call
    // Status messages for a call this phone is placing can arrive on the event stream before the POST
    // that places it has answered with the call's id: keep the latest per call until it does.
    this.early = new Map();
  }
  query() {
    return this.mode === "phone" ? `?device=${encodeURIComponent(this.deviceToken)}` : "";
  }
  register() {
    this.unregister();
    const source = new EventSource(`/api/local/events${this.query()}`, { withCredentials: true });
    source.onmessage = (msg) => {
      try {
        this.onSignal(JSON.parse(msg.data));
      } catch (e) {
        console.error("bad signal", e);
      }
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) this.phone.emit("error", { code: "signaling-lost" });
      else this.phone.emit("warning", { code: "signaling-reconnecting" });
    };
    this.source = source;
  }
  unregister() {
    if (this.source) this.source.close();
    this.source = null;
  }
  onSignal(msg) {
    const p = this.phone;
    if (msg.type === "registered") return p.emit("registered", { identity: msg.identity, number: msg.number });
    if (msg.type === "signed-out") {
      // the session ended (logged out elsewhere, password changed, disabled): stop, do not reconnect
      this.unregister();
      return p.emit("error", { code: "session-expired" });
    }
    if (msg.type === "incoming") {
      if (this.call || this.pending) return; // busy: the other agents still ring
      this.pending = { sid: msg.call_sid, from: msg.from, caller_name: msg.caller_name };
      p.sounds.startRinging();
      return p.emit("incoming", { call_sid: msg.call_sid, from: msg.from, caller_name: msg.caller_name || "" });
    }
    if (msg.type === "cancel") return this.cancelPending(msg.call_sid, msg.reason || "canceled");
    if (msg.type === "dtmf" && this.call && msg.call_sid === this.call.sid)
      return p.emit("dtmf", { digits: msg.digits, from: msg.from });
    if (msg.type === "hold" && this.call && msg.call_sid === this.call.sid) return p.emit("hold", { on: !!msg.on });
    if (msg.type === "status") return this.onStatus(msg);
  }
  cancelPending(sid, reason) {
    if (!this.pending || this.pending.sid !== sid) return;
    this.pending = null;
    this.phone.sounds.stopRinging();
    this.phone.emit("cancel", { call_sid: sid, reason });
  }
  onStatus(msg) {
    if (TERMINAL.has(msg.status)) this.cancelPending(msg.call_sid, msg.reason || msg.status);
    if (!this.call || msg.call_sid !== this.call.sid) {
      this.early.set(msg.call_sid, msg);
      if (this.early.size > 20) this.early.delete(this.early.keys().next().value);
      return;
    }
    if (this.call.status === msg.status) return; // a replay after reconnecting: nothing new
    this.call.status = msg.status;
    if (msg.status === "ringing") this.phone.emit("ringing", { call_sid: msg.call_sid });
    else if (msg.status === "in-progress") this.phone.emit("accepted", { call_sid: msg.call_sid });
    else if (TERMINAL.has(msg.status)) this.finish({ status: msg.status, reason: msg.reason || "", by: msg.by || "" });
  }
  async peer() {
    const stream = await this.phone.microphone();
    const pc = new RTCPeerConnection({ iceServers: [] });
    stream.getAudioTracks().forEach((t) => pc.addTrack(t, stream));
    pc.ontrack = (ev) => this.phone.attachRemote(ev.streams[0] || new MediaStream([ev.track]));
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed" && this.call) this.phone.emit("warning", { code: "media-failed" });
    };
    this.pc = pc;
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      const done = () => pc.iceGatheringState === "complete" && resolve();
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 2000); // whatever was gathered by then is enough on a LAN/loopback
    });
    return pc.localDescription.sdp;
  }
  async connect(to) {
    const sdp = await this.peer();
    const reply = await api("POST", `/api/local/calls${this.query()}`, { to, sdp });
    this.call = { sid: reply.call_sid, direction: "outbound", remote: to };
    await this.pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    const early = this.early.get(reply.call_sid);
    this.early.clear();
    if (early) this.onStatus(early);
    return reply.call_sid;
  }
  async accept() {
    const offer = this.pending;
    if (!offer) throw Object.assign(new Error("no incoming call"), { code: "no-call" });
    this.phone.sounds.stopRinging();
    const sdp = await this.peer();
    this.call = { sid: offer.sid, direction: "inbound", remote: offer.from };
    this.pending = null;
    const reply = await api("POST", `/api/local/calls/${offer.sid}/answer${this.query()}`, { sdp });
    await this.pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    return offer.sid;
  }
  async reject() {
    const offer = this.pending;
    if (!offer) return;
    this.pending = null;
    this.phone.sounds.stopRinging();
    await api("POST", `/api/local/calls/${offer.sid}/reject${this.query()}`);
    this.phone.emit("rejected", { call_sid: offer.sid });
  }
  async hangup() {
    if (!this.call) return;
    const sid = this.call.sid;
    try {
      await api("POST", `/api/local/calls/${sid}/hangup${this.query()}`);
    } finally {
      this.finish({ status: "completed", reason: "", by: "me" });
    }
  }
  async hold(on) {
    if (!this.call) return;
    await api("POST", `/api/local/calls/${this.call.sid}/hold`, { on });
  }
  async sendDigits(digits) {
    if (!this.call) return;
    await api("POST", `/api/local/calls/${this.call.sid}/dtmf${this.query()}`, { digits });
  }
  finish(info) {
    const call = this.call;
    this.call = null;
    if (this.pc) this.pc.close();
    this.pc = null;
    this.phone.releaseMedia();
    if (call) this.phone.emit("disconnected", { call_sid: call.sid, ...info });
  }
  replaceInput(track) {
    if (!this.pc) return;
    this.pc.getSenders().forEach((s) => s.track && s.track.kind === "audio" && s.replaceTrack(track));
  }
  busy() {
    return !!this.call;
  }
}

// Twilio engine: @twilio/voice-sdk 2.x -------------------------------------------------------------------------
const TWILIO_ERRORS = {
  20101: "twilio-token-invalid",
  20104: "twilio-token-expired",
  31005: "twilio-connection-error",
  31008: "twilio-user-aborted",
  31201: "mic-error",
  31204: "twilio-token-invalid",
  31205: "twilio-token-expired",
  31208: "mic-denied",
  31401: "mic-denied",
  31402: "mic-missing",
  31000: "twilio-connection-error",
  31003: "twilio-connection-error",
  31009: "twilio-signaling",
  31480: "twilio-unavailable",
  31486: "twilio-busy",
  53000: "twilio-signaling",
  53001: "twilio-signaling",
  53405: "twilio-media-failed",
};

class TwilioEngine {
  constructor(phone, config) {
    this.phone = phone;
    this.config = config;
    this.device = null;
    this.call = null;
    this.pending = null;
    this.refreshTimer = null;
  }
  async register() {
    const { Device } = await import("@twilio/voice-sdk");
    const device = new Device(this.config.token, {
      codecPreferences: this.config.codec_preferences || ["opus", "pcmu"],
      enableImprovedSignalingErrorPrecision: true,
      closeProtection: true,
    });
    device.on("registered", () => this.phone.emit("registered", { identity: this.config.identity }));
    device.on("error", (err) => this.phone.emit("error", this.describe(err)));
    device.on("incoming", (call) => this.onIncoming(call));
    device.on("tokenWillExpire", () => this.refreshToken());
    device.audio && device.audio.on("deviceChange", () => this.phone.listDevices());
    this.device = device;
    this.scheduleRefresh(this.config.expires_at);
    await device.register();
  }
  describe(err) {
    const code = err && err.code;
    return { code: TWILIO_ERRORS[code] || "twilio-error", twilio_code: code || null, message: (err && err.message) || "" };
  }
  scheduleRefresh(expiresAt) {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (!expiresAt) return;
    const ms = Math.max(10000, expiresAt * 1000 - Date.now() - 60000); // one minute early
    this.refreshTimer = setTimeout(() => this.refreshToken(), ms);
  }
  async refreshToken() {
    try {
      const config = await api("GET", "/api/calls/token");
      this.config = config;
      this.device.updateToken(config.token);
      this.scheduleRefresh(config.expires_at);
    } catch (err) {
      this.phone.emit("error", { code: err.code || "token-refresh-failed", message: err.message });
    }
  }
  watch(call, direction, remote) {
    this.call = { sid: null, direction, remote, twilio: call };
    call.on("ringing", () => this.phone.emit("ringing", { call_sid: call.parameters.CallSid || null }));
    call.on("accept", () => {
      this.call.sid = call.parameters.CallSid;
      this.phone.emit("accepted", { call_sid: call.parameters.CallSid });
    });
    call.on("disconnect", () => this.finish({ status: "completed", reason: "", by: "" }));
    call.on("cancel", () => this.finish({ status: "canceled", reason: "", by: "customer" }));
    call.on("reject", () => this.finish({ status: "busy", reason: "rejected", by: "" }));
    call.on("error", (err) => this.phone.emit("error", this.describe(err)));
    call.on("mute", (muted) => this.phone.emit("mute", { on: muted }));
    call.on("warning", (name) => this.phone.emit("warning", { code: `quality-${name}` }));
    call.on("warning-cleared", (name) => this.phone.emit("warning-cleared", { code: `quality-${name}` }));
  }
  onIncoming(call) {
    if (this.call || this.pending) return call.reject();
    this.pending = call;
    call.on("cancel", () => {
      if (this.pending === call) {
        this.pending = null;
        this.phone.sounds.stopRinging();
        this.phone.emit("cancel", { call_sid: call.parameters.CallSid, reason: "caller-hung-up" });
      }
    });
    this.phone.sounds.startRinging();
    this.phone.emit("incoming", {
      call_sid: call.parameters.CallSid,
      from: call.parameters.From,
      caller_name: (call.customParameters && call.customParameters.get("callerName")) || "",
    });
  }
  async connect(to) {
    const call = await this.device.connect({ params: { To: to }, rtcConstraints: this.phone.constraints() });
    this.watch(call, "outbound", to);
    return null;
  }
  async accept() {
    const call = this.pending;
    if (!call) return null;
    this.pending = null;
    this.phone.sounds.stopRinging();
    this.watch(call, "inbound", call.parameters.From);
    call.accept({ rtcConstraints: this.phone.constraints() });
    return call.parameters.CallSid;
  }
  async reject() {
    if (!this.pending) return;
    const call = this.pending;
    this.pending = null;
    this.phone.sounds.stopRinging();
    call.reject();
    this.phone.emit("rejected", { call_sid: call.parameters.CallSid });
  }
  async hangup() {
    if (this.call) this.call.twilio.disconnect();
  }
  async hold() {
    const err = new Error("hold is not available with Twilio calls");
    err.code = "hold-unsupported";
    throw err;
  }
  async sendDigits(digits) {
    if (this.call) this.call.twilio.sendDigits(digits);
  }
  mute(on) {
    if (this.call) this.call.twilio.mute(on);
  }
  finish(info) {
    const call = this.call;
    this.call = null;
    this.phone.releaseMedia();
    if (call) this.phone.emit("disconnected", { call_sid: call.sid, ...info });
  }
  async setInput(id) {
    if (this.device && this.device.audio) await this.device.audio.setInputDevice(id);
  }
  async setOutput(id) {
    if (this.device && this.device.audio) await this.device.audio.speakerDevices.set(id);
  }
  unregister() {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.device) this.device.destroy();
    this.device = null;
  }
  busy() {
    return !!this.call;
  }
}

// The phone facade the page uses -------------------------------------------------------------------------------
class Phone {
  constructor() {
    this.listener = () => {};
    this.sounds = new Sounds((type, detail) => this.emit(type, detail));
    this.engine = null;
    this.stream = null;
    this.micAnalyser = null;
    this.remoteAnalyser = null;
    this.remoteAudio = null;
    this.inputId = "";
    this.outputId = "";
    this.muted = false;
    this.meterLoop = null;
  }
  emit(type, detail) {
    try {
      this.listener({ type, at: Date.now(), ...(detail || {}) });
    } catch (e) {
      console.error(e);
    }
  }
  async start({ mode, deviceToken }) {
    // Idempotent: navigating between pages re-mounts the component but must not drop a call in progress.
    const key = `${mode}|${deviceToken || ""}`;
    if (this.engine && this.key === key) return;
    this.stop();
    this.key = key;
    try {
      let config = { provider: "local" };
      if (mode !== "phone") config = await api("GET", "/api/calls/token");
      this.engine =
        config.provider === "twilio" ? new TwilioEngine(this, config) : new LocalEngine(this, { mode, deviceToken });
      await this.engine.register();
      this.listDevices();
    } catch (err) {
      this.emit("error", { code: err.code || "register-failed", message: err.message });
    }
  }
  stop() {
    if (this.engine) this.engine.unregister();
    this.engine = null;
    this.key = null;
  }
  setAudioElement(element) {
    this.remoteAudio = element;
    if (element && this.remoteStream) {
      element.srcObject = this.remoteStream;
      element.play().catch(() => this.emit("audio-blocked", {}));
    }
  }
  constraints() {
    return { audio: this.inputId ? { deviceId: { exact: this.inputId } } : true };
  }
  async microphone() {
    if (this.stream) return this.stream;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          deviceId: this.inputId ? { exact: this.inputId } : undefined,
          echoCancellation: true,
          noiseSuppression: true,
          autoGainControl: true,
        },
      });
    } catch (err) {
      const info = micError(err);
      this.emit("error", info);
      throw Object.assign(new Error(info.message), { code: info.code, reported: true });
    }
    this.stream.getAudioTracks().forEach((t) => (t.enabled = !this.muted));
    this.micAnalyser = this.sounds.analyser(this.stream);
    this.startMeter();
    this.listDevices(); // labels appear once permission is granted
    return this.stream;
  }
  releaseMedia() {
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.micAnalyser = null;
    this.remoteAnalyser = null;
    this.remoteStream = null;
    this.muted = false;
    if (this.remoteAudio) this.remoteAudio.srcObject = null;
  }
  attachRemote(stream) {
    this.remoteStream = stream;
    if (this.remoteAudio) {
      this.remoteAudio.srcObject = stream;
      if (this.outputId && this.remoteAudio.setSinkId) this.remoteAudio.setSinkId(this.outputId).catch(() => {});
      this.remoteAudio.play().catch(() => this.emit("audio-blocked", {}));
    }
    this.remoteAnalyser = this.sounds.analyser(stream);
  }
  startMeter() {
    if (this.meterLoop) return;
    const tick = () => {
      const bar = document.getElementById("mic-level-bar");
      if (bar) bar.style.width = `${Math.min(100, Math.round(rms(this.micAnalyser) * 400))}%`;
      this.meterLoop = requestAnimationFrame(tick);
    };
    this.meterLoop = requestAnimationFrame(tick);
  }
  async listDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    const all = await navigator.mediaDevices.enumerateDevices();
    const pick = (kind) =>
      all.filter((d) => d.kind === kind).map((d, i) => ({ id: d.deviceId, label: d.label || `${kind} ${i + 1}` }));
    this.emit("devices", { inputs: pick("audioinput"), outputs: pick("audiooutput") });
  }
  async run(action) {
    try {
      return await action();
    } catch (err) {
      if (!err.reported) this.emit("error", { code: err.code || "error.generic", message: err.message || String(err) });
      return null;
    }
  }
  // --- what the page calls ---
  connect(to) {
    if (!this.engine) return this.emit("error", { code: "not-registered" });
    if (this.engine.busy()) return this.emit("error", { code: "busy" });
    this.emit("connecting", { to });
    return this.run(async () => {
      try {
        return await this.engine.connect(to);
      } catch (err) {
        this.engine.finish && this.engine.finish({ status: "failed", reason: err.code || "", by: "" });
        this.releaseMedia();
        throw err;
      }
    });
  }
  accept() {
    return this.run(() => this.engine.accept());
  }
  reject() {
    return this.run(() => this.engine.reject());
  }
  hangup() {
    return this.run(() => this.engine.hangup());
  }
  hold(on) {
    return this.run(async () => {
      await this.engine.hold(on);
      this.emit("hold", { on });
    });
  }
  mute(on) {
    this.muted = !!on;
    if (this.stream) this.stream.getAudioTracks().forEach((t) => (t.enabled = !this.muted));
    if (this.engine && this.engine.mute) this.engine.mute(this.muted);
    this.emit("mute", { on: this.muted });
  }
  sendDigits(digits) {
    String(digits)
      .split("")
      .forEach((d, i) => setTimeout(() => this.sounds.dtmf(d), i * 180));
    return this.run(() => this.engine.sendDigits(digits));
  }
  async setInputDevice(id) {
    this.inputId = id || "";
    if (this.engine instanceof TwilioEngine) return this.run(() => this.engine.setInput(id));
    if (this.stream) {
      this.stream.getTracks().forEach((t) => t.stop());
      this.stream = null;
      const stream = await this.run(() => this.microphone());
      if (stream) this.engine.replaceInput(stream.getAudioTracks()[0]);
    }
  }
  async setOutputDevice(id) {
    this.outputId = id || "";
    if (this.engine instanceof TwilioEngine) return this.run(() => this.engine.setOutput(id));
    if (this.remoteAudio && this.remoteAudio.setSinkId) return this.run(() => this.remoteAudio.setSinkId(this.outputId));
  }
  unlockAudio() {
    return this.sounds.unlock().then((ok) => {
      if (this.remoteAudio && this.remoteAudio.srcObject) this.remoteAudio.play().catch(() => {});
      this.emit(ok ? "audio-unlocked" : "audio-blocked", {});
    });
  }
  // for tests and the level meters
  micLevel() {
    return rms(this.micAnalyser);
  }
  remoteLevel() {
    return rms(this.remoteAnalyser);
  }
}

export function VoiceDevice({ mode, deviceToken, onEvent }) {
  const audioRef = useRef(null);
  const listenerRef = useRef(onEvent);
  listenerRef.current = onEvent;

  useEffect(() => {
    const phone = window.almasarPhone || (window.almasarPhone = new Phone());
    phone.listener = (event) => listenerRef.current && listenerRef.current(event);
    phone.setAudioElement(audioRef.current);
    if (mode === "phone" && !deviceToken) phone.stop();
    else phone.start({ mode: mode || "agent", deviceToken });
  }, [mode, deviceToken]);

  return <audio ref={audioRef} autoPlay playsInline data-testid="remote-audio" />;
}

// Elapsed time of the call in progress, counted in the browser (mm:ss, or h:mm:ss).
export function CallTimer({ since }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!since) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [since]);
  const total = since ? Math.max(0, Math.floor((now - since) / 1000)) : 0;
  const pad = (n) => String(n).padStart(2, "0");
  const h = Math.floor(total / 3600);
  const text = `${h ? h + ":" : ""}${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return (
    <span className="num call-timer" role="timer" aria-live="off">
      {text}
    </span>
  );
}
