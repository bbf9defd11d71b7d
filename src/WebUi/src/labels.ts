// Categories, tags and share limits as typed into forms: pure parsing, tested without a DOM.

/** Tags from a comma-separated field: trimmed, empty ones dropped, duplicates once (in the order typed). */
export function parseTags(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const tag = part.trim();
    if (tag) seen.add(tag);
  }
  return [...seen];
}

export function formatTags(tags: readonly string[] | null | undefined): string {
  return (tags ?? []).join(', ');
}

/**
 * A share-limit field: empty means "my default" (-2), "none" or -1 means no limit (-1), else a number from 0.
 * Returns null for anything else, so the form can say what is wrong before asking the API.
 */
export function parseLimit(text: string): number | null {
  const s = text.trim().toLowerCase();
  if (s === '' || s === 'default') return -2;
  if (s === 'none' || s === '-1') return -1;
  if (!/^\d+(\.\d+)?$/.test(s)) return null;
  return Number(s);
}

/** The field's text for a stored limit (the inverse of parseLimit). */
export function formatLimit(value: number): string {
  return value === -2 ? '' : value === -1 ? 'none' : String(value);
}
