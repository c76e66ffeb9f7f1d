// Types and ids only: pure, importable by workflows, activities and the API.
import type { AppointmentSyncState } from '../../lib/syncState';

/** What calsync tells the CRM about, without personal data: ids, states, provider codes. */
export type WebhookEvent =
  | {
      type: 'appointment.sync_state_changed';
      data: {
        appointmentId: string;
        revision: number;
        state: AppointmentSyncState;
        targets: { targetKey: string; state: string; errorCode: string | null }[];
      };
    }
  | { type: 'link.needs_reauth'; data: { linkId: string; staffId: string; provider: string; reason: string } };

export interface WebhookDelivery {
  tenantId: string;
  deliveryId: string;
  createdAt: string;
  event: WebhookEvent;
}

export function webhookWorkflowId(tenantId: string, deliveryId: string): string {
  return `webhook:${tenantId}:${deliveryId}`;
}
