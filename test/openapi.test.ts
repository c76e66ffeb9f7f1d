import { execFileSync } from 'node:child_process';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { Browser } from 'playwright-core';
import { openApiDocument } from '../api/openapi';
import { operations } from '../api/openapiOperations';
import { launchChromium, outputDir } from './helpers/browser';
import { useAppStack } from './helpers/stack';

/**
 * The API reference cannot drift: every route Express serves is in the OpenAPI document (and the
 * other way round), the document is valid OpenAPI 3.1, every example passes the zod schema the
 * route validates with, and the reference page renders it in Chromium.
 */
describe('OpenAPI document', () => {
  const stack = useAppStack();
  const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths)
    .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
    .sort();

  test('every route Express serves is documented, and every documented operation is served', () => {
    // Express's own router stack, walked in a process of its own (test/helpers/routes.ts).
    const served = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'helpers', 'routes.ts')], {
        encoding: 'utf8',
        env: process.env,
      }),
    ) as string[];
    expect(served.length).toBeGreaterThanOrEqual(44);
    expect(served.filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((r) => !served.includes(r))).toEqual([]);
  });

  test('the document is valid OpenAPI 3.1 (swagger-parser)', async () => {
    const validated = (await SwaggerParser.validate(structuredClone(openApiDocument()) as never)) as {
      openapi: string;
    };
    expect(validated.openapi).toBe('3.1.0');
  });

  test('every operation names its errors; every body and query example passes the schema its route validates with', () => {
    for (const [key, op] of Object.entries(operations)) {
      const [method, p] = key.split(' ') as [string, string];
      const described = doc.paths[p]![method.toLowerCase()] as { responses: Record<string, unknown> };
      expect([key, Object.keys(described.responses).some((s) => Number(s) >= 400)]).toEqual([key, true]);
      const body = op.body ?? op.form;
      if (body) {
        expect([key, op.bodyExample !== undefined]).toEqual([key, true]);
        const parsed = body.safeParse(op.bodyExample);
        expect([key, parsed.success ? 'ok' : parsed.error.message]).toEqual([key, 'ok']);
      }
      if (op.query) {
        const parsed = op.query.safeParse(op.queryExample ?? {});
        expect([key, parsed.success ? 'ok' : parsed.error.message]).toEqual([key, 'ok']);
      }
    }
  });

  test('the support routes are there with their query parameters', () => {
    const failures = doc.paths['/v1/sync-failures']!.get as { parameters: { name: string }[] };
    expect(failures.parameters.map((p) => p.name)).toEqual(['since', 'provider', 'staff', 'code', 'limit', 'cursor']);
    for (const p of [
      '/v1/appointments/{id}/log',
      '/v1/appointments/{id}/resync',
      '/v1/sync-failures/replay',
      '/v1/sync-failures/replays/{replayId}',
    ]) {
      expect(doc.paths[p]).toBeDefined();
    }
  });

  describe('the reference page', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    test('renders every operation in Chromium, from files calsync serves', async () => {
      const base = stack.apiUrl;
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`${m.text()} ${m.location().url}`);
      });
      const elsewhere: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(base) && !r.url().startsWith('data:')) elsewhere.push(r.url());
      });
      await page.goto(`${base}/docs`);
      await page.waitForSelector('.opblock', { timeout: 30000 });
      expect(await page.locator('.opblock').count()).toBe(documented.length);
      expect(await page.textContent('.title')).toContain('calsync API');
      await page.locator('.opblock-summary-path[data-path="/v1/sync-failures"]').first().click();
      await page.waitForSelector('.parameters');
      await page.screenshot({ path: path.join(outputDir('openapi'), 'reference.png') });
      expect(problems).toEqual([]);
      expect(elsewhere).toEqual([]);
      await page.close();
    });
  });
});
