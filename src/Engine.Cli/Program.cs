Console.WriteLine("torrentedge-cli: not yet");
