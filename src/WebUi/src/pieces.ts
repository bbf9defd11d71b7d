// The piece map: Catalog's have-bitfield (GET /api/torrents/{hash}/pieces, base64, piece 0 in the high bit of byte 0)
// plus the pieces the hub reported verified since, reduced to one fraction per pixel column so any torrent fits the width.

export interface PieceMapData {
  pieceCount: number;
  /** One bit a piece, BitTorrent order. */
  bits: Uint8Array;
}

/** Decodes the API's base64 bitfield; null when absent or too short for the piece count. */
export function decodeBitfield(base64: string | null | undefined, pieceCount: number): Uint8Array | null {
  if (!base64 || pieceCount <= 0) return null;
  let binary: string;
  try { binary = atob(base64); } catch { return null; }
  if (binary.length < Math.ceil(pieceCount / 8)) return null;
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function hasPiece(bits: Uint8Array, index: number): boolean {
  return (bits[index >> 3] & (0x80 >> (index & 7))) !== 0;
}

/** A copy of the bitfield with the live-verified pieces set too (the hub's torrent:piece events since the fetch). */
export function withVerified(map: PieceMapData, verified: Iterable<number>): PieceMapData {
  const bits = map.bits.slice();
  for (const i of verified) if (i >= 0 && i < map.pieceCount) bits[i >> 3] |= 0x80 >> (i & 7);
  return { pieceCount: map.pieceCount, bits };
}

export function countHave(map: PieceMapData): number {
  let n = 0;
  for (let i = 0; i < map.pieceCount; i++) if (hasPiece(map.bits, i)) n++;
  return n;
}

/**
 * The share of pieces held under each of <columns> equal slices of the torrent: 0..1 per column. With fewer pieces than
 * columns a piece spans several columns; with more, a column averages several pieces.
 */
export function columnFractions(map: PieceMapData, columns: number): Float32Array {
  const out = new Float32Array(Math.max(0, columns));
  const n = map.pieceCount;
  if (n <= 0 || columns <= 0) return out;
  for (let c = 0; c < columns; c++) {
    const from = (c * n) / columns;
    const to = ((c + 1) * n) / columns;
    // Pieces overlapping [from, to), each weighted by how much of it lies inside.
    let have = 0;
    for (let p = Math.floor(from); p < Math.min(n, Math.ceil(to)); p++) {
      const w = Math.min(to, p + 1) - Math.max(from, p);
      if (w > 0 && hasPiece(map.bits, p)) have += w;
    }
    out[c] = Math.min(1, have / (to - from));
  }
  return out;
}
