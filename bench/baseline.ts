import express from 'express';
import type { AddressInfo } from 'node:net';
import { google } from 'googleapis';
import { remoteEventId } from '../lib/remoteIds';

/**
 * The naive way most booking tools sync: the provider is called inside the CRM's HTTP request.
 * No queue, no retries beyond the client library's, no coalescing; the request waits for Google.
 * Used only by bench/load.ts, as the baseline calsync is compared with.
 */
export async function startNaiveSyncServer(opts: { googleRootUrl: string; accessTokens: Map<string, string> }) {
  const app = express();
  app.use(express.json());
  const created = new Set<string>();
  app.put('/appointments/:id', async (req, res) => {
    const { staffEmail, title, start, end, timeZone } = req.body as Record<string, string>;
    const auth = new google.auth.OAuth2();
    auth.setCredentials({ access_token: opts.accessTokens.get(staffEmail!) });
    const calendar = google.calendar({ version: 'v3', auth, rootUrl: opts.googleRootUrl });
    const id = remoteEventId('baseline', req.params.id!, staffEmail!);
    const event = { id, summary: title, start: { dateTime: start, timeZone }, end: { dateTime: end, timeZone } };
    try {
      if (created.has(id)) await calendar.events.update({ calendarId: staffEmail!, eventId: id, requestBody: event });
      else await calendar.events.insert({ calendarId: staffEmail!, requestBody: event });
      created.add(id);
      res.status(200).json({ ok: true });
    } catch (err) {
      res.status(502).json({ error: String((err as Error).message) });
    }
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(r)),
  };
}
