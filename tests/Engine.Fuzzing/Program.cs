using SharpFuzz;
using TorrentEdge.Engine.Fuzzing;

// Usage: TorrentEdge.Engine.Fuzzing <target>               run under afl-fuzz (benchmarks/fuzz.sh)
//        TorrentEdge.Engine.Fuzzing <target> <file>...     replay inputs, e.g. a crash afl-fuzz saved
if (args.Length < 1 || !FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: TorrentEdge.Engine.Fuzzing <{string.Join('|', FuzzTargets.Names)}> [input files to replay]");
    return 2;
}

var target = args[0];
if (args.Length > 1)
{
    foreach (var file in args[1..])
    {
        FuzzTargets.Run(target, File.ReadAllBytes(file));
        Console.WriteLine($"ok {file}");
    }

    return 0;
}

// Out of process: SharpFuzz restarts the child after a crash, so one input that kills the runtime (a stack overflow)
// is reported as a crash instead of ending the run.
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    FuzzTargets.Run(target, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
});
return 0;
