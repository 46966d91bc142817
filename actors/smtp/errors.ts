import { SluiceError } from '../../src/index.ts';

/**
 * An alert output's configuration is not usable (a recipient list that does not parse into plain
 * addresses, a Message-ID domain with other characters). Thrown by the constructor, so `dag.add` fails
 * before anything runs; a restart could not fix it.
 */
export class AlertConfigError extends SluiceError {
  readonly restartable = false;
  constructor(
    readonly field: string,
    readonly value: string,
    expected: string,
  ) {
    super(
      'SLUICE_ALERT_CONFIG',
      `alert output: ${field} ${JSON.stringify(value)} is not usable: expected ${expected}`,
    );
  }
}

/**
 * The SMTP server refused an alert for good (a 5xx reply: unknown recipient, authentication failed). Not
 * retried, and not restartable: the same message would be refused again. Fix the configuration and relaunch:
 * alerts acknowledged before it are in the outbox and are not sent again.
 */
export class SmtpRejectedError extends SluiceError {
  readonly restartable = false;
  constructor(
    readonly messageId: string,
    readonly responseCode: number,
    response: string,
    cause: unknown,
  ) {
    super(
      'SLUICE_SMTP_REJECTED',
      `SMTP server refused alert ${messageId} with ${responseCode}: ${response}`,
      {
        cause,
      },
    );
  }
}
