import type { TenantWorld } from './world';

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** What a browser does on the provider's consent page: load it, pick the account, press Allow or Deny. */
export async function consent(authorizeUrl: string, email: string, decision: 'allow' | 'deny'): Promise<string> {
  const shown = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(shown.status).toBe(200);
  const html = await shown.text();
  expect(html).toContain('Allow');
  expect(html).toContain('Deny');
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  expect(action).toBeDefined();
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="(?:hidden|email)" name="([^"]+)" value="([^"]*)"/g))
    form.set(m[1]!, unescapeHtml(m[2]!));
  form.set('login_hint', email);
  form.set('decision', decision);
  const answer = await fetch(new URL(unescapeHtml(action!), authorizeUrl), {
    method: 'POST',
    body: form,
    redirect: 'manual',
  });
  expect(answer.status).toBe(302);
  return answer.headers.get('location')!;
}

/** The whole consent flow for `email`: start, Allow, land on calsync's callback page. */
export async function connectByConsent(
  world: TenantWorld,
  staffId: string,
  provider: 'google' | 'microsoft',
  email: string,
): Promise<void> {
  const started = await world.call('POST', `/v1/staff/${staffId}/links`, { provider });
  expect(started.status).toBe(201);
  const landed = await fetch(await consent(started.body.authorizeUrl, email, 'allow'), { redirect: 'manual' });
  expect(landed.status).toBe(200);
}
