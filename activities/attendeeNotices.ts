import { createHash } from 'node:crypto';
import type { EventContent } from '../providers/types';
import type { ActivityDeps } from './deps';

interface NoticeKey {
  tenantId: string;
  appointmentId: string;
  targetKey: string;
}

/** What attendees care about hearing of: when, where, who, and whether it is off. Not the title or notes. */
export function attendeeFingerprint(content: EventContent): string {
  const who = (content.attendees ?? []).map((a) => a.email.toLowerCase()).sort();
  return createHash('sha256')
    .update(
      JSON.stringify([
        content.start,
        content.end,
        content.allDay ?? false,
        content.location ?? '',
        who,
        content.cancelled,
      ]),
    )
    .digest('hex');
}

const where = (key: NoticeKey) => ({
  tenant_id: key.tenantId,
  appointment_id: key.appointmentId,
  target_key: key.targetKey,
});

/**
 * Whether a write that may tell attendees should: only when something they care about changed
 * since they were last told (or, on removal, when they were ever told).
 */
export async function attendeesNeedTelling(
  deps: ActivityDeps,
  key: NoticeKey,
  content: EventContent | undefined,
): Promise<boolean> {
  const row = await deps.db('attendee_notices').where(where(key)).first('fingerprint');
  if (!content) return row !== undefined;
  return row?.fingerprint !== attendeeFingerprint(content);
}

/** After a write that told attendees: remember what they know (nothing, once the event is gone). */
export async function recordAttendeeNotice(
  deps: ActivityDeps,
  key: NoticeKey,
  content: EventContent | undefined,
): Promise<void> {
  if (!content) {
    await deps.db('attendee_notices').where(where(key)).delete();
    return;
  }
  await deps
    .db('attendee_notices')
    .insert({ ...where(key), fingerprint: attendeeFingerprint(content), notified_at: deps.db.fn.now() })
    .onConflict(['tenant_id', 'appointment_id', 'target_key'])
    .merge();
}
