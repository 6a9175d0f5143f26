/**
 * The room key: how it is wrapped for each member, and that it is the same for everyone.
 */
import { Then } from '@cucumber/cucumber';
import { oaepDecrypt } from '../../../protocol/index.ts';
import type { ConformanceWorld } from '../world.ts';

const STANDARD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const FERNET_KEY_TEXT = /^[A-Za-z0-9_-]{43}=$/;

function encryptedKeyOf(world: ConformanceWorld, label: string): string {
  const line = world.client(label).lines.find((item) => item.message?.type === 'key_exchange');
  if (line?.message?.type !== 'key_exchange') {
    world.fail({
      expected: `${label} received a key_exchange`,
      actual: world.describeSince(world.client(label), 0, world.timeoutMs),
    });
  }
  return line.message.encrypted_key;
}

Then(
  "{member}'s encrypted_key is standard base64 of {int} characters",
  async function (this: ConformanceWorld, label: string, length: number) {
    await this.expectLine(
      label,
      (line) => line.message?.type === 'key_exchange',
      `${label} receives a key_exchange`,
    );
    const encryptedKey = encryptedKeyOf(this, label);
    if (encryptedKey.length !== length || !STANDARD_BASE64.test(encryptedKey)) {
      this.fail({
        expected: `encrypted_key is standard base64 (A-Z a-z 0-9 + /, "=" padding) of ${length} characters`,
        actual: `${encryptedKey.length} characters: ${JSON.stringify(encryptedKey.slice(0, 60))}${encryptedKey.length > 60 ? '…' : ''}${STANDARD_BASE64.test(encryptedKey) ? '' : ' (not standard base64)'}`,
        hint: 'Encode the whole RSA ciphertext (as many bytes as the modulus) with standard base64 and padding, not base64url.',
      });
    }
  },
);

Then(
  "{member}'s encrypted_key decrypts with her private key to a 44-character Fernet key",
  async function (this: ConformanceWorld, label: string) {
    const client = this.client(label);
    const ciphertext = Buffer.from(encryptedKeyOf(this, label), 'base64');
    let plain: Buffer;
    try {
      plain = oaepDecrypt(client.keys!.privateKey, ciphertext);
    } catch (error) {
      this.fail({
        expected: `encrypted_key decrypts with ${label}'s private key (RSA-OAEP, SHA-256, MGF1-SHA-256, no label)`,
        actual: `decryption failed: ${(error as Error).message}`,
      });
    }
    const text = plain.toString('latin1');
    if (!FERNET_KEY_TEXT.test(text) || Buffer.from(text, 'base64url').length !== 32) {
      this.fail({
        expected: 'the decrypted bytes are the 44 ASCII characters of a Fernet key (base64url of 32 bytes)',
        actual: `${plain.length} bytes: ${plain.length === 32 ? 'the 32 raw key bytes instead of the key text' : JSON.stringify(text.slice(0, 60))}`,
        hint:
          plain.length === 32
            ? 'Encrypt the key as Fernet prints it (44 characters), not the 32 bytes it decodes to.'
            : undefined,
      });
    }
  },
);

Then('{members} hold the same room key', async function (this: ConformanceWorld, labels: string[]) {
  const keys = labels.map((label) => ({ label, key: this.client(label).roomKey?.keyText }));
  const first = keys[0]!;
  const different = keys.find((item) => item.key !== first.key);
  if (different || first.key === undefined) {
    this.fail({
      expected: `${labels.join(', ')} all received the same room key`,
      actual: keys.map((item) => `${item.label}: ${item.key ?? 'no key'}`).join('\n'),
    });
  }
});
