using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>What the receive task makes of a block that arrived.</summary>
internal enum BlockAdmission
{
    /// <summary>Requested from this peer and still outstanding: it may go into the piece's buffer.</summary>
    Requested,
    /// <summary>Not outstanding, but one of the requests we cancelled or gave up on may still have been on its way: drop it quietly.</summary>
    Late,
    /// <summary>Never asked for, and no cancel of ours explains it: drop it and hold it against the sender.</summary>
    Unrequested,
}

/// <summary>
/// The block requests sent to one peer and not yet answered, in the order sent, with when each was sent
/// (for the request-to-block latency). Peers answer in order, so a removal almost always takes the head:
/// O(1); an answer out of order leaves a hole that is skipped when it reaches the head.
/// The loop changes it; the peer's receive task asks <see cref="Admit"/> before a block touches a piece buffer,
/// so a lock (uncontended but for that) guards it.
/// </summary>
internal sealed class OutstandingRequests
{
    private readonly Lock _gate = new();
    private BlockRequest[] _blocks = new BlockRequest[64];
    private long[] _sentAt = new long[64];
    private bool[] _arrived = new bool[64]; // admitted by the receive task, not yet removed by the loop
    private int _head;
    private int _tail; // exclusive; indices grow without wrapping and are masked on access
    private int _count;
    // Where the last admitted block was: the receive task runs ahead of the loop, so the blocks it admitted are still
    // outstanding ahead of the next one; looking from here keeps Admit O(1) instead of a scan over that lag.
    private int _admitted;
    private long _owedBytes;
    // Requests dropped on our side (cancelled, or forgotten when the peer choked, was snubbed or the picker was
    // reset) whose blocks may already be on the wire: that many blocks not outstanding are forgiven.
    private long _latePermitted;

    public int Count
    {
        get
        {
            lock (_gate) return _count;
        }
    }

    /// <summary>
    /// Bytes of the outstanding requests whose blocks have not arrived yet: what the peer still owes us, unless it
    /// chokes us or drops requests (receive task, to size its receives).
    /// </summary>
    public long OwedBytes
    {
        get
        {
            lock (_gate) return _owedBytes;
        }
    }

    /// <summary>
    /// Whether a block that arrived may be stored (receive task). It stays outstanding: the loop removes it when it
    /// handles the block, and the piece buffer keeps only the first copy of a block.
    /// </summary>
    public BlockAdmission Admit(BlockRequest block)
    {
        lock (_gate)
        {
            var k = IndexOf(block, Math.Max(_head, _admitted));
            if (k < 0 && _admitted > _head) k = IndexOf(block, _head);
            if (k >= 0)
            {
                _admitted = k;
                var i = k & (_blocks.Length - 1);
                if (!_arrived[i])
                {
                    _arrived[i] = true;
                    _owedBytes -= block.Length;
                }
                return BlockAdmission.Requested;
            }
            if (_latePermitted > 0)
            {
                _latePermitted--;
                return BlockAdmission.Late;
            }
            return BlockAdmission.Unrequested;
        }
    }

    public void Add(BlockRequest block, long sentAt)
    {
        lock (_gate)
        {
            if (_tail - _head == _blocks.Length) Grow();
            var i = _tail++ & (_blocks.Length - 1);
            _blocks[i] = block;
            _sentAt[i] = sentAt;
            _arrived[i] = false;
            _count++;
            _owedBytes += block.Length;
        }
    }

    /// <summary>Removes the request for <paramref name="block"/>, answered or rejected; false if it was not outstanding.</summary>
    public bool Remove(BlockRequest block, out long sentAt)
    {
        lock (_gate) return RemoveCore(block, out sentAt);
    }

    /// <summary>Removes a request we are cancelling; its block may still come (and is then forgiven).</summary>
    public bool Cancel(BlockRequest block)
    {
        lock (_gate)
        {
            if (!RemoveCore(block, out _)) return false;
            _latePermitted++;
            return true;
        }
    }

    /// <summary>
    /// Copies the outstanding requests into <paramref name="destination"/> (sized to <see cref="Count"/>) and forgets
    /// them as <see cref="Clear"/> does.
    /// </summary>
    public int Drain(Span<BlockRequest> destination)
    {
        lock (_gate)
        {
            var mask = _blocks.Length - 1;
            var n = 0;
            for (var k = _head; k < _tail && n < destination.Length; k++)
            {
                var b = _blocks[k & mask];
                if (b.Length != 0) destination[n++] = b;
            }
            ClearCore();
            return n;
        }
    }

    /// <summary>Forgets every request (the peer choked us, was snubbed or left, or the picker started afresh); their blocks may still come.</summary>
    public void Clear()
    {
        lock (_gate) ClearCore();
    }

    // Under _gate.
    private bool RemoveCore(BlockRequest block, out long sentAt)
    {
        var k = IndexOf(block, _head);
        if (k < 0)
        {
            sentAt = 0;
            return false;
        }
        var mask = _blocks.Length - 1;
        var i = k & mask;
        sentAt = _sentAt[i];
        if (!_arrived[i]) _owedBytes -= block.Length;
        _blocks[i] = default; // a hole (length 0 never matches a real request)
        _count--;
        while (_head < _tail && _blocks[_head & mask].Length == 0) _head++;
        if (_head == _tail) _head = _tail = _admitted = 0;
        return true;
    }

    // Under _gate.
    private void ClearCore()
    {
        _latePermitted += _count;
        Array.Clear(_blocks);
        _head = _tail = _count = _admitted = 0;
        _owedBytes = 0;
    }

    // Under _gate. Answers come in order, so the match is almost always at the head (for the loop) or just past the
    // last admitted block (for the receive task).
    private int IndexOf(BlockRequest block, int from)
    {
        var mask = _blocks.Length - 1;
        for (var k = from; k < _tail; k++)
            if (_blocks[k & mask] == block) return k;
        return -1;
    }

    private void Grow()
    {
        // Full of requests, or of holes left by answers out of order: compact, doubling only when really full.
        var mask = _blocks.Length - 1;
        var size = _count * 2 > _blocks.Length ? _blocks.Length * 2 : _blocks.Length;
        var blocks = new BlockRequest[size];
        var sentAt = new long[size];
        var arrived = new bool[size];
        var n = 0;
        for (var k = _head; k < _tail; k++)
        {
            if (_blocks[k & mask].Length == 0) continue;
            blocks[n] = _blocks[k & mask];
            arrived[n] = _arrived[k & mask];
            sentAt[n++] = _sentAt[k & mask];
        }
        _blocks = blocks;
        _sentAt = sentAt;
        _arrived = arrived;
        _head = _admitted = 0;
        _tail = n;
    }
}
