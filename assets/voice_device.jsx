// One browser "phone" for the agent softphone and the simulated customer phone.
//
// The page talks to `window.almasarPhone` (connect, accept, reject, hangup, mute, sendDigits, devices) and
// hears back through the `onEvent` prop: registered, unregistered, connecting, ringing, accepted,
// disconnected, incoming, cancel, error, dtmf, hold, mute, transfer, monitor (who monitors my call),
// monitor-started / monitor-ended (my own monitoring leg), devices, audio-blocked, warning,
// warning-cleared. Hold, transfers and a monitoring leg's mode are asked of the server (Reflex events); the
// phone hears their steps.
//
// Behind it, one engine per provider with the same methods (phone/local_engine.js, phone/twilio_engine.js),
// the phone's event stream (phone/signals.js) and the shared helpers (phone/common.js).
import { useEffect, useRef, useState } from "react";
import { EarlyMessages, Sounds, api, micError, rms } from "./phone/common.js";
import { LocalEngine } from "./phone/local_engine.js";
import { Signals } from "./phone/signals.js";
import { TwilioEngine } from "./phone/twilio_engine.js";

// What the queue tells a waiting caller: their place in line, a voicemail, or that the line is closed now.
const queueEvent = (msg) => ({
  position: msg.position || 0,
  voicemail: !!msg.voicemail,
  closed: !!msg.closed,
  message_ar: msg.message_ar || "",
  message_en: msg.message_en || "",
});

