import { useEffect, useState } from 'preact/hooks';
import type { ShareLimits } from '../api.ts';
import { formatEta, formatRatio } from '../format.ts';
import { formatLimit, formatTags, parseLimit, parseTags } from '../labels.ts';
import type { Torrent } from '../model.ts';
import { errorMessage } from '../problems.ts';
import { useServices } from './common.tsx';

/** The user's category and tags of a torrent, edited in place (the same ones qBittorrent and Transmission clients set). */
export function Labels({ t }: { t: Torrent }) {
  const { api, store, toast } = useServices();
  const [category, setCategory] = useState(t.category ?? '');
  const [tags, setTags] = useState(formatTags(t.tags));
  // Live updates of the torrent must not overwrite what the user is typing: the fields follow the server's values only
  // until the user edits them (a browser test once saw its typed category replaced by the old one mid-edit).
  const [edited, setEdited] = useState(false);
  const [known, setKnown] = useState<string[]>([]);
  useEffect(() => { setCategory(t.category ?? ''); setTags(formatTags(t.tags)); setEdited(false); }, [t.infoHash]);
  useEffect(() => {
    if (!edited) { setCategory(t.category ?? ''); setTags(formatTags(t.tags)); }
  }, [t.category, formatTags(t.tags)]);
  useEffect(() => { api.categories().then(setKnown).catch(() => {}); }, []);
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      const saved = await api.setLabels(t.infoHash, category.trim(), parseTags(tags));
      const current = store.torrents.get(t.infoHash);
      if (current) store.upsert({ ...current, category: saved.category, tags: saved.tags });
      setCategory(saved.category ?? '');
      setTags(formatTags(saved.tags));
      setEdited(false);
      toast('Category and tags saved.');
    } catch (err) { toast(errorMessage(err), true); }
  };
  return (
    <form class="labels-form" onSubmit={save} aria-label="Category and tags">
      <label>Category
        <input name="category" list="known-categories" value={category} onInput={e => { setCategory((e.target as HTMLInputElement).value); setEdited(true); }} />
      </label>
      <datalist id="known-categories">{known.map(c => <option value={c} />)}</datalist>
      <label>Tags (comma-separated)
        <input name="tags" value={tags} onInput={e => { setTags((e.target as HTMLInputElement).value); setEdited(true); }} />
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
