using System.Runtime.InteropServices;
using TorrentEdge.AppHost;
using TorrentEdge.AppHost.Hosting;

AppHostOptions options;
try
{
    options = AppHostOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
if (options.Help)
{
    Console.WriteLine(AppHostOptions.Usage);
    return 0;
}
if (options.PrintTopology)
{
    Console.WriteLine(TopologyDocument.ToJson(options.Workers));
    return 0;
}

var log = ConsoleLog.ForConsole();
using var shutdown = new CancellationTokenSource();
void RequestShutdown(PosixSignalContext context)
{
    // Handled here: the graceful stop below runs instead of the runtime's default exit.
    context.Cancel = true;
    if (!shutdown.IsCancellationRequested)
    {
        log.Info($"{context.Signal} received.");
        shutdown.Cancel();
    }
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, RequestShutdown);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, RequestShutdown);

RepositoryLayout layout;
try
{
    layout = RepositoryLayout.Locate(options.Configuration);
}
catch (InvalidOperationException e)
{
    log.Error(e.Message);
    return 1;
}

// --no-restart: a policy that gives up at the first crash, so a replica killed on purpose stays down.
await using var supervisor = new Supervisor(options, log, layout, options.Restart ? null : new RestartPolicy { MaxRapidCrashes = 0 });
try
{
    if (!await supervisor.StartAsync(shutdown.Token))
    {
        await supervisor.StopAsync();
        return 1;
    }
    try
    {
        await Task.Delay(Timeout.Infinite, shutdown.Token);
    }
    catch (OperationCanceledException)
    {
    }
    await supervisor.StopAsync();
    return 0;
}
catch
{
    supervisor.KillAll();
    throw;
}
