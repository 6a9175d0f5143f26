// @ts-check
/**
 * One visit to the room over WebSocket: a fresh key pair, the handshake, the join, then chat until
 * either side ends it. It tells the page what happened as events and knows nothing of the page.
 *
 * WebCrypto is asynchronous, so every received frame, key change and send goes through one queue:
 * messages are shown in the order they arrived, and a message typed after a new `key_exchange`
 * arrived is sealed with the new key (ECP-KX-07).
 */
import { CryptoError, generateRsaKeyPair, openText, sealText, unwrapRoomKey } from './crypto.js';
import {
  chatFrame,
  ECP_SUBPROTOCOL,
  handshakeFrame,
  membershipChange,
  notices,
  parseServerMessage,
  refusalOf,
} from './ecp.js';

/** How long the previous room key still opens messages after a key change: some were in flight. */
export const KEY_GRACE_MS = 30_000;

/**
 * @typedef {import('./ecp.js').Refusal} Refusal
 * @typedef {import('./ecp.js').ServerMessage} ServerMessage
 * @typedef {import('./crypto.js').Fernet} Fernet
 * @typedef {'by_user' | 'refused' | 'shutdown' | 'lost' | 'failed'} EndReason
 * @typedef {{ kind: 'joined', username: string, users: string[] }
 *   | { kind: 'users', users: string[], joined: string[], left: string[] }
 *   | { kind: 'system', text: string }
 *   | { kind: 'message', sender: string, text: string, encrypted: boolean, own: boolean }
 *   | { kind: 'undecryptable', sender: string, own: boolean }
 *   | { kind: 'key_changed' }
 *   | { kind: 'key_unusable', detail: string }
 *   | { kind: 'refused', reason: Refusal, message: string }
 *   | { kind: 'closed', reason: EndReason, code: number }} SessionEvent
 */

/**
 * @typedef {object} SessionOptions
 * @property {string} url the ECP endpoint, ws:// or wss://
 * @property {string} username
 * @property {string} password
 * @property {(event: SessionEvent) => void} onEvent
 */

export class ChatSession {
  /** @type {'connecting' | 'joining' | 'joined' | 'closed'} */
  state = 'connecting';
  /** @type {SessionOptions} */ #options;
  /** @type {WebSocket | undefined} */ #socket;
  /** @type {CryptoKey | undefined} */ #privateKey;
  /** @type {Fernet | undefined} */ #room;
  /** @type {Fernet | undefined} */ #previousRoom;
  #previousUntil = 0;
  /** @type {string[]} */ #users = [];
  /** @type {EndReason | undefined} set once the page knows why the session ends */
  #ending;
  #queue = Promise.resolve();

  /** @param {SessionOptions} options */
  constructor(options) {
    this.#options = options;
  }

