import type { CredentialsPreset } from '../../providers/types';
import type { Messages } from './i18n';
import { escapeHtml } from './html';
import { layout } from './layout';

/** A provider as the page offers it: consent by sign-in (OAuth) or by a credentials form. */
export interface ProviderChoice {
  name: string;
  displayName: string;
  /** The mark's colour (the provider module's `brandColor`); a neutral one without it. */
  color?: string;
  /** Set for consent by credentials (CalDAV): the presets the form offers. */
  presets?: CredentialsPreset[];
}

export interface LinkView {
  id: string;
  provider: string;
  account_email: string;
  status: string;
  status_reason: string | null;
}

export interface ConnectPageModel {
  t: Messages;
  business: string;
  csrf: string;
  providers: ProviderChoice[];
  /** The people the page may show: one when the CRM's link named a staff member. */
  staff: { id: string; name: string }[];
  /** Set when the session is for one staff member: no chooser, the page is theirs. */
  staffFixed: boolean;
  selected?: { id: string; name: string };
  links: LinkView[];
  /** Just back from a successful consent: that link. */
  connected?: LinkView;
}

/** A simple mark of our own: the provider's initial on its colour (no trademark files). */
export function providerMark(p: ProviderChoice): string {
  const color = /^#[0-9a-fA-F]{6}$/.test(p.color ?? '') ? p.color! : '#4a5366';
  return (
    `<svg class="mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">` +
    `<rect width="32" height="32" rx="8" fill="${color}"/>` +
    `<text x="16" y="22" text-anchor="middle" font-size="18" font-weight="700" font-family="system-ui,sans-serif" fill="#fff">` +
    `${escapeHtml(p.displayName.slice(0, 1).toUpperCase())}</text></svg>`
  );
}

const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;

/** The page: who it is for, one big button per provider, then each connected calendar and its state. */
export function renderConnectPage(m: ConnectPageModel): string {
  const { t } = m;
  const body = m.selected ? personPage(m, m.selected) : chooser(m);
  return layout(t, { title: t.pageTitle(m.business), business: m.business, body });
}

function chooser(m: ConnectPageModel): string {
  const { t } = m;
  if (m.staff.length === 0) return `<h1>${escapeHtml(t.heading)}</h1><p id="no-staff">${escapeHtml(t.noStaff)}</p>`;
  return (
    `<h1>${escapeHtml(t.whoAreYou)}</h1><p class="lead">${escapeHtml(t.whoAreYouHint)}</p>` +
    `<nav aria-label="${escapeHtml(t.whoAreYou)}"><ul class="stack people" id="staff">` +
    m.staff
      .map(
        (s) =>
          `<li><a href="/connect?staff=${encodeURIComponent(s.id)}" data-staff-id="${escapeHtml(s.id)}">${escapeHtml(s.name)}</a></li>`,
      )
      .join('') +
    '</ul></nav>'
  );
}

function personPage(m: ConnectPageModel, person: { id: string; name: string }): string {
  const { t } = m;
  const displayName = (name: string) => m.providers.find((p) => p.name === name)?.displayName ?? name;
  const success = m.connected
    ? `<section class="notice ok" id="success" role="status"><h2>${escapeHtml(t.successTitle(displayName(m.connected.provider)))}</h2>` +
      `<p>${escapeHtml(t.successBody(m.connected.account_email))}</p><p>${escapeHtml(t.successNext)}</p></section>`
    : '';
  const oauth = m.providers.filter((p) => !p.presets);
  const buttons = oauth.length
    ? `<ul class="stack" id="providers">` +
      oauth.map((p) => `<li>${connectForm(m, person.id, p, t.connect(p.displayName), 'connect')}</li>`).join('') +
      `</ul><p class="hint">${escapeHtml(t.connectHint)}</p>`
    : '';
  const forms = m.providers
    .filter((p) => p.presets)
    .map((p) => credentialsForm(t, m.csrf, person.id, p))
    .join('');
  const links = m.links.filter((l) => l.status !== 'disconnected');
  const list = links.length
    ? `<ul class="stack" id="links">${links.map((l) => linkItem(m, person.id, l)).join('')}</ul>`
    : `<p id="no-links">${escapeHtml(t.noLinks)}</p>`;
  return (
    success +
    `<h1>${escapeHtml(m.staffFixed ? t.greeting(person.name) : person.name)}</h1>` +
    `<p class="lead">${escapeHtml(t.intro(m.business))}</p>` +
    `<section aria-labelledby="yours"><h2 id="yours">${escapeHtml(t.yourCalendars)}</h2>${list}</section>` +
    `<section aria-labelledby="add"><h2 id="add">${escapeHtml(t.heading)}</h2>${buttons}${forms}</section>` +
    (m.staffFixed ? '' : `<p><a href="/connect">${escapeHtml(t.whoAreYou)}</a></p>`)
  );
}

function connectForm(m: ConnectPageModel, staffId: string, p: ProviderChoice, label: string, idPrefix: string) {
  return (
    `<form method="post" action="/connect/links">${hidden('csrf', m.csrf)}${hidden('staffId', staffId)}${hidden('provider', p.name)}` +
    `<button type="submit" class="button${idPrefix === 'reconnect' ? ' primary' : ''}" id="${idPrefix}-${escapeHtml(p.name)}">` +
    `${providerMark(p)}<span>${escapeHtml(label)}</span></button></form>`
  );
}

