import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import {
  clientInvitationUid,
  invitationEnded,
  invitationHash,
  invitationMessageId,
  type InvitationMethod,
} from '../lib/clientInvitations';
import type { DesiredAppointment } from '../lib/types';
import { ProviderError, asProviderError } from '../providers/errors';
import { renderInvitation, type InvitationLanguage } from '../providers/email/invitation';
import { sendInvitationMail } from '../providers/email/smtp';
import { activityFailure } from './activityFailure';
import { isFinalAttempt, recordAttempt } from './attemptLog';
import type { ActivityDeps } from './deps';
import { syncAttempts, syncLagSeconds, syncRetries } from './metrics';
import type { PushInput } from './push';

export interface InvitationResult {
  outcome: 'sent' | 'unchanged';
  /** Whether the client's calendar holds the event now (a REQUEST was the last message sent). */
  remoteExists: boolean;
  /** Messages sent by this attempt (a changed address gets a CANCEL, then a REQUEST). */
  sent: { method: InvitationMethod; sequence: number }[];
}

interface InvitationRow {
  id: string;
  email: string;
  sequence: number;
  method: InvitationMethod;
  message_id: string;
  content_hash: string;
  sent_at: Date | null;
}

interface NextMessage {
  method: InvitationMethod;
  email: string;
  /** A REQUEST to an address that already holds the event. */
  update: boolean;
}

/** What the client's calendar still needs, given the last message that certainly went out. */
export function nextInvitationMessage(
  desired: DesiredAppointment,
  lastSent: Pick<InvitationRow, 'email' | 'method' | 'content_hash'> | undefined,
): NextMessage | undefined {
  if (invitationEnded(desired)) {
    return lastSent?.method === 'REQUEST' ? { method: 'CANCEL', email: lastSent.email, update: false } : undefined;
  }
  const email = desired.clientEmail!;
  // A new address: the old one loses the event first, so nobody keeps a stale copy.
  if (lastSent?.method === 'REQUEST' && lastSent.email.toLowerCase() !== email.toLowerCase()) {
    return { method: 'CANCEL', email: lastSent.email, update: false };
  }
  if (lastSent && lastSent.content_hash === invitationHash('REQUEST', email, desired)) return undefined;
  return { method: 'REQUEST', email, update: lastSent?.method === 'REQUEST' };
}

function parseFrom(from: string): { name: string; address: string } {
  const match = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(from);
  return match ? { name: match[1]!.trim(), address: match[2]!.trim() } : { name: '', address: from.trim() };
}

/**
 * Brings the client's e-mail invitation in step with the appointment: a REQUEST for a new or
 * changed visit, a CANCEL when it is cancelled or deleted, nothing when what the client sees is
 * unchanged. Exactly once in effect: every message sent is recorded in `client_invitations`
 * (SEQUENCE, Message-ID, content hash), checked before sending, so a retry after a success sends
 * nothing; the next SEQUENCE is the table's max + 1, whatever happened to the workflow.
 */
export async function sendClientInvitation(deps: ActivityDeps, input: PushInput): Promise<InvitationResult> {
  const { desired } = input;
  const attempt = Context.current().info.attempt;
  const startedAt = Date.now();
  const log = deps.logger.child({
    requestId: desired.requestId,
    appointmentId: desired.appointmentId,
    target: input.target.targetKey,
    revision: desired.revision,
    attempt,
  });
  if (attempt > 1) syncRetries.inc({ provider: 'email' });
  const action = invitationEnded(desired) ? 'cancel' : 'request';
  try {
    const result = await reconcileInvitation(deps, desired);
    await recordAttempt(deps, input, attempt, Date.now() - startedAt, {
      action: result.sent.at(-1)?.method.toLowerCase() ?? action,
      result: result.outcome,
      state: input.mode === 'remove' ? 'removed' : 'synced',
      remoteExists: result.remoteExists,
    });
    syncAttempts.inc({ provider: 'email', action, result: 'ok', code: 'none' });
    if (desired.acceptedAt && result.outcome === 'sent') {
      syncLagSeconds.observe({ provider: 'email' }, Math.max(0, Date.now() - Date.parse(desired.acceptedAt)) / 1000);
    }
    log.info(
      { outcome: result.outcome, sent: result.sent, durationMs: Date.now() - startedAt },
      'client invitation in step',
    );
    return result;
  } catch (err) {
    const failure = asProviderError(err);
    const final = isFinalAttempt(failure, attempt, input.maxAttempts);
    await recordAttempt(deps, input, attempt, Date.now() - startedAt, {
      action,
      result: 'error',
      state: final ? 'failed' : 'retrying',
      error: failure,
    });
    syncAttempts.inc({ provider: 'email', action, result: 'error', code: failure.code });
    log.warn({ code: failure.code, status: failure.status, final }, 'client invitation failed');
    throw activityFailure(failure);
  }
}

