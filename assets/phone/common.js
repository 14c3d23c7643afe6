// What both phone engines share: the server API, microphone errors, tones (ring, ringback, DTMF) and level
// meters.

export const TERMINAL = new Set(["completed", "busy", "no-answer", "failed", "canceled"]);

// A call's status only moves forward. Messages about one call can reach the page out of order (one kept
// from before the call was ours, replayed after the answer came back; two callbacks applied side by side
// on the server): an older one must never take the call back (an answered call shown "ringing").
const RANK = { queued: 0, initiated: 0, ringing: 1, "in-progress": 2 };
const rank = (status) => (TERMINAL.has(status) ? 3 : RANK[status] ?? 0);
export function advances(current, next) {
  return !current || rank(next) > rank(current);
}

export async function api(method, path, body) {
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

export function micError(err) {
  const name = (err && err.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError") return { code: "mic-denied", message: err.message };
  if (name === "NotFoundError" || name === "OverconstrainedError") return { code: "mic-missing", message: err.message };
  if (name === "NotReadableError") return { code: "mic-busy", message: err.message };
  return { code: "mic-error", message: (err && err.message) || String(err) };
}

// Ringtone, ringback, DTMF feedback and analysers on one AudioContext.
export class Sounds {
  constructor(emit) {
    this.emit = emit;
    this.ctx = null;
    this.timer = null;
    this.nodes = [];
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
    this.nodes.push(...nodes);
  }
  async repeat(freqs, seconds, every) {
    this.stopRinging();
    if (!(await this.unlock())) this.emit("audio-blocked", {});
    const play = () => this.tone(freqs, seconds);
    play();
    this.timer = setInterval(play, every);
  }
  startRinging() {
    return this.repeat([440, 480], 2.0, 4000); // an incoming call
  }
  startRingback() {
    return this.repeat([425], 1.0, 5000); // the number we call is ringing (when the network plays nothing)
  }
  stopRinging() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.nodes.forEach((n) => {
      try {
        n.stop();
      } catch (e) {
        /* already stopped */
      }
    });
    this.nodes = [];
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

export function rms(analyser) {
  if (!analyser) return 0;
  const data = new Float32Array(analyser.fftSize);
  analyser.getFloatTimeDomainData(data);
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i] * data[i];
  return Math.sqrt(sum / data.length);
}

// Early status messages: a status for a call this phone is placing can arrive before the request placing it
// has answered with the call's id. The latest per call is kept until the call is known.
export class EarlyMessages {
  constructor(limit = 20) {
    this.limit = limit;
    this.byCall = new Map();
  }
  keep(sid, msg) {
    this.byCall.set(sid, msg);
    if (this.byCall.size > this.limit) this.byCall.delete(this.byCall.keys().next().value);
  }
  take(sid) {
    const msg = this.byCall.get(sid);
    this.byCall.clear();
    return msg;
  }
}
