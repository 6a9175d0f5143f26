/**
 * The browser client's crypto module as the tests call it inside the page (`import('/crypto.js')`
 * in page.evaluate), under a name of its own: its JSDoc types live in web-client/, which this Node project does not check.
 */
declare module 'ecp-web-client/crypto' {
  export class Fernet {
    readonly keyText: string;
    static fromKeyText(keyText: string): Promise<Fernet>;
    encrypt(
      plaintext: Uint8Array | string,
      options?: { iv?: Uint8Array; now?: Date | number },
    ): Promise<string>;
    decrypt(token: string, options?: { ttlSeconds?: number; now?: Date | number }): Promise<Uint8Array>;
  }
  export function generateRsaKeyPair(): Promise<{ privateKey: object; publicKeyPem: string }>;
  export function importPrivateKeyPkcs8(der: Uint8Array): Promise<object>;
  export function oaepDecrypt(
    privateKey: object,
    ciphertext: Uint8Array,
    label?: Uint8Array,
  ): Promise<Uint8Array>;
  export function unwrapRoomKey(encryptedKey: string, privateKey: object): Promise<Fernet>;
  export function sealText(room: Fernet, text: string): Promise<string>;
  export function openText(room: Fernet, payload: string): Promise<string>;
}
