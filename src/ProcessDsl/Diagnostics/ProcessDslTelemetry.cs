using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ProcessDsl;

/// <summary>
/// The meter and activity source behind <see cref="ProcessDslDiagnostics"/>, and the one-line calls
/// the runtime makes to them. Every instrument is cheap when nobody listens.
/// </summary>
internal static class ProcessDslTelemetry
{
    private static readonly Meter Meter = new(ProcessDslDiagnostics.MeterName, typeof(ProcessDslTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly ActivitySource Source = new(ProcessDslDiagnostics.ActivitySourceName, typeof(ProcessDslTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> EventsRecorded = Meter.CreateCounter<long>(
        "processdsl.events.recorded", "{event}", "Domain events stored by an application (commands and processing steps).");

    private static readonly Counter<long> EventsProcessed = Meter.CreateCounter<long>(
        "processdsl.events.processed", "{event}", "Upstream events a follower processed and committed.");

    private static readonly Histogram<double> StepDuration = Meter.CreateHistogram<double>(
        "processdsl.step.duration", "s", "How long one processing step took, from its read to its commit.");

    private static readonly Histogram<long> BatchSize = Meter.CreateHistogram<long>(
        "processdsl.step.batch_size", "{event}", "Upstream events read by one processing step.");

    private static readonly Counter<long> Retries = Meter.CreateCounter<long>(
        "processdsl.retries", "{retry}", "Steps retried after a failing policy or a passing fault (tag kind: policy or transient).");

    private static readonly Counter<long> EventsParked = Meter.CreateCounter<long>(
        "processdsl.events.parked", "{event}", "Events a follower stopped on after its retries (it waits there until fixed and restarted).");

    private static readonly Histogram<double> WriterHeldTime = Meter.CreateHistogram<double>(
        "processdsl.writer.held", "s",
        "How long an application's writer was held at a time on a SQLite or PostgreSQL store (tag holder: step, saves, position, schema or close). " +
        "The sum over an interval, divided by the interval, is the writer's utilisation: near 1, the application's writes are what the system waits for.");

    private static readonly Histogram<long> SavesPerCommit = Meter.CreateHistogram<long>(
        "processdsl.saves.per_commit", "{save}",
        "Commands' saves committed in one transaction (tag carrier: saves for a group commit of its own, step for a processing step that carried them).");

    private static readonly List<Runner> Runners = [];

    static ProcessDslTelemetry()
    {
        Meter.CreateObservableGauge("processdsl.follower.lag", ObserveLag, "{event}",
            "Upstream notifications a follower has not processed yet, read from the store when collected.");
    }

    /// <summary>An application stored <paramref name="count"/> new events.</summary>
    internal static void Recorded(string application, int count)
    {
        if (count > 0 && EventsRecorded.Enabled)
            EventsRecorded.Add(count, new KeyValuePair<string, object?>(ProcessDslDiagnostics.ApplicationTag, application));
    }

    /// <summary>Whether anyone listens to <c>processdsl.writer.held</c>: the writer's clock runs only then.</summary>
    internal static bool MeasuresWriter => WriterHeldTime.Enabled;

    /// <summary>An application's writer was held for <paramref name="held"/> by <paramref name="holder"/>.</summary>
    internal static void WriterHeld(string application, string holder, TimeSpan held)
    {
        if (WriterHeldTime.Enabled)
            WriterHeldTime.Record(held.TotalSeconds,
                new KeyValuePair<string, object?>(ProcessDslDiagnostics.ApplicationTag, application), new KeyValuePair<string, object?>("holder", holder));
    }

    /// <summary><paramref name="count"/> commands' saves committed in one transaction of <paramref name="carrier"/> (<c>saves</c> or <c>step</c>).</summary>
    internal static void SavesCommitted(string application, int count, string carrier)
    {
        if (count > 0 && SavesPerCommit.Enabled)
            SavesPerCommit.Record(count,
                new KeyValuePair<string, object?>(ProcessDslDiagnostics.ApplicationTag, application), new KeyValuePair<string, object?>("carrier", carrier));
    }

    /// <summary>A follower retries a step (<paramref name="kind"/>: <c>policy</c> or <c>transient</c>).</summary>
    internal static void Retried(string application, string upstream, string kind)
    {
        if (Retries.Enabled)
            Retries.Add(1, Tags(application, upstream, "kind", kind));
    }

    /// <summary>A follower parked an event (see <see cref="ProcessingOptions.ParkFailingEvents"/>) and went on.</summary>
    internal static void Parked(string application, string upstream, string topic)
    {
        if (EventsParked.Enabled)
            EventsParked.Add(1, Tags(application, upstream, "topic", topic));
    }

    /// <summary>
    /// Starts a step's activity and timer, to dispose when the step ends; null (nothing to record, nothing
    /// allocated) while no one listens to the activity source or the step's instruments.
    /// </summary>
    internal static StepTelemetry? StartStep(string application, string upstream, int batchSize, long position) =>
        Source.HasListeners() || StepDuration.Enabled || BatchSize.Enabled || EventsProcessed.Enabled
            ? new(application, upstream, batchSize, position)
            : null;

    /// <summary>
    /// Starts the activity of a command's save (a producer: the trace context its events store), or
    /// null when nobody listens. The caller disposes it after the save.
    /// </summary>
    internal static Activity? StartSave(string application)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity($"{application} save", ActivityKind.Producer);
        activity?.SetTag("processdsl.application", application);
        return activity;
    }

    /// <summary>
    /// Starts the activity of one upstream event's processing inside a step, or null when nobody
    /// listens: a child of the trace context stored with the event (so one trace follows the command
    /// through every application), linked to the step; a child of the step when the event has none.
    /// The events its policy records store this activity's context. Dispose it with <see cref="EndProcessing"/>.
    /// </summary>
    internal static Activity? StartProcessing(string application, string upstream, Notification notification, out Activity? previous)
    {
        previous = Activity.Current;
        if (!Source.HasListeners()) return null;
        var name = $"{application} processes {notification.Topic}";
        Activity? activity;
        if (notification.Metadata is { } metadata && metadata.TryGetTraceContext(out var parent))
        {
            ActivityLink[]? links = previous is null ? null : [new ActivityLink(previous.Context)];
            activity = Source.StartActivity(name, ActivityKind.Consumer, parent, tags: null, links: links);
        }
        else
        {
            activity = Source.StartActivity(name, ActivityKind.Consumer);
        }
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("processdsl.application", application);
            activity.SetTag("processdsl.upstream", upstream);
            activity.SetTag("processdsl.notification_id", notification.Id);
            activity.SetTag("processdsl.topic", notification.Topic);
            if (notification.Metadata?.CorrelationId is { } correlation) activity.SetTag("processdsl.correlation_id", correlation);
        }
        return activity;
    }

    /// <summary>Ends an event's processing activity (an error when the policy threw) and makes the step's activity current again.</summary>
    internal static void EndProcessing(Activity? activity, Activity? previous, Exception? error)
    {
        if (activity is null) return;
        if (error is not null) activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.Dispose();
        Activity.Current = previous;
    }

    /// <summary>Reports the lag of this runner's followers while it runs.</summary>
    internal static void Track(Runner runner)
    {
        lock (Runners) Runners.Add(runner);
    }

    /// <summary>Stops reporting a runner's lag.</summary>
    internal static void Untrack(Runner runner)
    {
        lock (Runners) Runners.Remove(runner);
    }

    private static IEnumerable<Measurement<long>> ObserveLag()
    {
        Runner[] runners;
        lock (Runners) runners = [.. Runners];
        var measurements = new List<Measurement<long>>();
        foreach (var runner in runners)
        {
            IReadOnlyList<ApplicationStatus> status;
            try
            {
                status = SystemStatus.Read(runner.Definition, runner.Persistence);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                continue; // the store is unreachable or closing: no reading this time
            }
            foreach (var application in status)
            {
                if (runner.Options.Applications is { } only && !only.Contains(application.Application)) continue;
                foreach (var follower in application.Following)
                    measurements.Add(new Measurement<long>(follower.Lag, Tags(application.Application, follower.Upstream)));
            }
        }
        return measurements;
    }

    private static TagList Tags(string application, string upstream) => new()
    {
        { ProcessDslDiagnostics.ApplicationTag, application },
        { ProcessDslDiagnostics.UpstreamTag, upstream },
    };

    private static TagList Tags(string application, string upstream, string key, string value) => new()
    {
        { ProcessDslDiagnostics.ApplicationTag, application },
        { ProcessDslDiagnostics.UpstreamTag, upstream },
        { key, value },
    };

    /// <summary>One step's activity, duration and batch size; the step is an error unless it committed its whole batch.</summary>
    internal sealed class StepTelemetry : IDisposable
    {
        private readonly string _application;
        private readonly string _upstream;
        private readonly int _batchSize;
        private readonly long _started = Stopwatch.GetTimestamp();
        private readonly Activity? _activity;
        private int _processed = -1;

        internal StepTelemetry(string application, string upstream, int batchSize, long position)
        {
            _application = application;
            _upstream = upstream;
            _batchSize = batchSize;
            // The name is only formatted when someone listens.
            _activity = Source.HasListeners() ? Source.StartActivity($"{application} follows {upstream}", ActivityKind.Consumer) : null;
            if (_activity is { IsAllDataRequested: true })
            {
                _activity.SetTag("processdsl.application", application);
                _activity.SetTag("processdsl.upstream", upstream);
                _activity.SetTag("processdsl.position", position);
                _activity.SetTag("processdsl.batch_size", batchSize);
            }
        }

        /// <summary>The step committed the first <paramref name="processed"/> events of its batch.</summary>
        public void Committed(int processed)
        {
            _processed = processed;
            if (processed > 0 && EventsProcessed.Enabled)
                EventsProcessed.Add(processed, Tags(_application, _upstream));
        }

        public void Dispose()
        {
            if (StepDuration.Enabled) StepDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, Tags(_application, _upstream));
            if (BatchSize.Enabled) BatchSize.Record(_batchSize, Tags(_application, _upstream));
            if (_activity is null) return;
            _activity.SetTag("processdsl.processed", Math.Max(0, _processed));
            if (_processed < _batchSize)
                _activity.SetStatus(ActivityStatusCode.Error, _processed < 0 ? "the step was not committed" : "the step stopped at a failing event");
            _activity.Dispose();
        }
    }
}
