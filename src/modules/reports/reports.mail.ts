import nodemailer from 'nodemailer';
import type { Config } from '../../config.ts';

export interface ReportMail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  attachments: { filename: string; content: Buffer | string; contentType: string }[];
}

/** Sends report e-mails through SMTP_URL (null when unset: reports are then not e-mailed). */
export function createMailer(config: Pick<Config, 'SMTP_URL' | 'SMTP_FROM'>) {
  if (!config.SMTP_URL) return null;
  const url = config.SMTP_URL;
  return {
    async send(mail: ReportMail): Promise<void> {
      const transport = nodemailer.createTransport({ url, connectionTimeout: 10_000, socketTimeout: 30_000 });
      try {
        await transport.sendMail({ from: config.SMTP_FROM, ...mail });
      } finally {
        transport.close();
      }
    },
  };
}

export type Mailer = NonNullable<ReturnType<typeof createMailer>>;
