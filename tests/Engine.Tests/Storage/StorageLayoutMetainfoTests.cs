using System.Text;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Tests.Storage;

public class StorageLayoutMetainfoTests
{
    [Fact]
    public void FromMetainfo_MultiFileWithPadding_KeepsPathsLengthsAndPadding()
    {
        var pieces = new string('x', 20);
        var torrent = "d4:infod5:filesl"
            + "d6:lengthi5e4:pathl1:aee"
            + "d4:attr1:p6:lengthi11e4:pathl4:.pad2:11ee"
            + "d6:lengthi16e4:pathl3:sub1:beee"
            + "4:name4:root12:piece lengthi16384e6:pieces20:" + pieces + "ee";

        var metainfo = TorrentMetainfo.Parse(Encoding.ASCII.GetBytes(torrent));
        var layout = StorageLayout.FromMetainfo(metainfo);

        Assert.Equal(metainfo.TotalLength, layout.TotalLength);
        Assert.Equal(metainfo.PieceCount, layout.PieceCount);
        Assert.Equal(["root/a", "root/.pad/11", "root/sub/b"], layout.Files.Select(f => f.RelativePath));
        Assert.Equal([false, true, false], layout.Files.Select(f => f.IsPadding));
    }
}
