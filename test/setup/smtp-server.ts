/**
 * A real SMTP server on loopback for tests (smtp-server + mailparser), no mocks.
 *
 *     const smtp = await startSmtpServer();          // 127.0.0.1, a free port
 *     // point the app at smtp.url ('smtp://127.0.0.1:PORT'); nodemailer needs ignoreTLS: true
 *     await smtp.waitFor(3);                           // resolves once 3 messages were accepted
 *     smtp.messages[0].messageId;                      // '<…>' as sent, plus headers, subject, text, raw
 *     smtp.countByMessageId();                         // Map Message-ID → times delivered (duplicates > 1)
 *     smtp.refuseNext(2);                              // the next 2 DATA commands get a 451 (or a code given)
 *     await smtp.stop();                               // closes the listener and any open connections
 *     const again = await startSmtpServer({ port: smtp.port }); // "SMTP back up" on the same port
 *     startSmtpServer({ beforeReply: (mail, n) => … });  // runs after acceptance, before the 250 is sent
 *
 * A message is recorded when the server accepts it (after its 250 reply is decided, before it is sent):
 * what the client saw acknowledged is in `messages`, and a message the client retries after a refusal
 * appears once per acceptance — so duplicates are visible, not hidden.
 */
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** The Message-ID header as sent, with its angle brackets. */
  messageId: string;
  subject: string;
  from: string;
  /** Envelope recipients (RCPT TO). */
  rcptTo: string[];
  /** Header lines, lower-case names (mailparser's map). */
  headers: ParsedMail['headers'];
  /** The raw header block, to check that no header was injected. */
  rawHeaders: string;
  text: string;
  raw: string;
}

export interface TestSmtpServer {
  readonly port: number;
  /** `smtp://127.0.0.1:PORT` */
  readonly url: string;
  /** Every accepted message, in acceptance order (kept across refusals). */
  readonly messages: ReceivedMail[];
  /** Resolves with the messages once at least `n` were accepted; rejects after `timeoutMs` (default 20 s). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** How many times each Message-ID was accepted. */
  countByMessageId(): Map<string, number>;
  /** Refuses the next `n` messages with `code` (default 451: a transient failure the client should retry). */
  refuseNext(n: number, code?: number): void;
  stop(): Promise<void>;
}

export interface SmtpServerOptions {
  /** Listen on this port (to bring a stopped server back on the same URL). Default: a free port. */
  port?: number;
  /**
   * Called once a message is accepted and recorded, before its 250 reply is sent (awaited): a test can
   * SIGKILL the client there, between the server's acceptance and the client seeing it.
   */
  beforeReply?: (mail: ReceivedMail, accepted: number) => void | Promise<void>;
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let refuse = 0;
  let refuseCode = 451;

  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    closeTimeout: 50,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', callback);
      stream.on('end', () => {
        if (refuse > 0) {
          refuse--;
          const err = new Error('Try again later') as Error & { responseCode: number };
          err.responseCode = refuseCode;
          callback(err);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((parsed) => {
            const headerEnd = raw.search(/\r?\n\r?\n/);
            const mail: ReceivedMail = {
              messageId: parsed.messageId ?? '',
              subject: parsed.subject ?? '',
              from: parsed.from?.text ?? '',
              rcptTo: session.envelope.rcptTo.map((a) => a.address),
              headers: parsed.headers,
              rawHeaders: headerEnd < 0 ? raw : raw.slice(0, headerEnd),
              text: parsed.text ?? '',
              raw,
            };
            messages.push(mail);
            return options.beforeReply?.(mail, messages.length);
          })
          .then(
            () => {
              callback();
              for (const w of waiters) w();
            },
            (e: unknown) => callback(e as Error),
          );
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A client resetting its connection must not kill the test process.
  server.on('error', () => {});
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitFor(n, timeoutMs = 20_000) {
      if (messages.length >= n) return Promise.resolve(messages);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < n) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(messages);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`SMTP test server: ${messages.length} of ${n} messages after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    countByMessageId() {
      const counts = new Map<string, number>();
      for (const m of messages) counts.set(m.messageId, (counts.get(m.messageId) ?? 0) + 1);
      return counts;
    },
    refuseNext(n, code = 451) {
      refuse = n;
      refuseCode = code;
    },
    stop() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
