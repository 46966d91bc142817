import { Encoder } from 'cbor-x';
import { decodeLimited } from '../cluster/decode-limits.ts';
import type { ClusterProtocolError } from '../cluster/errors.ts';
import type { ClusterFrame } from '../cluster/frames.ts';
import {
  DEFAULT_PART_LIMITS,
  PartAssembler,
  type PartLimits,
  type PartOf,
  splitBody,
} from '../cluster/parts.ts';
import type { PeerConnection } from '../cluster/peer-connection.ts';
import { SluiceError } from '../core/errors.ts';

/**
 * Requests, replies and one-way notes over an authenticated cluster connection. A body is CBOR (no
 * records, byte strings untagged) decoded with the same limits as the frame around it, so a peer's body
 * is never handed to cbor-x unchecked. A call's error crosses as its message and code only. A body over
 * one frame (a snapshot of several MiB) crosses as parts (parts.ts), up to `maxMessage` bytes.
 */
const encoder = new Encoder({ useRecords: false, tagUint8Array: false } as ConstructorParameters<
  typeof Encoder
>[0]);

export function encodeBody(value: unknown): Uint8Array {
  return encoder.encode(value);
}

export function decodeBody(bytes: Uint8Array): unknown {
  return decodeLimited(bytes);
}

/** A call the peer answered with an error (its code kept), or that the connection's end left unanswered. */
export class ClusterCallError extends SluiceError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

export type CallHandler = (method: string, args: unknown[]) => unknown;
export type NoteHandler = (note: Record<string, unknown>) => void;

export class Rpc {
  #next = 1;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #onCall: CallHandler = (m) => {
    throw new ClusterCallError('SLUICE_CLUSTER_NO_SUCH_CALL', `no handler for ${m}`);
  };
  #onNote: NoteHandler = () => {};
  readonly #limits: PartLimits;
  readonly #parts: PartAssembler;

  constructor(
    readonly peer: PeerConnection,
    limits: PartLimits = DEFAULT_PART_LIMITS,
  ) {
    this.#limits = limits;
    this.#parts = new PartAssembler(limits);
    void peer.closed.then((code) => {
      for (const p of this.#pending.values())
        p.reject(
          new ClusterCallError('SLUICE_CLUSTER_CLOSED', `${peer.remote} closed the connection (${code})`),
        );
      this.#pending.clear();
    });
  }

  get open(): boolean {
    return this.peer.state.state === 'open';
  }

  onCall(handler: CallHandler): this {
    this.#onCall = handler;
    return this;
  }

  onNote(handler: NoteHandler): this {
    this.#onNote = handler;
    return this;
  }

  /** Takes over the connection's frames (or pass frames in with `frame` where another owner reads them). */
  attach(): this {
    this.peer.onFrame((f) => this.frame(f));
    return this;
  }

  call(method: string, ...args: unknown[]): Promise<unknown> {
    if (!this.open)
      return Promise.reject(new ClusterCallError('SLUICE_CLUSTER_CLOSED', `${this.peer.remote} is gone`));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        this.#send('call', id, encodeBody({ m: method, a: args }));
      } catch (e) {
        this.#pending.delete(id);
        reject(e as Error);
      }
    });
  }

  note(note: Record<string, unknown>): void {
    if (this.open) this.peer.send({ t: 'note', body: encodeBody(note) });
  }

  /** One frame when the body fits, else its parts back to back (never interleaved with another body's). */
  #send(of: Exclude<PartOf, 'post'>, id: number, body: Uint8Array): void {
    if (body.length <= this.#limits.partBytes) {
      this.peer.send({ t: of, id, body });
      return;
    }
    if (body.length > this.#limits.maxMessage)
      throw new ClusterCallError(
        'SLUICE_CLUSTER_MESSAGE_TOO_LARGE',
        `a ${of} of ${body.length} bytes exceeds the ${this.#limits.maxMessage}-byte limit of a cluster message`,
      );
    for (const part of splitBody(of, id, body, this.#limits.partBytes)) this.peer.send(part);
  }

  frame(frame: ClusterFrame): void {
    if (frame.t === 'part') {
      let whole: ReturnType<PartAssembler['accept']>;
      try {
        whole = this.#parts.accept(frame);
      } catch (e) {
        this.peer.refuse(e as ClusterProtocolError);
        return;
      }
      if (whole === undefined) return;
      // This connection's assembler takes calls and replies only (PartAssembler's default kinds).
      frame = { t: whole.of as Exclude<PartOf, 'post'>, id: whole.id, body: whole.body };
    }
    try {
      if (frame.t === 'call') this.#answer(frame.id, decodeBody(frame.body) as { m: string; a: unknown[] });
      else if (frame.t === 'reply') this.#settle(frame.id, decodeBody(frame.body) as Reply);
      else if (frame.t === 'note') this.#onNote(decodeBody(frame.body) as Record<string, unknown>);
    } catch (e) {
      // A body that breaks the limits is the peer's fault: refuse it like a bad frame.
      this.peer.close(`bad ${frame.t}: ${String((e as Error).message ?? e)}`);
    }
  }

  #answer(id: number, call: { m: string; a: unknown[] }): void {
    if (typeof call?.m !== 'string' || !Array.isArray(call.a)) throw new Error('malformed call');
    const reply = (r: Reply) => {
      if (!this.open) return;
      try {
        this.#send('reply', id, encodeBody(r));
      } catch (e) {
        // Too large even in parts: the caller gets the reason instead of waiting for ever.
        const code = (e as { code?: unknown }).code;
        const err = { err: String((e as Error).message ?? e), code: String(code ?? 'SLUICE_CLUSTER_CALL') };
        this.peer.send({ t: 'reply', id, body: encodeBody(err) });
      }
    };
    void (async () => this.#onCall(call.m, call.a))().then(
      (ok) => reply({ ok: ok === undefined ? null : ok }),
      (e: unknown) =>
        reply({
          err: String((e as Error)?.message ?? e),
          code:
            (e as { code?: unknown })?.code === undefined
              ? 'SLUICE_CLUSTER_CALL'
              : String((e as { code: unknown }).code),
        }),
    );
  }

  #settle(id: number, reply: Reply): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    if ('err' in reply) p.reject(new ClusterCallError(reply.code, reply.err));
    else p.resolve(reply.ok);
  }
}

type Reply = { ok: unknown } | { err: string; code: string };