function linkItem(m: ConnectPageModel, staffId: string, l: LinkView): string {
  const { t } = m;
  const provider = m.providers.find((p) => p.name === l.provider) ?? { name: l.provider, displayName: l.provider };
  const state = t.status[l.status] ?? l.status;
  let detail = '';
  if (l.status === 'needs_reauth') {
    const why = t.reason[l.status_reason ?? ''] ?? t.reason.unknown!;
    detail =
      `<p class="reason">${escapeHtml(why)}</p><p class="hint">${escapeHtml(t.heldNote)}</p>` +
      (m.providers.some((p) => p.name === l.provider && !p.presets)
        ? connectForm(m, staffId, provider, t.reconnect(provider.displayName), 'reconnect')
        : '');
  } else if (l.status === 'disconnecting') {
    detail = `<p class="hint">${escapeHtml(t.disconnectingNote)}</p>`;
  }
  const canDisconnect = l.status !== 'disconnecting';
  return (
    `<li class="card link ${escapeHtml(l.status)}" data-link-id="${escapeHtml(l.id)}" data-provider="${escapeHtml(l.provider)}" data-status="${escapeHtml(l.status)}">` +
    `<div class="who">${providerMark(provider)}<div><div>${escapeHtml(provider.displayName)}</div>` +
    `<div class="account"><bdi>${escapeHtml(l.account_email)}</bdi></div></div></div>` +
    `<p><span class="badge status ${escapeHtml(l.status)}">${escapeHtml(state)}</span></p>` +
    detail +
    (canDisconnect
      ? `<a class="button quiet disconnect" href="/connect/links/${encodeURIComponent(l.id)}/disconnect?staff=${encodeURIComponent(staffId)}">${escapeHtml(t.disconnect)}</a>`
      : '') +
    '</li>'
  );
}

/**
 * Consent by credentials (CalDAV): posts to `POST /connect/credentials/<provider>` with `csrf`,
 * `staffId`, `preset`, `serverUrl`, `username`, `password` (the handler is the provider's consent).
 */
export function credentialsForm(t: Messages, csrf: string, staffId: string, p: ProviderChoice): string {
  const id = (field: string) => `${escapeHtml(p.name)}-${field}`;
  const presets = p.presets ?? [];
  const help = presets
    .filter((preset) => preset.passwordHelpUrl)
    .map(
      (preset) =>
        `<li><a href="${escapeHtml(preset.passwordHelpUrl)}" rel="noopener noreferrer" target="_blank">${escapeHtml(t.appPasswordLink(preset.label))}</a></li>`,
    )
    .join('');
  return (
    `<form class="card credentials" method="post" action="/connect/credentials/${encodeURIComponent(p.name)}" id="credentials-${escapeHtml(p.name)}">` +
    `<h3>${providerMark(p)} ${escapeHtml(t.credentialsTitle(p.displayName))}</h3>` +
    `<p class="hint">${escapeHtml(t.credentialsIntro)}</p>` +
    hidden('csrf', csrf) +
    hidden('staffId', staffId) +
    `<label for="${id('preset')}">${escapeHtml(t.preset)}</label><select id="${id('preset')}" name="preset">` +
    presets.map((x) => `<option value="${escapeHtml(x.id)}">${escapeHtml(x.label)}</option>`).join('') +
    `</select>` +
    `<label for="${id('serverUrl')}">${escapeHtml(t.serverUrl)}</label>` +
    `<input id="${id('serverUrl')}" name="serverUrl" type="url" inputmode="url" autocomplete="url" maxlength="500" aria-describedby="${id('serverUrl-hint')}">` +
    `<p class="hint" id="${id('serverUrl-hint')}">${escapeHtml(t.serverUrlHint)}</p>` +
    `<label for="${id('username')}">${escapeHtml(t.username)}</label>` +
    `<input id="${id('username')}" name="username" autocomplete="username" required maxlength="320" autocapitalize="none" spellcheck="false">` +
    `<label for="${id('password')}">${escapeHtml(t.password)}</label>` +
    `<input id="${id('password')}" name="password" type="password" autocomplete="current-password" required maxlength="500" aria-describedby="${id('password-help')}">` +
    `<p class="hint" id="${id('password-help')}">${escapeHtml(t.appPasswordHelp)}</p>` +
    (help ? `<ul class="hint">${help}</ul>` : '') +
    `<div class="actions"><button type="submit" class="button primary">${escapeHtml(t.credentialsSubmit)}</button></div></form>`
  );
}

/** The plain-words step before Disconnect: what happens to the events, and a way back. */
export function renderConfirmDisconnect(m: {
  t: Messages;
  business: string;
  csrf: string;
  staffId: string;
  link: LinkView;
  provider: ProviderChoice;
  keepEvents: boolean;
}): string {
  const { t } = m;
  const back = `/connect?staff=${encodeURIComponent(m.staffId)}`;
  return layout(t, {
    title: `${t.confirmTitle(m.provider.displayName)} — ${m.business}`,
    business: m.business,
    body:
      `<h1 id="confirm-title">${escapeHtml(t.confirmTitle(m.provider.displayName))}</h1>` +
      `<div class="card"><div class="who">${providerMark(m.provider)} <span class="account">${escapeHtml(t.confirmAccount('')).trim()} <bdi>${escapeHtml(m.link.account_email)}</bdi></span></div>` +
      `<p id="what-happens">${escapeHtml(m.keepEvents ? t.confirmKeep : t.confirmRemove)}</p>` +
      `<p>${escapeHtml(t.confirmAfter)}</p></div>` +
      `<form method="post" action="/connect/links/${encodeURIComponent(m.link.id)}/disconnect" class="actions">` +
      hidden('csrf', m.csrf) +
      hidden('staffId', m.staffId) +
      `<button type="submit" class="button danger" id="confirm-disconnect">${escapeHtml(t.confirmYes)}</button>` +
      `<a class="button" href="${escapeHtml(back)}" id="keep-connected">${escapeHtml(t.confirmNo)}</a></form>`,
  });
}
