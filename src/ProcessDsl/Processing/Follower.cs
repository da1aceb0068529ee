using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;

namespace ProcessDsl;

/// <summary>
/// One process application following one upstream log. A step reads a batch after the tracking
/// position (only the topics the policies handle) and runs the policies inside one transaction of
/// the application's store (<see cref="StepTransaction"/>): their reads see the step's own writes,
/// and the new events, the row changes and the moved position commit together. The position update
/// names the position it replaces, so a racing worker's step conflicts and is rolled back instead
/// of repeated. A policy that throws rolls back everything of its step.
/// </summary>
internal sealed class Follower
{
    private readonly ProcessApplication _application;
    private readonly ProcessingOptions _options;
    private long? _position;
    // The position the tracking table holds, as far as this follower knows: behind _position only
    // while steps that covered no handled event have not been written (DefersTrackingOnlySteps).
    private long? _stored;
    private int _failures;
    private long _failingId;
    private long _isolateUntil;
    private ReadAhead? _next;
    // The longest durable commit of a step since TakeLongestCommit last ran.
    private TimeSpan _longestCommit;

    /// <summary>
    /// The read of the batch after the one being processed, handed to the thread pool before its step
    /// (see <see cref="ReadsAhead"/>). The step that needs the batch takes it: the result when a pool
    /// thread has read it (waiting for a read in progress); when no pool thread has started it yet,
    /// the step withdraws it and does the same read itself. A starved pool never holds a follower up.
    /// </summary>
    private sealed class ReadAhead(Follower follower, long after, int limit)
    {
        private const int Queued = 0, Running = 1, Withdrawn = 2;
        private readonly ManualResetEventSlim _done = new(false);
        private int _state;
        private (NotificationBatch Batch, DomainEvent?[]? Decoded) _result;
        private ExceptionDispatchInfo? _error;

        public long After => after;

        public int Limit => limit;

        /// <summary>On a pool thread: reads and decodes the batch, unless the step withdrew it first.</summary>
        public void Run()
        {
            if (Interlocked.CompareExchange(ref _state, Running, Queued) != Queued) return;
            try
            {
                _result = Read();
            }
            catch (Exception ex)
            {
                // Rethrown to the step that takes it; a batch no step takes is dropped with its failure
                // (one still running when the runner stops may fail on its closed store).
                _error = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                _done.Set();
            }
        }

        /// <summary>The batch read ahead, read and decoded here when no pool thread had started it (none will now).</summary>
        public (NotificationBatch Batch, DomainEvent?[]? Decoded) Take()
        {
            if (Interlocked.CompareExchange(ref _state, Withdrawn, Queued) == Queued) return Read();
            _done.Wait();
            _error?.Throw();
            return _result;
        }

        private (NotificationBatch Batch, DomainEvent?[]? Decoded) Read()
        {
            var batch = follower.UpstreamLog.Select(after, limit, follower._application.HandledTopics);
            return (batch, follower.Decode(batch.Items));
        }

        /// <summary>Drops a read no step will take: if no pool thread has started it, none will.</summary>
        public void Withdraw() => Interlocked.CompareExchange(ref _state, Withdrawn, Queued);
    }

    public Follower(ProcessApplication application, string upstream, INotificationLog upstreamLog, ProcessingOptions options)
    {
        _application = application;
        Upstream = upstream;
        UpstreamLog = upstreamLog;
        _options = options;
    }

    public string Upstream { get; }

    /// <summary>
    /// The longest time a step's commit took to be made durable (<see cref="StepTransaction.DurableCommitTime"/>)
    /// since the last call (<see cref="TimeSpan.Zero"/> when none committed), and starts counting again:
    /// the multi-threaded runner paces a worker's passes by it.
    /// </summary>
    internal TimeSpan TakeLongestCommit()
    {
        var longest = _longestCommit;
        _longestCommit = TimeSpan.Zero;
        return longest;
    }

    public INotificationLog UpstreamLog { get; }

    public string Application => _application.Name;

    /// <summary>
    /// Whether a step that did not reach the end of the upstream log starts reading the next batch on a
    /// thread-pool thread while its own policies run and it commits, so the read's round trip and
    /// deserialisation overlap the write. The multi-threaded runners turn it on; the single-threaded
    /// runner keeps every read on its thread. Reads change nothing: a batch read ahead is used only if
    /// the next step starts where it does, and dropped (its outcome observed) otherwise.
    /// </summary>
    public bool ReadsAhead { get; init; }

