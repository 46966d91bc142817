import { createTransport } from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { startSmtpServer } from '../../setup/smtp-server.ts';

const mail = (id: string) => ({
  from: 'a@example.test',
  to: 'b@example.test',
  subject: 'subject',
  text: 'body',
  messageId: `<${id}@example.test>`,
});

describe('the test SMTP server (test/setup/smtp-server.ts)', () => {
  it('records accepted messages, refuses on demand, and comes back on the same port', async () => {
    const smtp = await startSmtpServer();
    const transport = createTransport({ url: smtp.url, ignoreTLS: true } as Parameters<
      typeof createTransport
    >[0]);
    try {
      smtp.refuseNext(1);
      await expect(transport.sendMail(mail('1'))).rejects.toMatchObject({ responseCode: 451 });
      await transport.sendMail(mail('1'));
      await transport.sendMail(mail('1'));
      const [first] = await smtp.waitFor(2);
      expect(first).toMatchObject({
        messageId: '<1@example.test>',
        subject: 'subject',
        rcptTo: ['b@example.test'],
      });
      expect(first!.text.trim()).toBe('body');
      expect(smtp.countByMessageId()).toEqual(new Map([['<1@example.test>', 2]]));
    } finally {
      await smtp.stop();
    }
    await expect(transport.sendMail(mail('2'))).rejects.toMatchObject({ code: 'ESOCKET' });
    const again = await startSmtpServer({ port: smtp.port });
    try {
      await transport.sendMail(mail('2'));
      expect(again.messages.map((m) => m.messageId)).toEqual(['<2@example.test>']);
    } finally {
      transport.close();
      await again.stop();
    }
  });
});
