namespace ProcessDsl;

/// <summary>
/// The names under which ProcessDsl reports metrics and traces, for
/// <c>AddMeter(ProcessDslDiagnostics.MeterName)</c> and <c>AddSource(ProcessDslDiagnostics.ActivitySourceName)</c>.
/// </summary>
public static class ProcessDslDiagnostics
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> (instruments <c>processdsl.*</c>).</summary>
    public const string MeterName = "ProcessDsl";

    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/> (an activity per processing step).</summary>
    public const string ActivitySourceName = "ProcessDsl";

    /// <summary>The tag naming the application on every instrument.</summary>
    public const string ApplicationTag = "application";

    /// <summary>The tag naming the upstream application on follower instruments.</summary>
    public const string UpstreamTag = "upstream";
}
