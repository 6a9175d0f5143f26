export * from './errors.ts';
export * from './fernet.ts';
export * from './limits.ts';
export * from './line-decoder.ts';
export * from './messages.ts';
export * from './notices.ts';
export * from './rsa.ts';
export * from './v1.ts';
