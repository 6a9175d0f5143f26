/**
 * The browser client as a client under test: `ecp conformance --client` starts this driver, which
 * opens the page in headless Chromium, joins through its form and keeps the driver contract
 * (docs/conformance.md, C1 to C7) by reading what the page shows, as a person would:
 *
 *   ecp conformance --client "node --import tsx test/web/conformance-driver.ts {url} {username} {password}" --transport ws
 *
 * The page connects to the origin that served it (its CSP allows nothing else), so the driver
 * serves it on a port of its own and passes that origin's WebSocket upgrade through, bytes
 * unchanged, to the room's URL: the kit sees the browser's own frames. Over wss:// the driver
 * speaks TLS to the room (trusting `--ca FILE`); the browser's side stays plain on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect as connectTcp, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { connect as connectTls } from 'node:tls';
import { WebClient } from '../../reference-server/web-client.ts';
import { chromiumMissing, launchChromium } from './browser.ts';

/** After stdin ends, how long the echoes of the lines sent may take (as `ecp client --json`). */
const DRAIN_TIMEOUT_MS = 10_000;

const EXIT = { ok: 0, refused: 1, usage: 2, ended: 3 } as const;

/** What the page reports, from its DOM, through the exposed function. */
type PageReport =
  | { kind: 'row'; sender?: string; text: string; encrypted?: string; undecryptable?: string; own: boolean }
  | { kind: 'status'; text: string }
  | { kind: 'refused'; text: string };

const args = process.argv.slice(2);
const caIndex = args.indexOf('--ca');
const caFile = caIndex === -1 ? undefined : args.splice(caIndex, 2)[1];
const [roomUrl, username, password] = args;
if (roomUrl === undefined || username === undefined || password === undefined) {
  console.error('usage: conformance-driver.ts URL USERNAME PASSWORD [--ca FILE]');
  process.exit(EXIT.usage);
}
if (chromiumMissing !== undefined) {
  console.error(`conformance-driver: ${chromiumMissing}`);
  process.exit(EXIT.usage);
}
const room = new URL(roomUrl);
const ca = caFile === undefined ? undefined : readFileSync(caFile);

const show = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

// --- the page's origin: the page itself, and its WebSocket passed through to the room ------------
const servePage = (await WebClient.load()).handlerFor(room.pathname || '/');
const origin = createServer((request, response) => {
  if (!servePage(request, response)) {
    response.writeHead(404);
    response.end();
  }
});
origin.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) =>
  passThrough(request, socket, head),
);
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
const pageUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/`;

/** The upgrade request as the browser sent it, to the room's host, then bytes both ways. */
function passThrough(request: IncomingMessage, socket: Socket, head: Buffer): void {
  const port = Number(room.port || (room.protocol === 'wss:' ? 443 : 80));
  const upstream =
    room.protocol === 'wss:'
      ? connectTls({
          host: room.hostname,
          port,
          servername: room.hostname,
          ...(ca === undefined ? {} : { ca }),
        })
      : connectTcp({ host: room.hostname, port });
  const headers: string[] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!;
    headers.push(`${name}: ${name.toLowerCase() === 'host' ? room.host : request.rawHeaders[i + 1]}`);
  }
  upstream.write(
    `${request.method} ${room.pathname}${room.search} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`,
  );
  if (head.length > 0) upstream.write(head);
  socket.pipe(upstream).pipe(socket);
  const drop = () => {
    socket.destroy();
    upstream.destroy();
  };
  socket.on('error', drop);
  upstream.on('error', drop);
  socket.on('close', drop);
  upstream.on('close', drop);
}

// --- the browser --------------------------------------------------------------------------------
const browser = await launchChromium();
const page = await browser.newPage();
let joined = false;
let sent = 0;
let echoed = 0;
let wake = () => {};
let finish: (code: number) => void = () => {};
const finished = new Promise<number>((resolve) => {
  finish = resolve;
});

await page.exposeFunction('ecpReport', (json: string) => {
  const report = JSON.parse(json) as PageReport;
  switch (report.kind) {
    case 'row':
      if (report.sender === undefined) {
        show({ event: 'system', text: report.text });
      } else if (report.undecryptable === 'true') {
        show({ sender: report.sender, undecryptable: true });
      } else {
        show({
          sender: report.sender,
          text: report.text,
          encrypted: report.encrypted === 'true',
          own: report.own,
        });
        if (report.own) echoed += 1;
      }
      break;
    case 'status':
      if (report.text === `Joined as ${username}`) joined = true;
      // The server ended the session (shutdown, a dropped connection): rule C7.
      if (report.text === 'Disconnected') {
        show({ event: 'closed', text: report.text });
        finish(EXIT.ended);
      }
      break;
    case 'refused':
      // Rule C5: a refused join ends the client with a non-zero status.
      show({ event: 'refused', text: report.text });
      finish(EXIT.refused);
      break;
  }
  wake();
});

await page.goto(pageUrl);
// Watches the page as a person reads it: each row of the conversation, the status line, the join
// form's error. A string, evaluated in the page (this Node project has no DOM types).
await page.evaluate(`(() => {
  const report = (value) => window.ecpReport(JSON.stringify(value));
  const byId = (id) => document.getElementById(id);
  new MutationObserver((records) => {
    for (const record of records) {
      for (const row of record.addedNodes) {
        if (!(row instanceof HTMLLIElement)) continue;
        report({
          kind: 'row',
          sender: row.dataset.sender,
          text: row.querySelector('.text')?.textContent ?? '',
          encrypted: row.dataset.encrypted,
          undecryptable: row.dataset.undecryptable,
          own: row.classList.contains('own'),
        });
      }
    }
  }).observe(byId('messages'), { childList: true });
  const status = byId('status');
  new MutationObserver(() => report({ kind: 'status', text: status.textContent })).observe(status, {
    childList: true, characterData: true, subtree: true,
  });
  const refusal = byId('join-error');
  new MutationObserver(() => {
    if (!refusal.hidden) report({ kind: 'refused', text: refusal.textContent });
  }).observe(refusal, { attributes: true, childList: true, characterData: true, subtree: true });
})()`);

await page.getByLabel('Username').fill(username);
await page.getByLabel('Password').fill(password);
await page.getByRole('button', { name: 'Join' }).click();

// --- stdin: each line one message once joined (rule C1); its end ends the client (C6) -------------
const waitFor = async (condition: () => boolean, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, Math.max(1, deadline - Date.now()));
    });
  }
  return condition();
};

let sending = Promise.resolve();
const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  sending = sending.then(async () => {
    if (!(await waitFor(() => joined, DRAIN_TIMEOUT_MS))) return;
    await page.getByLabel('Message').fill(line);
    await page.getByRole('button', { name: 'Send' }).click();
    sent += 1;
  });
});
lines.once('close', () => {
  sending
    .then(() => waitFor(() => echoed >= sent, DRAIN_TIMEOUT_MS))
    .then((drained) => finish(drained ? EXIT.ok : EXIT.ended));
});

const code = await finished;
await browser.close().catch(() => {});
origin.closeAllConnections();
origin.close();
process.exit(code);
