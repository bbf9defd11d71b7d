// Just enough bencode to list a .torrent's files before it is uploaded, so the files to fetch can be chosen up front.
// Catalog parses it again and is the judge; a file this cannot read is still uploaded (without a file choice).

export type BValue = number | Uint8Array | BValue[] | { [key: string]: BValue };

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Decodes one bencoded value; throws on malformed input or nesting deeper than 64. */
export function bdecode(data: Uint8Array): BValue {
  let pos = 0;
  const read = (depth: number): BValue => {
    if (depth > 64) throw new Error('nested too deeply');
    const c = data[pos];
    if (c === 0x69 /* i */) {
      const end = data.indexOf(0x65, pos);
      if (end < 0) throw new Error('unterminated integer');
      const n = Number(decoder.decode(data.subarray(pos + 1, end)));
      if (!Number.isSafeInteger(n)) throw new Error('bad integer');
      pos = end + 1;
      return n;
    }
    if (c === 0x6c /* l */) {
      pos++;
      const list: BValue[] = [];
      while (data[pos] !== 0x65) {
        if (pos >= data.length) throw new Error('unterminated list');
        list.push(read(depth + 1));
      }
      pos++;
      return list;
    }
    if (c === 0x64 /* d */) {
      pos++;
      const dict: { [key: string]: BValue } = {};
      while (data[pos] !== 0x65) {
        if (pos >= data.length) throw new Error('unterminated dictionary');
        const key = read(depth + 1);
        if (!(key instanceof Uint8Array)) throw new Error('dictionary key is not a string');
        dict[decoder.decode(key)] = read(depth + 1);
      }
      pos++;
      return dict;
    }
    if (c !== undefined && c >= 0x30 && c <= 0x39) {
      const colon = data.indexOf(0x3a, pos);
      if (colon < 0) throw new Error('bad string length');
      const len = Number(decoder.decode(data.subarray(pos, colon)));
      if (!Number.isSafeInteger(len) || len < 0 || colon + 1 + len > data.length) throw new Error('string past the end');
      pos = colon + 1 + len;
      return data.subarray(colon + 1, pos);
    }
    throw new Error(`unexpected byte at ${pos}`);
  };
  const value = read(0);
  if (pos !== data.length) throw new Error('data after the end');
  return value;
}

export interface MetainfoFile { index: number; path: string; length: number; padding: boolean }

export interface MetainfoSummary { name: string; totalBytes: number; files: MetainfoFile[] }

const text = (v: BValue | undefined) => (v instanceof Uint8Array ? decoder.decode(v) : '');

/** Name and files of a v1 (or hybrid) .torrent in metainfo order, pad files marked; null when it cannot tell. */
export function summariseTorrent(data: Uint8Array): MetainfoSummary | null {
  let root: BValue;
  try { root = bdecode(data); } catch { return null; }
  if (!root || typeof root !== 'object' || root instanceof Uint8Array || Array.isArray(root)) return null;
  const info = root.info;
  if (!info || typeof info !== 'object' || info instanceof Uint8Array || Array.isArray(info)) return null;
  const name = text(info['name.utf-8'] ?? info.name);
  if (typeof info.length === 'number') {
    return { name, totalBytes: info.length, files: [{ index: 0, path: name, length: info.length, padding: false }] };
  }
  if (!Array.isArray(info.files)) return null;
  const files: MetainfoFile[] = [];
  for (const [index, f] of info.files.entries()) {
    if (!f || typeof f !== 'object' || f instanceof Uint8Array || Array.isArray(f) || typeof f.length !== 'number') return null;
    const segments = f['path.utf-8'] ?? f.path;
    if (!Array.isArray(segments)) return null;
    files.push({
      index,
      path: `${name}/${segments.map(text).join('/')}`,
      length: f.length,
      padding: text(f.attr).includes('p'),
    });
  }
  return { name, totalBytes: files.reduce((s, f) => s + f.length, 0), files };
}
