namespace ProcessDsl;

/// <summary>Which runner a host uses (<see cref="ProcessDslOptions.UseRunner"/>; configuration key <c>Runner</c>).</summary>
public enum RunnerKind
{
    /// <summary><see cref="SingleThreadedRunner"/> (<c>single</c>): followers run on the caller's thread; deterministic, for tests.</summary>
    SingleThreaded,

    /// <summary><see cref="MultiThreadedRunner"/> (<c>multi</c>, the default): one worker per following application in this process.</summary>
    MultiThreaded,

    /// <summary><see cref="MultiprocessRunner"/> (<c>multiprocess</c>): one supervised worker process per following application.</summary>
    Multiprocess,
}
