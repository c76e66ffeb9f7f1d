import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { loadConfig } from '../lib/config';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadEncryptionCodec } from '../lib/payloadCodec';
import { SecretBox } from '../lib/secretBox';
import { call, waitUntil } from './helpers/api';
import { googleEmulator } from './helpers/emulator';
import { startAppStack, type AppStack } from './helpers/stack';
import { TenantWorld, closeTestClients, testDb } from './helpers/world';

const bytes = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const jsonPayload = (value: unknown) => ({
  metadata: { encoding: bytes('json/plain') },
  data: bytes(JSON.stringify(value)),
});
/** The remote codec protocol's JSON form of a payload (proto3 JSON: bytes as base64). */
const payloadToJSON = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
/** A history as JSON with every bytes field in base64, as Temporal's own tools render it. */
const historyToJSON = (history: unknown) =>
  JSON.stringify(history, function (this: Record<string, unknown>, key, value) {
    const raw = this[key];
    return raw instanceof Uint8Array ? Buffer.from(raw).toString('base64') : value;
  });

describe('PayloadEncryptionCodec', () => {
  test('seals the whole payload, metadata included, under the first key, and opens it again', async () => {
    const codec = new PayloadEncryptionCodec(`${SecretBox.generateKeySpec('p1')},${SecretBox.generateKeySpec('p0')}`);
    const [sealed] = await codec.encode([jsonPayload({ clientName: 'Ana García' })]);
    expect(str(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(str(sealed!.metadata![KEY_ID_METADATA])).toBe('p1');
    expect(Object.keys(sealed!.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA]);
    expect(Buffer.from(sealed!.data!).toString('latin1')).not.toMatch(/Ana|json\/plain/);
    const [opened] = await codec.decode([sealed!]);
    expect(str(opened!.metadata!.encoding)).toBe('json/plain');
    expect(JSON.parse(str(opened!.data))).toEqual({ clientName: 'Ana García' });
    // Fresh IV each time: equal inputs do not give equal ciphertexts.
    const [again] = await codec.encode([jsonPayload({ clientName: 'Ana García' })]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(sealed!.data!))).toBe(false);
  });

  test('rotation: a payload sealed with an old key still opens once a new key is first', async () => {
    const oldSpec = SecretBox.generateKeySpec('old');
    const [sealedWithOld] = await new PayloadEncryptionCodec(oldSpec).encode([jsonPayload('history from last year')]);
    const rotated = new PayloadEncryptionCodec(`${SecretBox.generateKeySpec('new')},${oldSpec}`);
    expect(JSON.parse(str((await rotated.decode([sealedWithOld!]))[0]!.data))).toBe('history from last year');
    expect(str((await rotated.encode([jsonPayload(1)]))[0]!.metadata![KEY_ID_METADATA])).toBe('new');
    // Once the old key is dropped, its payloads no longer open, and the error names the key.
    await expect(new PayloadEncryptionCodec(SecretBox.generateKeySpec('new')).decode([sealedWithOld!])).rejects.toThrow(
      /"old"/,
    );
  });

  test('tampering with the ciphertext or the key id is detected', async () => {
    const spec = `${SecretBox.generateKeySpec('a')},${SecretBox.generateKeySpec('b')}`;
    const codec = new PayloadEncryptionCodec(spec);
    const [sealed] = await codec.encode([jsonPayload({ description: 'private' })]);
    for (const index of [0, 20, sealed!.data!.length - 1]) {
      const forged = Buffer.from(sealed!.data!);
      forged[index] ^= 0x01;
      await expect(codec.decode([{ metadata: sealed!.metadata, data: forged }])).rejects.toThrow();
    }
    await expect(
      codec.decode([{ metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: bytes('b') }, data: sealed!.data }]),
    ).rejects.toThrow();
    await expect(codec.decode([{ metadata: sealed!.metadata, data: sealed!.data!.subarray(0, 20) }])).rejects.toThrow();
  });

  test('plaintext payloads are refused (pass only with the escape hatch); keys come from CALSYNC_PAYLOAD_KEYS, else the token keys', async () => {
    const plain = jsonPayload('old run');
    await expect(new PayloadEncryptionCodec(SecretBox.generateKeySpec('k')).decode([plain])).rejects.toThrow(
      /refused an unencrypted workflow payload \(encoding json\/plain\)/,
    );
    expect(await new PayloadEncryptionCodec(SecretBox.generateKeySpec('k'), true).decode([plain])).toEqual([plain]);
    expect(loadConfig({ CALSYNC_ACCEPT_PLAINTEXT_PAYLOADS: 'true' }).acceptPlaintextPayloads).toBe(true);
    expect(loadConfig({ CALSYNC_TOKEN_KEYS: 'tok:x' }).payloadKeys).toBe('tok:x');
    expect(loadConfig({ CALSYNC_TOKEN_KEYS: 'tok:x', CALSYNC_PAYLOAD_KEYS: 'pay:y' }).payloadKeys).toBe('pay:y');
    expect(() => new PayloadEncryptionCodec('')).toThrow(/CALSYNC_PAYLOAD_KEYS/);
    expect(() => new PayloadEncryptionCodec('k:c2hvcnQ=')).toThrow(/32 bytes/);
  });

  test("the one payload the Temporal server writes itself passes: a cancelled activity's 'not started' details", async () => {
    const codec = new PayloadEncryptionCodec(SecretBox.generateKeySpec('k'));
    const serverWritten = jsonPayload('ACTIVITY_ID_NOT_STARTED');
    expect(await codec.decode([serverWritten])).toEqual([serverWritten]);
    // Only that exact payload: anything else plain, or the same text in another encoding, is refused.
    await expect(codec.decode([jsonPayload('ACTIVITY_ID_NOT_STARTED ')])).rejects.toThrow(/refused/);
    await expect(
      codec.decode([{ metadata: { encoding: bytes('binary/plain') }, data: bytes('"ACTIVITY_ID_NOT_STARTED"') }]),
    ).rejects.toThrow(/refused/);
  });
});

