using ProcessDsl;

namespace LogServerSample;

/// <summary>
/// Opens the existing store a command line names, and turns what can go wrong with it into one
/// line on standard error and an exit code, never a stack trace (the same codes as the Orders sample's).
/// </summary>
internal static class StoreArguments
{
    /// <summary>The store spec is not one of the accepted forms (or another argument is wrong).</summary>
    public const int BadArguments = 2;

    /// <summary>The store (or an application in it) does not exist.</summary>
    public const int StoreMissing = 3;

    /// <summary>The store's database server did not answer.</summary>
    public const int StoreUnreachable = 4;

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

    private static string WithoutParameter(ArgumentException ex) =>
        ex.ParamName is { } name ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;
}
