using System.Text;
using TorrentEdge.Engine.Encryption;

namespace TorrentEdge.Engine.Tests.Encryption;

public class Rc4Tests
{
    // The classic published vectors (Wikipedia's RC4 article), checked here against a Python reference too.
    [Theory]
    [InlineData("Key", "Plaintext", "bbf316e8d940af0ad3")]
    [InlineData("Wiki", "pedia", "1021bf0420")]
    [InlineData("Secret", "Attack at dawn", "45a01f645fc35b383552544b9bf5")]
    public void Apply_PublishedVectors_MatchCiphertext(string key, string plaintext, string ciphertextHex)
    {
        var data = Encoding.ASCII.GetBytes(plaintext);
        new Rc4(Encoding.ASCII.GetBytes(key)).Apply(data);
        Assert.Equal(ciphertextHex, Convert.ToHexStringLower(data));
    }

    // RFC 6229's 128-bit key 0x0102..10; the keystream at offsets 0 and 1024 from OpenSSL:
    // head -c 1040 /dev/zero | openssl enc -rc4 -K 0102030405060708090a0b0c0d0e0f10 -nosalt -provider legacy -provider default | xxd -p
    [Fact]
    public void Constructor_Discard1024_KeystreamStartsAtOffset1024()
    {
        var key = Convert.FromHexString("0102030405060708090a0b0c0d0e0f10");
        var head = new byte[16];
        new Rc4(key).Apply(head);
        Assert.Equal("9ac7cc9a609d1ef7b2932899cde41b97", Convert.ToHexStringLower(head));

        var dropped = new byte[16];
        new Rc4(key, discard: 1024).Apply(dropped);
        Assert.Equal("bdf0324e6083dcc6d3cedd3ca8c53c16", Convert.ToHexStringLower(dropped));
    }

    [Fact]
    public void Apply_InPiecesOrToAnotherBuffer_SameAsOneCallAndReversible()
    {
        var key = Encoding.ASCII.GetBytes("a twenty byte key...");
        var plain = new byte[10_000];
        new Random(7).NextBytes(plain);

        var whole = plain.ToArray();
        new Rc4(key, 1024).Apply(whole);

        var pieces = new byte[plain.Length];
        var cipher = new Rc4(key, 1024);
        for (int at = 0, step = 1; at < plain.Length; at += step, step = step * 3 % 1499 + 1)
        {
            var n = Math.Min(step, plain.Length - at);
            cipher.Apply(plain.AsSpan(at, n), pieces.AsSpan(at, n));
        }
        Assert.Equal(whole, pieces);
        Assert.NotEqual(plain, whole);

        new Rc4(key, 1024).Apply(whole);
        Assert.Equal(plain, whole);
    }

    [Fact]
    public void Apply_InPlace_AllocatesNothing()
    {
        var cipher = new Rc4(new byte[20], 1024);
        var block = new byte[16 * 1024];
        cipher.Apply(block); // JIT and tiering first
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 64; i++) cipher.Apply(block);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
