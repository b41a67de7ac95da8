/** RomDeck's menu icon: a game cartridge, drawn in the current text colour. */
export function RomDeckIcon() {
  return (
    <svg viewBox="0 0 24 24" width="1em" height="1em" fill="currentColor" fillRule="evenodd" aria-hidden="true">
      <path d="M5 2h14v13l-3 3H8l-3-3z M8 5v6h8V5z M7 19h10v3H7z" />
    </svg>
  );
}
