/** Purchase's HTML fragments for the web front: cart and badge, buy box, checkout, payment, orders, sales. */
import { field, formAlert, formatPrice, html, notice, pagination, raw, type Html } from '@bookstore/shared/html';
import type { CartJson, DeliveryProviderJson, OrderJson, OrderPage, PublicOrderStatus } from '@bookstore/shared/contracts/purchase';
import type { SalePage } from './orders.ts';

const statusLabels: Record<PublicOrderStatus, string> = {
  awaiting_payment: 'Awaiting payment',
  paid: 'Paid',
  shipped: 'Shipped',
  cancelled: 'Cancelled',
  expired: 'Expired',
};
const when = (iso: string) => html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
const statusBadge = (status: PublicOrderStatus) => html`<span class="status status-${status}">${statusLabels[status]}</span>`;

/** The header's cart link with its count; `oob` makes htmx swap it in place from any answer. */
export function cartBadge(count: number | null, oob = false): Html {
  return html`<a id="cart-badge" class="cart-badge" href="/cart"${oob ? raw(' hx-swap-oob="true"') : ''}>Cart${count ? html` <span class="badge" aria-label="${count} items">${count}</span>` : ''}</a>`;
}

/** The buy box on a book's page: how many, and "Add to cart". */
export function buyBox(bookId: number, message?: Html | string, error?: string): Html {
  return html`<form id="buy-box" class="buy-box card" method="post" action="/cart/items" hx-post="/cart/items" hx-target="this" hx-swap="outerHTML">
    <input type="hidden" name="bookId" value="${bookId}">
    ${formAlert(error)}
    ${message ? html`<p class="notice" role="status">${message}</p>` : ''}
    ${field({ label: 'Quantity', name: 'quantity', type: 'number', value: 1, min: 1, max: 100, required: true })}
    <button type="submit">Add to cart</button>
  </form>`;
}

export function cartView(cart: CartJson, options: { error?: string; stale?: boolean } = {}): Html {
  if (cart.items.length === 0) return html`<section id="cart"><h1>Your cart</h1>${formAlert(options.error)}<p class="notice">Your cart is empty. <a href="/catalog">Find a book</a>.</p></section>`;
  return html`<section id="cart">
    <h1>Your cart</h1>
    ${formAlert(options.error)}
    ${options.stale ? html`<p class="notice">Prices and stock cannot be checked right now; they will be at checkout.</p>` : ''}
    <table class="table">
      <thead><tr><th>Book</th><th>Price</th><th>Quantity</th><th>Line</th><th></th></tr></thead>
      <tbody>
        ${cart.items.map(
          (item) => html`<tr id="cart-item-${item.bookId}">
            <td><a href="/books/${item.bookId}">${item.title}</a>${item.available < item.quantity ? html`<br><span class="stock out">${item.available === 0 ? 'Out of stock' : `Only ${item.available} left`}</span>` : ''}</td>
            <td>${formatPrice(item.unitPriceCents)}</td>
            <td><form method="post" action="/cart/items/${item.bookId}" class="inline" hx-post="/cart/items/${item.bookId}" hx-target="#cart" hx-swap="outerHTML">
              <label class="visually-hidden" for="qty-${item.bookId}">Quantity of ${item.title}</label>
              <input id="qty-${item.bookId}" name="quantity" type="number" min="0" max="100" value="${item.quantity}" class="qty">
              <button type="submit" class="secondary">Update</button></form></td>
            <td>${formatPrice(item.unitPriceCents * item.quantity)}</td>
            <td><form method="post" action="/cart/items/${item.bookId}/remove" class="inline" hx-post="/cart/items/${item.bookId}/remove" hx-target="#cart" hx-swap="outerHTML"><button type="submit" class="link">Remove</button></form></td>
          </tr>`,
        )}
      </tbody>
    </table>
    <p class="total">Subtotal (${cart.count} ${cart.count === 1 ? 'copy' : 'copies'}): <strong>${formatPrice(cart.subtotalCents)}</strong></p>
    <p class="actions"><a class="button" href="/checkout">Checkout</a><a href="/catalog">Keep shopping</a></p>
  </section>`;
}

function providerChoice(providers: DeliveryProviderJson[], selected: number): Html {
  return html`<fieldset class="providers"><legend>Delivery</legend>
    ${providers.map(
      (provider) => html`<label class="check"><input type="radio" name="providerId" value="${provider.id}"${provider.id === selected ? raw(' checked') : ''} required>
        ${provider.name} (${provider.scope}) — ${formatPrice(provider.priceCents)}</label>`,
    )}
  </fieldset>`;
}

