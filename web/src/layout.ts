/** The page around every fragment: head, skip link, header with the account menu, main, footer. */
import type { Principal } from '@bookstore/shared/auth';
import { html, type Html } from '@bookstore/shared/html';

// htmx 2 settings: no inline indicator styles (the CSP forbids them), and 4xx answers (a form with
// its errors) are swapped in like 2xx; 5xx are not. htmx focuses an [autofocus] element of what it
// swaps in, so a form answered with its errors puts the cursor on the first one, as a full page does.
const htmxConfig = JSON.stringify({
  includeIndicatorStyles: false,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '4..', swap: true, error: false },
    { code: '...', swap: false, error: true },
  ],
});

export interface PageParts {
  title: string;
  accountMenu: Html | string;
  /** The cart link with its count (signed-in visitors). */
  cartBadge?: Html | string;
  /** A message above the page's content ("Welcome, Ada — your account is ready."). */
  notice?: Html | string;
  /** Links between the admin pages, on those pages. */
  subNav?: Html | string;
  main: Html | string;
}

export const htmxPath = '/assets/htmx-2.0.11.min.js';

/** The footer's pages: what a shopper checks before handing over a card number. */
const trustLinks: [path: string, label: string][] = [
  ['/about', 'About'],
  ['/shipping', 'Shipping and delivery'],
  ['/returns', 'Returns'],
  ['/privacy', 'Privacy'],
  ['/contact', 'Contact'],
];

export function page(parts: PageParts): Html {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${parts.title} · Bookstore</title>
  <link rel="icon" href="/favicon.ico">
  <link rel="stylesheet" href="/static/style.css">
  <meta name="htmx-config" content="${htmxConfig}">
  <script src="${htmxPath}" defer></script>
  <script src="/static/menu.js" defer></script>
</head>
<body>
  <a class="skip-link" href="#main">Skip to content</a>
  <header class="site-header">
    <div class="header-inner">
      <a class="brand" href="/">Bookstore</a>
      <nav class="site-nav" aria-label="Main">
        <a href="/catalog">Catalog</a>
        <a href="/sell" class="nav-sell">Sell</a>
        ${parts.cartBadge ?? ''}
      </nav>
      <div class="account">${parts.accountMenu}</div>
    </div>
  </header>
  <main id="main" tabindex="-1">${parts.subNav ?? ''}${parts.notice ?? ''}${parts.main}</main>
  <footer class="site-footer">
    <div class="footer-inner">
      <nav aria-label="About the shop">
        <ul>${trustLinks.map(([path, label]) => html`<li><a href="${path}">${label}</a></li>`)}</ul>
      </nav>
      <p>Bookstore — books from readers, for readers. Prices in US dollars; cards are charged only when you pay.</p>
    </div>
  </footer>
</body>
</html>`;
}

/**
 * The account box of the header, from the session the web front has verified itself (a token
 * signed by auth and not revoked): no call to auth on each page. Signed in, it is a menu (a
 * `<details>`, so it opens without JavaScript) holding the account's pages and "Log out". `'unknown'`
 * is a session auth could not be asked about (its keys were never fetched): the box says so.
 */
export function accountMenu(viewer: Pick<Principal, 'name' | 'role'> | null | 'unknown'): Html {
  // Short enough for the header's one line on a phone (the second sentence shows on wider screens).
  if (viewer === 'unknown') return html`<p class="account-unavailable" id="account-menu" role="status"><strong>Your account is unavailable right now.</strong><span class="wide-only"> Please try again shortly.</span></p>`;
  if (!viewer) {
    return html`<div class="account-menu" id="account-menu">
      <a href="/login">Log in</a>
      <a class="button small register" href="/register">Register</a>
    </div>`;
  }
  return html`<details class="account-menu menu" id="account-menu">
    <summary><span class="visually-hidden">Account menu: </span><span class="menu-name">${viewer.name}</span></summary>
    <div class="menu-panel">
      <p class="who">Signed in as <strong>${viewer.name}</strong></p>
      <ul>
        <li><a href="/account">Your account</a></li>
        <li><a href="/orders">My orders</a></li>
        <li><a href="/sell">My books</a></li>
        <li><a href="/sales">My sales</a></li>
      </ul>
      ${viewer.role === 'admin' ? html`<p class="menu-heading" id="menu-admin">Administration</p><ul aria-labelledby="menu-admin">${adminLinks.map(([path, label]) => html`<li><a href="${path}">${label}</a></li>`)}</ul>` : ''}
      <form method="post" action="/logout">
        <button type="submit" class="link">Log out</button>
      </form>
    </div>
  </details>`;
}

/** Every admin page; each is in the admin's menu and in the links atop the admin pages. */
const adminLinks: [path: string, label: string][] = [
  ['/admin/users', 'Users'],
  ['/admin/actions', 'What admins did'],
  ['/admin/orders', 'All orders'],
];

/** The links atop an admin page, the current one marked. */
export function adminNav(currentPath: string): Html {
  return html`<nav class="sub-nav" aria-label="Administration">
    ${adminLinks.map(([path, label]) => html`<a href="${path}"${path === currentPath ? html` aria-current="page"` : ''}>${label}</a>`)}
  </nav>`;
}
