import { CpuMeter } from './cpu';
import { adminDb, startPrivateStack } from './harness';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const seconds = Number(args.seconds ?? 30);

/**
 * What a quiet stack costs: CPU-ms per second of each component with no change arriving (Temporal's
 * queue processors and shard updates, the SDK's pollers, the API's timers, the meter's own sampling
 * as "load client"). At `rate` changes per second, each change carries 1/rate of it in `npm run bench`.
 *   npm run bench:idle [-- seconds=30 engine=dev|server]
 */
async function main() {
  const stack = await startPrivateStack({ name: 'idle' });
  const admin = adminDb();
  try {
    await new Promise((r) => setTimeout(r, 10000));
    const meter = new CpuMeter(
      () => stack.processes(),
      admin,
      () => stack.databases,
    );
    await meter.start();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const w = await meter.stop();
    for (const [name, ms] of Object.entries(w.cpuMs))
      console.log(`${name.padEnd(60)} ${(ms / w.seconds).toFixed(1)} CPU-ms/s`);
    const total = Object.values(w.cpuMs).reduce((a, b) => a + b, 0) / w.seconds;
    console.log(`bench:idle: seconds=${seconds} cpu_ms_per_s=${total.toFixed(1)} engine=${stack.engine}`);
  } finally {
    await admin.destroy();
    await stack.stop();
  }
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
