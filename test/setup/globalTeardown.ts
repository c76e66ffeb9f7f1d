/** Stops what globalSetup started (the engine drops its databases when they were the run's own). */
export default async function globalTeardown(): Promise<void> {
  const services: { stop(): Promise<void> }[] = (globalThis as any).__calsyncServices ?? [];
  await Promise.all(services.reverse().map((s) => s.stop()));
}
