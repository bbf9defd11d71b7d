import { memo } from 'preact/compat';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { applyQuery, countByState, labelNames, visibleRange, type ListQuery, type SortKey } from '../list.ts';
import { formatBytes, formatDate, formatEta, formatRate, formatRatio, formatState } from '../format.ts';
import { torrentStates, type Torrent, type TorrentPriority } from '../model.ts';
import { errorMessage } from '../problems.ts';
import { ProgressBar, useMedia, useServices, useStoreVersion } from './common.tsx';

const columns: { key: SortKey; label: string; cls: string }[] = [
  { key: 'name', label: 'Name', cls: 'c-name' },
  { key: 'category', label: 'Category', cls: 'c-labels' },
  { key: 'size', label: 'Size', cls: 'c-size' },
  { key: 'progress', label: 'Progress', cls: 'c-progress' },
  { key: 'state', label: 'State', cls: 'c-state' },
  { key: 'downloadRate', label: 'Down', cls: 'c-down' },
  { key: 'uploadRate', label: 'Up', cls: 'c-up' },
  { key: 'peers', label: 'Peers', cls: 'c-peers' },
  { key: 'eta', label: 'ETA', cls: 'c-eta' },
  { key: 'ratio', label: 'Ratio', cls: 'c-ratio' },
  { key: 'added', label: 'Added', cls: 'c-added' },
];

const Row = memo(function Row({ t, index, top, selected, focused, onToggle, onOpen, onFocus }: {
  t: Torrent; index: number; top: number; selected: boolean; focused: boolean;
  onToggle: (hash: string, e: MouseEvent | KeyboardEvent) => void; onOpen: (hash: string) => void; onFocus: (index: number) => void;
}) {
  const name = t.name ?? t.infoHash;
  return (
    <div role="row" class={`row${selected ? ' selected' : ''}${t.state === 'error' ? ' failed' : ''}`} aria-rowindex={index + 2}
      aria-selected={selected} tabIndex={focused ? 0 : -1} data-hash={t.infoHash} data-index={index}
      style={{ transform: `translateY(${top}px)` }} onFocus={() => onFocus(index)}
      onDblClick={() => onOpen(t.infoHash)}>
      <div role="gridcell" class="c-check">
        <input type="checkbox" tabIndex={-1} checked={selected} aria-label={`Select ${name}`}
          onClick={e => { e.stopPropagation(); onToggle(t.infoHash, e); }} />
      </div>
      <div role="gridcell" class="c-name">
        <button class="link" tabIndex={-1} title={name} onClick={() => onOpen(t.infoHash)}>{name}</button>
        {t.error && <span class="row-error">{t.error}</span>}
      </div>
      <div role="gridcell" class="c-labels" title={[t.category, ...(t.tags ?? [])].filter(Boolean).join(', ')}>
        {t.category ? <span class="chip cat">{t.category}</span> : null}{(t.tags ?? []).map(tag => <span class="chip">{tag}</span>)}
      </div>
      <div role="gridcell" class="c-size">{formatBytes(t.totalBytes)}</div>
      <div role="gridcell" class="c-progress"><ProgressBar value={t.progress} label={`Progress of ${name}`} /></div>
      <div role="gridcell" class={`c-state s-${t.state}`}>{formatState(t.state)}</div>
      <div role="gridcell" class="c-down">{formatRate(t.downloadRate)}</div>
      <div role="gridcell" class="c-up">{formatRate(t.uploadRate)}</div>
      <div role="gridcell" class="c-peers">{t.peersConnected} / {t.peersTotal}</div>
      <div role="gridcell" class="c-eta">{t.progress >= 1 ? '–' : formatEta(t.etaSeconds)}</div>
      <div role="gridcell" class="c-ratio">{formatRatio(t.ratio)}</div>
      <div role="gridcell" class="c-added">{formatDate(t.addedAt)}</div>
    </div>
  );
});

