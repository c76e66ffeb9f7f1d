import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../lib/config';
import { ProviderError, isNetworkError } from '../errors';

export interface OutgoingInvitation {
  from: { name: string; address: string };
  replyTo?: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  method: 'REQUEST' | 'CANCEL';
  ics: string;
}

const transports = new Map<string, Transporter>();

/** One transport per SMTP configuration; a connection per message, so nothing stale survives a server restart. */
function transportFor(mail: Config['mail']): Transporter {
  const key = JSON.stringify(mail);
  let transport = transports.get(key);
  if (!transport) {
    transport = nodemailer.createTransport({
      host: mail.host,
      port: mail.port,
      secure: mail.secure,
      auth: mail.user ? { user: mail.user, pass: mail.pass } : undefined,
      connectionTimeout: 10000,
      greetingTimeout: 10000,
      socketTimeout: 20000,
    });
    transports.set(key, transport);
  }
  return transport;
}

/**
 * Sends one invitation. nodemailer's `icalEvent` lays it out the way calendars expect:
 * multipart/mixed → multipart/alternative (text, HTML, `text/calendar; method=…`) + the `.ics`
 * as an `application/ics` base64 attachment. Its method must be set: it defaults to PUBLISH.
 */
export async function sendInvitationMail(
  mail: Config['mail'],
  message: OutgoingInvitation,
): Promise<{ response: string }> {
  try {
    const info = await transportFor(mail).sendMail({
      from: message.from,
      replyTo: message.replyTo,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      messageId: message.messageId,
      icalEvent: {
        method: message.method,
        content: message.ics,
        filename: message.method === 'CANCEL' ? 'cancel.ics' : 'invite.ics',
      },
    });
    return { response: String(info.response ?? '') };
  } catch (err) {
    throw classifySmtpError(err);
  }
}

/** SMTP replies: 4xx and an unreachable server are worth retrying, 5xx is final. */
export function classifySmtpError(err: unknown): ProviderError {
  const e = err as { code?: string; responseCode?: number; message?: string };
  const message = String(e?.message ?? err).slice(0, 500);
  if (typeof e?.responseCode === 'number') {
    const kind = e.responseCode >= 500 ? 'permanent' : 'retryable';
    return new ProviderError(kind, `smtp_${e.responseCode}`, message, e.responseCode);
  }
  if (
    e?.code === 'ESOCKET' ||
    e?.code === 'ECONNECTION' ||
    e?.code === 'ETIMEDOUT' ||
    e?.code === 'EDNS' ||
    isNetworkError(err)
  ) {
    return new ProviderError('retryable', 'smtp_connection', message);
  }
  if (e?.code === 'EAUTH') return new ProviderError('permanent', 'smtp_auth', message);
  if (e?.code === 'EENVELOPE') return new ProviderError('permanent', 'smtp_envelope', message);
  return new ProviderError('retryable', 'smtp_error', message);
}
