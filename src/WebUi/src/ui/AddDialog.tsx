import { useEffect, useRef, useState } from 'preact/hooks';
import { summariseTorrent, type MetainfoSummary } from '../bencode.ts';
import { formatBytes } from '../format.ts';
import { parseTags } from '../labels.ts';
import type { FilePriority, TorrentPriority } from '../model.ts';
import { errorMessage } from '../problems.ts';
import { useServices, useStoreVersion } from './common.tsx';

interface Picked { file: File; summary: MetainfoSummary | null; skip: Set<number> }

/** Add by magnet (paste), by file picker or by drag-and-drop; start paused, priority, and which files to fetch. */
export function AddDialog({ initialFiles, onClose, onAdded }: { initialFiles: File[]; onClose: () => void; onAdded: (hash: string) => void }) {
  const { api, store, toast } = useServices();
  useStoreVersion(store);
  const ref = useRef<HTMLDialogElement>(null);
  const [magnet, setMagnet] = useState('');
  const [picked, setPicked] = useState<Picked[]>([]);
  const [paused, setPaused] = useState(false);
  const [priority, setPriority] = useState<TorrentPriority>('normal');
  const [category, setCategory] = useState('');
  const [tagsText, setTagsText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [over, setOver] = useState(false);
  // A magnet added and waiting for its metadata, so its files can be chosen.
  const [pending, setPending] = useState<string | null>(null);
  const [pendingSkip, setPendingSkip] = useState<Set<number>>(new Set());

  useEffect(() => {
    ref.current?.showModal();
    const onMagnet = (e: Event) => setMagnet((e as CustomEvent<string>).detail);
    window.addEventListener('te-magnet', onMagnet);
    return () => window.removeEventListener('te-magnet', onMagnet);
  }, []);
  useEffect(() => { if (initialFiles.length) void pick(initialFiles); }, [initialFiles]);

  const pick = async (files: Iterable<File>) => {
    const list: Picked[] = [];
    for (const file of files) {
      const summary = summariseTorrent(new Uint8Array(await file.arrayBuffer()));
      list.push({ file, summary, skip: new Set() });
    }
    setPicked(p => [...p, ...list]);
  };

  const close = () => { ref.current?.close(); };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const magnets = magnet.split(/\s+/).filter(Boolean);
    if (!magnets.length && !picked.length) {
      setError('Paste a magnet link or choose a .torrent file.');
      return;
    }
    const bad = magnets.find(m => !m.startsWith('magnet:?'));
    if (bad) {
      setError(`“${bad.slice(0, 60)}” is not a magnet link (it starts with magnet:?).`);
      return;
    }
    setBusy(true);
    const errors: string[] = [];
    let last: string | null = null;
    let waitFor: string | null = null;
    for (const m of magnets) {
      try {
        const t = await api.addMagnet(m, { paused, priority, category: category.trim(), tags: parseTags(tagsText) });
        store.upsert(t);
        last = t.infoHash;
        if (!t.metainfoAvailable && magnets.length === 1 && !picked.length) waitFor = t.infoHash;
      } catch (err) { errors.push(errorMessage(err)); }
    }
    for (const p of picked) {
      try {
        const filePriorities: FilePriority[] | undefined = p.summary && p.skip.size
          ? p.summary.files.map(f => (p.skip.has(f.index) ? 'skip' : 'normal')) : undefined;
        const t = await api.addFile(p.file, p.file.name, { paused, priority, filePriorities, category: category.trim(), tags: parseTags(tagsText) });
        store.upsert(t);
        last = t.infoHash;
      } catch (err) { errors.push(`${p.file.name}: ${errorMessage(err)}`); }
    }
    setBusy(false);
    if (last) onAdded(last);
    if (errors.length) {
      setError(errors.join(' '));
      return;
    }
    toast(`Added ${magnets.length + picked.length} torrent${magnets.length + picked.length === 1 ? '' : 's'}.`);
    if (waitFor) setPending(waitFor); else close();
  };

  const pendingTorrent = pending ? store.torrents.get(pending) : undefined;
  const applyFiles = async () => {
    if (!pendingTorrent) return;
    try {
      store.upsert(await api.setFilePriorities(pendingTorrent.infoHash,
        pendingTorrent.files.map(f => ({ index: f.index, priority: pendingSkip.has(f.index) ? 'skip' : f.priority === 'skip' ? 'normal' : f.priority }))));
      toast('File selection saved.');
      close();
    } catch (err) { setError(errorMessage(err)); }
  };

  return (
    <dialog ref={ref} class="dialog add" aria-labelledby="add-title" onClose={onClose}>
      {pending ? (
        <div>
          <h2 id="add-title">Choose files</h2>
          {!pendingTorrent?.files.length ? (
            <p role="status" class="info">Waiting for the metadata from the swarm… The files can be chosen as soon as it arrives (or later, in the torrent's Files tab).</p>
          ) : (
            <fieldset>
              <legend>Files of {pendingTorrent.name} to fetch</legend>
              <ul class="files-pick">
                {pendingTorrent.files.map(f => (
                  <li><label class="check"><input type="checkbox" checked={!pendingSkip.has(f.index)} onChange={() => {
                    const s = new Set(pendingSkip); if (s.has(f.index)) s.delete(f.index); else s.add(f.index); setPendingSkip(s);
                  }} /> {f.path} <span class="muted">({formatBytes(f.length)})</span></label></li>
                ))}
              </ul>
            </fieldset>
          )}
          {error && <p class="error" role="alert">{error}</p>}
          <div class="buttons">
            <button type="button" onClick={close}>Close</button>
            <button type="button" class="primary" disabled={!pendingTorrent?.files.length} onClick={applyFiles}>Save file selection</button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit}>
          <h2 id="add-title">Add torrents</h2>
          <label for="magnet">Magnet links (one per line)</label>
          <textarea id="magnet" rows={3} value={magnet} placeholder="magnet:?xt=urn:btih:…"
            onInput={e => setMagnet((e.target as HTMLTextAreaElement).value)} />
          <div class={`dropzone${over ? ' over' : ''}`}
            onDragOver={e => { e.preventDefault(); e.stopPropagation(); setOver(true); }} onDragLeave={() => setOver(false)}
            onDrop={e => { e.preventDefault(); e.stopPropagation(); setOver(false); void pick(e.dataTransfer?.files ?? []); }}>
            <label for="torrent-file">.torrent files: choose or drop them here</label>
            <input id="torrent-file" type="file" accept=".torrent,application/x-bittorrent" multiple
              onChange={e => { const input = e.target as HTMLInputElement; void pick(input.files ?? []); input.value = ''; }} />
          </div>
          {picked.map((p, i) => (
            <fieldset class="picked">
              <legend>{p.summary?.name ?? p.file.name} <span class="muted">({formatBytes(p.summary?.totalBytes ?? p.file.size)})</span>
                <button type="button" class="link" aria-label={`Do not add ${p.file.name}`} onClick={() => setPicked(picked.filter((_, j) => j !== i))}>remove</button></legend>
              {p.summary ? (
                <ul class="files-pick">
                  {p.summary.files.filter(f => !f.padding).map(f => (
                    <li><label class="check"><input type="checkbox" checked={!p.skip.has(f.index)} onChange={() => {
                      const skip = new Set(p.skip); if (skip.has(f.index)) skip.delete(f.index); else skip.add(f.index);
                      setPicked(picked.map((q, j) => (j === i ? { ...q, skip } : q)));
                    }} /> {f.path} <span class="muted">({formatBytes(f.length)})</span></label></li>
                  ))}
                </ul>
              ) : <p class="muted">Its files could not be read here; choose them after adding, in the Files tab.</p>}
            </fieldset>
          ))}
          <div class="options">
            <label class="check"><input type="checkbox" checked={paused} onChange={e => setPaused((e.target as HTMLInputElement).checked)} /> Start paused</label>
            <label>Priority{' '}
              <select value={priority} onChange={e => setPriority((e.target as HTMLSelectElement).value as TorrentPriority)}>
                <option value="high">High</option><option value="normal">Normal</option><option value="low">Low</option>
              </select>
            </label>
            <label>Category{' '}
              <input name="category" value={category} onInput={e => setCategory((e.target as HTMLInputElement).value)} />
            </label>
            <label>Tags{' '}
              <input name="tags" placeholder="comma-separated" value={tagsText} onInput={e => setTagsText((e.target as HTMLInputElement).value)} />
            </label>
          </div>
          {error && <p class="error" role="alert">{error}</p>}
          <div class="buttons">
            <button type="button" onClick={close}>Cancel</button>
            <button type="submit" class="primary" disabled={busy}>Add</button>
          </div>
        </form>
      )}
    </dialog>
  );
}
