using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ProcessDsl;
using ProcessDsl.AspNetCore;

namespace ReplicationSample;

/// <summary>The replication scenario of the Python eventsourcing documentation, step by step, locally or over HTTP on 127.0.0.1.</summary>
public static class Demo
{
    /// <summary>Runs the scenario; throws if the replica is ever wrong.</summary>
    public static async Task RunAsync(bool overHttp, TextWriter output)
    {
        using var originalStore = Persistence.InMemory();
        using var replicaStore = Persistence.InMemory();
        var original = (Notebook)new Notebook().Open(originalStore);
        var replica = (Notebook)new Notebook().Open(replicaStore);

        WebApplication? server = null;
        RemoteNotificationLog? remote = null;
        INotificationLog originalLog = original.NotificationLog;
        if (overHttp)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            server = builder.Build();
            server.MapNotificationLogs("/logs", [original]);
            await server.StartAsync();
            var address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            remote = new RemoteNotificationLog(new Uri(address + "/logs"), "Notebook");
            originalLog = remote;
            output.WriteLine($"original served at {remote.LogAddress}");
        }
        try
        {
            var replicator = new Replicator(originalLog, replica);
            var ids = new List<Guid> { original.Write("first"), original.Write("second"), original.Write("third") };
            Check(ids.All(id => original.Repository.Contains(id) && !replica.Repository.Contains(id)), "three notes in the original only");

            output.WriteLine($"replicated {replicator.Run()} notification(s)");
            Check(ids.All(replica.Repository.Contains), "the three notes are in the replica");
            Check(ids.All(id => replica.Get(id).Text == original.Get(id).Text && replica.Get(id).CreatedOn == original.Get(id).CreatedOn), "with the same state and timestamps");

            ids.Add(original.Write("fourth"));
            original.Edit(ids[0], "first, edited");
            Check(!replica.Repository.Contains(ids[3]), "the fourth note is in the original only");
            output.WriteLine($"resumed: replicated {replicator.Run()} notification(s)");
            Check(replica.Get(ids[3]).Text == "fourth" && replica.Get(ids[0]).Text == "first, edited", "the fourth note and the edit are in the replica");

            replicator = new Replicator(originalLog, replica); // the old position is lost; the replica knows it
            ids.Add(original.Write("fifth"));
            output.WriteLine($"restarted at {replicator.Position}: replicated {replicator.Run()} notification(s)");
            Check(replica.Get(ids[4]).Text == "fifth", "the fifth note is in the replica");

            using (AutoReplication.Start(replicator)) // event-driven: every save prompts the replicator
            {
                ids.Add(original.Write("sixth"));
                Check(replica.Repository.Contains(ids[5]), "the sixth note was replicated as soon as it was saved");
            }
            output.WriteLine("the sixth note was replicated by the save's prompt");

            var copies = replica.NotificationLog.Select(0, 1000).Items;
            var originals = original.NotificationLog.Select(0, 1000).Items;
            Check(copies.Count == originals.Count && copies.Zip(originals).All(p => p.First.Id == p.Second.Id && p.First.Topic == p.Second.Topic && p.First.State.AsSpan().SequenceEqual(p.Second.State)),
                "the replica's log equals the original's, id for id");
            output.WriteLine($"replica holds {copies.Count} notifications, identical to the original's");
        }
        finally
        {
            remote?.Dispose();
            if (server is not null) await server.DisposeAsync();
        }
    }

    private static void Check(bool condition, string what)
    {
        if (!condition) throw new InvalidOperationException("Replication demo failed: expected " + what + ".");
    }
}
