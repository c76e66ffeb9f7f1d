import type { Response } from 'express';

/** Answers a connect page: no caching, no framing, no script, styles only from calsync itself. */
export function sendPage(res: Response, status: number, html: string): void {
  res.status(status);
  res.setHeader('Cache-Control', 'no-store');
  // Not no-referrer: with it, Chromium sends `Origin: null` on the page's own form posts.
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  res.type('html').send(html);
}
