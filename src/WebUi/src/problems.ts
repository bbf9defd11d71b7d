// Errors in words: RFC 7807 problem details (title, detail, errors) turned into one sentence a person reads.

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly problem: unknown = null) {
    super(message);
    this.name = 'ApiError';
  }
}

const fallback: Record<number, string> = {
  0: 'The server could not be reached. Check the connection and try again.',
  400: 'The request was not accepted.',
  401: 'You are not signed in, or your session has ended.',
  403: 'You are not allowed to do that.',
  404: 'Not found: it may have been removed.',
  409: 'That conflicts with the current state.',
  413: 'The file is too large.',
  415: 'That kind of file is not accepted.',
  429: 'Too many requests: wait a moment and try again.',
  500: 'The server failed. Try again in a moment.',
  502: 'The service behind the Gateway is not answering.',
  503: 'The service is not available right now.',
};

function sentence(s: string): string {
  const t = s.trim();
  return t.length === 0 || /[.!?]$/.test(t) ? t : `${t}.`;
}

/** A problem body (or anything else a server answered) as one readable message. */
export function problemMessage(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const p = body as { title?: unknown; detail?: unknown; errors?: unknown };
    const parts: string[] = [];
    const title = typeof p.title === 'string' ? p.title : '';
    const detail = typeof p.detail === 'string' ? p.detail : '';
    if (title && !/^(One or more validation errors occurred|Bad Request|Unauthorized|Forbidden|Not Found|Conflict)\.?$/i.test(title)) {
      parts.push(sentence(title));
    }
    if (detail && detail !== title) parts.push(sentence(detail));
    if (p.errors && typeof p.errors === 'object') {
      for (const [field, messages] of Object.entries(p.errors as Record<string, unknown>)) {
        for (const m of Array.isArray(messages) ? messages : [messages]) {
          if (typeof m === 'string') parts.push(sentence(field ? `${field}: ${m}` : m));
        }
      }
    }
    if (parts.length > 0) return parts.join(' ');
  } else if (typeof body === 'string' && body.trim().length > 0 && body.length < 300 && !body.trimStart().startsWith('<')) {
    return sentence(body);
  }
  return fallback[status] ?? (status >= 500 ? fallback[500] : `The request failed (HTTP ${status}).`);
}

/** Any thrown value as a message. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof TypeError) return fallback[0];
  if (e instanceof Error) return e.message;
  return String(e);
}
