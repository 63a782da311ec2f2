/** Purchase's HTML fragments for the web front: cart and badge, buy box, checkout, payment, orders, sales. */
import { endSentence, field, formAlert, formatPrice, html, notice, pagination, raw, type Html } from '@bookstore/shared/html';
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
  return html`<a id="cart-badge" class="cart-badge" href="/cart"${oob ? raw(' hx-swap-oob="true"') : ''}>Cart${count ? html` <span class="badge">${count}</span><span class="visually-hidden"> ${count === 1 ? 'item' : 'items'}</span>` : ''}</a>`;
}

/** The buy box on a book's page: how many, and "Add to cart". */
export function buyBox(bookId: number, message?: Html | string, error?: string): Html {
  return html`<form id="buy-box" class="buy-box card" method="post" action="/cart/items" hx-post="/cart/items" hx-target="this" hx-swap="outerHTML">
    <input type="hidden" name="bookId" value="${bookId}">
    ${formAlert(error && endSentence(error))}
    ${message ? html`<p class="notice" role="status">${message}</p>` : ''}
    ${field({ label: 'Quantity', name: 'quantity', type: 'number', value: 1, min: 1, max: 100, required: true })}
    <button type="submit">Add to cart</button>
  </form>`;
}

export function cartView(cart: CartJson, options: { error?: string; stale?: boolean } = {}): Html {
  if (cart.items.length === 0) return html`<section id="cart"><h1>Your cart</h1>${formAlert(options.error && endSentence(options.error))}<p class="notice">Your cart is empty. <a href="/catalog">Find a book</a>.</p></section>`;
  return html`<section id="cart">
    <h1>Your cart</h1>
    ${formAlert(options.error && endSentence(options.error))}
    ${options.stale ? html`<p class="notice">Prices and stock cannot be checked right now; they will be at checkout.</p>` : ''}
    <table class="table">
      <thead><tr><th scope="col">Book</th><th scope="col">Price</th><th scope="col">Quantity</th><th scope="col">Line total</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>
      <tbody>
        ${cart.items.map(
          (item) => html`<tr id="cart-item-${item.bookId}">
            <td data-label="Book"><a href="/books/${item.bookId}">${item.title}</a>${item.available < item.quantity ? html`<br><span class="stock out">${item.available === 0 ? 'Out of stock' : `Only ${item.available} left`}</span>` : ''}</td>
            <td data-label="Price">${formatPrice(item.unitPriceCents)}</td>
            <td data-label="Quantity"><form method="post" action="/cart/items/${item.bookId}" class="qty-form" hx-post="/cart/items/${item.bookId}" hx-target="#cart" hx-swap="outerHTML">
              <label class="visually-hidden" for="qty-${item.bookId}">Quantity of ${item.title}</label>
              <input id="qty-${item.bookId}" name="quantity" type="number" min="0" max="100" value="${item.quantity}" class="qty">
              <button type="submit" class="small secondary">Update<span class="visually-hidden"> the quantity of ${item.title}</span></button></form></td>
            <td data-label="Line total">${formatPrice(item.unitPriceCents * item.quantity)}</td>
            <td data-label=""><form method="post" action="/cart/items/${item.bookId}/remove" class="inline" hx-post="/cart/items/${item.bookId}/remove" hx-target="#cart" hx-swap="outerHTML"><button type="submit" class="link">Remove<span class="visually-hidden"> ${item.title}</span></button></form></td>
          </tr>`,
        )}
      </tbody>
    </table>
    <p class="total">Subtotal (${cart.count} ${cart.count === 1 ? 'copy' : 'copies'}): <strong>${formatPrice(cart.subtotalCents)}</strong></p>
    <p class="hint">Delivery is added at checkout: <a href="/shipping">carriers and prices</a>.</p>
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
  if (cart.items.length === 0) return html`<section id="checkout"><h1>Checkout</h1>${formAlert(view.error && endSentence(view.error))}<p class="notice">Your cart is empty. <a href="/catalog">Find a book</a>.</p></section>`;
  return html`<section id="checkout">
    <h1>Checkout</h1>
    <ol class="steps"><li class="current" aria-current="step">Delivery</li><li>Payment</li><li>Confirmation</li></ol>
    ${formAlert(view.error && endSentence(view.error))}
    <div class="checkout-grid">
      <div class="order-side">
        <h2>Your books</h2>
        <ul class="summary-list">${cart.items.map((item) => html`<li><span>${item.quantity} × ${item.title}</span><span class="amount">${formatPrice(item.unitPriceCents * item.quantity)}</span></li>`)}</ul>
        <p class="hint"><a href="/cart">Change your cart</a> · <a href="/shipping">About the carriers</a></p>
      </div>
      <form method="post" action="/checkout" class="card form" hx-post="/checkout" hx-target="#checkout" hx-swap="outerHTML">
        <input type="hidden" name="key" value="${view.key}">
        <div hx-get="/checkout/total" hx-trigger="change" hx-target="#checkout-total" hx-swap="outerHTML" hx-include="closest form">${providerChoice(providers, view.providerId)}</div>
        ${checkoutTotal(cart.subtotalCents, providers.find((provider) => provider.id === view.providerId))}
        <noscript><p class="hint">This total is for the carrier chosen when the page opened: the next step shows the total with the one you choose, before you pay.</p></noscript>
        <button type="submit">Place order and go to payment</button>
        <p class="hint">Your books are held for you while you pay. Nothing is charged yet.</p>
      </form>
    </div>
  </section>`;
}

/** Checkout, step 2: the order's total, its carrier (still changeable) and the card form. */
export function paymentForm(order: OrderJson, providers: DeliveryProviderJson[], view: { key: string; error?: string; errors?: Record<string, string>; values?: Record<string, string> }): Html {
  const values = view.values ?? {};
  const errors = Object.fromEntries(Object.entries(view.errors ?? {}).map(([name, message]) => [name, cardErrorSentence(name, message)]));
  const first = cardFields.find((name) => errors[name]);
  const problem = (name: (typeof cardFields)[number]) => ({ error: errors[name], autofocus: name === first });
  return html`<section id="payment">
    <h1>Pay for your order</h1>
    <ol class="steps"><li>Delivery</li><li class="current" aria-current="step">Payment</li><li>Confirmation</li></ol>
    <div class="checkout-grid">
    <div class="order-side">
    <h2>Your order</h2>
    ${orderSummary(order)}
    <form method="post" action="/orders/${order.id}/delivery" class="inline-form">
      <label for="field-delivery">Delivery</label>
      <select id="field-delivery" name="providerId">${providers.map((provider) => html`<option value="${provider.id}"${provider.id === order.provider.id ? raw(' selected') : ''}>${provider.name} — ${formatPrice(provider.priceCents)}</option>`)}</select>
      <button type="submit" class="secondary small">Change delivery</button>
    </form>
    <form method="post" action="/orders/${order.id}/cancel" class="inline"><button type="submit" class="link">Cancel this order</button></form>
    </div>
    <form id="payment-form" method="post" action="/orders/${order.id}/pay" class="card form" hx-post="/orders/${order.id}/pay" hx-target="#payment" hx-swap="outerHTML" hx-disabled-elt="find button">
      <h2>Card</h2>
      ${first ? formAlert('Please check the card details: what to change is written under each field.', { focus: false }) : formAlert(view.error && endSentence(view.error))}
      <input type="hidden" name="key" value="${view.key}">
      ${field({ label: 'Card number', name: 'cardNumber', value: values.cardNumber ?? '', required: true, autocomplete: 'cc-number', maxlength: 23, ...problem('cardNumber') })}
      <div class="row">
        ${field({ label: 'Expiry month', name: 'expMonth', type: 'number', value: values.expMonth ?? '', required: true, min: 1, max: 12, autocomplete: 'cc-exp-month', ...problem('expMonth') })}
        ${field({ label: 'Expiry year', name: 'expYear', type: 'number', value: values.expYear ?? '', required: true, min: 2000, max: 2100, autocomplete: 'cc-exp-year', ...problem('expYear') })}
        ${field({ label: 'CVC', name: 'cvc', required: true, maxlength: 4, autocomplete: 'cc-csc', ...problem('cvc') })}
      </div>
      ${field({ label: 'Name on card', name: 'holder', value: values.holder ?? '', required: true, autocomplete: 'cc-name', maxlength: 100, ...problem('holder') })}
      <button type="submit">Pay ${formatPrice(order.totalCents)}</button>
      <p class="hint">Only the last four digits of the card are kept. <a href="/privacy">What we store</a></p>
    </form>
    </div>
  </section>`;
}

const cardFields = ['cardNumber', 'expMonth', 'expYear', 'cvc', 'holder'] as const;

/** A card field's error (the contract's short message) as the sentence the buyer reads under it. */
function cardErrorSentence(name: string, message: string): string {
  switch (name) {
    case 'cardNumber':
      return message === 'is not a valid card number' ? 'This card number is not valid: check the digits against your card.' : 'Enter the card number: the 12 to 19 digits on the front of your card.';
    case 'expMonth':
      return 'Enter the expiry month as a number from 1 to 12.';
    case 'expYear':
      return message === 'the card has expired' ? 'This card has expired: check the expiry date, or use another card.' : `Enter the expiry year as four digits, like ${new Date().getUTCFullYear() + 3}.`;
    case 'cvc':
      return 'Enter the security code (CVC): the 3 or 4 digits on the back of your card.';
    case 'holder':
      return message === 'is required' ? 'Enter the name as it is printed on the card.' : `Name on card ${message}.`;
    default:
      return endSentence(`${name} ${message}`);
  }
}


function orderSummary(order: OrderJson): Html {
  return html`<table class="table summary fits">
    <thead class="visually-hidden"><tr><th scope="col">What</th><th scope="col">Amount</th></tr></thead>
    <tbody>
      ${order.items.map(
        (item) => html`<tr><td data-label="What">${item.quantity} × <a href="/books/${item.bookId}">${item.title}</a>${item.shippedAt ? html`<br><span class="muted">Shipped ${when(item.shippedAt)}${item.trackingCode ? html`, tracking ${item.trackingCode}` : ''}</span>` : ''}</td><td data-label="Amount" class="amount">${formatPrice(item.unitPriceCents * item.quantity)}</td></tr>`,
      )}
      <tr><td data-label="What">Delivery: ${order.provider.name}</td><td data-label="Amount" class="amount">${formatPrice(order.deliveryCents)}</td></tr>
      <tr class="total"><td data-label="What"><strong>Total</strong></td><td data-label="Amount" class="amount"><strong>${formatPrice(order.totalCents)}</strong></td></tr>
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
          <thead><tr><th scope="col">Order</th><th scope="col">Placed</th>${options.showBuyer ? html`<th scope="col">Buyer</th>` : ''}<th scope="col">Books</th><th scope="col">Total</th><th scope="col">Status</th></tr></thead>
          <tbody>${listing.items.map(
            (order) => html`<tr><td data-label="Order" class="break"><a href="/orders/${order.id}">${order.id}</a></td><td data-label="Placed">${when(order.createdAt)}</td>${options.showBuyer ? html`<td data-label="Buyer">#${order.buyerId}</td>` : ''}
              <td data-label="Books">${order.items.map((item) => item.title).join(', ')}</td><td data-label="Total">${formatPrice(order.totalCents)}</td><td data-label="Status">${statusBadge(order.status)}</td></tr>`,
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
          <thead><tr><th scope="col">Book</th><th scope="col">Qty</th><th scope="col">Buyer</th><th scope="col">Delivery</th><th scope="col">Sold</th><th scope="col">Shipping</th></tr></thead>
          <tbody>${listing.items.map(
            (sale) => html`<tr id="sale-${sale.orderId}-${sale.bookId}"><td data-label="Book" class="break">${sale.title}<br><span class="muted">${sale.orderId}</span></td><td data-label="Qty">${sale.quantity}</td><td data-label="Buyer">${sale.buyerName}</td><td data-label="Delivery">${sale.provider}</td><td data-label="Sold">${when(sale.soldAt)}</td>
              <td data-label="Shipping" class="forms-cell">${sale.shippedAt
                ? html`Shipped ${when(sale.shippedAt)}${sale.trackingCode ? html`<br>Tracking ${sale.trackingCode}` : ''}`
                : html`<form method="post" action="/sales/${sale.orderId}/${sale.bookId}/ship" class="inline-form">
                    <label for="tracking-${sale.orderId}-${sale.bookId}">Tracking code (optional)</label>
                    <input id="tracking-${sale.orderId}-${sale.bookId}" name="trackingCode" maxlength="100">
                    <button type="submit" class="small">Mark shipped</button></form>`}</td></tr>`,
          )}</tbody>
        </table>`}
    ${pagination({ ...listing, hrefFor: (page) => `/sales?page=${page}` })}
  </section>`;
}

const scopeLabels: Record<DeliveryProviderJson['scope'], string> = { national: 'Within the country', international: 'Anywhere abroad' };

/** The carriers and what each costs, for the shop's shipping page: read from the same table checkout prices from. */
export function deliveryPrices(providers: DeliveryProviderJson[]): Html {
  return html`<section id="delivery-prices">
    <table class="table fits">
      <caption>Carriers and delivery prices</caption>
      <thead><tr><th scope="col">Carrier</th><th scope="col">Delivers</th><th scope="col">Delivery per order</th></tr></thead>
      <tbody>${providers.map(
        (provider) => html`<tr><td data-label="Carrier">${provider.name}</td><td data-label="Delivers">${scopeLabels[provider.scope]}</td><td data-label="Delivery per order">${formatPrice(provider.priceCents)}</td></tr>`,
      )}</tbody>
    </table>
    <p>Delivery is charged once per order, however many books it holds, and is shown with the total before you pay. You choose the carrier at checkout and can change it until the order is paid.</p>
  </section>`;
}

export { notice };
