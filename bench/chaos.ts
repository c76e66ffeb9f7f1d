import ICAL from 'ical.js';
import { appointmentTrail } from './appointmentTrail';
import { jsonCall, seedTenant, seededRandom, startPrivateStack, type PrivateStack } from './harness';

/**
 * Chaos convergence: random operations over many appointments (creates, bursts, reassignments,
 * cancels, deletes, out-of-order revisions) while the emulator fails, throttles, times out and
 * "applies then fails", workers are SIGKILLed and restarted, Temporal restarts once (and PostgreSQL,
 * when asked). Two API processes and two workers, on the engine `engine=` or CALSYNC_ENGINE names.
 * Then every calendar is compared with the desired state. With `caldavStaff=N`, the last N staff
 * members have CalDAV calendars on a real Radicale instead, behind the fault proxy
 * (emulators/caldav-proxy) failing the same way.
 *   npm run chaos [-- appointments=300 operations=3000 kills=4 seed=1 engine=server restartPostgres=true caldavStaff=2]
 */
export interface ChaosOptions {
  appointments: number;
  operations: number;
  staff: number;
  kills: number;
  restartTemporal: boolean;
  /** Restart the local PostgreSQL cluster once, a quarter of the way in (other runs on it feel it too). */
  restartPostgres?: boolean;
  seed: number;
  concurrency: number;
  /** Staff members (of `staff`) whose calendars are CalDAV (Radicale); the stack needs `caldav: true`. */
  caldavStaff?: number;
  log?: (line: string) => void;
}

export interface ChaosResult {
  operations: number;
  missing: number;
  duplicated: number;
  stale: number;
  orphaned: number;
  convergeS: number;
  apiRetries: number;
}

interface Desired {
  revision: number;
  staffIds: string[];
  cancelled: boolean;
  deleted: boolean;
  title: string;
}

type Op = {
  appointmentId: string;
  revision: number;
  kind: 'put' | 'cancel' | 'delete';
  staffIds: string[];
  title: string;
};

function day(offset: number) {
  return new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
}

