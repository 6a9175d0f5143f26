/**
 * The browser client in Chromium against the reference server that serves it: two pages and a
 * terminal user (`ecp client --json`) chat in one room; messages in the clear and undecryptable
 * ones are marked; a key change is shown; a wrong password, a taken name and a full server say
 * so; a page sees the shutdown notice and reconnects when asked; the CSP holds and the console
 * stays clean.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectPeer, type PeerConnection } from '../../conformance/peer/index.ts';
import type { RsaKeyPair } from '../../protocol/index.ts';
import { type EcpServer, type ServerOptions, startServer } from '../../reference-server/index.ts';
import { CONTENT_SECURITY_POLICY } from '../../reference-server/web-client.ts';
import { makeDevCertificate } from '../../server-under-test/index.ts';
import { CliProcess } from '../reference-client/cli-process.ts';
import { joinAs as joinRaw } from '../support/server-harness.ts';
import { testKeys } from '../support/test-keys.ts';
import {
  chromiumMissing,
  focusedId,
  joinAs,
  launchChromium,
  openPage,
  say,
  shownMessages,
  type WatchedPage,
} from './browser.ts';

const PASSWORD = 'secret123';
/** How long a polled expectation waits: a page's key pair, its join and a server's answer, on a busy machine. */
const EVENTUALLY = { timeout: 15_000 };

