using System.Buffers;
using System.Net;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using TorrentEdge.Engine.Choking;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.PiecePicking;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// One connection to one peer. Its receive task decodes messages and posts them to the torrent loop
/// (copying piece blocks straight into the piece's pooled buffer); its send task flushes what the loop
/// queued in batches; its upload task reads requested blocks from storage. Fields under "loop state"
/// are touched only by the torrent loop.
/// </summary>
internal sealed class PeerSession : IPeerMessageHandler, IChokePeer, IPieceRequester, IRosterPeer, IMetadataSource
{
    /// <summary>Allowed-fast pieces kept per peer (BEP 6 suggests about 10); more are ignored.</summary>
    public const int MaxAllowedFast = 32;

    /// <summary>
    /// Requests a peer may have queued with us (announced as "reqq"). Peers without the Fast extension never
    /// hear that a request was dropped, so this sits well above real pipelines: rtorrent 0.9.8 keeps about 400
    /// outstanding from a fast seeder (it ignores reqq). At 16 KiB a block that is 32 MiB of promised reads; the
    /// queue itself holds 12 bytes a request and grows only as far as the peer pushes it.
    /// </summary>
    public const int MaxQueuedUploads = 2000;

    /// <summary>Suggestions kept per peer; older ones are forgotten (a peer suggests what it has cached now).</summary>
    public const int MaxSuggested = 16;

    private const int SendHighWater = 512 * 1024;

    private readonly IPeerSessionOwner _torrent;
    private readonly CancellationTokenSource _cts;
    private readonly Lock _sendLock = new();
    private PeerWireWriter _front;
    private PeerWireWriter _back;
    private readonly Channel<bool> _sendSignal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly SemaphoreSlim _room = new(0);
    private bool _waitingForRoom;
    private readonly Lock _uploadLock = new();
    private readonly Queue<BlockRequest> _uploads = new();
    private readonly Channel<bool> _uploadSignal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private long _uploaded;
    private long _lastReceiveTicks;
    private int _receivedBlockBytes; // receive task only
    private int _closed;

    public PeerSession(IPeerSessionOwner torrent, IPeerConnection connection, CancellationToken cancellationToken)
    {
        _torrent = torrent;
        Connection = connection;
        EndPoint = connection.RemoteEndPoint as IPEndPoint;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Small at first: most peers only ever get control messages; a writer grows (pooled) when it sends
        // blocks. 2 x 16 KiB per connection was most of what 1,000 incoming connections allocated.
        _front = new PeerWireWriter(connection, 1024);
        _back = new PeerWireWriter(connection, 1024);
        _lastReceiveTicks = torrent.TimeProvider.NowMilliseconds();
        LastSendTicks = _lastReceiveTicks;
    }

    public IPeerConnection Connection { get; }
    public IPEndPoint? EndPoint { get; }
    public bool IsIncoming => Connection.IsIncoming;
    public PeerId PeerId { get; private set; }
    /// <summary>Extensions both sides announced.</summary>
    public ReservedBits Extensions { get; private set; }
    public bool SupportsFast => Extensions.SupportsFastExtension;
    public bool SupportsExtensionProtocol => Extensions.SupportsExtensionProtocol;
    public long Uploaded => Interlocked.Read(ref _uploaded);
    public long LastReceiveTicks => Volatile.Read(ref _lastReceiveTicks);
    public bool IsClosed => Volatile.Read(ref _closed) != 0;
    public string Name => EndPoint?.ToString() ?? Connection.RemoteEndPoint.ToString() ?? "?";
    /// <summary>How the torrent learnt of this peer (set by the dialler; a connection we accepted is incoming).</summary>
    public PeerSource Source { get => _source ?? (IsIncoming ? PeerSource.Incoming : PeerSource.Unknown); init => _source = value; }
    private readonly PeerSource? _source;

    // ---- loop state ----
    public bool AmChoking = true;
    public bool AmInterested;
    public bool PeerChoking = true;
    public bool PeerInterested;
    /// <summary>The peer's pieces; non-null once the metadata is known (all set for a have-all peer).</summary>
    public BitField? PeerHave;
    public bool PeerHasAll;
    public readonly OutstandingRequests Outstanding = new();

    private PeerWireReader? _reader;