/** Generates the operations and the model of what every appointment must look like in the end. */
function plan(opts: ChaosOptions, staffIds: string[]) {
  const random = seededRandom(opts.seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const someStaff = () => {
    const first = pick(staffIds);
    const second = random() < 0.3 ? pick(staffIds) : first;
    return [...new Set([first, second])];
  };
  const model = new Map<string, Desired>();
  const batches: Op[][] = [];
  const next = (id: string, kind: Op['kind'], staff?: string[]): Op => {
    const prev = model.get(id);
    const revision = (prev?.revision ?? 0) + 1;
    const staffFor = staff ?? prev?.staffIds ?? someStaff();
    const title = `${id} r${revision}`;
    const wasDeleted = prev?.deleted ?? false;
    model.set(id, {
      revision,
      staffIds: staffFor,
      title: kind === 'put' ? title : prev!.title,
      cancelled: kind === 'cancel' || (kind !== 'put' && (prev?.cancelled ?? false)),
      deleted: kind === 'delete' || (kind !== 'put' && wasDeleted),
    });
    return { appointmentId: id, revision, kind, staffIds: staffFor, title: kind === 'put' ? title : prev!.title };
  };
  let count = 0;
  while (count < opts.operations) {
    const id = `c${Math.floor(random() * opts.appointments)}`;
    const exists = model.has(id);
    const roll = random();
    let batch: Op[];
    if (!exists || roll < 0.35) batch = [next(id, 'put')];
    else if (roll < 0.55) batch = Array.from({ length: 3 + Math.floor(random() * 8) }, () => next(id, 'put'));
    else if (roll < 0.7) batch = [next(id, 'put', someStaff())];
    else if (roll < 0.8) {
      // Out of order: the later revision is sent first.
      const a = next(id, 'put');
      const b = next(id, 'put', someStaff());
      batch = [b, a];
    } else if (roll < 0.9) batch = [next(id, 'cancel')];
    else batch = [next(id, 'delete')];
    batches.push(batch);
    count += batch.length;
  }
  return { model, batches, count };
}

/** Retries that outlast the chaos (and a short activity timeout, so killed attempts return soon). */
export const chaosWorkerEnv = {
  // A write sent by a worker that is then killed can land after the appointment's next revision
  // removed the event (the request was still in the provider's hands): reconciliation's orphan sweep
  // is what takes it out again, at test scale here instead of hourly with ten minutes' grace.
  RECONCILE_INTERVAL_MS: '20000',
  RECONCILE_ORPHAN_GRACE_MS: '15000',
  SYNC_ACTIVITY_MAX_ATTEMPTS: '200',
  SYNC_ACTIVITY_INITIAL_RETRY_MS: '200',
  SYNC_ACTIVITY_MAX_RETRY_MS: '3000',
  SYNC_ACTIVITY_TIMEOUT_MS: '8000',
};

export async function runChaos(opts: ChaosOptions, existing?: PrivateStack): Promise<ChaosResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const stack =
    existing ??
    (await startPrivateStack({
      name: 'chaos',
      env: chaosWorkerEnv,
      apis: 2,
      workers: 2,
      ownTemporal: opts.restartTemporal,
      caldav: (opts.caldavStaff ?? 0) > 0,
    }));
  try {
    const { apiKey, staff } = await seedTenant(stack, 'chaos', opts.staff, { caldavStaff: opts.caldavStaff });
    const { model, batches, count } = plan(
      opts,
      staff.map((s) => s.id),
    );
    // The CRM's requests spread over the API processes, as a load balancer would spread them.
    let nextApi = 0;
    const apiUrl = () => stack.apiUrls[nextApi++ % stack.apiUrls.length]!;
    const faults = {
      errorRate: 0.1,
      errorStatuses: [500, 503, 429],
      retryAfterSeconds: 1,
      applyThenFail: 0.05,
      timeoutRate: 0.01,
      timeoutMs: 10000,
    };
    await jsonCall(`${stack.emulatorUrl}/_emulator/faults`, 'POST', faults);
    if (stack.caldav) await jsonCall(`${stack.caldav.proxyUrl}/_emulator/faults`, 'POST', faults);
    log(
      `chaos: ${count} operations over ${model.size} appointments and ${staff.length} staff calendars (seed ${opts.seed}); engine ${stack.engine}, ${stack.apiUrls.length} API and ${stack.workerCount} worker processes`,
    );

    let apiRetries = 0;
    // A CRM retries until its change is accepted: a 5xx or a refused connection is not an answer.
    async function send(op: Op): Promise<void> {
      const d = day(1 + (op.revision % 20));
      for (let attempt = 0; ; attempt++) {
        const api = apiUrl();
        let res: { status: number };
        try {
          if (op.kind === 'put') {
            res = await jsonCall(
              `${api}/v1/appointments/${op.appointmentId}`,
              'PUT',
              {
                revision: op.revision,
                start: `${d}T09:00:00`,
                end: `${d}T10:00:00`,
                timeZone: 'Europe/Madrid',
                title: op.title,
                staffIds: op.staffIds,
              },
              apiKey,
            );
          } else if (op.kind === 'cancel') {
            res = await jsonCall(
              `${api}/v1/appointments/${op.appointmentId}/cancel`,
              'POST',
              { revision: op.revision },
              apiKey,
            );
          } else {
            res = await jsonCall(
              `${api}/v1/appointments/${op.appointmentId}?revision=${op.revision}`,
              'DELETE',
              undefined,
              apiKey,
            );
          }
        } catch {
          res = { status: 599 };
        }
        if (res.status === 202) return;
        // 404: a cancel overtook the create it follows; it lands once the create has.
        if (res.status >= 500 || res.status === 404 || res.status === 429) {
          apiRetries++;
          await new Promise((r) => setTimeout(r, Math.min(2000, 100 * (attempt + 1))));
          continue;
        }
        throw new Error(`operation ${JSON.stringify(op)} answered ${res.status}`);
      }
    }

    // Disruptions spread over the run: worker kills, and one Temporal restart half way.
    const queue = [...batches];
    const total = batches.length;
    // One disruption at a time: a kill never lands on a worker that is still being restarted.
    let disruptions = Promise.resolve();
    const killAt = new Set(
      Array.from({ length: opts.kills }, (_, i) => Math.floor(((i + 1) * total) / (opts.kills + 2))),
    );
    const restartAt = opts.restartTemporal ? Math.floor(total / 2) + 1 : -1;
    const restartPostgresAt = opts.restartPostgres ? Math.floor(total / 4) + 1 : -1;
    let done = 0;
    const runner = async () => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        const index = total - queue.length;
        if (killAt.has(index)) {
          killAt.delete(index);
          disruptions = disruptions.then(async () => {
            log(`chaos: SIGKILL worker ${stack.workerPid()} after ${index} batches`);
            await stack.killWorker();
            await new Promise((r) => setTimeout(r, 1500));
            await stack.startWorker();
          });
        }
        if (index === restartAt) {
          disruptions = disruptions.then(async () => {
            log(`chaos: restarting Temporal (${stack.engine}) after ${index} batches`);
            await stack.restartTemporal(1500);
          });
        }
        if (index === restartPostgresAt) {
          disruptions = disruptions.then(async () => {
            log(`chaos: restarting PostgreSQL after ${index} batches`);
            await stack.restartPostgres();
          });
        }
        // A batch is one appointment's burst: sent back to back, in the order generated.
        for (const op of batch) await send(op);
        done++;
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, runner));
    await disruptions;
    const lastOpAt = Date.now();
    log(
      `chaos: all ${count} operations accepted (${done} batches, ${apiRetries} API retries); healing faults and waiting to converge`,
    );
    await jsonCall(`${stack.emulatorUrl}/_emulator/faults`, 'DELETE');
    if (stack.caldav) await jsonCall(`${stack.caldav.proxyUrl}/_emulator/faults`, 'DELETE');

    let diff = await compare(stack, staff, model);
    const deadline = Date.now() + 300_000;
    while (!diff.converged && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      diff = await compare(stack, staff, model);
    }
    const convergeS = (Date.now() - lastOpAt) / 1000;
    // What is still wrong, by appointment and calendar: where to start reading the logs.
    for (const line of diff.details.slice(0, 20)) log(`chaos: ${line}`);
    // And what the first few of those appointments' workflows did (the stack is gone after this).
    const wrong = [...new Set(diff.details.map((line) => line.split(' ')[1]!))].slice(0, 3);
    for (const id of wrong) {
      const trail = await appointmentTrail(stack, 'chaos', id).catch((err) => [`${id}: ${err}`]);
      log(trail.map((line) => `chaos: ${line}`).join('\n'));
    }
    return {
      operations: count,
      missing: diff.missing,
      duplicated: diff.duplicated,
      stale: diff.stale,
      orphaned: diff.orphaned,
      convergeS,
      apiRetries,
    };
  } finally {
    if (!existing) await stack.stop();
  }
}

