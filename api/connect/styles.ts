import { createHash } from 'node:crypto';

/**
 * The connect page's one stylesheet, served by calsync itself (no CDN): mobile first, system
 * fonts, logical properties (`margin-inline-start`, `text-align: start`) so right-to-left pages
 * (Persian) mirror without a second sheet, and colours with at least 4.5:1 contrast (WCAG AA).
 */
export const CONNECT_CSS = `
:root{--ink:#1d2330;--muted:#4a5366;--line:#d5dae3;--bg:#f4f6fa;--card:#fff;--accent:#1f5fbf;--ok:#17663a;--ok-bg:#e6f4ec;--warn:#8a4b00;--warn-bg:#fff3e0;--bad:#a3212b;--bad-bg:#fdecee;--radius:14px}
*{box-sizing:border-box}
html{font-size:100%;-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Vazirmatn",Tahoma,sans-serif}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}
.skip{position:absolute;inset-inline-start:-999px}
.skip:focus{inset-inline-start:1rem;top:1rem;background:#fff;padding:.5rem 1rem;z-index:2}
header.top{background:var(--card);border-block-end:1px solid var(--line);padding:.75rem 1rem}
header.top p{margin:0;font-weight:600;color:var(--muted);font-size:.95rem}
main{max-width:36rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 .75rem}
h2{font-size:1.15rem;margin:1.5rem 0 .75rem}
p{margin:.5rem 0}
.lead{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:1rem;margin:1rem 0}
.stack{display:flex;flex-direction:column;gap:.75rem;margin:0;padding:0;list-style:none}
form{margin:0}
.button{display:flex;align-items:center;justify-content:center;gap:.75rem;width:100%;min-height:3.25rem;padding:.75rem 1rem;border-radius:12px;border:2px solid var(--ink);background:var(--card);color:var(--ink);font:inherit;font-weight:600;font-size:1.05rem;text-decoration:none;cursor:pointer}
.button:hover{background:#eef2f8}
.button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
.button.primary:hover{background:#184c99}
.button.danger{background:var(--bad);border-color:var(--bad);color:#fff}
.button.quiet{border-color:var(--line);font-weight:500}
.mark{flex:none;width:2rem;height:2rem}
.button.primary .mark rect{stroke:#fff;stroke-width:3}
.hint{font-size:.9rem;color:var(--muted)}
.link{display:flex;flex-direction:column;gap:.5rem}
.who{display:flex;align-items:center;gap:.75rem}
.link .account{font-weight:600;overflow-wrap:anywhere}
.badge{display:inline-block;padding:.15rem .6rem;border-radius:999px;font-size:.9rem;font-weight:600}
.badge.active{background:var(--ok-bg);color:var(--ok)}
.badge.needs_reauth{background:var(--warn-bg);color:var(--warn)}
.badge.connecting,.badge.disconnecting,.badge.disconnected{background:#eceff4;color:var(--muted)}
.link.needs_reauth{border-color:#e0a458;border-width:2px}
.notice{border-radius:var(--radius);padding:1rem;margin:1rem 0;border:1px solid var(--line)}
.notice.ok{background:var(--ok-bg);border-color:#9fd3b3}
.notice.bad{background:var(--bad-bg);border-color:#f0b3b9}
.notice h1,.notice h2{margin-top:0}
.people a{display:block;padding:.85rem 1rem;border:1px solid var(--line);border-radius:12px;background:var(--card);font-weight:600;text-decoration:none}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input,select{width:100%;min-height:2.75rem;padding:.5rem .75rem;border:2px solid #6b7385;border-radius:10px;font:inherit;background:#fff;color:var(--ink)}
.actions{display:flex;flex-direction:column;gap:.75rem;margin-top:1rem}
footer{max-width:36rem;margin:2rem auto;padding:0 1rem 2rem;color:var(--muted);font-size:.85rem}
@media (min-width:40rem){main{padding:2rem 1rem}h1{font-size:1.85rem}.actions{flex-direction:row}.actions>*{flex:1}}
`;

/** The sheet's path carries a hash of its content: cached for a year, replaced by any change. */
export const CONNECT_CSS_PATH = `/connect/assets/style-${createHash('sha256').update(CONNECT_CSS).digest('hex').slice(0, 12)}.css`;
