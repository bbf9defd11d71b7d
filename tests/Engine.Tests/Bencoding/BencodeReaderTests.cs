using System.Text;
using TorrentEdge.Engine.Bencoding;

namespace TorrentEdge.Engine.Tests.Bencoding;

public class BencodeReaderTests
{
    private static BValue Decode(string s, BencodeReaderOptions? o = null) => BencodeReader.Decode(Encoding.Latin1.GetBytes(s), o);

    private static BencodeException Fails(string s, BencodeReaderOptions? o = null) => Assert.Throws<BencodeException>(() => Decode(s, o));

    [Theory]
    [InlineData("i0e", 0L)]
    [InlineData("i42e", 42L)]
    [InlineData("i-42e", -42L)]
    [InlineData("i9223372036854775807e", long.MaxValue)]
    [InlineData("i-9223372036854775808e", long.MinValue)]
    public void Decode_CanonicalInteger_ReturnsValue(string input, long expected)
        => Assert.Equal(expected, Assert.IsType<BInteger>(Decode(input)).Value);

    [Theory]
    [InlineData("i03e", BencodeError.NonCanonicalInteger, 1)]
    [InlineData("i-0e", BencodeError.NonCanonicalInteger, 1)]
    [InlineData("i00e", BencodeError.NonCanonicalInteger, 1)]
    [InlineData("i-05e", BencodeError.NonCanonicalInteger, 1)]
    [InlineData("ie", BencodeError.InvalidInteger, 1)]
    [InlineData("i-e", BencodeError.InvalidInteger, 2)]
    [InlineData("i1x2e", BencodeError.InvalidInteger, 2)]
    [InlineData("i+1e", BencodeError.InvalidInteger, 1)]
    [InlineData("i12", BencodeError.UnexpectedEnd, 3)]
    [InlineData("i9223372036854775808e", BencodeError.IntegerOverflow, 1)]
    [InlineData("i-9223372036854775809e", BencodeError.IntegerOverflow, 1)]
    [InlineData("i99999999999999999999999e", BencodeError.IntegerOverflow, 1)]
    public void Decode_BadInteger_ThrowsWithKindAndOffset(string input, BencodeError error, long offset)
    {
        var ex = Fails(input);
        Assert.Equal(error, ex.Error);
        Assert.Equal(offset, ex.Offset);
        Assert.Contains($"offset {offset}", ex.Message);
    }

    [Fact]
    public void Decode_String_SlicesInput()
    {
        var s = Assert.IsType<BString>(Decode("4:spam"));
        Assert.Equal("spam", s.Text);
        Assert.Equal(string.Empty, Assert.IsType<BString>(Decode("0:")).Text);
    }

    [Theory]
    [InlineData("5:spam", BencodeError.StringExceedsInput)]
    [InlineData("05:spams", BencodeError.NonCanonicalInteger)]
    [InlineData("-1:a", BencodeError.UnexpectedByte)]
    [InlineData("4", BencodeError.UnexpectedEnd)]
    [InlineData("4x:spam", BencodeError.InvalidStringLength)]
    [InlineData("99999999999999999999:a", BencodeError.IntegerOverflow)]
    [InlineData("2147483648:a", BencodeError.StringExceedsInput)]
    public void Decode_BadString_Throws(string input, BencodeError error) => Assert.Equal(error, Fails(input).Error);

    [Fact]
    public void Decode_ListAndDictionary_ReturnsStructure()
    {
        var d = Assert.IsType<BDictionary>(Decode("d3:bar4:spam3:fooi42e4:listl1:ai1eee"));
        Assert.Equal("spam", d.Get<BString>("bar")!.Text);
        Assert.Equal(42, d.Get<BInteger>("foo")!.Value);
        var l = d.Get<BList>("list")!;
        Assert.Equal(2, l.Count);
        Assert.Null(d.Get<BString>("foo"));
        Assert.False(d.ContainsKey("missing"));
    }

