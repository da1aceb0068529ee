namespace ProcessDsl;

/// <summary>
/// Runs everything on the caller's thread: when a command's <see cref="Application.Save"/> returns,
/// every follower has processed everything the save caused, loops included. Deterministic, for
/// tests and simple tools.
/// </summary>
/// <remarks>
/// Within one drain, a prompted application runs only when no prompted application upstream of it
/// (one whose events reach it, in a part of the system it does not loop back to) is waiting: a
/// projection at the end of a pipeline then takes every event a command caused in one step and
/// one commit, instead of one commit per event.
/// </remarks>
public sealed class SingleThreadedRunner : Runner
{
    // Prompted applications in the order they were prompted; Drain takes the first of the lowest rank.
    private readonly List<string> _prompted = [];
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _rank;
    private readonly Lock _lock = new();
    private bool _draining;

    /// <summary>Creates the runner; call <see cref="Runner.StartAsync"/> next.</summary>
    public SingleThreadedRunner(SystemDefinition system, Persistence persistence, RunnerOptions? options = null)
        : base(system, persistence, WithFiniteRetries(options))
    {
        _rank = Ranks(system);
    }

    /// <summary>
    /// Each application's number of strict ancestors: applications whose events reach it and that it
    /// does not reach back. An application's strict ancestors all have fewer, so taking the lowest
    /// rank first never runs an application while one upstream of it waits (loops share a rank).
    /// </summary>
    internal static Dictionary<string, int> Ranks(SystemDefinition system)
    {
        var reaches = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var app in system.Applications)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var work = new Stack<string>();
            work.Push(app.Name);
            while (work.TryPop(out var next))
                foreach (var follower in system.FollowersOf(next))
                    if (seen.Add(follower.Name)) work.Push(follower.Name);
            reaches[app.Name] = seen;
        }
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var app in system.Applications)
            ranks[app.Name] = system.Applications.Count(a => a.Name != app.Name && reaches[a.Name].Contains(app.Name) && !reaches[app.Name].Contains(a.Name));
        return ranks;
    }

    private static RunnerOptions WithFiniteRetries(RunnerOptions? options)
    {
        options ??= new RunnerOptions();
        // On the caller's thread a database that stays away must surface as an error, not a hang.
        return options.Processing.TransientAttempts > 0
            ? options
            : options with { Processing = options.Processing with { TransientAttempts = 10 } };
    }

    /// <summary>
    /// A step that finds nothing for its policies (a follower passing over topics it does not handle)
    /// commits nothing: its position is written by the follower's next commit, or when the drain
    /// ends, before the save that caused it returns.
    /// </summary>
    private protected override bool DefersTrackingOnlySteps => true;

    private protected override Task OnStartAsync(CancellationToken cancellationToken)
    {
        foreach (var definition in Definition.Applications)
            if (definition.IsFollower) Prompt(definition.Name);
        Drain();
        return Task.CompletedTask;
    }

    private protected override Task OnStopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private protected override void OnSaved(Application application, long lastNotificationId)
    {
        var followers = Definition.FollowerList(application.Name);
        for (var i = 0; i < followers.Count; i++) Prompt(followers[i].Name);
        // A save made while draining (by a follower's step) only queues its followers; the command's
        // own save drains, and tells its caller if processing what it caused failed.
        var failure = Drain();
        if (failure is null)
        {
            for (var i = 0; i < followers.Count; i++)
                if (HasFailed(followers[i].Name))
                {
                    failure = new InvalidOperationException($"Follower '{followers[i].Name}' of '{application.Name}' has stopped after an earlier failure; fix it and restart the runner.");
                    break;
                }
        }
        if (failure is not null) throw new SavedButNotProcessedException(application.Name, lastNotificationId, failure);
    }

    private void Prompt(string application)
    {
        lock (_lock)
        {
            if (_queued.Add(application)) _prompted.Add(application);
        }
    }

    /// <summary>Takes the prompted application of the lowest rank, the earliest prompted among equals. Called under the lock.</summary>
    private bool TryTakeNext(out string next)
    {
        var best = -1;
        for (var i = 0; i < _prompted.Count; i++)
            if (best < 0 || _rank[_prompted[i]] < _rank[_prompted[best]]) best = i;
        if (best < 0)
        {
            next = "";
            return false;
        }
        next = _prompted[best];
        _prompted.RemoveAt(best);
        return true;
    }

    /// <summary>Processes everything prompted, on this thread; returns the first failure it recorded, if any.</summary>
    private Exception? Drain()
    {
        lock (_lock)
        {
            if (_draining) return null;
            _draining = true;
        }
        Exception? first = null;
        try
        {
            while (true)
            {
                string next;
                bool empty;
                lock (_lock)
                {
                    empty = !TryTakeNext(out next);
                    if (!empty) _queued.Remove(next);
                }
                if (empty)
                {
                    WritePositions(AllFollowers);
                    lock (_lock)
                    {
                        // Cleared under the same lock as the queue, so a concurrent caller's
                        // prompt is either seen by this loop or drains itself.
                        if (_prompted.Count == 0)
                        {
                            _draining = false;
                            return first;
                        }
                    }
                    continue;
                }
                if (HasFailed(next)) continue;
                var followers = FollowersOf(next);
                for (var i = 0; i < followers.Count; i++)
                {
                    try
                    {
                        followers[i].CatchUp();
                    }
                    catch (Exception ex)
                    {
                        // A policy failing on every attempt, or the database away through every retry:
                        // the follower stops, like under any runner, and the failure is recorded.
                        Fail(ex, next);
                        first ??= ex;
                        break;
                    }
                }
            }
        }
        catch
        {
            lock (_lock) _draining = false;
            throw;
        }
    }
}
