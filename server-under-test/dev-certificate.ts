/**
 * Throwaway TLS certificates for servers the kit starts itself (the embedded server over tls:// or
 * wss://) and for tests: self-signed, made with `selfsigned` on WebCrypto, never written to disk.
 * Clients of such a server trust exactly that certificate (it is its own CA).
 */
import { generate } from 'selfsigned';

export interface DevCertificate {
  /** The certificate (PEM); also the CA a client trusts to verify it. */
  cert: string;
  /** Its private key (PEM). */
  key: string;
}

export interface DevCertificateOptions {
  /** Names and addresses the certificate is valid for. Default localhost and 127.0.0.1. */
  hosts?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

const IP_ADDRESS = /^[\d.]+$|:/;

export async function makeDevCertificate(options: DevCertificateOptions = {}): Promise<DevCertificate> {
  const hosts = options.hosts ?? ['localhost', '127.0.0.1'];
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: hosts[0] ?? 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: options.notAfter ?? new Date(notBefore.getTime() + 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: hosts.map((host) =>
          IP_ADDRESS.test(host) ? { type: 7, ip: host } : { type: 2, value: host },
        ),
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

let shared: Promise<DevCertificate> | undefined;

/** One certificate per process for every embedded TLS server (generating one takes ~100 ms). */
export function sharedDevCertificate(): Promise<DevCertificate> {
  shared ??= makeDevCertificate();
  return shared;
}