describe.skipIf(chromiumMissing !== undefined)(
  `the browser client in Chromium${chromiumMissing ? ` (${chromiumMissing})` : ''}`,
  // A browser, pages and their key pairs: more than a unit test's time, most of all on a busy machine.
  { timeout: 90_000 },
  () => {
    let browser: Browser;
    let keys: RsaKeyPair[];
    const servers: EcpServer[] = [];
    const pages: WatchedPage[] = [];
    const peers: PeerConnection[] = [];
    const processes: CliProcess[] = [];

    beforeAll(async () => {
      [browser, keys] = await Promise.all([launchChromium(), testKeys()]);
    });

    afterAll(async () => {
      await browser?.close();
    });

    afterEach(async () => {
      for (const process of processes.splice(0)) process.child.kill('SIGKILL');
      for (const peer of peers.splice(0)) peer.destroy();
      const opened = pages.splice(0);
      await Promise.all(opened.map(({ page }) => page.context().close()));
      await Promise.all(servers.splice(0).map((server) => server.close()));
      // No console error, script error or failed request on any page of the test.
      expect(opened.flatMap(({ errors }) => errors)).toEqual([]);
    });

    async function serve(
      options: ServerOptions = {},
    ): Promise<{ server: EcpServer; page: string; tcp: string }> {
      const server = await startServer({
        listen: ['ws://127.0.0.1:0/ecp', 'tcp://127.0.0.1:0'],
        password: PASSWORD,
        logLevel: 'silent',
        ...options,
      });
      servers.push(server);
      return { server, page: server.webClientUrls[0]!, tcp: server.endpoints[1]! };
    }

    async function open(url: string, viewport?: { width: number; height: number }): Promise<WatchedPage> {
      const watched = await openPage(browser, url, viewport);
      pages.push(watched);
      return watched;
    }

    async function rawMember(tcp: string, name: string, key: RsaKeyPair): Promise<PeerConnection> {
      const url = new URL(tcp);
      const peer = await connectPeer({
        transport: 'tcp',
        host: url.hostname,
        port: Number(url.port),
        path: '',
      });
      peers.push(peer);
      await joinRaw(peer, name, PASSWORD, key);
      return peer;
    }

    it('two pages and an ecp client --json chat with each other; one page is driven by keyboard alone, at phone width', async () => {
      const { page: url, tcp } = await serve();
      const alice = await open(url);
      await joinAs(alice.page, 'alice', PASSWORD);

      // bob: keyboard only, on a phone-sized screen.
      const bob = await open(url, { width: 375, height: 667 });
      await bob.page.keyboard.press('Tab');
      await bob.page.keyboard.type('bob');
      await bob.page.keyboard.press('Tab');
      await bob.page.keyboard.type(PASSWORD);
      await bob.page.keyboard.press('Enter');
      await bob.page.getByRole('status').filter({ hasText: 'Joined as bob' }).waitFor();
      // The join puts the focus in the message field.
      expect(await focusedId(bob.page)).toBe('message');

      const carol = new CliProcess(['client', tcp, '-u', 'carol', '-p', PASSWORD, '--json']);
      processes.push(carol);
      await carol.waitForOutput('"event":"joined"');
      await alice.page.getByRole('listitem').filter({ hasText: 'carol has joined the chat' }).waitFor();

      await say(alice.page, 'hello from alice');
      await bob.page.keyboard.type(
        'hi from bob <img src=x> averyveryveryveryveryverylongwordwithoutanyplacetobreak',
      );
      await bob.page.keyboard.press('Enter');
      carol.write('hey from the terminal\n');

      const chat = [
        { sender: 'alice', text: 'hello from alice', encrypted: 'true' },
        {
          sender: 'bob',
          text: 'hi from bob <img src=x> averyveryveryveryveryverylongwordwithoutanyplacetobreak',
          encrypted: 'true',
        },
        { sender: 'carol', text: 'hey from the terminal', encrypted: 'true' },
      ];
      for (const { page } of [alice, bob]) {
        await page.getByText('hey from the terminal').waitFor();
        await page
          .getByText('hi from bob <img src=x> averyveryveryveryveryverylongwordwithoutanyplacetobreak')
          .waitFor();
        const shown = (await shownMessages(page)).filter((row) => row.sender !== undefined);
        expect(shown.sort((a, b) => a.sender!.localeCompare(b.sender!))).toEqual(chat);
        // Peer text is text: bob's "<img>" made no element.
        expect(await page.locator('#messages img').count()).toBe(0);
        await expect
          .poll(() => page.locator('#users li').allTextContents(), EVENTUALLY)
          .toEqual(['alice', 'bob', 'carol']);
      }
      await carol.waitForOutput(
        'hi from bob <img src=x> averyveryveryveryveryverylongwordwithoutanyplacetobreak',
      );
      const heard = carol
        .jsonLines()
        .filter((line) => line.event === 'message')
        .map((line) => ({ sender: line.sender, text: line.text, encrypted: line.encrypted }));
      expect(heard.sort((a, b) => String(a.sender).localeCompare(String(b.sender)))).toEqual(
        chat.map((row) => ({ ...row, encrypted: true })),
      );

      // Everyone's own view tells joins apart from messages.
      const notices = (await shownMessages(alice.page))
        .filter((row) => row.sender === undefined)
        .map((row) => row.text);
      expect(notices).toEqual(
        expect.arrayContaining(['bob has joined the chat', 'carol has joined the chat']),
      );

      carol.endInput();
      expect(await carol.exitCode()).toBe(0);
      await alice.page.getByRole('listitem').filter({ hasText: 'carol has left the chat' }).waitFor();
      await expect
        .poll(() => alice.page.locator('#users li').allTextContents(), EVENTUALLY)
        .toEqual(['alice', 'bob']);

      // At phone width nothing is wider than the screen, not even a long word.
      expect(
        await bob.page.evaluate(
          'document.documentElement.scrollWidth <= document.documentElement.clientWidth',
        ),
      ).toBe(true);

      // bob leaves by the button: the others see him go, and he is back at the join form.
      await bob.page.getByRole('button', { name: 'Leave' }).click();
      await alice.page.getByRole('listitem').filter({ hasText: 'bob has left the chat' }).waitFor();
      await bob.page.getByRole('button', { name: 'Join' }).waitFor();
      expect(await bob.page.getByRole('status').textContent()).toBe('Not connected');
    });

    it('marks a message that came in the clear and one it cannot decrypt, and shows a key change', async () => {
      const { page: url, tcp } = await serve({ rotateKeyOnLeave: true });
      const alice = await open(url);
      await joinAs(alice.page, 'alice', PASSWORD);
      const mallory = await rawMember(tcp, 'mallory', keys[0]!);
      mallory.send({ type: 'message', message: 'plain words', encrypted: false });
      mallory.send({
        type: 'message',
        message: Buffer.from('not a fernet token').toString('base64'),
        encrypted: true,
      });
      await alice.page.locator('#messages li.undecryptable').waitFor();
      const rows = (await shownMessages(alice.page)).filter((row) => row.sender === 'mallory');
      expect(rows).toEqual([
        { sender: 'mallory', text: 'plain words', encrypted: 'false' },
        {
          sender: 'mallory',
          text: 'Undecryptable message (not sealed with the room key)',
          undecryptable: 'true',
        },
      ]);
      // What a person sees: the badges.
      await expect
        .poll(() => alice.page.locator('#messages .badge').allTextContents(), EVENTUALLY)
        .toEqual(['not encrypted', 'undecryptable']);

      // mallory leaves: this server gives the room a new key, and the page says so and uses it.
      mallory.end();
      await alice.page.getByText('The room key changed').waitFor();
      await say(alice.page, 'sealed with the new key');
      await alice.page.getByText('sealed with the new key').waitFor();
      expect((await shownMessages(alice.page)).at(-1)).toEqual({
        sender: 'alice',
        text: 'sealed with the new key',
        encrypted: 'true',
      });
    });

    it('says so when the password is wrong, the name is taken or the server is full, and lets the person try again', async () => {
      const { page: url } = await serve();
      const alice = await open(url);
      await joinAs(alice.page, 'alice', PASSWORD);

      const other = await open(url);
      await other.page.getByLabel('Username').fill('bob');
      await other.page.getByLabel('Password').fill('wrong password');
      await other.page.getByRole('button', { name: 'Join' }).click();
      await expect
        .poll(() => other.page.getByRole('alert').first().textContent(), EVENTUALLY)
        .toContain('Wrong password.');
      expect(await other.page.getByRole('alert').first().textContent()).toContain('Invalid server password');
      // The focus goes where the fix is.
      expect(await focusedId(other.page)).toBe('password');

      await other.page.getByLabel('Username').fill('alice');
      await other.page.getByLabel('Password').fill(PASSWORD);
      await other.page.getByRole('button', { name: 'Join' }).click();
      await expect
        .poll(() => other.page.getByRole('alert').first().textContent(), EVENTUALLY)
        .toContain('The name “alice” is taken');
      expect(await focusedId(other.page)).toBe('username');

      await joinAs(other.page, 'bob', PASSWORD);

      // A server with room for one, taken by a terminal user.
      const full = await serve({ limits: { maxConnections: 1 } });
      await rawMember(full.tcp, 'dave', keys[0]!);
      const third = await open(full.page);
      await third.page.getByLabel('Username').fill('carol');
      await third.page.getByLabel('Password').fill(PASSWORD);
      await third.page.getByRole('button', { name: 'Join' }).click();
      await expect
        .poll(() => third.page.getByRole('alert').first().textContent(), EVENTUALLY)
        .toContain('The server is full');
    });

    it("shows the server's shutdown notice, offers to reconnect, and reconnects when asked", async () => {
      const first = await serve();
      const port = new URL(first.page).port;
      const alice = await open(first.page);
      await joinAs(alice.page, 'alice', PASSWORD);

      await first.server.close();
      await alice.page.getByText('Server is shutting down').waitFor();
      await alice.page.getByText('The server shut down. Reconnect to join again as alice.').waitFor();
      expect(await alice.page.getByRole('status').textContent()).toBe('Disconnected');
      await expect.poll(() => focusedId(alice.page), EVENTUALLY).toBe('reconnect');
      expect(await alice.page.getByLabel('Message').isDisabled()).toBe(true);

      // The server is back on the same port: one press of Reconnect (here, the keyboard's Enter).
      const second = await startServer({
        listen: [`ws://127.0.0.1:${port}/ecp`],
        password: PASSWORD,
        logLevel: 'silent',
      });
      servers.push(second);
      await alice.page.keyboard.press('Enter');
      await alice.page.getByRole('status').filter({ hasText: 'Joined as alice' }).waitFor();
      expect(second.usernames()).toEqual(['alice']);
      await say(alice.page, 'back again');
      await alice.page.getByText('back again').waitFor();
    });

    it('says so when the connection is lost, and when reconnecting fails', async () => {
      const { server, page: url } = await serve();
      const alice = await open(url);
      // Stands between the page and the server, to cut the connection as a network would.
      let cut: (() => Promise<void>) | undefined;
      await alice.page.routeWebSocket(/\/ecp$/, (socket) => {
        socket.connectToServer();
        cut = () => socket.close({ code: 4000, reason: 'cut' });
      });
      await joinAs(alice.page, 'alice', PASSWORD);
      await cut!();
      await alice.page.getByText('The connection was lost. Reconnect to join again as alice.').waitFor();
      expect(await alice.page.getByText('Server is shutting down').count()).toBe(0);

      await server.close();
      await alice.page.getByRole('button', { name: 'Reconnect' }).click();
      await alice.page
        .getByText('Could not connect to the server. Reconnect to join again as alice.')
        .waitFor();
      expect(await alice.page.getByRole('status').textContent()).toBe('Disconnected');
      // Chromium itself logs the refused connection; that one line is expected here, and only that.
      const refused = alice.errors.splice(0);
      expect(refused).toEqual([
        expect.stringMatching(/^console: WebSocket connection to .* net::ERR_CONNECTION_REFUSED$/),
      ]);
    });

    it('works over wss:// too: the page comes over HTTPS and connects with wss', async () => {
      const tls = await makeDevCertificate();
      const server = await startServer({
        listen: ['wss://127.0.0.1:0/ecp'],
        tls,
        password: PASSWORD,
        logLevel: 'silent',
      });
      servers.push(server);
      expect(server.webClientUrls).toEqual([`https://127.0.0.1:${server.port}/`]);
      // The certificate is a throwaway one that no browser trusts; trusting it is the test's choice.
      const alice = await openPage(browser, server.webClientUrls[0]!, undefined, {
        trustAnyCertificate: true,
      });
      pages.push(alice);
      await joinAs(alice.page, 'alice', PASSWORD);
      await say(alice.page, 'over TLS');
      await alice.page.getByText('over TLS').waitFor();
      expect((await shownMessages(alice.page)).at(-1)).toEqual({
        sender: 'alice',
        text: 'over TLS',
        encrypted: 'true',
      });
    });

    it('is served with its Content-Security-Policy, which the browser enforces', async () => {
      const { page: url } = await serve();
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const violations: string[] = [];
        page.on('console', (message) => {
          if (message.type() === 'error') violations.push(message.text());
        });
        const response = await page.goto(url);
        expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
        // An inline script (what an injection would try) does not run.
        const ran = await page.evaluate(`(() => {
          const script = document.createElement('script');
          script.textContent = 'document.body.dataset.injected = "yes"';
          document.body.append(script);
          return document.body.dataset.injected ?? 'no';
        })()`);
        expect(ran).toBe('no');
        await expect
          .poll(() => violations.some((text) => text.includes('Content Security Policy')), EVENTUALLY)
          .toBe(true);
      } finally {
        await context.close();
      }
    });
  },
);
