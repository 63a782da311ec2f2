/**
 * Auth's admin pages as fragments: the user list (search; per user disable or enable, role, end all
 * sessions, delete) and the record of admin actions. Plain forms posted through the web front, which checks
 * their origin; no JavaScript needed.
 */
import { endSentence, html, notice, pagination, queryString, type Html } from '@bookstore/shared/html';
import { roles, type AdminActionKind } from './entities.ts';
import type { AdminActionView, AdminUserView } from './schemas.ts';

export interface UserListing {
  items: AdminUserView[];
  page: number;
  pageSize: number;
  total: number;
  q?: string;
}

/** What the list says after a form went through (`done` in its address). */
const doneNotices: Record<string, string> = {
  disable: 'The account is disabled and all its sessions have ended.',
  enable: 'The account is enabled: its owner can log in again.',
  role: 'The role is changed. The sessions that carried the old one have ended.',
  sessions: 'All sessions of the account have ended.',
  delete: 'The account is deleted: its name, email and password are gone, its sessions have ended and its books leave the catalog.',
};

export function userTable(listing: UserListing, done?: string): Html {
  const back = { q: listing.q, page: listing.page };
  const hrefFor = (page: number) => `/admin/users${queryString({ q: listing.q, page })}`;
  return html`<section id="user-list">
    <h1>Users <small>(${listing.total})</small></h1>
    ${done && doneNotices[done] ? notice(doneNotices[done]) : ''}
    <form class="search-form" method="get" action="/admin/users" role="search">
      <label for="user-search">Name or email</label>
      <input id="user-search" type="search" name="q" value="${listing.q ?? ''}" maxlength="254">
      <button type="submit">Search</button>
      ${listing.q ? html`<a href="/admin/users">Show everyone</a>` : ''}
    </form>
    ${listing.items.length === 0
      ? html`<p class="notice">No user matches.</p>`
      : html`<table class="table">
      <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Joined</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${listing.items.map((user) => userRow(user, back))}
      </tbody>
    </table>`}
    ${pagination({ ...listing, hrefFor })}
  </section>`;
}

function userRow(user: AdminUserView, back: { q?: string; page: number }): Html {
  const base = `/admin/users/${user.id}`;
  const returnTo = html`<input type="hidden" name="q" value="${back.q ?? ''}"><input type="hidden" name="page" value="${back.page}">`;
  if (user.deletedAt) {
    return html`<tr>
    <td data-label="Name">${user.name} #${user.id}</td><td data-label="Email">—</td><td data-label="Role">${user.role}</td>
    <td data-label="Status"><strong>deleted</strong> on ${user.deletedAt.slice(0, 10)}</td>
    <td data-label="Joined" class="nowrap">${user.createdAt.slice(0, 10)}</td><td data-label="Actions"><span class="muted">None left</span></td>
  </tr>`;
  }
  // Each row has the same buttons: the user's name, hidden, tells a screen reader's list of them apart.
  const whose = html`<span class="visually-hidden"> ${user.name}</span>`;
  return html`<tr>
    <td data-label="Name">${user.name}</td><td data-label="Email" class="break">${user.email}</td><td data-label="Role">${user.role}</td>
    <td data-label="Status">${user.disabledAt ? html`<strong>disabled</strong> since ${user.disabledAt.slice(0, 10)}` : 'active'}</td>
    <td data-label="Joined" class="nowrap">${user.createdAt.slice(0, 10)}</td>
    <td data-label="Actions" class="forms-cell"><div class="admin-forms">
      ${
        user.disabledAt
          ? html`<form method="post" action="${base}/enable">${returnTo}<button type="submit" class="small">Enable${whose}</button></form>`
          : html`<form method="post" action="${base}/disable">${returnTo}<button type="submit" class="small secondary">Disable${whose}</button></form>`
      }
      <form method="post" action="${base}/role">${returnTo}
        <label for="role-${user.id}" class="visually-hidden">Role of ${user.name}</label>
        <select id="role-${user.id}" name="role">${roles.map((role) => html`<option value="${role}"${role === user.role ? html` selected` : ''}>${role}</option>`)}</select>
        <button type="submit" class="small secondary">Change role${whose}</button>
      </form>
      <form method="post" action="${base}/sessions/revoke">${returnTo}<button type="submit" class="small secondary">End all sessions${whose}</button></form>
      <form method="post" action="${base}/delete" class="confirm">${returnTo}
        <label class="check"><input type="checkbox" name="confirm" value="yes" required> Yes, delete this account${whose}</label>
        <button type="submit" class="small danger">Delete${whose}</button>
      </form>
    </div></td>
  </tr>`;
}

const actionLabels: Record<AdminActionKind, string> = {
  disable: 'disabled',
  enable: 'enabled',
  'set-role': 'changed the role of',
  'revoke-sessions': 'ended all sessions of',
  delete: 'deleted',
};

export function adminActionTable(listing: { items: AdminActionView[]; page: number; pageSize: number; total: number }): Html {
  return html`<section id="admin-actions">
    <h1>What admins did <small>(${listing.total})</small></h1>
    ${listing.items.length === 0
      ? html`<p class="notice">Nothing yet: what admins do to accounts is listed here.</p>`
      : html`<table class="table">
      <thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">Did</th><th scope="col">Account</th><th scope="col">Detail</th></tr></thead>
      <tbody>
        ${listing.items.map(
          (row) =>
            html`<tr><td data-label="When (UTC)"><time datetime="${row.createdAt}">${row.createdAt.slice(0, 19).replace('T', ' ')}</time></td><td data-label="Who">${row.actorName}</td><td data-label="Did">${actionLabels[row.action]}</td><td data-label="Account" class="break">${row.targetEmail}</td><td data-label="Detail">${row.detail}</td></tr>`,
        )}
      </tbody>
    </table>`}
    ${pagination({ ...listing, hrefFor: (page) => `/admin/actions?page=${page}` })}
  </section>`;
}

/** A refused admin form: the reason, and the way back to the list. */
export function adminRefusal(message: string): Html {
  return html`<div class="notice" role="alert" tabindex="-1" autofocus><p>${endSentence(message)}</p><p><a href="/admin/users">Back to the users</a></p></div>`;
}
