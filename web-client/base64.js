// @ts-check
/**
 * Base64 as ECP uses it, strictly: standard base64 with padding (the wire's `encrypted_key` and
 * sealed `message`) and base64url (Fernet keys and tokens, which keep their `=` padding). atob()
 * alone is too lenient (it skips whitespace), so the alphabet and length are checked first.
 */

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * @param {Uint8Array<ArrayBuffer>} bytes
 * @returns {string} standard base64 with padding
 */
export function encodeBase64(bytes) {
  return btoa(latin1(bytes));
}

/**
 * One character per byte (the ASCII text of a token or key), in chunks: a spread of a whole
 * megabyte would overflow the call stack.
 * @param {Uint8Array<ArrayBuffer>} bytes
 * @returns {string}
 */
export function latin1(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return text;
}

/**
 * @param {string} text standard base64 with padding
 * @returns {Uint8Array<ArrayBuffer> | undefined} undefined when the text is not standard base64
 */
export function decodeBase64(text) {
  if (text.length % 4 !== 0 || !STANDARD.test(text)) return undefined;
  try {
    return binaryToBytes(atob(text));
  } catch {
    return undefined;
  }
}

/**
 * @param {Uint8Array<ArrayBuffer>} bytes
 * @returns {string} base64url with `=` padding, as Fernet writes it
 */
export function encodeBase64Url(bytes) {
  return encodeBase64(bytes).replaceAll('+', '-').replaceAll('/', '_');
}

/**
 * @param {string} text base64url, padded or not
 * @returns {Uint8Array<ArrayBuffer> | undefined} undefined when the text is not base64url
 */
export function decodeBase64Url(text) {
  if (!URL_SAFE.test(text) || text.length % 4 === 1) return undefined;
  const unpadded = text.replace(/=+$/, '');
  const padded = unpadded + '='.repeat((4 - (unpadded.length % 4)) % 4);
  return decodeBase64(padded.replaceAll('-', '+').replaceAll('_', '/'));
}

/**
 * @param {string} binary one character per byte
 * @returns {Uint8Array<ArrayBuffer>}
 */
function binaryToBytes(binary) {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