    /// <summary>Each tick (loop): a receive waiting for a batch the peer stopped short of is woken (<see cref="PeerWireReader.RelaxLowWater"/>).</summary>
    public void RelaxReceiveBatching() => Volatile.Read(ref _reader)?.RelaxLowWater();
    /// <summary>Sizes the request pipeline from the measured rate and latency; set when the peer is registered.</summary>
    public RequestQueueDepth? QueueDepth;
    /// <summary>"reqq" from the peer's extension handshake: it drops requests beyond this many (0: not said).</summary>
    public int RemoteRequestQueueSize;
    /// <summary>When a block last arrived, or requests were first sent after none were outstanding (the torrent's clock timestamp).</summary>
    public long LastBlockAt;
    public long LastSendTicks;
    public bool Snubbed;
    public long Downloaded;
    public long DownloadedAtLastTick;
    public long UploadedAtLastTick;
    public long DownloadRate;
    public long UploadRate;
    public long UnchokedAtTicks;
    public bool Registered;
    public readonly List<int> AllowedFastFromPeer = [];
    /// <summary>Pieces this peer may request from us while we choke it (BEP 6, our grant to it).</summary>
    public int[] AllowedFastToPeer = [];
    /// <summary>Pieces the peer suggested (BEP 6), most recent first, at most <see cref="MaxSuggested"/>.</summary>
    public readonly List<int> SuggestedByPeer = [];
    /// <summary>"v" from the peer's extension handshake: its client's own name for itself.</summary>
    public string? ClientVersion;
    public byte RemoteUtMetadataId;
    /// <summary>The peer's id for ut_pex (BEP 11), 0 when it does not take PEX.</summary>
    public byte RemoteUtPexId;
    /// <summary>"p" from the peer's extension handshake: where it listens (0: not said), for passing it on in PEX.</summary>
    public ushort RemoteListenPort;
    public int RemoteMetadataSize;
    public bool MetadataRequested;
    public bool CountedAvailability;
    public byte[]? PendingBitfield;
    /// <summary>Super-seeding (BEP 16) decides what this peer is told we have.</summary>
    public bool SuperSeeded;
    /// <summary>Pieces offered to a super-seeded peer (the only ones it may request).</summary>
    public BitField? OfferedPieces;
    public bool LastPieceOffered;

    /// <summary>When the loop registered the connection (the torrent's clock); the choker favours new peers optimistically.</summary>
    public DateTimeOffset ConnectedAt { get; set; }

    bool IChokePeer.IsInterested => PeerInterested;
    bool IChokePeer.AmChoking => AmChoking;
    long IChokePeer.DownloadRate => DownloadRate;
    long IChokePeer.UploadRate => UploadRate;
    bool IChokePeer.IsSeed => PeerHasAll || PeerHave is { AllTrue: true };
    bool IChokePeer.IsSnubbed => Snubbed;

    BitField IPieceRequester.Pieces => PeerHave!;
    bool IPieceRequester.IsChokingUs => PeerChoking;
    ReadOnlySpan<int> IPieceRequester.AllowedFast => CollectionsMarshal.AsSpan(AllowedFastFromPeer);
    ReadOnlySpan<int> IPieceRequester.Suggested => CollectionsMarshal.AsSpan(SuggestedByPeer);
    bool IPieceRequester.IsSnubbed => Snubbed;

    byte IMetadataSource.RemoteUtMetadataId => RemoteUtMetadataId;
    int IMetadataSource.RemoteMetadataSize => RemoteMetadataSize;
    bool IMetadataSource.MetadataRequested { get => MetadataRequested; set => MetadataRequested = value; }

    /// <summary>How many requests to keep outstanding: the adaptive depth, within what the peer said it accepts.</summary>
    public int RequestDepth
    {
        get
        {
            var depth = QueueDepth?.Depth ?? 1;
            return RemoteRequestQueueSize > 0 ? Math.Min(depth, RemoteRequestQueueSize) : depth;
        }
    }

    public override string ToString() => $"{Name} ({PeerId})";

