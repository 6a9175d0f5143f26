import { describe, expect, it } from 'vitest';
import { parseTargetList, type TargetArgs, targetSpecFrom } from '../../server-under-test/index.ts';
import { TransportError } from '../../transport/index.ts';

const NO_TARGET: TargetArgs = {
  target: undefined,
  spawn: undefined,
  port: undefined,
  'start-timeout': 10,
  password: 'secret123',
  transport: undefined,
  ca: undefined,
  insecure: false,
};

describe('parseTargetList', () => {
  it('reads one URL as one endpoint', () => {
    expect(parseTargetList('tcp://127.0.0.1:8881')).toEqual([
      { transport: 'tcp', host: '127.0.0.1', port: 8881, path: '' },
    ]);
  });

  it('reads several endpoints in order, any transports mixed, spaces around commas allowed', () => {
    expect(parseTargetList('tcp://127.0.0.1:8881, ws://127.0.0.1:8080/ecp,127.0.0.1:8882')).toEqual([
      { transport: 'tcp', host: '127.0.0.1', port: 8881, path: '' },
      { transport: 'ws', host: '127.0.0.1', port: 8080, path: '/ecp' },
      { transport: 'tcp', host: '127.0.0.1', port: 8882, path: '' },
    ]);
  });

  it.each([
    ['tcp://127.0.0.1:8881,', 'item 2 is empty'],
    [',tcp://127.0.0.1:8881', 'item 1 is empty'],
    ['tcp://127.0.0.1:8881,,tcp://127.0.0.1:8882', 'item 2 is empty'],
    ['', 'item 1 is empty'],
    [' , ', 'item 1 is empty'],
  ])('refuses an empty item in %j', (text, why) => {
    expect(() => parseTargetList(text)).toThrow(RangeError);
    expect(() => parseTargetList(text)).toThrow(why);
  });

  it('refuses an endpoint named twice, however it is spelled', () => {
    expect(() => parseTargetList('tcp://127.0.0.1:8881,127.0.0.1:8881')).toThrow(
      'tcp://127.0.0.1:8881 is named twice',
    );
  });

  it('refuses an unknown scheme, naming the item', () => {
    const parse = () => parseTargetList('tcp://127.0.0.1:8881,http://127.0.0.1:8882');
    expect(parse).toThrow(TransportError);
    expect(parse).toThrow("invalid endpoint 'http://127.0.0.1:8882': unknown scheme 'http://'");
  });
});

describe('targetSpecFrom with several endpoints', () => {
  it('is a running target: the first endpoint, then the others', () => {
    expect(targetSpecFrom({ ...NO_TARGET, target: 'tcp://127.0.0.1:8881,tcp://127.0.0.1:8882' })).toEqual({
      kind: 'running',
      endpoint: { transport: 'tcp', host: '127.0.0.1', port: 8881, path: '' },
      otherEndpoints: [{ transport: 'tcp', host: '127.0.0.1', port: 8882, path: '' }],
      password: 'secret123',
    });
  });

  it('has no other endpoints for one URL', () => {
    expect(targetSpecFrom({ ...NO_TARGET, target: 'tcp://127.0.0.1:8881' })).not.toHaveProperty(
      'otherEndpoints',
    );
  });

  it('refuses --spawn, which starts one server on one port', () => {
    for (const target of [
      'tcp://127.0.0.1:{port},tcp://127.0.0.1:8882',
      'tcp://127.0.0.1:8881,tcp://127.0.0.1:8882',
    ]) {
      expect(() => targetSpecFrom({ ...NO_TARGET, spawn: 'server --port {port}', target })).toThrow(
        '--spawn starts one server on one port',
      );
    }
  });

  it('takes --insecure when one of the endpoints uses TLS, and refuses it when none does', () => {
    const spec = targetSpecFrom({
      ...NO_TARGET,
      insecure: true,
      target: 'tcp://127.0.0.1:1,tls://127.0.0.1:2',
    });
    expect(spec).toMatchObject({ kind: 'running', tls: { insecure: true } });
    expect(() =>
      targetSpecFrom({ ...NO_TARGET, insecure: true, target: 'tcp://127.0.0.1:1,ws://127.0.0.1:2/ecp' }),
    ).toThrow('--ca and --insecure are for tls:// and wss:// servers');
  });
});