async function reconcileInvitation(deps: ActivityDeps, desired: DesiredAppointment): Promise<InvitationResult> {
  const { db, config } = deps;
  const key = { tenant_id: desired.tenantId, appointment_id: desired.appointmentId };
  const zone = desired.locationTimeZone;
  // The workflow checks these first and logs a warning instead; this is the last line of defence.
  if (!zone || (!invitationEnded(desired) && !desired.clientEmail)) {
    throw new ProviderError(
      'permanent',
      'invitation_incomplete',
      'a client invitation needs the location time zone and the client e-mail',
    );
  }
  const tenant = await db('tenants').where({ id: desired.tenantId }).first('name', 'settings');
  const settings = tenant?.settings ?? {};
  const from = parseFrom(config.mail.from);
  const businessName: string = settings.businessName || tenant?.name || from.name || 'calsync';
  const organizerEmail: string = settings.organizerEmail || from.address;
  const language: InvitationLanguage = settings.language === 'es' ? 'es' : 'en';
  const uid = clientInvitationUid(desired.tenantId, desired.appointmentId);

  const sent: InvitationResult['sent'] = [];
  // At most a CANCEL to an old address, then a REQUEST to the new one.
  for (let round = 0; round < 3; round++) {
    // One message per transaction, under a per-appointment lock: read what went out, reserve the
    // next SEQUENCE, send, stamp, commit. A concurrent attempt waits and then finds it sent; a crash
    // after the SMTP answer rolls the reservation back and the retry sends the same SEQUENCE with
    // the same Message-ID, which receivers treat as the same message.
    const step = await db.transaction(async (trx: Knex.Transaction) => {
      await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [
        `client_invitation:${desired.tenantId}:${desired.appointmentId}`,
      ]);
      const latest: InvitationRow | undefined = await trx('client_invitations')
        .where(key)
        .orderBy('sequence', 'desc')
        .first();
      const lastSent: InvitationRow | undefined = await trx('client_invitations')
        .where(key)
        .whereNotNull('sent_at')
        .orderBy('sequence', 'desc')
        .first();
      const next = nextInvitationMessage(desired, lastSent);
      if (!next) return { done: true as const, remoteExists: lastSent?.method === 'REQUEST' };
      const sequence = latest ? Number(latest.sequence) + 1 : 0;
      const messageId = invitationMessageId(
        desired.tenantId,
        desired.appointmentId,
        sequence,
        next.method,
        from.address,
      );
      await trx('client_invitations').insert({
        ...key,
        email: next.email,
        uid,
        sequence,
        method: next.method,
        message_id: messageId,
        content_hash: invitationHash(next.method, next.email, desired),
        revision: desired.revision,
      });
      const rendered = renderInvitation({
        method: next.method,
        update: next.update,
        uid,
        sequence,
        desired,
        timeZone: zone,
        businessName,
        organizerEmail,
        sentBy: from.address,
        attendeeEmail: next.email,
        language,
      });
      await sendInvitationMail(config.mail, {
        from: { name: businessName, address: from.address },
        replyTo: organizerEmail !== from.address ? organizerEmail : undefined,
        to: next.email,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        messageId,
        method: next.method,
        ics: rendered.ics,
      });
      await trx('client_invitations')
        .where({ ...key, sequence })
        .update({ sent_at: trx.fn.now() });
      return { done: false as const, method: next.method, sequence };
    });
    if (step.done) return { outcome: sent.length ? 'sent' : 'unchanged', remoteExists: step.remoteExists, sent };
    sent.push({ method: step.method, sequence: step.sequence });
  }
  throw new ProviderError(
    'retryable',
    'invitation_unsettled',
    'the invitation needed more messages than expected; trying again',
  );
}
