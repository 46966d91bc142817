/** The applications of the alert output tests: a deterministic stream of Alerts into one alert output. */
import { MapOperator, SequenceSource } from '../../../actors/index.ts';
import type { Alert } from '../../../actors/machine-data/types.ts';
import { MailboxAlert, type MailboxAlertProps } from '../../../actors/smtp/mailbox-alert.ts';
import { SmtpAlert, type SmtpAlertProps } from '../../../actors/smtp/smtp-alert.ts';
import { application } from '../../../src/index.ts';

const RESOURCES = ['cpu', 'ram', 'hdd'] as const;

/** Alert number n: a key of its own, so every n has its own Message-ID. */
export function alertOf(n: number): Alert {
  const minute = n % 1440;
  return {
    key: `device=${n}|day=20000|minute=${minute}`,
    fields: { device: n },
    day: 20000,
    minute,
    window: Math.floor(n / 3) + 1,
    resource: RESOURCES[n % 3]!,
    usage: 70.5 + (n % 29),
    threshold: 70,
  };
}

export interface AlertAppOptions {
  perWindow?: number;
  checkpointWindowCount?: number;
  /** The alerts operator throws once, at alert number `n` (an operator failure upstream of the output). */
  failOnce?: { n: number; failed: boolean };
}

function alertFn(o: AlertAppOptions): (n: number) => Alert {
  const f = o.failOnce;
  if (!f) return alertOf;
  return (n) => {
    if (n === f.n && !f.failed) {
      f.failed = true;
      throw new Error(`injected: alerts fail once, at alert ${n}`);
    }
    return alertOf(n);
  };
}

export function smtpAlertApp(props: SmtpAlertProps, o: AlertAppOptions = {}) {
  return application(
    'alerts',
    (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: o.perWindow ?? 3, batch: 2 });
      const alerts = dag.add('alerts', MapOperator<number, Alert>, { fn: alertFn(o) });
      const mail = dag.add('mail', SmtpAlert, props);
      dag.stream('numbers', src.out, alerts.in).locality('thread');
      dag.stream('alerts', alerts.out, mail.in);
    },
    { checkpointWindowCount: o.checkpointWindowCount ?? 5 },
  );
}

export function mailboxAlertApp(props: MailboxAlertProps, o: { perWindow?: number } = {}) {
  return application(
    'alerts',
    (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: o.perWindow ?? 3, batch: 2 });
      const alerts = dag.add('alerts', MapOperator<number, Alert>, { fn: alertOf });
      const mail = dag.add('mail', MailboxAlert, props);
      dag.stream('numbers', src.out, alerts.in).locality('thread');
      dag.stream('alerts', alerts.out, mail.in);
    },
    { checkpointWindowCount: 5 },
  );
}
