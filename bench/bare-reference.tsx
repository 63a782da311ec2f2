// @ts-nocheck -- hono is web's dependency, loaded from there at run time; the typecheck cannot follow it.
/** @jsxRuntime classic */
/** @jsx jsx */
/**
 * The bare reference of the benchmark: a plain Hono + hono/jsx page listing the 24 newest books of
 * catalog's `books` table with mysql2, shaped like the first page of the shop's /catalog (layout,
 * filters form, book cards with their add-to-cart form, pages). No services, no ORM, no fragments:
 * what one process and one query cost on this machine. Started by bench/run.ts beside the shop.
 *
 *   BENCH_DATABASE_URL=mysql://root@127.0.0.1:3306/db PORT=39000 bun bench/bare-reference.tsx
 */
import { resolve } from 'node:path';
import mysql from 'mysql2/promise';

// bench/ is not a workspace package: hono (and hono/jsx, whose `jsx` the pragma above calls) are
// the web front's, the same version the shop renders with.
const webDir = resolve(import.meta.dir, '../web');
const { Hono } = await import(Bun.resolveSync('hono', webDir));
const { jsx } = await import(Bun.resolveSync('hono/jsx', webDir));

const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/test';
const port = Number(process.env.PORT ?? 39_000);
// As many connections as a shop service opens (DATABASE_POOL_SIZE's default).
const pool = mysql.createPool({ uri: databaseUrl.replace(/^mariadb:/, 'mysql:'), connectionLimit: 10 });

interface BookRow {
  id: number;
  title: string;
  author: string;
  price_cents: number;
  stock: number;
}

// The shop's formatPrice text ("$1,299.00"), with the formatter made once: toLocaleString builds
// one per call, 15 µs each here, a third of this page's rendering.
const dollars = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const price = (cents: number) => `$${dollars.format(cents / 100)}`;

function Layout(props: { title: string; children: unknown }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · Bookstore</title>
        <link rel="stylesheet" href="/static/style.css" />
        <script src="/assets/htmx-2.0.11.min.js" defer></script>
      </head>
      <body>
        <header class="site-header">
          <a class="brand" href="/">Bookstore</a>
          <nav class="site-nav" aria-label="Main">
            <a href="/catalog">Catalog</a>
            <a href="/sell">Sell</a>
          </nav>
          <div class="account"><a href="/login">Log in</a> <a href="/register">Register</a></div>
        </header>
        <main id="main">{props.children}</main>
        <footer class="site-footer">Bookstore — books from readers, for readers.</footer>
      </body>
    </html>
  );
}

function BookCard({ book }: { book: BookRow }) {
  return (
    <article class="book-card">
      <a href={`/books/${book.id}`}><div class="cover" aria-hidden="true">{book.title.charAt(0).toUpperCase()}</div></a>
      <a class="title" href={`/books/${book.id}`}>{book.title}</a>
      <span class="author">{book.author}</span>
      <span class="price">{price(book.price_cents)}</span>
      {book.stock > 0 ? <span class="stock in">In stock</span> : <span class="stock out">Out of stock</span>}
      {book.stock > 0 && (
        <form method="post" action="/cart/items" class="add-to-cart" hx-post="/cart/items" hx-target="this" hx-swap="outerHTML">
          <input type="hidden" name="bookId" value={String(book.id)} />
          <input type="hidden" name="quantity" value="1" />
          <button type="submit" class="secondary" aria-label={`Add ${book.title} to cart`}>Add to cart</button>
        </form>
      )}
    </article>
  );
}

function Catalog({ books }: { books: BookRow[] }) {
  return (
    <section class="catalog">
      <h1>Catalog</h1>
      <form class="filters" method="get" action="/catalog" role="search" hx-get="/catalog" hx-target="#book-results" hx-push-url="true">
        <div class="field search"><label for="field-q">Search title or author</label><input id="field-q" type="search" name="q" maxlength="200" /></div>
        <div class="field"><label for="field-minPrice">Min $</label><input id="field-minPrice" name="minPrice" type="number" min="0" step="0.01" /></div>
        <div class="field"><label for="field-maxPrice">Max $</label><input id="field-maxPrice" name="maxPrice" type="number" min="0" step="0.01" /></div>
        <label class="check"><input type="checkbox" name="inStock" value="true" /> In stock only</label>
        <button type="submit">Search</button>
      </form>
      <div id="book-results" aria-live="polite">
        <div class="book-grid">{books.map((book) => <BookCard book={book} />)}</div>
        <nav class="pagination" aria-label="Pages"><span>Page 1</span> <a href="/catalog?page=2" rel="next">Next →</a></nav>
      </div>
    </section>
  );
}

const app = new Hono();
app.get('/health/live', (c) => c.text('ok'));
app.get('/catalog', async (c) => {
  const [books] = await pool.query(
    'select id, title, author, price_cents, stock from books where deleted_at is null order by created_at desc, id desc limit 24',
  );
  return c.html(<Layout title="Catalog"><Catalog books={books as BookRow[]} /></Layout>);
});

Bun.serve({ port, hostname: '127.0.0.1', fetch: app.fetch });
