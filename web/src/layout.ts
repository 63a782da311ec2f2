/** The page around every fragment: head, navigation with the account box, main, footer. */
import { html, raw, type Html } from '@bookstore/shared/html';

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
