using System.Buffers;
using System.Text;
using CsCheck;
using TorrentEdge.Engine.Bencoding;

namespace TorrentEdge.Engine.Tests.Bencoding;

public class BencodeWriterTests
{
    [Fact]
    public void Encode_ConstructedDictionary_SortsKeys()
    {
        var d = new BDictionary { { "zeta", new BInteger(1) }, { "alpha", new BList { new BString("x"), new BInteger(-3) } } };
        Assert.Equal("d5:alphal1:xi-3ee4:zetai1ee", Encoding.Latin1.GetString(d.Encode()));
    }

    [Fact]
    public void Set_ExistingKey_ReplacesValue()
    {
        var d = new BDictionary { { "a", new BInteger(1) } };
        d["a"] = new BInteger(2);
        Assert.Equal("d1:ai2ee", Encoding.Latin1.GetString(d.Encode()));
    }

    [Fact]
    public void Write_ToBufferWriter_MatchesEncode()
    {
        var v = new BList { new BInteger(long.MinValue), new BString(new byte[300]) };
        var w = new ArrayBufferWriter<byte>(1);
        BencodeWriter.Write(v, w);
        Assert.Equal(v.Encode(), w.WrittenSpan.ToArray());
    }

    internal static Gen<BValue> GenValue(int depth)
    {
        Gen<BValue> leaf = Gen.OneOf<BValue>(
            Gen.Long.Select(l => (BValue)new BInteger(l)),
            Gen.Byte.Array[0, 12].Select(b => (BValue)new BString(b)));
        if (depth == 0) return leaf;
        var inner = GenValue(depth - 1);
        var list = inner.Array[0, 4].Select(items => (BValue)new BList(items));
        var dict = Gen.Select(Gen.Byte.Array[0, 6], inner).Array[0, 4].Select(entries =>
        {
            var d = new BDictionary();
            foreach (var (k, v) in entries) d.Set(new BString(k), v);
            return (BValue)d;
        });
        return Gen.OneOf(leaf, list, dict);
    }

    [Fact]
    public void EncodeDecode_AnyValue_RoundTrips()
    {
        GenValue(4).Sample(v =>
        {
            var bytes = v.Encode();
            var decoded = BencodeReader.Decode(bytes);
            Assert.Equal(v, decoded);
            Assert.Equal(bytes, decoded.Encode());
            Assert.Equal(bytes, decoded.Raw.ToArray());
        }, iter: 2000);
    }

    [Fact]
    public void Decode_RandomBytes_ReturnsValueOrBencodeException()
    {
        Gen.Byte.Array[0, 64].Sample(DecodeOrBencodeError, iter: 20000);
    }

    [Fact]
    public void Decode_MutatedValidEncoding_ReturnsValueOrBencodeException()
    {
        Gen.Select(GenValue(3), Gen.Int[0, 1000], Gen.Byte, Gen.Int[0, 2]).Sample((v, at, b, mode) =>
        {
            var bytes = v.Encode();
            if (bytes.Length == 0) return;
            var i = at % bytes.Length;
            byte[] mutated = mode switch
            {
                0 => bytes[..i],
                1 => [.. bytes[..i], b, .. bytes[i..]],
                _ => [.. bytes[..i], b, .. bytes[(i + 1)..]],
            };
            DecodeOrBencodeError(mutated);
        }, iter: 5000);
    }

    private static void DecodeOrBencodeError(byte[] input)
    {
        try
        {
            var v = BencodeReader.Decode(input);
            // Strict decoding is canonical: what it accepts re-encodes to the same bytes.
            Assert.Equal(input, v.Encode());
        }
        catch (BencodeException)
        {
        }
    }
}
