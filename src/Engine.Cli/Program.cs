using TorrentEdge.Engine.Cli;

return await CliApp.RunAsync(args, Console.Out, Console.Error);
