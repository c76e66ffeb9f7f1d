import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { Client } from '@temporalio/client';
import { importWebhookRoutes } from '../api/routes/busyImport';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { providerRegistry } from '../providers/registry';
import { testDb } from './helpers/world';

/**
 * The push webhooks take no API key, so the work one request can cause is bounded: a batch naming a
 * thousand channels costs one indexed lookup, not a thousand. The route runs against the real
 * database; its queries are counted by knex's own query event.
 */
describe('unauthenticated webhook work is bounded', () => {
  let server: Server;
  let url: string;
  let queries = 0;
  beforeAll(async () => {
    const db = testDb();
    db.on('query', () => queries++);
    const app = express().use(express.json({ limit: '1mb' }));
    app.use(importWebhookRoutes(db, {} as Client, createLogger('test', 'silent'), providerRegistry(loadConfig())));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  test('a batch of 1,000 forged notifications is one lookup and a 403', async () => {
    const value = Array.from({ length: 1000 }, (_, i) => ({ subscriptionId: `forged-${i}`, clientState: 'guess' }));
    queries = 0;
    const res = await fetch(`${url}/webhooks/microsoft`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
    });
    expect(res.status).toBe(403);
    expect(queries).toBe(1);
  });
});
