Console.WriteLine("TorrentEdge AppHost: not yet");
