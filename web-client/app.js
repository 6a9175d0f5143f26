// @ts-check
/**
 * The page: the join form, the user list, the conversation and the composer, driven by a
 * ChatSession's events. Everything a peer sends is set as textContent, never parsed as HTML.
 */
import { ChatSession } from './session.js';

/**
 * @typedef {import('./session.js').SessionEvent} SessionEvent
 * @typedef {import('./session.js').EndReason} EndReason
 * @typedef {import('./ecp.js').Refusal} Refusal
 */

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function element(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no #${id}`);
  return found;
}

const ui = {
  status: element('status', HTMLParagraphElement),
  leave: element('leave', HTMLButtonElement),
  joinForm: element('join-form', HTMLFormElement),
  username: element('username', HTMLInputElement),
  password: element('password', HTMLInputElement),
  join: element('join', HTMLButtonElement),
  joinError: element('join-error', HTMLParagraphElement),
  chat: element('chat', HTMLElement),
  users: element('users', HTMLUListElement),
  usersTitle: element('users-title', HTMLHeadingElement),
  messages: element('messages', HTMLOListElement),
  ended: element('ended', HTMLDivElement),
  endedText: element('ended-text', HTMLParagraphElement),
  reconnect: element('reconnect', HTMLButtonElement),
  sendForm: element('send-form', HTMLFormElement),
  message: element('message', HTMLInputElement),
  send: element('send', HTMLButtonElement),
};

