using ProcessDsl;
using ProcessDsl.Postgres.Tests;

// Child process of the persistence tests:
//   write STORE... COUNT LABEL   prints "ready", waits for a line on stdin, then opens COUNT
//                                accounts in Bank, one save each; prints "wrote COUNT"
//   follow STORE... BATCH        runs Audit (following Bank) once to the end; prints "followed"
// STORE is "sqlite DIR" or "postgres CONNECTION-STRING SCHEMA" (see StoreLocation).
try
{
    var (location, used) = StoreLocation.Parse(args[1..]);
    var rest = args[(1 + used)..];
    using var store = location.Open();
    switch (args[0])
    {
        case "write":
        {
            var count = int.Parse(rest[0], System.Globalization.CultureInfo.InvariantCulture);
            var bank = (Bank)new Bank().Open(store);
            Console.Out.WriteLine("ready");
            Console.In.ReadLine(); // the test releases every writer at once
            for (var i = 0; i < count; i++) bank.OpenAccount($"{rest[1]}-{i}");
            Console.Out.WriteLine($"wrote {count}");
            return 0;
        }
        case "follow":
        {
            var batch = int.Parse(rest[0], System.Globalization.CultureInfo.InvariantCulture);
            var options = new RunnerOptions
            {
                Processing = new ProcessingOptions { MaxBatchSize = batch, TransientAttempts = 10_000, InitialBackoff = TimeSpan.FromMilliseconds(1) },
            };
            await using var runner = new SingleThreadedRunner(AuditSystem.Definition, store, options);
            await runner.StartAsync(); // catches up before returning
            await runner.StopAsync();
            Console.Out.WriteLine("followed");
            return 0;
        }
        default:
            Console.Error.WriteLine($"unknown command '{args[0]}'");
            return 2;
    }
}
catch (Exception ex)
{
    Console.Error.WriteLine(ex);
    return 1;
}
