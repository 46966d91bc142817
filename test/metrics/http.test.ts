import { describe, expect, it } from 'vitest';
import {
  isLoopback,
  ListenAddressError,
  parseListenAddress,
  requiredToken,
  tokenMatches,
} from '../../src/metrics/http.ts';

describe('listen addresses and tokens', () => {
  it('parses HOST:PORT, [IPv6]:PORT and :PORT (loopback), and refuses the rest', () => {
    expect(parseListenAddress('127.0.0.1:9464', '--metrics')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('[::1]:0', '--metrics')).toEqual({ host: '::1', port: 0 });
    expect(parseListenAddress(':8080', '--console')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListenAddress('localhost:1', '--console')).toEqual({ host: 'localhost', port: 1 });
    for (const bad of ['9464', '127.0.0.1', 'host:99999', 'a:b', '[::1:80', 'x:1:2']) {
      expect(() => parseListenAddress(bad, '--metrics'), bad).toThrow(ListenAddressError);
    }
  });

  it('knows loopback addresses, and requires a token of 16+ characters anywhere else', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.org', '128.0.0.1'])
      expect(isLoopback(h), h).toBe(false);
    expect(requiredToken({ host: '127.0.0.1', port: 0 }, undefined, '--console')).toBeUndefined();
    expect(() => requiredToken({ host: '0.0.0.0', port: 0 }, undefined, '--console')).toThrow(
      /not a loopback address/,
    );
    expect(() => requiredToken({ host: '0.0.0.0', port: 0 }, 'short', '--console')).toThrow(/at least 16/);
    expect(requiredToken({ host: '0.0.0.0', port: 0 }, 'x'.repeat(16), '--console')).toBe('x'.repeat(16));
  });

  it('compares tokens whole', () => {
    expect(tokenMatches('a-token-of-sixteen', 'a-token-of-sixteen')).toBe(true);
    expect(tokenMatches('a-token-of-sixteeN', 'a-token-of-sixteen')).toBe(false);
    expect(tokenMatches('a-token-of-sixtee', 'a-token-of-sixteen')).toBe(false);
    expect(tokenMatches(undefined, 'a-token-of-sixteen')).toBe(false);
  });
});
