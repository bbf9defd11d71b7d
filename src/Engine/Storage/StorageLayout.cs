using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Storage;

/// <summary>
/// The geometry of a torrent on disk: files laid end to end, cut into pieces that may straddle
/// file boundaries. Immutable and allocation-free to query.
/// </summary>
public sealed class StorageLayout
{
    public const int HashLength = 20;

    private readonly long[] _fileOffsets;

    public StorageLayout(IReadOnlyList<StorageFile> files, int pieceLength, ReadOnlyMemory<byte> pieceHashes)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        if (files.Count == 0) throw new ArgumentException("A torrent has at least one file.", nameof(files));
        if (pieceHashes.Length % HashLength != 0)
            throw new ArgumentException("Piece hashes must be a multiple of 20 bytes.", nameof(pieceHashes));

        Files = files;
        PieceLength = pieceLength;
        PieceHashes = pieceHashes;
        _fileOffsets = new long[files.Count];
        long total = 0;
        for (var i = 0; i < files.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(files[i], nameof(files));
            ArgumentOutOfRangeException.ThrowIfNegative(files[i].Length, nameof(files));
            _fileOffsets[i] = total;
            total = checked(total + files[i].Length);
        }
        TotalLength = total;
        var pieces = total == 0 ? 0 : (total + pieceLength - 1) / pieceLength;
        if (pieces > int.MaxValue) throw new ArgumentException("Too many pieces.", nameof(pieceLength));
        PieceCount = (int)pieces;
        if (pieceHashes.Length != PieceCount * HashLength)
            throw new ArgumentException(
                $"Expected {PieceCount} piece hashes for {total} bytes, got {pieceHashes.Length / HashLength}.",
                nameof(pieceHashes));
    }

    /// <summary>The layout of a parsed torrent; its paths are relative to the download folder.</summary>
    public static StorageLayout FromMetainfo(TorrentMetainfo metainfo)
    {
        ArgumentNullException.ThrowIfNull(metainfo);
        var files = new StorageFile[metainfo.Files.Count];
        for (var i = 0; i < files.Length; i++)
        {
            var f = metainfo.Files[i];
            files[i] = new StorageFile(f.Path, f.Length, f.IsPadding);
        }
        return new StorageLayout(files, metainfo.PieceLength, metainfo.PieceHashes);
    }

    public IReadOnlyList<StorageFile> Files { get; }

    public int PieceLength { get; }

    /// <summary>20-byte SHA-1 hashes, one per piece, concatenated.</summary>
    public ReadOnlyMemory<byte> PieceHashes { get; }

    public long TotalLength { get; }

    public int PieceCount { get; }

    /// <summary>Length of piece <paramref name="piece"/>: <see cref="PieceLength"/> except for a shorter last piece.</summary>
    public int GetPieceLength(int piece)
    {
        if ((uint)piece >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(piece));
        return piece == PieceCount - 1 ? (int)(TotalLength - (long)piece * PieceLength) : PieceLength;
    }

    public long GetPieceOffset(int piece)
    {
        if ((uint)piece >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(piece));
        return (long)piece * PieceLength;
    }

    public ReadOnlySpan<byte> GetPieceHash(int piece)
    {
        if ((uint)piece >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(piece));
        return PieceHashes.Span.Slice(piece * HashLength, HashLength);
    }

    /// <summary>
    /// Where within a page the bytes of piece <paramref name="piece"/> should start in memory (0 to 4095) so that its
    /// largest file segment lies at the same offset within a page in memory as in its file: then direct I/O writes that
    /// segment's whole pages straight from the piece buffer. In a single file, or files starting on page boundaries,
    /// it is 0; a file starting at an odd offset would otherwise need a copy into an aligned bounce buffer per piece.
    /// </summary>
    public int GetDirectShift(int piece)
    {
        var best = -1;
        var shift = 0;
        foreach (var segment in Map(GetPieceOffset(piece), GetPieceLength(piece)))
        {
            if (Files[segment.FileIndex].IsPadding || segment.Length <= best) continue;
            best = segment.Length;
            shift = (int)((segment.FileOffset - segment.BufferOffset) & (DirectIo.Alignment - 1));
        }
        return shift;
    }

    /// <summary>Offset of file <paramref name="fileIndex"/> in the torrent's byte stream.</summary>
    public long GetFileOffset(int fileIndex) => _fileOffsets[fileIndex];

    /// <summary>
    /// First and last piece touching file <paramref name="fileIndex"/>; for a zero-length file
    /// <c>Last &lt; First</c> (it touches no piece).
    /// </summary>
    public (int First, int Last) GetFilePieceRange(int fileIndex)
    {
        var start = _fileOffsets[fileIndex];
        var length = Files[fileIndex].Length;
        if (length == 0)
        {
            var at = (int)Math.Min(start / PieceLength, Math.Max(PieceCount - 1, 0));
            return (at, at - 1);
        }
        return ((int)(start / PieceLength), (int)((start + length - 1) / PieceLength));
    }

    /// <summary>Index of the file holding torrent byte <paramref name="torrentOffset"/> (skipping zero-length files).</summary>
    public int FindFile(long torrentOffset)
    {
        if ((ulong)torrentOffset >= (ulong)TotalLength) throw new ArgumentOutOfRangeException(nameof(torrentOffset));
        var index = Array.BinarySearch(_fileOffsets, torrentOffset);
        if (index < 0) index = ~index - 1;
        // Several files may start at the same offset when some are empty: take the one with bytes.
        while (Files[index].Length == 0 || _fileOffsets[index] + Files[index].Length <= torrentOffset) index++;
        return index;
    }

    /// <summary>Maps the torrent byte range [offset, offset + length) to file segments, in order.</summary>
    public SegmentEnumerator Map(long torrentOffset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(torrentOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (torrentOffset + length > TotalLength)
            throw new ArgumentOutOfRangeException(nameof(length), "The range runs past the end of the torrent.");
        return new SegmentEnumerator(this, torrentOffset, length);
    }

    /// <summary>
    /// Bytes of each file covered by pieces set in <paramref name="have"/>, written into
    /// <paramref name="destination"/> (one entry per file). Pieces straddling file edges count only
    /// the part inside the file.
    /// </summary>
    public void GetVerifiedBytesPerFile(BitField have, Span<long> destination)
    {
        ArgumentNullException.ThrowIfNull(have);
        if (have.Length != PieceCount) throw new ArgumentException("Bitfield length differs from the piece count.", nameof(have));
        if (destination.Length < Files.Count) throw new ArgumentException("Destination too short.", nameof(destination));
        for (var f = 0; f < Files.Count; f++)
        {
            var fileStart = _fileOffsets[f];
            var fileEnd = fileStart + Files[f].Length;
            var (first, last) = GetFilePieceRange(f);
            long sum = 0;
            for (var p = have.NextSet(first); p >= 0 && p <= last; p = have.NextSet(p + 1))
            {
                var pieceStart = (long)p * PieceLength;
                var pieceEnd = pieceStart + GetPieceLength(p);
                sum += Math.Min(pieceEnd, fileEnd) - Math.Max(pieceStart, fileStart);
            }
            destination[f] = sum;
        }
    }

    /// <summary>Allocation-free enumerator over the file segments of a byte range.</summary>
    public struct SegmentEnumerator
    {
        private readonly StorageLayout _layout;
        private readonly long _end;
        private long _position;
        private int _file;
        private readonly long _start;

        internal SegmentEnumerator(StorageLayout layout, long start, int length)
        {
            _layout = layout;
            _start = start;
            _position = start;
            _end = start + length;
            _file = length == 0 ? layout.Files.Count : layout.FindFile(start);
            Current = default;
        }

        public FileSegment Current { get; private set; }

        public readonly SegmentEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            var files = _layout.Files;
            while (_position < _end && _file < files.Count)
            {
                var fileStart = _layout._fileOffsets[_file];
                var fileEnd = fileStart + files[_file].Length;
                if (fileEnd <= _position) { _file++; continue; }
                var take = (int)(Math.Min(fileEnd, _end) - _position);
                Current = new FileSegment(_file, _position - fileStart, take, (int)(_position - _start));
                _position += take;
                _file++;
                return true;
            }
            return false;
        }
    }
}
