using ProcessDsl;

namespace ReplicationSample;

/// <summary>A note: written, then perhaps edited.</summary>
public sealed partial class Note : Aggregate
{
    /// <summary>The note was written.</summary>
    public sealed record Written(string Text) : DomainEvent;

    /// <summary>The note's text was changed.</summary>
    public sealed record Edited(string Text) : DomainEvent;

    /// <summary>The note's text.</summary>
    public string Text { get; private set; } = "";

    /// <summary>Writes a new note.</summary>
    public static Note Write(string text) => Create<Note>(Guid.NewGuid(), new Written(text));

    /// <summary>Changes the text.</summary>
    public void Edit(string text) => Trigger(new Edited(text));

    [Apply] void When(Written e) => Text = e.Text;

    [Apply] void When(Edited e) => Text = e.Text;
}

/// <summary>The application whose state is replicated: an original in one store, a replica in another.</summary>
public sealed class Notebook : Application
{
    /// <summary>Writes a note; returns its id.</summary>
    public Guid Write(string text)
    {
        var note = Note.Write(text);
        Save(note);
        return note.Id;
    }

    /// <summary>Edits a note.</summary>
    public void Edit(Guid id, string text)
    {
        var note = Repository.Get<Note>(id);
        note.Edit(text);
        Save(note);
    }

    /// <summary>Gets a note.</summary>
    public Note Get(Guid id) => Repository.Get<Note>(id);
}

/// <summary>A replica of an application known only by name (the <c>run</c> command copies any application's log).</summary>
public sealed class ReplicaOf(string name) : Application
{
    /// <inheritdoc/>
    public override string Name => name;
}
