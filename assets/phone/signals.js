// The phone's event stream (GET /api/devices/events): its presence, and what the server tells it (offers,
// status, transfers, hold, DTMF, sign-out). One stream per phone, for both engines.
//
// It heals itself: when the stream drops (a server restart, a network blip, an error answer while the
// server restarts) it reconnects with backoff, and the server's "registered" greeting says it is back. It
// stops for good when the session ended (signed out, expired).
import { api } from "./common.js";

const MAX_DELAY_MS = 10000;

export class Signals {
  constructor({ query, onMessage, onState }) {
    this.query = query || "";
    this.onMessage = onMessage;
    this.onState = onState; // "connected", "reconnecting", "session-expired"
    this.source = null;
    this.timer = null;
    this.attempt = 0;
    this.running = false;
    this.connected = false;
  }
  start() {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.open();
  }
  stop() {
    this.running = false;
    this.connected = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.close();
  }
  close() {
    if (this.source) this.source.close();
    this.source = null;
  }
  open() {
    this.close();
    const source = new EventSource(`/api/devices/events${this.query}`, { withCredentials: true });
    source.onmessage = (msg) => {
      let data;
      try {
        data = JSON.parse(msg.data);
      } catch (e) {
        console.error("bad signal", e);
        return;
      }
      if (data.type === "registered") {
        this.attempt = 0;
        this.connected = true;
        this.onState("connected");
      }
      if (data.type === "signed-out") {
        // the session ended (logged out elsewhere, password changed, disabled): stop, do not reconnect
        this.stop();
        this.onState("session-expired");
        return;
      }
      this.onMessage(data);
    };
    source.onerror = () => {
      if (!this.running || this.source !== source) return;
      if (this.connected) {
        this.connected = false;
        this.onState("reconnecting");
      }
      // The browser retries a dropped stream by itself (CONNECTING); an error answer closes it for good.
      if (source.readyState === EventSource.CLOSED) this.retry();
    };
    this.source = source;
  }
  retry() {
    this.close();
    this.onState("reconnecting");
    const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reopen(), delay);
  }
  async reopen() {
    this.timer = null;
    if (!this.running) return;
    try {
      await api("GET", "/api/auth/me"); // an error answer may mean the session ended: then stop
    } catch (err) {
      if (err.status === 401) {
        this.stop();
        this.onState("session-expired");
        return;
      }
      return this.retry(); // the server is not back yet
    }
    this.open();
  }
}
