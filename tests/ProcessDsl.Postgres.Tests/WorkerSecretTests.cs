using Npgsql;
using ProcessDsl.Postgres.Tests.Support;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Postgres.Tests;

/// <summary>The store's password reaches a worker process through its environment, never its command line.</summary>
public sealed class WorkerSecretTests
{
    [PostgresFact]
    public async Task A_workers_command_line_holds_no_password()
    {
        using var database = new FreshDatabase();
        // The test server trusts every local connection, so any password works; this one is easy to find.
        var password = "pw-" + Guid.NewGuid().ToString("N");
        var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Password = password }.ConnectionString;
        using var store = Persistence.Postgres(connectionString);
        Assert.Contains(password, store.ShareableSpec);
        Assert.DoesNotContain(password, store.Description);
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, store, WorkerProgram.Options());
        await runner.StartAsync();
        var id = runner.Get<Orders>().CreateNewOrder();
        await runner.WaitUntilIdleAsync(TimeSpan.FromMinutes(3)); // the workers opened the store with the password
        OrdersChecks.AllReservedAndPaidExactlyOnce(runner, [id]);
        foreach (var worker in runner.Workers)
        {
            var commandLine = await File.ReadAllTextAsync($"/proc/{worker.ProcessId}/cmdline");
            Assert.Contains("worker", commandLine);
            Assert.DoesNotContain(password, commandLine);
            Assert.DoesNotContain("Host=", commandLine);
        }
        await runner.StopAsync();
    }

    [Fact]
    public void A_store_with_options_a_spec_cannot_carry_is_not_shareable()
    {
        using var store = Persistence.Postgres("Host=127.0.0.1;Database=x", new PostgresOptions { Schema = "elsewhere" });
        Assert.Null(store.ShareableSpec);
        var ex = Assert.Throws<ArgumentException>(() => new MultiprocessRunner(OrdersSystem.Definition, store));
        Assert.Contains("share", ex.Message);
    }
}
