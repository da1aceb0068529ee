using ProcessDsl;
using ProcessDsl.Tests.Support;

// A test may poison one order so the Reservations worker fails on it.
if (Guid.TryParse(Environment.GetEnvironmentVariable("PROCESSDSL_TEST_POISON_ORDER"), out var poison))
    Reservations.PoisonOrderId = poison;

if (WorkerHost.IsWorkerCommand(args)) return await WorkerHost.RunAsync(args, OrdersSystem.Definition);
Console.Error.WriteLine("usage: worker --app NAME --store SPEC");
return 2;
