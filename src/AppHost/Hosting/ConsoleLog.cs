namespace TorrentEdge.AppHost.Hosting;

/// <summary>Writes the AppHost's own lines and every child's output, prefixed with the resource name and coloured per resource.</summary>
public sealed class ConsoleLog
{
    private static readonly string[] Palette =
    [
        "\u001b[36m", "\u001b[32m", "\u001b[33m", "\u001b[35m", "\u001b[34m",
        "\u001b[96m", "\u001b[92m", "\u001b[93m", "\u001b[95m", "\u001b[94m",
    ];

    private const string Reset = "\u001b[0m";
    private const string Bold = "\u001b[1m";
    private const string Red = "\u001b[31m";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _colours = new(StringComparer.Ordinal);
    private readonly TextWriter _out;
    private readonly bool _colour;
    private int _width = 10;

    public ConsoleLog(TextWriter output, bool colour)
    {
        _out = output;
        _colour = colour;
    }

    /// <summary>Colour unless output is redirected or NO_COLOR is set (https://no-color.org).</summary>
    public static ConsoleLog ForConsole() =>
        new(Console.Out, !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")));

    /// <summary>Reserves a colour and widens the prefix column for a resource.</summary>
    public void Register(string resource)
    {
        lock (_gate)
        {
            if (!_colours.ContainsKey(resource))
            {
                _colours[resource] = Palette[_colours.Count % Palette.Length];
            }
            _width = Math.Max(_width, resource.Length);
        }
    }

    public void Child(string resource, string line, bool isError = false)
    {
        lock (_gate)
        {
            var prefix = resource.PadRight(_width);
            if (_colour)
            {
                var colour = _colours.GetValueOrDefault(resource, Palette[0]);
                _out.WriteLine($"{colour}{prefix} |{Reset} {(isError ? Red + line + Reset : line)}");
            }
            else
            {
                _out.WriteLine($"{prefix} | {line}");
            }
        }
    }

    public void Info(string message) => Host(message, error: false);

    public void Error(string message) => Host(message, error: true);

    /// <summary>Writes a block (the resource table) as one unit so child lines do not interleave with it.</summary>
    public void Block(string text)
    {
        lock (_gate)
        {
            _out.Write(text);
            _out.Flush();
        }
    }

    private void Host(string message, bool error)
    {
        lock (_gate)
        {
            var prefix = "apphost".PadRight(_width);
            _out.WriteLine(_colour
                ? $"{Bold}{(error ? Red : string.Empty)}{prefix} |{Reset} {(error ? Red + message + Reset : message)}"
                : $"{prefix} | {message}");
            _out.Flush();
        }
    }
}
