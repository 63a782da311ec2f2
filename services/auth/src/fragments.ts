/** Auth's HTML fragments, composed into pages by the web front: login and registration forms (admin pages: admin-fragments.ts). */
import { field, formAlert, html, type Html } from '@bookstore/shared/html';

/** The login form; htmx swaps it in place with the answer to its own POST. */
export function loginForm(state: { email?: string; error?: string; next?: string }): Html {
  return html`<form id="login-form" class="card form" method="post" action="/login" hx-post="/login" hx-target="this" hx-swap="outerHTML">
    <h1>Log in</h1>
    ${formAlert(state.error)}
    ${field({ label: 'Email', name: 'email', type: 'email', value: state.email ?? '', required: true, autocomplete: 'username', maxlength: 254 })}
    ${field({ label: 'Password', name: 'password', type: 'password', required: true, autocomplete: 'current-password', maxlength: 256 })}
    ${state.next ? html`<input type="hidden" name="next" value="${state.next}">` : ''}
    <button type="submit">Log in</button>
    <p class="hint">No account yet? <a href="/register">Register</a></p>
  </form>`;
}

export function registerForm(state: { name?: string; email?: string; error?: string; errors?: Record<string, string> }): Html {
  const errors = state.errors ?? {};
  return html`<form id="register-form" class="card form" method="post" action="/register" hx-post="/register" hx-target="this" hx-swap="outerHTML">
    <h1>Create your account</h1>
    ${formAlert(state.error)}
    ${field({ label: 'Name', name: 'name', value: state.name ?? '', error: errors.name, required: true, autocomplete: 'name', maxlength: 100 })}
    ${field({ label: 'Email', name: 'email', type: 'email', value: state.email ?? '', error: errors.email, required: true, autocomplete: 'email', maxlength: 254 })}
    ${field({ label: 'Password (at least 8 characters)', name: 'password', type: 'password', error: errors.password, required: true, autocomplete: 'new-password', maxlength: 256 })}
    <button type="submit">Register</button>
    <p class="hint">Already registered? <a href="/login">Log in</a></p>
  </form>`;
}
