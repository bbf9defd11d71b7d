using TorrentEdge.Notifier.SocketIO;

namespace TorrentEdge.Notifier.Tests.SocketIO;

public sealed class SocketIoPacketTests
{
    [Theory]
    [InlineData("0", SocketIoPacketType.Connect, "/", null)]
    [InlineData("0{\"token\":\"t\"}", SocketIoPacketType.Connect, "/", null)]
    [InlineData("2[\"authenticate\",{\"token\":\"t\"}]", SocketIoPacketType.Event, "/", null)]
    [InlineData("212[\"subscribe:torrent\",{}]", SocketIoPacketType.Event, "/", 12L)]
    [InlineData("2/admin,7[\"x\"]", SocketIoPacketType.Event, "/admin", 7L)]
    [InlineData("1", SocketIoPacketType.Disconnect, "/", null)]
    public void TryParse_WhatTheClientSends_Decoded(string text, SocketIoPacketType type, string ns, long? ack)
    {
        Assert.True(SocketIoPacket.TryParse(text, out var packet));

        Assert.Equal((type, ns, ack), (packet.Type, packet.Namespace, packet.AckId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("9")]
    [InlineData("2[\"unterminated\"")]
    [InlineData("51-[\"binary\",{\"_placeholder\":true,\"num\":0}]")]
    public void TryParse_MalformedOrBinary_Refused(string text) => Assert.False(SocketIoPacket.TryParse(text, out _));

    [Fact]
    public void TryGetEvent_NameAndFirstArgument()
    {
        Assert.True(SocketIoPacket.TryParse("23[\"subscribe:torrent\",{\"infoHash\":\"ab\"}]", out var packet));

        Assert.True(packet.TryGetEvent(out var name, out var argument));
        Assert.Equal(("subscribe:torrent", "ab"), (name, argument.GetProperty("infoHash").GetString()));
    }

    [Fact]
    public void Ack_IsTheEngineMessageWithTheId() => Assert.Equal("4312[{\"ok\":true}]", SocketIoPacket.Ack(12, new { ok = true }));
}
