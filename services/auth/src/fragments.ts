/** Auth's HTML fragments, composed into pages by the web front: login and registration forms (admin pages: admin-fragments.ts). */
import { endSentence, field, formAlert, html, type Html } from '@bookstore/shared/html';

/**
 * The login form; htmx swaps it in place with the answer to its own POST. `notice` says why the
 * visitor was sent here (one of the web front's fixed sentences); an error takes the focus.
 */
export function loginForm(state: { email?: string; error?: string; next?: string; notice?: string }): Html {
  const next = state.next && state.next !== '/' ? state.next : undefined;
  return html`<form id="login-form" class="card form" method="post" action="/login" hx-post="/login" hx-target="this" hx-swap="outerHTML">
    <h1>Log in</h1>
    ${state.notice && !state.error ? html`<p class="notice" role="status">${state.notice}</p>` : ''}
    ${formAlert(state.error && endSentence(state.error))}
    ${field({ label: 'Email', name: 'email', type: 'email', value: state.email ?? '', required: true, autocomplete: 'username', maxlength: 254 })}
    ${field({ label: 'Password', name: 'password', type: 'password', required: true, autocomplete: 'current-password', maxlength: 256 })}
    ${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
    <button type="submit">Log in</button>
    <p class="hint">No account yet? <a href="/register${next ? `?next=${encodeURIComponent(next)}` : ''}">Create an account</a></p>
  </form>`;
}

/** The registration form; each field's error is a sentence beneath it, and the first one takes the focus. */
export function registerForm(state: { name?: string; email?: string; error?: string; errors?: Record<string, string>; next?: string }): Html {
  const errors = state.errors ?? {};
  const messages = {
    name: errors.name && sentence('Name', errors.name, 'Enter your name, as buyers and sellers will see it.'),
    email: errors.email && sentence('Email', errors.email, 'Enter your email address.'),
    password: errors.password && sentence('Password', errors.password, 'Choose a password of at least 8 characters.'),
  };
  const first = (['name', 'email', 'password'] as const).find((name) => messages[name]);
  const next = state.next && state.next !== '/' ? state.next : undefined;
  return html`<form id="register-form" class="card form" method="post" action="/register" hx-post="/register" hx-target="this" hx-swap="outerHTML">
    <h1>Create your account</h1>
    ${formAlert(state.error && endSentence(state.error), { focus: !first })}
    ${field({ label: 'Name', name: 'name', value: state.name ?? '', error: messages.name, autofocus: first === 'name', required: true, autocomplete: 'name', maxlength: 100 })}
    ${field({ label: 'Email', name: 'email', type: 'email', value: state.email ?? '', error: messages.email, autofocus: first === 'email', required: true, autocomplete: 'email', maxlength: 254 })}
    ${field({ label: 'Password (at least 8 characters)', name: 'password', type: 'password', error: messages.password, autofocus: first === 'password', required: true, autocomplete: 'new-password', maxlength: 256 })}
    ${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
    <button type="submit">Register</button>
    <p class="hint">Already registered? <a href="/login${next ? `?next=${encodeURIComponent(next)}` : ''}">Log in</a></p>
  </form>`;
}

/**
 * A field's error as a sentence: auth's messages are either whole sentences already ("Name must not
 * contain…") or the end of one ("must be at least 8 characters"), which gets the field's name.
 */
function sentence(subject: string, message: string, whenMissing: string): string {
  if (message === 'is required') return whenMissing;
  if (message === 'is already registered') return 'This email is already registered: log in instead, or use another email.';
  if (message === 'must be a valid email address') return 'Email must be a valid email address, like ada@example.com.';
  return endSentence(/^\p{Lu}/u.test(message) ? message : `${subject} ${message}`);
}
