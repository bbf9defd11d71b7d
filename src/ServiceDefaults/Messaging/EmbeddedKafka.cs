using System.Runtime.InteropServices;
using System.Text;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>
/// A Kafka-protocol cluster inside this process: librdkafka's mock cluster, whose brokers listen on 127.0.0.1 and serve
/// other processes too. For development (AppHost) and tests; everything lives in memory and ends with <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// Topics are created automatically on first use (with the mock's default partition count); use <see cref="CreateTopic"/>
/// for a given partition count. The admin API's CreateTopics times out against the mock, so nothing here relies on it.
/// </remarks>
public sealed partial class EmbeddedKafka : IDisposable
{
    private IntPtr _client;
    private IntPtr _cluster;
    private readonly Lock _gate = new();

    private EmbeddedKafka(IntPtr client, IntPtr cluster, string bootstrapServers, int brokers)
    {
        _client = client;
        _cluster = cluster;
        BootstrapServers = bootstrapServers;
        BrokerCount = brokers;
    }

    /// <summary>Comma-separated <c>127.0.0.1:port</c> of every broker, for <c>bootstrap.servers</c> and <c>ConnectionStrings__kafka</c>.</summary>
    public string BootstrapServers { get; }

    public int BrokerCount { get; }

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers on 127.0.0.1 (ports chosen by the system).</summary>
    public static EmbeddedKafka Start(int brokers = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        KafkaNativeLibrary.EnsureLoaded();

        var conf = Native.rd_kafka_conf_new();
        // The hosting handle only carries the cluster; keep its own logging quiet.
        SetConf(conf, "log_level", "3");
        var errstr = new byte[512];
        var client = Native.rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, errstr, (UIntPtr)errstr.Length);
        if (client == IntPtr.Zero)
        {
            Native.rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException("rd_kafka_new failed: " + ReadError(errstr));
        }

        var cluster = Native.rd_kafka_mock_cluster_new(client, brokers);
        if (cluster == IntPtr.Zero)
        {
            Native.rd_kafka_destroy(client);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed.");
        }

        var bootstraps = Marshal.PtrToStringUTF8(Native.rd_kafka_mock_cluster_bootstraps(cluster))
            ?? throw new InvalidOperationException("The mock cluster reported no bootstrap servers.");
        return new EmbeddedKafka(client, cluster, bootstraps, brokers);
    }

    /// <summary>Creates <paramref name="topic"/> with <paramref name="partitions"/> partitions (replication factor 1).</summary>
    public void CreateTopic(string topic, int partitions)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
            var error = Native.rd_kafka_mock_topic_create(_cluster, topic, partitions, 1);
            if (error != 0)
            {
                throw new InvalidOperationException($"Creating topic '{topic}' failed: {Marshal.PtrToStringUTF8(Native.rd_kafka_err2str(error))}");
            }
        }
    }

    /// <summary>
    /// Takes broker <paramref name="brokerId"/> (1 to <see cref="BrokerCount"/>) down: it closes its connections and refuses
    /// new ones, as a broker that crashed or is cut off, until <see cref="SetBrokerUp"/>. For outage tests.
    /// </summary>
    public void SetBrokerDown(int brokerId) => SetBroker(brokerId, up: false);

    /// <summary>Brings broker <paramref name="brokerId"/> back after <see cref="SetBrokerDown"/>.</summary>
    public void SetBrokerUp(int brokerId) => SetBroker(brokerId, up: true);

    /// <summary>Every broker down (the whole cluster away) or up again.</summary>
    public void SetAllBrokers(bool up)
    {
        for (var id = 1; id <= BrokerCount; id++)
        {
            SetBroker(id, up);
        }
    }

    private void SetBroker(int brokerId, bool up)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(brokerId, BrokerCount);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
            var error = up ? Native.rd_kafka_mock_broker_set_up(_cluster, brokerId) : Native.rd_kafka_mock_broker_set_down(_cluster, brokerId);
            if (error != 0)
            {
                throw new InvalidOperationException($"Setting broker {brokerId} {(up ? "up" : "down")} failed: {Marshal.PtrToStringUTF8(Native.rd_kafka_err2str(error))}");
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_cluster != IntPtr.Zero)
            {
                Native.rd_kafka_mock_cluster_destroy(_cluster);
                _cluster = IntPtr.Zero;
            }
            if (_client != IntPtr.Zero)
            {
                Native.rd_kafka_destroy(_client);
                _client = IntPtr.Zero;
            }
        }
    }

    private static void SetConf(IntPtr conf, string name, string value)
    {
        var errstr = new byte[512];
        if (Native.rd_kafka_conf_set(conf, name, value, errstr, (UIntPtr)errstr.Length) != 0)
        {
            throw new InvalidOperationException($"rd_kafka_conf_set({name}) failed: {ReadError(errstr)}");
        }
    }

    private static string ReadError(byte[] errstr)
    {
        var length = Array.IndexOf(errstr, (byte)0);
        return Encoding.UTF8.GetString(errstr, 0, length < 0 ? errstr.Length : length);
    }

    private static partial class Native
    {
        [LibraryImport(KafkaNativeLibrary.LibraryName)]
        internal static partial IntPtr rd_kafka_conf_new();

        [LibraryImport(KafkaNativeLibrary.LibraryName)]
        internal static partial void rd_kafka_conf_destroy(IntPtr conf);

        [LibraryImport(KafkaNativeLibrary.LibraryName, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int rd_kafka_conf_set(IntPtr conf, string name, string value, [Out] byte[] errstr, UIntPtr errstrSize);

        [LibraryImport(KafkaNativeLibrary.LibraryName)]
        internal static partial IntPtr rd_kafka_new(int type, IntPtr conf, [Out] byte[] errstr, UIntPtr errstrSize);

        [LibraryImport(KafkaNativeLibrary.LibraryName)]
        internal static partial void rd_kafka_destroy(IntPtr rk);

        [LibraryImport(KafkaNativeLibrary.LibraryName)]
        internal static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokers);

        [LibraryImport(KafkaNativeLibrary.LibraryName)]
        internal static partial void rd_kafka_mock_cluster_destroy(IntPtr mcluster);

        [LibraryImport(KafkaNativeLibrary.LibraryName)]
        internal static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

        [LibraryImport(KafkaNativeLibrary.LibraryName, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

        [LibraryImport(KafkaNativeLibrary.LibraryName)]
        internal static partial IntPtr rd_kafka_err2str(int err);

        [LibraryImport(KafkaNativeLibrary.LibraryName)]
        internal static partial int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);

        [LibraryImport(KafkaNativeLibrary.LibraryName)]
        internal static partial int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);
    }
}
