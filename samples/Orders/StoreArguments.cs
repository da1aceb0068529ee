using System.Data.Common;
using System.Net.Sockets;
using ProcessDsl;

namespace OrdersSample;

/// <summary>
/// Opens the store a command line names, and turns what can go wrong with it into one line on
/// standard error and an exit code, never a stack trace.
/// </summary>
internal static class StoreArguments
{
    /// <summary>The store spec is not one of the accepted forms (or another argument is wrong).</summary>
    public const int BadArguments = 2;

    /// <summary>The store (or an application in it) does not exist.</summary>
    public const int StoreMissing = 3;

    /// <summary>The store's database server did not answer.</summary>
    public const int StoreUnreachable = 4;

    /// <summary>Opens (creating on first use) the store <paramref name="spec"/> names; null after printing why not.</summary>
    public static Persistence? Open(string spec)
    {
        try
        {
            return StoreSpec.Open(spec);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(WithoutParameter(ex));
            return null;
        }
    }

    /// <summary>Opens a store that must already hold <paramref name="applications"/>; sets the exit code and prints why when it cannot.</summary>
    public static Persistence? OpenExisting(string spec, IEnumerable<string> applications, out int exitCode)
    {
        try
        {
            exitCode = 0;
            return StoreSpec.OpenExisting(spec, applications);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(WithoutParameter(ex));
            exitCode = BadArguments;
        }
        catch (StoreNotFoundException ex)
        {
            Console.Error.WriteLine(ex.Message);
            exitCode = StoreMissing;
        }
        catch (StoreUnreachableException ex)
        {
            Console.Error.WriteLine(ex.Message);
            exitCode = StoreUnreachable;
        }
        return null;
    }

    /// <summary>Runs <paramref name="work"/>; a store that cannot be reached ends it with one line and <see cref="StoreUnreachable"/>.</summary>
    public static async Task<int> GuardAsync(Persistence store, Func<Task<int>> work)
    {
        try
        {
            return await work();
        }
        catch (Exception ex) when (Unreachable(ex) is { } cause)
        {
            Console.Error.WriteLine($"The store {store.Description} could not be reached: {cause.Message}");
            return StoreUnreachable;
        }
    }

    /// <summary>Runs <paramref name="work"/> as <see cref="GuardAsync"/> does, for synchronous work.</summary>
    public static int Guard(Persistence store, Func<int> work) => GuardAsync(store, () => Task.FromResult(work())).GetAwaiter().GetResult();

    private static Exception? Unreachable(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            if (ex is DbException or SocketException or StoreUnreachableException) return ex;
        return null;
    }

    private static string WithoutParameter(ArgumentException ex) =>
        ex.ParamName is { } name ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;
}
