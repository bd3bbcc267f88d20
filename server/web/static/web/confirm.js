// Forms with data-confirm ask before they are sent (cancel, revoke). Delegated: works
// for rows the polling scripts insert later.
document.addEventListener('submit', (event) => {
  const message = event.target.dataset?.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