/** The ECP endpoint of the server that served this page: same host and port, its path from the page. */
function endpointUrl() {
  const path = document.querySelector('meta[name="ecp-endpoint"]')?.getAttribute('content') || '/';
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path.startsWith('/') ? path : `/${path}`}`;
}

/** What the person is told when a join is refused, and which field to fix. */
/** @type {Record<Refusal, { text: (name: string) => string, focus: 'username' | 'password' | 'join' }>} */
const REFUSALS = {
  wrong_password: { text: () => 'Wrong password.', focus: 'password' },
  username_taken: { text: (name) => `The name “${name}” is taken; choose another.`, focus: 'username' },
  server_full: { text: () => 'The server is full; try again later.', focus: 'join' },
  refused: { text: () => 'The server refused to let you in.', focus: 'join' },
  key_refused: { text: () => 'The server could not use this page’s key.', focus: 'join' },
  key_unusable: { text: () => 'The room key could not be opened.', focus: 'join' },
};

/** @type {Record<Exclude<EndReason, 'by_user' | 'refused'>, string>} */
const ENDINGS = {
  shutdown: 'The server shut down.',
  lost: 'The connection was lost.',
  failed: 'Could not connect to the server.',
};

/** @type {ChatSession | undefined} */
let session;
/** @type {string[]} */
let members = [];

ui.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const username = ui.username.value.trim();
  if (username === '' || ui.password.value === '') {
    showJoinError(username === '' ? 'Enter a username.' : 'Enter the password.');
    (username === '' ? ui.username : ui.password).focus();
    return;
  }
  connect(username, ui.password.value);
});

ui.sendForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.message.value;
  if (text.trim() === '' || session === undefined) return;
  if (session.send(text)) ui.message.value = '';
  ui.message.focus();
});

ui.reconnect.addEventListener('click', () => connect(ui.username.value.trim(), ui.password.value));

ui.leave.addEventListener('click', () => session?.close());

/**
 * @param {string} username
 * @param {string} password
 */
function connect(username, password) {
  // The old session, if any, is let go first: what it reports while closing is no longer shown.
  const previous = session;
  session = undefined;
  previous?.close();
  ui.joinError.hidden = true;
  ui.join.disabled = true;
  ui.reconnect.disabled = true;
  setStatus(`Connecting as ${username}…`);
  const current = new ChatSession({
    url: endpointUrl(),
    username,
    password,
    onEvent: (event) => {
      // A session replaced by a reconnect may still report its end; only the current one speaks.
      if (session === current) render(event);
    },
  });
  session = current;
  current.start();
}

/** @param {SessionEvent} event */
function render(event) {
  switch (event.kind) {
    case 'joined':
      showChat();
      setStatus(`Joined as ${event.username}`);
      members = event.users;
      showUsers();
      addNotice(`You joined as ${event.username}.`);
      ui.message.focus();
      return;
    case 'users':
      members = event.users;
      showUsers();
      return;
    case 'system':
      addNotice(event.text);
      return;
    case 'message':
      addMessage(event.sender, event.text, { own: event.own, encrypted: event.encrypted });
      return;
    case 'undecryptable':
      addMessage(event.sender, 'Undecryptable message (not sealed with the room key)', {
        own: event.own,
        undecryptable: true,
      });
      return;
    case 'key_changed':
      addNotice('The room key changed (a new key exchange); messages from now on use the new key.', 'key');
      return;
    case 'key_unusable':
      addNotice(`A new room key could not be opened: ${event.detail}`, 'error');
      return;
    case 'refused': {
      const refusal = REFUSALS[event.reason];
      const said = event.message === '' ? '' : ` (the server said: ${event.message})`;
      ui.chat.hidden = true;
      ui.joinForm.hidden = false;
      showJoinError(refusal.text(ui.username.value.trim()) + said);
      ui[refusal.focus].focus();
      return;
    }
    case 'closed':
      ended(event.reason);
      return;
  }
}

/** @param {EndReason} reason */
function ended(reason) {
  ui.join.disabled = false;
  ui.reconnect.disabled = false;
  ui.leave.hidden = true;
  ui.message.disabled = true;
  ui.send.disabled = true;
  members = [];
  showUsers();
  if (reason === 'refused') {
    setStatus('Not connected');
    return;
  }
  if (reason === 'by_user') {
    setStatus('Not connected');
    ui.chat.hidden = true;
    ui.joinForm.hidden = false;
    ui.username.focus();
    return;
  }
  const text = ENDINGS[reason];
  setStatus('Disconnected');
  if (ui.chat.hidden) {
    showJoinError(text);
    ui.join.focus();
    return;
  }
  addNotice(text, 'error');
  ui.endedText.textContent = `${text} Reconnect to join again as ${ui.username.value.trim()}.`;
  ui.ended.hidden = false;
  ui.reconnect.focus();
}

function showChat() {
  ui.joinForm.hidden = true;
  ui.chat.hidden = false;
  ui.ended.hidden = true;
  ui.leave.hidden = false;
  ui.message.disabled = false;
  ui.send.disabled = false;
  ui.join.disabled = false;
}

/** @param {string} text */
function showJoinError(text) {
  ui.joinError.textContent = text;
  ui.joinError.hidden = false;
  ui.join.disabled = false;
}

/** @param {string} text */
function setStatus(text) {
  ui.status.textContent = text;
}

function showUsers() {
  ui.usersTitle.textContent = `Users (${members.length})`;
  ui.users.replaceChildren(
    ...members.map((name) => {
      const item = document.createElement('li');
      item.textContent = name;
      if (name === ui.username.value.trim()) item.classList.add('self');
      return item;
    }),
  );
}

/**
 * @param {string} text
 * @param {'info' | 'key' | 'error'} [tone]
 */
function addNotice(text, tone = 'info') {
  const item = document.createElement('li');
  item.className = `notice ${tone}`;
  item.append(timeElement(), textElement(text));
  append(item);
}

/**
 * @param {string} sender
 * @param {string} text
 * @param {{ own: boolean, encrypted?: boolean, undecryptable?: boolean }} flags
 */
function addMessage(sender, text, flags) {
  const item = document.createElement('li');
  item.className = 'message';
  item.classList.toggle('own', flags.own);
  item.dataset.sender = sender;
  const who = document.createElement('span');
  who.className = 'sender';
  who.textContent = sender;
  item.append(timeElement(), who, textElement(text));
  if (flags.undecryptable) {
    item.classList.add('undecryptable');
    item.dataset.undecryptable = 'true';
    item.append(badge('undecryptable'));
  } else {
    item.dataset.encrypted = String(flags.encrypted);
    // ECP-SEC-03: a message that travelled in the clear says so.
    if (flags.encrypted === false) {
      item.classList.add('plain');
      item.append(badge('not encrypted'));
    }
  }
  append(item);
}

/** @param {string} text */
function textElement(text) {
  const span = document.createElement('span');
  span.className = 'text';
  span.textContent = text;
  return span;
}

/** @param {string} text */
function badge(text) {
  const span = document.createElement('span');
  span.className = 'badge';
  span.textContent = text;
  return span;
}

function timeElement() {
  const now = new Date();
  const time = document.createElement('time');
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
  return time;
}

/** @param {HTMLLIElement} item */
function append(item) {
  const atBottom = ui.messages.scrollTop + ui.messages.clientHeight >= ui.messages.scrollHeight - 8;
  ui.messages.append(item);
  if (atBottom) item.scrollIntoView({ block: 'end' });
}
