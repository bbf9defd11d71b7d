// Numbers as people read them: sizes and rates in binary units, durations in the two largest units.

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 -> "1.5 KiB"; one decimal below 100 of a unit, none above. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes) || bytes < 0) return '–';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** A rate in bytes per second; an idle transfer shows a dash so the eye skips it. */
export function formatRate(bytesPerSecond: number | null | undefined): string {
  if (!bytesPerSecond || bytesPerSecond <= 0) return '–';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Seconds left: "45 s", "3 min 20 s", "2 h 5 min", "3 d 4 h"; unknown or infinite is "∞". */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '∞';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** A fraction 0..1 as a percentage with one decimal, never showing 100 % before it is complete. */
export function formatPercent(fraction: number | null | undefined): string {
  if (fraction == null || !Number.isFinite(fraction)) return '0 %';
  const clamped = Math.min(1, Math.max(0, fraction));
  const tenths = clamped < 1 ? Math.min(999, Math.floor(clamped * 1000)) : 1000;
  return `${(tenths / 10).toFixed(tenths % 10 === 0 ? 0 : 1)} %`;
}

export function formatRatio(ratio: number | null | undefined): string {
  if (ratio == null || !Number.isFinite(ratio)) return '–';
  return ratio.toFixed(2);
}

// One formatter per locale: toLocaleString with options builds a new one per call, which showed in the list's profile.
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** An ISO date as a short local date and time; relative words would age while the page stays open. */
export function formatDate(iso: string | null | undefined, locale?: string): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  const k = locale ?? '';
  let f = dateFormats.get(k);
  if (!f) dateFormats.set(k, f = new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }));
  return f.format(d);
}

const stateWords: Record<string, string> = {
  queued: 'Queued',
  fetchingMetadata: 'Fetching metadata',
  checking: 'Checking',
  downloading: 'Downloading',
  seeding: 'Seeding',
  paused: 'Paused',
  stopped: 'Stopped',
  error: 'Error',
  removed: 'Removed',
};

export function formatState(state: string): string {
  return stateWords[state] ?? state;
}
