/**
 * `npm run docs:screenshot`: docs/images/web-client.png, the README's picture of the browser
 * client, taken from a real chat: the reference server, two pages in Chromium (alice, bob) and a
 * terminal user (`ecp client --json`, carol), each message waited for before the next is sent.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../reference-server/index.ts';
import { CliProcess } from '../reference-client/cli-process.ts';
import { chromiumMissing, joinAs, launchChromium, openPage, say } from './browser.ts';

const OUTPUT = fileURLToPath(new URL('../../docs/images/web-client.png', import.meta.url));
const PASSWORD = 'secret123';

if (chromiumMissing !== undefined) {
  console.error(`docs:screenshot: ${chromiumMissing}`);
  process.exit(1);
}

const server = await startServer({
  listen: ['ws://127.0.0.1:0/ecp', 'tcp://127.0.0.1:0'],
  password: PASSWORD,
  logLevel: 'silent',
});
const browser = await launchChromium();
let carol: CliProcess | undefined;
try {
  const alice = await openPage(browser, server.webClientUrls[0]!, { width: 900, height: 540 });
  const bob = await openPage(browser, server.webClientUrls[0]!, { width: 390, height: 700 });
  await joinAs(alice.page, 'alice', PASSWORD);
  await joinAs(bob.page, 'bob', PASSWORD);
  carol = new CliProcess(['client', server.endpoints[1]!, '-u', 'carol', '-p', PASSWORD, '--json']);
  await carol.waitForOutput('"event":"joined"');
  await alice.page.getByText('carol has joined the chat').waitFor();

  const lines: Array<[string, (text: string) => Promise<void>]> = [
    ['Hi both! This page does its RSA-OAEP and Fernet with WebCrypto.', (text) => say(alice.page, text)],
    ['Hello from the terminal, on plain TCP.', async (text) => carol!.write(`${text}\n`)],
    ['And I am on a phone-sized browser. Same room, same key.', (text) => say(bob.page, text)],
    ['The server relays our tokens; only we can read them.', (text) => say(alice.page, text)],
  ];
  for (const [text, send] of lines) {
    await send(text);
    await alice.page.getByText(text).waitFor();
  }
  await alice.page.getByLabel('Message').focus();
  await mkdir(fileURLToPath(new URL('.', `file://${OUTPUT}`)), { recursive: true });
  await alice.page.screenshot({ path: OUTPUT });
  const problems = [...alice.errors, ...bob.errors];
  if (problems.length > 0) throw new Error(`the pages reported errors:\n${problems.join('\n')}`);
  console.log(`wrote ${OUTPUT}`);
} finally {
  carol?.endInput();
  await carol?.exitCode();
  await browser.close();
  await server.close();
}
