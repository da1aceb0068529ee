namespace ProcessDsl.Postgres.Tests;

/// <summary>A bank account: the upstream aggregate of the persistence tests.</summary>
public sealed class Account : Aggregate
{
    public sealed record Opened(string Owner) : DomainEvent;

    public sealed record Deposited(decimal Amount) : DomainEvent;

    static Account() => Topics.EnsureRegistered();

    public string Owner { get; private set; } = "";

    public decimal Balance { get; private set; }

    public static Account Open(string owner) => Open(Guid.NewGuid(), owner);

    public static Account Open(Guid id, string owner) => Create<Account>(id, new Opened(owner));

    public void Deposit(decimal amount) => Trigger(new Deposited(amount));

    protected override void ApplyEvent(DomainEvent domainEvent)
    {
        switch (domainEvent)
        {
            case Opened e:
                Owner = e.Owner;
                break;
            case Deposited e:
                Balance += e.Amount;
                break;
        }
    }
}

/// <summary>The upstream application.</summary>
public sealed class Bank : Application
{
    static Bank() => Topics.EnsureRegistered();

    public Guid OpenAccount(string owner)
    {
        var account = Account.Open(owner);
        Save(account);
        return account.Id;
    }

    public void Deposit(Guid id, decimal amount)
    {
        var account = Repository.Get<Account>(id);
        account.Deposit(amount);
        Save(account);
    }
}

/// <summary>What the follower records for each upstream <see cref="Account.Opened"/>: a new aggregate with a random id.</summary>
public sealed class AuditEntry : Aggregate
{
    public sealed record Recorded(long UpstreamId, Guid AccountId) : DomainEvent;

    static AuditEntry() => Topics.EnsureRegistered();

    public long UpstreamId { get; private set; }

    public static AuditEntry Record(long upstreamId, Guid accountId) =>
        Create<AuditEntry>(Guid.NewGuid(), new Recorded(upstreamId, accountId));

    protected override void ApplyEvent(DomainEvent domainEvent)
    {
        if (domainEvent is Recorded e) UpstreamId = e.UpstreamId;
    }
}

/// <summary>
/// A hand-wired process application (what the generator would emit): one policy for
/// <see cref="Account.Opened"/> that records an <see cref="AuditEntry"/> with a random id, so only
/// the tracking record keeps it from happening twice.
/// </summary>
public sealed class Audit : ProcessApplication
{
    static Audit() => Topics.EnsureRegistered();

    private static readonly IReadOnlySet<string> s_topics = new HashSet<string>(StringComparer.Ordinal) { Topics.Opened };

    public override IReadOnlySet<string> HandledTopics => s_topics;

    protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
    {
        if (notification.Topic != Topics.Opened) return false;
        var opened = EventTopics.Deserialize<Account.Opened>(notification);
        processing.Collect(AuditEntry.Record(notification.Id, opened.OriginatorId));
        return true;
    }
}

/// <summary>Bank and Audit following it.</summary>
public static class AuditSystem
{
    public static SystemDefinition Definition { get; } = new("AuditSystem",
    [
        new ApplicationDefinition(nameof(Bank), typeof(Bank), () => new Bank(), [], []),
        new ApplicationDefinition(nameof(Audit), typeof(Audit), () => new Audit(), [nameof(Bank)], [Topics.Opened]),
    ]);
}

/// <summary>Stable topics of the test events.</summary>
public static class Topics
{
    public const string Opened = "pgtests.account.opened";
    public const string Deposited = "pgtests.account.deposited";
    public const string Recorded = "pgtests.audit.recorded";
    private static int s_done;

    public static void EnsureRegistered()
    {
        if (Interlocked.Exchange(ref s_done, 1) != 0) return;
        EventTopics.Register<Account.Opened>(Opened);
        EventTopics.Register<Account.Deposited>(Deposited);
        EventTopics.Register<AuditEntry.Recorded>(Recorded);
    }
}
