import type { RefusalCode } from './errors.ts';

/**
 * Where a cluster connection is. Server side:
 *
 *   challenged --response verified--> open --bye / socket closed / peer dead / bad frame--> closed
 *       |                                                                                     ^
 *       +--bad response, timeout, oversized or undecodable message----------------------------+
 *
 * Client side: awaiting-challenge --challenge--> awaiting-accept --accept verified--> open --> closed
 * (any refusal on the way goes straight to closed). Frames are decoded only in `open`.
 */
export type ConnectionState =
  | { state: 'challenged'; serverNonce: Buffer }
  | { state: 'awaiting-challenge' }
  | { state: 'awaiting-accept'; serverNonce: Buffer; response: Buffer }
  | { state: 'open' }
  | { state: 'closed'; code: RefusalCode | 'SLUICE_CLUSTER_CLOSED'; reason: string };

/** What a cluster endpoint reports; a CLI or supervisor logs these (nothing in src/cluster prints). */
export type ClusterEvent =
  | { event: 'open'; remote: string }
  | { event: 'refused'; remote: string; code: RefusalCode; reason: string; authenticated: boolean }
  | { event: 'missed-heartbeat'; remote: string; missed: number }
  | { event: 'closed'; remote: string; code: number; reason: string };
