using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace TorrentEdge.Engine.Cli;

/// <summary>One JSON object on one line (no reflection, so it works trimmed), for scripts and the benchmark.</summary>
internal sealed class JsonLine
{
    private readonly MemoryStream _stream = new();
    private readonly Utf8JsonWriter _writer;

    public JsonLine(string command)
    {
        _writer = new Utf8JsonWriter(_stream);
        _writer.WriteStartObject();
        _writer.WriteString("command", command);
    }

    public JsonLine Add(string name, long value)
    {
        _writer.WriteNumber(name, value);
        return this;
    }

    public JsonLine Add(string name, double? value)
    {
        if (value is { } v) _writer.WriteNumber(name, Math.Round(v, 4));
        else _writer.WriteNull(name);
        return this;
    }

    public JsonLine Add(string name, string? value)
    {
        _writer.WriteString(name, value);
        return this;
    }

    /// <summary>CPU seconds and peak resident set of this process so far.</summary>
    public JsonLine AddResources()
    {
        using var self = Process.GetCurrentProcess();
        Add("cpu_s", self.TotalProcessorTime.TotalSeconds);
        Add("peak_rss_mib", self.PeakWorkingSet64 / (1024.0 * 1024.0));
        Add("rss_mib", self.WorkingSet64 / (1024.0 * 1024.0));
        Add("allocated_mib", GC.GetTotalAllocatedBytes() / (1024.0 * 1024.0));
        Add("gc_gen0", GC.CollectionCount(0));
        Add("gc_gen2", GC.CollectionCount(2));
        return this;
    }

    public override string ToString()
    {
        _writer.WriteEndObject();
        _writer.Flush();
        return Encoding.UTF8.GetString(_stream.GetBuffer(), 0, (int)_stream.Length);
    }
}
