using ProcessDsl;
using WebShop;

var app = WebShopApp.Build(args);
// Workers of the multiprocess runner ("ProcessDsl:Runner": "multiprocess") enter here, with the same services.
if (WorkerHost.IsWorkerCommand(args)) return await ProcessDslWorker.RunAsync(args, app.Services);
await app.RunAsync();
return 0;
