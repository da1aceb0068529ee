using ProcessDsl;

namespace EmailIndexSample;

/// <summary>A user with email addresses, each verified or not.</summary>
public sealed partial class User : Aggregate
{
    private readonly Dictionary<string, EmailAddress> _emailAddresses = new(StringComparer.Ordinal);

    /// <summary>The user registered.</summary>
    public sealed record Registered : DomainEvent;

    /// <summary>An email address was added (again, unverified, if it was there before).</summary>
    public sealed record EmailAddressAdded(string EmailAddress) : DomainEvent;

    /// <summary>An email address was verified.</summary>
    public sealed record EmailAddressVerified(string EmailAddress) : DomainEvent;

    /// <summary>The user's email addresses by address.</summary>
    public IReadOnlyDictionary<string, EmailAddress> EmailAddresses => _emailAddresses;

    /// <summary>Registers a new user.</summary>
    public static User Register() => Create<User>(Guid.NewGuid(), new Registered());

    /// <summary>Adds an email address, unverified.</summary>
    public void AddEmailAddress(string emailAddress)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(emailAddress);
        Trigger(new EmailAddressAdded(emailAddress));
    }

    /// <summary>Verifies an email address the user has added.</summary>
    /// <exception cref="InvalidOperationException">The user has no such address.</exception>
    public void VerifyEmailAddress(string emailAddress)
    {
        if (!_emailAddresses.ContainsKey(emailAddress))
            throw new InvalidOperationException($"User {Id} has no email address '{emailAddress}' to verify.");
        Trigger(new EmailAddressVerified(emailAddress));
    }

    [Apply] void When(EmailAddressAdded e) => _emailAddresses[e.EmailAddress] = new EmailAddress(e.EmailAddress, IsVerified: false);

    [Apply] void When(EmailAddressVerified e) => _emailAddresses[e.EmailAddress] = _emailAddresses[e.EmailAddress] with { IsVerified = true };
}

/// <summary>One of a user's email addresses.</summary>
/// <param name="Address">The address.</param>
/// <param name="IsVerified">Whether it has been verified.</param>
public sealed record EmailAddress(string Address, bool IsVerified);

/// <summary>
/// An entry of the index: its id is the name-based UUID of the indexed value (an email address),
/// its <see cref="IndexValue"/> the user it belongs to.
/// </summary>
public sealed partial class IndexItem : Aggregate
{
    /// <summary>The entry was made.</summary>
    public sealed record Created(Guid IndexValue) : DomainEvent;

    /// <summary>The entry was written again.</summary>
    public sealed record Updated(Guid IndexValue) : DomainEvent;

    /// <summary>The user the indexed address belongs to.</summary>
    public Guid IndexValue { get; private set; }

    /// <summary>Makes the entry with the given key.</summary>
    public static IndexItem Create(Guid key, Guid indexValue) => Create<IndexItem>(key, new Created(indexValue));

    /// <summary>Writes the entry again (once per verification).</summary>
    public void Update(Guid indexValue) => Trigger(new Updated(indexValue));

    [Apply] void When(Created e) => IndexValue = e.IndexValue;

    [Apply] void When(Updated e) => IndexValue = e.IndexValue;
}
