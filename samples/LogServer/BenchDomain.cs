using ProcessDsl;

namespace LogServerSample;

/// <summary>A meter whose readings fill the benchmark's log.</summary>
public sealed partial class Meter : Aggregate
{
    /// <summary>The meter was installed.</summary>
    public sealed record Installed(int Number, string Site) : DomainEvent;

    /// <summary>The meter's number.</summary>
    public int Number { get; private set; }

    /// <summary>Where the meter is.</summary>
    public string Site { get; private set; } = "";

    /// <summary>Installs a meter.</summary>
    public static Meter Install(int number, string site) => Create<Meter>(Guid.NewGuid(), new Installed(number, site));

    [Apply] void When(Installed e) => (Number, Site) = (e.Number, e.Site);
}

/// <summary>The application whose log the benchmark reads.</summary>
public sealed class Meters : Application
{
    /// <summary>Installs <paramref name="count"/> meters, a thousand per atomic save.</summary>
    public void InstallMany(int count)
    {
        for (var done = 0; done < count;)
        {
            var batch = new List<Aggregate>(1000);
            for (var i = 0; i < 1000 && done < count; i++, done++)
                batch.Add(Meter.Install(done, "site-" + (done % 97).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Save([.. batch]);
        }
    }
}
