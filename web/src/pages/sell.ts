/** Seller pages: my books, add, edit, delete (after a question), cover; catalog renders the forms and checks ownership. */
import { Hono } from 'hono';
import type { WebEnv } from '../app.ts';
import { showServicePage, submitServiceForm, type ServicePage } from '../proxy.ts';

const selling: ServicePage = { client: (c) => c.var.deps.clients.catalog, title: 'Sell', label: 'Selling', home: '/sell' };
const titled = (title: string): ServicePage => ({ ...selling, title });

// Ids are digits only; the catalog path is built from the parsed number, never from the raw URL.
export const sellPages = new Hono<WebEnv>()
  .get('/sell', (c) => showServicePage(c, titled('My books'), '/sell'))
  .get('/sell/new', (c) => showServicePage(c, titled('Add a book'), '/sell/new'))
  .get('/sell/:id{[0-9]{1,10}}/edit', (c) => showServicePage(c, titled('Edit a book'), `/sell/${Number(c.req.param('id'))}/edit`))
  // "Delete" leads to this question, whose form removes the book: asked with or without JavaScript.
  .get('/sell/:id{[0-9]{1,10}}/delete', (c) => showServicePage(c, titled('Remove a book'), `/sell/${Number(c.req.param('id'))}/delete`))
  .post('/sell/new', (c) => submitServiceForm(c, selling, '/sell/new'))
  .post('/sell/:id{[0-9]{1,10}}/edit', (c) => submitServiceForm(c, selling, `/sell/${Number(c.req.param('id'))}/edit`))
  .post('/sell/:id{[0-9]{1,10}}/delete', (c) => submitServiceForm(c, selling, `/sell/${Number(c.req.param('id'))}/delete`))
  .post('/sell/:id{[0-9]{1,10}}/cover', (c) => submitServiceForm(c, selling, `/sell/${Number(c.req.param('id'))}/cover`));
