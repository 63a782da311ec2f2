/**
 * The shop's own pages, linked from every footer: about, shipping and delivery, returns, privacy,
 * contact. Plain text that says what the code does; the delivery prices come from purchase, which
 * charges them, so this page never repeats a number.
 */
import { Hono, type Context } from 'hono';
import { html, type Html } from '@bookstore/shared/html';
import type { WebEnv } from '../app.ts';
import { fragment, respond } from '../render.ts';

/** Where shoppers write to; the one address every page gives. */
const contactEmail = 'help@bookstore.test';

export const infoPages = new Hono<WebEnv>()
  .get('/about', (c) => respond(c, 'About', about))
  .get('/shipping', showShipping)
  .get('/returns', (c) => respond(c, 'Returns and cancellations', returns))
  .get('/privacy', (c) => respond(c, 'Privacy', privacy))
  .get('/contact', (c) => respond(c, 'Contact', contact));

/** The carriers and their prices, as purchase charges them (a retry box while purchase is down). */
async function showShipping(c: Context<WebEnv>) {
  const prices = fragment(c, { client: c.var.deps.clients.purchase, path: '/fragments/delivery', label: 'The list of carriers', retryUrl: '/shipping' });
  return respond(
    c,
    'Shipping and delivery',
    prices.then(
      (table) => html`<article class="prose">
        <h1>Shipping and delivery</h1>
        <p>Every book is sent by the reader who sells it, with the carrier you choose at checkout.</p>
        ${table.html}
        <h2>After you pay</h2>
        <p>Each seller is told at once. When they send your book they mark it shipped, with the carrier's tracking code when there is one, and your order's page shows it: see <a href="/orders">My orders</a>.</p>
        <p>An order with books from several sellers comes in several parcels, one from each seller, for the one delivery price above.</p>
        <h2>Something wrong?</h2>
        <p>If a parcel does not arrive, see <a href="/returns">Returns</a> or <a href="/contact">write to us</a> with your order number.</p>
      </article>`,
    ),
  );
}

const about: Html = html`<article class="prose">
  <h1>About Bookstore</h1>
  <p>Bookstore is a shop where readers sell the books they have finished to other readers. Anyone can browse; with an account you can buy, and sell your own books too.</p>
  <h2>How buying works</h2>
  <ol>
    <li>Put books in your cart and go to checkout.</li>
    <li>Choose a carrier. Placing the order holds the copies for you while you pay; the payment page says until when. If you do not pay in time, they go back on sale and nothing is charged.</li>
    <li>Pay by card. The price is the one we checked when you placed the order, never one sent by your browser, and delivery is shown before you pay.</li>
    <li>Each seller sends their books and marks them shipped; your order's page follows them.</li>
  </ol>
  <h2>Selling</h2>
  <p>List a book with its price and the number of copies you have under <a href="/sell">Sell</a>. When one sells, it appears under <a href="/sales">My sales</a> with the buyer's name and the carrier they chose; send it and mark it shipped.</p>
  <h2>More</h2>
  <ul>
    <li><a href="/shipping">Shipping and delivery</a>: carriers and what they cost.</li>
    <li><a href="/returns">Returns and cancellations</a>.</li>
    <li><a href="/privacy">Privacy</a>: what we keep about you, and how to delete your account.</li>
    <li><a href="/contact">Contact</a>.</li>
  </ul>
</article>`;

const returns: Html = html`<article class="prose">
  <h1>Returns and cancellations</h1>
  <h2>Before you pay</h2>
  <p>You can cancel an order until it is paid: open it under <a href="/orders">My orders</a> and choose “Cancel order”. The books go back on sale and nothing is charged. An order that is not paid in time is cancelled by itself, the same way.</p>
  <h2>After you pay</h2>
  <p>A paid order can no longer be cancelled on the site, because its seller may already be packing it. If something is wrong, <a href="/contact">write to us</a> with your order number:</p>
  <ul>
    <li><strong>The book never arrived</strong>: we ask the seller for the tracking code and follow it up with the carrier. If it is lost, you get the book and its delivery back.</li>
    <li><strong>The book is not what its page said</strong> (another edition, missing pages, damage not mentioned): send it back to the seller and you get the book and its delivery back.</li>
  </ul>
  <p>Refunds are made by a person on our team, to the card you paid with. The books here are second-hand copies from private sellers, so we cannot take a book back only because you changed your mind; we will still ask the seller if you want.</p>
</article>`;

const privacy: Html = html`<article class="prose">
  <h1>Privacy: what we keep</h1>
  <h2>Your account</h2>
  <ul>
    <li><strong>Your name</strong>: shown as the seller of the books you sell, and to sellers of the books you buy.</li>
    <li><strong>Your email</strong>: to log in. Other users never see it; the shop's administrators do.</li>
    <li><strong>Your password</strong>, as an <strong>argon2 hash</strong>: a one-way scramble we can check a password against. We never store or see the password itself.</li>
  </ul>
  <h2>When you log in</h2>
  <p>A session, so you can log out everywhere at once; the network addresses of login attempts, to stop password guessing (failed attempts count for a few minutes); and a one-way hash of the addresses you logged in from, kept a few weeks, so someone guessing from elsewhere cannot lock you out.</p>
  <h2>Your orders and sales</h2>
  <p>The books, their prices, the carrier, the order's history, and for the payment only <strong>the last four digits of the card</strong> and whether it went through. Never the full card number or its security code. The books you sell: what you wrote about them, the price, the stock and the cover.</p>
  <h2>Cookies</h2>
  <p>Only what the shop needs to work: one that keeps you logged in, and short-lived ones for a book you added before logging in, for showing your own change at once, and for a message on the next page. No advertising or tracking cookies, and no scripts from other sites.</p>
  <h2>Logs</h2>
  <p>Our servers record each request (the page, when, and how it went) to find and fix problems. Passwords, tokens and cookies are never written there.</p>
  <h2>Deleting your account</h2>
  <p>You can delete your account yourself on <a href="/account">Your account</a>, with your password, once every book you sold has been shipped. Your name, email and password are wiped at once, you are signed out everywhere, and the books you sell leave the catalog. Orders already placed are kept, with the name they were placed under, because their buyers, the sellers who ship them and our accounts need them.</p>
  <p>Questions about your data: <a href="/contact">contact us</a>.</p>
</article>`;

const contact: Html = html`<article class="prose">
  <h1>Contact</h1>
  <p>Questions about an order, a book, selling or your account: write to <a href="mailto:${contactEmail}">${contactEmail}</a>. A person reads every message, and answers on working days.</p>
  <p>Please give your <strong>order number</strong> (it starts with <code>ord_</code>, on your order's page) when it is about an order.</p>
  <p class="notice">We never ask for your password or your card number, by email or otherwise. A message that does is not from us.</p>
</article>`;
