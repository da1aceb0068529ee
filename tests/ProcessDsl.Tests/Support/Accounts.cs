namespace ProcessDsl.Tests.Support;

/// <summary>A small hand-wired domain for runtime tests (no generator involved).</summary>
public sealed class Account : Aggregate
{
    public sealed record Opened(string Owner) : DomainEvent;

    public sealed record Deposited(decimal Amount) : DomainEvent;

    public string Owner { get; private set; } = "";

    public decimal Balance { get; private set; }

    static Account()
    {
        TestTopics.EnsureRegistered();
    }

    public static Account Open(string owner) => Create<Account>(Guid.NewGuid(), new Opened(owner));

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

public sealed class Bank : Application
{
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

public static class TestTopics
{
    private static int s_done;

    public static void EnsureRegistered()
    {
        if (Interlocked.Exchange(ref s_done, 1) != 0) return;
        EventTopics.Register<Account.Opened>("tests.account.opened");
        EventTopics.Register<Account.Deposited>("tests.account.deposited");
    }
}