export function checkoutTotal(subtotalCents: number, delivery: DeliveryProviderJson | undefined): Html {
  return html`<p id="checkout-total" class="total" aria-live="polite">Books ${formatPrice(subtotalCents)} + delivery ${formatPrice(delivery?.priceCents ?? 0)} = <strong>${formatPrice(subtotalCents + (delivery?.priceCents ?? 0))}</strong></p>`;
}

/** Checkout, step 1: the cart, a carrier, the total; placing the order holds the stock. */
export function checkoutForm(cart: CartJson, providers: DeliveryProviderJson[], view: { providerId: number; key: string; error?: string }): Html {
  if (cart.items.length === 0) return html`<section id="checkout"><h1>Checkout</h1>${formAlert(view.error)}<p class="notice">Your cart is empty. <a href="/catalog">Find a book</a>.</p></section>`;
  return html`<section id="checkout">
    <h1>Checkout</h1>
    <ol class="steps"><li class="current">Delivery</li><li>Payment</li><li>Confirmation</li></ol>
    ${formAlert(view.error)}
    <ul class="summary">${cart.items.map((item) => html`<li>${item.quantity} × ${item.title} — ${formatPrice(item.unitPriceCents * item.quantity)}</li>`)}</ul>
    <form method="post" action="/checkout" class="card form wide" hx-post="/checkout" hx-target="#checkout" hx-swap="outerHTML">
      <input type="hidden" name="key" value="${view.key}">
      <div hx-get="/checkout/total" hx-trigger="change" hx-target="#checkout-total" hx-swap="outerHTML" hx-include="closest form">${providerChoice(providers, view.providerId)}</div>
      ${checkoutTotal(cart.subtotalCents, providers.find((provider) => provider.id === view.providerId))}
      <button type="submit">Place order and go to payment</button>
      <p class="hint">Your books are held for you while you pay.</p>
    </form>
  </section>`;
}

/** Checkout, step 2: the order's total, its carrier (still changeable) and the card form. */
export function paymentForm(order: OrderJson, providers: DeliveryProviderJson[], view: { key: string; error?: string; values?: Record<string, string> }): Html {
  const values = view.values ?? {};
  return html`<section id="payment">
    <h1>Pay for your order</h1>
    <ol class="steps"><li>Delivery</li><li class="current">Payment</li><li>Confirmation</li></ol>
    ${orderSummary(order)}
    <form method="post" action="/orders/${order.id}/delivery" class="inline-form">
      <label for="field-delivery">Delivery</label>
      <select id="field-delivery" name="providerId">${providers.map((provider) => html`<option value="${provider.id}"${provider.id === order.provider.id ? raw(' selected') : ''}>${provider.name} — ${formatPrice(provider.priceCents)}</option>`)}</select>
      <button type="submit" class="secondary">Change delivery</button>
    </form>
    <form id="payment-form" method="post" action="/orders/${order.id}/pay" class="card form wide" hx-post="/orders/${order.id}/pay" hx-target="#payment" hx-swap="outerHTML" hx-disabled-elt="find button">
      <h2>Card</h2>
      ${formAlert(view.error)}
      <input type="hidden" name="key" value="${view.key}">
      ${field({ label: 'Card number', name: 'cardNumber', value: values.cardNumber ?? '', required: true, autocomplete: 'cc-number', maxlength: 23 })}
      <div class="row">
        ${field({ label: 'Expiry month', name: 'expMonth', type: 'number', value: values.expMonth ?? '', required: true, min: 1, max: 12, autocomplete: 'cc-exp-month' })}
        ${field({ label: 'Expiry year', name: 'expYear', type: 'number', value: values.expYear ?? '', required: true, min: 2000, max: 2100, autocomplete: 'cc-exp-year' })}
        ${field({ label: 'CVC', name: 'cvc', required: true, maxlength: 4, autocomplete: 'cc-csc' })}
      </div>
      ${field({ label: 'Name on card', name: 'holder', value: values.holder ?? '', required: true, autocomplete: 'cc-name', maxlength: 100 })}
      <button type="submit">Pay ${formatPrice(order.totalCents)}</button>
    </form>
    <form method="post" action="/orders/${order.id}/cancel" class="inline"><button type="submit" class="link">Cancel this order</button></form>
  </section>`;
}

function orderSummary(order: OrderJson): Html {
  return html`<table class="table summary">
    <tbody>
      ${order.items.map(
        (item) => html`<tr><td>${item.quantity} × <a href="/books/${item.bookId}">${item.title}</a>${item.shippedAt ? html`<br><span class="muted">Shipped ${when(item.shippedAt)}${item.trackingCode ? html`, tracking ${item.trackingCode}` : ''}</span>` : ''}</td><td>${formatPrice(item.unitPriceCents * item.quantity)}</td></tr>`,
      )}
      <tr><td>Delivery: ${order.provider.name}</td><td>${formatPrice(order.deliveryCents)}</td></tr>
      <tr class="total"><td><strong>Total</strong></td><td><strong>${formatPrice(order.totalCents)}</strong></td></tr>
    </tbody>
  </table>`;
}