export function TorrentList({ query, setQuery, selected, setSelected, openDetail, openAdd, detailHash }: {
  query: ListQuery; setQuery: (q: ListQuery) => void;
  selected: Set<string>; setSelected: (s: Set<string>) => void;
  openDetail: (hash: string | null) => void; openAdd: (files?: File[]) => void; detailHash: string | null;
}) {
  const { store, api, toast } = useServices();
  const version = useStoreVersion(store);
  const narrow = useMedia('(max-width: 720px)');
  const rowHeight = narrow ? 76 : 40;
  const rows = useMemo(() => applyQuery(store.torrents.values(), query), [version, query]);
  const counts = useMemo(() => countByState(store.torrents.values()), [version]);
  const [knownLabels, setKnownLabels] = useState<{ categories: string[]; tags: string[] }>({ categories: [], tags: [] });
  useEffect(() => {
    Promise.all([api.categories(), api.tags()]).then(([categories, tags]) => setKnownLabels({ categories, tags })).catch(() => {});
  }, []);
  const names = useMemo(() => labelNames(store.torrents.values(), knownLabels), [version, knownLabels]);
  const viewport = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  const [focus, setFocus] = useState(0);
  const [removing, setRemoving] = useState<string[] | null>(null);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const el = viewport.current!;
    const measure = () => setScroll({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const { start, end } = visibleRange(scroll.top, scroll.height, rowHeight, rows.length);
  const targets = selected.size > 0 ? [...selected] : detailHash ? [detailHash] : [];

  const toggle = (hash: string, e: MouseEvent | KeyboardEvent) => {
    const next = new Set(e.shiftKey || e.ctrlKey || e.metaKey || e.type === 'click' || e.type === 'keydown' ? selected : []);
    if (next.has(hash)) next.delete(hash); else next.add(hash);
    setSelected(next);
  };

  const moveFocus = (index: number) => {
    const i = Math.max(0, Math.min(rows.length - 1, index));
    setFocus(i);
    const el = viewport.current!;
    const top = i * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
    // The row exists once the range includes it: focus it on the next frame.
    requestAnimationFrame(() => (el.querySelector(`[data-index="${i}"]`) as HTMLElement | null)?.focus());
  };

  const onKey = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).getAttribute('role') !== 'row') return;
    const page = Math.max(1, Math.floor(scroll.height / rowHeight) - 1);
    const t = rows[focus];
    switch (e.key) {
      case 'ArrowDown': moveFocus(focus + 1); break;
      case 'ArrowUp': moveFocus(focus - 1); break;
      case 'PageDown': moveFocus(focus + page); break;
      case 'PageUp': moveFocus(focus - page); break;
      case 'Home': moveFocus(0); break;
      case 'End': moveFocus(rows.length - 1); break;
      case ' ': if (t) toggle(t.infoHash, e); break;
      case 'Enter': if (t) openDetail(t.infoHash); break;
      case 'Delete': if (t) setRemoving(selected.size ? [...selected] : [t.infoHash]); break;
      case 'a': if (e.ctrlKey || e.metaKey) { setSelected(new Set(rows.map(r => r.infoHash))); break; } return;
      default: return;
    }
    e.preventDefault();
  };

  const run = async (label: string, fn: (hash: string) => Promise<unknown>, hashes = targets) => {
    const results = await Promise.allSettled(hashes.map(fn));
    const failed = results.filter(r => r.status === 'rejected') as PromiseRejectedResult[];
    if (failed.length) toast(`${label}: ${failed.length} of ${hashes.length} failed. ${errorMessage(failed[0].reason)}`, true);
    else toast(`${label}: done for ${hashes.length} torrent${hashes.length === 1 ? '' : 's'}.`);
  };
  const act = (what: 'pause' | 'resume' | 'recheck', label: string) =>
    run(label, async h => store.upsert(await api.action(h, what)));
  const setPriority = (p: TorrentPriority) => run(`Priority ${p}`, async h => store.upsert(await api.setPriority(h, p)));

  const sortBy = (key: SortKey) =>
    setQuery({ ...query, sort: key, descending: query.sort === key ? !query.descending : key !== 'name' && key !== 'eta' });

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const files = [...(e.dataTransfer?.files ?? [])].filter(f => f.name.endsWith('.torrent') || f.type === 'application/x-bittorrent');
    const text = e.dataTransfer?.getData('text/plain') ?? '';
    if (files.length) openAdd(files);
    else if (text.startsWith('magnet:')) openAdd(), setTimeout(() => window.dispatchEvent(new CustomEvent('te-magnet', { detail: text })), 0);
    else toast('Drop .torrent files or a magnet link here.', true);
  };

  const allVisibleSelected = rows.length > 0 && rows.every(r => selected.has(r.infoHash));

  return (
    <section class={`list-page${dragging ? ' dragging' : ''}`} aria-label="Torrents"
      onDragOver={e => { e.preventDefault(); setDragging(true); }} onDragLeave={e => { if (e.target === e.currentTarget) setDragging(false); }} onDrop={onDrop}>
      <div class="toolbar" role="toolbar" aria-label="Torrent list">
        <button class="primary" onClick={() => openAdd()} aria-keyshortcuts="Alt+N">Add torrent</button>
        <label class="search">
          <span class="sr-only">Search by name</span>
          <input type="search" placeholder="Search by name" value={query.search}
            onInput={e => setQuery({ ...query, search: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          <span class="sr-only">Show</span>
          <select aria-label="Filter by state" value={query.state} onChange={e => setQuery({ ...query, state: (e.target as HTMLSelectElement).value as ListQuery['state'] })}>
            <option value="all">All ({counts.all ?? 0})</option>
            <option value="active">Active ({counts.active ?? 0})</option>
            {torrentStates.map(s => <option value={s}>{formatState(s)} ({counts[s] ?? 0})</option>)}
          </select>
        </label>
        <label>
          <span class="sr-only">Category</span>
          <select aria-label="Filter by category" value={query.category === null ? '\u0000all' : query.category}
            onChange={e => { const v = (e.target as HTMLSelectElement).value; setQuery({ ...query, category: v === '\u0000all' ? null : v }); }}>
            <option value={'\u0000all'}>Any category</option>
            <option value="">No category</option>
            {names.categories.map(c => <option value={c}>{c}</option>)}
          </select>
        </label>
        <label>
          <span class="sr-only">Tag</span>
          <select aria-label="Filter by tag" value={query.tag ?? '\u0000all'}
            onChange={e => { const v = (e.target as HTMLSelectElement).value; setQuery({ ...query, tag: v === '\u0000all' ? null : v }); }}>
            <option value={'\u0000all'}>Any tag</option>
            {names.tags.map(c => <option value={c}>{c}</option>)}
          </select>
        </label>
        {narrow && (
          <label>
            <span class="sr-only">Sort by</span>
            <select aria-label="Sort by" value={`${query.sort}:${query.descending ? 'desc' : 'asc'}`}
              onChange={e => { const [s, d] = (e.target as HTMLSelectElement).value.split(':'); setQuery({ ...query, sort: s as SortKey, descending: d === 'desc' }); }}>
              {columns.flatMap(c => [<option value={`${c.key}:asc`}>{c.label} ↑</option>, <option value={`${c.key}:desc`}>{c.label} ↓</option>])}
            </select>
          </label>
        )}
      </div>
      <div class="actions" role="toolbar" aria-label={targets.length ? `Actions on ${targets.length} torrent${targets.length === 1 ? '' : 's'}` : 'Actions (select torrents first)'}>
        <span class="count" aria-live="polite">{selected.size ? `${selected.size} selected` : `${rows.length} shown`}</span>
        <button disabled={!targets.length} onClick={() => act('pause', 'Pause')}>Pause</button>
        <button disabled={!targets.length} onClick={() => act('resume', 'Resume')}>Resume</button>
        <button disabled={!targets.length} onClick={() => act('recheck', 'Recheck')}>Recheck</button>
        <label>
          <span class="sr-only">Priority</span>
          <select aria-label="Set priority" disabled={!targets.length} value="" onChange={e => { const v = (e.target as HTMLSelectElement).value; if (v) void setPriority(v as TorrentPriority); (e.target as HTMLSelectElement).value = ''; }}>
            <option value="">Priority…</option>
            <option value="high">High</option>
            <option value="normal">Normal</option>
            <option value="low">Low</option>
          </select>
        </label>
        <button class="danger" disabled={!targets.length} onClick={() => setRemoving(targets)}>Remove…</button>
        {selected.size > 0 && <button onClick={() => setSelected(new Set())}>Clear selection</button>}
      </div>
      <div class="grid" role="grid" aria-label="Torrents" aria-rowcount={rows.length + 1} aria-colcount={columns.length + 1}
        aria-multiselectable="true" onKeyDown={onKey}>
        <div role="rowgroup" class="grid-head">
          <div role="row" class="row head" aria-rowindex={1}>
            <div role="columnheader" class="c-check">
              <input type="checkbox" aria-label="Select all shown" checked={allVisibleSelected}
                onChange={() => setSelected(allVisibleSelected ? new Set() : new Set(rows.map(r => r.infoHash)))} />
            </div>
            {columns.map(c => (
              <div role="columnheader" class={c.cls} aria-sort={query.sort === c.key ? (query.descending ? 'descending' : 'ascending') : 'none'}>
                <button class="sort" onClick={() => sortBy(c.key)}>
                  {c.label}<span aria-hidden="true">{query.sort === c.key ? (query.descending ? ' ▼' : ' ▲') : ''}</span>
                </button>
              </div>
            ))}
          </div>
        </div>
        <div class="viewport" ref={viewport} onScroll={e => setScroll({ top: (e.target as HTMLElement).scrollTop, height: (e.target as HTMLElement).clientHeight })}>
          <div role="rowgroup" class="spacer" style={{ height: `${rows.length * rowHeight}px` }}>
            {rows.slice(start, end).map((t, i) => (
              <Row key={t.infoHash} t={t} index={start + i} top={(start + i) * rowHeight} selected={selected.has(t.infoHash)}
                focused={focus === start + i || (focus >= rows.length && start + i === 0)}
                onToggle={toggle} onOpen={openDetail} onFocus={setFocus} />
            ))}
          </div>
        </div>
      </div>
      {rows.length === 0 && (
        <p class="empty">{store.torrents.size === 0 ? 'No torrents yet. Add one with “Add torrent”, by dropping a .torrent file here, or by pasting a magnet link.' : 'No torrent matches the search or filter.'}</p>
      )}
      {removing && <RemoveDialog hashes={removing} onClose={() => setRemoving(null)} onRemoved={removed => {
        const next = new Set(selected);
        for (const h of removed) { next.delete(h); store.delete(h); }
        setSelected(next);
        if (detailHash && removed.includes(detailHash)) openDetail(null);
      }} />}
    </section>
  );
}

export function RemoveDialog({ hashes, onClose, onRemoved }: { hashes: string[]; onClose: () => void; onRemoved: (hashes: string[]) => void }) {
  const { api, store, toast } = useServices();
  const ref = useRef<HTMLDialogElement>(null);
  const [withData, setWithData] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => { ref.current?.showModal(); }, []);
  const names = hashes.map(h => store.torrents.get(h)?.name ?? h);
  const confirm = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const results = await Promise.allSettled(hashes.map(h => api.remove(h, withData)));
    const removed = hashes.filter((_, i) => results[i].status === 'fulfilled');
    const failed = results.find(r => r.status === 'rejected') as PromiseRejectedResult | undefined;
    onRemoved(removed);
    if (failed) toast(`Remove: ${hashes.length - removed.length} failed. ${errorMessage(failed.reason)}`, true);
    else toast(`Removed ${removed.length} torrent${removed.length === 1 ? '' : 's'}${withData ? ' and their data' : ''}.`);
    ref.current?.close();
    onClose();
  };
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="remove-title" onClose={onClose}>
      <form method="dialog" onSubmit={confirm}>
        <h2 id="remove-title">Remove {hashes.length === 1 ? 'torrent' : `${hashes.length} torrents`}?</h2>
        <ul class="names">{names.slice(0, 5).map(n => <li>{n}</li>)}{names.length > 5 && <li>and {names.length - 5} more</li>}</ul>
        <label class="check"><input type="checkbox" checked={withData} onChange={e => setWithData((e.target as HTMLInputElement).checked)} /> Also delete the downloaded data</label>
        <div class="buttons">
          <button type="button" onClick={() => { ref.current?.close(); }}>Cancel</button>
          <button type="submit" class="danger" disabled={busy}>{withData ? 'Remove with data' : 'Remove'}</button>
        </div>
      </form>
    </dialog>
  );
}
