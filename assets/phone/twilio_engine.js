// The Twilio engine: the @twilio/voice-sdk 2.x Device (bundled from npm, loaded only when used).
//
// Every call is a conference on Twilio (our TwiML and the Participants API). The SDK carries this browser's
// leg; where the call stands (the customer ringing, answered, held, transferred, ended) comes from the
// server over the phone's event stream, the same messages the local engine hears. The stream is also the
// agent's presence: it is open while the SDK is registered.
import { TERMINAL, EarlyMessages, advances, api } from "./common.js";

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

export class TwilioEngine {
  constructor(phone, config) {
    this.phone = phone;
    this.config = config;
    this.device = null;
    this.call = null; // {sid: our call's id, leg: this browser's CallSid, direction, twilio, status}
    this.pending = null; // an incoming SDK call: {twilio, leg}
    this.ended = null; // the last call Twilio ended here without the server's reason: {sid, reason}
    this.offers = new Map(); // leg -> the server's offer for it (our call's id, caller name, transfer)
    this.early = new EarlyMessages();
    this.refreshTimer = null;
    this.capabilities = { echo: false };
  }
  async register() {
    const { Device } = await import("@twilio/voice-sdk");
    const device = new Device(this.config.token, {
      codecPreferences: this.config.codec_preferences || ["opus", "pcmu"],
      enableImprovedSignalingErrorPrecision: true,
      closeProtection: true,
    });
    device.on("registered", () => {
      this.phone.emit("registered", { identity: this.config.identity });
      this.phone.signals.start(); // presence: rung only while registered
    });
    device.on("unregistered", () => {
      this.phone.signals.stop();
      this.phone.emit("unregistered", {});
    });
    device.on("error", (err) => this.phone.emit("error", this.describe(err)));
    device.on("incoming", (call) => this.onIncoming(call));
    device.on("tokenWillExpire", () => this.refreshToken());
    device.audio && device.audio.on("deviceChange", () => this.phone.listDevices());
    this.device = device;
    this.scheduleRefresh(this.config.expires_at);
    await device.register();
  }
  unregister() {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.phone.signals.stop();
    if (this.device) this.device.destroy();
    this.device = null;
  }
  onConnected() {
    this.phone.emit("warning-cleared", { code: "signaling" });
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
  // What the server says ------------------------------------------------------------------------------
  onSignal(msg) {
    if (msg.type === "incoming") {
      if (!msg.leg) return; // the SDK rings this phone itself; the offer tells who calls
      this.offers.set(msg.leg, msg);
      if (this.offers.size > 20) this.offers.delete(this.offers.keys().next().value);
      if (this.pending && this.pending.leg === msg.leg) this.announce(this.pending);
      if (this.call && this.call.direction === "inbound" && this.call.sid === msg.leg) {
        // answered before the offer came: from now on the call is known by our call's id
        this.call.sid = msg.call_sid;
        const early = this.early.take(msg.call_sid);
        if (early) this.onStatus(early);
      }
      return;
    }
    if (msg.type === "cancel") {
      if (this.pending && this.sidOf(this.pending.leg) === msg.call_sid) return this.cancelPending(msg.reason || "canceled");
      if (this.call && this.call.sid === msg.call_sid && this.call.status !== "in-progress") return this.abandon(msg.reason || "canceled");
      // Twilio's cancel (or hang-up) of this leg came first: the server's reason still tells the agent why
      const ended = this.ended;
      if (ended && ended.sid === msg.call_sid && msg.reason && msg.reason !== ended.reason) {
        this.ended = null;
        this.phone.emit("cancel", { call_sid: msg.call_sid, reason: msg.reason });
      }
      return;
    }
    if (msg.type === "status") return this.onStatus(msg);
  }
  sidOf(leg) {
    const offer = this.offers.get(leg);
    return offer ? offer.call_sid : leg;
  }
  onStatus(msg) {
    if (!this.call || msg.call_sid !== this.call.sid) return this.early.keep(msg.call_sid, msg);
    if (!advances(this.call.status, msg.status)) return; // a replay, or older news: nothing new
    this.call.status = msg.status;
    if (msg.status === "ringing") {
      this.phone.sounds.startRingback();
      this.phone.emit("ringing", { call_sid: this.call.sid });
    } else if (msg.status === "in-progress") {
      this.phone.sounds.stopRinging();
      this.phone.emit("accepted", { call_sid: this.call.sid });
    } else if (TERMINAL.has(msg.status)) {
      const call = this.call;
      this.finish({ status: msg.status, reason: msg.reason || "", by: msg.by || "" });
      if (call.twilio) call.twilio.disconnect();
    }
  }
  // The SDK's calls ------------------------------------------------------------------------------------
  watch(twilioCall, direction, remote, sid) {
    this.call = { sid, leg: null, direction, remote, twilio: twilioCall, status: null };
    const mine = () => this.call && this.call.twilio === twilioCall;
    twilioCall.on("accept", () => {
      if (!mine()) return;
      // This browser is in the call's conference now; the customer's side is told by the server.
      this.call.leg = twilioCall.parameters.CallSid;
      if (!this.call.sid) this.call.sid = this.call.leg;
      const early = this.early.take(this.call.sid);
      if (early) this.onStatus(early);
    });
    twilioCall.on("disconnect", () => mine() && this.finish({ status: this.call.status === "in-progress" ? "completed" : "canceled", reason: "", by: "" }));
    twilioCall.on("cancel", () => mine() && this.finish({ status: "canceled", reason: "", by: "customer" }));
    twilioCall.on("reject", () => mine() && this.finish({ status: "busy", reason: "rejected", by: "" }));
    twilioCall.on("error", (err) => this.phone.emit("error", this.describe(err)));
    twilioCall.on("mute", (muted) => this.phone.emit("mute", { on: muted }));
    twilioCall.on("warning", (name) => this.phone.emit("warning", { code: `quality-${name}` }));
    twilioCall.on("warning-cleared", (name) => this.phone.emit("warning-cleared", { code: `quality-${name}` }));
  }
  onIncoming(twilioCall) {
    if (this.call || this.pending) return twilioCall.reject();
    const pending = { twilio: twilioCall, leg: twilioCall.parameters.CallSid };
    this.pending = pending;
    twilioCall.on("cancel", () => this.pending === pending && this.cancelPending("canceled"));
    this.phone.sounds.startRinging();
    this.announce(pending);
  }
  announce(pending) {
    const offer = this.offers.get(pending.leg) || {};
    const params = pending.twilio.parameters || {};
    this.phone.emit("incoming", {
      call_sid: offer.call_sid || pending.leg,
      from: offer.from || params.From,
      caller_name: offer.caller_name || "",
      transfer_from: offer.transfer_from || "",
    });
  }
  cancelPending(reason) {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.phone.sounds.stopRinging();
    const sid = this.sidOf(pending.leg);
    this.ended = { sid, reason };
    this.phone.emit("cancel", { call_sid: sid, reason });
  }
  async connect(to) {
    const twilioCall = await this.device.connect({ params: { To: to }, rtcConstraints: this.phone.constraints() });
    this.watch(twilioCall, "outbound", to, null);
    return null;
  }
  // A supervisor's leg into a live call's conference: our TwiML (the MonitorCall parameter) puts it in the
  // room muted (listen), coaching the agent (whisper) or as a party (barge); it ends as "monitor-ended".
  async monitor(sid, mode) {
    const params = { To: "monitor", MonitorCall: sid, Mode: mode };
    const twilioCall = await this.device.connect({ params, rtcConstraints: this.phone.constraints() });
    this.watch(twilioCall, "monitor", "", sid);
    this.call.monitor = true;
    this.call.status = "in-progress";
    twilioCall.on("accept", () => this.phone.emit("monitor-started", { call_sid: sid, mode }));
    return sid;
  }
  async accept() {
    const pending = this.pending;
    if (!pending) return null;
    this.pending = null;
    this.phone.sounds.stopRinging();
    const sid = this.sidOf(pending.leg);
    this.watch(pending.twilio, "inbound", pending.twilio.parameters.From, sid);
    pending.twilio.accept({ rtcConstraints: this.phone.constraints() });
    return sid;
  }
  async reject() {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.phone.sounds.stopRinging();
    pending.twilio.reject();
    this.phone.emit("rejected", { call_sid: this.sidOf(pending.leg) });
  }
  async hangup() {
    if (this.call && this.call.twilio) this.call.twilio.disconnect();
  }
  async sendDigits(digits) {
    if (this.call && this.call.twilio) this.call.twilio.sendDigits(digits);
  }
  mute(on) {
    if (this.call && this.call.twilio) this.call.twilio.mute(on);
  }
  callSid() {
    return this.call ? this.call.sid : null;
  }
  finish(info) {
    const call = this.call;
    this.call = null;
    this.phone.sounds.stopRinging();
    this.phone.releaseMedia();
    if (call && info.status !== "completed") this.ended = { sid: call.sid, reason: info.reason };
    if (call && call.monitor) this.phone.emit("monitor-ended", { call_sid: call.sid, reason: "" });
    else if (call) this.phone.emit("disconnected", { call_sid: call.sid, ...info });
  }
  abandon(reason) {
    const call = this.call;
    this.call = null;
    this.phone.sounds.stopRinging();
    this.phone.releaseMedia();
    if (call && call.twilio) call.twilio.disconnect();
    if (call) this.phone.emit("cancel", { call_sid: call.sid, reason });
  }
  async setInput(id) {
    if (this.device && this.device.audio) await this.device.audio.setInputDevice(id);
  }
  async setOutput(id) {
    if (this.device && this.device.audio) await this.device.audio.speakerDevices.set(id);
  }
  busy() {
    return !!this.call;
  }
}
