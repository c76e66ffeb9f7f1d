import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import type { TargetPlan } from '../activities/targets';
import { loadConfig } from '../lib/config';
import { createDb } from '../lib/db';
import { createLogger } from '../lib/logger';
import { SecretBox } from '../lib/secretBox';
import { connectClient } from '../lib/temporal';
import type { DesiredAppointment } from '../lib/types';
import { CpuMeter, perChange } from './cpu';
import { adminDb, seedTenant, startPrivateStack } from './harness';

/**
 * What calsync's own activity code costs per create, without Temporal: the plan and the first push
 * of `count` new appointments, run in this process the way a worker runs its local activities,
 * `concurrency` at a time, against the stack's emulator and database. The whole-stack bench's
 * figures move by ±10 % from run to run on this machine; this one isolates the part calsync's
 * code decides, steadily enough to compare one change to the next.
 *   npm run bench:activities [-- count=600 concurrency=10]
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const count = Number(args.count ?? 600);
const concurrency = Number(args.concurrency ?? 10);

async function main() {
  const stack = await startPrivateStack({ name: 'lacost' });
  const admin = adminDb();
  const config = loadConfig(stack.env);
  const db = createDb(config.databaseUrl, { min: 0, max: 20 });
  const activities = createActivities({
    db,
    secrets: new SecretBox(config.tokenKeys),
    config,
    logger: createLogger('bench', 'warn'),
    temporal: await connectClient(config),
  });
  const local = new MockActivityEnvironment({ isLocal: true, attempt: 1 });
  try {
    const { staff } = await seedTenant(stack, 'lacost', 20, { calendarMode: 'dedicated' });
    const day = new Date(Date.now() + 2 * 86400000).toISOString().slice(0, 10);
    const desired = (i: number): DesiredAppointment => ({
      tenantId: 'lacost',
      appointmentId: `la-${i}`,
      revision: 1,
      type: 'appointment',
      status: 'confirmed',
      start: `${day}T09:00:00.000Z`,
      end: `${day}T10:00:00.000Z`,
      timeZone: 'Europe/Madrid',
      title: `la-${i}`,
      services: [],
      staffIds: [staff[i % staff.length]!.id],
      deleted: false,
      acceptedAt: new Date().toISOString(),
    });
    const create = async (i: number) => {
      const current = desired(i);
      const plan: TargetPlan = await local.run(activities.planTargets, {
        tenantId: current.tenantId,
        appointmentId: current.appointmentId,
        staffIds: current.staffIds,
        syncEnabled: true,
      });
      for (const target of plan.targets)
        await local.run(activities.pushToTarget, { target, desired: current, mode: 'upsert' as const, maxAttempts: 5 });
    };
    // Warm-up: first token refreshes, JIT, pools.
    for (let i = 0; i < 40; i++) await create(count + i);

    const meter = new CpuMeter(
      () => ({ emulator: stack.processes().emulator }),
      admin,
      () => [`${new URL(config.databaseUrl).pathname.slice(1)}`],
    );
    await meter.start();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await create(next++);
      }),
    );
    const window = await meter.stop();
    const figures = perChange(window, count);
    const { 'load client': activityCode, ...rest } = figures;
    console.log(`\n${count} creates, ${concurrency} at a time, ${window.seconds.toFixed(1)} s`);
    console.log(`CPU-ms per create: calsync's activity code (plan + push) ${activityCode}`);
    for (const [name, ms] of Object.entries(rest)) console.log(`CPU-ms per create: ${name.padEnd(40)} ${ms}`);
    console.log(`bench:activities: count=${count} activity_cpu_ms=${activityCode} total_cpu_ms=${figures.total}`);
  } finally {
    await db.destroy();
    await admin.destroy();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
