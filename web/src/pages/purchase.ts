/** Buyer and seller pages of purchase: cart, checkout, payment, orders, sales, all orders (admins). */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { ServiceUnavailableError } from '@bookstore/shared/http';
import type { WebEnv } from '../app.ts';
import { loginFirst, showServicePage, submitServiceForm, type ServicePage } from '../proxy.ts';
import { readForm } from '@bookstore/shared/validation';
import { markWritten } from '../session.ts';

const buying: ServicePage = { client: (c) => c.var.deps.clients.purchase, title: 'Cart', label: 'Buying', home: '/cart' };
const titled = (title: string, home = buying.home): ServicePage => ({ ...buying, title, home });
const orderId = ':id{ord_[a-z2-7]{24}}';
const bookId = ':bookId{[0-9]{1,10}}';

/** An "Add to cart" pressed before logging in: kept (HttpOnly, 15 min) and done right after login. */
export const pendingAddCookie = 'bookstore_pending_add';

export const purchasePages = new Hono<WebEnv>()
  .get('/cart', (c) => showServicePage(c, titled('Your cart'), '/cart'))
  .post('/cart/items', addToCart)
  .post(`/cart/items/${bookId}`, (c) => submitServiceForm(c, titled('Your cart'), `/cart/items/${Number(c.req.param('bookId'))}`))
  .post(`/cart/items/${bookId}/remove`, (c) => submitServiceForm(c, titled('Your cart'), `/cart/items/${Number(c.req.param('bookId'))}/remove`))
  .get('/checkout', (c) => showServicePage(c, titled('Checkout: delivery', '/checkout'), '/checkout'))
  .get('/checkout/total', (c) => showServicePage(c, titled('Checkout: delivery', '/checkout'), '/checkout/total'))
  .post('/checkout', (c) => submitServiceForm(c, titled('Checkout: delivery', '/checkout'), '/checkout'))
  .get('/orders', (c) => showServicePage(c, titled('My orders', '/orders'), '/orders'))
  .get(`/orders/${orderId}`, (c) => showServicePage(c, titled(`Order ${c.req.param('id')}`, '/orders'), `/orders/${c.req.param('id')}`))
  .get(`/orders/${orderId}/pay`, (c) => showServicePage(c, titled(`Pay for order ${c.req.param('id')}`, '/orders'), `/orders/${c.req.param('id')}/pay`))
  .post(`/orders/${orderId}/pay`, (c) => submitServiceForm(c, titled(`Pay for order ${c.req.param('id')}`, `/orders/${c.req.param('id')}`), `/orders/${c.req.param('id')}/pay`))
  .post(`/orders/${orderId}/delivery`, (c) => submitServiceForm(c, titled(`Pay for order ${c.req.param('id')}`, `/orders/${c.req.param('id')}`), `/orders/${c.req.param('id')}/delivery`))
  .post(`/orders/${orderId}/cancel`, (c) => submitServiceForm(c, titled(`Order ${c.req.param('id')}`, `/orders/${c.req.param('id')}`), `/orders/${c.req.param('id')}/cancel`))
  .get('/sales', (c) => showServicePage(c, titled('My sales', '/sales'), '/sales'))
  .post(`/sales/${orderId}/${bookId}/ship`, (c) => submitServiceForm(c, titled('My sales', '/sales'), `/sales/${c.req.param('id')}/${Number(c.req.param('bookId'))}/ship`))
  .get('/admin/orders', (c) => showServicePage(c, titled('All orders', '/admin/orders'), '/admin/orders'));

/** Add to cart; a visitor is sent to log in first and comes back with the book in the cart. */
async function addToCart(c: Context<WebEnv>) {
  if (c.var.principal) return submitServiceForm(c, titled('Your cart'), '/cart/items');
  const form = await readForm(c);
  const bookId = String(form.bookId ?? '');
  const quantity = String(form.quantity || '1');
  if (/^\d{1,10}$/.test(bookId) && /^\d{1,3}$/.test(quantity)) {
    setCookie(c, pendingAddCookie, `${bookId}:${quantity}`, { httpOnly: true, sameSite: 'Lax', secure: c.var.deps.config.COOKIE_SECURE, path: '/', maxAge: 15 * 60 });
  }
  return loginFirst(c, '/cart');
}

/** After a login: puts the book the visitor wanted into their cart (best effort; the cart page shows the result). */
export async function addPendingToCart(c: Context<WebEnv>, token: string): Promise<void> {
  const pending = getCookie(c, pendingAddCookie)?.match(/^(\d{1,10}):(\d{1,3})$/);
  if (!pending) return;
  deleteCookie(c, pendingAddCookie, { path: '/' });
  try {
    const response = await c.var.deps.clients.purchase.request('/fragments/cart/items', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
      body: new URLSearchParams({ bookId: pending[1]!, quantity: pending[2]! }),
      redirect: 'manual',
    });
    await response.body?.cancel();
    markWritten(c, c.var.deps.config.COOKIE_SECURE);
  } catch (error) {
    if (!(error instanceof ServiceUnavailableError)) throw error;
    c.var.deps.log.warn('could not add the pending book to the cart after login');
  }
}
