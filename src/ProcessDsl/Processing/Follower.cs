using Microsoft.Extensions.Logging;

namespace ProcessDsl;

/// <summary>
/// One process application following one upstream log. A step reads a batch after the tracking
/// position (only the topics the policies handle), runs the policies, and commits the new events,
/// the row changes and the moved position together; the position update names the position it
/// replaces, so a racing worker's step conflicts and is rolled back instead of repeated.
/// </summary>
internal sealed class Follower
{
    private readonly ProcessApplication _application;
    private readonly ProcessingOptions _options;
    private long? _position;
    private int _failures;
    private long _failingId;
    private long _isolateUntil;

    public Follower(ProcessApplication application, string upstream, INotificationLog upstreamLog, ProcessingOptions options)
    {
        _application = application;
        Upstream = upstream;
        UpstreamLog = upstreamLog;
        _options = options;
    }

    public string Upstream { get; }

    public INotificationLog UpstreamLog { get; }

    public string Application => _application.Name;

    /// <summary>The position as last read or committed by this follower (null before the first step).</summary>
    public long? KnownPosition => _position;

    /// <summary>
    /// Steps until caught up with the upstream log. Transient faults (database errors, conflicts)
    /// are retried with backoff; a policy failing <see cref="ProcessingOptions.PolicyAttempts"/>
    /// times on the same event raises <see cref="ProcessingException"/>.
    /// </summary>
    /// <returns>The number of upstream notifications covered.</returns>
    public async Task<long> CatchUpAsync(CancellationToken cancellationToken)
    {
        long covered = 0;
        var transientFailures = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            StepResult result;
            try
            {
                result = Step();
                transientFailures = 0;
            }
            catch (StepFailure failure)
            {
                if (failure.Notification.Id != _failingId)
                {
                    _failingId = failure.Notification.Id;
                    _failures = 0;
                }
                _failures++;
                if (_failures >= _options.PolicyAttempts)
                    throw ProcessDslTelemetry.Parked(new ProcessingException(Application, Upstream, failure.Notification.Id, failure.Notification.Topic, failure.InnerException!));
                ProcessDslTelemetry.Retried(Application, Upstream, "policy");
                ProcessDslLog.PolicyRetrying(_application.Logger, failure.InnerException, Application, failure.Message, failure.Notification.Id, Upstream, _failures);
                await Task.Delay(_options.Backoff(_failures), cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (Exception ex) when (ex is not (ProcessingException or OperationCanceledException))
            {
                // Conflicts and database faults: the step was rolled back whole; resume from the stored position.
                _position = null;
                transientFailures++;
                if (_options.TransientAttempts > 0 && transientFailures >= _options.TransientAttempts) throw;
                var level = ex is TrackingConflictException ? LogLevel.Debug : LogLevel.Warning;
                ProcessDslTelemetry.Retried(Application, Upstream, "transient");
                ProcessDslLog.StepRetrying(_application.Logger, level, ex, Application, Upstream, transientFailures);
                await Task.Delay(_options.Backoff(transientFailures), cancellationToken).ConfigureAwait(false);
                continue;
            }
            covered += result.Covered;
            if (result.CaughtUp) return covered;
        }
    }

    /// <summary>One step: read a batch, run the policies, commit.</summary>
    internal StepResult Step()
    {
        var position = _position ??= _application.Store.Position(Upstream);
        // After a commit failed for a reason that is not a passing fault, go one event at a time
        // through that batch, so the failure is pinned to the event that causes it.
        var limit = position < _isolateUntil ? 1 : _options.MaxBatchSize;
        var batch = UpstreamLog.Select(position, limit, _application.HandledTopics);
        if (batch.Position <= position) return new StepResult(0, CaughtUp: true);
        using var telemetry = ProcessDslTelemetry.StartStep(Application, Upstream, batch.Items.Count, position);

        var (scope, failedAt, error) = Run(batch.Items, batch.Items.Count);
        // A policy that failed because the database is unreachable (its Repository.Get, say) did
        // nothing wrong: retry the step as for any passing fault, and never count it against the event.
        if (failedAt >= 0 && TransientFaults.Is(error!))
            global::System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error!);
        if (failedAt > 0)
        {
            // Commit everything before the failing event, without any effect of the failed policy:
            // run the policies again on that prefix alone (they are deterministic).
            (scope, _, _) = Run(batch.Items, failedAt);
        }
        var newPosition = failedAt >= 0 ? batch.Items[failedAt].Id - 1 : batch.Position;
        if (newPosition > position)
        {
            try
            {
                Commit(scope, position, newPosition);
                telemetry.Committed(failedAt >= 0 ? failedAt : batch.Items.Count);
            }
            catch (Exception ex) when (!TransientFaults.Is(ex) && batch.Items.Count > 0)
            {
                var covered = failedAt >= 0 ? failedAt : batch.Items.Count;
                if (covered <= 1) throw new StepFailure("commit", batch.Items[0], ex);
                _isolateUntil = newPosition;
                throw;
            }
        }
        if (failedAt >= 0) throw new StepFailure("policy", batch.Items[failedAt], error!);
        return new StepResult(newPosition - position, CaughtUp: false);
    }

    private (ProcessingScope Scope, int FailedAt, Exception? Error) Run(IReadOnlyList<Notification> items, int count)
    {
        var scope = new ProcessingScope(_application);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var processing = new ProcessingEvent(scope, Upstream, items[i]);
                try
                {
                    _application.Dispatch(items[i], processing);
                }
                catch (Exception ex)
                {
                    return (scope, i, ex);
                }
            }
            return (scope, -1, null);
        }
        finally
        {
            // The scope is only current while policies run.
            scope.Dispose();
        }
    }

    private void Commit(ProcessingScope scope, long expected, long newPosition)
    {
        var pending = PendingEvents.Of(scope.Aggregates);
        long last;
        try
        {
            last = _application.Store.Append(pending.Events, [new TrackingUpdate(Upstream, expected, newPosition)], scope.Rows);
        }
        catch
        {
            foreach (var aggregate in scope.Aggregates) _application.Repository.Forget(aggregate.Id);
            _position = null;
            throw;
        }
        _position = newPosition;
        _application.Committed(pending, last);
    }

    internal readonly record struct StepResult(long Covered, bool CaughtUp);

    /// <summary>
    /// A policy threw (the events before it are committed), or the commit of one event's effects
    /// failed for a reason that is not a passing fault (a row that cannot be mapped, an event type
    /// without a topic): retried, then reported as a <see cref="ProcessingException"/> naming it.
    /// </summary>
    private sealed class StepFailure(string what, Notification notification, Exception inner) : Exception(what, inner)
    {
        public Notification Notification { get; } = notification;
    }
}
