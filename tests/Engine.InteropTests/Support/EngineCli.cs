namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>Our command-line entry (torrentedge-cli) run as a separate process, so a test can kill -9 it.</summary>
public static class EngineCli
{
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "torrentedge-cli.dll");

    public static ExternalProcess Start(params string[] args) =>
        ExternalProcess.Start("dotnet", [DllPath, .. args]);
}