    /// <summary>Runs the connection: handshake (unless the listener already read theirs), then reads until it ends.</summary>
    public async Task RunAsync(PeerWireReader? reader, Handshake? theirs, Handshake ours)
    {
        var ct = _cts.Token;
        var ownReader = reader is null;
        Task? sender = null;
        Task? uploader = null;
        try
        {
            if (reader is null)
            {
                try
                {
                    using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    connectTimeout.CancelAfter(TimeSpan.FromSeconds(10));
                    await Connection.ConnectAsync(connectTimeout.Token).ConfigureAwait(false);
                }
                finally
                {
                    ReleaseHalfOpenSlot();
                }
                reader = new PeerWireReader(Connection, FrameLimits.Default) { Clock = _torrent.TimeProvider };
            }
            var hs = ArrayPool<byte>.Shared.Rent(Handshake.Length);
            try
            {
                ours.Encode(hs);
                await Connection.SendAsync(hs.AsMemory(0, Handshake.Length), ct).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(hs);
            }
            if (theirs is null)
            {
                using var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                handshakeTimeout.CancelAfter(TimeSpan.FromSeconds(15));
                var result = await reader.ReadHandshakeAsync(handshakeTimeout.Token).ConfigureAwait(false);
                if (!result.Succeeded) return;
                if (!result.Handshake.InfoHash.SequenceEqual(ours.InfoHash)) return;
                theirs = result.Handshake;
            }
            var h = theirs.Value;
            if (h.PeerId == ours.PeerId) return; // dialled ourselves
            PeerId = h.PeerId;
            Extensions = h.Reserved.Intersect(ours.Reserved);
            reader.Limits = _torrent.FrameLimits;
            reader.BytesOwed = () => Outstanding.OwedBytes;
            Volatile.Write(ref _reader, reader);
            sender = SendLoopAsync(ct);
            uploader = UploadLoopAsync(ct);
            Volatile.Write(ref _lastReceiveTicks, _torrent.TimeProvider.NowMilliseconds());
            _torrent.Post(new PeerEvent(this, PeerEventKind.Connected));
            while (!ct.IsCancellationRequested)
            {
                var status = await reader.ReadAsync(this, ct).ConfigureAwait(false);
                if (status == PeerReadStatus.Stopped && !IsClosed)
                {
                    // The loop's queue is full: what is still buffered stays unread, and so does the socket, until the
                    // loop catches up (TCP slows the peer meanwhile).
                    await _torrent.Queue.WaitForRoomAsync(ct).ConfigureAwait(false);
                }
                else if (status != PeerReadStatus.MessagesRead)
                {
                    break;
                }
                Volatile.Write(ref _lastReceiveTicks, _torrent.TimeProvider.NowMilliseconds());
                if (_receivedBlockBytes > 0)
                {
                    // Not reading on until the limit allows it lets TCP slow the sender down.
                    var bytes = _receivedBlockBytes;
                    _receivedBlockBytes = 0;
                    await _torrent.DownloadLimiter.ConsumeAsync(bytes, ct).ConfigureAwait(false);
                }
                if (sender.IsCompleted || uploader.IsCompleted) break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException or IOException or TimeoutException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection ended; the loop learns it from PeerClosed below.
        }
        finally
        {
            ReleaseHalfOpenSlot();
            Volatile.Write(ref _closed, 1);
            _cts.Cancel();
            try
            {
                if (sender is not null) await sender.ConfigureAwait(false);
                if (uploader is not null) await uploader.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Ending anyway.
            }
            if (ownReader && reader is not null) await reader.DisposeAsync().ConfigureAwait(false);
            await Connection.DisposeAsync().ConfigureAwait(false);
            lock (_sendLock)
            {
                _front.Dispose();
                _back.Dispose();
            }
            _torrent.Post(new PeerEvent(this, PeerEventKind.Closed));
        }
    }

    /// <summary>Set when the dial took one of the engine's half-open slots; given back once the connect finished.</summary>
    public bool HoldsHalfOpenSlot { get; init; }

    private int _halfOpenReleased;

    private void ReleaseHalfOpenSlot()
    {
        if (HoldsHalfOpenSlot && Interlocked.Exchange(ref _halfOpenReleased, 1) == 0) _torrent.ReleaseHalfOpen();
    }

    /// <summary>Ends the connection (any thread).</summary>
    public void Close()
    {
        Volatile.Write(ref _closed, 1);
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    // ---- receive side (session task) ----

    public bool OnMessage(in PeerMessage message)
    {
        switch (message.Id)
        {
            case MessageId.Piece:
            {
                _receivedBlockBytes += (int)message.Payload.Length;
                // Checked before the copy: a block nobody asked this peer for must never reach a piece buffer, where it
                // would spoil the piece an honest peer is filling and earn that peer the hash-fail strike.
                switch (Outstanding.Admit(message.Block))
                {
                    case BlockAdmission.Requested:
                        var piece = _torrent.GetActivePiece(message.Index);
                        if (piece is not null && piece.TryCopy(message.Begin, message.Payload))
                            _torrent.Post(new PeerEvent(this, PeerEventKind.BlockReceived, message.Index, message.Begin, message.Length, Piece: piece));
                        else
                            _torrent.Post(new PeerEvent(this, PeerEventKind.BlockDropped, message.Index, message.Begin, message.Length));
                        break;
                    case BlockAdmission.Unrequested:
                        _torrent.Post(new PeerEvent(this, PeerEventKind.BlockUnrequested, message.Index, message.Begin, message.Length));
                        break;
                    default:
                        // Late: a block whose request we cancelled or forgot was already on its way.
                        break;
                }
                break;
            }
            case MessageId.Bitfield:
                _torrent.Post(new PeerEvent(this, PeerEventKind.Bitfield, Payload: message.Payload.ToArray()));
                break;
            case MessageId.Extended:
                _torrent.Post(new PeerEvent(this, PeerEventKind.Extended, Index: message.ExtendedId, Payload: message.Payload.ToArray()));
                break;
            case MessageId.Choke: _torrent.Post(new PeerEvent(this, PeerEventKind.Choke)); break;
            case MessageId.Unchoke: _torrent.Post(new PeerEvent(this, PeerEventKind.Unchoke)); break;
            case MessageId.Interested: _torrent.Post(new PeerEvent(this, PeerEventKind.Interested)); break;
            case MessageId.NotInterested: _torrent.Post(new PeerEvent(this, PeerEventKind.NotInterested)); break;
            case MessageId.Have: _torrent.Post(new PeerEvent(this, PeerEventKind.Have, message.Index)); break;
            case MessageId.HaveAll when SupportsFast: _torrent.Post(new PeerEvent(this, PeerEventKind.HaveAll)); break;
            case MessageId.HaveNone when SupportsFast: _torrent.Post(new PeerEvent(this, PeerEventKind.HaveNone)); break;
            case MessageId.Request: _torrent.Post(new PeerEvent(this, PeerEventKind.Request, message.Index, message.Begin, message.Length)); break;
            // Through the loop like the request it cancels: handled here, a cancel could overtake its request on
            // the way to the queue and miss it.
            case MessageId.Cancel: _torrent.Post(new PeerEvent(this, PeerEventKind.Cancel, message.Index, message.Begin, message.Length)); break;
            case MessageId.RejectRequest when SupportsFast: _torrent.Post(new PeerEvent(this, PeerEventKind.Reject, message.Index, message.Begin, message.Length)); break;
            case MessageId.AllowedFast when SupportsFast: _torrent.Post(new PeerEvent(this, PeerEventKind.AllowedFast, message.Index)); break;
            case MessageId.Suggest when SupportsFast: _torrent.Post(new PeerEvent(this, PeerEventKind.Suggest, message.Index)); break;
            default:
                // Keep-alive, port and unknown ids need nothing.
                break;
        }
        return !IsClosed && !_torrent.Queue.IsFull;
    }

    // ---- send side ----

    /// <summary>Queues a message (loop or upload task); the send task flushes it with others.</summary>
    public void Send(in PeerMessage message)
    {
        if (IsClosed) return;
        lock (_sendLock)
        {
            if (IsClosed) return;
            _front.Write(message);
        }
        LastSendTicks = _torrent.TimeProvider.NowMilliseconds();
        _sendSignal.Writer.TryWrite(true);
    }

    private async Task SendLoopAsync(CancellationToken ct)
    {
        try
        {
            while (await _sendSignal.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                _sendSignal.Reader.TryRead(out _);
                while (true)
                {
                    PeerWireWriter batch;
                    lock (_sendLock)
                    {
                        if (_front.BufferedBytes == 0) break;
                        (_front, _back) = (_back, _front);
                        batch = _back;
                    }
                    await batch.FlushAsync(ct).ConfigureAwait(false);
                    lock (_sendLock)
                    {
                        if (_waitingForRoom)
                        {
                            _waitingForRoom = false;
                            _room.Release();
                        }
                    }
                }
            }
        }
        finally
        {
            Close();
        }
    }

    private async ValueTask WaitForRoomAsync(CancellationToken ct)
    {
        while (true)
        {
            lock (_sendLock)
            {
                if (_front.BufferedBytes < SendHighWater) return;
                _waitingForRoom = true;
            }
            await _room.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    // ---- uploads ----

    /// <summary>Queues a validated request for the upload task (loop). False when the queue is full.</summary>
    public bool EnqueueUpload(BlockRequest block)
    {
        lock (_uploadLock)
        {
            if (_uploads.Count >= MaxQueuedUploads) return false;
            _uploads.Enqueue(block);
        }
        _uploadSignal.Writer.TryWrite(true);
        return true;
    }

    /// <summary>
    /// Drops queued uploads (we choked the peer), except those for pieces in <paramref name="keep"/> (its allowed-fast
    /// set, BEP 6); the dropped ones are added to <paramref name="dropped"/> when given, to be rejected.
    /// </summary>
    public void ClearUploads(ReadOnlySpan<int> keep = default, List<BlockRequest>? dropped = null)
    {
        lock (_uploadLock)
        {
            if (keep.IsEmpty && dropped is null)
            {
                _uploads.Clear();
                return;
            }
            for (var n = _uploads.Count; n > 0; n--)
            {
                var b = _uploads.Dequeue();
                if (keep.Contains(b.PieceIndex)) _uploads.Enqueue(b);
                else dropped?.Add(b);
            }
        }
    }

    /// <summary>Drops a queued request the peer cancelled (loop); one already being read is sent anyway.</summary>
    public void CancelUpload(BlockRequest block)
    {
        lock (_uploadLock)
        {
            if (!_uploads.Contains(block)) return;
            // One turn of the queue, keeping the order and allocating nothing.
            for (var n = _uploads.Count; n > 0; n--)
            {
                var b = _uploads.Dequeue();
                if (b != block) _uploads.Enqueue(b);
            }
        }
    }

    /// <summary>
    /// Most bytes read from storage at once for one peer: queued requests for consecutive blocks of one piece are read
    /// with one call (peers ask for a piece's blocks in order), 8 blocks at 16 KiB.
    /// </summary>
    internal const int UploadReadSize = 8 * BlockRequest.StandardBlockLength;

    private async Task UploadLoopAsync(CancellationToken ct)
    {
        // Rented on the first request, so peers that never ask hold no block buffer.
        byte[]? buffer = null;
        var batch = new BlockRequest[UploadReadSize / BlockRequest.StandardBlockLength];
        try
        {
            while (await _uploadSignal.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                buffer ??= ArrayPool<byte>.Shared.Rent(UploadReadSize);
                _uploadSignal.Reader.TryRead(out _);
                while (true)
                {
                    var count = TakeUploadBatch(batch, buffer.Length, out var bytes);
                    if (count == 0) break;
                    var storage = _torrent.Storage;
                    if (storage is null) continue;
                    await _torrent.UploadLimiter.ConsumeAsync(bytes, ct).ConfigureAwait(false);
                    var first = batch[0];
                    var offset = (long)first.PieceIndex * storage.Layout.PieceLength + first.Begin;
                    int read;
                    try
                    {
                        // Files on disk are read in place on this task: a read of recently used data is a copy out of
                        // the page cache, cheaper than the thread-pool hop RandomAccess.ReadAsync makes for it on Linux
                        // (where it blocks a pool thread the same way).
                        read = storage is TorrentStorage files
                            ? files.Read(offset, buffer.AsSpan(0, bytes))
                            : await storage.ReadAsync(offset, buffer.AsMemory(0, bytes), ct).ConfigureAwait(false);
                    }
                    catch (IOException)
                    {
                        read = -1; // gone, unreadable or refused (a link): the same as short for the peer and the piece
                    }
                    if (read != bytes)
                    {
                        // The file changed under us (truncated, deleted): send nothing, and have the loop take the piece
                        // off what we have and check it again, instead of failing the same way at every request.
                        _torrent.Post(new ReadFailedMessage(first.PieceIndex));
                        continue;
                    }
                    var at = 0;
                    for (var i = 0; i < count; i++)
                    {
                        var block = batch[i];
                        await WaitForRoomAsync(ct).ConfigureAwait(false);
                        Send(PeerMessage.Piece(block.PieceIndex, block.Begin, buffer.AsMemory(at, block.Length)));
                        at += block.Length;
                    }
                    Interlocked.Add(ref _uploaded, bytes);
                    _torrent.Metrics.BytesUploaded(bytes);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
            Close();
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Takes the next queued request and those right after it that continue it in the same piece, up to
    /// <paramref name="capacity"/> bytes and the batch's length; requests too large for the buffer are dropped.
    /// </summary>
    private int TakeUploadBatch(BlockRequest[] batch, int capacity, out int bytes)
    {
        bytes = 0;
        var count = 0;
        lock (_uploadLock)
        {
            while (count < batch.Length && _uploads.TryPeek(out var next))
            {
                if (next.Length > capacity)
                {
                    if (count > 0) break;
                    _uploads.Dequeue();
                    continue;
                }
                if (count > 0)
                {
                    var last = batch[count - 1];
                    if (next.PieceIndex != last.PieceIndex || next.Begin != last.Begin + last.Length || bytes + next.Length > capacity) break;
                }
                _uploads.Dequeue();
                batch[count++] = next;
                bytes += next.Length;
            }
        }
        return count;
    }
}