    [Fact]
    public void Decode_UnsortedKeys_Throws()
    {
        var ex = Fails("d3:fooi1e3:bari2ee");
        Assert.Equal(BencodeError.UnsortedKeys, ex.Error);
        Assert.Equal(9, ex.Offset);
    }

    [Fact]
    public void Decode_UnsortedKeysWhenAllowed_SortsThem()
    {
        var d = Assert.IsType<BDictionary>(Decode("d3:fooi1e3:bari2ee", new BencodeReaderOptions { RequireSortedKeys = false }));
        Assert.Equal(["bar", "foo"], d.Keys.Select(k => k.Text));
        Assert.Equal(2, d.Get<BInteger>("bar")!.Value);
    }

    [Fact]
    public void Decode_DuplicateKey_Throws()
    {
        Assert.Equal(BencodeError.DuplicateKey, Fails("d3:fooi1e3:fooi2ee").Error);
        Assert.Equal(BencodeError.DuplicateKey, Fails("d1:ai1e1:bi1e1:ai2ee", new BencodeReaderOptions { RequireSortedKeys = false }).Error);
    }

    [Fact]
    public void Decode_NonStringKey_Throws() => Assert.Equal(BencodeError.KeyNotString, Fails("di1ei2ee").Error);

    [Theory]
    [InlineData("l")]
    [InlineData("li1e")]
    [InlineData("d")]
    [InlineData("d1:a")]
    [InlineData("")]
    public void Decode_Truncated_ThrowsUnexpectedEnd(string input) => Assert.Equal(BencodeError.UnexpectedEnd, Fails(input).Error);

    [Theory]
    [InlineData("x")]
    [InlineData("e")]
    [InlineData("lxe")]
    public void Decode_UnknownByte_Throws(string input) => Assert.Equal(BencodeError.UnexpectedByte, Fails(input).Error);

    [Fact]
    public void Decode_TrailingData_Throws()
    {
        var ex = Fails("i1eXYZ");
        Assert.Equal(BencodeError.TrailingData, ex.Error);
        Assert.Equal(3, ex.Offset);
    }

    [Fact]
    public void DecodePrefix_TrailingData_ReportsConsumed()
    {
        var v = BencodeReader.DecodePrefix("d1:ai1ee<piece bytes>"u8.ToArray(), out var consumed);
        Assert.IsType<BDictionary>(v);
        Assert.Equal(8, consumed);
    }

    [Fact]
    public void Decode_TooDeep_ThrowsInsteadOfOverflowingStack()
    {
        var deep = new string('l', 100_000) + new string('e', 100_000);
        Assert.Equal(BencodeError.NestingTooDeep, Fails(deep).Error);
        var ok = new string('l', 64) + new string('e', 64);
        Assert.IsType<BList>(Decode(ok));
        Assert.Equal(BencodeError.NestingTooDeep, Fails(new string('l', 65) + new string('e', 65)).Error);
    }

    [Fact]
    public void Decode_InputOverLimit_Throws()
        => Assert.Equal(BencodeError.InputTooLarge, Fails("4:spam", new BencodeReaderOptions { MaxInputLength = 5 }).Error);

    [Fact]
    public void Decode_NestedValue_ExposesExactRawBytes()
    {
        var input = Encoding.Latin1.GetBytes("d4:infod6:lengthi5e4:name1:xe3:zzzi1ee");
        var d = BencodeReader.DecodeDictionary(input);
        var info = d.Get<BDictionary>("info")!;
        Assert.Equal("d6:lengthi5e4:name1:xe", Encoding.Latin1.GetString(info.Raw.Span));
        Assert.Equal(7, info.Offset);
    }

    [Fact]
    public void Decode_BinaryString_KeepsBytes()
    {
        byte[] input = [(byte)'3', (byte)':', 0, 0xff, 0x80];
        var s = Assert.IsType<BString>(BencodeReader.Decode(input));
        Assert.Equal(new byte[] { 0, 0xff, 0x80 }, s.Bytes.ToArray());
        Assert.False(s.IsValidUtf8);
    }
}
