import { useEffect, useState } from 'preact/hooks';
import type { ShareLimits } from '../api.ts';
import { formatEta, formatRatio } from '../format.ts';
import { formatLimit, formatTags, parseLimit, parseTags } from '../labels.ts';
import type { Torrent } from '../model.ts';
import { errorMessage } from '../problems.ts';
import { useServices } from './common.tsx';

// What the user typed and has not saved, per torrent: kept outside the component because the detail panel can be
// re-mounted by a live update while the user types (a browser test saw a typed category lost that way).
const drafts = new Map<string, { category: string; tags: string }>();

/** The user's category and tags of a torrent, edited in place (the same ones qBittorrent and Transmission clients set). */
export function Labels({ t }: { t: Torrent }) {
  const { api, store, toast } = useServices();
  // The fields show the user's unsaved draft when there is one, else the server's values, so live updates move them
  // only until the user edits them.
  const [, redraw] = useState(0);
  const draft = drafts.get(t.infoHash);
  const category = draft?.category ?? t.category ?? '';
  const tags = draft?.tags ?? formatTags(t.tags);
  const edit = (field: 'category' | 'tags', value: string) => {
    drafts.set(t.infoHash, { category, tags, [field]: value });
    redraw(n => n + 1);
  };
  const [known, setKnown] = useState<string[]>([]);
  useEffect(() => { api.categories().then(setKnown).catch(() => {}); }, []);
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      const saved = await api.setLabels(t.infoHash, category.trim(), parseTags(tags));
      const current = store.torrents.get(t.infoHash);
      if (current) store.upsert({ ...current, category: saved.category, tags: saved.tags });
      drafts.delete(t.infoHash);
      redraw(n => n + 1);
      toast('Category and tags saved.');
    } catch (err) { toast(errorMessage(err), true); }
  };
  return (
    <form class="labels-form" onSubmit={save} aria-label="Category and tags">
      <label>Category
        <input name="category" list="known-categories" value={category} onInput={e => edit('category', (e.target as HTMLInputElement).value)} />
      </label>
      <datalist id="known-categories">{known.map(c => <option value={c} />)}</datalist>
      <label>Tags (comma-separated)
        <input name="tags" value={tags} onInput={e => edit('tags', (e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Save labels</button>
    </form>
  );
}

/** The user's share limits of a torrent; reaching one pauses it (Catalog checks every few seconds). */
export function ShareLimitsForm({ t }: { t: Torrent }) {
  const { api, toast } = useServices();
  const [limits, setLimits] = useState<ShareLimits | null>(null);
  const [ratio, setRatio] = useState('');
  const [minutes, setMinutes] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.shareLimits(t.infoHash).then(l => { setLimits(l); setRatio(formatLimit(l.ratioLimit)); setMinutes(formatLimit(l.seedingTimeLimit)); })
      .catch(() => setLimits(null));
  }, [t.infoHash]);
  const save = async (e: Event) => {
    e.preventDefault();
    const r = parseLimit(ratio);
    const m = parseLimit(minutes);
    if (r === null || m === null) {
      setError('A limit is a number from 0, “none”, or empty for your default.');
      return;
    }
    setError(null);
    try {
      setLimits(await api.setShareLimits(t.infoHash, r, Math.round(m)));
      toast('Share limits saved.');
    } catch (err) { toast(errorMessage(err), true); }
  };
  return (
    <form class="limits-form" onSubmit={save} aria-label="Share limits">
      <label>Ratio limit
        <input name="ratioLimit" inputMode="decimal" placeholder="default" value={ratio} onInput={e => setRatio((e.target as HTMLInputElement).value)} />
      </label>
      <label>Seeding time limit (minutes)
        <input name="seedingTimeLimit" inputMode="numeric" placeholder="default" value={minutes} onInput={e => setMinutes((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Save limits</button>
      {error && <p class="error" role="alert">{error}</p>}
      {limits && <p class="muted">Applies: ratio {limits.effectiveRatioLimit ?? 'no limit'}, seeding {limits.effectiveSeedingTimeLimit === null ? 'no limit' : `${limits.effectiveSeedingTimeLimit} min`};
        now ratio {formatRatio(limits.ratio)}, seeded {formatEta(limits.seedingSeconds)}. Reaching a limit pauses the torrent.</p>}
    </form>
  );
}
