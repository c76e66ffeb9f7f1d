import type { Service } from '../../scripts/stack';

export default async function globalTeardown(): Promise<void> {
  const services: Service[] = (globalThis as any).__calsyncServices ?? [];
  await Promise.all(services.reverse().map((s) => s.stop()));
}