/** An order's page: status, what it holds, its history; pay or cancel while it awaits payment. */
export function orderDetail(order: OrderJson, view: { confirmation?: boolean; pending?: boolean; own: boolean }): Html {
  return html`<section id="order" class="order">
    ${view.confirmation && order.status === 'paid' ? html`<div class="notice success" role="status"><h2>Thank you!</h2><p>Your order number is <strong>${order.id}</strong>. The sellers have been told.</p></div>` : ''}
    ${view.pending || (order.status === 'awaiting_payment' && order.payment?.status === 'pending') ? html`<p class="notice" role="status">Your payment is being confirmed. This page will show it once the card network answers; you will not be charged twice.</p>` : ''}
    <h1>Order ${order.id}</h1>
    <p>${statusBadge(order.status)}${order.payment ? html` <span class="muted">Card ending ${order.payment.last4} (${order.payment.status})</span>` : ''}</p>
    ${orderSummary(order)}
    ${order.status === 'awaiting_payment' && order.expiresAt ? html`<p class="muted">Pay before ${when(order.expiresAt)}, or the books go back on sale.</p>` : ''}
    ${view.own && order.status === 'awaiting_payment' && order.payment?.status !== 'pending'
      ? html`<p class="actions"><a class="button" href="/orders/${order.id}/pay">Pay now</a>
          <form method="post" action="/orders/${order.id}/cancel" class="inline"><button type="submit" class="secondary">Cancel order</button></form></p>`
      : ''}
    <h2>History</h2>
    <ol class="history">${order.history.map((event) => html`<li>${statusLabels[event.status as PublicOrderStatus] ?? event.status} — ${when(event.at)}</li>`)}</ol>
    <p><a href="/orders">All my orders</a></p>
  </section>`;
}

export function orderList(listing: OrderPage, options: { title: string; hrefBase: string; showBuyer?: boolean }): Html {
  return html`<section id="orders">
    <h1>${options.title}</h1>
    ${listing.items.length === 0
      ? html`<p class="notice">No orders yet. <a href="/catalog">Find a book</a>.</p>`
      : html`<table class="table">
          <thead><tr><th>Order</th><th>Placed</th>${options.showBuyer ? html`<th>Buyer</th>` : ''}<th>Books</th><th>Total</th><th>Status</th></tr></thead>
          <tbody>${listing.items.map(
            (order) => html`<tr><td><a href="/orders/${order.id}">${order.id}</a></td><td>${when(order.createdAt)}</td>${options.showBuyer ? html`<td>#${order.buyerId}</td>` : ''}
              <td>${order.items.map((item) => item.title).join(', ')}</td><td>${formatPrice(order.totalCents)}</td><td>${statusBadge(order.status)}</td></tr>`,
          )}</tbody>
        </table>`}
    ${pagination({ ...listing, hrefFor: (page) => `${options.hrefBase}?page=${page}` })}
  </section>`;
}

export function salesList(listing: SalePage, message?: string): Html {
  return html`<section id="sales">
    <h1>My sales</h1>
    ${message ? html`<p class="notice" role="status">${message}</p>` : ''}
    ${listing.items.length === 0
      ? html`<p class="notice">None of your books has been sold yet.</p>`
      : html`<table class="table">
          <thead><tr><th>Book</th><th>Qty</th><th>Buyer</th><th>Delivery</th><th>Sold</th><th>Shipping</th></tr></thead>
          <tbody>${listing.items.map(
            (sale) => html`<tr id="sale-${sale.orderId}-${sale.bookId}"><td>${sale.title}<br><span class="muted">${sale.orderId}</span></td><td>${sale.quantity}</td><td>${sale.buyerName}</td><td>${sale.provider}</td><td>${when(sale.soldAt)}</td>
              <td>${sale.shippedAt
                ? html`Shipped ${when(sale.shippedAt)}${sale.trackingCode ? html`<br>Tracking ${sale.trackingCode}` : ''}`
                : html`<form method="post" action="/sales/${sale.orderId}/${sale.bookId}/ship" class="inline-form">
                    <label for="tracking-${sale.orderId}-${sale.bookId}">Tracking code (optional)</label>
                    <input id="tracking-${sale.orderId}-${sale.bookId}" name="trackingCode" maxlength="100">
                    <button type="submit">Mark shipped</button></form>`}</td></tr>`,
          )}</tbody>
        </table>`}
    ${pagination({ ...listing, hrefFor: (page) => `/sales?page=${page}` })}
  </section>`;
}

export { notice };
