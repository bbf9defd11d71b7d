namespace TorrentEdge.Engine.Bencoding;

/// <summary>What was wrong with malformed bencoded input.</summary>
public enum BencodeError
{
    UnexpectedEnd,
    UnexpectedByte,
    InvalidInteger,
    NonCanonicalInteger,
    IntegerOverflow,
    InvalidStringLength,
    StringExceedsInput,
    KeyNotString,
    UnsortedKeys,
    DuplicateKey,
    NestingTooDeep,
    InputTooLarge,
    TrailingData,

    /// <summary>More values than <see cref="BencodeReaderOptions.NodeLimit"/> allows for the input.</summary>
    TooManyNodes,
}

/// <summary>Malformed bencoded input: the kind of error and the byte offset where it was found.</summary>
public sealed class BencodeException : FormatException
{
    public BencodeException(BencodeError error, long offset)
        : base($"Invalid bencoding ({error}) at offset {offset}.")
    {
        Error = error;
        Offset = offset;
    }

    public BencodeError Error { get; }

    public long Offset { get; }
}
