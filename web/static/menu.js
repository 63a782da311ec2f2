// The header's account menu is a <details>, so it opens and closes without JavaScript. With it, the
// menu also closes like menus do elsewhere: on Escape (the focus goes back to its button) and on a
// click anywhere outside it.
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  const open = document.querySelector('details.menu[open]');
  if (!open) return;
  open.removeAttribute('open');
  open.querySelector('summary').focus();
});
document.addEventListener('click', (event) => {
  for (const menu of document.querySelectorAll('details.menu[open]')) {
    if (!menu.contains(event.target)) menu.removeAttribute('open');
  }
});
