using System.Diagnostics;
using System.Globalization;

namespace OrdersSample;

/// <summary>
/// The processor time the timed orders cost: this process's (user and kernel), and on Linux the whole
/// machine's (every process, the database server's and the multiprocess workers' included, from
/// <c>/proc/stat</c>; time stolen by the hypervisor is not counted). Per order, it says what the work
/// costs, apart from how long it waited; other work running on the machine meanwhile is counted in
/// the machine's figure too.
/// </summary>
internal sealed class CpuMeter
{
    private const string ProcStat = "/proc/stat";

    /// <summary>The kernel's clock ticks per second in <c>/proc/stat</c> (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    private readonly TimeSpan _process = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly long? _machine = MachineBusyTicks();

    /// <summary>
    /// <c>cpu_ms_per_order=... machine_cpu_ms_per_order=...</c> since this meter was made (the machine
    /// figure only where <c>/proc/stat</c> is read).
    /// </summary>
    public string Summary(int orders)
    {
        orders = Math.Max(1, orders);
        var process = (Process.GetCurrentProcess().TotalProcessorTime - _process).TotalMilliseconds / orders;
        var line = string.Create(CultureInfo.InvariantCulture, $"cpu_ms_per_order={process:F3}");
        if (_machine is { } before && MachineBusyTicks() is { } after)
            line += string.Create(CultureInfo.InvariantCulture, $" machine_cpu_ms_per_order={Milliseconds(after - before) / orders:F3}");
        return line;
    }

    /// <summary>Busy ticks of <see cref="MachineBusyTicks"/>, in milliseconds of processor time.</summary>
    internal static double Milliseconds(long ticks) => ticks * 1000 / TicksPerSecond;

    /// <summary>The machine's busy ticks so far (user, nice, system, irq, softirq), or null where there is no <c>/proc/stat</c>.</summary>
    internal static long? MachineBusyTicks()
    {
        if (!File.Exists(ProcStat)) return null;
        try
        {
            using var reader = new StreamReader(ProcStat);
            var first = reader.ReadLine();
            return first is null ? null : BusyTicks(first);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The busy ticks of <c>/proc/stat</c>'s first line: <c>cpu user nice system idle iowait irq softirq steal ...</c>.</summary>
    internal static long? BusyTicks(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 8 || fields[0] != "cpu") return null;
        long busy = 0;
        foreach (var i in new[] { 1, 2, 3, 6, 7 })
        {
            if (!long.TryParse(fields[i], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)) return null;
            busy += ticks;
        }
        return busy;
    }
}
