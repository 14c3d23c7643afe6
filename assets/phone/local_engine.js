// The local engine: WebRTC to our own media server. Signaling is plain HTTP (/api/local/calls...) and the
// phone's event stream (offers, status changes), which the Phone owns and passes on here.
import { TERMINAL, EarlyMessages, advances, api } from "./common.js";

const GONE = new Set(["call.error.taken", "call.error.gone", "call.error.already_answered", "transfer.error.expired"]);

export class LocalEngine {
  constructor(phone, { mode, deviceToken }) {
    this.phone = phone;
    this.mode = mode;
    this.deviceToken = deviceToken; // a simulated phone's registration, signed by the server
    this.pc = null;
    this.call = null; // {sid, direction, remote, status}
    this.pending = null; // an offered incoming call (or a transfer to this phone)
    this.early = new EarlyMessages();
    this.capabilities = { echo: true };
  }
  query() {
    return this.mode === "phone" ? `?device=${encodeURIComponent(this.deviceToken)}` : "";
  }
  async register() {
    this.phone.signals.start(); // registered once the server greets the stream
  }
  unregister() {
    this.phone.signals.stop();
  }
  onConnected() {
    this.phone.emit("registered", {});
  }
  onSignal(msg) {
    const p = this.phone;
    if (msg.type === "incoming") {
      if (this.call || this.pending) return; // busy: the other agents still ring
      this.pending = { sid: msg.call_sid, from: msg.from };
      p.sounds.startRinging();
      return p.emit("incoming", {
        call_sid: msg.call_sid,
        from: msg.from,
        caller_name: msg.caller_name || "",
        transfer_from: msg.transfer_from || "",
      });
    }
    if (msg.type === "cancel") {
      if (this.call && this.call.sid === msg.call_sid && this.call.status !== "in-progress")
        return this.abandon(msg.reason || "canceled");
      return this.cancelPending(msg.call_sid, msg.reason || "canceled");
    }
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
      this.early.keep(msg.call_sid, msg);
      return;
    }
    if (!advances(this.call.status, msg.status)) return; // a replay, or older news: nothing new
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
    const early = this.early.take(reply.call_sid);
    if (early) this.onStatus(early);
    return reply.call_sid;
  }
  async accept() {
    const offer = this.pending;
    // Nothing rings any more (another agent answered, the caller hung up): its cancel told the page why,
    // and a click that came just after it changes nothing (as in the Twilio engine).
    if (!offer) return null;
    this.phone.sounds.stopRinging();
    this.pending = null;
    this.call = { sid: offer.sid, direction: "inbound", remote: offer.from };
    let reply;
    try {
      const sdp = await this.peer();
      reply = await api("POST", `/api/local/calls/${offer.sid}/answer${this.query()}`, { sdp });
    } catch (err) {
      // Lost the race (another agent answered first) or the call is over: back to idle, microphone off.
      if (GONE.has(err.code)) {
        this.abandon(err.code === "call.error.taken" ? "answered-elsewhere" : "canceled");
        return null;
      }
      this.finish({ status: "failed", reason: err.code || "", by: "" });
      throw err;
    }
    await this.pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    const early = this.early.take(offer.sid);
    if (early) this.onStatus(early);
    return offer.sid;
  }
  // A supervisor's leg into a live call (listen, whisper or barge); it ends as any call does (hangup, or
  // the call's own end), with "monitor-ended" instead of "disconnected".
  async monitor(sid, mode) {
    this.call = { sid, direction: "monitor", remote: "", status: "in-progress", monitor: true };
    try {
      const sdp = await this.peer();
      const reply = await api("POST", `/api/local/calls/${sid}/monitor`, { sdp, mode });
      await this.pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    } catch (err) {
      this.call = null;
      this.close();
      this.phone.emit("monitor-ended", { call_sid: sid, reason: err.code || "error.generic" });
      err.reported = true;
      throw err;
    }
    this.phone.emit("monitor-started", { call_sid: sid, mode });
    return sid;
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
    const call = this.call;
    if (!call) return;
    try {
      await api("POST", `/api/local/calls/${call.sid}/hangup${this.query()}`);
    } finally {
      // The call's own "completed" may have come first (over the event stream) and a new call begun while
      // this reply was on its way: end only the call this click hung up, never the next one.
      if (this.call === call) this.finish({ status: "completed", reason: "", by: "me" });
    }
  }
  async sendDigits(digits) {
    if (!this.call) return;
    await api("POST", `/api/local/calls/${this.call.sid}/dtmf${this.query()}`, { digits });
  }
  mute() {
    /* the Phone disables the microphone track */
  }
  callSid() {
    return this.call ? this.call.sid : null;
  }
  close() {
    if (this.pc) this.pc.close();
    this.pc = null;
    this.phone.releaseMedia();
  }
  finish(info) {
    const call = this.call;
    this.call = null;
    this.close();
    if (call && call.monitor) this.phone.emit("monitor-ended", { call_sid: call.sid, reason: "" });
    else if (call) this.phone.emit("disconnected", { call_sid: call.sid, ...info });
  }
  abandon(reason) {
    // the call went elsewhere before it was ours: no "call ended", just back to idle
    const call = this.call;
    this.call = null;
    this.close();
    if (call) this.phone.emit("cancel", { call_sid: call.sid, reason });
  }
  async setInput(id, phone) {
    if (!phone.stream) return;
    phone.stream.getTracks().forEach((t) => t.stop());
    phone.stream = null;
    const stream = await phone.microphone();
    if (this.pc) this.pc.getSenders().forEach((s) => s.track && s.track.kind === "audio" && s.replaceTrack(stream.getAudioTracks()[0]));
  }
  async setOutput(id, phone) {
    if (phone.remoteAudio && phone.remoteAudio.setSinkId) await phone.remoteAudio.setSinkId(id || "");
  }
  busy() {
    return !!this.call;
  }
}