    /// <summary>
    /// Whether a step whose batch holds no event the policies handle moves the position in memory
    /// only, writing it with the follower's next commit or <see cref="FlushPosition"/>, instead of
    /// committing a transaction of its own. Safe because such events have no effect: after a crash
    /// they are read and passed over again. The runners turn it on and write what is left: the
    /// single-threaded runner before a command's save returns, the multi-threaded runner once a
    /// worker has had no prompt for a moment, and when it stops.
    /// </summary>
    internal bool DefersTrackingOnlySteps { get; init; }

    /// <summary>Whether steps moved the position past what the tracking table holds (see <see cref="DefersTrackingOnlySteps"/>).</summary>
    internal bool HasDeferredPosition => _position is { } p && _stored is { } s && p > s;

    /// <summary>
    /// Writes a position moved by steps that covered no handled event. A tracking conflict (another
    /// instance moved it) or a failure forgets the position, so the next step reads it again; the
    /// failure is rethrown.
    /// </summary>
    internal void FlushPosition()
    {
        if (_position is not { } position || _stored is not { } stored || position <= stored) return;
        try
        {
            Store.WritePosition(new TrackingUpdate(Upstream, stored, position));
        }
        catch
        {
            Forget();
            throw;
        }
        _stored = position;
    }

    private void Forget()
    {
        _position = null;
        _stored = null;
    }

    /// <summary>The position in memory; read from the tracking table when not known.</summary>
    private long Position()
    {
        if (_position is { } known) return known;
        var stored = Store.Position(Upstream);
        _position = _stored = stored;
        return stored;
    }

    /// <summary>The position as last read or committed by this follower (null before the first step).</summary>
    public long? KnownPosition => _position;

    private EventStore Store => _application.Store;

    /// <summary>
    /// Steps until caught up with the upstream log. Passing faults (database errors, conflicts, a
    /// cancellation that is not <paramref name="cancellationToken"/>'s) are retried with backoff; a
    /// policy failing <see cref="ProcessingOptions.PolicyAttempts"/> times on the same event raises
    /// <see cref="ProcessingException"/>, or parks the event when <see cref="ProcessingOptions.ParkFailingEvents"/> is on.
    /// </summary>
    /// <returns>The number of upstream notifications covered.</returns>
    public Task<long> CatchUpAsync(CancellationToken cancellationToken) => CatchUpCoreAsync(cancellationToken).AsTask();

    /// <summary>
    /// <see cref="CatchUpAsync"/> on the calling thread, for the single-threaded runner and the
    /// multi-threaded runner's workers: a catch-up that needs no backoff (the usual case) completes
    /// without allocating a task; one that backs off after a failure blocks the calling thread.
    /// </summary>
    internal long CatchUp(CancellationToken cancellationToken = default)
    {
        var run = CatchUpCoreAsync(cancellationToken);
        return run.IsCompletedSuccessfully ? run.Result : run.AsTask().GetAwaiter().GetResult();
    }

    private async ValueTask<long> CatchUpCoreAsync(CancellationToken cancellationToken)
    {
        long covered = 0;
        var transientFailures = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            StepResult result;
            try
            {
                result = Step(cancellationToken);
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
                {
                    if (!_options.ParkFailingEvents || failure.What != "policy")
                        throw new ProcessingException(Application, Upstream, failure.Notification.Id, failure.Notification.Topic, failure.InnerException!);
                    Park(failure);
                    continue;
                }
                ProcessDslTelemetry.Retried(Application, Upstream, "policy");
                ProcessDslLog.PolicyRetrying(_application.Logger, failure.InnerException, Application, failure.What, failure.Notification.Id, Upstream, _failures);
                await Task.Delay(_options.Backoff(_failures), cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is not ProcessingException)
            {
                // Conflicts, database faults, a timeout inside a policy: the step was rolled back whole;
                // resume from the stored position.
                Forget();
                transientFailures++;
                if (_options.TransientAttempts > 0 && transientFailures >= _options.TransientAttempts) throw;
                ProcessDslTelemetry.Retried(Application, Upstream, "transient");
                ProcessDslLog.StepRetrying(_application.Logger, ex is TrackingConflictException ? LogLevel.Debug : LogLevel.Warning, ex, Application, Upstream, transientFailures);
                await Task.Delay(_options.Backoff(transientFailures), cancellationToken).ConfigureAwait(false);
                continue;
            }
            covered += result.Covered;
            if (result.CaughtUp) return covered;
        }
    }

