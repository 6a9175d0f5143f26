import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fernet, importPublicKeyPem, openText, sealText, wrapRoomKey } from '../../protocol/index.ts';
import { type EcpServer, startServer } from '../../reference-server/index.ts';
import { fernetVectors, OAEP_FILES, wycheproofFile } from '../vectors/vectors.ts';
import { chromiumMissing, launchChromium, openPage } from './browser.ts';

const generate = fernetVectors('generate');
const verify = fernetVectors('verify');
const invalid = fernetVectors('invalid');
const oaepCases = OAEP_FILES.flatMap((file) =>
  wycheproofFile(file).testGroups.flatMap((group) =>
    group.tests.map((test) => ({ file, key: group.privateKeyPkcs8, test })),
  ),
);

/** web-client/crypto.js, as the page imports it (test/web/page-modules.d.ts). */
type CryptoModule = typeof import('ecp-web-client/crypto');

/** What the tests put on the page's globalThis. */
interface PageGlobals {
  ecpCrypto: CryptoModule;
  pair: { privateKey: object; publicKeyPem: string };
}

/** What the page's module did with one input: its output, or its error's code and message. */
type Outcome = { ok: true; value: string } | { ok: false; code: string; message: string };

describe.skipIf(chromiumMissing !== undefined)(
  `the browser client's crypto module in Chromium${chromiumMissing ? ` (${chromiumMissing})` : ''}`,
  // A browser, pages and their key pairs: more than a unit test's time, most of all on a busy machine.
  { timeout: 60_000 },
  () => {
    let server: EcpServer;
    let browser: Browser;
    let page: Page;
    let errors: string[];

    beforeAll(async () => {
      server = await startServer({
        listen: ['ws://127.0.0.1:0/ecp'],
        password: 'secret123',
        logLevel: 'silent',
      });
      browser = await launchChromium();
      ({ page, errors } = await openPage(browser, server.webClientUrls[0]!));
      // The module as the page loads it. A string, since vitest rewrites import() in this file's functions.
      await page.evaluate("import('/crypto.js').then((module) => { globalThis.ecpCrypto = module; })");
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('passes the Fernet specification vectors: generate, verify and every invalid token', async () => {
      expect([generate.length, verify.length, invalid.length]).toEqual([1, 1, 8]);
      const results = await page.evaluate(
        async ({ generate, verify, invalid }) => {
          const { Fernet } = (globalThis as unknown as PageGlobals).ecpCrypto;
          const outcome = async (run: () => Promise<string>): Promise<Outcome> => {
            try {
              return { ok: true, value: await run() };
            } catch (error) {
              const { code, message } = error as { code: string; message: string };
              return { ok: false, code, message };
            }
          };
          const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
          return {
            generate: await Promise.all(
              generate.map((v) =>
                outcome(async () => {
                  const fernet = await Fernet.fromKeyText(v.secret);
                  const token = await fernet.encrypt(v.src ?? '', {
                    iv: Uint8Array.from(v.iv ?? []),
                    now: new Date(v.now),
                  });
                  const back = decode(await fernet.decrypt(token, { now: new Date(v.now) }));
                  return `${token} ${back}`;
                }),
              ),
            ),
            verify: await Promise.all(
              verify.map((v) =>
                outcome(async () =>
                  decode(
                    await (await Fernet.fromKeyText(v.secret)).decrypt(v.token, {
                      ttlSeconds: v.ttl_sec,
                      now: new Date(v.now),
                    }),
                  ),
                ),
              ),
            ),
            invalid: await Promise.all(
              invalid.map((v) =>
                outcome(async () =>
                  decode(
                    await (await Fernet.fromKeyText(v.secret)).decrypt(v.token, {
                      ttlSeconds: v.ttl_sec,
                      now: new Date(v.now),
                    }),
                  ),
                ),
              ),
            ),
          };
        },
        { generate, verify, invalid },
      );
      expect(results.generate).toEqual(generate.map((v) => ({ ok: true, value: `${v.token} ${v.src}` })));
      expect(results.verify).toEqual(verify.map((v) => ({ ok: true, value: v.src })));
      expect(
        results.invalid.map((outcome, i) => [invalid[i]?.desc, outcome.ok ? 'decrypted' : outcome.code]),
      ).toEqual(
        invalid.map((v) => [v.desc, v.desc === 'expired TTL' ? 'ECP_TOKEN_EXPIRED' : 'ECP_INVALID_TOKEN']),
      );
      expect(errors).toEqual([]);
    });

    it('passes the Wycheproof RSA-OAEP-2048 SHA-256 vectors: every valid one opens, every invalid one fails alike', async () => {
      expect(oaepCases).toHaveLength(40);
      const outcomes: Outcome[] = await page.evaluate(async (cases) => {
        const { importPrivateKeyPkcs8, oaepDecrypt } = (globalThis as unknown as PageGlobals).ecpCrypto;
        const fromHex = (hex: string) =>
          Uint8Array.from(hex.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));
        const toHex = (bytes: Uint8Array) =>
          Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
        const results: Outcome[] = [];
        for (const { key, test } of cases) {
          try {
            const privateKey = await importPrivateKeyPkcs8(fromHex(key));
            results.push({
              ok: true,
              value: toHex(await oaepDecrypt(privateKey, fromHex(test.ct), fromHex(test.label))),
            });
          } catch (error) {
            const { code, message } = error as { code: string; message: string };
            results.push({ ok: false, code, message });
          }
        }
        return results;
      }, oaepCases);
      const expected = oaepCases.map(({ test }) =>
        test.result === 'valid'
          ? { ok: true, value: test.msg }
          : // One message for every failure: nothing tells padding failures apart (Manger's attack).
            { ok: false, code: 'ECP_DECRYPT_FAILED', message: 'RSA-OAEP decryption failed' },
      );
      expect(oaepCases.every(({ test }) => test.result !== 'acceptable')).toBe(true);
      for (const [index, { file, test }] of oaepCases.entries()) {
        expect(outcomes[index], `${file} tcId ${test.tcId} ${test.result} ${test.comment}`).toEqual(
          expected[index],
        );
      }
      expect(errors).toEqual([]);
    });

    it('makes a 2048-bit RSA key with e = 65537 as SPKI PEM, and unwraps a room key the library wraps for it', async () => {
      const roomKey = Fernet.generateKey();
      const pem = await page.evaluate(async () => {
        const { generateRsaKeyPair } = (globalThis as unknown as PageGlobals).ecpCrypto;
        const pair = await generateRsaKeyPair();
        (globalThis as unknown as PageGlobals).pair = pair;
        return pair.publicKeyPem;
      });
      expect(pem).toMatch(
        /^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END PUBLIC KEY-----\n$/,
      );
      const publicKey = importPublicKeyPem(pem);
      expect(publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
      const unwrapped = await page.evaluate(
        async (encryptedKey) => {
          const { unwrapRoomKey } = (globalThis as unknown as PageGlobals).ecpCrypto;
          const { pair } = globalThis as unknown as PageGlobals;
          return (await unwrapRoomKey(encryptedKey, pair.privateKey)).keyText;
        },
        wrapRoomKey(roomKey, publicKey),
      );
      expect(unwrapped).toBe(roomKey);
    });

    it('seals what the library opens and opens what the library seals; a tampered payload is ECP_INVALID_TOKEN', async () => {
      const keyText = Fernet.generateKey();
      const room = new Fernet(keyText);
      const text = 'héllo 👋 from Node';
      const result = await page.evaluate(
        async ({ keyText, sealed }) => {
          const { Fernet, openText, sealText } = (globalThis as unknown as PageGlobals).ecpCrypto;
          const room = await Fernet.fromKeyText(keyText);
          const opened = await openText(room, sealed);
          const tampered = `${sealed.slice(0, 40)}${sealed[40] === 'A' ? 'B' : 'A'}${sealed.slice(41)}`;
          let tamperedCode = 'opened';
          try {
            await openText(room, tampered);
          } catch (error) {
            tamperedCode = (error as { code: string }).code;
          }
          return { opened, sealedByPage: await sealText(room, 'héllo 👋 from Chromium'), tamperedCode };
        },
        { keyText, sealed: sealText(room, text) },
      );
      expect(result.opened).toBe(text);
      expect(result.tamperedCode).toBe('ECP_INVALID_TOKEN');
      expect(result.sealedByPage).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      expect(openText(room, result.sealedByPage)).toBe('héllo 👋 from Chromium');
      expect(errors).toEqual([]);
    });
  },
);
