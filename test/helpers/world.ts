import knex, { type Knex } from 'knex';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../lib/config';
import { calsyncDataConverter } from '../../lib/payloadCodec';
import { appointmentBody, call, createTenant, waitUntil, type AppointmentInput } from './api';
import { googleEmulator, microsoftEmulator } from './emulator';

/** One tenant's view of the stack, with the steps most tests repeat. */
export class TenantWorld {
  constructor(
    readonly apiUrl: string,
    readonly tenantId: string,
    readonly key: string,
    /** A Temporal client with the stack's payload keys, when they are not the suite's default ones. */
    private readonly temporal?: Client,
  ) {}

  static async create(apiUrl: string, settings: Record<string, unknown> = {}, temporal?: Client): Promise<TenantWorld> {
    const { tenantId, key } = await createTenant(apiUrl, settings);
    return new TenantWorld(apiUrl, tenantId, key, temporal);
  }

  call(method: string, path: string, body?: unknown) {
    return call(this.apiUrl, method, path, { key: this.key, body });
  }

  /** A staff member with a linked (emulated) Google account; returns the calendar id. */
  async staffWithGoogle(staffId: string): Promise<{ staffId: string; email: string; calendarId: string }> {
    const staff = await this.call('PUT', `/v1/staff/${staffId}`, { name: `Staff ${staffId}` });
    if (staff.status !== 200) throw new Error(`staff: ${staff.status} ${JSON.stringify(staff.body)}`);
    const user = await googleEmulator.createUser(staffId);
    const link = await this.call('POST', `/v1/staff/${staffId}/links/google`, {
      accountEmail: user.email,
      refreshToken: user.refreshToken,
    });
    if (link.status !== 201) throw new Error(`link: ${link.status} ${JSON.stringify(link.body)}`);
    await this.linkConnected(link.body.id);
    return { staffId, email: user.email, calendarId: user.email };
  }

  /** A staff member with a linked (emulated) Microsoft 365 mailbox; events go to its default calendar. */
  async staffWithMicrosoft(
    staffId: string,
  ): Promise<{ staffId: string; email: string; calendarId: string; linkId: string; refreshToken: string }> {
    const staff = await this.call('PUT', `/v1/staff/${staffId}`, { name: `Staff ${staffId}` });
    if (staff.status !== 200) throw new Error(`staff: ${staff.status} ${JSON.stringify(staff.body)}`);
    const user = await microsoftEmulator.createUser(staffId);
    const link = await this.call('POST', `/v1/staff/${staffId}/links/microsoft`, {
      accountEmail: user.email,
      refreshToken: user.refreshToken,
    });
    if (link.status !== 201) throw new Error(`link: ${link.status} ${JSON.stringify(link.body)}`);
    await this.linkConnected(link.body.id);
    return {
      staffId,
      email: user.email,
      calendarId: link.body.calendarId,
      linkId: link.body.id,
      refreshToken: user.refreshToken,
    };
  }

  /** Waits for a new link's backfill to finish, so it cannot race the test's own first changes. */
  async linkConnected(linkId: string): Promise<void> {
    const handle = (this.temporal ?? (await temporalClient())).workflow.getHandle(`link:${this.tenantId}:${linkId}`);
    await waitUntil(
      'link backfill',
      async () => (await handle.query<{ phase: string }>('linkProgress')).phase === 'connected',
      20000,
      50,
    );
  }

  async put(appointmentId: string, input: AppointmentInput, dayOffset?: number) {
    return this.call('PUT', `/v1/appointments/${appointmentId}`, appointmentBody(input, dayOffset));
  }

  async status(appointmentId: string) {
    return (await this.call('GET', `/v1/appointments/${appointmentId}`)).body;
  }

  /** Waits until every target of the appointment has applied `revision` (or removed the event). */
  async waitSynced(appointmentId: string, revision: number, timeoutMs = 30000) {
    return waitUntil(
      `appointment ${appointmentId} synced at revision ${revision}`,
      async () => {
        const s = await this.status(appointmentId);
        const done =
          s?.revision === revision &&
          s.sync.state === 'synced' &&
          s.sync.targets.every(
            (t: any) => t.state === 'removed' || (t.state === 'synced' && t.appliedRevision === revision),
          );
        return done ? s : undefined;
      },
      timeoutMs,
    );
  }
}

let db: Knex | undefined;
export function testDb(): Knex {
  db ??= knex({ client: 'pg', connection: process.env.DATABASE_URL!, pool: { min: 0, max: 4 } });
  return db;
}

let temporal: Client | undefined;
export async function temporalClient(): Promise<Client> {
  // The same encrypting codec as the API and the workers, so tests read decoded payloads.
  temporal ??= new Client({
    connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }),
    dataConverter: calsyncDataConverter(loadConfig().payloadKeys),
  });
  return temporal;
}

export async function closeTestClients(): Promise<void> {
  await db?.destroy();
  db = undefined;
  await temporal?.connection.close();
  temporal = undefined;
}