// The phone facade the page uses -------------------------------------------------------------------------------
class Phone {
  constructor() {
    this.listener = () => {};
    this.sounds = new Sounds((type, detail) => this.emit(type, detail));
    this.engine = null;
    this.signals = null;
    this.queued = new EarlyMessages(); // queue positions that came before our call's id
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
    const query = mode === "phone" ? `?device=${encodeURIComponent(deviceToken)}` : "";
    this.signals = new Signals({
      query,
      onMessage: (msg) => this.onSignal(msg),
      onState: (state) => this.onSignalState(state),
    });
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
    if (this.signals) this.signals.stop();
    this.engine = null;
    this.key = null;
  }
  // The event stream: what every engine hears the same way, then the engine's own messages.
  onSignal(msg) {
    const sid = this.engine && this.engine.callSid();
    if (msg.type === "registered") return;
    if (msg.type === "transfer") return this.emit("transfer", msg);
    if (msg.type === "monitor") return this.emit("monitor", msg);
    if (msg.type === "hold") return sid === msg.call_sid && this.emit("hold", { on: !!msg.on });
    if (msg.type === "queue") {
      // the queue may speak before the reply that names our call arrives: kept until connect() knows it
      if (sid !== msg.call_sid) return this.queued.keep(msg.call_sid, msg);
      return this.emit("queue", queueEvent(msg));
    }
    if (msg.type === "dtmf") return sid === msg.call_sid && this.emit("dtmf", { digits: msg.digits, from: msg.from });
    if (this.engine) this.engine.onSignal(msg);
  }
  onSignalState(state) {
    // shown by the page itself (VoiceDevice): while the server is away, nothing reaches the app's state
    this.link = state === "reconnecting" ? "reconnecting" : "ok";
    if (this.onLink) this.onLink(this.link);
    if (state === "connected") {
      this.emit("warning-cleared", { code: "signaling" });
      if (this.engine) this.engine.onConnected();
    } else if (state === "reconnecting") {
      this.emit("warning", { code: "signaling-reconnecting" });
    } else if (state === "session-expired") {
      this.emit("error", { code: "session-expired" });
    }
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
    const armed = this.nextCapture;
    if (armed && !armed.started) {
      armed.started = true;
      this.captureRemote(armed.seconds).then(armed.resolve);
    }
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
        const sid = await this.engine.connect(to);
        const queued = this.queued.take(sid);
        if (queued) this.emit("queue", queueEvent(queued));
        return sid;
      } catch (err) {
        this.engine.finish({ status: "failed", reason: err.code || "", by: "" });
        this.releaseMedia();
        throw err;
      }
    });
  }
  // a supervisor joins a live call: mode "listen", "whisper" or "barge" (allowed by the server first)
  monitor(sid, mode) {
    if (!this.engine) return this.emit("monitor-ended", { call_sid: sid, reason: "device.error.not-registered" });
    if (this.engine.busy()) return this.emit("monitor-ended", { call_sid: sid, reason: "device.error.busy" });
    if (!this.engine.monitor) return this.emit("monitor-ended", { call_sid: sid, reason: "call.error.unsupported" });
    return this.run(async () => {
      try {
        return await this.engine.monitor(sid, mode);
      } catch (err) {
        // whatever failed (the SDK's connect, the media server's answer), the page's bar must not stay up
        this.emit("monitor-ended", { call_sid: sid, reason: err.code || "error.generic" });
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
  setInputDevice(id) {
    this.inputId = id || "";
    return this.engine && this.run(() => this.engine.setInput(this.inputId, this));
  }
  setOutputDevice(id) {
    this.outputId = id || "";
    return this.engine && this.run(() => this.engine.setOutput(this.outputId, this));
  }
  unlockAudio() {
    return this.sounds.unlock().then((ok) => {
      if (this.remoteAudio && this.remoteAudio.srcObject) this.remoteAudio.play().catch(() => {});
      this.emit(ok ? "audio-unlocked" : "audio-blocked", {});
    });
  }
  // for tests: the remote audio this page plays, as mono samples (about 8 kHz) over `seconds`
  captureRemote(seconds) {
    return new Promise((resolve) => {
      if (!this.remoteStream) return resolve({ rate: 8000, samples: [] });
      const ctx = this.sounds.context();
      const source = ctx.createMediaStreamSource(this.remoteStream);
      const node = ctx.createScriptProcessor(4096, 1, 1);
      const sink = ctx.createGain();
      sink.gain.value = 0; // processed, never played twice
      const step = Math.max(1, Math.round(ctx.sampleRate / 8000));
      const samples = [];
      let seen = 0;
      node.onaudioprocess = (ev) => {
        const data = ev.inputBuffer.getChannelData(0);
        for (let i = 0; i + step <= data.length; i += step) {
          let sum = 0;
          for (let j = 0; j < step; j++) sum += data[i + j];
          samples.push(sum / step);
        }
        seen += data.length;
        if (seen >= seconds * ctx.sampleRate) {
          node.onaudioprocess = null;
          source.disconnect();
          node.disconnect();
          sink.disconnect();
          resolve({ rate: ctx.sampleRate / step, samples });
        }
      };
      source.connect(node);
      node.connect(sink);
      sink.connect(ctx.destination);
    });
  }
  // for tests: capture the first `seconds` of the next call's remote audio from the moment it arrives
  // (what a customer hears as the call starts, e.g. the recording notice); capturedNext() gives it
  captureNext(seconds) {
    let resolve;
    const done = new Promise((r) => (resolve = r));
    this.nextCapture = { seconds, resolve, done, started: false };
  }
  capturedNext() {
    return this.nextCapture ? this.nextCapture.done : Promise.resolve({ rate: 8000, samples: [] });
  }
  // what the tests check after a call: the microphone is released
  microphoneOpen() {
    return !!(this.stream && this.stream.getAudioTracks().some((t) => t.readyState === "live"));
  }
  // for tests and the level meters
  micLevel() {
    return rms(this.micAnalyser);
  }
  remoteLevel() {
    return rms(this.remoteAnalyser);
  }
}

export function VoiceDevice({ mode, deviceToken, onEvent, reconnectingText }) {
  const audioRef = useRef(null);
  const listenerRef = useRef(onEvent);
  const [link, setLink] = useState("ok");
  listenerRef.current = onEvent;

  useEffect(() => {
    const phone = window.almasarPhone || (window.almasarPhone = new Phone());
    phone.listener = (event) => listenerRef.current && listenerRef.current(event);
    phone.onLink = setLink;
    setLink(phone.link || "ok");
    phone.setAudioElement(audioRef.current);
    if (mode === "phone" && !deviceToken) phone.stop();
    else phone.start({ mode: mode || "agent", deviceToken });
  }, [mode, deviceToken]);

  return (
    <>
      <audio ref={audioRef} autoPlay playsInline data-testid="remote-audio" />
      {link === "reconnecting" ? (
        <div className="alert alert-warn phone-link" role="status" aria-live="polite" data-testid="phone-reconnecting">
          {reconnectingText || "Reconnecting…"}
        </div>
      ) : null}
    </>
  );
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

// mm:ss from `seconds` on, ticking in the browser: a wallboard's elapsed time as the server last saw it.
// `stamp` changes with every new figure from the server (restart from it); `digits` "arab" shows
// Arabic-Indic digits. The browser's own clock only measures since the figure arrived, so a browser
// whose clock is wrong still shows the right time.
const ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩";
export function Elapsed({ seconds, stamp, digits, className }) {
  const [base, setBase] = useState({ at: Date.now(), seconds: seconds || 0 });
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    setBase({ at: Date.now(), seconds: seconds || 0 });
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [seconds, stamp]);
  const total = Math.max(0, Math.floor(base.seconds + (now - base.at) / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  const h = Math.floor(total / 3600);
  let text = `${h ? h + ":" : ""}${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  if (digits === "arab") text = text.replace(/[0-9]/g, (d) => ARABIC_DIGITS[Number(d)]);
  return (
    <span className={`num elapsed ${className || ""}`} role="timer" aria-live="off" data-seconds={total}>
      {text}
    </span>
  );
}

// mm:ss left until `until` (browser milliseconds), ticking in the browser; `onDone` once at zero.
export function Countdown({ until, onDone }) {
  const [now, setNow] = useState(Date.now());
  const fired = useRef(0);
  useEffect(() => {
    if (!until) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [until]);
  const left = until ? Math.max(0, Math.ceil((until - now) / 1000)) : 0;
  useEffect(() => {
    if (until && left === 0 && fired.current !== until) {
      fired.current = until;
      if (onDone) onDone();
    }
  }, [until, left, onDone]);
  const pad = (n) => String(n).padStart(2, "0");
  return (
    <span className="num countdown" role="timer" aria-live="off" data-seconds-left={left}>
      {`${pad(Math.floor(left / 60))}:${pad(left % 60)}`}
    </span>
  );
}
