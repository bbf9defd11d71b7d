using TorrentEdge.Engine.Cli;

// Socket continuations run on the socket engine's thread instead of being queued to the thread pool: one wake-up less
// per receive and send that had to wait. Measured on the 2-core machine, 1 GiB downloads, 5 runs each, alternating
// (benchmarks/results/2026-12-07-2206.md): 6-10 % less CPU per GiB in all four download cases, at the same or a higher
// rate. Safe here because nothing the engine runs after a socket await blocks: storage reads, hashing and writes
// are queued to the pool on their own. The runtime reads the switch once, when the first socket is made; a value
// the user set wins. PeerWorker does not set it: Kestrel and the Kafka client share its process.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

return await CliApp.RunAsync(args, Console.Out, Console.Error);
