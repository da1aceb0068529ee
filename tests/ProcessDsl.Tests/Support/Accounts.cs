namespace ProcessDsl.Tests.Support;

/// <summary>A small domain for runtime tests, with pinned topics.</summary>
public sealed partial class Account : Aggregate
{
    [Topic("tests.account.opened")]
    public sealed record Opened(string Owner) : DomainEvent;

    [Topic("tests.account.deposited")]
    public sealed record Deposited(decimal Amount) : DomainEvent;

    public string Owner { get; private set; } = "";

    public decimal Balance { get; private set; }

    public static Account Open(string owner) => Open(Guid.NewGuid(), owner);

    public static Account Open(Guid id, string owner) => Create<Account>(id, new Opened(owner));

    public void Deposit(decimal amount) => Trigger(new Deposited(amount));

    [Apply] void When(Opened e) => Owner = e.Owner;

    [Apply] void When(Deposited e) => Balance += e.Amount;
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
