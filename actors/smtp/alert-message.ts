import { createHash } from 'node:crypto';
import type Mail from 'nodemailer/lib/mailer';
import type { Alert } from '../machine-data/types.ts';
import { parseAddressList } from './addresses.ts';
import { AlertConfigError } from './errors.ts';

/** What SmtpAlert and MailboxAlert share: who the alert goes to and how its Message-ID is made. */
export interface AlertMessageProps {
  /** Recipients, as ALERT_TO: `ops@example.com` or `a@x, Name <b@y>`. Default `alerts@localhost`. */
  to?: string;
  /** Sender. Default `sluice@localhost`. */
  from?: string;
  /**
   * The right-hand side of every Message-ID. Default `sluice.invalid`. Two deployments of the same
   * application that mail the same inbox should differ here, or their alerts share ids.
   */
  messageIdDomain?: string;
}

/** Recipients and sender checked once, in the constructor (so a bad ALERT_TO fails the DAG, not a window). */
export interface AlertAddressing {
  to: string[];
  from: string;
  domain: string;
}

const DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

export function alertAddressing(props: AlertMessageProps): AlertAddressing {
  const to = parseAddressList('to', props.to ?? 'alerts@localhost');
  const from = parseAddressList('from', props.from ?? 'sluice@localhost');
  if (from.length !== 1) throw new AlertConfigError('from', props.from ?? '', 'exactly one sender address');
  const domain = props.messageIdDomain ?? 'sluice.invalid';
  if (!DOMAIN.test(domain))
    throw new AlertConfigError('messageIdDomain', domain, 'a domain name (letters, digits, dots, dashes)');
  return { to, from: from[0]!, domain };
}

/**
 * A header value with CR, LF and NUL replaced by spaces: a value that came from data (a key field) or from
 * configuration can never end the header and start another one. (nodemailer folds headers itself; this
 * does not rely on it.)
 */
export function headerValue(value: string): string {
  return value.replace(/[\r\n\0]+/g, ' ');
}

/**
 * The id part of a Message-ID, deterministic in application, window, resource and key, and made only of
 * letters, digits, dots and dashes (valid as RFC 5322 dot-atom text and as a file name): the key is
 * hashed, since it may hold any character, and sent readable in `X-Sluice-Key`.
 */
export function alertId(application: string, alert: Alert): string {
  const app = application.replace(/[^A-Za-z0-9-]+/g, '-') || 'app';
  const resource = String(alert.resource).replace(/[^A-Za-z0-9-]+/g, '-');
  const key = createHash('sha256').update(alert.key).digest('hex').slice(0, 24);
  return `${app}.w${alert.window}.${resource}.${key}`;
}

export function alertMessageId(application: string, alert: Alert, domain: string): string {
  return `<${alertId(application, alert)}@${domain}>`;
}

/** When the readings were taken: the alert's day and minute (never the wall clock, so a resend is identical). */
function alertDate(alert: Alert): Date {
  return new Date(alert.day * 86_400_000 + alert.minute * 60_000);
}

function percent(n: number): string {
  return `${Math.round(n * 100) / 100}%`;
}

/** The message of one alert: the same headers whether it is sent (SmtpAlert) or filed (MailboxAlert). */
export function alertMail(application: string, alert: Alert, addressing: AlertAddressing): Mail.Options {
  const fields = Object.entries(alert.fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const time = alertDate(alert).toISOString().slice(0, 16).replace('T', ' ');
  return {
    from: addressing.from,
    to: addressing.to,
    envelope: { from: addressing.from, to: addressing.to },
    messageId: alertMessageId(application, alert, addressing.domain),
    date: alertDate(alert),
    subject: headerValue(
      `[${application}] ${alert.resource} ${percent(alert.usage)} above ${percent(alert.threshold)}: ${alert.key}`,
    ),
    headers: {
      'X-Sluice-Application': headerValue(application),
      'X-Sluice-Window': String(alert.window),
      'X-Sluice-Resource': headerValue(String(alert.resource)),
      'X-Sluice-Key': headerValue(alert.key),
    },
    text:
      `Average ${alert.resource} usage ${percent(alert.usage)} is above the threshold of ${percent(alert.threshold)}.\n\n` +
      `time:        ${time} UTC (day ${alert.day}, minute ${alert.minute})\n` +
      `key:         ${alert.key}\n` +
      `dimensions:  ${fields || '(all)'}\n` +
      `window:      ${alert.window}\n` +
      `application: ${application}\n`,
  };
}
