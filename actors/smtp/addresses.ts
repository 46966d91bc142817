import addressparser from 'nodemailer/lib/addressparser';
import { AlertConfigError } from './errors.ts';

/**
 * Parses an address list from configuration (ALERT_TO) into plain addresses, refusing anything else.
 *
 * CR/LF are stripped first, but stripping alone is not enough: `ops@x\r\nBcc: evil@y` becomes
 * `ops@x Bcc: evil@y`, which the address parser reads as a *group* named `ops@x Bcc` holding `evil@y`, and
 * nodemailer would then send to evil@y only. So the list must parse into plain `local@domain` addresses,
 * no groups, or it is refused.
 */
export function parseAddressList(field: string, value: string): string[] {
  const stripped = value.replace(/[\r\n\0]+/g, ' ').trim();
  const parsed = addressparser(stripped);
  const out: string[] = [];
  for (const a of parsed) {
    if ('group' in a) throw new AlertConfigError(field, value, 'plain addresses (no group or header syntax)');
    if (!/^[^\s@<>()",;:]+@[^\s@<>()",;:]+$/.test(a.address)) {
      throw new AlertConfigError(field, value, 'addresses of the form local@domain');
    }
    out.push(a.name ? `"${a.name.replace(/["\\]/g, '')}" <${a.address}>` : a.address);
  }
  if (out.length === 0) throw new AlertConfigError(field, value, 'at least one address');
  return out;
}
