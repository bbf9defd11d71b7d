using System.Numerics;
using TorrentEdge.Engine.Encryption;

namespace TorrentEdge.Engine.Tests.Encryption;

public class DiffieHellmanTests
{
    private static readonly byte[] PrivateA = Convert.FromHexString("0102030405060708090a0b0c0d0e0f1011121314");
    private static readonly byte[] PrivateB = Convert.FromHexString("a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4");

    private const string PrimeHex =
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563";

    // Expected values from Python: pow(2, xa, P) and pow(pow(2, xb, P), xa, P), 96 bytes big-endian.
    [Fact]
    public void PublicKeyAndSecret_KnownPrivateKeys_MatchTheSpecsGroup()
    {
        var a = new DiffieHellman(PrivateA);
        var b = new DiffieHellman(PrivateB);
        Assert.Equal(96, a.PublicKey.Length);
        Assert.Equal("96e112dab29e8c5272accb9b17b26887ce54a144a4e3b697c7d159b7a817e556b0918db2b4c658e02a87f7e5fb14b18a553e084cbf3dad2d30f16596ccb982d406258c61b30c5c1dae2ddc60bdbd48d79896312aad63238c39e1a633821eb693",
            Convert.ToHexStringLower(a.PublicKey));

        var sa = new byte[96];
        var sb = new byte[96];
        Assert.True(a.TryComputeSecret(b.PublicKey, sa));
        Assert.True(b.TryComputeSecret(a.PublicKey, sb));
        Assert.Equal(sa, sb);
        Assert.Equal("647917bf1d8fa2dd2287ca80f6f3c81d3b2b46731e2cd43a15c49e6c912c1dd3daf8a43b3b12057c27bb91ebdf21d771d001ea17e04705a62d6732246dbd9cf7e0f79cb490e75962697d487eec5ca71bfa112a3323445eb2e25a7f472854e83d",
            Convert.ToHexStringLower(sa));
    }

    [Fact]
    public void PublicKey_PrivateKeyOne_IsTheGeneratorLeftPadded()
    {
        var one = new DiffieHellman([1]);
        Assert.Equal(2, one.PublicKey[95]);
        Assert.All(one.PublicKey[..95], b => Assert.Equal(0, b));
    }

    [Fact]
    public void TryComputeSecret_RandomPairs_Agree()
    {
        for (var i = 0; i < 5; i++)
        {
            var a = new DiffieHellman();
            var b = new DiffieHellman();
            var sa = new byte[96];
            var sb = new byte[96];
            Assert.True(a.TryComputeSecret(b.PublicKey, sa));
            Assert.True(b.TryComputeSecret(a.PublicKey, sb));
            Assert.Equal(sa, sb);
            Assert.NotEqual(a.PublicKey, b.PublicKey);
        }
    }

    public static TheoryData<string> DegenerateKeys()
    {
        var p = BigInteger.Parse("0" + PrimeHex, System.Globalization.NumberStyles.HexNumber);
        static string Hex(BigInteger v)
        {
            var bytes = new byte[96];
            v.TryWriteBytes(bytes.AsSpan(96 - v.GetByteCount(true)), out _, isUnsigned: true, isBigEndian: true);
            return Convert.ToHexStringLower(bytes);
        }
        return new TheoryData<string> { Hex(0), Hex(1), Hex(p - 1), Hex(p), Hex(p + 5), new string('f', 192) };
    }

    // A hostile peer picks a public key that makes the secret predictable (0, 1, P-1) or is not in the group.
    [Theory]
    [MemberData(nameof(DegenerateKeys))]
    public void TryComputeSecret_DegenerateOrOutOfRangeKey_Refused(string publicKeyHex)
    {
        var secret = new byte[96];
        Assert.False(new DiffieHellman().TryComputeSecret(Convert.FromHexString(publicKeyHex), secret));
    }

    [Fact]
    public void TryComputeSecret_WrongLength_Refused()
    {
        Assert.False(new DiffieHellman().TryComputeSecret(new byte[95], new byte[96]));
    }
}
