/** The two icons the pages need, inline (@fluentui/react-icons is not a direct dependency). */
export function TrashIcon() {
  return (
    <svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true" focusable="false" fill="currentColor">
      <path d="M8.5 4h3a1.5 1.5 0 0 0-3 0Zm-1 0a2.5 2.5 0 0 1 5 0h4a.5.5 0 0 1 0 1h-.55l-1.2 10.34A2 2 0 0 1 12.76 17H7.24a2 2 0 0 1-1.99-1.66L4.05 5H3.5a.5.5 0 0 1 0-1h4Zm-2.45 1 1.2 10.22a1 1 0 0 0 .99.78h5.52a1 1 0 0 0 .99-.78L14.95 5h-9.9ZM8.5 7.5c.28 0 .5.22.5.5v5a.5.5 0 0 1-1 0V8c0-.28.22-.5.5-.5Zm3.5.5a.5.5 0 0 0-1 0v5a.5.5 0 0 0 1 0V8Z" />
    </svg>
  );
}

export function AddIcon() {
  return (
    <svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true" focusable="false" fill="currentColor">
      <path d="M10 2.5a.5.5 0 0 1 .5.5v6.5H17a.5.5 0 0 1 0 1h-6.5V17a.5.5 0 0 1-1 0v-6.5H3a.5.5 0 0 1 0-1h6.5V3c0-.28.22-.5.5-.5Z" />
    </svg>
  );
}