/** Every staff calendar against the model: what is missing, doubled, out of date, or should not be there. */
async function compare(
  stack: PrivateStack,
  staff: { id: string; email: string; caldav?: { username: string; password: string } }[],
  model: Map<string, Desired>,
) {
  let missing = 0;
  let duplicated = 0;
  let stale = 0;
  let orphaned = 0;
  const details: string[] = [];
  for (const s of staff) {
    const live = s.caldav ? await caldavEvents(stack, s.caldav) : await googleEvents(stack, s.email);
    const byAppointment = new Map<string, typeof live>();
    for (const e of live) {
      const id = e.tag?.split(':')[1] ?? '?';
      byAppointment.set(id, [...(byAppointment.get(id) ?? []), e]);
    }
    for (const [id, desired] of model) {
      const wanted = !desired.deleted && !desired.cancelled && desired.staffIds.includes(s.id);
      const events = byAppointment.get(id) ?? [];
      byAppointment.delete(id);
      if (events.length > 1) duplicated += events.length - 1;
      if (events.length > 1) details.push(`duplicated ${id} on ${s.id}`);
      if (!wanted) {
        orphaned += events.length;
        if (events.length > 0)
          details.push(`orphaned ${id} on ${s.id}: ${events[0]!.summary}, wanted ${JSON.stringify(desired)}`);
        continue;
      }
      if (events.length === 0) {
        missing++;
        details.push(`missing ${id} on ${s.id}: ${desired.title}`);
      } else if (events[0]!.summary !== desired.title) {
        stale++;
        details.push(`stale ${id} on ${s.id}: ${events[0]!.summary}, wanted ${desired.title}`);
      }
    }
    for (const [id, events] of byAppointment) {
      orphaned += events.length;
      details.push(`orphaned ${id} on ${s.id}: not in the model`);
    }
  }
  return {
    missing,
    duplicated,
    stale,
    orphaned,
    details,
    converged: missing + duplicated + stale + orphaned === 0,
  };
}

