import { parseArgs } from 'node:util';

/**
 * calsync: the support command line. Talks to the calsync API with a tenant key.
 *   CALSYNC_API_URL (default http://127.0.0.1:3000), CALSYNC_API_KEY (required)
 */
const usage = `usage: calsync <command> [options]

  status <appointmentId>                 where the sync of one appointment stands
  log <appointmentId>                    every attempt on every target, and warnings
  failures [filters]                     failed targets, newest first
  resync <appointmentId> [--target K] [--force]
                                         retry what is not in step (--force rewrites all)
  replay [filters] [--rate N] [--no-wait]
                                         replay every failure that matches, N appointments/s

filters: --since ISO-TIME --provider google|microsoft --staff ID --code PROVIDER-CODE`;

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const base = process.env.CALSYNC_API_URL ?? 'http://127.0.0.1:3000';
  const key = process.env.CALSYNC_API_KEY;
  if (!key) throw new Error('set CALSYNC_API_KEY to a tenant API key');
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json: any = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${res.status} ${json.error ?? ''}: ${json.message ?? ''}`);
  return json;
}

function filterOf(values: Record<string, unknown>) {
  const filter: Record<string, string> = {};
  for (const name of ['since', 'provider', 'staff', 'code'])
    if (typeof values[name] === 'string') filter[name] = values[name] as string;
  return filter;
}

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      provider: { type: 'string' },
      staff: { type: 'string' },
      code: { type: 'string' },
      target: { type: 'string' },
      force: { type: 'boolean', default: false },
      rate: { type: 'string' },
      'no-wait': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, id] = positionals;
  const needId = () => {
    if (!id) throw new Error(`${command} needs an appointment id\n\n${usage}`);
    return encodeURIComponent(id);
  };
  const print = (x: unknown) => console.log(JSON.stringify(x, null, 2));

  switch (command) {
    case 'status':
      return print(await api('GET', `/v1/appointments/${needId()}`));
    case 'log': {
      const log = await api('GET', `/v1/appointments/${needId()}/log?limit=500`);
      for (const e of log.entries) {
        console.log(
          `${new Date(e.at).toISOString()}  r${e.revision ?? '-'}  ${e.targetKey}  ${e.action}  ${e.result}${e.errorCode ? `  ${e.errorCode}: ${e.errorMessage}` : ''}${e.attempt ? `  (attempt ${e.attempt})` : ''}`,
        );
      }
      return;
    }
    case 'failures': {
      let cursor: string | null = null;
      let count = 0;
      do {
        const query = new URLSearchParams({ ...filterOf(values), limit: '500', ...(cursor ? { cursor } : {}) });
        const page = await api('GET', `/v1/sync-failures?${query}`);
        for (const f of page.failures) {
          console.log(
            `${f.failedAt}  ${f.appointmentId}  ${f.targetKey}  staff=${f.staffId ?? '-'}  ${f.errorCode}: ${f.errorMessage}`,
          );
          count++;
        }
        cursor = page.nextCursor;
      } while (cursor);
      console.log(`${count} failed target(s)`);
      return;
    }
    case 'resync':
      return print(
        await api('POST', `/v1/appointments/${needId()}/resync`, { targetKey: values.target, force: values.force }),
      );
    case 'replay': {
      const started = await api('POST', '/v1/sync-failures/replay', {
        ...filterOf(values),
        ...(values.rate ? { ratePerSecond: Number(values.rate) } : {}),
      });
      console.log(`replay ${started.replayId} started`);
      if (values['no-wait']) return;
      for (;;) {
        const p = await api('GET', `/v1/sync-failures/replays/${started.replayId}`);
        console.log(`${p.state}: ${p.replayed}/${p.total} appointments replayed`);
        if (p.state === 'completed') return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    default:
      console.log(usage);
      if (command && !values.help) process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`calsync: ${err.message}`);
  process.exit(1);
});
