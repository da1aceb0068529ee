using System.Runtime.CompilerServices;

namespace ProcessDsl;

/// <summary>Registers the <c>postgres:CONNECTION-STRING</c> store spec when this assembly loads.</summary>
internal static class PostgresStoreSpec
{
    // StoreSpec runs this module's initializer when it is asked for a postgres: spec, before any other use.
#pragma warning disable CA2255 // the library's own registration, run when the assembly is first used
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => StoreSpec.Register("postgres", rest => new PostgresPersistence(rest));
}