/** The one-line summary, the same from `npm run chaos` and the test. */
export function chaosLine(r: ChaosResult): string {
  return `chaos: operations=${r.operations} missing=${r.missing} duplicated=${r.duplicated} stale=${r.stale} orphaned=${r.orphaned} converge_s=${r.convergeS.toFixed(1)}`;
}

interface LiveEvent {
  summary: string;
  /** calsync's tag of the appointment (`tenant:appointment`). */
  tag?: string;
}

async function googleEvents(stack: PrivateStack, email: string): Promise<LiveEvent[]> {
  const { body } = await jsonCall(`${stack.emulatorUrl}/_emulator/calendars/${encodeURIComponent(email)}/events`);
  return (
    body.items as { status: string; summary: string; extendedProperties?: { private?: Record<string, string> } }[]
  )
    .filter((e) => e.status !== 'cancelled')
    .map((e) => ({ summary: e.summary, tag: e.extendedProperties?.private?.calsyncId }));
}

/** Every event in a CalDAV account's calendars, read straight from Radicale (not through the proxy or calsync). */
async function caldavEvents(
  stack: PrivateStack,
  account: { username: string; password: string },
): Promise<LiveEvent[]> {
  const radicale = stack.caldav!.radicaleUrl;
  const headers = {
    authorization: `Basic ${Buffer.from(`${account.username}:${account.password}`).toString('base64')}`,
    'content-type': 'application/xml',
  };
  const home = `/${encodeURIComponent(account.username)}/`;
  // The account's calendars (the home's collections), then every event of each.
  const listing = await fetch(`${radicale}${home}`, {
    method: 'PROPFIND',
    headers: { ...headers, depth: '1' },
    body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>',
  });
  if (listing.status !== 207) throw new Error(`PROPFIND ${account.username}: ${listing.status}`);
  const calendars = [...(await listing.text()).matchAll(/<(?:D:)?href>([^<]+)<\/(?:D:)?href>/g)]
    .map((m) => m[1]!)
    .filter((href) => href.endsWith('/') && decodeURIComponent(href) !== decodeURIComponent(home));
  const events: LiveEvent[] = [];
  for (const calendar of calendars) {
    const res = await fetch(`${radicale}${calendar}`, {
      method: 'REPORT',
      headers: { ...headers, depth: '1' },
      body: '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>',
    });
    if (res.status !== 207) throw new Error(`REPORT ${calendar}: ${res.status}`);
    const text = await res.text();
    for (const m of text.matchAll(/<(?:C:)?calendar-data[^>]*>([\s\S]*?)<\/(?:C:)?calendar-data>/g)) {
      const ics = m[1]!.replace(/&#13;/g, '\r').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      const master = new ICAL.Component(ICAL.parse(ics)).getFirstSubcomponent('vevent')!;
      events.push({
        summary: String(master.getFirstPropertyValue('summary')),
        tag: (master.getFirstPropertyValue('x-calsync-id') as string | null) ?? undefined,
      });
    }
  }
  return events;
}

if (require.main === module) {
  const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
  const opts: ChaosOptions = {
    appointments: Number(args.appointments ?? 300),
    operations: Number(args.operations ?? 3000),
    staff: Number(args.staff ?? 8),
    kills: Number(args.kills ?? 4),
    restartTemporal: args.restartTemporal !== 'false',
    restartPostgres: args.restartPostgres === 'true',
    seed: Number(args.seed ?? 1),
    concurrency: Number(args.concurrency ?? 24),
    caldavStaff: Number(args.caldavStaff ?? 0),
  };
  runChaos(opts)
    .then((r) => {
      console.log(chaosLine(r));
      process.exit(r.missing + r.duplicated + r.stale + r.orphaned === 0 ? 0 : 1);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