    /// <summary>One step: read a batch, run the policies, commit.</summary>
    internal StepResult Step(CancellationToken cancellationToken = default)
    {
        var position = Position();
        // After a commit failed for a reason that is not a passing fault, go one event at a time
        // through that batch, so the failure is pinned to the event that causes it.
        var limit = position < _isolateUntil ? 1 : _options.MaxBatchSize;
        var (batch, decoded) = Read(position, limit);
        if (batch.Position <= position) return new StepResult(0, CaughtUp: true);
        if (batch.Items.Count == 0 && DefersTrackingOnlySteps)
        {
            // Nothing here for the policies: move on in memory; the next commit carries the position.
            _position = batch.Position;
            return new StepResult(batch.Position - position, CaughtUp: batch.IsEnd);
        }
        if (ReadsAhead && !batch.IsEnd && limit > 1) ReadAheadFrom(batch.Position, limit);
        using var telemetry = ProcessDslTelemetry.StartStep(Application, Upstream, batch.Items.Count, position);

        var items = batch.Items;
        var count = items.Count;
        var newPosition = batch.Position;
        StepFailure? failure = null;
        while (true)
        {
            var (failedAt, error) = RunAndCommit(items, decoded, count, position, newPosition, cancellationToken);
            if (failedAt < 0) break;
            // Nothing of the failed run is stored. Commit what came before the failing event, from a
            // run of its own (policies are deterministic); if that run fails earlier, that event is
            // the one to report.
            failure = new StepFailure("policy", items[failedAt], error!);
            count = failedAt;
            newPosition = items[failedAt].Id - 1;
            if (newPosition <= position) break;
        }
        telemetry?.Committed(count);
        if (failure is not null) throw failure;
        // The batch ended at the newest id: caught up, no need to ask again.
        return new StepResult(newPosition - position, CaughtUp: batch.IsEnd && newPosition == batch.Position);
    }

    /// <summary>Hands the read of the batch after <paramref name="after"/> to the thread pool (see <see cref="ReadAhead"/>).</summary>
    private void ReadAheadFrom(long after, int limit)
    {
        var next = new ReadAhead(this, after, limit);
        _next = next;
        ThreadPool.QueueUserWorkItem(static read => read.Run(), next, preferLocal: false);
    }

    /// <summary>
    /// The events of a batch read ahead, deserialised on the reading thread while the current step
    /// runs, so the step that takes the batch finds them ready (see <see cref="EventTopics.Decoded"/>).
    /// Null for an item that does not decode here (a topic no policy handles, state that does not
    /// read): the policy's dispatch then deserialises it as usual, and reports what is wrong.
    /// </summary>
    private DomainEvent?[]? Decode(IReadOnlyList<Notification> items)
    {
        var handled = _application.HandledTopics;
        if (items.Count == 0 || handled.Count == 0) return null;
        var decoded = new DomainEvent?[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (!handled.Contains(item.Topic)) continue;
            try
            {
                decoded[i] = EventTopics.Deserialize(item);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Left to the dispatch, which deserialises it again and reports the error in the step.
            }
        }
        return decoded;
    }

    /// <summary>The batch after <paramref name="position"/>: the one read ahead when it starts there, else read now.</summary>
    private (NotificationBatch Batch, DomainEvent?[]? Decoded) Read(long position, int limit)
    {
        if (_next is { } next)
        {
            _next = null;
            if (next.After == position && next.Limit == limit) return next.Take();
            next.Withdraw();
        }
        return (UpstreamLog.Select(position, limit, _application.HandledTopics), null);
    }

