namespace TorrentEdge.Engine.Protocol;

/// <summary>Peer wire message ids (BEP 3, BEP 6 Fast extension, BEP 10 extended). Keep-alive has no id on the wire.</summary>
public enum MessageId : byte
{
    Choke = 0,
    Unchoke = 1,
    Interested = 2,
    NotInterested = 3,
    Have = 4,
    Bitfield = 5,
    Request = 6,
    Piece = 7,
    Cancel = 8,
    Port = 9,
    Suggest = 0x0D,
    HaveAll = 0x0E,
    HaveNone = 0x0F,
    RejectRequest = 0x10,
    AllowedFast = 0x11,
    Extended = 20,
    /// <summary>Not a wire id: the zero-length keep-alive.</summary>
    KeepAlive = 0xFF,
}
