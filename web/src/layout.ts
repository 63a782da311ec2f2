/** The page around every fragment: head, navigation with the account box, main, footer. */
import type { Principal } from '@bookstore/shared/auth';
import { html, raw, unavailableBox, type Html } from '@bookstore/shared/html';

// htmx 2 settings: no inline indicator styles (the CSP forbids them), and 4xx answers (a form with
// its errors) are swapped in like 2xx; 5xx are not.
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
  main: Html | string;
}

export const htmxPath = '/assets/htmx-2.0.11.min.js';

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
</head>
<body>
  <header class="site-header">
    <a class="brand" href="/">Bookstore</a>
    <nav class="site-nav" aria-label="Main">
      <a href="/catalog">Catalog</a>
      <a href="/sell">Sell</a>
      ${parts.cartBadge ?? ''}
    </nav>
    <div class="account">${parts.accountMenu}</div>
  </header>
  <main id="main">${parts.main}</main>
  <footer class="site-footer">Bookstore — books from readers, for readers.</footer>
</body>
</html>`;
}

/**
 * The account box of the navigation, from the session the web front has verified itself (a token
 * signed by auth and not revoked): no call to auth on each page. `'unknown'` is a session auth could
 * not be asked about (its keys were never fetched): the box says so instead of "Log in".
 */
export function accountMenu(viewer: Pick<Principal, 'name' | 'role'> | null | 'unknown'): Html {
  if (viewer === 'unknown') return unavailableBox('Your account');
  if (!viewer) {
    return html`<div class="account-menu" id="account-menu">
      <a href="/login">Log in</a>
      <a class="button" href="/register">Register</a>
    </div>`;
  }
  return html`<div class="account-menu" id="account-menu">
    <span class="who">Signed in as <strong>${viewer.name}</strong></span>
    <a href="/account">Account</a>
    <a href="/sell">Sell</a>
    <a href="/orders">My orders</a>
    <a href="/sales">My sales</a>
    ${viewer.role === 'admin' ? html`<a href="/admin/users">Users</a> <a href="/admin/orders">All orders</a>` : ''}
    <form method="post" action="/logout" class="inline">
      <button type="submit" class="link">Log out</button>
    </form>
  </div>`;
}
