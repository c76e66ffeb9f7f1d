import type { Messages } from './i18n';
import { escapeHtml } from './html';
import { CONNECT_CSS_PATH } from './styles';

/**
 * The frame of every connect page (the page itself, confirmations, success and error pages): the
 * language and direction, the stylesheet calsync serves, a skip link, the business's name.
 * `body` is HTML the caller built with escapeHtml.
 */
export function layout(t: Messages, { title, business, body }: { title: string; business?: string; body: string }) {
  return (
    `<!doctype html><html lang="${t.lang}" dir="${t.dir}"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="robots" content="noindex">` +
    `<title>${escapeHtml(title)}</title><link rel="stylesheet" href="${CONNECT_CSS_PATH}"></head><body>` +
    (business ? `<header class="top"><p>${escapeHtml(business)}</p></header>` : '') +
    `<main id="main">${body}</main>` +
    `<footer><p>${escapeHtml(t.footer)}</p></footer></body></html>`
  );
}

/** A page that says one thing and what to do next: success, or an error in the same style. */
export function messagePage(
  t: Messages,
  page: {
    kind: 'ok' | 'bad';
    title: string;
    body: string;
    next?: string;
    business?: string;
    back?: { href: string; label: string };
    id?: string;
  },
): string {
  return layout(t, {
    title: page.business ? `${page.title} — ${page.business}` : page.title,
    business: page.business,
    body:
      `<section class="notice ${page.kind}" id="${escapeHtml(page.id ?? 'message')}" role="${page.kind === 'bad' ? 'alert' : 'status'}">` +
      `<h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.body)}</p></section>` +
      (page.next ? `<h2>${escapeHtml(t.whatToDo)}</h2><p class="next">${escapeHtml(page.next)}</p>` : '') +
      (page.back
        ? `<p class="actions"><a class="button primary" href="${escapeHtml(page.back.href)}">${escapeHtml(page.back.label)}</a></p>`
        : ''),
  });
}
