namespace TorrentEdge.AppHost.Tests;

/// <summary>The repository the tests run from (the folder holding the solution).</summary>
internal static class RepositoryRoot
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TorrentEdge.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("TorrentEdge.sln not found above " + AppContext.BaseDirectory);
    }
}
