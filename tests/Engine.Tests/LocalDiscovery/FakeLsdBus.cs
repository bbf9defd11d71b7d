using System.Net;
using System.Threading.Channels;
using TorrentEdge.Engine.LocalDiscovery;

namespace TorrentEdge.Engine.Tests.LocalDiscovery;

/// <summary>A multicast group in memory: every datagram sent reaches every member, the sender too (as multicast loopback does).</summary>
internal sealed class FakeLsdBus
{
    private readonly List<Member> _members = [];

    public List<(IPAddress From, byte[] Datagram)> Sent { get; } = [];

    public Member Join(IPAddress address)
    {
        var member = new Member(this, address);
        lock (_members) _members.Add(member);
        return member;
    }

    /// <summary>Delivers a datagram as if <paramref name="from"/> had sent it.</summary>
    public void Inject(IPEndPoint from, byte[] datagram)
    {
        Member[] members;
        lock (_members) members = [.. _members];
        foreach (var m in members) m.Inbox.Writer.TryWrite((datagram, from));
    }

    internal sealed class Member(FakeLsdBus bus, IPAddress address) : ILsdTransport
    {
        public Channel<(byte[] Datagram, IPEndPoint From)> Inbox { get; } = Channel.CreateUnbounded<(byte[], IPEndPoint)>();

        public ValueTask SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken)
        {
            lock (bus.Sent) bus.Sent.Add((address, datagram.ToArray()));
            bus.Inject(new IPEndPoint(address, 6771), datagram.ToArray());
            return ValueTask.CompletedTask;
        }

        public async ValueTask<LsdDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            var (datagram, from) = await Inbox.Reader.ReadAsync(cancellationToken);
            var n = Math.Min(datagram.Length, buffer.Length);
            datagram.AsSpan(0, n).CopyTo(buffer.Span);
            return new LsdDatagram(n, from);
        }

        public ValueTask DisposeAsync()
        {
            lock (bus._members) bus._members.Remove(this);
            Inbox.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}
