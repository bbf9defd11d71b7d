using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// Run with: dotnet run -c Release --project benchmarks/Engine.Benchmarks -- --filter '*'
// BenchmarkDotNet builds a boilerplate project per job; its default 2-minute build timeout is too short on a busy
// 2-core machine, so allow 10.
var config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(10));
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
