namespace ProcessDsl;

/// <summary>
/// A worker process of the <see cref="MultiprocessRunner"/> kept exiting before its followers ran
/// (<see cref="MultiprocessOptions.MaxFailedStarts"/> times in a row), so the runner stopped
/// restarting it. The message names the application and quotes what the worker wrote on standard error.
/// </summary>
public sealed class WorkerStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WorkerStartException(string application, int attempts, int exitCode, string errorOutput)
        : base($"The worker of '{application}' could not start ({attempts} attempts in a row; the last exited with code {exitCode}). " +
               (errorOutput.Length > 0 ? $"Its error output: {errorOutput}" : "It wrote nothing on standard error."))
    {
        Application = application;
        Attempts = attempts;
        ExitCode = exitCode;
        ErrorOutput = errorOutput;
    }

    /// <summary>The application the worker runs.</summary>
    public string Application { get; }

    /// <summary>How many starts failed in a row.</summary>
    public int Attempts { get; }

    /// <summary>The exit code of the last attempt.</summary>
    public int ExitCode { get; }

    /// <summary>The last lines the worker wrote on standard error.</summary>
    public string ErrorOutput { get; }
}