  /** Makes the key pair (ECP-KX-01), connects and sends the handshake (ECP-HS-01). */
  async start() {
    let publicKeyPem;
    try {
      const pair = await generateRsaKeyPair();
      this.#privateKey = pair.privateKey;
      publicKeyPem = pair.publicKeyPem;
    } catch {
      this.#finish('failed', 0);
      return;
    }
    const socket = new WebSocket(this.#options.url, ECP_SUBPROTOCOL);
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', () => {
      this.state = 'joining';
      socket.send(handshakeFrame(this.#options.username, this.#options.password, publicKeyPem));
    });
    socket.addEventListener('message', (event) => {
      // ECP is text frames only; anything else is not a message (ECP-MSG-05).
      if (typeof event.data !== 'string') return;
      const message = parseServerMessage(event.data);
      if (message !== undefined) this.#enqueue(() => this.#receive(message));
    });
    socket.addEventListener('close', (event) => {
      this.#enqueue(async () => this.#onClose(event.code));
    });
  }

  /**
   * Seals and sends one chat message; false when not joined (nothing is sent before the join or
   * after a refusal: ECP-AUTH-07, 08).
   * @param {string} text
   */
  send(text) {
    if (this.state !== 'joined') return false;
    this.#enqueue(async () => {
      const room = this.#room;
      if (this.state !== 'joined' || room === undefined) return;
      this.#socket?.send(chatFrame(await sealText(room, text)));
    });
    return true;
  }

  /** Leaves: closes the connection normally. */
  close() {
    this.#ending ??= 'by_user';
    this.#socket?.close(1000);
    if (this.#socket === undefined) this.#finish('by_user', 0);
  }

  /** @param {() => Promise<void>} step */
  #enqueue(step) {
    this.#queue = this.#queue.then(step).catch((error) => {
      // A step never throws by design; if one does, say so rather than stall the queue silently.
      this.#emit({ kind: 'system', text: `Internal error: ${String(error)}` });
    });
  }

  /** @param {SessionEvent} event */
  #emit(event) {
    this.#options.onEvent(event);
  }

  /** @param {ServerMessage} message */
  async #receive(message) {
    if (this.state === 'closed') return;
    if (this.state === 'joining') {
      await this.#receiveWhileJoining(message);
      return;
    }
    switch (message.type) {
      case 'key_exchange':
        await this.#changeKey(message.encrypted_key);
        return;
      case 'user_list': {
        const change = membershipChange(this.#users, message.users);
        this.#users = message.users;
        this.#emit({ kind: 'users', users: message.users, ...change });
        return;
      }
      case 'system':
      case 'auth_error':
        if (message.message === notices.shuttingDown) this.#ending ??= 'shutdown';
        this.#emit({ kind: 'system', text: message.message });
        return;
      case 'message':
        await this.#show(message);
        return;
    }
  }

  /** @param {ServerMessage} message */
  async #receiveWhileJoining(message) {
    const refusal = refusalOf(message);
    if (refusal !== undefined) {
      this.#refuse(refusal, 'message' in message ? message.message : '');
      return;
    }
    switch (message.type) {
      case 'key_exchange':
        try {
          this.#room = await unwrapRoomKey(
            message.encrypted_key,
            /** @type {CryptoKey} */ (this.#privateKey),
          );
        } catch (error) {
          this.#refuse('key_unusable', describe(error));
        }
        return;
      case 'user_list':
        this.#users = message.users;
        if (this.#room === undefined) return;
        this.state = 'joined';
        this.#emit({ kind: 'joined', username: this.#options.username, users: message.users });
        return;
      case 'system':
        this.#emit({ kind: 'system', text: message.message });
        return;
      default:
        // A chat message before the join is not for this client yet.
        return;
    }
  }

  /**
   * A refused join: the page is told why, and the connection is closed (a taken name leaves it
   * open on the server's side, unadmitted).
   * @param {Refusal} reason
   * @param {string} message
   */
  #refuse(reason, message) {
    this.#ending = 'refused';
    this.#emit({ kind: 'refused', reason, message });
    this.#socket?.close(1000);
  }

  /**
   * A new room key mid-session (ECP-KX-07); the previous one opens messages for a while longer.
   * @param {string} encryptedKey
   */
  async #changeKey(encryptedKey) {
    let next;
    try {
      next = await unwrapRoomKey(encryptedKey, /** @type {CryptoKey} */ (this.#privateKey));
    } catch (error) {
      this.#emit({ kind: 'key_unusable', detail: describe(error) });
      return;
    }
    if (next.keyText === this.#room?.keyText) return;
    this.#previousRoom = this.#room;
    this.#previousUntil = Date.now() + KEY_GRACE_MS;
    this.#room = next;
    this.#emit({ kind: 'key_changed' });
  }

  /**
   * A relayed chat message: its text when it opens, else undecryptable, never the payload as the
   * sender's text (ECP-CHAT-07); a message in the clear is shown as such (ECP-SEC-03).
   * @param {{ sender: string, message: string, encrypted: boolean }} message
   */
  async #show(message) {
    const own = message.sender === this.#options.username;
    if (!message.encrypted) {
      this.#emit({ kind: 'message', sender: message.sender, text: message.message, encrypted: false, own });
      return;
    }
    const keys = [this.#room];
    if (Date.now() <= this.#previousUntil) keys.push(this.#previousRoom);
    for (const key of keys) {
      if (key === undefined) continue;
      try {
        const text = await openText(key, message.message);
        this.#emit({ kind: 'message', sender: message.sender, text, encrypted: true, own });
        return;
      } catch (error) {
        if (!(error instanceof CryptoError)) throw error;
      }
    }
    this.#emit({ kind: 'undecryptable', sender: message.sender, own });
  }

  /** @param {number} code the WebSocket close code */
  async #onClose(code) {
    if (this.state === 'closed') return;
    const reason = this.#ending ?? (this.state === 'connecting' ? 'failed' : 'lost');
    this.#finish(reason, code);
  }

  /**
   * @param {EndReason} reason
   * @param {number} code
   */
  #finish(reason, code) {
    this.state = 'closed';
    this.#emit({ kind: 'closed', reason, code });
  }
}

/** @param {unknown} error */
function describe(error) {
  return error instanceof Error ? error.message : String(error);
}