    /// <summary>
    /// Runs the policies on the first <paramref name="count"/> items in one step and commits them
    /// with the position moved to <paramref name="newPosition"/>; or, when a policy throws, rolls
    /// everything back and returns which one failed.
    /// </summary>
    private (int FailedAt, Exception? Error) RunAndCommit(IReadOnlyList<Notification> items, DomainEvent?[]? decoded, int count, long position, long newPosition, CancellationToken cancellationToken)
    {
        PendingEvents pending;
        long last;
        using (var step = Store.BeginStep())
        {
            var scope = new ProcessingScope(_application, step);
            try
            {
                for (var i = 0; i < count; i++)
                {
                    try
                    {
                        // An event decoded ahead is used once: a second run of the step (after a
                        // failure) deserialises afresh, so no policy gets an object an earlier run had.
                        var ready = decoded?[i];
                        if (ready is not null) decoded![i] = null;
                        Process(scope, items[i], ready);
                    }
                    catch (Exception ex)
                    {
                        // A database fault of the library's own calls, or a cancellation that is not
                        // ours (an HTTP timeout): the policy did nothing wrong; retry the step as for
                        // any passing fault, never counting it against the event.
                        if (Store.IsTransient(ex) || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                            ExceptionDispatchInfo.Throw(ex);
                        if (ex is OperationCanceledException) throw;
                        return (i, ex);
                    }
                }
            }
            finally
            {
                // The scope is only current while policies run.
                scope.Dispose();
            }
            pending = PendingEvents.Of(scope.Aggregates, scope);
            try
            {
                last = step.Commit(pending.Events, new TrackingUpdate(Upstream, _stored ?? position, newPosition));
                if (step.DurableCommitTime > _longestCommit) _longestCommit = step.DurableCommitTime;
            }
            catch (Exception ex) when (!Store.IsTransient(ex) && count > 0)
            {
                Forget();
                if (count <= 1) throw new StepFailure("commit", items[0], ex);
                _isolateUntil = newPosition;
                throw;
            }
            catch
            {
                Forget();
                throw;
            }
        }
        _position = _stored = newPosition;
        _application.Committed(pending, last);
        return (-1, null);
    }

    /// <summary>Sets a failing event aside: parked with the position moved past it, in one transaction.</summary>
    private void Park(StepFailure failure)
    {
        Position();
        var position = _stored!.Value;
        var notification = failure.Notification;
        var error = failure.InnerException!;
        var parked = new ParkedEvent(Application, Upstream, notification.Id, notification.Topic, error.GetType().FullName ?? error.GetType().Name,
            error.Message, _failures, EventClock.UtcNow);
        using (var step = Store.BeginStep())
        {
            try
            {
                step.Commit([], new TrackingUpdate(Upstream, position, notification.Id), parked);
            }
            catch
            {
                Forget();
                throw;
            }
        }
        _position = _stored = notification.Id;
        _failures = 0;
        ProcessDslTelemetry.Parked(Application, Upstream, notification.Topic);
        _application.Logger.LogError(error, "{Application}: parked notification {Id} (topic '{Topic}') from {Upstream} after {Attempts} attempts",
            Application, notification.Id, notification.Topic, Upstream, parked.Attempts);
    }

    /// <summary>
    /// Processes a parked event again, exactly once: its policy runs in a step whose commit also
    /// deletes the parked record (a racing retry finds it gone and conflicts). The position is not moved.
    /// </summary>
    /// <returns>False when the event is no longer parked.</returns>
    internal bool RetryParked(long notificationId)
    {
        var batch = UpstreamLog.Select(notificationId - 1, 1, null);
        if (batch.Items.Count == 0 || batch.Items[0].Id != notificationId)
            throw new InvalidOperationException($"Application '{Application}': parked notification {notificationId} is not in the log of '{Upstream}'.");
        var notification = batch.Items[0];
        PendingEvents pending;
        long last;
        using (var step = Store.BeginStep())
        {
            var scope = new ProcessingScope(_application, step);
            try
            {
                Process(scope, notification);
            }
            catch (Exception ex)
            {
                throw new ProcessingException(Application, Upstream, notification.Id, notification.Topic, ex);
            }
            finally
            {
                scope.Dispose();
            }
            pending = PendingEvents.Of(scope.Aggregates, scope);
            if (!step.Unpark(Upstream, notificationId)) return false;
            last = step.Commit(pending.Events, tracking: null);
        }
        _application.Committed(pending, last);
        return true;
    }

    /// <summary>
    /// Runs the policy of one upstream event in the step, as its cause (the events it records are
    /// linked to it) and, when someone listens, inside its processing activity.
    /// </summary>
    private void Process(ProcessingScope scope, Notification notification, DomainEvent? decoded = null)
    {
        var activity = ProcessDslTelemetry.StartProcessing(Application, Upstream, notification, out var previous);
        try
        {
            scope.Processing(Upstream, notification, activity?.Context ?? default);
            using (EventTopics.Decoded(notification, decoded))
                _application.Dispatch(notification, new ProcessingEvent(scope, Upstream, notification));
        }
        catch (Exception ex)
        {
            ProcessDslTelemetry.EndProcessing(activity, previous, ex);
            throw;
        }
        ProcessDslTelemetry.EndProcessing(activity, previous, null);
    }

    internal readonly record struct StepResult(long Covered, bool CaughtUp);

    /// <summary>
    /// A policy threw (nothing of its run is stored; the events before it are), or the commit of one
    /// event's effects failed for a reason that is not a passing fault (a row that cannot be mapped):
    /// retried, then reported as a <see cref="ProcessingException"/> naming it.
    /// </summary>
    private sealed class StepFailure(string what, Notification notification, Exception inner) : Exception(what, inner)
    {
        public string What { get; } = what;

        public Notification Notification { get; } = notification;
    }
}
