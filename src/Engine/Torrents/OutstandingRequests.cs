using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// The block requests sent to one peer and not yet answered, in the order sent, with when each was sent
/// (for the request-to-block latency). Peers answer in order, so a removal almost always takes the head:
/// O(1); an answer out of order leaves a hole that is skipped when it reaches the head. Loop only.
/// </summary>
internal sealed class OutstandingRequests
{
    private BlockRequest[] _blocks = new BlockRequest[64];
    private long[] _sentAt = new long[64];
    private int _head;
    private int _tail; // exclusive; indices grow without wrapping and are masked on access
    private int _count;

    public int Count => _count;

    public void Add(BlockRequest block, long sentAt)
    {
        if (_tail - _head == _blocks.Length) Grow();
        var i = _tail++ & (_blocks.Length - 1);
        _blocks[i] = block;
        _sentAt[i] = sentAt;
        _count++;
    }

    /// <summary>Removes the request for <paramref name="block"/>; false if it was not outstanding.</summary>
    public bool Remove(BlockRequest block, out long sentAt)
    {
        var mask = _blocks.Length - 1;
        for (var k = _head; k < _tail; k++)
        {
            var i = k & mask;
            if (_blocks[i] != block) continue;
            sentAt = _sentAt[i];
            _blocks[i] = default; // a hole (length 0 never matches a real request)
            _count--;
            while (_head < _tail && _blocks[_head & mask].Length == 0) _head++;
            if (_head == _tail) _head = _tail = 0;
            return true;
        }
        sentAt = 0;
        return false;
    }

    /// <summary>Copies the outstanding requests into <paramref name="destination"/> (sized to <see cref="Count"/>) and clears.</summary>
    public int Drain(Span<BlockRequest> destination)
    {
        var mask = _blocks.Length - 1;
        var n = 0;
        for (var k = _head; k < _tail && n < destination.Length; k++)
        {
            var b = _blocks[k & mask];
            if (b.Length != 0) destination[n++] = b;
        }
        Clear();
        return n;
    }

    public void Clear()
    {
        Array.Clear(_blocks);
        _head = _tail = _count = 0;
    }

    private void Grow()
    {
        // Full of requests, or of holes left by answers out of order: compact, doubling only when really full.
        var mask = _blocks.Length - 1;
        var size = _count * 2 > _blocks.Length ? _blocks.Length * 2 : _blocks.Length;
        var blocks = new BlockRequest[size];
        var sentAt = new long[size];
        var n = 0;
        for (var k = _head; k < _tail; k++)
        {
            if (_blocks[k & mask].Length == 0) continue;
            blocks[n] = _blocks[k & mask];
            sentAt[n++] = _sentAt[k & mask];
        }
        _blocks = blocks;
        _sentAt = sentAt;
        _head = 0;
        _tail = n;
    }
}
