using System.Text.Json;
using ProcessDsl;
using Spectre.Console;

namespace OrdersSample;

/// <summary>Prints a system's status as a table or as JSON.</summary>
internal static class StatusView
{
    public static void Print(IReadOnlyList<ApplicationStatus> status, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(status, OrdersJson.Default.IReadOnlyListApplicationStatus));
            return;
        }
        var table = new Table().AddColumns("application", "newest id", "parked", "follows", "position", "lag");
        foreach (var app in status)
        {
            var parked = app.Parked > 0 ? $"[red]{app.Parked}[/]" : app.Following.Count > 0 ? "0" : "";
            if (app.Following.Count == 0) table.AddRow(app.Application, app.NewestNotificationId.ToString(), parked, "", "", "");
            foreach (var (follower, i) in app.Following.Select((f, i) => (f, i)))
                table.AddRow(i == 0 ? app.Application : "", i == 0 ? app.NewestNotificationId.ToString() : "", i == 0 ? parked : "", follower.Upstream, follower.Position.ToString(), follower.Lag.ToString());
        }
        AnsiConsole.Write(table);
    }
}
