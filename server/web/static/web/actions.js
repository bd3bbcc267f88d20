// Small page behaviours declared in the markup, so no page needs an inline handler
// (the Content-Security-Policy allows scripts from files only).
// data-autosubmit on a field: submit its form when it changes (the language picker).
// data-print on a button: open the print dialog (the labels page).

for (const field of document.querySelectorAll('[data-autosubmit]')) {
  field.addEventListener('change', () => field.form.submit());
}
for (const button of document.querySelectorAll('[data-print]')) {
  button.addEventListener('click', () => window.print());
}
