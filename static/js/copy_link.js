// "Copy" buttons next to a link or key to hand over (Équipe and API key pages).
// Without the clipboard API (plain http, older tablets) the field is selected for a manual copy.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-from]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copyFrom);
  if (!field) return;
  field.focus();
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    const label = button.textContent;
    button.textContent = button.dataset.copiedLabel;
    setTimeout(() => { button.textContent = label; }, 2000);
  } catch {
    // The text stays selected: the person copies it by hand.
  }
});
