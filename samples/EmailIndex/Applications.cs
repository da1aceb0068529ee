using ProcessDsl;

namespace EmailIndexSample;

/// <summary>Users and their email addresses.</summary>
public sealed class Users : Application
{
    /// <summary>Registers a user; returns the id.</summary>
    public Guid Register()
    {
        var user = User.Register();
        Save(user);
        return user.Id;
    }

    /// <summary>Adds an email address to a user.</summary>
    public void AddEmailAddress(Guid userId, string emailAddress)
    {
        var user = Repository.Get<User>(userId);
        user.AddEmailAddress(emailAddress);
        Save(user);
    }

    /// <summary>Verifies one of a user's email addresses.</summary>
    public void VerifyEmailAddress(Guid userId, string emailAddress)
    {
        var user = Repository.Get<User>(userId);
        user.VerifyEmailAddress(emailAddress);
        Save(user);
    }

    /// <summary>Gets a user.</summary>
    public User GetUser(Guid userId) => Repository.Get<User>(userId);
}

/// <summary>
/// The index of verified email addresses: follows <see cref="Users"/> and, for each verification,
/// writes the entry keyed by the address's name-based UUID, exactly once, in the same transaction
/// as its tracking record.
/// </summary>
public sealed partial class EmailIndex : ProcessApplication
{
    /// <summary>The key of an address's entry: its name-based (version 5) UUID in the URL namespace.</summary>
    public static Guid KeyOf(string emailAddress) => NameBasedUuid.Create(NameBasedUuid.UrlNamespace, emailAddress);

    /// <summary>The user whose verified address this is, or null.</summary>
    public Guid? FindUser(string emailAddress)
    {
        var key = KeyOf(emailAddress);
        return Repository.Contains(key) ? Repository.Get<IndexItem>(key).IndexValue : null;
    }

    [Policy(typeof(User.EmailAddressVerified))]
    void OnVerified(User.EmailAddressVerified e, ProcessingEvent processing)
    {
        var key = KeyOf(e.EmailAddress);
        IndexItem item;
        if (Repository.Contains(key))
        {
            item = Repository.Get<IndexItem>(key);
            item.Update(e.OriginatorId);
        }
        else
        {
            item = IndexItem.Create(key, e.OriginatorId);
        }
        processing.Collect(item);
    }
}

/// <summary>Users, and the index that follows them.</summary>
[ProcessSystem]
[Pipeline(typeof(Users), typeof(EmailIndex))]
public static partial class EmailIndexSystem;
