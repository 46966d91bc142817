import { describe, expect, it } from 'vitest';
import { Heartbeat, type HeartbeatPeer, ManualTicker } from '../../src/cluster/heartbeat.ts';

function recorder() {
  const calls: string[] = [];
  const peer: HeartbeatPeer = {
    sendPing: (seq) => calls.push(`ping ${seq}`),
    missed: (n) => calls.push(`missed ${n}`),
    declareDead: (n) => calls.push(`dead ${n}`),
  };
  return { calls, peer };
}

describe('Heartbeat', () => {
  it('declares a peer silent from the start dead at the fourth tick, once, and stops', () => {
    const { calls, peer } = recorder();
    const ticker = new ManualTicker();
    new Heartbeat(peer, ticker).start();
    for (let i = 0; i < 6; i++) ticker.tick();
    expect(calls).toEqual(['ping 0', 'missed 1', 'ping 1', 'missed 2', 'ping 2', 'missed 3', 'dead 3']);
    expect(ticker.active).toBe(0);
  });

  it('never declares a peer dead while it is heard between ticks; three silent ticks after the last frame do', () => {
    const { calls, peer } = recorder();
    const ticker = new ManualTicker();
    const heartbeat = new Heartbeat(peer, ticker);
    heartbeat.start();
    for (let i = 0; i < 100; i++) {
      ticker.tick();
      heartbeat.heard();
    }
    expect(calls.filter((c) => !c.startsWith('ping'))).toEqual([]);
    ticker.tick(); // heard before it: fine
    ticker.tick();
    ticker.tick();
    expect(calls.at(-1)).toBe('ping 102');
    ticker.tick();
    expect(calls.at(-1)).toBe('dead 3');
  });

  it('resets the count of misses when the peer is heard again', () => {
    const { calls, peer } = recorder();
    const ticker = new ManualTicker();
    const heartbeat = new Heartbeat(peer, ticker, 1000, 3);
    heartbeat.start();
    ticker.tick();
    ticker.tick();
    ticker.tick(); // missed 2
    heartbeat.heard();
    ticker.tick();
    ticker.tick();
    ticker.tick();
    expect(calls).not.toContain('dead 3');
    expect(calls.filter((c) => c.startsWith('missed'))).toEqual([
      'missed 1',
      'missed 2',
      'missed 1',
      'missed 2',
    ]);
  });

  it('does nothing after stop', () => {
    const { calls, peer } = recorder();
    const ticker = new ManualTicker();
    const heartbeat = new Heartbeat(peer, ticker);
    heartbeat.start();
    heartbeat.stop();
    for (let i = 0; i < 5; i++) ticker.tick();
    expect(calls).toEqual([]);
  });
});
