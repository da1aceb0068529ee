using System.Text.Json;
using System.Text.Json.Serialization;

namespace ProcessDsl.Hosting;

/// <summary>What the dashboard page shows, as its JSON endpoint serves it.</summary>
internal sealed record DashboardStatus(
    string System,
    string Runner,
    DateTimeOffset Time,
    IReadOnlyList<DashboardApplication> Applications,
    IReadOnlyList<DashboardStopped> Stopped,
    IReadOnlyList<DashboardParked> Parked,
    string? Error);

/// <summary>One application: its newest notification id and the upstreams it follows.</summary>
internal sealed record DashboardApplication(string Name, long Newest, IReadOnlyList<DashboardFollower> Following);

/// <summary>One follower: position, lag, rate (events a second over the last minute) and the rate history for the chart.</summary>
internal sealed record DashboardFollower(string Upstream, long Position, long Lag, double Rate, bool Stopped, IReadOnlyList<double> History);

/// <summary>A follower that stopped, with the event it stopped on and the error.</summary>
internal sealed record DashboardStopped(string Application, string Upstream, long NotificationId, string Topic, string Error);

/// <summary>An event set aside by a follower (none until the runner parks events).</summary>
internal sealed record DashboardParked(string Application, string Upstream, long NotificationId, string Topic, string Error);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DashboardStatus))]
internal sealed partial class DashboardJson : JsonSerializerContext;