/** Every bytes field of a proto-JSON history, decoded: plain text hidden in base64 at any alignment shows up here. */
function decodedBytes(json: string): string {
  const out: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') {
      if (value.length >= 4 && value.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value))
        out.push(Buffer.from(value, 'base64').toString('utf8'));
    } else if (value && typeof value === 'object') {
      for (const v of Object.values(value)) walk(v);
    }
  };
  walk(JSON.parse(json));
  return out.join('\n');
}

describe('payload encryption end to end', () => {
  let stack: AppStack;
  let plain: Client;
  const admin = () => process.env.CALSYNC_ADMIN_KEY!;
  beforeAll(async () => {
    stack = await startAppStack();
    // A client WITHOUT the codec: what anyone with access to Temporal (or its database) sees.
    plain = new Client({ connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }) });
  });
  afterAll(async () => {
    await plain?.connection.close();
    await stack?.stop();
    await closeTestClients();
  });

  test('a forged plaintext signal from someone who reaches the Temporal frontend is refused: nothing is written', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('fay');
    await world.put('forge-1', { revision: 1, staffIds: ['fay'], title: 'Real' });
    await world.waitSynced('forge-1', 1);
    // A well-formed desired state, as the API would send it, but newer and unencrypted.
    const stored = await testDb()('appointments').where({ tenant_id: world.tenantId, id: 'forge-1' }).first('desired');
    const forged = { ...stored.desired, revision: 99, title: 'Forged' };
    await plain.workflow.getHandle(`appt:${world.tenantId}:forge-1`).signal('desiredState', forged);
    await new Promise((r) => setTimeout(r, 3000));
    const events = await googleEmulator.liveEvents(staff.calendarId);
    expect(events.map((e) => e.summary)).toEqual([expect.stringContaining('Real')]);
    expect(JSON.stringify(events)).not.toContain('Forged');
  });

  test('client data is encrypted in the history, and the codec endpoint decodes it for admins only', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('pat');
    const tag = randomUUID().slice(0, 8);
    const clientName = `Zebulon Quimby-${tag}`;
    const description = `Allergic to lavender oil, ref ${tag}`;
    const put = await world.put('secret-1', { revision: 1, staffIds: ['pat'], clientName, description });
    expect(put.status).toBe(202);
    await world.waitSynced('secret-1', 1);
    // The worker decrypted what it got: the calendar has the real data.
    const [event] = await googleEmulator.liveEvents(staff.calendarId);
    expect(event!.summary).toContain(clientName);
    expect(event!.description).toContain(description);

    const history = await plain.workflow.getHandle(`appt:${world.tenantId}:secret-1`).fetchHistory();
    const json = historyToJSON(history);
    const decoded = decodedBytes(json);
    // The inspection does see plain payload bytes: the (deliberately unencrypted) search attributes.
    expect(decoded).toContain(JSON.stringify(world.tenantId));
    for (const secret of [clientName, description]) {
      expect(json).not.toContain(secret);
      expect(json).not.toContain(b64(secret));
      expect(decoded).not.toContain(secret);
    }
    const signaled = history.events!.find(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'desiredState',
    );
    const signalPayload = signaled!.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!;
    expect(str(signalPayload.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    const body = { payloads: [payloadToJSON(signalPayload)] };

    // Admin key as bearer: decoded, as Temporal UI would get it.
    const res = await call(stack.apiUrl, 'POST', '/codec/decode', { key: admin(), body });
    expect(res.status).toBe(200);
    expect(res.body.payloads).toHaveLength(1);
    const [out] = res.body.payloads;
    expect(Buffer.from(out.metadata.encoding, 'base64').toString()).toBe('json/plain');
    const desired = JSON.parse(Buffer.from(out.data, 'base64').toString('utf8'));
    expect(desired).toMatchObject({ clientName, description, revision: 1 });

    // Nobody else.
    expect((await call(stack.apiUrl, 'POST', '/codec/decode', { body })).status).toBe(401);
    expect((await call(stack.apiUrl, 'POST', '/codec/decode', { key: world.key, body })).status).toBe(401);
    expect((await call(stack.apiUrl, 'POST', '/codec/decode', { key: `${admin()}x`, body })).status).toBe(401);
    expect((await call(stack.apiUrl, 'POST', '/codec/encode', { key: world.key, body })).status).toBe(401);
  });

  test('encode and decode round-trip through the endpoint; bad payloads are a 400', async () => {
    const original = payloadToJSON(jsonPayload({ hello: 'codec' }));
    const encoded = await call(stack.apiUrl, 'POST', '/codec/encode', { key: admin(), body: { payloads: [original] } });
    expect(encoded.status).toBe(200);
    expect(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    const decoded = await call(stack.apiUrl, 'POST', '/codec/decode', { key: admin(), body: encoded.body });
    expect(decoded.body).toEqual({ payloads: [original] });

    const forged = structuredClone(encoded.body);
    forged.payloads[0].data = Buffer.from('not the ciphertext at all, forged').toString('base64');
    const refused = await call(stack.apiUrl, 'POST', '/codec/decode', { key: admin(), body: forged });
    expect(refused.status).toBe(400);
    expect((await call(stack.apiUrl, 'POST', '/codec/decode', { key: admin(), body: { payloads: 'x' } })).status).toBe(
      400,
    );
  });

  test('CORS for Temporal UI: preflight and credentialed answers for its origins only', async () => {
    const preflight = await fetch(`${stack.apiUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://127.0.0.1:8233',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type,x-namespace,authorization');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

    const stranger = await fetch(`${stack.apiUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    expect(stranger.headers.get('access-control-allow-credentials')).toBeNull();

    // The actual request carries them too, even when refused (so the UI can read the 401).
    const refused = await fetch(`${stack.apiUrl}/codec/decode`, {
      method: 'POST',
      headers: { origin: 'http://localhost:8233', 'content-type': 'application/json', 'x-namespace': 'default' },
      body: JSON.stringify({ payloads: [] }),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
  });

  test('a codec session cookie (POST /codec/session or the dev login link) authenticates the UI', async () => {
    const decodeWithCookie = (cookie: string) =>
      fetch(`${stack.apiUrl}/codec/decode`, {
        method: 'POST',
        headers: { origin: 'http://127.0.0.1:8233', 'content-type': 'application/json', cookie },
        body: JSON.stringify({ payloads: [] }),
      });

    expect((await call(stack.apiUrl, 'POST', '/codec/session', {})).status).toBe(401);
    const session = await fetch(`${stack.apiUrl}/codec/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin()}` },
    });
    expect(session.status).toBe(200);
    const [setCookie] = session.headers.getSetCookie();
    expect(setCookie).toMatch(/^calsync_codec=[^;]+;/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).toMatch(/Path=\/codec/);
    expect(setCookie).toMatch(/Max-Age=\d+/);
    const cookie = setCookie!.split(';')[0]!;
    const ok = await decodeWithCookie(cookie);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ payloads: [] });

    // A forged or altered token is refused.
    const [name, token] = cookie.split('=') as [string, string];
    const [expires, nonce, sig] = token.split('.');
    expect((await decodeWithCookie(`${name}=${Number(expires) + 1000}.${nonce}.${sig}`)).status).toBe(401);
    expect(
      (await decodeWithCookie(`${name}=${expires}.${nonce}.${sig![0] === 'A' ? 'B' : 'A'}${sig!.slice(1)}`)).status,
    ).toBe(401);
    expect((await decodeWithCookie(`${name}=garbage`)).status).toBe(401);

    const postLogin = (key: string) =>
      fetch(`${stack.apiUrl}/codec/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ key }),
      });
    const wrongLogin = await postLogin('nope');
    expect(wrongLogin.status).toBe(401);
    expect(wrongLogin.headers.getSetCookie()).toEqual([]);
    // The key never travels in a URL: a key in the query is refused and sets nothing.
    const inUrl = await fetch(`${stack.apiUrl}/codec/login?key=${encodeURIComponent(admin())}`);
    expect(inUrl.status).toBe(400);
    expect(inUrl.headers.getSetCookie()).toEqual([]);
    // …and the API's log never holds it (the refusal is logged, with the key's value redacted).
    const apiLog = path.join(process.env.CALSYNC_TEST_TMP!, `api-${stack.taskQueue}.log`);
    await waitUntil(
      'the refusal is logged',
      async () => readFileSync(apiLog, 'utf8').includes('/codec/login?key='),
      5000,
      100,
    );
    expect(readFileSync(apiLog, 'utf8')).not.toContain(admin());
    expect(readFileSync(apiLog, 'utf8')).toContain('/codec/login?key=[redacted]');
    const login = await postLogin(admin());
    expect(login.status).toBe(200);
    expect(login.headers.get('content-type')).toMatch(/text\/html/);
    expect(await login.text()).toContain('codec enabled for Temporal UI');
    const [loginCookie] = login.headers.getSetCookie();
    expect(loginCookie).toMatch(/HttpOnly/i);
    expect((await decodeWithCookie(loginCookie!.split(';')[0]!)).status).toBe(200);
  });
});
